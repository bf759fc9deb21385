/**
 * Writer thread of a peer ledger: owns the write connection and commits blocks (including the
 * fsync of synchronous=FULL) off the main thread. Replies `{ id }` or `{ id, error }`.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { SilkError } from '../errors.js';
import { createBlockCommitter } from './ledger-commit.js';
import type { BlockCommit } from './sqlite-ledger-store.js';

const { path } = workerData as { path: string };
const db = new Database(path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 10000');
const commit = createBlockCommitter(db);

parentPort?.on('message', (msg: { id: number; commit?: BlockCommit; close?: true }) => {
  if (msg.close === true) {
    db.close();
    parentPort?.postMessage({ id: msg.id });
    return;
  }
  try {
    commit(msg.commit as BlockCommit);
    parentPort?.postMessage({ id: msg.id });
  } catch (e) {
    const err = e instanceof SilkError ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: (e as Error).message };
    parentPort?.postMessage({ id: msg.id, error: err });
  }
});
