/**
 * Whether a node that was sent a request is still alive while the request waits for its answer.
 *
 * A node that accepted a request and then answers nothing (its process stopped, its host cut
 * off after the connection) would hold the caller until the request's time limit, often tens of
 * seconds, though another node could answer at once. A caller that has somewhere else to go
 * watches the node instead: every `periodMs` while it waits, the node must have answered
 * something within the last period, or answer a health check within one. A node that does
 * neither is silent, and the caller gives the request up and turns to the next node. A node that
 * is merely slow (a submit waiting for its commit, an append waiting for etcd) answers its
 * checks and is waited for.
 *
 * One monitor serves every request of a client: the checks of a node are shared by all the
 * requests waiting on it (one at a time, at most one a period), so a hundred requests in flight
 * cost no more checks than one. Used by the SDK's transport (src/sdk/http-transport.ts), by the
 * orderer client of peers and gateways, by followers forwarding to their leader and by gateways
 * asking another process's peer to endorse (src/distributed/etcd-orderer-client.ts,
 * orderer-service.ts, remote-peer.ts).
 */
import { SilkError } from '../errors.js';

/** `details.reason` of the UNREACHABLE a request watched with {@link LivenessMonitor.during} fails with when its node goes silent. */
export const NODE_SILENT_REASON = 'node-silent';

/** Options of {@link createLivenessMonitor}. */
export interface LivenessMonitorOptions {
  /** How often a waiting request looks at its node, and how long a health check may take, in ms (at least 10). */
  readonly periodMs: number;
  /**
   * Checks `node`: resolves when the node answered anything (any status: its process runs),
   * rejects when it did not within `timeoutMs` or could not be reached.
   */
  check(node: string, timeoutMs: number): Promise<void>;
}

/** The monitor. */
export interface LivenessMonitor {
  readonly periodMs: number;
  /** Notes that `node` answered something now (any answer proves it alive). */
  answered(node: string): void;
  /** Whether `node` answered within the last period, or answers a health check within one now. */
  alive(node: string): Promise<boolean>;
  /** True when `node` failed a health check within the last period and has answered nothing since: a caller with another node may pass over it. */
  silentNow(node: string): boolean;
  /**
   * Looks at `node` every period until the returned function is called; calls `onSilent` once
   * if the node fails a check meanwhile. The looks are the node's, shared by all its watchers: a
   * request that starts just before a look is judged by it, which is right (the node either
   * answered something within the period, or answers the check, or is silent).
   * @returns stops watching (call it when the answer came or the request ended)
   */
  watch(node: string, onSilent: () => void): () => void;
  /**
   * Runs a request to `node` while watching it: when the node fails a check before the request
   * settles, `controller` (default: one of its own; pass yours to abort it at a time limit too)
   * aborts and the request fails with SilkError UNREACHABLE, `details.reason`
   * {@link NODE_SILENT_REASON}, so the caller can turn to another node. A request that settles
   * marks the node alive.
   * @param run sends the request with the signal it must stop at
   * @throws what `run` throws, or the UNREACHABLE of a silent node
   */
  during<T>(node: string, run: (signal: AbortSignal) => Promise<T>, controller?: AbortController): Promise<T>;
}

interface NodeState {
  lastAnswerAt: number;
  lastSilenceAt: number;
  check: Promise<boolean> | undefined;
  /** Who waits on the node now: told once when it fails a check. */
  readonly watchers: Set<() => void>;
  /** Looks at the node every period while anyone waits on it. */
  timer: NodeJS.Timeout | undefined;
  looking: boolean;
}

/**
 * Creates a monitor.
 * @throws SilkError INVALID_ARGUMENT when `periodMs` is not a whole number of at least 10
 * @example
 * const liveness = createLivenessMonitor({ periodMs: 1_000, check: (node, ms) => getHealth(node, ms) });
 * const answer = await liveness.during(url, (signal) => post(url, body, { signal }));
 */
export function createLivenessMonitor(options: LivenessMonitorOptions): LivenessMonitor {
  const { periodMs } = options;
  if (!Number.isSafeInteger(periodMs) || periodMs < 10) throw new SilkError('INVALID_ARGUMENT', `a liveness period must be a whole number of ms, at least 10; got ${String(periodMs)}`, { path: 'periodMs' });
  const nodes = new Map<string, NodeState>();
  const stateOf = (node: string): NodeState => {
    let s = nodes.get(node);
    if (s === undefined) {
      s = { lastAnswerAt: 0, lastSilenceAt: 0, check: undefined, watchers: new Set(), timer: undefined, looking: false };
      nodes.set(node, s);
    }
    return s;
  };
  const runCheck = async (node: string, s: NodeState): Promise<boolean> => {
    try {
      await options.check(node, periodMs);
      s.lastAnswerAt = Date.now();
      return true;
    } catch {
      s.lastSilenceAt = Date.now();
      return false;
    }
  };
  const stopLooking = (s: NodeState): void => {
    clearInterval(s.timer);
    s.timer = undefined;
  };
  /** One look at a node someone waits on: a failed check tells every watcher of that moment. */
  const look = (node: string, s: NodeState): void => {
    if (s.looking) return;
    s.looking = true;
    void monitor.alive(node).then((alive) => {
      s.looking = false;
      if (alive) return;
      const told = [...s.watchers];
      s.watchers.clear();
      stopLooking(s);
      for (const onSilent of told) onSilent();
    });
  };
  const monitor: LivenessMonitor = {
    periodMs,
    answered(node) {
      stateOf(node).lastAnswerAt = Date.now();
    },
    alive(node) {
      const s = stateOf(node);
      if (Date.now() - s.lastAnswerAt < periodMs) return Promise.resolve(true);
      s.check ??= runCheck(node, s).finally(() => { s.check = undefined; });
      return s.check;
    },
    silentNow(node) {
      const s = nodes.get(node);
      return s !== undefined && s.lastSilenceAt > s.lastAnswerAt && Date.now() - s.lastSilenceAt < periodMs;
    },
    watch(node, onSilent) {
      const s = stateOf(node);
      // A function of its own per watch, so one request stopping never removes another.
      const watcher = (): void => { onSilent(); };
      s.watchers.add(watcher);
      // One timer per node however many wait on it: a request costs a set entry, not a timer.
      s.timer ??= setInterval(() => { look(node, s); }, periodMs);
      return () => {
        s.watchers.delete(watcher);
        if (s.watchers.size === 0) stopLooking(s);
      };
    },
    async during(node, run, controller = new AbortController()) {
      // Made only when the node falls silent: an error (its stack) costs more than the request's bookkeeping.
      let silence: SilkError | undefined;
      const stop = monitor.watch(node, () => {
        silence = new SilkError('UNREACHABLE', `${node} gave no answer, nor to a health check within ${periodMs} ms (stopped or cut off)`, { reason: NODE_SILENT_REASON, node });
        controller.abort(silence);
      });
      try {
        const answer = await run(controller.signal);
        monitor.answered(node);
        return answer;
      } catch (error) {
        throw silence !== undefined && controller.signal.reason === silence ? silence : error;
      } finally {
        stop();
      }
    },
  };
  return monitor;
}
