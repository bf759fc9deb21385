import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatHttpReport, GET_CONNECTIONS, HTTP_GOAL_RATIO, runHttpBench, SUBMIT_CONNECTIONS } from './http-bench.js';

const positive = (v: number | null, name: string): void => {
  assert.ok(v !== null && Number.isFinite(v) && v > 0, `${name} = ${String(v)}`);
};

describe('HTTP benchmark', () => {
  it('serves the bench network from a child process and reports every phase with sane figures', { timeout: 60_000 }, async () => {
    const lines: string[] = [];
    const { report: r, failure } = await runHttpBench({ durationS: 2, warmupS: 0.25, seed: 7, keys: 1000, log: (l) => { lines.push(l); } });
    assert.equal(failure, undefined, lines.join('\n'));
    assert.equal(r.bench, 'http');
    assert.equal(r.workload, 'rmw');

    for (const phase of ['get_block', 'get_state'] as const) {
      assert.ok(r[`${phase}_requests`] > 0, `${phase}_requests`);
      positive(r[`${phase}_rps`], `${phase}_rps`);
      positive(r[`${phase}_p50_ms`], `${phase}_p50_ms`);
      assert.ok(r[`${phase}_p99_ms`]! >= r[`${phase}_p50_ms`]!, `${phase} p99 ≥ p50`);
      assert.deepEqual(r[`${phase}_errors_by_code`], {}, `${phase} answered only 200`);
      positive(r[`${phase}_bytes_avg`], `${phase}_bytes_avg`);
    }
    positive(r.get_block_txs_avg, 'get_block_txs_avg');

    positive(r.http_submit_tps, 'http_submit_tps');
    positive(r.http_submit_p50_ms, 'http_submit_p50_ms');
    assert.ok(r.http_submit_p99_ms! >= r.http_submit_p50_ms!);
    assert.ok(r.http_submit_valid > 0);
    const errors = Object.values(r.http_submit_errors_by_code).reduce((a, b) => a + b, 0);
    assert.equal(r.http_submit_responses, r.http_submit_valid + errors, 'every answer is VALID or counted under its code');
    for (const code of Object.keys(r.http_submit_errors_by_code)) assert.match(code, /^[A-Z][A-Z0-9_]*$/);
    // Every submit the API answered VALID is VALID at all three peers.
    assert.ok(r.http_submit_ledger_checked >= r.http_submit_valid, 'answers after the window are checked too');
    assert.equal(r.http_submit_valid_on_ledger, r.http_submit_ledger_checked);
    assert.deepEqual(r.http_submit_ledger_other, {});
    assert.ok(r.http_submit_presigned > 0, 'proposals are signed before the run');
    assert.ok(r.http_submit_presigned + r.http_submit_signed_on_demand >= r.http_submit_responses, 'one fresh proposal per request');
    positive(r.http_submit_block_size_avg, 'http_submit_block_size_avg');
    positive(r.in_process_block_size_avg, 'in_process_block_size_avg');

    positive(r.in_process_tps, 'in_process_tps');
    assert.ok(r.in_process_committed > 0);
    assert.ok(Math.abs(r.ratio - r.http_submit_tps / r.in_process_tps) < 0.01, 'ratio = http ÷ in-process');
    assert.equal(r.goal_ratio, HTTP_GOAL_RATIO);
    assert.equal(r.goal_met, r.ratio >= HTTP_GOAL_RATIO);
    positive(r.server_cpu_us_per_tx_http, 'server_cpu_us_per_tx_http');
    positive(r.server_cpu_us_per_tx_in_process, 'server_cpu_us_per_tx_in_process');

    positive(r.verifies_per_sec, 'verifies_per_sec');
    assert.ok(r.cores >= 1);
    assert.equal(r.submit_connections, SUBMIT_CONNECTIONS);
    assert.equal(r.get_connections, GET_CONNECTIONS);
    assert.equal(r.keys, 1000);

    const text = formatHttpReport(r);
    for (const label of ['GET block', 'GET state key', 'HTTP submit', 'in-process rmw', 'ratio http/in-process', 'machine limit']) assert.ok(text.includes(label), label);
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(r)) as unknown);
  });
});
