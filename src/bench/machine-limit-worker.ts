/**
 * Worker side of the machine-limit measurement: makes signatures, waits for the start signal,
 * then verifies them with the hot path's verify function in a loop for the given time.
 */
import { randomBytes } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { generateSigner, verifyP256 } from '../crypto/p256.js';

/** What the parent passes in `workerData`. */
export interface MachineLimitWorkerData {
  readonly durationMs: number;
  readonly messageBytes: number;
}

/** What the worker reports at the end. */
export interface MachineLimitWorkerReport {
  readonly verifies: number;
  readonly elapsedMs: number;
  readonly failures: number;
}

const SIGNATURES = 64;
const { durationMs, messageBytes } = workerData as MachineLimitWorkerData;
const signer = generateSigner();
const messages = Array.from({ length: SIGNATURES }, () => new Uint8Array(randomBytes(messageBytes)));
const signatures = messages.map((m) => signer.sign(m));
// Warm the key cache and the JIT before the clock starts.
for (let i = 0; i < SIGNATURES; i++) verifyP256(signer.publicKey, messages[i]!, signatures[i]!);

parentPort?.once('message', () => {
  let verifies = 0;
  let failures = 0;
  const start = performance.now();
  const end = start + durationMs;
  let now = start;
  while (now < end) {
    for (let i = 0; i < SIGNATURES; i++) {
      if (!verifyP256(signer.publicKey, messages[i]!, signatures[i]!)) failures++;
    }
    verifies += SIGNATURES;
    now = performance.now();
  }
  const report: MachineLimitWorkerReport = { verifies, elapsedMs: now - start, failures };
  parentPort?.postMessage(report);
});
parentPort?.postMessage('ready');
