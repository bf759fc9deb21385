/**
 * Proofs for a provenance answer: every event it returns names the transaction that recorded
 * it (`txId`), and each such transaction gets one receipt (src/ledger/receipt.ts): its RFC 9162
 * inclusion path to the data hash of a block header the orderer signed, and the answering
 * peer's signed validation code. Receipts are read as stored at commit, so attaching them costs
 * a couple of indexed reads per transaction, no hashing.
 *
 * What a verifier does: `verifyReceipt(receipt, trust)` for each receipt (the chain's orderer
 * and peer keys at the receipt's block, `GET /api/chains/{chain}?at=N`), then for any event it
 * relies on, recompute its CBV 2.0 hash from the event as returned (src/traceability/event-hash.ts)
 * and check it equals the event's `hash`, which the recording transaction wrote.
 */
import { receiptToJson, type Receipt, type ReceiptJson } from '../ledger/receipt.js';
import type { ItemProvenance, LineageStep, ProvenanceEvent } from './provenance.js';

/** A provenance answer and the proofs of the transactions it cites. */
export interface ProvenanceWithProofs {
  readonly provenance: ItemProvenance;
  /** One receipt per cited transaction, by transaction ID. */
  readonly proofs: { readonly [txId: string]: ReceiptJson };
  /** Cited transactions the peer had no receipt for (none on a consistent ledger). */
  readonly missingProofs: readonly string[];
}

function lineageEvents(steps: readonly LineageStep[], into: ProvenanceEvent[]): void {
  for (const step of steps) {
    into.push(step.event);
    for (const input of step.inputs) if (input.producedBy !== null) lineageEvents(input.producedBy, into);
  }
}

/**
 * Every event a provenance answer returns: its history, its lot's events, its lineage and the
 * events declared erroneous.
 * @param p - an answer of `itemProvenance`
 */
export function provenanceEvents(p: ItemProvenance): ProvenanceEvent[] {
  const all: ProvenanceEvent[] = [...p.events, ...(p.lot?.events ?? []), ...p.declaredErroneous];
  lineageEvents(p.lineage, all);
  return all;
}

/**
 * The distinct transactions an answer cites, in first-cited order: each event's recording
 * transaction, and for an event declared erroneous later, the declaration's.
 * @param p - an answer of `itemProvenance`
 */
export function citedTransactions(p: ItemProvenance): string[] {
  return [...new Set(provenanceEvents(p).flatMap((e) => [e.txId, positioningTransaction(e)]))];
}

/**
 * The transaction whose write gave an event's record its ledger position: the one that recorded
 * it, or, for an event declared erroneous by a later transaction, that declaration (it rewrote
 * the record, with the event, under the same ID; `errorDeclaration.txId`).
 * @example positioningTransaction(answer.provenance.declaredErroneous[0])
 */
export function positioningTransaction(event: ProvenanceEvent & { readonly errorDeclaration?: unknown }): string {
  const declaration = event.errorDeclaration;
  if (typeof declaration === 'object' && declaration !== null && !Array.isArray(declaration)) {
    const txId = (declaration as { readonly txId?: unknown }).txId;
    if (typeof txId === 'string') return txId;
  }
  return event.txId;
}

/**
 * Attaches one receipt per cited transaction.
 * @param p - an answer of `itemProvenance`
 * @param receiptOf - the answering peer's receipts (`(txId) => peer.receipt(chain, txId)`)
 * @returns the answer, its proofs by transaction ID, and any transaction without one
 * @example withProofs(itemProvenance(peer.reader('product', 'epcis'), epc), (tx) => peer.receipt('product', tx))
 */
export function withProofs(p: ItemProvenance, receiptOf: (txId: string) => Receipt | undefined): ProvenanceWithProofs {
  const proofs: Record<string, ReceiptJson> = {};
  const missingProofs: string[] = [];
  for (const txId of citedTransactions(p)) {
    const receipt = receiptOf(txId);
    if (receipt === undefined) missingProofs.push(txId);
    else proofs[txId] = receiptToJson(receipt);
  }
  return { provenance: p, proofs, missingProofs };
}
