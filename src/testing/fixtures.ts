/** Shared test fixtures: temporary data folders and a small three-org network. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
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
