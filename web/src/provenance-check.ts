/**
 * Proves each step of a provenance answer in the browser, with the ledger's own code
 * (`silkledger/event-proof`'s `proveEvents`: what `silk epcis trace` and the SDK's
 * `verifyProvenance` run). A step is proven when its transaction's receipt verifies against the
 * chain's keys at its block, the transaction's bytes hash to that receipt's envelope hash, the
 * transaction recorded the step's event ID, and the step as shown hashes to that ID at the block
 * and position the receipt gives.
 */
import { proveEvents } from 'silkledger/event-proof';
import { receiptTrust } from 'silkledger/receipt';
import { getBytes, type ProvenanceEvent, type ReceiptJson } from './api.js';
import { configReader, verifiedFacts, type ReceiptCheck } from './receipt-check.js';

/** One step's proof: what its transaction's receipt vouches for, or the first check that failed. */
export type StepProof = { readonly ok: true; readonly receipt: Extract<ReceiptCheck, { ok: true }> } | { readonly ok: false; readonly reason: string };

/**
 * Checks every step against its transactions.
 * @param events the steps shown
 * @param proofs the answer's receipts by transaction id
 * @returns each step's proof, by event hash
 * @throws ApiError when a chain's configuration cannot be read
 */
export async function proveSteps(events: readonly ProvenanceEvent[], proofs: Readonly<Record<string, ReceiptJson>>, signal?: AbortSignal): Promise<Map<string, StepProof>> {
  const configAt = configReader(signal);
  const proof = await proveEvents(events, proofs, {
    trust: async (chain, block) => receiptTrust((await configAt(chain, block)).config),
    transactionBytes: (chain, txId) => getBytes(`/api/chains/${encodeURIComponent(chain)}/transactions/${txId}/raw`, signal),
  });
  const steps = new Map<string, StepProof>();
  for (const e of events) {
    const verdict = proof.events.get(e.hash) ?? { ok: false, reason: 'not checked' };
    const tx = proof.transactions.get(e.txId);
    const json = proofs[e.txId];
    if (!verdict.ok || tx?.ok !== true || json === undefined) {
      steps.set(e.hash, verdict.ok ? { ok: false, reason: 'not checked' } : verdict);
      continue;
    }
    const { config } = await configAt(tx.receipt.chain, tx.receipt.blockNumber);
    steps.set(e.hash, { ok: true, receipt: verifiedFacts(json, tx.receipt, config) });
  }
  return steps;
}
