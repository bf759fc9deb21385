import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrometheusText, quantileBetween, type Bucket } from '../src/node-metrics.js';

/** Cumulative buckets at the node's bounds (seconds), from counts per bucket. */
function cumulative(perBucket: readonly number[]): Bucket[] {
  const bounds = [0.001, 0.0025, 0.005, 0.01, Infinity];
  let sum = 0;
  return bounds.map((le, i) => ({ le, count: (sum += perBucket[i] ?? 0) }));
}

describe('the dashboard reading the node metrics', () => {
  it("parses the node's Prometheus text: labels with escapes, +Inf, comments and timestamps", () => {
    const text = [
      '# HELP silk_chain_height Blocks committed',
      '# TYPE silk_chain_height gauge',
      'silk_chain_height{chain="trade"} 42',
      'silk_chain_height{chain="product"} 7 1732780800000',
      'silk_submit_duration_seconds_bucket{le="0.005",chain="trade",outcome="VALID"} 3',
      'silk_submit_duration_seconds_bucket{le="+Inf",chain="trade",outcome="VALID"} 5',
      'silk_note{text="a \\"quoted\\" word\\nand a line"} 1',
      '',
    ].join('\n');
    const m = parsePrometheusText(text);
    assert.deepEqual(m.get('silk_chain_height'), [{ labels: { chain: 'trade' }, value: 42 }, { labels: { chain: 'product' }, value: 7 }]);
    assert.deepEqual(m.get('silk_submit_duration_seconds_bucket')?.map((s) => [s.labels['le'], s.value]), [['0.005', 3], ['+Inf', 5]]);
    assert.equal(m.get('silk_note')?.[0]?.labels['text'], 'a "quoted" word\nand a line');
    assert.throws(() => parsePrometheusText('this is not a sample line'), (e: Error & { code?: string }) => e.code === 'BAD_ANSWER' && /not a sample/.test(e.message));
  });

  it('computes the quantiles of the submits between two readings inside their bucket, as histogram_quantile does', () => {
    const before = cumulative([0, 10, 0, 0, 0]);
    const after = cumulative([0, 20, 100, 0, 0]); // between the readings: 10 in (1, 2.5] ms, 100 in (2.5, 5] ms
    // Rank 55 of 110 falls 45 into the 100 of (2.5, 5] ms: 2.5 + 2.5 × 45/100 ms.
    assert.ok(Math.abs((quantileBetween(before, after, 0.5) ?? 0) - 0.003625) < 1e-12);
    assert.ok(Math.abs((quantileBetween(before, after, 0.99) ?? 0) - (0.0025 + 0.0025 * (108.9 - 10) / 100)) < 1e-12);
    assert.ok(Math.abs((quantileBetween([], cumulative([4, 0, 0, 0, 0]), 0.5) ?? 0) - 0.0005) < 1e-12, 'from zero: the first bucket starts at 0');
    assert.equal(quantileBetween(after, after, 0.5), undefined, 'nothing observed in between');
    assert.equal(quantileBetween(before, cumulative([0, 10, 0, 0, 30]), 0.99), 0.01, 'past the last finite bound: that bound');
    assert.equal(quantileBetween(before, cumulative([0, 10, 0, 0, 30]), 0.1), 0.01);
  });
});
