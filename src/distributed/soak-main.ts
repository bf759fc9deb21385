/**
 * The soak run of distributed mode: `npm run soak -- --duration 600 --rate 50 --faults
 * etcd-kill,orderer-kill,pause,peer-kill`. It starts a fresh network (2 orgs, 3 etcd members,
 * 2 orderers) in a temporary folder (or `--dir`), then runs the faults in turn, each named one at
 * least once and on until the duration is over, each one under load from the load client and
 * followed by the ledger consistency check over every peer's API. It prints each fault with its time and what was
 * checked (acknowledged, lost, duplicates, longest gap between acknowledgements, availability)
 * and exits 1 on any violation (a lost acknowledgement, a tx VALID twice, peers that disagree,
 * a network that does not come back, an etcd change a running process did not follow), 2 on a
 * bad command line. The default suite runs it in a bounded form (soak-main.test.ts: each of three
 * faults once) beside network-faults.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { isSilkError, SilkError } from '../errors.js';
import { checkedPeers, createLedgerChecker, type CheckedPeer } from './ledger-consistency.js';
import { orgLoadTargets, startLoad, type Acknowledged } from './load-client.js';
import { readNetworkDescription } from './network-description.js';
import { findFreePortRange } from './loopback-ports.js';
import { etcdMemberControl, killNetworkNow, NETWORK_FILE, networkDown, networkProcesses, networkStatus, networkUp, restartNetworkProcess, type NetworkStatus } from './network-launcher.js';
import { addEtcdMember, removeEtcdMember } from './network-membership.js';

/**
 * The faults a soak run can inject. `etcd-replace` is a change rather than a failure: a new etcd
 * member is added and an old one removed (the Raft leader every other time), so over a long run
 * the cluster moves onto members the running processes did not start with.
 */
export const SOAK_FAULTS = ['etcd-kill', 'orderer-kill', 'pause', 'peer-kill', 'quorum-loss', 'etcd-replace'] as const;
export type SoakFault = (typeof SOAK_FAULTS)[number];

const CHAIN = 'trade';
/** How long a fault's process stays paused by default (`--pause`), and how long the load runs before and after a fault. */
export const DEFAULT_PAUSE_SECONDS = 4;
const STEADY_MS = 3_000;
/** How long the network may take to come back after a fault. */
const RECOVERY_MS = 120_000;
/** Submissions the load keeps in flight at most; a tick beyond it is not started and counts against availability. */
const MAX_IN_FLIGHT = 256;

/** Options of a soak run. */
export interface SoakOptions {
  readonly durationSeconds: number;
  readonly rate: number;
  readonly faults: readonly SoakFault[];
  /** How long `pause` keeps a process stopped, and `quorum-loss` twice as long (default {@link DEFAULT_PAUSE_SECONDS} s). */
  readonly pauseSeconds?: number;
  /** The network folder (default: a new temporary one, removed afterwards). */
  readonly dir?: string;
}

/** Parses the command line. @throws SilkError INVALID_ARGUMENT */
export function parseSoakArgs(argv: readonly string[]): SoakOptions {
  let values: { duration?: string; rate?: string; faults?: string; pause?: string; dir?: string };
  try {
    ({ values } = parseArgs({ args: [...argv], options: { duration: { type: 'string' }, rate: { type: 'string' }, faults: { type: 'string' }, pause: { type: 'string' }, dir: { type: 'string' } }, strict: true }));
  } catch (cause) {
    throw new SilkError('INVALID_ARGUMENT', `usage: npm run soak -- --duration SECONDS --rate TX_PER_SECOND --faults ${SOAK_FAULTS.join(',')} [--pause SECONDS] [--dir DIR] (${(cause as Error).message})`);
  }
  const durationSeconds = Number(values.duration ?? '600');
  if (!Number.isSafeInteger(durationSeconds) || durationSeconds < 10 || durationSeconds > 86_400) throw new SilkError('INVALID_ARGUMENT', `--duration must be whole seconds from 10 to 86400; got ${String(values.duration)}`);
  const rate = Number(values.rate ?? '50');
  if (!Number.isFinite(rate) || rate < 0.1 || rate > 1_000) throw new SilkError('INVALID_ARGUMENT', `--rate must be 0.1 to 1000 submissions per second; got ${String(values.rate)}`);
  const faults = (values.faults ?? 'etcd-kill,orderer-kill,pause,peer-kill').split(',').map((f) => f.trim()).filter((f) => f !== '');
  for (const f of faults) {
    if (!(SOAK_FAULTS as readonly string[]).includes(f)) throw new SilkError('INVALID_ARGUMENT', `unknown fault ${JSON.stringify(f)}: choose from ${SOAK_FAULTS.join(', ')}`);
  }
  if (faults.length === 0) throw new SilkError('INVALID_ARGUMENT', `--faults names none of ${SOAK_FAULTS.join(', ')}`);
  const pauseSeconds = Number(values.pause ?? String(DEFAULT_PAUSE_SECONDS));
  if (!Number.isSafeInteger(pauseSeconds) || pauseSeconds < 1 || pauseSeconds > 300) throw new SilkError('INVALID_ARGUMENT', `--pause must be whole seconds from 1 to 300; got ${String(values.pause)}`);
  return { durationSeconds, rate, faults: faults as SoakFault[], pauseSeconds, ...(values.dir === undefined ? {} : { dir: resolve(values.dir) }) };
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

async function eventually(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new SilkError('INTERNAL', `the network did not recover: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

function pidOf(dir: string, name: string): number {
  const p = networkProcesses(dir).find((x) => x.name === name);
  if (p === undefined) throw new SilkError('INTERNAL', `no launched process ${name}`);
  return p.pid;
}

async function etcdHealthy(dir: string): Promise<boolean> {
  return (await networkStatus(dir)).etcd.healthy;
}

/** The etcd members the network's description lists now, oldest first. */
function etcdMembers(dir: string): string[] {
  return readNetworkDescription(join(dir, NETWORK_FILE)).etcd.map((e) => e.name);
}

/** SIGKILLs the etcd Raft leader (even rounds) or a follower, and restarts it. */
async function killEtcdMember(dir: string, status: NetworkStatus, round: number): Promise<string> {
  const followers = status.processes.filter((p) => p.kind === 'etcd' && p.name !== status.etcd.leader).map((p) => p.name);
  const victim = (round % 2 === 0 ? status.etcd.leader : followers[0]) ?? etcdMembers(dir)[0] ?? 'etcd-1';
  await etcdMemberControl(dir, victim, 'kill');
  await sleep(STEADY_MS);
  await etcdMemberControl(dir, victim, 'restart');
  await eventually(() => etcdHealthy(dir), RECOVERY_MS, `etcd healthy after restarting ${victim}`);
  return `SIGKILL etcd member ${victim}${victim === status.etcd.leader ? ' (Raft leader)' : ''}, restarted`;
}

/** SIGKILLs the chain's leading orderer; once another leads, restarts it. */
async function killOrdererLeader(dir: string, status: NetworkStatus): Promise<string> {
  const leader = status.chains.find((c) => c.name === CHAIN)?.leader;
  if (leader === undefined) throw new SilkError('INTERNAL', 'no orderer leads the chain before the fault');
  process.kill(pidOf(dir, leader), 'SIGKILL');
  await eventually(async () => { const now = (await networkStatus(dir)).chains[0]?.leader; return now !== undefined && now !== leader; }, RECOVERY_MS, 'a new orderer leader');
  await restartNetworkProcess(dir, leader, RECOVERY_MS);
  return `SIGKILL orderer leader ${leader}, restarted`;
}

/** SIGSTOPs, then SIGCONTs, the etcd leader, the leading orderer or a peer, in turn. */
async function pauseProcess(dir: string, status: NetworkStatus, round: number, pauseMs: number): Promise<string> {
  const kinds = ['etcd', 'orderer', 'peer'] as const;
  const kind = kinds[round % kinds.length] ?? 'etcd';
  if (kind === 'etcd') {
    const member = status.etcd.leader ?? etcdMembers(dir)[0] ?? 'etcd-1';
    await etcdMemberControl(dir, member, 'pause');
    await sleep(pauseMs);
    await etcdMemberControl(dir, member, 'resume');
    await eventually(() => etcdHealthy(dir), RECOVERY_MS, 'etcd healthy after the pause');
    return `SIGSTOP etcd member ${member}${member === status.etcd.leader ? ' (Raft leader)' : ''} for ${pauseMs} ms`;
  }
  const name = kind === 'orderer' ? (status.chains[0]?.leader ?? 'orderer0') : 'peer0.org2';
  const pid = pidOf(dir, name);
  process.kill(pid, 'SIGSTOP');
  await sleep(pauseMs);
  process.kill(pid, 'SIGCONT');
  return `SIGSTOP ${kind} ${name} for ${pauseMs} ms`;
}

/** SIGKILLs a peer and restarts it. */
async function killPeer(dir: string): Promise<string> {
  process.kill(pidOf(dir, 'peer0.org2'), 'SIGKILL');
  await sleep(STEADY_MS);
  await restartNetworkProcess(dir, 'peer0.org2', RECOVERY_MS);
  return 'SIGKILL peer0.org2, restarted';
}

/** Stops two etcd members other than the leader, then restarts them. */
async function loseQuorum(dir: string, status: NetworkStatus, _round: number, pauseMs: number): Promise<string> {
  const [first, second] = etcdMembers(dir).filter((m) => m !== status.etcd.leader);
  if (first === undefined || second === undefined) throw new SilkError('INTERNAL', 'quorum-loss needs two etcd members besides the leader');
  await etcdMemberControl(dir, first, 'stop');
  await etcdMemberControl(dir, second, 'stop');
  await sleep(pauseMs * 2);
  await etcdMemberControl(dir, first, 'restart');
  await etcdMemberControl(dir, second, 'restart');
  await eventually(() => etcdHealthy(dir), RECOVERY_MS, 'etcd healthy after the quorum returned');
  return `stopped ${first} and ${second} for ${pauseMs * 2} ms, restarted`;
}

/** Adds an etcd member and removes an old one (the Raft leader in even rounds). */
async function replaceEtcdMember(dir: string, _status: NetworkStatus, round: number): Promise<string> {
  const old = etcdMembers(dir);
  const added = await addEtcdMember(dir);
  const leader = (await networkStatus(dir)).etcd.leader;
  const victim = round % 2 === 0 && leader !== undefined && leader !== added.member ? leader : (old.find((m) => m !== leader) ?? old[0] ?? '');
  const removed = await removeEtcdMember(dir, victim);
  // Every running orderer and peer must call the members there are now: a warning says one does not.
  const warnings = [...added.warnings, ...removed.warnings];
  if (warnings.length > 0) throw new SilkError('INTERNAL', `a running process did not follow the etcd change: ${warnings.join('; ')}`);
  return `etcd member ${added.member} added, ${victim}${victim === leader ? ' (Raft leader)' : ''} removed; every process calls ${removed.members.join(', ')}`;
}

/** What each fault does; each waits until the network is whole again and says what was done. */
const INJECT: Readonly<Record<SoakFault, (dir: string, status: NetworkStatus, round: number, pauseMs: number) => Promise<string>>> = {
  'etcd-kill': killEtcdMember,
  'orderer-kill': killOrdererLeader,
  pause: pauseProcess,
  'peer-kill': killPeer,
  'quorum-loss': loseQuorum,
  'etcd-replace': replaceEtcdMember,
};

/** Injects one fault and waits until the network is whole again; returns what was done. */
async function inject(dir: string, fault: SoakFault, round: number, pauseMs: number): Promise<string> {
  return INJECT[fault](dir, await networkStatus(dir), round, pauseMs);
}

/**
 * Runs a soak: a fresh network, the faults in turn until the duration is over.
 * @returns the number of violations found (0 when every check passed)
 * @example const violations = await runSoak({ durationSeconds: 600, rate: 50, faults: ['etcd-kill', 'pause'] })
 */
export async function runSoak(options: SoakOptions, out: (line: string) => void): Promise<number> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'silk-soak-'));
  const killAll = (): void => { killNetworkNow(dir); };
  process.on('exit', killAll);
  const started = Date.now();
  const at = (): string => `${((Date.now() - started) / 1_000).toFixed(1).padStart(6)} s`;
  let violations = 0;
  try {
    out(`${at()}  starting a network of 2 orgs in ${dir}`);
    const up = await networkUp({ dir, orgs: 2, basePort: await findFreePortRange(11) });
    const peers: CheckedPeer[] = checkedPeers(up);
    const targets = orgLoadTargets(dir, up, ['Org1', 'Org2']);
    const checker = createLedgerChecker({ chain: CHAIN });
    const acknowledged: Acknowledged[] = [];
    const end = started + options.durationSeconds * 1_000;
    let totalAttempted = 0;
    let totalShed = 0;
    // Each named fault runs at least once, however short the duration.
    for (let round = 0; round < options.faults.length || Date.now() < end; round++) {
      const fault = options.faults[round % options.faults.length] ?? 'pause';
      const load = startLoad({ targets, chain: CHAIN, rate: options.rate, label: `soak${round}`, maxInFlight: MAX_IN_FLIGHT });
      const faultAt = at();
      let what = '';
      let failure: string | undefined;
      try {
        await sleep(STEADY_MS);
        what = await inject(dir, fault, Math.floor(round / options.faults.length), (options.pauseSeconds ?? DEFAULT_PAUSE_SECONDS) * 1_000);
        const settled = load.acknowledgedCount();
        await eventually(() => load.acknowledgedCount() >= settled + 5, RECOVERY_MS, 'acknowledgements after the fault');
        await sleep(STEADY_MS);
      } catch (error) {
        failure = isSilkError(error) ? error.message : String(error);
      }
      const report = await load.stop();
      acknowledged.push(...report.acknowledged);
      totalAttempted += report.attempts.length;
      totalShed += report.shed;
      let line = `${faultAt}  ${fault.padEnd(12)} ${what}: attempted ${report.attempts.length}, acknowledged ${report.acknowledged.length}`;
      // Availability counts the submissions the load could not start while its in-flight limit was reached.
      if (report.shed > 0) line += `, not started ${report.shed} (${MAX_IN_FLIGHT} in flight)`;
      const failed = Object.entries(report.failures).sort((a, b) => b[1] - a[1]);
      // Failed attempts were tried again with a new proposal: what they met, not what was lost.
      if (failed.length > 0) line += `, failed ${failed.map(([code, n]) => `${code} ×${n}`).join(', ')}`;
      try {
        const check = await checker.check(peers, acknowledged, RECOVERY_MS);
        line += `, lost ${check.lost.length}, duplicates ${check.duplicates.length}, longest gap ${report.longestGapMs} ms, availability ${(report.availability * 100).toFixed(1)} %, height ${check.height} at ${peers.length} peers`;
        if (check.violations.length > 0) { violations += check.violations.length; line += `\n        VIOLATIONS:\n        ${check.violations.slice(0, 20).join('\n        ')}`; }
      } catch (error) {
        violations++;
        line += `; consistency check failed: ${(error as Error).message}`;
      }
      if (failure !== undefined) { violations++; line += `\n        FAILED: ${failure}`; }
      out(line);
    }
    out(`${at()}  done: ${acknowledged.length} acknowledged of ${totalAttempted} attempts${totalShed > 0 ? ` (${totalShed} more not started)` : ''}, ${violations} violation(s)`);
  } finally {
    await networkDown(dir).catch(() => undefined);
    killAll();
    process.off('exit', killAll);
    if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
  return violations;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  let options: SoakOptions | undefined;
  try {
    options = parseSoakArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`soak: ${(error as Error).message}\n`);
    process.exitCode = 2;
  }
  if (options !== undefined) {
    runSoak(options, (line) => { process.stdout.write(`${line}\n`); }).then(
      (violations) => { process.exitCode = violations === 0 ? 0 : 1; },
      (error: unknown) => {
        process.stderr.write(`soak: ${isSilkError(error) ? `${error.code}: ${error.message}` : ((error as Error).stack ?? String(error))}\n`);
        process.exitCode = 1;
      },
    );
  }
}
