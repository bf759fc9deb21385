/**
 * Micro-benchmarks run in the same process as the workload: the CPU cost of one P-256 verify and
 * one sign on this thread (to split the process CPU time into signature work and the rest), the
 * cost of the canonical encoding of one transaction envelope, and the cost of one receipt of a
 * transaction in an old block (served from the rows stored at commit).
 */
import { randomBytes } from 'node:crypto';
import { encodeCanonical, type CanonicalValue } from '../codec/canonical-cbor.js';
import { generateSigner, verifyP256 } from '../crypto/p256.js';
import { decodeTransaction, encodeEnvelope, encodeTxResult } from '../ledger/transaction.js';

/** Per-operation costs in microseconds of CPU time. */
export interface SignatureCosts {
  readonly verifyUs: number;
  readonly signUs: number;
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * Runs `op` in batches until `budgetMs` of wall time passed.
 * @returns CPU microseconds per call (main thread only runs it, so process CPU ≈ its CPU)
 */
function timePerCall(budgetMs: number, batch: number, op: (i: number) => void): number {
  for (let i = 0; i < batch; i++) op(i);
  const end = performance.now() + budgetMs;
  const cpu0 = cpuMicros();
  let calls = 0;
  while (performance.now() < end) {
    for (let i = 0; i < batch; i++) op(i);
    calls += batch;
  }
  return (cpuMicros() - cpu0) / calls;
}

/**
 * Measures one verify and one sign on the calling thread. The verifies count towards this
 * thread's `verifyCallCount`: call it outside a measured round.
 * @param budgetMs wall time spent on each of the two measurements
 */
export function measureSignatureCosts(budgetMs: number): SignatureCosts {
  const signer = generateSigner();
  const messages = Array.from({ length: 32 }, () => new Uint8Array(randomBytes(320)));
  const signatures = messages.map((m) => signer.sign(m));
  const verifyUs = timePerCall(budgetMs, 32, (i) => {
    if (!verifyP256(signer.publicKey, messages[i]!, signatures[i]!)) throw new Error('micro-benchmark: a fresh signature did not verify');
  });
  const signUs = timePerCall(budgetMs, 32, (i) => {
    signer.sign(messages[i]!);
  });
  return { verifyUs, signUs };
}

/**
 * Cost of the canonical encoding of one transaction: decoding an envelope (with its proposal
 * and result) and encoding the proposal, the result and the envelope again.
 * @param envelope a typical envelope of the workload
 * @param budgetMs wall time to spend
 * @returns microseconds of CPU per encode+decode
 * @throws Error when re-encoding does not give the same bytes (the encoding is not canonical)
 */
export function measureEncodeCost(envelope: Uint8Array, budgetMs: number): number {
  const d = decodeTransaction(envelope);
  const again = encodeEnvelope(d.envelope);
  if (Buffer.compare(again, envelope) !== 0) throw new Error('micro-benchmark: re-encoding an envelope changed its bytes');
  return timePerCall(budgetMs, 16, () => {
    const x = decodeTransaction(envelope);
    encodeCanonical(x.proposal as unknown as CanonicalValue);
    encodeTxResult(x.result);
    encodeEnvelope(x.envelope);
  });
}

/**
 * Cost of one receipt: the reads of the rows its commit stored (no block decoding, no hashing).
 * Pass transactions of old blocks: the reads provenance queries make for every event.
 * @param receipt reads one receipt, e.g. `(txId) => peer.receipt('trade', txId)`
 * @param txIds committed transactions to ask for, in turn
 * @param budgetMs wall time to spend
 * @returns microseconds of CPU per receipt
 * @throws Error when `txIds` is empty or a receipt is missing
 */
export function measureReceiptCost(receipt: (txId: string) => unknown, txIds: readonly string[], budgetMs: number): number {
  if (txIds.length === 0) throw new Error('micro-benchmark: no transaction to read receipts of');
  return timePerCall(budgetMs, txIds.length, (i) => {
    if (receipt(txIds[i]!) === undefined) throw new Error(`micro-benchmark: no receipt for ${txIds[i]!}`);
  });
}
