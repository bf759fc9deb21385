/**
 * `silk start` as a new user runs it: the first start creates and seeds the demo alliance and
 * answers /api/health; the seeded ledgers verify; a second start reopens the same alliance.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, spawnCli, startedApiUrl } from '../../testing/cli-run.js';
import { tempDir } from '../../testing/fixtures.js';

interface Health {
  status: string;
  height: Record<string, number>;
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
      assert.deepEqual(Object.keys(seeded.height).sort(), ['anchor', 'logistics', 'product', 'trade']);
      for (const [chain, h] of Object.entries(seeded.height)) assert.ok(h >= 2, `${chain} holds seeded blocks beyond genesis (height ${h})`);
      const out = first.output().stdout;
      assert.match(out, /created and seeded/);
      assert.ok(out.includes(join(data, 'keys')), 'says where the keys were written');
      assert.match(out, /reset: stop this process and delete/);
      assert.ok(existsSync(join(data, 'keys', 'SellerCN', 'yiwu-seller.pem')));
    } finally {
      assert.match(await stop(first), /stopped cleanly/);
    }

    const verify = await runCli(['verify', '--data', data, '--json']);
    assert.equal(verify.code, 0, verify.stdout.slice(0, 2000));
    const report = JSON.parse(verify.stdout) as { ok: boolean; ledgers: unknown[] };
    assert.equal(report.ok, true);
    assert.equal(report.ledgers.length, 37, 'every peer ledger of the 12 orgs on their chains');

    const second = spawnCli(['start', '--data', data, '--port', '0']);
    try {
      const url = await startedApiUrl(second);
      const reopened = await health(url);
      for (const [chain, h] of Object.entries(seeded.height)) assert.ok((reopened.height[chain] ?? 0) >= h, `${chain} kept its blocks`);
      assert.match(second.output().stdout, /reopened/);
    } finally {
      await stop(second);
    }
  });
});
