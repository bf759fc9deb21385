// The web UI end to end: the seeded demo alliance behind a real API server, driven in headless
// Chromium as a consumer, an auditor and an operator use it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { DEMO_CONTRACTS, DEMO_PASSWORD, seedDemoAlliance } from '../network/demo-alliance.js';
import { DEMO_SPEC } from '../network/demo-spec.js';
import { DEMO_GTIN, DEMO_ITEM_COUNT, DEMO_LOT } from '../network/demo-traceability.js';
import { openEmbeddedNetwork, type EmbeddedNetwork } from '../network/embedded-network.js';
import { connect } from '../sdk/index.js';
import type { ProvenanceEvent } from '../traceability/provenance.js';
import { eventHashId } from '../traceability/event-hash.js';
import { launchChromium } from '../testing/browser.js';
import { tempDir, waitUntil } from '../testing/fixtures.js';
import { embeddedApiBackend } from './backend.js';
import { createNodeMetrics, type NodeMetrics } from './metrics.js';
import { createApiServer, type ApiServer } from './server.js';

/** The hex string with its last digit changed. */
const flipLastHex = (hex: string): string => `${hex.slice(0, -1)}${hex.endsWith('0') ? '1' : '0'}`;

/** How long a page may take to show what a test waits for. */
const UI_TIMEOUT_MS = 15_000;

describe('web UI in a browser', () => {
  const dir = tempDir('silk-web-ui-');
  let net: EmbeddedNetwork;
  let api: ApiServer;
  let metrics: NodeMetrics;
  let browser: Browser;
  let page: Page;
  let url: string;
  const pageErrors: string[] = [];

  before(async () => {
    net = await openEmbeddedNetwork({ dataDir: dir.path, spec: DEMO_SPEC, contracts: DEMO_CONTRACTS, parallelVerify: false, keys: { kind: 'hd', password: DEMO_PASSWORD, scrypt: { N: 1024, r: 8, p: 1 } } });
    await seedDemoAlliance(net);
    const backend = embeddedApiBackend(net, { org: 'Platform' });
    metrics = createNodeMetrics(backend);
    api = await createApiServer({ backend, rateLimitPerMinute: 0, plugins: [metrics.plugin] });
    url = await api.listen({ port: 0 });
    browser = await launchChromium();
    page = await browser.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });
  after(async () => {
    await browser.close();
    await api.close();
    metrics.close();
    await net.close();
    dir.cleanup();
  });

  const platformPeer = () => {
    const peer = net.peers.find((p) => p.org === 'Platform');
    assert.ok(peer !== undefined);
    return peer;
  };

  it('shows a consumer who scans a sold scarf that it is genuine, already sold, and every step with its block', async () => {
    await page.goto(`${url}/01/${DEMO_GTIN}/21/7`);
    const verdict = page.locator('[data-verdict]');
    await verdict.waitFor();
    assert.equal(await verdict.getAttribute('data-verdict'), 'sold');
    const text = await verdict.innerText();
    assert.match(text, /Genuine: registered on the ledger by SellerCN/);
    assert.match(text, /Mulberry silk scarf/);
    assert.match(text, /Already sold on 2026-11-23 16:00\+01:00 \(recorded by Platform\)/);
    const steps = page.locator('table.events tbody tr');
    assert.equal(await steps.count(), 12);
    assert.match(await steps.last().innerText(), /retail selling\s+retail sold\s+item\s+Platform/);
    // Every step's receipt was checked in the browser.
    assert.match(await page.locator('[data-proofs="all"]').innerText(), /All 12 steps proven in this browser: each step, as shown, is an event its transaction recorded, and the receipt of each of their \d+ transactions was checked/);
    assert.deepEqual(new Set(await steps.locator('td:last-child').allInnerTexts()), new Set(['✓ proven']));
    // From the first step to the block that holds it.
    const firstBlock = await steps.first().locator('a', { hasText: /^block \d+$/ }).innerText();
    await steps.first().locator('a', { hasText: /^block \d+$/ }).click();
    await page.locator('h1', { hasText: `${firstBlock.replace('block', 'Block')} of product` }).waitFor();
    // The heading shows with the route; the block's transactions once its answer arrives.
    await page.locator('.code-valid').first().waitFor();
    assert.ok(await page.locator('.code-valid').count() >= 1, 'the block shows its VALID transaction');
  });

  it("fits a phone's screen: no page of a consumer's is wider than 390 px", async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 800 } });
    try {
      for (const path of [`/01/${DEMO_GTIN}/21/7`, `/01/${DEMO_GTIN}/10/${DEMO_LOT}`]) {
        await phone.goto(`${url}${path}`);
        await phone.locator('[data-verdict]').waitFor({ timeout: UI_TIMEOUT_MS });
        assert.equal(await phone.evaluate('document.documentElement.scrollWidth'), 390, path);
      }
    } finally {
      await phone.close();
    }
  });

  it("warns a consumer not to trust an answer whose proofs do not verify, naming the steps", async () => {
    await page.route('**/api/epcis/provenance?**', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { provenance: { events: { txId: string }[] }; proofs: Record<string, Record<string, unknown>> };
      const events = body.provenance.events;
      const forged = events[events.length - 1]?.txId;
      const dropped = events[0]?.txId;
      assert.ok(forged !== undefined && dropped !== undefined && forged !== dropped);
      const proof = body.proofs[forged];
      assert.ok(proof !== undefined);
      proof['peerSignature'] = flipLastHex(String(proof['peerSignature']));
      const { [dropped]: _dropped, ...kept } = body.proofs;
      await route.fulfill({ response, json: { ...body, proofs: kept } });
    });
    try {
      await page.goto(`${url}/01/${DEMO_GTIN}/21/7`);
      const warning = page.locator('[data-proofs="failed"]');
      await warning.waitFor();
      assert.match(await warning.innerText(), /Do not trust this answer[\s\S]*\d+ of the 12 steps could not be proven/);
      const steps = page.locator('table.events tbody tr');
      assert.equal(await steps.first().locator('td:last-child').innerText(), '✗ no receipt');
      assert.equal(await steps.last().locator('td:last-child').innerText(), '✗ peer signature does not verify');
    } finally {
      await page.unrouteAll();
    }
  });

  it('shows the verdict and the steps at once, and the proofs as they finish (a slow link holding the transactions back)', async () => {
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => { release = resolve; });
    await page.route('**/api/chains/*/transactions/*/raw', async (route) => {
      await held;
      await route.continue();
    });
    try {
      await page.goto(`${url}/01/${DEMO_GTIN}/21/7`);
      await page.locator('[data-verdict="sold"]').waitFor();
      const checking = page.locator('[data-proofs="checking"]');
      await checking.waitFor();
      assert.match(await checking.innerText(), /Checking the proofs of 12 steps in this browser: the receipts and the bytes of their \d+ transactions/);
      assert.deepEqual(new Set(await page.locator('table.events tbody tr td:last-child').allInnerTexts()), new Set(['… checking']));
      release();
      await page.locator('[data-proofs="all"]').waitFor();
      assert.deepEqual(new Set(await page.locator('table.events tbody tr td:last-child').allInnerTexts()), new Set(['✓ proven']));
    } finally {
      release();
      await page.unrouteAll();
    }
  });

  it('catches a step whose content was altered, and one altered and re-hashed, by reading what its transaction recorded', async () => {
    await page.route('**/api/epcis/provenance?**', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { provenance: { events: ProvenanceEvent[] } };
      const events = body.provenance.events;
      const moved = (e: ProvenanceEvent): ProvenanceEvent['event'] => ({ ...e.event, bizLocation: { id: 'urn:epc:id:sgln:6901234.00000.1' } });
      const [first, second] = [events[1], events[2]];
      assert.ok(first !== undefined && second !== undefined);
      events[1] = { ...first, event: moved(first) };
      const event = moved(second);
      events[2] = { ...second, event, hash: eventHashId(event, { namespaces: second.namespaces ?? {} }) };
      await route.fulfill({ response, json: body });
    });
    try {
      await page.goto(`${url}/01/${DEMO_GTIN}/21/7`);
      const warning = page.locator('[data-proofs="failed"]');
      await warning.waitFor();
      assert.match(await warning.innerText(), /Do not trust this answer[\s\S]*2 of the 12 steps could not be proven/);
      const marks = await page.locator('table.events tbody tr td:last-child').allInnerTexts();
      assert.equal(marks[1], '✗ content does not hash to its ID: it is not the event recorded');
      assert.equal(marks[2], '✗ its transaction did not record this event');
      assert.deepEqual(new Set([marks[0], ...marks.slice(3)]), new Set(['✓ proven']));
    } finally {
      await page.unrouteAll();
    }
  });

  it('tells of an item still on its way when it was last seen, and that it is genuine', async () => {
    await page.goto(`${url}/#/verify?epc=${encodeURIComponent('urn:epc:id:sgtin:6901234.000001.30')}`);
    const verdict = page.locator('[data-verdict]');
    await verdict.waitFor();
    assert.equal(await verdict.getAttribute('data-verdict'), 'genuine');
    assert.match(await verdict.innerText(), /Last seen: storing \(sellable not accessible\)/);
  });

  it('flags a serial its maker never issued, typed into the form', async () => {
    await page.goto(`${url}/#/verify`);
    await page.fill('#epc', `https://id.gs1.org/01/${DEMO_GTIN}/21/999`);
    await page.click('button[type=submit]');
    const verdict = page.locator('[data-verdict]');
    await verdict.waitFor();
    assert.equal(await verdict.getAttribute('data-verdict'), 'unknown');
    assert.match(await verdict.innerText(), /Not on the ledger[\s\S]*this serial number was never issued by its maker/);
    assert.match(page.url(), /#\/verify\?epc=https%3A%2F%2Fid\.gs1\.org%2F01%2F06901234000016%2F21%2F999$/);
  });

  it("shows a lot's code as its maker registered it and where each of its 48 scarves is now, in order", async () => {
    await page.goto(`${url}/01/${DEMO_GTIN}/10/${DEMO_LOT}`);
    const verdict = page.locator('[data-verdict]');
    await verdict.waitFor();
    assert.equal(await verdict.getAttribute('data-verdict'), 'lot');
    assert.match(await verdict.innerText(), new RegExp(`Genuine lot: registered on the ledger by SellerCN[\\s\\S]*Lot ${DEMO_LOT}, produced 2026-11-02; ${DEMO_ITEM_COUNT} items on the ledger`));
    // Bars by place and holder: 47 in the Madrid warehouse, the one sold at the shop.
    const bars = await page.locator('.bar-row').allInnerTexts();
    assert.equal(bars.length, 2);
    assert.match(bars[0] ?? '', /Warehouse\s+47$/);
    assert.match(bars[1] ?? '', /Platform\s+1$/);
    const [warehouse, shop] = await Promise.all([0, 1].map((i) => page.locator('.bar-row .bar').nth(i).boundingBox()));
    assert.ok(warehouse != null && shop != null && warehouse.width > 20 * shop.width && shop.width > 0, `bars drawn to scale: ${JSON.stringify([warehouse, shop])}`);
    const serials = await page.locator('table.lot-items tbody tr td:nth-child(1)').allInnerTexts();
    assert.deepEqual(serials, Array.from({ length: DEMO_ITEM_COUNT }, (_, i) => `serial ${i + 1}`));
    // From the lot to one of its items.
    await page.click('table.lot-items a:text-is("serial 7")');
    await page.locator('[data-verdict="sold"]').waitFor();
  });

  it('flags a lot its maker never registered', async () => {
    await page.goto(`${url}/#/verify?epc=${encodeURIComponent(`https://id.gs1.org/01/${DEMO_GTIN}/10/FAKE01`)}`);
    const verdict = page.locator('[data-verdict]');
    await verdict.waitFor();
    assert.equal(await verdict.getAttribute('data-verdict'), 'unknown-lot');
    assert.match(await verdict.innerText(), /is a product registered by SellerCN, but it never registered lot FAKE01/);
  });

  it("gives the API's reason and code for text that is not a product code", async () => {
    await page.goto(`${url}/#/verify?epc=hello`);
    const alert = page.locator('[role=alert]');
    await alert.waitFor();
    const text = await alert.innerText();
    assert.match(text, /This code could not be checked/);
    assert.match(text, /epc must be an EPC \(URN or GS1 Digital Link URI\)/);
    assert.match(text, /INVALID_ARGUMENT/);
  });

  it('lets an auditor browse from the chains to a block and a transaction, every write of it', async () => {
    await page.goto(`${url}/#/explorer`);
    const rows = page.locator('table.chains tbody tr');
    await rows.first().waitFor();
    const peer = platformPeer();
    assert.deepEqual(await rows.locator('td:nth-child(1)').allInnerTexts(), peer.chains());
    assert.deepEqual(await rows.locator('td:nth-child(2)').allInnerTexts(), peer.chains().map((c) => String(peer.height(c))));

    await page.click('table.chains a:text-is("product")');
    const blocks = page.locator('table.blocks tbody tr');
    await blocks.first().waitFor();
    const height = peer.height('product');
    assert.equal(await blocks.count(), Math.min(20, height));
    assert.equal(await blocks.first().locator('td').first().innerText(), String(height - 1));

    // A block number or a transaction id finds it; anything else is explained.
    await page.fill('#chain-search', 'scarf');
    await page.click('.chain-search button');
    assert.match(await page.locator('.chain-search [role=alert]').innerText(), /give a block number, or a transaction id \(64 hexadecimal characters\)/);
    await page.fill('#chain-search', '3');
    await page.click('.chain-search button');
    await page.locator('h1', { hasText: 'Block 3 of product' }).waitFor();

    // The commissioning of the 48 scarves: one transaction with a write per item and index entry.
    const answer = (await page.evaluate(async () => (await fetch('/api/epcis/provenance?chain=product&epc=urn:epc:id:sgtin:6901234.000001.1&proofs=false')).json())) as { provenance: { events: { txId: string }[] } };
    const txId = answer.provenance.events[0]?.txId;
    assert.ok(txId !== undefined);
    const tx = (await page.evaluate(async (id) => (await fetch(`/api/chains/product/transactions/${id}`)).json(), txId)) as { writes: unknown[]; block: number };
    await page.goto(`${url}/#/chains/product`);
    await page.fill('#chain-search', txId.toUpperCase());
    await page.click('.chain-search button');
    await page.locator('dd', { hasText: `in block ${tx.block}` }).waitFor();
    const written = page.locator('table.rw:has(th:text-is("Key written")) tbody tr');
    assert.equal(await written.count(), 20, 'the first 20 writes, then a button');
    await page.click(`button:text-is("Show all ${tx.writes.length}")`);
    await written.nth(tx.writes.length - 1).waitFor();
    assert.equal(await written.count(), tx.writes.length);

    // From the transaction to its creator's key: entitled to sign, vouched for by its org's admin key.
    await page.click('dl.facts dt:text-is("Creator") + dd a');
    const standing = page.locator('[data-standing]');
    await standing.waitFor();
    assert.equal(await standing.getAttribute('data-standing'), 'valid');
    assert.match(await page.locator('dl.facts').innerText(), /Org\s+SellerCN/);
    assert.match(await page.locator('ol.cert-chain li').last().innerText(), /SellerCN's admin key "admin", in the chain's configuration/);
    // Every registered key of the chain, listed.
    await page.click('.crumbs a:text-is("keys")');
    await page.locator('table.keys tbody tr').first().waitFor();
    const registered = (await (await fetch(`${url}/api/chains/product/identities?limit=50`)).json()) as { items: { key: string }[] };
    assert.equal(await page.locator('table.keys tbody tr').count(), registered.items.length);
  });

  it("checks a transaction's receipt in the browser with the chain's keys, and catches a forged one", async () => {
    // A transaction deep in a block of several: its inclusion proof has a path to check.
    const peer = platformPeer();
    let found: { block: number; index: number; size: number; txId: string } | undefined;
    for (let n = 1; n < peer.height('trade') && found === undefined; n++) {
      const block = (await (await fetch(`${url}/api/chains/trade/blocks/${n}`)).json()) as { transactions: { txId: string }[] };
      const tx = block.transactions[Math.floor(block.transactions.length / 2)];
      if (block.transactions.length >= 3 && tx !== undefined) found = { block: n, index: Math.floor(block.transactions.length / 2), size: block.transactions.length, txId: tx.txId };
    }
    assert.ok(found !== undefined, 'a trade block with three or more transactions');
    await page.goto(`${url}/#/chains/trade/tx/${found.txId}`);
    const verified = page.locator('[data-receipt="verified"]');
    await verified.waitFor();
    assert.match(await verified.innerText(), new RegExp(`leaf ${found.index + 1} of ${found.size} under block ${found.block}'s Merkle root[\\s\\S]*of Platform signed[\\s\\S]*VALID`));

    // The same answer with one thing changed on its way: the browser's check names what broke.
    const forgeries: [string, (r: Record<string, unknown>) => void, RegExp][] = [
      ['a flipped bit of the peer signature', (r) => { r['peerSignature'] = flipLastHex(String(r['peerSignature'])); }, /peer signature does not verify/],
      ['another validation code', (r) => { r['code'] = 'MVCC_READ_CONFLICT'; }, /validation code differs from the peer statement/],
      ['another leaf', (r) => { r['leafHash'] = flipLastHex(String(r['leafHash'])); }, /inclusion proof does not lead to the block data hash/],
    ];
    for (const [what, forge, reason] of forgeries) {
      await page.route(`**/api/chains/trade/transactions/${found.txId}`, async (route) => {
        const response = await route.fetch();
        const body = (await response.json()) as { receipt: Record<string, unknown> };
        forge(body.receipt);
        await route.fulfill({ response, json: body });
      });
      try {
        await page.goto(`${url}/#/verify`);
        await page.goto(`${url}/#/chains/trade/tx/${found.txId}`);
        const failed = page.locator('[data-receipt="failed"]');
        await failed.waitFor();
        assert.match(await failed.innerText(), reason, what);
      } finally {
        await page.unrouteAll();
      }
    }
  });

  it("shows an operator the network's committed transactions per second and their codes as they commit", async () => {
    await page.goto(`${url}/#/dashboard`);
    await page.locator('table.heights tbody tr').first().waitFor();
    const operator = net.identity('Platform', 'operator');
    const before = platformPeer().height('product');
    // Submitted through the node's API, as a client does: the latency chart follows them too.
    const client = connect({ url });
    const load = (async () => {
      for (let i = 0; i < 40; i++) {
        const r = await client.submit({ chain: 'product', contract: 'basic', fn: 'put', args: { key: `dashboard-${i}`, value: 'x' } }, operator);
        assert.equal(r.code, 'VALID');
        await new Promise((done) => setTimeout(done, 100));
      }
    })();
    // The rate figure and the codes' bars follow the commits.
    await waitUntil(async () => Number(await page.locator('[data-testid=tx-rate]').innerText().catch(() => '0')) > 0, UI_TIMEOUT_MS, 'a committed-transactions rate above zero');
    await load;
    const validBar = page.locator('.bar-row', { hasText: 'VALID' });
    await waitUntil(async () => Number((await validBar.locator('.bar-value').innerText().catch(() => '0')).replace(/,/g, '')) >= 40, UI_TIMEOUT_MS, 'the VALID bar to count the 40 transactions');
    const drawn = await validBar.locator('.bar').boundingBox();
    assert.ok(drawn !== null && drawn.width > 20, `the VALID bar is drawn (${JSON.stringify(drawn)})`);
    const after = platformPeer().height('product');
    assert.ok(after > before);
    await page.locator('table.heights tr', { hasText: 'product' }).locator('td', { hasText: String(after) }).first().waitFor();
    await page.locator('table.latest a', { hasText: String(after - 1) }).first().waitFor();
    assert.equal(await page.locator('svg.chart path.line').count(), 3, 'the rate, the median and the 99th percentile are drawn');
    assert.ok(Number(await page.locator('[data-testid=latency-p99]').innerText()) > 0, 'a p99 latency in ms');
  });

  it("shows an auditor that a key revoked as compromised may no longer sign, and why", async () => {
    const seller = (await (await fetch(`${url}/api/chains/product/identities?org=SellerCN`)).json()) as { items: { key: string; function: string }[] };
    const key = seller.items.find((k) => k.function === 'logistics')?.key;
    assert.ok(key !== undefined, "SellerCN's packing-line key");
    const revoked = await net.gateway('SellerCN').submit({ chain: 'product', contract: 'identity', fn: 'revoke', args: { key, reason: 'compromise' } }, net.identity('SellerCN', 'admin'));
    assert.equal(revoked.code, 'VALID');
    await waitUntil(() => platformPeer().height('product') > revoked.blockNumber, UI_TIMEOUT_MS, "the revocation at the API's peer");
    await page.goto(`${url}/#/chains/product/keys/${key}`);
    const standing = page.locator('[data-standing]');
    await standing.waitFor();
    assert.equal(await standing.getAttribute('data-standing'), 'compromised');
    assert.match(await standing.innerText(), /revoked as compromised/);
    assert.match(await page.locator('dl.facts').innerText(), /Status\s+compromised[\s\S]*Ended/);
  });

  it('answers an address it does not know, or one with a broken escape, with "No such page"', async () => {
    for (const hash of ['#/chains/product/nowhere', '#/chains/%E0%A4%A']) {
      await page.goto(`${url}/${hash}`);
      const alert = page.locator('[role=alert]');
      await alert.waitFor();
      assert.match(await alert.innerText(), /No such page/, hash);
    }
  });

  it('ran every page without a script error', () => {
    assert.deepEqual(pageErrors, []);
  });
});
