/**
 * `npm run bench -- --mode distributed`: the workloads against a whole distributed network on
 * loopback (distributed-network.ts), driven over the peers' HTTP APIs (distributed-client.ts)
 * with the embedded bench's rounds: the closed-loop probe, the maximum-rate search, the measured
 * round at the found rate and the half-peak round. In the same run, for the comparison, the
 * embedded `rmw` as `--mode embedded` runs it; and during `rmw` a phase at 60 % of the measured
 * rate SIGKILLs the etcd leader and restarts it, measuring the longest time between two
 * acknowledgements and checking that every acknowledged transaction is VALID at every peer.
 *
 * `rmw-2of3` runs on a network of its own (its policy is in the chain's genesis): the peer
 * process a client submits to asks another org's peer to endorse over mutual TLS.
 * docs/benchmarks.md ("Distributed mode") defines the figures.
 */
import { readFileSync } from 'node:fs';
import { measureMachineLimit, type MachineLimit } from './machine-limit.js';
import { CONFIRM_ROUND_ATTEMPTS, findMaxRate, measureAtFoundRate } from './max-rate.js';
import type { BenchOptions } from './options.js';
import { verifiesPerTx, buildReport, type WorkloadReport } from './report.js';
import { preloadKeys } from './preload.js';
import { growthText, runClosedLoop, runFixedRateRound, type RoundResult } from './rounds.js';
import { CLOSED_LOOP_CONCURRENCY, planFor, runWorkload } from './run-workload.js';
import { round } from './stats.js';
import { createDistributedClient, type DistributedClient, type LedgerCheck } from './distributed-client.js';
import { startDistributedBenchNetwork, type DistributedBenchNetwork } from './distributed-network.js';
import { BENCH_ORGS, findWorkload, type Workload } from './workloads.js';

/** Goals printed with the figures (not asserted): rmw ratio, its share of the embedded ratio, the longest gap. */
export const GOAL_RATIO = 0.4;
export const GOAL_RATIO_VS_EMBEDDED = 2 / 3;
export const GOAL_LONGEST_GAP_MS = 3_000;
/** The etcd-leader-kill phase runs at this share of the measured rate. */
export const KILL_PHASE_RATE_SHARE = 0.6;
/** Transactions in flight while preloading keys over HTTP. */
const PRELOAD_CONCURRENCY = 256;
/** How long the cluster may take to be healthy again after the restart. */
const HEALTHY_AGAIN_MS = 60_000;

/** What a distributed run hands back to main. */
export interface DistributedBenchOutcome {
  /** The lines, in order: the embedded rmw, each distributed workload, the ones not run. */
  readonly reports: readonly WorkloadReport[];
  /** Set when something a user relies on failed: an acknowledgement lost, the kill phase, the network not stopped. */
  readonly failure: string | undefined;
}

/** Figures of the etcd-leader-kill phase. */
interface KillPhase {
  readonly rate: number;
  readonly durationS: number;
  readonly member: string | null;
  readonly newLeader: string | null;
  readonly longestGapMs: number | null;
  /** Where the longest gap began, from the kill (negative: before it). */
  readonly gapFromKillMs: number | null;
  readonly healthyAfterMs: number | null;
  readonly acks: number;
  readonly failedByCode: Readonly<Record<string, number>>;
  readonly ledger: LedgerCheck;
  readonly error: string | null;
}

interface DistributedRounds {
  readonly measured: RoundResult;
  readonly halfPeak: RoundResult | undefined;
  readonly closedLoopTps: number | null;
  readonly probes: number;
  readonly blockSizeAvg: number;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));
const better = (a: MachineLimit, b: MachineLimit): MachineLimit => (a.verifiesPerSec >= b.verifiesPerSec ? a : b);

function describeRound(r: RoundResult): string {
  const codes = Object.entries(r.failedByCode).map(([c, n]) => `${c} ${n}`).join(', ');
  return `${r.label}: rate ${r.rate} tx/s → tps ${r.tps.toFixed(1)}, p50 ${r.p50Ms?.toFixed(1) ?? '-'} ms, p99 ${r.p99Ms?.toFixed(1) ?? '-'} ms, committed ${r.committed}, failed ${r.failed}${codes ? ` (${codes})` : ''}, ${r.sustained ? 'sustained' : 'NOT sustained'} (backlog at end ${r.backlogAtEnd}, backlog trend ${growthText(r.backlogGrowthPerS)})`;
}

/** Writes every key of the workload once through the peers (untimed). */
async function preload(client: DistributedClient, w: Workload, log: (s: string) => void): Promise<void> {
  if (!w.preload) return;
  const t0 = performance.now();
  const r = await preloadKeys(client.bench, { keys: w.keys, concurrency: PRELOAD_CONCURRENCY }).catch((e: unknown) => {
    throw new Error(`preload of ${w.keys} keys over the peers' APIs: ${e instanceof Error ? e.message : String(e)}`);
  });
  log(`preloaded ${w.keys} keys over HTTP in ${((performance.now() - t0) / 1000).toFixed(1)} s (${r.tps.toFixed(0)} tx/s, not timed${r.refusals > 0 ? `; ${r.refusals} refused with GATEWAY_BUSY and sent again` : ''})`);
}

/** A fixed-rate round with its bodies signed ahead. */
async function presignedRound(client: DistributedClient, label: string, rate: number, warmupS: number, durationS: number, log: (s: string) => void): Promise<RoundResult> {
  client.presign(Math.ceil(rate * (warmupS + durationS) * 1.05) + 64);
  const r = await runFixedRateRound(client.bench, { label, rate, warmupS, durationS, progress: log });
  log(describeRound(r));
  return r;
}

/** The embedded bench's rounds (run-workload.ts), over HTTP, with the measured round's block size read from the first peer. */
async function measuredRounds(client: DistributedClient, o: BenchOptions, log: (s: string) => void): Promise<DistributedRounds> {
  const plan = planFor(o);
  let closedLoopTps: number | null = null;
  let probes = 0;
  let rate = o.rate;
  if (rate === undefined) {
    client.presign(Math.ceil(600 * plan.probeS));
    const closed = await runClosedLoop(client.bench, { concurrency: CLOSED_LOOP_CONCURRENCY, durationS: plan.probeS });
    closedLoopTps = closed.tps;
    log(`closed-loop probe (${CLOSED_LOOP_CONCURRENCY} in flight over HTTP, ${plan.probeS} s): ${closed.tps.toFixed(1)} tx/s, p99 ${closed.p99Ms?.toFixed(1) ?? '-'} ms`);
    client.presign(Math.ceil(Math.max(closed.tps, 50) * 1.5 * (4 / 3) * (plan.probeS * plan.maxProbes + plan.confirmS * CONFIRM_ROUND_ATTEMPTS)));
    const search = await findMaxRate(client.bench, { startRate: closed.tps, probeS: plan.probeS, maxProbes: plan.maxProbes, confirmS: plan.confirmS, log });
    probes = search.probes.length;
    rate = search.rate > 0 ? search.rate : Math.max(1, Math.round(closed.tps / 4));
    log(`maximum rate found: ${search.rate} tx/s${search.failedRate === null ? '' : ` (${search.failedRate} was not sustained)`}; measured round: ${o.warmupS} s warm-up + ${o.durationS} s`);
  }
  // The block size is read over the round whose figures are reported.
  let h0 = 0;
  const measuredRound = async (label: string, r: number): Promise<RoundResult> => {
    h0 = await client.height();
    return presignedRound(client, label, r, o.warmupS, o.durationS, log);
  };
  const measured = o.rate === undefined ? await measureAtFoundRate(rate, measuredRound, log) : await measuredRound('fixed rate', rate);
  rate = measured.rate;
  const span = await client.blockSpan(h0, await client.height());
  const halfPeak = o.rate === undefined ? await presignedRound(client, 'half peak', Math.max(1, Math.round(rate / 2)), 0, Math.max(plan.probeS, o.durationS / 2), log) : undefined;
  return { measured, halfPeak, closedLoopTps, probes, blockSizeAvg: span.blocks > 0 ? span.txs / span.blocks : 0 };
}

/** The longest time between two acknowledgements, the schedule's end counting as one when the acks stopped before it. */
function longestGap(acks: readonly number[], scheduleEnd: number): { gapMs: number; startsAt: number } | undefined {
  const times = [...acks].sort((a, b) => a - b);
  const last = times.at(-1);
  if (last === undefined) return undefined;
  if (last < scheduleEnd) times.push(scheduleEnd);
  let best = { gapMs: 0, startsAt: times[0] as number };
  for (let i = 1; i < times.length; i++) {
    const gap = (times[i] as number) - (times[i - 1] as number);
    if (gap > best.gapMs) best = { gapMs: gap, startsAt: times[i - 1] as number };
  }
  return best;
}

/** Kills the etcd leader at a quarter of the phase, restarts it and waits until the cluster is healthy. */
async function killLeader(net: DistributedBenchNetwork, afterMs: number, log: (s: string) => void): Promise<{ member: string; killedAt: number; healthyAt: number | null; newLeader: string | null }> {
  await sleep(afterMs);
  const before = await net.etcdStatus();
  const member = before.leader;
  if (member === undefined) throw new Error('the etcd cluster has no leader to kill');
  const killedAt = performance.now();
  await net.etcdMember(member, 'kill');
  log(`etcd leader ${member} killed (SIGKILL); restarting it`);
  await net.etcdMember(member, 'restart');
  const end = Date.now() + HEALTHY_AGAIN_MS;
  while (Date.now() < end) {
    const s = await net.etcdStatus().catch(() => undefined);
    if (s?.healthy === true) {
      const healthyAt = performance.now();
      log(`etcd healthy again ${((healthyAt - killedAt) / 1000).toFixed(1)} s after the kill; leader ${s.leader ?? '?'}`);
      return { member, killedAt, healthyAt, newLeader: s.leader ?? null };
    }
    await sleep(200);
  }
  return { member, killedAt, healthyAt: null, newLeader: null };
}

/** The rmw phase at a steady rate during which the etcd leader is killed and restarted. */
async function killPhase(net: DistributedBenchNetwork, client: DistributedClient, measuredRate: number, o: BenchOptions, log: (s: string) => void): Promise<KillPhase> {
  const rate = Math.max(1, Math.round(measuredRate * KILL_PHASE_RATE_SHARE));
  const durationS = Math.max(15, o.durationS / 2);
  log(`etcd leader kill: ${durationS} s of rmw at ${rate} tx/s (${KILL_PHASE_RATE_SHARE * 100} % of ${measuredRate}); the leader is killed after ${(durationS / 4).toFixed(1)} s and restarted`);
  client.presign(Math.ceil(rate * durationS * 1.05) + 64);
  const acks: number[] = [];
  const valid: string[] = [];
  client.onAck = (txId, at) => { acks.push(at); valid.push(txId); };
  const t0 = performance.now();
  const killer = killLeader(net, (durationS * 1000) / 4, log).then((k) => ({ ok: k, error: undefined }), (e: unknown) => ({ ok: undefined, error: e instanceof Error ? e.message : String(e) }));
  let r: RoundResult;
  try {
    r = await runFixedRateRound(client.bench, { label: 'etcd leader kill', rate, warmupS: 0, durationS, progress: log });
  } finally {
    client.onAck = undefined;
  }
  log(describeRound(r));
  const kill = await killer;
  const gap = longestGap(acks, t0 + durationS * 1000);
  if (!(await client.waitCaughtUp(60_000))) log('the peers did not reach one height within 60 s; checking anyway');
  const ledger = await client.checkValid(valid);
  log(`ledger check: ${ledger.validAtEveryPeer} of the ${ledger.checked} acknowledged transactions are VALID at every peer${Object.keys(ledger.otherByCode).length > 0 ? ` (others: ${JSON.stringify(ledger.otherByCode)})` : ''}`);
  const k = kill.ok;
  return {
    rate,
    durationS,
    member: k?.member ?? null,
    newLeader: k?.newLeader ?? null,
    longestGapMs: gap === undefined ? null : gap.gapMs,
    gapFromKillMs: gap === undefined || k === undefined ? null : gap.startsAt - k.killedAt,
    healthyAfterMs: k?.healthyAt === undefined || k.healthyAt === null ? null : k.healthyAt - k.killedAt,
    acks: acks.length,
    failedByCode: r.failedByCode,
    ledger,
    error: kill.error ?? (k !== undefined && k.healthyAt === null ? `etcd was not healthy ${HEALTHY_AGAIN_MS} ms after the restart` : null),
  };
}

/** The largest resident set of the network's processes (peers, orderers, the etcd host), MiB; 0 without /proc. */
function largestRssMb(pids: readonly number[]): number {
  let largest = 0;
  for (const pid of pids) {
    try {
      const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (kb !== undefined) largest = Math.max(largest, Number(kb) / 1024);
    } catch {
      // Gone or no /proc: nothing to read.
    }
  }
  return largest;
}

function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== '';
  } catch {
    return false;
  }
}

interface DistributedFigures {
  readonly w: Workload;
  readonly rounds: DistributedRounds;
  readonly rssMb: number;
  readonly presigned: number;
  readonly signedOnDemand: number;
  readonly kill: KillPhase | undefined;
}

const nullableRound = (v: number | null | undefined, digits = 2): number | null => (v === null || v === undefined || !Number.isFinite(v) ? null : round(v, digits));

function killFields(k: KillPhase | undefined): Record<string, unknown> {
  if (k === undefined) return {};
  return {
    etcd_leader_kill_longest_gap_ms: nullableRound(k.longestGapMs, 0),
    etcd_leader_kill_acks_lost: k.ledger.checked - k.ledger.validAtEveryPeer,
    etcd_leader_kill_acks: k.acks,
    etcd_leader_kill_acks_checked: k.ledger.checked,
    etcd_leader_kill_gap_from_kill_ms: nullableRound(k.gapFromKillMs, 0),
    etcd_leader_kill_member: k.member,
    etcd_leader_kill_new_leader: k.newLeader,
    etcd_leader_kill_healthy_after_ms: nullableRound(k.healthyAfterMs, 0),
    etcd_leader_kill_rate_tps: k.rate,
    etcd_leader_kill_duration_s: k.durationS,
    etcd_leader_kill_failed_by_code: k.failedByCode,
    etcd_leader_kill_ledger_other: k.ledger.otherByCode,
    etcd_leader_kill_error: k.error,
    goal_longest_gap_ms: GOAL_LONGEST_GAP_MS,
    goal_longest_gap_met: k.longestGapMs !== null && k.longestGapMs < GOAL_LONGEST_GAP_MS,
  };
}

function distributedReport(f: DistributedFigures, o: BenchOptions, limit: MachineLimit, embeddedRatio: number | undefined, networkStopped: boolean): WorkloadReport {
  const { measured, halfPeak } = f.rounds;
  const b = f.rounds.blockSizeAvg;
  const expectedPerTx = b > 0 ? verifiesPerTx(BENCH_ORGS.length, f.w.endorsements, b) : Number.NaN;
  const base = buildReport({
    workload: f.w.name,
    mode: 'distributed',
    tps: measured.tps,
    p50Ms: measured.p50Ms,
    p99Ms: measured.p99Ms,
    committed: measured.committed,
    failed: measured.failed,
    limit,
    accounting: { blockSizeAvg: b, expectedPerTx, measuredPerTx: Number.NaN, ok: false },
    rssMb: f.rssMb,
    extras: {},
  });
  const ratio = Number.isFinite(base.ratio) ? base.ratio : 0;
  const vsEmbedded = embeddedRatio !== undefined && embeddedRatio > 0 ? ratio / embeddedRatio : null;
  const isRmw = f.w.name === 'rmw';
  return {
    ...base,
    verifies_per_tx: nullableRound(expectedPerTx, 4) as number,
    p99_half_peak_ms: nullableRound(halfPeak?.p99Ms),
    rate_tps: measured.rate,
    verify_calls_per_tx: null,
    block_size_avg: round(b, 1),
    verifies_per_sec_per_core: round(limit.verifiesPerSecPerCore, 0),
    sustained: measured.sustained,
    closed_loop_tps: nullableRound(f.rounds.closedLoopTps, 1),
    probes: f.rounds.probes,
    warmup_s: o.warmupS,
    duration_s: o.durationS,
    cores: limit.workers,
    failed_by_code: measured.failedByCode,
    peers: BENCH_ORGS.length,
    orderers: 2,
    etcd_members: 3,
    presigned: f.presigned,
    signed_on_demand: f.signedOnDemand,
    embedded_ratio: isRmw && embeddedRatio !== undefined ? embeddedRatio : null,
    ratio_vs_embedded: isRmw ? nullableRound(vsEmbedded, 3) : null,
    ...(isRmw ? { goal_ratio: GOAL_RATIO, goal_ratio_met: ratio >= GOAL_RATIO, goal_ratio_vs_embedded: round(GOAL_RATIO_VS_EMBEDDED, 3), goal_ratio_vs_embedded_met: vsEmbedded !== null && vsEmbedded >= GOAL_RATIO_VS_EMBEDDED } : {}),
    ...killFields(f.kill),
    network_stopped: networkStopped,
  };
}

/** What a user relies on and a workload did not give: commits in the measured round, acknowledgements through the kill, none lost. */
function failuresOf(f: DistributedFigures): string[] {
  const found: string[] = [];
  if (f.rounds.measured.committed === 0) found.push(`${f.w.name}: no transaction of the measured round was acknowledged VALID (${JSON.stringify(f.rounds.measured.failedByCode)})`);
  const k = f.kill;
  if (k === undefined) return found;
  if (k.error !== null) found.push(`etcd leader kill: ${k.error}`);
  if (k.acks === 0) found.push(`etcd leader kill: no transaction was acknowledged in the phase (${JSON.stringify(k.failedByCode)})`);
  if (k.ledger.validAtEveryPeer < k.ledger.checked) found.push(`${k.ledger.checked - k.ledger.validAtEveryPeer} acknowledged transactions are not VALID at every peer: ${JSON.stringify(k.ledger.otherByCode)}`);
  return found;
}

/**
 * Runs the selected workloads in distributed mode (see the module comment).
 * @param workloads the selected `basic` workloads
 * @param o the options (warm-up, duration, rate, seed)
 * @param emit receives each line as soon as it is known (the embedded rmw first)
 * @returns every line, and what failed if something did
 * @throws Error when the network cannot start or a preload transaction fails (the network is stopped first)
 */
export async function runDistributedBench(workloads: readonly Workload[], o: BenchOptions, emit: (line: WorkloadReport) => void, log: (s: string) => void): Promise<DistributedBenchOutcome> {
  const plan = planFor(o);
  const reports: WorkloadReport[] = [];
  const out = (r: WorkloadReport): void => { reports.push(r); emit(r); };
  const runnable = workloads;
  let limit = await measureMachineLimit(plan.limitMs);
  log(`machine limit before: ${limit.verifiesPerSec.toFixed(0)} P-256 verifies/s on ${limit.workers} workers`);
  let embeddedRatio: number | undefined;
  const failures: string[] = [];
  const rmw = findWorkload('rmw');
  if (rmw !== undefined && runnable.some((w) => w.name === 'rmw')) {
    log('embedded rmw in this run, for the comparison');
    const embedded = await runWorkload(rmw, { ...o, mode: 'embedded' }, limit, log);
    limit = embedded.limitAfter;
    embeddedRatio = embedded.report.ratio;
    out(embedded.report);
    if (embedded.verifyShortfall !== undefined) failures.push(embedded.verifyShortfall);
  }
  const figures: DistributedFigures[] = [];
  let networkStopped = true;
  // One network per endorsement policy: the policy is part of the chain's genesis configuration.
  const policies = [...new Set(runnable.map((w) => w.policy))];
  for (const policy of policies) {
    const group = runnable.filter((w) => w.policy === policy);
    const first = group[0] as Workload;
    log(`starting the distributed network: 3 etcd members, 2 orderers, ${BENCH_ORGS.length} peer processes, chain bench running basic (${first.policy})`);
    const net = await startDistributedBenchNetwork(first, log);
    const onSignal = (signal: NodeJS.Signals): void => {
      log(`${signal}: stopping the network`);
      void net.close().finally(() => { process.exit(signal === 'SIGINT' ? 130 : 143); });
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let kept: string | undefined;
    try {
      for (const w of group) {
        log(`workload ${w.name} (distributed): ${w.description}`);
        const client = await createDistributedClient(net.peers, w, o.seed);
        try {
          await preload(client, w, log);
          const rounds = await measuredRounds(client, o, log);
          const kill = w.name === 'rmw' ? await killPhase(net, client, rounds.measured.rate, o, log) : undefined;
          const f: DistributedFigures = { w, rounds, rssMb: largestRssMb(net.pids), presigned: client.presigned(), signedOnDemand: client.signedOnDemand(), kill };
          figures.push(f);
          failures.push(...failuresOf(f));
        } finally {
          client.close();
        }
      }
    } finally {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      log('stopping the network');
      kept = await net.close(failures.length > 0);
      if (kept !== undefined) log(`the network's logs are kept in ${kept}`);
      networkStopped &&= net.pids.every((pid) => !alive(pid));
      log(networkStopped ? 'network stopped: every process gone, every port free' : 'network NOT stopped: some process is still alive');
    }
    const after = await measureMachineLimit(plan.limitMs);
    log(`machine limit after: ${after.verifiesPerSec.toFixed(0)} verifies/s`);
    limit = better(limit, after);
  }
  for (const f of figures) out(distributedReport(f, o, limit, embeddedRatio, networkStopped));
  if (!networkStopped) failures.push('the network did not stop: a process is still alive');
  return { reports, failure: failures.length > 0 ? failures.join('; ') : undefined };
}
