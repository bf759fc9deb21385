/**
 * The process that keeps a local network's etcd members running for `silk network up`:
 * `node dist/distributed/etcd-host-main.js --description FILE`. It starts the description's
 * members with `createEtcdCluster` (their folders `<dataDir>/etcd/etcd-<i>`, their logs
 * `etcd-<i>/etcd.log`), and on SIGTERM or SIGINT stops each member gracefully and exits. The
 * members die with it even if it is killed (parent-death signal), so no etcd member is left
 * behind by a crashed launcher.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { isSilkError, SilkError } from '../errors.js';
import { createEtcdCluster, type EtcdCluster } from './etcd-cluster.js';
import { describedPath, readNetworkDescription, type NetworkDescription } from './network-description.js';

/** Hosts a local cluster may listen on (etcd-cluster.ts runs members on 127.0.0.1). */
const LOOPBACK = new Set(['127.0.0.1', 'localhost']);

/**
 * Checks that a description's etcd members are the loopback layout `createEtcdCluster` runs:
 * members `etcd-1…` in order, on 127.0.0.1, with data folders `etcd/etcd-<i>`.
 * @throws SilkError CONFIG_INVALID naming the member that does not fit
 */
export function checkLocalEtcdLayout(description: NetworkDescription): void {
  description.etcd.forEach((member, i) => {
    const expected = `etcd-${i + 1}`;
    const folder = describedPath(description, `etcd/${expected}`);
    if (member.name !== expected || !LOOPBACK.has(member.host) || describedPath(description, member.dataDir) !== folder) {
      throw new SilkError('CONFIG_INVALID', `etcd[${i}]: silk network up runs etcd members named ${expected} on 127.0.0.1 with data folder etcd/${expected}; start members of other layouts on their hosts (docs/distributed.md)`, { path: `etcd[${i}]` });
    }
  });
}

/**
 * The description's etcd cluster (not started).
 * @throws SilkError CONFIG_INVALID for a layout other than the loopback one; ORDERING_UNAVAILABLE when etcd is not installed
 */
export async function describedEtcdCluster(description: NetworkDescription): Promise<EtcdCluster> {
  checkLocalEtcdLayout(description);
  return createEtcdCluster({ dataDir: describedPath(description, 'etcd'), ports: description.etcd.map((e) => ({ client: e.clientPort, peer: e.peerPort })) });
}

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { description: { type: 'string' } }, strict: true });
  if (values.description === undefined) throw new SilkError('INVALID_ARGUMENT', 'usage: etcd-host-main --description FILE');
  const stop = new Promise<void>((done) => {
    process.once('SIGTERM', () => { done(); });
    process.once('SIGINT', () => { done(); });
  });
  const description = readNetworkDescription(resolve(values.description));
  const cluster = await describedEtcdCluster(description);
  try {
    await cluster.start();
    process.stderr.write(`etcd members ${cluster.members.map((m) => m.name).join(', ')} running: ${cluster.clientUrls.join(', ')}\n`);
    await stop;
    for (const member of cluster.members) await cluster.stopMember(member.name);
  } finally {
    await cluster.close();
  }
  process.stderr.write('etcd members stopped\n');
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (error: unknown) => {
      process.stderr.write(`etcd-host-main: ${isSilkError(error) ? `${error.code}: ${error.message}` : ((error as Error).stack ?? String(error))}\n`);
      process.exitCode = 1;
    },
  );
}
