import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIRM_ROUND_ATTEMPTS, confirmRate, MEASURED_ROUND_ATTEMPTS, measureAtFoundRate } from './max-rate.js';
import type { RoundResult } from './rounds.js';

/** A round at `rate` that keeps up only at or below `keepsUpAt`. */
function roundOf(label: string, rate: number, keepsUpAt: number): RoundResult {
  return { label, rate, sustained: rate <= keepsUpAt, tps: Math.min(rate, keepsUpAt) } as RoundResult;
}

type Stepping<T> = (found: number, round: (label: string, rate: number) => Promise<RoundResult>, log: (line: string) => void) => Promise<T>;

/** Runs a stepping function against rounds that keep up only at or below `keepsUpAt`; returns what it returned, the rounds it ran and what it logged. */
async function drive<T>(step: Stepping<T>, found: number, keepsUpAt: number): Promise<{ result: T; calls: string[]; log: string[] }> {
  const calls: string[] = [];
  const log: string[] = [];
  const result = await step(found, (label, rate) => {
    calls.push(`${label} @ ${rate}`);
    return Promise.resolve(roundOf(label, rate, keepsUpAt));
  }, (line) => log.push(line));
  return { result, calls, log };
}

describe('the measured round at the rate the search found', () => {
  const run = (found: number, keepsUpAt: number): ReturnType<typeof drive<RoundResult>> => drive(measureAtFoundRate, found, keepsUpAt);

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
  const run = (found: number, keepsUpAt: number): ReturnType<typeof drive<{ rate: number; failedRate: number | null }>> => drive(confirmRate, found, keepsUpAt);

  it('keeps the rate when a longer round holds it', async () => {
    const { result, calls, log } = await run(1356, 1400);
    assert.deepEqual(calls, ['confirm 1356 @ 1356']);
    assert.deepEqual(result, { rate: 1356, failedRate: null });
    assert.deepEqual(log, []);
  });

  it('steps down by 5 % a round until one holds, and names the lowest rate that did not', async () => {
    const { result, calls, log } = await run(1356, 1200);
    assert.deepEqual(calls, ['confirm 1356 @ 1356', 'confirm 1288 @ 1288', 'confirm 1224 @ 1224', 'confirm 1163 @ 1163']);
    assert.deepEqual(result, { rate: 1163, failedRate: 1224 });
    assert.match(log.at(-1) ?? '', /once more at 95 %: 1163 tx\/s/);
  });

  it(`stops after ${CONFIRM_ROUND_ATTEMPTS} rounds and starts the measured round 5 % under the last`, async () => {
    const { result, calls, log } = await run(1000, 100);
    assert.equal(calls.length, CONFIRM_ROUND_ATTEMPTS);
    assert.deepEqual(result, { rate: 815, failedRate: 858 });
    assert.match(log.at(-1) ?? '', /the measured round starts at 95 %: 815 tx\/s/);
  });
});
