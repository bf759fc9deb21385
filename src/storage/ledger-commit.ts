/**
 * The write side of a peer ledger: one block and everything it changes in one SQLite
 * transaction, with the key history and tx index rows of recent blocks when the store hands
 * them over (in batches: see INDEX_FLUSH_BLOCKS in sqlite-ledger-store.ts). Used by the store
 * on the calling thread and by its writer thread alike.
 */
import type Database from 'better-sqlite3';
import { SilkError } from '../errors.js';
import { encodeBlockWrites, txIdBytes } from './block-writes.js';
import { killPoint } from './kill-points.js';
import type { IndexFlush } from './pending-index.js';
import { storedReceiptMaterial, type StoredReceiptMaterial } from './receipt-hashes.js';
import type { BlockCommit } from './sqlite-ledger-store.js';

/** A block commit as it is written: its receipt material in the stored form (receipt-hashes.ts). */
export interface StoredCommit extends Omit<BlockCommit, 'proofs'> {
  readonly receipts: StoredReceiptMaterial;
}

/**
 * A commit in the form it is written: the receipt paths dropped, the hashes packed.
 * @throws SilkError INTERNAL when the receipt material is not whole 32-byte hashes
 */
export function toStoredCommit(c: BlockCommit): StoredCommit {
  const { proofs, ...rest } = c;
  return { ...rest, receipts: storedReceiptMaterial(c.number, proofs) };
}

/**
 * Pages the write-ahead log grows to before a commit copies it back into the database file
 * (SQLite's default is 1,000, about 4 MB). A block rewrites pages all over the state, history and
 * tx index trees (the index rows only every few dozen blocks), and most of them again a few blocks later: checkpointing every ~40 MB instead
 * copies each hot page once per many blocks, which cut the writer's CPU per block by about a
 * fifth in the rmw benchmark (docs/benchmarks.md). The log file stays around that size between
 * checkpoints.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/** Stores a block's receipt material (the commit and the migration of older ledgers; receipt-hashes.ts). */
export const INSERT_RECEIPT_BLOCK = 'INSERT OR REPLACE INTO receipt_blocks (number, header, orderer_sig, codes, commit_hash, peer_sig, hashes) VALUES (?, ?, ?, ?, ?, ?, ?)';

/** Stores a block's index record (block-writes.ts). */
export const INSERT_BLOCK_WRITES = 'INSERT OR REPLACE INTO block_writes (number, writes) VALUES (?, ?)';
/** Stores one key history row. */
export const INSERT_HISTORY = 'INSERT OR REPLACE INTO history (ns, key, block, tx) VALUES (?, ?, ?, ?)';
/** Stores one tx index row; the first block to claim an id keeps it. */
export const INSERT_TX = 'INSERT OR IGNORE INTO txs (txid, block, tx, code) VALUES (?, ?, ?, ?)';
/** Records the block up to which the index rows are in their tables. */
export const SET_INDEX_SAVEPOINT = "INSERT INTO meta (name, value) VALUES ('index_savepoint', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value";

/** The functions writing a ledger: a block with everything it changes, or index rows alone. */
export interface BlockCommitter {
  /** Commits one block atomically (IMMEDIATE transaction), with the index rows it carries. */
  commit(c: StoredCommit): void;
  /** Writes index rows and the index savepoint in their own transaction (a flush without a block). */
  flush(f: IndexFlush): void;
}

/**
 * Prepares the commit statements on a connection and returns the functions writing to it. The
 * index rows are written as the commit carries them (`index`): the store decides when.
 * @param db an open, writable connection to a ledger file
 * @example const committer = createBlockCommitter(db); committer.commit(c)
 */
export function createBlockCommitter(db: Database.Database): BlockCommitter {
  const q = {
    insertBlock: db.prepare('INSERT OR REPLACE INTO blocks (number, hash, bytes, codes, commit_hash, peer_sig, ts) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    upsert: db.prepare('INSERT INTO state (ns, key, value, block, tx, policy) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, block = excluded.block, tx = excluded.tx, policy = excluded.policy'),
    upsertKeepPolicy: db.prepare('INSERT INTO state (ns, key, value, block, tx, policy) VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, block = excluded.block, tx = excluded.tx'),
    del: db.prepare('DELETE FROM state WHERE ns = ? AND key = ?'),
    blockWrites: db.prepare(INSERT_BLOCK_WRITES),
    hist: db.prepare(INSERT_HISTORY),
    txIndex: db.prepare(INSERT_TX),
    setIndexSavepoint: db.prepare(SET_INDEX_SAVEPOINT),
    receiptBlock: db.prepare(INSERT_RECEIPT_BLOCK),
    setSavepoint: db.prepare("INSERT INTO meta (name, value) VALUES ('savepoint', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"),
  };
  const writeIndex = (f: IndexFlush): void => {
    for (const [ns, key, block, tx] of f.history) q.hist.run(ns, key, block, tx);
    for (const [txId, block, tx, code] of f.txs) q.txIndex.run(txIdBytes(txId), block, tx, code);
    q.setIndexSavepoint.run(f.savepoint);
  };
  const commitTx = db.transaction((c: StoredCommit) => {
    killPoint('before-block-insert');
    q.insertBlock.run(c.number, c.hash, c.bytes, c.codes, c.commitHash, c.peerSignature, c.timestamp);
    killPoint('after-block-insert');
    for (const w of c.writes) {
      if (w.value === null) q.del.run(w.ns, w.key);
      else if (w.policy === undefined) q.upsertKeepPolicy.run(w.ns, w.key, w.value, c.number, w.tx);
      else q.upsert.run(w.ns, w.key, w.value, c.number, w.tx, w.policy);
    }
    q.blockWrites.run(c.number, encodeBlockWrites(c.txIndex, c.writes));
    if (c.index !== undefined) writeIndex(c.index);
    const { receipts } = c;
    q.receiptBlock.run(c.number, receipts.header, receipts.ordererSignature, c.codes, c.commitHash, c.peerSignature, receipts.hashes);
    q.setSavepoint.run(c.number);
    killPoint('after-state-writes');
    killPoint('before-commit');
  });
  const flushTx = db.transaction(writeIndex);
  return {
    commit(c) {
      try {
        commitTx.immediate(c);
      } catch (e) {
        if (e instanceof SilkError) throw e;
        mapStorageError(e, `committing block ${c.number}`);
      }
      killPoint('after-commit');
    },
    flush(f) {
      try {
        flushTx.immediate(f);
      } catch (e) {
        if (e instanceof SilkError) throw e;
        mapStorageError(e, `writing the index rows up to block ${f.savepoint}`);
      }
    },
  };
}

/** True when a storage error means the disk (or file system) is full. */
export function isDiskFull(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? '';
  return code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE' || code === 'SQLITE_IOERR_FSYNC' || /ENOSPC|disk is full|database or disk is full/i.test(String(e));
}

/**
 * Turns a SQLite failure into a SilkError: STORAGE_FULL for a full disk, INTERNAL otherwise.
 * @throws SilkError always
 */
export function mapStorageError(e: unknown, what: string): never {
  if (isDiskFull(e)) {
    throw new SilkError('STORAGE_FULL', `${what}: the disk is full; nothing was committed`, {}, { cause: e });
  }
  throw new SilkError('INTERNAL', `${what}: ${(e as Error).message}`, {}, { cause: e });
}
