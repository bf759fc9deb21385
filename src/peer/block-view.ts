/**
 * Readable views of committed blocks and transactions: what an explorer, the API and the CLI
 * show. Bytes become hex, creators and endorsers are named by the chain's membership, and each
 * transaction carries the validation code its peer stored.
 */
import { toHex } from '../crypto/hash.js';
import { decodeBlock } from '../ledger/block.js';
import type { JsonValue } from '../ledger/json-value.js';
import { VALIDATION_CODES, type ValidationCode } from '../errors.js';
import { computeTxId, decodeProposal } from '../ledger/proposal.js';
import { decodeEnvelope } from '../ledger/transaction.js';
import type { Peer } from './peer.js';
import { decodeTransactionShared } from './shared-decoding.js';

/** Who signed, as the chain knows the key now (`org`/`name` absent for a key it does not list). */
export interface SignerView {
  readonly key: string;
  readonly org?: string;
  readonly name?: string;
  readonly role?: string;
}

/** One transaction inside a block. */
export interface TransactionSummary {
  readonly index: number;
  /** Absent when the transaction does not decode (stored as MALFORMED). */
  readonly txId?: string;
  readonly code: ValidationCode;
  readonly contract?: string;
  readonly fn?: string;
  readonly creator?: SignerView;
  /** The proposal's timestamp (ms). */
  readonly timestamp?: number;
}

/** A block as the API shows it. */
export interface BlockView {
  readonly chain: string;
  readonly number: number;
  readonly hash: string;
  readonly previousHash: string;
  readonly dataHash: string;
  readonly timestamp: number;
  readonly orderer: string;
  /** The chained hash of the valid writes up to this block (hex). */
  readonly commitHash: string;
  /** The key of the peer that committed the block (hex, compressed). */
  readonly peer: string;
  /** That peer's signature over the block's commit statement: block hash, validation codes, commit hash (as in receipts). */
  readonly peerSignature: string;
  readonly sizeBytes: number;
  readonly transactions: readonly TransactionSummary[];
}

/** A transaction in full: what was proposed, what it read and wrote, and how it ended. */
export interface TransactionView extends TransactionSummary {
  readonly txId: string;
  readonly chain: string;
  readonly block: number;
  readonly args: JsonValue;
  readonly contractVersion: string;
  readonly endorsers: readonly SignerView[];
  readonly reads: readonly { readonly key: string; readonly version: { readonly block: number; readonly tx: number } | null }[];
  /** `policy`: the key-level endorsement policy the write sets for later writes of the key. */
  readonly writes: readonly { readonly key: string; readonly value: JsonValue | null; readonly policy?: string }[];
  readonly events: readonly { readonly name: string; readonly payload: JsonValue }[];
  readonly response: JsonValue | null;
}

function signerView(peer: Peer, chain: string, key: Uint8Array): SignerView {
  const id = peer.identity(chain, key);
  return id === undefined ? { key: toHex(key) } : { key: toHex(key), org: id.org, name: id.name, role: id.role };
}

function parseJson(text: string): JsonValue {
  return JSON.parse(text) as JsonValue;
}

/**
 * Describes a committed block.
 * @returns the view, or undefined when the peer has no such block
 * @throws SilkError UNKNOWN_CHAIN
 * @example const view = describeBlock(peer, 'trade', 5)
 */
export function describeBlock(peer: Peer, chain: string, n: number): BlockView | undefined {
  const stored = peer.store(chain).block(n);
  if (stored === undefined) return undefined;
  const block = decodeBlock(stored.bytes);
  // Only the envelope and proposal are decoded: the view shows who proposed what, not results.
  const transactions = block.txs.map((bytes, index): TransactionSummary => {
    const code = VALIDATION_CODES[stored.codes[index] ?? 255] ?? 'MALFORMED';
    try {
      const p = decodeProposal(decodeEnvelope(bytes).proposal);
      return { index, txId: computeTxId(p.nonce, p.creator), code, contract: p.contract, fn: p.fn, creator: signerView(peer, chain, p.creator), timestamp: p.ts };
    } catch {
      return { index, code };
    }
  });
  const h = block.header;
  return {
    chain,
    number: h.number,
    hash: toHex(stored.hash),
    previousHash: toHex(h.previousHash),
    dataHash: toHex(h.dataHash),
    timestamp: h.timestamp,
    orderer: toHex(h.orderer),
    commitHash: toHex(stored.commitHash),
    peer: toHex(peer.publicKey),
    peerSignature: toHex(stored.peerSignature),
    sizeBytes: stored.bytes.length,
    transactions,
  };
}

function envelopeAt(peer: Peer, chain: string, block: number, tx: number): Uint8Array | undefined {
  const stored = peer.store(chain).block(block);
  return stored === undefined ? undefined : decodeBlock(stored.bytes).txs[tx];
}

/**
 * A committed transaction's bytes exactly as ordered (its envelope), for a client that checks
 * them against the transaction's receipt (src/traceability/event-proof.ts).
 * @returns undefined when the transaction is not on this peer's ledger
 * @throws SilkError UNKNOWN_CHAIN
 * @example transactionBytes(peer, 'product', txId)
 */
export function transactionBytes(peer: Peer, chain: string, txId: string): Uint8Array | undefined {
  const status = peer.transactionStatus(chain, txId);
  return status === undefined ? undefined : envelopeAt(peer, chain, status.block, status.tx);
}

/**
 * Describes a committed transaction by id.
 * @returns the view, or undefined when the transaction is not on this peer's ledger
 * @throws SilkError UNKNOWN_CHAIN
 * @example const tx = describeTransaction(peer, 'trade', txId)
 */
export function describeTransaction(peer: Peer, chain: string, txId: string): TransactionView | undefined {
  const status = peer.transactionStatus(chain, txId);
  if (status === undefined) return undefined;
  const envelope = envelopeAt(peer, chain, status.block, status.tx);
  if (envelope === undefined) return undefined;
  const d = decodeTransactionShared(envelope);
  const r = d.result;
  return {
    index: status.tx,
    txId,
    chain,
    block: status.block,
    code: status.code,
    contract: d.proposal.contract,
    contractVersion: d.proposal.version,
    fn: d.proposal.fn,
    args: d.proposal.args,
    creator: signerView(peer, chain, d.proposal.creator),
    timestamp: d.proposal.ts,
    endorsers: d.envelope.endorsements.map((e) => signerView(peer, chain, e.endorser)),
    reads: r.reads.map((x) => ({ key: x.key, version: x.version })),
    writes: r.writes.map((w) => ({ key: w.key, value: w.value === null ? null : parseJson(w.value), ...(w.policy === undefined ? {} : { policy: w.policy }) })),
    events: r.events.map((e) => ({ name: e.name, payload: parseJson(e.payload) })),
    response: r.response === '' ? null : parseJson(r.response),
  };
}
