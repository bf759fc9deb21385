/**
 * Decoding shared by the peers of one process. Block bytes delivered by the orderer are the same
 * object for every peer of an embedded network, so the decoded block (and each decoded
 * envelope) is kept in a WeakMap keyed by those bytes and decoded once, not once per peer.
 * Decoding is a pure function of the bytes; every check (hashes, signatures, policies) still
 * runs at each peer on its own. Delivered bytes are never mutated after delivery.
 */
import { decodeBlock, type Block } from '../ledger/block.js';
import { decodeTransaction, type DecodedTransaction } from '../ledger/transaction.js';

/** Wraps a pure decoder so the same bytes object is decoded once. */
function decodedOnce<T extends object>(decode: (bytes: Uint8Array) => T): (bytes: Uint8Array) => T {
  const cache = new WeakMap<Uint8Array, T>();
  return (bytes) => {
    let v = cache.get(bytes);
    if (v === undefined) {
      v = decode(bytes);
      cache.set(bytes, v);
    }
    return v;
  };
}

/**
 * Decodes block bytes, reusing the result for the same bytes object.
 * @throws SilkError MALFORMED, PAYLOAD_TOO_LARGE (as {@link decodeBlock})
 */
export const decodeBlockShared: (bytes: Uint8Array) => Block = decodedOnce(decodeBlock);

/**
 * Decodes envelope bytes, reusing the result for the same bytes object.
 * @throws SilkError MALFORMED, PAYLOAD_TOO_LARGE (as {@link decodeTransaction})
 */
export const decodeTransactionShared: (bytes: Uint8Array) => DecodedTransaction = decodedOnce(decodeTransaction);
