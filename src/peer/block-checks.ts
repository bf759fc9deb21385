/**
 * The checks a block must pass before its transactions are validated: its place in the hash
 * chain, a timestamp that never goes backwards, a data hash that is the Merkle root of its
 * transactions, and a signature by an orderer the chain lists. Peers run them on delivery and
 * `silk verify` on every stored block.
 */
import { bytesEqual, toHex } from '../crypto/hash.js';
import { verifyP256 } from '../crypto/p256.js';
import type { IdentityResolver } from '../identity/identity-resolver.js';
import { encodeBlockHeader, txLeafHashes, type Block } from '../ledger/block.js';
import { merkleRootAndProofs } from '../ledger/merkle.js';

/** Where the block must fit: the chain, the number expected and the previous block's hash and time. */
export interface ChainTip {
  readonly chain: string;
  readonly number: number;
  readonly previousHash: Uint8Array;
  readonly previousTimestamp: number;
}

/** The outcome: the first problem found, or the block's leaf hashes and inclusion paths (stored for receipts). */
export type BlockCheck = { readonly problem: string } | { readonly problem?: undefined; readonly leaves: Uint8Array[]; readonly paths: Uint8Array[][] };

/**
 * Checks a decoded block against the chain's tip and its orderers.
 * @param block the decoded block
 * @param tip where it must fit
 * @param resolver the chain's configuration history (orderer keys for blocks after 0)
 */
export function checkBlock(block: Block, tip: ChainTip, resolver: IdentityResolver): BlockCheck {
  const h = block.header;
  if (h.chain !== tip.chain) return { problem: `names chain ${h.chain}, expected ${tip.chain}` };
  if (h.number !== tip.number) return { problem: `expected block ${tip.number}` };
  if (!bytesEqual(h.previousHash, tip.previousHash)) return { problem: 'previous hash does not match the hash chain' };
  if (h.timestamp < tip.previousTimestamp) return { problem: 'timestamp goes backwards' };
  const leaves = txLeafHashes(block.txs);
  // One pass over the tree gives the root to check and every receipt path to store.
  const tree = merkleRootAndProofs(leaves);
  if (!bytesEqual(tree.root, h.dataHash)) return { problem: 'data hash is not the Merkle root of its transactions' };
  if (tip.number > 0 && !resolver.configAt(tip.number).orderers.includes(toHex(h.orderer))) return { problem: 'cut by an orderer the chain does not list' };
  if (!verifyP256(h.orderer, encodeBlockHeader(h), block.signature)) return { problem: 'orderer signature does not verify' };
  return { leaves, paths: tree.proofs };
}
