/**
 * How a ledger stores its blocks' receipt material: per block, one byte string with each
 * transaction's envelope hash and leaf hash (64 bytes a transaction, in block order), beside the
 * header, the orderer's signature and the commit statement parts (`receipt_blocks`). Inclusion
 * paths are not stored: a receipt read from disk derives its path from the block's leaf hashes
 * (n − 1 node hashes for a block of n transactions: about 0.2 ms a receipt, row read included, for
 * blocks of 70 on the development machine), and a receipt asked for right after its commit comes
 * from the store's memory without any hashing.
 *
 * Until schema version 4 each transaction had a row of its own with its packed path (about 310
 * bytes a transaction, a quarter of a ledger file); receipt-migration.ts converts those ledgers.
 */
import { SilkError } from '../errors.js';
import { allInclusionProofs, inclusionProof, MERKLE_HASH_LENGTH as HASH, packInclusionPath } from '../ledger/merkle.js';
import type { BlockProofs, TxProof } from '../ledger/receipt.js';

/** Bytes a transaction takes in the stored form: envelope hash and leaf hash. */
export const RECEIPT_HASHES_PER_TX = 2 * HASH;

/** A block's receipt material in its stored form. */
export interface StoredReceiptMaterial {
  /** Canonical header bytes. */
  readonly header: Uint8Array;
  readonly ordererSignature: Uint8Array;
  /** Envelope hash ‖ leaf hash per transaction, in block order ({@link packReceiptHashes}). */
  readonly hashes: Uint8Array;
}

/** One transaction's envelope hash and leaf hash. */
export interface TxHashes {
  readonly envelopeHash: Uint8Array;
  readonly leafHash: Uint8Array;
}

/**
 * Packs a block's envelope and leaf hashes into one new buffer of its own (so it can be moved
 * to another thread).
 * @throws SilkError INTERNAL when a hash is not 32 bytes
 * @example const hashes = packReceiptHashes(proofs.txs, 7) // 64 bytes a transaction of block 7
 */
export function packReceiptHashes(txs: readonly TxHashes[], block: number): Uint8Array {
  const packed = new Uint8Array(txs.length * RECEIPT_HASHES_PER_TX);
  txs.forEach((t, i) => {
    if (t.envelopeHash.length !== HASH || t.leafHash.length !== HASH) {
      throw new SilkError('INTERNAL', `block ${block}, tx ${i}: receipt material is not whole 32-byte hashes`, { block, tx: i });
    }
    packed.set(t.envelopeHash, i * RECEIPT_HASHES_PER_TX);
    packed.set(t.leafHash, i * RECEIPT_HASHES_PER_TX + HASH);
  });
  return packed;
}

/** The stored form of a block's receipt material. @throws SilkError INTERNAL as {@link packReceiptHashes} */
export function storedReceiptMaterial(number: number, proofs: BlockProofs): StoredReceiptMaterial {
  return { header: proofs.header, ordererSignature: proofs.ordererSignature, hashes: packReceiptHashes(proofs.txs, number) };
}

/**
 * Splits stored hashes into each transaction's pair (views of `packed`).
 * @param count the block's transaction count (its code list's length)
 * @throws SilkError LEDGER_CORRUPT when `packed` is not `count` pairs of 32-byte hashes
 */
export function unpackReceiptHashes(packed: Uint8Array, count: number, block: number): TxHashes[] {
  if (packed.length !== count * RECEIPT_HASHES_PER_TX) {
    throw new SilkError('LEDGER_CORRUPT', `the stored receipt hashes of block ${block} are ${packed.length} bytes, not ${count} × ${RECEIPT_HASHES_PER_TX} for its ${count} transactions`, { block });
  }
  const txs: TxHashes[] = [];
  for (let at = 0; at < packed.length; at += RECEIPT_HASHES_PER_TX) {
    txs.push({ envelopeHash: packed.subarray(at, at + HASH), leafHash: packed.subarray(at + HASH, at + RECEIPT_HASHES_PER_TX) });
  }
  return txs;
}

/**
 * One transaction's hashes and inclusion path, derived from its block's stored hashes.
 * @throws SilkError LEDGER_CORRUPT as {@link unpackReceiptHashes}, or when `tx` is not in the block
 */
export function storedTxProof(packed: Uint8Array, count: number, block: number, tx: number): { readonly hashes: TxHashes; readonly path: Uint8Array[] } {
  const txs = unpackReceiptHashes(packed, count, block);
  const hashes = txs[tx];
  if (hashes === undefined) throw new SilkError('LEDGER_CORRUPT', `the tx index names tx ${tx} of block ${block}, which has ${count}`, { block });
  return { hashes, path: inclusionProof(txs.map((t) => t.leafHash), tx) };
}

/**
 * Every transaction's receipt material of a block, paths derived from the stored leaf hashes.
 * @throws SilkError LEDGER_CORRUPT as {@link unpackReceiptHashes}
 */
export function storedTxProofs(packed: Uint8Array, count: number, block: number): TxProof[] {
  const txs = unpackReceiptHashes(packed, count, block);
  const paths = allInclusionProofs(txs.map((t) => t.leafHash));
  return txs.map((t, i) => ({ envelopeHash: t.envelopeHash, leafHash: t.leafHash, path: packInclusionPath(paths[i] as Uint8Array[]) }));
}
