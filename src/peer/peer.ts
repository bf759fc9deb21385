/**
 * A peer: keeps one ledger per chain it has joined, endorses proposals by simulating contracts
 * against committed state, validates and commits the blocks the orderer delivers, and serves
 * queries, receipts and block/contract event subscriptions that resume from a block number.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { bytesEqual, sha256, toHex } from '../crypto/hash.js';
import { verifyP256, type Signer } from '../crypto/p256.js';
import type { SignatureVerifier } from '../crypto/verify-pool.js';
import type { Contract, CreatorIdentity, KeyModification, Page, PageRequest, RichQuery, StateEntry } from '../contracts/framework/contract.js';
import { ContractRefusal, hasAuthority } from '../contracts/framework/contract.js';
import { EndorseError, SilkError, VALIDATION_CODES, type ValidationCode } from '../errors.js';
import type { ConfigSpan, ResolvedIdentity } from '../identity/identity-resolver.js';
import { createRegistryIdentityResolver, type RegistryIdentityResolver } from '../identity/registry-identity-resolver.js';
import { feedIdentityWrites, rebuildIdentityRegistry } from './identity-feed.js';
import { blockHash, decodeBlock, GENESIS_PREVIOUS_HASH, type Block } from '../ledger/block.js';
import { CONFIG_KEY, CONFIG_NAMESPACE, validateChainConfig, type ChainConfig } from '../ledger/chain-config.js';
import type { JsonValue } from '../ledger/json-value.js';
import { decodeProposal, computeTxId, type Proposal } from '../ledger/proposal.js';
import { computeBlockProofs, encodeCommitStatement, type Receipt } from '../ledger/receipt.js';
import { encodeTxResult, TX_FORMAT_VERSION, type Endorsement, type KeyWrite, type TxResult } from '../ledger/transaction.js';
import { indexDdl } from '../storage/mango-query.js';
import { openSqliteLedgerStore, type LedgerStore, type StoredReceipt } from '../storage/sqlite-ledger-store.js';
import { validateBlock, type CommittedEvents } from './block-validator.js';
import { computeCommitHash, encodeValidationCodes } from '../ledger/commit-hash.js';
import { checkBlock } from './block-checks.js';
import { decodeBlockShared, decodeTransactionShared } from './shared-decoding.js';
import { createSimulationContext } from './simulator.js';

/** A committed block as subscribers see it. */
export interface CommittedBlock {
  readonly chain: string;
  readonly number: number;
  readonly hash: string;
  readonly timestamp: number;
  readonly txIds: readonly (string | undefined)[];
  readonly codes: readonly ValidationCode[];
  readonly commitHash: string;
  readonly events: readonly CommittedEvents[];
}

/** A proposal and its creator's signature, as a client sends them. */
export interface SignedProposalBytes {
  readonly bytes: Uint8Array;
  readonly signature: Uint8Array;
}

/** An endorsement response: the result bytes, the endorser's signature and the decoded response. */
export interface EndorsementResponse {
  readonly txId: string;
  readonly result: Uint8Array;
  readonly endorsement: Endorsement;
  readonly response: JsonValue | undefined;
  /**
   * The writes of `result` as the simulation made them: a peer of this process hands them over
   * so the gateway plans for their policies without decoding `result` again; a remote
   * endorsement carries the bytes only.
   */
  readonly writes?: readonly KeyWrite[];
}

/** Status of a transaction by id. */
export interface TransactionStatus {
  readonly txId: string;
  readonly block: number;
  readonly tx: number;
  readonly code: ValidationCode;
}

/** Options of {@link createPeer}. */
export interface PeerOptions {
  readonly name: string;
  readonly org: string;
  readonly signer: Signer;
  /** Folder of this peer's ledgers (one SQLite file per chain). */
  readonly dataDir: string;
  /** Contracts installed on this peer, by name. */
  readonly contracts: readonly Contract[];
  readonly verifier: SignatureVerifier;
  readonly logger?: Logger;
}

/** A peer. */
export interface Peer {
  readonly name: string;
  readonly org: string;
  readonly publicKey: Uint8Array;
  /** Chains this peer has joined. */
  chains(): string[];
  /** Joins a chain from its genesis block (or reopens it if already joined). */
  joinChain(genesis: Uint8Array): Promise<void>;
  /** Endorses a proposal. @throws EndorseError */
  endorse(signed: SignedProposalBytes): EndorsementResponse;
  /** Runs a query function without endorsing it. @throws EndorseError */
  evaluate(signed: SignedProposalBytes): JsonValue | undefined;
  /** Hands a block to the peer; blocks are committed one at a time in order. @throws SilkError BAD_BLOCK */
  deliver(block: Uint8Array): Promise<CommittedBlock>;
  height(chain: string): number;
  /** The configuration in force on a chain now. */
  config(chain: string): ChainConfig;
  /** The configuration that governed block `height` (for checking an old receipt with the keys of its time). */
  configAt(chain: string, height: number): ChainConfig;
  /** That configuration with the blocks it governs, so a client checking many receipts reads it once. */
  configSpanAt(chain: string, height: number): ConfigSpan;
  /** Who a key is on a chain now (org, role, name), or undefined for a non-member. */
  identity(chain: string, key: Uint8Array): ResolvedIdentity | undefined;
  /** The chain's identity resolver (configured members and registered keys), for status displays. */
  identities(chain: string): RegistryIdentityResolver;
  /** Raw stored block bytes. */
  blockBytes(chain: string, n: number): Uint8Array | undefined;
  /** A committed block's summary. */
  committedBlock(chain: string, n: number): CommittedBlock | undefined;
  transactionStatus(chain: string, txId: string): TransactionStatus | undefined;
  /** A committed transaction's receipt, read from what the commit stored (no block decoding, no hashing); undefined for an unknown id. */
  receipt(chain: string, txId: string): Receipt | undefined;
  /** The ledger store of a chain (for queries, verification and backup). */
  store(chain: string): LedgerStore;
  /** Read access to a contract's committed state on a chain. @throws SilkError UNKNOWN_CHAIN, UNKNOWN_CONTRACT */
  reader(chain: string, contract: string): LedgerReader;
  /** Subscribes to committed blocks from `fromBlock` on: stored ones first, then live ones. */
  subscribe(chain: string, fromBlock: number, listener: (b: CommittedBlock) => void): () => void;
  close(): Promise<void>;
}

/** A stored state value with the version (block, tx) that wrote it. */
export interface VersionedValue {
  readonly key: string;
  readonly value: JsonValue;
  readonly version: { readonly block: number; readonly tx: number };
}

/** Read access to one contract's committed state, paginated as contracts see it. */
export interface LedgerReader {
  entry(key: string): VersionedValue | undefined;
  range(start: string, end: string, page?: PageRequest): Page<StateEntry>;
  query(query: RichQuery, page?: PageRequest): Page<StateEntry>;
  history(key: string, options?: PageRequest & { readonly order?: 'asc' | 'desc' }): Page<KeyModification>;
}

/** How often a peer retries the blocks it could not commit because the disk was full. */
const DISK_FULL_RETRY_MS = 1000;
/** Blocks a peer holds in memory while its disk is full; later ones wait for a restart's catch-up. */
const MAX_HELD_BLOCKS = 256;

interface ChainLedger {
  readonly store: LedgerStore;
  readonly resolver: RegistryIdentityResolver;
  readonly listeners: Set<(b: CommittedBlock) => void>;
  queue: Promise<unknown>;
  /** Blocks refused for a full disk, in order: committed before any later block, and retried. */
  readonly held: Uint8Array[];
  retryTimer: NodeJS.Timeout | undefined;
  lastHash: Uint8Array;
  lastTimestamp: number;
  lastCommitHash: Uint8Array;
}

const ZERO32 = new Uint8Array(32);

/** Which stored code indexes map to which codes. */
function codesOf(bytes: Uint8Array): ValidationCode[] {
  return [...bytes].map((i) => VALIDATION_CODES[i] ?? 'MALFORMED');
}

/**
 * Creates a peer over its data folder.
 * @example const peer = createPeer({ name: 'peer0.org1', org: 'Org1', signer, dataDir, contracts: [new BasicContract()], verifier })
 */
export function createPeer(options: PeerOptions): Peer {
  const ledgers = new Map<string, ChainLedger>();
  const contracts = new Map(options.contracts.map((c) => [c.name, c]));
  mkdirSync(options.dataDir, { recursive: true });
  let closed = false;

  const ledger = (chain: string): ChainLedger => {
    const l = ledgers.get(chain);
    if (l === undefined) throw new SilkError('UNKNOWN_CHAIN', `peer ${options.name} has not joined chain ${chain}`, { chain });
    return l;
  };

  const summary = (chain: string, l: ChainLedger, n: number): CommittedBlock | undefined => {
    const stored = l.store.block(n);
    if (stored === undefined) return undefined;
    const block = decodeBlock(stored.bytes);
    const codes = codesOf(stored.codes);
    const txIds: (string | undefined)[] = [];
    const events: CommittedEvents[] = [];
    block.txs.forEach((bytes, i) => {
      try {
        const d = decodeTransactionShared(bytes);
        txIds.push(d.txId);
        if (codes[i] === 'VALID' && d.result.events.length > 0) events.push({ txId: d.txId, tx: i, contract: d.result.contract, events: d.result.events });
      } catch {
        txIds.push(undefined);
      }
    });
    return { chain, number: n, hash: toHex(stored.hash), timestamp: stored.timestamp, txIds, codes, commitHash: toHex(stored.commitHash), events };
  };

  const installIndexes = (l: ChainLedger): void => {
    for (const c of contracts.values()) for (const idx of c.indexes) l.store.exec(indexDdl(c.name, idx));
  };

  const applyBlock = async (chain: string, l: ChainLedger, bytes: Uint8Array, expected: number): Promise<CommittedBlock> => {
    let block: Block;
    try {
      block = decodeBlockShared(bytes);
    } catch (e) {
      throw new SilkError('BAD_BLOCK', `block for ${chain} does not decode: ${(e as Error).message}`, {}, { cause: e });
    }
    // A block delivered again (a follower resuming, a second source) is a no-op when it is
    // exactly the stored one.
    if (block.header.chain === chain && block.header.number < expected) {
      const stored = l.store.block(block.header.number);
      const again = stored !== undefined && bytesEqual(stored.hash, blockHash(block.header)) && bytesEqual(stored.bytes, bytes);
      if (!again) throw new SilkError('BAD_BLOCK', `block ${block.header.number} of ${chain} differs from the one this peer committed (expected block ${expected})`, { block: block.header.number });
      return summary(chain, l, block.header.number) as CommittedBlock;
    }
    const checked = checkBlock(block, { chain, number: expected, previousHash: expected === 0 ? GENESIS_PREVIOUS_HASH : l.lastHash, previousTimestamp: l.lastTimestamp }, l.resolver);
    if (checked.problem !== undefined) throw new SilkError('BAD_BLOCK', `block ${block.header.number} of ${block.header.chain}: ${checked.problem}`, { block: block.header.number });
    const { leaves, paths } = checked;
    const v = await validateBlock({ block, store: l.store, resolver: l.resolver, verifier: options.verifier });
    if (expected === 0 && v.config === undefined) throw new SilkError('BAD_BLOCK', `genesis block of ${chain} carries no valid configuration`);
    const codes = encodeValidationCodes(v.codes);
    const commitHash = computeCommitHash(l.lastCommitHash, expected, codes, v.writes);
    const hash = blockHash(block.header);
    const peerSignature = options.signer.sign(encodeCommitStatement({ chain, number: expected, blockHash: hash, codes, commitHash }));
    const proofs = computeBlockProofs(block, leaves, paths);
    await l.store.commitAsync({ number: expected, hash, bytes, codes, commitHash, peerSignature, timestamp: block.header.timestamp, txIndex: v.txIndex, writes: v.writes, proofs });
    l.lastHash = hash;
    l.lastTimestamp = block.header.timestamp;
    l.lastCommitHash = commitHash;
    if (v.config !== undefined) l.resolver.addConfig(expected, v.config);
    feedIdentityWrites(l.resolver, expected, v.writes);
    const committed: CommittedBlock = { chain, number: expected, hash: toHex(hash), timestamp: block.header.timestamp, txIds: v.txIds, codes: v.codes, commitHash: toHex(commitHash), events: v.events };
    for (const listener of l.listeners) {
      try {
        listener(committed);
      } catch (e) {
        options.logger?.error({ err: e, chain, block: expected }, 'block listener failed');
      }
    }
    return committed;
  };

  /** Commits the blocks held for a full disk, oldest first. @throws the first failure */
  const commitHeld = async (chain: string, l: ChainLedger): Promise<void> => {
    for (let first = l.held[0]; first !== undefined; first = l.held[0]) {
      await applyBlock(chain, l, first, l.store.height());
      l.held.shift();
    }
  };

  const scheduleRetry = (chain: string, l: ChainLedger): void => {
    if (l.retryTimer !== undefined || closed) return;
    l.retryTimer = setTimeout(() => {
      l.retryTimer = undefined;
      l.queue = l.queue.then(() => commitHeld(chain, l)).catch((e: unknown) => {
        if (e instanceof SilkError && e.code === 'STORAGE_FULL') scheduleRetry(chain, l);
        else options.logger?.error({ err: e, chain }, 'held block not committed');
      });
    }, DISK_FULL_RETRY_MS);
    l.retryTimer.unref();
  };

  /**
   * Commits a delivered block after any held ones. A block refused because the disk is full is
   * held and retried, so the peer resumes by itself once space is freed instead of refusing
   * every later block as out of order.
   */
  const commitInOrder = async (chain: string, l: ChainLedger, bytes: Uint8Array): Promise<CommittedBlock> => {
    try {
      await commitHeld(chain, l);
      return await applyBlock(chain, l, bytes, l.store.height());
    } catch (e) {
      if (e instanceof SilkError && e.code === 'STORAGE_FULL') {
        if (l.held.length < MAX_HELD_BLOCKS) l.held.push(bytes);
        options.logger?.error({ chain, held: l.held.length, height: l.store.height() }, `disk full: ${chain} blocks are held and retried every ${DISK_FULL_RETRY_MS} ms${l.held.length >= MAX_HELD_BLOCKS ? '; later blocks wait for a restart to catch up' : ''}`);
        scheduleRetry(chain, l);
      }
      throw e;
    }
  };

  const openChain = async (chain: string): Promise<ChainLedger> => {
    const store = openSqliteLedgerStore(join(options.dataDir, `${chain}.sqlite`), { writerThread: true });
    const keyHex = toHex(options.signer.publicKey);
    if (store.meta('peer_key') !== keyHex) store.setMeta('peer_key', keyHex);
    const l: ChainLedger = { store, resolver: createRegistryIdentityResolver(), listeners: new Set(), queue: Promise.resolve(), held: [], retryTimer: undefined, lastHash: ZERO32, lastTimestamp: 0, lastCommitHash: ZERO32 };
    installIndexes(l);
    const savepoint = store.savepoint();
    for (const row of store.history(CONFIG_NAMESPACE, CONFIG_KEY, 'asc', 1_000_000)) {
      if (row.value !== null && row.block <= savepoint) l.resolver.addConfig(row.block, validateChainConfig(JSON.parse(row.value)));
    }
    rebuildIdentityRegistry(l.resolver, store, savepoint);
    if (savepoint >= 0) {
      const last = store.block(savepoint);
      if (last === undefined) throw new SilkError('LEDGER_CORRUPT', `${chain}: savepoint ${savepoint} names a missing block`);
      l.lastHash = last.hash;
      l.lastTimestamp = last.timestamp;
      l.lastCommitHash = last.commitHash;
    }
    // Blocks stored beyond the savepoint (a restore, an interrupted rebuild) are replayed.
    const height = store.height();
    for (let n = savepoint + 1; n < height; n++) {
      const stored = store.block(n);
      if (stored === undefined) throw new SilkError('LEDGER_CORRUPT', `${chain}: block ${n} is missing below height ${height}`);
      await applyBlock(chain, l, stored.bytes, n);
    }
    options.logger?.info({ chain, height: store.height(), replayed: Math.max(0, height - savepoint - 1) }, 'chain opened');
    return l;
  };

  const prepare = (signed: SignedProposalBytes): { proposal: Proposal; l: ChainLedger; creator: CreatorIdentity; contract: Contract; txId: string } => {
    if (closed) throw new SilkError('SHUTTING_DOWN', `peer ${options.name} is stopping`);
    const proposal = decodeProposal(signed.bytes);
    const l = ledger(proposal.chain);
    if (!verifyP256(proposal.creator, signed.bytes, signed.signature)) throw new EndorseError('BAD_SIGNATURE', 'the proposal signature does not verify');
    const height = l.store.height();
    const id = l.resolver.resolve(proposal.chain, proposal.creator, height, proposal.ts);
    if (id === undefined) throw new EndorseError('UNKNOWN_CREATOR', `the creator is not a member of chain ${proposal.chain}`);
    const def = l.resolver.configAt(height).contracts[proposal.contract];
    const contract = contracts.get(proposal.contract);
    if (def === undefined || contract === undefined) throw new EndorseError('UNKNOWN_CONTRACT', `contract ${proposal.contract} is not defined on chain ${proposal.chain}`);
    if (def.version !== proposal.version || contract.version !== def.version) {
      throw new EndorseError('UNKNOWN_CONTRACT_VERSION', `chain ${proposal.chain} runs ${proposal.contract} ${def.version}; the proposal asks for ${proposal.version}${contract.version === def.version ? '' : ` and this peer has ${contract.version}`}`);
    }
    return { proposal, l, creator: id, contract, txId: computeTxId(proposal.nonce, proposal.creator) };
  };

  const run = (signed: SignedProposalBytes, readonly: boolean): { txId: string; result: TxResult; response: JsonValue | undefined } => {
    const { proposal, l, creator, contract, txId } = prepare(signed);
    const fn = contract.functions[proposal.fn];
    if (fn === undefined || !Object.hasOwn(contract.functions, proposal.fn)) throw new EndorseError('UNKNOWN_FUNCTION', `contract ${contract.name} has no function ${proposal.fn}`);
    if (!readonly && fn.readonly) throw new EndorseError('INVALID_ARGUMENT', `${contract.name}.${proposal.fn} is a query: evaluate it instead of submitting`);
    if (fn.roles !== undefined && !fn.roles.includes(creator.role)) throw new EndorseError('CONTRACT_ERROR', `${contract.name}.${proposal.fn} needs role ${fn.roles.join(' or ')}`);
    if (fn.authority !== undefined && !hasAuthority(creator, fn.authority)) {
      throw new EndorseError('CONTRACT_ERROR', `${contract.name}.${proposal.fn} needs ${fn.authority.function === undefined ? '' : `function ${fn.authority.function} at `}level ${fn.authority.minLevel} or more; the creator has ${creator.level === undefined ? 'no level' : `${creator.function ?? 'no function'} at level ${creator.level}`}`);
    }
    if (!fn.check.Check(proposal.args)) {
      const first = fn.check.Errors(proposal.args).First();
      throw new EndorseError('INVALID_ARGUMENT', `args${first?.path.replaceAll('/', '.') ?? ''}: ${first?.message ?? 'invalid'}`, { path: first?.path ?? '' });
    }
    const height = l.store.height();
    const identityOf = (key: Uint8Array): CreatorIdentity | undefined => l.resolver.resolve(proposal.chain, key, height, proposal.ts);
    const { ctx, record } = createSimulationContext({ store: l.store, ns: contract.name, chain: proposal.chain, txId, timestamp: proposal.ts, creator, indexes: contract.indexes, readonly, identityOf });
    let response: JsonValue | undefined;
    try {
      response = fn.run(ctx, proposal.args);
    } catch (e) {
      if (e instanceof ContractRefusal) throw new EndorseError('CONTRACT_ERROR', e.message, { txId });
      if (e instanceof SilkError) throw new EndorseError(e.code, e.message, { ...e.details, txId }, { cause: e });
      throw new EndorseError('CONTRACT_ERROR', `contract ${contract.name}.${proposal.fn} failed: ${(e as Error).message}`, { txId }, { cause: e });
    }
    const result: TxResult = {
      v: TX_FORMAT_VERSION,
      proposalHash: sha256(signed.bytes),
      contract: contract.name,
      version: contract.version,
      reads: record.reads,
      ...(record.ranges.length === 0 ? {} : { ranges: record.ranges }),
      writes: record.writes,
      hashedWrites: [],
      events: record.events,
      response: response === undefined ? '' : JSON.stringify(response),
    };
    return { txId, result, response };
  };

  return {
    name: options.name,
    org: options.org,
    publicKey: options.signer.publicKey,
    chains: () => [...ledgers.keys()],
    async joinChain(genesis) {
      const block = decodeBlock(genesis);
      const chain = block.header.chain;
      if (ledgers.has(chain)) return;
      const l = await openChain(chain);
      ledgers.set(chain, l);
      if (l.store.height() === 0) await this.deliver(genesis);
      else if (!bytesEqual(l.store.block(0)?.hash ?? ZERO32, blockHash(block.header))) throw new SilkError('BAD_BLOCK', `chain ${chain} on disk has a different genesis block`);
    },
    endorse(signed) {
      const { txId, result, response } = run(signed, false);
      const bytes = encodeTxResult(result);
      return { txId, result: bytes, endorsement: { endorser: options.signer.publicKey, signature: options.signer.sign(bytes) }, response, writes: result.writes };
    },
    evaluate(signed) {
      return run(signed, true).response;
    },
    deliver(bytes) {
      if (closed) return Promise.reject(new SilkError('SHUTTING_DOWN', `peer ${options.name} is stopping`));
      let chain: string;
      try {
        chain = decodeBlockShared(bytes).header.chain;
      } catch (e) {
        return Promise.reject(new SilkError('BAD_BLOCK', `block does not decode: ${(e as Error).message}`));
      }
      const l = ledgers.get(chain);
      if (l === undefined) return Promise.reject(new SilkError('BAD_BLOCK', `block of chain ${chain}, which peer ${options.name} has not joined`, { chain }));
      const next = l.queue.then(() => commitInOrder(chain, l, bytes));
      l.queue = next.catch(() => undefined);
      return next;
    },
    height: (chain) => ledger(chain).store.height(),
    config: (chain) => ledger(chain).resolver.current(),
    configAt: (chain, height) => ledger(chain).resolver.configAt(height),
    configSpanAt: (chain, height) => ledger(chain).resolver.configSpanAt(height),
    identity(chain, key) {
      const l = ledger(chain);
      return l.resolver.resolve(chain, key, l.store.height());
    },
    identities: (chain) => ledger(chain).resolver,
    blockBytes: (chain, n) => ledger(chain).store.block(n)?.bytes,
    committedBlock: (chain, n) => summary(chain, ledger(chain), n),
    transactionStatus(chain, txId) {
      const t = ledger(chain).store.tx(txId);
      return t === undefined ? undefined : { txId, block: t.block, tx: t.tx, code: VALIDATION_CODES[t.code] ?? 'MALFORMED' };
    },
    receipt(chain, txId) {
      const l = ledger(chain);
      const t = l.store.tx(txId);
      if (t === undefined) return undefined;
      return toReceipt(chain, txId, l.store.receipt(t), options.signer.publicKey);
    },
    store: (chain) => ledger(chain).store,
    reader(chain, contractName) {
      const l = ledger(chain);
      const contract = contracts.get(contractName);
      if (contract === undefined || l.resolver.current().contracts[contractName] === undefined) throw new SilkError('UNKNOWN_CONTRACT', `contract ${contractName} is not defined on chain ${chain}`, { chain });
      const self: CreatorIdentity = { org: options.org, role: 'peer', name: options.name, key: toHex(options.signer.publicKey) };
      const { ctx } = createSimulationContext({ store: l.store, ns: contractName, chain, txId: '', timestamp: 0, creator: self, indexes: contract.indexes, readonly: true, trackReads: false, identityOf: (key) => l.resolver.resolve(chain, key, l.store.height(), Date.now()) });
      return {
        entry(key) {
          const s = l.store.state(contractName, key);
          return s === undefined ? undefined : { key, value: JSON.parse(s.value) as JsonValue, version: { block: s.block, tx: s.tx } };
        },
        range: (start, end, page) => ctx.range(start, end, page),
        query: (q, page) => ctx.query(q, page),
        history: (key, opts) => ctx.history(key, opts),
      };
    },
    subscribe(chain, fromBlock, listener) {
      const l = ledger(chain);
      const height = l.store.height();
      for (let n = Math.max(0, fromBlock); n < height; n++) {
        const b = summary(chain, l, n);
        if (b !== undefined) listener(b);
      }
      const live = (b: CommittedBlock): void => {
        if (b.number >= fromBlock) listener(b);
      };
      l.listeners.add(live);
      return () => l.listeners.delete(live);
    },
    async close() {
      closed = true;
      for (const l of ledgers.values()) clearTimeout(l.retryTimer);
      await Promise.all([...ledgers.values()].map((l) => l.queue));
      await Promise.all([...ledgers.values()].map((l) => l.store.close()));
      ledgers.clear();
    },
  };
}

/** A stored receipt with the chain, the tx id and the key of the peer that signed its commit statement. */
function toReceipt(chain: string, txId: string, r: StoredReceipt, peer: Uint8Array): Receipt {
  return {
    chain,
    txId,
    blockNumber: r.block,
    txIndex: r.tx,
    code: VALIDATION_CODES[r.code] ?? 'MALFORMED',
    envelopeHash: r.envelopeHash,
    leafHash: r.leafHash,
    treeSize: r.codes.length,
    path: r.path,
    header: r.header,
    ordererSignature: r.ordererSignature,
    codes: r.codes,
    commitHash: r.commitHash,
    peer,
    peerSignature: r.peerSignature,
  };
}
