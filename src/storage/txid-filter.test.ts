import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/fixtures.js';
import { openSqliteLedgerStore, type BlockCommit } from './sqlite-ledger-store.js';
import { TxIdFilter } from './txid-filter.js';

const id = (): string => randomBytes(32).toString('hex');

/** A block commit carrying only tx index entries (what the filter is about). */
function commitOf(number: number, txIds: readonly string[]): BlockCommit {
  const b = (n: number) => new Uint8Array(n);
  return {
    number, hash: b(32), bytes: b(8), codes: new Uint8Array(txIds.length), commitHash: b(32), peerSignature: b(64), timestamp: number,
    txIndex: txIds.map((txId, tx) => ({ txId, tx, code: 0 })),
    writes: [],
    proofs: { header: b(8), ordererSignature: b(64), txs: txIds.map(() => ({ envelopeHash: b(32), leafHash: b(32), path: b(0) })) },
  };
}

describe('tx id filter', () => {
  it('never forgets an id it was given, across growth well past its first capacity', () => {
    const f = new TxIdFilter(1000);
    const ids = Array.from({ length: 50_000 }, id);
    for (const x of ids) f.add(x);
    assert.equal(f.size, 50_000);
    assert.ok(ids.every((x) => f.mightContain(x)));
  });

  it('says "no" for almost every id it was not given (false positives well under 1 %)', () => {
    const f = TxIdFilter.of(Array.from({ length: 100_000 }, id));
    let maybe = 0;
    for (let i = 0; i < 100_000; i++) if (f.mightContain(id())) maybe++;
    assert.ok(maybe < 500, `${maybe} false positives in 100,000`);
    assert.ok(f.bytes < 100_000 * 4, `${f.bytes} bytes for 100,000 ids`);
  });

  it('answers "maybe" for ids that are not SHA-256 hex, so the index decides', () => {
    const f = new TxIdFilter();
    assert.equal(f.mightContain('not-a-tx-id'), true);
    assert.equal(f.mightContain(id().toUpperCase()), true);
    const good = id();
    for (const bad of [good.slice(1), `${good}0`, `${good.slice(0, 63)}g`, `${good.slice(0, 31)}-${good.slice(32)}`, '']) {
      f.add(bad);
      assert.equal(f.mightContain(bad), true, JSON.stringify(bad));
    }
    assert.equal(f.size, 0, 'nothing malformed was recorded');
    f.add('f'.repeat(64));
    assert.equal(f.mightContain('f'.repeat(64)), true);
    assert.equal(f.size, 1);
  });

  it('a reopened ledger still finds every committed tx id and answers unknown ones without error', async () => {
    const dir = tempDir('silk-txid-');
    try {
      const path = join(dir.path, 'chain.sqlite');
      const ids = Array.from({ length: 300 }, id);
      let store = openSqliteLedgerStore(path);
      store.commit(commitOf(0, ids.slice(0, 100)));
      store.commit(commitOf(1, ids.slice(100, 200)));
      assert.deepEqual(store.tx(ids[150]!), { block: 1, tx: 50, code: 0 });
      await store.close();
      store = openSqliteLedgerStore(path, { writerThread: true });
      try {
        assert.deepEqual(store.tx(ids[5]!), { block: 0, tx: 5, code: 0 }, 'an id committed before the reopen');
        await store.commitAsync(commitOf(2, ids.slice(200)));
        assert.deepEqual(store.tx(ids[299]!), { block: 2, tx: 99, code: 0 }, 'an id committed on the writer thread');
        assert.equal(store.tx(id()), undefined);
        assert.equal(store.tx('not-a-tx-id'), undefined);
      } finally {
        await store.close();
      }
    } finally {
      dir.cleanup();
    }
  });
});
