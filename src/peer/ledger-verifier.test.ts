import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { decodeBlock } from '../ledger/block.js';
import { decodeBlockWrites } from '../storage/block-writes.js';
import { LEDGER_SCHEMA_VERSION } from '../storage/receipt-migration.js';
import { openSqliteLedgerStore, type HistoryRow, type TxLocation } from '../storage/sqlite-ledger-store.js';
import { openTestNetwork, tempDir } from '../testing/fixtures.js';
import { verifyLedgerFile } from './ledger-verifier.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** Runs `fn` on a copy of a ledger file and returns the verdict on the copy. */
async function tampered(source: string, dir: string, name: string, fn: (db: Database.Database) => void) {
  const copy = join(dir, `${name}.sqlite`);
  copyFileSync(source, copy);
  const db = new Database(copy);
  try {
    fn(db);
  } finally {
    db.close();
  }
  return verifyLedgerFile(copy);
}

/** The verification failed, and its first problem names block `n` with a message matching `message`. */
function namesBlock(v: { ok: boolean; problems: readonly { block?: number; message: string }[] }, n: number, message: RegExp): void {
  assert.equal(v.ok, false);
  assert.equal(v.problems[0]?.block, n);
  assert.match(JSON.stringify(v.problems), message);
}

function flip(bytes: Buffer, at: number): Buffer {
  const out = Buffer.from(bytes);
  out[at] = (out[at] ?? 0) ^ 0x01;
  return out;
}

/** Every state key's history and every indexed tx id's location, read through a read-only store. */
function indexAnswers(path: string): { history: HistoryRow[][]; txs: (TxLocation | undefined)[] } {
  const ids = new Database(path, { readonly: true });
  let txIds: string[];
  try {
    // A version-2 ledger keeps its ids as text; a current one in its blocks' records.
    const current = ids.prepare("SELECT 1 FROM sqlite_master WHERE name = 'block_writes'").get() !== undefined;
    txIds = current
      ? (ids.prepare('SELECT number, writes FROM block_writes').all() as { number: number; writes: Buffer }[]).flatMap((r) => decodeBlockWrites(r.writes, r.number).txs.map((t) => t.txId))
      : ids.prepare('SELECT txid FROM txs').pluck().all() as string[];
  } finally {
    ids.close();
  }
  const store = openSqliteLedgerStore(path, { readonly: true });
  try {
    const keys = [...store.iterateState()];
    return {
      history: keys.map((k) => store.history(k.ns, k.key, 'desc', 1000)),
      txs: txIds.sort().map((id) => store.tx(id)),
    };
  } finally {
    void store.close();
  }
}

/** Rewrites a ledger's index in the form of schema version 2, with that release's statements. */
function downgradeToVersion2(path: string): void {
  const db = new Database(path);
  try {
    const records = db.prepare('SELECT w.number, w.writes, b.ts FROM block_writes w JOIN blocks b ON b.number = w.number ORDER BY w.number').all() as { number: number; writes: Buffer; ts: number }[];
    db.exec(`DROP TABLE history; DROP TABLE txs; DROP TABLE block_writes;
      DELETE FROM meta WHERE name = 'index_savepoint'; UPDATE meta SET value = '2' WHERE name = 'schema_version';
      CREATE TABLE history (ns TEXT NOT NULL, key TEXT NOT NULL, block INTEGER NOT NULL, tx INTEGER NOT NULL, txid TEXT NOT NULL,
        value TEXT, ts INTEGER NOT NULL, PRIMARY KEY (ns, key, block, tx)) WITHOUT ROWID;
      CREATE TABLE txs (txid TEXT PRIMARY KEY, block INTEGER NOT NULL, tx INTEGER NOT NULL, code INTEGER NOT NULL) WITHOUT ROWID;`);
    const hist = db.prepare('INSERT OR REPLACE INTO history (ns, key, block, tx, txid, value, ts) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const txIndex = db.prepare('INSERT OR IGNORE INTO txs (txid, block, tx, code) VALUES (?, ?, ?, ?)');
    for (const r of records) {
      const record = decodeBlockWrites(r.writes, r.number);
      const ids = new Map(record.txs.map((t) => [t.tx, t.txId]));
      for (const w of record.writes) hist.run(w.ns, w.key, r.number, w.tx, ids.get(w.tx), w.value, r.ts);
      for (const t of record.txs) txIndex.run(t.txId, r.number, t.tx, t.code);
    }
  } finally {
    db.close();
  }
}

describe('silk verify', () => {
  const data = tempDir('silk-verify-');
  const work = tempDir('silk-verify-copies-');
  let ledger: string;
  let backup: string;

  before(async () => {
    const net = await openTestNetwork({ dataDir: data.path });
    const gw = net.gateway('Org1');
    const alice = net.identity('Org1', 'alice');
    for (let i = 0; i < 6; i++) {
      const r = await gw.submit({ chain: 'trade', contract: 'basic', fn: 'createAsset', args: { id: `v${i}`, owner: 'alice', colour: 'teal', size: i, appraisedValue: 100 + i } }, alice);
      assert.equal(r.code, 'VALID');
    }
    await gw.submit({ chain: 'trade', contract: 'basic', fn: 'transferAsset', args: { id: 'v1', newOwner: 'bob' } }, alice);
    // An online backup of a live peer's ledger is itself a ledger that verifies.
    backup = join(work.path, 'backup.sqlite');
    await net.peer('peer0.org1').store('trade').backup(backup);
    await net.close();
    ledger = join(data.path, 'peers', 'peer0.org2', 'trade.sqlite');
  });
  after(() => {
    data.cleanup();
    work.cleanup();
  });

  it('passes an intact ledger, counting blocks, transactions and state keys', async () => {
    const v = await verifyLedgerFile(ledger);
    assert.equal(v.ok, true, JSON.stringify(v.problems));
    assert.equal(v.blocks, 8);
    assert.equal(v.transactions, 8);
    assert.equal(v.stateKeys, 7);
  });

  it('replays into a scratch file in the folder it is given and removes it, whether the ledger passes or not', async () => {
    const scratch = tempDir('silk-verify-scratch-');
    try {
      const v = await verifyLedgerFile(ledger, { scratchDir: scratch.path });
      assert.equal(v.ok, true, JSON.stringify(v.problems));
      assert.deepEqual(readdirSync(scratch.path), []);
      const broken = join(work.path, 'scratch-broken.sqlite');
      copyFileSync(ledger, broken);
      const db = new Database(broken);
      db.prepare("UPDATE state SET value = replace(value, 'teal', 'teak') WHERE key = 'asset:v2'").run();
      db.close();
      const bad = await verifyLedgerFile(broken, { scratchDir: scratch.path });
      assert.equal(bad.ok, false);
      assert.equal(bad.problems[0]?.key, 'asset:v2');
      assert.deepEqual(readdirSync(scratch.path), []);
    } finally {
      scratch.cleanup();
    }
  });

  it('an online backup taken while the network ran verifies and holds the same chain', async () => {
    const v = await verifyLedgerFile(backup);
    assert.equal(v.ok, true, JSON.stringify(v.problems));
    assert.equal(v.blocks, 8);
    assert.equal(v.stateKeys, 7);
  });

  it('names the block when a byte of a stored block is flipped', async () => {
    const v = await tampered(ledger, work.path, 'block-byte', (db) => {
      const row = db.prepare<[], { bytes: Buffer }>('SELECT bytes FROM blocks WHERE number = 3').get()!;
      // A byte inside the last transaction's envelope (near the end of the block).
      db.prepare('UPDATE blocks SET bytes = ? WHERE number = 3').run(flip(row.bytes, row.bytes.length - 40));
    });
    assert.equal(v.ok, false);
    assert.equal(v.problems[0]?.block, 3);
    assert.match(JSON.stringify(v.problems), /block 3/);
  });

  it("names the block when the orderer's or the peer's signature is altered", async () => {
    const orderer = await tampered(ledger, work.path, 'orderer-sig', (db) => {
      const row = db.prepare<[], { bytes: Buffer }>('SELECT bytes FROM blocks WHERE number = 5').get()!;
      const block = decodeBlock(row.bytes);
      const at = row.bytes.indexOf(Buffer.from(block.signature));
      db.prepare('UPDATE blocks SET bytes = ? WHERE number = 5').run(flip(row.bytes, at + 10));
    });
    assert.equal(orderer.ok, false);
    assert.equal(orderer.problems[0]?.block, 5);
    assert.match(JSON.stringify(orderer.problems), /orderer signature/);

    const peer = await tampered(ledger, work.path, 'peer-sig', (db) => {
      const row = db.prepare<[], { peer_sig: Buffer }>('SELECT peer_sig FROM blocks WHERE number = 2').get()!;
      db.prepare('UPDATE blocks SET peer_sig = ? WHERE number = 2').run(flip(row.peer_sig, 7));
    });
    assert.equal(peer.ok, false);
    assert.equal(peer.problems[0]?.block, 2);
    assert.match(JSON.stringify(peer.problems), /commit signature/);
  });

  it('names the key when a state value, a stored code or a commit hash is altered', async () => {
    const state = await tampered(ledger, work.path, 'state', (db) => {
      db.prepare("UPDATE state SET value = replace(value, 'teal', 'teak') WHERE key = 'asset:v4'").run();
    });
    assert.equal(state.ok, false);
    assert.equal(state.problems[0]?.key, 'asset:v4');

    const code = await tampered(ledger, work.path, 'code', (db) => {
      db.prepare('UPDATE blocks SET codes = ? WHERE number = 4').run(Buffer.from([11]));
    });
    assert.equal(code.ok, false);
    assert.equal(code.problems[0]?.block, 4);

    const commit = await tampered(ledger, work.path, 'commit', (db) => {
      const row = db.prepare<[], { commit_hash: Buffer }>('SELECT commit_hash FROM blocks WHERE number = 6').get()!;
      db.prepare('UPDATE blocks SET commit_hash = ? WHERE number = 6').run(flip(row.commit_hash, 0));
    });
    assert.equal(commit.ok, false);
    assert.equal(commit.problems[0]?.block, 6);
  });

  it('names the block when its stored receipt row differs from the block', async () => {
    const cut = await tampered(ledger, work.path, 'receipt-cut', (db) => {
      // Block 3 holds one transaction: 64 bytes of hashes; one byte short is not a whole pair.
      const row = db.prepare<[], { hashes: Buffer }>('SELECT hashes FROM receipt_blocks WHERE number = 3').get()!;
      assert.equal(row.hashes.length, 64);
      db.prepare('UPDATE receipt_blocks SET hashes = ? WHERE number = 3').run(row.hashes.subarray(0, 63));
    });
    namesBlock(cut, 3, /receipt hashes of block 3 are 63 bytes/);

    const envelope = await tampered(ledger, work.path, 'receipt-envelope', (db) => {
      const row = db.prepare<[], { hashes: Buffer }>('SELECT hashes FROM receipt_blocks WHERE number = 4').get()!;
      db.prepare('UPDATE receipt_blocks SET hashes = ? WHERE number = 4').run(flip(row.hashes, 5));
    });
    namesBlock(envelope, 4, /envelope hash of tx 0/);

    const header = await tampered(ledger, work.path, 'receipt-header', (db) => {
      const row = db.prepare<[], { header: Buffer }>('SELECT header FROM receipt_blocks WHERE number = 5').get()!;
      db.prepare('UPDATE receipt_blocks SET header = ? WHERE number = 5').run(flip(row.header, row.header.length - 3));
    });
    namesBlock(header, 5, /receipt header/);

    const leaf = await tampered(ledger, work.path, 'receipt-leaf', (db) => {
      // Tx 0's leaf hash is the second 32 bytes.
      const row = db.prepare<[], { hashes: Buffer }>('SELECT hashes FROM receipt_blocks WHERE number = 2').get()!;
      db.prepare('UPDATE receipt_blocks SET hashes = ? WHERE number = 2').run(flip(row.hashes, 63));
    });
    namesBlock(leaf, 2, /leaf hash of tx 0/);

    const missing = await tampered(ledger, work.path, 'receipt-missing', (db) => {
      db.prepare('DELETE FROM receipt_blocks WHERE number = 6').run();
    });
    namesBlock(missing, 6, /receipt row is missing/);
  });

  it('names the block when a byte of its block_writes record is flipped', async () => {
    const v = await tampered(ledger, work.path, 'block-writes-byte', (db) => {
      const row = db.prepare<[], { writes: Buffer }>('SELECT writes FROM block_writes WHERE number = 4').get()!;
      // A byte of the last write's value (near the end of the record).
      db.prepare('UPDATE block_writes SET writes = ? WHERE number = 4').run(flip(row.writes, row.writes.length - 5));
    });
    assert.equal(v.ok, false);
    assert.equal(v.problems[0]?.block, 4);
    assert.match(JSON.stringify(v.problems), /block 4: stored block_writes record differs from the replay/);

    const missing = await tampered(ledger, work.path, 'block-writes-missing', (db) => {
      db.prepare('DELETE FROM block_writes WHERE number = 2').run();
    });
    assert.equal(missing.problems[0]?.block, 2);
    assert.match(JSON.stringify(missing.problems), /block_writes record is missing/);
  });

  it('names the block whose key history or tx index row is missing, and counts rows no record calls for', async () => {
    const history = await tampered(ledger, work.path, 'history-row', (db) => {
      assert.equal(db.prepare('DELETE FROM history WHERE block = 5').run().changes, 1);
    });
    assert.equal(history.ok, false);
    assert.equal(history.problems[0]?.block, 5);
    assert.match(JSON.stringify(history.problems), /key history row of basic\/asset:v\d by tx 0 is missing/);

    const tx = await tampered(ledger, work.path, 'tx-row', (db) => {
      db.prepare('UPDATE txs SET code = code + 1 WHERE block = 3').run();
    });
    assert.equal(tx.ok, false);
    assert.equal(tx.problems[0]?.block, 3);
    assert.match(JSON.stringify(tx.problems), /tx index row of tx 0 .* differs/);

    const extra = await tampered(ledger, work.path, 'history-extra', (db) => {
      db.prepare("INSERT INTO history (ns, key, block, tx) VALUES ('basic', 'asset:v9', 6, 0)").run();
    });
    assert.equal(extra.ok, false);
    assert.match(JSON.stringify(extra.problems), /key history holds \d+ rows; the block_writes records up to block 7 call for \d+/);
  });

  it('a version-2 ledger verifies before and after a writable open converts it, answering the same history and tx lookups', async () => {
    const old = join(work.path, 'version-2.sqlite');
    copyFileSync(ledger, old);
    const expected = indexAnswers(ledger);
    assert.ok(expected.txs.length >= 8 && expected.history.length >= 7);
    downgradeToVersion2(old);
    assert.deepEqual(indexAnswers(old), expected, 'the version-2 rows answer as the original');
    const before = await verifyLedgerFile(old);
    assert.deepEqual(before.problems, []);
    await openSqliteLedgerStore(old).close();
    const db = new Database(old, { readonly: true });
    try {
      assert.equal(db.prepare("SELECT value FROM meta WHERE name = 'schema_version'").pluck().get(), String(LEDGER_SCHEMA_VERSION));
      assert.equal(db.prepare('SELECT COUNT(*) FROM block_writes').pluck().get(), 8);
    } finally {
      db.close();
    }
    assert.deepEqual(indexAnswers(old), expected, 'the converted ledger answers as the original');
    const after = await verifyLedgerFile(old);
    assert.deepEqual(after.problems, []);
    assert.equal(after.blocks, 8);
  });

  it('the CLI exits 0 on an intact data folder and 1 naming the bad block otherwise', () => {
    const ok = spawnSync(process.execPath, [CLI, 'verify', '--data', data.path, '--scratch', work.path], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /ok {4}.*peer0\.org1.*8 blocks/);
    assert.deepEqual(readdirSync(work.path).filter((f) => f.startsWith('silk-verify-')), [], 'the scratch files are removed');

    const broken = join(work.path, 'data');
    cpSync(data.path, broken, { recursive: true });
    const file = join(broken, 'peers', 'peer0.org3', 'trade.sqlite');
    const db = new Database(file);
    const row = db.prepare<[], { bytes: Buffer }>('SELECT bytes FROM blocks WHERE number = 7').get()!;
    db.prepare('UPDATE blocks SET bytes = ? WHERE number = 7').run(flip(row.bytes, row.bytes.length - 5));
    db.close();
    const bad = spawnSync(process.execPath, [CLI, 'verify', '--data', broken], { encoding: 'utf8' });
    assert.equal(bad.status, 1, bad.stdout + bad.stderr);
    assert.match(bad.stdout, /FAIL .*peer0\.org3.*block 7/);
    const json = spawnSync(process.execPath, [CLI, 'verify', '--data', broken, '--json'], { encoding: 'utf8' });
    assert.equal(json.status, 1);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; ledgers: { ok: boolean }[] };
    assert.equal(parsed.ok, false);
    assert.deepEqual(parsed.ledgers.map((l) => l.ok), [true, true, false]);
  });

  it('refuses bad usage with exit code 2', () => {
    const r = spawnSync(process.execPath, [CLI, 'verify', '--bogus'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /silk: /);
    const missing = spawnSync(process.execPath, [CLI, 'verify', '--data', work.path + '/nowhere'], { encoding: 'utf8' });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no peers under/);
    const noScratch = spawnSync(process.execPath, [CLI, 'verify', '--data', data.path, '--scratch', work.path + '/nowhere'], { encoding: 'utf8' });
    assert.equal(noScratch.status, 2);
    assert.match(noScratch.stderr, /--scratch .*no such folder/);
  });
});
