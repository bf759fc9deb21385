/**
 * The maximum-rate search: the highest fixed rate at which the network keeps up. It starts from
 * the closed-loop throughput, steps up (×1.2) or down (×0.8) with short open-loop probe rounds
 * until it brackets the knee, then bisects the bracket to within 5 % (or the probe budget). A
 * longer confirmation round then checks the rate found, stepping down by 5 % while it does not
 * keep up: past the knee a backlog can grow too slowly for a short probe to see (the distributed
 * mode's rounds showed it). The measured round runs at the confirmed rate, stepping down by 10 %
 * while it does not keep up.
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
  /** Measured seconds of each confirmation round (plus a third as warm-up); 0: no confirmation. */
  readonly confirmS: number;
  readonly log: (line: string) => void;
}

/** The search's outcome. */
export interface MaxRateSearchResult {
  /** Highest sustained rate found (0 when even the lowest probe was not sustained). */
  readonly rate: number;
  /** Lowest rate found not sustained (`null` when none failed). */
  readonly failedRate: number | null;
  /** Short probes and confirmation rounds, in order. */
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
  const round = async (label: string, rate: number, durationS: number): Promise<RoundResult> => {
    const r = await runFixedRateRound(bn, { label, rate, warmupS: durationS / 3, durationS, drainTimeoutS: 30 });
    probes.push(summary(r));
    spec.log(`${label} tx/s: ${r.sustained ? 'sustained' : 'NOT sustained'} (tps ${r.tps.toFixed(0)}, p99 ${r.p99Ms?.toFixed(0) ?? '-'} ms, backlog at end ${r.backlogAtEnd} (starts ${r.startLagMs.toFixed(0)} ms late), backlog trend ${growthText(r.backlogGrowthPerS)}, throttled ${r.throttled}, failed ${r.failed})`);
    return r;
  };
  const probe = async (rate: number): Promise<boolean> => {
    const r = await round(`probe ${rate}`, rate, spec.probeS);
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
  if (spec.confirmS <= 0 || bracket.lo === 0) return { rate: bracket.lo, failedRate: bracket.hi, probes };
  const confirmed = await confirmRate(bracket.lo, (label, rate) => round(label, rate, spec.confirmS), spec.log);
  const failedRate = confirmed.failedRate ?? bracket.hi;
  return { rate: confirmed.rate, failedRate, probes };
}

/** Confirmation rounds tried at most: at the rate the probes found, then each 5 % lower while one does not keep up. */
export const CONFIRM_ROUND_ATTEMPTS = 4;

/**
 * Checks the rate the short probes found with longer rounds, stepping down by 5 % while one does
 * not keep up, at most {@link CONFIRM_ROUND_ATTEMPTS} rounds; the measured round then starts
 * from a rate a longer round held (or, when none did, 5 % under the last one tried).
 * @param rate the highest rate a short probe held
 * @param round runs one confirmation round (the label names the rate)
 * @returns the rate for the measured round, and the lowest rate a confirmation round did not hold
 * @example const { rate } = await confirmRate(1356, (label, r) => runFixedRateRound(bn, { label, rate: r, warmupS: 5, durationS: 15 }), log)
 */
export async function confirmRate(rate: number, round: (label: string, rate: number) => Promise<RoundResult>, log: (line: string) => void): Promise<{ rate: number; failedRate: number | null }> {
  let next = rate;
  let failedRate: number | null = null;
  for (let attempt = 1; attempt <= CONFIRM_ROUND_ATTEMPTS && next !== failedRate; attempt++) {
    const r = await round(`confirm ${next}`, next);
    if (r.sustained) return { rate: next, failedRate };
    failedRate = next;
    next = Math.max(MIN_RATE, Math.round(next * 0.95));
    log(`the confirmation round did not keep up; ${attempt < CONFIRM_ROUND_ATTEMPTS ? 'once more' : 'the measured round starts'} at 95 %: ${next} tx/s`);
  }
  return { rate: next, failedRate };
}

/** Measured rounds tried at most: at the rate found, then each at 90 % of the last while one does not keep up. */
export const MEASURED_ROUND_ATTEMPTS = 3;

/**
 * The measured round at the rate the search found, run again at 90 % of the last rate while a
 * round does not keep up, at most {@link MEASURED_ROUND_ATTEMPTS} rounds. A long round can fall
 * behind at a rate the short probes held; the maximum rate is one that keeps up, so its figures
 * come from the first round that did (or from the last attempt, reported as not sustained).
 * @param rate the rate the search found
 * @param round runs one measured round (the label names the attempt)
 * @example const measured = await measureAtFoundRate(search.rate, (label, r) => runFixedRateRound(bn, { label, rate: r, ... }), log)
 */
export async function measureAtFoundRate(rate: number, round: (label: string, rate: number) => Promise<RoundResult>, log: (line: string) => void): Promise<RoundResult> {
  let measured = await round('measured', rate);
  let next = rate;
  for (let attempt = 2; !measured.sustained && attempt <= MEASURED_ROUND_ATTEMPTS; attempt++) {
    next = Math.max(1, Math.round(next * 0.9));
    log(`the measured round did not keep up; once more at 90 %: ${next} tx/s`);
    measured = await round(`measured (retry ${attempt - 1})`, next);
  }
  return measured;
}
