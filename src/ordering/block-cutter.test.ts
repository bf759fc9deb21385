import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toHex } from '../crypto/hash.js';
import { generateSigner, type Signer } from '../crypto/p256.js';
import { isSilkError, type ErrorCode } from '../errors.js';
import type { ChainConfig } from '../ledger/chain-config.js';
import { createConfigTransaction } from '../ledger/config-transaction.js';
import { decodeEnvelope, encodeEnvelope } from '../ledger/transaction.js';
import { createBlockCutter, type CutBatch } from './block-cutter.js';

const ORGS = ['Org1', 'Org2', 'Org3'] as const;
const keys = Object.fromEntries(ORGS.map((o) => [o, { admin: generateSigner(), member: generateSigner() }])) as Record<(typeof ORGS)[number], { admin: Signer; member: Signer }>;
const config: ChainConfig = {
  v: 1,
  chain: 'trade',
  sequence: 4,
  orgs: Object.fromEntries(ORGS.map((o) => [o, { members: [
    { name: 'admin', key: toHex(keys[o].admin.publicKey), role: 'admin' },
    { name: 'member', key: toHex(keys[o].member.publicKey), role: 'client' },
  ] }])),
  orderers: [toHex(generateSigner().publicKey)],
  adminPolicy: "MAJORITY('Org1.admin', 'Org2.admin', 'Org3.admin')",
  contracts: {},
  txWindowMs: 60_000,
  batch: { maxTxs: 10, maxBytes: 1024 * 1024, timeoutMs: 1000 },
};
const { Org1, Org2, Org3 } = keys;
const update = (over: Partial<ChainConfig> = {}): ChainConfig => ({ ...config, sequence: config.sequence + 1, orderers: [...config.orderers, toHex(generateSigner().publicKey)], ...over });

describe('the block cutter and configuration transactions', () => {
  const batches: CutBatch[] = [];
  const cutter = createBlockCutter({ chain: 'trade', config, onBatch: (b) => { batches.push(b); } });

  it('refuses at admission, with the reason, a configuration update that would not take effect', () => {
    const refused = (envelope: Uint8Array, code: ErrorCode, why: RegExp): void => {
      assert.throws(() => cutter.admit(envelope), (e: unknown) => isSilkError(e, code) && why.test(e.message), code);
    };
    refused(createConfigTransaction(update(), Org1.member, [Org1.admin, Org2.admin]), 'CONFIG_INVALID', /creator is not an admin/);
    refused(createConfigTransaction(update(), Org1.admin, [Org1.member, Org2.admin]), 'CONFIG_INVALID', /endorser is not an admin/);
    refused(createConfigTransaction(update({ sequence: config.sequence }), Org1.admin, [Org1.admin, Org2.admin]), 'CONFIG_INVALID', /sequence is 4; the next is 5/);
    refused(createConfigTransaction(update({ sequence: config.sequence + 2 }), Org1.admin, [Org1.admin, Org2.admin]), 'CONFIG_INVALID', /the next is 5/);
    refused(createConfigTransaction(update({ chain: 'other' }), Org1.admin, [Org1.admin, Org2.admin]), 'WRONG_CHAIN', /chain other/);
    refused(createConfigTransaction(update(), Org1.admin, [Org1.admin]), 'ENDORSEMENT_POLICY_FAILURE', /admin policy/);
    refused(createConfigTransaction(update(), Org1.admin, [Org1.admin, Org2.admin], Date.now() - 3_600_000), 'EXPIRED', /60000 ms/);
    const forged = decodeEnvelope(createConfigTransaction(update(), Org1.admin, [Org1.admin, Org2.admin]));
    const signature = new Uint8Array(forged.endorsements[1]!.signature);
    signature[7] = (signature[7] as number) ^ 1;
    refused(encodeEnvelope({ ...forged, endorsements: [forged.endorsements[0]!, { ...forged.endorsements[1]!, signature }] }), 'BAD_SIGNATURE', /endorsement signature/);
    assert.deepEqual(batches, [], 'nothing was cut');
    assert.equal(cutter.config.sequence, 4);
  });

  it('admits a good update and cuts it alone, carrying the configuration it puts in force', () => {
    const next = update();
    const envelope = createConfigTransaction(next, Org2.admin, [Org2.admin, Org3.admin]);
    void cutter.add(envelope, cutter.admit(envelope));
    assert.equal(batches.length, 1);
    assert.equal(batches[0]!.isConfig, true);
    assert.deepEqual(batches[0]!.config, next);
  });

  it('cuts, but puts nothing in force, an update admitted before another one took effect', () => {
    batches.length = 0;
    const first = update();
    const second = update();
    const a = createConfigTransaction(first, Org1.admin, [Org1.admin, Org2.admin]);
    const b = createConfigTransaction(second, Org1.admin, [Org1.admin, Org3.admin]);
    const da = cutter.admit(a);
    const db = cutter.admit(b);
    void cutter.add(a, da);
    cutter.useConfig(first);
    void cutter.add(b, db);
    assert.equal(batches.length, 2);
    assert.deepEqual(batches[0]!.config, first);
    assert.equal(batches[1]!.isConfig, true);
    assert.equal(batches[1]!.config, undefined, 'its sequence is no longer the next one: peers will mark it CONFIG_INVALID');
  });
});
