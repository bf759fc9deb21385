import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeCanonical } from '../codec/canonical-cbor.js';
import { toHex } from '../crypto/hash.js';
import { generateSigner } from '../crypto/p256.js';
import { isSilkError } from '../errors.js';
import { decodeCertificate, encodeCertificate, openSignedCertificate, signCertificate, verifyCertificateSignature, type IdentityCertificate } from './identity-certificate.js';
import { identityStateKey } from './identity-record.js';
import { createRegistryIdentityResolver } from './registry-identity-resolver.js';
import type { ChainConfig } from '../ledger/chain-config.js';

const parent = generateSigner();
const child = generateSigner();
const CERT: IdentityCertificate = { v: 1, chain: 'trade', org: 'Org1', key: child.publicKey, parent: parent.publicKey, function: 'finance', level: 3, path: "m/7777'/0'/2'/3'/0'", kind: 'member', notBefore: 1000, notAfter: 5000 };
const malformed = (e: unknown): boolean => isSilkError(e, 'MALFORMED');

describe('identity certificates', () => {
  it('round-trips canonically and verifies with the parent key only', () => {
    const { bytes, signature } = signCertificate(CERT, parent);
    assert.deepEqual(decodeCertificate(bytes), CERT);
    assert.deepEqual(encodeCertificate(decodeCertificate(bytes)), bytes);
    assert.equal(verifyCertificateSignature(CERT, bytes, signature), true);
    // The signature covers a domain-separated message, not the bare bytes.
    assert.equal(verifyCertificateSignature(CERT, bytes, parent.sign(bytes)), false);
    assert.ok('certificate' in openSignedCertificate(toHex(bytes), toHex(signature)));
    assert.ok('problem' in openSignedCertificate(toHex(bytes), toHex(child.sign(bytes))));
    assert.throws(() => signCertificate(CERT, child), (e: unknown) => isSilkError(e, 'INVALID_ARGUMENT'));
  });

  it('refuses bad fields, unknown fields and non-hardened paths', () => {
    for (const bad of [{ level: 0 }, { level: 10 }, { path: "m/7777'/0" }, { path: 'm' }, { notAfter: 999 }, { function: 'Finance' }, { kind: 'robot' }, { parent: child.publicKey }, { key: new Uint8Array(33) }]) {
      assert.throws(() => encodeCertificate({ ...CERT, ...bad } as IdentityCertificate), malformed, JSON.stringify(Object.keys(bad)));
    }
    const extra = encodeCanonical({ ...CERT, extra: 1 });
    assert.throws(() => decodeCertificate(extra), malformed);
    assert.throws(() => decodeCertificate(encodeCanonical({ ...CERT, v: 2 })), malformed);
  });
});

describe('registry identity resolver', () => {
  const admin = generateSigner();
  const config = { v: 1, chain: 'trade', sequence: 0, orgs: { Org1: { members: [{ name: 'admin', key: toHex(admin.publicKey), role: 'admin' }] } }, orderers: [toHex(admin.publicKey)], adminPolicy: "'Org1.admin'", contracts: {}, txWindowMs: 60_000, batch: { maxTxs: 10, maxBytes: 1 << 20, timeoutMs: 10 } } as ChainConfig;
  const write = (cert: IdentityCertificate, signer: typeof admin, status = 'active'): { key: string; value: string } => {
    const { bytes, signature } = signCertificate(cert, signer);
    return { key: identityStateKey(toHex(cert.key)), value: JSON.stringify({ certificate: toHex(bytes), signature: toHex(signature), status }) };
  };

  it('judges registration, expiry, compromise and rotation by block and timestamp', () => {
    const r = createRegistryIdentityResolver();
    r.addConfig(0, config);
    const mid = generateSigner();
    const leaf = generateSigner();
    const midCert: IdentityCertificate = { ...CERT, key: mid.publicKey, parent: admin.publicKey, level: 5, notBefore: 0, notAfter: 10_000 };
    const leafCert: IdentityCertificate = { ...CERT, key: leaf.publicKey, parent: mid.publicKey, level: 2, notBefore: 0, notAfter: 9000 };
    r.applyIdentityWrites(3, [write(midCert, admin)]);
    r.applyIdentityWrites(4, [write(leafCert, mid)]);
    assert.equal(r.resolve('trade', leaf.publicKey, 4, 100), undefined, 'not valid in its own block');
    assert.equal(r.resolve('trade', leaf.publicKey, 5, 100)?.level, 2);
    assert.equal(r.resolve('trade', leaf.publicKey, 5, 9001), undefined, 'expired by the block timestamp');
    assert.equal(r.resolve('other', leaf.publicKey, 5, 100), undefined);
    // A forged registration (signed by the wrong key) never resolves.
    const forged = generateSigner();
    r.applyIdentityWrites(5, [{ ...write({ ...leafCert, key: forged.publicKey }, mid), key: identityStateKey(toHex(generateSigner().publicKey)) }]);
    assert.equal(r.standing('trade', toHex(forged.publicKey), 9, 100), 'unknown');
    // Planned retirement of the middle key: it stops, the leaf goes on.
    r.applyIdentityWrites(6, [{ ...write(midCert, admin, 'retired') }]);
    assert.equal(r.resolve('trade', mid.publicKey, 6, 100)?.level, 5);
    assert.equal(r.resolve('trade', mid.publicKey, 7, 100), undefined);
    assert.equal(r.resolve('trade', leaf.publicKey, 7, 100)?.level, 2);
    // Compromise at block 8: both stop for blocks after 8, with the cache warm.
    assert.ok(r.resolve('trade', leaf.publicKey, 8, 100));
    r.applyIdentityWrites(8, [{ ...write(midCert, admin, 'compromised') }]);
    assert.ok(r.resolve('trade', leaf.publicKey, 8, 100), 'block 8 itself still valid');
    assert.equal(r.resolve('trade', leaf.publicKey, 9, 100), undefined);
    assert.equal(r.standing('trade', toHex(leaf.publicKey), 9, 100), 'ancestor-compromised');
  });
});
