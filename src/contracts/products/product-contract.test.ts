import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { toHex } from '../../crypto/hash.js';
import { generateSigner, type Signer } from '../../crypto/p256.js';
import { signCertificate, type IdentityCertificate } from '../../identity/identity-certificate.js';
import { DEFAULT_FUNCTIONS } from '../../identity/identity-record.js';
import type { JsonValue } from '../../ledger/json-value.js';
import { openEmbeddedNetwork, type EmbeddedNetwork, type NetworkSpec } from '../../network/embedded-network.js';
import { tempDir, waitUntil } from '../../testing/fixtures.js';
import { commissionSerials, sequentialSerials } from '../../traceability/commissioning.js';
import { gs1CheckDigit } from '../../traceability/epc-identifiers.js';
import { BasicContract } from '../basic/basic-contract.js';
import { itemEpc, MAX_ITEMS_PER_COMMISSION, ProductContract, type ItemRecord, type LotRecord, type ProductLineRecord } from './product-contract.js';

const CHAIN = 'product';
/** Two orgs on a `product` chain running `products`, endorsed by any one peer. */
const SPEC: NetworkSpec = {
  orgs: [{ name: 'Org1', users: ['alice'] }, { name: 'Org2' }],
  chains: [{ name: CHAIN, contracts: [{ name: 'products', policy: "OR('Org1.peer', 'Org2.peer')" }], batch: { timeoutMs: 5 } }],
};

/** A GTIN-14: indicator, company prefix, item reference (padded to fit), check digit. */
const gtinOf = (prefix: string, itemRef: number, indicator = '0'): string => {
  const body = `${indicator}${prefix}${String(itemRef).padStart(12 - prefix.length, '0')}`;
  return `${body}${gs1CheckDigit(body)}`;
};
const SITE = `061414100001${gs1CheckDigit('061414100001')}`;
const line = (gtin: string, name = 'Silk scarf'): JsonValue => ({ gtin, brand: 'Hangzhou Silk', name, category: 'apparel', hsCode: '621410', origin: 'CN' });

interface Page<T> {
  readonly items: T[];
  readonly bookmark?: string;
}

describe('products contract', () => {
  let net: EmbeddedNetwork;
  let dir: ReturnType<typeof tempDir>;
  let admin1: Signer;
  let admin2: Signer;
  const sales5 = generateSigner();
  const sales3 = generateSigner();
  const logistics2 = generateSigner();
  const org2Logistics = generateSigner();
  let seq = 0;

  /** Submits through `org`'s gateway and waits until every peer has the block, so reads at Org1's peer see it. */
  const submit = async (fn: string, args: JsonValue, signer: Signer, org = 'Org1'): ReturnType<ReturnType<EmbeddedNetwork['gateway']>['submit']> => {
    const r = await net.gateway(org).submit({ chain: CHAIN, contract: 'products', fn, args }, signer);
    await waitUntil(() => net.peers.every((p) => p.height(CHAIN) > r.blockNumber), 10_000, `every peer to commit block ${r.blockNumber}`);
    return r;
  };
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape it expects
  const read = <T = JsonValue>(fn: string, args: JsonValue): T => net.gateway('Org1').evaluate({ chain: CHAIN, contract: 'products', fn, args }, net.identity('Org1', 'alice')) as T;
  const refused = async (fn: string, args: JsonValue, signer: Signer, pattern: RegExp, code = 'CONTRACT_ERROR', org = 'Org1'): Promise<void> => {
    await assert.rejects(submit(fn, args, signer, org), (e: { code?: string; message: string }) => {
      assert.equal(e.code, code, e.message);
      assert.match(e.message, pattern);
      return true;
    });
  };
  const register = async (org: string, key: Signer, fn: string, level: number): Promise<void> => {
    const cert: IdentityCertificate = { v: 1, chain: CHAIN, org, key: key.publicKey, parent: net.identity(org).publicKey, function: fn, level, path: `m/7777'/0'/${DEFAULT_FUNCTIONS[fn]}'/${level}'/${seq++}'`, kind: 'member', notBefore: 0, notAfter: Date.now() + 365 * 86_400_000 };
    const { bytes, signature } = signCertificate(cert, net.identity(org));
    const r = await net.gateway(org).submit({ chain: CHAIN, contract: 'identity', fn: 'register', args: { certificate: toHex(bytes), signature: toHex(signature) }, endorsingOrgs: [org] }, net.identity(org));
    assert.equal(r.code, 'VALID');
  };

  before(async () => {
    dir = tempDir();
    net = await openEmbeddedNetwork({ dataDir: dir.path, spec: SPEC, contracts: [new BasicContract(), new ProductContract()], parallelVerify: false, commitTimeoutMs: 30_000 });
    admin1 = net.identity('Org1');
    admin2 = net.identity('Org2');
    await register('Org1', sales5, 'sales', 5);
    await register('Org1', sales3, 'sales', 3);
    await register('Org1', logistics2, 'logistics', 2);
    await register('Org2', org2Logistics, 'logistics', 2);
  });
  after(async () => {
    await net.close();
    dir.cleanup();
  });

  it('company prefixes: first come, owned by the org; overlapping another org’s prefix is refused', async () => {
    const r = await submit('registerCompanyPrefix', { prefix: '0614141' }, sales5);
    assert.equal(r.code, 'VALID');
    const claimed = read<{ type: string; prefix: string; org: string; registeredBy: string; txId: string }>('companyPrefix', { prefix: '0614141' });
    assert.deepEqual([claimed.type, claimed.prefix, claimed.org, claimed.txId], ['prefix', '0614141', 'Org1', r.txId]);
    assert.match(claimed.registeredBy, /^Org1\//);
    await refused('registerCompanyPrefix', { prefix: '0614141' }, admin2, /already registered by Org1/, 'CONTRACT_ERROR', 'Org2');
    await refused('registerCompanyPrefix', { prefix: '061414' }, admin2, /is a prefix of 0614141, registered by Org1/, 'CONTRACT_ERROR', 'Org2');
    await refused('registerCompanyPrefix', { prefix: '06141415' }, admin2, /extends 0614141, registered by Org1/, 'CONTRACT_ERROR', 'Org2');
    // The owner may register a longer prefix of its own (redundant but harmless); the admin meets any authority.
    assert.equal((await submit('registerCompanyPrefix', { prefix: '06141419' }, admin1)).code, 'VALID');
    assert.equal((await submit('registerCompanyPrefix', { prefix: '0712345' }, admin2, 'Org2')).code, 'VALID');
    await refused('registerCompanyPrefix', { prefix: '12345' }, admin1, /args\.prefix/, 'INVALID_ARGUMENT');
    // Authority: sales at level 5 or the admin; a level-3 sales key and a configured client are refused.
    await refused('registerCompanyPrefix', { prefix: '0999999' }, sales3, /needs function sales at level 5 or more; the creator has sales at level 3/);
    await refused('registerCompanyPrefix', { prefix: '0999999' }, net.identity('Org1', 'alice'), /needs function sales at level 5 or more; the creator has no level/);
  });

  it('product lines: only the prefix owner creates its GTINs; the check digit is verified', async () => {
    const gtin = gtinOf('0614141', 7346, '1');
    assert.equal(gtin, '10614141073464');
    await refused('registerProductLine', line(gtin), admin2, /under company prefix 0614141, owned by Org1/, 'CONTRACT_ERROR', 'Org2');
    await refused('registerProductLine', line('10614141073465'), sales3, /bad check digit in GTIN 10614141073465: expected 4, found 5/, 'INVALID_ARGUMENT');
    await refused('registerProductLine', line(gtinOf('0555555', 1)), sales3, /under no registered company prefix/);
    await refused('registerProductLine', { ...(line(gtin) as object), origin: 'CHN' }, sales3, /args\.origin/, 'INVALID_ARGUMENT');
    await refused('registerProductLine', line(gtin), logistics2, /needs function sales at level 3/);
    const r = await submit('registerProductLine', line(gtin), sales3);
    assert.equal(r.code, 'VALID');
    const stored = read<ProductLineRecord>('productLine', { gtin });
    assert.equal(stored.org, 'Org1');
    assert.equal(stored.companyPrefix, '0614141');
    assert.equal(stored.txId, r.txId);
    await refused('registerProductLine', line(gtin), sales3, /already registered/);
    // A GTIN under the nested prefix records the longest match.
    const nested = gtinOf('06141419', 5);
    assert.equal((await submit('registerProductLine', line(nested, 'Silk tie'), sales3)).code, 'VALID');
    assert.equal(read<ProductLineRecord>('productLine', { gtin: nested }).companyPrefix, '06141419');
    assert.equal((await submit('registerProductLine', line(gtinOf('0712345', 1), 'Tea'), admin2, 'Org2')).code, 'VALID');
    assert.equal(read('productLine', { gtin: gtinOf('0614141', 9) }), null);
  });

  it('lots: real dates, expiry after production, a site GLN with check digit, the line owner only', async () => {
    const gtin = '10614141073464';
    const lot = { gtin, lot: 'L2024-01', productionDate: '2024-02-29', expiryDate: '2026-02-28', site: SITE };
    await refused('registerLot', { ...lot, expiryDate: '2024-02-28' }, logistics2, /expiryDate 2024-02-28 is not after productionDate 2024-02-29/, 'INVALID_ARGUMENT');
    await refused('registerLot', { ...lot, productionDate: '2023-02-29' }, logistics2, /not a calendar date/, 'INVALID_ARGUMENT');
    await refused('registerLot', { ...lot, site: '0614141000010' }, logistics2, /bad check digit in GLN/, 'INVALID_ARGUMENT');
    await refused('registerLot', lot, org2Logistics, /belongs to Org1, not Org2/, 'CONTRACT_ERROR', 'Org2');
    assert.equal((await submit('registerLot', lot, logistics2)).code, 'VALID');
    const stored = read<LotRecord>('lot', { gtin, lot: lot.lot });
    assert.equal(stored.productionDate, '2024-02-29');
    assert.equal(stored.site, SITE);
    await refused('registerLot', lot, logistics2, /already registered/);
    assert.equal((await submit('registerLot', { gtin, lot: 'L2024-02', productionDate: '2024-03-01', site: SITE }, logistics2)).code, 'VALID');
    assert.equal(read<LotRecord>('lot', { gtin, lot: 'L2024-02' }).expiryDate, null);
  });

  it('commissions thousands of items in batches, refusing duplicates', async () => {
    const gtin = '10614141073464';
    const total = 12_000;
    const serials = sequentialSerials(total, 1, 8);
    const progress: number[] = [];
    const started = performance.now();
    const result = await commissionSerials({ submitter: net.gateway('Org1'), signer: logistics2, chain: CHAIN, gtin, lot: 'L2024-01', serials, onProgress: (done) => progress.push(done) });
    const seconds = (performance.now() - started) / 1000;
    console.log(`commissioned ${total} items in ${result.transactions.length} transactions: ${seconds.toFixed(2)} s, ${Math.round(total / seconds)} items/s`);
    assert.equal(result.commissioned, total);
    assert.deepEqual(result.transactions.map((t) => t.count), [4000, 4000, 4000]);
    assert.deepEqual(progress, [0, 4000, 8000, 12_000]);

    const item = read<ItemRecord>('item', { epc: 'urn:epc:id:sgtin:0614141.107346.00000042' });
    assert.deepEqual(item, { type: 'item', epc: 'https://id.gs1.org/01/10614141073464/21/00000042', gtin, serial: '00000042', lot: 'L2024-01', owner: 'Org1', commissionedAt: item.commissionedAt });
    assert.deepEqual(read('item', { epc: 'https://example.com/gtin/10614141073464/ser/00000042?x=1' }), item, 'any Digital Link form finds it');
    assert.equal(read('item', { epc: 'urn:epc:id:sgtin:0614141.107346.99999999' }), null);

    // Duplicates: already on the ledger, or twice in one batch; the whole batch is refused.
    await refused('commissionItems', { gtin, lot: 'L2024-01', serials: ['99999999', '00000007'] }, logistics2, /item https:\/\/id\.gs1\.org\/01\/10614141073464\/21\/00000007 is already commissioned/);
    await refused('commissionItems', { gtin, serials: ['x1', 'x1'] }, logistics2, /serial x1 appears twice/);
    assert.equal(read('item', { epc: 'https://id.gs1.org/01/10614141073464/21/99999999' }), null);
    await assert.rejects(commissionSerials({ submitter: net.gateway('Org1'), signer: logistics2, chain: CHAIN, gtin, serials: ['n1', 'n2', '00000001'], batchSize: 2 }), (e: { code?: string; details?: { committed?: number } }) => {
      assert.equal(e.code, 'CONTRACT_ERROR');
      assert.equal(e.details?.committed, 2, 'the first batch stays committed');
      return true;
    });
    // Unknown lot, another org's line, illegal serial characters.
    await refused('commissionItems', { gtin, lot: 'NOPE', serials: ['a'] }, logistics2, /lot NOPE of 10614141073464 is not registered/);
    await refused('commissionItems', { gtin, serials: ['a'] }, org2Logistics, /belongs to Org1, not Org2/, 'CONTRACT_ERROR', 'Org2');
    await refused('commissionItems', { gtin, serials: ['a b'] }, logistics2, /args\.serials\.0/, 'INVALID_ARGUMENT');
  });

  it('a worst-case batch (20-character serials and lot, all GS1 characters) fits in one transaction', async () => {
    const gtin = '10614141073464';
    const lot = "LOT/%&'()*+,-.:;<=>?_";
    assert.equal((await submit('registerLot', { gtin, lot: lot.slice(0, 20), productionDate: '2024-04-01', site: SITE }, logistics2)).code, 'VALID');
    const serials = Array.from({ length: MAX_ITEMS_PER_COMMISSION }, (_, i) => `W/%?#`.replace('#', '"') + String(i).padStart(15, '0'));
    assert.ok(serials.every((s) => s.length === 20));
    const r = await submit('commissionItems', { gtin, lot: lot.slice(0, 20), serials, owner: 'A'.repeat(64) }, logistics2);
    assert.equal(r.code, 'VALID');
    const epc = 'https://id.gs1.org/01/10614141073464/21/W%2F%25%3F%22000000000000007';
    assert.equal(read<ItemRecord>('item', { epc }).serial, 'W/%?"000000000000007');
  });

  it('transfers items by their owner org only, all or nothing', async () => {
    const epcs = ['urn:epc:id:sgtin:0614141.107346.00000001', 'https://id.gs1.org/01/10614141073464/21/00000002'];
    await refused('transferItems', { items: epcs, to: 'Org2' }, admin2, /belongs to Org1, not Org2/, 'CONTRACT_ERROR', 'Org2');
    await refused('transferItems', { items: epcs, to: 'Org2' }, logistics2, /needs function sales at level 2/);
    await refused('transferItems', { items: [...epcs, 'urn:epc:id:sgtin:0614141.107346.nope'], to: 'Org2' }, sales3, /is not commissioned/);
    await refused('transferItems', { items: [epcs[0]!, 'https://id.gs1.org/01/10614141073464/21/00000001'], to: 'Org2' }, sales3, /appears twice/);
    await refused('transferItems', { items: ['urn:epc:id:sscc:0614141.1234567890'], to: 'Org2' }, sales3, /not a serialized item/, 'INVALID_ARGUMENT');
    assert.equal(read<ItemRecord>('item', { epc: epcs[0]! }).owner, 'Org1', 'a refused transfer changes nothing');
    const r = await submit('transferItems', { items: epcs, to: 'Org2' }, sales3);
    assert.equal(r.code, 'VALID');
    assert.deepEqual(r.response, { from: 'Org1', to: 'Org2', count: 2 });
    assert.equal(read<ItemRecord>('item', { epc: epcs[1]! }).owner, 'Org2');
    await refused('transferItems', { items: [epcs[0]!], to: 'Org1' }, sales3, /belongs to Org2, not Org1/);
    assert.equal((await submit('transferItems', { items: [epcs[0]!], to: 'Org1' }, admin2, 'Org2')).code, 'VALID');
    assert.equal(read<ItemRecord>('item', { epc: epcs[0]! }).owner, 'Org1');
  });

  it("an item changes only with its owner org's peer endorsing: another org's peer alone is refused at validation", async () => {
    const epc = 'urn:epc:id:sgtin:0614141.107346.00000003';
    assert.equal(read<ItemRecord>('item', { epc }).owner, 'Org1');
    // The owner's member asks for Org2's peer alone: that peer runs the same checks, but the item's
    // key-level policy asks for an Org1 peer, as it would of a forged transfer a dishonest peer endorsed.
    const alone = await net.gateway('Org1').submit({ chain: CHAIN, contract: 'products', fn: 'transferItems', args: { items: [epc], to: 'Org2' }, endorsingOrgs: ['Org2'] }, sales3);
    assert.equal(alone.code, 'ENDORSEMENT_POLICY_FAILURE');
    await waitUntil(() => net.peers.every((p) => p.height(CHAIN) > alone.blockNumber), 10_000, 'every peer to commit the refused transfer');
    assert.equal(read<ItemRecord>('item', { epc }).owner, 'Org1');
    // Without named orgs the gateway adds the owner's peer to whichever peer the contract policy
    // picked, through either org's gateway; the item's policy follows its new owner.
    const policy = (): string | null | undefined => net.peer('peer0.org1').store(CHAIN).state('products', itemEpc('10614141073464', '00000003'))?.policy;
    assert.equal((await submit('transferItems', { items: [epc], to: 'Org2' }, sales3, 'Org2')).code, 'VALID');
    assert.equal(policy(), "OR('Org2.peer')");
    assert.equal((await submit('transferItems', { items: [epc], to: 'Org1' }, admin2, 'Org1')).code, 'VALID');
    assert.equal(policy(), "OR('Org1.peer')");
    assert.equal(read<ItemRecord>('item', { epc }).owner, 'Org1');
  });

  it('queries page through product lines (all, or of one prefix) and the items of a lot', () => {
    const all: string[] = [];
    let bookmark: string | undefined;
    do {
      const page: Page<ProductLineRecord> = read<Page<ProductLineRecord>>('productLines', { limit: 2, ...(bookmark === undefined ? {} : { bookmark }) });
      assert.ok(page.items.length <= 2);
      all.push(...page.items.map((l) => l.gtin));
      bookmark = page.bookmark;
    } while (bookmark !== undefined);
    assert.deepEqual(all, [gtinOf('06141419', 5), gtinOf('0712345', 1), '10614141073464']);
    assert.deepEqual(read<Page<ProductLineRecord>>('productLines', { prefix: '0614141' }).items.map((l) => l.gtin), ['10614141073464']);
    assert.deepEqual(read<Page<ProductLineRecord>>('productLines', { prefix: '0712345' }).items.map((l) => l.org), ['Org2']);

    const serials = new Set<string>();
    let pages = 0;
    bookmark = undefined;
    do {
      const page: Page<ItemRecord> = read<Page<ItemRecord>>('itemsOfLot', { gtin: '10614141073464', lot: 'L2024-01', limit: 1000, ...(bookmark === undefined ? {} : { bookmark }) });
      for (const i of page.items) {
        assert.equal(i.lot, 'L2024-01');
        serials.add(i.serial);
      }
      bookmark = page.bookmark;
      pages += 1;
    } while (bookmark !== undefined);
    assert.equal(serials.size, 12_000);
    assert.ok(pages >= 12);
    assert.deepEqual(read<Page<ItemRecord>>('itemsOfLot', { gtin: '10614141073464', lot: 'L2024-02' }).items, []);
  });
});
