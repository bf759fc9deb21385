/**
 * A local etcd cluster for distributed mode: N members (normally 3) on loopback with their data
 * under one folder, started with settings chosen for a ledger (each a named constant below with
 * its reason), and the operations an operator or a failure test needs: stop, kill, pause, resume
 * and restart a member, health and leader, NOSPACE alarm handling, defragmentation one member at
 * a time, snapshot backup, and runtime member add/remove.
 *
 * With TLS files (one certificate per member, issued by its org's CA), every link is mutual TLS:
 * clients and the other members must present a certificate from a CA of the trusted bundle
 * (`--client-cert-auth`, `--peer-client-cert-auth`), the URLs are https, and the cluster's own
 * administrative calls and snapshots present a client certificate too (etcd's administrator
 * certificate once its access control is on: see etcd-access.ts).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, mkdirSync, openSync, closeSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { SilkError } from '../errors.js';
import { etcdCredentials, type EtcdClientTlsFiles } from './etcd-client.js';
import { logOffset, waitPastStartCheck } from './etcd-start-check.js';
import { freePort, portIsFree } from './loopback-ports.js';

/** Raft heartbeat: 150 ms (etcd's 100 ms default misses beats on a loaded 2-core machine). */
export const HEARTBEAT_INTERVAL_MS = 150;
/**
 * Raft election timeout: 8 heartbeats, 1.2 s. Short enough that a dead leader is replaced and
 * ordering resumes within about 2 s; with pre-vote on, a member that misses beats for a GC
 * pause or a slow fsync does not depose a healthy leader.
 */
export const ELECTION_TIMEOUT_MS = 1_200;
/**
 * Raft snapshot every 1,000 applied entries (default 100,000): keeps the in-memory Raft log and
 * the catch-up of a restarted member short; our entries are blocks of up to 64 KiB.
 */
export const SNAPSHOT_COUNT = 1_000;
/**
 * Backend quota: 2 GiB (etcd's own default and recommended size). The block log keeps at most
 * `MAX_RETAINED_BLOCKS × MAX_BLOCK_BYTES` = 256 MiB of blocks, so the quota leaves room for
 * revision history between compactions and for bbolt's free pages before a defragmentation.
 */
export const QUOTA_BACKEND_BYTES = 2 * 1024 ** 3;
/** Largest request etcd accepts: its 1.5 MiB default, left as is (blocks stay ≤ 64 KiB). */
export const MAX_REQUEST_BYTES = 1_572_864;
/** Auto-compaction off (`0`): the block log compacts itself once every peer has committed. */
export const AUTO_COMPACTION_RETENTION = '0';
/**
 * Pre-vote on: a member that was paused or cut off does not bump the Raft term and depose a
 * healthy leader when it comes back.
 */
export const PRE_VOTE = true;
/** Check the member's data against its peers' before serving, on every start. */
export const INITIAL_CORRUPT_CHECK: boolean = true;
/**
 * Longest wait for a started member's initial corruption check before the next member is started
 * anyway: etcd's own timeout for the check's requests (5 s + 2 election timeouts) and a second.
 */
export const START_CHECK_WAIT_MS = 5_000 + 2 * ELECTION_TIMEOUT_MS + 1_000;
/** How long `start()` and `waitHealthy()` wait for a healthy cluster, `restartMember()` for free ports and `addMember()` for its member (default). */
export const START_TIMEOUT_MS = 30_000;
/** How long a stopped member may take to exit after SIGTERM before it gets SIGKILL. */
export const STOP_GRACE_MS = 10_000;
/** Deadline of one administrative call (status, alarm, defragment) to one member. */
export const ADMIN_CALL_DEADLINE_MS = 5_000;

/**
 * TLS files of a member (mutual TLS with certificates issued by each org): one certificate serves
 * clients and the other members (it allows both TLS server and client authentication).
 */
export interface EtcdMemberTlsFiles {
  /** The member's certificate (`--cert-file`, `--peer-cert-file`). */
  readonly certFile: string;
  /** Its private key, an uncompressed P-256 point in PKCS#8 (`--key-file`, `--peer-key-file`). */
  readonly keyFile: string;
  /** The CAs clients and members must chain to (`--trusted-ca-file`, `--peer-trusted-ca-file`). */
  readonly trustedCaFile: string;
}

/** TLS of a cluster: every member's files, and the client certificate of the cluster's own calls. */
export interface EtcdClusterTls {
  /** One entry per member, in member order. */
  readonly members: readonly EtcdMemberTlsFiles[];
  /**
   * The certificate the cluster's administrative calls (status, alarms, defragmentation,
   * snapshots, membership changes) present; default: the first member's certificate. Once etcd's
   * access control is on (etcd-access.ts), defragmentation, snapshots and membership changes need
   * the `root` user: give etcd's administrator certificate (CN `root`, `etcdRootTlsFiles`).
   */
  readonly client?: EtcdClientTlsFiles;
}

/** Parameters of {@link EtcdCluster.addMember}. */
export interface AddEtcdMemberParameters {
  /** The member's name, its folder `<dataDir>/<name>` (default: the next free `etcd-<n>`). */
  readonly name?: string;
  /** Its ports (default: free loopback ports). */
  readonly ports?: EtcdMemberPorts;
  /** Its TLS files: required in a TLS cluster, refused in a plain one. */
  readonly tls?: EtcdMemberTlsFiles;
  /** How long it may take to become a healthy voting member (default {@link START_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
}

/** The two loopback ports of one member. */
export interface EtcdMemberPorts {
  readonly client: number;
  readonly peer: number;
}

/** Options of {@link createEtcdCluster}. */
export interface EtcdClusterOptions {
  /** Folder holding one sub-folder per member (`etcd-1/data`, `etcd-1/etcd.log`, …). */
  readonly dataDir: string;
  /** Number of members, 1 to 7 (default 3). */
  readonly size?: number;
  /** Ports per member; free loopback ports are picked when omitted. */
  readonly ports?: readonly EtcdMemberPorts[];
  /**
   * Member names, one per member (default `etcd-1…etcd-N`): a cluster whose membership changed
   * (members added and removed at runtime) restarts with the names it has now.
   */
  readonly names?: readonly string[];
  /** Backend quota in bytes (default {@link QUOTA_BACKEND_BYTES}; tests use a small one). */
  readonly quotaBackendBytes?: number;
  /** Path of the etcd binary (default: `etcd` on PATH, else /usr/bin/etcd). */
  readonly etcdPath?: string;
  /** Path of etcdctl, used for snapshots (default: `etcdctl` on PATH, else /usr/bin/etcdctl). */
  readonly etcdctlPath?: string;
  /** Mutual TLS on every client and member link (https URLs); without it the links are plain HTTP. */
  readonly tls?: EtcdClusterTls;
}

/** Where one member lives. */
export interface EtcdMemberInfo {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  readonly logFile: string;
}

/** What one member reports about itself, or why it could not be asked. */
export interface EtcdMemberStatus {
  readonly name: string;
  readonly running: boolean;
  readonly paused: boolean;
  readonly reachable: boolean;
  /** etcd's member id (decimal string), when reachable. */
  readonly id?: string;
  /** The member id this member believes leads (`'0'`: none). */
  readonly leaderId?: string;
  readonly isLeader: boolean;
  readonly dbSizeBytes?: number;
  readonly dbSizeInUseBytes?: number;
  readonly raftTerm?: string;
  readonly revision?: string;
  readonly error?: string;
}

/** The cluster seen from outside. */
export interface EtcdClusterStatus {
  readonly members: readonly EtcdMemberStatus[];
  /** Name of the member every reachable member agrees leads, if any. */
  readonly leader?: string;
  /** Every member running, reachable and agreeing on one leader, and no alarm raised. */
  readonly healthy: boolean;
  readonly alarms: readonly EtcdAlarm[];
}

/** A raised etcd alarm. */
export interface EtcdAlarm {
  readonly memberId: string;
  readonly alarm: 'NOSPACE' | 'CORRUPT';
}

/** What {@link EtcdCluster.resolveNoSpaceAlarm} did. */
export interface NoSpaceResolution {
  readonly hadAlarm: boolean;
  readonly compactedRevision?: string;
  readonly dbSizeBytesBefore: number;
  readonly dbSizeBytesAfter: number;
}

/** A local etcd cluster. */
export interface EtcdCluster {
  readonly members: readonly EtcdMemberInfo[];
  /** Client URLs of every member, for {@link openEtcdConnection}. */
  readonly clientUrls: readonly string[];
  /** The client certificate the cluster's own calls present (undefined without TLS), for {@link openEtcdConnection}'s `tls`. */
  readonly clientTls: EtcdClientTlsFiles | undefined;
  /** Starts every member that is not running and waits until the cluster is healthy. */
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL after {@link STOP_GRACE_MS}; resolves once the process exited. */
  stopMember(name: string): Promise<void>;
  /** SIGKILL (a crash); resolves once the process exited. */
  killMember(name: string): Promise<void>;
  /** SIGSTOP: the process stays but answers nothing (a hung machine). */
  pauseMember(name: string): void;
  /** SIGCONT after {@link pauseMember}. */
  resumeMember(name: string): void;
  /**
   * Starts a stopped or killed member again (stopping it first if it runs), after its old
   * process has exited and its ports are free, and after any member started before it is past
   * its initial data check; answers once this one is past its own (milliseconds while its peers
   * serve or are down; at most {@link START_CHECK_WAIT_MS}). Does not wait for health: use
   * {@link waitHealthy}.
   */
  restartMember(name: string): Promise<void>;
  isRunning(name: string): boolean;
  status(): Promise<EtcdClusterStatus>;
  /** Name of the Raft leader, or undefined while there is none. */
  leader(): Promise<string | undefined>;
  /** Resolves once {@link status} says healthy. @throws SilkError ORDERING_UNAVAILABLE after `timeoutMs` */
  waitHealthy(timeoutMs?: number): Promise<EtcdClusterStatus>;
  /** Defragments every running member, one at a time, so a quorum always serves. */
  defragment(): Promise<void>;
  /**
   * If a NOSPACE alarm is raised: compacts the revision history to the current revision,
   * defragments member by member and disarms the alarm. Free space only returns if the
   * history (or deleted blocks) held it: delete committed blocks first with the block log's
   * `compact()` (deletes are allowed during the alarm).
   */
  resolveNoSpaceAlarm(): Promise<NoSpaceResolution>;
  /** Writes a snapshot of the keyspace to `file` with `etcdctl snapshot save`. */
  snapshotSave(file: string): Promise<void>;
  /**
   * Adds a member at runtime, the way etcd recommends: registered as a Raft learner (it does not
   * count towards the quorum while it catches up), started, promoted to a voting member once it
   * has caught up with the leader, and waited for until the cluster is healthy. When that does not
   * happen in time (or the member exits), it is removed again and its process stopped. A TLS
   * cluster needs the new member's TLS files.
   * @returns the member's info
   * @throws SilkError INVALID_ARGUMENT (a bad or taken name, bad ports or TLS files, 7 members
   *   already); CONFIG_INVALID (its folder holds an earlier member's data); ORDERING_UNAVAILABLE (no
   *   member to add it through, or not a healthy voting member within the timeout)
   */
  addMember(params?: AddEtcdMemberParameters): Promise<EtcdMemberInfo>;
  /**
   * Removes a member at runtime (the Raft leader too: the others elect a new one) and stops its
   * process; its data folder stays on disk. etcd refuses a removal that would cost the quorum.
   * @throws SilkError INVALID_ARGUMENT (unknown member, the last one); ORDERING_UNAVAILABLE (etcd refused or could not be asked)
   */
  removeMember(name: string): Promise<void>;
  /** SIGKILLs every member process and waits for the exits. Data stays on disk. */
  close(): Promise<void>;
}

const LIVE_CHILDREN = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Makes sure no etcd member outlives this process, whichever way it exits. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of LIVE_CHILDREN) {
      try { child.kill('SIGKILL'); } catch { /* already gone */ }
    }
  });
}

function findExecutable(name: string, fallback: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try { accessSync(candidate, fsConstants.X_OK); return candidate; } catch { /* next */ }
  }
  return existsSync(fallback) ? fallback : undefined;
}

const INSTALL_HINT = 'run scripts/install-system-packages.sh (installs the Debian packages etcd-server and etcd-client)';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A member name: what etcd's `--name` and a folder can hold. */
const MEMBER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** @throws SilkError INVALID_ARGUMENT for a name that is not a member name */
function checkMemberName(name: string): void {
  if (typeof name !== 'string' || !MEMBER_NAME.test(name)) throw new SilkError('INVALID_ARGUMENT', `an etcd member name is 1 to 64 letters, digits, '_', '.' or '-'; got ${JSON.stringify(name)}`);
}

/** @throws SilkError INVALID_ARGUMENT for a port that is not 1 to 65535 */
function checkPorts(p: EtcdMemberPorts): void {
  for (const port of [p.client, p.peer]) {
    if (!Number.isSafeInteger(port) || port < 1 || port > 65_535) throw new SilkError('INVALID_ARGUMENT', `etcd port must be an integer from 1 to 65535; got ${String(port)}`);
  }
}

/** Validates the options; returns the member count and the quota. */
function checkClusterOptions(options: EtcdClusterOptions): { size: number; quota: number } {
  const size = options.size ?? options.ports?.length ?? 3;
  if (!Number.isSafeInteger(size) || size < 1 || size > 7) {
    throw new SilkError('INVALID_ARGUMENT', `an etcd cluster has 1 to 7 members (3 or 5 for fault tolerance); got ${String(size)}`);
  }
  if (options.ports !== undefined && options.ports.length !== size) {
    throw new SilkError('INVALID_ARGUMENT', `ports must list one entry per member: ${size} expected, ${options.ports.length} given`);
  }
  for (const p of options.ports ?? []) checkPorts(p);
  if (options.names !== undefined) {
    if (options.names.length !== size) throw new SilkError('INVALID_ARGUMENT', `names must list one entry per member: ${size} expected, ${options.names.length} given`);
    options.names.forEach(checkMemberName);
    if (new Set(options.names).size !== size) throw new SilkError('INVALID_ARGUMENT', `etcd member names must be unique; got ${options.names.join(', ')}`);
  }
  const quota = options.quotaBackendBytes ?? QUOTA_BACKEND_BYTES;
  if (!Number.isSafeInteger(quota) || quota < 64 * 1024 || quota > 8 * 1024 ** 3) {
    throw new SilkError('INVALID_ARGUMENT', `quotaBackendBytes must be between 64 KiB and 8 GiB; got ${String(quota)}`);
  }
  if (options.tls !== undefined) {
    if (options.tls.members.length !== size) throw new SilkError('INVALID_ARGUMENT', `tls.members must list one entry per member: ${size} expected, ${options.tls.members.length} given`);
    for (const member of options.tls.members) checkMemberTls(member);
    if (options.tls.client !== undefined) etcdCredentials(options.tls.client);
  }
  return { size, quota };
}

/** @throws SilkError CONFIG_INVALID naming a member TLS file that does not exist */
function checkMemberTls(files: EtcdMemberTlsFiles): void {
  for (const file of [files.certFile, files.keyFile, files.trustedCaFile]) {
    if (!existsSync(file)) throw new SilkError('CONFIG_INVALID', `etcd member TLS file ${file} does not exist (silk network up writes them when it bootstraps a network)`, { file });
  }
}

/**
 * Describes a local etcd cluster under `options.dataDir`; nothing runs until `start()`.
 * @throws SilkError INVALID_ARGUMENT for a bad size, ports, quota or TLS list; CONFIG_INVALID for a
 *   missing TLS file; ORDERING_UNAVAILABLE when etcd is not installed
 * @example
 * const cluster = await createEtcdCluster({ dataDir: '/var/lib/silk/etcd' });
 * await cluster.start();
 * const etcd = openEtcdConnection({ endpoints: cluster.clientUrls });
 * // With TLS: createEtcdCluster({ dataDir, tls: { members: [{ certFile, keyFile, trustedCaFile }, …] } })
 */
export async function createEtcdCluster(options: EtcdClusterOptions): Promise<EtcdCluster> {
  const { size, quota } = checkClusterOptions(options);
  const etcdPath = options.etcdPath ?? findExecutable('etcd', '/usr/bin/etcd');
  const etcdctlPath = options.etcdctlPath ?? findExecutable('etcdctl', '/usr/bin/etcdctl');
  if (etcdPath === undefined || etcdctlPath === undefined) {
    throw new SilkError('ORDERING_UNAVAILABLE', `etcd${etcdPath === undefined ? '' : 'ctl'} is not installed: ${INSTALL_HINT}`, { reason: 'etcd-missing' });
  }
  const ports: EtcdMemberPorts[] = [];
  for (let i = 0; i < size; i++) ports.push(options.ports?.[i] ?? { client: await freePort(), peer: await freePort() });
  mkdirSync(options.dataDir, { recursive: true });
  const names = options.names ?? ports.map((_, i) => `etcd-${i + 1}`);
  return new LocalEtcdCluster({ dataDir: options.dataDir, ports, names, quota, etcdPath, etcdctlPath, ...(options.tls === undefined ? {} : { tls: options.tls }) });
}

interface LocalClusterSettings {
  readonly dataDir: string;
  readonly ports: readonly EtcdMemberPorts[];
  readonly names: readonly string[];
  readonly quota: number;
  readonly etcdPath: string;
  readonly etcdctlPath: string;
  readonly tls?: EtcdClusterTls;
}

/** A member's TLS flags: mutual TLS to clients and to the other members (none without TLS). */
function tlsArgs(tls: EtcdMemberTlsFiles | undefined): string[] {
  if (tls === undefined) return [];
  return [
    '--cert-file', tls.certFile, '--key-file', tls.keyFile, '--trusted-ca-file', tls.trustedCaFile, '--client-cert-auth',
    '--peer-cert-file', tls.certFile, '--peer-key-file', tls.keyFile, '--peer-trusted-ca-file', tls.trustedCaFile, '--peer-client-cert-auth',
  ];
}

interface MemberState {
  info: EtcdMemberInfo;
  ports: EtcdMemberPorts;
  tls?: EtcdMemberTlsFiles;
  child?: ChildProcess;
  exited?: Promise<void>;
  paused: boolean;
  admin?: Etcd3;
  /** `new` until the member first joined; a restart uses `existing`. */
  clusterState: 'new' | 'existing';
  /** The `--initial-cluster` a member added at runtime must start with. */
  initialCluster?: string;
}

class LocalEtcdCluster implements EtcdCluster {
  readonly #dataDir: string;
  readonly #quota: number;
  readonly #etcdPath: string;
  readonly #etcdctlPath: string;
  readonly #token: string;
  readonly #members: MemberState[] = [];
  readonly #usePdeathsig: boolean;
  /** The admin client's TLS, when the cluster runs TLS. */
  readonly #clientTls: EtcdClientTlsFiles | undefined;
  /** The last member start, which the next one waits for ({@link LocalEtcdCluster.#startInTurn}). */
  #starts: Promise<void> = Promise.resolve();

  constructor(settings: LocalClusterSettings) {
    const { dataDir, ports, tls } = settings;
    this.#dataDir = dataDir;
    this.#quota = settings.quota;
    this.#etcdPath = settings.etcdPath;
    this.#etcdctlPath = settings.etcdctlPath;
    // One token per cluster folder, so members of two clusters on one host never join each other.
    this.#token = `silk-${String(statSync(dataDir).ino)}-${String(ports[0]?.client ?? 0)}`;
    this.#usePdeathsig = existsSync('/usr/bin/setpriv');
    const first = tls?.members[0];
    this.#clientTls = tls?.client ?? (first === undefined ? undefined : { caFile: first.trustedCaFile, certFile: first.certFile, keyFile: first.keyFile });
    ports.forEach((p, i) => { this.#members.push(this.#memberState(settings.names[i] ?? `etcd-${i + 1}`, p, tls?.members[i])); });
    installExitHook();
  }

  #memberState(name: string, ports: EtcdMemberPorts, tls: EtcdMemberTlsFiles | undefined): MemberState {
    const dir = join(this.#dataDir, name);
    const scheme = tls === undefined ? 'http' : 'https';
    return {
      info: { name, clientUrl: `${scheme}://127.0.0.1:${ports.client}`, peerUrl: `${scheme}://127.0.0.1:${ports.peer}`, dataDir: join(dir, 'data'), logFile: join(dir, 'etcd.log') },
      ports,
      ...(tls === undefined ? {} : { tls }),
      paused: false,
      clusterState: existsSync(join(dir, 'data', 'member')) ? 'existing' : 'new',
    };
  }

  get members(): readonly EtcdMemberInfo[] { return this.#members.map((m) => m.info); }
  get clientUrls(): readonly string[] { return this.#members.map((m) => m.info.clientUrl); }
  get clientTls(): EtcdClientTlsFiles | undefined { return this.#clientTls; }

  #member(name: string): MemberState {
    const member = this.#members.find((m) => m.info.name === name);
    if (member === undefined) throw new SilkError('INVALID_ARGUMENT', `no etcd member named ${JSON.stringify(name)}; members: ${this.#members.map((m) => m.info.name).join(', ')}`);
    return member;
  }

  #initialCluster(): string {
    return this.#members.map((m) => `${m.info.name}=${m.info.peerUrl}`).join(',');
  }

  #args(member: MemberState): string[] {
    const { info } = member;
    return [
      '--name', info.name,
      '--data-dir', info.dataDir,
      '--listen-client-urls', info.clientUrl,
      '--advertise-client-urls', info.clientUrl,
      '--listen-peer-urls', info.peerUrl,
      '--initial-advertise-peer-urls', info.peerUrl,
      '--initial-cluster', member.initialCluster ?? this.#initialCluster(),
      '--initial-cluster-state', member.clusterState,
      '--initial-cluster-token', this.#token,
      '--heartbeat-interval', String(HEARTBEAT_INTERVAL_MS),
      '--election-timeout', String(ELECTION_TIMEOUT_MS),
      '--snapshot-count', String(SNAPSHOT_COUNT),
      '--quota-backend-bytes', String(this.#quota),
      '--max-request-bytes', String(MAX_REQUEST_BYTES),
      '--auto-compaction-retention', AUTO_COMPACTION_RETENTION,
      `--pre-vote=${String(PRE_VOTE)}`,
      `--experimental-initial-corrupt-check=${String(INITIAL_CORRUPT_CHECK)}`,
      '--logger', 'zap',
      '--log-outputs', 'stderr',
      ...tlsArgs(member.tls),
    ];
  }

  /** etcdctl's TLS flags for the admin client's certificate (none without TLS). */
  #etcdctlTlsArgs(): string[] {
    const tls = this.#clientTls;
    if (tls === undefined) return [];
    return ['--cacert', tls.caFile, ...(tls.certFile === undefined || tls.keyFile === undefined ? [] : ['--cert', tls.certFile, '--key', tls.keyFile])];
  }

  #spawn(member: MemberState): void {
    mkdirSync(join(this.#dataDir, member.info.name), { recursive: true });
    const log = openSync(member.info.logFile, 'a');
    const args = this.#args(member);
    // setpriv's parent-death signal kills the member if this process dies without running exit hooks.
    const child = this.#usePdeathsig
      ? spawn('/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', this.#etcdPath, ...args], { stdio: ['ignore', log, log] })
      : spawn(this.#etcdPath, args, { stdio: ['ignore', log, log] });
    closeSync(log);
    LIVE_CHILDREN.add(child);
    member.child = child;
    member.paused = false;
    member.exited = new Promise<void>((resolve) => {
      const done = (): void => { LIVE_CHILDREN.delete(child); if (member.child === child) member.child = undefined; resolve(); };
      child.once('exit', done);
      child.once('error', done);
    });
    member.clusterState = 'existing';
  }

  /**
   * Starts a member once the member started before it is past its initial corruption check, and
   * answers when this one is (etcd-start-check.ts): members started together would each wait out
   * the other's check, 7.4 s. A member without data yet has no check and answers at once.
   */
  #startInTurn(member: MemberState): Promise<void> {
    const turn = this.#starts.then(async () => {
      const checks = INITIAL_CORRUPT_CHECK && existsSync(join(member.info.dataDir, 'member'));
      const from = logOffset(member.info.logFile);
      this.#spawn(member);
      const child = member.child;
      if (!checks || child === undefined) return;
      await waitPastStartCheck({ logFile: member.info.logFile, from, running: () => member.child === child, timeoutMs: START_CHECK_WAIT_MS });
    });
    this.#starts = turn.catch(() => undefined);
    return turn;
  }

  isRunning(name: string): boolean {
    return this.#member(name).child !== undefined;
  }

  async start(): Promise<void> {
    for (const member of this.#members) {
      if (member.child === undefined) await this.#startInTurn(member);
    }
    await this.waitHealthy(START_TIMEOUT_MS);
  }

  async #signalAndWait(member: MemberState, signal: NodeJS.Signals): Promise<void> {
    const { child, exited } = member;
    if (child === undefined || exited === undefined) return;
    child.kill(signal);
    if (member.paused) { child.kill('SIGCONT'); member.paused = false; }
    if (signal === 'SIGKILL') { await exited; return; }
    const timer = setTimeout(() => { child.kill('SIGKILL'); }, STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  async stopMember(name: string): Promise<void> {
    const member = this.#member(name);
    this.#dropAdmin(member);
    await this.#signalAndWait(member, 'SIGTERM');
  }

  async killMember(name: string): Promise<void> {
    const member = this.#member(name);
    this.#dropAdmin(member);
    await this.#signalAndWait(member, 'SIGKILL');
  }

  pauseMember(name: string): void {
    const member = this.#member(name);
    if (member.child === undefined) throw new SilkError('INVALID_ARGUMENT', `etcd member ${name} is not running`);
    member.child.kill('SIGSTOP');
    member.paused = true;
  }

  resumeMember(name: string): void {
    const member = this.#member(name);
    if (member.child === undefined) throw new SilkError('INVALID_ARGUMENT', `etcd member ${name} is not running`);
    member.child.kill('SIGCONT');
    member.paused = false;
  }

  async restartMember(name: string): Promise<void> {
    const member = this.#member(name);
    await this.stopMember(name);
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (const port of [member.ports.client, member.ports.peer]) {
      while (!(await portIsFree('127.0.0.1', port))) {
        if (Date.now() > deadline) throw new SilkError('ORDERING_UNAVAILABLE', `cannot restart etcd member ${name}: port ${port} is still in use after ${START_TIMEOUT_MS} ms`);
        await sleep(100);
      }
    }
    await this.#startInTurn(member);
  }

  #adminClient(member: MemberState): Etcd3 {
    member.admin ??= new Etcd3({
      hosts: member.info.clientUrl, dialTimeout: ADMIN_CALL_DEADLINE_MS,
      ...(this.#clientTls === undefined ? {} : { credentials: etcdCredentials(this.#clientTls) }),
    });
    return member.admin;
  }

  /** Drops a member's admin client, so the next call starts with a fresh channel and circuit breaker. */
  #dropAdmin(member: MemberState): void {
    member.admin?.close();
    member.admin = undefined;
  }

  async #adminCall<T>(member: MemberState, call: (client: Etcd3, options: { deadline: number }) => Promise<T>, deadlineMs = ADMIN_CALL_DEADLINE_MS): Promise<T> {
    try {
      return await call(this.#adminClient(member), { deadline: Date.now() + deadlineMs });
    } catch (error) {
      this.#dropAdmin(member);
      throw error;
    }
  }

  async #memberStatus(member: MemberState): Promise<EtcdMemberStatus> {
    const base = { name: member.info.name, running: member.child !== undefined, paused: member.paused };
    if (member.child === undefined || member.paused) return { ...base, reachable: false, isLeader: false };
    try {
      const s = await this.#adminCall(member, (c, o) => c.maintenance.status(o), 2_000);
      return {
        ...base, reachable: true, id: s.header.member_id, leaderId: s.leader, isLeader: s.leader === s.header.member_id && s.leader !== '0',
        dbSizeBytes: Number(s.dbSize), dbSizeInUseBytes: Number(s.dbSizeInUse), raftTerm: s.raftTerm, revision: s.header.revision,
      };
    } catch (error) {
      return { ...base, reachable: false, isLeader: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  async #alarms(): Promise<EtcdAlarm[]> {
    for (const member of this.#members) {
      if (member.child === undefined || member.paused) continue;
      try {
        const res = await this.#adminCall(member, (c, o) => c.maintenance.alarm({ action: 'Get', memberID: 0, alarm: 'None' }, o));
        return res.alarms.filter((a) => a.alarm !== 'None').map((a) => ({ memberId: a.memberID, alarm: a.alarm === 'Nospace' ? 'NOSPACE' : 'CORRUPT' }));
      } catch { /* ask the next member */ }
    }
    return [];
  }

  async status(): Promise<EtcdClusterStatus> {
    const members = await Promise.all(this.#members.map((m) => this.#memberStatus(m)));
    const reachable = members.filter((m) => m.reachable);
    const leaderIds = new Set(reachable.map((m) => m.leaderId));
    const leaderId = leaderIds.size === 1 ? [...leaderIds][0] : undefined;
    const leader = members.find((m) => m.id !== undefined && m.id === leaderId)?.name;
    const alarms = reachable.length > 0 ? await this.#alarms() : [];
    const healthy = leader !== undefined && reachable.length === members.length && alarms.length === 0;
    return { members, leader, healthy, alarms };
  }

  async leader(): Promise<string | undefined> {
    return (await this.status()).leader;
  }

  async waitHealthy(timeoutMs = START_TIMEOUT_MS): Promise<EtcdClusterStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.status();
      if (status.healthy) return status;
      const dead = this.#members.find((m) => m.child === undefined);
      if (Date.now() > deadline || dead !== undefined) {
        const why = dead === undefined ? JSON.stringify(status.members.map((m) => ({ name: m.name, reachable: m.reachable, error: m.error }))) : `member ${dead.info.name} is not running; its log ends: ${this.#logTail(dead)}`;
        throw new SilkError('ORDERING_UNAVAILABLE', `etcd cluster not healthy${dead === undefined ? ` after ${timeoutMs} ms` : ''}: ${why}`, { reason: 'unhealthy' });
      }
      await sleep(200);
    }
  }

  #logTail(member: MemberState): string {
    try { return readFileSync(member.info.logFile, 'utf8').slice(-1_500); } catch { return '(no log)'; }
  }

  #running(): MemberState[] {
    return this.#members.filter((m) => m.child !== undefined && !m.paused);
  }

  async defragment(): Promise<void> {
    for (const member of this.#running()) {
      // Defragmentation blocks the member while it rewrites its database: one at a time keeps a quorum serving.
      await this.#adminCall(member, (c, o) => c.maintenance.defragment(o), 60_000);
    }
  }

  async resolveNoSpaceAlarm(): Promise<NoSpaceResolution> {
    const before = await this.status();
    const sizeOf = (s: EtcdClusterStatus): number => Math.max(0, ...s.members.map((m) => m.dbSizeBytes ?? 0));
    const alarms = before.alarms.filter((a) => a.alarm === 'NOSPACE');
    if (alarms.length === 0) return { hadAlarm: false, dbSizeBytesBefore: sizeOf(before), dbSizeBytesAfter: sizeOf(before) };
    const any = this.#running()[0];
    if (any === undefined) throw new SilkError('ORDERING_UNAVAILABLE', 'no etcd member is running to resolve the NOSPACE alarm');
    const revision = (await this.#adminCall(any, (c, o) => c.maintenance.status(o))).header.revision;
    try {
      await this.#adminCall(any, (c, o) => c.kv.compact({ revision, physical: true }, o), 60_000);
    } catch (error) {
      if (!(error instanceof Error && error.message.includes('compacted'))) throw error;
    }
    await this.defragment();
    for (const alarm of alarms) {
      await this.#adminCall(any, (c, o) => c.maintenance.alarm({ action: 'Deactivate', memberID: alarm.memberId, alarm: 'Nospace' }, o));
    }
    const after = await this.status();
    return { hadAlarm: true, compactedRevision: revision, dbSizeBytesBefore: sizeOf(before), dbSizeBytesAfter: sizeOf(after) };
  }

  async snapshotSave(file: string): Promise<void> {
    const status = await this.status();
    const member = status.members.find((m) => m.reachable);
    if (member === undefined) throw new SilkError('ORDERING_UNAVAILABLE', 'no etcd member is reachable to take a snapshot from');
    const url = this.#member(member.name).info.clientUrl;
    await new Promise<void>((resolve, reject) => {
      execFile(this.#etcdctlPath, ['--endpoints', url, ...this.#etcdctlTlsArgs(), '--command-timeout', '60s', 'snapshot', 'save', file], { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 120_000 }, (error, _stdout, stderr) => {
        if (error === null) { resolve(); return; }
        reject(new SilkError('ORDERING_UNAVAILABLE', `etcdctl snapshot save from ${url} to ${file} failed: ${stderr.trim() || error.message}`, { reason: 'snapshot-failed' }, { cause: error }));
      });
    });
  }

  /** The name of a new member: the one given (checked), else the next free `etcd-<n>`. */
  #newMemberName(given: string | undefined): string {
    const used = new Set(this.#members.map((m) => m.info.name));
    if (given !== undefined) {
      checkMemberName(given);
      if (used.has(given)) throw new SilkError('INVALID_ARGUMENT', `etcd member ${given} exists already; members: ${[...used].join(', ')}`);
      return given;
    }
    let n = this.#members.length + 1;
    while (used.has(`etcd-${n}`) || existsSync(join(this.#dataDir, `etcd-${n}`))) n++;
    return `etcd-${n}`;
  }

  async addMember(params: AddEtcdMemberParameters = {}): Promise<EtcdMemberInfo> {
    const { tls } = params;
    if (this.#clientTls !== undefined && tls === undefined) throw new SilkError('INVALID_ARGUMENT', 'this etcd cluster runs mutual TLS: give the new member\'s TLS files (certificate, key, trusted CAs)');
    if (this.#clientTls === undefined && tls !== undefined) throw new SilkError('INVALID_ARGUMENT', 'this etcd cluster runs without TLS: a member with TLS files cannot join it');
    if (this.#members.length >= 7) throw new SilkError('INVALID_ARGUMENT', `an etcd cluster has at most 7 members; it has ${this.#members.length}: remove one first`);
    if (tls !== undefined) checkMemberTls(tls);
    if (params.ports !== undefined) checkPorts(params.ports);
    const timeoutMs = params.timeoutMs ?? START_TIMEOUT_MS;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1_000 || timeoutMs > 600_000) throw new SilkError('INVALID_ARGUMENT', `timeoutMs must be an integer from 1000 to 600000; got ${String(timeoutMs)}`);
    const name = this.#newMemberName(params.name);
    const chosen = params.ports ?? { client: await freePort(), peer: await freePort() };
    const member = this.#memberState(name, chosen, tls);
    if (existsSync(join(member.info.dataDir, 'member'))) throw new SilkError('CONFIG_INVALID', `${member.info.dataDir} holds the data of an earlier member ${name}: move it away, or add the member under another name`, { dir: member.info.dataDir });
    const through = this.#running()[0];
    if (through === undefined) throw new SilkError('ORDERING_UNAVAILABLE', 'no etcd member is running to add a member through');
    const deadline = Date.now() + timeoutMs;
    const added = await this.#registerLearner(through, member.info.peerUrl, deadline);
    this.#members.push(member);
    member.clusterState = 'existing';
    member.initialCluster = this.#initialCluster();
    await this.#startInTurn(member);
    try {
      await this.#promote(member, through, added.member.ID, deadline);
      await this.waitHealthy(Math.max(1_000, deadline - Date.now()));
    } catch (error) {
      await this.#undoAdd(member, through, added.member.ID);
      throw new SilkError('ORDERING_UNAVAILABLE', `etcd member ${name} did not become a healthy voting member within ${timeoutMs} ms, so it was removed again: ${(error as Error).message}`, { reason: 'member-not-healthy', member: name }, { cause: error });
    }
    return member.info;
  }

  /**
   * Registers a learner with the cluster. etcd refuses reconfiguration (`unhealthy cluster`)
   * until every member has been connected for 5 s, so a cluster started a moment ago is asked
   * again until `deadline`.
   * @throws SilkError ORDERING_UNAVAILABLE when etcd refuses
   */
  async #registerLearner(through: MemberState, peerUrl: string, deadline: number): Promise<{ member: { ID: string } }> {
    for (;;) {
      try {
        return await this.#adminCall(through, (c, o) => c.cluster.memberAdd({ peerURLs: [peerUrl], isLearner: true }, o));
      } catch (error) {
        const message = (error as Error).message;
        if (!/unhealthy cluster/.test(message) || Date.now() > deadline) throw new SilkError('ORDERING_UNAVAILABLE', `etcd refused to add a member at ${peerUrl}: ${message}`, { reason: 'add-refused' }, { cause: error });
      }
      await sleep(500);
    }
  }

  /**
   * Promotes a learner once it has caught up (etcd refuses before), until `deadline`. Asked of the
   * Raft leader: a follower forwards a promotion to the leader over the peer link without the
   * caller's user, which etcd 3.4 refuses once its access control is on ("auth: user name is empty").
   */
  async #promote(member: MemberState, through: MemberState, id: string, deadline: number): Promise<void> {
    for (;;) {
      try {
        const via = (await this.#leaderMember()) ?? through;
        await this.#adminCall(via, (c, o) => c.cluster.memberPromote({ ID: id }, o));
        return;
      } catch (error) {
        if (member.child === undefined) throw new SilkError('ORDERING_UNAVAILABLE', `it exited; its log ends: ${this.#logTail(member)}`, { reason: 'member-exited' });
        if (Date.now() > deadline) throw new SilkError('ORDERING_UNAVAILABLE', `it was not promoted from learner: ${(error as Error).message}`, { reason: 'not-promoted' }, { cause: error });
      }
      await sleep(250);
    }
  }

  /** The running member that says it is the Raft leader, if any answers so. */
  async #leaderMember(): Promise<MemberState | undefined> {
    const running = this.#running();
    const statuses = await Promise.all(running.map((m) => this.#memberStatus(m)));
    return running[statuses.findIndex((s) => s.isLeader)];
  }

  /** Takes a member that failed to join out of the cluster again and stops it. */
  async #undoAdd(member: MemberState, through: MemberState, id: string): Promise<void> {
    try {
      await this.#adminCall(through, (c, o) => c.cluster.memberRemove({ ID: id }, o));
    } catch {
      // Not removable now (etcd unreachable): its process stops below, so it only counts as down.
    }
    this.#dropAdmin(member);
    await this.#signalAndWait(member, 'SIGKILL');
    this.#members.splice(this.#members.indexOf(member), 1);
  }

  async removeMember(name: string): Promise<void> {
    const member = this.#member(name);
    if (this.#members.length === 1) throw new SilkError('INVALID_ARGUMENT', `etcd member ${name} is the cluster's last member: add another before removing it`);
    const status = await this.#memberStatus(member);
    const through = this.#running().find((m) => m !== member);
    if (through === undefined) throw new SilkError('ORDERING_UNAVAILABLE', `no other etcd member is running to remove ${name} through`);
    let id = status.id;
    if (id === undefined) {
      const list = await this.#adminCall(through, (c, o) => c.cluster.memberList({}, o));
      id = list.members.find((m) => m.peerURLs.includes(member.info.peerUrl))?.ID;
    }
    if (id === undefined) throw new SilkError('INVALID_ARGUMENT', `etcd member ${name} is not in the cluster's member list`);
    const memberId = id;
    try {
      await this.#adminCall(through, (c, o) => c.cluster.memberRemove({ ID: memberId }, o));
    } catch (error) {
      throw new SilkError('ORDERING_UNAVAILABLE', `etcd refused to remove member ${name}: ${(error as Error).message}`, { reason: 'remove-refused', member: name }, { cause: error });
    }
    await this.stopMember(name);
    this.#members.splice(this.#members.indexOf(member), 1);
  }

  async close(): Promise<void> {
    await Promise.all(this.#members.map(async (member) => {
      this.#dropAdmin(member);
      await this.#signalAndWait(member, 'SIGKILL');
    }));
  }
}
