/**
 * The index tables of schema version 3 and the conversion of older ledgers to them.
 *
 * Up to version 2 each key history row carried its tx id (hex text), value and timestamp, and
 * the tx index was keyed by the hex text of the id. Version 3 keeps history rows as their
 * primary key only, keys the tx index by the id's 32 bytes, and stores per block one index
 * record (`block_writes`, block-writes.ts) holding the block's tx ids and state writes.
 *
 * A writable open of an older ledger converts it: first, in one transaction, the old tables are
 * renamed `history_v2` and `txs_v2` (with an index by block so they can be read block by block)
 * and the new ones created; then batches, each its own transaction and oldest block first, write
 * each block's record built from its old rows and its rows in the new form; finally the old
 * tables are dropped and `index_savepoint` set. The records always cover a prefix of the blocks,
 * so an interrupted conversion resumes after its last committed batch on the next open; until
 * it ends, a read-only open reads the old tables, which stay complete.
 */
import type Database from 'better-sqlite3';
import { SilkError } from '../errors.js';
import { encodeBlockWrites, txIdBytes, type IndexedTx, type RecordedWrite } from './block-writes.js';
import { killPoint } from './kill-points.js';
import { INSERT_BLOCK_WRITES, INSERT_HISTORY, INSERT_TX, mapStorageError, SET_INDEX_SAVEPOINT } from './ledger-commit.js';

/** The index tables of the current schema. */
export const INDEX_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS history (ns TEXT NOT NULL, key TEXT NOT NULL, block INTEGER NOT NULL, tx INTEGER NOT NULL,
  PRIMARY KEY (ns, key, block, tx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS txs (txid BLOB PRIMARY KEY, block INTEGER NOT NULL, tx INTEGER NOT NULL, code INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS block_writes (number INTEGER PRIMARY KEY, writes BLOB NOT NULL);
`;

const START_SQL = `
ALTER TABLE history RENAME TO history_v2;
ALTER TABLE txs RENAME TO txs_v2;
${INDEX_TABLES_SQL}
CREATE INDEX history_v2_by_block ON history_v2 (block, tx);
CREATE INDEX txs_v2_by_block ON txs_v2 (block, tx);
DELETE FROM block_writes;
`;

/**
 * Converts the key history and tx index of a ledger written before schema version 3; a no-op
 * for a ledger already in the new form.
 * @param db a writable connection whose current tables exist (`history` may still be the old one)
 * @param batchTxs a batch (one SQLite transaction) ends once it holds at least this many transactions
 * @returns the number of blocks converted by this call
 * @throws SilkError LEDGER_CORRUPT for old rows that cannot be converted; STORAGE_FULL, INTERNAL
 */
export function migrateIndexRows(db: Database.Database, batchTxs: number): number {
  const path = db.name;
  const tableExists = (name: string): boolean => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  const oldForm = (db.pragma('table_info(history)') as { name: string }[]).some((c) => c.name === 'txid');
  try {
    if (oldForm) db.transaction(() => db.exec(START_SQL)).immediate();
  } catch (e) {
    mapStorageError(e, `converting the index of ${path} to ledger schema version 3`);
  }
  if (!tableExists('history_v2')) return 0;

  const savepointRow = db.prepare<[], { value: unknown }>("SELECT value FROM meta WHERE name = 'savepoint'").get();
  const upTo = savepointRow === undefined ? -1 : Number(savepointRow.value);
  const first = (db.prepare<[], number | null>('SELECT MAX(number) FROM block_writes').pluck().get() ?? -1) + 1;
  const q = {
    codes: db.prepare<[number], Buffer>('SELECT codes FROM blocks WHERE number = ?').pluck(),
    txs: db.prepare<[number], { txid: string; tx: number; code: number }>('SELECT txid, tx, code FROM txs_v2 WHERE block = ? ORDER BY tx'),
    history: db.prepare<[number], { ns: string; key: string; tx: number; txid: string; value: string | null }>('SELECT ns, key, tx, txid, value FROM history_v2 WHERE block = ? ORDER BY tx'),
    blockWrites: db.prepare(INSERT_BLOCK_WRITES),
    hist: db.prepare(INSERT_HISTORY),
    tx: db.prepare(INSERT_TX),
    setIndexSavepoint: db.prepare(SET_INDEX_SAVEPOINT),
  };

  /** One block's record and new rows from its old rows. */
  const convert = (n: number, history: [string, string, number, number][], txRows: [Buffer, number, number, number][]): number => {
    const txs: IndexedTx[] = q.txs.all(n).map((t) => ({ txId: t.txid, tx: t.tx, code: t.code }));
    const writes: RecordedWrite[] = [];
    const positions = new Set(txs.map((t) => t.tx));
    let codes: Buffer | undefined;
    for (const h of q.history.all(n)) {
      writes.push({ ns: h.ns, key: h.key, value: h.value, tx: h.tx });
      history.push([h.ns, h.key, n, h.tx]);
      // A write whose tx id the old index placed elsewhere keeps the id its history row named.
      if (!positions.has(h.tx)) {
        codes ??= q.codes.get(n) ?? Buffer.alloc(0);
        txs.push({ txId: h.txid, tx: h.tx, code: codes[h.tx] ?? 0 });
        positions.add(h.tx);
      }
    }
    let record: Uint8Array;
    try {
      record = encodeBlockWrites(txs, writes);
      for (const t of txs) txRows.push([txIdBytes(t.txId), n, t.tx, t.code]);
    } catch (e) {
      throw new SilkError('LEDGER_CORRUPT', `${path}: the key history or tx index of block ${n} cannot be converted (${(e as Error).message}); restore the ledger from a backup`, { block: n }, { cause: e });
    }
    q.blockWrites.run(n, record);
    return txs.length;
  };

  /** Converts blocks from `from` until the batch is full; returns the next block to do. */
  const batch = db.transaction((from: number): number => {
    const history: [string, string, number, number][] = [];
    const txRows: [Buffer, number, number, number][] = [];
    let n = from;
    let txs = 0;
    while (n <= upTo && txs < batchTxs) {
      txs += convert(n, history, txRows) + 1;
      n++;
    }
    // Sorted, so neighbouring rows share pages.
    history.sort((a, b) => (a[0] !== b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] !== b[1] ? (a[1] < b[1] ? -1 : 1) : a[2] - b[2] || a[3] - b[3]));
    txRows.sort((a, b) => Buffer.compare(a[0], b[0]));
    for (const [ns, key, block, tx] of history) q.hist.run(ns, key, block, tx);
    for (const [id, block, tx, code] of txRows) q.tx.run(id, block, tx, code);
    killPoint('during-index-migration');
    return n;
  });
  const finish = db.transaction(() => {
    db.exec('DROP TABLE history_v2; DROP TABLE txs_v2;');
    q.setIndexSavepoint.run(upTo);
  });

  try {
    for (let n = first; n <= upTo;) n = batch.immediate(n);
    finish.immediate();
  } catch (e) {
    if (e instanceof SilkError) throw e;
    mapStorageError(e, `converting the index of ${path} to ledger schema version 3`);
  }
  return Math.max(0, upTo - first + 1);
}
