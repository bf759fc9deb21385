/**
 * Admission control of a gateway: how many submissions of one chain may be between the start of
 * their endorsement and their commit at once, and what happens to the rest.
 *
 * A transaction endorsed now reads the state of the peer's current height. Every transaction
 * ahead of it in the pipeline that writes one of those keys makes it fail as a read conflict at
 * commit. With no limit, an overloaded network takes in more than it commits, the pipeline
 * grows, latency grows with it, and more and more transactions fail on stale reads: the work
 * done falls while the load rises. Submissions beyond the limit therefore wait *before* they are
 * endorsed (a waiting proposal has read nothing yet), first come first served, and a submission
 * that cannot start within `maxWaitMs`, or finds `maxQueued` ahead of it, is refused with
 * `GATEWAY_BUSY` (503, with the seconds to wait), so a client learns at once that it should
 * slow down instead of learning it from a conflict many seconds later.
 *
 * The limit follows the network (Little's law). Every `windowMs` it compares the mean time from
 * admission to commit of the transactions that committed in the window with `targetLatencyMs`.
 * Slower than the target, the limit becomes what the window committed per second × the target,
 * so the pipeline holds about a target's worth of work; faster while submissions wait, it grows
 * (by up to half, less as the latency nears the target). A network below its capacity never
 * waits here: its pipeline is shorter than the target. When shrinking the limit did not shorten
 * the latency (measured once the pipeline had time to drain), the latency is the network's own
 * (a slow link, a remote endorser), not a queue: once shrinks cut the limit by a tenth and the
 * latency stayed, the limit goes back to what it was, and for a minute the target is half as
 * much again as that latency, so the limit never spirals down on a network that is slow but not
 * overloaded. Unless the commit peer is behind the ordering service (`behind`): then the latency
 * is a queue of ordered blocks waiting to be validated, however little this gateway's own shrink
 * shortened it (the other gateways keep the same peers busy), and the target stays the floor.
 * The limit stays within [`minInFlight`, `maxInFlight`], so a stalled network (an ordering
 * election) resumes at once.
 */
import { SubmitError } from '../errors.js';

/** The smallest limit when `minInFlight` is not given. */
export const DEFAULT_MIN_IN_FLIGHT = 64;
/** The largest limit when `maxInFlight` is not given. */
export const DEFAULT_MAX_IN_FLIGHT = 20_000;

/** Options of {@link createAdmission}; every field has a default. */
export interface AdmissionOptions {
  /** The admission-to-commit time the gateway keeps its pipeline to when saturated. Default 500 ms. */
  readonly targetLatencyMs?: number;
  /** The smallest limit. Default 64. */
  readonly minInFlight?: number;
  /** The largest limit. Default 20,000. */
  readonly maxInFlight?: number;
  /** How long a submission may wait for room before GATEWAY_BUSY. Default 5,000 ms. */
  readonly maxWaitMs?: number;
  /** Submissions that may wait at once; one more is refused at once. Default 10,000. */
  readonly maxQueued?: number;
  /** How often the limit is recomputed. Default 250 ms. */
  readonly windowMs?: number;
  /** The clock (milliseconds, monotonic). Default `performance.now`. */
  readonly now?: () => number;
  /**
   * True while the gateway's commit peer is behind the ordering service (blocks ordered that it
   * has not committed): the pipeline is then a queue, and a latency a shrink did not shorten is
   * not taken as the network's own. Default: never.
   */
  readonly behind?: () => boolean;
}

/** How an admitted submission ended. */
export type AdmissionOutcome = 'committed' | 'failed';

/** An admitted submission: call `leave` exactly once when it ends. */
export interface AdmissionTicket {
  leave(outcome: AdmissionOutcome): void;
}

/** What {@link Admission.stats} reports. */
export interface AdmissionStats {
  /** Submissions let through at once now. */
  readonly limit: number;
  readonly inFlight: number;
  readonly queued: number;
  /** Submissions refused with GATEWAY_BUSY since creation. */
  readonly refused: number;
  /** Submissions that had to wait for room since creation. */
  readonly waited: number;
}

/** The admission control of one chain at one gateway. */
export interface Admission {
  /**
   * A ticket at once when there is room (no promise, no turn of the event loop), else a promise of one.
   * @throws SubmitError GATEWAY_BUSY when `maxQueued` submissions are already waiting (the promise rejects with it after `maxWaitMs`)
   */
  enter(): AdmissionTicket | Promise<AdmissionTicket>;
  stats(): AdmissionStats;
  /** Refuses every waiting submission with `error` (the gateway is closing). */
  close(error: Error): void;
}

interface Waiter {
  resolve(t: AdmissionTicket): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | undefined;
  /** Refused after waiting too long: skipped when room comes. */
  gone: boolean;
}

/** The limit a gateway starts with, before any window measured the network. */
const START_IN_FLIGHT = 256;
/** How long a latency found not to be a queue raises the target. */
const OWN_LATENCY_MS = 60_000;

/**
 * Creates the admission control of one chain.
 * @example const a = createAdmission(); const t = a.enter(); const ticket = t instanceof Promise ? await t : t; try { … ticket.leave('committed') } catch { ticket.leave('failed') }
 */
export function createAdmission(options: AdmissionOptions = {}): Admission {
  const targetFloor = options.targetLatencyMs ?? 500;
  const minLimit = options.minInFlight ?? DEFAULT_MIN_IN_FLIGHT;
  const maxLimit = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const maxWaitMs = options.maxWaitMs ?? 5_000;
  const maxQueued = options.maxQueued ?? 10_000;
  const windowMs = options.windowMs ?? 250;
  const now = options.now ?? (() => performance.now());
  if (!(targetFloor > 0) || !(minLimit >= 1) || !(maxLimit >= minLimit) || !(maxWaitMs >= 0) || !(maxQueued >= 0) || !(windowMs > 0)) {
    throw new RangeError('admission: targetLatencyMs and windowMs must be positive, 1 ≤ minInFlight ≤ maxInFlight, maxWaitMs and maxQueued not negative');
  }

  let limit = Math.min(maxLimit, Math.max(minLimit, START_IN_FLIGHT));
  let inFlight = 0;
  let refused = 0;
  let waited = 0;
  /** Waiting submissions in arrival order, from `head` on; `waiting` counts those not gone. */
  const queue: Waiter[] = [];
  let head = 0;
  let waiting = 0;
  // The current window: commits, the sum of their admission-to-commit times, whether any waited.
  let windowStart = now();
  let commits = 0;
  let latencySum = 0;
  let waitedInWindow = false;
  /** When the limit was last shrunk, and the mean latency and the limit before the first shrink of the series. */
  let shrink: { readonly at: number; readonly mean: number; readonly limit: number } | undefined;
  /** A latency that shrinking did not shorten (the network's own), and until when it counts. */
  let own: { readonly latency: number; readonly until: number } | undefined;

  const target = (t: number): number => (own !== undefined && t < own.until ? Math.max(targetFloor, 1.5 * own.latency) : targetFloor);

  const busy = (why: string): SubmitError => {
    refused++;
    return new SubmitError('GATEWAY_BUSY', `the gateway is at capacity (${inFlight} transactions in flight, ${waiting} waiting): ${why}; retry in a moment`, { retryAfterSeconds: Math.max(1, Math.ceil(target(now()) / 1000)) });
  };

  const recompute = (t: number): void => {
    const elapsed = t - windowStart;
    if (elapsed < windowMs) return;
    if (commits > 0) {
      const mean = latencySum / commits;
      const perMs = commits / elapsed;
      const queue = options.behind?.() ?? false;
      if (queue) own = undefined;
      const goal = target(t);
      if (shrink !== undefined && t < shrink.at + 2 * shrink.mean) {
        // After a shrink, the pipeline first drains what it held: the limit waits for the result.
      } else if (!queue && shrink !== undefined && limit <= 0.9 * shrink.limit && mean >= 0.95 * shrink.mean) {
        // The shrinks cut the limit by a tenth or more and the latency did not follow: it is
        // the network's own, not a queue.
        limit = shrink.limit;
        own = { latency: mean, until: t + OWN_LATENCY_MS };
        shrink = undefined;
      } else if (mean > goal) {
        // A series of shrinks is judged against where it started.
        shrink = { at: t, mean: shrink?.mean ?? mean, limit: shrink?.limit ?? limit };
        limit = Math.ceil(perMs * goal);
      } else {
        shrink = undefined;
        if (waitedInWindow) limit = Math.max(Math.ceil(limit * (1 + 0.5 * (1 - mean / goal))), Math.ceil(perMs * goal));
      }
      limit = Math.min(maxLimit, Math.max(minLimit, limit));
    }
    // No commit in the window: the limit stays (a stalled network is sent neither more nor less).
    windowStart = t;
    commits = 0;
    latencySum = 0;
    waitedInWindow = waiting > 0;
  };

  const admitWaiting = (): void => {
    while (head < queue.length && inFlight < limit) {
      const w = queue[head] as Waiter;
      head++;
      if (w.gone) continue;
      waiting--;
      clearTimeout(w.timer);
      w.resolve(ticket());
    }
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
  };

  const ticket = (): AdmissionTicket => {
    inFlight++;
    const start = now();
    let left = false;
    return {
      leave(outcome) {
        if (left) return;
        left = true;
        inFlight--;
        const t = now();
        if (outcome === 'committed') {
          commits++;
          latencySum += t - start;
        }
        recompute(t);
        admitWaiting();
      },
    };
  };

  return {
    enter() {
      recompute(now());
      admitWaiting();
      if (inFlight < limit && waiting === 0) return ticket();
      if (waiting >= maxQueued) throw busy(`${maxQueued} submissions are already waiting`);
      waited++;
      waiting++;
      waitedInWindow = true;
      return new Promise<AdmissionTicket>((resolve, reject) => {
        const w: Waiter = { resolve, reject, timer: undefined, gone: false };
        w.timer = setTimeout(() => {
          w.gone = true;
          waiting--;
          reject(busy(`it waited ${maxWaitMs} ms without room`));
        }, maxWaitMs);
        queue.push(w);
      });
    },
    stats: () => ({ limit, inFlight, queued: waiting, refused, waited }),
    close(error) {
      for (let i = head; i < queue.length; i++) {
        const w = queue[i] as Waiter;
        if (w.gone) continue;
        w.gone = true;
        clearTimeout(w.timer);
        w.reject(error);
      }
      queue.length = 0;
      head = 0;
      waiting = 0;
    },
  };
}
