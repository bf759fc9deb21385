/**
 * Transaction receipts: proof that a transaction is in a block the orderer signed, with the
 * validation code a named peer computed for it. `verifyReceipt` needs only the chain's public
 * keys at that height (the orderer's and the peer's), no ledger.
 */
import { encodeCanonical } from '../codec/canonical-cbor.js';
import { bytesEqual, fromHex, sha256, toHex } from '../crypto/hash.js';
import { verifyP256 } from '../crypto/p256.js';
import { SilkError, VALIDATION_CODES, type ValidationCode } from '../errors.js';
import type { ChainConfig } from './chain-config.js';
import { blockHash, decodeBlockHeader, encodeBlockHeader, txLeafHashes, type Block } from './block.js';
import { allInclusionProofs, merkleLeafHash, packInclusionPath, verifyInclusionProof } from './merkle.js';

/** What a peer signs after committing a block. */
export interface CommitStatement {
  readonly chain: string;
  readonly number: number;
  readonly blockHash: Uint8Array;
  readonly codes: Uint8Array;
  readonly commitHash: Uint8Array;
}

/** Canonical bytes a peer signs for a committed block. */
export function encodeCommitStatement(s: CommitStatement): Uint8Array {
  return encodeCanonical({ kind: 'silkledger/commit', chain: s.chain, number: s.number, blockHash: s.blockHash, codes: s.codes, commitHash: s.commitHash });
}

/** A receipt for one transaction. */
export interface Receipt {
  readonly chain: string;
  readonly txId: string;
  readonly blockNumber: number;
  readonly txIndex: number;
  readonly code: ValidationCode;
  /** SHA-256 of the envelope bytes (the Merkle leaf is H(0x00 ‖ envelope)). */
  readonly envelopeHash: Uint8Array;
  /** RFC 9162 leaf hash of the envelope. */
  readonly leafHash: Uint8Array;
  readonly treeSize: number;
  readonly path: readonly Uint8Array[];
  /** Canonical header bytes and the orderer's signature over them. */
  readonly header: Uint8Array;
  readonly ordererSignature: Uint8Array;
  /** The peer's commit statement parts and signature. */
  readonly codes: Uint8Array;
  readonly commitHash: Uint8Array;
  readonly peer: Uint8Array;
  readonly peerSignature: Uint8Array;
}

/** One transaction's part of its receipt, stored beside its block at commit. */
export interface TxProof {
  /** SHA-256 of the envelope bytes. */
  readonly envelopeHash: Uint8Array;
  /** RFC 9162 leaf hash of the envelope. */
  readonly leafHash: Uint8Array;
  /** The inclusion path, packed: 32-byte sibling hashes, nearest first (`unpackInclusionPath` splits it). */
  readonly path: Uint8Array;
}

/** What the receipts of one block need from the block itself, so serving them decodes nothing. */
export interface BlockProofs {
  /** Canonical header bytes: what the orderer signed and the inclusion paths lead to. */
  readonly header: Uint8Array;
  readonly ordererSignature: Uint8Array;
  /** One entry per transaction, in block order. */
  readonly txs: readonly TxProof[];
}

/**
 * Computes the receipt material of a block: every inclusion path from the leaf hashes (n − 1
 * node hashes for the whole block) and one SHA-256 per envelope.
 * @param block the decoded block
 * @param leaves its leaf hashes when already computed (the data hash check has them); hashed here otherwise
 * @throws SilkError INVALID_ARGUMENT when `leaves` does not have one hash per transaction
 * @example const proofs = computeBlockProofs(block, checked.leaves)
 */
export function computeBlockProofs(block: Block, leaves: readonly Uint8Array[] = txLeafHashes(block.txs), paths: readonly (readonly Uint8Array[])[] = allInclusionProofs(leaves)): BlockProofs {
  if (leaves.length !== block.txs.length || paths.length !== leaves.length) throw new SilkError('INVALID_ARGUMENT', `block ${block.header.number} has ${block.txs.length} transactions but ${leaves.length} leaf hashes and ${paths.length} paths were given`, { path: 'leaves' });
  const txs = block.txs.map((envelope, i): TxProof => ({ envelopeHash: sha256(envelope), leafHash: leaves[i] as Uint8Array, path: packInclusionPath(paths[i] as Uint8Array[]) }));
  return { header: encodeBlockHeader(block.header), ordererSignature: block.signature, txs };
}

/** The keys a verifier trusts for the chain at the receipt's height. */
export interface ReceiptTrust {
  /** Hex compressed keys of the chain's orderers. */
  readonly orderers: readonly string[];
  /** Hex compressed keys of the peers whose statements are accepted. */
  readonly peers: readonly string[];
}

/**
 * The keys a receipt of a chain may be signed with under a configuration: its orderers and the
 * peers of its orgs. Give it the configuration that governed the receipt's block
 * (`GET /api/chains/<chain>?at=<block>`), so a key rotated out since still vouches for it.
 * @example const { config } = await (await fetch(`${url}/api/chains/trade?at=${receipt.blockNumber}`)).json(); verifyReceipt(receipt, receiptTrust(config))
 */
export function receiptTrust(config: Pick<ChainConfig, 'orgs' | 'orderers'>): ReceiptTrust {
  const peers = Object.values(config.orgs).flatMap((o) => o.members.filter((m) => m.role === 'peer').map((m) => m.key));
  return { orderers: [...config.orderers], peers };
}

/** A chain's configuration as `GET /api/chains/<chain>?at=<block>` answers it: with the blocks it governs. */
export interface GoverningConfig {
  readonly config: Pick<ChainConfig, 'orgs' | 'orderers'>;
  /** From `from` up to `until` (exclusive; null while in force). Absent from older nodes: the configuration is then taken for its own block only. */
  readonly governs?: { readonly from: number; readonly until: number | null };
}

/**
 * Reads the configurations many receipts are checked with, each once: a receipt whose block lies
 * in the span of a configuration already read uses it, else the one at its block is read. Reads
 * of one chain go one at a time, so receipts checked together share them.
 * @param read reads the configuration that governed `block` of `chain` (e.g. `client.chain(chain, { at: block })`)
 * @returns the answer of `read` whose configuration governs `block` of `chain`
 * @example const configAt = governingConfigReader((c, b) => client.chain(c, { at: b })); verifyReceipt(r, receiptTrust((await configAt(r.chain, r.blockNumber)).config))
 */
export function governingConfigReader<T extends GoverningConfig>(read: (chain: string, block: number) => Promise<T>): (chain: string, block: number) => Promise<T> {
  const known: { readonly chain: string; readonly from: number; readonly until: number | null; readonly answer: T }[] = [];
  const reading = new Map<string, Promise<unknown>>();
  const covering = (chain: string, block: number): T | undefined =>
    known.find((k) => k.chain === chain && k.from <= block && (k.until === null || block < k.until))?.answer;
  return async (chain, block) => {
    for (let inFlight = reading.get(chain); ; inFlight = reading.get(chain)) {
      const answer = covering(chain, block);
      if (answer !== undefined) return answer;
      if (inFlight === undefined) break;
      await inFlight.catch(() => undefined);
    }
    const pending = read(chain, block);
    reading.set(chain, pending);
    try {
      const answer = await pending;
      const { governs } = answer;
      // A span that leaves out the block asked about is not taken: the configuration then serves that block only.
      const span = governs !== undefined && governs.from <= block && (governs.until === null || block < governs.until) ? governs : { from: block, until: block + 1 };
      known.push({ chain, from: span.from, until: span.until, answer });
      return answer;
    } finally {
      if (reading.get(chain) === pending) reading.delete(chain);
    }
  };
}

/** Result of {@link verifyReceipt}: `ok`, or the first check that failed. */
export type ReceiptVerification = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Checks a receipt: leaf inclusion under the header's data hash, the orderer's signature on the
 * header, the peer's signature on its commit statement, and the code at the tx's index.
 * @param receipt the receipt
 * @param trust the chain's orderer and peer keys at that height
 * @param envelope optionally the envelope bytes, to bind the receipt to them
 * @example const v = verifyReceipt(receipt, { orderers: [...], peers: [...] }); if (!v.ok) console.error(v.reason)
 */
export function verifyReceipt(receipt: Receipt, trust: ReceiptTrust, envelope?: Uint8Array): ReceiptVerification {
  let header;
  try {
    header = decodeBlockHeader(receipt.header);
  } catch {
    return { ok: false, reason: 'header does not decode' };
  }
  if (!bytesEqual(encodeBlockHeader(header), receipt.header)) return { ok: false, reason: 'header is not canonical' };
  if (header.chain !== receipt.chain || header.number !== receipt.blockNumber) return { ok: false, reason: 'header names another chain or block' };
  if (envelope !== undefined && (!bytesEqual(sha256(envelope), receipt.envelopeHash) || !bytesEqual(merkleLeafHash(envelope), receipt.leafHash))) {
    return { ok: false, reason: 'envelope does not match the receipt' };
  }
  let included: boolean;
  try {
    included = verifyInclusionProof({ leafHash: receipt.leafHash, index: receipt.txIndex, treeSize: receipt.treeSize, path: [...receipt.path], root: header.dataHash });
  } catch {
    included = false;
  }
  if (!included) return { ok: false, reason: 'inclusion proof does not lead to the block data hash' };
  if (!trust.orderers.includes(toHex(header.orderer))) return { ok: false, reason: 'block was cut by an orderer the chain does not list' };
  if (!verifyP256(header.orderer, receipt.header, receipt.ordererSignature)) return { ok: false, reason: 'orderer signature does not verify' };
  if (!trust.peers.includes(toHex(receipt.peer))) return { ok: false, reason: 'peer is not trusted on this chain' };
  const statement = encodeCommitStatement({ chain: receipt.chain, number: receipt.blockNumber, blockHash: blockHash(header), codes: receipt.codes, commitHash: receipt.commitHash });
  if (!verifyP256(receipt.peer, statement, receipt.peerSignature)) return { ok: false, reason: 'peer signature does not verify' };
  if (receipt.codes.length !== receipt.treeSize) return { ok: false, reason: 'code list does not match the block size' };
  const code = VALIDATION_CODES[receipt.codes[receipt.txIndex] ?? 255];
  if (code !== receipt.code) return { ok: false, reason: 'validation code differs from the peer statement' };
  return { ok: true };
}

/** A receipt as JSON: the same fields with bytes as hex. */
export interface ReceiptJson {
  readonly chain: string;
  readonly txId: string;
  readonly blockNumber: number;
  readonly txIndex: number;
  readonly code: ValidationCode;
  readonly envelopeHash: string;
  readonly leafHash: string;
  readonly treeSize: number;
  readonly path: readonly string[];
  readonly header: string;
  readonly ordererSignature: string;
  readonly codes: string;
  readonly commitHash: string;
  readonly peer: string;
  readonly peerSignature: string;
}

/**
 * Converts a receipt to JSON (bytes as hex).
 * @example reply.send({ receipt: receiptToJson(result.receipt) })
 */
export function receiptToJson(r: Receipt): ReceiptJson {
  return {
    chain: r.chain,
    txId: r.txId,
    blockNumber: r.blockNumber,
    txIndex: r.txIndex,
    code: r.code,
    envelopeHash: toHex(r.envelopeHash),
    leafHash: toHex(r.leafHash),
    treeSize: r.treeSize,
    path: r.path.map(toHex),
    header: toHex(r.header),
    ordererSignature: toHex(r.ordererSignature),
    codes: toHex(r.codes),
    commitHash: toHex(r.commitHash),
    peer: toHex(r.peer),
    peerSignature: toHex(r.peerSignature),
  };
}

function hexField(value: unknown, name: string): Uint8Array {
  if (typeof value !== 'string') throw new SilkError('MALFORMED', `receipt.${name} must be a hex string`, { path: `receipt.${name}` });
  try {
    return fromHex(value);
  } catch {
    throw new SilkError('MALFORMED', `receipt.${name} must be a hex string`, { path: `receipt.${name}` });
  }
}

function intField(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new SilkError('MALFORMED', `receipt.${name} must be a non-negative integer`, { path: `receipt.${name}` });
  return value;
}

/**
 * Reads a receipt from JSON, checking every field's type (the proofs are checked by {@link verifyReceipt}).
 * @throws SilkError MALFORMED naming the first bad field
 * @example const v = verifyReceipt(receiptFromJson(body.receipt), trust)
 */
export function receiptFromJson(json: unknown): Receipt {
  if (typeof json !== 'object' || json === null) throw new SilkError('MALFORMED', 'a receipt must be an object');
  const o = json as Record<string, unknown>;
  if (typeof o.chain !== 'string' || typeof o.txId !== 'string') throw new SilkError('MALFORMED', 'receipt.chain and receipt.txId must be strings');
  if (typeof o.code !== 'string' || !(VALIDATION_CODES as readonly string[]).includes(o.code)) throw new SilkError('MALFORMED', 'receipt.code must be a validation code', { path: 'receipt.code' });
  if (!Array.isArray(o.path)) throw new SilkError('MALFORMED', 'receipt.path must be an array of hex strings', { path: 'receipt.path' });
  return {
    chain: o.chain,
    txId: o.txId,
    blockNumber: intField(o.blockNumber, 'blockNumber'),
    txIndex: intField(o.txIndex, 'txIndex'),
    code: o.code as ValidationCode,
    envelopeHash: hexField(o.envelopeHash, 'envelopeHash'),
    leafHash: hexField(o.leafHash, 'leafHash'),
    treeSize: intField(o.treeSize, 'treeSize'),
    path: (o.path as unknown[]).map((p, i) => hexField(p, `path[${i}]`)),
    header: hexField(o.header, 'header'),
    ordererSignature: hexField(o.ordererSignature, 'ordererSignature'),
    codes: hexField(o.codes, 'codes'),
    commitHash: hexField(o.commitHash, 'commitHash'),
    peer: hexField(o.peer, 'peer'),
    peerSignature: hexField(o.peerSignature, 'peerSignature'),
  };
}
