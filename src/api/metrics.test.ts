import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createProposal } from '../ledger/proposal.js';
import { openTestApi, type TestApi } from '../testing/api-fixtures.js';
import { createNodeMetrics, type NodeMetrics } from './metrics.js';
import { toBase64 } from './wire.js';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses the Prometheus text format (the subset prom-client writes). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k as string] = v as string;
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the one sample with exactly these labels (0 when absent, as Prometheus reads a missing counter). */
function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  const hits = samples.filter((s) => s.name === name && Object.keys(s.labels).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(hits.length <= 1, `${name} ${JSON.stringify(labels)} matches ${hits.length} samples`);
  return hits[0]?.value ?? 0;
}

describe('node metrics at /metrics', () => {
  let t: TestApi;
  let metrics: NodeMetrics | undefined;
  /** Requests per minute the API allows (the test's own requests stay below it; scrapes may exceed it). */
  const RATE_LIMIT = 40;
  const peer = (): ReturnType<TestApi['net']['peer']> => t.net.peer('peer0.org1');

  const post = async (path: string, fn: string, args: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> => {
    const version = peer().config('trade').contracts.basic?.version ?? '';
    const p = createProposal({ chain: 'trade', contract: 'basic', version, fn, args: args as never }, t.net.identity('Org1', 'alice'));
    const res = await fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ proposal: toBase64(p.bytes), signature: toBase64(p.signature) }) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const submit = (fn: string, args: Record<string, unknown>): ReturnType<typeof post> => post('/api/chains/trade/transactions', fn, args);
  const evaluate = (fn: string, args: Record<string, unknown>): ReturnType<typeof post> => post('/api/chains/trade/evaluate', fn, args);
  const scrape = async (): Promise<{ status: number; type: string; samples: Sample[] }> => {
    const res = await fetch(`${t.url}/metrics`);
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', samples: res.status === 200 ? parseExposition(text) : [] };
  };

  let startHeight = 0;

  before(async () => {
    t = await openTestApi({
      server: (backend) => {
        metrics = createNodeMetrics(backend);
        return { plugins: [metrics.plugin], rateLimitPerMinute: RATE_LIMIT };
      },
    });
    startHeight = peer().height('trade');
  });
  after(async () => {
    await t.close();
    metrics?.close();
  });

  it('counts committed blocks and transactions by code exactly as the ledger holds them, and times submits and evaluates by outcome', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await submit('createAsset', { id: `m-${i}`, owner: 'alice', colour: 'red', size: 1, appraisedValue: 10 });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    // Two transfers of one asset sent together: usually one commits VALID and the other as
    // MVCC_READ_CONFLICT; the counters must say whatever the ledger says.
    const transfers = await Promise.all(['bob', 'carol'].map((owner) => submit('transferAsset', { id: 'm-0', newOwner: owner })));
    assert.equal((await submit('createAsset', { id: 'm-1', owner: 'alice', colour: 'red', size: 1, appraisedValue: 10 })).status, 422, 'a duplicate asset is refused by the contract');
    assert.equal((await evaluate('readAsset', { id: 'm-1' })).status, 200);
    assert.equal((await evaluate('readAsset', { id: 'missing' })).status, 422);

    const { status, type, samples } = await scrape();
    assert.equal(status, 200);
    assert.match(type, /^text\/plain; version=0\.0\.4/);

    const height = peer().height('trade');
    const onLedger = new Map<string, number>();
    for (let n = startHeight; n < height; n++) {
      for (const code of peer().committedBlock('trade', n)?.codes ?? []) onLedger.set(code, (onLedger.get(code) ?? 0) + 1);
    }
    assert.equal(valueOf(samples, 'silk_chain_height', { chain: 'trade' }), height);
    assert.equal(valueOf(samples, 'silk_chain_ordered_height', { chain: 'trade' }), t.net.orderer.height('trade'));
    assert.equal(valueOf(samples, 'silk_blocks_committed_total', { chain: 'trade' }), height - startHeight);
    assert.equal(onLedger.get('VALID'), 4 + transfers.filter((r) => r.status === 200).length);
    for (const [code, n] of onLedger) assert.equal(valueOf(samples, 'silk_transactions_committed_total', { chain: 'trade', code }), n, `transactions committed as ${code}`);

    const transferCodes = transfers.map((r) => (r.status === 200 ? 'VALID' : (r.body.error as { code: string }).code));
    const submitCount = (code: string): number => valueOf(samples, 'silk_submit_duration_seconds_count', { chain: 'trade', code });
    assert.equal(submitCount('VALID'), 4 + transferCodes.filter((c) => c === 'VALID').length);
    for (const code of new Set(transferCodes.filter((c) => c !== 'VALID'))) assert.equal(submitCount(code), transferCodes.filter((c) => c === code).length);
    assert.equal(submitCount('CONTRACT_ERROR'), 1);
    assert.equal(valueOf(samples, 'silk_evaluate_duration_seconds_count', { chain: 'trade', code: 'OK' }), 1);
    assert.equal(valueOf(samples, 'silk_evaluate_duration_seconds_count', { chain: 'trade', code: 'CONTRACT_ERROR' }), 1);
    assert.ok(valueOf(samples, 'silk_submit_duration_seconds_sum', { chain: 'trade', code: 'VALID' }) > 0);
    assert.equal(valueOf(samples, 'silk_http_request_duration_seconds_count', { method: 'POST', route: '/api/chains/:chain/transactions', status: '200' }), submitCount('VALID'));
    assert.equal(valueOf(samples, 'silk_http_request_duration_seconds_count', { method: 'POST', route: '/api/chains/:chain/evaluate', status: '422' }), 1);

    // The gateway's admission control, as its own stats report it: everything done, nothing waiting or refused.
    const admission = t.net.gateway('Org1').admissionStats().get('trade');
    assert.ok(admission !== undefined && admission.limit >= 64);
    assert.equal(valueOf(samples, 'silk_gateway_admission_limit', { chain: 'trade' }), admission.limit);
    assert.equal(valueOf(samples, 'silk_gateway_in_flight', { chain: 'trade' }), 0);
    assert.equal(valueOf(samples, 'silk_gateway_waiting', { chain: 'trade' }), 0);
    assert.equal(valueOf(samples, 'silk_gateway_refused_total', { chain: 'trade' }), 0);

    assert.equal(valueOf(samples, 'silk_ledger_size_bytes', { chain: 'trade' }), peer().store('trade').sizeBytes());
    assert.ok(valueOf(samples, 'silk_ledger_size_bytes', { chain: 'trade' }) > 0);
    assert.ok(samples.some((s) => s.name === 'process_cpu_user_seconds_total'), 'process metrics are collected');
    assert.ok(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds'), 'event loop metrics are collected');
  });

  it('labels requests by route pattern, not by URL, so chain names and ids cannot multiply series', async () => {
    await fetch(`${t.url}/api/chains/no-such-chain/blocks`);
    await fetch(`${t.url}/no/such/route`);
    const { samples } = await scrape();
    assert.equal(valueOf(samples, 'silk_http_request_duration_seconds_count', { method: 'GET', route: '/api/chains/:chain/blocks', status: '404' }), 1);
    assert.equal(valueOf(samples, 'silk_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' }), 1);
    assert.ok(!samples.some((s) => Object.values(s.labels).some((v) => v.includes('no-such-chain'))));
  });

  it('counts open event streams', async () => {
    const abort = new AbortController();
    const res = await fetch(`${t.url}/api/chains/trade/events`, { signal: abort.signal });
    assert.equal(res.status, 200);
    assert.equal(valueOf((await scrape()).samples, 'silk_event_stream_clients'), 1);
    abort.abort();
    await res.body?.cancel().catch(() => undefined);
    let open = 1;
    for (let i = 0; i < 50 && open !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      open = valueOf((await scrape()).samples, 'silk_event_stream_clients');
    }
    assert.equal(open, 0, 'a closed stream is no longer counted');
  });

  it('is never rate limited, while the API routes are', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < RATE_LIMIT + 5; i++) statuses.push((await scrape()).status);
    assert.deepEqual(new Set(statuses), new Set([200]));
    const limited = [];
    for (let i = 0; i < RATE_LIMIT; i++) limited.push((await fetch(`${t.url}/api/chains`)).status);
    assert.ok(limited.includes(429), 'the API itself is limited at this rate');
  });
});
