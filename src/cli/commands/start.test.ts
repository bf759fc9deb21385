/**
 * `silk start` as a new user runs it: the first start creates and seeds the demo alliance (keys
 * in keystores at the default scrypt cost, under the printed demo password) and answers
 * /api/health; a demo user signs from the CLI with its keystore; the seeded ledgers verify; a
 * second start reopens the same alliance, on the port `$PORT` names.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../distributed/loopback-ports.js';
import { runCli, spawnCli, startedApiUrl } from '../../testing/cli-run.js';
import { tempDir } from '../../testing/fixtures.js';

interface Health {
  status: string;
  height: number;
  chains: Record<string, number>;
}

async function health(url: string): Promise<Health> {
  const res = await fetch(`${url}/api/health`);
  assert.equal(res.status, 200);
  return (await res.json()) as Health;
}

async function stop(node: ReturnType<typeof spawnCli>): Promise<string> {
  node.child.kill('SIGTERM');
  const run = await node.exited;
  assert.equal(run.code, 0, run.stderr.slice(-2000));
  return run.stdout;
}

describe('silk start', () => {
  const work = tempDir('silk-start-');
  after(() => {
    work.cleanup();
  });

  it('creates and seeds the demo alliance, serves its API, verifies, and reopens it', async () => {
    const data = join(work.path, 'data');
    const first = spawnCli(['start', '--data', data, '--port', '0']);
    let seeded: Health;
    try {
      const url = await startedApiUrl(first);
      seeded = await health(url);
      assert.equal(seeded.status, 'ok');
      assert.deepEqual(Object.keys(seeded.chains).sort(), ['anchor', 'logistics', 'product', 'trade']);
      for (const [chain, h] of Object.entries(seeded.chains)) assert.ok(h >= 2, `${chain} holds seeded blocks beyond genesis (height ${h})`);
      assert.equal(seeded.height, Object.values(seeded.chains).reduce((sum, h) => sum + h, 0), 'height is one number: the blocks of every chain together');
      const out = first.output().stdout;
      assert.match(out, /created and seeded/);
      assert.ok(out.includes(join(data, 'keys')), 'says where the keys were written');
      assert.match(out, /reset: stop this process and delete/);
      assert.match(out, /password: silkledger-demo \(a demo password/);
      const keystore = join(data, 'keys', 'SellerCN', 'yiwu-seller.keystore.json');
      assert.ok(existsSync(keystore));
      assert.ok(existsSync(join(data, 'keys', 'SellerCN', 'mnemonic.keystore.json')));
      assert.deepEqual(readdirSync(join(data, 'keys', 'SellerCN')).filter((f) => !f.endsWith('.keystore.json')), [], 'no plaintext key files');

      // The seller signs on its own machine with its keystore, the password from the environment.
      process.env.SILK_KEYSTORE_PASSWORD = 'silkledger-demo';
      const submitted = await runCli(['submit', 'product', 'basic', 'createAsset', JSON.stringify({ id: 'jade-fan-009', owner: 'SellerCN/yiwu-seller', colour: 'jade', size: 1, appraisedValue: 900 }), '--key', keystore, '--url', url, '--json']);
      delete process.env.SILK_KEYSTORE_PASSWORD;
      assert.equal(submitted.code, 0, submitted.stderr);
      assert.equal((JSON.parse(submitted.stdout) as { code: string }).code, 'VALID');
    } finally {
      assert.match(await stop(first), /stopped cleanly/);
    }

    const verify = await runCli(['verify', '--data', data, '--json']);
    assert.equal(verify.code, 0, verify.stdout.slice(0, 2000));
    const report = JSON.parse(verify.stdout) as { ok: boolean; ledgers: unknown[] };
    assert.equal(report.ok, true);
    assert.equal(report.ledgers.length, 37, 'every peer ledger of the 12 orgs on their chains');

    // Reopened the way a hosting tool starts it: the port from $PORT.
    const port = await freePort('127.0.0.1');
    const second = spawnCli(['start', '--data', data], 60_000, { PORT: String(port), SILK_PORT: undefined });
    try {
      const url = await startedApiUrl(second);
      assert.equal(url, `http://127.0.0.1:${port}`, 'serves on the port $PORT names');
      const reopened = await health(url);
      for (const [chain, h] of Object.entries(seeded.chains)) assert.ok((reopened.chains[chain] ?? 0) >= h, `${chain} kept its blocks`);
      assert.match(second.output().stdout, /reopened/);
    } finally {
      await stop(second);
    }
  });
});
