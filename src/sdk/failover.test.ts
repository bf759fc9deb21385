import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { embeddedApiBackend } from '../api/backend.js';
import { createApiServer, type ApiServer } from '../api/server.js';
import type { Signer } from '../crypto/p256.js';
import { MIN_HEIGHT_HEADER } from '../api/wire.js';
import { createProposal, type SignedProposal } from '../ledger/proposal.js';
import { openTestApi, rejectsWith, type TestApi } from '../testing/api-fixtures.js';
import { connect, type SilkClient } from './client.js';
import type { SubmitResult } from './responses.js';
import { NODE_SILENT_REASON, type FetchFunction } from './http-transport.js';
import { waitUntil } from '../testing/fixtures.js';

const CHAIN = 'trade';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The URL of a loopback port nothing listens on. */
async function closedPort(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return url;
}

/** How the proxy treats a POST: passes it on, or loses the connection before or after the node answered it. */
type ProxyMode = 'forward' | 'drop-after-answer' | 'drop-before-answer';

interface Proxy {
  readonly url: string;
  mode: ProxyMode;
  /** Settles when every request passed to the node has had its answer. */
  settled(): Promise<void>;
  /** Closes the port and every connection: the node behind it is gone for its clients. */
  close(): Promise<void>;
}

/** A node as its clients see it through a network that can fail: every request is passed to `upstream`, answers streamed back. */
async function openProxy(upstream: string): Promise<Proxy> {
  const inFlight = new Set<Promise<void>>();
  let mode: ProxyMode = 'forward';
  const server = createServer((req, res) => {
    const drop = req.method === 'POST' ? mode : 'forward';
    let done = (): void => undefined;
    inFlight.add(new Promise<void>((resolve) => { done = resolve; }));
    const out = httpRequest(new URL(req.url ?? '/', upstream), { method: req.method, headers: req.headers }, (answer) => {
      answer.on('end', done);
      if (drop === 'drop-after-answer') {
        answer.resume();
        answer.on('end', () => req.socket.destroy());
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => {
      res.destroy();
      done();
    });
    req.pipe(out);
    if (drop === 'drop-before-answer') req.on('end', () => setImmediate(() => req.socket.destroy()));
  });
  const url = await listen(server);
  return {
    url,
    get mode() {
      return mode;
    },
    set mode(m: ProxyMode) {
      mode = m;
    },
    async settled() {
      await Promise.all(inFlight);
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => { resolve(); });
        server.closeAllConnections();
      });
    },
  };
}

/** A fetch that records each request's URL before making it. */
function recordingFetch(seen: string[]): FetchFunction {
  return (input, init) => {
    seen.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    return fetch(input, init);
  };
}

describe('SDK with fallback nodes', () => {
  let t: TestApi;
  /** A second node of the same network: Org2's peer and gateway behind its own API. */
  let org2Api: ApiServer;
  let org2Url: string;
  let alice: Signer;
  let direct: SilkClient;

  before(async () => {
    t = await openTestApi();
    org2Api = await createApiServer({ backend: embeddedApiBackend(t.net, { org: 'Org2' }), rateLimitPerMinute: 0 });
    org2Url = await org2Api.listen({ port: 0 });
    alice = t.net.identity('Org1', 'alice');
    direct = connect({ url: t.url, signer: alice });
  });
  after(async () => {
    await org2Api.close();
    await t.close();
  });

  const proposal = (id: string): SignedProposal =>
    createProposal({ chain: CHAIN, contract: 'basic', version: '1.0', fn: 'createAsset', args: { id, owner: 'alice', colour: 'red', size: 3, appraisedValue: 1250 } }, alice);

  /** Where `txId` appears on the ledger from block `from` on: one entry per envelope, with its code. */
  const appearances = async (txId: string, from: number): Promise<string[]> => {
    const { height } = await direct.chain(CHAIN);
    const codes: string[] = [];
    for (let n = from; n < height; n++) {
      for (const tx of (await direct.block(CHAIN, n)).transactions) if (tx.txId === txId) codes.push(tx.code);
    }
    return codes;
  };

  it('turns to the next node when the first cannot be reached, and asks the one that answered first from then on', async () => {
    const dead = await closedPort();
    const seen: string[] = [];
    const client = connect({ url: dead, fallbackUrls: [org2Url, t.url], signer: alice, fetch: recordingFetch(seen) });
    assert.equal(client.url, dead);
    const health = await client.health();
    assert.equal(health.status, 'ok');
    assert.equal(client.url, org2Url);
    assert.deepEqual(seen, [`${dead}/api/health`, `${org2Url}/api/health`]);
    const r = await client.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: { id: 'fo-1', owner: 'alice', colour: 'red', size: 3, appraisedValue: 1250 } });
    assert.equal(r.code, 'VALID');
    assert.ok(seen.slice(2).every((u) => u.startsWith(org2Url)), `after the failover every request went to ${org2Url}: ${seen.join(', ')}`);
    // Read back through the node that committed it: Org1's peer may not have committed that block yet.
    assert.deepEqual((await client.state(CHAIN, 'basic', 'asset:fo-1')).value, { id: 'fo-1', owner: 'alice', colour: 'red', size: 3, appraisedValue: 1250 });
    assert.ok(seen.slice(2).every((u) => u.startsWith(org2Url)), seen.join(', '));
    // A refusal from the next node names the node that gave no answer before it.
    const refused = await rejectsWith(connect({ url: dead, fallbackUrls: [t.url] }).chain('nochain'), 'UNKNOWN_CHAIN');
    assert.deepEqual(refused.details.unansweredNodes, [dead]);
  });

  /**
   * Submits a new proposal through Org2's node behind a proxy that loses the connection as `mode`
   * says, with Org1's node as the fallback; the proxy is closed after `check`.
   */
  const submitThroughLossyNode = async (mode: ProxyMode, id: string, check: (run: { client: SilkClient; signed: SignedProposal; r: SubmitResult; height: number }) => Promise<void>): Promise<void> => {
    const proxy = await openProxy(org2Url);
    try {
      proxy.mode = mode;
      const { height } = await direct.chain(CHAIN);
      const client = connect({ url: proxy.url, fallbackUrls: [t.url], signer: alice });
      const signed = proposal(id);
      const r = await client.submitSigned(signed);
      await proxy.settled();
      await check({ client, signed, r, height });
    } finally {
      await proxy.close();
    }
  };

  it('answers a submit its node committed but could not answer with the outcome on the ledger, committed once', async () => {
    await submitThroughLossyNode('drop-after-answer', 'fo-2', async ({ client, signed, r, height }) => {
      assert.equal(r.code, 'VALID');
      assert.equal(r.txId, signed.txId);
      const onLedger = await direct.transaction(CHAIN, signed.txId);
      assert.equal(r.blockNumber, onLedger.block);
      assert.equal(r.txIndex, onLedger.index);
      assert.deepEqual(await client.verifyReceipt(r.receipt), { ok: true });
      // The node behind the proxy had committed it: the fallback found it on the ledger and ordered nothing.
      assert.deepEqual(await appearances(signed.txId, height), ['VALID']);
    });
  });

  it('sends a submit its node lost on the way again to the next node: it commits once', async () => {
    await submitThroughLossyNode('drop-before-answer', 'fo-3', async ({ client, signed, r, height }) => {
      assert.equal(r.code, 'VALID');
      assert.equal(client.url, t.url);
      const codes = await appearances(signed.txId, height);
      // Both nodes may have ordered an envelope of it; only one commits.
      assert.equal(codes.filter((c) => c === 'VALID').length, 1, codes.join(', '));
      assert.ok(codes.every((c) => c === 'VALID' || c === 'DUPLICATE_TXID'), codes.join(', '));
      assert.equal((await direct.transaction(CHAIN, signed.txId)).block, r.blockNumber);
    });
  });

  it('turns away from a node that is shutting down', async () => {
    const stopping = createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'SHUTTING_DOWN', message: 'the node is shutting down' } }));
    });
    const url = await listen(stopping);
    try {
      const client = connect({ url, fallbackUrls: [t.url] });
      assert.ok((await client.chains()).some((c) => c.name === CHAIN));
      assert.equal(client.url, t.url);
    } finally {
      stopping.close();
    }
  });

  it('passes a refusal on without asking another node', async () => {
    let asked = 0;
    const other = createServer((_req, res) => {
      asked++;
      res.writeHead(500).end();
    });
    const url = await listen(other);
    try {
      const client = connect({ url: t.url, fallbackUrls: [url] });
      await rejectsWith(client.chain('nochain'), 'UNKNOWN_CHAIN');
      await rejectsWith(client.state(CHAIN, 'basic', 'asset:never-written'), 'NOT_FOUND');
      assert.equal(asked, 0);
      assert.equal(client.url, t.url);
    } finally {
      other.close();
    }
  });

  it('names every node when none answers, and the transaction a submit may have left', async () => {
    const [a, b] = [await closedPort(), await closedPort()];
    const client = connect({ url: a, fallbackUrls: [b] });
    const e = await rejectsWith(client.health(), 'UNREACHABLE');
    assert.match(e.message, /no node could answer/);
    assert.ok(e.message.includes(a) && e.message.includes(b), e.message);
    const signed = proposal('fo-never');
    const lost = await rejectsWith(client.submitSigned(signed), 'UNREACHABLE');
    assert.equal(lost.details.txId, signed.txId);
  });

  it("asks every node to answer at the blocks the client has seen, and passes over a node that is behind", async () => {
    const sent: (string | null)[] = [];
    const watching: FetchFunction = (input, init) => {
      sent.push(new Headers(init?.headers).get(MIN_HEIGHT_HEADER));
      return fetch(input, init);
    };
    const client = connect({ url: t.url, signer: alice, fetch: watching });
    const r = await client.submitSigned(proposal('fo-6'));
    assert.equal(sent.at(-1), null, 'nothing seen of the chain before its first commit');
    await client.state(CHAIN, 'basic', 'asset:fo-6');
    assert.equal(sent.at(-1), String(r.blockNumber + 1), 'a read after the commit asks for its block');
    const unaware = connect({ url: t.url, signer: alice, fetch: watching, readYourWrites: false });
    await unaware.submitSigned(proposal('fo-7'));
    await unaware.state(CHAIN, 'basic', 'asset:fo-7');
    assert.equal(sent.at(-1), null);

    const behind = createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'BEHIND', message: 'this node holds 3 blocks of trade', chain: CHAIN, height: 3, minHeight: 99 } }));
    });
    const url = await listen(behind);
    try {
      const moving = connect({ url, fallbackUrls: [t.url] });
      assert.deepEqual((await moving.state(CHAIN, 'basic', 'asset:fo-6')).value, { id: 'fo-6', owner: 'alice', colour: 'red', size: 3, appraisedValue: 1250 });
      assert.equal(moving.url, t.url);
      await rejectsWith(connect({ url }).state(CHAIN, 'basic', 'asset:fo-6'), 'BEHIND');
    } finally {
      behind.close();
    }
  });

  /** A node whose process accepts requests and never answers any (stopped, or cut off after the connection): the paths asked, in order. */
  const openSilentNode = async (): Promise<{ url: string; asked: string[]; close(): Promise<void> }> => {
    const asked: string[] = [];
    const server = createServer((req) => { asked.push(`${req.method ?? ''} ${req.url ?? ''}`); });
    const url = await listen(server);
    return { url, asked, close: () => new Promise<void>((resolve) => { server.close(() => { resolve(); }); server.closeAllConnections(); }) };
  };

  it('gives up on a node that took a submit and answers nothing, not even a health check, and commits it once through the next', async () => {
    const silent = await openSilentNode();
    try {
      const { height } = await direct.chain(CHAIN);
      const client = connect({ url: silent.url, fallbackUrls: [t.url], signer: alice, timeoutMs: 60_000, livenessCheckMs: 200 });
      const signed = proposal('fo-silent');
      const began = Date.now();
      const r = await client.submitSigned(signed);
      assert.equal(r.code, 'VALID');
      // Moved on after a failed check, not after the 60 s time limit.
      assert.ok(Date.now() - began < 30_000, `${Date.now() - began} ms`);
      assert.equal(client.url, t.url);
      assert.equal(silent.asked[0], `POST /api/chains/${CHAIN}/transactions`);
      assert.ok(silent.asked.slice(1).every((a) => a === 'GET /api/health') && silent.asked.length >= 2, silent.asked.join(', '));
      assert.deepEqual(await appearances(signed.txId, height), ['VALID']);
      // With no node left to turn to, the same silence is an error naming it.
      const e = await rejectsWith(connect({ url: silent.url, fallbackUrls: [await closedPort()], timeoutMs: 60_000, livenessCheckMs: 200 }).chains(), 'UNREACHABLE');
      assert.match(e.message, /did not answer a health check within 200 ms/);
    } finally {
      await silent.close();
    }
  });

  it('waits for a slow node that answers its health checks, one check at a time for all the calls waiting on it', async () => {
    const asked: string[] = [];
    const slow = createServer((req, res) => {
      asked.push(`${req.method ?? ''} ${req.url ?? ''}`);
      const out = httpRequest(new URL(req.url ?? '/', t.url), { method: req.method, headers: req.headers }, (answer) => {
        const delay = req.method === 'POST' ? 1_500 : 0;
        setTimeout(() => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        }, delay);
      });
      req.pipe(out);
    });
    const slowUrl = await listen(slow);
    const seenByOther: string[] = [];
    try {
      const client = connect({ url: slowUrl, fallbackUrls: [org2Url], signer: alice, livenessCheckMs: 200, fetch: (input, init) => {
        const u = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        if (u.startsWith(org2Url)) seenByOther.push(u);
        return fetch(input, init);
      } });
      const results = await Promise.all(['fo-slow-1', 'fo-slow-2', 'fo-slow-3', 'fo-slow-4'].map((id) => client.submitSigned(proposal(id))));
      assert.deepEqual(results.map((r) => r.code), ['VALID', 'VALID', 'VALID', 'VALID']);
      assert.equal(client.url, slowUrl);
      assert.deepEqual(seenByOther, []);
      const checks = asked.filter((a) => a === 'GET /api/health').length;
      // The four calls waited about 1.5 s: a check every 200 ms at most, shared, not one per call.
      assert.ok(checks >= 1 && checks <= 9, `${checks} health checks: ${asked.join(', ')}`);
    } finally {
      await new Promise<void>((resolve) => { slow.close(() => { resolve(); }); slow.closeAllConnections(); });
    }
  });

  it('waits out its time limit at a silent node when it has no other node, with no health checks', async () => {
    const silent = await openSilentNode();
    try {
      const e = await rejectsWith(connect({ url: silent.url, timeoutMs: 1_000, livenessCheckMs: 100 }).chains(), 'UNREACHABLE');
      assert.match(e.message, /no answer within 1000 ms/);
      assert.notEqual(e.details.reason, NODE_SILENT_REASON);
      assert.deepEqual(silent.asked, ['GET /api/chains']);
      const off = await rejectsWith(connect({ url: silent.url, fallbackUrls: [await closedPort()], timeoutMs: 1_000, livenessCheckMs: 0 }).chains(), 'UNREACHABLE');
      assert.match(off.message, /no answer within 1000 ms/);
      assert.deepEqual(silent.asked, ['GET /api/chains', 'GET /api/chains']);
    } finally {
      await silent.close();
    }
  });

  it('refuses a node given twice, and a fallback that is not a URL', () => {
    assert.throws(() => connect({ url: t.url, livenessCheckMs: -1 }), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && /livenessCheckMs/.test(e.message));
    assert.throws(() => connect({ url: t.url, livenessCheckMs: 1.5 }), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT');
    assert.throws(() => connect({ url: t.url, fallbackUrls: [`${t.url}/`] }), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && /given twice/.test(e.message));
    assert.throws(() => connect({ url: t.url, fallbackUrls: ['ftp://x'] }), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT');
  });

  it('moves a subscription to the next node when its node goes away, with no block missed or repeated', async () => {
    const proxy = await openProxy(org2Url);
    const { height } = await direct.chain(CHAIN);
    const blocks: number[] = [];
    const streams: string[] = [];
    const watching = connect({
      url: proxy.url,
      fallbackUrls: [t.url],
      fetch: (input, init) => {
        const u = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        if (u.includes('/events')) streams.push(u);
        return fetch(input, init);
      },
    });
    const sub = watching.subscribe(CHAIN, { from: height, types: ['block'], onBlock: (b) => blocks.push(b.number) });
    try {
      const r1 = await direct.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: { id: 'fo-4', owner: 'alice', colour: 'red', size: 3, appraisedValue: 1250 } }, alice);
      await waitUntil(() => blocks.includes(r1.blockNumber), 15_000, 'the block before the node goes away');
      await proxy.close();
      const r2 = await direct.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: { id: 'fo-5', owner: 'alice', colour: 'red', size: 3, appraisedValue: 1250 } }, alice);
      await waitUntil(() => blocks.includes(r2.blockNumber), 15_000, 'the block after it, from the next node');
      assert.deepEqual(blocks, Array.from({ length: r2.blockNumber - height + 1 }, (_, i) => height + i));
      assert.equal(streams.length, 2);
      assert.ok(streams[0]?.startsWith(proxy.url) && streams[1]?.startsWith(t.url), streams.join(', '));
    } finally {
      sub.close();
    }
  });
});
