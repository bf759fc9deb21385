import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChainConfig } from '../ledger/chain-config.js';
import { createConfigIdentityResolver } from './identity-resolver.js';

const config = (sequence: number): ChainConfig => ({ v: 1, chain: 'trade', sequence, orgs: {}, orderers: [], adminPolicy: "'Org1.admin'", contracts: {}, txWindowMs: 60_000, batch: { maxTxs: 10, maxBytes: 1 << 20, timeoutMs: 10 } });

describe('config identity resolver', () => {
  it('answers the configuration that governed a block with the blocks it governs', () => {
    const r = createConfigIdentityResolver();
    r.addConfig(0, config(0));
    assert.deepEqual(r.configSpanAt(0), { config: config(0), from: 0, until: undefined }, 'the genesis configuration governs the genesis block too');
    r.addConfig(9, config(1)); // committed in block 9: governs block 10 on
    r.addConfig(20, config(2));
    const span = (h: number): [number, number, number | undefined] => {
      const s = r.configSpanAt(h);
      assert.equal(s.config, r.configAt(h), `block ${h}: the same configuration as configAt`);
      return [s.config.sequence, s.from, s.until];
    };
    assert.deepEqual([0, 9, 10, 20, 21, 500].map(span), [[0, 0, 10], [0, 0, 10], [1, 10, 21], [1, 10, 21], [2, 21, undefined], [2, 21, undefined]]);
  });
});
