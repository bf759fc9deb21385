/**
 * Changing the membership of a running local network, as `silk network etcd add | remove` and
 * `silk network orderer add | remove` do (docs/operations.md, "Changing the membership"):
 *
 * - an etcd member is added through the etcd host's control socket (a Raft learner, promoted to a
 *   voting member once it caught up, waited for until the cluster is healthy) or removed (the Raft
 *   leader too), and the network description gains or loses it, so `status`, `down`, `up` and
 *   orderers or peers started later use the members there are now;
 * - an orderer is added by issuing its key and TLS certificate (the bootstrap), its etcd user
 *   (role `orderer`: it may write the ordering log), a configuration transaction listing its key
 *   on every chain (signed by the orgs' admins, committed at every running peer), and only then
 *   starting it; it is removed by a configuration transaction taking its key out (the orderer
 *   steps down at once if it led), deleting its etcd user (etcd refuses its certificate from then
 *   on, even if the process still runs somewhere or is restarted), then stopping it.
 *
 * Every change refuses clearly what a careful operator would not do (the last orderer, an etcd
 * cluster left below three members or without a quorum, a running process left without an etcd
 * member it calls) and, when it fails midway, leaves the description as it was. One change runs
 * at a time per network folder (`membership.lock`).
 *
 * Running processes follow the description (`watchNetworkDescription`): they admit an added
 * orderer's certificate and send to it, and refuse a removed one's, without a restart; their etcd
 * client calls the members listed now (etcd-members-followed.ts), and an etcd change waits until
 * every running process does.
 */
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Agent } from 'node:https';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { toHex } from '../crypto/hash.js';
import { signerFromPem, type Signer } from '../crypto/p256.js';
import { isSilkError, SilkError } from '../errors.js';
import { validateChainConfig, type ChainConfig } from '../ledger/chain-config.js';
import { createConfigTransaction } from '../ledger/config-transaction.js';
import { decodeTransaction } from '../ledger/transaction.js';
import { DEMO_CONTRACTS } from '../network/demo-alliance.js';
import { openOrgKeyring, type NetworkKeysOptions, type OrgKeyring } from '../network/org-keyring.js';
import { BROADCAST_PATH, errorOfAnswer, positionOfAnswer, postJson } from '../ordering/orderer-wire.js';
import { isProcessAlive } from '../storage/data-lock.js';
import type { EtcdClusterStatus } from './etcd-cluster.js';
import { checkLocalEtcdLayout, grantDescribedEtcdUser, revokeDescribedEtcdUser } from './etcd-host-main.js';
import { readEtcdMembersRecord, sameEtcdMembers } from './etcd-members-followed.js';
import { mtlsAgent, readTlsCredentials } from './mtls.js';
import { bootstrapNetwork, ordererKeyFile, orgKeysDir } from './network-bootstrap.js';
import { describedPath, networkDescriptionToYaml, networkSpecOf, readNetworkDescription, urlHost, type DescribedPeer, type NetworkDescription } from './network-description.js';
import { freePort } from './loopback-ports.js';
import { chainOrdering, etcdHostRequest, isLaunchedAlive, NETWORK_FILE, networkKeys, readPids, restartNetworkProcess, stopNetworkProcess, UP_TIMEOUT_MS, type LaunchedProcess } from './network-launcher.js';
import { networkFetch, peerApiUrl } from './peer-api-address.js';
import { adminKeysOfChains, processTlsFiles, tlsMembershipOfNetwork } from './tls-pki.js';
import type { FetchFunction } from '../sdk/http-transport.js';

/** Most etcd members a cluster has (etcd's own limit). */
export const MAX_ETCD_MEMBERS = 7;
/** Fewest etcd members a removal leaves unless forced: three keep a majority through one failure. */
export const MIN_SAFE_ETCD_MEMBERS = 3;
/** How long an added etcd member may take to become a healthy voting member (default). */
export const ETCD_ADD_TIMEOUT_MS = 60_000;
/** How long a configuration transaction may take to be committed at every running peer (default). */
export const CONFIG_COMMIT_TIMEOUT_MS = 60_000;
/** The lock file of a membership change in the network folder. */
export const MEMBERSHIP_LOCK_FILE = 'membership.lock';
/** How long one request to a peer's API or an orderer may take. */
const REQUEST_TIMEOUT_MS = 10_000;
const POLL_MS = 250;
/** How long an etcd change waits for the running orderers and peers to call the members the description lists now. */
const ETCD_FOLLOW_WAIT_MS = 10_000;

/** What an etcd membership change did. */
export interface EtcdMembershipChange {
  /** The member added or removed. */
  readonly member: string;
  /** The members now, as the description lists them. */
  readonly members: readonly string[];
  /** An added member's client URL. */
  readonly clientUrl?: string;
  /** A removed member: whether it was the Raft leader (the others elected a new one). */
  readonly wasLeader?: boolean;
  /** What the operator should know (running processes that keep their old endpoint list, …). */
  readonly warnings: readonly string[];
}

/** A configuration transaction committed on one chain. */
export interface ChainConfigChange {
  readonly chain: string;
  /** The new configuration's sequence. */
  readonly sequence: number;
  /** The block holding it (a configuration transaction is alone in its block). */
  readonly block: number;
  readonly txId: string;
}

/** What an orderer membership change did. */
export interface OrdererMembershipChange {
  /** The orderer added or removed. */
  readonly orderer: string;
  readonly org: string;
  /** Its block-signing public key (hex), added to or removed from the chains' configurations. */
  readonly key: string;
  /** The orderers now, as the description lists them. */
  readonly orderers: readonly string[];
  /** The configuration transactions committed (a chain already in the wanted state has none). */
  readonly chains: readonly ChainConfigChange[];
  /** An added orderer's broadcast URL. */
  readonly url?: string;
  /** A removed orderer: the chains it led when the change began (another orderer leads them now). */
  readonly ledChains?: readonly string[];
  /** A removed orderer: whether its process was running (it was stopped). */
  readonly stopped?: boolean;
  /** A removed orderer: whether its etcd user existed and was deleted (false on a network without TLS). */
  readonly etcdUserDeleted?: boolean;
}

/** Parameters of {@link addEtcdMember}. */
export interface AddEtcdMemberParameters {
  /** How long the member may take to become a healthy voting member (default {@link ETCD_ADD_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
  /** The orgs' keys when they are in keystores (with their password); default PEM files. */
  readonly keys?: NetworkKeysOptions;
}

/** Parameters of {@link removeEtcdMember}. */
export interface RemoveEtcdMemberParameters {
  /** Allow leaving fewer than {@link MIN_SAFE_ETCD_MEMBERS} members (never none). */
  readonly force?: boolean;
}

/** Parameters of {@link addNetworkOrderer}. */
export interface AddNetworkOrdererParameters {
  /** The org running it and issuing its certificate (default: the org running the fewest orderers). */
  readonly org?: string;
  /** The orgs' keys when they are in keystores (with their password); default PEM files. */
  readonly keys?: NetworkKeysOptions;
  /** How long each step may take: the commit of each configuration transaction, the start (default 60 s). */
  readonly timeoutMs?: number;
}

/** Parameters of {@link removeNetworkOrderer}. */
export interface RemoveNetworkOrdererParameters {
  /** The orgs' keys when they are in keystores (with their password); default PEM files. */
  readonly keys?: NetworkKeysOptions;
  /** How long the commit of each configuration transaction may take (default {@link CONFIG_COMMIT_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

function checkTimeout(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 1_000 || ms > 600_000) throw new SilkError('INVALID_ARGUMENT', `timeoutMs must be a whole number of milliseconds from 1000 to 600000; got ${String(ms)}`);
  return ms;
}

function checkName(what: string, name: unknown): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(name)) throw new SilkError('INVALID_ARGUMENT', `${what} must be a process name (letters, digits, '_', '.', '-'); got ${JSON.stringify(name)}`);
  return name;
}

// ---- the network, its lock and its description ------------------------------------------------

/** A network `up` started in a folder, as a membership change finds it. */
interface RunningNetwork {
  readonly folder: string;
  readonly file: string;
  readonly description: NetworkDescription;
  readonly processes: readonly LaunchedProcess[];
}

/** @throws SilkError CONFIG_INVALID when `dir` holds no description or its network is not running */
function runningNetwork(dir: string): RunningNetwork {
  const folder = resolve(dir);
  const file = join(folder, NETWORK_FILE);
  if (!existsSync(file)) throw new SilkError('CONFIG_INVALID', `${folder} holds no ${NETWORK_FILE}: silk network up --dir ${folder} creates one`);
  const description = readNetworkDescription(file);
  const processes = readPids(folder)?.processes ?? [];
  const host = processes.find((p) => p.kind === 'etcd');
  if (host === undefined || !isLaunchedAlive(host)) throw new SilkError('CONFIG_INVALID', `the network in ${folder} is not running: membership changes act on a running network (silk network up --dir ${folder} first)`);
  return { folder, file, description, processes };
}

/**
 * Runs `change` holding the network folder's membership lock (a file naming the process and the
 * change); a lock left by a process that is gone is taken over.
 * @throws SilkError CONFIG_INVALID when another change holds the lock
 */
async function withMembershipLock<T>(folder: string, what: string, change: () => Promise<T>): Promise<T> {
  const file = join(folder, MEMBERSHIP_LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, `${JSON.stringify({ pid: process.pid, change: what, since: new Date().toISOString() })}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      let holder: { pid?: unknown; change?: unknown } = {};
      try { holder = JSON.parse(readFileSync(file, 'utf8')) as typeof holder; } catch { /* unreadable: treated as stale */ }
      if (typeof holder.pid === 'number' && isProcessAlive(holder.pid)) {
        throw new SilkError('CONFIG_INVALID', `another membership change (${String(holder.change)}, pid ${holder.pid}) is running on ${folder}: wait until it ends`, { file });
      }
      rmSync(file, { force: true });
    }
  }
  try {
    return await change();
  } finally {
    rmSync(file, { force: true });
  }
}

/** A changed description written beside the real one, validated, not yet in force. */
interface StagedDescription {
  readonly file: string;
  readonly staged: string;
  readonly description: NetworkDescription;
}

/**
 * Writes the description file with `change` applied to `<file>.partial` (relative folders stay
 * relative) and reads it back through every check; {@link commitStaged} renames it over the file.
 * @throws SilkError CONFIG_INVALID when the changed description fails a check (nothing is left behind)
 */
function stageDescription(file: string, change: (raw: NetworkDescription) => NetworkDescription): StagedDescription {
  const raw = parseYaml(readFileSync(file, 'utf8')) as NetworkDescription;
  const staged = `${file}.partial`;
  writeFileSync(staged, networkDescriptionToYaml(change(raw)));
  try {
    return { file, staged, description: readNetworkDescription(staged) };
  } catch (error) {
    rmSync(staged, { force: true });
    throw error;
  }
}

/** Puts a staged description in force: one rename, so a process reading it sees the old or the new file. */
function commitStaged(s: StagedDescription): void {
  renameSync(s.staged, s.file);
}

function discardStaged(s: StagedDescription): void {
  rmSync(s.staged, { force: true });
}

// ---- etcd members ---------------------------------------------------------------------------

async function etcdClusterStatus(d: NetworkDescription): Promise<EtcdClusterStatus> {
  return await etcdHostRequest(d, { method: 'GET', path: '/status' }) as EtcdClusterStatus;
}

function etcdSummary(status: EtcdClusterStatus): string {
  return status.members.map((m) => `${m.name} ${m.reachable ? (m.isLeader ? 'leader' : 'up') : 'unreachable'}`).join(', ') + (status.alarms.length > 0 ? `; alarms ${status.alarms.map((a) => a.alarm).join(', ')}` : '');
}

/** The next member name: one past the highest `etcd-<n>` the description lists or a folder under `etcd/` holds (names are never reused). */
function nextEtcdName(d: NetworkDescription): string {
  const numbers = d.etcd.map((e) => Number(/^etcd-(\d+)$/.exec(e.name)?.[1] ?? 0));
  const dir = describedPath(d, 'etcd');
  if (existsSync(dir)) for (const entry of readdirSync(dir)) numbers.push(Number(/^etcd-(\d+)$/.exec(entry)?.[1] ?? 0));
  return `etcd-${Math.max(0, ...numbers) + 1}`;
}

/** A running orderer or peer and the etcd members its client calls. */
interface EtcdCallingProcess {
  readonly name: string;
  readonly members: readonly string[];
}

/**
 * Running orderers and peers, with the etcd members each calls: what it recorded in its data
 * folder (it follows the description, etcd-members-followed.ts), else the members it started with,
 * else the description's.
 */
function etcdClients(processes: readonly LaunchedProcess[], d: NetworkDescription): EtcdCallingProcess[] {
  const dataDirs = new Map([...d.orderers, ...d.peers].map((p) => [p.name, describedPath(d, p.dataDir)]));
  return processes.filter((p) => p.kind !== 'etcd' && isLaunchedAlive(p)).map((p) => {
    const dataDir = dataDirs.get(p.name);
    const recorded = dataDir === undefined ? undefined : readEtcdMembersRecord(dataDir);
    return { name: p.name, members: recorded?.members ?? p.etcd ?? d.etcd.map((e) => e.name) };
  });
}

/**
 * Waits until every running orderer and peer calls the members the description lists now (each
 * looks at the description once a second, and asks the cluster every 5 s), at most {@link ETCD_FOLLOW_WAIT_MS}.
 * @returns the processes that do not yet, with the members they call
 */
async function awaitEtcdFollowers(net: RunningNetwork): Promise<EtcdCallingProcess[]> {
  const d = readNetworkDescription(net.file);
  const wanted = d.etcd.map((e) => e.name);
  const lagging = (): EtcdCallingProcess[] => etcdClients(net.processes, d).filter((c) => !sameEtcdMembers(c.members, wanted));
  const deadline = Date.now() + ETCD_FOLLOW_WAIT_MS;
  let left = lagging();
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = lagging();
  }
  return left;
}

/** A warning naming processes that have not taken the description's etcd members yet. */
function laggingWarning(lagging: readonly EtcdCallingProcess[]): string[] {
  if (lagging.length === 0) return [];
  return [`${lagging.map((c) => `${c.name} (calling ${c.members.join(', ')})`).join('; ')} did not take the new etcd members within ${ETCD_FOLLOW_WAIT_MS / 1000} s: a process takes them from the description once a second and from the cluster every 5 s while it runs (is it paused or overloaded?); restarting it also does`];
}

/**
 * Adds an etcd member to the network running in `dir`: the next `etcd-<n>` (names are never
 * reused), on free loopback ports, its certificate issued by the org whose turn it is; the etcd
 * host adds it as a learner, starts it, promotes it once it has caught up and answers once the
 * cluster is healthy with it as a voting member. Only then does the description list it.
 * @returns the member added and the members now
 * @throws SilkError INVALID_ARGUMENT (7 members already, bad timeout); CONFIG_INVALID (network not
 *   running, another change running); ORDERING_UNAVAILABLE (etcd not healthy before, or the member
 *   not a healthy voting member in time: it is removed again and nothing changes)
 * @example const { member } = await addEtcdMember('./network')
 */
export async function addEtcdMember(dir: string, params: AddEtcdMemberParameters = {}): Promise<EtcdMembershipChange> {
  const timeoutMs = checkTimeout(params.timeoutMs ?? ETCD_ADD_TIMEOUT_MS);
  const { folder } = runningNetwork(dir);
  return withMembershipLock(folder, 'etcd add', async () => {
    const net = runningNetwork(dir);
    const d = net.description;
    checkLocalEtcdLayout(d);
    if (d.etcd.length >= MAX_ETCD_MEMBERS) throw new SilkError('INVALID_ARGUMENT', `the etcd cluster has ${d.etcd.length} members, the most it takes (${MAX_ETCD_MEMBERS}): remove one before adding another`);
    const before = await etcdClusterStatus(d);
    if (!before.healthy) throw new SilkError('ORDERING_UNAVAILABLE', `the etcd cluster is not healthy (${etcdSummary(before)}): bring every member back before adding one (silk network status)`, { reason: 'unhealthy' });
    const name = nextEtcdName(d);
    const clientPort = await freePort('127.0.0.1');
    let peerPort = await freePort('127.0.0.1');
    while (peerPort === clientPort) peerPort = await freePort('127.0.0.1');
    const org = d.orgs[(Number(name.slice('etcd-'.length)) - 1) % d.orgs.length]?.name ?? '';
    const memberDir = describedPath(d, `etcd/${name}`);
    const staged = stageDescription(net.file, (raw) => ({ ...raw, etcd: [...raw.etcd, { name, org, host: '127.0.0.1', clientPort, peerPort, dataDir: `etcd/${name}` }] }));
    let answer: { clientUrl?: unknown };
    try {
      await bootstrapNetwork(staged.description, { contracts: DEMO_CONTRACTS, keys: networkKeys(staged.description, params.keys) });
      answer = await etcdHostRequest(d, { method: 'POST', path: '/members', body: { name, clientPort, peerPort, timeoutMs }, timeoutMs: timeoutMs + 30_000 }) as { clientUrl?: unknown };
    } catch (error) {
      discardStaged(staged);
      rmSync(memberDir, { recursive: true, force: true });
      throw error;
    }
    commitStaged(staged);
    return {
      member: name,
      members: staged.description.etcd.map((e) => e.name),
      ...(typeof answer.clientUrl === 'string' ? { clientUrl: answer.clientUrl } : {}),
      warnings: laggingWarning(await awaitEtcdFollowers(net)),
    };
  });
}

/**
 * Removes an etcd member from the network running in `dir` (the Raft leader too: the others
 * elect a new one within seconds): the etcd host takes it out of the cluster and stops it, then
 * the description drops it. Its data folder stays on disk; its name is not used again.
 * @param name the member (`etcd-<n>`)
 * @returns the member removed, the members now, whether it led
 * @throws SilkError INVALID_ARGUMENT (unknown member, with the list; the last member; fewer than
 *   three left without `force`); ORDERING_UNAVAILABLE (the rest would have no quorum, or etcd
 *   refused); CONFIG_INVALID (network not running, another change running, or a running orderer or
 *   peer that has not followed the description, e.g. paused, would be left without any etcd member it calls)
 * @example await removeEtcdMember('./network', 'etcd-2')
 */
export async function removeEtcdMember(dir: string, name: string, params: RemoveEtcdMemberParameters = {}): Promise<EtcdMembershipChange> {
  checkName('the etcd member', name);
  const { folder } = runningNetwork(dir);
  return withMembershipLock(folder, `etcd remove ${name}`, async () => {
    const net = runningNetwork(dir);
    const d = net.description;
    checkLocalEtcdLayout(d);
    const names = d.etcd.map((e) => e.name);
    if (!names.includes(name)) throw new SilkError('INVALID_ARGUMENT', `no etcd member named ${name}; members: ${names.join(', ')}`, { path: 'name' });
    const remaining = names.filter((n) => n !== name);
    if (remaining.length === 0) throw new SilkError('INVALID_ARGUMENT', `${name} is the only etcd member: the ordering log would have none; add a member first (silk network etcd add)`);
    if (remaining.length < MIN_SAFE_ETCD_MEMBERS && params.force !== true) {
      throw new SilkError('INVALID_ARGUMENT', `removing ${name} would leave ${remaining.length} etcd member${remaining.length === 1 ? '' : 's'} (${remaining.join(', ')}): with fewer than ${MIN_SAFE_ETCD_MEMBERS} the ordering log stops at the next member failure; add a member first, or give --force`);
    }
    const status = await etcdClusterStatus(d);
    const answering = status.members.filter((m) => m.reachable && m.name !== name).length;
    const quorum = Math.floor(remaining.length / 2) + 1;
    if (answering < quorum) throw new SilkError('ORDERING_UNAVAILABLE', `only ${answering} of the ${remaining.length} members left after removing ${name} answer (${etcdSummary(status)}): ${quorum} are needed for a quorum; bring members back first`, { reason: 'no-quorum' });
    const clients = etcdClients(net.processes, d);
    const stranded = clients.filter((c) => !c.members.some((m) => remaining.includes(m)));
    if (stranded.length > 0) {
      throw new SilkError('CONFIG_INVALID', `${stranded.map((c) => `${c.name} (calling ${c.members.join(', ')})`).join('; ')} would have no etcd member left to reach: it has not taken the members the description lists (${names.join(', ')}); let it run so it does, or restart it`);
    }
    await etcdHostRequest(d, { method: 'POST', path: `/members/${name}/remove`, timeoutMs: 60_000 });
    commitStaged(stageDescription(net.file, (raw) => ({ ...raw, etcd: raw.etcd.filter((e) => e.name !== name) })));
    return {
      member: name,
      members: remaining,
      wasLeader: status.leader === name,
      warnings: laggingWarning(await awaitEtcdFollowers(net)),
    };
  });
}

// ---- configuration transactions -----------------------------------------------------------

/** A chain whose configuration changes: where it is served and what it becomes. */
interface ConfigPlan {
  readonly chain: string;
  readonly peers: readonly string[];
  readonly current: ChainConfig;
  readonly next: ChainConfig;
}

/** API base URLs of the described peers whose process runs, by chain. */
function runningPeerUrls(d: NetworkDescription, processes: readonly LaunchedProcess[], chain: string): string[] {
  const alive = new Set(processes.filter((p) => p.kind === 'peer' && isLaunchedAlive(p)).map((p) => p.name));
  return d.peers.filter((p: DescribedPeer) => alive.has(p.name) && p.chains.includes(chain)).map((p) => peerApiUrl(d, p));
}

async function getJson(fetch: FetchFunction, url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return { status: response.status, body: await response.json().catch(() => undefined) };
}

/**
 * A chain's configuration in force: the newest any running peer serving it has committed.
 * @throws SilkError ORDERING_UNAVAILABLE when no peer answers
 */
async function currentConfig(chain: string, peers: readonly string[], fetch: FetchFunction): Promise<ChainConfig> {
  let newest: ChainConfig | undefined;
  const problems: string[] = [];
  for (const url of peers) {
    try {
      const { status, body } = await getJson(fetch, `${url}/api/chains/${encodeURIComponent(chain)}`);
      if (status !== 200) throw new Error(`status ${status}`);
      const config = validateChainConfig((body as { config?: unknown } | undefined)?.config);
      if (newest === undefined || config.sequence > newest.sequence) newest = config;
    } catch (error) {
      problems.push(`${url}: ${(error as Error).message}`);
    }
  }
  if (newest === undefined) throw new SilkError('ORDERING_UNAVAILABLE', `no running peer gave the configuration of chain ${chain} (${problems.join('; ') || 'none runs'})`, { chain });
  return newest;
}

/** The admins of a configuration whose keys the network folder holds: the creator first. */
function adminSigners(config: ChainConfig, keyring: OrgKeyring, keysDir: string): Signer[] {
  const signers: Signer[] = [];
  for (const [org, { members }] of Object.entries(config.orgs)) {
    let admin: Signer;
    try {
      admin = keyring.signer(org, 'admin');
    } catch {
      continue;
    }
    if (members.some((m) => m.role === 'admin' && m.key === toHex(admin.publicKey))) signers.push(admin);
  }
  if (signers.length === 0) throw new SilkError('CONFIG_INVALID', `none of the admin keys of chain ${config.chain} is in ${keysDir}: a configuration transaction needs its admins' signatures`, { chain: config.chain });
  return signers;
}

/** Sends envelopes to the running orderers (a follower forwards to the chain's leader). */
interface ConfigSender {
  broadcast(chain: string, envelope: Uint8Array, deadline: number): Promise<number>;
  close(): void;
}

/**
 * Broadcasts as the network's API does, with its TLS certificate when the network has certificates
 * (orderers admit registered orderers, peers and the API).
 */
function configSender(d: NetworkDescription, processes: readonly LaunchedProcess[], adminKeys: Readonly<Record<string, readonly string[]>>): ConfigSender {
  const files = processTlsFiles(describedPath(d, d.api.dataDir), 'api');
  const agent: Agent | undefined = files === undefined ? undefined : mtlsAgent({ credentials: readTlsCredentials(files), membership: tlsMembershipOfNetwork(d, adminKeys), serverRoles: ['orderer'], keepAlive: false });
  const scheme = files === undefined ? 'http' : 'https';
  const alive = new Set(processes.filter((p) => p.kind === 'orderer' && isLaunchedAlive(p)).map((p) => p.name));
  const urls = d.orderers.filter((o) => alive.has(o.name)).map((o) => `${scheme}://${urlHost(o.host)}:${o.port}`);
  return {
    async broadcast(chain, envelope, deadline) {
      if (urls.length === 0) throw new SilkError('ORDERING_UNAVAILABLE', 'no orderer of the network is running to order the configuration transaction', { reason: 'no-orderer', settled: true });
      const body = { chain, envelope: Buffer.from(envelope).toString('base64') };
      let last = 'no answer';
      while (Date.now() < deadline) {
        for (const url of urls) {
          try {
            const answer = await postJson(url, BROADCAST_PATH, body, { timeoutMs: Math.max(1_000, Math.min(30_000, deadline - Date.now())), ...(agent === undefined ? {} : { agent }) });
            if (answer.status === 200) return positionOfAnswer(answer, url).block;
            const refusal = errorOfAnswer(answer, url);
            if (refusal.code !== 'ORDERING_UNAVAILABLE') throw new SilkError(refusal.code, `the orderers refused the configuration transaction of chain ${chain}: ${refusal.message}`, { chain, settled: true }, { cause: refusal });
            last = refusal.message;
          } catch (error) {
            if (isSilkError(error) && error.details.settled === true) throw error;
            last = (error as Error).message;
          }
        }
        await sleep(POLL_MS);
      }
      throw new SilkError('ORDERING_UNAVAILABLE', `no orderer took the configuration transaction of chain ${chain} in time (last problem: ${last}); it may still be ordered`, { chain, reason: 'timeout' });
    },
    close() { agent?.destroy(); },
  };
}

/**
 * Waits until every peer in `peers` has committed `txId`.
 * @returns the block holding it
 * @throws SilkError CONFIG_INVALID (details.settled) when a peer committed it as invalid; COMMIT_TIMEOUT when not every peer has it by `deadline`
 */
async function waitCommitted(chain: string, txId: string, peers: readonly string[], deadline: number, fetch: FetchFunction): Promise<number> {
  const pending = new Set(peers);
  let block = -1;
  while (pending.size > 0) {
    for (const url of [...pending]) {
      try {
        const { status, body } = await getJson(fetch, `${url}/api/chains/${encodeURIComponent(chain)}/transactions/${txId}`);
        if (status !== 200) continue;
        const view = body as { code?: unknown; block?: unknown };
        if (view.code !== 'VALID') throw new SilkError('CONFIG_INVALID', `the configuration transaction ${txId} of chain ${chain} was committed as ${String(view.code)} at ${url}: the chain's configuration did not change`, { chain, txId, settled: true });
        if (typeof view.block === 'number') block = view.block;
        pending.delete(url);
      } catch (error) {
        if (isSilkError(error)) throw error;
        // A peer restarting answers later.
      }
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) throw new SilkError('COMMIT_TIMEOUT', `the configuration transaction ${txId} of chain ${chain} was not committed at ${[...pending].join(', ')} in time; check it by its tx id`, { chain, txId });
    await sleep(POLL_MS);
  }
  return block;
}

/**
 * Changes the configuration of every chain where `change` returns a new one: all the changes are
 * worked out first (so a refusal changes nothing), then each chain's configuration transaction
 * (sequence + 1, signed by every admin whose key the folder holds) is ordered and waited for until
 * every running peer serving the chain has committed it.
 * @throws SilkError as `change` does; ORDERING_UNAVAILABLE, COMMIT_TIMEOUT, CONFIG_INVALID (with
 *   details.changed: the chains already changed, and details.settled: true when the failing
 *   transaction certainly did not take effect)
 */
async function changeChainConfigs(net: RunningNetwork, keys: NetworkKeysOptions, change: (config: ChainConfig) => ChainConfig | undefined, timeoutMs: number): Promise<ChainConfigChange[]> {
  const d = net.description;
  const plans: ConfigPlan[] = [];
  for (const chain of d.chains) {
    const peers = runningPeerUrls(d, net.processes, chain.name);
    if (peers.length === 0) throw new SilkError('ORDERING_UNAVAILABLE', `no peer serving chain ${chain.name} is running: start the network's peers first`, { chain: chain.name });
    const current = await currentConfig(chain.name, peers, networkFetch(d));
    const next = change(current);
    if (next !== undefined) plans.push({ chain: chain.name, peers, current, next: { ...next, sequence: current.sequence + 1 } });
  }
  if (plans.length === 0) return [];
  const keysDir = orgKeysDir(d);
  const keyring = await openOrgKeyring({ keysDir, spec: networkSpecOf(d), keys, create: false });
  const sender = configSender(d, net.processes, adminKeysOfChains(plans.map((p) => p.current)));
  const changed: ChainConfigChange[] = [];
  try {
    for (const plan of plans) {
      const admins = adminSigners(plan.current, keyring, keysDir);
      const envelope = createConfigTransaction(plan.next, admins[0] as Signer, admins);
      const txId = decodeTransaction(envelope).txId;
      const deadline = Date.now() + timeoutMs;
      await sender.broadcast(plan.chain, envelope, deadline);
      const block = await waitCommitted(plan.chain, txId, plan.peers, deadline, networkFetch(d));
      changed.push({ chain: plan.chain, sequence: plan.next.sequence, block, txId });
    }
  } catch (error) {
    if (!isSilkError(error)) throw error;
    const done = changed.length === 0 ? '' : ` (already changed: ${changed.map((c) => `${c.chain} in block ${c.block}`).join(', ')})`;
    throw new SilkError(error.code, `${error.message}${done}`, { ...error.details, changed: changed.map((c) => c.chain) }, { cause: error });
  } finally {
    sender.close();
  }
  return changed;
}

// ---- orderers -------------------------------------------------------------------------------

/** The next `orderer<i>`: no process has the name and no folder `orderers/orderer<i>` exists (names are never reused). */
function nextOrdererName(d: NetworkDescription): string {
  const taken = new Set([...d.orderers, ...d.peers, ...d.etcd, d.api].map((p) => p.name));
  for (let i = 0; ; i++) {
    const name = `orderer${i}`;
    if (!taken.has(name) && !existsSync(describedPath(d, `orderers/${name}`))) return name;
  }
}

/** The org to run a new orderer: the one given (checked), else the first org running the fewest orderers. */
function ordererOrg(d: NetworkDescription, given: string | undefined): string {
  if (given !== undefined) {
    if (!d.orgs.some((o) => o.name === given)) throw new SilkError('INVALID_ARGUMENT', `no org ${given} in the network; orgs: ${d.orgs.map((o) => o.name).join(', ')}`, { path: 'org' });
    return given;
  }
  const count = (org: string): number => d.orderers.filter((o) => o.org === org).length;
  return d.orgs.reduce((best, o) => (count(o.name) < count(best) ? o.name : best), d.orgs[0]?.name ?? '');
}

/**
 * Adds an orderer to the network running in `dir`: the next `orderer<i>` in the description
 * (staged, not yet in force), its signing key and TLS certificates (the bootstrap, nothing else is
 * rewritten), its etcd user (role `orderer`), a configuration transaction on every chain listing its key, waited for until every
 * running peer has committed it; then the description lists it and the process is started and
 * waited for. Running processes admit its certificate and send to it without a restart.
 * @returns the orderer, its key, URL and the configuration transactions committed
 * @throws SilkError INVALID_ARGUMENT (unknown org, 64 orderers already); CONFIG_INVALID (network
 *   not running, another change running, a configuration transaction refused); ORDERING_UNAVAILABLE,
 *   COMMIT_TIMEOUT (not ordered or committed in time: the description is left as it was);
 *   INTERNAL (configured, but the process did not start: see its log)
 * @example const { orderer } = await addNetworkOrderer('./network', { org: 'Org2' })
 */
export async function addNetworkOrderer(dir: string, params: AddNetworkOrdererParameters = {}): Promise<OrdererMembershipChange> {
  const timeoutMs = checkTimeout(params.timeoutMs ?? CONFIG_COMMIT_TIMEOUT_MS);
  const { folder } = runningNetwork(dir);
  return withMembershipLock(folder, 'orderer add', async () => {
    const net = runningNetwork(dir);
    const d = net.description;
    const org = ordererOrg(d, params.org);
    if (d.orderers.length >= 64) throw new SilkError('INVALID_ARGUMENT', 'the network has 64 orderers, the most a description lists');
    const name = nextOrdererName(d);
    const host = d.orderers[0]?.host ?? '127.0.0.1';
    const port = await freePort(host);
    const staged = stageDescription(net.file, (raw) => ({ ...raw, orderers: [...raw.orderers, { name, org, host, port, dataDir: `orderers/${name}` }] }));
    const ordererDir = describedPath(d, `orderers/${name}`);
    let key = '';
    let chains: ChainConfigChange[];
    try {
      const keys = networkKeys(staged.description, params.keys);
      key = (await bootstrapNetwork(staged.description, { contracts: DEMO_CONTRACTS, keys })).ordererKeys[name] ?? '';
      await grantDescribedEtcdUser(staged.description, { name, role: 'orderer' });
      chains = await changeChainConfigs(net, keys, (c) => (c.orderers.includes(key) ? undefined : { ...c, orderers: [...c.orderers, key] }), timeoutMs);
    } catch (error) {
      discardStaged(staged);
      // An orderer the description does not list has no etcd user (if this fails, the etcd host deletes it at its next start).
      await revokeDescribedEtcdUser(d, name).catch(() => false);
      // Its key folder goes only when no chain can list the key (else it would be a listed key nobody holds).
      const untouched = !isSilkError(error) || ((error.details.changed as unknown[] | undefined ?? []).length === 0 && (error.details.settled === true || error.code === 'INVALID_ARGUMENT' || error.code === 'CONFIG_INVALID'));
      if (untouched) rmSync(ordererDir, { recursive: true, force: true });
      throw error;
    }
    commitStaged(staged);
    await restartNetworkProcess(net.folder, name, Math.max(timeoutMs, UP_TIMEOUT_MS / 3)).catch((error: unknown) => {
      throw new SilkError('INTERNAL', `orderer ${name} is configured on every chain and in the description, but did not start: ${(error as Error).message}`, { orderer: name }, { cause: error });
    });
    const scheme = processTlsFiles(ordererDir, 'orderer') === undefined ? 'http' : 'https';
    return { orderer: name, org, key, orderers: staged.description.orderers.map((o) => o.name), chains, url: `${scheme}://${urlHost(host)}:${port}` };
  });
}

/**
 * Removes an orderer from the network running in `dir`: a configuration transaction on every
 * chain taking its key out (the orderer, if it leads a chain, stops leading as soon as that block
 * is appended, and another takes over), waited for until every running peer has committed it;
 * then its etcd user is deleted (etcd refuses its certificate from then on), its process is
 * stopped and the description drops it. Its folder (key, log) stays on disk.
 * @param name the orderer
 * @throws SilkError INVALID_ARGUMENT (unknown orderer, with the list; the last orderer, of the
 *   network or of a chain); ORDERING_UNAVAILABLE (no other orderer running to take over),
 *   COMMIT_TIMEOUT; CONFIG_INVALID (network not running, another change running, its key file
 *   missing, a configuration transaction refused)
 * @example await removeNetworkOrderer('./network', 'orderer1')
 */
export async function removeNetworkOrderer(dir: string, name: string, params: RemoveNetworkOrdererParameters = {}): Promise<OrdererMembershipChange> {
  checkName('the orderer', name);
  const timeoutMs = checkTimeout(params.timeoutMs ?? CONFIG_COMMIT_TIMEOUT_MS);
  const { folder } = runningNetwork(dir);
  return withMembershipLock(folder, `orderer remove ${name}`, async () => {
    const net = runningNetwork(dir);
    const d = net.description;
    const entry = d.orderers.find((o) => o.name === name);
    if (entry === undefined) throw new SilkError('INVALID_ARGUMENT', `no orderer named ${name}; orderers: ${d.orderers.map((o) => o.name).join(', ')}`, { path: 'name' });
    if (d.orderers.length === 1) throw new SilkError('INVALID_ARGUMENT', `${name} is the network's last orderer: nothing would order blocks without it; add another first (silk network orderer add)`);
    const others = net.processes.filter((p) => p.kind === 'orderer' && p.name !== name && d.orderers.some((o) => o.name === p.name) && isLaunchedAlive(p));
    if (others.length === 0) throw new SilkError('ORDERING_UNAVAILABLE', `no other orderer of the network is running to order the change and take over from ${name}: start one first`, { reason: 'no-orderer' });
    const keyFile = ordererKeyFile(d, entry);
    let key: string;
    try {
      key = toHex(signerFromPem(readFileSync(keyFile, 'utf8')).publicKey);
    } catch (cause) {
      throw new SilkError('CONFIG_INVALID', `cannot read ${name}'s key ${keyFile}: without it the chains' configurations cannot be matched to the orderer`, { file: keyFile }, { cause });
    }
    const ledChains = (await chainOrdering(d)).filter((c) => c.leader === name).map((c) => c.name);
    const keys = networkKeys(d, params.keys);
    const chains = await changeChainConfigs(net, keys, (c) => {
      if (!c.orderers.includes(key)) return undefined;
      if (c.orderers.length === 1) throw new SilkError('INVALID_ARGUMENT', `${name} is the only orderer chain ${c.chain} lists: its blocks could no longer be cut; add another orderer first (silk network orderer add)`, { chain: c.chain });
      return { ...c, orderers: c.orderers.filter((k) => k !== key) };
    }, timeoutMs);
    // Before the stop: from here etcd refuses its certificate, wherever the process runs; a failure
    // here leaves it configured out of every chain but running, and the removal can be run again.
    const etcdUserDeleted = await revokeDescribedEtcdUser(d, name);
    const launched = net.processes.some((p) => p.name === name);
    const stopped = launched ? await stopNetworkProcess(net.folder, name, { forget: true }) : false;
    const staged = stageDescription(net.file, (raw) => ({ ...raw, orderers: raw.orderers.filter((o) => o.name !== name) }));
    commitStaged(staged);
    return { orderer: name, org: entry.org, key, orderers: staged.description.orderers.map((o) => o.name), chains, ledChains, stopped, etcdUserDeleted };
  });
}
