/**
 * The figures of a workload run, as defined in docs/benchmarks.md, and the check that the
 * network made at least as many signature verifications per transaction as the design says.
 */
import type { MachineLimit } from './machine-limit.js';
import type { SignatureCosts } from './micro-costs.js';
import type { RoundCost } from './rounds.js';
import { round } from './stats.js';

/**
 * Verifications one transaction needs: each of P committing peers checks the creator and E
 * endorsements, each of E endorsers checks the proposal, the orderer checks the creator, and
 * each peer checks the orderer's block signature once per block.
 * @param p committing peers
 * @param e endorsements per transaction
 * @param blockSize average transactions per block
 */
export function verifiesPerTx(p: number, e: number, blockSize: number): number {
  return p * (1 + e) + e + 1 + p / blockSize;
}

/**
 * Signatures one round made: a client signature per proposal, E endorser signatures per ordered
 * transaction, and per block the orderer's signature and each peer's commit statement.
 */
export function signCalls(cost: RoundCost, p: number, e: number): number {
  return cost.proposals + e * cost.txsInBlocks + cost.blocks * (1 + p);
}

/** The verify-count check of one round. */
export interface VerifyAccounting {
  readonly blockSizeAvg: number;
  /** The formula with the round's real block size. */
  readonly expectedPerTx: number;
  /** Counted calls ÷ transactions in blocks. */
  readonly measuredPerTx: number;
  /** False when fewer calls were made than the formula needs: some check was skipped. */
  readonly ok: boolean;
}

/** Compares a round's counted verify calls with the formula. */
export function verifyAccounting(cost: RoundCost, p: number, e: number): VerifyAccounting {
  const blockSizeAvg = cost.blocks > 0 ? cost.txsInBlocks / cost.blocks : 0;
  const expectedPerTx = blockSizeAvg > 0 ? verifiesPerTx(p, e, blockSizeAvg) : Number.NaN;
  const measuredPerTx = cost.txsInBlocks > 0 ? cost.verifyCalls / cost.txsInBlocks : 0;
  // Exact integers underneath: expected total = txs·(P(1+E)+E+1) + P·blocks.
  const expectedTotal = cost.txsInBlocks * (p * (1 + e) + e + 1) + p * cost.blocks;
  return { blockSizeAvg, expectedPerTx, measuredPerTx, ok: cost.txsInBlocks > 0 && cost.verifyCalls >= expectedTotal };
}

/**
 * Share of the process CPU time not spent signing or verifying, estimated from the counted
 * verify calls and sign calls times their measured single-call costs.
 */
export function cpuOutsideSignatures(cost: RoundCost, p: number, e: number, unit: SignatureCosts): number {
  if (cost.cpuUs <= 0) return Number.NaN;
  const sigUs = cost.verifyCalls * unit.verifyUs + signCalls(cost, p, e) * unit.signUs;
  return Math.max(0, 1 - sigUs / cost.cpuUs);
}

/** One workload's line of JSON output. */
export interface WorkloadReport {
  readonly workload: string;
  readonly mode: string;
  readonly tps: number;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
  readonly committed: number;
  readonly failed: number;
  readonly limit_tps: number;
  readonly verifies_per_tx: number;
  readonly ratio: number;
  readonly rss_mb: number;
  readonly [extra: string]: unknown;
}

/** Inputs of {@link buildReport}. */
export interface ReportInputs {
  readonly workload: string;
  readonly mode: string;
  readonly tps: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly committed: number;
  readonly failed: number;
  readonly limit: MachineLimit;
  readonly accounting: VerifyAccounting;
  readonly rssMb: number;
  readonly extras: Readonly<Record<string, unknown>>;
}

const nullable = (v: number | null, digits = 2): number | null => (v === null || !Number.isFinite(v) ? null : round(v, digits));

/** Assembles the JSON line of a workload. */
export function buildReport(x: ReportInputs): WorkloadReport {
  const limitTps = x.limit.verifiesPerSec / x.accounting.expectedPerTx;
  return {
    workload: x.workload,
    mode: x.mode,
    tps: round(x.tps, 1),
    p50_ms: nullable(x.p50Ms),
    p99_ms: nullable(x.p99Ms),
    committed: x.committed,
    failed: x.failed,
    limit_tps: round(limitTps, 1),
    verifies_per_tx: round(x.accounting.expectedPerTx, 4),
    ratio: round(limitTps > 0 ? x.tps / limitTps : 0, 4),
    rss_mb: round(x.rssMb, 1),
    ...x.extras,
  };
}
