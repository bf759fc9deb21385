import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { BasicContract } from '../basic/basic-contract.js';
import { transaction, type Contract } from '../framework/contract.js';
import { toHex } from '../../crypto/hash.js';
import { generateSigner, type Signer } from '../../crypto/p256.js';
import { isSilkError } from '../../errors.js';
import type { SubmitResult } from '../../gateway/gateway.js';
import { signCertificate, type IdentityCertificate } from '../../identity/identity-certificate.js';
import type { JsonValue } from '../../ledger/json-value.js';
import { cosignEnvelope } from '../../ledger/transaction.js';
import { openEmbeddedNetwork, type EmbeddedNetwork, type NetworkSpec } from '../../network/embedded-network.js';
import { verifyLedgerFile } from '../../peer/ledger-verifier.js';
import { tempDir, waitUntil } from '../../testing/fixtures.js';

/** A contract whose one function needs finance authority at level 3. */
class ApprovalContract implements Contract {
  readonly name = 'approval';
  readonly version = '1.0';
  readonly indexes = [];
  readonly functions = {
    approve: transaction(Type.Object({ id: Type.String() }, { additionalProperties: false }), (ctx, { id }) => {
      ctx.put(`approved:${id}`, { by: ctx.creator.key, level: ctx.creator.level ?? 0 });
      return null;
    }, { authority: { function: 'finance', minLevel: 3 } }),
    note: transaction(Type.Object({ id: Type.String() }, { additionalProperties: false }), (ctx, { id }) => {
      ctx.put(`note:${id}`, ctx.creator.key);
      return null;
    }),
  };
}

const PEERS = "OR('Org1.peer', 'Org2.peer')";
const SPEC: NetworkSpec = {
  orgs: [{ name: 'Org1' }, { name: 'Org2' }],
  chains: [{ name: 'trade', contracts: [{ name: 'basic', policy: PEERS }, { name: 'approval', policy: PEERS }], batch: { maxTxs: 100, timeoutMs: 20 } }],
};
const CHAIN = 'trade';
const FAR = Date.now() + 365 * 86_400_000;

describe('identities on chain', () => {
  const dir = tempDir('silk-identity-');
  let net: EmbeddedNetwork;
  let admin: Signer;
  let seq = 0;
  let revokedChild: Signer | undefined;

  const open = (): Promise<EmbeddedNetwork> => openEmbeddedNetwork({ dataDir: dir.path, spec: SPEC, contracts: [new BasicContract(), new ApprovalContract()], parallelVerify: false, commitTimeoutMs: 10_000 });
  const certify = (parent: Signer, child: Signer, fields: Partial<IdentityCertificate> = {}): { certificate: string; signature: string } => {
    const cert: IdentityCertificate = { v: 1, chain: CHAIN, org: 'Org1', key: child.publicKey, parent: parent.publicKey, function: 'finance', level: 3, path: `m/7777'/0'/2'/3'/${seq++}'`, kind: 'member', notBefore: 0, notAfter: FAR, ...fields };
    const { bytes, signature } = signCertificate(cert, parent);
    return { certificate: toHex(bytes), signature: toHex(signature) };
  };
  const identity = (fn: string, args: JsonValue, signer: Signer): Promise<SubmitResult> => net.gateway('Org1').submit({ chain: CHAIN, contract: 'identity', fn, args, endorsingOrgs: ['Org1'] }, signer);
  const register = (parent: Signer, child: Signer, fields: Partial<IdentityCertificate> = {}, submitter: Signer = parent): Promise<SubmitResult> => identity('register', certify(parent, child, fields), submitter);
  const note = (signer: Signer, id: string): Promise<SubmitResult> => net.gateway('Org1').submit({ chain: CHAIN, contract: 'approval', fn: 'note', args: { id } }, signer);
  /** An envelope endorsed now, to be ordered later. */
  const endorsed = (signer: Signer, id: string): Uint8Array => {
    const gw = net.gateway('Org1');
    return gw.endorse(gw.propose({ chain: CHAIN, contract: 'approval', fn: 'note', args: { id } }, signer)).envelope;
  };
  /** The validation code of a submitted envelope, whether the gateway returns or throws it. */
  const codeOf = async (p: Promise<SubmitResult>): Promise<{ code: string; blockNumber: number }> => {
    try {
      return await p;
    } catch (e) {
      if (!isSilkError(e)) throw e;
      return { code: e.code, blockNumber: typeof e.details.block === 'number' ? e.details.block : -1 };
    }
  };
  const settled = async (): Promise<void> => {
    const h = net.orderer.height(CHAIN);
    await waitUntil(() => net.peers.every((p) => p.height(CHAIN) === h), 10_000, 'peers to catch up');
  };
  const refusal = async (p: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> => {
    await assert.rejects(p, (e: unknown) => isSilkError(e) && e.code === code && (pattern === undefined || pattern.test(e.message)));
  };

  before(async () => {
    net = await open();
    admin = net.identity('Org1', 'admin');
  });
  after(async () => {
    await net.close();
    dir.cleanup();
  });

  it('installs the identity contract on every chain and lists the default functions', () => {
    const def = net.peers[0]?.config(CHAIN).contracts.identity;
    assert.deepEqual(def, { version: '1.0', policy: PEERS });
    const fns = net.gateway('Org1').evaluate({ chain: CHAIN, contract: 'identity', fn: 'functions', args: {} }, admin) as { name: string }[];
    assert.deepEqual(fns.map((f) => f.name), ['admin', 'sales', 'finance', 'logistics', 'customs', 'audit', 'device']);
  });

  it('a level-1 key cannot do what needs level 3; a level-3 finance key can', async () => {
    const clerk = generateSigner();
    const manager = generateSigner();
    assert.equal((await register(admin, clerk, { level: 1 })).code, 'VALID');
    assert.equal((await register(admin, manager, { level: 3 })).code, 'VALID');
    await refusal(net.gateway('Org1').submit({ chain: CHAIN, contract: 'approval', fn: 'approve', args: { id: 'po-1' } }, clerk), 'CONTRACT_ERROR', /level 3/);
    const ok = await net.gateway('Org1').submit({ chain: CHAIN, contract: 'approval', fn: 'approve', args: { id: 'po-1' } }, manager);
    assert.equal(ok.code, 'VALID');
    // A configured client has no level; a configured admin has level 9 and every function.
    assert.equal((await net.gateway('Org1').submit({ chain: CHAIN, contract: 'approval', fn: 'approve', args: { id: 'po-2' } }, admin)).code, 'VALID');
  });

  it('a child can never exceed its parent, nor outlive it, nor be registered by an outsider', async () => {
    const parent = generateSigner();
    assert.equal((await register(admin, parent, { level: 3, notAfter: FAR - 1000 })).code, 'VALID');
    await refusal(register(parent, generateSigner(), { level: 4 }), 'CONTRACT_ERROR', /exceeds the parent's level 3/);
    await refusal(register(parent, generateSigner(), { level: 2, notAfter: FAR }), 'CONTRACT_ERROR', /inside its parent's/);
    await refusal(register(parent, generateSigner(), { function: 'treasury' }), 'CONTRACT_ERROR', /not in the chain's function registry/);
    await refusal(register(parent, generateSigner(), { org: 'Org2' }), 'CONTRACT_ERROR', /Org2's admin|belongs to Org1/);
    const stranger = generateSigner();
    await refusal(register(parent, generateSigner(), { level: 2 }, stranger), 'UNKNOWN_CREATOR');
    // The parent may register its own child; then the child is valid in the next blocks.
    const child = generateSigner();
    assert.equal((await register(parent, child, { level: 2, notAfter: FAR - 2000 })).code, 'VALID');
    assert.equal((await note(child, 'child-1')).code, 'VALID');
    // A new function in the registry makes it usable.
    assert.equal((await identity('registerFunction', { name: 'treasury', index: 7 }, admin)).code, 'VALID');
    assert.equal((await register(parent, generateSigner(), { function: 'treasury', level: 1, notAfter: FAR - 3000 })).code, 'VALID');
  });

  it('a compromise revocation takes effect at exactly its block; earlier transactions stay valid', async () => {
    const parent = generateSigner();
    const child = generateSigner();
    assert.equal((await register(admin, parent, { level: 5 })).code, 'VALID');
    assert.equal((await register(parent, child, { level: 4 })).code, 'VALID');
    revokedChild = child;
    const early = await note(child, 'before-revocation');
    assert.equal(early.code, 'VALID'); // the peers' caches now hold the child's chain
    await settled();
    const late = endorsed(child, 'after-revocation');
    // The revocation and one more of the child's transactions in the same block R.
    const gw = net.gateway('Org1');
    const revoke = gw.endorse(gw.propose({ chain: CHAIN, contract: 'identity', fn: 'revoke', args: { key: toHex(parent.publicKey), reason: 'compromise' } }, admin), { endorsingOrgs: ['Org1'] }).envelope;
    const sameBlock = endorsed(child, 'same-block');
    const [r, s] = await Promise.all([gw.submitEnvelope(CHAIN, revoke), gw.submitEnvelope(CHAIN, sameBlock)]);
    assert.equal(r.blockNumber, s.blockNumber, 'both in block R');
    assert.equal(r.code, 'VALID');
    assert.equal(s.code, 'VALID', 'a descendant still signs in block R itself');
    // Block R+1: the descendant's transaction endorsed before the revocation is refused at validation.
    const after = await codeOf(gw.submitEnvelope(CHAIN, late));
    assert.equal(after.blockNumber, r.blockNumber + 1);
    assert.equal(after.code, 'UNKNOWN_CREATOR');
    await refusal(note(child, 'after-2'), 'UNKNOWN_CREATOR');
    await refusal(note(parent, 'after-3'), 'UNKNOWN_CREATOR');
    assert.equal(net.peers[1]?.transactionStatus(CHAIN, early.txId)?.code, 'VALID');
    const standing = net.peers[0]?.identities(CHAIN).standing(CHAIN, toHex(child.publicKey), net.peers[0].height(CHAIN));
    assert.equal(standing, 'ancestor-compromised');
  });

  it('a planned rotation retires the old key and keeps its descendants valid', async () => {
    const old = generateSigner();
    const child = generateSigner();
    const next = generateSigner();
    assert.equal((await register(admin, old, { level: 5 })).code, 'VALID');
    assert.equal((await register(old, child, { level: 2 })).code, 'VALID');
    const rotated = await identity('rotate', { oldKey: toHex(old.publicKey), ...certify(admin, next, { level: 5 }) }, old);
    assert.equal(rotated.code, 'VALID');
    await refusal(note(old, 'old-after-rotation'), 'UNKNOWN_CREATOR');
    assert.equal((await note(child, 'child-after-rotation')).code, 'VALID');
    assert.equal((await note(next, 'new-after-rotation')).code, 'VALID');
    const view = net.gateway('Org1').evaluate({ chain: CHAIN, contract: 'identity', fn: 'identityOf', args: { key: toHex(old.publicKey) } }, admin) as { record: { status: string; replacedBy: string } };
    assert.equal(view.record.status, 'retired');
    assert.equal(view.record.replacedBy, toHex(next.publicKey));
  });

  it('expiry is judged by the block timestamp, not the proposal time', async () => {
    const shortLived = generateSigner();
    const notAfter = Date.now() + 1500;
    assert.equal((await register(admin, shortLived, { level: 1, notAfter })).code, 'VALID');
    assert.equal((await note(shortLived, 'in-time')).code, 'VALID');
    const signedInTime = endorsed(shortLived, 'ordered-late');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, notAfter - Date.now() + 50)));
    const late = await codeOf(net.gateway('Org1').submitEnvelope(CHAIN, signedInTime));
    assert.equal(late.code, 'UNKNOWN_CREATOR');
  });

  it("a key-level policy naming 'Org1.finance@3' is met by a co-signing finance key at level 3 or the org admin, never by peers alone", async () => {
    const manager = generateSigner();
    const clerk = generateSigner();
    const seller = generateSigner();
    assert.equal((await register(admin, manager, { level: 3 })).code, 'VALID');
    assert.equal((await register(admin, clerk, { level: 2 })).code, 'VALID');
    assert.equal((await register(admin, seller, { function: 'sales', level: 3 })).code, 'VALID');
    const gw = net.gateway('Org1');
    const basic = (fn: string, args: JsonValue): Promise<SubmitResult> => gw.submit({ chain: CHAIN, contract: 'basic', fn, args }, admin);
    assert.equal((await basic('createAsset', { id: 'cargo-1', owner: 'Org1', colour: 'red', size: 1, appraisedValue: 100 })).code, 'VALID');
    assert.equal((await basic('protectAsset', { id: 'cargo-1', policy: "AND('Org1.peer', 'Org1.finance@3')" })).code, 'VALID');
    const transfer = (newOwner: string): Uint8Array => gw.endorse(gw.propose({ chain: CHAIN, contract: 'basic', fn: 'transferAsset', args: { id: 'cargo-1', newOwner } }, admin), { endorsingOrgs: ['Org1'] }).envelope;
    const outcome = async (envelope: Uint8Array): Promise<string> => (await codeOf(gw.submitEnvelope(CHAIN, envelope))).code;
    // Peers have no function or level; neither a finance key below level 3 nor a sales key at level 3 meets it.
    assert.equal(await outcome(transfer('peers-only')), 'ENDORSEMENT_POLICY_FAILURE');
    assert.equal(await outcome(cosignEnvelope(transfer('clerk'), clerk)), 'ENDORSEMENT_POLICY_FAILURE');
    assert.equal(await outcome(cosignEnvelope(transfer('seller'), seller)), 'ENDORSEMENT_POLICY_FAILURE');
    // A finance key at level 3, or the org's configured admin (function admin, level 9), co-signing with the Org1 peer.
    assert.equal(await outcome(cosignEnvelope(transfer('manager'), manager)), 'VALID');
    assert.equal(await outcome(cosignEnvelope(transfer('admin'), admin)), 'VALID');
    const asset = gw.evaluate({ chain: CHAIN, contract: 'basic', fn: 'readAsset', args: { id: 'cargo-1' } }, admin) as { owner: string };
    assert.equal(asset.owner, 'admin');
    assert.throws(() => cosignEnvelope(cosignEnvelope(transfer('twice'), manager), manager), (e: unknown) => isSilkError(e, 'INVALID_ARGUMENT'));
  });

  it('lists identities, survives a restart and passes silk verify', async () => {
    const page = net.gateway('Org1').evaluate({ chain: CHAIN, contract: 'identity', fn: 'identities', args: { org: 'Org1', limit: 100 } }, admin) as { items: { status: string }[] };
    assert.ok(page.items.length >= 10);
    assert.ok(page.items.some((i) => i.status === 'compromised'));
    await settled();
    await net.close();
    net = await open();
    await refusal(note(revokedChild as Signer, 'after-restart-revoked'), 'UNKNOWN_CREATOR');
    const registered = generateSigner();
    assert.equal((await register(admin, registered, { level: 2 })).code, 'VALID');
    assert.equal((await note(registered, 'after-restart')).code, 'VALID');
    await settled();
    for (const p of net.peers) {
      const v = await verifyLedgerFile(join(dir.path, 'peers', p.name, `${CHAIN}.sqlite`));
      assert.equal(v.ok, true, JSON.stringify(v.problems));
    }
  });
});
