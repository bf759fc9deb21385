/**
 * A pooled writer thread (src/storage/ledger-writer-pool.ts): owns the write connections of the
 * ledgers given to it and commits their blocks, including the fsync of synchronous=FULL, off
 * the main thread. Messages: `{ id, open: path }`, `{ id, path, commit }` (in the form of
 * commit-message.ts), `{ id, path, flush }` (index rows without a block), `{ id, close: path }`;
 * replies `{ id }` or `{ id, error }`.
 */
import Database from 'better-sqlite3';
import { parentPort } from 'node:worker_threads';
import { SilkError } from '../errors.js';
import { createBlockCommitter, WAL_AUTOCHECKPOINT_PAGES, type BlockCommitter } from './ledger-commit.js';
import type { IndexFlush } from './pending-index.js';
import { fromCommitMessage, type CommitMessage } from './commit-message.js';

interface OpenLedger {
  readonly db: Database.Database;
  readonly committer: BlockCommitter;
}

const ledgers = new Map<string, OpenLedger>();

function open(path: string): void {
  if (ledgers.has(path)) throw new SilkError('INTERNAL', `${path} is already open on this writer thread`);
  const db = new Database(path, { fileMustExist: true });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  db.pragma('cache_size = -8192');
  db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  ledgers.set(path, { db, committer: createBlockCommitter(db) });
}

function ledger(path: string): OpenLedger {
  const l = ledgers.get(path);
  if (l === undefined) throw new SilkError('INTERNAL', `${path} is not open on this writer thread`);
  return l;
}

parentPort?.on('message', (msg: { id: number; open?: string; close?: string; path?: string; commit?: CommitMessage; flush?: IndexFlush }) => {
  try {
    if (msg.open !== undefined) open(msg.open);
    else if (msg.close !== undefined) {
      ledger(msg.close).db.close();
      ledgers.delete(msg.close);
    } else if (msg.flush !== undefined) ledger(msg.path ?? '').committer.flush(msg.flush);
    else ledger(msg.path ?? '').committer.commit(fromCommitMessage(msg.commit as CommitMessage));
    parentPort?.postMessage({ id: msg.id });
  } catch (e) {
    const err = e instanceof SilkError ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: (e as Error).message };
    parentPort?.postMessage({ id: msg.id, error: err });
  }
});
