/**
 * Worker side of the event-hash limit: hashes the given EPCIS events with the CBV 2.0 event hash
 * (`eventHashId`, the function the `epcis` contract runs per event) in a loop for the given time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { eventHashId } from '../traceability/event-hash.js';
import type { EpcisEventObject } from './trace-events.js';

/** What the parent passes in `workerData`. */
export interface HashLimitWorkerData {
  readonly durationMs: number;
  readonly events: readonly EpcisEventObject[];
}

/** What the worker reports at the end. */
export interface HashLimitWorkerReport {
  readonly hashes: number;
  readonly elapsedMs: number;
}

const { durationMs, events } = workerData as HashLimitWorkerData;
// Warm the JIT before the clock starts.
for (const e of events) eventHashId(e);

parentPort?.once('message', () => {
  let hashes = 0;
  const start = performance.now();
  const end = start + durationMs;
  let now = start;
  while (now < end) {
    for (const e of events) eventHashId(e);
    hashes += events.length;
    now = performance.now();
  }
  const report: HashLimitWorkerReport = { hashes, elapsedMs: now - start };
  parentPort?.postMessage(report);
});
parentPort?.postMessage('ready');
