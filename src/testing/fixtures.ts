/** Shared test fixtures: temporary data folders and a small three-org network. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasicContract } from '../contracts/basic/basic-contract.js';
import type { Contract } from '../contracts/framework/contract.js';
import { isSilkError } from '../errors.js';
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

/** Opens a three-org network (or `spec`, with `contracts` installed; default `basic`) in a temporary folder. */
export async function openTestNetwork(spec: NetworkSpec = THREE_ORG_SPEC, dataDir?: string, contracts: readonly Contract[] = [new BasicContract()]): Promise<EmbeddedNetwork & { cleanupDir(): void }> {
  const dir = dataDir === undefined ? tempDir() : { path: dataDir, cleanup: () => undefined };
  const net = await openEmbeddedNetwork({ dataDir: dir.path, spec, contracts, parallelVerify: false, commitTimeoutMs: 10_000 });
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
