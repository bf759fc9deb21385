import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openTestNetwork, THREE_ORG_SPEC, waitUntil } from '../testing/fixtures.js';
import { writerThreadCount } from './ledger-writer-pool.js';

describe('ledger writer pool', () => {
  it('commits many ledgers on a bounded number of threads and stops them all on close', async () => {
    const saved = process.env.SILK_WRITER_THREADS;
    process.env.SILK_WRITER_THREADS = '2';
    try {
      // Three orgs with two peers each on two chains: 12 ledgers.
      const spec = {
        orgs: THREE_ORG_SPEC.orgs.map((o) => ({ ...o, peers: 2 })),
        chains: [...THREE_ORG_SPEC.chains, { ...THREE_ORG_SPEC.chains[0]!, name: 'second' }],
      };
      const net = await openTestNetwork({ spec });
      try {
        assert.equal(writerThreadCount(), 2);
        const gw = net.gateway('Org1');
        for (const chain of ['trade', 'second']) {
          const r = await gw.submit({ chain, contract: 'basic', fn: 'put', args: { key: 'k', value: chain } }, net.identity('Org1', 'alice'));
          assert.equal(r.code, 'VALID');
        }
        // Every peer committed both blocks through the shared threads.
        await waitUntil(() => net.peers.every((p) => p.height('trade') === 2 && p.height('second') === 2), 10_000, 'every peer to commit both blocks');
      } finally {
        await net.close();
        net.cleanupDir();
      }
      assert.equal(writerThreadCount(), 0, 'no thread outlives its ledgers');
    } finally {
      if (saved === undefined) delete process.env.SILK_WRITER_THREADS;
      else process.env.SILK_WRITER_THREADS = saved;
    }
  });
});
