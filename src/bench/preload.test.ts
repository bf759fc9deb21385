import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openBenchNetwork, type BenchNetwork } from './bench-network.js';
import { preloadKeys } from './preload.js';
import { BENCH_CHAIN, findWorkload, type Workload } from './workloads.js';

const rmw = findWorkload('rmw');
if (rmw === undefined) throw new Error('the rmw workload is missing');
const KEYS = 400;
const w: Workload = { ...rmw, keys: KEYS };

describe('the bench preload', () => {
  let bn: BenchNetwork;
  before(async () => {
    // Admission that lets 4 in at once and turns away the rest at once: most of a 64-wide
    // preload is refused with GATEWAY_BUSY on its first pass.
    bn = await openBenchNetwork(w, 7, { minInFlight: 4, maxInFlight: 4, maxQueued: 1, maxWaitMs: 50 });
  });
  after(async () => {
    await bn.close();
  });

  it('sends a key refused by the gateway again and writes every key exactly once', async () => {
    const r = await preloadKeys(bn, { keys: KEYS, concurrency: 64 });
    assert.ok(r.refusals > 0, 'the admission refused nothing: the test does not exercise the retry');
    assert.equal(r.committed, KEYS);
    for (const peer of bn.net.peers) {
      const store = peer.store(BENCH_CHAIN);
      for (let i = 0; i < KEYS; i++) {
        assert.ok(store.state('basic', `kv:k${i}`) !== undefined, `k${i} missing at a peer`);
      }
    }
  });

  it('ends with the codes of a failure it does not retry', async () => {
    // An empty key fails the contract's argument check at endorsement: no retry helps.
    const emptyKeys: BenchNetwork = { ...bn, args: { next: () => bn.args.next(), forKey: () => ({ key: '', value: 'x' }) } };
    await assert.rejects(preloadKeys(emptyKeys, { keys: 3, concurrency: 3 }), /^Error: 3 transactions failed \(\{"INVALID_ARGUMENT":3\}\)$/);
  });
});
