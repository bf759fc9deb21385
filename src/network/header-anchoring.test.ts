import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { AnchorContract, type AnchoredHeader } from '../contracts/anchor/anchor-contract.js';
import { BasicContract } from '../contracts/basic/basic-contract.js';
import { toHex } from '../crypto/hash.js';
import { SubmitError } from '../errors.js';
import { decodeBlock } from '../ledger/block.js';
import { tempDir, waitUntil } from '../testing/fixtures.js';
import { openEmbeddedNetwork, type EmbeddedNetwork, type NetworkSpec } from './embedded-network.js';
import { startHeaderAnchoring } from './header-anchoring.js';

/** Org1 is on `trade` and `product` but not on `logistics`, so it cannot anchor `logistics`. */
const SPEC: NetworkSpec = {
  orgs: [{ name: 'Org1', users: ['alice'] }, { name: 'Org2', users: ['bob'] }],
  chains: [
    { name: 'trade', contracts: [{ name: 'basic', policy: "OR('Org1.peer', 'Org2.peer')" }], batch: { timeoutMs: 5 } },
    { name: 'product', contracts: [{ name: 'basic', policy: "OR('Org1.peer', 'Org2.peer')" }], batch: { timeoutMs: 5 } },
    { name: 'logistics', orgs: ['Org2'], contracts: [{ name: 'basic', policy: "OR('Org2.peer')" }], batch: { timeoutMs: 5 } },
    { name: 'anchor', contracts: [{ name: 'anchor', policy: "OR('Org1.peer', 'Org2.peer')" }], batch: { timeoutMs: 5 } },
  ],
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('header anchoring', () => {
  let net: EmbeddedNetwork;
  let dir: ReturnType<typeof tempDir>;
  let assetCount = 0;
  before(async () => {
    dir = tempDir();
    net = await openEmbeddedNetwork({ dataDir: dir.path, spec: SPEC, contracts: [new BasicContract(), new AnchorContract()], parallelVerify: false, commitTimeoutMs: 10_000 });
  });
  after(async () => {
    await net.close();
    dir.cleanup();
  });

  /** Commits one `basic` transaction on `chain`; returns its block number. */
  const commitOn = async (chain: string): Promise<number> => {
    const r = await net.gateway('Org1').submit({ chain, contract: 'basic', fn: 'createAsset', args: { id: `a${++assetCount}`, owner: 'alice', colour: 'red', size: 1, appraisedValue: 1 } }, net.identity('Org1', 'alice'));
    assert.equal(r.code, 'VALID');
    return r.blockNumber;
  };
  const latest = (chain: string): AnchoredHeader | null => net.gateway('Org1').evaluate({ chain: 'anchor', contract: 'anchor', fn: 'latestAnchor', args: { chain } }, net.identity('Org1', 'alice')) as AnchoredHeader | null;
  const anchorHeight = (): number => net.peer('peer0.org1').height('anchor');

  it('anchors the chains that moved in one transaction, and sends nothing when idle', async () => {
    const anchoring = startHeaderAnchoring(net, { org: 'Org1', intervalMs: 3_600_000 });
    try {
      const start = anchorHeight();
      assert.equal(await anchoring.anchorNow(), 2, 'trade and product genesis; logistics has no Org1 peer');
      assert.equal(anchorHeight(), start + 1, 'one transaction, one block');
      assert.equal(latest('trade')?.number, 0);
      assert.equal(latest('product')?.number, 0);
      assert.equal(latest('logistics'), null);
      assert.equal(latest('anchor'), null, 'the anchor chain does not anchor itself');

      assert.equal(await anchoring.anchorNow(), 0);
      assert.equal(anchorHeight(), start + 1, 'nothing moved: no transaction');

      const n = await commitOn('trade');
      assert.equal(await anchoring.anchorNow(), 1, 'only trade moved');
      assert.equal(anchorHeight(), start + 2);
      const peer = net.peer('peer0.org1');
      const header = decodeBlock(peer.blockBytes('trade', n)!).header;
      const anchored = latest('trade')!;
      assert.equal(anchored.number, n);
      assert.equal(anchored.hash, peer.committedBlock('trade', n)!.hash);
      assert.equal(anchored.dataHash, toHex(header.dataHash));
      assert.equal(anchored.timestamp, header.timestamp);
      assert.equal(anchored.anchoredBy, 'Org1/admin');
      assert.equal(latest('product')?.number, 0, 'product did not move and was not re-anchored');
    } finally {
      await anchoring.stop();
    }
  });

  it('runs periodically: anchors new blocks once, stays quiet when idle, and stops cleanly', async () => {
    const anchoring = startHeaderAnchoring(net, { org: 'Org1', intervalMs: 10 });
    // A committed anchor is readable a moment before the peer reports its new height: wait
    // until the peer has every block the orderer cut before counting blocks.
    const settled = (): Promise<void> => waitUntil(() => anchorHeight() === net.orderer.height('anchor'), 10_000, 'the anchor chain is settled');
    try {
      const n = await commitOn('product');
      await waitUntil(() => latest('product')?.number === n, 10_000, `product block ${n} is anchored`);
      await settled();
      const quiet = anchorHeight();
      await sleep(150);
      assert.equal(anchorHeight(), quiet, 'idle intervals send no transaction');

      const m = await commitOn('trade');
      await waitUntil(() => latest('trade')?.number === m, 10_000, `trade block ${m} is anchored`);
      await sleep(100);
      await settled();
      assert.equal(anchorHeight(), quiet + 1, 'one block moved: one anchor transaction');

      await anchoring.stop();
      const stoppedAt = anchorHeight();
      const k = await commitOn('trade');
      await sleep(100);
      assert.equal(anchorHeight(), stoppedAt, 'no run after stop()');
      assert.equal(latest('trade')?.number, m);
      await assert.rejects(anchoring.anchorNow(), { code: 'SHUTTING_DOWN' });
      assert.ok(k > m);
    } finally {
      await anchoring.stop();
    }
  });

  it('stop() waits for the run in flight to commit', async () => {
    const anchoring = startHeaderAnchoring(net, { org: 'Org1', intervalMs: 3_600_000 });
    const n = await commitOn('trade');
    const run = anchoring.anchorNow();
    await anchoring.stop();
    // No wait: the anchor transaction committed before stop() resolved.
    assert.equal(latest('trade')?.number, n);
    assert.equal(await run, 1);
  });

  it('logs failed runs and tries again at the next interval, without throwing', async () => {
    const lines: { level: number; msg: string; headers?: string[] }[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as { level: number; msg: string }); } });
    let orderingDown = true;
    // The same network, with a gateway whose ordering fails until `orderingDown` is cleared.
    const flaky: EmbeddedNetwork = {
      ...net,
      gateway: (org) => {
        const real = net.gateway(org);
        return { ...real, submit: (params, signer) => (orderingDown ? Promise.reject(new SubmitError('ORDERING_UNAVAILABLE', 'ordering is down')) : real.submit(params, signer)) };
      },
    };
    const n = await commitOn('trade');
    const anchoring = startHeaderAnchoring(flaky, { org: 'Org1', intervalMs: 10, logger });
    try {
      await waitUntil(() => lines.filter((l) => l.level === 50).length >= 3, 10_000, 'three failed runs are logged');
      assert.match(lines.find((l) => l.level === 50)!.msg, /header anchoring failed/);
      assert.notEqual(latest('trade')?.number, n);
      orderingDown = false;
      await waitUntil(() => latest('trade')?.number === n, 10_000, `trade block ${n} is anchored after recovery`);
      await waitUntil(() => lines.some((l) => l.level === 30 && l.msg === 'block headers anchored'), 10_000, 'the successful run is logged');
      assert.deepEqual(lines.find((l) => l.level === 30)?.headers, [`trade#${n}`]);
    } finally {
      await anchoring.stop();
    }
  });

  it('refuses an interval that is not a positive integer', () => {
    for (const intervalMs of [0, -5, 1.5, Number.NaN]) assert.throws(() => startHeaderAnchoring(net, { org: 'Org1', intervalMs }), RangeError);
  });
});
