/**
 * Proves each step of a provenance answer in the browser, with the ledger's own code
 * (`silkledger/receipt`, `silkledger/event-proof`: what `silk epcis trace` and the SDK's
 * `verifyProvenance` run). A step is proven when its transaction's receipt verifies against the
 * chain's keys at its block (receipt-check.ts), the transaction's bytes hash to that receipt's
 * envelope hash, the transaction recorded the step's event ID, and the step as shown hashes to
 * that ID at the block and position the receipt gives.
 */
import { checkProvenanceEvent, recordedEvents, type RecordedEvents } from 'silkledger/event-proof';
import { receiptFromJson } from 'silkledger/receipt';
import { ApiError, getBytes, type ProvenanceEvent, type ReceiptJson } from './api.js';
import { checkReceipts, type ReceiptCheck } from './receipt-check.js';

/** One step's proof: its verified receipt, or the first check that failed. */
export type StepProof = { readonly ok: true; readonly receipt: Extract<ReceiptCheck, { ok: true }> } | { readonly ok: false; readonly reason: string };

/** Transactions whose bytes are read at once (a long history must not flood the node). */
const PARALLEL_READS = 4;

async function readRecorded(txId: string, json: ReceiptJson, signal: AbortSignal | undefined): Promise<RecordedEvents> {
  const receipt = receiptFromJson(json);
  try {
    return recordedEvents(await getBytes(`/api/chains/${encodeURIComponent(receipt.chain)}/transactions/${txId}/raw`, signal), receipt);
  } catch (e) {
    if (e instanceof ApiError) return { ok: false, reason: `the transaction's bytes could not be read: ${e.message}` };
    throw e;
  }
}

/**
 * Checks every step against its transaction.
 * @param events the steps shown
 * @param proofs the answer's receipts by transaction id
 * @returns each step's proof, by event hash
 * @throws ApiError when a chain's configuration cannot be read
 */
export async function proveSteps(events: readonly ProvenanceEvent[], proofs: Readonly<Record<string, ReceiptJson>>, signal?: AbortSignal): Promise<Map<string, StepProof>> {
  const receipts = await checkReceipts(proofs, signal);
  const toRead = [...new Set(events.map((e) => e.txId))].filter((txId) => receipts.get(txId)?.ok === true);
  const recorded = new Map<string, RecordedEvents>();
  let next = 0;
  const reader = async (): Promise<void> => {
    while (next < toRead.length) {
      const txId = toRead[next++] as string;
      recorded.set(txId, await readRecorded(txId, proofs[txId] as ReceiptJson, signal));
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, toRead.length) }, reader));
  const steps = new Map<string, StepProof>();
  for (const e of events) {
    const receipt = receipts.get(e.txId);
    const json = proofs[e.txId];
    if (receipt === undefined || json === undefined) steps.set(e.hash, { ok: false, reason: 'no receipt' });
    else if (!receipt.ok) steps.set(e.hash, receipt);
    else {
      const tx = { receipt: receiptFromJson(json), recorded: recorded.get(e.txId) ?? { ok: false, reason: 'transaction not read' } } as const;
      // The steps shown are never declared erroneous: their own transaction gave them their position.
      const proof = checkProvenanceEvent(e, tx, tx);
      steps.set(e.hash, proof.ok ? { ok: true, receipt } : proof);
    }
  }
  return steps;
}
