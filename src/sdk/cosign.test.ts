import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { toHex } from '../crypto/hash.js';
import type { Signer } from '../crypto/p256.js';
import { CommitError } from '../errors.js';
import { openTestApi, rejectsWith, type TestApi } from '../testing/api-fixtures.js';
import { connect, type SilkClient } from './client.js';
import { cosignEnvelope, summarizeEnvelope } from './cosign.js';

const CHAIN = 'trade';
/** Moves only when an Org1 peer endorses and an Org1 finance officer of level 3 or more approves. */
const GUARDED = "AND('Org1.peer', 'Org1.finance@3')";

describe('co-signing over the HTTP API: endorse, co-sign where the key is, order the envelope', () => {
  let t: TestApi;
  let client: SilkClient;
  let approver: Signer;
  before(async () => {
    t = await openTestApi();
    client = connect({ url: t.url, signer: t.net.identity('Org1', 'alice') });
    // The org's configured admin (function admin, level 9) meets 'Org1.finance@3' (docs/identity.md).
    approver = t.net.identity('Org1');
    for (const id of ['cargo-7', 'cargo-8']) {
      await client.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: { id, owner: 'Org1', colour: 'red', size: 1, appraisedValue: 900 } });
      await client.submit({ chain: CHAIN, contract: 'basic', fn: 'protectAsset', args: { id, policy: GUARDED } });
    }
  });
  after(async () => {
    await t.close();
  });

  const transfer = (id: string, newOwner: string) => ({ chain: CHAIN, contract: 'basic', fn: 'transferAsset', args: { id, newOwner } });

  it('a plain submit of a change only a co-signer can approve is refused before ordering, naming the key', async () => {
    const height = (await client.chain(CHAIN)).height;
    const e = await rejectsWith(client.submit(transfer('cargo-7', 'mallory')), 'ENDORSEMENT_POLICY_FAILURE');
    assert.match(e.message, /asset:cargo-7/);
    assert.match(e.message, /co-signature/);
    assert.equal((await client.chain(CHAIN)).height, height, 'nothing was ordered');
  });

  it('endorses, shows the co-signer what it approves, and commits once co-signed; the same envelope never commits twice', async () => {
    const endorsed = await client.endorse(transfer('cargo-7', 'Org2'));
    assert.deepEqual(endorsed.unmet, { policy: GUARDED, key: 'asset:cargo-7', keyLevel: true });
    const org1Peer = toHex(t.net.peer('peer0.org1').publicKey);
    const summary = summarizeEnvelope(endorsed.envelope);
    assert.equal(summary.txId, endorsed.txId);
    assert.deepEqual([summary.chain, summary.contract, summary.fn, summary.args], [CHAIN, 'basic', 'transferAsset', { id: 'cargo-7', newOwner: 'Org2' }]);
    assert.deepEqual(summary.writes.map((w) => [w.key, (w.value as { owner: string }).owner]), [['asset:cargo-7', 'Org2']]);
    assert.ok(summary.endorsers.includes(org1Peer), 'the gateway added the Org1 peer the key policy names');

    const cosigned = cosignEnvelope(endorsed.envelope, approver);
    assert.ok(summarizeEnvelope(cosigned).endorsers.includes(toHex(approver.publicKey)));
    const r = await client.submitEnvelope(CHAIN, cosigned);
    assert.equal(r.code, 'VALID');
    assert.equal(r.txId, endorsed.txId);
    assert.equal((await client.verifyReceipt(r.receipt)).ok, true);
    assert.equal(((await client.state(CHAIN, 'basic', 'asset:cargo-7')).value as { owner: string }).owner, 'Org2');
    const again = await client.submitEnvelope(CHAIN, cosigned);
    assert.deepEqual([again.code, again.blockNumber, again.txIndex], ['VALID', r.blockNumber, r.txIndex]);
  });

  it('an envelope ordered without its co-signature commits as ENDORSEMENT_POLICY_FAILURE and changes nothing', async () => {
    const endorsed = await client.endorse(transfer('cargo-8', 'mallory'));
    const e = await rejectsWith(client.submitEnvelope(CHAIN, endorsed.envelope), 'ENDORSEMENT_POLICY_FAILURE');
    assert.ok(e instanceof CommitError);
    assert.equal(((await client.state(CHAIN, 'basic', 'asset:cargo-8')).value as { owner: string }).owner, 'Org1');
  });

  it('refuses what is not an envelope, an unknown chain, and a proposal already on the ledger', async () => {
    await rejectsWith(client.submitEnvelope(CHAIN, new Uint8Array([0xa1, 0x01, 0x02])), 'MALFORMED');
    const endorsed = await client.endorse({ chain: CHAIN, contract: 'basic', fn: 'put', args: { key: 'cosign-probe', value: 'v' } });
    assert.equal(endorsed.unmet, null);
    await rejectsWith(client.submitEnvelope('nochain', endorsed.envelope), 'UNKNOWN_CHAIN');
    const signed = await client.propose({ chain: CHAIN, contract: 'basic', fn: 'put', args: { key: 'cosign-replay', value: 'v' } });
    assert.equal((await client.submitSigned(signed)).code, 'VALID');
    await rejectsWith(client.endorseSigned(signed), 'DUPLICATE_TXID');
  });
});
