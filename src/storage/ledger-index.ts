/**
 * The key history and tx index of one ledger file: the `history` rows (ns, key, block, tx), the
 * `txs` rows (32-byte tx id → location and code), the blocks' `block_writes` records that hold
 * the rest of what a history row returns, and the rows of recent blocks still pending in memory
 * (pending-index.ts). Reads merge the tables (blocks up to `index_savepoint`) with the pending
 * rows (the blocks after it); commits are staged here so the rows of a batch travel with the
 * block that completes it.
 *
 * A writing store keeps its pending rows as it commits and rebuilds them from the records when
 * it opens. A read-only store (another process, `silk verify`) cannot see the writer's memory:
 * it rebuilds the pending rows from the records whenever the index savepoint or the newest
 * record moved, inside the read transaction of the query, so each answer is one snapshot.
 */
import type Database from 'better-sqlite3';
import { SilkError } from '../errors.js';
import {
  assertTxId, BlockWritesCache, decodeBlockWrites, indexBlockWrites, isTxId, txIdBytes, txIdHex,
  type IndexedBlockWrites, type IndexedTx,
} from './block-writes.js';
import { PendingIndex, pendingRowCount, type IndexFlush, type PendingBlock } from './pending-index.js';
import type { BlockCommit, HistoryRow, IndexRowsCheck, IndexTotals, TxLocation } from './sqlite-ledger-store.js';

/**
 * Blocks whose key history and tx index rows wait in memory before one commit writes them, sorted.
 * Rows inserted one block at a time land at random places in two ever-growing B-trees, so each
 * transaction dirtied about one 4 KB page per tree (written to the WAL and again at checkpoint);
 * inserted sorted in a batch, neighbouring rows share pages. Measured with the rmw benchmark's
 * statements (87-transaction blocks, 300,000 transactions over 10,000 keys), the writer's CPU per
 * block was 2,405 µs with per-block rows, 1,845 µs with batches of 20 blocks and 1,524 µs with
 * batches of 50; 32 takes most of that gain while an open rebuilds at most 32 blocks' rows.
 */
export const INDEX_FLUSH_BLOCKS = 32;
/** Pending rows (history and tx index) that make a batch due sooner, bounding memory for large blocks. */
export const INDEX_FLUSH_ROWS = 4096;

/** A commit ready for the committer, with the pending rows it adds once it succeeds. */
export interface StagedCommit {
  /** What to hand to the committer: the tx index entries that claim new ids, and any batch due. */
  readonly commit: BlockCommit;
  readonly block: PendingBlock;
}

/** The key history and tx index of a ledger, as its store uses them. */
export interface LedgerIndex {
  history(ns: string, key: string, order: 'asc' | 'desc', limit: number, after?: { block: number; tx: number }): HistoryRow[];
  /** The location of a tx id (no filter in front: the store keeps that). */
  tx(txId: string): TxLocation | undefined;
  /** Every indexed tx id in hex, tables and pending (to fill the store's filter). */
  txIds(): Iterable<string>;
  /** About how many ids {@link LedgerIndex.txIds} yields. */
  txCount(): number;
  /**
   * Prepares a block's commit: drops tx index entries whose id an earlier block claimed, and
   * attaches the pending rows when a batch is due.
   * @param mightContain the store's filter: false when an id is certainly not indexed
   * @throws SilkError INVALID_ARGUMENT for a malformed tx id; INTERNAL on a read-only ledger
   */
  stage(c: BlockCommit, mightContain: (txId: string) => boolean): StagedCommit;
  /** Takes a staged commit's rows once its SQLite transaction has committed. */
  committed(s: StagedCommit): void;
  /** The pending rows as a batch of their own, or undefined when none are pending. */
  pendingFlush(): IndexFlush | undefined;
  /** Takes a batch written without a block. */
  flushed(f: IndexFlush): void;
  /** Re-reads the index savepoint and pending rows from disk (after a writer failed mid-commit). */
  reload(): void;
  /** Forgets all pending rows and cached records (after the derived data was deleted). */
  reset(): void;
  blockWrites(n: number): Uint8Array | undefined;
  checkIndexRows(n: number): IndexRowsCheck;
  indexTotals(): IndexTotals;
}

/** Options of {@link openLedgerIndex}. */
export interface LedgerIndexOptions {
  readonly readonly: boolean;
  /** False keeps no key history rows (a scratch replay's store). */
  readonly history: boolean;
}

interface RecordRow {
  number: number;
  writes: Buffer;
  ts: number;
}

/**
 * The index of a ledger of the current schema.
 * @param db the store's connection; the tables exist
 */
export function openLedgerIndex(db: Database.Database, options: LedgerIndexOptions): LedgerIndex {
  const path = db.name;
  const keepHistory = options.history;
  const q = {
    histAsc: db.prepare<[string, string, number, number, number, number, number], { block: number; tx: number }>('SELECT block, tx FROM history WHERE ns = ? AND key = ? AND (block > ? OR (block = ? AND tx > ?)) AND block <= ? ORDER BY block, tx LIMIT ?'),
    histDesc: db.prepare<[string, string, number, number, number, number, number], { block: number; tx: number }>('SELECT block, tx FROM history WHERE ns = ? AND key = ? AND (block < ? OR (block = ? AND tx < ?)) AND block <= ? ORDER BY block DESC, tx DESC LIMIT ?'),
    histRow: db.prepare<[string, string, number, number], number>('SELECT 1 FROM history WHERE ns = ? AND key = ? AND block = ? AND tx = ?').pluck(),
    tx: db.prepare<[Buffer], TxLocation>('SELECT block, tx, code FROM txs WHERE txid = ?'),
    allTxIds: db.prepare<[], Buffer>('SELECT txid FROM txs').pluck(),
    txCount: db.prepare<[], number>('SELECT COUNT(*) FROM txs').pluck(),
    historyCount: db.prepare<[], number>('SELECT COUNT(*) FROM history').pluck(),
    record: db.prepare<[number], RecordRow>('SELECT w.number, w.writes, b.ts FROM block_writes w JOIN blocks b ON b.number = w.number WHERE w.number = ?'),
    rawRecord: db.prepare<[number], Buffer>('SELECT writes FROM block_writes WHERE number = ?').pluck(),
    recordsAfter: db.prepare<[number], RecordRow>('SELECT w.number, w.writes, b.ts FROM block_writes w JOIN blocks b ON b.number = w.number WHERE w.number > ? ORDER BY w.number'),
    lastRecord: db.prepare<[], number | null>('SELECT MAX(number) FROM block_writes').pluck(),
    indexSavepoint: db.prepare("SELECT value FROM meta WHERE name = 'index_savepoint'").pluck(),
  };
  const readIndexSavepoint = (): number => {
    const v = q.indexSavepoint.get();
    return v === undefined || v === null ? -1 : Number(v);
  };

  const records = new BlockWritesCache((n) => {
    const r = q.record.get(n);
    return r === undefined ? undefined : indexBlockWrites(n, r.ts, decodeBlockWrites(r.writes, n));
  });
  const pending = new PendingIndex(keepHistory);
  let indexSavepoint = -1;
  /** What the pending rows were rebuilt from (read-only stores re-check it per query). */
  let loadedFrom: { savepoint: number; last: number | null } | undefined;

  const corrupt = (block: number, message: string): never => {
    throw new SilkError('LEDGER_CORRUPT', `${path}: ${message}`, { block });
  };

  /** Rebuilds the pending rows from the records of the blocks after the index savepoint. */
  const load = (): void => {
    indexSavepoint = readIndexSavepoint();
    const last = q.lastRecord.get() ?? null;
    if (loadedFrom !== undefined && loadedFrom.savepoint === indexSavepoint && loadedFrom.last === last) return;
    pending.clear();
    for (const r of q.recordsAfter.iterate(indexSavepoint)) {
      const record = indexBlockWrites(r.number, r.ts, decodeBlockWrites(r.writes, r.number));
      pending.add({
        number: r.number,
        timestamp: r.ts,
        txs: record.txs,
        writes: record.writes.map((w) => ({ ...w, txId: record.txIdAt(w.tx) ?? corrupt(r.number, `the block_writes record of block ${r.number} has a write of tx ${w.tx} but no tx id for it`) })),
      });
    }
    loadedFrom = { savepoint: indexSavepoint, last };
  };
  // A read-only store answers each query from one snapshot, its pending rows checked in it.
  const snapshot = db.transaction((read: () => unknown): unknown => {
    load();
    return read();
  });
  const consistent = <T>(read: () => T): T => (options.readonly ? (snapshot.deferred(read) as T) : read());
  if (!options.readonly) load();

  /** A stored history row completed from its block's record. */
  const completeRow = (ns: string, key: string, block: number, tx: number): HistoryRow => {
    const record: IndexedBlockWrites | undefined = records.get(block);
    if (record === undefined) return corrupt(block, `key history of ${ns}/${key} names block ${block}, which has no block_writes record`);
    const w = record.write(ns, key, tx);
    const txId = record.txIdAt(tx);
    if (w === undefined || txId === undefined) return corrupt(block, `key history of ${ns}/${key} names tx ${tx} of block ${block}, whose block_writes record has no such write`);
    return { block, tx, txId, value: w.value, timestamp: record.timestamp };
  };

  const historyAsc = (ns: string, key: string, max: number, limit: number, after?: { block: number; tx: number }): HistoryRow[] => {
    const ab = after?.block ?? -1;
    const at = after?.tx ?? -1;
    const out = q.histAsc.all(ns, key, ab, ab, at, indexSavepoint, limit).map((r) => completeRow(ns, key, r.block, r.tx));
    for (const r of pending.history(ns, key)) {
      if (out.length >= max) break;
      if (r.block > ab || (r.block === ab && r.tx > at)) out.push(r);
    }
    return out;
  };

  const historyDesc = (ns: string, key: string, max: number, after?: { block: number; tx: number }): HistoryRow[] => {
    const ab = after?.block ?? Number.MAX_SAFE_INTEGER;
    const at = after?.tx ?? Number.MAX_SAFE_INTEGER;
    const out: HistoryRow[] = [];
    const rows = pending.history(ns, key);
    for (let i = rows.length - 1; i >= 0 && out.length < max; i--) {
      const r = rows[i] as HistoryRow;
      if (r.block < ab || (r.block === ab && r.tx < at)) out.push(r);
    }
    if (out.length < max) {
      const rest = max === Number.POSITIVE_INFINITY ? -1 : max - out.length;
      for (const r of q.histDesc.all(ns, key, ab, ab, at, indexSavepoint, rest)) out.push(completeRow(ns, key, r.block, r.tx));
    }
    return out;
  };

  /** True when an earlier block than `before` claimed the id. */
  const claimedBefore = (txId: string, before: number, mightContain: (txId: string) => boolean): boolean => {
    if (!mightContain(txId)) return false;
    const p = pending.tx(txId);
    if (p !== undefined && p.block < before) return true;
    const s = q.tx.get(txIdBytes(txId));
    return s !== undefined && s.block < before;
  };

  return {
    history(ns, key, order, limit, after) {
      // SQLite reads a negative LIMIT as none.
      const max = limit < 0 ? Number.POSITIVE_INFINITY : limit;
      return consistent(() => (order === 'asc' ? historyAsc(ns, key, max, limit, after) : historyDesc(ns, key, max, after)));
    },
    tx(txId) {
      if (!isTxId(txId)) return undefined;
      return consistent(() => pending.tx(txId) ?? q.tx.get(Buffer.from(txId, 'hex')));
    },
    *txIds() {
      for (const id of q.allTxIds.iterate()) yield txIdHex(id);
      for (const b of pending.pendingBlocks) for (const t of b.txs) yield t.txId;
    },
    txCount() {
      return (q.txCount.get() ?? 0) + pending.rows;
    },
    stage(c, mightContain) {
      if (options.readonly) throw new SilkError('INTERNAL', `${path} is open read-only: it commits nothing`);
      const txs: IndexedTx[] = [];
      const inBlock = new Set<string>();
      for (const t of c.txIndex) {
        assertTxId(t.txId);
        if (inBlock.has(t.txId) || claimedBefore(t.txId, c.number, mightContain)) continue;
        inBlock.add(t.txId);
        txs.push(t);
      }
      const block: PendingBlock = { number: c.number, timestamp: c.timestamp, txs, writes: keepHistory ? c.writes : [] };
      const due = pending.blocks + 1 >= INDEX_FLUSH_BLOCKS || pending.rows + pendingRowCount(block, keepHistory) >= INDEX_FLUSH_ROWS || c.number <= indexSavepoint;
      const index = due ? pending.flush(block, Math.max(indexSavepoint, c.number)) : undefined;
      if (index === undefined && txs.length === c.txIndex.length) return { commit: c, block };
      return { commit: { ...c, txIndex: txs, ...(index === undefined ? {} : { index }) }, block };
    },
    committed(s) {
      if (s.commit.index !== undefined) {
        pending.clear();
        indexSavepoint = s.commit.index.savepoint;
      } else pending.add(s.block);
      loadedFrom = undefined;
    },
    pendingFlush() {
      const last = pending.last;
      return last === undefined ? undefined : pending.flush(undefined, Math.max(indexSavepoint, last));
    },
    flushed(f) {
      pending.clear();
      indexSavepoint = f.savepoint;
      loadedFrom = undefined;
    },
    reload() {
      loadedFrom = undefined;
      records.clear();
      load();
    },
    reset() {
      pending.clear();
      records.clear();
      indexSavepoint = -1;
      loadedFrom = undefined;
    },
    blockWrites(n) {
      return q.rawRecord.get(n);
    },
    checkIndexRows(n) {
      return consistent(() => checkRows(n));
    },
    indexTotals() {
      return consistent(() => ({ historyRows: q.historyCount.get() ?? 0, txRows: q.txCount.get() ?? 0, indexSavepoint }));
    },
  };

  function checkRows(n: number): IndexRowsCheck {
    if (n > indexSavepoint) return { historyRows: 0, txRows: 0 };
    const raw = q.rawRecord.get(n);
    if (raw === undefined) return { problem: 'its block_writes record is missing', historyRows: 0, txRows: 0 };
    let record;
    try {
      record = decodeBlockWrites(raw, n);
    } catch (e) {
      return { problem: (e as Error).message, historyRows: 0, txRows: 0 };
    }
    for (const t of record.txs) {
      const at = q.tx.get(txIdBytes(t.txId));
      if (at === undefined || at.block !== n || at.tx !== t.tx || at.code !== t.code) return { problem: `the tx index row of tx ${t.tx} (${t.txId}) differs from the block_writes record`, historyRows: 0, txRows: 0 };
    }
    if (keepHistory) {
      for (const w of record.writes) {
        if (q.histRow.get(w.ns, w.key, n, w.tx) === undefined) return { problem: `the key history row of ${w.ns}/${w.key} by tx ${w.tx} is missing`, historyRows: 0, txRows: 0 };
      }
    }
    return { historyRows: keepHistory ? record.writes.length : 0, txRows: record.txs.length };
  }
}

/** Table names of a ledger written before schema version 3, opened read-only. */
export interface LegacyIndexTables {
  readonly history: string;
  readonly txs: string;
}

/**
 * The index of a ledger written before schema version 3, opened read-only (a writable open
 * migrates it): history rows carry their own tx id, value and timestamp; tx ids are text.
 * @param db a read-only connection
 */
export function openLegacyIndex(db: Database.Database, tables: LegacyIndexTables): LedgerIndex {
  type Row = { block: number; tx: number; txid: string; value: string | null; ts: number };
  const q = {
    histAsc: db.prepare<[string, string, number, number, number, number], Row>(`SELECT block, tx, txid, value, ts FROM ${tables.history} WHERE ns = ? AND key = ? AND (block > ? OR (block = ? AND tx > ?)) ORDER BY block, tx LIMIT ?`),
    histDesc: db.prepare<[string, string, number, number, number, number], Row>(`SELECT block, tx, txid, value, ts FROM ${tables.history} WHERE ns = ? AND key = ? AND (block < ? OR (block = ? AND tx < ?)) ORDER BY block DESC, tx DESC LIMIT ?`),
    tx: db.prepare<[string], TxLocation>(`SELECT block, tx, code FROM ${tables.txs} WHERE txid = ?`),
    txCount: db.prepare<[], number>(`SELECT COUNT(*) FROM ${tables.txs}`).pluck(),
    historyCount: db.prepare<[], number>(`SELECT COUNT(*) FROM ${tables.history}`).pluck(),
  };
  const readOnly = (): never => {
    throw new SilkError('INTERNAL', `${db.name} is open read-only: it commits nothing`);
  };
  return {
    history(ns, key, order, limit, after) {
      const rows = order === 'asc'
        ? q.histAsc.all(ns, key, after?.block ?? -1, after?.block ?? -1, after?.tx ?? -1, limit)
        : q.histDesc.all(ns, key, after?.block ?? Number.MAX_SAFE_INTEGER, after?.block ?? Number.MAX_SAFE_INTEGER, after?.tx ?? Number.MAX_SAFE_INTEGER, limit);
      return rows.map((r) => ({ block: r.block, tx: r.tx, txId: r.txid, value: r.value, timestamp: r.ts }));
    },
    tx(txId) {
      return isTxId(txId) ? q.tx.get(txId) : undefined;
    },
    txIds: () => [],
    txCount: () => 0,
    stage: readOnly,
    committed: readOnly,
    pendingFlush: () => undefined,
    flushed: readOnly,
    reload: () => undefined,
    reset: readOnly,
    blockWrites: () => undefined,
    checkIndexRows: () => ({ historyRows: 0, txRows: 0 }),
    indexTotals: () => ({ historyRows: q.historyCount.get() ?? 0, txRows: q.txCount.get() ?? 0, indexSavepoint: -1 }),
  };
}
