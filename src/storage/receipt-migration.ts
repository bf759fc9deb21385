/**
 * The ledger schema version and the migration of older ledgers: of those written before
 * receipts were stored, or stored with a row per transaction (below), then of those written
 * before the index records (version 3, index-migration.ts).
 *
 * Version 1 stored blocks, state, history and the tx index. Version 2 added the receipt tables
 * (`receipt_blocks`: header, orderer signature and the peer's commit statement parts per
 * block; `receipt_txs`: envelope hash, leaf hash and packed inclusion path per transaction),
 * written in the same transaction as each block. Version 4 keeps only `receipt_blocks`, with
 * the block's envelope and leaf hashes in one column (`hashes`, receipt-hashes.ts): paths are
 * derived when read, and a ledger is about a fifth smaller.
 *
 * A writable open of an older ledger migrates it in batches, each its own transaction, oldest
 * block first: it backfills the receipt rows of blocks that have none from the stored blocks
 * (the rows always cover a prefix of the blocks), then fills the `hashes` of rows that lack
 * them from their old per-transaction rows, and drops those rows' table at the end. An
 * interrupted migration (a crash, a full disk) resumes after the last committed batch on the
 * next open. The space of the dropped table is reused as the ledger grows (`silk compact`, with
 * the node stopped, gives it back to the file system).
 */
import type Database from 'better-sqlite3';
import { SilkError } from '../errors.js';
import { decodeBlock } from '../ledger/block.js';
import { MERKLE_HASH_LENGTH } from '../ledger/merkle.js';
import { computeBlockProofs } from '../ledger/receipt.js';
import { killPoint } from './kill-points.js';
import { migrateIndexRows } from './index-migration.js';
import { INSERT_RECEIPT_BLOCK, mapStorageError } from './ledger-commit.js';
import { packReceiptHashes, type TxHashes } from './receipt-hashes.js';

/**
 * The schema version this release writes; kept in `meta` as `schema_version`. Version 2 added
 * the receipt tables; version 3 the index records (`block_writes`), slim key history rows and
 * binary tx ids (index-migration.ts); version 4 the receipt hashes per block instead of a row
 * per transaction.
 */
export const LEDGER_SCHEMA_VERSION = 4;

/** Transactions backfilled per SQLite transaction unless the caller says otherwise. */
const DEFAULT_BATCH_TXS = 8192;

/**
 * The schema version a ledger file declares: 1 for a file from before versions were kept.
 * @param db an open connection (read-only is fine)
 */
export function ledgerSchemaVersion(db: Database.Database): number {
  const row = db.prepare<[], { value: unknown }>("SELECT value FROM meta WHERE name = 'schema_version'").get();
  return row === undefined ? 1 : Number(row.value);
}

/** Options of {@link migrateLedger}. */
export interface MigrateLedgerOptions {
  /** A batch (one SQLite transaction) ends once it holds at least this many transactions. */
  readonly batchTxs?: number;
}

/**
 * Brings a writable ledger to {@link LEDGER_SCHEMA_VERSION}: backfills the receipt rows of every
 * block that lacks them, fills the receipt hashes of rows from before version 4 and drops their
 * per-transaction rows, converts the key history and tx index of a ledger older than version 3
 * and records the version. A no-op beyond a few indexed reads when the ledger is current.
 * @param db a writable connection whose schema (receipt tables included) exists
 * @returns the number of blocks backfilled
 * @throws SilkError LEDGER_CORRUPT for a ledger of a newer schema or a stored block that does not decode; STORAGE_FULL, INTERNAL
 */
export function migrateLedger(db: Database.Database, options: MigrateLedgerOptions = {}): number {
  const path = db.name;
  const version = ledgerSchemaVersion(db);
  if (!Number.isInteger(version) || version < 1 || version > LEDGER_SCHEMA_VERSION) {
    throw new SilkError('LEDGER_CORRUPT', `${path} declares ledger schema version ${String(version)}; this release reads versions 1 to ${LEDGER_SCHEMA_VERSION}: open it with the release that wrote it`);
  }
  const batchTxs = options.batchTxs ?? DEFAULT_BATCH_TXS;
  if (!Number.isSafeInteger(batchTxs) || batchTxs < 1) throw new SilkError('INVALID_ARGUMENT', `batchTxs must be a positive integer, got ${batchTxs}`, { path: 'batchTxs' });

  const tableExists = (name: string): boolean => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  try {
    // A receipt table from before version 4 lacks the hashes column (the schema creates it for a new ledger).
    if (!(db.pragma('table_info(receipt_blocks)') as { name: string }[]).some((c) => c.name === 'hashes')) db.exec('ALTER TABLE receipt_blocks ADD COLUMN hashes BLOB');
  } catch (e) {
    mapStorageError(e, `migrating ${path} to ledger schema version ${LEDGER_SCHEMA_VERSION}`);
  }
  const oldTxRows = tableExists('receipt_txs');
  const maxOf = (sql: string): number => db.prepare<[], { n: number | null }>(sql).get()?.n ?? -1;
  const height = maxOf('SELECT MAX(number) AS n FROM blocks') + 1;
  const first = maxOf('SELECT MAX(number) AS n FROM receipt_blocks') + 1;
  const q = {
    block: db.prepare<[number], { bytes: Buffer; codes: Buffer; commit_hash: Buffer; peer_sig: Buffer }>('SELECT bytes, codes, commit_hash, peer_sig FROM blocks WHERE number = ?'),
    receiptBlock: db.prepare(INSERT_RECEIPT_BLOCK),
    unfilled: db.prepare<[number, number], { number: number; codes: Buffer }>('SELECT number, codes FROM receipt_blocks WHERE hashes IS NULL AND number >= ? ORDER BY number LIMIT ?'),
    oldTxRows: oldTxRows ? db.prepare<[number], { env_hash: Buffer; leaf: Buffer }>('SELECT env_hash, leaf FROM receipt_txs WHERE block = ? ORDER BY tx') : undefined,
    fill: db.prepare('UPDATE receipt_blocks SET hashes = ? WHERE number = ?'),
    setVersion: db.prepare("INSERT INTO meta (name, value) VALUES ('schema_version', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"),
  };
  const proofsOf = (n: number, bytes: Uint8Array): ReturnType<typeof computeBlockProofs> => {
    try {
      return computeBlockProofs(decodeBlock(bytes));
    } catch (e) {
      throw new SilkError('LEDGER_CORRUPT', `${path}: stored block ${n} does not decode (${(e as Error).message}); restore the ledger from a backup`, { block: n }, { cause: e });
    }
  };
  const storedBlock = (n: number): { bytes: Buffer; codes: Buffer; commit_hash: Buffer; peer_sig: Buffer } => {
    const row = q.block.get(n);
    if (row === undefined) throw new SilkError('LEDGER_CORRUPT', `${path}: block ${n} is missing below height ${height}`, { block: n });
    return row;
  };

  /** Backfills blocks from `from` until the batch is full; returns the next block to do. */
  const backfill = db.transaction((from: number): number => {
    let n = from;
    let txs = 0;
    while (n < height && txs < batchTxs) {
      const row = storedBlock(n);
      const proofs = proofsOf(n, row.bytes);
      q.receiptBlock.run(n, proofs.header, proofs.ordererSignature, row.codes, row.commit_hash, row.peer_sig, packReceiptHashes(proofs.txs, n));
      txs += proofs.txs.length;
      n++;
    }
    killPoint('during-receipt-migration');
    return n;
  });

  /**
   * Fills the hashes of receipt rows from before version 4, from `from` until the batch is full:
   * from their per-transaction rows when those are whole, else from the block. Returns the next
   * block to look at, or undefined when none is left.
   */
  const fill = db.transaction((from: number): number | undefined => {
    let txs = 0;
    let next: number | undefined = from;
    while (next !== undefined && txs < batchTxs) {
      const rows = q.unfilled.all(next, 64);
      if (rows.length === 0) next = undefined;
      for (const r of rows) {
        if (txs >= batchTxs) break;
        const old: TxHashes[] = (q.oldTxRows?.all(r.number) ?? []).map((t) => ({ envelopeHash: t.env_hash, leafHash: t.leaf }));
        const whole = old.length === r.codes.length && old.every((t) => t.envelopeHash.length === MERKLE_HASH_LENGTH && t.leafHash.length === MERKLE_HASH_LENGTH);
        q.fill.run(packReceiptHashes(whole ? old : proofsOf(r.number, storedBlock(r.number).bytes).txs, r.number), r.number);
        txs += r.codes.length;
        next = r.number + 1;
      }
    }
    killPoint('during-receipt-migration');
    return next;
  });

  try {
    for (let n = first; n < height;) n = backfill.immediate(n);
    // A version 4 ledger writes the hashes with every block: only an older one has rows to fill.
    if (version < 4) for (let n: number | undefined = 0; n !== undefined;) n = fill.immediate(n);
    if (oldTxRows) db.exec('DROP TABLE receipt_txs');
    if (version < 3) migrateIndexRows(db, batchTxs);
    if (version !== LEDGER_SCHEMA_VERSION) q.setVersion.run(String(LEDGER_SCHEMA_VERSION));
  } catch (e) {
    if (e instanceof SilkError) throw e;
    mapStorageError(e, `migrating ${path} to ledger schema version ${LEDGER_SCHEMA_VERSION}`);
  }
  return Math.max(0, height - first);
}
