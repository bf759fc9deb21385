/**
 * The form a block commit travels in to a ledger writer thread (src/storage/ledger-writer-pool.ts).
 *
 * A commit's receipt material holds three small byte strings per transaction (envelope hash, leaf
 * hash, inclusion path). Posted as they are, each is cloned as an ArrayBuffer of its own on both
 * sides: about 0.5 ms of CPU for a block of 90 transactions, most of the cost of the message. Here
 * they travel packed in one buffer, moved to the writer thread rather than copied, and the writer
 * reads them back as views of it.
 *
 * Packed layout, per transaction in block order: envelope hash (32 bytes), leaf hash (32 bytes),
 * the number of hashes in its inclusion path (1 byte), then those hashes (32 bytes each).
 */
import { SilkError } from '../errors.js';
import { MERKLE_HASH_LENGTH as HASH } from '../ledger/merkle.js';
import type { TxProof } from '../ledger/receipt.js';
import type { BlockCommit } from './sqlite-ledger-store.js';

/** Hashes of an inclusion path that one byte can count; a tree of 2^255 leaves is far off. */
const MAX_PATH_HASHES = 255;

/** A commit as posted to a writer thread: everything but the receipt paths as they are. */
export interface CommitMessage extends Omit<BlockCommit, 'proofs'> {
  readonly proofs: { readonly header: Uint8Array; readonly ordererSignature: Uint8Array; readonly packed: Uint8Array; readonly count: number };
}

/**
 * Packs a commit for its writer thread.
 * @returns the message and the buffer to move with it (the caller keeps `c` as it was)
 * @throws SilkError INTERNAL when a hash is not 32 bytes or a path is not whole hashes
 * @example const { message, transfer } = toCommitMessage(c); worker.postMessage({ commit: message }, transfer)
 */
export function toCommitMessage(c: BlockCommit): { message: CommitMessage; transfer: ArrayBuffer[] } {
  const txs = c.proofs.txs;
  let size = 0;
  for (const t of txs) size += 2 * HASH + 1 + t.path.length;
  const packed = new Uint8Array(size);
  let at = 0;
  txs.forEach((t, i) => {
    const hashes = t.path.length / HASH;
    if (t.envelopeHash.length !== HASH || t.leafHash.length !== HASH || !Number.isInteger(hashes) || hashes > MAX_PATH_HASHES) {
      throw new SilkError('INTERNAL', `block ${c.number}, tx ${i}: receipt material is not whole 32-byte hashes`, { block: c.number, tx: i });
    }
    packed.set(t.envelopeHash, at);
    packed.set(t.leafHash, at + HASH);
    packed[at + 2 * HASH] = hashes;
    packed.set(t.path, at + 2 * HASH + 1);
    at += 2 * HASH + 1 + t.path.length;
  });
  const message: CommitMessage = { ...c, proofs: { header: c.proofs.header, ordererSignature: c.proofs.ordererSignature, packed, count: txs.length } };
  return { message, transfer: [packed.buffer] };
}

/**
 * The commit a writer thread received, its receipt material as views of the packed buffer.
 * @throws SilkError INTERNAL when the packed buffer does not hold `count` whole entries
 */
export function fromCommitMessage(m: CommitMessage): BlockCommit {
  const { packed, count } = m.proofs;
  const txs: TxProof[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const pathAt = at + 2 * HASH + 1;
    if (pathAt > packed.length) break;
    const end = pathAt + (packed[at + 2 * HASH] as number) * HASH;
    if (end > packed.length) break;
    txs.push({ envelopeHash: packed.subarray(at, at + HASH), leafHash: packed.subarray(at + HASH, at + 2 * HASH), path: packed.subarray(pathAt, end) });
    at = end;
  }
  if (txs.length !== count || at !== packed.length) {
    throw new SilkError('INTERNAL', `block ${m.number}: the receipt material of ${count} transactions does not unpack from ${packed.length} bytes`, { block: m.number });
  }
  return { ...m, proofs: { header: m.proofs.header, ordererSignature: m.proofs.ordererSignature, txs } };
}
