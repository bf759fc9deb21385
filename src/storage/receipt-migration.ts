/**
 * The ledger schema version and the migration of older ledgers: of those written before
 * receipts were stored (below), then of those written before the index records (version 3,
 * index-migration.ts).
 *
 * Version 1 stored blocks, state, history and the tx index. Version 2 adds the receipt tables
 * (`receipt_blocks`: header, orderer signature and the peer's commit statement parts per
 * block; `receipt_txs`: envelope hash, leaf hash and packed inclusion path per transaction),
 * written in the same transaction as each block. A writable open of an older ledger backfills
 * them from the stored blocks in batches, each its own transaction, oldest block first: the
 * receipt rows always cover a prefix of the blocks, so an interrupted migration (a crash, a
 * full disk) resumes after the last committed batch on the next open.
 */
import type Database from 'better-sqlite3';
import { SilkError } from '../errors.js';
import { decodeBlock } from '../ledger/block.js';
import { computeBlockProofs } from '../ledger/receipt.js';
import { killPoint } from './kill-points.js';
import { migrateIndexRows } from './index-migration.js';
import { INSERT_RECEIPT_BLOCK, INSERT_RECEIPT_TX, mapStorageError } from './ledger-commit.js';

/**
 * The schema version this release writes; kept in `meta` as `schema_version`. Version 2 added
 * the receipt tables; version 3 the index records (`block_writes`), slim key history rows and
 * binary tx ids (index-migration.ts).
 */
export const LEDGER_SCHEMA_VERSION = 3;

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
 * block that lacks them, converts the key history and tx index of a ledger older than version 3
 * and records the version. A no-op beyond two indexed reads when the ledger is current.
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

  const maxOf = (sql: string): number => db.prepare<[], { n: number | null }>(sql).get()?.n ?? -1;
  const height = maxOf('SELECT MAX(number) AS n FROM blocks') + 1;
  const first = maxOf('SELECT MAX(number) AS n FROM receipt_blocks') + 1;
  const q = {
    block: db.prepare<[number], { bytes: Buffer; codes: Buffer; commit_hash: Buffer; peer_sig: Buffer }>('SELECT bytes, codes, commit_hash, peer_sig FROM blocks WHERE number = ?'),
    receiptBlock: db.prepare(INSERT_RECEIPT_BLOCK),
    receiptTx: db.prepare(INSERT_RECEIPT_TX),
    setVersion: db.prepare("INSERT INTO meta (name, value) VALUES ('schema_version', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"),
  };

  /** Backfills blocks from `from` until the batch is full; returns the next block to do. */
  const batch = db.transaction((from: number): number => {
    let n = from;
    let txs = 0;
    while (n < height && txs < batchTxs) {
      const row = q.block.get(n);
      if (row === undefined) throw new SilkError('LEDGER_CORRUPT', `${path}: block ${n} is missing below height ${height}`, { block: n });
      let proofs;
      try {
        proofs = computeBlockProofs(decodeBlock(row.bytes));
      } catch (e) {
        throw new SilkError('LEDGER_CORRUPT', `${path}: stored block ${n} does not decode (${(e as Error).message}); restore the ledger from a backup`, { block: n }, { cause: e });
      }
      q.receiptBlock.run(n, proofs.header, proofs.ordererSignature, row.codes, row.commit_hash, row.peer_sig);
      proofs.txs.forEach((t, i) => q.receiptTx.run(n, i, t.envelopeHash, t.leafHash, t.path));
      txs += proofs.txs.length;
      n++;
    }
    killPoint('during-receipt-migration');
    return n;
  });

  try {
    for (let n = first; n < height;) n = batch.immediate(n);
    if (version < 3) migrateIndexRows(db, batchTxs);
    if (version !== LEDGER_SCHEMA_VERSION) q.setVersion.run(String(LEDGER_SCHEMA_VERSION));
  } catch (e) {
    if (e instanceof SilkError) throw e;
    mapStorageError(e, `migrating ${path} to ledger schema version ${LEDGER_SCHEMA_VERSION}`);
  }
  return Math.max(0, height - first);
}
