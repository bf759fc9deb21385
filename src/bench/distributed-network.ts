/**
 * The system under test of `--mode distributed`: a whole distributed network on loopback, started
 * with the launcher's programmatic API (`networkUp`, the code behind `silk network up`) in a
 * fresh temporary folder and stopped with `networkDown`: 3 etcd members, 2 orderers and one peer
 * process per bench org, one chain `bench` running `basic` with the workload's policy and the
 * chain's default batching (as the embedded bench).
 *
 * The etcd members are killed and restarted through their host process's control channel (HTTP
 * on the Unix socket `etcdControlSocket`, see etcd-host-main.ts), so the launcher still knows
 * every member and `networkDown` stops them all.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../crypto/hash.js';
import { signerFromPem, type Signer } from '../crypto/p256.js';
import { SilkError } from '../errors.js';
import { etcdControlSocket } from '../distributed/etcd-host-main.js';
import { findFreePortRange } from '../distributed/loopback-ports.js';
import { networkDown, networkUp, NETWORK_FILE } from '../distributed/network-launcher.js';
import { localNetworkDescription, networkDescriptionToYaml, readNetworkDescription, type NetworkDescription } from '../distributed/network-description.js';
import { readCaBundleFile } from '../distributed/peer-api-address.js';
import { openOrgKeyring } from '../network/org-keyring.js';
import { BENCH_ORGS, benchNetworkSpec, type Workload } from './workloads.js';

/** Ports of the layout: 2 per etcd member (3), one per orderer (2), per peer (3) and the API. */
const LAYOUT_PORTS = 2 * 3 + 2 + BENCH_ORGS.length + 1;
/** How long a control request to the etcd host may take (a kill waits for the exit). */
const CONTROL_TIMEOUT_MS = 30_000;

/** One peer process the bench submits to. */
export interface BenchPeer {
  readonly name: string;
  readonly org: string;
  /** Base URL of its API (`https://` on a network with TLS, as `silk network up` starts it). */
  readonly url: string;
  /** The alliance's CA bundle (PEM) an `https://` {@link url} is trusted with. */
  readonly ca?: string;
  /** The org's admin key: the client identity the bench signs this org's proposals with. */
  readonly signer: Signer;
}

/** What the etcd host reports (the fields the bench reads). */
export interface EtcdHostStatus {
  readonly leader?: string;
  readonly healthy: boolean;
  readonly members: readonly { readonly name: string; readonly running: boolean; readonly reachable: boolean }[];
}

/** A running distributed bench network. */
export interface DistributedBenchNetwork {
  readonly dir: string;
  readonly description: NetworkDescription;
  readonly peers: readonly BenchPeer[];
  /** Processes `networkUp` started (etcd host, orderers, peers), with their pids. */
  readonly pids: readonly number[];
  /** The etcd cluster as its host process sees it. */
  etcdStatus(): Promise<EtcdHostStatus>;
  /** SIGKILLs one etcd member (resolves once it exited), or starts it again. */
  etcdMember(name: string, action: 'kill' | 'restart'): Promise<void>;
  /**
   * Stops every process, waits until the ports are free, and removes the folder. Idempotent.
   * @param keepLogs copy the processes' logs to a new folder first (for a run that failed)
   * @returns that folder, when logs were kept
   */
  close(keepLogs?: boolean): Promise<string | undefined>;
}

/** Copies every `*.log` under `dir` (keeping the relative paths) into a new temporary folder. */
function copyLogs(dir: string): string {
  const target = mkdtempSync(join(tmpdir(), 'silk-dbench-logs-'));
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (entry.endsWith('.log')) cpSync(join(dir, entry), join(target, entry));
  }
  return target;
}

/** One control request to the etcd host process. */
function control<T>(socketPath: string, method: 'GET' | 'POST', path: string): Promise<T> {
  return new Promise((done, fail) => {
    const req = request({ socketPath, method, path, timeout: CONTROL_TIMEOUT_MS }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => {
        if (res.statusCode !== 200) fail(new SilkError('INTERNAL', `etcd host control ${method} ${path}: HTTP ${res.statusCode ?? 0} ${text.slice(0, 300)}`));
        else done(JSON.parse(text) as T);
      });
    });
    req.on('timeout', () => { req.destroy(new Error(`no answer in ${CONTROL_TIMEOUT_MS} ms`)); });
    req.on('error', (cause) => { fail(new SilkError('INTERNAL', `etcd host control ${method} ${path} at ${socketPath}: ${cause.message}`, {}, { cause })); });
    req.end();
  });
}

/**
 * Writes the description of the bench network into `dir`: the bench orgs (PEM admin keys created
 * here), chain `bench` with the workload's policy, the loopback layout from `basePort`.
 */
async function describeBenchNetwork(dir: string, w: Workload, basePort: number): Promise<void> {
  const spec = benchNetworkSpec(w);
  const orgs = BENCH_ORGS.map((name) => ({ name, peers: 1 }));
  const keyring = await openOrgKeyring({ keysDir: join(dir, 'keys'), spec: { orgs, chains: spec.chains }, keys: { kind: 'pem' }, create: true });
  const description = localNetworkDescription({
    orgs: orgs.map((o) => ({ ...o, adminKey: toHex(keyring.signer(o.name, 'admin').publicKey) })),
    chains: spec.chains,
    basePort,
    dataDir: '.',
  });
  writeFileSync(join(dir, NETWORK_FILE), networkDescriptionToYaml(description));
}

/**
 * Starts the bench network for a workload and waits until every process is ready.
 * The peers' API rate limit is turned off for them (`SILK_RATE_LIMIT=0` in their environment).
 * @param w the workload: its endorsement policy goes into the chain's genesis configuration
 * @param log progress lines
 * @throws SilkError from `networkUp` (everything it started is stopped again, the folder removed)
 * @example const net = await startDistributedBenchNetwork(rmw, log); try { … } finally { await net.close(); }
 */
export async function startDistributedBenchNetwork(w: Workload, log: (line: string) => void): Promise<DistributedBenchNetwork> {
  const dir = mkdtempSync(join(tmpdir(), 'silk-dbench-'));
  const previousLimit = process.env.SILK_RATE_LIMIT;
  let up;
  try {
    const basePort = await findFreePortRange(LAYOUT_PORTS);
    await describeBenchNetwork(dir, w, basePort);
    log(`network folder ${dir}, ports ${basePort}–${basePort + LAYOUT_PORTS - 1}`);
    process.env.SILK_RATE_LIMIT = '0';
    up = await networkUp({
      dir,
      onProgress: (p) => { if (p.stage !== 'started') log(`network up: ${p.stage} ${p.name}${p.pid === undefined ? '' : ` (pid ${p.pid})`}, ${p.done}/${p.total} ready`); },
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  } finally {
    if (previousLimit === undefined) delete process.env.SILK_RATE_LIMIT;
    else process.env.SILK_RATE_LIMIT = previousLimit;
  }
  let description: NetworkDescription;
  let peers: BenchPeer[];
  try {
    description = readNetworkDescription(up.descriptionFile);
    const urls = up.peerUrls;
    const ca = up.apiCa === undefined ? undefined : readCaBundleFile(up.apiCa);
    peers = description.peers.map((p): BenchPeer => {
      const url = urls[p.name];
      if (url === undefined) throw new SilkError('INTERNAL', `networkUp gave no URL for peer ${p.name}`);
      return { name: p.name, org: p.org, url, ...(ca === undefined ? {} : { ca }), signer: signerFromPem(readFileSync(join(up.bootstrap.keysDir, p.org, 'admin.pem'), 'utf8')) };
    });
  } catch (error) {
    await networkDown(dir).finally(() => { rmSync(dir, { recursive: true, force: true }); });
    throw error;
  }
  const socket = etcdControlSocket(description);
  let closing: Promise<string | undefined> | undefined;
  return {
    dir,
    description,
    peers,
    pids: up.processes.map((p) => p.pid),
    etcdStatus: () => control<EtcdHostStatus>(socket, 'GET', '/status'),
    async etcdMember(name, action) {
      await control(socket, 'POST', `/members/${encodeURIComponent(name)}/${action}`);
    },
    close(keepLogs = false) {
      closing ??= (async () => {
        let failure: Error | undefined;
        try {
          await networkDown(dir);
        } catch (error) {
          failure = error instanceof Error ? error : new Error(String(error));
        }
        const kept = keepLogs ? copyLogs(dir) : undefined;
        rmSync(dir, { recursive: true, force: true });
        if (failure !== undefined) throw failure;
        return kept;
      })();
      return closing;
    },
  };
}
