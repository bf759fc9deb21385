/** Test support for distributed mode: a real local etcd cluster in a temporary folder. */
import { execFileSync } from 'node:child_process';
import { tempDir } from '../testing/fixtures.js';
import { findFreePortRange, freePort } from './loopback-ports.js';
import { createEtcdCluster, type EtcdCluster, type EtcdMemberPorts } from './etcd-cluster.js';
import { after, before } from 'node:test';
import { checkedPeers, createLedgerChecker, type CheckedPeer, type LedgerChecker } from './ledger-consistency.js';
import { orgLoadTargets, type Acknowledged, type LoadTarget } from './load-client.js';
import { killNetworkNow, networkDown, networkUp } from './network-launcher.js';

/** Fails (never skips) when etcd is missing, naming the script that installs it. */
export function requireEtcd(): void {
  for (const [command, arg] of [['etcd', '--version'], ['etcdctl', 'version']] as const) {
    try {
      execFileSync(command, [arg], { stdio: 'ignore' });
    } catch {
      throw new Error(`${command} is not installed: run scripts/install-system-packages.sh (Debian packages etcd-server and etcd-client)`);
    }
  }
}

/** A started cluster of `size` members on ports from `freePort()`; `destroy()` kills it and removes its folder. */
export async function startTestCluster(options: { size?: number; quotaBackendBytes?: number } = {}): Promise<EtcdCluster & { destroy(): Promise<void> }> {
  requireEtcd();
  const dir = tempDir('silk-etcd-');
  const ports: EtcdMemberPorts[] = [];
  for (let i = 0; i < (options.size ?? 3); i++) ports.push({ client: await freePort(), peer: await freePort() });
  const cluster = await createEtcdCluster({ dataDir: dir.path, ports, quotaBackendBytes: options.quotaBackendBytes });
  const destroy = async (): Promise<void> => { await cluster.close(); dir.cleanup(); };
  try {
    await cluster.start();
  } catch (error) {
    await destroy();
    throw error;
  }
  return Object.assign(cluster, { destroy });
}

/** Block bytes that name their number, so a test can tell blocks apart. */
export function testBlock(number: number, size = 200): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.fill(number % 251);
  new DataView(bytes.buffer).setUint32(0, number);
  return bytes;
}

/** A 2-org network that `silk network up` started for a test file: {@link upTestNetwork}. */
export interface TestNetwork {
  /** Its peers, for the ledger check. */
  readonly peers: CheckedPeer[];
  /** One load target per org, submitting as the org's admin. */
  readonly targets: LoadTarget[];
  /** Stops it (`down`, then SIGKILL whatever is left) and removes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts a 2-org network in `dir` (etcd first: fails, never skips, without it). Its processes
 * are SIGKILLed when the test process exits, should a test leave them running.
 * @example const net = await upTestNetwork(dir.path); … await net.stop();
 */
export async function upTestNetwork(dir: { readonly path: string; cleanup(): void }): Promise<TestNetwork> {
  requireEtcd();
  const killAll = (): void => { killNetworkNow(dir.path); };
  process.on('exit', killAll);
  const up = await networkUp({ dir: dir.path, orgs: 2, basePort: await findFreePortRange(11) });
  return {
    peers: checkedPeers(up),
    targets: orgLoadTargets(dir.path, up, ['Org1', 'Org2']),
    async stop() {
      await networkDown(dir.path).catch(() => undefined);
      killAll();
      process.off('exit', killAll);
      dir.cleanup();
    },
  };
}

/** What a test file exercising a network under load shares between its tests: {@link networkUnderLoad}. */
export interface NetworkUnderLoad {
  /** The network's folder. */
  readonly dir: { readonly path: string; cleanup(): void };
  /** The ledger check of `chain`, run over {@link NetworkUnderLoad.peers}. */
  readonly checker: LedgerChecker;
  /** Every acknowledgement so far: each check looks all of them up again. */
  readonly acknowledged: Acknowledged[];
  /** The peers, filled once the network is up (push one added later). */
  readonly peers: CheckedPeer[];
  /** One load target per org, filled once the network is up. */
  readonly targets: LoadTarget[];
}

/**
 * A 2-org network for the tests of the calling `describe`: started before them
 * ({@link upTestNetwork}), stopped and removed after them.
 * @example const { dir, checker, acknowledged, peers, targets } = networkUnderLoad('silk-faults-', 'trade')
 */
export function networkUnderLoad(prefix: string, chain: string): NetworkUnderLoad {
  const shared: NetworkUnderLoad = { dir: tempDir(prefix), checker: createLedgerChecker({ chain }), acknowledged: [], peers: [], targets: [] };
  let net: TestNetwork | undefined;
  before(async () => {
    net = await upTestNetwork(shared.dir);
    shared.peers.push(...net.peers);
    shared.targets.push(...net.targets);
  });
  after(async () => {
    if (net === undefined) shared.dir.cleanup();
    else await net.stop();
  });
  return shared;
}
