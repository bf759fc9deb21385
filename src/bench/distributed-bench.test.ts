import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { requireEtcd } from '../distributed/etcd-test-support.js';

const BENCH_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((done) => {
    server.once('error', () => { done(false); });
    server.listen(port, '127.0.0.1', () => { server.close(() => { done(true); }); });
  });
}

/** Processes whose command line names a folder (a zombie has none and does not count). */
function processesUsing(folder: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(folder)) found.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

function runBench(args: readonly string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BENCH_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const timer = setTimeout(() => { child.kill('SIGINT'); }, timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); done({ code, stdout, stderr }); });
  });
}

const finiteNonNegative = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;

describe('npm run bench -- --mode distributed', { timeout: 900_000 }, () => {
  it('runs rmw against a whole network, reports the figures, the embedded ratio and the etcd leader kill, and leaves nothing running', async () => {
    requireEtcd();
    const r = await runBench(['--mode', 'distributed', '--workload', 'rmw', '--json', '--warmup', '1', '--duration', '3', '--rate', '40'], 840_000);
    assert.equal(r.code, 0, `the bench failed:\n${r.stderr.slice(-4000)}`);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => `${String(l.workload)}/${String(l.mode)}`), ['rmw/embedded', 'rmw/distributed']);
    const [embedded, d] = lines as [Record<string, unknown>, Record<string, unknown>];

    for (const field of ['tps', 'p50_ms', 'p99_ms', 'ratio', 'limit_tps', 'verifies_per_tx', 'block_size_avg', 'embedded_ratio', 'ratio_vs_embedded', 'etcd_leader_kill_longest_gap_ms']) {
      assert.ok(finiteNonNegative(d[field]), `${field} is a number ≥ 0, got ${JSON.stringify(d[field])}`);
    }
    assert.ok((d.committed as number) > 0, 'transactions were acknowledged VALID');
    assert.ok((d.p50_ms as number) <= (d.p99_ms as number));
    assert.equal(d.rate_tps, 40);
    assert.equal(d.embedded_ratio, embedded.ratio, 'the embedded ratio is the one measured in this run');
    assert.ok(Math.abs((d.ratio_vs_embedded as number) - (d.ratio as number) / (embedded.ratio as number)) < 0.01);
    // 3 peers, 1 endorsement: 8 verifications per transaction plus 3 per block.
    assert.ok((d.verifies_per_tx as number) > 8 && (d.verifies_per_tx as number) <= 11);
    assert.equal(d.verify_calls_per_tx, null, 'calls in other processes are not counted, so none are claimed');
    assert.equal(d.goal_ratio, 0.4);
    assert.equal(typeof d.goal_ratio_met, 'boolean');

    // The kill phase: a member was killed and came back, and no acknowledgement was lost.
    assert.match(String(d.etcd_leader_kill_member), /^etcd-[123]$/);
    assert.equal(d.etcd_leader_kill_error, null);
    assert.ok((d.etcd_leader_kill_acks as number) > 0);
    assert.equal(d.etcd_leader_kill_acks_checked, d.etcd_leader_kill_acks);
    assert.equal(d.etcd_leader_kill_acks_lost, 0);
    assert.equal(d.etcd_leader_kill_rate_tps, 24, 'the kill phase runs at 60 % of the measured rate');

    // Nothing of the network is left: no process names its folder, its ports are free, the folder is gone.
    assert.equal(d.network_stopped, true);
    const layout = /network folder (\S+), ports (\d+)–(\d+)/.exec(r.stderr);
    assert.ok(layout !== null, 'the bench names its network folder and ports');
    const [, folder, from, to] = layout as unknown as [string, string, string, string];
    assert.equal(existsSync(folder), false, 'the network folder is removed');
    assert.deepEqual(processesUsing(folder), [], 'no process of the network runs');
    for (let port = Number(from); port <= Number(to); port++) assert.equal(await isFree(port), true, `port ${port} is free`);
  });

  it('runs rmw-2of3 endorsed across orgs by the peer processes, and leaves nothing running', async () => {
    requireEtcd();
    const r = await runBench(['--mode', 'distributed', '--workload', 'rmw-2of3', '--json', '--warmup', '1', '--duration', '2', '--rate', '20'], 600_000);
    assert.equal(r.code, 0, `the bench failed:\n${r.stderr.slice(-4000)}`);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => `${String(l.workload)}/${String(l.mode)}`), ['rmw-2of3/distributed']);
    const d = lines[0] as Record<string, unknown>;
    assert.ok((d.committed as number) > 0, 'transactions endorsed by two orgs were acknowledged VALID');
    // 3 peers, 2 endorsements: 3 × 3 + 2 + 1 = 12 verifications per transaction plus 3 per block.
    assert.ok((d.verifies_per_tx as number) > 12 && (d.verifies_per_tx as number) <= 15, `verifies_per_tx ${String(d.verifies_per_tx)}`);
    assert.equal(d.network_stopped, true);
  });

  it('refuses options distributed mode does not run', async () => {
    const r = await runBench(['--mode', 'distributed', '--http'], 60_000);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--mode distributed runs the basic workloads/);
  });
});
