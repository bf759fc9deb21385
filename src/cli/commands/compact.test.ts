/**
 * `silk compact` through the real command line: refused while the network runs (nothing
 * changes), then a version 3 ledger converted and every ledger rewritten without free pages,
 * reading and verifying the same afterwards.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { toHex } from '../../crypto/hash.js';
import { verifyLedgerFile } from '../../peer/ledger-verifier.js';
import { LEDGER_SCHEMA_VERSION } from '../../storage/receipt-migration.js';
import { openSqliteLedgerStore } from '../../storage/sqlite-ledger-store.js';
import { runCli } from '../../testing/cli-run.js';
import { openTestNetwork, tempDir } from '../../testing/fixtures.js';
import { makeVersion3Ledger } from '../../testing/ledger-schemas.js';

const PEERS = ['peer0.org1', 'peer0.org2', 'peer0.org3'] as const;
const ledger = (dir: string, peer: string): string => join(dir, 'peers', peer, 'trade.sqlite');

/** Every transaction's receipt material and the whole state of a ledger file, as text. */
async function contentOf(file: string, txIds: readonly string[]): Promise<string> {
  const store = openSqliteLedgerStore(file, { readonly: true });
  try {
    const receipts = txIds.map((id) => {
      const at = store.tx(id);
      assert.ok(at !== undefined, `${id} is in ${file}`);
      const r = store.receipt(at);
      return [r.block, r.tx, toHex(r.envelopeHash), toHex(r.leafHash), r.path.map(toHex).join(''), toHex(r.peerSignature)].join(' ');
    });
    return JSON.stringify({ height: store.height(), receipts, state: store.select('SELECT ns, key, value, block, tx FROM state ORDER BY ns, key', []) });
  } finally {
    await store.close();
  }
}

function schemaOf(file: string): { version: unknown; tables: string } {
  const db = new Database(file, { readonly: true });
  try {
    const version = (db.prepare("SELECT value FROM meta WHERE name = 'schema_version'").get() as { value: unknown }).value;
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'receipt%' ORDER BY name").all() as { name: string }[]).map((t) => t.name).join(' ');
    return { version, tables };
  } finally {
    db.close();
  }
}

describe('silk compact', () => {
  it('refuses while the network runs, then converts an older ledger and gives free pages back, the ledgers reading and verifying the same', async () => {
    const data = tempDir('silk-compact-');
    try {
      const net = await openTestNetwork({ dataDir: data.path });
      const txIds: string[] = [];
      try {
        for (let round = 0; round < 6; round++) {
          const results = await Promise.all(Array.from({ length: 50 }, (_, i) => net.gateway('Org2').submit({ chain: 'trade', contract: 'basic', fn: 'put', args: { key: `k${round}-${i}`, value: 'v'.repeat(300) } }, net.identity('Org2', 'bob'))));
          for (const r of results) {
            assert.equal(r.code, 'VALID');
            txIds.push(r.txId);
          }
        }
        const running = await runCli(['compact', '--data', data.path]);
        assert.equal(running.code, 3, running.stderr);
        assert.match(running.stderr, /is in use \(process \d+\): stop the node first/);
      } finally {
        await net.close();
      }

      const old = ledger(data.path, 'peer0.org1');
      await makeVersion3Ledger(old);
      assert.deepEqual(schemaOf(old), { version: '3', tables: 'receipt_blocks receipt_txs' });
      const before = Object.fromEntries(await Promise.all(PEERS.map(async (p) => [p, await contentOf(ledger(data.path, p), txIds)] as const)));
      const oldBytes = statSync(old).size;
      // A copy an interrupted run left behind is discarded, not mistaken for the ledger.
      writeFileSync(`${old}.compacting`, 'half a copy');

      const run = await runCli(['compact', '--data', data.path, '--json']);
      assert.equal(run.code, 0, run.stderr);
      const out = JSON.parse(run.stdout) as { ok: boolean; bytesBefore: number; bytesAfter: number; ledgers: { file: string; bytesBefore: number; bytesAfter: number }[] };
      assert.equal(out.ok, true);
      assert.deepEqual(out.ledgers.map((l) => l.file), PEERS.map((p) => ledger(data.path, p)));
      const converted = out.ledgers[0]!;
      assert.equal(converted.bytesBefore, oldBytes);
      // 300 transactions' rows of about 310 bytes go; their hashes (64 bytes each) stay.
      assert.ok(converted.bytesBefore - converted.bytesAfter >= 40_000, `${converted.bytesBefore} → ${converted.bytesAfter}`);
      assert.equal(statSync(old).size, converted.bytesAfter);
      assert.deepEqual(readdirSync(join(data.path, 'peers', 'peer0.org1')).filter((f) => f.includes('compacting')), [], 'no copy is left beside the ledger');
      assert.deepEqual(schemaOf(old), { version: String(LEDGER_SCHEMA_VERSION), tables: 'receipt_blocks' });

      for (const p of PEERS) {
        const file = ledger(data.path, p);
        assert.equal(await contentOf(file, txIds), before[p], `${p} reads the same`);
        assert.deepEqual((await verifyLedgerFile(file)).problems, [], `${p} verifies`);
      }
    } finally {
      data.cleanup();
    }
  });
});
