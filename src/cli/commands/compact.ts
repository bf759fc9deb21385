/**
 * `silk compact`: gives the free pages of stopped peers' ledgers back to the file system. Each
 * ledger is opened for writing first, so one from an earlier release is brought to the current
 * schema (receipt-migration.ts; converting a version 3 ledger frees about a fifth of it), then
 * SQLite's `VACUUM INTO` writes a copy without its free pages, on a worker thread while a
 * progress bar follows the copy's size, and the copy takes the ledger's place once it is whole. It works on an embedded node's data folder
 * and on a distributed network's folder (peer-ledgers.ts), holds the folder's lock and each peer
 * folder's (so neither `silk start` nor a peer process can run meanwhile) and changes no content:
 * blocks, state, history and receipts read the same after.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { isSilkError } from '../../errors.js';
import { lockDataFolder, type DataLock } from '../../storage/data-lock.js';
import { mapStorageError } from '../../storage/ledger-commit.js';
import { openSqliteLedgerStore } from '../../storage/sqlite-ledger-store.js';
import { dataDir, EXIT } from '../cli-support.js';
import { createProgressBar } from '../progress.js';
import { count, size } from '../human-format.js';
import { peerLedgers } from '../peer-ledgers.js';

/** What compacting one ledger did. */
export interface CompactedLedger {
  readonly file: string;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

/** The bytes of a ledger file with its write-ahead log. */
function ledgerBytes(file: string): number {
  const wal = `${file}-wal`;
  return statSync(file).size + (existsSync(wal) ? statSync(wal).size : 0);
}

/** Flushes a file's (or folder's) contents to the disk. */
function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Runs `VACUUM INTO` on a worker thread, calling `onTick` every 250 ms until it ends. */
function vacuumInto(from: string, to: string, onTick: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./compact-worker.js', import.meta.url), { workerData: { from, to } });
    const tick = setInterval(onTick, 250);
    let answered = false;
    const end = (e?: Error): void => {
      if (answered) return;
      answered = true;
      clearInterval(tick);
      if (e === undefined) resolve();
      else reject(e);
    };
    worker.on('message', (m: { ok: boolean; code?: string; message?: string }) => {
      end(m.ok ? undefined : Object.assign(new Error(m.message ?? 'VACUUM INTO failed'), { code: m.code }));
    });
    worker.on('error', (e) => { end(e); });
    worker.on('exit', (code) => {
      end(code === 0 ? undefined : new Error(`the compacting thread exited with code ${code}`));
    });
  });
}

/**
 * Compacts one ledger whose folder's lock the caller holds: brings it to the current schema,
 * writes a copy without free pages beside it (`<file>.compacting`, with SQLite's `VACUUM INTO`;
 * the ledger itself is untouched until the copy is whole and on disk), then puts the copy in its
 * place. A copy left by an interrupted run is discarded first.
 * @param onProgress bytes of the copy written so far and about how many it will hold
 * @throws SilkError LEDGER_CORRUPT for a ledger of a newer schema; STORAGE_FULL when the disk cannot hold the copy (the ledger stays as it was)
 */
export async function compactLedger(file: string, onProgress: (done: number, total: number) => void = () => undefined): Promise<CompactedLedger> {
  const bytesBefore = ledgerBytes(file);
  await openSqliteLedgerStore(file).close();
  const db = new Database(file);
  let expected: number;
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    expected = pageSize * (Number(db.pragma('page_count', { simple: true })) - Number(db.pragma('freelist_count', { simple: true })));
  } finally {
    db.close();
  }
  const copy = `${file}.compacting`;
  rmSync(copy, { force: true });
  try {
    await vacuumInto(file, copy, () => {
      if (existsSync(copy)) onProgress(statSync(copy).size, expected);
    });
    fsyncPath(copy);
  } catch (e) {
    rmSync(copy, { force: true });
    mapStorageError(e, `compacting ${file}`);
  }
  onProgress(expected, expected);
  // The ledger's write-ahead log is empty (checkpointed above, and nothing writes under the
  // locks); it must not meet the copy, so it goes before the copy takes the ledger's name.
  rmSync(`${file}-wal`, { force: true });
  rmSync(`${file}-shm`, { force: true });
  renameSync(copy, file);
  fsyncPath(dirname(file));
  return { file, bytesBefore, bytesAfter: ledgerBytes(file) };
}

/** Takes a folder's lock, or explains who holds it. */
function takeLock(dir: string, what: string): DataLock {
  try {
    return lockDataFolder(dir);
  } catch (e) {
    if (isSilkError(e, 'DATA_FOLDER_LOCKED')) {
      const pid = typeof e.details.pid === 'number' ? ` (process ${e.details.pid})` : '';
      throw new CompactRefused(`${what} ${dir} is in use${pid}: stop the node first; a running peer's ledger cannot be rewritten`);
    }
    throw e;
  }
}

/** Why nothing was compacted. */
class CompactRefused extends Error {}

/** Runs `silk compact`. */
export async function compactCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { data: { type: 'string' }, peer: { type: 'string' }, chain: { type: 'string' }, json: { type: 'boolean' } }, strict: true });
  const dir = dataDir(values);
  const ledgers = peerLedgers(dir, values.peer, values.chain);
  const locks: DataLock[] = [];
  const done: CompactedLedger[] = [];
  try {
    locks.push(takeLock(dir, 'the data folder'));
    for (const peerDir of new Set(ledgers.map((l) => l.peerDir))) locks.push(takeLock(peerDir, 'the peer folder'));
    for (const { file } of ledgers) {
      const bar = createProgressBar(`compacting ${file} (MB)`, values.json !== true && process.stderr.isTTY);
      const mb = (bytes: number): number => Math.round(bytes / (1024 * 1024));
      const c = await compactLedger(file, (done, total) => { bar.update(mb(done), mb(total)); });
      bar.finish();
      done.push(c);
      if (values.json !== true) console.log(`compacted ${file}: ${size(c.bytesBefore)} → ${size(c.bytesAfter)}`);
    }
  } catch (e) {
    if (!(e instanceof CompactRefused)) throw e;
    if (values.json === true) console.log(JSON.stringify({ ok: false, error: e.message, ledgers: done }));
    else console.error(`silk compact: ${e.message}`);
    return EXIT.failure;
  } finally {
    for (const l of locks.reverse()) l.release();
  }
  const before = done.reduce((s, c) => s + c.bytesBefore, 0);
  const after = done.reduce((s, c) => s + c.bytesAfter, 0);
  if (values.json === true) console.log(JSON.stringify({ ok: true, bytesBefore: before, bytesAfter: after, ledgers: done }));
  else console.log(`${count(done.length, 'ledger')}: ${size(before)} → ${size(after)}`);
  return EXIT.ok;
}
