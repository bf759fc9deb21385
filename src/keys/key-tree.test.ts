import assert from 'node:assert/strict';
import { createECDH, type webcrypto } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } from '@hpke/core';
import { isSilkError } from '../errors.js';
import { isCanonicalSignature, verifyP256 } from '../crypto/p256.js';
import {
  adminKeyPath,
  DEFAULT_FUNCTIONS,
  deriveEncryptionKey,
  deriveSigningKey,
  encryptionKeyPath,
  signingKeyPath,
  SILK_PURPOSE,
  type KeyRole,
} from './key-tree.js';
import { mnemonicToSeed } from './mnemonic.js';
import { derivePath, masterKeyFromSeed, signerFromExtendedKey } from './slip10.js';

interface TreeKey {
  readonly name: string;
  readonly path: string;
  readonly publicKey: string;
}

interface KeyTreeVectors {
  readonly source: string;
  readonly mnemonic: string;
  readonly passphrase: string;
  readonly masterPublicKey: string;
  readonly functions: Readonly<Record<string, number>>;
  readonly keys: readonly TreeKey[];
}

const VECTORS_PATH = 'test/vectors/silk-key-tree.json';

/** From dist/keys/ the project root is two levels up; otherwise the working directory. */
function loadVectors(): KeyTreeVectors {
  const candidates = [new URL(`../../${VECTORS_PATH}`, import.meta.url), new URL(VECTORS_PATH, pathToFileURL(`${process.cwd()}/`))];
  const file = candidates.find((candidate) => existsSync(candidate));
  assert.ok(file, `cannot find ${VECTORS_PATH}`);
  return JSON.parse(readFileSync(file, 'utf8')) as KeyTreeVectors;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function expectInvalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => isSilkError(e, 'INVALID_ARGUMENT') && pattern.test(e.message));
}

const vectors = loadVectors();
const master = masterKeyFromSeed(mnemonicToSeed(vectors.mnemonic, vectors.passphrase));

describe('key tree layout (project vectors)', () => {
  it('the demo tree from the fixed mnemonic matches test/vectors/silk-key-tree.json', () => {
    assert.equal(hex(master.publicKey), vectors.masterPublicKey);
    assert.deepEqual({ ...DEFAULT_FUNCTIONS }, vectors.functions, 'the default function registry changed');
    const built: TreeKey[] = [{ name: 'admin', path: adminKeyPath(), publicKey: hex(derivePath(master, adminKeyPath()).publicKey) }];
    for (const [name, fn] of Object.entries(DEFAULT_FUNCTIONS)) {
      for (const level of [1, 3]) {
        const role: KeyRole = { function: fn, level, member: 0 };
        built.push({ name: `${name} level ${level} member 0`, path: signingKeyPath(role), publicKey: hex(deriveSigningKey(master, role).publicKey) });
      }
    }
    built.push({ name: 'encryption 0', path: encryptionKeyPath(), publicKey: hex(deriveEncryptionKey(master).publicKey) });
    assert.deepEqual(built, vectors.keys.map(({ name, path, publicKey }) => ({ name, path, publicKey })));
  });

  it('documents the paths: admin m/7777\'/0\', functions below it, encryption on branch 1\'', () => {
    assert.equal(SILK_PURPOSE, 7777);
    assert.equal(adminKeyPath(), "m/7777'/0'");
    assert.equal(signingKeyPath({ function: DEFAULT_FUNCTIONS.logistics!, level: 2, member: 0 }), "m/7777'/0'/3'/2'/0'");
    assert.equal(encryptionKeyPath(), "m/7777'/1'/0'");
    assert.equal(encryptionKeyPath(4), "m/7777'/1'/4'");
    assert.deepEqual(DEFAULT_FUNCTIONS, { admin: 0, sales: 1, finance: 2, logistics: 3, customs: 4, audit: 5, device: 6 });
    assert.ok(Object.isFrozen(DEFAULT_FUNCTIONS));
  });

  it('gives every role its own key, and a key\'s depth and index match its path', () => {
    const roles: KeyRole[] = [
      { function: 1, level: 1, member: 0 },
      { function: 1, level: 3, member: 0 },
      { function: 1, level: 3, member: 1 },
      { function: 2, level: 3, member: 0 },
    ];
    const keys = roles.map((r) => deriveSigningKey(master, r));
    assert.equal(new Set(keys.map((k) => hex(k.publicKey))).size, roles.length);
    assert.equal(keys[2]!.depth, 5);
    assert.equal(keys[2]!.index, 0x80000001);
  });
});

describe('signing keys', () => {
  it('sign 64-byte low-S P1363 signatures that verifyP256 accepts', () => {
    const key = deriveSigningKey(master, { function: DEFAULT_FUNCTIONS.customs!, level: 3, member: 7 });
    const signer = signerFromExtendedKey(key);
    const message = new TextEncoder().encode('customs declaration CN-2024-0001');
    const sig = signer.sign(message);
    assert.equal(sig.length, 64);
    assert.ok(isCanonicalSignature(sig));
    assert.ok(verifyP256(key.publicKey, message, sig));
    assert.ok(verifyP256(signerFromExtendedKey(derivePath(master, adminKeyPath())).publicKey, message, signerFromExtendedKey(derivePath(master, adminKeyPath())).sign(message)));
  });

  it('validates roles', () => {
    for (const level of [0, 10, 1.5, Number.NaN]) expectInvalid(() => signingKeyPath({ function: 1, level, member: 0 }), /level must be an integer from 1 to 9/);
    for (const fn of [-1, 2 ** 31, 0.5]) expectInvalid(() => signingKeyPath({ function: fn, level: 1, member: 0 }), /function must be an integer from 0 to 2\^31−1/);
    for (const member of [-1, 2 ** 31]) expectInvalid(() => deriveSigningKey(master, { function: 1, level: 1, member }), /member must be/);
    expectInvalid(() => signingKeyPath(null as unknown as KeyRole), /a key role must be an object/);
    expectInvalid(() => signingKeyPath({ function: '1', level: 1, member: 0 } as unknown as KeyRole), /function must be/);
    expectInvalid(() => encryptionKeyPath(-1), /encryption key index/);
    expectInvalid(() => deriveEncryptionKey(master, 2 ** 31), /encryption key index/);
    expectInvalid(() => deriveSigningKey(derivePath(master, adminKeyPath()), { function: 1, level: 1, member: 0 }), /master key \(depth 0\)/);
  });
});

describe('encryption keys', () => {
  const enc = deriveEncryptionKey(master);

  it('are bare ECDH P-256 key pairs on their own branch, apart from every signing key', () => {
    assert.deepEqual(Object.keys(enc).sort(), ['privateKey', 'publicKey'], 'no chain code leaves with an encryption key');
    assert.equal(enc.privateKey.length, 32);
    assert.equal(enc.publicKey.length, 65);
    assert.equal(enc.publicKey[0], 4);
    const signingKeys = vectors.keys.filter((k) => !k.name.startsWith('encryption')).map((k) => k.publicKey.slice(2));
    assert.ok(!signingKeys.includes(hex(enc.publicKey.subarray(1, 33))));
    assert.notEqual(hex(deriveEncryptionKey(master, 1).publicKey), hex(enc.publicKey));
  });

  it('agree on an ECDH secret with node:crypto', () => {
    const peer = createECDH('prime256v1');
    peer.generateKeys();
    const ours = createECDH('prime256v1');
    ours.setPrivateKey(enc.privateKey);
    assert.equal(hex(ours.getPublicKey()), hex(enc.publicKey));
    assert.equal(hex(ours.computeSecret(peer.getPublicKey())), hex(peer.computeSecret(enc.publicKey)));
  });

  it('seal and open with HPKE DHKEM(P-256, HKDF-SHA256), AES-256-GCM', async () => {
    const suite = new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
    // @hpke/core types keys as the DOM's CryptoKey, which this project's lib does not declare.
    const recipientPublicKey = (await suite.kem.importKey('raw', enc.publicKey.slice().buffer, true)) as webcrypto.CryptoKey;
    const recipientKey = (await suite.kem.importKey('raw', enc.privateKey.slice().buffer, false)) as webcrypto.CryptoKey;
    const plaintext = new TextEncoder().encode('guardian share 3 of 5');
    const sealed = await suite.seal({ recipientPublicKey }, plaintext.slice().buffer);
    const opened = await suite.open({ recipientKey, enc: sealed.enc }, sealed.ct);
    assert.equal(new TextDecoder().decode(opened), 'guardian share 3 of 5');
  });
});
