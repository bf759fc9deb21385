import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Signer } from '../../crypto/p256.js';
import type { JsonValue } from '../../ledger/json-value.js';
import { openEmbeddedNetwork, type EmbeddedNetwork, type NetworkSpec } from '../../network/embedded-network.js';
import { tempDir } from '../../testing/fixtures.js';
import { BasicContract } from '../basic/basic-contract.js';
import { AnchorContract, type AnchoredHeader } from './anchor-contract.js';

/** Two orgs; `trade` runs `basic`, `anchor` runs the contract under test. */
const SPEC: NetworkSpec = {
  orgs: [{ name: 'Org1', users: ['alice'] }, { name: 'Org2' }],
  chains: [
    { name: 'trade', contracts: [{ name: 'basic', policy: "OR('Org1.peer', 'Org2.peer')" }], batch: { timeoutMs: 5 } },
    { name: 'anchor', contracts: [{ name: 'anchor', policy: "OR('Org1.peer', 'Org2.peer')" }], batch: { timeoutMs: 5 } },
  ],
};

const hashOf = (n: number): string => n.toString(16).padStart(64, '0');
const header = (chain: string, n: number): { chain: string; number: number; hash: string; timestamp: number } => ({ chain, number: n, hash: hashOf(n), timestamp: 1_700_000_000_000 + n });

describe('anchor contract', () => {
  let net: EmbeddedNetwork;
  let dir: ReturnType<typeof tempDir>;
  let admin: Signer;
  before(async () => {
    dir = tempDir();
    net = await openEmbeddedNetwork({ dataDir: dir.path, spec: SPEC, contracts: [new BasicContract(), new AnchorContract()], parallelVerify: false, commitTimeoutMs: 10_000 });
    admin = net.identity('Org1', 'admin');
  });
  after(async () => {
    await net.close();
    dir.cleanup();
  });

  const anchor = (headers: JsonValue, signer: Signer = admin): ReturnType<ReturnType<EmbeddedNetwork['gateway']>['submit']> =>
    net.gateway('Org1').submit({ chain: 'anchor', contract: 'anchor', fn: 'anchorHeaders', args: { headers } }, signer);
  const read = (fn: string, args: JsonValue): JsonValue | undefined => net.gateway('Org1').evaluate({ chain: 'anchor', contract: 'anchor', fn, args }, net.identity('Org1', 'alice'));

  it("anchors a chain's real header, keyed by chain and number, and emits `anchored`", async () => {
    const peer = net.peer('peer0.org1');
    const genesis = peer.committedBlock('trade', 0)!;
    const dataHash = 'ab'.repeat(32);
    const r = await anchor([{ chain: 'trade', number: 0, hash: genesis.hash, dataHash, timestamp: genesis.timestamp }, header('product', 7)]);
    assert.equal(r.code, 'VALID');
    assert.deepEqual(r.response, { anchored: 2 });

    const expected: AnchoredHeader = { chain: 'trade', number: 0, hash: genesis.hash, dataHash, timestamp: genesis.timestamp, anchoredAt: (read('latestAnchor', { chain: 'trade' }) as AnchoredHeader).anchoredAt, txId: r.txId, anchoredBy: 'Org1/admin' };
    assert.deepEqual(read('latestAnchor', { chain: 'trade' }), expected);
    assert.deepEqual(read('anchorOf', { chain: 'trade', number: 0 }), expected);
    assert.equal((read('latestAnchor', { chain: 'product' }) as AnchoredHeader).dataHash, null, 'an absent dataHash is stored as null');
    assert.equal(read('anchorOf', { chain: 'trade', number: 1 }), null);
    assert.equal(read('latestAnchor', { chain: 'logistics' }), null);
    // The proposal time, not a clock: within the chain's window of the block time.
    const block = peer.committedBlock('anchor', r.blockNumber)!;
    assert.ok(Math.abs(expected.anchoredAt - block.timestamp) < 300_000);

    const events = block.events.filter((e) => e.txId === r.txId).flatMap((e) => e.events);
    assert.deepEqual(events.map((e) => e.name), ['anchored']);
    assert.deepEqual(JSON.parse(events[0]!.payload), { headers: [{ chain: 'trade', number: 0, hash: genesis.hash }, { chain: 'product', number: 7, hash: hashOf(7) }] });
  });

  it('lists a chain’s anchors in number order across digit boundaries, by range and by page', async () => {
    // One call may carry several headers of one chain, each above the previous.
    const r = await anchor([1, 2, 9, 10, 11, 100].map((n) => header('trade', n)));
    assert.equal(r.code, 'VALID');
    const numbers = (args: Record<string, JsonValue>): number[] => ((read('listAnchors', { chain: 'trade', ...args }) as { items: AnchoredHeader[] }).items).map((a) => a.number);
    assert.deepEqual(numbers({}), [0, 1, 2, 9, 10, 11, 100]);
    assert.deepEqual(numbers({ fromNumber: 2, toNumber: 11 }), [2, 9, 10]);
    assert.deepEqual(numbers({ fromNumber: 11, toNumber: 11 }), []);
    assert.deepEqual(numbers({ fromNumber: 50, toNumber: 3 }), []);
    assert.deepEqual(numbers({ chain: 'product' }), [7]);

    const paged: number[] = [];
    let bookmark: string | undefined;
    let pages = 0;
    do {
      const page = read('listAnchors', { chain: 'trade', limit: 3, ...(bookmark === undefined ? {} : { bookmark }) }) as { items: AnchoredHeader[]; bookmark?: string };
      paged.push(...page.items.map((a) => a.number));
      bookmark = page.bookmark;
      pages += 1;
    } while (bookmark !== undefined);
    assert.deepEqual(paged, [0, 1, 2, 9, 10, 11, 100]);
    assert.equal(pages, 3);

    assert.equal((read('latestAnchor', { chain: 'trade' }) as AnchoredHeader).number, 100);
    const latest = (read('latestAnchors', {}) as { items: AnchoredHeader[] }).items;
    assert.deepEqual(latest.map((a) => [a.chain, a.number]), [['product', 7], ['trade', 100]]);
  });

  it('refuses a number not above the latest anchor, and leaves state unchanged', async () => {
    await assert.rejects(anchor([header('trade', 100)]), { code: 'CONTRACT_ERROR', message: /block 100 of trade is not above its latest anchored block 100/ });
    await assert.rejects(anchor([header('trade', 50)]), { code: 'CONTRACT_ERROR', message: /not above/ });
    // Within one call too: the second header is below the first; nothing of the call is kept.
    await assert.rejects(anchor([header('trade', 200), header('trade', 150)]), { code: 'CONTRACT_ERROR', message: /block 150 of trade is not above its latest anchored block 200/ });
    await assert.rejects(anchor([header('product', 8), header('trade', 99)]), { code: 'CONTRACT_ERROR' });
    assert.equal((read('latestAnchor', { chain: 'trade' }) as AnchoredHeader).number, 100);
    assert.equal((read('latestAnchor', { chain: 'product' }) as AnchoredHeader).number, 7);
    assert.equal(read('anchorOf', { chain: 'trade', number: 200 }), null);
  });

  it('refuses bad hashes, bad shapes and anchoring its own chain', async () => {
    const bad: JsonValue[] = [
      [{ ...header('trade', 101), hash: 'AB'.repeat(32) }], // upper case: one spelling per hash
      [{ ...header('trade', 101), hash: 'ab'.repeat(31) }], // 62 hex digits
      [{ ...header('trade', 101), hash: `${'ab'.repeat(31)}zz` }],
      [{ ...header('trade', 101), dataHash: 'xyz' }],
      [{ ...header('trade', 101), number: -1 }],
      [{ ...header('trade', 101), number: 1.5 }],
      [{ ...header('trade', 101), chain: 'bad:chain' }],
      [{ ...header('trade', 101), extra: 1 }],
      [],
    ];
    for (const headers of bad) await assert.rejects(anchor(headers), { code: 'INVALID_ARGUMENT' }, JSON.stringify(headers));
    await assert.rejects(anchor([header('anchor', 1)]), { code: 'CONTRACT_ERROR', message: /does not anchor its own headers/ });
    assert.equal((read('latestAnchor', { chain: 'trade' }) as AnchoredHeader).number, 100);
  });

  it('lets only admins and peers anchor; any member may read', async () => {
    await assert.rejects(anchor([header('trade', 101)], net.identity('Org1', 'alice')), { code: 'CONTRACT_ERROR', message: /anchorHeaders needs role admin or peer/ });
    const byPeer = await anchor([header('trade', 101)], net.identity('Org2', 'peer0.org2'));
    assert.equal(byPeer.code, 'VALID');
    const byAdmin = await anchor([header('trade', 102)], net.identity('Org2', 'admin'));
    assert.equal(byAdmin.code, 'VALID');
    assert.equal((read('anchorOf', { chain: 'trade', number: 101 }) as AnchoredHeader).anchoredBy, 'Org2/peer0.org2');
    assert.equal((read('latestAnchor', { chain: 'trade' }) as AnchoredHeader).anchoredBy, 'Org2/admin');
    // Queries are refused as submitted transactions.
    await assert.rejects(net.gateway('Org1').submit({ chain: 'anchor', contract: 'anchor', fn: 'latestAnchor', args: { chain: 'trade' } }, admin), { code: 'INVALID_ARGUMENT' });
  });
});
