/**
 * Receipts served from the hashes a peer stores at commit: blocks of 1, 2, 3, 7 and 500
 * transactions, old blocks, a reopened peer, a ledger written before receipts were stored
 * (read-only it computes them; a writable open migrates it), one written with a receipt row per
 * transaction (schema version 3; a writable open converts it), and a crash in the middle of
 * either migration. Every receipt is checked with `verifyReceipt` against the envelope it covers.
 * Receipts read right after the commits come from the store's memory of its latest blocks, those
 * after a reopen from the stored rows: the two must be the same.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { BasicContract } from '../contracts/basic/basic-contract.js';
import { toHex } from '../crypto/hash.js';
import { generateSigner, type Signer } from '../crypto/p256.js';
import { isSilkError } from '../errors.js';
import { createInlineVerifier } from '../crypto/verify-pool.js';
import { createBlock, encodeBlock, GENESIS_PREVIOUS_HASH } from '../ledger/block.js';
import type { ChainConfig } from '../ledger/chain-config.js';
import { createConfigTransaction } from '../ledger/config-transaction.js';
import { createProposal } from '../ledger/proposal.js';
import { receiptToJson, verifyReceipt, type Receipt, type ReceiptJson } from '../ledger/receipt.js';
import { encodeEnvelope, TX_FORMAT_VERSION } from '../ledger/transaction.js';
import { LEDGER_SCHEMA_VERSION } from '../storage/receipt-migration.js';
import { openSqliteLedgerStore, type LedgerStore } from '../storage/sqlite-ledger-store.js';
import { tempDir } from '../testing/fixtures.js';
import { makeVersion3Ledger } from '../testing/ledger-schemas.js';
import { verifyLedgerFile } from './ledger-verifier.js';
import { createPeer, type Peer } from './peer.js';

const CHAIN = 'trade';
const T0 = 1_750_000_000_000;
const BLOCK_SIZES = [1, 2, 3, 7, 500] as const;
/** Blocks cut after the sized ones, so those are well beyond anything recent. */
const LATER_BLOCKS = 40;
const STORE_MODULE = fileURLToPath(new URL('../storage/sqlite-ledger-store.js', import.meta.url));

interface Keys {
  readonly orderer: Signer;
  readonly admin: Signer;
  readonly peer: Signer;
  readonly user: Signer;
}

interface Committed {
  readonly txId: string;
  readonly envelope: Uint8Array;
  readonly block: number;
}

const keys: Keys = { orderer: generateSigner(), admin: generateSigner(), peer: generateSigner(), user: generateSigner() };
const trust = { orderers: [toHex(keys.orderer.publicKey)], peers: [toHex(keys.peer.publicKey)] };
const config: ChainConfig = {
  v: 1,
  chain: CHAIN,
  sequence: 0,
  orgs: { Org1: { members: [
    { name: 'admin', key: toHex(keys.admin.publicKey), role: 'admin' },
    { name: 'peer0.org1', key: toHex(keys.peer.publicKey), role: 'peer' },
    { name: 'user', key: toHex(keys.user.publicKey), role: 'client' },
  ] } },
  orderers: [toHex(keys.orderer.publicKey)],
  adminPolicy: "OR('Org1.admin')",
  contracts: { basic: { version: '1.0', policy: "OR('Org1.peer')" } },
  txWindowMs: 60_000,
  batch: { maxTxs: 1000, maxBytes: 4 * 1024 * 1024, timeoutMs: 10 },
};
const genesis = encodeBlock(createBlock({ chain: CHAIN, number: 0, previousHash: GENESIS_PREVIOUS_HASH, timestamp: T0, txs: [createConfigTransaction(config, keys.admin, [keys.admin], T0)] }, keys.orderer));
const verifier = createInlineVerifier();

async function openPeer(dataDir: string): Promise<Peer> {
  const peer = createPeer({ name: 'peer0.org1', org: 'Org1', signer: keys.peer, dataDir, contracts: [new BasicContract()], verifier });
  await peer.joinChain(genesis);
  return peer;
}

/** Cuts one block of `count` fresh `basic.put` transactions, endorsed by the peer, and delivers it. */
async function cutBlock(peer: Peer, count: number, serial: { n: number }): Promise<Committed[]> {
  const number = peer.height(CHAIN);
  const timestamp = T0 + 1000 * number;
  const txs = Array.from({ length: count }, () => {
    const key = `k${++serial.n}`;
    const signed = createProposal({ chain: CHAIN, contract: 'basic', version: '1.0', fn: 'put', args: { key, value: key }, ts: timestamp }, keys.user);
    const e = peer.endorse({ bytes: signed.bytes, signature: signed.signature });
    return { txId: signed.txId, envelope: encodeEnvelope({ v: TX_FORMAT_VERSION, proposal: signed.bytes, signature: signed.signature, result: e.result, endorsements: [e.endorsement] }) };
  });
  const previous = peer.committedBlock(CHAIN, number - 1);
  assert.ok(previous !== undefined);
  const block = createBlock({ chain: CHAIN, number, previousHash: Buffer.from(previous.hash, 'hex'), timestamp, txs: txs.map((t) => t.envelope) }, keys.orderer);
  const committed = await peer.deliver(encodeBlock(block));
  assert.deepEqual(committed.codes, txs.map(() => 'VALID'));
  return txs.map((t) => ({ ...t, block: number }));
}

/** Every transaction's receipt verifies against its envelope and names its block; returns them as JSON. */
function checkReceipts(read: (txId: string) => Receipt | undefined, txs: readonly Committed[]): ReceiptJson[] {
  return txs.map((t) => {
    const r = read(t.txId);
    assert.ok(r !== undefined, `a receipt for ${t.txId}`);
    assert.equal(r.blockNumber, t.block);
    assert.deepEqual(verifyReceipt(r, trust, t.envelope), { ok: true }, `receipt of ${t.txId} in block ${t.block}`);
    return receiptToJson(r);
  });
}

/** A receipt read from a store directly, completed as the peer completes it. */
function fromStore(store: LedgerStore, txId: string): Receipt | undefined {
  const at = store.tx(txId);
  if (at === undefined) return undefined;
  const r = store.receipt(at);
  return {
    chain: CHAIN, txId, blockNumber: r.block, txIndex: r.tx, code: 'VALID', envelopeHash: r.envelopeHash, leafHash: r.leafHash, treeSize: r.codes.length,
    path: r.path, header: r.header, ordererSignature: r.ordererSignature, codes: r.codes, commitHash: r.commitHash, peer: keys.peer.publicKey, peerSignature: r.peerSignature,
  };
}

/** Turns a copy of a ledger into one written before receipts were stored. */
function makeOldSchema(path: string): void {
  const db = new Database(path);
  try {
    db.exec("DROP TABLE receipt_blocks; DELETE FROM meta WHERE name = 'schema_version';");
  } finally {
    db.close();
  }
}

/** The receipt tables of a ledger file, its receipt rows, those with hashes, the bytes of those hashes, and its schema version. */
function receiptTables(path: string): { tables: string; blocks: number | undefined; filled: number | undefined; hashBytes: number | undefined; version: unknown } {
  const db = new Database(path, { readonly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE name IN ('receipt_txs', 'receipt_blocks') ORDER BY name").all() as { name: string }[]).map((t) => t.name).join(' ');
    const hasHashes = tables.includes('receipt_blocks') && (db.pragma('table_info(receipt_blocks)') as { name: string }[]).some((c) => c.name === 'hashes');
    const blocks = tables.includes('receipt_blocks') ? (db.prepare('SELECT COUNT(*) AS n FROM receipt_blocks').get() as { n: number }).n : undefined;
    const filled = hasHashes ? db.prepare('SELECT COUNT(hashes) AS n, SUM(LENGTH(hashes)) AS bytes FROM receipt_blocks').get() as { n: number; bytes: number | null } : undefined;
    const version = (db.prepare("SELECT value FROM meta WHERE name = 'schema_version'").get() as { value: unknown } | undefined)?.value;
    return { tables, blocks, filled: filled?.n, hashBytes: filled === undefined ? undefined : (filled.bytes ?? 0), version };
  } finally {
    db.close();
  }
}

/** Opens a ledger for writing in a child process, one block a migration batch, and SIGKILLs it inside the third batch's transaction. */
function migrateUntilKilled(path: string): void {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', `const { openSqliteLedgerStore } = await import(${JSON.stringify(STORE_MODULE)}); openSqliteLedgerStore(${JSON.stringify(path)}, { migrationBatchTxs: 1 });`], {
    env: { ...process.env, SILK_KILL_POINT: 'during-receipt-migration', SILK_KILL_AFTER: '3' },
    encoding: 'utf8',
  });
  assert.equal(child.signal, 'SIGKILL', `the child died at the kill point (status ${child.status}, stderr ${child.stderr})`);
}

describe('receipts from stored inclusion proofs', () => {
  const data = tempDir('silk-receipts-');
  const copies = tempDir('silk-receipts-old-');
  const sized: Committed[][] = [];
  const later: Committed[] = [];
  let all: Committed[] = [];
  let original: ReceiptJson[] = [];
  let height = 0;
  let ledger = '';

  before(async () => {
    const peer = await openPeer(data.path);
    const serial = { n: 0 };
    try {
      for (const size of BLOCK_SIZES) sized.push(await cutBlock(peer, size, serial));
      for (let i = 0; i < LATER_BLOCKS; i++) later.push(...await cutBlock(peer, 1 + (i % 4), serial));
      all = [...sized.flat(), ...later];
      original = checkReceipts((txId) => peer.receipt(CHAIN, txId), all);
      height = peer.height(CHAIN);
    } finally {
      await peer.close();
    }
    ledger = join(data.path, `${CHAIN}.sqlite`);
  });
  after(async () => {
    data.cleanup();
    copies.cleanup();
    await verifier.close();
  });

  /**
   * A ledger whose migration a crash interrupted: read-only it serves every receipt (stored ones
   * and computed ones mixed) and verifies; a writable open completes the migration, after which
   * it serves the same receipts, has the current layout and verifies.
   */
  const servesAfterCrash = async (old: string): Promise<void> => {
    const half = openSqliteLedgerStore(old, { readonly: true });
    try {
      assert.deepEqual(checkReceipts((txId) => fromStore(half, txId), all), original, 'a half-migrated ledger read-only mixes stored and computed receipts');
    } finally {
      await half.close();
    }
    assert.deepEqual((await verifyLedgerFile(old)).problems, []);
    const store = openSqliteLedgerStore(old);
    try {
      assert.deepEqual(checkReceipts((txId) => fromStore(store, txId), all), original);
    } finally {
      await store.close();
    }
    assert.deepEqual(receiptTables(old), receiptTables(ledger));
    assert.deepEqual((await verifyLedgerFile(old)).problems, []);
  };

  it('serve verifying receipts for blocks of 1, 2, 3, 7 and 500 transactions, every index', () => {
    assert.deepEqual(sized.map((b) => b.length), [...BLOCK_SIZES]);
    const byTx = new Map(original.map((r) => [r.txId, r]));
    for (const block of sized) {
      for (const [i, t] of block.entries()) {
        const r = byTx.get(t.txId);
        assert.equal(r?.txIndex, i);
        assert.equal(r.treeSize, block.length);
      }
    }
    // The 500-transaction block's paths are 9 hashes deep except where the tree is ragged.
    assert.ok(original.some((r) => r.treeSize === 500 && r.path.length === 9));
  });

  it('store one receipt row per block with 64 bytes of hashes per transaction, and the schema version', () => {
    // The genesis block's configuration transaction has its hashes too.
    assert.deepEqual(receiptTables(ledger), { tables: 'receipt_blocks', blocks: height, filled: height, hashBytes: 64 * (all.length + 1), version: String(LEDGER_SCHEMA_VERSION) });
  });

  it('serve the same receipts after a reopen', async () => {
    const peer = await openPeer(data.path);
    try {
      assert.equal(peer.height(CHAIN), height);
      assert.deepEqual(checkReceipts((txId) => peer.receipt(CHAIN, txId), all), original);
      assert.equal(peer.receipt(CHAIN, 'no-such-tx'), undefined);
    } finally {
      await peer.close();
    }
  });

  it('compute receipts from the blocks of an older ledger opened read-only, writing nothing', async () => {
    const old = join(copies.path, 'read-only.sqlite');
    copyFileSync(ledger, old);
    makeOldSchema(old);
    const store = openSqliteLedgerStore(old, { readonly: true });
    try {
      assert.deepEqual(checkReceipts((txId) => fromStore(store, txId), all), original);
      assert.equal(store.proofs(1), undefined);
    } finally {
      await store.close();
    }
    assert.deepEqual(receiptTables(old), { tables: '', blocks: undefined, filled: undefined, hashBytes: undefined, version: undefined });
    assert.equal((await verifyLedgerFile(old)).ok, true, 'an older ledger verifies without receipt rows');
  });

  it('migrate an older ledger on a writable open, then serve the same receipts', async () => {
    const peerDir = tempDir('silk-receipts-migrated-');
    try {
      const old = join(peerDir.path, `${CHAIN}.sqlite`);
      copyFileSync(ledger, old);
      makeOldSchema(old);
      const peer = await openPeer(peerDir.path);
      try {
        assert.deepEqual(checkReceipts((txId) => peer.receipt(CHAIN, txId), all), original);
      } finally {
        await peer.close();
      }
      assert.deepEqual(receiptTables(old), receiptTables(ledger));
      const v = await verifyLedgerFile(old);
      assert.deepEqual(v.problems, []);
    } finally {
      peerDir.cleanup();
    }
  });

  it('convert a version 3 ledger (a receipt row per transaction) on a writable open, serving the same receipts before and after', async () => {
    const peerDir = tempDir('silk-receipts-v3-');
    try {
      const old = join(peerDir.path, `${CHAIN}.sqlite`);
      copyFileSync(ledger, old);
      await makeVersion3Ledger(old);
      assert.deepEqual(receiptTables(old), { tables: 'receipt_blocks receipt_txs', blocks: height, filled: undefined, hashBytes: undefined, version: '3' });
      assert.deepEqual((await verifyLedgerFile(old)).problems, [], 'a version 3 ledger verifies with its rows per transaction');
      const readOnly = openSqliteLedgerStore(old, { readonly: true });
      try {
        assert.deepEqual(checkReceipts((txId) => fromStore(readOnly, txId), all), original, 'read-only, a version 3 ledger computes its receipts from the blocks');
      } finally {
        await readOnly.close();
      }
      const peer = await openPeer(peerDir.path);
      try {
        assert.deepEqual(checkReceipts((txId) => peer.receipt(CHAIN, txId), all), original);
      } finally {
        await peer.close();
      }
      assert.deepEqual(receiptTables(old), receiptTables(ledger), 'the per-transaction rows are gone, every block has its hashes');
      assert.deepEqual((await verifyLedgerFile(old)).problems, []);
    } finally {
      peerDir.cleanup();
    }
  });

  it('resume a version 3 conversion a crash interrupted from its last committed batch', async () => {
    const old = join(copies.path, 'crashed-v3.sqlite');
    copyFileSync(ledger, old);
    await makeVersion3Ledger(old);
    migrateUntilKilled(old);
    // Blocks 0 and 1 have their hashes; the old rows and the version stay until the end.
    assert.deepEqual(receiptTables(old), { tables: 'receipt_blocks receipt_txs', blocks: height, filled: 2, hashBytes: 64 * 2, version: '3' });
    await servesAfterCrash(old);
  });

  it('resume a migration a crash interrupted from its last committed batch', async () => {
    const old = join(copies.path, 'crashed.sqlite');
    copyFileSync(ledger, old);
    makeOldSchema(old);
    migrateUntilKilled(old);
    // The first two batches (blocks 0 and 1) are committed; the version is not written yet.
    assert.deepEqual(receiptTables(old), { tables: 'receipt_blocks', blocks: 2, filled: 2, hashBytes: 64 * 2, version: undefined });
    await servesAfterCrash(old);
  });

  it('let the verifier name a flipped byte of a stored leaf hash in the 500-transaction block', async () => {
    const copy = join(copies.path, 'tampered.sqlite');
    copyFileSync(ledger, copy);
    const block = sized[4]?.[0]?.block;
    assert.ok(block !== undefined);
    const db = new Database(copy);
    try {
      const row = db.prepare<[number], { hashes: Buffer }>('SELECT hashes FROM receipt_blocks WHERE number = ?').get(block);
      assert.ok(row !== undefined && row.hashes.length === 500 * 64);
      const hashes = Buffer.from(row.hashes);
      // Tx 123's leaf hash: the second half of its 64 bytes.
      hashes[123 * 64 + 40] = (hashes[123 * 64 + 40] ?? 0) ^ 0x01;
      db.prepare('UPDATE receipt_blocks SET hashes = ? WHERE number = ?').run(hashes, block);
    } finally {
      db.close();
    }
    const v = await verifyLedgerFile(copy);
    assert.equal(v.ok, false);
    assert.equal(v.problems[0]?.block, block);
    assert.match(JSON.stringify(v.problems), /leaf hash of tx 123/);
  });

  it('refuse a ledger of a newer schema version', () => {
    const newer = join(copies.path, 'newer.sqlite');
    copyFileSync(ledger, newer);
    const db = new Database(newer);
    db.prepare("UPDATE meta SET value = ? WHERE name = 'schema_version'").run(String(LEDGER_SCHEMA_VERSION + 1));
    db.close();
    assert.throws(() => openSqliteLedgerStore(newer), (e: unknown) => isSilkError(e, 'LEDGER_CORRUPT') && e.message.includes(`schema version ${LEDGER_SCHEMA_VERSION + 1}`));
  });
});
