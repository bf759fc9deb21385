/**
 * `npm run soak` in its bounded form: the real script, a fresh network, three faults under load,
 * each once. The long runs are `npm run soak -- --duration 600 …` outside the suite.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { requireEtcd } from './etcd-test-support.js';
import { DEFAULT_PAUSE_SECONDS, parseSoakArgs } from './soak-main.js';

const SOAK = fileURLToPath(new URL('./soak-main.js', import.meta.url));

function runSoak(args: readonly string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SOAK, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
    const timer = setTimeout(() => { child.kill('SIGINT'); }, timeoutMs);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, output }); });
  });
}

describe('npm run soak, bounded', { timeout: 200_000 }, () => {
  it('kills the etcd leader and the leading orderer, and replaces the etcd leader, under load and reports every check passed', async () => {
    requireEtcd();
    const { code, output } = await runSoak(['--duration', '20', '--rate', '20', '--faults', 'etcd-kill,orderer-kill,etcd-replace'], 170_000);
    assert.equal(code, 0, output);
    for (const fault of ['etcd-kill', 'orderer-kill', 'etcd-replace']) {
      assert.match(output, new RegExp(`${fault} .*acknowledged \\d+, lost 0, duplicates 0`), `${fault} ran and lost nothing:\n${output}`);
    }
    // The new member replaced the Raft leader, and every running process followed without a restart.
    assert.match(output, /etcd-replace +etcd member etcd-4 added, etcd-\d \(Raft leader\) removed; every process calls (etcd-\d, ){2}etcd-\d:/);
    assert.match(output, /done: \d+ acknowledged of \d+ attempts, 0 violation\(s\)/);
  });

  it('refuses a bad command line with exit code 2 and the usage', async () => {
    const { code, output } = await runSoak(['--faults', 'meteor'], 10_000);
    assert.equal(code, 2);
    assert.match(output, /unknown fault "meteor"/);
  });

  it('takes how long a pause lasts, in whole seconds from 1 to 300', () => {
    assert.equal(parseSoakArgs([]).pauseSeconds, DEFAULT_PAUSE_SECONDS);
    assert.equal(parseSoakArgs(['--pause', '15', '--faults', 'pause']).pauseSeconds, 15);
    for (const bad of ['0', '301', '2.5', 'long']) {
      assert.throws(() => parseSoakArgs(['--pause', bad]), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && /--pause must be whole seconds from 1 to 300/.test(e.message), bad);
    }
  });
});
