/**
 * The writer threads of a process's ledgers, shared: a small pool (one per core, at least
 * two) where each thread owns the write connections of several ledgers and commits their
 * blocks, fsync included, off the main thread. A process with dozens of ledgers (the demo
 * alliance has 37) then runs a few threads instead of one per ledger: each thread costs about
 * 10 MB and a few tens of milliseconds to start. Threads start on first use and stop when their
 * last ledger closes, so an idle process holds none.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ERROR_CODES, SilkError, type ErrorCode } from '../errors.js';
import { toCommitMessage } from './commit-message.js';
import type { IndexFlush } from './pending-index.js';
import type { StoredCommit } from './ledger-commit.js';

/** One ledger's handle on its writer thread. */
export interface LedgerWriter {
  /** Commits a block on the writer thread. @throws SilkError STORAGE_FULL, INTERNAL */
  commit(c: StoredCommit): Promise<void>;
  /** Writes index rows without a block on the writer thread. @throws SilkError STORAGE_FULL, INTERNAL */
  flush(f: IndexFlush): Promise<void>;
  /** Closes the ledger's write connection; the thread stops when it has no ledger left. */
  close(): Promise<void>;
}

interface PendingCall {
  resolve(): void;
  reject(e: Error): void;
}

interface WriterThread {
  readonly worker: Worker;
  readonly pending: Map<number, PendingCall>;
  readonly ledgers: Set<string>;
  failed: Error | undefined;
}

/** Threads in the pool: `SILK_WRITER_THREADS`, else one per core, at least two. */
function poolSize(): number {
  const configured = Number(process.env.SILK_WRITER_THREADS);
  if (Number.isInteger(configured) && configured > 0) return configured;
  return Math.max(2, availableParallelism());
}

const threads: WriterThread[] = [];
let nextId = 1;

function failAll(t: WriterThread, e: Error): void {
  t.failed = e;
  for (const p of t.pending.values()) p.reject(new SilkError('INTERNAL', `ledger writer thread failed: ${e.message}`, {}, { cause: e }));
  t.pending.clear();
}

function startThread(): WriterThread {
  const worker = new Worker(new URL('./ledger-writer-worker.js', import.meta.url));
  const t: WriterThread = { worker, pending: new Map(), ledgers: new Set(), failed: undefined };
  worker.on('message', (msg: { id: number; error?: { code: string; message: string } }) => {
    const p = t.pending.get(msg.id);
    if (p === undefined) return;
    t.pending.delete(msg.id);
    if (msg.error === undefined) p.resolve();
    else p.reject(new SilkError(msg.error.code in ERROR_CODES ? (msg.error.code as ErrorCode) : 'INTERNAL', msg.error.message));
  });
  worker.on('error', (e) => {
    failAll(t, e);
  });
  worker.on('exit', (code) => {
    if (t.pending.size > 0) failAll(t, new Error(`exited with code ${code}`));
    const i = threads.indexOf(t);
    if (i >= 0) threads.splice(i, 1);
  });
  threads.push(t);
  return t;
}

function send(t: WriterThread, payload: object, transfer: ArrayBuffer[] = []): Promise<void> {
  return new Promise((resolve, reject) => {
    if (t.failed !== undefined) {
      reject(new SilkError('INTERNAL', `ledger writer thread failed: ${t.failed.message}`));
      return;
    }
    const id = nextId++;
    t.pending.set(id, { resolve, reject });
    t.worker.postMessage({ id, ...payload }, transfer);
  });
}

/** The thread with the fewest ledgers, or a new one while the pool is not full. */
function chooseThread(): WriterThread {
  const live = threads.filter((t) => t.failed === undefined);
  const idle = live.find((t) => t.ledgers.size === 0);
  if (idle !== undefined) return idle;
  if (live.length < poolSize()) return startThread();
  return live.reduce((a, b) => (b.ledgers.size < a.ledgers.size ? b : a));
}

function release(t: WriterThread, path: string): Promise<number> {
  t.ledgers.delete(path);
  if (t.ledgers.size > 0) return Promise.resolve(0);
  // Leave the pool before stopping, so no new ledger is given to a stopping thread.
  const i = threads.indexOf(t);
  if (i >= 0) threads.splice(i, 1);
  return t.worker.terminate();
}

/**
 * Opens a ledger's write connection on a pooled writer thread. The open is queued ahead of the
 * ledger's first commit (a thread handles its messages in order); a failure to open is
 * reported by that commit.
 * @param path the ledger's SQLite file (already created, WAL mode)
 * @example const writer = openLedgerWriter('./data/peers/peer0.org1/trade.sqlite'); await writer.commit(c)
 */
export function openLedgerWriter(path: string): LedgerWriter {
  const t = chooseThread();
  t.ledgers.add(path);
  const opened = send(t, { open: path });
  // Observed here so an open failure is never an unhandled rejection; commits re-throw it.
  opened.catch(() => undefined);
  return {
    commit: (c) =>
      opened.then(() => {
        const { message, transfer } = toCommitMessage(c);
        return send(t, { path, commit: message }, transfer);
      }),
    flush: (f) => opened.then(() => send(t, { path, flush: f })),
    async close() {
      try {
        await opened;
        if (t.failed === undefined) await send(t, { close: path });
      } catch {
        // A ledger that never opened, or a failed thread, has nothing to close.
      } finally {
        await release(t, path);
      }
    },
  };
}

/** Writer threads running now (for tests and metrics). */
export function writerThreadCount(): number {
  return threads.length;
}
