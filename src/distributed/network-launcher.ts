/**
 * Runs a whole distributed network on one machine, as `silk network up | down | status` do: a
 * description written to `<dir>/network.yaml` (the loopback layout, unless the file exists), the
 * bootstrap, then the etcd members, the orderers and one peer process per peer of the
 * description, each a detached process with its log in its own folder and its pid in
 * `<dir>/pids.json`. `down` stops them (SIGTERM, then SIGKILL after a grace period) and waits
 * until their ports are free; `status` asks each of them how it is.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import type { Contract } from '../contracts/framework/contract.js';
import { isSilkError, SilkError } from '../errors.js';
import { DEMO_CONTRACTS } from '../network/demo-alliance.js';
import { DEMO_SPEC } from '../network/demo-spec.js';
import type { NetworkSpec } from '../network/embedded-network.js';
import { openOrgKeyring, type NetworkKeysOptions } from '../network/org-keyring.js';
import { toHex } from '../crypto/hash.js';
import { parseLeaderCandidate } from '../ordering/orderer-wire.js';
import { openEtcdBlockLog } from './etcd-block-log.js';
import { openEtcdConnection } from './etcd-client.js';
import { openChainElection } from './etcd-election.js';
import { checkLocalEtcdLayout } from './etcd-host-main.js';
import { bootstrapNetwork, type BootstrapResult } from './network-bootstrap.js';
import { describedPath, localNetworkDescription, networkDescriptionToYaml, readNetworkDescription, type DescribedOrderer, type DescribedPeer, type NetworkDescription } from './network-description.js';

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
  /** The API's base URL (the peer the description's `api` fronts). */
  readonly apiUrl: string;
  /** Each peer's API base URL. */
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
  readonly error?: string;
}

/** The whole network, as {@link networkStatus} sees it. */
export interface NetworkStatus {
  readonly dir: string;
  /** False when no `pids.json` exists (the network was not started, or was stopped). */
  readonly started: boolean;
  readonly apiUrl?: string;
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

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The spec of `--orgs N`: orgs Org1…OrgN, chain `trade` running `basic` endorsed by any one org's peer. */
export function smallNetworkSpec(orgs: number): NetworkSpec {
  if (!Number.isSafeInteger(orgs) || orgs < 1 || orgs > 64) throw new SilkError('INVALID_ARGUMENT', `--orgs must be a whole number from 1 to 64; got ${String(orgs)}`);
  const names = Array.from({ length: orgs }, (_, i) => `Org${i + 1}`);
  return {
    orgs: names.map((name) => ({ name })),
    chains: [{ name: 'trade', contracts: [{ name: 'basic', policy: `OR(${names.map((o) => `'${o}.peer'`).join(', ')})` }], batch: { maxTxs: 100, timeoutMs: 20 } }],
  };
}

/** The keys a description's orgs need: keystores when any org points at one, else PEM. */
function keysFor(description: NetworkDescription, given: NetworkKeysOptions | undefined): NetworkKeysOptions {
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

async function portIsFree(host: string, port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((done) => {
    server.once('error', () => { done(false); });
    server.listen(port, host, () => { server.close(() => { done(true); }); });
  });
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

function readPids(dir: string): PidsFile | undefined {
  const file = join(dir, PIDS_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { v?: unknown; description?: unknown; processes?: unknown };
    if (parsed.v !== 1 || typeof parsed.description !== 'string' || !Array.isArray(parsed.processes)) throw new Error('unknown format');
    for (const entry of parsed.processes as unknown[]) {
      const p = entry as Partial<LaunchedProcess> | null;
      if (typeof p?.name !== 'string' || typeof p.log !== 'string' || !Number.isSafeInteger(p.pid) || (p.pid ?? 0) <= 1 || typeof p.kind !== 'string' || !Object.hasOwn(SCRIPTS, p.kind)) throw new Error(`bad entry ${JSON.stringify(entry)}`);
    }
    return parsed as PidsFile;
  } catch (cause) {
    throw new SilkError('CONFIG_INVALID', `${file} is not a pids file of silk network up (${(cause as Error).message}): stop the processes by hand and delete it`, { file }, { cause });
  }
}

function writePids(dir: string, pids: PidsFile): void {
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

/** Starts one process detached, its output appended to `log`. */
function launch(kind: LaunchedKind, name: string, descriptionFile: string, log: string): LaunchedProcess {
  if (!existsSync(SCRIPTS[kind])) throw new SilkError('INTERNAL', `${SCRIPTS[kind]} is missing: build the project (npm run build)`);
  const fd = openSync(log, 'a');
  try {
    const args = [SCRIPTS[kind], '--description', descriptionFile, ...(kind === 'etcd' ? [] : ['--name', name])];
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' } });
    child.unref();
    if (child.pid === undefined) throw new SilkError('INTERNAL', `could not start ${name}`);
    return { name, kind, pid: child.pid, log };
  } finally {
    closeSync(fd);
  }
}

/** Each etcd member's status, asked of the member itself. */
async function etcdMembers(d: NetworkDescription): Promise<{ name: string; reachable: boolean; id?: string; leaderId?: string; error?: string }[]> {
  return Promise.all(d.etcd.map(async (e) => {
    const client = new Etcd3({ hosts: `http://${urlHost(e.host)}:${e.clientPort}`, dialTimeout: 2_000 });
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

async function peerReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/api/ready`, { signal: AbortSignal.timeout(2_000) });
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
  return peer !== undefined && peerReady(`http://${urlHost(peer.host)}:${peer.port}`);
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
  const bootstrap = await bootstrapNetwork(description, { contracts: params.contracts ?? DEMO_CONTRACTS, keys: keysFor(description, params.keys) });
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
      const p = launch(kind, item.name, file, join(folder, `${kind}.log`));
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
  const peerUrls = Object.fromEntries(description.peers.map((p) => [p.name, `http://${urlHost(p.host)}:${p.port}`]));
  return { descriptionFile: file, describedNow, bootstrap, processes: started, apiUrl: `http://${urlHost(description.api.host)}:${description.api.port}`, peerUrls };
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

async function peerChains(url: string): Promise<ProcessStatus['chains']> {
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

async function chainStatus(d: NetworkDescription): Promise<NetworkStatus['chains']> {
  const connection = openEtcdConnection({ endpoints: d.etcd.map((e) => `http://${urlHost(e.host)}:${e.clientPort}`), deadlineMs: 3_000 });
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

async function ordererStatus(o: DescribedOrderer, p: LaunchedProcess | undefined): Promise<ProcessStatus> {
  const alive = p !== undefined && isLaunchedAlive(p);
  return { name: o.name, kind: 'orderer', ...(p === undefined ? {} : { pid: p.pid }), alive, ready: alive && (await portAccepts(o.host, o.port)) };
}

async function peerStatus(peer: DescribedPeer, p: LaunchedProcess | undefined): Promise<ProcessStatus> {
  const alive = p !== undefined && isLaunchedAlive(p);
  const url = `http://${urlHost(peer.host)}:${peer.port}`;
  let chains: ProcessStatus['chains'];
  let error: string | undefined;
  try {
    chains = alive ? await peerChains(url) : undefined;
  } catch (e) {
    error = (e as Error).message;
  }
  const ready = chains !== undefined && Object.values(chains).every((c) => c.height >= c.ordered);
  return { name: peer.name, kind: 'peer', ...(p === undefined ? {} : { pid: p.pid }), alive, ready, url, ...(chains === undefined ? {} : { chains }), ...(error === undefined ? {} : { error }) };
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
    ...(await Promise.all(description.orderers.map((o) => ordererStatus(o, launched.get(o.name))))),
    ...(await Promise.all(description.peers.map((p) => peerStatus(p, launched.get(p.name))))),
  ];
  const chains = etcd.members.some((m) => m.reachable) ? await chainStatus(description) : description.chains.map((c) => ({ name: c.name, error: 'etcd unreachable' }));
  return {
    dir: folder,
    started: pids !== undefined,
    apiUrl: `http://${urlHost(description.api.host)}:${description.api.port}`,
    etcd: { healthy: etcd.healthy, ...(etcd.leader === undefined ? {} : { leader: etcd.leader }) },
    chains,
    processes,
    ready: etcd.healthy && processes.every((p) => p.alive && p.ready),
  };
}
