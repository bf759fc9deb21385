/** Shared test fixtures: temporary data folders and a small three-org network. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasicContract } from '../contracts/basic/basic-contract.js';
import type { Contract } from '../contracts/framework/contract.js';
import { isSilkError } from '../errors.js';
import type { AdmissionOptions } from '../gateway/admission.js';
import { openEmbeddedNetwork, type EmbeddedNetwork, type NetworkSpec } from '../network/embedded-network.js';

/** A fresh temporary folder; `cleanup()` removes it. */
export function tempDir(prefix = 'silk-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => { rmSync(path, { recursive: true, force: true }); } };
}

/** Three orgs with one peer each; chain `trade` runs `basic` endorsed by any one org's peer. */
export const THREE_ORG_SPEC: NetworkSpec = {
  orgs: [{ name: 'Org1', users: ['alice'] }, { name: 'Org2', users: ['bob'] }, { name: 'Org3' }],
  chains: [
    { name: 'trade', contracts: [{ name: 'basic', policy: "OR('Org1.peer', 'Org2.peer', 'Org3.peer')" }], batch: { maxTxs: 100, timeoutMs: 10 } },
  ],
};

/** Options of {@link openTestNetwork}; each has a default. */
export interface TestNetworkOptions {
  /** Orgs and chains (default {@link THREE_ORG_SPEC}). */
  readonly spec?: NetworkSpec;
  /** The data folder (default: a new temporary one, which `cleanupDir()` removes). */
  readonly dataDir?: string;
  /** Contracts installed (default `basic`). */
  readonly contracts?: readonly Contract[];
  /** The gateways' admission control (default: the defaults). */
  readonly admission?: AdmissionOptions;
}

/**
 * Opens a network for a test: three orgs running `basic` in a temporary folder unless told otherwise.
 * @example const net = await openTestNetwork({ dataDir: dir.path }); try { … } finally { await net.close(); }
 */
export async function openTestNetwork(options: TestNetworkOptions = {}): Promise<EmbeddedNetwork & { cleanupDir(): void }> {
  const dir = options.dataDir === undefined ? tempDir() : { path: options.dataDir, cleanup: () => undefined };
  const net = await openEmbeddedNetwork({
    dataDir: dir.path,
    spec: options.spec ?? THREE_ORG_SPEC,
    contracts: options.contracts ?? [new BasicContract()],
    parallelVerify: false,
    commitTimeoutMs: 10_000,
    ...(options.admission === undefined ? {} : { admission: options.admission }),
  });
  return Object.assign(net, { cleanupDir: () => { dir.cleanup(); } });
}

/**
 * Resolves once `condition()` holds, polling every 10 ms; rejects after `timeoutMs`.
 * @example await waitUntil(() => net.peers.every((p) => p.height('trade') === 3))
 */
export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition', pollMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * A loopback port nothing listens on (taken and released at once).
 * @example const url = `http://127.0.0.1:${await unusedPort()}`
 */
/** True when nothing listens on `port` of 127.0.0.1 now. */
export async function isPortFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((done) => {
    server.once('error', () => { done(false); });
    server.listen(port, '127.0.0.1', () => { server.close(() => { done(true); }); });
  });
}

/** The first port the kernel hands out to outgoing connections and `listen(0)` (Linux: 32768). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isSafeInteger(low) && low > 11_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * The first of `count` consecutive ports free on 127.0.0.1, chosen below the kernel's ephemeral
 * range: ports a process will bind later, when other tests' outgoing connections (which take
 * ephemeral ports) could otherwise land on them in between.
 * @throws Error when 50 random tries found none
 */
export async function unusedPortRange(count: number): Promise<number> {
  const top = ephemeralLow() - count;
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 10_000 + Math.floor(Math.random() * (top - 10_000));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await isPortFree(p);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found below ${top + count}`);
}

export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The `details.path` of the SilkError `run` throws; fails the test when it throws nothing.
 * @example assert.equal(silkErrorPath(() => eventQueryFromParameters({ perPage: '0' })), 'perPage')
 */
export function silkErrorPath(run: () => unknown): unknown {
  try {
    run();
  } catch (e) {
    if (isSilkError(e)) return e.details.path;
    throw e;
  }
  return assert.fail('expected a SilkError naming a path');
}
