/** Worker side of the verify pool: checks batches of signatures with the hot-path verify function. */
import { parentPort } from 'node:worker_threads';
import { verifyCallCount, verifyP256 } from './p256.js';
import { unpackSignatureChecks } from './signature-batch.js';

parentPort?.on('message', (req: { id: number; packed: Uint8Array } | { id: number; count: true }) => {
  if ('count' in req) {
    parentPort?.postMessage({ id: req.id, count: verifyCallCount() });
    return;
  }
  const checks = unpackSignatureChecks(req.packed);
  const results = new Uint8Array(checks.length);
  checks.forEach((c, i) => {
    results[i] = verifyP256(c.key, c.message, c.signature) ? 1 : 0;
  });
  parentPort?.postMessage({ id: req.id, results }, [results.buffer]);
});
