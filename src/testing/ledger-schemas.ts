/**
 * Ledger files in the layout of earlier releases, made from current ones, for the tests of the
 * migrations (src/storage/receipt-migration.ts).
 */
import Database from 'better-sqlite3';
import { openSqliteLedgerStore } from '../storage/sqlite-ledger-store.js';

/**
 * Rewrites a closed ledger file in the layout of schema version 3: a receipt row per transaction
 * (`receipt_txs`: envelope hash, leaf hash, packed inclusion path), no `hashes` column.
 * @example makeVersion3Ledger(copyOfLedger)
 */
export async function makeVersion3Ledger(path: string): Promise<void> {
  const store = openSqliteLedgerStore(path, { readonly: true });
  const rows: { block: number; tx: number; env: Uint8Array; leaf: Uint8Array; path: Uint8Array }[] = [];
  try {
    for (let n = 0; n < store.height(); n++) {
      store.proofs(n)?.txs.forEach((t, tx) => rows.push({ block: n, tx, env: t.envelopeHash, leaf: t.leafHash, path: t.path }));
    }
  } finally {
    await store.close();
  }
  const db = new Database(path);
  try {
    db.exec(`CREATE TABLE receipt_txs (block INTEGER NOT NULL, tx INTEGER NOT NULL, env_hash BLOB NOT NULL, leaf BLOB NOT NULL, path BLOB NOT NULL,
      PRIMARY KEY (block, tx)) WITHOUT ROWID; ALTER TABLE receipt_blocks DROP COLUMN hashes; UPDATE meta SET value = '3' WHERE name = 'schema_version';`);
    const insert = db.prepare('INSERT INTO receipt_txs (block, tx, env_hash, leaf, path) VALUES (?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (const r of rows) insert.run(r.block, r.tx, r.env, r.leaf, r.path);
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}
