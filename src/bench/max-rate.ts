/**
 * The maximum-rate search: the highest fixed rate at which the network keeps up. It starts from
 * the closed-loop throughput, steps up (×1.2) or down (×0.8) with short open-loop probe rounds
 * until it brackets the knee, then bisects the bracket to within 5 % (or the probe budget).
 */
import type { BenchNetwork } from './bench-network.js';
import { growthText, runFixedRateRound, type RoundResult } from './rounds.js';

/** One probe round, summarised. */
export interface ProbeSummary {
  readonly rate: number;
  readonly sustained: boolean;
  readonly tps: number;
  readonly p99Ms: number | null;
  readonly backlogAtEnd: number;
}

/** Search settings. */
export interface MaxRateSearchSpec {
  /** First rate to probe (the closed-loop throughput). */
  readonly startRate: number;
  /** Measured seconds of each probe (plus a third of that as warm-up). */
  readonly probeS: number;
  /** Most probe rounds. */
  readonly maxProbes: number;
  readonly log: (line: string) => void;
}

/** The search's outcome. */
export interface MaxRateSearchResult {
  /** Highest sustained rate found (0 when even the lowest probe was not sustained). */
  readonly rate: number;
  /** Lowest rate found not sustained (`null` when none failed). */
  readonly failedRate: number | null;
  readonly probes: readonly ProbeSummary[];
}

const MIN_RATE = 5;

function summary(r: RoundResult): ProbeSummary {
  return { rate: r.rate, sustained: r.sustained, tps: r.tps, p99Ms: r.p99Ms, backlogAtEnd: r.backlogAtEnd };
}

/**
 * Searches for the maximum sustainable rate.
 * @param bn the network under test
 * @param spec start rate, probe length and budget
 */
export async function findMaxRate(bn: BenchNetwork, spec: MaxRateSearchSpec): Promise<MaxRateSearchResult> {
  const probes: ProbeSummary[] = [];
  // Held in an object: the probe closure updates it and the loops below read it.
  const bracket: { lo: number; hi: number | null } = { lo: 0, hi: null };
  const probe = async (rate: number): Promise<boolean> => {
    const r = await runFixedRateRound(bn, { label: `probe ${rate}`, rate, warmupS: spec.probeS / 3, durationS: spec.probeS, drainTimeoutS: 30 });
    probes.push(summary(r));
    spec.log(`probe ${rate} tx/s: ${r.sustained ? 'sustained' : 'NOT sustained'} (tps ${r.tps.toFixed(0)}, p99 ${r.p99Ms?.toFixed(0) ?? '-'} ms, backlog at end ${r.backlogAtEnd} (starts ${r.startLagMs.toFixed(0)} ms late), backlog trend ${growthText(r.backlogGrowthPerS)}, throttled ${r.throttled}, failed ${r.failed})`);
    if (r.sustained) bracket.lo = Math.max(bracket.lo, rate);
    else bracket.hi = bracket.hi === null ? rate : Math.min(bracket.hi, rate);
    return r.sustained;
  };

  let rate = Math.max(MIN_RATE, Math.round(spec.startRate));
  // Bracket the knee.
  if (await probe(rate)) {
    while (bracket.hi === null && probes.length < spec.maxProbes) {
      rate = Math.round(rate * 1.2);
      await probe(rate);
    }
  } else {
    while (bracket.lo === 0 && rate > MIN_RATE && probes.length < spec.maxProbes) {
      rate = Math.max(MIN_RATE, Math.round(rate * 0.8));
      await probe(rate);
    }
  }
  // Bisect to 5 %.
  for (;;) {
    const { lo, hi } = bracket;
    if (hi === null || lo === 0 || (hi - lo) / hi <= 0.05 || probes.length >= spec.maxProbes) break;
    const mid = Math.round((lo + hi) / 2);
    if (mid === lo || mid === hi) break;
    await probe(mid);
  }
  return { rate: bracket.lo, failedRate: bracket.hi, probes };
}
