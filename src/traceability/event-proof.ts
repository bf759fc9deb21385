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
import { receiptFromJson, verifyReceipt, type Receipt, type ReceiptJson, type ReceiptTrust } from '../ledger/receipt.js';
import { decodeWrittenKeys } from '../ledger/transaction.js';
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
    // The event keys it wrote are all a proof needs: the document it was given, the records it
    // wrote and its index keys are left undecoded.
    tx = decodeWrittenKeys(envelope, { prefix: EVENT_KEY_PREFIX });
  } catch {
    return { ok: false, reason: 'transaction does not decode' };
  }
  if (tx.txId !== receipt.txId) return { ok: false, reason: 'transaction id differs from its receipt' };
  if (tx.contract !== EPCIS_CONTRACT) return { ok: false, reason: `transaction is a call of ${tx.contract}, not of ${EPCIS_CONTRACT}` };
  const hashes = new Set<string>();
  for (const w of tx.writes) {
    if (w.deleted) continue;
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

/** Where {@link proveEvents} reads what an answer does not carry. */
export interface ProvenanceSources {
  /** The keys a receipt of `chain` at `block` may be signed with (the configuration that governed it, or pinned keys). */
  trust(chain: string, block: number): ReceiptTrust | Promise<ReceiptTrust>;
  /** A transaction's bytes as ordered (`GET /api/chains/{chain}/transactions/{txId}/raw`). */
  transactionBytes(chain: string, txId: string): Uint8Array | Promise<Uint8Array>;
}

/** One cited transaction: its verified receipt and what its bytes recorded, or why it proves nothing. */
export type CitedTransaction = ({ readonly ok: true } & TransactionProof) | { readonly ok: false; readonly reason: string };

/** What {@link proveEvents} found. */
export interface EventsProof {
  /** Each transaction the events need, by id. */
  readonly transactions: ReadonlyMap<string, CitedTransaction>;
  /** Each event's proof, by its hash ID. */
  readonly events: ReadonlyMap<string, EventProof>;
}

/** Transactions read at once: a long history must not flood the node. */
const PARALLEL_READS = 4;

async function citedTransaction(txId: string, json: ReceiptJson | undefined, sources: ProvenanceSources): Promise<CitedTransaction> {
  if (json === undefined) return { ok: false, reason: 'no receipt' };
  let receipt: Receipt;
  try {
    receipt = receiptFromJson(json);
  } catch (e) {
    return { ok: false, reason: `receipt cannot be read: ${(e as Error).message}` };
  }
  if (receipt.txId !== txId) return { ok: false, reason: `receipt is that of transaction ${receipt.txId}` };
  const v = verifyReceipt(receipt, await sources.trust(receipt.chain, receipt.blockNumber));
  if (!v.ok) return v;
  let bytes: Uint8Array;
  try {
    bytes = await sources.transactionBytes(receipt.chain, txId);
  } catch (e) {
    return { ok: false, reason: `its bytes could not be read: ${(e as Error).message}` };
  }
  return { ok: true, receipt, recorded: recordedEvents(bytes, receipt) };
}

/**
 * Proves events of a provenance answer, as a client that trusts no node does: the receipt of
 * every transaction they need against the keys of its block, then each event against the
 * transactions that recorded and positioned it ({@link checkProvenanceEvent}). Every event gets
 * a verdict, so a page can mark each step.
 * @param events the events to prove (`provenanceEvents(answer.provenance)` for all of them)
 * @param proofs the answer's receipts by transaction id
 * @throws what `sources.trust` throws (a configuration that cannot be read)
 * @example const { events } = await proveEvents(answer.provenance.events, answer.proofs, sources)
 */
export async function proveEvents(events: readonly ProvenanceEvent[], proofs: Readonly<Record<string, ReceiptJson>>, sources: ProvenanceSources): Promise<EventsProof> {
  const needed = [...new Set(events.flatMap((e) => [e.txId, positioningTransaction(e)]))];
  const transactions = new Map<string, CitedTransaction>();
  let next = 0;
  const reader = async (): Promise<void> => {
    while (next < needed.length) {
      const txId = needed[next++] as string;
      transactions.set(txId, await citedTransaction(txId, proofs[txId], sources));
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, needed.length) }, reader));
  const verdicts = new Map<string, EventProof>();
  for (const e of events) {
    const recordedBy = transactions.get(e.txId) as CitedTransaction;
    const positionedBy = transactions.get(positioningTransaction(e)) as CitedTransaction;
    verdicts.set(e.hash, !recordedBy.ok ? recordedBy : !positionedBy.ok ? positionedBy : checkProvenanceEvent(e, recordedBy, positionedBy));
  }
  return { transactions, events: verdicts };
}

/** The outcome of {@link proveProvenance}: how much it proved, or the first event that does not check. */
export type ProvenanceProof =
  | { readonly ok: true; readonly receipts: number; readonly events: number }
  | { readonly ok: false; readonly reason: string; readonly txId: string; readonly hash: string };

/**
 * Proves a whole provenance answer: every event it returns (history, lot, lineage, declared
 * erroneous) with {@link proveEvents}. The SDK's `verifyProvenance` and the benchmark's label
 * checks run it.
 * @returns the counts proven, or the first event that does not check and why
 * @example const proof = await proveProvenance(answer, { trust: (c, b) => trustAt(c, b), transactionBytes: (c, tx) => client.transactionBytes(c, tx) })
 */
export async function proveProvenance(answer: ProvenanceWithProofs, sources: ProvenanceSources): Promise<ProvenanceProof> {
  const events = provenanceEvents(answer.provenance);
  const proof = await proveEvents(events, answer.proofs, sources);
  for (const e of events) {
    const verdict = proof.events.get(e.hash);
    if (verdict !== undefined && !verdict.ok) return { ok: false, reason: `event ${e.hash} of transaction ${e.txId}: ${verdict.reason}`, txId: e.txId, hash: e.hash };
  }
  return { ok: true, receipts: proof.transactions.size, events: events.length };
}
