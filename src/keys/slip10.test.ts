import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { p256 } from '@noble/curves/nist.js';
import { isSilkError } from '../errors.js';
import { isCanonicalSignature, P256_N, verifyP256 } from '../crypto/p256.js';
import {
  deriveChild,
  derivePath,
  HARDENED,
  masterKeyFromSecret,
  masterKeyFromSeed,
  masterSecret,
  signerFromExtendedKey,
  uncompressedPoint,
  type ExtendedKey,
} from './slip10.js';

interface Slip10Chain {
  readonly path: string;
  readonly fingerprint: string;
  readonly chainCode: string;
  readonly private: string;
  readonly public: string;
}

interface Slip10Vectors {
  readonly source: string;
  readonly vectors: readonly { readonly name: string; readonly seed: string; readonly chains: readonly Slip10Chain[] }[];
}

const VECTORS_PATH = 'test/vectors/slip10-p256.json';

/** From dist/keys/ the project root is two levels up; otherwise the working directory. */
function loadVectors(): Slip10Vectors {
  const candidates = [new URL(`../../${VECTORS_PATH}`, import.meta.url), new URL(VECTORS_PATH, pathToFileURL(`${process.cwd()}/`))];
  const file = candidates.find((candidate) => existsSync(candidate));
  assert.ok(file, `cannot find ${VECTORS_PATH}`);
  return JSON.parse(readFileSync(file, 'utf8')) as Slip10Vectors;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const big = (b: Uint8Array): bigint => BigInt(`0x${hex(b)}`);
const mod = (v: bigint): bigint => ((v % P256_N) + P256_N) % P256_N;

function expectInvalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => isSilkError(e, 'INVALID_ARGUMENT') && pattern.test(e.message));
}

function lastIndex(path: string): number {
  const step = path.split('/').at(-1) ?? '';
  return step.endsWith("'") ? Number(step.slice(0, -1)) + HARDENED : Number(step);
}

function assertChain(key: ExtendedKey, want: Slip10Chain, depth: number): void {
  assert.equal(hex(key.chainCode), want.chainCode, `${want.path} chain code`);
  assert.equal(hex(key.privateKey), want.private, `${want.path} private key`);
  assert.equal(hex(key.publicKey), want.public, `${want.path} public key`);
  assert.equal(key.parentFingerprint.toString(16).padStart(8, '0'), want.fingerprint, `${want.path} fingerprint`);
  assert.equal(key.depth, depth);
  assert.equal(key.index, depth === 0 ? 0 : lastIndex(want.path));
}

const vectors = loadVectors();
const seed1 = bytes('000102030405060708090a0b0c0d0e0f');

describe('SLIP-0010 NIST P-256 (official vectors)', () => {
  it('names its source and holds vectors 1, 2, the derivation retry and the seed retry', () => {
    assert.match(vectors.source, /SLIP-0010/);
    assert.deepEqual(vectors.vectors.map((v) => v.name), [
      'Test vector 1 for nist256p1',
      'Test vector 2 for nist256p1',
      'Test derivation retry for nist256p1',
      'Test seed retry for nist256p1',
    ]);
  });

  for (const vector of vectors.vectors) {
    it(`${vector.name}: every step, one child at a time and by path`, () => {
      let key = masterKeyFromSeed(bytes(vector.seed));
      vector.chains.forEach((chain, depth) => {
        if (depth > 0) key = deriveChild(key, lastIndex(chain.path), { allowNonHardened: true });
        assertChain(key, chain, depth);
        const master = masterKeyFromSeed(bytes(vector.seed));
        assertChain(derivePath(master, chain.path, { allowNonHardened: true }), chain, depth);
      });
    });
  }

  it('the retry vectors do reach the retry rule (their first I_L is ≥ n)', () => {
    const seedRetry = bytes(vectors.vectors[3]!.seed);
    const first = createHmac('sha512', 'Nist256p1 seed').update(seedRetry).digest();
    assert.ok(big(first.subarray(0, 32)) >= P256_N, 'seed retry: first master I_L must be invalid');
    // The derivation retry happens at the non-hardened step m/28578'/33941.
    const parent = vectors.vectors[2]!.chains[1]!;
    const index = Buffer.alloc(4);
    index.writeUInt32BE(33941);
    const i = createHmac('sha512', bytes(parent.chainCode)).update(Buffer.concat([bytes(parent.public), index])).digest();
    assert.ok(big(i.subarray(0, 32)) >= P256_N, "derivation retry: first I_L of m/28578'/33941 must be invalid");
  });
});

describe('points on node:crypto agree with @noble/curves', () => {
  it('public keys and uncompressed points of 200 derived keys', () => {
    const master = masterKeyFromSeed(seed1);
    for (let i = 0; i < 200; i++) {
      const key = deriveChild(master, HARDENED + i);
      assert.equal(hex(key.publicKey), hex(p256.getPublicKey(key.privateKey, true)));
      assert.equal(hex(uncompressedPoint(key.publicKey)), hex(p256.getPublicKey(key.privateKey, false)));
    }
    const offCurve = new Uint8Array(33);
    offCurve.set([2], 0);
    offCurve.set([1], 32); // x = 1: x³ − 3x + b is not a square mod p
    assert.throws(() => p256.Point.fromBytes(offCurve));
    expectInvalid(() => uncompressedPoint(offCurve), /not a point on P-256/);
  });
});

describe('hardened only: the parent-key recovery attack', () => {
  const master = masterKeyFromSeed(seed1);
  const parent = derivePath(master, "m/7777'/0'");

  it('recovers the parent private key from its extended public key and ONE non-hardened child private key', () => {
    // What an attacker holds: the parent's public key and chain code (an "xpub"), and one leaked child key.
    const xpub = { publicKey: parent.publicKey, chainCode: parent.chainCode };
    const childIndex = 5;
    const leakedChild = deriveChild(parent, childIndex, { allowNonHardened: true }).privateKey;
    // Non-hardened CKDpriv hashes public data only: I = HMAC-SHA512(c_par, ser_P(K_par) ‖ ser32(i)).
    const i = createHmac('sha512', xpub.chainCode).update(Buffer.concat([xpub.publicKey, Buffer.from([0, 0, 0, childIndex])])).digest();
    const recovered = mod(big(leakedChild) - big(i.subarray(0, 32)));
    assert.equal(recovered, big(parent.privateKey), 'k_parent = k_child − I_L mod n');
    assert.equal(hex(p256.getPublicKey(bytes(recovered.toString(16).padStart(64, '0')), true)), hex(parent.publicKey));
  });

  it('with hardened derivation the same computation yields garbage, and non-hardened children are refused by default', () => {
    const hardenedChild = deriveChild(parent, HARDENED + 5).privateKey;
    const i = createHmac('sha512', parent.chainCode).update(Buffer.concat([parent.publicKey, Buffer.from('80000005', 'hex')])).digest();
    assert.notEqual(mod(big(hardenedChild) - big(i.subarray(0, 32))), big(parent.privateKey));
    expectInvalid(() => deriveChild(parent, 5), /non-hardened child 5 refused/);
    expectInvalid(() => derivePath(master, "m/7777'/0'/5"), /non-hardened step 5/);
    expectInvalid(() => derivePath(master, 'm/0/1'), /non-hardened/);
  });
});

describe('master secret (escrow) and signers', () => {
  const master = masterKeyFromSeed(seed1);

  it('round-trips the 64-byte private key ‖ chain code and rebuilds the same tree', () => {
    const secret = masterSecret(master);
    assert.equal(secret.length, 64);
    assert.equal(hex(secret), hex(master.privateKey) + hex(master.chainCode));
    const restored = masterKeyFromSecret(secret);
    const path = "m/7777'/0'/1'/3'/0'";
    assert.equal(hex(derivePath(restored, path).publicKey), hex(derivePath(master, path).publicKey));
  });

  it('escrows only the master, and never shows a private key or chain code in JSON or inspect output', () => {
    const child = derivePath(master, "m/7777'/0'");
    expectInvalid(() => masterSecret(child), /only a master key/);
    for (const text of [JSON.stringify(child), inspect(child), JSON.stringify(master), inspect(master)]) {
      assert.ok(!text.includes(hex(child.privateKey)) && !text.includes(hex(child.chainCode)), text);
      assert.ok(!text.includes(hex(master.privateKey)) && !text.includes(hex(master.chainCode)), text);
    }
    assert.ok(Object.isFrozen(child));
  });

  it('signs with derived keys: 64-byte low-S P1363 signatures that verifyP256 accepts', () => {
    const key = derivePath(master, "m/7777'/0'/2'/3'/0'");
    const signer = signerFromExtendedKey(key);
    assert.equal(hex(signer.publicKey), hex(key.publicKey));
    const message = new TextEncoder().encode('bill of lading 42');
    for (let n = 0; n < 40; n++) {
      const sig = signer.sign(message);
      assert.equal(sig.length, 64);
      assert.ok(isCanonicalSignature(sig), 'low S');
      assert.ok(verifyP256(key.publicKey, message, sig));
    }
    assert.ok(!verifyP256(master.publicKey, message, signer.sign(message)), 'another key does not verify');
  });
});

describe('input validation', () => {
  const master = masterKeyFromSeed(seed1);

  it('checks seeds, secrets and indexes', () => {
    expectInvalid(() => masterKeyFromSeed(new Uint8Array(15)), /seed must be 16 to 64 bytes, got 15/);
    expectInvalid(() => masterKeyFromSeed(new Uint8Array(65)), /16 to 64 bytes/);
    expectInvalid(() => masterKeyFromSeed('00' as unknown as Uint8Array), /Uint8Array/);
    expectInvalid(() => masterKeyFromSecret(new Uint8Array(63)), /64 bytes, got 63/);
    expectInvalid(() => masterKeyFromSecret(new Uint8Array(64)), /\[1, n−1\]/);
    const overN = new Uint8Array(64).fill(0xff);
    expectInvalid(() => masterKeyFromSecret(overN), /\[1, n−1\]/);
    for (const bad of [-1, 2 ** 32, 1.5, Number.NaN]) expectInvalid(() => deriveChild(master, bad), /integer from 0 to 2\^32−1/);
    expectInvalid(() => deriveChild({} as ExtendedKey, HARDENED), /private key must be/);
    expectInvalid(() => signerFromExtendedKey(null as unknown as ExtendedKey), /ExtendedKey/);
  });

  it('checks path syntax and index range', () => {
    assert.equal(derivePath(master, 'm'), master);
    assert.equal(hex(derivePath(master, "m/1h/2'").publicKey), hex(derivePath(master, "m/1'/2h").publicKey));
    for (const bad of ['', 'M/1\'', "m/", "m//1'", "m/01'", "m/1'/", "1'/2'", "m/-1'", "m/1''", "m/1H", "m/a'", ' m/1\'']) {
      expectInvalid(() => derivePath(master, bad), /bad derivation path/);
    }
    expectInvalid(() => derivePath(master, "m/2147483648'"), /out of range/);
    assert.equal(derivePath(master, "m/2147483647'").index, 0xffffffff);
    expectInvalid(() => derivePath(derivePath(master, "m/1'"), "m/1'"), /master key \(depth 0\)/);
    expectInvalid(() => derivePath(master, `m${"/0'".repeat(256)}`), /at most 255 steps/);
  });
});
