/**
 * `silk compact`: gives the free pages of stopped peers' ledgers back to the file system. Each
 * ledger is opened for writing first, so one from an earlier release is brought to the current
 * schema (receipt-migration.ts; converting a version 3 ledger frees about a fifth of it), then
 * SQLite's `VACUUM` rewrites it without its free pages. It works on an embedded node's data folder
 * and on a distributed network's folder (peer-ledgers.ts), holds the folder's lock and each peer
 * folder's (so neither `silk start` nor a peer process can run meanwhile) and changes no content:
 * blocks, state, history and receipts read the same after.
 */
import { existsSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { isSilkError } from '../../errors.js';
import { lockDataFolder, type DataLock } from '../../storage/data-lock.js';
import { mapStorageError } from '../../storage/ledger-commit.js';
import { openSqliteLedgerStore } from '../../storage/sqlite-ledger-store.js';
import { dataDir, EXIT } from '../cli-support.js';
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

/**
 * Compacts one ledger whose folder's lock the caller holds: brings it to the current schema, then
 * rewrites it without free pages and empties its write-ahead log.
 * @throws SilkError LEDGER_CORRUPT for a ledger of a newer schema; STORAGE_FULL when the disk cannot hold the rewrite (the ledger stays as it was)
 */
export async function compactLedger(file: string): Promise<CompactedLedger> {
  const bytesBefore = ledgerBytes(file);
  await openSqliteLedgerStore(file).close();
  const db = new Database(file);
  try {
    db.exec('VACUUM');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } catch (e) {
    mapStorageError(e, `compacting ${file}`);
  } finally {
    db.close();
  }
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
      const c = await compactLedger(file);
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
