/**
 * One workload from start to report: a fresh network, the preload, the micro-benchmarks, the
 * closed-loop probe, the maximum-rate search, the measured round at the found rate, the round at
 * half of it, and the machine limit after; or the RSS-flatness run.
 */
import { openBenchNetwork, type BenchNetwork } from './bench-network.js';
import { measureMachineLimit, type MachineLimit } from './machine-limit.js';
import { findMaxRate, measureAtFoundRate } from './max-rate.js';
import { measureEncodeCost, measureSignatureCosts, type SignatureCosts } from './micro-costs.js';
import type { BenchOptions } from './options.js';
import { buildReport, cpuOutsideSignatures, verifyAccounting, type VerifyAccounting, type WorkloadReport } from './report.js';
import { preloadKeys } from './preload.js';
import { growthText, runClosedLoop, runFixedRateRound, settle, type RoundResult } from './rounds.js';
import { round, rssMb } from './stats.js';
import type { Workload } from './workloads.js';

/** Transactions kept in flight by closed-loop runs. */
export const CLOSED_LOOP_CONCURRENCY = 256;
/** Transactions in flight while preloading keys. */
const PRELOAD_CONCURRENCY = 500;
/** Where the RSS-flatness run takes its first reading. */
const RSS_FIRST_READING = 100_000;

/** What a workload run hands back to main. */
export interface WorkloadOutcome {
  readonly report: WorkloadReport;
  /** The machine limit measured after the workload (the next workload's "before"). */
  readonly limitAfter: MachineLimit;
  /** Set when a round counted fewer verify calls than the formula needs. */
  readonly verifyShortfall: string | undefined;
}

/** Settings derived from the options. */
interface Plan {
  readonly probeS: number;
  readonly maxProbes: number;
  /** Seconds of each confirmation round (max-rate.ts); 0 in short runs, where the measured round is no longer than a probe. */
  readonly confirmS: number;
  readonly limitMs: number;
  readonly microMs: number;
}

/**
 * Probe rounds are a tenth of the measured round (1.5–5 s), confirmation rounds a quarter (at most
 * 15 s; none in short CI runs); the limit runs 2 s (1 s for short CI runs).
 */
export function planFor(o: BenchOptions): Plan {
  const short = o.durationS < 10;
  return {
    probeS: Math.min(5, Math.max(1.5, o.durationS / 10)),
    maxProbes: short ? 6 : 10,
    confirmS: short ? 0 : Math.min(15, o.durationS / 4),
    limitMs: short ? 1000 : 2000,
    microMs: short ? 150 : 300,
  };
}

function better(a: MachineLimit, b: MachineLimit): MachineLimit {
  return a.verifiesPerSec >= b.verifiesPerSec ? a : b;
}

/** Writes every key of the workload once (untimed; only for workloads that read before writing). */
export async function preload(bn: BenchNetwork, log: (s: string) => void): Promise<void> {
  const w = bn.workload;
  if (!w.preload) return;
  const t0 = performance.now();
  const r = await preloadKeys(bn, { keys: w.keys, concurrency: PRELOAD_CONCURRENCY, route: 'direct' }).catch((e: unknown) => {
    throw new Error(`preload of ${w.keys} keys: ${e instanceof Error ? e.message : String(e)}`);
  });
  log(`preloaded ${w.keys} keys in ${((performance.now() - t0) / 1000).toFixed(1)} s (${r.tps.toFixed(0)} tx/s, not timed${r.refusals > 0 ? `; ${r.refusals} refused with GATEWAY_BUSY and sent again` : ''})`);
}

function microCosts(bn: BenchNetwork, budgetMs: number): { unit: SignatureCosts; encodeUs: number } {
  const unit = measureSignatureCosts(budgetMs);
  const { gateway, signed } = bn.sampleProposal();
  const { envelope } = gateway.endorse(signed);
  return { unit, encodeUs: measureEncodeCost(envelope, budgetMs) };
}

function shortfall(label: string, a: VerifyAccounting): string | undefined {
  if (a.ok) return undefined;
  if (Number.isNaN(a.expectedPerTx)) return `${label}: no transaction reached a block, so the verify count cannot be checked`;
  return `${label}: ${a.measuredPerTx.toFixed(4)} verify calls per transaction were counted, fewer than the ${a.expectedPerTx.toFixed(4)} the design needs (block size ${a.blockSizeAvg.toFixed(1)}): some signature check was skipped`;
}

function describeRound(r: RoundResult): string {
  const codes = Object.entries(r.failedByCode).map(([c, n]) => `${c} ${n}`).join(', ');
  return `${r.label}: rate ${r.rate} tx/s → tps ${r.tps.toFixed(1)}, p50 ${r.p50Ms?.toFixed(1) ?? '-'} ms, p99 ${r.p99Ms?.toFixed(1) ?? '-'} ms, committed ${r.committed}, failed ${r.failed}${codes ? ` (${codes})` : ''}, ${r.sustained ? 'sustained' : 'NOT sustained'} (backlog at end ${r.backlogAtEnd} = ${r.inFlightAtEnd} in flight + starts ${r.startLagMs.toFixed(0)} ms late, backlog trend ${growthText(r.backlogGrowthPerS)}, throttled ${r.throttled})`;
}

interface Rounds {
  readonly measured: RoundResult;
  readonly halfPeak: RoundResult | undefined;
  readonly closedLoopTps: number | undefined;
  readonly searchProbes: number;
}

async function measuredRounds(bn: BenchNetwork, o: BenchOptions, plan: Plan, log: (s: string) => void): Promise<Rounds> {
  if (o.rate !== undefined) {
    log(`fixed-rate round at ${o.rate} tx/s: ${o.warmupS} s warm-up + ${o.durationS} s measured`);
    const measured = await runFixedRateRound(bn, { label: 'fixed rate', rate: o.rate, warmupS: o.warmupS, durationS: o.durationS, progress: log });
    log(describeRound(measured));
    return { measured, halfPeak: undefined, closedLoopTps: undefined, searchProbes: 0 };
  }
  const closed = await runClosedLoop(bn, { concurrency: CLOSED_LOOP_CONCURRENCY, durationS: plan.probeS });
  log(`closed-loop probe (${CLOSED_LOOP_CONCURRENCY} in flight, ${plan.probeS} s): ${closed.tps.toFixed(1)} tx/s, p99 ${closed.p99Ms?.toFixed(1) ?? '-'} ms`);
  const search = await findMaxRate(bn, { startRate: closed.tps, probeS: plan.probeS, maxProbes: plan.maxProbes, confirmS: plan.confirmS, log });
  let rate = search.rate > 0 ? search.rate : Math.max(1, Math.round(closed.tps / 4));
  log(`maximum rate found: ${search.rate} tx/s${search.failedRate === null ? '' : ` (${search.failedRate} was not sustained)`}; measured round: ${o.warmupS} s warm-up + ${o.durationS} s`);
  const measured = await measureAtFoundRate(rate, async (label, r) => {
    const result = await runFixedRateRound(bn, { label, rate: r, warmupS: o.warmupS, durationS: o.durationS, progress: log });
    log(describeRound(result));
    return result;
  }, log);
  rate = measured.rate;
  const halfRate = Math.max(1, Math.round(rate / 2));
  const halfPeak = await runFixedRateRound(bn, { label: 'half peak', rate: halfRate, warmupS: 0, durationS: Math.max(plan.probeS, o.durationS / 2), progress: log });
  log(describeRound(halfPeak));
  return { measured, halfPeak, closedLoopTps: closed.tps, searchProbes: search.probes.length };
}

/**
 * Runs one workload and builds its report.
 * @param limitBefore the machine limit measured just before (kept if higher than the one after)
 */
export async function runWorkload(w: Workload, o: BenchOptions, limitBefore: MachineLimit, log: (s: string) => void): Promise<WorkloadOutcome> {
  const plan = planFor(o);
  log(`workload ${w.name}: ${w.description}`);
  const bn = await openBenchNetwork(w, o.seed);
  let rounds: Rounds;
  let micro: { unit: SignatureCosts; encodeUs: number };
  let rss: number;
  try {
    await preload(bn, log);
    micro = microCosts(bn, plan.microMs);
    log(`one verify ${micro.unit.verifyUs.toFixed(1)} µs, one sign ${micro.unit.signUs.toFixed(1)} µs, envelope encode+decode ${micro.encodeUs.toFixed(1)} µs (CPU, main thread)`);
    rounds = await measuredRounds(bn, o, plan, log);
    await settle(bn, 10_000);
    rss = rssMb();
  } finally {
    await bn.close();
  }
  const limitAfter = await measureMachineLimit(plan.limitMs);
  const limit = better(limitBefore, limitAfter);
  log(`machine limit: before ${limitBefore.verifiesPerSec.toFixed(0)}, after ${limitAfter.verifiesPerSec.toFixed(0)} verifies/s on ${limit.workers} workers`);
  const { measured, halfPeak } = rounds;
  const p = bn.peerCount;
  const e = w.endorsements;
  const accounting = verifyAccounting(measured.cost, p, e);
  const halfAccounting = halfPeak === undefined ? undefined : verifyAccounting(halfPeak.cost, p, e);
  const report = buildReport({
    workload: w.name,
    mode: o.mode,
    tps: measured.tps,
    p50Ms: measured.p50Ms,
    p99Ms: measured.p99Ms,
    committed: measured.committed,
    failed: measured.failed,
    limit,
    accounting,
    rssMb: rss,
    extras: {
      p99_half_peak_ms: halfPeak?.p99Ms === undefined || halfPeak.p99Ms === null ? null : round(halfPeak.p99Ms),
      rate_tps: measured.rate,
      verify_calls_per_tx: round(accounting.measuredPerTx, 4),
      block_size_avg: round(accounting.blockSizeAvg, 1),
      encode_us_per_tx: round(micro.encodeUs, 1),
      cpu_outside_sig_share: round(cpuOutsideSignatures(measured.cost, p, e, micro.unit), 3),
      verifies_per_sec_per_core: round(limit.verifiesPerSecPerCore, 0),
      sustained: measured.sustained,
      closed_loop_tps: rounds.closedLoopTps === undefined ? null : round(rounds.closedLoopTps, 1),
      probes: rounds.searchProbes,
      warmup_s: o.warmupS,
      duration_s: o.durationS,
      cores: limit.workers,
      failed_by_code: measured.failedByCode,
    },
  });
  return { report, limitAfter, verifyShortfall: shortfall(`${w.name} measured round`, accounting) ?? (halfAccounting && shortfall(`${w.name} half-peak round`, halfAccounting)) };
}

/**
 * The RSS-flatness run: commits `count` transactions at full speed (closed loop) and reads the
 * RSS after the first 100,000 and at the end.
 */
export async function runRssFlatness(w: Workload, count: number, o: BenchOptions, limitBefore: MachineLimit, log: (s: string) => void): Promise<WorkloadOutcome> {
  const plan = planFor(o);
  log(`RSS-flatness run of ${w.name}: ${count} transactions at full speed (${CLOSED_LOOP_CONCURRENCY} in flight)`);
  const bn = await openBenchNetwork(w, o.seed);
  // An object, not a variable: the progress callback sets it.
  const reading: { first: number | null } = { first: null };
  let rss: number;
  let run;
  try {
    await preload(bn, log);
    const step = Math.max(1, Math.round(count / 20));
    const t0 = performance.now();
    run = await runClosedLoop(bn, {
      concurrency: CLOSED_LOOP_CONCURRENCY,
      count,
      latencySamples: 100_000,
      onProgress: (done) => {
        if (done === RSS_FIRST_READING) {
          const first = rssMb();
          reading.first = first;
          log(`rss_mb at ${RSS_FIRST_READING}: ${first.toFixed(1)}`);
        }
        if (done % step === 0) log(`${done}/${count} done, ${((done * 1000) / (performance.now() - t0)).toFixed(0)} tx/s, rss ${rssMb().toFixed(1)} MB`);
      },
    });
    await settle(bn, 10_000);
    rss = rssMb();
    log(`rss_mb at end (${count}): ${rss.toFixed(1)}${reading.first === null ? '' : `, ${(rss / reading.first).toFixed(2)}× the reading at ${RSS_FIRST_READING}`}`);
  } finally {
    await bn.close();
  }
  const limitAfter = await measureMachineLimit(plan.limitMs);
  const limit = better(limitBefore, limitAfter);
  const accounting = verifyAccounting(run.cost, bn.peerCount, w.endorsements);
  const first = reading.first;
  const report = buildReport({
    workload: w.name,
    mode: o.mode,
    tps: run.tps,
    p50Ms: run.p50Ms,
    p99Ms: run.p99Ms,
    committed: run.committed,
    failed: run.failed,
    limit,
    accounting,
    rssMb: rss,
    extras: {
      txs: count,
      rss_mb_at_100k: first === null ? null : round(first, 1),
      rss_growth: first === null ? null : round(rss / first, 3),
      verify_calls_per_tx: round(accounting.measuredPerTx, 4),
      block_size_avg: round(accounting.blockSizeAvg, 1),
      verifies_per_sec_per_core: round(limit.verifiesPerSecPerCore, 0),
      cores: limit.workers,
      failed_by_code: run.failedByCode,
    },
  });
  return { report, limitAfter, verifyShortfall: shortfall(`${w.name} RSS run`, accounting) };
}
