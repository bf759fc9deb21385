/** Runs the built `silk` command line in a child process, as an operator would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI entry point. */
export const CLI_PATH = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** How a `silk` run ended and what it printed. */
export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running `silk` process. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** What it printed so far. */
  readonly output: () => { readonly stdout: string; readonly stderr: string };
  /** Resolves when it has exited. */
  readonly exited: Promise<CliRun>;
}

/** Environment changes for a child: a value sets the variable, `undefined` removes it. */
export type EnvChanges = Readonly<Record<string, string | undefined>>;

function childEnv(changes: EnvChanges): Record<string, string> {
  const merged: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...changes };
  return Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined));
}

/**
 * Starts `silk ARGS…` in a child process (LOG_LEVEL defaults to warn), stdin closed (no terminal).
 * @param timeoutMs the child is killed after this long (default 60 s)
 * @param env variables to set, or to remove with `undefined`
 * @example const p = spawnCli(['start', '--data', dir, '--port', '0']); … p.child.kill('SIGTERM'); const r = await p.exited
 */
export function spawnCli(args: readonly string[], timeoutMs = 60_000, env: EnvChanges = {}): CliProcess {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, output: () => ({ stdout, stderr }), exited };
}

/**
 * Runs `silk ARGS…` to completion without blocking this process's event loop (a network open in
 * the test keeps committing meanwhile).
 * @param timeoutMs the child is killed after this long (default 60 s)
 * @example const r = await runCli(['verify', '--data', dir, '--json']); assert.equal(r.code, 0)
 */
export function runCli(args: readonly string[], timeoutMs = 60_000, env: EnvChanges = {}): Promise<CliRun> {
  return spawnCli(args, timeoutMs, env).exited;
}

/**
 * Waits until a `silk start` process prints the address of its API, and returns it.
 * @throws Error with the process's output when it exits first or does not come up in time
 * @example const node = spawnCli(['start', '--data', dir, '--port', '0']); const url = await startedApiUrl(node)
 */
export async function startedApiUrl(node: CliProcess, timeoutMs = 30_000): Promise<string> {
  const state = { gone: false };
  void node.exited.then(() => { state.gone = true; });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = /api:\s+(http:\/\/\S+?)\/api\/health/.exec(node.output().stdout);
    if (m?.[1] !== undefined) return m[1];
    if (state.gone || Date.now() > deadline) throw new Error(`silk start did not come up:\n${node.output().stdout}\n${node.output().stderr.slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
