/**
 * The `trace-capture` workload: EPCIS events per second through the normal commit path. A fresh
 * supply network (src/bench/trace-network.ts) in a temporary folder; an endless supply-chain
 * history (src/bench/trace-events.ts) cut into per-org documents of 100–500 events; each
 * document validated and hashed by the client (`prepareCapture`), signed by its org and submitted
 * through the org's gateway (`submitSigned`: endorsement, ordering, commit), followed to the
 * commit at every peer. A closed loop keeps enough capture transactions in flight to fill blocks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommitError, SilkError } from '../errors.js';
import { createCommitTracker, type TxOutcome } from './commit-tracker.js';
import { measureMachineLimit, type MachineLimit } from './machine-limit.js';
import type { RoundCost } from './rounds.js';
import { verifyAccounting, type VerifyAccounting, type WorkloadReport } from './report.js';
import type { WorkloadOutcome } from './run-workload.js';
import { createSampleList, percentile, round, rssMb } from './stats.js';
import { captureBatches, supplyChainEvents, type BatchSizes, type CaptureBatch, type EpcisEventObject } from './trace-events.js';
import { measureEventHashLimit, type EventHashLimit } from './trace-hash-limit.js';
import { openSupplyNetwork, signCaptures, SUPPLY_CHAIN, supplySigners } from './trace-network.js';

/** The workload's name. */
export const TRACE_CAPTURE = 'trace-capture';
/** Events per capture transaction: drawn uniformly per document. */
export const CAPTURE_BATCH_SIZES: BatchSizes = { min: 100, max: 500 };
/** Capture transactions in flight: about 7,000 events, several full blocks. */
export const CAPTURE_IN_FLIGHT = 24;
/** Endorsements per capture (the `epcis` policy: any one org's peer): E, and event hashes per event. */
const ENDORSEMENTS = 1;
/** Events in the hash-limit sample. */
const HASH_SAMPLE = 256;

/** Options of {@link runTraceCapture}. */
export interface TraceCaptureOptions {
  readonly mode: string;
  readonly seed: number;
  readonly warmupS: number;
  readonly durationS: number;
  /** How long each machine-limit measurement runs. */
  readonly limitMs: number;
  /** The verify limit measured just before (kept if higher than the one after). */
  readonly limitBefore: MachineLimit;
  readonly log: (line: string) => void;
}

/**
 * The machine's bound in events per second: one event costs its share of the transaction's
 * verifications plus E event hashes (each endorser recomputes every event's hash), each at the
 * rate all cores reach.
 * @param verifiesPerTx the verifications one transaction needs (P(1+E)+E+1+P/B)
 * @param eventsPerTx average events per transaction
 */
export function eventLimit(verifiesPerTx: number, eventsPerTx: number, limit: MachineLimit, hashes: EventHashLimit): number {
  const secondsPerEvent = verifiesPerTx / (eventsPerTx * limit.verifiesPerSec) + ENDORSEMENTS / hashes.hashesPerSec;
  return secondsPerEvent > 0 && Number.isFinite(secondsPerEvent) ? 1 / secondsPerEvent : 0;
}

/** What the closed loop measured over its measured window. */
interface CaptureRound {
  readonly committedTxs: number;
  readonly committedEvents: number;
  readonly failed: number;
  readonly failedByCode: Readonly<Record<string, number>>;
  readonly latenciesMs: Float64Array;
  readonly spanMs: number;
  readonly prepareUsPerEvent: number;
  /** Events of every valid capture since the start, warm-up included (the span of `cost`). */
  readonly eventsInBlocks: number;
  readonly cost: RoundCost;
}

function sampleEvents(seed: number): EpcisEventObject[] {
  const sample: EpcisEventObject[] = [];
  for (const { event } of supplyChainEvents({ seed: seed + 1 })) {
    sample.push(event);
    if (sample.length === HASH_SAMPLE * 40) break;
  }
  // Every 40th event of a shipment's start: commissioning, inspections, aggregations, readings.
  return sample.filter((_, i) => i % 40 === 0);
}

/**
 * Runs the workload and builds its report.
 * @returns the report, the verify limit measured after it, and a shortfall message when fewer
 *   verifications were counted than the design needs
 */
export async function runTraceCapture(o: TraceCaptureOptions): Promise<WorkloadOutcome> {
  o.log(`workload ${TRACE_CAPTURE}: EPCIS documents of ${CAPTURE_BATCH_SIZES.min}–${CAPTURE_BATCH_SIZES.max} supply-chain events, each org capturing its own steps, ${CAPTURE_IN_FLIGHT} captures in flight`);
  const sample = sampleEvents(o.seed);
  const hashesBefore = await measureEventHashLimit(o.limitMs, sample);
  o.log(`event-hash limit before: ${hashesBefore.hashesPerSec.toFixed(0)} CBV 2.0 event hashes/s on ${hashesBefore.workers} workers`);
  const dir = mkdtempSync(join(tmpdir(), 'silk-bench-trace-capture-'));
  let measured: CaptureRound;
  let rss: number;
  let peerCount: number;
  try {
    const net = await openSupplyNetwork(dir);
    peerCount = net.peers.length;
    try {
      measured = await captureLoop(net, o);
      rss = rssMb();
    } finally {
      await net.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const limitAfter = await measureMachineLimit(o.limitMs);
  const hashesAfter = await measureEventHashLimit(o.limitMs, sample);
  const limit = limitAfter.verifiesPerSec > o.limitBefore.verifiesPerSec ? limitAfter : o.limitBefore;
  const hashes = hashesAfter.hashesPerSec > hashesBefore.hashesPerSec ? hashesAfter : hashesBefore;
  o.log(`limits: ${limit.verifiesPerSec.toFixed(0)} verifies/s, ${hashes.hashesPerSec.toFixed(0)} event hashes/s (the higher of before and after)`);
  const accounting = verifyAccounting(measured.cost, peerCount, ENDORSEMENTS);
  const report = traceCaptureReport(o, measured, accounting, limit, hashes, rss);
  return { report, limitAfter, verifyShortfall: shortfall(accounting) };
}

function shortfall(a: VerifyAccounting): string | undefined {
  if (a.ok) return undefined;
  if (Number.isNaN(a.expectedPerTx)) return `${TRACE_CAPTURE}: no capture reached a block, so the verify count cannot be checked`;
  return `${TRACE_CAPTURE}: ${a.measuredPerTx.toFixed(4)} verify calls per transaction were counted, fewer than the ${a.expectedPerTx.toFixed(4)} the design needs: some signature check was skipped`;
}

function traceCaptureReport(o: TraceCaptureOptions, r: CaptureRound, a: VerifyAccounting, limit: MachineLimit, hashes: EventHashLimit, rss: number): WorkloadReport {
  const eventsPerTx = r.committedTxs > 0 ? r.committedEvents / r.committedTxs : 0;
  const eventsPerS = r.spanMs > 0 ? (r.committedEvents * 1000) / r.spanMs : 0;
  const tps = r.spanMs > 0 ? (r.committedTxs * 1000) / r.spanMs : 0;
  const limitEvents = eventsPerTx > 0 ? eventLimit(a.expectedPerTx, eventsPerTx, limit, hashes) : 0;
  const nullable = (v: number | null): number | null => (v === null ? null : round(v));
  return {
    workload: TRACE_CAPTURE,
    mode: o.mode,
    tps: round(tps, 1),
    p50_ms: nullable(percentile(r.latenciesMs, 0.5)),
    p99_ms: nullable(percentile(r.latenciesMs, 0.99)),
    committed: r.committedTxs,
    failed: r.failed,
    limit_tps: round(eventsPerTx > 0 ? limitEvents / eventsPerTx : 0, 1),
    verifies_per_tx: round(a.expectedPerTx, 4),
    ratio: round(limitEvents > 0 ? eventsPerS / limitEvents : 0, 4),
    rss_mb: round(rss, 1),
    events_per_s: round(eventsPerS, 1),
    committed_events: r.committedEvents,
    events_per_tx: round(eventsPerTx, 1),
    limit_events_per_s: round(limitEvents, 1),
    event_hashes_per_sec: round(hashes.hashesPerSec, 0),
    hashes_per_event: ENDORSEMENTS,
    verifies_per_sec: round(limit.verifiesPerSec, 0),
    verify_calls_per_tx: round(a.measuredPerTx, 4),
    block_size_avg: round(a.blockSizeAvg, 1),
    events_per_block: round(a.blockSizeAvg * eventsPerTx, 0),
    client_prepare_us_per_event: round(r.prepareUsPerEvent, 1),
    cpu_us_per_event: round(r.eventsInBlocks > 0 ? r.cost.cpuUs / r.eventsInBlocks : 0, 1),
    in_flight: CAPTURE_IN_FLIGHT,
    warmup_s: o.warmupS,
    duration_s: o.durationS,
    cores: limit.workers,
    failed_by_code: r.failedByCode,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The closed loop: warm-up, then the measured window; the verify and CPU counters cover the measured window and its drain. */
async function captureLoop(net: Awaited<ReturnType<typeof openSupplyNetwork>>, o: TraceCaptureOptions): Promise<CaptureRound> {
  const tracker = createCommitTracker(net.peers, SUPPLY_CHAIN);
  const signers = supplySigners(net);
  const batches: Iterator<CaptureBatch> = captureBatches(supplyChainEvents({ seed: o.seed }), CAPTURE_BATCH_SIZES, o.seed)[Symbol.iterator]();
  const t0 = performance.now();
  const measureFrom = t0 + o.warmupS * 1000;
  const stopAt = measureFrom + o.durationS * 1000;
  const latencies = createSampleList();
  const tally = { committedTxs: 0, committedEvents: 0, failed: 0, failedByCode: {} as Record<string, number>, firstStart: Number.POSITIVE_INFINITY, lastDone: 0, prepareUs: 0, preparedEvents: 0, allEvents: 0 };
  // Counters from the start, warm-up included, as the other workloads' rounds count them: a
  // transaction endorsed before a window's start and committed after it would skew a window's count.
  const before = { verify: await net.verifier.verifyCount(), txs: tracker.txsInBlocks(), blocks: tracker.blocks(), cpu: process.cpuUsage() };
  let proposals = 0;
  let inFlight = 0;

  const onDone = (measuredTx: boolean, events: number, startedAt: number) => (out: TxOutcome): void => {
    inFlight--;
    if (out.valid) tally.allEvents += events;
    if (!measuredTx) return;
    tally.lastDone = Math.max(tally.lastDone, out.doneAt);
    if (out.valid) {
      tally.committedTxs++;
      tally.committedEvents += events;
      latencies.push(out.doneAt - startedAt);
    } else {
      tally.failed++;
      tally.failedByCode[out.code] = (tally.failedByCode[out.code] ?? 0) + 1;
    }
  };
  const startOne = (): void => {
    const startedAt = performance.now();
    const measuredTx = startedAt >= measureFrom;
    const next = batches.next();
    if (next.done === true) throw new Error('the endless supply-chain history ended');
    const captures = signCaptures(net, next.value, signers);
    if (measuredTx) {
      tally.prepareUs += (performance.now() - startedAt) * 1000;
      tally.preparedEvents += captures.reduce((n, c) => n + c.events, 0);
      tally.firstStart = Math.min(tally.firstStart, startedAt);
    }
    for (const capture of captures) {
      proposals++;
      inFlight++;
      const txId = capture.signed.txId;
      tracker.track(txId, onDone(measuredTx, capture.events, startedAt));
      net.gateway(capture.org).submitSigned(capture.signed).catch((e: unknown) => {
        // A commit-stage error means the capture reached a block: the tracker reports it from there.
        if (!(e instanceof CommitError)) tracker.fail(txId, e instanceof SilkError ? e.code : 'INTERNAL');
      });
    }
  };

  let lastProgress = t0;
  while (performance.now() < stopAt) {
    const now = performance.now();
    if (now - lastProgress >= 10_000) {
      lastProgress = now;
      o.log(`${TRACE_CAPTURE}: ${((now - t0) / 1000).toFixed(0)} s, ${tally.committedEvents} events committed in the measured window, ${inFlight} captures in flight`);
    }
    if (inFlight < CAPTURE_IN_FLIGHT) startOne();
    else await sleep(2);
    // Let commits run between starts.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const drainEnd = performance.now() + 300_000;
  while (tracker.pending() > 0 && performance.now() < drainEnd) await sleep(20);
  const cpu = process.cpuUsage(before.cpu);
  const cost: RoundCost = {
    verifyCalls: (await net.verifier.verifyCount()) - before.verify,
    txsInBlocks: tracker.txsInBlocks() - before.txs,
    blocks: tracker.blocks() - before.blocks,
    proposals,
    cpuUs: cpu.user + cpu.system,
    wallMs: performance.now() - t0,
  };
  const pendingAtEnd = tracker.pending();
  if (pendingAtEnd > 0) {
    tally.failed += pendingAtEnd;
    tally.failedByCode['NOT_DONE_BY_DRAIN_TIMEOUT'] = pendingAtEnd;
  }
  tracker.close();
  return {
    committedTxs: tally.committedTxs,
    committedEvents: tally.committedEvents,
    failed: tally.failed,
    failedByCode: tally.failedByCode,
    latenciesMs: latencies.sorted(),
    spanMs: tally.lastDone - tally.firstStart,
    prepareUsPerEvent: tally.preparedEvents > 0 ? tally.prepareUs / tally.preparedEvents : 0,
    eventsInBlocks: tally.allEvents,
    cost,
  };
}
