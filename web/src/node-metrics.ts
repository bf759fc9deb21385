/**
 * Reads the node's Prometheus text (`GET /metrics`, src/api/metrics.ts) into the few series the
 * dashboard draws: committed transactions by chain and validation code, each chain's height at
 * the peer and at the ordering service, and the latency of submits answered by the API.
 */
import { ApiError } from './api.js';

/** One sample: a metric's labels and value. */
export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Parses Prometheus text exposition into samples by metric name; comments are skipped.
 * @throws ApiError BAD_ANSWER on a line that is neither a comment nor a sample
 */
export function parsePrometheusText(text: string): Map<string, Sample[]> {
  const metrics = new Map<string, Sample[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (m === null) throw new ApiError('BAD_ANSWER', `the node's /metrics has a line that is not a sample: ${line.slice(0, 80)}`, 200);
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(LABEL)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_x, c: string) => (c === 'n' ? '\n' : c));
    const value = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4]);
    const name = m[1] as string;
    const list = metrics.get(name) ?? [];
    list.push({ labels, value });
    metrics.set(name, list);
  }
  return metrics;
}

/** One bucket of a cumulative histogram: how many observations were at most `le`. */
export interface Bucket {
  readonly le: number;
  readonly count: number;
}

/**
 * The `q` quantile of the observations between two readings of a cumulative histogram, by
 * linear interpolation inside the bucket it falls in (as Prometheus's histogram_quantile).
 * @param before the buckets at the earlier reading (empty: from zero)
 * @param after the buckets at the later reading, ascending by `le`, the last `+Inf`
 * @returns the quantile, or undefined when nothing was observed in between; past the last
 *   finite bound it is that bound
 */
export function quantileBetween(before: readonly Bucket[], after: readonly Bucket[], q: number): number | undefined {
  const earlier = new Map(before.map((b) => [b.le, b.count]));
  const delta = after.map((b) => ({ le: b.le, count: Math.max(0, b.count - (earlier.get(b.le) ?? 0)) }));
  const total = delta.at(-1)?.count ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const b of delta) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return lower;
      return b.count === below ? b.le : lower + ((b.le - lower) * (rank - below)) / (b.count - below);
    }
    lower = b.le;
    below = b.count;
  }
  return lower;
}

/** What the dashboard reads at each tick. */
export interface NodeReading {
  /** When it was read (ms). */
  readonly at: number;
  /** Committed transactions by chain, then by validation code. */
  readonly committed: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly height: ReadonlyMap<string, number>;
  readonly orderedHeight: ReadonlyMap<string, number>;
  /** Submits answered by the API (`silk_submit_duration_seconds`), every chain and outcome together, in seconds. */
  readonly submitBuckets: readonly Bucket[];
}

/** A histogram's buckets summed over its other labels, ascending by bound. */
function histogramBuckets(samples: readonly Sample[] | undefined): Bucket[] {
  const byBound = new Map<number, number>();
  for (const s of samples ?? []) {
    const le = s.labels['le'];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    byBound.set(bound, (byBound.get(bound) ?? 0) + s.value);
  }
  return [...byBound].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
}

function byChain(samples: readonly Sample[] | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples ?? []) if (s.labels['chain'] !== undefined) out.set(s.labels['chain'], s.value);
  return out;
}

/** Reads the node's metrics now. @throws ApiError when the node cannot be read */
export async function readNode(signal?: AbortSignal): Promise<NodeReading> {
  let response: Response;
  try {
    response = await fetch('/metrics', signal === undefined ? {} : { signal });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError('NETWORK', 'the node could not be reached: is it running?', 0);
  }
  if (!response.ok) throw new ApiError(`HTTP_${response.status}`, `the node's /metrics answered ${response.status}`, response.status);
  const metrics = parsePrometheusText(await response.text());
  const committed = new Map<string, Map<string, number>>();
  for (const s of metrics.get('silk_transactions_committed_total') ?? []) {
    const chain = s.labels['chain'];
    const code = s.labels['code'];
    if (chain === undefined || code === undefined) continue;
    const codes = committed.get(chain) ?? new Map<string, number>();
    codes.set(code, s.value);
    committed.set(chain, codes);
  }
  return {
    at: Date.now(),
    committed,
    height: byChain(metrics.get('silk_chain_height')),
    orderedHeight: byChain(metrics.get('silk_chain_ordered_height')),
    submitBuckets: histogramBuckets(metrics.get('silk_submit_duration_seconds_bucket')),
  };
}

/** All transactions of a reading, every chain and code together. */
export function totalCommitted(reading: NodeReading): number {
  let total = 0;
  for (const codes of reading.committed.values()) for (const n of codes.values()) total += n;
  return total;
}
