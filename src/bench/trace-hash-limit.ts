/**
 * The machine's bound on EPCIS capture besides signatures: CBV 2.0 event hashes per second with
 * one worker thread per core, each hashing a sample of the benchmark's own events with the
 * function the `epcis` contract runs for every event it records.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { HashLimitWorkerData, HashLimitWorkerReport } from './trace-hash-limit-worker.js';
import type { EpcisEventObject } from './trace-events.js';

/** One measurement of the event-hash limit. */
export interface EventHashLimit {
  /** Event hashes per second over all workers. */
  readonly hashesPerSec: number;
  readonly workers: number;
}

/**
 * Measures event hashes per second on all cores.
 * @param durationMs how long each worker hashes
 * @param events the sample each worker hashes in turn (a mix of the workload's event kinds)
 * @param workers worker count (default: the available parallelism)
 * @throws RangeError when the sample is empty; Error when a worker fails
 */
export async function measureEventHashLimit(durationMs: number, events: readonly EpcisEventObject[], workers = availableParallelism()): Promise<EventHashLimit> {
  if (events.length === 0) throw new RangeError('the event-hash limit needs a sample of events');
  const data: HashLimitWorkerData = { durationMs, events };
  const pool = Array.from({ length: workers }, () => new Worker(new URL('./trace-hash-limit-worker.js', import.meta.url), { workerData: data }));
  try {
    await Promise.all(pool.map((w) => new Promise<void>((resolve, reject) => {
      w.once('message', () => { resolve(); });
      w.once('error', reject);
    })));
    const reports = await Promise.all(pool.map((w) => new Promise<HashLimitWorkerReport>((resolve, reject) => {
      w.once('message', (r: HashLimitWorkerReport) => { resolve(r); });
      w.once('error', reject);
      w.postMessage('go');
    })));
    return { hashesPerSec: reports.reduce((sum, r) => sum + (r.hashes * 1000) / r.elapsedMs, 0), workers };
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}
