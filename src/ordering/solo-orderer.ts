/**
 * The solo orderer of the embedded mode: one process batches envelopes per chain by count,
 * bytes and timeout, signs each block, stores it durably in its own SQLite log, then
 * acknowledges the envelopes and delivers the block to subscribers. Admission and batching are
 * `block-cutter.ts`, shared with the distributed mode's orderer service.
 *
 * Blocks are written by the orderer's writer thread (`ordering-log-writer.ts`): the main thread
 * builds and signs block N+1 while block N is being written, and settles each block (waiters,
 * height, delivery) only once it is durable, in block order. Reads (`deliver` of stored blocks,
 * `block()`, reopening) use a connection of the main thread to the same WAL file.
 */
import Database from 'better-sqlite3';
import { toHex } from '../crypto/hash.js';
import type { Signer } from '../crypto/p256.js';
import { SilkError, SubmitError } from '../errors.js';
import { blockHash, createBlock, decodeBlock, encodeBlock, GENESIS_PREVIOUS_HASH } from '../ledger/block.js';
import { validateChainConfig, type ChainConfig } from '../ledger/chain-config.js';
import { decodeTransaction } from '../ledger/transaction.js';
import { configOfBlockTxs, configOfTransaction, createBlockCutter, toSubmitError, type AdmittedEnvelope, type BlockCutter, type CutBatch, type PendingEnvelope } from './block-cutter.js';
import type { Orderer } from './orderer.js';
import { openOrderingLogWriter } from './ordering-log-writer.js';
import { isDiskFull } from '../storage/ledger-commit.js';

/** Options of {@link createSoloOrderer}. */
export interface SoloOrdererOptions {
  readonly signer: Signer;
  /** SQLite file of the ordering log. */
  readonly path: string;
  /** Clock (ms); injectable for tests. */
  readonly now?: () => number;
}

/** Where a chain's next block goes: its number, previous hash and timestamp floor. */
interface ChainTip {
  readonly number: number;
  readonly hash: Uint8Array;
  readonly timestamp: number;
}

/** A cut and signed block being written. */
interface BlockInFlight {
  readonly number: number;
  readonly bytes: Uint8Array;
  readonly txs: readonly PendingEnvelope[];
  /** The tip the block was cut on, which the chain's next block reuses if this one fails. */
  readonly cutOn: ChainTip;
  /** The configuration admission used before the block was cut (restored if it fails). */
  readonly configBefore: ChainConfig;
}

interface ChainState {
  /** Durably stored blocks: what `height()` reports. */
  height: number;
  /** Where the next cut block goes: the durable tip plus the blocks in flight. */
  tip: ChainTip;
  /** Blocks being written, in block order. */
  readonly inFlight: BlockInFlight[];
  cutter: BlockCutter;
  readonly subscribers: Set<(bytes: Uint8Array, n: number) => void>;
}

/** Rejects every waiter of the envelopes. */
function rejectAll(txs: readonly PendingEnvelope[], err: SubmitError): void {
  for (const t of txs) for (const w of t.waiters) w.reject(err);
}

/** The error the waiters of a block that could not be stored get. */
function storeError(number: number, e: unknown): SubmitError {
  const full = isDiskFull(e);
  return new SubmitError(full ? 'STORAGE_FULL' : 'ORDERING_UNAVAILABLE', `the ordering log could not store block ${number}: ${full ? 'the disk is full; nothing was ordered' : (e as Error).message}`, {}, { cause: e });
}

/**
 * Creates (or reopens) a solo orderer, with its writer thread.
 * @example const orderer = createSoloOrderer({ signer, path: './data/orderer/log.sqlite' })
 */
export function createSoloOrderer(options: SoloOrdererOptions): Orderer {
  const now = options.now ?? Date.now;
  const db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS blocks (chain TEXT NOT NULL, number INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (chain, number)) WITHOUT ROWID');
  db.exec('CREATE TABLE IF NOT EXISTS configs (chain TEXT NOT NULL, number INTEGER NOT NULL, config TEXT NOT NULL, PRIMARY KEY (chain, number)) WITHOUT ROWID');
  const latestConfig = db.prepare<[string], { config: string }>('SELECT config FROM configs WHERE chain = ? ORDER BY number DESC LIMIT 1');
  const select = db.prepare<[string, number], { bytes: Buffer }>('SELECT bytes FROM blocks WHERE chain = ? AND number = ?');
  const chains = new Map<string, ChainState>();
  /** Settles of the blocks being written, for `close()` to wait on. */
  const writes = new Set<Promise<void>>();
  let closed = false;
  let closing: Promise<void> | undefined;
  /** Set when the writer thread stopped on its own: broadcasts are refused from then on. */
  let writerFailure: Error | undefined;

  const stored = (chain: string, s: ChainState, b: BlockInFlight): void => {
    // A block behind a failed one was discarded with it (and its write refused).
    if (s.inFlight[0] !== b) return;
    s.inFlight.shift();
    s.height = b.number + 1;
    s.cutter.release(b.txs);
    b.txs.forEach((t: PendingEnvelope, index) => {
      for (const w of t.waiters) w.resolve({ chain, block: b.number, index });
    });
    // A subscriber added by another one's callback has read this block from the log already.
    for (const sub of [...s.subscribers]) {
      try {
        sub(b.bytes, b.number);
      } catch (e) {
        // The other subscribers still get the block; the failure stays an uncaught error.
        queueMicrotask(() => { throw e; });
      }
    }
  };

  const failed = (s: ChainState, b: BlockInFlight, e: unknown): void => {
    const i = s.inFlight.indexOf(b);
    if (i < 0) return;
    const discarded = s.inFlight.splice(i);
    // The chain's next block takes the failed block's place; admission goes back to the
    // configuration in force before it (a configuration block cut after it is discarded too).
    s.tip = b.cutOn;
    if (s.cutter.config !== b.configBefore) {
      s.cutter.useConfig(b.configBefore);
      readmitOpenBatch(s);
    }
    const err = storeError(b.number, e);
    for (const d of discarded) {
      s.cutter.release(d.txs);
      rejectAll(d.txs, d === b ? err : new SubmitError(err.code, `the ordering log could not store block ${d.number}: block ${b.number} before it was not stored (${err.message})`, {}, { cause: e }));
    }
  };

  /**
   * Admits the envelopes of the open batch again, under the configuration now in force: those a
   * configuration block that was not stored let in (a member it added) are refused with the
   * admission's code; the others go back into the batch in their order, keeping their waiters.
   */
  const readmitOpenBatch = (s: ChainState): void => {
    const queued = s.cutter.drain();
    s.cutter.release(queued);
    for (const p of queued) {
      let admitted: AdmittedEnvelope;
      try {
        admitted = s.cutter.admit(p.bytes);
      } catch (e) {
        rejectAll([p], toSubmitError(e));
        continue;
      }
      s.cutter.add(p.bytes, admitted).then(
        (position) => { for (const w of p.waiters) w.resolve(position); },
        (e: unknown) => { for (const w of p.waiters) w.reject(e); },
      );
    }
  };

  const cut = (chain: string, s: ChainState, batch: CutBatch): void => {
    const txs = batch.txs;
    const cutOn = s.tip;
    const timestamp = Math.max(now(), cutOn.timestamp);
    const block = createBlock({ chain, number: cutOn.number, previousHash: cutOn.hash, timestamp, txs: txs.map((t) => t.bytes) }, options.signer);
    const b: BlockInFlight = { number: cutOn.number, bytes: encodeBlock(block), txs, cutOn, configBefore: s.cutter.config };
    s.tip = { number: cutOn.number + 1, hash: blockHash(block.header), timestamp };
    // Admission follows configurations in cut order, as if each block were stored when cut.
    if (batch.config !== undefined) s.cutter.useConfig(batch.config);
    s.inFlight.push(b);
    const write = writer.append(chain, b.number, b.bytes, batch.config).then(() => { stored(chain, s, b); }, (e: unknown) => { failed(s, b, e); });
    writes.add(write);
    void write.finally(() => writes.delete(write));
  };

  const chainState = (chain: string, config: ChainConfig, tip: ChainTip): ChainState => {
    const s: ChainState = {
      height: tip.number, tip, inFlight: [], subscribers: new Set(),
      cutter: createBlockCutter({ chain, config, onBatch: (batch) => { cut(chain, s, batch); } }),
    };
    return s;
  };

  // Reopen chains from the log: replay configs to know members and batching.
  try {
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
      chains.set(chain, chainState(chain, config, { number: n + 1, hash: blockHash(last.header), timestamp: last.header.timestamp }));
    }
  } catch (e) {
    db.close();
    throw e;
  }

  const stopCutting = (e: Error): void => {
    writerFailure = e;
    const err = new SubmitError('ORDERING_UNAVAILABLE', `${e.message}; the orderer orders nothing until it is restarted`, {}, { cause: e });
    for (const s of chains.values()) {
      const queued = s.cutter.drain();
      s.cutter.close();
      s.cutter.release(queued);
      rejectAll(queued, err);
    }
  };
  // Started once the log is read, so an orderer that fails to open leaves no thread behind.
  const writer = openOrderingLogWriter(options.path, { onFailure: stopCutting });

  const state = (chain: string): ChainState => {
    const s = chains.get(chain);
    if (s === undefined) throw new SubmitError('UNKNOWN_CHAIN', `no chain ${chain} on this orderer`, { chain });
    return s;
  };

  const refuseWhenStopped = (): void => {
    if (closed) throw new SubmitError('ORDERING_UNAVAILABLE', 'the orderer is stopping');
    if (writerFailure !== undefined) throw new SubmitError('ORDERING_UNAVAILABLE', `${writerFailure.message}; the orderer orders nothing until it is restarted`, {}, { cause: writerFailure });
  };

  /** Forgets a chain whose genesis block could not be stored, so creating it can be tried again. */
  const forgetChain = (chain: string, s: ChainState, err: SubmitError): void => {
    if (chains.get(chain) !== s || s.height > 0) return;
    chains.delete(chain);
    const queued = s.cutter.drain();
    s.cutter.close();
    s.cutter.release(queued);
    rejectAll(queued, err);
  };

  return {
    async createChain(configEnvelope) {
      refuseWhenStopped();
      const d = decodeTransaction(configEnvelope);
      const config = configOfTransaction(d);
      if (chains.has(config.chain)) throw new SubmitError('INVALID_ARGUMENT', `chain ${config.chain} exists`);
      if (!config.orderers.includes(toHex(options.signer.publicKey))) throw new SubmitError('CONFIG_INVALID', 'this orderer is not listed in the chain configuration');
      const s = chainState(config.chain, config, { number: 0, hash: GENESIS_PREVIOUS_HASH, timestamp: 0 });
      chains.set(config.chain, s);
      try {
        await new Promise((resolve, reject) => {
          cut(config.chain, s, { txs: [{ bytes: configEnvelope, txId: d.txId, waiters: [{ resolve, reject }] }], config, isConfig: true });
        });
      } catch (e) {
        const err = toSubmitError(e);
        forgetChain(config.chain, s, err);
        throw new SubmitError(err.code, `the genesis block of ${config.chain} was not stored: ${err.message}`, { chain: config.chain }, { cause: e });
      }
      const genesis = select.get(config.chain, 0);
      if (genesis === undefined) throw new SubmitError('ORDERING_UNAVAILABLE', 'genesis block was not stored');
      return new Uint8Array(genesis.bytes);
    },
    broadcast(chain, envelope) {
      try {
        refuseWhenStopped();
        const { cutter } = state(chain);
        return cutter.add(envelope, cutter.admit(envelope));
      } catch (e) {
        return Promise.reject(toSubmitError(e));
      }
    },
    deliver(chain, fromBlock, onBlock) {
      const s = state(chain);
      // Stored blocks up to the durable height, then each block as it becomes durable: both
      // here, in one turn, so no block is skipped or repeated.
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
      const s = state(chain);
      // A block the writer thread has stored but not yet reported is not ordered yet.
      if (number >= s.height) return undefined;
      const row = select.get(chain, number);
      return row === undefined ? undefined : new Uint8Array(row.bytes);
    },
    height: (chain) => state(chain).height,
    chains: () => [...chains.keys()],
    close() {
      closing ??= (async () => {
        closed = true;
        for (const s of chains.values()) {
          s.cutter.flush();
          s.cutter.close();
        }
        while (writes.size > 0) await Promise.all([...writes]);
        await writer.close();
        db.close();
      })();
      return closing;
    },
  };
}
