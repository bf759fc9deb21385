import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CHECK_PASSED_MESSAGE, logOffset, waitPastStartCheck } from './etcd-start-check.js';

describe('waiting for a started etcd member to pass its initial corruption check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'silk-start-check-'));
  after(() => { rmSync(dir, { recursive: true, force: true }); });
  const line = (msg: string): string => `${JSON.stringify({ level: 'info', msg })}\n`;

  it('answers passed once the start logs it, and only for lines written after the start', async () => {
    const log = join(dir, 'passed.log');
    assert.equal(logOffset(log), 0, 'a log that does not exist yet starts at 0');
    // An earlier start's line must not count for this one.
    appendFileSync(log, line(`${CHECK_PASSED_MESSAGE}; no corruption`));
    const from = logOffset(log);
    let written = false;
    setTimeout(() => {
      appendFileSync(log, line('starting initial corruption check'));
      appendFileSync(log, line(`${CHECK_PASSED_MESSAGE}; no corruption`));
      written = true;
    }, 150);
    const outcome = await waitPastStartCheck({ logFile: log, from, running: () => true, timeoutMs: 10_000 });
    assert.equal(outcome, 'passed');
    assert.equal(written, true, 'the earlier start\'s line was not taken for this start\'s');
  });

  it('finds the message when the member writes it across two looks at its log', async () => {
    const log = join(dir, 'split.log');
    appendFileSync(log, line('starting initial corruption check'));
    const half = Math.floor(CHECK_PASSED_MESSAGE.length / 2);
    appendFileSync(log, `{"level":"info","msg":"${CHECK_PASSED_MESSAGE.slice(0, half)}`);
    // Longer than a look's interval, so the first half is read on its own.
    setTimeout(() => { appendFileSync(log, `${CHECK_PASSED_MESSAGE.slice(half)}; no corruption"}\n`); }, 150);
    assert.equal(await waitPastStartCheck({ logFile: log, from: 0, running: () => true, timeoutMs: 10_000 }), 'passed');
  });

  it('answers exited when the member stops first (a check that finds diverged data ends the member)', async () => {
    const log = join(dir, 'exited.log');
    appendFileSync(log, line('starting initial corruption check'));
    let running = true;
    setTimeout(() => { running = false; }, 100);
    assert.equal(await waitPastStartCheck({ logFile: log, from: 0, running: () => running, timeoutMs: 10_000 }), 'exited');
  });

  it('answers timeout when the member neither passes nor stops in time', async () => {
    const log = join(dir, 'silent.log');
    const started = Date.now();
    assert.equal(await waitPastStartCheck({ logFile: log, from: 0, running: () => true, timeoutMs: 200 }), 'timeout');
    assert.ok(Date.now() - started >= 200);
  });
});
