/**
 * The machine's own bound: P-256 verifications per second with one worker thread per core, each
 * calling the hot path's `verifyP256` on pre-made signatures. The workers are separate threads
 * with their own module instances, so their calls never reach the network's verify counters.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { MachineLimitWorkerData, MachineLimitWorkerReport } from './machine-limit-worker.js';

/** One measurement of the machine limit. */
export interface MachineLimit {
  /** Verifications per second over all workers. */
  readonly verifiesPerSec: number;
  readonly workers: number;
  readonly verifiesPerSecPerCore: number;
}

/** Size of the signed messages: about an encoded proposal or endorsed result. */
const MESSAGE_BYTES = 320;

/**
 * Measures verifications per second on all cores.
 * @param durationMs how long each worker verifies
 * @param workers worker count (default: the available parallelism)
 * @throws Error when a worker fails or a pre-made signature does not verify
 */
export async function measureMachineLimit(durationMs: number, workers = availableParallelism()): Promise<MachineLimit> {
  const data: MachineLimitWorkerData = { durationMs, messageBytes: MESSAGE_BYTES };
  const pool = Array.from({ length: workers }, () => new Worker(new URL('./machine-limit-worker.js', import.meta.url), { workerData: data }));
  try {
    // Start every worker at once, after all made their signatures.
    await Promise.all(pool.map((w) => new Promise<void>((resolve, reject) => {
      w.once('message', () => { resolve(); });
      w.once('error', reject);
    })));
    const reports = await Promise.all(pool.map((w) => new Promise<MachineLimitWorkerReport>((resolve, reject) => {
      w.once('message', (r: MachineLimitWorkerReport) => { resolve(r); });
      w.once('error', reject);
      w.postMessage('go');
    })));
    if (reports.some((r) => r.failures > 0)) throw new Error('machine limit: a pre-made signature did not verify');
    const verifiesPerSec = reports.reduce((sum, r) => sum + (r.verifies * 1000) / r.elapsedMs, 0);
    return { verifiesPerSec, workers, verifiesPerSecPerCore: verifiesPerSec / workers };
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}
