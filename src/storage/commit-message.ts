/**
 * The form a block commit travels in to a ledger writer thread (src/storage/ledger-writer-pool.ts).
 *
 * A commit is posted in its stored form (ledger-commit.ts `StoredCommit`): the receipt material
 * is one buffer of envelope and leaf hashes (receipt-hashes.ts), which is moved to the writer
 * thread rather than copied. (Posted as per-transaction byte strings, each would be cloned as an
 * ArrayBuffer of its own on both sides: about 0.5 ms of CPU for a block of 90 transactions.)
 */
import { SilkError } from '../errors.js';
import type { StoredCommit } from './ledger-commit.js';
import { RECEIPT_HASHES_PER_TX } from './receipt-hashes.js';

/** A commit as posted to a writer thread. */
export type CommitMessage = StoredCommit;

/**
 * Prepares a commit for its writer thread.
 * @returns the message and the buffer to move with it (it is detached here once posted)
 * @throws SilkError INTERNAL when the hashes do not own their whole buffer (they could not be moved alone)
 * @example const { message, transfer } = toCommitMessage(toStoredCommit(c)); worker.postMessage({ commit: message }, transfer)
 */
export function toCommitMessage(c: StoredCommit): { message: CommitMessage; transfer: ArrayBuffer[] } {
  const { hashes } = c.receipts;
  if (hashes.byteOffset !== 0 || hashes.byteLength !== hashes.buffer.byteLength || !(hashes.buffer instanceof ArrayBuffer)) {
    throw new SilkError('INTERNAL', `block ${c.number}: the receipt hashes share their buffer and cannot be moved to the writer thread`, { block: c.number });
  }
  return { message: c, transfer: [hashes.buffer] };
}

/**
 * The commit a writer thread received, checked: one envelope and leaf hash per transaction.
 * @throws SilkError INTERNAL when the hashes are not one pair of 32-byte hashes per transaction
 */
export function fromCommitMessage(m: CommitMessage): StoredCommit {
  const { hashes } = m.receipts;
  if (!(hashes instanceof Uint8Array) || hashes.length !== m.codes.length * RECEIPT_HASHES_PER_TX) {
    throw new SilkError('INTERNAL', `block ${m.number}: the receipt material of ${m.codes.length} transactions is ${hashes instanceof Uint8Array ? hashes.length : 'not'} bytes, not ${m.codes.length * RECEIPT_HASHES_PER_TX}`, { block: m.number });
  }
  return m;
}
