import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { toHex } from '../crypto/hash.js';
import { verifyReceipt } from '../ledger/receipt.js';
import { openTestNetwork } from '../testing/fixtures.js';
import type { EmbeddedNetwork } from './embedded-network.js';

describe('embedded network', () => {
  let net: EmbeddedNetwork & { cleanupDir(): void };
  before(async () => {
    net = await openTestNetwork();
  });
  after(async () => {
    await net.close();
    net.cleanupDir();
  });

  it('commits a transaction at every peer and returns a receipt that verifies', async () => {
    const alice = net.identity('Org1', 'alice');
    const r = await net.gateway('Org1').submit({ chain: 'trade', contract: 'basic', fn: 'createAsset', args: { id: 'a1', owner: 'alice', colour: 'red', size: 5, appraisedValue: 1000 } }, alice);
    assert.equal(r.code, 'VALID');
    assert.ok(r.blockNumber >= 1);
    const config = net.peers[0]!.config('trade');
    const trust = { orderers: config.orderers, peers: net.peers.map((p) => toHex(p.publicKey)) };
    assert.deepEqual(verifyReceipt(r.receipt, trust), { ok: true });
    const tampered = { ...r.receipt, code: 'MVCC_READ_CONFLICT' as const };
    assert.equal(verifyReceipt(tampered, trust).ok, false);
    // Every peer reaches the same height and commit hash.
    await new Promise((res) => setTimeout(res, 50));
    const heights = net.peers.map((p) => p.height('trade'));
    assert.deepEqual(new Set(heights).size, 1);
    const hashes = net.peers.map((p) => p.committedBlock('trade', r.blockNumber)!.commitHash);
    assert.equal(new Set(hashes).size, 1);
    const value = net.gateway('Org2').evaluate({ chain: 'trade', contract: 'basic', fn: 'readAsset', args: { id: 'a1' } }, net.identity('Org2', 'bob'));
    assert.deepEqual(value, { id: 'a1', owner: 'alice', colour: 'red', size: 5, appraisedValue: 1000 });
  });
});
