import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { embeddedApiBackend } from '../api/backend.js';
import { createApiServer, type ApiServer } from '../api/server.js';
import { BasicContract } from '../contracts/basic/basic-contract.js';
import type { Contract } from '../contracts/framework/contract.js';
import { generateSigner, type Signer } from '../crypto/p256.js';
import { CommitError, isSilkError, SilkError } from '../errors.js';
import { createConfigTransaction } from '../ledger/config-transaction.js';
import { createProposal } from '../ledger/proposal.js';
import type { ReceiptJson } from '../ledger/receipt.js';
import { openEmbeddedNetwork, type EmbeddedNetwork } from '../network/embedded-network.js';
import { openTestApi, rejectsWith, type TestApi } from '../testing/api-fixtures.js';
import { tempDir, THREE_ORG_SPEC, waitUntil } from '../testing/fixtures.js';
import { connect, type SilkClient } from './client.js';
import type { BlockEvent, ContractEvent } from './responses.js';

const CHAIN = 'trade';

function asset(id: string, owner = 'alice'): { id: string; owner: string; colour: string; size: number; appraisedValue: number } {
  return { id, owner, colour: 'red', size: 3, appraisedValue: 1250 };
}

/** A loopback HTTP server with the given handler; resolves to its URL. */
async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('SDK against a running node', () => {
  let t: TestApi;
  let alice: Signer;
  let client: SilkClient;

  before(async () => {
    t = await openTestApi();
    alice = t.net.identity('Org1', 'alice');
    client = connect({ url: `${t.url}/`, signer: alice });
  });
  after(async () => {
    await t.close();
  });

  it('reads health, readiness and the chains with their contracts and heights', async () => {
    const health = await client.health();
    assert.equal(health.status, 'ok');
    assert.ok((health.chains[CHAIN] ?? 0) >= 1);
    assert.equal(health.height, health.chains[CHAIN], 'one chain: its height is the node\'s');
    const ready = await client.ready();
    assert.equal(ready.status, 'ready');
    const chains = await client.chains();
    assert.deepEqual(chains.map((c) => [c.name, c.orgs, c.contracts.basic?.version]), [[CHAIN, ['Org1', 'Org2', 'Org3'], '1.0']]);
    const info = await client.chain(CHAIN);
    assert.equal(info.config.chain, CHAIN);
    assert.equal(client.url, t.url, 'the trailing slash is dropped');
  });

  it('submits a locally signed proposal and evaluates what it wrote', async () => {
    const r = await client.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('sdk-1') });
    assert.equal(r.code, 'VALID');
    assert.match(r.txId, /^[0-9a-f]{64}$/);
    assert.deepEqual(r.response, asset('sdk-1'));
    assert.equal(r.receipt.txId, r.txId);
    assert.equal(r.receipt.blockNumber, r.blockNumber);

    // Another org's user reads it with its own key, passed per call.
    const bobClient = connect({ url: t.url });
    const read = await bobClient.evaluate({ chain: CHAIN, contract: 'basic', fn: 'readAsset', args: { id: 'sdk-1' } }, t.net.identity('Org2', 'bob'));
    assert.deepEqual(read, asset('sdk-1'));
    await rejectsWith(bobClient.evaluate({ chain: CHAIN, contract: 'basic', fn: 'readAsset', args: { id: 'sdk-1' } }), 'INVALID_ARGUMENT');

    const tx = await client.transaction(CHAIN, r.txId);
    assert.equal(tx.code, 'VALID');
    assert.equal(tx.block, r.blockNumber);
    assert.deepEqual([tx.creator?.org, tx.creator?.name], ['Org1', 'alice']);
    assert.deepEqual(tx.events, [{ name: 'AssetCreated', payload: { id: 'sdk-1', owner: 'alice' } }]);
    const entry = await client.state(CHAIN, 'basic', 'asset:sdk-1');
    assert.deepEqual(entry.version, { block: r.blockNumber, tx: r.txIndex });
  });

  it('submits a proposal signed earlier, with chosen endorsing orgs', async () => {
    const signed = await client.propose({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('sdk-2') });
    assert.equal(signed.proposal.version, '1.0', 'the version comes from the chain configuration');
    const r = await client.submitSigned(signed, { endorsingOrgs: ['Org2', 'Org3'] });
    assert.equal(r.txId, signed.txId);
    const tx = await client.transaction(CHAIN, r.txId);
    assert.deepEqual(tx.endorsers.map((e) => e.org).sort(), ['Org2', 'Org3']);
  });

  it('verifies a receipt against the chain keys, and refuses it when any byte is altered', async () => {
    const r = await client.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('sdk-3') });
    assert.deepEqual(await client.verifyReceipt(r.receipt), { ok: true });
    const stored = await client.transaction(CHAIN, r.txId);
    assert.deepEqual(await client.verifyReceipt(stored.receipt), { ok: true });

    const flip = (hex: string, at: number): string => hex.slice(0, at) + ((parseInt(hex[at]!, 16) ^ 1).toString(16)) + hex.slice(at + 1);
    const fields = ['header', 'ordererSignature', 'peerSignature', 'leafHash', 'commitHash', 'codes'] as const;
    for (const field of fields) {
      for (const at of [0, r.receipt[field].length - 1, r.receipt[field].length >> 1]) {
        const altered: ReceiptJson = { ...r.receipt, [field]: flip(r.receipt[field], at) };
        const v = await client.verifyReceipt(altered);
        assert.equal(v.ok, false, `${field} altered at hex digit ${at} still verifies`);
      }
    }
    assert.equal((await client.verifyReceipt({ ...r.receipt, txIndex: r.receipt.txIndex + 1 })).ok, false);
    assert.equal((await client.verifyReceipt({ ...r.receipt, code: 'MVCC_READ_CONFLICT' })).ok, false);
    // Pinned trust: keys of another alliance do not vouch for this one's blocks.
    const v = await client.verifyReceipt(r.receipt, { orderers: [Buffer.from(generateSigner().publicKey).toString('hex')], peers: [] });
    assert.deepEqual(v, { ok: false, reason: 'block was cut by an orderer the chain does not list' });
  });

  it("turns the node's refusals into SilkErrors with its codes and details", async () => {
    const unknown = await rejectsWith(client.chain('nochain'), 'UNKNOWN_CHAIN');
    assert.equal(unknown.details.chain, 'nochain');
    assert.equal(unknown.httpStatus, 404);
    await rejectsWith(client.blocks('nochain'), 'UNKNOWN_CHAIN');
    await rejectsWith(client.submit({ chain: 'nochain', contract: 'basic', fn: 'createAsset', args: asset('x') }), 'UNKNOWN_CHAIN');
    await rejectsWith(client.submit({ chain: CHAIN, contract: 'ghost', fn: 'createAsset', args: asset('x') }), 'UNKNOWN_CONTRACT');
    await rejectsWith(client.block(CHAIN, 1_000_000), 'NOT_FOUND');

    // A key that is no member of the chain.
    await rejectsWith(client.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('sdk-outsider') }, generateSigner()), 'UNKNOWN_CREATOR');
    // A member's proposal whose signature was altered after signing.
    const signed = await client.propose({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('sdk-4') });
    const badSignature = new Uint8Array(signed.signature);
    badSignature[10] = (badSignature[10] ?? 0) ^ 0x01;
    const bad = await rejectsWith(client.submitSigned({ bytes: signed.bytes, signature: badSignature }), 'BAD_SIGNATURE');
    assert.ok(!(bad instanceof CommitError), 'refused before ordering');
    await rejectsWith(client.evaluateSigned({ bytes: signed.bytes, signature: badSignature }), 'BAD_SIGNATURE');

    // The same signed proposal twice: the second is a replay.
    const first = await client.submitSigned(signed);
    const replay = await rejectsWith(client.submitSigned(signed), 'DUPLICATE_TXID');
    assert.equal(replay.details.txId, signed.txId);
    assert.equal(replay.details.block, first.blockNumber);

    const refused = await rejectsWith(client.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('sdk-4') }), 'CONTRACT_ERROR');
    assert.match(refused.message, /sdk-4 already exists/);
    const invalidArgs = await rejectsWith(client.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: { id: 'sdk-5' } }), 'INVALID_ARGUMENT');
    assert.match(invalidArgs.message, /args\.owner/);
    await rejectsWith(client.blocks(CHAIN, { limit: 101 }), 'INVALID_ARGUMENT');
    assert.throws(() => connect({ url: 'ftp://example.org' }), (e) => isSilkError(e, 'INVALID_ARGUMENT'));
  });

  it('reports a transaction committed as invalid as a CommitError with a receipt that proves it', async () => {
    let conflict: SilkError | undefined;
    // Read-modify-writes of one key endorsed at the same height: all but the first in a block
    // conflict. Rounds repeat only in case the node committed each before the next arrived.
    for (let round = 0; round < 10 && conflict === undefined; round++) {
      const key = `hot-${round}`;
      await client.submit({ chain: CHAIN, contract: 'basic', fn: 'put', args: { key, value: 'start' } });
      const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => client.submit({ chain: CHAIN, contract: 'basic', fn: 'rmw', args: { key, value: `v${i}` } })));
      for (const r of results) {
        if (r.status === 'fulfilled') assert.equal(r.value.code, 'VALID');
        else {
          assert.ok(isSilkError(r.reason, 'MVCC_READ_CONFLICT'), String(r.reason));
          conflict = r.reason;
        }
      }
    }
    assert.ok(conflict instanceof CommitError, 'a conflict is a CommitError: the transaction is on the ledger');
    const receipt = conflict.details.receipt as ReceiptJson;
    assert.equal(receipt.code, 'MVCC_READ_CONFLICT');
    assert.equal(receipt.txId, conflict.details.txId);
    assert.deepEqual(await client.verifyReceipt(receipt), { ok: true });
    const tx = await client.transaction(CHAIN, receipt.txId);
    assert.equal(tx.code, 'MVCC_READ_CONFLICT');
  });

  it('pages through blocks newest first, without gaps or repeats', async () => {
    for (let i = 0; i < 4; i++) await client.submit({ chain: CHAIN, contract: 'basic', fn: 'put', args: { key: `page-${i}`, value: 'x' } });
    const { height } = await client.chain(CHAIN);
    const numbers: number[] = [];
    let bookmark: string | undefined;
    let pages = 0;
    do {
      const page = await client.blocks(CHAIN, { limit: 3, ...(bookmark === undefined ? {} : { bookmark }) });
      assert.ok(page.items.length <= 3);
      numbers.push(...page.items.map((b) => b.number));
      bookmark = page.bookmark;
      pages++;
    } while (bookmark !== undefined);
    assert.deepEqual(numbers, Array.from({ length: height }, (_, i) => height - 1 - i));
    assert.equal(pages, Math.ceil(height / 3));
    const latest = await client.block(CHAIN, 'latest');
    assert.equal(latest.number, height - 1);
    const genesis = await client.block(CHAIN, 0);
    assert.equal(genesis.transactions[0]?.contract, '_config');
  });

  it('reads state: a key with any characters, ranges, history newest first and rich queries', async () => {
    const key = 'a/b c?d#e%f&g';
    await client.submit({ chain: CHAIN, contract: 'basic', fn: 'put', args: { key, value: 'odd' } });
    assert.equal((await client.state(CHAIN, 'basic', `kv:${key}`)).value, 'odd');
    await rejectsWith(client.state(CHAIN, 'basic', 'kv:none'), 'NOT_FOUND');

    await client.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('rng-1', 'carol') });
    await client.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('rng-2', 'carol') });
    const moved = await client.submit({ chain: CHAIN, contract: 'basic', fn: 'transferAsset', args: { id: 'rng-1', newOwner: 'dave' } });
    const range = await client.range(CHAIN, 'basic', { start: 'asset:rng-', end: 'asset:rng.' });
    assert.deepEqual(range.items.map((e) => e.key), ['asset:rng-1', 'asset:rng-2']);
    const first = await client.range(CHAIN, 'basic', { start: 'asset:rng-', end: 'asset:rng.', limit: 1 });
    assert.equal(first.items.length, 1);
    assert.ok(first.bookmark !== undefined);
    const second = await client.range(CHAIN, 'basic', { start: 'asset:rng-', end: 'asset:rng.', limit: 1, bookmark: first.bookmark });
    assert.deepEqual(second.items.map((e) => e.key), ['asset:rng-2']);

    const history = await client.history(CHAIN, 'basic', 'asset:rng-1');
    assert.deepEqual(history.items.map((m) => (m.value as { owner: string }).owner), ['dave', 'carol']);
    assert.equal(history.items[0]?.txId, moved.txId);
    const oldestFirst = await client.history(CHAIN, 'basic', 'asset:rng-1', { order: 'asc' });
    assert.deepEqual(oldestFirst.items.map((m) => (m.value as { owner: string }).owner), ['carol', 'dave']);

    const carol = await client.query(CHAIN, 'basic', { selector: { owner: 'carol' } });
    assert.deepEqual(carol.items.map((e) => e.key), ['asset:rng-2']);
    await rejectsWith(client.query(CHAIN, 'basic', { selector: { size: { $gt: 1 } } }), 'QUERY_NOT_INDEXED');
  });

  it('waits for a commit by transaction id, and times out for one never sent', async () => {
    const signed = await client.propose({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('sdk-wait') });
    const submitting = client.submitSigned(signed);
    const seen = await client.waitForCommit(CHAIN, signed.txId, { timeoutMs: 10_000, intervalMs: 20 });
    const r = await submitting;
    assert.equal(seen.code, 'VALID');
    assert.equal(seen.block, r.blockNumber);
    const started = Date.now();
    const e = await rejectsWith(client.waitForCommit(CHAIN, 'ab'.repeat(32), { timeoutMs: 300, intervalMs: 50 }), 'COMMIT_TIMEOUT');
    assert.ok(e instanceof CommitError);
    assert.ok(Date.now() - started < 3000);
  });

  it('delivers committed blocks and contract events to subscribers, filtered by type', async () => {
    const { height } = await client.chain(CHAIN);
    const all: string[] = [];
    const blocksOnly: number[] = [];
    const eventsOnly: ContractEvent[] = [];
    const unasked: string[] = [];
    const full = client.subscribe(CHAIN, { from: height, onBlock: (b) => all.push(`block ${b.number}`), onContractEvent: (e) => all.push(`event ${e.block} ${e.name}`) });
    const blocks = client.subscribe(CHAIN, { from: height, types: ['block'], onBlock: (b) => blocksOnly.push(b.number), onContractEvent: (e) => unasked.push(`event ${e.name}`) });
    const events = client.subscribe(CHAIN, { from: height, types: ['contract'], onBlock: (b) => unasked.push(`block ${b.number}`), onContractEvent: (e) => eventsOnly.push(e) });
    try {
      const r1 = await client.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('sub-1') });
      const r2 = await client.submit({ chain: CHAIN, contract: 'basic', fn: 'transferAsset', args: { id: 'sub-1', newOwner: 'erin' } });
      await waitUntil(() => all.length >= 4 && blocksOnly.length >= 2 && eventsOnly.length >= 2, 10_000, 'deliveries');
      assert.deepEqual(all, [`event ${r1.blockNumber} AssetCreated`, `block ${r1.blockNumber}`, `event ${r2.blockNumber} AssetTransferred`, `block ${r2.blockNumber}`]);
      assert.deepEqual(blocksOnly, [r1.blockNumber, r2.blockNumber]);
      assert.deepEqual(eventsOnly.map((e) => [e.txId, e.contract, e.payload]), [[r1.txId, 'basic', { id: 'sub-1', owner: 'alice' }], [r2.txId, 'basic', { id: 'sub-1', from: 'alice', to: 'erin' }]]);
      assert.deepEqual(unasked, [], 'a type left out is not delivered');
    } finally {
      full.close();
      blocks.close();
      events.close();
    }
    assert.equal(await full.ended, undefined, 'close() ends it without an error');
  });

  it('replays from a given block, then keeps going live', async () => {
    const { height } = await client.chain(CHAIN);
    const seen: BlockEvent[] = [];
    const sub = client.subscribe(CHAIN, { from: 0, onBlock: (b) => seen.push(b) });
    try {
      await waitUntil(() => seen.length >= height, 10_000, 'replay');
      const r = await client.submit({ chain: CHAIN, contract: 'basic', fn: 'put', args: { key: 'replay', value: 'x' } });
      await waitUntil(() => seen.length >= height + 1, 10_000, 'the live block');
      assert.deepEqual(seen.map((b) => b.number), Array.from({ length: height + 1 }, (_, i) => i));
      assert.deepEqual(seen.at(-1)?.transactions, [{ txId: r.txId, code: 'VALID' }]);
      assert.equal(sub.lastBlock, r.blockNumber);
    } finally {
      sub.close();
    }
  });

  it('resumes after the connection drops, with no block or event missed or repeated', async () => {
    const { height } = await client.chain(CHAIN);
    const blocks: number[] = [];
    const events: string[] = [];
    const errors: SilkError[] = [];
    const gaveUp: SilkError[] = [];
    // The real fetch, watched: which Last-Event-ID each connection of the stream sends.
    const resumeIds: (string | null)[] = [];
    const watching = connect({
      url: t.url,
      fetch: (input, init) => {
        if ((typeof input === 'string' ? input : input instanceof URL ? input.href : input.url).includes('/events')) resumeIds.push(new Headers(init?.headers).get('last-event-id'));
        return fetch(input, init);
      },
    });
    const sub = watching.subscribe(CHAIN, {
      from: height,
      onBlock: (b) => blocks.push(b.number),
      onContractEvent: (e) => events.push(`${e.block}:${(e.payload as { id: string }).id}`),
      onError: (e, willRetry) => {
        (willRetry ? errors : gaveUp).push(e);
      },
    });
    try {
      const r1 = await client.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('drop-1') });
      await waitUntil(() => blocks.includes(r1.blockNumber), 10_000, 'block before the drop');
      // Cut every connection the node holds, the event stream's included.
      t.api.app.server.closeAllConnections();
      await waitUntil(() => errors.length > 0, 10_000, 'the subscription to notice the drop');
      assert.equal(errors[0]?.code, 'UNREACHABLE');
      // Blocks committed while the subscriber is away.
      const r2 = await client.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('drop-2') });
      const r3 = await client.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('drop-3') });
      await waitUntil(() => blocks.includes(r3.blockNumber), 15_000, 'blocks after the reconnection');
      assert.deepEqual(blocks, Array.from({ length: r3.blockNumber - height + 1 }, (_, i) => height + i));
      assert.deepEqual(events, [`${r1.blockNumber}:drop-1`, `${r2.blockNumber}:drop-2`, `${r3.blockNumber}:drop-3`]);
      assert.equal(errors.length, 1, 'one drop, one reconnection');
      assert.deepEqual(gaveUp, []);
      assert.deepEqual(resumeIds, [null, String(r1.blockNumber)], 'the reconnection resumes after the last block received');
    } finally {
      sub.close();
    }
  });

  it('ends a subscription the node refuses, with its error', async () => {
    const errors: [string, boolean][] = [];
    const sub = client.subscribe('nochain', { onError: (e, willRetry) => errors.push([e.code, willRetry]) });
    const ended = await sub.ended;
    assert.equal(ended?.code, 'UNKNOWN_CHAIN');
    assert.deepEqual(errors, [['UNKNOWN_CHAIN', false]]);
  });
});

describe('SDK against a node at capacity', () => {
  it('sends a submit the gateway turned away again after the seconds it asked for, and passes the refusal on when told not to', async () => {
    // One submission at a time, none waiting: of three sent together, two are turned away at once (Retry-After 2 s).
    const t = await openTestApi({ admission: { minInFlight: 1, maxInFlight: 1, maxQueued: 0, targetLatencyMs: 1_500 } });
    try {
      const signer = t.net.identity('Org1', 'alice');
      const patient = connect({ url: t.url, signer });
      const startedAt = Date.now();
      const results = await Promise.all([0, 1, 2].map((i) => patient.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset(`patient-${i}`) })));
      assert.deepEqual(results.map((r) => r.code), ['VALID', 'VALID', 'VALID']);
      assert.ok(Date.now() - startedAt >= 2_000, 'the refused ones were sent again before the 2 s the node asked for');
      const stats = t.net.gateway('Org1').admissionStats().get(CHAIN);
      assert.ok((stats?.refused ?? 0) >= 2, `refused ${stats?.refused}`);

      const impatient = connect({ url: t.url, signer, busyRetries: 0 });
      const outcomes = await Promise.allSettled([0, 1, 2].map((i) => impatient.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset(`impatient-${i}`) })));
      const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      assert.equal(refused.length, 2);
      for (const r of refused) {
        assert.ok(isSilkError(r.reason, 'GATEWAY_BUSY'), String(r.reason));
        assert.equal(r.reason.details.retryAfterSeconds, 2);
      }
      assert.throws(() => connect({ url: t.url, busyRetries: -1 }), (e: unknown) => isSilkError(e, 'INVALID_ARGUMENT') && /busyRetries must be an integer from 0 to 10/.test(e.message));
    } finally {
      await t.close();
    }
  });
});

describe('SDK when the node cannot answer', () => {
  it('reports a closed port as UNREACHABLE', async () => {
    const server = createServer();
    const url = await listen(server);
    await new Promise((resolve) => server.close(resolve));
    const e = await rejectsWith(connect({ url }).health(), 'UNREACHABLE');
    assert.match(e.message, /ECONNREFUSED/);
  });

  it('reports a node that does not answer in time as UNREACHABLE, naming the transaction a submit may have left', async () => {
    const server = createServer(() => undefined);
    const url = await listen(server);
    try {
      const silent = connect({ url, timeoutMs: 200 });
      const e = await rejectsWith(silent.health(), 'UNREACHABLE');
      assert.match(e.message, /no answer within 200 ms/);
      const signed = createProposal({ chain: CHAIN, contract: 'basic', version: '1.0', fn: 'put', args: { key: 'k', value: 'v' } }, generateSigner());
      const lost = await rejectsWith(silent.submitSigned(signed), 'UNREACHABLE');
      assert.equal(lost.details.txId, signed.txId);
      assert.match(lost.message, new RegExp(`transaction ${signed.txId} may still commit`));
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('reports an answer that is not the API (a proxy error page) as BAD_RESPONSE with the status', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>Bad Gateway</body></html>');
    });
    const url = await listen(server);
    try {
      const e = await rejectsWith(connect({ url }).chains(), 'BAD_RESPONSE');
      assert.equal(e.details.httpStatus, 502);
      assert.match(e.message, /Bad Gateway/);
    } finally {
      server.close();
    }
  });
});

describe('SDK across a contract upgrade', () => {
  /** basic as the alliance's next build ships it: same functions, version 1.1. */
  const v10 = new BasicContract();
  const basicV11: Contract = { name: v10.name, version: '1.1', indexes: v10.indexes, functions: v10.functions };

  it('re-signs once for the version the chain runs when its cached one is refused', async () => {
    const dir = tempDir();
    const open = async (contract: Contract, port: number): Promise<{ net: EmbeddedNetwork; api: ApiServer; url: string }> => {
      const net = await openEmbeddedNetwork({ dataDir: dir.path, spec: THREE_ORG_SPEC, contracts: [contract], parallelVerify: false, commitTimeoutMs: 10_000 });
      const api = await createApiServer({ backend: embeddedApiBackend(net, { org: 'Org1' }), rateLimitPerMinute: 0 });
      return { net, api, url: await api.listen({ port }) };
    };
    let node = await open(new BasicContract(), 0);
    try {
      const client = connect({ url: node.url, signer: node.net.identity('Org1', 'alice') });
      const before = await client.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('up-1') });
      assert.equal((await client.transaction(CHAIN, before.txId)).contractVersion, '1.0');

      // The admins define basic 1.1 on the chain, then the node restarts with the new build.
      const config = node.net.peers[0]!.config(CHAIN);
      const upgraded = { ...config, sequence: config.sequence + 1, contracts: { ...config.contracts, basic: { ...config.contracts.basic!, version: '1.1' } } };
      const admins = ['Org1', 'Org2', 'Org3'].map((org) => node.net.identity(org, 'admin'));
      const committed = await node.net.gateway('Org1').submitEnvelope(CHAIN, createConfigTransaction(upgraded, admins[0]!, admins));
      assert.equal(committed.code, 'VALID');
      const port = Number(new URL(node.url).port);
      await node.api.close();
      await node.net.close();
      node = await open(basicV11, port);

      // The client still holds 1.0: the node refuses it, the client reads 1.1 and signs again.
      const after = await client.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('up-2') });
      assert.equal((await client.transaction(CHAIN, after.txId)).contractVersion, '1.1');
      assert.deepEqual(await client.evaluate({ chain: CHAIN, contract: 'basic', fn: 'readAsset', args: { id: 'up-2' } }), asset('up-2'));
    } finally {
      await node.api.close();
      await node.net.close();
      dir.cleanup();
    }
  });
});
