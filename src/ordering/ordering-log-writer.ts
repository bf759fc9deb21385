/**
 * The solo orderer's writer thread: one per orderer, started when the orderer opens and
 * stopped by its `close()`. It appends each block to the ordering log (WAL, synchronous=FULL),
 * fsync included, off the main thread, so the main thread cuts and signs the next block while
 * the last one is written; reads stay on the orderer's own connection to the same file. Writes
 * are applied and answered in the order they are given (`ordering-log-worker.ts`).
 */
import { Worker } from 'node:worker_threads';
import type { ChainConfig } from '../ledger/chain-config.js';

/** The handle on an ordering log's writer thread. */
export interface OrderingLogWriter {
  /**
   * Stores a block (and the configuration of a configuration block) durably. Settles in the
   * order of the calls. A block whose number does not follow its chain's last stored block is
   * refused: after a failed write, the blocks appended behind it fail too.
   * @throws Error the SQLite failure, with its `code` (e.g. SQLITE_FULL), or the thread's failure
   */
  append(chain: string, number: number, bytes: Uint8Array, config?: ChainConfig): Promise<void>;
  /** Waits for the pending writes, closes the write connection and stops the thread. */
  close(): Promise<void>;
}

/** Options of {@link openOrderingLogWriter}. */
export interface OrderingLogWriterOptions {
  /**
   * Called once if the thread stops on its own (an uncaught error, the thread exiting): every
   * pending and later write is rejected with the same error.
   */
  readonly onFailure?: (error: Error) => void;
}

interface PendingWrite {
  resolve(): void;
  reject(e: Error): void;
}

interface Reply {
  readonly id: number;
  readonly error?: { readonly message: string; readonly code?: string };
}

/**
 * Starts the writer thread of an ordering log. Opening is queued ahead of the first write; a
 * failure to open is reported by every write.
 * @param path the ordering log's SQLite file (already created with its tables, WAL mode)
 * @example const writer = openOrderingLogWriter('./data/orderer/log.sqlite'); await writer.append('trade', 7, bytes)
 */
export function openOrderingLogWriter(path: string, options: OrderingLogWriterOptions = {}): OrderingLogWriter {
  const worker = new Worker(new URL('./ordering-log-worker.js', import.meta.url));
  const pending = new Map<number, PendingWrite>();
  let nextId = 1;
  let failed: Error | undefined;
  let closing: Promise<void> | undefined;
  let stopping = false;

  const fail = (e: Error): void => {
    if (failed !== undefined || stopping) return;
    failed = new Error(`the ordering log's writer thread stopped: ${e.message}`, { cause: e });
    for (const p of pending.values()) p.reject(failed);
    pending.clear();
    worker.unref();
    options.onFailure?.(failed);
  };
  worker.on('message', (msg: Reply) => {
    const p = pending.get(msg.id);
    if (p === undefined) return;
    pending.delete(msg.id);
    // An idle writer does not keep the process alive; a pending write does.
    if (pending.size === 0) worker.unref();
    if (msg.error === undefined) p.resolve();
    else p.reject(Object.assign(new Error(msg.error.message), msg.error.code === undefined ? {} : { code: msg.error.code }));
  });
  worker.on('error', (e) => { fail(e); });
  worker.on('exit', (code) => { fail(new Error(`the thread exited with code ${code}`)); });

  const send = (payload: object): Promise<void> => new Promise<void>((resolve, reject) => {
    if (failed !== undefined) {
      reject(failed);
      return;
    }
    const id = nextId++;
    if (pending.size === 0) worker.ref();
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, ...payload });
  });
  // Observed here so an open failure is never an unhandled rejection; the writes report it.
  send({ open: path }).catch(() => undefined);

  return {
    append(chain, number, bytes, config) {
      if (closing !== undefined) return Promise.reject(new Error('the ordering log is closed'));
      return send({ chain, number, bytes, ...(config === undefined ? {} : { config: JSON.stringify(config) }) });
    },
    close() {
      closing ??= (async () => {
        try {
          // Answered after every write sent before it: the thread handles messages in order.
          await send({ close: true });
        } catch {
          // A failed thread has nothing left to close.
        } finally {
          stopping = true;
          await worker.terminate();
        }
      })();
      return closing;
    },
  };
}
