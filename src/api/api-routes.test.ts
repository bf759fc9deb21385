import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateSigner, type Signer } from '../crypto/p256.js';
import { createProposal, type SignedProposal } from '../ledger/proposal.js';
import { receiptFromJson, verifyReceipt } from '../ledger/receipt.js';
import { openTestApi, type TestApi } from '../testing/api-fixtures.js';
import { highS } from '../testing/signature-forms.js';
import { isSilkError } from '../errors.js';
import { embeddedApiBackend } from './backend.js';
import { createApiServer } from './server.js';
import { DEMO_MODE_HEADER, toBase64 } from './wire.js';

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

interface ErrorReply {
  error: { code: string; message: string; path?: string; txId?: string };
}

async function call(t: TestApi, path: string, init: { method?: string; body?: unknown; raw?: string; contentType?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const hasBody = init.body !== undefined || init.raw !== undefined;
  const res = await fetch(`${t.url}${path}`, {
    method: init.method ?? (hasBody ? 'POST' : 'GET'),
    headers: { ...(hasBody ? { 'content-type': init.contentType ?? 'application/json' } : {}), ...init.headers },
    ...(hasBody ? { body: init.raw ?? JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

function errorOf(r: Reply): ErrorReply['error'] {
  return (r.body as unknown as ErrorReply).error;
}

function signedBody(p: SignedProposal): { proposal: string; signature: string } {
  return { proposal: toBase64(p.bytes), signature: toBase64(p.signature) };
}

function propose(t: TestApi, fn: string, args: Record<string, unknown>, signer?: Signer, extra: { ts?: number; chain?: string } = {}): SignedProposal {
  const version = t.net.peer('peer0.org1').config('trade').contracts.basic?.version ?? '';
  return createProposal({ chain: extra.chain ?? 'trade', contract: 'basic', version, fn, args: args as never, ...(extra.ts === undefined ? {} : { ts: extra.ts }) }, signer ?? t.net.identity('Org1', 'alice'));
}

function asset(id: string, owner = 'alice'): Record<string, unknown> {
  return { id, owner, colour: 'blue', size: 3, appraisedValue: 100 };
}

describe('HTTP API', () => {
  let t: TestApi;
  const height = (): number => t.net.peer('peer0.org1').height('trade');

  before(async () => {
    t = await openTestApi();
    for (let i = 0; i < 5; i++) {
      const r = await call(t, '/api/chains/trade/transactions', { body: signedBody(propose(t, 'createAsset', asset(`seed-${i}`, i % 2 === 0 ? 'alice' : 'bob'))) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
  });
  after(async () => {
    await t.close();
  });

  it('a second server on a port in use is refused with the reason, and the first keeps serving', async () => {
    const port = Number(new URL(t.url).port);
    const second = await createApiServer({ backend: embeddedApiBackend(t.net, { org: 'Org1' }), rateLimitPerMinute: 0 });
    try {
      await assert.rejects(second.listen({ port, host: '127.0.0.1' }), (e: unknown) => isSilkError(e, 'INVALID_ARGUMENT') && e.message === `cannot listen on 127.0.0.1:${port}: the port is already in use by another process: stop it or choose another port`);
      await assert.rejects(second.listen({ port: 0, host: '192.0.2.1' }), (e: unknown) => isSilkError(e, 'INVALID_ARGUMENT') && /^cannot listen on 192\.0\.2\.1:0: 192\.0\.2\.1 is not an address of this machine$/.test(e.message));
    } finally {
      await second.close();
    }
    assert.equal((await call(t, '/api/health')).status, 200);
  });

  describe('reads', () => {
    it('health reports the height as one number (all chains together) and every chain height; ready once the peer has caught up', async () => {
      const h = await call(t, '/api/health');
      assert.equal(h.status, 200);
      assert.deepEqual(h.body, { status: 'ok', height: height(), chains: { trade: height() } });
      const r = await call(t, '/api/ready');
      assert.equal(r.status, 200);
      assert.equal(r.body.status, 'ready');
    });

    it('lists chains with members and contracts, and one chain with its configuration', async () => {
      const list = await call(t, '/api/chains');
      const items = list.body.items as { name: string; orgs: string[]; contracts: Record<string, unknown> }[];
      assert.deepEqual(items.map((c) => c.name), ['trade']);
      assert.deepEqual(items[0]?.orgs, ['Org1', 'Org2', 'Org3']);
      assert.ok(items.at(0)?.contracts.basic);
      const one = await call(t, '/api/chains/trade');
      assert.equal((one.body.config as { chain: string }).chain, 'trade');
      assert.deepEqual(one.body.governs, { from: 0, until: null }, 'the genesis configuration is still in force');
      const genesis = await call(t, '/api/chains/trade?at=0');
      assert.equal(genesis.body.at, 0);
      assert.equal((genesis.body.config as { sequence: number }).sequence, 0);
      assert.deepEqual(genesis.body.governs, { from: 0, until: null });
      const future = await call(t, `/api/chains/trade?at=${height()}`);
      assert.equal(future.status, 404);
      const missing = await call(t, '/api/chains/nowhere');
      assert.equal(missing.status, 404);
      assert.equal(errorOf(missing).code, 'UNKNOWN_CHAIN');
    });

    it('pages through every block newest first, each exactly once', async () => {
      const seen: number[] = [];
      let bookmark: string | undefined;
      do {
        const r = await call(t, `/api/chains/trade/blocks?limit=2${bookmark === undefined ? '' : `&bookmark=${bookmark}`}`);
        assert.equal(r.status, 200);
        const items = r.body.items as { number: number; transactions: number; valid: number }[];
        assert.ok(items.length <= 2);
        seen.push(...items.map((b) => b.number));
        bookmark = r.body.bookmark as string | undefined;
      } while (bookmark !== undefined);
      assert.deepEqual(seen, Array.from({ length: height() }, (_, i) => height() - 1 - i));
    });

    it('shows a block with its transactions, codes and creators', async () => {
      const r = await call(t, '/api/chains/trade/blocks/1');
      assert.equal(r.status, 200);
      const txs = r.body.transactions as { code: string; fn: string; creator: { org: string; name: string } }[];
      assert.equal(txs[0]?.code, 'VALID');
      assert.equal(txs.at(0)?.fn, 'createAsset');
      assert.deepEqual({ org: txs.at(0)?.creator.org, name: txs.at(0)?.creator.name }, { org: 'Org1', name: 'alice' });
      const past = await call(t, '/api/chains/trade/blocks/9999');
      assert.equal(past.status, 404);
      assert.equal(errorOf(past).code, 'NOT_FOUND');
      const bad = await call(t, '/api/chains/trade/blocks/minus-one');
      assert.equal(bad.status, 400);
      assert.equal(errorOf(bad).code, 'INVALID_ARGUMENT');
    });

    it('reads one key with its version, a key range page by page, and a key history', async () => {
      const one = await call(t, `/api/chains/trade/contracts/basic/state/${encodeURIComponent('asset:seed-0')}`);
      assert.equal(one.status, 200);
      assert.equal((one.body.value as { owner: string }).owner, 'alice');
      assert.ok((one.body.version as { block: number }).block >= 1);
      const keys: string[] = [];
      let bookmark: string | undefined;
      do {
        const r = await call(t, `/api/chains/trade/contracts/basic/state?start=asset:&end=asset;&limit=2${bookmark === undefined ? '' : `&bookmark=${bookmark}`}`);
        assert.equal(r.status, 200);
        keys.push(...(r.body.items as { key: string }[]).map((e) => e.key));
        bookmark = r.body.bookmark as string | undefined;
      } while (bookmark !== undefined);
      assert.deepEqual(keys, [0, 1, 2, 3, 4].map((i) => `asset:seed-${i}`));
      const h = await call(t, `/api/chains/trade/contracts/basic/state/${encodeURIComponent('asset:seed-0')}/history`);
      assert.equal((h.body.items as unknown[]).length, 1);
      const none = await call(t, '/api/chains/trade/contracts/basic/state/asset:nobody');
      assert.equal(none.status, 404);
      const noContract = await call(t, '/api/chains/trade/contracts/nothing/state/x');
      assert.equal(errorOf(noContract).code, 'UNKNOWN_CONTRACT');
    });

    it('runs an indexed rich query and refuses an unindexed one', async () => {
      const r = await call(t, '/api/chains/trade/contracts/basic/query', { body: { selector: { owner: 'bob' }, limit: 10 } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual((r.body.items as { key: string }[]).map((e) => e.key).sort(), ['asset:seed-1', 'asset:seed-3']);
      const unindexed = await call(t, '/api/chains/trade/contracts/basic/query', { body: { selector: { appraisedValue: 100 } } });
      assert.equal(unindexed.status, 400);
      assert.equal(errorOf(unindexed).code, 'QUERY_NOT_INDEXED');
    });

    it('refuses page sizes over the maximum and bookmarks it did not issue, on every list route', async () => {
      for (const path of ['/api/chains/trade/blocks?limit=101', '/api/chains/trade/contracts/basic/state?limit=101', '/api/chains/trade/contracts/basic/state/asset:seed-0/history?limit=101', '/api/chains/trade/blocks?limit=0']) {
        const r = await call(t, path);
        assert.equal(r.status, 400, path);
        assert.equal(errorOf(r).code, 'INVALID_ARGUMENT', path);
        assert.equal(errorOf(r).path, 'querystring.limit', path);
      }
      const q = await call(t, '/api/chains/trade/contracts/basic/query', { body: { selector: { owner: 'bob' }, limit: 1000 } });
      assert.equal(q.status, 400);
      assert.equal(errorOf(q).path, 'body.limit');
      const bm = await call(t, '/api/chains/trade/blocks?bookmark=bm90LW91cnM');
      assert.equal(bm.status, 400);
      assert.equal(errorOf(bm).code, 'INVALID_ARGUMENT');
    });

    it('serves the OpenAPI document listing every route, and Swagger UI at /docs', async () => {
      const doc = await call(t, '/docs/json');
      const paths = Object.keys(doc.body.paths as object);
      for (const p of ['/api/health', '/api/ready', '/api/chains', '/api/chains/{chain}/blocks/{number}', '/api/chains/{chain}/transactions', '/api/chains/{chain}/transactions/{txId}', '/api/chains/{chain}/evaluate', '/api/chains/{chain}/contracts/{contract}/query', '/api/chains/{chain}/events']) {
        assert.ok(paths.includes(p), `OpenAPI lacks ${p}`);
      }
      const ui = await fetch(`${t.url}/docs/`);
      assert.equal(ui.status, 200);
      assert.match(await ui.text(), /swagger/i);
    });
  });

  describe('submit', () => {
    it('commits a locally signed proposal and returns a receipt that verifies against the chain keys', async () => {
      const p = propose(t, 'createAsset', asset('fresh-1'));
      const r = await call(t, '/api/chains/trade/transactions', { body: signedBody(p) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.code, 'VALID');
      assert.equal(r.body.txId, p.txId);
      const config = t.net.peer('peer0.org1').config('trade');
      const peers = Object.values(config.orgs).flatMap((o) => o.members.filter((m) => m.role === 'peer').map((m) => m.key));
      assert.deepEqual(verifyReceipt(receiptFromJson(r.body.receipt), { orderers: config.orderers, peers }), { ok: true });
      const tx = await call(t, `/api/chains/trade/transactions/${p.txId}`);
      assert.equal(tx.status, 200);
      assert.equal(tx.body.code, 'VALID');
      assert.deepEqual((tx.body.writes as { key: string }[]).map((w) => w.key), ['asset:fresh-1']);
    });

    it('refuses every bad submit with the right code, commits none of them, and keeps serving', async () => {
      const before = height();
      const good = propose(t, 'createAsset', asset('never-1'));
      const flipped = new Uint8Array(good.signature);
      flipped[5] = (flipped[5] ?? 0) ^ 1;
      const stranger = propose(t, 'createAsset', asset('never-2'), generateSigner());
      const old = propose(t, 'createAsset', asset('never-3'), undefined, { ts: Date.now() - 24 * 3600_000 });
      const high = propose(t, 'createAsset', asset('never-4'));
      const cases: { name: string; body?: unknown; raw?: string; contentType?: string; status: number; code: string; path?: string }[] = [
        { name: 'missing signature', body: { proposal: toBase64(good.bytes) }, status: 400, code: 'INVALID_ARGUMENT', path: 'body.signature' },
        { name: 'unknown field', body: { ...signedBody(good), admin: true }, status: 400, code: 'INVALID_ARGUMENT', path: 'body.admin' },
        { name: 'not base64', body: { proposal: '***', signature: toBase64(good.signature) }, status: 400, code: 'INVALID_ARGUMENT', path: 'body.proposal' },
        { name: 'garbage proposal bytes', body: { proposal: toBase64(new Uint8Array([1, 2, 3, 4])), signature: toBase64(good.signature) }, status: 400, code: 'MALFORMED' },
        { name: 'invalid JSON', raw: '{"proposal":', status: 400, code: 'MALFORMED' },
        { name: 'not JSON', raw: 'proposal=1', contentType: 'text/plain', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
        { name: 'altered signature', body: { proposal: toBase64(good.bytes), signature: toBase64(flipped) }, status: 401, code: 'BAD_SIGNATURE' },
        { name: 'high-S signature', body: { proposal: toBase64(high.bytes), signature: toBase64(highS(high.signature)) }, status: 401, code: 'BAD_SIGNATURE' },
        { name: 'signed by a non-member', body: signedBody(stranger), status: 403, code: 'UNKNOWN_CREATOR' },
        { name: 'signed a day ago', body: signedBody(old), status: 408, code: 'EXPIRED' },
      ];
      for (const c of cases) {
        const r = await call(t, '/api/chains/trade/transactions', { ...(c.body === undefined ? {} : { body: c.body }), ...(c.raw === undefined ? {} : { raw: c.raw }), ...(c.contentType === undefined ? {} : { contentType: c.contentType }) });
        assert.equal(r.status, c.status, `${c.name}: ${JSON.stringify(r.body)}`);
        assert.equal(errorOf(r).code, c.code, c.name);
        if (c.path !== undefined) assert.equal(errorOf(r).path, c.path, c.name);
      }
      const wrongChain = await call(t, '/api/chains/trade/transactions', { body: signedBody(propose(t, 'createAsset', asset('never-5'), undefined, { chain: 'other' })) });
      assert.equal(wrongChain.status, 400);
      assert.equal(errorOf(wrongChain).code, 'WRONG_CHAIN');
      const unknownChain = await call(t, '/api/chains/other/transactions', { body: signedBody(good) });
      assert.equal(unknownChain.status, 404);
      assert.equal(errorOf(unknownChain).code, 'UNKNOWN_CHAIN');
      assert.equal(height(), before, 'no bad submit reached the ledger');
      assert.equal((await call(t, '/api/health')).status, 200);
      // The good proposal itself was never harmed by the failed attempts.
      assert.equal((await call(t, '/api/chains/trade/transactions', { body: signedBody(good) })).status, 200);
    });

    it('refuses a replayed proposal, sequentially and concurrently, committing it once', async () => {
      const p = propose(t, 'createAsset', asset('replay-1'));
      const [a, b] = await Promise.all([call(t, '/api/chains/trade/transactions', { body: signedBody(p) }), call(t, '/api/chains/trade/transactions', { body: signedBody(p) })]);
      assert.deepEqual([a.status, b.status].sort(), [200, 409]);
      assert.equal(errorOf(a.status === 409 ? a : b).code, 'DUPLICATE_TXID');
      const before = height();
      const again = await call(t, '/api/chains/trade/transactions', { body: signedBody(p) });
      assert.equal(again.status, 409);
      assert.equal(errorOf(again).code, 'DUPLICATE_TXID');
      assert.equal(errorOf(again).txId, p.txId);
      assert.equal(height(), before);
    });

    it('reports a contract refusal as CONTRACT_ERROR with its reason, and commits nothing', async () => {
      const before = height();
      const r = await call(t, '/api/chains/trade/transactions', { body: signedBody(propose(t, 'createAsset', asset('seed-0'))) });
      assert.equal(r.status, 422);
      assert.equal(errorOf(r).code, 'CONTRACT_ERROR');
      assert.match(errorOf(r).message, /seed-0/);
      assert.equal(height(), before);
    });
  });

  describe('evaluate', () => {
    it('runs a query function with a signed proposal and commits nothing', async () => {
      const before = height();
      const r = await call(t, '/api/chains/trade/evaluate', { body: signedBody(propose(t, 'readAsset', { id: 'seed-1' })) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal((r.body.result as { owner: string }).owner, 'bob');
      assert.equal(height(), before);
    });

    it('refuses malformed bodies, bad signatures, writes and unknown functions', async () => {
      const q = propose(t, 'readAsset', { id: 'seed-1' });
      const flipped = new Uint8Array(q.signature);
      flipped[0] = (flipped[0] ?? 0) ^ 1;
      const cases: { body: unknown; status: number; code: string }[] = [
        { body: { proposal: toBase64(q.bytes) }, status: 400, code: 'INVALID_ARGUMENT' },
        { body: { proposal: toBase64(q.bytes), signature: toBase64(flipped) }, status: 401, code: 'BAD_SIGNATURE' },
        { body: signedBody(propose(t, 'readAsset', { id: 'seed-1' }, generateSigner())), status: 403, code: 'UNKNOWN_CREATOR' },
        { body: signedBody(propose(t, 'nothing', {})), status: 404, code: 'UNKNOWN_FUNCTION' },
        { body: signedBody(propose(t, 'readAsset', { id: 'seed-1', extra: 1 })), status: 400, code: 'INVALID_ARGUMENT' },
      ];
      for (const c of cases) {
        const r = await call(t, '/api/chains/trade/evaluate', { body: c.body });
        assert.equal(r.status, c.status, JSON.stringify(r.body));
        assert.equal(errorOf(r).code, c.code);
      }
    });
  });

  describe('limits', () => {
    it('refuses an oversize body on every POST route with PAYLOAD_TOO_LARGE, and keeps serving', async () => {
      const before = height();
      const huge = JSON.stringify({ proposal: 'A'.repeat(4 * 1024 * 1024), signature: 'AA==' });
      for (const path of ['/api/chains/trade/transactions', '/api/chains/trade/evaluate', '/api/chains/trade/contracts/basic/query']) {
        const r = await call(t, path, { raw: huge });
        assert.equal(r.status, 413, path);
        assert.equal(errorOf(r).code, 'PAYLOAD_TOO_LARGE', path);
      }
      assert.equal(height(), before);
      assert.equal((await call(t, '/api/health')).status, 200);
    });

    it('answers an unknown route with NOT_FOUND in the same error shape', async () => {
      const r = await call(t, '/api/nothing-here');
      assert.equal(r.status, 404);
      assert.equal(errorOf(r).code, 'NOT_FOUND');
    });
  });
});

describe('HTTP API request rate limit', () => {
  it('answers RATE_LIMITED with Retry-After once a client exceeds its rate, and health stays reachable', async () => {
    const t = await openTestApi({ server: { rateLimitPerMinute: 3 } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) codes.push((await call(t, '/api/chains')).status);
      assert.deepEqual(codes, [200, 200, 200, 429]);
      const limited = await call(t, '/api/chains');
      assert.equal(errorOf(limited).code, 'RATE_LIMITED');
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      assert.equal((await call(t, '/api/health')).status, 200);
    } finally {
      await t.close();
    }
  });
});

describe('HTTP API at capacity', () => {
  it('answers GATEWAY_BUSY with Retry-After beyond the admission limit, orders none of those, and commits again once there is room', async () => {
    // One submission at a time, none waiting: of three sent together, two are refused at once.
    const t = await openTestApi({ admission: { minInFlight: 1, maxInFlight: 1, maxQueued: 0, targetLatencyMs: 1_500 } });
    try {
      const proposals = [0, 1, 2].map((i) => propose(t, 'createAsset', asset(`busy-${i}`)));
      const replies = await Promise.all(proposals.map((p) => call(t, '/api/chains/trade/transactions', { body: signedBody(p) })));
      assert.deepEqual(replies.map((r) => r.status).sort(), [200, 503, 503]);
      for (const r of replies.filter((x) => x.status === 503)) {
        assert.equal(errorOf(r).code, 'GATEWAY_BUSY');
        assert.match(errorOf(r).message, /at capacity \(1 transactions in flight, 0 waiting\)/);
        assert.equal(r.headers.get('retry-after'), '2');
        // The body carries the same figure, under the name the SDK gives the header's.
        assert.equal((errorOf(r) as { retryAfterSeconds?: number }).retryAfterSeconds, 2);
      }
      const refused = proposals.filter((_, i) => replies[i]?.status === 503);
      for (const p of refused) assert.equal((await call(t, `/api/chains/trade/transactions/${p.txId}`)).status, 404, 'a refused proposal was not ordered');
      // The same refused proposal goes through once the first one has committed.
      const again = await call(t, '/api/chains/trade/transactions', { body: signedBody(refused[0] as SignedProposal) });
      assert.equal(again.status, 200);
      assert.equal(again.body.code, 'VALID');
      const stats = t.net.gateway('Org1').admissionStats().get('trade');
      assert.deepEqual({ inFlight: stats?.inFlight, queued: stats?.queued, refused: stats?.refused }, { inFlight: 0, queued: 0, refused: 2 });
    } finally {
      await t.close();
    }
  });
});

describe('HTTP API demo mode', () => {
  it('exists only where demo identities are configured, and every response says so', async () => {
    const plain = await openTestApi();
    try {
      const r = await call(plain, '/api/demo/identities');
      assert.equal(r.status, 404);
      assert.equal(r.headers.get(DEMO_MODE_HEADER), null);
    } finally {
      await plain.close();
    }
    const demo = await openTestApi({ demoIdentities: [{ org: 'Org2', name: 'bob' }] });
    try {
      const ids = await call(demo, '/api/demo/identities');
      assert.deepEqual(ids.body.items, [{ org: 'Org2', name: 'bob' }]);
      assert.ok(ids.headers.get(DEMO_MODE_HEADER));
      const ok = await call(demo, '/api/demo/chains/trade/transactions', { body: { as: { org: 'Org2', name: 'bob' }, contract: 'basic', fn: 'createAsset', args: asset('demo-1', 'bob') } });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.ok(ok.headers.get(DEMO_MODE_HEADER));
      const tx = await call(demo, `/api/chains/trade/transactions/${String(ok.body.txId)}`);
      assert.equal((tx.body.creator as { name: string }).name, 'bob');
      const read = await call(demo, '/api/demo/chains/trade/evaluate', { body: { as: { org: 'Org2', name: 'bob' }, contract: 'basic', fn: 'readAsset', args: { id: 'demo-1' } } });
      assert.equal((read.body.result as { owner: string }).owner, 'bob');
      const stranger = await call(demo, '/api/demo/chains/trade/transactions', { body: { as: { org: 'Org1', name: 'alice' }, contract: 'basic', fn: 'createAsset', args: asset('demo-2') } });
      assert.equal(stranger.status, 400);
      assert.equal(errorOf(stranger).path, 'body.as');
    } finally {
      await demo.close();
    }
  });
});
