/**
 * Caliper-style rounds. A fixed-rate round is open-loop: transaction i is started at
 * t0 + i/rate whether or not earlier ones completed, with a cap on transactions in flight so a
 * rate the system cannot carry does not exhaust memory (a start that finds the cap reached is
 * skipped and counted as throttled). A closed-loop round keeps a fixed number in flight.
 */
import type { TxOutcome } from './commit-tracker.js';
import type { BenchNetwork } from './bench-network.js';
import { createReservoir, createSampleList, percentile, type SampleList } from './stats.js';
import type { KvArgs } from './workloads.js';

/** Starts per event-loop turn before the scheduler yields to commits. */
const CHUNK = 32;
/** "Within the round": a transaction done this long after the end of the schedule still counts. */
const GRACE_MS = 1000;
const PROGRESS_EVERY_MS = 10_000;

/** Counters of everything a round caused, warm-up included, for the verify and CPU accounting. */
export interface RoundCost {
  /** verifyP256 calls on the main thread and in the verify pool. */
  readonly verifyCalls: number;
  /** Transactions in blocks (valid or not), counted at the first peer. */
  readonly txsInBlocks: number;
  readonly blocks: number;
  /** Client proposals signed. */
  readonly proposals: number;
  /** Process CPU time (all threads), microseconds. */
  readonly cpuUs: number;
  readonly wallMs: number;
}

/** What a round measured (over its measured window; warm-up excluded). */
export interface RoundResult {
  readonly label: string;
  readonly rate: number;
  readonly warmupS: number;
  readonly durationS: number;
  /** Starts due in the measured window. */
  readonly scheduled: number;
  readonly submitted: number;
  /** Starts skipped because the in-flight cap was reached. */
  readonly throttled: number;
  /** VALID at every peer. */
  readonly committed: number;
  /** Invalid at some peer (MVCC conflicts …), refused before ordering, or not done by the drain timeout. */
  readonly failed: number;
  readonly failedByCode: Readonly<Record<string, number>>;
  /** Measured transactions done (valid or not) by the end of the schedule + 1 s grace. */
  readonly doneInRound: number;
  /** Transactions of the round still in flight when the last one was started. */
  readonly inFlightAtEnd: number;
  /** How late the last start was (the generator shares the saturated main thread). */
  readonly startLagMs: number;
  /** In flight plus due-but-not-started at the end of the schedule. */
  readonly backlogAtEnd: number;
  /** The backlog's trend over the measured window, transactions per second (undefined: too few samples). */
  readonly backlogGrowthPerS: number | undefined;
  /** Sorted latencies (ms) of the valid ones: start → committed at every peer. */
  readonly latenciesMs: Float64Array;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** committed ÷ (last commit − first submit). */
  readonly tps: number;
  readonly sustained: boolean;
  readonly cost: RoundCost;
}

/** A fixed-rate round. */
export interface FixedRateRoundSpec {
  readonly label: string;
  readonly rate: number;
  readonly warmupS: number;
  readonly durationS: number;
  /** Default: 3 s of rate, at least 1,000 and at most 50,000. */
  readonly maxInFlight?: number;
  /** How long to wait for stragglers after the last start. Default 60 s. */
  readonly drainTimeoutS?: number;
  /** Receives a progress line every 10 s. */
  readonly progress?: (line: string) => void;
}

interface Snapshot {
  readonly verifyCalls: number;
  readonly txsInBlocks: number;
  readonly blocks: number;
  readonly proposals: number;
  readonly cpu: NodeJS.CpuUsage;
  readonly at: number;
}

async function snapshot(bn: BenchNetwork): Promise<Snapshot> {
  return { verifyCalls: await bn.verifyCount(), txsInBlocks: bn.tracker.txsInBlocks(), blocks: bn.tracker.blocks(), proposals: bn.proposals(), cpu: process.cpuUsage(), at: performance.now() };
}

async function costSince(bn: BenchNetwork, s: Snapshot): Promise<RoundCost> {
  const now = await snapshot(bn);
  const cpu = process.cpuUsage(s.cpu);
  return {
    verifyCalls: now.verifyCalls - s.verifyCalls,
    txsInBlocks: now.txsInBlocks - s.txsInBlocks,
    blocks: now.blocks - s.blocks,
    proposals: now.proposals - s.proposals,
    cpuUs: cpu.user + cpu.system,
    wallMs: now.at - s.at,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the tracker follows no transaction (or the timeout passes). */
export async function settle(bn: BenchNetwork, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (bn.tracker.pending() > 0 && performance.now() < end) await sleep(20);
  return bn.tracker.pending() === 0;
}

/** Measured-window bookkeeping shared by the round kinds. */
interface Tally {
  committed: number;
  failed: number;
  readonly failedByCode: Record<string, number>;
  firstSubmit: number;
  lastDone: number;
  readonly latencies: SampleList;
}

function newTally(latencies: SampleList): Tally {
  return { committed: 0, failed: 0, failedByCode: {}, firstSubmit: Number.POSITIVE_INFINITY, lastDone: 0, latencies };
}

function record(t: Tally, o: TxOutcome, startedAt: number): void {
  t.lastDone = Math.max(t.lastDone, o.doneAt);
  if (o.valid) {
    t.committed++;
    t.latencies.push(o.doneAt - startedAt);
  } else {
    t.failed++;
    t.failedByCode[o.code] = (t.failedByCode[o.code] ?? 0) + 1;
  }
}

function tpsOf(t: Tally): number {
  const spanMs = t.lastDone - t.firstSubmit;
  return t.committed > 0 && spanMs > 0 ? (t.committed * 1000) / spanMs : 0;
}

/**
 * Whether a round kept up: every start on time (the generator's lag grew by at most 5 % of the
 * measured window), the backlog (in flight + due but not started) at the end at most 1 s of
 * rate, at least 95 % of the measured transactions done within the round (+1 s), and at most
 * 5 % of starts throttled by the in-flight cap.
 */
function keptUp(r: { rate: number; durationS: number; scheduled: number; submitted: number; throttled: number; doneInRound: number; backlogAtEnd: number; lagGrowthMs: number; backlogGrowthPerS: number | undefined }): boolean {
  return r.submitted > 0
    && r.throttled <= 0.05 * r.scheduled
    && r.lagGrowthMs <= 0.05 * r.durationS * 1000
    && r.backlogAtEnd <= Math.max(r.rate, 1)
    && r.doneInRound >= 0.95 * r.submitted
    && (r.backlogGrowthPerS === undefined || r.backlogGrowthPerS <= MAX_BACKLOG_GROWTH * r.rate);
}

/** The backlog may grow by at most this share of the rate per second over the measured window. */
const MAX_BACKLOG_GROWTH = 0.05;
/** How often the backlog is sampled during the measured window. */
const BACKLOG_SAMPLE_MS = 100;
/** Fewer samples than this give no growth figure (a window too short to fit a trend). */
const MIN_BACKLOG_SAMPLES = 10;

/** A backlog trend for the log: `+12/s`, `-3/s`, or `-` when there were too few samples. */
export function growthText(perS: number | undefined): string {
  if (perS === undefined) return '-';
  const r = Math.round(perS);
  return `${r >= 0 ? '+' : ''}${r}/s`;
}

/**
 * The backlog's trend in transactions per second: the least-squares slope of `(t ms, backlog)`
 * samples, undefined for fewer than {@link MIN_BACKLOG_SAMPLES}. A network that keeps up holds a
 * steady backlog (rate × latency, give or take a block); one that does not lets it grow.
 * @example backlogGrowthPerS([{ t: 0, backlog: 10 }, ...]) // ≈ 0 when steady
 */
export function backlogGrowthPerS(samples: readonly { readonly t: number; readonly backlog: number }[]): number | undefined {
  if (samples.length < MIN_BACKLOG_SAMPLES) return undefined;
  let st = 0;
  let sb = 0;
  for (const x of samples) {
    st += x.t;
    sb += x.backlog;
  }
  const mt = st / samples.length;
  const mb = sb / samples.length;
  let num = 0;
  let den = 0;
  for (const x of samples) {
    num += (x.t - mt) * (x.backlog - mb);
    den += (x.t - mt) * (x.t - mt);
  }
  return den === 0 ? undefined : (num / den) * 1000;
}

/**
 * Runs one open-loop round at a fixed rate: warm-up, then the measured window, then a drain.
 * The load generator shares the process (and its main thread) with the network: when the
 * process is saturated starts fall behind their schedule, and that lag counts as backlog.
 * @param bn the network under test (should hold no transactions in flight)
 * @param spec rate, warm-up and measured seconds
 */
export async function runFixedRateRound(bn: BenchNetwork, spec: FixedRateRoundSpec): Promise<RoundResult> {
  const { rate } = spec;
  const cap = spec.maxInFlight ?? Math.min(50_000, Math.max(1000, Math.ceil(rate * 3)));
  const before = await snapshot(bn);
  const t0 = performance.now();
  const intervalMs = 1000 / rate;
  const measureFrom = t0 + spec.warmupS * 1000;
  const roundEnd = t0 + (spec.warmupS + spec.durationS) * 1000;
  const total = Math.max(1, Math.floor((spec.warmupS + spec.durationS) * rate));
  const due = (i: number): number => t0 + i * intervalMs;
  const tally = newTally(createSampleList(Math.ceil(rate * spec.durationS) + 16));
  let scheduled = 0;
  let submitted = 0;
  let throttled = 0;
  let inFlight = 0;
  let measuredInFlight = 0;
  let doneInRound = 0;
  let lagAtMeasureStart: number | undefined;
  let open = true;
  let nextProgress = t0 + PROGRESS_EVERY_MS;

  const onDone = (measured: boolean) => (o: TxOutcome, startedAt: number): void => {
    if (!open) return;
    inFlight--;
    if (!measured) return;
    measuredInFlight--;
    if (o.doneAt <= roundEnd + GRACE_MS) doneInRound++;
    record(tally, o, startedAt);
  };

  let i = 0;
  let lagAtEnd = 0;
  const backlogSamples: { t: number; backlog: number }[] = [];
  let nextSample = measureFrom;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      if (now >= nextSample && now <= roundEnd) {
        // In flight plus due but not started (the generator's own lag counts as backlog).
        const dueNotStarted = Math.max(0, Math.min(total, Math.floor((now - t0) / intervalMs) + 1) - i);
        backlogSamples.push({ t: now, backlog: inFlight + dueNotStarted });
        nextSample = now + BACKLOG_SAMPLE_MS;
      }
      let started = 0;
      while (i < total && due(i) <= now && started < CHUNK) {
        const measured = due(i) >= measureFrom;
        if (measured && lagAtMeasureStart === undefined) lagAtMeasureStart = now - due(i);
        i++;
        if (measured) scheduled++;
        if (inFlight >= cap) {
          if (measured) throttled++;
          continue;
        }
        inFlight++;
        started++;
        if (measured) {
          submitted++;
          measuredInFlight++;
          tally.firstSubmit = Math.min(tally.firstSubmit, now);
        }
        bn.start(onDone(measured));
      }
      if (now >= nextProgress && spec.progress) {
        nextProgress += PROGRESS_EVERY_MS;
        spec.progress(`${spec.label}: ${((now - t0) / 1000).toFixed(0)} s, ${tally.committed} committed, ${inFlight} in flight, starts ${Math.max(0, now - due(i)).toFixed(0)} ms behind`);
      }
      if (i >= total) {
        lagAtEnd = Math.max(0, performance.now() - due(total - 1));
        resolve();
        return;
      }
      if (started >= CHUNK) setImmediate(tick);
      else setTimeout(tick, Math.max(0, due(i) - performance.now()));
    };
    tick();
  });
  const inFlightAtEnd = inFlight;
  const backlogAtEnd = inFlightAtEnd + Math.floor((lagAtEnd / 1000) * rate);
  const lagGrowthMs = lagAtEnd - (lagAtMeasureStart ?? 0);
  const backlogGrowth = backlogGrowthPerS(backlogSamples);
  const drainEnd = performance.now() + (spec.drainTimeoutS ?? 60) * 1000;
  while (inFlight > 0 && performance.now() < drainEnd) await sleep(10);
  open = false;
  if (measuredInFlight > 0) {
    tally.failed += measuredInFlight;
    tally.failedByCode.NOT_DONE_BY_DRAIN_TIMEOUT = measuredInFlight;
  }
  // Stragglers of an unsustainable rate must not leak into the next round's counters.
  await settle(bn, 120_000);
  const cost = await costSince(bn, before);
  const latenciesMs = tally.latencies.sorted();
  return {
    label: spec.label,
    rate,
    warmupS: spec.warmupS,
    durationS: spec.durationS,
    scheduled,
    submitted,
    throttled,
    committed: tally.committed,
    failed: tally.failed,
    failedByCode: tally.failedByCode,
    doneInRound,
    inFlightAtEnd,
    startLagMs: lagAtEnd,
    backlogAtEnd,
    latenciesMs,
    p50Ms: percentile(latenciesMs, 0.5),
    p99Ms: percentile(latenciesMs, 0.99),
    tps: tpsOf(tally),
    backlogGrowthPerS: backlogGrowth,
    sustained: keptUp({ rate, durationS: spec.durationS, scheduled, submitted, throttled, doneInRound, backlogAtEnd, lagGrowthMs, backlogGrowthPerS: backlogGrowth }),
    cost,
  };
}

/** A closed-loop run: a fixed number of transactions in flight, for a time or a count. */
export interface ClosedLoopSpec {
  readonly concurrency: number;
  /** Stop starting after this many seconds. */
  readonly durationS?: number;
  /** Stop after starting this many transactions. */
  readonly count?: number;
  /** Arguments of transaction i (default: the workload's draw). */
  readonly argsFor?: (i: number) => KvArgs;
  /** How transactions are sent (see {@link BenchNetwork.start}); default `gateway`. */
  readonly route?: 'gateway' | 'direct';
  /** Called after each completion with the number done so far. */
  readonly onProgress?: (done: number) => void;
  /** Keep at most this many latency samples (reservoir); default: all. */
  readonly latencySamples?: number;
}

/** What a closed-loop run measured. */
export interface ClosedLoopResult {
  readonly started: number;
  readonly committed: number;
  readonly failed: number;
  readonly failedByCode: Readonly<Record<string, number>>;
  readonly tps: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly cost: RoundCost;
}

/**
 * Keeps `concurrency` transactions in flight until the time or count is reached, then waits for
 * all of them.
 */
export async function runClosedLoop(bn: BenchNetwork, spec: ClosedLoopSpec): Promise<ClosedLoopResult> {
  const before = await snapshot(bn);
  const t0 = performance.now();
  const stopAt = spec.durationS === undefined ? Number.POSITIVE_INFINITY : t0 + spec.durationS * 1000;
  const count = spec.count ?? Number.POSITIVE_INFINITY;
  const tally = newTally(spec.latencySamples === undefined ? createSampleList() : createReservoir(spec.latencySamples));
  tally.firstSubmit = t0;
  let started = 0;
  let done = 0;
  let inFlight = 0;
  let refillQueued = false;

  await new Promise<void>((resolve) => {
    const finished = (): boolean => started >= count || performance.now() >= stopAt;
    const refill = (): void => {
      refillQueued = false;
      let n = 0;
      while (inFlight < spec.concurrency && !finished() && n < CHUNK) {
        const args = spec.argsFor?.(started);
        started++;
        inFlight++;
        n++;
        bn.start((o, startedAt) => {
          inFlight--;
          done++;
          record(tally, o, startedAt);
          spec.onProgress?.(done);
          if (finished() && inFlight === 0) resolve();
          else queueRefill();
        }, args, spec.route);
      }
      if (n === CHUNK) queueRefill();
      if (finished() && inFlight === 0) resolve();
    };
    const queueRefill = (): void => {
      if (refillQueued) return;
      refillQueued = true;
      setImmediate(refill);
    };
    refill();
  });
  const cost = await costSince(bn, before);
  const latencies = tally.latencies.sorted();
  return {
    started,
    committed: tally.committed,
    failed: tally.failed,
    failedByCode: tally.failedByCode,
    tps: tpsOf(tally),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    cost,
  };
}
