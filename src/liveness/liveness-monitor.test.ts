import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitUntil } from '../testing/fixtures.js';
import { isSilkError } from '../errors.js';
import { createLivenessMonitor, NODE_SILENT_REASON } from './liveness-monitor.js';

/** A check whose answer the test sets, counting the checks made. */
function scriptedCheck(): { calls: string[]; answers: boolean; check(node: string, timeoutMs: number): Promise<void> } {
  const s = {
    calls: [] as string[],
    answers: true,
    async check(node: string, timeoutMs: number): Promise<void> {
      s.calls.push(node);
      await new Promise((resolve) => setTimeout(resolve, Math.min(20, timeoutMs)));
      if (!s.answers) throw new Error(`${node} gave no answer`);
    },
  };
  return s;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('liveness monitor', () => {
  it('takes a recent answer as alive without a check, and checks a node that answered nothing lately, once for all who ask', async () => {
    const s = scriptedCheck();
    const m = createLivenessMonitor({ periodMs: 200, check: (n, t) => s.check(n, t) });
    m.answered('a');
    assert.equal(await m.alive('a'), true);
    assert.deepEqual(s.calls, []);
    assert.deepEqual(await Promise.all([m.alive('b'), m.alive('b'), m.alive('b'), m.alive('b')]), [true, true, true, true]);
    assert.deepEqual(s.calls, ['b']);
    // The check's answer counts as an answer for the period that follows.
    assert.equal(await m.alive('b'), true);
    assert.deepEqual(s.calls, ['b']);
  });

  it('calls a node silent when its check fails, until it answers again', async () => {
    const s = scriptedCheck();
    s.answers = false;
    const m = createLivenessMonitor({ periodMs: 100, check: (n, t) => s.check(n, t) });
    assert.equal(m.silentNow('a'), false, 'nothing known of a node is not silence');
    assert.equal(await m.alive('a'), false);
    assert.equal(m.silentNow('a'), true);
    m.answered('a');
    assert.equal(m.silentNow('a'), false);
    assert.equal(await m.alive('a'), true);
    s.answers = false;
    await sleep(150);
    assert.equal(await m.alive('a'), false);
    await sleep(150);
    assert.equal(m.silentNow('a'), false, 'a failed check is news for one period');
  });

  it('tells a watcher once when the node it waits on fails a check, and nothing after it stops watching', async () => {
    const s = scriptedCheck();
    const m = createLivenessMonitor({ periodMs: 50, check: (n, t) => s.check(n, t) });
    let silent = 0;
    const stop = m.watch('a', () => { silent++; });
    await waitUntil(() => s.calls.length >= 2, 5_000, 'checks of a live node');
    assert.equal(silent, 0);
    s.answers = false;
    await waitUntil(() => silent === 1, 5_000, 'the watcher told of the silence');
    await sleep(200);
    assert.equal(silent, 1);
    stop();
    let late = 0;
    const stopped = m.watch('b', () => { late++; });
    stopped();
    await sleep(200);
    assert.equal(late, 0);
    assert.ok(!s.calls.includes('b'));
  });

  it('runs a request while watching its node: an answer marks the node alive, silence aborts the request with UNREACHABLE', async () => {
    const s = scriptedCheck();
    const m = createLivenessMonitor({ periodMs: 50, check: (n, t) => s.check(n, t) });
    assert.equal(await m.during('a', () => Promise.resolve('answer')), 'answer');
    assert.equal(await m.alive('a'), true);
    assert.deepEqual(s.calls, [], 'the answer counted: no check needed');
    // A request's own failure is passed on as it is.
    await assert.rejects(m.during('a', () => Promise.reject(new Error('refused'))), /refused/);
    s.answers = false;
    const controller = new AbortController();
    const hangs = (signal: AbortSignal): Promise<never> => new Promise((_resolve, reject) => { signal.addEventListener('abort', () => { reject(new Error('aborted')); }); });
    await assert.rejects(m.during('b', hangs, controller), (e: unknown) => isSilkError(e, 'UNREACHABLE') && e.details.reason === NODE_SILENT_REASON && /b gave no answer, nor to a health check within 50 ms/.test(e.message));
    assert.equal(controller.signal.aborted, true, 'the caller\'s controller was aborted');
  });

  it('refuses a period under 10 ms', () => {
    for (const periodMs of [0, 9, 1.5, Number.NaN]) {
      assert.throws(() => createLivenessMonitor({ periodMs, check: () => Promise.resolve() }), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT', String(periodMs));
    }
  });
});
