/**
 * A peer's ledger for one chain in one SQLite file: blocks, validation codes, commit hashes,
 * world state (JSON text with versions), each block's index record (`block_writes`: its tx ids
 * and state writes, block-writes.ts), key history, the tx index and each block's receipt
 * material (header, orderer signature, commit statement parts, and per transaction its
 * envelope hash and leaf hash: receipt-hashes.ts; inclusion paths are derived on read). A block and everything it changes land in one
 * SQLite transaction (WAL, synchronous=FULL), so a crash leaves either the whole block or none
 * of it.
 *
 * The key history and tx index rows are the exception: they go into their tables in batches
 * (see INDEX_FLUSH_BLOCKS in ledger-index.ts), each inside the transaction of the block that completes
 * the batch. Until then they are "pending": held in memory and answered from there, and
 * recorded on disk by the blocks' `block_writes` records, from which an open rebuilds them. The
 * meta value `index_savepoint` names the last block whose rows are in the tables; the pending
 * rows are always exactly those of the blocks after it.
 */
import Database from 'better-sqlite3';
import { SilkError } from '../errors.js';
import { decodeBlock } from '../ledger/block.js';
import { MERKLE_HASH_LENGTH, unpackInclusionPath } from '../ledger/merkle.js';
import { computeBlockProofs, type BlockProofs, type TxProof } from '../ledger/receipt.js';
import { killPoint } from './kill-points.js';
import { createBlockCommitter, toStoredCommit, WAL_AUTOCHECKPOINT_PAGES } from './ledger-commit.js';
import { openLedgerIndex, openLegacyIndex, type LedgerIndex } from './ledger-index.js';
import type { IndexFlush } from './pending-index.js';
import { StateCache } from './state-cache.js';
import { TxIdFilter } from './txid-filter.js';
import { openLedgerWriter } from './ledger-writer-pool.js';
import { INDEX_TABLES_SQL } from './index-migration.js';
import { migrateLedger } from './receipt-migration.js';
import { storedTxProof, storedTxProofs } from './receipt-hashes.js';

/** A stored state value with its version and key-level policy. */
export interface StoredState {
  readonly value: string;
  readonly block: number;
  readonly tx: number;
  readonly policy: string | null;
}

/** A stored block with what the peer computed for it. */
export interface StoredBlock {
  readonly number: number;
  readonly hash: Uint8Array;
  readonly bytes: Uint8Array;
  /** One byte per transaction: its validation code's index. */
  readonly codes: Uint8Array;
  readonly commitHash: Uint8Array;
  /** The peer's signature over its commit statement. */
  readonly peerSignature: Uint8Array;
  readonly timestamp: number;
}

/** One state change a block makes. */
export interface StateWrite {
  readonly ns: string;
  readonly key: string;
  readonly value: string | null;
  /** New key policy (`undefined` keeps the current one; deletes clear it). */
  readonly policy?: string;
  readonly tx: number;
  readonly txId: string;
}

/** Everything one block commits. */
export interface BlockCommit extends StoredBlock {
  /** Tx ids the block claims (64 lowercase hex digits); an id an earlier block claimed keeps its first location. */
  readonly txIndex: readonly { readonly txId: string; readonly tx: number; readonly code: number }[];
  readonly writes: readonly StateWrite[];
  /**
   * The block's receipt material (`computeBlockProofs`): its hashes are stored so receipts need
   * no decoding (receipt-hashes.ts), and the whole of it is kept in memory for the latest blocks.
   */
  readonly proofs: BlockProofs;
  /**
   * Key history and tx index rows to write with the block, sorted, and the new
   * `index_savepoint`. Set by the store when a batch is due; callers leave it out.
   */
  readonly index?: IndexFlush;
}

/** A block's receipt material as stored, with the copies of its commit statement parts. */
export interface StoredProofs extends BlockProofs {
  readonly codes: Uint8Array;
  readonly commitHash: Uint8Array;
  readonly peerSignature: Uint8Array;
}

/** Everything a receipt of one transaction holds except the chain, tx id and peer key. */
export interface StoredReceipt {
  readonly block: number;
  readonly tx: number;
  /** The validation code's index. */
  readonly code: number;
  readonly envelopeHash: Uint8Array;
  readonly leafHash: Uint8Array;
  /** The inclusion path, nearest sibling first (views of one stored buffer). */
  readonly path: readonly Uint8Array[];
  readonly header: Uint8Array;
  readonly ordererSignature: Uint8Array;
  /** One byte per transaction of the block, so also the tree size. */
  readonly codes: Uint8Array;
  readonly commitHash: Uint8Array;
  readonly peerSignature: Uint8Array;
}

/** A history row. */
export interface HistoryRow {
  readonly block: number;
  readonly tx: number;
  readonly txId: string;
  readonly value: string | null;
  readonly timestamp: number;
}

/** A tx index row. */
export interface TxLocation {
  readonly block: number;
  readonly tx: number;
  readonly code: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash BLOB NOT NULL, bytes BLOB NOT NULL, codes BLOB NOT NULL,
  commit_hash BLOB NOT NULL, peer_sig BLOB NOT NULL, ts INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS state (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, block INTEGER NOT NULL, tx INTEGER NOT NULL,
  policy TEXT, PRIMARY KEY (ns, key)) WITHOUT ROWID;
${INDEX_TABLES_SQL}
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS receipt_blocks (number INTEGER PRIMARY KEY, header BLOB NOT NULL, orderer_sig BLOB NOT NULL, codes BLOB NOT NULL,
  commit_hash BLOB NOT NULL, peer_sig BLOB NOT NULL, hashes BLOB);
`;

/** A block's receipt row: one primary-key read (`hashes` is NULL until a migration fills it). */
const RECEIPT_SQL = 'SELECT header, orderer_sig, codes, commit_hash, peer_sig, hashes FROM receipt_blocks WHERE number = ?';

interface ReceiptRow {
  hashes: Buffer | null;
  header: Buffer;
  orderer_sig: Buffer;
  codes: Buffer;
  commit_hash: Buffer;
  peer_sig: Buffer;
}

/** What {@link LedgerStore.checkIndexRows} found for one block. */
export interface IndexRowsCheck {
  readonly problem?: string;
  /** History rows the block has in the table (0 while its rows are pending). */
  readonly historyRows: number;
  /** Tx index rows the block has in the table (0 while its rows are pending). */
  readonly txRows: number;
}

/** What {@link LedgerStore.indexTotals} counts. */
export interface IndexTotals {
  readonly historyRows: number;
  readonly txRows: number;
  /** The last block whose index rows are in the tables (`-1` when none). */
  readonly indexSavepoint: number;
}

/** Options of {@link openSqliteLedgerStore}. */
export interface OpenLedgerStoreOptions {
  /** Open read-only (for `silk verify` on a copy, or inspection). */
  readonly readonly?: boolean;
  /**
   * Commit blocks on a writer thread (one of a small shared pool, src/storage/ledger-writer-pool.ts)
   * with its own connection, so the fsync of each commit does not stall the calling thread;
   * reads stay on the calling thread (WAL lets them run beside the writer).
   */
  readonly writerThread?: boolean;
  /** Transactions backfilled per SQLite transaction when a writable open migrates an older ledger (default 8192). */
  readonly migrationBatchTxs?: number;
  /**
   * A scratch store for a replay that is thrown away afterwards (`silk verify`): no rollback
   * journal, no fsync and no key history rows, so replaying a large ledger costs a fraction of
   * its disk writes and no memory beyond SQLite's page cache. Not crash-safe: never a peer's ledger.
   */
  readonly scratch?: boolean;
}

/** The ledger store of one peer for one chain. */
export interface LedgerStore {
  readonly path: string;
  /** Number of blocks stored (= the next block number). */
  height(): number;
  /** Last block whose state is applied (`-1` before genesis). */
  savepoint(): number;
  block(n: number): StoredBlock | undefined;
  state(ns: string, key: string): StoredState | undefined;
  range(ns: string, start: string, end: string, limit: number, after?: string): { key: string; value: string; block: number; tx: number }[];
  /** Runs a compiled rich query (SQL from the Mango compiler, over the `state` table). */
  select(sql: string, params: readonly unknown[]): Record<string, unknown>[];
  /**
   * A key's history rows in version order, after the `after` version when given, at most
   * `limit` of them. Values, tx ids and timestamps come from the blocks' index records.
   * @throws SilkError LEDGER_CORRUPT when a row's record is missing or does not hold it
   */
  history(ns: string, key: string, order: 'asc' | 'desc', limit: number, after?: { block: number; tx: number }): HistoryRow[];
  /** Where the transaction that first claimed a tx id is; undefined for an unknown or malformed id. */
  tx(txId: string): TxLocation | undefined;
  /**
   * What the receipt of the transaction at `at` (from {@link LedgerStore.tx}) needs: from memory
   * for the latest blocks a writing store committed; else one primary-key read of the block's
   * receipt row and its inclusion path derived from the stored leaf hashes (no block decoding).
   * A ledger not migrated yet (an older one opened read-only) computes it from the stored block.
   * @throws SilkError LEDGER_CORRUPT when the block or its rows are missing or unreadable
   */
  receipt(at: TxLocation): StoredReceipt;
  /**
   * A block's stored receipt material, or undefined when none is stored (for verification): the
   * paths derived from the stored leaf hashes, or, for a ledger from before version 4, read from
   * its receipt row per transaction.
   * @throws SilkError LEDGER_CORRUPT when the stored hashes are not a pair per transaction
   */
  proofs(n: number): StoredProofs | undefined;
  /** A block's stored index record (block-writes.ts), or undefined when none is stored (for verification). */
  blockWrites(n: number): Uint8Array | undefined;
  /**
   * Checks that the key history and tx index rows of block `n`'s record are in their tables
   * when the block is at or below the index savepoint (for verification; nothing to check on a
   * ledger older than schema version 3).
   * @returns the first problem, and the rows the block accounts for in the tables
   */
  checkIndexRows(n: number): IndexRowsCheck;
  /** Rows in the key history and tx index tables and the index savepoint (for verification). */
  indexTotals(): IndexTotals;
  /** Commits a block and all it changes atomically on this thread. @throws SilkError STORAGE_FULL, INTERNAL */
  commit(c: BlockCommit): void;
  /** Commits a block atomically, on the writer thread when the store has one. @throws SilkError STORAGE_FULL, INTERNAL */
  commitAsync(c: BlockCommit): Promise<void>;
  /** Runs DDL (contract indexes). */
  exec(sql: string): void;
  /** All state rows of the chain in (ns, key) order (for verification). */
  iterateState(): IterableIterator<{ ns: string; key: string; value: string; block: number; tx: number; policy: string | null }>;
  /** A metadata value (e.g. `peer_key`). */
  meta(name: string): string | undefined;
  /** Sets a metadata value outside block commits. */
  setMeta(name: string, value: string): void;
  /** Byte size of the database: its pages, counting those still in the write-ahead log (not the log file itself). */
  sizeBytes(): number;
  /** Truncating WAL checkpoint. */
  checkpoint(): void;
  /** Removes the world state, index records, history and tx index (blocks stay) so a replay rebuilds them. */
  resetDerivedData(): void;
  /** Online backup to a file. */
  backup(destination: string): Promise<void>;
  close(): Promise<void>;
}


/**
 * Opens (creating if needed) a peer's ledger file for one chain.
 * @param path the SQLite file
 * @example const store = openSqliteLedgerStore('./data/peer0.org1/trade.sqlite')
 */
export function openSqliteLedgerStore(path: string, options: OpenLedgerStoreOptions = {}): LedgerStore {
  const db = new Database(path, options.readonly ? { readonly: true, fileMustExist: true } : {});
  if (options.scratch === true) {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
  } else if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  }
  if (!options.readonly) {
    db.exec(SCHEMA);
    try {
      migrateLedger(db, options.migrationBatchTxs === undefined ? {} : { batchTxs: options.migrationBatchTxs });
    } catch (e) {
      db.close();
      throw e;
    }
  }
  db.pragma('cache_size = -32768');
  db.pragma('temp_store = MEMORY');
  db.defaultSafeIntegers(false);

  const q = {
    height: db.prepare<[], { n: number | null }>('SELECT MAX(number) AS n FROM blocks'),
    savepoint: db.prepare<[], { value: number }>("SELECT value FROM meta WHERE name = 'savepoint'"),
    block: db.prepare<[number], { number: number; hash: Buffer; bytes: Buffer; codes: Buffer; commit_hash: Buffer; peer_sig: Buffer; ts: number }>('SELECT * FROM blocks WHERE number = ?'),
    state: db.prepare<[string, string], StoredState>('SELECT value, block, tx, policy FROM state WHERE ns = ? AND key = ?'),
    range: db.prepare<[string, string, string, string, number], { key: string; value: string; block: number; tx: number }>('SELECT key, value, block, tx FROM state WHERE ns = ? AND key >= ? AND key < ? AND key > ? ORDER BY key LIMIT ?'),
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE name = ?'),
    putMeta: db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
    allState: db.prepare<[], { ns: string; key: string; value: string; block: number; tx: number; policy: string | null }>('SELECT ns, key, value, block, tx, policy FROM state ORDER BY ns, key'),
  };
  // An older ledger opened read-only has no stored receipt hashes: its receipts are computed from blocks.
  const hasReceiptHashes = (db.pragma('table_info(receipt_blocks)') as { name: string }[]).some((c) => c.name === 'hashes');
  const receiptRow = hasReceiptHashes ? db.prepare<[number], ReceiptRow>(RECEIPT_SQL) : undefined;
  // A ledger from before version 4 (read-only, or migrating) may still hold a receipt row per transaction.
  const hasOldTxRows = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'receipt_txs'").get() !== undefined;
  const oldReceipts = hasOldTxRows
    ? {
      block: db.prepare<[number], { header: Buffer; orderer_sig: Buffer; codes: Buffer; commit_hash: Buffer; peer_sig: Buffer }>('SELECT header, orderer_sig, codes, commit_hash, peer_sig FROM receipt_blocks WHERE number = ?'),
      txs: db.prepare<[number], { env_hash: Buffer; leaf: Buffer; path: Buffer }>('SELECT env_hash, leaf, path FROM receipt_txs WHERE block = ? ORDER BY tx'),
    }
    : undefined;

  /** A receipt from the block itself, for a block whose receipt hashes are not stored. */
  const computedReceipt = (t: TxLocation): StoredReceipt => {
    const stored = q.block.get(t.block);
    if (stored === undefined) throw new SilkError('LEDGER_CORRUPT', `${path}: the tx index names block ${t.block}, which is not stored`, { block: t.block });
    let proofs: BlockProofs;
    try {
      proofs = computeBlockProofs(decodeBlock(stored.bytes));
    } catch (e) {
      throw new SilkError('LEDGER_CORRUPT', `${path}: stored block ${t.block} does not decode: ${(e as Error).message}`, { block: t.block }, { cause: e });
    }
    const tx = proofs.txs[t.tx];
    if (tx === undefined) throw new SilkError('LEDGER_CORRUPT', `${path}: the tx index names tx ${t.tx} of block ${t.block}, which has ${proofs.txs.length}`, { block: t.block });
    return { block: t.block, tx: t.tx, code: t.code, envelopeHash: tx.envelopeHash, leafHash: tx.leafHash, path: unpackStoredPath(tx.path, t.block), header: proofs.header, ordererSignature: proofs.ordererSignature, codes: stored.codes, commitHash: stored.commit_hash, peerSignature: stored.peer_sig };
  };

  // The writing store keeps the receipt material of its latest blocks, as committed: a submit
  // returns its receipt right after the commit, which then needs no read.
  const recent = options.readonly ? undefined : new RecentProofs();
  const readReceipt = (t: TxLocation): StoredReceipt => {
    const p = recent?.get(t.block);
    const ptx = p?.txs[t.tx];
    if (p !== undefined && ptx !== undefined) {
      return { block: t.block, tx: t.tx, code: t.code, envelopeHash: ptx.envelopeHash, leafHash: ptx.leafHash, path: unpackStoredPath(ptx.path, t.block), header: p.header, ordererSignature: p.ordererSignature, codes: p.codes, commitHash: p.commitHash, peerSignature: p.peerSignature };
    }
    // No hashes: an older ledger not migrated yet (read-only), or one migrating (a prefix is done).
    const r = receiptRow?.get(t.block);
    if (r === undefined || r.hashes === null) return computedReceipt(t);
    let proof;
    try {
      proof = storedTxProof(r.hashes, r.codes.length, t.block, t.tx);
    } catch (e) {
      throw new SilkError('LEDGER_CORRUPT', `${path}: ${(e as Error).message}`, { block: t.block }, { cause: e });
    }
    return { block: t.block, tx: t.tx, code: t.code, envelopeHash: proof.hashes.envelopeHash, leafHash: proof.hashes.leafHash, path: proof.path, header: r.header, ordererSignature: r.orderer_sig, codes: r.codes, commitHash: r.commit_hash, peerSignature: r.peer_sig };
  };

  const index = openIndex(db, options);
  const committer = options.readonly ? undefined : createBlockCommitter(db);
  const writer = options.writerThread === true && !options.readonly ? openLedgerWriter(path) : undefined;
  if (writer !== undefined) db.pragma('busy_timeout = 10000');
  let cachedHeight: number | undefined;
  // A writing store is the ledger's only writer (the data lock): it knows every tx id committed,
  // so a new id's duplicate check needs no index read. Ids enter before their commit is written:
  // a failed commit leaves only a "maybe", which the index read then answers.
  const txIds = options.readonly ? undefined : TxIdFilter.of(index.txIds(), index.txCount());
  const mightContain = (id: string): boolean => txIds === undefined || txIds.mightContain(id);
  const rememberTxIds = (c: BlockCommit): void => {
    if (txIds !== undefined) for (const t of c.txIndex) txIds.add(t.txId);
  };
  // The only writer also keeps the hot part of the world state in memory (state-cache.ts).
  const stateCache = options.readonly ? undefined : new StateCache((ns, key) => q.state.get(ns, key));
  const noteCommitted = (c: BlockCommit): void => {
    if (cachedHeight !== undefined && c.number + 1 > cachedHeight) cachedHeight = c.number + 1;
    stateCache?.applyCommitted(c.number, c.writes);
    recent?.add(c.number, { ...c.proofs, codes: c.codes, commitHash: c.commitHash, peerSignature: c.peerSignature });
  };

  const store: LedgerStore = {
    path,
    height() {
      if (cachedHeight !== undefined) return cachedHeight;
      const n = q.height.get()?.n;
      const h = n === null || n === undefined ? 0 : n + 1;
      // Only a writing store knows every commit; a read-only one asks each time.
      if (!options.readonly) cachedHeight = h;
      return h;
    },
    savepoint() {
      return q.savepoint.get()?.value ?? -1;
    },
    block(n) {
      const r = q.block.get(n);
      if (r === undefined) return undefined;
      return { number: r.number, hash: r.hash, bytes: r.bytes, codes: r.codes, commitHash: r.commit_hash, peerSignature: r.peer_sig, timestamp: r.ts };
    },
    state(ns, key) {
      return stateCache === undefined ? q.state.get(ns, key) : stateCache.get(ns, key);
    },
    range(ns, start, end, limit, after) {
      return q.range.all(ns, start, end, after ?? '', limit);
    },
    select(sql, params) {
      return db.prepare(sql).all(...params) as Record<string, unknown>[];
    },
    history(ns, key, order, limit, after) {
      return index.history(ns, key, order, limit, after);
    },
    tx(txId) {
      if (!mightContain(txId)) return undefined;
      return index.tx(txId);
    },
    receipt: readReceipt,
    proofs(n) {
      const b = receiptRow?.get(n);
      if (b === undefined || b.hashes === null) {
        const old = oldReceipts?.block.get(n);
        if (oldReceipts === undefined || old === undefined) return undefined;
        const txs = oldReceipts.txs.all(n).map((t): TxProof => ({ envelopeHash: t.env_hash, leafHash: t.leaf, path: t.path }));
        return { header: old.header, ordererSignature: old.orderer_sig, codes: old.codes, commitHash: old.commit_hash, peerSignature: old.peer_sig, txs };
      }
      let txs;
      try {
        txs = storedTxProofs(b.hashes, b.codes.length, n);
      } catch (e) {
        throw new SilkError('LEDGER_CORRUPT', `${path}: ${(e as Error).message}`, { block: n }, { cause: e });
      }
      return { header: b.header, ordererSignature: b.orderer_sig, codes: b.codes, commitHash: b.commit_hash, peerSignature: b.peer_sig, txs };
    },
    blockWrites(n) {
      return index.blockWrites(n);
    },
    checkIndexRows(n) {
      return index.checkIndexRows(n);
    },
    indexTotals() {
      return index.indexTotals();
    },
    commit(c) {
      if (writer !== undefined) throw new SilkError('INTERNAL', 'this store commits on its writer thread: use commitAsync');
      if (committer === undefined) throw new SilkError('INTERNAL', `${path} is open read-only: it commits nothing`);
      const staged = index.stage(c, mightContain);
      rememberTxIds(c);
      committer.commit(toStoredCommit(staged.commit));
      index.committed(staged);
      noteCommitted(c);
    },
    async commitAsync(c) {
      if (writer === undefined) {
        store.commit(c);
        return;
      }
      const staged = index.stage(c, mightContain);
      rememberTxIds(c);
      try {
        await writer.commit(toStoredCommit(staged.commit));
      } catch (e) {
        // A refused commit rolled back, but a writer thread that died may have committed it.
        if (!(e instanceof SilkError) || e.code === 'INTERNAL') {
          stateCache?.clear();
          index.reload();
        }
        throw e;
      }
      index.committed(staged);
      noteCommitted(c);
    },
    exec(sql) {
      db.exec(sql);
    },
    iterateState() {
      return q.allState.iterate();
    },
    meta(name) {
      const v = q.getMeta.get(name)?.value;
      return v;
    },
    setMeta(name, value) {
      q.putMeta.run(name, value);
    },
    sizeBytes() {
      const pages = db.pragma('page_count', { simple: true }) as number;
      const size = db.pragma('page_size', { simple: true }) as number;
      return pages * size;
    },
    checkpoint() {
      killPoint('during-checkpoint');
      db.pragma('wal_checkpoint(TRUNCATE)');
    },
    resetDerivedData() {
      stateCache?.clear();
      recent?.clear();
      db.exec("DELETE FROM state; DELETE FROM history; DELETE FROM txs; DELETE FROM block_writes; DELETE FROM meta WHERE name IN ('savepoint', 'index_savepoint');");
      index.reset();
    },
    async backup(destination) {
      await db.backup(destination);
    },
    close() {
      // The pending index rows are written in a batch of their own, so a cleanly closed ledger
      // has none. Should that fail (a full disk), they stay in the blocks' records, from which
      // the next open rebuilds them: nothing is lost, so the close goes on.
      const flush: IndexFlush | undefined = committer !== undefined && db.open ? index.pendingFlush() : undefined;
      // Without a writer thread the store closes at once, before the promise is returned.
      if (writer === undefined) {
        if (flush !== undefined) {
          try {
            committer?.flush(flush);
            index.flushed(flush);
          } catch {
            // Rebuilt from block_writes on the next open.
          }
        }
        if (db.open) db.close();
        return Promise.resolve();
      }
      const flushed = flush === undefined ? Promise.resolve() : writer.flush(flush).then(() => {
        index.flushed(flush);
      }, () => undefined);
      return flushed.then(() => writer.close()).then(() => {
        if (db.open) db.close();
      });
    },
  };
  return store;
}

/**
 * The receipt material of a ledger's latest committed blocks, as the store committed it: up to
 * {@link RecentProofs.MAX_TXS} transactions' worth (always the newest block), oldest blocks
 * dropped first. A submit reads its receipt as soon as its block commits, so the newest blocks
 * are what matters; holding more costs memory out of proportion (four small buffers per
 * transaction that outlive the young generation: 8,192 per ledger added about 100 MB of RSS to
 * the rmw bench, 512 about 8 MB).
 */
class RecentProofs {
  static readonly MAX_TXS = 512;
  readonly #blocks = new Map<number, StoredProofs>();
  #txs = 0;

  get(n: number): StoredProofs | undefined {
    return this.#blocks.get(n);
  }

  add(n: number, p: StoredProofs): void {
    this.#drop(n);
    this.#blocks.set(n, p);
    this.#txs += p.txs.length;
    for (const oldest of this.#blocks.keys()) {
      if (this.#txs <= RecentProofs.MAX_TXS || oldest === n) break;
      this.#drop(oldest);
    }
  }

  clear(): void {
    this.#blocks.clear();
    this.#txs = 0;
  }

  #drop(n: number): void {
    const p = this.#blocks.get(n);
    if (p === undefined) return;
    this.#blocks.delete(n);
    this.#txs -= p.txs.length;
  }
}

/**
 * The key history and tx index of a ledger: of the current schema, or, for a ledger written
 * before schema version 3 and opened read-only, its older tables (a writable open migrates).
 */
function openIndex(db: Database.Database, options: OpenLedgerStoreOptions): LedgerIndex {
  const tableExists = (name: string): boolean => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  if (options.readonly === true) {
    // A migration interrupted after moving the old tables aside leaves them complete until its end.
    if (tableExists('history_v2')) return openLegacyIndex(db, { history: 'history_v2', txs: 'txs_v2' });
    const columns = (db.pragma('table_info(history)') as { name: string }[]).map((c) => c.name);
    if (columns.includes('txid')) return openLegacyIndex(db, { history: 'history', txs: 'txs' });
  }
  return openLedgerIndex(db, { readonly: options.readonly === true, history: options.scratch !== true });
}

/** A stored packed path as hashes. @throws SilkError LEDGER_CORRUPT for bytes that are not whole hashes */
function unpackStoredPath(packed: Uint8Array, block: number): Uint8Array[] {
  if (packed.length % MERKLE_HASH_LENGTH !== 0) throw new SilkError('LEDGER_CORRUPT', `the stored inclusion path of a transaction of block ${block} is ${packed.length} bytes, not whole ${MERKLE_HASH_LENGTH}-byte hashes`, { block });
  return unpackInclusionPath(packed);
}
