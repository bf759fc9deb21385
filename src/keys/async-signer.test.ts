/**
 * Async signers: the memory, keystore and device adapters sign canonical low-S P1363 and
 * refuse anything else; createProposalAsync builds the very bytes createProposal builds.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { join } from 'node:path';
import { toHex } from '../crypto/hash.js';
import { generateSigner, isCanonicalSignature, privateKeyObjectOfScalar, signP256, verifyP256 } from '../crypto/p256.js';
import { isSilkError } from '../errors.js';
import { createProposal, decodeProposal } from '../ledger/proposal.js';
import { tempDir } from '../testing/fixtures.js';
import { highS, toDer } from '../testing/signature-forms.js';
import { assertCanonicalSignature, asyncSignerFromSigner, createAsyncSigner, createProposalAsync, openKeystoreSigner } from './async-signer.js';
import { deriveSigningKey, signingKeyPath } from './key-tree.js';
import { writeKeystore } from './keystore.js';
import { generateMnemonic, mnemonicToSeed } from './mnemonic.js';
import { masterKeyFromSeed } from './slip10.js';

const FAST = { N: 1024, r: 8, p: 1 } as const;
const MESSAGE = new TextEncoder().encode('ship 40 bales of silk to Hamburg');
const PARAMS = { chain: 'trade', contract: 'basic', version: '1.0', fn: 'createAsset', args: { id: 'silk-scarf-001' }, ts: 1_790_000_000_000, nonce: new Uint8Array(24).fill(7) };

function badSignature(e: unknown): boolean {
  return isSilkError(e, 'BAD_SIGNATURE');
}

describe('async signers', () => {
  const dir = tempDir('silk-async-signer-');
  after(() => {
    dir.cleanup();
  });

  it('wraps an in-memory signer; its signatures are low-S P1363 and verify', async () => {
    const sync = generateSigner();
    const signer = asyncSignerFromSigner(sync);
    assert.deepEqual(signer.publicKey, sync.publicKey);
    for (let i = 0; i < 20; i++) {
      const sig = await signer.sign(MESSAGE);
      assert.equal(sig.length, 64);
      assert.ok(isCanonicalSignature(sig));
      assert.ok(verifyP256(signer.publicKey, MESSAGE, sig));
    }
  });

  it('refuses DER, high-S, wrong-length signatures and signatures by another key from a device', async () => {
    const device = generateSigner();
    const good = device.sign(MESSAGE);
    const answers: [string, Uint8Array][] = [['DER', toDer(good)], ['high S', highS(good)], ['65 bytes', new Uint8Array([...good, 0])], ['another key', generateSigner().sign(MESSAGE)]];
    for (const [what, answer] of answers) {
      const signer = createAsyncSigner(device.publicKey, () => Promise.resolve(answer));
      await assert.rejects(signer.sign(MESSAGE), badSignature, what);
    }
    assert.deepEqual(await createAsyncSigner(device.publicKey, () => Promise.resolve(good)).sign(MESSAGE), good);
    assert.throws(() => createAsyncSigner(new Uint8Array(65), () => Promise.resolve(good)), /33-byte compressed/);
    assert.throws(() => { assertCanonicalSignature(toDer(good)); }, /DER\?\): it needs 64-byte IEEE P1363/);
  });

  it('unlocks a private-key keystore once and signs with its key', async () => {
    const mnemonic = generateMnemonic();
    const master = masterKeyFromSeed(mnemonicToSeed(mnemonic));
    const role = { function: 1, level: 3, member: 0 };
    const key = deriveSigningKey(master, role);
    const file = join(dir.path, 'sales.json');
    await writeKeystore(file, { kind: 'private-key', bytes: key.privateKey, pubkey: key.publicKey, path: signingKeyPath(role) }, 'pw', { scrypt: FAST });
    const signer = await openKeystoreSigner(file, 'pw');
    assert.deepEqual(signer.publicKey, key.publicKey);
    assert.deepEqual(Object.keys(signer).sort(), ['publicKey', 'sign'], 'the signer keeps no password or secret field');
    const sig = await signer.sign(MESSAGE);
    assert.ok(verifyP256(key.publicKey, MESSAGE, sig));
    assert.deepEqual((await openKeystoreSigner(file, 'pw', { path: signingKeyPath(role) })).publicKey, key.publicKey);
    await assert.rejects(openKeystoreSigner(file, 'pw', { path: "m/7777'/0'" }), /holds the key at m\/7777'\/0'\/1'\/3'\/0', not m\/7777'\/0'/);
    await assert.rejects(openKeystoreSigner(file, 'wrong'), /wrong password or altered file/);
  });

  it('derives a signing key from a mnemonic keystore at the given path, and needs the path', async () => {
    const mnemonic = generateMnemonic();
    const master = masterKeyFromSeed(mnemonicToSeed(mnemonic));
    const file = join(dir.path, 'org.json');
    await writeKeystore(file, { kind: 'mnemonic', mnemonic, pubkey: master.publicKey, path: null }, 'pw', { scrypt: FAST });
    const role = { function: 4, level: 2, member: 7 };
    const signer = await openKeystoreSigner(file, 'pw', { path: signingKeyPath(role) });
    assert.deepEqual(signer.publicKey, deriveSigningKey(master, role).publicKey);
    await assert.rejects(openKeystoreSigner(file, 'pw'), /holds a whole key tree \(a mnemonic\): give the derivation path/);
    await assert.rejects(openKeystoreSigner(file, 'pw', { path: "m/7777'/0'/1" }), /non-hardened/);
  });

  it('createProposalAsync builds the same bytes and tx id as createProposal, and a verifying signature', async () => {
    const sync = generateSigner();
    const expected = createProposal(PARAMS, sync);
    const signed = await createProposalAsync(PARAMS, asyncSignerFromSigner(sync));
    assert.equal(toHex(signed.bytes), toHex(expected.bytes));
    assert.equal(signed.txId, expected.txId);
    assert.deepEqual(signed.proposal, expected.proposal);
    assert.equal(JSON.stringify(decodeProposal(signed.bytes)), JSON.stringify(expected.proposal));
    assert.ok(verifyP256(sync.publicKey, signed.bytes, signed.signature));
    assert.ok(isCanonicalSignature(signed.signature));
  });

  it('createProposalAsync refuses a hand-made signer that answers high-S, DER or with another key', async () => {
    const sync = generateSigner();
    const other = generateSigner();
    const forms: ((m: Uint8Array) => Uint8Array)[] = [(m) => highS(sync.sign(m)), (m) => toDer(sync.sign(m)), (m) => other.sign(m)];
    for (const form of forms) {
      await assert.rejects(createProposalAsync(PARAMS, { publicKey: sync.publicKey, sign: (m) => Promise.resolve(form(m)) }), badSignature);
    }
  });

  it('imports a raw scalar as a node:crypto key', () => {
    const master = masterKeyFromSeed(mnemonicToSeed(generateMnemonic()));
    const sig = signP256(privateKeyObjectOfScalar(master.privateKey), MESSAGE);
    assert.ok(verifyP256(master.publicKey, MESSAGE, sig));
    assert.throws(() => privateKeyObjectOfScalar(new Uint8Array(32)), /not a P-256 private key/);
  });
});
