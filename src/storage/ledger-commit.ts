/**
 * The write side of a peer ledger: one block and everything it changes in one SQLite
 * transaction. Used by the store on the calling thread and by its writer thread alike.
 */
import type Database from 'better-sqlite3';
import { SilkError } from '../errors.js';
import { killPoint } from './kill-points.js';
import type { BlockCommit } from './sqlite-ledger-store.js';

/**
 * Pages the write-ahead log grows to before a commit copies it back into the database file
 * (SQLite's default is 1,000, about 4 MB). A block rewrites pages all over the state, history and
 * tx index trees, and most of them again a few blocks later: checkpointing every ~40 MB instead
 * copies each hot page once per many blocks, which cut the writer's CPU per block by about a
 * fifth in the rmw benchmark (docs/benchmarks.md). The log file stays around that size between
 * checkpoints.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/** Stores a block's share of its receipts (the commit and the migration of older ledgers). */
export const INSERT_RECEIPT_BLOCK = 'INSERT OR REPLACE INTO receipt_blocks (number, header, orderer_sig, codes, commit_hash, peer_sig) VALUES (?, ?, ?, ?, ?, ?)';
/** Stores one transaction's share of its receipt. */
export const INSERT_RECEIPT_TX = 'INSERT OR REPLACE INTO receipt_txs (block, tx, env_hash, leaf, path) VALUES (?, ?, ?, ?, ?)';

/**
 * Prepares the commit statements on a connection and returns the function committing a block.
 * @param db an open, writable connection to a ledger file
 * @param options `history: false` keeps no key history rows (a scratch replay's store)
 * @returns a function that commits one block atomically (IMMEDIATE transaction)
 */
export function createBlockCommitter(db: Database.Database, options: { readonly history?: boolean } = {}): (c: BlockCommit) => void {
  const keepHistory = options.history !== false;
  const q = {
    insertBlock: db.prepare('INSERT OR REPLACE INTO blocks (number, hash, bytes, codes, commit_hash, peer_sig, ts) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    upsert: db.prepare('INSERT INTO state (ns, key, value, block, tx, policy) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, block = excluded.block, tx = excluded.tx, policy = excluded.policy'),
    upsertKeepPolicy: db.prepare('INSERT INTO state (ns, key, value, block, tx, policy) VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, block = excluded.block, tx = excluded.tx'),
    del: db.prepare('DELETE FROM state WHERE ns = ? AND key = ?'),
    hist: db.prepare('INSERT OR REPLACE INTO history (ns, key, block, tx, txid, value, ts) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    txIndex: db.prepare('INSERT OR IGNORE INTO txs (txid, block, tx, code) VALUES (?, ?, ?, ?)'),
    receiptBlock: db.prepare(INSERT_RECEIPT_BLOCK),
    receiptTx: db.prepare(INSERT_RECEIPT_TX),
    setSavepoint: db.prepare("INSERT INTO meta (name, value) VALUES ('savepoint', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"),
  };
  const commitTx = db.transaction((c: BlockCommit) => {
    killPoint('before-block-insert');
    q.insertBlock.run(c.number, c.hash, c.bytes, c.codes, c.commitHash, c.peerSignature, c.timestamp);
    killPoint('after-block-insert');
    for (const w of c.writes) {
      if (w.value === null) q.del.run(w.ns, w.key);
      else if (w.policy === undefined) q.upsertKeepPolicy.run(w.ns, w.key, w.value, c.number, w.tx);
      else q.upsert.run(w.ns, w.key, w.value, c.number, w.tx, w.policy);
      if (keepHistory) q.hist.run(w.ns, w.key, c.number, w.tx, w.txId, w.value, c.timestamp);
    }
    for (const t of c.txIndex) q.txIndex.run(t.txId, c.number, t.tx, t.code);
    const { proofs } = c;
    q.receiptBlock.run(c.number, proofs.header, proofs.ordererSignature, c.codes, c.commitHash, c.peerSignature);
    proofs.txs.forEach((t, i) => q.receiptTx.run(c.number, i, t.envelopeHash, t.leafHash, t.path));
    q.setSavepoint.run(c.number);
    killPoint('after-state-writes');
    killPoint('before-commit');
  });
  return (c) => {
    try {
      commitTx.immediate(c);
    } catch (e) {
      if (e instanceof SilkError) throw e;
      mapStorageError(e, `committing block ${c.number}`);
    }
    killPoint('after-commit');
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
