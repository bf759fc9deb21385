/**
 * The untimed preload of a workload's keys: every key written once, as a well-behaved client
 * writes (a refusal that says when to retry is sent again after that time, as the SDK does).
 */
import { MAX_BUSY_WAIT_MS } from '../sdk/client.js';
import type { BenchNetwork } from './bench-network.js';

/** Times one key may be refused before a preload gives up. */
const PRELOAD_MAX_REFUSALS = 20;

/** What {@link preloadKeys} did. */
export interface PreloadResult {
  readonly committed: number;
  /** Sends the node turned away with a time to retry after (each was sent again). */
  readonly refusals: number;
  /** Committed ÷ wall time of the whole preload. */
  readonly tps: number;
}

/**
 * Writes keys 0 … `keys − 1` once each, as a well-behaved client does: a key the node turned away
 * with a time to retry after (it sheds load, as `GATEWAY_BUSY` and `RATE_LIMITED` do: nothing was
 * endorsed or ordered) is sent again after that time (at least 1 s, at most the SDK's
 * `MAX_BUSY_WAIT_MS`), and
 * each refusal halves the number kept in flight (each commit adds one back, up to
 * `concurrency`), so a gateway that asks for less gets less; any other failure ends the preload.
 *
 * @throws Error naming the failure codes when a key fails otherwise, or is refused too often
 */
export async function preloadKeys(bn: BenchNetwork, spec: { readonly keys: number; readonly concurrency: number; readonly route?: 'gateway' | 'direct' }): Promise<PreloadResult> {
  const t0 = performance.now();
  const queue: number[] = Array.from({ length: spec.keys }, (_, i) => i);
  const refusedTimes = new Map<number, number>();
  const failures: Record<string, number> = {};
  let failed = 0;
  let gaveUp: string | undefined;
  let window = spec.concurrency;
  let inFlight = 0;
  let waitingRetry = 0;
  let committed = 0;
  let refusals = 0;
  await new Promise<void>((resolve) => {
    const over = (): boolean => failed > 0 || gaveUp !== undefined;
    const pump = (): void => {
      while (!over() && inFlight < window && queue.length > 0) {
        const key = queue.shift() as number;
        inFlight++;
        bn.start((o) => {
          inFlight--;
          if (o.valid) {
            committed++;
            window = Math.min(spec.concurrency, window + 1);
          } else if (o.retryAfterSeconds === undefined) {
            failed++;
            failures[o.code] = (failures[o.code] ?? 0) + 1;
          } else {
            refusals++;
            window = Math.max(1, Math.floor(window / 2));
            const times = (refusedTimes.get(key) ?? 0) + 1;
            refusedTimes.set(key, times);
            if (times >= PRELOAD_MAX_REFUSALS) gaveUp = `key ${key} was refused with ${o.code} ${times} times`;
            else {
              waitingRetry++;
              setTimeout(() => {
                waitingRetry--;
                queue.push(key);
                pump();
              }, Math.min(MAX_BUSY_WAIT_MS, Math.max(1000, o.retryAfterSeconds * 1000)));
            }
          }
          setImmediate(pump);
        }, bn.args.forKey(key), spec.route);
      }
      if (inFlight === 0 && (over() || (queue.length === 0 && waitingRetry === 0))) resolve();
    };
    pump();
  });
  if (failed > 0) throw new Error(`${failed} transactions failed (${JSON.stringify(failures)})`);
  if (gaveUp !== undefined) throw new Error(gaveUp);
  const s = (performance.now() - t0) / 1000;
  return { committed, refusals, tps: s > 0 ? committed / s : 0 };
}
