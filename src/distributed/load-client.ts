/**
 * A load client for a distributed network, as a user sees it: a steady stream of signed
 * transactions (`basic.createAsset`, one new asset each) submitted to the peers' APIs at a given
 * rate, spread over the orgs in turn, each signed with its org's key. Every attempt is recorded
 * (tx id, outcome, latency, time of acknowledgement), so fault tests and the soak run can say
 * what was acknowledged, how long acknowledgements stopped and how available the network was.
 *
 * Each org's client turns to its target's `fallbackUrls` (the SDK's) when its peer cannot be
 * reached, as a client of an alliance with several peers would.
 *
 * "Acknowledged" means what a client relies on: the peer's API answered the submit with VALID
 * and a block number. A failure that may still commit (a lost answer, `UNREACHABLE`,
 * `COMMIT_TIMEOUT`) is recorded as that failure, never as acknowledged. After
 * `ORDERING_UNAVAILABLE`, `UNREACHABLE`, `COMMIT_TIMEOUT` or `SHUTTING_DOWN` or `RATE_LIMITED` the client tries
 * again with a new proposal (a new tx id, a new asset), so the load goes on through faults.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signerFromPem, type Signer } from '../crypto/p256.js';
import { isSilkError, SilkError } from '../errors.js';
import { connect, type SilkClient } from '../sdk/index.js';
import { readCaBundleFile } from './peer-api-address.js';

/** One org's way in: a peer API and a key of the org. */
export interface LoadTarget {
  /** The org (for the report). */
  readonly org: string;
  /** The peer's API base URL. */
  readonly url: string;
  /** Other peers' APIs the client turns to when this one cannot be reached (the SDK's `fallbackUrls`). */
  readonly fallbackUrls?: readonly string[];
  /** The CA bundle (PEM) its https URLs are trusted with (the SDK's `ca`): the alliance's. */
  readonly ca?: string;
  readonly signer: Signer;
}

/**
 * One target per org of a network that `silk network up` started in `dir`: the org's first peer,
 * the other orgs' first peers to turn to, the org admin's key, and the alliance's CA bundle when
 * the network's addresses are https.
 * @param network what `networkUp` reported: each peer's API by process name (`peer0.org1`: …) and
 *   `apiCa`, the alliance's CA bundle file
 * @throws SilkError INVALID_ARGUMENT when an org has no first peer
 * @example const targets = orgLoadTargets(dir, up, ['Org1', 'Org2'])
 */
export function orgLoadTargets(dir: string, network: { readonly peerUrls: Readonly<Record<string, string>>; readonly apiCa?: string }, orgs: readonly string[]): LoadTarget[] {
  const { peerUrls } = network;
  const urls = orgs.map((org) => {
    const url = peerUrls[`peer0.${org.toLowerCase()}`];
    if (url === undefined) throw new SilkError('INVALID_ARGUMENT', `the network has no peer0.${org.toLowerCase()}`);
    return url;
  });
  const ca = network.apiCa === undefined ? undefined : readCaBundleFile(network.apiCa);
  return orgs.map((org, i) => ({
    org,
    url: urls[i] as string,
    fallbackUrls: urls.filter((_, j) => j !== i),
    ...(ca === undefined ? {} : { ca }),
    signer: signerFromPem(readFileSync(join(dir, 'keys', org, 'admin.pem'), 'utf8')),
  }));
}

/** Options of {@link startLoad}. */
export interface LoadOptions {
  /** Where to submit; attempts go to each in turn. */
  readonly targets: readonly LoadTarget[];
  /** The chain (running `basic`). */
  readonly chain: string;
  /** Submissions started per second, 0.1 to 1,000. */
  readonly rate: number;
  /** Prefix of the asset ids (unique per run, so two runs never collide). */
  readonly label: string;
  /** Most attempts in flight at once (default 256); a tick finding them all busy is counted as shed. */
  readonly maxInFlight?: number;
  /** Time limit of one submit request (default 40 s, above the orderers' 30 s client deadline). */
  readonly requestTimeoutMs?: number;
  /** Pause before trying again after a retriable failure (default 250 ms). */
  readonly retryDelayMs?: number;
  /** The clock (default `Date.now`). */
  readonly now?: () => number;
}

/** How an attempt ended. */
export type AttemptOutcome =
  | { readonly kind: 'acknowledged'; readonly block: number }
  /** An error code of the registry (`ORDERING_UNAVAILABLE`, `UNREACHABLE`, `MVCC_READ_CONFLICT`, …). */
  | { readonly kind: 'failed'; readonly code: string; readonly message: string };

/** One submit attempt. */
export interface LoadAttempt {
  readonly txId: string;
  readonly org: string;
  /** The peer API that answered it (or, when none did, the one its client asks first). */
  readonly url: string;
  /** When it was sent (ms). */
  readonly startedAt: number;
  /** When its answer came (ms). */
  readonly endedAt: number;
  readonly latencyMs: number;
  readonly outcome: AttemptOutcome;
}

/** An acknowledged transaction: what the client was told. */
export interface Acknowledged {
  readonly txId: string;
  readonly block: number;
  readonly at: number;
}

/** One second of the run. */
export interface LoadSecond {
  /** Seconds since the run started. */
  readonly second: number;
  /** Attempts started in this second. */
  readonly attempted: number;
  /** Of them, acknowledged. */
  readonly acknowledged: number;
}

/** What a run did. */
export interface LoadReport {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly attempts: readonly LoadAttempt[];
  readonly acknowledged: readonly Acknowledged[];
  /** Ticks skipped because {@link LoadOptions.maxInFlight} attempts were in flight. */
  readonly shed: number;
  /** Failures per error code. */
  readonly failures: Readonly<Record<string, number>>;
  /** Longest time between two acknowledgements (the run's start and end count as ends of a gap). */
  readonly longestGapMs: number;
  /** Acknowledged / attempted over the run (1 when nothing was attempted). */
  readonly availability: number;
  readonly perSecond: readonly LoadSecond[];
  /** Latency of acknowledged attempts: median and 99th percentile (ms). */
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
}

/** A running load. */
export interface LoadRun {
  /** What happened so far. */
  report(): LoadReport;
  /** Acknowledgements so far. */
  acknowledgedCount(): number;
  /** Longest gap between acknowledgements within `[from, to]` (the window's ends count as ends of a gap). */
  longestGap(from: number, to: number): number;
  /** Attempts that failed with `code` so far. */
  failuresWith(code: string): readonly LoadAttempt[];
  /** When each attempt still waiting for its answer was sent (ms, the load's clock). */
  waitingSince(): readonly number[];
  /** Stops starting attempts and retries, waits for those in flight, and reports. */
  stop(): Promise<LoadReport>;
}

/** Codes after which the same operation is tried again with a new proposal. */
export const RETRIABLE_CODES: ReadonlySet<string> = new Set(['ORDERING_UNAVAILABLE', 'UNREACHABLE', 'COMMIT_TIMEOUT', 'SHUTTING_DOWN', 'RATE_LIMITED']);

function checkLoadOptions(options: LoadOptions): void {
  if (!Array.isArray(options.targets) || options.targets.length === 0) throw new SilkError('INVALID_ARGUMENT', 'a load needs at least one target (a peer API URL and an org key)');
  if (typeof options.rate !== 'number' || !Number.isFinite(options.rate) || options.rate < 0.1 || options.rate > 1_000) throw new SilkError('INVALID_ARGUMENT', `rate must be 0.1 to 1000 submissions per second; got ${String(options.rate)}`);
  if (typeof options.chain !== 'string' || options.chain === '') throw new SilkError('INVALID_ARGUMENT', 'chain must be a non-empty string');
  if (typeof options.label !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(options.label)) throw new SilkError('INVALID_ARGUMENT', `label must be 1 to 40 letters, digits, '-' or '_'; got ${JSON.stringify(options.label)}`);
  const maxInFlight = options.maxInFlight ?? 256;
  if (!Number.isSafeInteger(maxInFlight) || maxInFlight < 1) throw new SilkError('INVALID_ARGUMENT', `maxInFlight must be a positive whole number; got ${String(maxInFlight)}`);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

/**
 * Longest gap between sorted acknowledgement times within `[from, to]`, the window's ends
 * counting as ends of a gap.
 */
export function longestGapIn(times: readonly number[], from: number, to: number): number {
  let previous = from;
  let longest = 0;
  for (const t of times) {
    if (t < from) continue;
    if (t > to) break;
    longest = Math.max(longest, t - previous);
    previous = t;
  }
  return Math.max(longest, to - previous);
}

/**
 * Starts submitting at `options.rate` per second until `stop()`.
 * @returns the running load
 * @throws SilkError INVALID_ARGUMENT for bad options
 * @example
 * const load = startLoad({ targets, chain: 'trade', rate: 20, label: 'soak' });
 * await sleep(10_000);
 * const report = await load.stop();
 */
export function startLoad(options: LoadOptions): LoadRun {
  checkLoadOptions(options);
  const now = options.now ?? Date.now;
  const maxInFlight = options.maxInFlight ?? 256;
  const retryDelayMs = options.retryDelayMs ?? 250;
  const clients: { target: LoadTarget; client: SilkClient }[] = options.targets.map((target) => ({
    target,
    // Every refusal is counted as the client saw it (availability is the client's measure): none is resent by the SDK.
    client: connect({ url: target.url, ...(target.fallbackUrls === undefined ? {} : { fallbackUrls: target.fallbackUrls }), ...(target.ca === undefined ? {} : { ca: target.ca }), signer: target.signer, timeoutMs: options.requestTimeoutMs ?? 40_000, busyRetries: 0 }),
  }));
  const startedAt = now();
  const attempts: LoadAttempt[] = [];
  const acknowledged: Acknowledged[] = [];
  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  let shed = 0;
  let sequence = 0;
  let turn = 0;
  /** Attempts waiting for their answers: when each was sent. */
  const waiting = new Map<number, number>();
  let attemptSequence = 0;
  const isStopping = (): boolean => stopping;

  const attempt = async (operation: number, retry: number): Promise<void> => {
    const slot = clients[turn++ % clients.length];
    if (slot === undefined) return;
    const { target, client } = slot;
    const began = now();
    const waitingId = attemptSequence++;
    waiting.set(waitingId, began);
    let txId = '';
    let outcome: AttemptOutcome;
    try {
      const id = `${options.label}-${operation}-${retry}`;
      const signed = await client.propose({ chain: options.chain, contract: 'basic', fn: 'createAsset', args: { id, owner: target.org, colour: 'blue', size: 1, appraisedValue: 1 } });
      txId = signed.txId;
      const result = await client.submitSigned(signed);
      // Only a VALID answer with its block number is an acknowledgement.
      outcome = (result.code as string) === 'VALID' && Number.isSafeInteger(result.blockNumber) && result.txId === txId
        ? { kind: 'acknowledged', block: result.blockNumber }
        : { kind: 'failed', code: 'BAD_RESPONSE', message: `answer without a VALID commit of ${txId}` };
    } catch (error) {
      outcome = { kind: 'failed', code: isSilkError(error) ? error.code : 'INTERNAL', message: (error as Error).message };
    }
    waiting.delete(waitingId);
    const ended = now();
    attempts.push({ txId, org: target.org, url: client.url, startedAt: began, endedAt: ended, latencyMs: ended - began, outcome });
    if (outcome.kind === 'acknowledged') {
      acknowledged.push({ txId, block: outcome.block, at: ended });
      return;
    }
    if (isStopping() || !RETRIABLE_CODES.has(outcome.code)) return;
    await new Promise((done) => setTimeout(done, retryDelayMs));
    if (!isStopping()) await attempt(operation, retry + 1);
  };

  const intervalMs = 1_000 / options.rate;
  let nextTick = startedAt;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    if (stopping) return;
    // Catch up on ticks a busy event loop delayed, so the rate holds on average.
    while (nextTick <= now()) {
      nextTick += intervalMs;
      if (inFlight.size >= maxInFlight) { shed++; continue; }
      const running: Promise<void> = attempt(sequence++, 0).finally(() => { inFlight.delete(running); });
      inFlight.add(running);
    }
    timer = setTimeout(tick, Math.max(1, nextTick - now()));
  };
  tick();

  const report = (): LoadReport => {
    const endedAt = now();
    const times = acknowledged.map((a) => a.at).sort((a, b) => a - b);
    const failures: Record<string, number> = {};
    const seconds = new Map<number, { attempted: number; acknowledged: number }>();
    for (const a of attempts) {
      if (a.outcome.kind === 'failed') failures[a.outcome.code] = (failures[a.outcome.code] ?? 0) + 1;
      const second = Math.floor((a.startedAt - startedAt) / 1_000);
      const s = seconds.get(second) ?? { attempted: 0, acknowledged: 0 };
      s.attempted++;
      if (a.outcome.kind === 'acknowledged') s.acknowledged++;
      seconds.set(second, s);
    }
    const latencies = attempts.filter((a) => a.outcome.kind === 'acknowledged').map((a) => a.latencyMs).sort((a, b) => a - b);
    return {
      startedAt,
      endedAt,
      attempts: [...attempts],
      acknowledged: [...acknowledged],
      shed,
      failures,
      longestGapMs: longestGapIn(times, startedAt, endedAt),
      availability: attempts.length + shed === 0 ? 1 : acknowledged.length / (attempts.length + shed),
      perSecond: [...seconds.entries()].sort((a, b) => a[0] - b[0]).map(([second, s]) => ({ second, ...s })),
      latencyP50Ms: percentile(latencies, 0.5),
      latencyP99Ms: percentile(latencies, 0.99),
    };
  };

  return {
    report,
    acknowledgedCount: () => acknowledged.length,
    longestGap: (from, to) => longestGapIn(acknowledged.map((a) => a.at).sort((a, b) => a - b), from, to),
    failuresWith: (code) => attempts.filter((a) => a.outcome.kind === 'failed' && a.outcome.code === code),
    waitingSince: () => [...waiting.values()],
    async stop() {
      stopping = true;
      if (timer !== undefined) clearTimeout(timer);
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      return report();
    },
  };
}
