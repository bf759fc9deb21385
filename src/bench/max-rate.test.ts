import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIRM_ROUND_ATTEMPTS, confirmRate, MEASURED_ROUND_ATTEMPTS, measureAtFoundRate } from './max-rate.js';
import type { RoundResult } from './rounds.js';

/** A round at `rate` that keeps up only at or below `keepsUpAt`. */
function roundOf(label: string, rate: number, keepsUpAt: number): RoundResult {
  return { label, rate, sustained: rate <= keepsUpAt, tps: Math.min(rate, keepsUpAt) } as RoundResult;
}

describe('the measured round at the rate the search found', () => {
  const run = async (found: number, keepsUpAt: number): Promise<{ result: RoundResult; calls: string[]; log: string[] }> => {
    const calls: string[] = [];
    const log: string[] = [];
    const result = await measureAtFoundRate(found, (label, rate) => {
      calls.push(`${label} @ ${rate}`);
      return Promise.resolve(roundOf(label, rate, keepsUpAt));
    }, (line) => log.push(line));
    return { result, calls, log };
  };

  it('runs once when the round keeps up', async () => {
    const { result, calls, log } = await run(1872, 2000);
    assert.deepEqual(calls, ['measured @ 1872']);
    assert.equal(result.sustained, true);
    assert.deepEqual(log, []);
  });

  it('steps down by 10 % a round until one keeps up, and reports that one', async () => {
    const { result, calls, log } = await run(1000, 850);
    assert.deepEqual(calls, ['measured @ 1000', 'measured (retry 1) @ 900', 'measured (retry 2) @ 810']);
    assert.equal(result.rate, 810);
    assert.equal(result.sustained, true);
    assert.equal(log.length, 2);
    assert.match(log[1] ?? '', /once more at 90 %: 810 tx\/s/);
  });

  it(`stops after ${MEASURED_ROUND_ATTEMPTS} rounds, reporting the last as not sustained`, async () => {
    const { result, calls } = await run(1000, 100);
    assert.equal(calls.length, MEASURED_ROUND_ATTEMPTS);
    assert.equal(result.rate, 810);
    assert.equal(result.sustained, false);
  });
});

describe('the confirmation of the rate the short probes found', () => {
  const run = async (found: number, keepsUpAt: number): Promise<{ result: { rate: number; failedRate: number | null }; calls: string[]; log: string[] }> => {
    const calls: string[] = [];
    const log: string[] = [];
    const result = await confirmRate(found, (label, rate) => {
      calls.push(label);
      return Promise.resolve(roundOf(label, rate, keepsUpAt));
    }, (line) => log.push(line));
    return { result, calls, log };
  };

  it('keeps the rate when a longer round holds it', async () => {
    const { result, calls, log } = await run(1356, 1400);
    assert.deepEqual(calls, ['confirm 1356']);
    assert.deepEqual(result, { rate: 1356, failedRate: null });
    assert.deepEqual(log, []);
  });

  it('steps down by 5 % a round until one holds, and names the lowest rate that did not', async () => {
    const { result, calls, log } = await run(1356, 1200);
    assert.deepEqual(calls, ['confirm 1356', 'confirm 1288', 'confirm 1224', 'confirm 1163']);
    assert.deepEqual(result, { rate: 1163, failedRate: 1224 });
    assert.match(log.at(-1) ?? '', /once more at 95 %: 1163 tx\/s/);
  });

  it(`stops after ${CONFIRM_ROUND_ATTEMPTS} rounds at the lowest rate tried, for the measured round to step down from`, async () => {
    const { result, calls } = await run(1000, 100);
    assert.equal(calls.length, CONFIRM_ROUND_ATTEMPTS);
    assert.deepEqual(result, { rate: 858, failedRate: 858 });
  });
});
