/**
 * The solo orderer's writer thread (src/ordering/ordering-log-writer.ts): owns the write
 * connection of the ordering log and appends its blocks, including the fsync of
 * synchronous=FULL, off the main thread, in the order they arrive. A block whose number does not
 * follow its chain's last stored block is refused, so once a write fails the blocks cut behind
 * it are not stored either. Messages: `{ id, open: path }`, `{ id, chain, number, bytes, config }`,
 * `{ id, close: true }`; replies `{ id }` or `{ id, error: { message, code } }`.
 */
import Database from 'better-sqlite3';
import { parentPort } from 'node:worker_threads';

interface OrderingLogRequest {
  readonly id: number;
  readonly open?: string;
  readonly close?: true;
  readonly chain?: string;
  readonly number?: number;
  readonly bytes?: Uint8Array;
  /** The configuration a configuration block carries, as JSON. */
  readonly config?: string;
}

interface OrderingLog {
  readonly db: Database.Database;
  append(chain: string, number: number, bytes: Uint8Array, config: string | undefined): void;
}

let log: OrderingLog | undefined;
let openError: Error | undefined;

function openLog(path: string): OrderingLog {
  const db = new Database(path, { fileMustExist: true });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  const insertBlock = db.prepare('INSERT INTO blocks (chain, number, bytes) VALUES (?, ?, ?)');
  const insertConfig = db.prepare('INSERT INTO configs (chain, number, config) VALUES (?, ?, ?)');
  const lastNumber = db.prepare<[string], { n: number | null }>('SELECT MAX(number) AS n FROM blocks WHERE chain = ?');
  // A configuration block and its configuration row are stored together, so reopening reads
  // one row instead of scanning the log.
  const insert = db.transaction((chain: string, number: number, bytes: Uint8Array, config: string | undefined) => {
    insertBlock.run(chain, number, bytes);
    if (config !== undefined) insertConfig.run(chain, number, config);
  });
  const next = new Map<string, number>();
  return {
    db,
    append(chain, number, bytes, config) {
      const expected = next.get(chain) ?? (lastNumber.get(chain)?.n ?? -1) + 1;
      next.set(chain, expected);
      if (number !== expected) throw new Error(`block ${number} of chain ${chain} does not follow the stored blocks (the next is ${expected}), so it was not stored`);
      insert.immediate(chain, number, bytes, config);
      next.set(chain, number + 1);
    },
  };
}

function handle(msg: OrderingLogRequest): void {
  if (msg.open !== undefined) {
    try {
      log = openLog(msg.open);
    } catch (e) {
      openError = e as Error;
      throw e;
    }
  } else if (msg.close === true) {
    log?.db.close();
    log = undefined;
  } else {
    if (log === undefined) throw openError ?? new Error('the ordering log is not open on its writer thread');
    log.append(msg.chain ?? '', msg.number ?? -1, msg.bytes ?? new Uint8Array(), msg.config);
  }
}

parentPort?.on('message', (msg: OrderingLogRequest) => {
  try {
    handle(msg);
    parentPort?.postMessage({ id: msg.id });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    parentPort?.postMessage({ id: msg.id, error: { message: (e as Error).message, ...(typeof code === 'string' ? { code } : {}) } });
  }
});
