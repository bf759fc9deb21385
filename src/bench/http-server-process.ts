/**
 * The parent's handle on the HTTP benchmark's server process (http-server-child.ts): forks it,
 * waits for its `ready` message, sends it calls and closes it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HttpChildArgs, HttpChildCall, HttpChildCalls, HttpChildMessage, HttpChildReady, HttpChildRequest } from './http-child-protocol.js';
import { NODE_FLAGS } from '../node-flags.js';

/** A running server process. */
export interface HttpServerProcess {
  readonly ready: HttpChildReady;
  readonly pid: number;
  /**
   * Sends a call and waits for its answer.
   * @throws Error with the child's stack when the call failed there, or when the child exited
   */
  call<K extends HttpChildCall>(call: K, params: HttpChildCalls[K]['params']): Promise<HttpChildCalls[K]['result']>;
  /** Closes the server and its network and waits for the process to exit (killing it after `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>;
}

/** Options of {@link startHttpServerProcess}. */
export interface HttpServerProcessOptions {
  /** Node options of the child, e.g. `['--cpu-prof', '--cpu-prof-dir=/tmp/prof']`. */
  readonly execArgv?: readonly string[];
  /** How long to wait for `ready` (network open and preload). Default 180 s. */
  readonly readyTimeoutMs?: number;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => { resolve(); }));
}

/**
 * Forks the server process and waits until it serves.
 * @param args seed and key count of the bench network
 * @param options node options of the child, how long to wait for it
 * @returns the handle; `ready.url` is the API's base URL
 * @throws Error when the child exits or times out before it is ready
 * @example const server = await startHttpServerProcess({ seed: 1, keys: 10_000 }); try { … } finally { await server.close() }
 */
export async function startHttpServerProcess(args: HttpChildArgs, options: HttpServerProcessOptions = {}): Promise<HttpServerProcess> {
  const child = fork(fileURLToPath(new URL('./http-server-child.js', import.meta.url)), ['--seed', String(args.seed), '--keys', String(args.keys)], {
    // The child's stdout goes to our stderr: our stdout holds only the JSON line.
    stdio: ['ignore', 2, 2, 'ipc'],
    execArgv: [...NODE_FLAGS, ...(options.execArgv ?? [])],
  });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let exitReason: string | undefined;

  const ready = await new Promise<HttpChildReady>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`the API server process was not ready within ${(options.readyTimeoutMs ?? 180_000) / 1000} s`));
    }, options.readyTimeoutMs ?? 180_000);
    child.on('message', (m: HttpChildMessage) => {
      if (m.kind === 'ready') {
        clearTimeout(timer);
        resolve(m);
        return;
      }
      const p = pending.get(m.id);
      if (p === undefined) return;
      pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(`API server process: ${m.error}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      exitReason = `the API server process exited (${signal ?? `code ${String(code)}`})`;
      for (const p of pending.values()) p.reject(new Error(exitReason));
      pending.clear();
      reject(new Error(exitReason));
    });
  });

  const call = <K extends HttpChildCall>(name: K, params: HttpChildCalls[K]['params']): Promise<HttpChildCalls[K]['result']> => {
    if (exitReason !== undefined) return Promise.reject(new Error(exitReason));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      const request: HttpChildRequest<K> = { id, call: name, params };
      child.send(request);
    });
  };

  return {
    ready,
    pid: child.pid ?? -1,
    call,
    async close(timeoutMs = 30_000) {
      if (exitReason !== undefined) return;
      const gone = exited(child);
      // A child that does not finish closing in time is killed (by its pid, through its handle).
      const timer = setTimeout(() => { child.kill(); }, timeoutMs);
      try {
        await call('close', {}).catch(() => undefined);
        await gone;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
