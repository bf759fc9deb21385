import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AnchoredHeader } from '../contracts/anchor/anchor-contract.js';
import { toHex } from '../crypto/hash.js';
import { createSigner, privateKeyObjectOfScalar } from '../crypto/p256.js';
import { isKeystoreError, readKeystore } from '../keys/keystore.js';
import type { JsonValue } from '../ledger/json-value.js';
import { verifyLedgerFile } from '../peer/ledger-verifier.js';
import { tempDir, waitUntil } from '../testing/fixtures.js';
import { DEMO_CONTRACTS, DEMO_IDENTITIES, DEMO_PASSWORD, seedDemoAlliance, type SeedSummary } from './demo-alliance.js';
import { DEMO_SPEC } from './demo-spec.js';
import { DEMO_CONTAINER, DEMO_GTIN, DEMO_ITEM_COUNT, DEMO_LOT } from './demo-traceability.js';
import { openEmbeddedNetwork, type EmbeddedNetwork } from './embedded-network.js';
import { anchorLatestHeaders } from './header-anchoring.js';

/** The demo's HD keys, with a cheap scrypt (a test: `silk start` uses the default cost). */
const open = (dataDir: string): Promise<EmbeddedNetwork> => openEmbeddedNetwork({ dataDir, spec: DEMO_SPEC, contracts: DEMO_CONTRACTS, parallelVerify: false, commitTimeoutMs: 10_000, keys: { kind: 'hd', password: DEMO_PASSWORD, scrypt: { N: 1024, r: 8, p: 1 } } });

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const path = join(dir, f);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every identity's public key, by `org/name`. */
function publicKeys(net: EmbeddedNetwork): Map<string, string> {
  const ids = [...DEMO_IDENTITIES.map((i) => [i.org, i.name] as const), ...net.peers.map((p) => [p.org, p.name] as const), ['orderer', 'orderer0'] as const];
  return new Map(ids.map(([org, name]) => [`${org}/${name}`, toHex(net.identity(org, name).publicKey)]));
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
    // Each user's key on each chain of its org: 15 users, 48 registrations.
    assert.deepEqual(summary.registrations, { product: 10, trade: 11, logistics: 12, anchor: 15 });
    // On `product`: 5 assets, then the traceability story's 4 products transactions and 7 EPCIS captures.
    assert.deepEqual(summary.transactions, { product: 16, trade: 5, logistics: 5, anchor: 1 });
    assert.equal(summary.epcisEvents, 13);
    assert.equal(summary.anchoredHeaders, 3);
    assert.deepEqual(progress.at(-1), [75, 75]);
    assert.deepEqual(progress.map(([done]) => done), Array.from({ length: 75 }, (_, i) => i + 1));
    for (const chain of DEMO_SPEC.chains.map((c) => c.name)) {
      const height = summary.heights[chain]!;
      assert.equal(net.orderer.height(chain), height);
      assert.ok(height >= 2, `${chain} has blocks beyond genesis`);
      // Every member peer commits the same blocks; non-members never see the chain.
      const members = net.peers.filter((p) => membersOf(chain).includes(p.org));
      await waitUntil(() => members.every((p) => p.height(chain) === height), 10_000, `every member of ${chain} reaches height ${height}`);
      assert.equal(new Set(members.map((p) => p.committedBlock(chain, height - 1)!.commitHash)).size, 1);
      for (const p of net.peers.filter((x) => !membersOf(chain).includes(x.org))) assert.ok(!p.chains().includes(chain));
    }
  });

  it('records the scarves of the traceability story: lot, items and the EPCIS events of their journey', () => {
    const line = read(net, 'CustomsEU', 'officer', 'product', 'products', 'productLine', { gtin: DEMO_GTIN }) as { org: string; hsCode: string };
    assert.equal(line.org, 'SellerCN');
    assert.equal(line.hsCode, '621410');
    const lot = read(net, 'Regulator', 'auditor', 'product', 'products', 'itemsOfLot', { gtin: DEMO_GTIN, lot: DEMO_LOT, limit: 100 }) as { items: unknown[] };
    assert.equal(lot.items.length, DEMO_ITEM_COUNT);
    // Scarf 7's own events, asked for in its Digital Link form, each recorded by the org responsible.
    const events = read(net, 'Platform', 'consumer', 'product', 'epcis', 'eventsByEpc', { epc: `https://id.gs1.org/01/${DEMO_GTIN}/21/7` }) as { items: { event: { bizStep: string }; recordedBy: string }[] };
    assert.deepEqual(events.items.map((r) => [r.event.bizStep, r.recordedBy]), [['commissioning', 'SellerCN'], ['packing', 'SellerCN'], ['picking', 'Warehouse'], ['retail_selling', 'Platform']]);
    const container = read(net, 'Regulator', 'auditor', 'product', 'epcis', 'eventsByEpc', { epc: DEMO_CONTAINER }) as { items: { event: { bizStep: string }; recordedBy: string }[] };
    assert.deepEqual(container.items.map((r) => r.event.bizStep), ['loading', 'departing', 'arriving', 'inspecting', 'unloading']);
    assert.equal(container.items[3]?.recordedBy, 'CustomsEU');
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

  it('lists identities that are what the chains say they are: admins configured, users registered by their admin', () => {
    assert.equal(DEMO_IDENTITIES.filter((i) => i.role === 'admin').length, 12);
    assert.equal(DEMO_IDENTITIES.filter((i) => i.role === 'member').length, 15);
    assert.ok(DEMO_IDENTITIES.some((i) => i.org === 'Platform' && i.name === 'consumer' && i.role === 'member'));
    assert.ok(DEMO_IDENTITIES.some((i) => i.org === 'Regulator' && i.name === 'auditor' && i.function === 'audit' && i.level === 2 && i.chains.length === 4));
    const roleOf = (org: string, name: string): string => { const i = DEMO_IDENTITIES.find((x) => x.org === org && x.name === name)!; return `${i.function}@${i.level}`; };
    assert.equal(roleOf('SellerCN', 'yiwu-seller'), 'sales@3');
    assert.equal(roleOf('CustomsEU', 'officer'), 'customs@3');
    assert.equal(roleOf('BankCN', 'clerk'), 'finance@5');
    for (const id of DEMO_IDENTITIES) {
      assert.ok(id.chains.includes('anchor'));
      const key = toHex(net.identity(id.org, id.name).publicKey);
      for (const chain of id.chains) {
        const peer = net.peers.find((p) => p.chains().includes(chain))!;
        const config = peer.config(chain).orgs[id.org]!.members;
        if (id.role === 'admin') {
          assert.deepEqual(peer.identity(chain, net.identity(id.org, id.name).publicKey), { org: id.org, role: 'admin', name: 'admin', key, function: 'admin', level: 9 }, `${id.org}/admin on ${chain}`);
          continue;
        }
        // A user is no configuration member: its key is in the identity contract's registry,
        // certified by its org's admin key, with its function and level.
        assert.ok(!config.some((m) => m.key === key), `${id.org}/${id.name} is not configured on ${chain}`);
        const { record } = read(net, id.org, id.name, chain, 'identity', 'identityOf', { key }) as { record: { org: string; function: string; level: number; parent: string; status: string; kind: string; path: string } };
        assert.deepEqual({ org: record.org, function: record.function, level: record.level, parent: record.parent, status: record.status, kind: record.kind }, { org: id.org, function: id.function, level: id.level, parent: toHex(net.identity(id.org, 'admin').publicKey), status: 'active', kind: 'member' }, `${id.org}/${id.name} on ${chain}`);
        assert.deepEqual(peer.identity(chain, net.identity(id.org, id.name).publicKey), { org: id.org, role: 'member', name: record.path, key, function: id.function, level: id.level });
      }
    }
  });

  it('keeps every key in keystores under the demo password, with no key material in plaintext', async () => {
    const keysDir = join(dir.path, 'keys');
    const files = filesUnder(keysDir);
    assert.ok(files.length > 0);
    for (const f of files) assert.match(f, /\.keystore\.json$/, `only keystores under keys/: ${f}`);
    // Every file of the data folder, SQLite files included.
    const texts = filesUnder(dir.path).map((f) => [f, readFileSync(f, 'latin1')] as const);
    for (const [f, text] of texts) assert.ok(!text.includes('PRIVATE KEY'), `${f} holds no PEM private key`);
    for (const org of DEMO_SPEC.orgs) {
      const file = join(keysDir, org.name, 'mnemonic.keystore.json');
      const ks = await readKeystore(file, DEMO_PASSWORD);
      assert.equal(ks.kind, 'mnemonic');
      const words = (ks.secret).split(' ');
      assert.equal(words.length, 24);
      // No three of its words in a row appear in any file.
      for (const [f, text] of texts) {
        for (let i = 0; i + 3 <= words.length; i++) assert.ok(!text.includes(words.slice(i, i + 3).join(' ')), `${f} holds words of ${org.name}'s mnemonic`);
      }
      await assert.rejects(readKeystore(file, 'not-the-demo-password'), (e: unknown) => isKeystoreError(e, 'wrong-password'));
    }
    // Each user's keystore holds the key the network signs with, and opens with the demo password only.
    for (const u of net.userKeystores) {
      const ks = await readKeystore(u.file, DEMO_PASSWORD);
      assert.equal(ks.kind, 'private-key');
      assert.equal(toHex(ks.pubkey), toHex(net.identity(u.org, u.name).publicKey), u.file);
      await assert.rejects(readKeystore(u.file, 'silkledger-demo2'), (e: unknown) => isKeystoreError(e, 'wrong-password'));
    }
    assert.equal(net.userKeystores.length, 15);
    await assert.rejects(readKeystore(join(keysDir, 'orderer', 'orderer0.keystore.json'), 'x'), (e: unknown) => isKeystoreError(e, 'wrong-password'));
    const spec = readFileSync(join(dir.path, 'network.json'), 'utf8');
    assert.doesNotMatch(spec, /password|mnemonic|silkledger-demo/);
  });

  it('reopens from disk with the same keys, chains and state, and every ledger verifies', async () => {
    const before = publicKeys(net);
    await net.close();
    await assert.rejects(openEmbeddedNetwork({ dataDir: dir.path, spec: DEMO_SPEC, contracts: DEMO_CONTRACTS, parallelVerify: false, keys: { kind: 'hd', password: 'wrong' } }), (e: unknown) => isKeystoreError(e, 'wrong-password'));
    await assert.rejects(openEmbeddedNetwork({ dataDir: dir.path, spec: DEMO_SPEC, contracts: DEMO_CONTRACTS, parallelVerify: false }), { code: 'CONFIG_INVALID' });
    net = await open(dir.path);
    assert.equal(net.created, false);
    assert.deepEqual(publicKeys(net), before);
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
  it("commits a user's transaction signed with the key from its keystore", async () => {
    const ks = await readKeystore(join(dir.path, 'keys', 'SellerCN', 'yiwu-seller.keystore.json'), DEMO_PASSWORD);
    assert.equal(ks.kind, 'private-key');
    const signer = createSigner(privateKeyObjectOfScalar(ks.secret));
    const r = await net.gateway('SellerCN').submit({ chain: 'product', contract: 'basic', fn: 'createAsset', args: { id: 'silk-fan-004', owner: 'SellerCN/yiwu-seller', colour: 'jade', size: 1, appraisedValue: 900 } }, signer);
    assert.equal(r.code, 'VALID');
  });
});
