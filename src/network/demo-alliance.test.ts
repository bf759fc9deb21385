import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AnchoredHeader } from '../contracts/anchor/anchor-contract.js';
import { toHex } from '../crypto/hash.js';
import type { JsonValue } from '../ledger/json-value.js';
import { verifyLedgerFile } from '../peer/ledger-verifier.js';
import { tempDir } from '../testing/fixtures.js';
import { DEMO_CONTRACTS, DEMO_IDENTITIES, seedDemoAlliance, type SeedSummary } from './demo-alliance.js';
import { DEMO_SPEC } from './demo-spec.js';
import { openEmbeddedNetwork, type EmbeddedNetwork } from './embedded-network.js';
import { anchorLatestHeaders } from './header-anchoring.js';

const open = (dataDir: string): Promise<EmbeddedNetwork> => openEmbeddedNetwork({ dataDir, spec: DEMO_SPEC, contracts: DEMO_CONTRACTS, parallelVerify: false, commitTimeoutMs: 10_000 });

/** Polls `condition` every 5 ms until it holds. @throws AssertionError after `timeoutMs` */
async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const membersOf = (chain: string): readonly string[] => DEMO_SPEC.chains.find((c) => c.name === chain)?.orgs ?? DEMO_SPEC.orgs.map((o) => o.name);

/** Reads with a user of `org` at `org`'s own peer. */
function read(net: EmbeddedNetwork, org: string, user: string, chain: string, contract: string, fn: string, args: JsonValue): JsonValue | undefined {
  return net.gateway(org).evaluate({ chain, contract, fn, args }, net.identity(org, user));
}

describe('demo alliance', () => {
  const dir = tempDir('silk-demo-');
  let net: EmbeddedNetwork;
  let summary: SeedSummary;
  const progress: [number, number][] = [];
  before(async () => {
    net = await open(dir.path);
    assert.equal(net.created, true);
    summary = await seedDemoAlliance(net, (done, total) => progress.push([done, total]));
  });
  after(async () => {
    await net.close();
    dir.cleanup();
  });

  it('has twelve orgs with one peer each and four chains with the right members', () => {
    assert.equal(net.peers.length, 12);
    assert.deepEqual(DEMO_SPEC.chains.map((c) => c.name), ['product', 'trade', 'logistics', 'anchor']);
    for (const chain of ['product', 'trade', 'logistics']) assert.ok(membersOf(chain).includes('Regulator'), `the Regulator is on ${chain}`);
    assert.equal(membersOf('anchor').length, 12);
    assert.deepEqual(net.peer('peer0.bankcn').chains().sort(), ['anchor', 'trade']);
    assert.deepEqual(net.peer('peer0.regulator').chains().sort(), ['anchor', 'logistics', 'product', 'trade']);
  });

  it('seeds through real transactions on every chain and reports them', async () => {
    assert.deepEqual(summary.transactions, { product: 5, trade: 5, logistics: 5, anchor: 1 });
    assert.equal(summary.anchoredHeaders, 3);
    assert.deepEqual(progress.at(-1), [16, 16]);
    assert.deepEqual(progress.map(([done]) => done), Array.from({ length: 16 }, (_, i) => i + 1));
    for (const chain of DEMO_SPEC.chains.map((c) => c.name)) {
      const height = summary.heights[chain]!;
      assert.equal(net.orderer.height(chain), height);
      assert.ok(height >= 2, `${chain} has blocks beyond genesis`);
      // Every member peer commits the same blocks; non-members never see the chain.
      const members = net.peers.filter((p) => membersOf(chain).includes(p.org));
      await until(() => members.every((p) => p.height(chain) === height), `every member of ${chain} reaches height ${height}`);
      assert.equal(new Set(members.map((p) => p.committedBlock(chain, height - 1)!.commitHash)).size, 1);
      for (const p of net.peers.filter((x) => !membersOf(chain).includes(x.org))) assert.ok(!p.chains().includes(chain));
    }
  });

  it('holds the seeded state, readable by members only', () => {
    assert.deepEqual(read(net, 'Platform', 'consumer', 'product', 'basic', 'readAsset', { id: 'silk-scarf-001' }), { id: 'silk-scarf-001', owner: 'SellerCN/yiwu-seller', colour: 'crimson', size: 1, appraisedValue: 2500 });
    assert.equal((read(net, 'SellerEU', 'madrid-seller', 'product', 'basic', 'readAsset', { id: 'olive-oil-101' }) as { owner: string }).owner, 'SellerEU/madrid-seller');
    assert.equal((read(net, 'BankCN', 'clerk', 'trade', 'basic', 'readAsset', { id: 'order-0001' }) as { owner: string }).owner, 'BankCN');
    assert.equal((read(net, 'BankEU', 'clerk', 'trade', 'basic', 'readAsset', { id: 'order-0002' }) as { owner: string }).owner, 'BankEU');
    assert.equal((read(net, 'CreditBureau', 'analyst', 'trade', 'basic', 'readAsset', { id: 'order-0003' }) as { owner: string }).owner, 'SellerCN/yiwu-seller');
    const history = read(net, 'Insurer', 'underwriter', 'logistics', 'basic', 'assetHistory', { id: 'shipment-cn-eu-0001' }) as { items: { value: { owner: string } }[] };
    assert.deepEqual(history.items.map((m) => m.value.owner), ['Logistics', 'CustomsEU', 'Warehouse']);
    // A bank has no peer on `product`, and its clerk is no member there.
    assert.throws(() => read(net, 'BankCN', 'clerk', 'product', 'basic', 'readAsset', { id: 'silk-scarf-001' }), { code: 'UNKNOWN_CHAIN' });
    assert.throws(() => net.gateway('Platform').evaluate({ chain: 'product', contract: 'basic', fn: 'readAsset', args: { id: 'silk-scarf-001' } }, net.identity('BankCN', 'clerk')), { code: 'UNKNOWN_CREATOR' });
  });

  it("anchors each chain's last seeded block, as every member peer holds it", () => {
    const regulator = net.peer('peer0.regulator');
    for (const chain of ['product', 'trade', 'logistics']) {
      const last = summary.heights[chain]! - 1;
      const anchored = read(net, 'Regulator', 'auditor', 'anchor', 'anchor', 'latestAnchor', { chain }) as AnchoredHeader;
      assert.equal(anchored.number, last);
      assert.equal(anchored.hash, regulator.committedBlock(chain, last)!.hash);
      assert.equal(anchored.anchoredBy, 'Platform/admin');
    }
  });

  it('lists identities that are what the chains say they are', () => {
    assert.equal(DEMO_IDENTITIES.filter((i) => i.role === 'admin').length, 12);
    assert.ok(DEMO_IDENTITIES.some((i) => i.org === 'Platform' && i.name === 'consumer' && i.role === 'client'));
    assert.ok(DEMO_IDENTITIES.some((i) => i.org === 'Regulator' && i.name === 'auditor' && i.chains.length === 4));
    for (const id of DEMO_IDENTITIES) {
      assert.ok(id.chains.includes('anchor'));
      for (const chain of id.chains) {
        const peer = net.peers.find((p) => p.chains().includes(chain))!;
        assert.deepEqual(peer.identity(chain, net.identity(id.org, id.name).publicKey), { org: id.org, role: id.role, name: id.name, key: toHex(net.identity(id.org, id.name).publicKey), ...(id.role === 'admin' ? { function: 'admin', level: 9 } : {}) }, `${id.org}/${id.name} on ${chain}`);
      }
    }
  });

  it('reopens from disk with the same chains and state, and every ledger verifies', async () => {
    await net.close();
    net = await open(dir.path);
    assert.equal(net.created, false);
    for (const chain of DEMO_SPEC.chains.map((c) => c.name)) {
      for (const p of net.peers.filter((x) => membersOf(chain).includes(x.org))) assert.equal(p.height(chain), summary.heights[chain], `${p.name} on ${chain}`);
    }
    assert.equal((read(net, 'Warehouse', 'warehouse-keeper', 'logistics', 'basic', 'readAsset', { id: 'shipment-cn-eu-0001' }) as { owner: string }).owner, 'Warehouse');
    // The anchors survived too: nothing moved, so nothing is anchored again.
    assert.deepEqual(await anchorLatestHeaders(net, { org: 'Platform' }), { headers: [] });

    const peersDir = join(dir.path, 'peers');
    const files = readdirSync(peersDir).flatMap((p) => readdirSync(join(peersDir, p)).filter((f) => f.endsWith('.sqlite')).map((f) => join(peersDir, p, f)));
    assert.equal(files.length, 8 + 8 + 9 + 12);
    for (const file of files) {
      const v = await verifyLedgerFile(file);
      assert.ok(v.ok, `${file}: ${JSON.stringify(v.problems)}`);
      assert.equal(v.blocks, summary.heights[v.chain!], file);
    }
  });
});
