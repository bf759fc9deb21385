import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { governingConfigReader, type GoverningConfig } from './receipt.js';

const config = { orgs: {}, orderers: [] };

describe('governingConfigReader', () => {
  it('reads each configuration once for receipts checked together, and again only outside the spans read', async () => {
    const reads: string[] = [];
    // Chain a: one configuration for blocks 0..9, another from 10 on.
    const read = async (chain: string, block: number): Promise<GoverningConfig & { id: string }> => {
      reads.push(`${chain}@${block}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (chain === 'b') return { id: 'b-old-node', config }; // a node that does not say what a configuration governs
      return block < 10 ? { id: 'a0', config, governs: { from: 0, until: 10 } } : { id: 'a1', config, governs: { from: 10, until: null } };
    };
    const configAt = governingConfigReader(read);
    const ids = await Promise.all([3, 5, 9, 12, 40, 0].map(async (b) => (await configAt('a', b)).id));
    assert.deepEqual(ids, ['a0', 'a0', 'a0', 'a1', 'a1', 'a0']);
    assert.deepEqual(reads, ['a@3', 'a@12'], 'one read per configuration, one at a time');
    assert.equal((await configAt('b', 4)).id, 'b-old-node');
    assert.equal((await configAt('b', 4)).id, 'b-old-node');
    await configAt('b', 5);
    assert.deepEqual(reads.slice(2), ['b@4', 'b@5'], 'without a span, an answer serves its own block only');
  });

  it('does not take a span that leaves out the block asked about, and reads again after a failed read', async () => {
    let fail = true;
    const configAt = governingConfigReader((_chain, block) => {
      if (fail) {
        fail = false;
        return Promise.reject(new Error('unreachable'));
      }
      return Promise.resolve({ config, governs: block === 7 ? { from: 100, until: 200 } : { from: 0, until: null } });
    });
    await assert.rejects(configAt('a', 7), /unreachable/);
    const first = await configAt('a', 7);
    assert.deepEqual(first.governs, { from: 100, until: 200 });
    const again = await configAt('a', 150);
    assert.notEqual(again, first, 'the wrong span was not kept for block 150');
  });
});
