/**
 * The solo orderer of the embedded mode: one process batches envelopes per chain by count,
 * bytes and timeout, signs each block, stores it durably in its own SQLite log, then
 * acknowledges the envelopes and delivers the block to subscribers. Admission and batching are
 * `block-cutter.ts`, shared with the distributed mode's orderer service.
 */
import Database from 'better-sqlite3';
import { toHex } from '../crypto/hash.js';
import type { Signer } from '../crypto/p256.js';
import { SilkError, SubmitError } from '../errors.js';
import { blockHash, createBlock, decodeBlock, encodeBlock, GENESIS_PREVIOUS_HASH } from '../ledger/block.js';
import { validateChainConfig, type ChainConfig } from '../ledger/chain-config.js';
import { decodeTransaction } from '../ledger/transaction.js';
import { configOfBlockTxs, configOfTransaction, createBlockCutter, toSubmitError, type BlockCutter, type CutBatch, type PendingEnvelope } from './block-cutter.js';
import type { Orderer } from './orderer.js';
import { isDiskFull } from '../storage/ledger-commit.js';

/** Options of {@link createSoloOrderer}. */
export interface SoloOrdererOptions {
  readonly signer: Signer;
  /** SQLite file of the ordering log. */
  readonly path: string;
  /** Clock (ms); injectable for tests. */
  readonly now?: () => number;
}

interface ChainState {
  height: number;
  lastHash: Uint8Array;
  lastTimestamp: number;
  cutter: BlockCutter;
  readonly subscribers: Set<(bytes: Uint8Array, n: number) => void>;
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

  const cut = (chain: string, s: ChainState, batch: CutBatch): void => {
    const txs = batch.txs;
    s.cutter.release(txs);
    const timestamp = Math.max(now(), s.lastTimestamp);
    const block = createBlock({ chain, number: s.height, previousHash: s.lastHash, timestamp, txs: txs.map((t) => t.bytes) }, options.signer);
    const bytes = encodeBlock(block);
    try {
      insert(chain, s.height, bytes, batch.config);
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
    if (batch.config !== undefined) s.cutter.useConfig(batch.config);
    txs.forEach((t: PendingEnvelope, index) => {
      for (const w of t.waiters) w.resolve({ chain, block: number, index });
    });
    for (const sub of s.subscribers) sub(bytes, number);
  };

  const chainState = (chain: string, config: ChainConfig, height: number, lastHash: Uint8Array, lastTimestamp: number): ChainState => {
    const s: ChainState = {
      height, lastHash, lastTimestamp, subscribers: new Set(),
      cutter: createBlockCutter({ chain, config, onBatch: (batch) => { cut(chain, s, batch); } }),
    };
    return s;
  };

  // Reopen chains from the log: replay configs to know members and batching.
  const names = db.prepare<[], { chain: string; n: number }>('SELECT chain, MAX(number) AS n FROM blocks GROUP BY chain').all();
  for (const { chain, n } of names) {
    const row = latestConfig.get(chain);
    let config: ChainConfig | undefined = row === undefined ? undefined : validateChainConfig(JSON.parse(row.config));
    // Logs written before the configs table existed: find the configuration by scanning.
    for (let i = 0; config === undefined && i <= n; i++) {
      config = configOfBlockTxs(decodeBlock((select.get(chain, n - i) as { bytes: Buffer }).bytes).txs);
    }
    const last = decodeBlock((select.get(chain, n) as { bytes: Buffer }).bytes);
    if (config === undefined) throw new SilkError('LEDGER_CORRUPT', `ordering log of ${chain} has no configuration`);
    chains.set(chain, chainState(chain, config, n + 1, blockHash(last.header), last.header.timestamp));
  }

  const state = (chain: string): ChainState => {
    const s = chains.get(chain);
    if (s === undefined) throw new SubmitError('UNKNOWN_CHAIN', `no chain ${chain} on this orderer`, { chain });
    return s;
  };

  return {
    createChain(configEnvelope) {
      const d = decodeTransaction(configEnvelope);
      const config = configOfTransaction(d);
      if (chains.has(config.chain)) return Promise.reject(new SubmitError('INVALID_ARGUMENT', `chain ${config.chain} exists`));
      if (!config.orderers.includes(toHex(options.signer.publicKey))) return Promise.reject(new SubmitError('CONFIG_INVALID', 'this orderer is not listed in the chain configuration'));
      const s = chainState(config.chain, config, 0, GENESIS_PREVIOUS_HASH, 0);
      chains.set(config.chain, s);
      cut(config.chain, s, { txs: [{ bytes: configEnvelope, txId: d.txId, waiters: [] }], config, isConfig: true });
      const genesis = select.get(config.chain, 0);
      if (genesis === undefined) return Promise.reject(new SubmitError('ORDERING_UNAVAILABLE', 'genesis block was not stored'));
      return Promise.resolve(new Uint8Array(genesis.bytes));
    },
    broadcast(chain, envelope) {
      try {
        if (closed) throw new SubmitError('ORDERING_UNAVAILABLE', 'the orderer is stopping');
        const { cutter } = state(chain);
        return cutter.add(envelope, cutter.admit(envelope));
      } catch (e) {
        return Promise.reject(toSubmitError(e));
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
        for (const s of chains.values()) {
          s.cutter.flush();
          s.cutter.close();
        }
        closed = true;
        db.close();
      }
      return Promise.resolve();
    },
  };
}
