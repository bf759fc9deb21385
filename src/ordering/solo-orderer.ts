/**
 * The solo orderer of the embedded mode: one process batches envelopes per chain by count,
 * bytes and timeout, signs each block, stores it durably in its own SQLite log, then
 * acknowledges the envelopes and delivers the block to subscribers.
 */
import Database from 'better-sqlite3';
import { toHex } from '../crypto/hash.js';
import { verifyP256, type Signer } from '../crypto/p256.js';
import { SilkError, SubmitError } from '../errors.js';
import { blockHash, createBlock, decodeBlock, encodeBlock, GENESIS_PREVIOUS_HASH } from '../ledger/block.js';
import { CONFIG_NAMESPACE, validateChainConfig, type ChainConfig } from '../ledger/chain-config.js';
import { decodeTransaction, MAX_ENVELOPE_BYTES, type DecodedTransaction } from '../ledger/transaction.js';
import { indexMembers, type ResolvedIdentity } from '../identity/identity-resolver.js';
import type { OrderedPosition, Orderer } from './orderer.js';
import { isDiskFull } from '../storage/ledger-commit.js';

/** Options of {@link createSoloOrderer}. */
export interface SoloOrdererOptions {
  readonly signer: Signer;
  /** SQLite file of the ordering log. */
  readonly path: string;
  /** Clock (ms); injectable for tests. */
  readonly now?: () => number;
}

interface PendingTx {
  readonly bytes: Uint8Array;
  readonly txId: string;
  readonly waiters: { resolve(p: OrderedPosition): void; reject(e: unknown): void }[];
}

interface ChainState {
  config: ChainConfig;
  /** Member keys of `config`, for the submitter check. */
  members: ReadonlyMap<string, ResolvedIdentity>;
  height: number;
  lastHash: Uint8Array;
  lastTimestamp: number;
  batch: PendingTx[];
  batchBytes: number;
  byTxId: Map<string, PendingTx>;
  timer: NodeJS.Timeout | undefined;
  readonly subscribers: Set<(bytes: Uint8Array, n: number) => void>;
}

function chainState(config: ChainConfig, height: number, lastHash: Uint8Array, lastTimestamp: number): ChainState {
  return { config, members: indexMembers(config), height, lastHash, lastTimestamp, batch: [], batchBytes: 0, byTxId: new Map(), timer: undefined, subscribers: new Set() };
}

/**
 * A creator outside the configuration (a key registered through the identity contract, which
 * the orderer does not track) is accepted when a configured peer endorsed the transaction: the
 * peer resolved the creator when it endorsed, and every peer re-resolves it at validation. The
 * endorsement's signature is checked here (only on this path), so copying a peer's public key
 * into an envelope does not get spam ordered; configuration transactions still need a member.
 */
function vouchedByPeer(s: ChainState, d: DecodedTransaction): boolean {
  if (d.proposal.contract === CONFIG_NAMESPACE) return false;
  return d.envelope.endorsements.some((e) => s.members.get(toHex(e.endorser))?.role === 'peer' && verifyP256(e.endorser, d.envelope.result, e.signature));
}

function configOf(d: DecodedTransaction): ChainConfig {
  const w = d.result.writes[0];
  if (d.proposal.contract !== CONFIG_NAMESPACE || w?.value == null) throw new SubmitError('CONFIG_INVALID', 'not a configuration transaction');
  return validateChainConfig(JSON.parse(w.value));
}

/**
 * Creates (or reopens) a solo orderer.
 * @example const orderer = createSoloOrderer({ signer, path: './data/orderer/log.sqlite' })
 */
export function createSoloOrderer(options: SoloOrdererOptions): Orderer {
  const now = options.now ?? Date.now;
  const db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS blocks (chain TEXT NOT NULL, number INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (chain, number)) WITHOUT ROWID');
  db.exec('CREATE TABLE IF NOT EXISTS configs (chain TEXT NOT NULL, number INTEGER NOT NULL, config TEXT NOT NULL, PRIMARY KEY (chain, number)) WITHOUT ROWID');
  const insertBlock = db.prepare('INSERT INTO blocks (chain, number, bytes) VALUES (?, ?, ?)');
  const insertConfig = db.prepare('INSERT INTO configs (chain, number, config) VALUES (?, ?, ?)');
  const latestConfig = db.prepare<[string], { config: string }>('SELECT config FROM configs WHERE chain = ? ORDER BY number DESC LIMIT 1');
  // A configuration block and its configuration row are stored together, so reopening reads
  // one row instead of scanning the log.
  const insert = db.transaction((chain: string, number: number, bytes: Uint8Array, config: ChainConfig | undefined) => {
    insertBlock.run(chain, number, bytes);
    if (config !== undefined) insertConfig.run(chain, number, JSON.stringify(config));
  });
  const select = db.prepare<[string, number], { bytes: Buffer }>('SELECT bytes FROM blocks WHERE chain = ? AND number = ?');
  const chains = new Map<string, ChainState>();
  let closed = false;

  // Reopen chains from the log: replay configs to know members and batching.
  const names = db.prepare<[], { chain: string; n: number }>('SELECT chain, MAX(number) AS n FROM blocks GROUP BY chain').all();
  for (const { chain, n } of names) {
    const row = latestConfig.get(chain);
    let config: ChainConfig | undefined = row === undefined ? undefined : validateChainConfig(JSON.parse(row.config));
    // Logs written before the configs table existed: find the configuration by scanning.
    for (let i = 0; config === undefined && i <= n; i++) {
      const block = decodeBlock((select.get(chain, n - i) as { bytes: Buffer }).bytes);
      if (block.txs.length !== 1) continue;
      try {
        config = configOf(decodeTransaction(block.txs[0] as Uint8Array));
      } catch {
        /* not a config block */
      }
    }
    const last = decodeBlock((select.get(chain, n) as { bytes: Buffer }).bytes);
    if (config === undefined) throw new SilkError('LEDGER_CORRUPT', `ordering log of ${chain} has no configuration`);
    chains.set(chain, chainState(config, n + 1, blockHash(last.header), last.header.timestamp));
  }

  const cut = (chain: string, s: ChainState, txs: PendingTx[], config?: ChainConfig): void => {
    const timestamp = Math.max(now(), s.lastTimestamp);
    const block = createBlock({ chain, number: s.height, previousHash: s.lastHash, timestamp, txs: txs.map((t) => t.bytes) }, options.signer);
    const bytes = encodeBlock(block);
    try {
      insert(chain, s.height, bytes, config);
    } catch (e) {
      const full = isDiskFull(e);
      const err = new SubmitError(full ? 'STORAGE_FULL' : 'ORDERING_UNAVAILABLE', `the ordering log could not store block ${s.height}: ${full ? 'the disk is full; nothing was ordered' : (e as Error).message}`, {}, { cause: e });
      for (const t of txs) for (const w of t.waiters) w.reject(err);
      return;
    }
    const number = s.height;
    s.height += 1;
    s.lastHash = blockHash(block.header);
    s.lastTimestamp = timestamp;
    txs.forEach((t, index) => {
      for (const w of t.waiters) w.resolve({ chain, block: number, index });
    });
    for (const sub of s.subscribers) sub(bytes, number);
  };

  const flush = (chain: string, s: ChainState): void => {
    if (s.timer !== undefined) clearTimeout(s.timer);
    s.timer = undefined;
    if (s.batch.length === 0) return;
    const txs = s.batch;
    s.batch = [];
    s.batchBytes = 0;
    s.byTxId = new Map();
    cut(chain, s, txs);
  };

  const state = (chain: string): ChainState => {
    const s = chains.get(chain);
    if (s === undefined) throw new SubmitError('UNKNOWN_CHAIN', `no chain ${chain} on this orderer`, { chain });
    return s;
  };

  return {
    createChain(configEnvelope) {
      const d = decodeTransaction(configEnvelope);
      const config = configOf(d);
      if (chains.has(config.chain)) return Promise.reject(new SubmitError('INVALID_ARGUMENT', `chain ${config.chain} exists`));
      if (!config.orderers.includes(toHex(options.signer.publicKey))) return Promise.reject(new SubmitError('CONFIG_INVALID', 'this orderer is not listed in the chain configuration'));
      const s = chainState(config, 0, GENESIS_PREVIOUS_HASH, 0);
      chains.set(config.chain, s);
      const pending: PendingTx = { bytes: configEnvelope, txId: d.txId, waiters: [] };
      cut(config.chain, s, [pending], config);
      const genesis = select.get(config.chain, 0);
      if (genesis === undefined) return Promise.reject(new SubmitError('ORDERING_UNAVAILABLE', 'genesis block was not stored'));
      return Promise.resolve(new Uint8Array(genesis.bytes));
    },
    broadcast(chain, envelope) {
      try {
        if (closed) throw new SubmitError('ORDERING_UNAVAILABLE', 'the orderer is stopping');
        const s = state(chain);
        if (envelope.length > Math.min(MAX_ENVELOPE_BYTES, s.config.batch.maxBytes)) throw new SubmitError('PAYLOAD_TOO_LARGE', `envelope of ${envelope.length} bytes exceeds the chain's limit`);
        const d = decodeTransaction(envelope);
        if (d.proposal.chain !== chain) throw new SubmitError('WRONG_CHAIN', `envelope is for chain ${d.proposal.chain}`);
        if (!s.members.has(toHex(d.proposal.creator)) && !vouchedByPeer(s, d)) throw new SubmitError('UNKNOWN_CREATOR', `the submitter is not a member of chain ${chain}, and no configured peer of it endorsed the transaction`);
        if (!verifyP256(d.proposal.creator, d.envelope.proposal, d.envelope.signature)) throw new SubmitError('BAD_SIGNATURE', 'the submitter signature does not verify');
        const existing = s.byTxId.get(d.txId);
        return new Promise<OrderedPosition>((resolve, reject) => {
          if (existing !== undefined) {
            existing.waiters.push({ resolve, reject });
            return;
          }
          const isConfig = d.proposal.contract === CONFIG_NAMESPACE;
          if (isConfig) flush(chain, s);
          const p: PendingTx = { bytes: envelope, txId: d.txId, waiters: [{ resolve, reject }] };
          if (isConfig) {
            let next: ChainConfig | undefined;
            try {
              next = configOf(d);
            } catch {
              /* peers will mark it invalid; keep the current view */
            }
            cut(chain, s, [p], next);
            if (next !== undefined) {
              s.config = next;
              s.members = indexMembers(next);
            }
            return;
          }
          if (s.batchBytes + envelope.length > s.config.batch.maxBytes) flush(chain, s);
          s.batch.push(p);
          s.byTxId.set(d.txId, p);
          s.batchBytes += envelope.length;
          if (s.batch.length >= s.config.batch.maxTxs) flush(chain, s);
          else if (s.timer === undefined) s.timer = setTimeout(() => { flush(chain, s); }, s.config.batch.timeoutMs);
        });
      } catch (e) {
        if (e instanceof SubmitError) return Promise.reject(e);
        if (e instanceof SilkError) return Promise.reject(new SubmitError(e.code, e.message, e.details, { cause: e }));
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },
    deliver(chain, fromBlock, onBlock) {
      const s = state(chain);
      for (let n = Math.max(0, fromBlock); n < s.height; n++) {
        const row = select.get(chain, n);
        if (row !== undefined) onBlock(new Uint8Array(row.bytes), n);
      }
      const live = (bytes: Uint8Array, n: number): void => {
        if (n >= fromBlock) onBlock(bytes, n);
      };
      s.subscribers.add(live);
      return () => s.subscribers.delete(live);
    },
    block(chain, number) {
      state(chain);
      const row = select.get(chain, number);
      return row === undefined ? undefined : new Uint8Array(row.bytes);
    },
    height: (chain) => state(chain).height,
    chains: () => [...chains.keys()],
    close() {
      if (!closed) {
        for (const [chain, s] of chains) flush(chain, s);
        closed = true;
        db.close();
      }
      return Promise.resolve();
    },
  };
}
