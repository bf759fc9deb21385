/**
 * Blocks: a header (number, previous hash, Merkle root of the transactions, orderer timestamp,
 * orderer key) signed by the orderer that cut it, and the transactions' envelope bytes.
 */
import { decodeCanonical, encodeCanonical } from '../codec/canonical-cbor.js';
import { onlyFields, readArray, readBytes, readMap, readString, readUint, readVersion } from '../codec/shape.js';
import { sha256 } from '../crypto/hash.js';
import type { Signer } from '../crypto/p256.js';
import { merkleLeafHash, merkleRootFromLeafHashes } from './merkle.js';
import { MAX_ENVELOPE_BYTES } from './transaction.js';

/** Format version of block headers and blocks. */
export const BLOCK_FORMAT_VERSION = 1;
/** Largest encoded block accepted. */
export const MAX_BLOCK_BYTES = 64 * 1024 * 1024;
/** The previous hash of block 0. */
export const GENESIS_PREVIOUS_HASH = new Uint8Array(32);

/** What the orderer signs. */
export interface BlockHeader {
  readonly v: number;
  readonly chain: string;
  readonly number: number;
  readonly previousHash: Uint8Array;
  /** RFC 9162 Merkle root over the transactions' leaf hashes. */
  readonly dataHash: Uint8Array;
  /** Orderer time in ms; never less than the previous block's. */
  readonly timestamp: number;
  /** Compressed public key of the orderer that cut the block. */
  readonly orderer: Uint8Array;
}

/** A block as delivered to peers. */
export interface Block {
  readonly header: BlockHeader;
  readonly signature: Uint8Array;
  readonly txs: readonly Uint8Array[];
}

/** Canonical bytes of a header. */
export function encodeBlockHeader(h: BlockHeader): Uint8Array {
  return encodeCanonical({ v: h.v, chain: h.chain, number: h.number, previousHash: h.previousHash, dataHash: h.dataHash, timestamp: h.timestamp, orderer: h.orderer });
}

/** Block hash = SHA-256 of the header's canonical bytes. */
export function blockHash(h: BlockHeader): Uint8Array {
  return sha256(encodeBlockHeader(h));
}

/** Leaf hashes of a block's transactions (RFC 9162 leaves over the envelope bytes). */
export function txLeafHashes(txs: readonly Uint8Array[]): Uint8Array[] {
  return txs.map((t) => merkleLeafHash(t));
}

/** Parameters of {@link createBlock}. */
export interface CreateBlockParameters {
  readonly chain: string;
  readonly number: number;
  readonly previousHash: Uint8Array;
  readonly timestamp: number;
  readonly txs: readonly Uint8Array[];
}

/**
 * Builds and signs a block.
 * @param params chain, number, previous hash, timestamp and transactions
 * @param orderer the orderer's signing key
 * @example createBlock({ chain: 'trade', number: 1, previousHash, timestamp: Date.now(), txs }, ordererSigner)
 */
export function createBlock(params: CreateBlockParameters, orderer: Signer): Block {
  const header: BlockHeader = {
    v: BLOCK_FORMAT_VERSION,
    chain: params.chain,
    number: params.number,
    previousHash: params.previousHash,
    dataHash: merkleRootFromLeafHashes(txLeafHashes(params.txs)),
    timestamp: params.timestamp,
    orderer: orderer.publicKey,
  };
  return { header, signature: orderer.sign(encodeBlockHeader(header)), txs: params.txs };
}

/** Canonical bytes of a whole block. */
export function encodeBlock(b: Block): Uint8Array {
  return encodeCanonical({ header: encodeBlockHeader(b.header), signature: b.signature, txs: b.txs as Uint8Array[] });
}

/**
 * Decodes a header's bytes.
 * @throws SilkError MALFORMED naming the failing field
 */
export function decodeBlockHeader(bytes: Uint8Array): BlockHeader {
  const m = readMap(decodeCanonical(bytes, { maxBytes: 4096, maxDepth: 2, maxItems: 16 }), 'header');
  onlyFields(m, 'header', ['v', 'chain', 'number', 'previousHash', 'dataHash', 'timestamp', 'orderer']);
  return {
    v: readVersion(m.v, 'header.v', BLOCK_FORMAT_VERSION),
    chain: readString(m.chain, 'header.chain', 64, 1),
    number: readUint(m.number, 'header.number'),
    previousHash: readBytes(m.previousHash, 'header.previousHash', 32),
    dataHash: readBytes(m.dataHash, 'header.dataHash', 32),
    timestamp: readUint(m.timestamp, 'header.timestamp'),
    orderer: readBytes(m.orderer, 'header.orderer', 33),
  };
}

/**
 * Decodes a block's bytes (structure only: hashes and signature are checked by the peer).
 * @throws SilkError MALFORMED naming the failing field; PAYLOAD_TOO_LARGE when oversize
 */
export function decodeBlock(bytes: Uint8Array): Block {
  const m = readMap(decodeCanonical(bytes, { maxBytes: MAX_BLOCK_BYTES, maxDepth: 3, maxItems: 100_000 }), 'block');
  onlyFields(m, 'block', ['header', 'signature', 'txs']);
  return {
    header: decodeBlockHeader(readBytes(m.header, 'block.header', undefined, 4096)),
    signature: readBytes(m.signature, 'block.signature', 64),
    txs: readArray(m.txs, 'block.txs', 100_000).map((t, i) => readBytes(t, `block.txs[${i}]`, undefined, MAX_ENVELOPE_BYTES)),
  };
}
