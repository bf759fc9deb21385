import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { embeddedApiBackend } from '../../api/backend.js';
import { createApiServer, type ApiServer } from '../../api/server.js';
import { BasicContract } from '../../contracts/basic/basic-contract.js';
import { ProductContract } from '../../contracts/products/product-contract.js';
import { openEmbeddedNetwork, type EmbeddedNetwork, type NetworkSpec } from '../../network/embedded-network.js';
import { runCli } from '../../testing/cli-run.js';
import { tempDir } from '../../testing/fixtures.js';

const SPEC: NetworkSpec = {
  orgs: [{ name: 'Org1' }, { name: 'Org2' }],
  chains: [{ name: 'product', contracts: [{ name: 'products', policy: "OR('Org1.peer', 'Org2.peer')" }], batch: { timeoutMs: 5 } }],
};

describe('silk products', () => {
  const dir = tempDir('silk-products-');
  let net: EmbeddedNetwork;
  let api: ApiServer;
  let common: string[];
  let org2: string[];

  const silk = (args: readonly string[]): ReturnType<typeof runCli> => runCli(['products', ...args], 60_000, { SILK_URL: undefined, SILK_KEY: undefined });

  before(async () => {
    net = await openEmbeddedNetwork({ dataDir: join(dir.path, 'net'), spec: SPEC, contracts: [new BasicContract(), new ProductContract()], parallelVerify: false, commitTimeoutMs: 30_000 });
    api = await createApiServer({ backend: embeddedApiBackend(net, { org: 'Org1' }), rateLimitPerMinute: 0 });
    const url = await api.listen({ port: 0 });
    common = ['--url', url, '--key', join(net.keysDir, 'Org1', 'admin.pem')];
    org2 = ['--url', url, '--key', join(net.keysDir, 'Org2', 'admin.pem')];
  });
  after(async () => {
    await api.close();
    await net.close();
    dir.cleanup();
  });

  it('registers a prefix, a line and a lot, then commissions from a count and from a file', async () => {
    const prefix = await silk(['register-prefix', '--prefix', '0614141', ...common]);
    assert.equal(prefix.code, 0, prefix.stderr);
    assert.match(prefix.stdout, /^VALID: committed in block \d+ of chain product/);
    const line = await silk(['register-line', '--gtin', '10614141073464', '--brand', 'Hangzhou Silk', '--name', 'Scarf', '--category', 'apparel', '--hs-code', '621410', '--origin', 'CN', ...common]);
    assert.equal(line.code, 0, line.stderr);
    const lot = await silk(['register-lot', '--gtin', '10614141073464', '--lot', 'L1', '--production-date', '2024-01-10', '--expiry-date', '2025-01-10', '--site', '0614141000012', ...common]);
    assert.equal(lot.code, 0, lot.stderr);

    const counted = await silk(['commission', '--gtin', '10614141073464', '--lot', 'L1', '--count', '2500', '--start', '1', '--width', '6', '--batch-size', '1000', '--json', ...common]);
    assert.equal(counted.code, 0, counted.stderr);
    const report = JSON.parse(counted.stdout) as { commissioned: number; transactions: { count: number }[] };
    assert.equal(report.commissioned, 2500);
    assert.deepEqual(report.transactions.map((t) => t.count), [1000, 1000, 500]);

    const file = join(dir.path, 'serials.txt');
    writeFileSync(file, 'A-1\nA-2\n\nA-3\n');
    const listed = await silk(['commission', '--gtin', '10614141073464', '--serials-file', file, ...common]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^commissioned 3 items of 10614141073464 in 1 transactions$/m);
    const item = net.gateway('Org1').evaluate({ chain: 'product', contract: 'products', fn: 'item', args: { epc: 'urn:epc:id:sgtin:0614141.107346.000042' } }, net.identity('Org1')) as { lot: string; owner: string };
    assert.deepEqual([item.lot, item.owner], ['L1', 'Org1']);
  });

  it('refusals: duplicates and another org’s prefix exit 4; bad usage exits 2', async () => {
    const dup = await silk(['commission', '--gtin', '10614141073464', '--count', '1', '--start', '42', '--width', '6', ...common]);
    assert.equal(dup.code, 4);
    assert.match(dup.stderr, /CONTRACT_ERROR: .*already commissioned/);
    const foreign = await silk(['register-prefix', '--prefix', '06141415', ...org2]);
    assert.equal(foreign.code, 4);
    assert.match(foreign.stderr, /extends 0614141, registered by Org1/);
    const both = await silk(['commission', '--gtin', '10614141073464', '--count', '1', '--serials-file', 'x', ...common]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /either --serials-file F or --count N/);
    const unknown = await silk(['bogus']);
    assert.equal(unknown.code, 2);
  });
});
