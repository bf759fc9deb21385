import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { toHex } from '../crypto/hash.js';
import { verifyReceipt } from '../ledger/receipt.js';
import { BasicContract } from '../contracts/basic/basic-contract.js';
import { isSilkError } from '../errors.js';
import { openTestNetwork, tempDir, waitUntil } from '../testing/fixtures.js';
import { openEmbeddedNetwork, type ChainSpec, type EmbeddedNetwork, type NetworkSpec } from './embedded-network.js';

describe('embedded network', () => {
  let net: EmbeddedNetwork & { cleanupDir(): void };
  before(async () => {
    net = await openTestNetwork();
  });
  after(async () => {
    await net.close();
    net.cleanupDir();
  });

  it('commits a transaction at every peer and returns a receipt that verifies', async () => {
    const alice = net.identity('Org1', 'alice');
    const r = await net.gateway('Org1').submit({ chain: 'trade', contract: 'basic', fn: 'createAsset', args: { id: 'a1', owner: 'alice', colour: 'red', size: 5, appraisedValue: 1000 } }, alice);
    assert.equal(r.code, 'VALID');
    assert.ok(r.blockNumber >= 1);
    const config = net.peers[0]!.config('trade');
    const trust = { orderers: config.orderers, peers: net.peers.map((p) => toHex(p.publicKey)) };
    assert.deepEqual(verifyReceipt(r.receipt, trust), { ok: true });
    const tampered = { ...r.receipt, code: 'MVCC_READ_CONFLICT' as const };
    assert.equal(verifyReceipt(tampered, trust).ok, false);
    // Every peer reaches the same height and commit hash.
    await waitUntil(() => net.peers.every((p) => p.height('trade') > r.blockNumber), 10_000, `every peer past block ${r.blockNumber}`);
    const heights = net.peers.map((p) => p.height('trade'));
    assert.deepEqual(new Set(heights).size, 1);
    const hashes = net.peers.map((p) => p.committedBlock('trade', r.blockNumber)!.commitHash);
    assert.equal(new Set(hashes).size, 1);
    const value = net.gateway('Org2').evaluate({ chain: 'trade', contract: 'basic', fn: 'readAsset', args: { id: 'a1' } }, net.identity('Org2', 'bob'));
    assert.deepEqual(value, { id: 'a1', owner: 'alice', colour: 'red', size: 5, appraisedValue: 1000 });
  });
});

describe('chains and subscriptions', () => {
  it('keeps chains apart: own members, own ordering stream, own ledger', async () => {
    const net = await openTestNetwork({ spec: {
      orgs: [{ name: 'Org1', users: ['alice'] }, { name: 'Org2' }, { name: 'Org3', users: ['carol'] }],
      chains: [
        { name: 'trade', contracts: [{ name: 'basic', policy: "OR('Org1.peer', 'Org2.peer', 'Org3.peer')" }], batch: { timeoutMs: 5 } },
        { name: 'product', orgs: ['Org1', 'Org2'], contracts: [{ name: 'basic', policy: "AND('Org1.peer', 'Org2.peer')" }], batch: { timeoutMs: 5 } },
      ],
    } });
    try {
      const alice = net.identity('Org1', 'alice');
      const asset = { id: 'p1', owner: 'alice', colour: 'blue', size: 1, appraisedValue: 5 };
      const r = await net.gateway('Org1').submit({ chain: 'product', contract: 'basic', fn: 'createAsset', args: asset }, alice);
      assert.equal(r.code, 'VALID');
      assert.deepEqual(net.peer('peer0.org3').chains(), ['trade']);
      assert.throws(() => net.peer('peer0.org3').height('product'), { code: 'UNKNOWN_CHAIN' });
      assert.throws(() => net.gateway('Org1').evaluate({ chain: 'trade', contract: 'basic', fn: 'readAsset', args: { id: 'p1' } }, alice), { code: 'CONTRACT_ERROR' });
      // Org3's user is no member of `product`: the peers refuse to endorse for it.
      await assert.rejects(net.gateway('Org1').submit({ chain: 'product', contract: 'basic', fn: 'createAsset', args: { ...asset, id: 'p2' } }, net.identity('Org3', 'carol')), { code: 'UNKNOWN_CREATOR' });
      assert.equal(net.orderer.height('product'), net.peer('peer0.org1').height('product'));
      assert.equal(net.orderer.height('trade'), 1, 'trade saw no block of product');
      assert.equal(net.peer('peer0.org1').height('trade'), 1);
    } finally {
      await net.close();
      net.cleanupDir();
    }
  });

  it('delivers every committed block exactly once to a subscriber that resumes from a block number', async () => {
    const net = await openTestNetwork();
    try {
      const gw = net.gateway('Org1');
      const alice = net.identity('Org1', 'alice');
      for (let i = 0; i < 5; i++) await gw.submit({ chain: 'trade', contract: 'basic', fn: 'createAsset', args: { id: `s${i}`, owner: 'alice', colour: 'red', size: i, appraisedValue: 1 } }, alice);
      const peer = net.peer('peer0.org2');
      const seen: number[] = [];
      const events: string[] = [];
      const first = peer.subscribe('trade', 0, (b) => {
        seen.push(b.number);
        for (const e of b.events) for (const ev of e.events) events.push(ev.name);
      });
      const heightAtStop = peer.height('trade');
      first();
      // Resume after a disconnect from the next block, while new blocks arrive.
      const resumed = peer.subscribe('trade', heightAtStop, (b) => {
        seen.push(b.number);
        for (const e of b.events) for (const ev of e.events) events.push(ev.name);
      });
      for (let i = 5; i < 8; i++) await gw.submit({ chain: 'trade', contract: 'basic', fn: 'createAsset', args: { id: `s${i}`, owner: 'alice', colour: 'red', size: i, appraisedValue: 1 } }, alice);
      // Org1's gateway answered once Org1's peer committed; the subscriber's peer gets there on its own.
      await waitUntil(() => peer.height('trade') === net.orderer.height('trade'), 10_000, 'peer0.org2 at the orderer height');
      resumed();
      const height = peer.height('trade');
      assert.deepEqual(seen, Array.from({ length: height }, (_, i) => i));
      assert.equal(events.filter((e) => e === 'AssetCreated').length, 8);
    } finally {
      await net.close();
      net.cleanupDir();
    }
  });
});

describe('block delivery', () => {
  it('a block delivered again is a no-op, and a different block under a committed number is refused', async () => {
    const net = await openTestNetwork();
    try {
      const r = await net.gateway('Org1').submit({ chain: 'trade', contract: 'basic', fn: 'createAsset', args: { id: 'd1', owner: 'alice', colour: 'red', size: 1, appraisedValue: 1 } }, net.identity('Org1'));
      // The gateway's own peer has surely committed the block when submit returns.
      const peer = net.peer('peer0.org1');
      const bytes = peer.blockBytes('trade', r.blockNumber)!;
      const height = peer.height('trade');
      const again = await peer.deliver(bytes);
      assert.equal(again.number, r.blockNumber);
      assert.equal(again.commitHash, peer.committedBlock('trade', r.blockNumber)!.commitHash);
      assert.equal(peer.height('trade'), height);
      const forged = new Uint8Array(bytes);
      forged[forged.length - 3] = (forged[forged.length - 3]! + 1) % 256;
      await assert.rejects(peer.deliver(forged), { code: 'BAD_BLOCK' });
      assert.equal(peer.height('trade'), height);
    } finally {
      await net.close();
      net.cleanupDir();
    }
  });
});

describe('a network that fails to open', () => {
  it('names the cause, leaves no thread or file open, and the same folder opens once the cause is fixed', async () => {
    const dir = tempDir('silk-open-fails-');
    try {
      const threads = (): number => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
      const before = threads();
      // The first chain is created; the second names a contract that is not installed.
      const spec: NetworkSpec = {
        orgs: [{ name: 'Org1' }],
        chains: [
          { name: 'c0', contracts: [{ name: 'basic', policy: "OR('Org1.peer')" }] },
          { name: 'c1', contracts: [{ name: 'missing', policy: "OR('Org1.peer')" }] },
        ],
      };
      await assert.rejects(openEmbeddedNetwork({ dataDir: dir.path, spec, contracts: [new BasicContract()], parallelVerify: true }), (e: unknown) => isSilkError(e, 'UNKNOWN_CONTRACT') && /chain c1 names contract missing/.test(e.message));
      // The verify threads and the ledgers' writer threads were stopped: nothing keeps a program
      // that caught the error from exiting.
      assert.equal(threads(), before);
      const fixed: NetworkSpec = { ...spec, chains: [spec.chains[0] as ChainSpec, { name: 'c1', contracts: [{ name: 'basic', policy: "OR('Org1.peer')" }] }] };
      const net = await openEmbeddedNetwork({ dataDir: dir.path, spec: fixed, contracts: [new BasicContract()], parallelVerify: true });
      try {
        assert.deepEqual(net.orderer.chains().sort(), ['c0', 'c1']);
        const r = await net.gateway('Org1').submit({ chain: 'c1', contract: 'basic', fn: 'createAsset', args: { id: 'x1', owner: 'o', colour: 'red', size: 1, appraisedValue: 1 } }, net.identity('Org1'));
        assert.equal(r.code, 'VALID');
      } finally {
        await net.close();
      }
      assert.equal(threads(), before);
    } finally {
      dir.cleanup();
    }
  });
});
