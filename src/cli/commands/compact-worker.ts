/**
 * The worker thread of `silk compact` (compact.ts): writes a compacted copy of one ledger with
 * SQLite's `VACUUM INTO`, off the thread that draws its progress. `workerData`: `{ from, to }`;
 * it posts `{ ok: true }` or `{ ok: false, code, message }` and ends.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const { from, to } = workerData as { from: string; to: string };
try {
  const db = new Database(from, { fileMustExist: true });
  try {
    db.prepare('VACUUM INTO ?').run(to);
  } finally {
    db.close();
  }
  parentPort?.postMessage({ ok: true });
} catch (e) {
  const code = (e as { code?: unknown }).code;
  parentPort?.postMessage({ ok: false, code: typeof code === 'string' ? code : '', message: (e as Error).message });
}
