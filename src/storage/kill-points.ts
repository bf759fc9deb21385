/**
 * Named kill points for crash testing. When `SILK_KILL_POINT` names a point and the point has
 * been reached `SILK_KILL_AFTER` times (default 1), the process is killed with SIGKILL there,
 * exactly as a power cut would stop it. Unset in production: the check is one comparison.
 *
 * `during-checkpoint` cannot stop at a line of JavaScript, because the checkpoint runs inside
 * SQLite: a watchdog thread started in advance is woken just before the checkpoint call and
 * sends SIGKILL a fraction of a millisecond later, while SQLite is copying pages and syncing.
 */
import { Worker } from 'node:worker_threads';

const target = process.env.SILK_KILL_POINT;
let remaining = Number(process.env.SILK_KILL_AFTER ?? '1');

/** Kill points the storage layer defines. */
export type KillPoint = 'before-block-insert' | 'after-block-insert' | 'after-state-writes' | 'before-commit' | 'after-commit' | 'during-checkpoint' | 'during-receipt-migration' | 'during-index-migration';

let watchdog: { readonly signal: Int32Array } | undefined;
if (target === 'during-checkpoint') {
  const shared = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const s = workerData.signal;
     Atomics.wait(s, 0, 0);
     Atomics.wait(s, 0, 1, Math.random() * 0.8);
     process.kill(workerData.pid, 'SIGKILL');`,
    { eval: true, workerData: { signal: shared, pid: process.pid } },
  );
  worker.unref();
  watchdog = { signal: shared };
}

/**
 * Dies here when this point is the configured one and its count is reached.
 * @param name the point reached
 */
export function killPoint(name: KillPoint): void {
  if (target !== name) return;
  remaining -= 1;
  if (remaining > 0) return;
  if (watchdog !== undefined) {
    // Wake the watchdog and return into the checkpoint, which it interrupts.
    Atomics.store(watchdog.signal, 0, 1);
    Atomics.notify(watchdog.signal, 0);
    return;
  }
  process.kill(process.pid, 'SIGKILL');
}
