import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backlogGrowthPerS, growthText } from './rounds.js';

/** Samples every 100 ms for `seconds`, the backlog given by `f(t in s)`. */
const series = (seconds: number, f: (t: number) => number): { t: number; backlog: number }[] =>
  Array.from({ length: seconds * 10 }, (_, k) => ({ t: 5000 + k * 100, backlog: f(k / 10) }));

describe('the backlog trend of a fixed-rate round', () => {
  it('is about zero for a steady backlog that swings by a block at a time', () => {
    // 300 in flight, plus a sawtooth of one 200-transaction block cut every 0.2 s.
    const g = backlogGrowthPerS(series(5, (t) => 300 + 200 * ((t * 5) % 1)));
    assert.ok(g !== undefined && Math.abs(g) < 10, `trend ${g}`);
  });

  it('finds a backlog growing by 200 a second under the same swings', () => {
    const g = backlogGrowthPerS(series(5, (t) => 300 + 200 * t + 200 * ((t * 5) % 1)));
    assert.ok(g !== undefined && Math.abs(g - 200) < 10, `trend ${g}`);
  });

  it('finds a draining backlog negative', () => {
    const g = backlogGrowthPerS(series(3, (t) => 1000 - 100 * t));
    assert.ok(g !== undefined && Math.abs(g + 100) < 1, `trend ${g}`);
  });

  it('gives no figure for fewer than ten samples or samples all at one time', () => {
    assert.equal(backlogGrowthPerS(series(0.5, () => 5)), undefined);
    assert.equal(backlogGrowthPerS(Array.from({ length: 20 }, (_, k) => ({ t: 1000, backlog: k }))), undefined);
  });

  it('prints the trend with its sign, or a dash without one', () => {
    assert.equal(growthText(12.4), '+12/s');
    assert.equal(growthText(-3.6), '-4/s');
    assert.equal(growthText(0), '+0/s');
    assert.equal(growthText(undefined), '-');
  });
});
