/** Small statistics helpers of the benchmark. */

/**
 * Nearest-rank percentile of ascending-sorted values.
 * @param sorted values in ascending order
 * @param q the quantile, 0 < q ≤ 1
 * @returns the value, or `null` when there are none
 */
export function percentile(sorted: ArrayLike<number>, q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] ?? null;
}

/** A growable list of float64 samples that sorts in place without boxing. */
export interface SampleList {
  push(v: number): void;
  readonly length: number;
  /** The samples sorted ascending (a copy). */
  sorted(): Float64Array;
}

/** Creates an empty {@link SampleList}. */
export function createSampleList(initialCapacity = 1024): SampleList {
  let buf = new Float64Array(Math.max(16, initialCapacity));
  let n = 0;
  return {
    push(v) {
      if (n === buf.length) {
        const next = new Float64Array(buf.length * 2);
        next.set(buf);
        buf = next;
      }
      buf[n++] = v;
    },
    get length() {
      return n;
    },
    sorted: () => buf.slice(0, n).sort(),
  };
}

/** Rounds to `digits` decimals (for JSON output). */
export function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Resident set size of the process in MiB. */
export function rssMb(): number {
  return process.memoryUsage.rss() / (1024 * 1024);
}

/**
 * A fixed-size uniform sample (reservoir sampling, Algorithm R): percentiles of a long run
 * without memory that grows with it.
 * @param capacity the most samples kept
 */
export function createReservoir(capacity: number): SampleList {
  const buf = new Float64Array(capacity);
  let seen = 0;
  return {
    push(v) {
      if (seen < capacity) buf[seen] = v;
      else {
        const j = Math.floor(Math.random() * (seen + 1));
        if (j < capacity) buf[j] = v;
      }
      seen++;
    },
    get length() {
      return Math.min(seen, capacity);
    },
    sorted: () => buf.slice(0, Math.min(seen, capacity)).sort(),
  };
}
