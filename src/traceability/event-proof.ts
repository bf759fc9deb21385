/**
 * Proof that an event of a provenance answer is on the ledger as shown. A receipt
 * (src/ledger/receipt.ts) proves that a transaction committed VALID in a block the chain's
 * orderer and one of its peers signed; it says nothing of the events an answer attributes to
 * that transaction. This module closes the gap with the transaction itself:
 *
 * 1. the envelope's SHA-256 is the one the (verified) receipt carries, so these are the bytes
 *    the block holds;
 * 2. the envelope is a call of the `epcis` contract, and its write set (what every peer applied)
 *    records event keys `event:<hash>`: the contract computes each event's CBV 2.0 hash itself;
 * 3. each event's content, as the answer shows it, hashes to its ID, that ID is one the
 *    transaction recorded, and the block the answer names is the receipt's (for an event
 *    declared erroneous by a later transaction, the declaration's: it rewrote the record).
 *
 * A node that alters what an event says, attributes an event to a transaction that did not
 * record it, or moves it to another block is caught by 3. Pure functions over bytes: the SDK
 * (`verifyProvenance`) and the web UI run the same code.
 */
import { bytesEqual, sha256 } from '../crypto/hash.js';
import { receiptFromJson, verifyReceipt, type Receipt, type ReceiptTrust } from '../ledger/receipt.js';
import { decodeTransaction } from '../ledger/transaction.js';
import { eventHashId } from './event-hash.js';
import { EPCIS_CONTRACT, eventKey, hashHexOf } from './epcis-ledger-index.js';
import type { ProvenanceEvent } from './provenance.js';
import { positioningTransaction, provenanceEvents, type ProvenanceWithProofs } from './provenance-proofs.js';

const EVENT_KEY_PREFIX = eventKey('');
const HEX_64 = /^[0-9a-f]{64}$/;

/** The verdict on one event or one transaction: `ok`, or the first check that failed. */
export type EventProof = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** The events one transaction recorded, read from its envelope. */
export type RecordedEvents = { readonly ok: true; readonly hashes: ReadonlySet<string> } | { readonly ok: false; readonly reason: string };

/**
 * Reads which events a transaction recorded, after checking that its envelope is the one its
 * receipt proves. Check the receipt itself first (`verifyReceipt`): this only ties the envelope to it.
 * @param envelope the transaction's bytes as ordered (`GET /api/chains/{chain}/transactions/{txId}/raw`)
 * @param receipt the transaction's receipt
 * @returns the hex digests of the event hash IDs the transaction wrote (records of new events;
 *   an error declaration rewrites the record of the event it declares), or why none can be trusted
 * @example const recorded = recordedEvents(envelopeBytes, receipt); if (recorded.ok) recorded.hashes.has(hex)
 */
export function recordedEvents(envelope: Uint8Array, receipt: Receipt): RecordedEvents {
  if (!bytesEqual(sha256(envelope), receipt.envelopeHash)) return { ok: false, reason: 'transaction bytes are not the ones its receipt proves' };
  let tx;
  try {
    tx = decodeTransaction(envelope);
  } catch {
    return { ok: false, reason: 'transaction does not decode' };
  }
  if (tx.txId !== receipt.txId) return { ok: false, reason: 'transaction id differs from its receipt' };
  if (tx.result.contract !== EPCIS_CONTRACT) return { ok: false, reason: `transaction is a call of ${tx.result.contract}, not of ${EPCIS_CONTRACT}` };
  const hashes = new Set<string>();
  for (const w of tx.result.writes) {
    if (w.value === null || !w.key.startsWith(EVENT_KEY_PREFIX)) continue;
    const hex = w.key.slice(EVENT_KEY_PREFIX.length);
    if (HEX_64.test(hex)) hashes.add(hex);
  }
  return { ok: true, hashes };
}

/** A transaction an answer cites: its (verified) receipt and what its bytes recorded. */
export interface TransactionProof {
  readonly receipt: Receipt;
  readonly recorded: RecordedEvents;
}

/**
 * Checks one event of a provenance answer against what its transactions recorded.
 * @param event the event as the answer shows it
 * @param recordedBy the transaction that recorded it (`event.txId`)
 * @param positionedBy the transaction at the event's ledger position (`positioningTransaction`, provenance-proofs.ts); the same one unless the event was declared erroneous later
 * @example checkProvenanceEvent(e, proof, proof)
 */
export function checkProvenanceEvent(event: ProvenanceEvent, recordedBy: TransactionProof, positionedBy: TransactionProof): EventProof {
  if (!recordedBy.recorded.ok) return recordedBy.recorded;
  if (!positionedBy.recorded.ok) return positionedBy.recorded;
  if (event.txId !== recordedBy.receipt.txId) return { ok: false, reason: 'receipt is of another transaction' };
  const at = positionedBy.receipt;
  if (event.ledger.block !== at.blockNumber || event.ledger.tx !== at.txIndex) {
    return { ok: false, reason: `event is said to be at block ${event.ledger.block} transaction ${event.ledger.tx}, its transaction is at block ${at.blockNumber} transaction ${at.txIndex}` };
  }
  let hash: string;
  try {
    hash = eventHashId(event.event, { namespaces: event.namespaces ?? {} });
  } catch (e) {
    return { ok: false, reason: `content cannot be hashed: ${(e as Error).message}` };
  }
  if (hash !== event.hash) return { ok: false, reason: 'content does not hash to its ID: it is not the event recorded' };
  const hex = hashHexOf(hash);
  if (hex === undefined || !recordedBy.recorded.hashes.has(hex) || !positionedBy.recorded.hashes.has(hex)) return { ok: false, reason: 'its transaction did not record this event' };
  return { ok: true };
}

/** Where {@link proveProvenance} reads what the answer does not carry. */
export interface ProvenanceSources {
  /** The keys a receipt of `chain` at `block` may be signed with (the configuration that governed it, or pinned keys). */
  trust(chain: string, block: number): ReceiptTrust | Promise<ReceiptTrust>;
  /** A transaction's bytes as ordered (`GET /api/chains/{chain}/transactions/{txId}/raw`). */
  transactionBytes(chain: string, txId: string): Uint8Array | Promise<Uint8Array>;
}

/** The outcome of {@link proveProvenance}: how many signatures it checked, or the first problem. */
export type ProvenanceProof =
  | { readonly ok: true; readonly receipts: number; readonly events: number }
  | { readonly ok: false; readonly reason: string; readonly txId: string; readonly hash?: string };

/**
 * Proves a whole provenance answer, as a client that trusts no node does: every receipt against
 * the keys of its block, then every event it returns (history, lot, lineage, declared erroneous)
 * against the transactions that recorded and positioned it ({@link checkProvenanceEvent}). The
 * SDK's `verifyProvenance` and the benchmark's label checks run it.
 * @returns the counts proven, or the first receipt or event that does not check
 * @example const proof = await proveProvenance(answer, { trust: (c, b) => trustAt(c, b), transactionBytes: (c, tx) => client.transactionBytes(c, tx) })
 */
export async function proveProvenance(answer: ProvenanceWithProofs, sources: ProvenanceSources): Promise<ProvenanceProof> {
  const proven = new Map<string, TransactionProof>();
  for (const [txId, json] of Object.entries(answer.proofs)) {
    let receipt: Receipt;
    try {
      receipt = receiptFromJson(json);
    } catch (e) {
      return { ok: false, reason: `the receipt of transaction ${txId} cannot be read: ${(e as Error).message}`, txId };
    }
    if (receipt.txId !== txId) return { ok: false, reason: `the receipt given for transaction ${txId} is that of transaction ${receipt.txId}`, txId };
    const v = verifyReceipt(receipt, await sources.trust(receipt.chain, receipt.blockNumber));
    if (!v.ok) return { ok: false, reason: `the receipt of transaction ${txId} does not verify: ${v.reason}`, txId };
    proven.set(txId, { receipt, recorded: recordedEvents(await sources.transactionBytes(receipt.chain, txId), receipt) });
  }
  const events = provenanceEvents(answer.provenance);
  for (const e of events) {
    const positioning = positioningTransaction(e);
    const recordedBy = proven.get(e.txId);
    const positionedBy = proven.get(positioning);
    if (recordedBy === undefined || positionedBy === undefined) {
      const txId = recordedBy === undefined ? e.txId : positioning;
      return { ok: false, reason: `event ${e.hash}: no receipt for its transaction ${txId}`, txId, hash: e.hash };
    }
    const check = checkProvenanceEvent(e, recordedBy, positionedBy);
    if (!check.ok) return { ok: false, reason: `event ${e.hash} of transaction ${e.txId}: ${check.reason}`, txId: e.txId, hash: e.hash };
  }
  return { ok: true, receipts: proven.size, events: events.length };
}
