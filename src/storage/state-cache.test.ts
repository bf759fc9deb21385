import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../testing/fixtures.js';
import { openSqliteLedgerStore, type BlockCommit, type StateWrite, type StoredState } from './sqlite-ledger-store.js';
import { MAX_BYTES, MAX_ENTRIES, MAX_VALUE_CHARS, StateCache } from './state-cache.js';

/** A block commit carrying only state writes (what the cache is about). */
function commitOf(number: number, writes: readonly StateWrite[]): BlockCommit {
  const b = (n: number) => new Uint8Array(n);
  const txs = Math.max(1, ...writes.map((w) => w.tx + 1));
  return {
    number, hash: b(32), bytes: b(8), codes: new Uint8Array(txs), commitHash: b(32), peerSignature: b(64), timestamp: number,
    txIndex: Array.from({ length: txs }, (_, tx) => ({ txId: `${number.toString(16).padStart(8, '0')}${tx.toString(16).padStart(8, '0')}`.padEnd(64, '0'), tx, code: 0 })),
    writes,
    proofs: { header: b(8), ordererSignature: b(64), txs: Array.from({ length: txs }, () => ({ envelopeHash: b(32), leafHash: b(32), path: b(0) })) },
  };
}

const dirs: { cleanup(): void }[] = [];
after(() => { for (const d of dirs) d.cleanup(); });

/** A fresh ledger file's path, removed after the tests. */
function ledgerPath(): string {
  const dir = tempDir('silk-state-cache-');
  dirs.push(dir);
  return join(dir.path, 'chain.sqlite');
}

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('world-state cache of a writable ledger store', () => {
  for (const writerThread of [false, true]) {
    it(`answers every read exactly as SQLite does after random writes, deletes and key policies (${writerThread ? 'writer thread' : 'same thread'})`, async () => {
      const path = ledgerPath();
      const store = openSqliteLedgerStore(path, { writerThread });
      const next = rng(writerThread ? 7 : 3);
      const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
      try {
        for (let n = 0; n < 60; n++) {
          // Read a few keys first, so absent and present keys are cached before they change.
          for (let i = 0; i < 10; i++) store.state('basic', keys[Math.floor(next() * keys.length)] as string);
          const writes: StateWrite[] = [];
          for (let tx = 0; tx < 8; tx++) {
            const key = keys[Math.floor(next() * keys.length)] as string;
            const r = next();
            const value = r < 0.2 ? null : JSON.stringify({ n, tx, r });
            const policy = value !== null && r > 0.85 ? `OR('Org${tx}.member')` : undefined;
            writes.push({ ns: 'basic', key, value, tx, txId: `${n}-${tx}`, ...(policy === undefined ? {} : { policy }) });
          }
          await store.commitAsync(commitOf(n, writes));
          const reader = openSqliteLedgerStore(path, { readonly: true });
          try {
            for (const key of keys) assert.deepEqual(store.state('basic', key), reader.state('basic', key), `key ${key} after block ${n}`);
          } finally {
            await reader.close();
          }
        }
      } finally {
        await store.close();
      }
    });
  }

  it('forgets the state when the derived data is reset for a replay', async () => {
    const store = openSqliteLedgerStore(ledgerPath());
    try {
      store.commit(commitOf(0, [{ ns: 'basic', key: 'a', value: '1', tx: 0, txId: 'x' }]));
      assert.equal(store.state('basic', 'a')?.value, '1');
      store.resetDerivedData();
      assert.equal(store.state('basic', 'a'), undefined);
    } finally {
      await store.close();
    }
  });

  it('a read-only store keeps no cache: it sees what the writer commits later', async () => {
    const path = ledgerPath();
    const store = openSqliteLedgerStore(path);
    store.commit(commitOf(0, [{ ns: 'basic', key: 'a', value: '1', tx: 0, txId: 'x' }]));
    const reader = openSqliteLedgerStore(path, { readonly: true });
    try {
      assert.equal(reader.state('basic', 'a')?.value, '1');
      store.commit(commitOf(1, [{ ns: 'basic', key: 'a', value: '2', tx: 0, txId: 'y' }]));
      assert.deepEqual(reader.state('basic', 'a'), { value: '2', block: 1, tx: 0, policy: null });
    } finally {
      await reader.close();
      await store.close();
    }
  });
});

describe('state cache bounds', () => {
  const state = (value: string): StoredState => ({ value, block: 1, tx: 0, policy: null });

  /** A cache over a stand-in for SQLite that counts its reads. */
  function countingCache(valueOf: (key: string) => StoredState | undefined): { cache: StateCache; reads: () => number } {
    let reads = 0;
    const cache = new StateCache((_ns, key) => {
      reads++;
      return valueOf(key);
    });
    return { cache, reads: () => reads };
  }

  it('holds at most MAX_ENTRIES keys and still answers every key right', () => {
    const { cache, reads } = countingCache((key) => state(key.slice(1)));
    const n = MAX_ENTRIES + 10_000;
    for (let i = 0; i < n; i++) cache.get('ns', `k${i}`);
    assert.ok(cache.size <= MAX_ENTRIES, `${cache.size} entries`);
    const before = reads();
    for (const i of [0, 1, n - 1]) assert.equal(cache.get('ns', `k${i}`)?.value, String(i));
    assert.equal(reads() - before, 2, 'the oldest keys were read again, the newest came from memory');
  });

  it('holds at most MAX_BYTES of values and never caches a value over MAX_VALUE_CHARS', () => {
    const big = 'x'.repeat(MAX_VALUE_CHARS);
    const huge = 'y'.repeat(MAX_VALUE_CHARS + 1);
    const { cache, reads } = countingCache((key) => state(key === 'huge' ? huge : big));
    for (let i = 0; i < 2 * MAX_BYTES / MAX_VALUE_CHARS; i++) cache.get('ns', `k${i}`);
    assert.ok(cache.bytes <= MAX_BYTES, `${cache.bytes} bytes`);
    const before = reads();
    for (let i = 0; i < 3; i++) assert.equal(cache.get('ns', 'huge')?.value, huge);
    assert.equal(reads() - before, 3);
  });

  it('a write that keeps the key policy of a key not cached leaves it to SQLite', () => {
    const stored = { value: '1', block: 5, tx: 0, policy: "OR('A.member')" };
    const { cache, reads } = countingCache(() => stored);
    cache.applyCommitted(5, [{ ns: 'ns', key: 'a', value: '1', tx: 0, txId: 't' }]);
    assert.deepEqual(cache.get('ns', 'a'), stored);
    assert.equal(reads(), 1);
    cache.applyCommitted(6, [{ ns: 'ns', key: 'a', value: '2', tx: 3, txId: 'u' }]);
    assert.deepEqual(cache.get('ns', 'a'), { value: '2', block: 6, tx: 3, policy: "OR('A.member')" });
    assert.equal(reads(), 1, 'the rewritten key came from memory');
  });
});
