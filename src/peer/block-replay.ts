/**
 * Replaying a chain from its genesis block: each block checked in the hash chain (number,
 * previous hash, timestamp, Merkle root, orderer signature by an orderer of the configuration in
 * force), its transactions re-validated against the state replayed so far, its validation codes
 * and commit hash recomputed, and the block committed to a scratch ledger. The configurations and
 * registered identities the chain records are followed as they take effect, so every check of a
 * block uses the keys of its time, all derived from block 0.
 *
 * `silk verify` (ledger-verifier.ts) replays a peer's own file and compares what it stored;
 * `silk audit` (src/sdk/chain-audit.ts) replays blocks fetched from a node and compares what its
 * peer signed.
 */
import { toHex } from '../crypto/hash.js';
import { SilkError } from '../errors.js';
import { verifyP256 } from '../crypto/p256.js';
import { createInlineVerifier, type SignatureVerifier } from '../crypto/verify-pool.js';
import { createRegistryIdentityResolver } from '../identity/registry-identity-resolver.js';
import type { IdentityResolver } from '../identity/identity-resolver.js';
import { blockHash, decodeBlock, GENESIS_PREVIOUS_HASH, type Block } from '../ledger/block.js';
import type { ChainConfig } from '../ledger/chain-config.js';
import { computeCommitHash, encodeValidationCodes } from '../ledger/commit-hash.js';
import { computeBlockProofs, encodeCommitStatement, receiptTrust, type BlockProofs } from '../ledger/receipt.js';
import type { LedgerStore } from '../storage/sqlite-ledger-store.js';
import { checkBlock } from './block-checks.js';
import { validateBlock, type BlockValidation } from './block-validator.js';
import { feedIdentityWrites } from './identity-feed.js';

/** A block checked and re-validated, not yet committed to the replay. */
export interface ReplayedBlock {
  readonly block: Block;
  readonly bytes: Uint8Array;
  /** SHA-256 of the header's canonical bytes. */
  readonly hash: Uint8Array;
  /** The validation codes as the replay computed them, encoded as peers store and sign them. */
  readonly codes: Uint8Array;
  readonly validation: BlockValidation;
  /** The chained hash of the valid writes up to and including this block. */
  readonly commitHash: Uint8Array;
  readonly proofs: BlockProofs;
}

/** A chain being replayed block by block into a scratch ledger. */
export interface BlockReplay {
  /** The chain, named by block 0 once it has been read. */
  readonly chain: string | undefined;
  /** Blocks committed to the replay so far. */
  readonly height: number;
  /** The replay's configuration history and registered identities (the keys of each block's time). */
  readonly resolver: IdentityResolver;
  /**
   * Checks the next block and re-validates its transactions against the replayed state.
   * @returns the replayed block, or the first problem found (the replay does not move)
   */
  check(bytes: Uint8Array): Promise<ReplayedBlock | { readonly problem: string }>;
  /** Commits a checked block to the replay, with the peer signature stored beside it. */
  commit(r: ReplayedBlock, peerSignature: Uint8Array): void;
  /**
   * The problem with a peer's signature over a replayed block's commit statement (block hash,
   * validation codes, commit hash), or undefined when `peerKey` signed it. With `requirePeerRole`,
   * the key must also be that of a member with role `peer` in the configuration that governed the
   * block (the keys a receipt of the block is checked with, `receiptTrust`).
   */
  peerSignatureProblem(r: ReplayedBlock, peerKey: Uint8Array, peerSignature: Uint8Array, requirePeerRole: boolean): string | undefined;
}

/**
 * Starts a replay of one chain from block 0 into `scratch` (an empty ledger store).
 * @param scratch where the replayed blocks and state go
 * @param verifier the signature verifier for the blocks' transactions (default: inline)
 * @example const replay = createBlockReplay(openSqliteLedgerStore(file, { scratch: true })); const r = await replay.check(bytes)
 */
export function createBlockReplay(scratch: LedgerStore, verifier: SignatureVerifier = createInlineVerifier()): BlockReplay {
  const resolver = createRegistryIdentityResolver();
  let chain: string | undefined;
  let height = 0;
  let previousHash: Uint8Array = GENESIS_PREVIOUS_HASH;
  let previousTimestamp = 0;
  let previousCommit: Uint8Array = new Uint8Array(32);

  return {
    get chain() { return chain; },
    get height() { return height; },
    resolver,
    async check(bytes) {
      const n = height;
      let block: Block;
      try {
        block = decodeBlock(bytes);
      } catch (e) {
        return { problem: `does not decode: ${(e as Error).message}` };
      }
      chain ??= block.header.chain;
      const checked = checkBlock(block, { chain, number: n, previousHash, previousTimestamp }, resolver);
      if (checked.problem !== undefined) return { problem: checked.problem };
      const validation = await validateBlock({ block, store: scratch, resolver, verifier });
      if (n === 0 && validation.config === undefined) return { problem: 'the genesis block carries no valid configuration' };
      const codes = encodeValidationCodes(validation.codes);
      const commitHash = computeCommitHash(previousCommit, n, codes, validation.writes);
      return { block, bytes, hash: blockHash(block.header), codes, validation, commitHash, proofs: computeBlockProofs(block, checked.leaves, checked.paths) };
    },
    commit(r, peerSignature) {
      const n = r.block.header.number;
      if (n !== height) throw new SilkError('INTERNAL', `block ${n} is not the next block of the replay (height ${height})`);
      scratch.commit({ number: n, hash: r.hash, bytes: r.bytes, codes: r.codes, commitHash: r.commitHash, peerSignature, timestamp: r.block.header.timestamp, txIndex: r.validation.txIndex, writes: r.validation.writes, proofs: r.proofs });
      const config: ChainConfig | undefined = r.validation.config;
      if (config !== undefined) resolver.addConfig(n, config);
      feedIdentityWrites(resolver, n, r.validation.writes);
      previousHash = r.hash;
      previousTimestamp = r.block.header.timestamp;
      previousCommit = r.commitHash;
      height = n + 1;
    },
    peerSignatureProblem(r, peerKey, peerSignature, requirePeerRole) {
      const { header } = r.block;
      if (requirePeerRole) {
        // The configuration that governed the block: the genesis block's own, else the one in force.
        const config = header.number === 0 ? r.validation.config : resolver.configAt(header.number);
        if (config === undefined || !receiptTrust(config).peers.includes(toHex(peerKey))) return `key ${toHex(peerKey)} is not a peer of chain ${header.chain} at block ${header.number}`;
      }
      const statement = encodeCommitStatement({ chain: header.chain, number: header.number, blockHash: r.hash, codes: r.codes, commitHash: r.commitHash });
      return verifyP256(peerKey, statement, peerSignature) ? undefined : "the peer's commit signature does not verify";
    },
  };
}
