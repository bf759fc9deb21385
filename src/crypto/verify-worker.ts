/** Worker side of the verify pool: checks batches of signatures with the hot-path verify function. */
import { parentPort } from 'node:worker_threads';
import { verifyCallCount, verifyP256 } from './p256.js';

/** A batch request: parallel arrays of keys, messages and signatures. */
export interface VerifyBatchRequest {
  readonly id: number;
  readonly keys: Uint8Array[];
  readonly messages: Uint8Array[];
  readonly signatures: Uint8Array[];
}

parentPort?.on('message', (req: VerifyBatchRequest | { id: number; count: true }) => {
  if ('count' in req) {
    parentPort?.postMessage({ id: req.id, count: verifyCallCount() });
    return;
  }
  const results = new Uint8Array(req.keys.length);
  for (let i = 0; i < req.keys.length; i++) {
    results[i] = verifyP256(req.keys[i] as Uint8Array, req.messages[i] as Uint8Array, req.signatures[i] as Uint8Array) ? 1 : 0;
  }
  parentPort?.postMessage({ id: req.id, results }, [results.buffer]);
});
