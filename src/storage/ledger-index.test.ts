/**
 * Key history and tx lookups of a ledger store whose index rows are partly in their tables and
 * partly pending in memory: equal to a reference list in both orders and through every page
 * size, after a close and reopen, after a crash (the files as a power cut leaves them), and
 * from a read-only store in another connection while the writer holds pending rows; and a
 * version-2 ledger converted on a writable open (in one go, or resumed after a crash).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { tempDir } from '../testing/fixtures.js';
import { INDEX_FLUSH_BLOCKS } from './ledger-index.js';
import { LEDGER_SCHEMA_VERSION } from './receipt-migration.js';
import { openSqliteLedgerStore, type BlockCommit, type HistoryRow, type LedgerStore, type StateWrite, type TxLocation } from './sqlite-ledger-store.js';

const NS = 'basic';
const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4'];
const DUPLICATE_CODE = 7;

/** What the ledger must answer. */
interface Reference {
  readonly history: Map<string, HistoryRow[]>;
  readonly txs: Map<string, TxLocation>;
}

const idOf = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Blocks of 1 to 6 transactions writing or deleting one or two of a few keys; some
 * transactions reuse an id an earlier one claimed (their entry keeps the first location).
 */
function makeBlocks(count: number, seed: number, from = 0, ref?: Reference): { commits: BlockCommit[]; ref: Reference } {
  const next = rng(seed);
  const out: Reference = ref ?? { history: new Map(KEYS.map((k) => [k, []])), txs: new Map() };
  const claimed = [...out.txs.keys()];
  const commits: BlockCommit[] = [];
  const b = (n: number) => new Uint8Array(n);
  for (let number = from; number < from + count; number++) {
    const timestamp = 1_750_000_000_000 + number * 1000;
    const txCount = 1 + Math.floor(next() * 6);
    const txIndex: { txId: string; tx: number; code: number }[] = [];
    const writes: StateWrite[] = [];
    for (let tx = 0; tx < txCount; tx++) {
      if (claimed.length > 0 && next() < 0.1) {
        // A replayed id: indexed with its duplicate code, found at its first location.
        txIndex.push({ txId: claimed[Math.floor(next() * claimed.length)] as string, tx, code: DUPLICATE_CODE });
        continue;
      }
      const txId = idOf(`${seed}:${number}:${tx}`);
      txIndex.push({ txId, tx, code: 0 });
      out.txs.set(txId, { block: number, tx, code: 0 });
      claimed.push(txId);
      const first = Math.floor(next() * KEYS.length);
      const keys = next() < 0.5 ? [first] : [first, (first + 1) % KEYS.length];
      for (const k of keys) {
        const key = KEYS[k] as string;
        const value = next() < 0.15 ? null : `v${number}.${tx}`;
        writes.push({ ns: NS, key, value, tx, txId });
        out.history.get(key)?.push({ block: number, tx, txId, value, timestamp });
      }
    }
    commits.push({
      number, hash: b(32), bytes: b(8), codes: new Uint8Array(txCount), commitHash: b(32), peerSignature: b(64), timestamp, txIndex, writes,
      proofs: { header: b(8), ordererSignature: b(64), txs: Array.from({ length: txCount }, () => ({ envelopeHash: b(32), leafHash: b(32), path: b(0) })) },
    });
  }
  return { commits, ref: out };
}

/** Every key's history, paged in both orders with several page sizes, and every tx id, equal the reference. */
function assertAnswers(store: LedgerStore, ref: Reference, label: string): void {
  for (const [key, rows] of ref.history) {
    assert.deepEqual(store.history(NS, key, 'asc', 1_000_000), rows, `${label}: ${key} asc`);
    assert.deepEqual(store.history(NS, key, 'desc', 1_000_000), [...rows].reverse(), `${label}: ${key} desc`);
    for (const order of ['asc', 'desc'] as const) {
      const expected = order === 'asc' ? rows : [...rows].reverse();
      for (const limit of [1, 3, 7]) {
        const pages: HistoryRow[] = [];
        let cursor: { block: number; tx: number } | undefined;
        for (;;) {
          const page = store.history(NS, key, order, limit, cursor);
          assert.deepEqual(page, expected.slice(pages.length, pages.length + limit), `${label}: ${key} ${order} page after ${pages.length} rows, limit ${limit}`);
          pages.push(...page);
          if (page.length < limit) break;
          const last = page[page.length - 1] as HistoryRow;
          cursor = { block: last.block, tx: last.tx };
        }
        assert.equal(pages.length, rows.length);
      }
    }
  }
  for (const [txId, at] of ref.txs) assert.deepEqual(store.tx(txId), at, `${label}: tx ${txId}`);
  assert.equal(store.tx(idOf('never committed')), undefined);
  const known = [...ref.txs.keys()][0] as string;
  assert.equal(store.tx(known.toUpperCase()), undefined, 'an id in upper case is malformed');
  assert.equal(store.tx('not-a-tx-id'), undefined);
  assert.equal(store.tx(''), undefined);
}

function indexSavepointOf(path: string): number | undefined {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT value FROM meta WHERE name = 'index_savepoint'").get() as { value: number } | undefined)?.value;
  } finally {
    db.close();
  }
}

const dirs: { cleanup(): void }[] = [];
after(() => { for (const d of dirs) d.cleanup(); });
function ledgerDir(): string {
  const d = tempDir('silk-ledger-index-');
  dirs.push(d);
  return d.path;
}

describe('key history and tx index across batches', () => {
  // One batch written (blocks 0 to INDEX_FLUSH_BLOCKS - 1) and the rest pending.
  const BLOCKS = INDEX_FLUSH_BLOCKS + 13;

  for (const writerThread of [false, true]) {
    it(`answers the same from tables, pending rows and both, and after a reopen${writerThread ? ' (writer thread)' : ''}`, async () => {
      const path = join(ledgerDir(), 'chain.sqlite');
      const { commits, ref } = makeBlocks(BLOCKS, writerThread ? 2 : 1);
      let store = openSqliteLedgerStore(path, { writerThread });
      try {
        for (const c of commits) await store.commitAsync(c);
        const totals = store.indexTotals();
        assert.equal(totals.indexSavepoint, INDEX_FLUSH_BLOCKS - 1, 'the first batch is in the tables');
        assert.ok(totals.historyRows > 0 && totals.txRows > 0);
        assert.ok(totals.txRows < ref.txs.size, 'the later blocks are pending');
        assertAnswers(store, ref, 'half flushed');
      } finally {
        await store.close();
      }
      assert.equal(indexSavepointOf(path), BLOCKS - 1, 'a clean close writes the pending rows');
      store = openSqliteLedgerStore(path, { writerThread });
      try {
        assert.equal(store.indexTotals().txRows, ref.txs.size);
        assertAnswers(store, ref, 'reopened');
        // More blocks after the reopen, across the next batch.
        const more = makeBlocks(INDEX_FLUSH_BLOCKS + 3, 3, BLOCKS, ref);
        for (const c of more.commits) await store.commitAsync(c);
        assertAnswers(store, more.ref, 'after more blocks');
      } finally {
        await store.close();
      }
    });
  }

  it('a crash with rows pending loses none of them: the reopened ledger answers the same', async () => {
    const dir = ledgerDir();
    const path = join(dir, 'chain.sqlite');
    const crashed = join(dir, 'crashed.sqlite');
    const { commits, ref } = makeBlocks(BLOCKS, 4);
    const store = openSqliteLedgerStore(path);
    try {
      for (const c of commits) store.commit(c);
      // What a power cut leaves: the database file and its write-ahead log as committed.
      copyFileSync(path, crashed);
      assert.ok(existsSync(`${path}-wal`));
      copyFileSync(`${path}-wal`, `${crashed}-wal`);
    } finally {
      await store.close();
    }
    assert.equal(indexSavepointOf(crashed), INDEX_FLUSH_BLOCKS - 1, 'the crashed copy has rows pending');
    const reader = openSqliteLedgerStore(crashed, { readonly: true });
    try {
      assertAnswers(reader, ref, 'crashed, read-only');
    } finally {
      await reader.close();
    }
    const reopened = openSqliteLedgerStore(crashed);
    try {
      assertAnswers(reopened, ref, 'crashed, reopened');
      const more = makeBlocks(INDEX_FLUSH_BLOCKS, 5, BLOCKS, ref);
      for (const c of more.commits) reopened.commit(c);
      assertAnswers(reopened, more.ref, 'crashed, reopened, more blocks');
    } finally {
      await reopened.close();
    }
  });

  it('a read-only store in another connection sees the writer\'s pending rows, and new ones as the height moves', async () => {
    const path = join(ledgerDir(), 'chain.sqlite');
    const first = makeBlocks(BLOCKS, 6);
    const writer = openSqliteLedgerStore(path, { writerThread: true });
    const reader = openSqliteLedgerStore(path, { readonly: true });
    try {
      for (const c of first.commits) await writer.commitAsync(c);
      assertAnswers(reader, first.ref, 'reader');
      const more = makeBlocks(INDEX_FLUSH_BLOCKS, 7, BLOCKS, first.ref);
      for (const c of more.commits) await writer.commitAsync(c);
      assert.equal(reader.indexTotals().indexSavepoint, 2 * INDEX_FLUSH_BLOCKS - 1, 'a second batch was written');
      assertAnswers(reader, more.ref, 'reader after more blocks');
    } finally {
      await reader.close();
      await writer.close();
    }
  });

  it('resetDerivedData forgets the pending rows with the tables, and a replay rebuilds the same answers', async () => {
    const path = join(ledgerDir(), 'chain.sqlite');
    const { commits, ref } = makeBlocks(BLOCKS, 8);
    const store = openSqliteLedgerStore(path);
    try {
      for (const c of commits) store.commit(c);
      store.resetDerivedData();
      assert.deepEqual(store.history(NS, 'k0', 'asc', 100), []);
      for (const id of [...ref.txs.keys()].slice(-5)) assert.equal(store.tx(id), undefined, 'a pending id is gone');
      assert.deepEqual(store.indexTotals(), { historyRows: 0, txRows: 0, indexSavepoint: -1 });
      assert.equal(store.blockWrites(0), undefined);
      for (const c of commits) store.commit(c);
      assertAnswers(store, ref, 'replayed');
    } finally {
      await store.close();
    }
  });

  it('refuses a commit naming a malformed tx id, writing nothing', async () => {
    const path = join(ledgerDir(), 'chain.sqlite');
    const { commits } = makeBlocks(2, 9);
    const store = openSqliteLedgerStore(path);
    try {
      store.commit(commits[0] as BlockCommit);
      const bad = { ...(commits[1] as BlockCommit), txIndex: [{ txId: 'ABC', tx: 0, code: 0 }] };
      assert.throws(() => {
        store.commit(bad);
      }, /64 lowercase hex digits/);
      assert.equal(store.height(), 1);
      assert.equal(store.block(1), undefined);
    } finally {
      await store.close();
    }
  });
});

/** The tables of ledger schema version 2, as that release created them. */
const SCHEMA_V2 = `
CREATE TABLE blocks (number INTEGER PRIMARY KEY, hash BLOB NOT NULL, bytes BLOB NOT NULL, codes BLOB NOT NULL,
  commit_hash BLOB NOT NULL, peer_sig BLOB NOT NULL, ts INTEGER NOT NULL);
CREATE TABLE state (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, block INTEGER NOT NULL, tx INTEGER NOT NULL,
  policy TEXT, PRIMARY KEY (ns, key)) WITHOUT ROWID;
CREATE TABLE history (ns TEXT NOT NULL, key TEXT NOT NULL, block INTEGER NOT NULL, tx INTEGER NOT NULL, txid TEXT NOT NULL,
  value TEXT, ts INTEGER NOT NULL, PRIMARY KEY (ns, key, block, tx)) WITHOUT ROWID;
CREATE TABLE txs (txid TEXT PRIMARY KEY, block INTEGER NOT NULL, tx INTEGER NOT NULL, code INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE meta (name TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE receipt_blocks (number INTEGER PRIMARY KEY, header BLOB NOT NULL, orderer_sig BLOB NOT NULL, codes BLOB NOT NULL,
  commit_hash BLOB NOT NULL, peer_sig BLOB NOT NULL);
CREATE TABLE receipt_txs (block INTEGER NOT NULL, tx INTEGER NOT NULL, env_hash BLOB NOT NULL, leaf BLOB NOT NULL, path BLOB NOT NULL,
  PRIMARY KEY (block, tx)) WITHOUT ROWID;
`;

/** Writes blocks to a new ledger file with the statements of schema version 2. */
function writeVersion2Ledger(path: string, commits: readonly BlockCommit[]): void {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.exec(SCHEMA_V2);
    const q = {
      block: db.prepare('INSERT OR REPLACE INTO blocks (number, hash, bytes, codes, commit_hash, peer_sig, ts) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      upsert: db.prepare('INSERT INTO state (ns, key, value, block, tx, policy) VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, block = excluded.block, tx = excluded.tx'),
      del: db.prepare('DELETE FROM state WHERE ns = ? AND key = ?'),
      hist: db.prepare('INSERT OR REPLACE INTO history (ns, key, block, tx, txid, value, ts) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      txIndex: db.prepare('INSERT OR IGNORE INTO txs (txid, block, tx, code) VALUES (?, ?, ?, ?)'),
      receiptBlock: db.prepare('INSERT OR REPLACE INTO receipt_blocks (number, header, orderer_sig, codes, commit_hash, peer_sig) VALUES (?, ?, ?, ?, ?, ?)'),
      receiptTx: db.prepare('INSERT OR REPLACE INTO receipt_txs (block, tx, env_hash, leaf, path) VALUES (?, ?, ?, ?, ?)'),
      meta: db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
    };
    const commit = db.transaction((c: BlockCommit) => {
      q.block.run(c.number, c.hash, c.bytes, c.codes, c.commitHash, c.peerSignature, c.timestamp);
      for (const w of c.writes) {
        if (w.value === null) q.del.run(w.ns, w.key);
        else q.upsert.run(w.ns, w.key, w.value, c.number, w.tx);
        q.hist.run(w.ns, w.key, c.number, w.tx, w.txId, w.value, c.timestamp);
      }
      for (const t of c.txIndex) q.txIndex.run(t.txId, c.number, t.tx, t.code);
      q.receiptBlock.run(c.number, c.proofs.header, c.proofs.ordererSignature, c.codes, c.commitHash, c.peerSignature);
      c.proofs.txs.forEach((t, i) => q.receiptTx.run(c.number, i, t.envelopeHash, t.leafHash, t.path));
      q.meta.run('savepoint', c.number);
    });
    for (const c of commits) commit(c);
    q.meta.run('schema_version', '2');
  } finally {
    db.close();
  }
}

interface IndexTables {
  readonly version: unknown;
  readonly tables: readonly string[];
  readonly historyColumns: readonly string[];
  readonly txidType: string | undefined;
  readonly records: number;
  readonly indexSavepoint: unknown;
}

function indexTables(path: string): IndexTables {
  const db = new Database(path, { readonly: true });
  try {
    const meta = (name: string) => (db.prepare('SELECT value FROM meta WHERE name = ?').get(name) as { value: unknown } | undefined)?.value;
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('history', 'txs', 'block_writes', 'history_v2', 'txs_v2') ORDER BY name").pluck().all() as string[]);
    const hasRecords = tables.includes('block_writes');
    return {
      version: meta('schema_version'),
      tables,
      historyColumns: (db.pragma('table_info(history)') as { name: string }[]).map((c) => c.name),
      txidType: (db.prepare('SELECT typeof(txid) FROM txs LIMIT 1').pluck().get() as string | undefined),
      records: hasRecords ? (db.prepare('SELECT COUNT(*) FROM block_writes').pluck().get() as number) : 0,
      indexSavepoint: meta('index_savepoint'),
    };
  } finally {
    db.close();
  }
}

const STORE_MODULE = fileURLToPath(new URL('./sqlite-ledger-store.js', import.meta.url));

describe('conversion of a version-2 ledger', () => {
  const BLOCKS = INDEX_FLUSH_BLOCKS + 13;
  const converted: IndexTables = {
    version: String(LEDGER_SCHEMA_VERSION),
    tables: ['block_writes', 'history', 'txs'],
    historyColumns: ['ns', 'key', 'block', 'tx'],
    txidType: 'blob',
    records: BLOCKS,
    indexSavepoint: BLOCKS - 1,
  };

  it('answers the same history and tx lookups before and after a writable open converts it', async () => {
    const path = join(ledgerDir(), 'v2.sqlite');
    const { commits, ref } = makeBlocks(BLOCKS, 10);
    writeVersion2Ledger(path, commits);
    const before = openSqliteLedgerStore(path, { readonly: true });
    try {
      assertAnswers(before, ref, 'version 2, read-only');
    } finally {
      await before.close();
    }
    assert.equal(indexTables(path).version, '2', 'a read-only open converts nothing');
    let store = openSqliteLedgerStore(path);
    try {
      assertAnswers(store, ref, 'converted');
    } finally {
      await store.close();
    }
    assert.deepEqual(indexTables(path), converted);
    store = openSqliteLedgerStore(path, { writerThread: true });
    try {
      assertAnswers(store, ref, 'converted, reopened');
      const more = makeBlocks(INDEX_FLUSH_BLOCKS, 11, BLOCKS, ref);
      for (const c of more.commits) await store.commitAsync(c);
      assertAnswers(store, more.ref, 'converted, more blocks');
    } finally {
      await store.close();
    }
  });

  it('resumes a conversion a crash interrupted, answering the same at every step', async () => {
    const path = join(ledgerDir(), 'v2-crashed.sqlite');
    const { commits, ref } = makeBlocks(BLOCKS, 12);
    writeVersion2Ledger(path, commits);
    // Batches of a few blocks; the process dies inside the third batch's transaction.
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', `const { openSqliteLedgerStore } = await import(${JSON.stringify(STORE_MODULE)}); openSqliteLedgerStore(${JSON.stringify(path)}, { migrationBatchTxs: 10 });`], {
      env: { ...process.env, SILK_KILL_POINT: 'during-index-migration', SILK_KILL_AFTER: '3' },
      encoding: 'utf8',
    });
    assert.equal(child.signal, 'SIGKILL', `the child died at the kill point (status ${child.status}, stderr ${child.stderr})`);
    const half = indexTables(path);
    assert.equal(half.version, '2');
    assert.deepEqual(half.tables, ['block_writes', 'history', 'history_v2', 'txs', 'txs_v2'], 'the old tables are set aside, not dropped');
    assert.ok(half.records > 0 && half.records < BLOCKS, `${half.records} blocks converted before the crash`);
    const reader = openSqliteLedgerStore(path, { readonly: true });
    try {
      assertAnswers(reader, ref, 'half converted, read-only');
    } finally {
      await reader.close();
    }
    const store = openSqliteLedgerStore(path, { migrationBatchTxs: 10 });
    try {
      assertAnswers(store, ref, 'conversion resumed');
    } finally {
      await store.close();
    }
    assert.deepEqual(indexTables(path), converted);
  });
});
