/**
 * Decoding shared by the peers of one process. Block bytes delivered by the orderer are the same
 * object for every peer of an embedded network, so the decoded block (and each decoded
 * envelope) is kept in a WeakMap keyed by those bytes and decoded once, not once per peer.
 * Decoding is a pure function of the bytes; every check (hashes, signatures, policies) still
 * runs at each peer on its own. Delivered bytes are never mutated after delivery.
 */
import { decodeBlock, type Block } from '../ledger/block.js';
import { decodeTransaction, type DecodedTransaction } from '../ledger/transaction.js';

const blocks = new WeakMap<Uint8Array, Block>();
const transactions = new WeakMap<Uint8Array, DecodedTransaction>();

/**
 * Decodes block bytes, reusing the result for the same bytes object.
 * @throws SilkError MALFORMED, PAYLOAD_TOO_LARGE (as {@link decodeBlock})
 */
export function decodeBlockShared(bytes: Uint8Array): Block {
  let b = blocks.get(bytes);
  if (b === undefined) {
    b = decodeBlock(bytes);
    blocks.set(bytes, b);
  }
  return b;
}

/**
 * Decodes envelope bytes, reusing the result for the same bytes object.
 * @throws SilkError MALFORMED, PAYLOAD_TOO_LARGE (as {@link decodeTransaction})
 */
export function decodeTransactionShared(bytes: Uint8Array): DecodedTransaction {
  let d = transactions.get(bytes);
  if (d === undefined) {
    d = decodeTransaction(bytes);
    transactions.set(bytes, d);
  }
  return d;
}
