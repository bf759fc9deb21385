/**
 * Runs a whole distributed network on one machine, as `silk network up | down | status` do: a
 * description written to `<dir>/network.yaml` (the loopback layout, unless the file exists), the
 * bootstrap, then the etcd members, the orderers and one peer process per peer of the
 * description, each a detached process with its log in its own folder and its pid in
 * `<dir>/pids.json`. `down` stops them (SIGTERM, then SIGKILL after a grace period) and waits
 * until their ports are free; `status` asks each of them how it is. For operators and failure
 * tests a running network's parts can be handled one at a time: an etcd member killed, stopped,
 * paused or restarted through the etcd host's control socket (`etcdMemberControl`), an orderer or
 * peer started again after it died (`restartNetworkProcess`) or stopped (`stopNetworkProcess`),
 * and a new peer added to an org (`addNetworkPeer`). Adding and removing etcd members and
 * orderers is `network-membership.ts`, built on the helpers exported here.
 */
import { execFile, spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import type { Contract } from '../contracts/framework/contract.js';
import { ERROR_CODES, isSilkError, SilkError, type ErrorCode } from '../errors.js';
import { DEMO_CONTRACTS } from '../network/demo-alliance.js';
import { DEMO_SPEC } from '../network/demo-spec.js';
import type { NetworkSpec } from '../network/embedded-network.js';
import { openOrgKeyring, type NetworkKeysOptions } from '../network/org-keyring.js';
import { toHex } from '../crypto/hash.js';
import { parseLeaderCandidate } from '../ordering/orderer-wire.js';
import { openEtcdBlockLog } from './etcd-block-log.js';
import { etcdCredentials, openEtcdConnection } from './etcd-client.js';
import { openChainElection } from './etcd-election.js';
import { checkLocalEtcdLayout, describedEtcdAccess, etcdControlSocket, grantDescribedEtcdUser, type EtcdMemberAction } from './etcd-host-main.js';
import { parse as parseYaml } from 'yaml';
import { bootstrapNetwork, type BootstrapResult } from './network-bootstrap.js';
import { apiAddress, networkFetch, peerApiUrl } from './peer-api-address.js';
import type { FetchFunction } from '../sdk/http-transport.js';
import { readEtcdMembersRecord } from './etcd-members-followed.js';
import { freePort, portIsFree } from './loopback-ports.js';
import { describedPath, localNetworkDescription, networkDescriptionToYaml, readNetworkDescription, type DescribedOrderer, type DescribedPeer, type NetworkDescription } from './network-description.js';
import { NODE_FLAGS } from '../node-flags.js';

/** The description file of a network folder. */
export const NETWORK_FILE = 'network.yaml';
/** The processes `up` started, with their pids. */
export const PIDS_FILE = 'pids.json';
/** First port of the loopback layout unless `--base-port` says otherwise. */
export const DEFAULT_BASE_PORT = 7050;
/** How long `down` lets a process finish after SIGTERM before SIGKILL (a peer drains its API first). */
export const STOP_GRACE_MS = 15_000;
/** How long `up` waits for every process to be ready. */
export const UP_TIMEOUT_MS = 180_000;
/** How long `down` waits for the ports to be free once the processes are gone. */
const PORT_RELEASE_MS = 30_000;
const POLL_MS = 200;

/** What kind of process a launched one is. */
export type LaunchedKind = 'etcd' | 'orderer' | 'peer';

/** A process `up` started. */
export interface LaunchedProcess {
  readonly name: string;
  readonly kind: LaunchedKind;
  readonly pid: number;
  /** Its log file. */
  readonly log: string;
  /**
   * An orderer's or peer's etcd members when it started. It then follows the description and
   * records the members it calls in its data folder (etcd-members-followed.ts), which takes precedence.
   */
  readonly etcd?: readonly string[];
}

/** The contents of `pids.json`. */
export interface PidsFile {
  readonly v: 1;
  readonly description: string;
  readonly processes: readonly LaunchedProcess[];
}

/** A step of `up`, for a progress display. */
export interface UpProgress {
  readonly stage: 'bootstrap' | 'started' | 'ready';
  /** The process (or `bootstrap`). */
  readonly name: string;
  readonly kind?: LaunchedKind;
  readonly pid?: number;
  /** Processes ready so far, and how many there are. */
  readonly done: number;
  readonly total: number;
}

/** Parameters of {@link networkUp}. */
export interface NetworkUpParameters {
  /** The network folder (description, data, pids). */
  readonly dir: string;
  /** A network of orgs `Org1…OrgN`, one peer each, one chain `trade` running `basic` endorsed by any one org's peer. */
  readonly orgs?: number;
  /** The demo alliance's orgs and chains (the default when `orgs` is not given). */
  readonly demo?: boolean;
  /** First port of the layout (default {@link DEFAULT_BASE_PORT}). */
  readonly basePort?: number;
  /** Org keys: PEM files (default) or HD key trees in keystores. */
  readonly keys?: NetworkKeysOptions;
  /** Contracts the peers install (default: the demo contracts). */
  readonly contracts?: readonly Contract[];
  /** How long to wait for readiness (default {@link UP_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
  readonly onProgress?: (progress: UpProgress) => void;
}

/** What {@link networkUp} did. */
export interface NetworkUpResult {
  readonly descriptionFile: string;
  /** True when this call wrote the description. */
  readonly describedNow: boolean;
  readonly bootstrap: BootstrapResult;
  readonly processes: readonly LaunchedProcess[];
  /** The API's base URL (the peer the description's `api` fronts): `https://` when it has its certificate. */
  readonly apiUrl: string;
  /**
   * The alliance's CA bundle that clients of the `https://` {@link apiUrl} and {@link peerUrls}
   * trust (`silk --ca`, `connect({ ca })`).
   */
  readonly apiCa?: string;
  /** Each peer's API base URL: `https://` (its own certificate) when the network has TLS. */
  readonly peerUrls: Readonly<Record<string, string>>;
}

/** How one process is, as {@link networkStatus} sees it. */
export interface ProcessStatus {
  readonly name: string;
  readonly kind: LaunchedKind;
  readonly pid?: number;
  readonly alive: boolean;
  readonly ready: boolean;
  /** A peer's API. */
  readonly url?: string;
  /** A peer's chains: its height, the ordered height it knows of, and its last commit hash. */
  readonly chains?: Readonly<Record<string, { readonly height: number; readonly ordered: number; readonly commitHash?: string }>>;
  /** An etcd member's view. */
  readonly isLeader?: boolean;
  /** The etcd members an orderer or peer calls, as it last recorded them (it follows the description). */
  readonly etcdMembers?: readonly string[];
  readonly error?: string;
}

/** The whole network, as {@link networkStatus} sees it. */
export interface NetworkStatus {
  readonly dir: string;
  /** False when no `pids.json` exists (the network was not started, or was stopped). */
  readonly started: boolean;
  readonly apiUrl?: string;
  /** The alliance's CA bundle clients of the `https://` {@link apiUrl} and peers' URLs trust. */
  readonly apiCa?: string;
  readonly etcd: { readonly healthy: boolean; readonly leader?: string };
  /** Each chain: blocks in the ordering log and the orderer leading it. */
  readonly chains: readonly { readonly name: string; readonly ordered?: number; readonly leader?: string; readonly error?: string }[];
  readonly processes: readonly ProcessStatus[];
  /** Every process alive and ready, and etcd healthy. */
  readonly ready: boolean;
}

const SCRIPTS: Readonly<Record<LaunchedKind, string>> = {
  etcd: fileURLToPath(new URL('./etcd-host-main.js', import.meta.url)),
  orderer: fileURLToPath(new URL('./orderer-main.js', import.meta.url)),
  peer: fileURLToPath(new URL('./peer-main.js', import.meta.url)),
};

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** The spec of `--orgs N`: orgs Org1…OrgN, chain `trade` running `basic` endorsed by any one org's peer. */
export function smallNetworkSpec(orgs: number): NetworkSpec {
  if (!Number.isSafeInteger(orgs) || orgs < 1 || orgs > 64) throw new SilkError('INVALID_ARGUMENT', `--orgs must be a whole number from 1 to 64; got ${String(orgs)}`);
  const names = Array.from({ length: orgs }, (_, i) => `Org${i + 1}`);
  return {
    orgs: names.map((name) => ({ name })),
    chains: [{ name: 'trade', contracts: [{ name: 'basic', policy: `OR(${names.map((o) => `'${o}.peer'`).join(', ')})` }], batch: { maxTxs: 100, timeoutMs: 20 } }],
  };
}

/**
 * The keys a description's orgs need: keystores when any org points at one (then `given` must
 * carry their password), else PEM.
 * @throws SilkError CONFIG_INVALID when the orgs' keys are in keystores and no password is given
 */
export function networkKeys(description: NetworkDescription, given: NetworkKeysOptions | undefined): NetworkKeysOptions {
  const keystores = description.orgs.some((o) => o.adminKeystore !== undefined);
  if (given !== undefined) {
    if (keystores && given.kind !== 'hd') throw new SilkError('CONFIG_INVALID', 'the network description points at org keystores: give their password ($SILK_KEYSTORE_PASSWORD)');
    return given;
  }
  if (keystores) throw new SilkError('CONFIG_INVALID', 'the network description points at org keystores: give their password ($SILK_KEYSTORE_PASSWORD)');
  return { kind: 'pem' };
}

/**
 * The network folder's description: read from `<dir>/network.yaml`, or written there on first
 * use (the loopback layout of the demo alliance, or of `orgs` orgs). With PEM keys the org keys
 * are created first, so the description lists each org's `adminKey`.
 */
async function describe(dir: string, params: NetworkUpParameters): Promise<{ description: NetworkDescription; file: string; describedNow: boolean }> {
  const file = join(dir, NETWORK_FILE);
  if (existsSync(file)) return { description: readNetworkDescription(file), file, describedNow: false };
  const spec = params.orgs === undefined || params.demo === true ? DEMO_SPEC : smallNetworkSpec(params.orgs);
  const basePort = params.basePort ?? DEFAULT_BASE_PORT;
  if (!Number.isSafeInteger(basePort) || basePort < 1024 || basePort > 65_000) throw new SilkError('INVALID_ARGUMENT', `--base-port must be a whole number from 1024 to 65000; got ${String(basePort)}`);
  const keys = params.keys ?? { kind: 'pem' };
  const orgs = spec.orgs.map((o) => ({ name: o.name, peers: 1 }));
  let adminKeys: Record<string, string> = {};
  if (keys.kind === 'pem') {
    const keyring = await openOrgKeyring({ keysDir: join(dir, 'keys'), spec: { orgs, chains: spec.chains }, keys, create: true });
    adminKeys = Object.fromEntries(orgs.map((o) => [o.name, toHex(keyring.signer(o.name, 'admin').publicKey)]));
  }
  const description = localNetworkDescription({
    orgs: orgs.map((o) => ({ ...o, ...(adminKeys[o.name] === undefined ? {} : { adminKey: adminKeys[o.name] }) })),
    chains: spec.chains,
    basePort,
    dataDir: '.',
  });
  writeFileSync(file, networkDescriptionToYaml(description));
  return { description: readNetworkDescription(file), file, describedNow: true };
}

/** Every port a description's processes listen on. */
function describedPorts(d: NetworkDescription): { host: string; port: number; owner: string }[] {
  return [
    ...d.etcd.flatMap((e) => [{ host: e.host, port: e.clientPort, owner: e.name }, { host: e.host, port: e.peerPort, owner: e.name }]),
    ...d.orderers.map((o) => ({ host: o.host, port: o.port, owner: o.name })),
    ...d.peers.map((p) => ({ host: p.host, port: p.port, owner: p.name })),
    { host: d.api.host, port: d.api.port, owner: d.api.name },
  ];
}

async function portAccepts(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host, port });
    const finish = (ok: boolean): void => { socket.destroy(); done(ok); };
    socket.setTimeout(1_000, () => { finish(false); });
    socket.once('connect', () => { finish(true); });
    socket.once('error', () => { finish(false); });
  });
}

/** The command line of a live process (Linux), or undefined when it is gone (or a zombie). */
function commandLine(pid: number): string[] | undefined {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  const file = `/proc/${pid}/cmdline`;
  if (!existsSync('/proc/self/cmdline')) return [];
  try {
    const args = readFileSync(file, 'utf8').split('\0').filter((a) => a !== '');
    return args.length === 0 ? undefined : args;
  } catch {
    return undefined;
  }
}

/** True when `pid` is alive and still runs the launched process (not a pid reused by another program). */
export function isLaunchedAlive(p: LaunchedProcess): boolean {
  const args = commandLine(p.pid);
  if (args === undefined) return false;
  if (args.length === 0) return true; // no /proc: the signal check is all there is
  return args.includes(SCRIPTS[p.kind]) && (p.kind === 'etcd' || args.includes(p.name));
}

/** The etcd member processes a host process runs (Linux; empty elsewhere), by member name. */
function etcdMemberPids(hostPid: number): Map<string, number> {
  const found = new Map<string, number>();
  let children: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${hostPid}/task`)) {
      children.push(...readFileSync(`/proc/${hostPid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter((s) => s !== '').map(Number));
    }
  } catch {
    children = [];
  }
  for (const pid of children) {
    const args = commandLine(pid) ?? [];
    const at = args.indexOf('--name');
    const name = at >= 0 ? args[at + 1] : undefined;
    if (name !== undefined && args.some((a) => a.endsWith('etcd'))) found.set(name, pid);
  }
  return found;
}

/**
 * The pids file of a network folder, or undefined when the network was not started (or stopped).
 * @throws SilkError CONFIG_INVALID for a file that is not a pids file of `up`
 */
export function readPids(dir: string): PidsFile | undefined {
  const file = join(dir, PIDS_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { v?: unknown; description?: unknown; processes?: unknown };
    if (parsed.v !== 1 || typeof parsed.description !== 'string' || !Array.isArray(parsed.processes)) throw new Error('unknown format');
    for (const entry of parsed.processes as unknown[]) {
      const p = entry as Partial<LaunchedProcess> | null;
      if (typeof p?.name !== 'string' || typeof p.log !== 'string' || !Number.isSafeInteger(p.pid) || (p.pid ?? 0) <= 1 || typeof p.kind !== 'string' || !Object.hasOwn(SCRIPTS, p.kind)) throw new Error(`bad entry ${JSON.stringify(entry)}`);
      if (p.etcd !== undefined && !(Array.isArray(p.etcd) && p.etcd.every((e) => typeof e === 'string'))) throw new Error(`bad etcd list in ${JSON.stringify(entry)}`);
    }
    return parsed as PidsFile;
  } catch (cause) {
    throw new SilkError('CONFIG_INVALID', `${file} is not a pids file of silk network up (${(cause as Error).message}): stop the processes by hand and delete it`, { file }, { cause });
  }
}

/** Replaces the pids file of a network folder (written beside it and renamed over it). */
export function writePids(dir: string, pids: PidsFile): void {
  const file = join(dir, PIDS_FILE);
  writeFileSync(`${file}.partial`, `${JSON.stringify(pids, null, 2)}\n`);
  renameSync(`${file}.partial`, file);
}

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-2_000);
  } catch {
    return '(no log)';
  }
}

/** Starts one process detached, its output appended to `log`; an orderer or peer records the etcd members it starts with. */
function launch(kind: LaunchedKind, name: string, descriptionFile: string, log: string, etcdMembers?: readonly string[]): LaunchedProcess {
  if (!existsSync(SCRIPTS[kind])) throw new SilkError('INTERNAL', `${SCRIPTS[kind]} is missing: build the project (npm run build)`);
  const fd = openSync(log, 'a');
  try {
    const args = [SCRIPTS[kind], '--description', descriptionFile, ...(kind === 'etcd' ? [] : ['--name', name])];
    const child = spawn(process.execPath, [...NODE_FLAGS, ...args], { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' } });
    child.unref();
    if (child.pid === undefined) throw new SilkError('INTERNAL', `could not start ${name}`);
    return { name, kind, pid: child.pid, log, ...(kind === 'etcd' || etcdMembers === undefined ? {} : { etcd: [...etcdMembers] }) };
  } finally {
    closeSync(fd);
  }
}

/** Each etcd member's status, asked of the member itself (over mutual TLS when the network has certificates). */
async function etcdMembers(d: NetworkDescription): Promise<{ name: string; reachable: boolean; id?: string; leaderId?: string; error?: string }[]> {
  const access = describedEtcdAccess(d);
  const credentials = access.tls === undefined ? undefined : etcdCredentials(access.tls);
  return Promise.all(d.etcd.map(async (e, i) => {
    const client = new Etcd3({ hosts: access.endpoints[i] ?? '', dialTimeout: 2_000, ...(credentials === undefined ? {} : { credentials }) });
    try {
      const s = await client.maintenance.status({ deadline: Date.now() + 2_000 });
      return { name: e.name, reachable: true, id: s.header.member_id, leaderId: s.leader };
    } catch (error) {
      return { name: e.name, reachable: false, error: (error as Error).message };
    } finally {
      client.close();
    }
  }));
}

/** etcd's health: every member reachable and agreeing on one leader. */
async function etcdHealth(d: NetworkDescription): Promise<{ healthy: boolean; leader?: string; members: Awaited<ReturnType<typeof etcdMembers>> }> {
  const members = await etcdMembers(d);
  const leaders = new Set(members.filter((m) => m.reachable).map((m) => m.leaderId));
  const leaderId = leaders.size === 1 ? [...leaders][0] : undefined;
  const leader = members.find((m) => m.id !== undefined && m.id === leaderId && leaderId !== '0')?.name;
  return { healthy: leader !== undefined && members.every((m) => m.reachable), ...(leader === undefined ? {} : { leader }), members };
}

async function peerReady(d: NetworkDescription, peer: DescribedPeer): Promise<boolean> {
  try {
    const response = await networkFetch(d)(`${peerApiUrl(d, peer)}/api/ready`, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** Is a launched process ready: etcd healthy, an orderer accepting connections, a peer caught up. */
async function isReady(d: NetworkDescription, p: LaunchedProcess): Promise<boolean> {
  if (p.kind === 'etcd') return (await etcdHealth(d)).healthy;
  if (p.kind === 'orderer') {
    const o = d.orderers.find((x) => x.name === p.name);
    return o !== undefined && portAccepts(o.host, o.port);
  }
  const peer = d.peers.find((x) => x.name === p.name);
  return peer !== undefined && peerReady(d, peer);
}

/** Waits until each process is ready; fails at once when one exits. */
async function waitReady(d: NetworkDescription, group: readonly LaunchedProcess[], deadline: number, onReady: (p: LaunchedProcess) => void): Promise<void> {
  const waiting = new Set(group);
  while (waiting.size > 0) {
    for (const p of [...waiting]) {
      if (!isLaunchedAlive(p)) throw new SilkError('INTERNAL', `${p.kind} ${p.name} (pid ${p.pid}) exited while starting; its log (${p.log}) ends:\n${logTail(p.log)}`, { process: p.name });
      if (await isReady(d, p)) {
        waiting.delete(p);
        onReady(p);
      }
    }
    if (waiting.size === 0) break;
    if (Date.now() > deadline) throw new SilkError('INTERNAL', `not ready in time: ${[...waiting].map((p) => `${p.name} (log ${p.log})`).join(', ')}`);
    await sleep(POLL_MS);
  }
}

/**
 * Starts a local distributed network in `params.dir` (see the module comment) and waits until
 * every process is ready.
 * @returns the API URL, each peer's URL and the processes started
 * @throws SilkError INVALID_ARGUMENT (options), CONFIG_INVALID (a description `up` cannot run, a
 *   network already running, a port in use), ORDERING_UNAVAILABLE (etcd missing), INTERNAL (a
 *   process exited or was not ready in time; everything started is stopped again)
 * @example const { apiUrl } = await networkUp({ dir: './network', orgs: 2 })
 */
export async function networkUp(params: NetworkUpParameters): Promise<NetworkUpResult> {
  const dir = resolve(params.dir);
  mkdirSync(dir, { recursive: true });
  const running = readPids(dir)?.processes.filter((p) => isLaunchedAlive(p)) ?? [];
  if (running.length > 0) throw new SilkError('CONFIG_INVALID', `the network in ${dir} is already running (${running.map((p) => `${p.name} pid ${p.pid}`).join(', ')}): silk network status, or silk network down first`);
  const { description, file, describedNow } = await describe(dir, params);
  checkLocalEtcdLayout(description);
  const total = description.etcd.length > 0 ? 1 + description.orderers.length + description.peers.length : description.orderers.length + description.peers.length;
  let done = 0;
  const progress = (stage: UpProgress['stage'], p?: LaunchedProcess): void => {
    params.onProgress?.({ stage, name: p?.name ?? 'bootstrap', ...(p ? { kind: p.kind, pid: p.pid } : {}), done, total });
  };
  progress('bootstrap');
  const bootstrap = await bootstrapNetwork(description, { contracts: params.contracts ?? DEMO_CONTRACTS, keys: networkKeys(description, params.keys) });
  for (const { host, port, owner } of describedPorts(description)) {
    if (!(await portIsFree(host, port))) throw new SilkError('CONFIG_INVALID', `port ${host}:${port} of ${owner} is in use: stop what listens there, or choose other ports (--base-port, or edit ${file})`, { port });
  }
  const started: LaunchedProcess[] = [];
  const record = (): void => { writePids(dir, { v: 1, description: file, processes: started }); };
  const deadline = Date.now() + (params.timeoutMs ?? UP_TIMEOUT_MS);
  const onReady = (p: LaunchedProcess): void => { done++; progress('ready', p); };
  try {
    const etcd = launch('etcd', 'etcd', file, describedPath(description, join('etcd', 'etcd-host.log')));
    started.push(etcd);
    record();
    progress('started', etcd);
    await waitReady(description, [etcd], deadline, onReady);
    const group = (kind: 'orderer' | 'peer', items: readonly { name: string; dataDir: string }[]): LaunchedProcess[] => items.map((item) => {
      const folder = describedPath(description, item.dataDir);
      mkdirSync(folder, { recursive: true });
      const p = launch(kind, item.name, file, join(folder, `${kind}.log`), description.etcd.map((e) => e.name));
      started.push(p);
      record();
      progress('started', p);
      return p;
    });
    await waitReady(description, group('orderer', description.orderers), deadline, onReady);
    await waitReady(description, group('peer', description.peers), deadline, onReady);
  } catch (error) {
    await stopProcesses(description, started).catch(() => undefined);
    rmSync(join(dir, PIDS_FILE), { force: true });
    throw error;
  }
  const peerUrls = Object.fromEntries(description.peers.map((p) => [p.name, peerApiUrl(description, p)]));
  return { descriptionFile: file, describedNow, bootstrap, processes: started, ...apiAddress(description), peerUrls };
}

async function waitGone(p: LaunchedProcess, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isLaunchedAlive(p)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/** SIGTERM to each process (peers, then orderers, then etcd), SIGKILL after the grace period. */
async function stopProcesses(d: NetworkDescription, processes: readonly LaunchedProcess[]): Promise<string[]> {
  const order: LaunchedKind[] = ['peer', 'orderer', 'etcd'];
  const stopped: string[] = [];
  for (const kind of order) {
    const group = processes.filter((p) => p.kind === kind && isLaunchedAlive(p));
    const members = kind === 'etcd' ? group.flatMap((p) => [...etcdMemberPids(p.pid).entries()].map(([name, pid]) => ({ name, pid }))) : [];
    for (const p of group) process.kill(p.pid, 'SIGTERM');
    await Promise.all(group.map(async (p) => {
      if (!(await waitGone(p, STOP_GRACE_MS))) {
        try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
        await waitGone(p, 5_000);
      }
      stopped.push(p.name);
    }));
    // etcd members die with their host; a member that outlived it is killed by its own pid.
    for (const m of members) {
      const args = commandLine(m.pid);
      if (args !== undefined && args.includes(m.name)) {
        try { process.kill(m.pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
      }
    }
  }
  const deadline = Date.now() + PORT_RELEASE_MS;
  for (const { host, port, owner } of describedPorts(d)) {
    while (!(await portIsFree(host, port))) {
      if (Date.now() > deadline) throw new SilkError('INTERNAL', `port ${host}:${port} of ${owner} is still in use ${PORT_RELEASE_MS} ms after its process stopped`, { port });
      await sleep(POLL_MS);
    }
  }
  return stopped;
}

/**
 * Stops the network `up` started in `dir` and waits until its ports are free.
 * @returns the names of the processes stopped (empty when none was running)
 * @throws SilkError CONFIG_INVALID for an unreadable description or pids file; INTERNAL when a port stays in use
 * @example await networkDown('./network')
 */
export async function networkDown(dir: string): Promise<string[]> {
  const folder = resolve(dir);
  const pids = readPids(folder);
  if (pids === undefined) return [];
  const description = readNetworkDescription(pids.description);
  const stopped = await stopProcesses(description, pids.processes);
  rmSync(join(folder, PIDS_FILE), { force: true });
  return stopped;
}

async function peerChains(url: string, fetch: FetchFunction): Promise<ProcessStatus['chains']> {
  const response = await fetch(`${url}/api/ready`, { signal: AbortSignal.timeout(3_000) });
  const body = (await response.json()) as { chains?: Record<string, { height: number; ordered: number }> };
  const chains: Record<string, { height: number; ordered: number; commitHash?: string }> = {};
  for (const [name, c] of Object.entries(body.chains ?? {})) {
    let commitHash: string | undefined;
    if (c.height > 0) {
      const block = await fetch(`${url}/api/chains/${encodeURIComponent(name)}/blocks/${c.height - 1}`, { signal: AbortSignal.timeout(3_000) });
      commitHash = block.ok ? ((await block.json()) as { commitHash?: string }).commitHash : undefined;
    }
    chains[name] = { height: c.height, ordered: c.ordered, ...(commitHash === undefined ? {} : { commitHash }) };
  }
  return chains;
}

/**
 * Each chain of a description as the ordering log shows it: blocks ordered and the orderer
 * leading it (read from etcd; a chain that cannot be read carries its error).
 * @example const leaders = (await chainOrdering(description)).map((c) => c.leader)
 */
export async function chainOrdering(d: NetworkDescription): Promise<NetworkStatus['chains']> {
  const connection = openEtcdConnection({ ...describedEtcdAccess(d), deadlineMs: 3_000 });
  try {
    return await Promise.all(d.chains.map(async (c) => {
      const election = openChainElection(connection, { chain: c.name, candidate: 'silk-network-status' });
      try {
        const [ordered, leader] = await Promise.all([openEtcdBlockLog(connection, { chain: c.name }).height(), election.leader()]);
        // An orderer campaigns as `<name> <broadcast URL>`; the name is what an operator looks for.
        const name = leader === undefined ? undefined : (parseLeaderCandidate(leader.candidate)?.name ?? leader.candidate);
        return { name: c.name, ordered, ...(name === undefined ? {} : { leader: name }) };
      } catch (error) {
        return { name: c.name, error: isSilkError(error) ? error.message : String(error) };
      } finally {
        await election.close();
      }
    }));
  } finally {
    connection.close();
  }
}

function etcdStatuses(etcd: Awaited<ReturnType<typeof etcdHealth>>, memberPids: ReadonlyMap<string, number>): ProcessStatus[] {
  const leaderId = etcd.members.find((x) => x.name === etcd.leader)?.id;
  return etcd.members.map((m) => {
    const pid = memberPids.get(m.name);
    return { name: m.name, kind: 'etcd', ...(pid === undefined ? {} : { pid }), alive: pid !== undefined || m.reachable, ready: m.reachable, isLeader: m.id !== undefined && m.id === leaderId, ...(m.error === undefined ? {} : { error: m.error }) };
  });
}

/** The etcd members a running orderer or peer recorded, as a status field. */
function etcdMembersOf(d: NetworkDescription, dataDir: string, alive: boolean): { etcdMembers?: readonly string[] } {
  const recorded = alive ? readEtcdMembersRecord(describedPath(d, dataDir)) : undefined;
  return recorded === undefined ? {} : { etcdMembers: recorded.members };
}

async function ordererStatus(d: NetworkDescription, o: DescribedOrderer, p: LaunchedProcess | undefined): Promise<ProcessStatus> {
  const alive = p !== undefined && isLaunchedAlive(p);
  return { name: o.name, kind: 'orderer', ...(p === undefined ? {} : { pid: p.pid }), alive, ready: alive && (await portAccepts(o.host, o.port)), ...etcdMembersOf(d, o.dataDir, alive) };
}

async function peerStatus(d: NetworkDescription, peer: DescribedPeer, p: LaunchedProcess | undefined): Promise<ProcessStatus> {
  const alive = p !== undefined && isLaunchedAlive(p);
  const url = peerApiUrl(d, peer);
  let chains: ProcessStatus['chains'];
  let error: string | undefined;
  try {
    chains = alive ? await peerChains(url, networkFetch(d)) : undefined;
  } catch (e) {
    error = (e as Error).message;
  }
  const ready = chains !== undefined && Object.values(chains).every((c) => c.height >= c.ordered);
  return { name: peer.name, kind: 'peer', ...(p === undefined ? {} : { pid: p.pid }), alive, ready, url, ...(chains === undefined ? {} : { chains }), ...etcdMembersOf(d, peer.dataDir, alive), ...(error === undefined ? {} : { error }) };
}

/**
 * How the network in `dir` is: each process (pid, alive, ready; a peer's height and last commit
 * hash per chain; an etcd member's reachability and leadership), each chain's ordered height and
 * leading orderer, and etcd's health.
 * @throws SilkError CONFIG_INVALID when `dir` holds no network description
 * @example const status = await networkStatus('./network'); status.ready
 */
export async function networkStatus(dir: string): Promise<NetworkStatus> {
  const folder = resolve(dir);
  const file = join(folder, NETWORK_FILE);
  if (!existsSync(file)) throw new SilkError('CONFIG_INVALID', `${folder} holds no ${NETWORK_FILE}: silk network up --dir ${folder} creates one`);
  const description = readNetworkDescription(file);
  const pids = readPids(folder);
  const launched = new Map((pids?.processes ?? []).map((p) => [p.name, p]));
  const etcdHost = (pids?.processes ?? []).find((p) => p.kind === 'etcd');
  const memberPids = etcdHost === undefined ? new Map<string, number>() : etcdMemberPids(etcdHost.pid);
  const etcd = await etcdHealth(description);
  const processes: ProcessStatus[] = [
    ...etcdStatuses(etcd, memberPids),
    ...(await Promise.all(description.orderers.map((o) => ordererStatus(description, o, launched.get(o.name))))),
    ...(await Promise.all(description.peers.map((p) => peerStatus(description, p, launched.get(p.name))))),
  ];
  const chains = etcd.members.some((m) => m.reachable) ? await chainOrdering(description) : description.chains.map((c) => ({ name: c.name, error: 'etcd unreachable' }));
  return {
    dir: folder,
    started: pids !== undefined,
    ...apiAddress(description),
    etcd: { healthy: etcd.healthy, ...(etcd.leader === undefined ? {} : { leader: etcd.leader }) },
    chains,
    processes,
    ready: etcd.healthy && processes.every((p) => p.alive && p.ready),
  };
}

/** What {@link etcdSnapshot} wrote. */
export interface EtcdSnapshotResult {
  readonly file: string;
  /** The member it was taken from. */
  readonly member: string;
  /** As `etcdctl snapshot status` reads the file back: its hash, revision, keys and size. */
  readonly hash: number;
  readonly revision: number;
  readonly totalKeys: number;
  readonly totalSize: number;
}

function runEtcdctl(args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolveRun, reject) => {
    execFile(etcdctlPath(), [...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error === null) resolveRun(stdout);
      else reject(new Error(stderr.trim() || error.message));
    });
  });
}

function etcdctlPath(): string {
  return existsSync('/usr/bin/etcdctl') ? '/usr/bin/etcdctl' : 'etcdctl';
}

/**
 * Backs up the ordering log: an etcd snapshot (`etcdctl snapshot save`) of the network in `dir`,
 * taken from the first member that answers, then read back (`etcdctl snapshot status`) so a
 * truncated or corrupt file is reported, not kept.
 * @throws SilkError CONFIG_INVALID when `dir` holds no network description; ORDERING_UNAVAILABLE when no member gives a snapshot
 * @example const r = await etcdSnapshot('./network', './ordering-log.db'); r.revision
 */
export async function etcdSnapshot(dir: string, file: string): Promise<EtcdSnapshotResult> {
  const folder = resolve(dir);
  const descriptionFile = join(folder, NETWORK_FILE);
  if (!existsSync(descriptionFile)) throw new SilkError('CONFIG_INVALID', `${folder} holds no ${NETWORK_FILE}: silk network up --dir ${folder} creates one`);
  const description = readNetworkDescription(descriptionFile);
  const target = resolve(file);
  if (existsSync(target)) throw new SilkError('INVALID_ARGUMENT', `${target} exists: the snapshot goes to a new file`, { path: 'file' });
  const partial = `${target}.part`;
  const failures: string[] = [];
  const access = describedEtcdAccess(description);
  const tlsArgs = access.tls === undefined ? [] : ['--cacert', access.tls.caFile, '--cert', access.tls.certFile ?? '', '--key', access.tls.keyFile ?? ''];
  for (const [i, e] of description.etcd.entries()) {
    const url = access.endpoints[i] ?? '';
    try {
      rmSync(partial, { force: true });
      await runEtcdctl(['--endpoints', url, ...tlsArgs, '--command-timeout', '60s', 'snapshot', 'save', partial], 120_000);
      const status = JSON.parse(await runEtcdctl(['snapshot', 'status', partial, '-w', 'json'], 60_000)) as { hash: number; revision: number; totalKey: number; totalSize: number };
      renameSync(partial, target);
      return { file: target, member: e.name, hash: status.hash, revision: status.revision, totalKeys: status.totalKey, totalSize: status.totalSize };
    } catch (error) {
      failures.push(`${e.name} (${url}): ${(error as Error).message}`);
    }
  }
  rmSync(partial, { force: true });
  throw new SilkError('ORDERING_UNAVAILABLE', `no etcd member gave a snapshot: ${failures.join('; ')}`, { reason: 'snapshot-failed' });
}

/**
 * The processes `up` started in `dir` (as `pids.json` lists them; a restarted one with its new pid).
 * @throws SilkError CONFIG_INVALID for an unreadable pids file, or when the network was not started
 * @example const orderers = networkProcesses('./network').filter((p) => p.kind === 'orderer')
 */
export function networkProcesses(dir: string): readonly LaunchedProcess[] {
  const pids = readPids(resolve(dir));
  if (pids === undefined) throw new SilkError('CONFIG_INVALID', `${resolve(dir)} holds no ${PIDS_FILE}: the network is not running (silk network up)`);
  return pids.processes;
}

/** How long a control request to the etcd host may take (a restart waits up to 30 s for its ports). */
const CONTROL_TIMEOUT_MS = 45_000;

/** A request to the etcd host's control socket: {@link etcdHostRequest}. */
export interface EtcdHostRequest {
  readonly method: 'GET' | 'POST';
  /** `/status`, `/members` or `/members/<name>/<action>`. */
  readonly path: string;
  /** A JSON body (POST /members). */
  readonly body?: unknown;
  /** Default 45 s. */
  readonly timeoutMs?: number;
}

/**
 * Sends one request to the etcd host of a description's network (its control socket, see
 * etcd-host-main.ts) and returns the JSON answer.
 * @throws SilkError with the host's code when it refuses (INVALID_ARGUMENT, CONFIG_INVALID,
 *   ORDERING_UNAVAILABLE, …); ORDERING_UNAVAILABLE (reason `no-etcd-host`) when no host answers
 * @example const status = await etcdHostRequest(description, { method: 'GET', path: '/status' })
 */
export async function etcdHostRequest(description: NetworkDescription, request: EtcdHostRequest): Promise<unknown> {
  const socketPath = etcdControlSocket(description);
  const timeoutMs = request.timeoutMs ?? CONTROL_TIMEOUT_MS;
  const payload = request.body === undefined ? undefined : JSON.stringify(request.body);
  const { status, body } = await new Promise<{ status: number; body: string }>((done, fail) => {
    const req = httpRequest({ socketPath, method: request.method, path: request.path, timeout: timeoutMs, ...(payload === undefined ? {} : { headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => { done({ status: res.statusCode ?? 0, body: text }); });
    });
    req.on('timeout', () => { req.destroy(new Error(`no answer within ${timeoutMs} ms`)); });
    req.on('error', (cause) => { fail(new SilkError('ORDERING_UNAVAILABLE', `the etcd host of ${description.dataDir} does not answer on ${socketPath} (${cause.message}): is the network running?`, { reason: 'no-etcd-host' }, { cause })); });
    req.end(payload);
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (status === 200) return parsed;
  const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code: ErrorCode = typeof error?.code === 'string' && Object.hasOwn(ERROR_CODES, error.code) ? error.code as ErrorCode : (status === 400 ? 'INVALID_ARGUMENT' : 'ORDERING_UNAVAILABLE');
  throw new SilkError(code, typeof error?.message === 'string' ? error.message : `the etcd host answered ${status}: ${body.slice(0, 500)}`, { status });
}

/**
 * Acts on one etcd member of the network running in `dir`, through the etcd host's control socket:
 * `kill` (SIGKILL), `stop` (SIGTERM), `restart` (start it again; it rejoins by itself), `pause`
 * (SIGSTOP), `resume` (SIGCONT). Resolves once the host has done it (a restarted member is
 * started, not necessarily healthy yet).
 * @throws SilkError INVALID_ARGUMENT (unknown member or action), ORDERING_UNAVAILABLE (no etcd host answering)
 * @example await etcdMemberControl('./network', 'etcd-2', 'kill')
 */
export async function etcdMemberControl(dir: string, member: string, action: EtcdMemberAction): Promise<void> {
  if (!['kill', 'stop', 'restart', 'pause', 'resume'].includes(action)) throw new SilkError('INVALID_ARGUMENT', `unknown etcd member action ${action}: kill, stop, restart, pause or resume`);
  const description = readNetworkDescription(join(resolve(dir), NETWORK_FILE));
  if (!description.etcd.some((e) => e.name === member)) throw new SilkError('INVALID_ARGUMENT', `no etcd member named ${member}; members: ${description.etcd.map((e) => e.name).join(', ')}`);
  try {
    await etcdHostRequest(description, { method: 'POST', path: `/members/${member}/${action}` });
  } catch (error) {
    if (!isSilkError(error) || error.details.reason === 'no-etcd-host') throw error;
    throw new SilkError(error.code === 'INVALID_ARGUMENT' ? 'INVALID_ARGUMENT' : 'ORDERING_UNAVAILABLE', `etcd member ${member}: ${action} failed: ${error.message}`, { member, action }, { cause: error });
  }
}

function describedOrdererOrPeer(d: NetworkDescription, name: string): { kind: 'orderer' | 'peer'; dataDir: string } {
  const orderer = d.orderers.find((o) => o.name === name);
  if (orderer !== undefined) return { kind: 'orderer', dataDir: orderer.dataDir };
  const peer = d.peers.find((p) => p.name === name);
  if (peer !== undefined) return { kind: 'peer', dataDir: peer.dataDir };
  throw new SilkError('INVALID_ARGUMENT', `no orderer or peer named ${name}; orderers: ${d.orderers.map((o) => o.name).join(', ')}; peers: ${d.peers.map((p) => p.name).join(', ')}`);
}

/** Starts an orderer or peer of a running network, records its pid and waits until it is ready. */
async function launchInto(dir: string, description: NetworkDescription, file: string, name: string, timeoutMs: number): Promise<LaunchedProcess> {
  const { kind, dataDir } = describedOrdererOrPeer(description, name);
  const pids = readPids(dir);
  if (pids === undefined) throw new SilkError('CONFIG_INVALID', `${dir} holds no ${PIDS_FILE}: the network is not running (silk network up)`);
  const old = pids.processes.find((p) => p.name === name);
  if (old !== undefined && isLaunchedAlive(old)) throw new SilkError('CONFIG_INVALID', `${kind} ${name} is running (pid ${old.pid}): stop it first`);
  const folder = describedPath(description, dataDir);
  mkdirSync(folder, { recursive: true });
  const launched = launch(kind, name, file, join(folder, `${kind}.log`), description.etcd.map((e) => e.name));
  writePids(dir, { ...pids, processes: [...pids.processes.filter((p) => p.name !== name), launched] });
  try {
    await waitReady(description, [launched], Date.now() + timeoutMs, () => undefined);
  } catch (error) {
    if (isLaunchedAlive(launched)) process.kill(launched.pid, 'SIGKILL');
    throw error;
  }
  return launched;
}

/**
 * Starts again an orderer or peer of the network in `dir` that is not running (it crashed or was
 * killed), records its new pid and waits until it is ready (an orderer accepting connections, a
 * peer caught up with the ordered height).
 * @returns the process started
 * @throws SilkError INVALID_ARGUMENT (unknown name), CONFIG_INVALID (network not running, process
 *   still running), INTERNAL (it exited or was not ready within `timeoutMs`)
 * @example await restartNetworkProcess('./network', 'orderer0')
 */
export async function restartNetworkProcess(dir: string, name: string, timeoutMs = UP_TIMEOUT_MS): Promise<LaunchedProcess> {
  const folder = resolve(dir);
  const file = join(folder, NETWORK_FILE);
  return launchInto(folder, readNetworkDescription(file), file, name, timeoutMs);
}

/**
 * Stops one orderer or peer of the network running in `dir`: SIGTERM (an orderer finishes its
 * appends and resigns its leaderships, a peer drains its API), SIGKILL after
 * {@link STOP_GRACE_MS}; resolves once it has exited. With `forget`, its entry also leaves the
 * pids file (a process removed from the network).
 * @returns true when it was running
 * @throws SilkError INVALID_ARGUMENT (no orderer or peer of that name was started), CONFIG_INVALID (network not running)
 * @example await stopNetworkProcess('./network', 'orderer1')
 */
export async function stopNetworkProcess(dir: string, name: string, options: { readonly forget?: boolean } = {}): Promise<boolean> {
  const folder = resolve(dir);
  const pids = readPids(folder);
  if (pids === undefined) throw new SilkError('CONFIG_INVALID', `${folder} holds no ${PIDS_FILE}: the network is not running (silk network up)`);
  const entry = pids.processes.find((p) => p.name === name && p.kind !== 'etcd');
  if (entry === undefined) throw new SilkError('INVALID_ARGUMENT', `no orderer or peer named ${name} was started in ${folder}; started: ${pids.processes.filter((p) => p.kind !== 'etcd').map((p) => p.name).join(', ')}`);
  const running = isLaunchedAlive(entry);
  if (running) {
    process.kill(entry.pid, 'SIGTERM');
    if (!(await waitGone(entry, STOP_GRACE_MS))) {
      try { process.kill(entry.pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
      await waitGone(entry, 5_000);
    }
  }
  if (options.forget === true) {
    const now = readPids(folder) ?? pids;
    writePids(folder, { ...now, processes: now.processes.filter((p) => p.name !== name) });
  }
  return running;
}

/** Parameters of {@link addNetworkPeer}. */
export interface AddNetworkPeerParameters {
  /** The org the peer belongs to. */
  readonly org: string;
  /** Its port (default: a free one on the org's first peer's host). */
  readonly port?: number;
  /** How long to wait until it has caught up (default {@link UP_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
  /** The orgs' keys when they are in keystores (with their password); default PEM files. */
  readonly keys?: NetworkKeysOptions;
}

/**
 * Adds a peer to an org of the network running in `dir`: the next `peer<i>.<org>` is added to the
 * description (serving the chains the org's first peer serves), the bootstrap issues its key and
 * certificates (nothing else is rewritten), its etcd user is added (role `peer`: read-only on the
 * ordering log), and the process is started and waited for until it
 * has caught up: it takes the blocks the ordering log no longer holds from the other peers and
 * checks each one itself.
 * @returns the peer's name and API URL
 * @throws SilkError INVALID_ARGUMENT (unknown org, bad port), CONFIG_INVALID (network not
 *   running), INTERNAL (the peer exited or did not catch up in time)
 * @example const { name, url } = await addNetworkPeer('./network', { org: 'Org1' })
 */
export async function addNetworkPeer(dir: string, params: AddNetworkPeerParameters): Promise<{ name: string; url: string }> {
  const folder = resolve(dir);
  const file = join(folder, NETWORK_FILE);
  const current = readNetworkDescription(file);
  const first = current.peers.find((p) => p.org === params.org);
  if (first === undefined) throw new SilkError('INVALID_ARGUMENT', `no org ${params.org} with a peer in ${file}; orgs: ${current.orgs.map((o) => o.name).join(', ')}`);
  if (params.port !== undefined && (!Number.isSafeInteger(params.port) || params.port < 1 || params.port > 65_535)) throw new SilkError('INVALID_ARGUMENT', `port must be a whole number from 1 to 65535; got ${String(params.port)}`);
  const names = new Set(current.peers.map((p) => p.name));
  let i = 0;
  while (names.has(`peer${i}.${params.org.toLowerCase()}`)) i++;
  const name = `peer${i}.${params.org.toLowerCase()}`;
  const port = params.port ?? (await freePort(first.host));
  // The file as written (relative folders stay relative), with the new peer appended.
  const raw = parseYaml(readFileSync(file, 'utf8')) as NetworkDescription;
  const next = { ...raw, peers: [...raw.peers, { name, org: params.org, host: first.host, port, dataDir: `peers/${name}`, chains: [...first.chains] }] };
  writeFileSync(`${file}.partial`, networkDescriptionToYaml(next));
  try {
    const description = readNetworkDescription(`${file}.partial`);
    await bootstrapNetwork(description, { contracts: DEMO_CONTRACTS, keys: networkKeys(description, params.keys) });
    // Its etcd user (role peer: it may read the ordering log, not write it) before it starts.
    await grantDescribedEtcdUser(description, { name, role: 'peer' });
  } catch (error) {
    rmSync(`${file}.partial`, { force: true });
    throw error;
  }
  renameSync(`${file}.partial`, file);
  const description = readNetworkDescription(file);
  await launchInto(folder, description, file, name, params.timeoutMs ?? UP_TIMEOUT_MS);
  return { name, url: peerApiUrl(description, { host: first.host, port, dataDir: `peers/${name}` }) };
}

/**
 * SIGKILLs at once, synchronously, every process `up` started in `dir` that still runs (for exit
 * hooks and failure tests; the etcd members die with their host). Never throws.
 * @example process.on('exit', () => { killNetworkNow('./network'); })
 */
export function killNetworkNow(dir: string): void {
  let processes: readonly LaunchedProcess[];
  try {
    processes = readPids(resolve(dir))?.processes ?? [];
  } catch {
    return;
  }
  for (const p of processes) {
    if (!isLaunchedAlive(p)) continue;
    const members = p.kind === 'etcd' ? [...etcdMemberPids(p.pid).values()] : [];
    for (const pid of [p.pid, ...members]) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
    }
  }
}
