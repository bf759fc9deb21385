/**
 * Signature checks on all cores: a pool of worker threads, one per core, each calling the same
 * verify function as the hot path. Small batches stay on the calling thread, where a worker's
 * message round trip would cost more than it saves.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { verifyCallCount, verifyP256 } from './p256.js';

import { packSignatureChecks, type SignatureCheck } from './signature-batch.js';

export type { SignatureCheck } from './signature-batch.js';

/** Verifies batches of signatures, in parallel when the batch pays for it. */
export interface SignatureVerifier {
  /** Results in the order of `checks`. */
  verifyBatch(checks: readonly SignatureCheck[]): Promise<boolean[]>;
  /** Verify calls made so far on every thread of the pool. */
  verifyCount(): Promise<number>;
  close(): Promise<void>;
}

/** Options of {@link createVerifyPool}. */
export interface VerifyPoolOptions {
  /** Worker count; defaults to the number of cores. */
  readonly workers?: number;
  /** Batches smaller than this are verified inline. Default 32. */
  readonly minParallelBatch?: number;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

function verifyInline(checks: readonly SignatureCheck[]): boolean[] {
  return checks.map((c) => verifyP256(c.key, c.message, c.signature));
}

/**
 * Starts a verify pool. Call `close()` when done, or the workers keep the process alive.
 * @example const pool = createVerifyPool(); const ok = await pool.verifyBatch(checks); await pool.close();
 */
export function createVerifyPool(options: VerifyPoolOptions = {}): SignatureVerifier {
  const count = Math.max(1, options.workers ?? availableParallelism());
  const minBatch = options.minParallelBatch ?? 32;
  const workers: Worker[] = [];
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let closed = false;

  for (let i = 0; i < count; i++) {
    const w = new Worker(new URL('./verify-worker.js', import.meta.url));
    w.unref();
    w.on('message', (msg: { id: number; results?: Uint8Array; count?: number }) => {
      const p = pending.get(msg.id);
      if (p === undefined) return;
      pending.delete(msg.id);
      p.resolve(msg.results ?? msg.count);
    });
    w.on('error', (e) => {
      for (const p of pending.values()) p.reject(e);
      pending.clear();
    });
    workers.push(w);
  }

  const send = (w: Worker, payload: object, transfer: ArrayBuffer[] = []): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      w.postMessage({ id, ...payload }, transfer);
    });

  return {
    async verifyBatch(checks) {
      if (closed || checks.length < minBatch) return verifyInline(checks);
      const per = Math.ceil(checks.length / workers.length);
      const parts: Promise<unknown>[] = [];
      for (let i = 0; i < workers.length; i++) {
        const slice = checks.slice(i * per, (i + 1) * per);
        if (slice.length === 0) break;
        const packed = packSignatureChecks(slice);
        parts.push(send(workers[i] as Worker, { packed }, [packed.buffer as ArrayBuffer]));
      }
      const results = (await Promise.all(parts)) as Uint8Array[];
      const out: boolean[] = [];
      for (const r of results) for (const v of r) out.push(v === 1);
      return out;
    },
    async verifyCount() {
      const counts = (await Promise.all(workers.map((w) => send(w, { count: true })))) as number[];
      return counts.reduce((a, b) => a + b, verifyCallCount());
    },
    async close() {
      closed = true;
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/** A verifier that checks everything on the calling thread (tests, tiny nodes). */
export function createInlineVerifier(): SignatureVerifier {
  return {
    verifyBatch: (checks) => Promise.resolve(verifyInline(checks)),
    verifyCount: () => Promise.resolve(verifyCallCount()),
    close: () => Promise.resolve(),
  };
}
