/** Test support for distributed mode: a real local etcd cluster in a temporary folder. */
import { execFileSync } from 'node:child_process';
import { tempDir, unusedPort } from '../testing/fixtures.js';
import { createEtcdCluster, type EtcdCluster, type EtcdMemberPorts } from './etcd-cluster.js';

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

/** A started cluster of `size` members on ports from `unusedPort()`; `destroy()` kills it and removes its folder. */
export async function startTestCluster(options: { size?: number; quotaBackendBytes?: number } = {}): Promise<EtcdCluster & { destroy(): Promise<void> }> {
  requireEtcd();
  const dir = tempDir('silk-etcd-');
  const ports: EtcdMemberPorts[] = [];
  for (let i = 0; i < (options.size ?? 3); i++) ports.push({ client: await unusedPort(), peer: await unusedPort() });
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
