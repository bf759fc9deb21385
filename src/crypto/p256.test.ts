import assert from 'node:assert/strict';
import { createPrivateKey, sign as nodeSign } from 'node:crypto';
import { describe, it } from 'node:test';
import { createSigner, generatePrivateKey, generateSigner, isCanonicalSignature, P256_N, publicKeyObject, signerFromPem, verifyP256 } from './p256.js';
import { createVerifyPool } from './verify-pool.js';

const msg = new TextEncoder().encode('silk road');

function highS(sig: Uint8Array): Uint8Array {
  const s = BigInt('0x' + Buffer.from(sig.subarray(32)).toString('hex'));
  const out = new Uint8Array(sig);
  out.set(Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex'), 32);
  return out;
}

describe('P-256 signatures', () => {
  it('takes r in 1..n-1 and s in 1..n/2 as canonical, and nothing at or past those bounds', () => {
    const int32 = (v: bigint): Uint8Array => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
    const sig = (r: bigint, s: bigint): Uint8Array => new Uint8Array([...int32(r), ...int32(s)]);
    const half = P256_N >> 1n;
    for (const [r, s, ok] of [
      [1n, 1n, true], [P256_N - 1n, half, true], [12345n, half - 1n, true],
      [0n, 1n, false], [P256_N, 1n, false], [P256_N + 1n, 1n, false], [(1n << 256n) - 1n, 1n, false],
      [1n, 0n, false], [1n, half + 1n, false], [1n, P256_N - 1n, false], [1n, (1n << 256n) - 1n, false],
    ] as const) {
      assert.equal(isCanonicalSignature(sig(r, s)), ok, `r = ${r.toString(16)}, s = ${s.toString(16)}`);
    }
    assert.equal(isCanonicalSignature(sig(1n, 1n).subarray(0, 63)), false, 'a 63-byte signature');
  });

  it('signs low-S P1363 signatures that verify, and WebCrypto verifies them too', async () => {
    const signer = generateSigner();
    for (let i = 0; i < 50; i++) {
      const sig = signer.sign(msg);
      assert.equal(sig.length, 64);
      const s = BigInt('0x' + Buffer.from(sig.subarray(32)).toString('hex'));
      assert.ok(s <= P256_N >> 1n, 'S must be low');
      assert.ok(verifyP256(signer.publicKey, msg, sig));
    }
    const raw = publicKeyObject(signer.publicKey).export({ format: 'jwk' });
    const key = await crypto.subtle.importKey('jwk', raw, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    assert.ok(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, signer.sign(msg), msg));
  });

  it('refuses high-S, DER, wrong message, wrong key and malformed keys', () => {
    const signer = generateSigner();
    const sig = signer.sign(msg);
    assert.equal(verifyP256(signer.publicKey, msg, highS(sig)), false);
    const privateKey = generatePrivateKey();
    const der = new Uint8Array(nodeSign('sha256', msg, privateKey));
    assert.equal(verifyP256(createSigner(privateKey).publicKey, msg, der), false);
    assert.equal(verifyP256(signer.publicKey, new TextEncoder().encode('silk roaD'), sig), false);
    assert.equal(verifyP256(generateSigner().publicKey, msg, sig), false);
    assert.equal(verifyP256(new Uint8Array(33), msg, sig), false);
    assert.equal(verifyP256(signer.publicKey, msg, new Uint8Array(64)), false);
  });

  it('round-trips PEM keys', () => {
    const privateKey = generatePrivateKey();
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const a = signerFromPem(pem);
    const b = createSigner(createPrivateKey(pem));
    assert.deepEqual(a.publicKey, b.publicKey);
    assert.throws(() => signerFromPem('not a key'), { code: 'INVALID_ARGUMENT' });
  });

  it('the worker pool gives the same answers as the inline check', async () => {
    const pool = createVerifyPool({ workers: 2, minParallelBatch: 4 });
    try {
      const signer = generateSigner();
      const checks = Array.from({ length: 40 }, (_, i) => {
        const m = new TextEncoder().encode(`m${i}`);
        const s = signer.sign(m);
        return { key: signer.publicKey, message: m, signature: i % 3 === 0 ? highS(s) : s };
      });
      const got = await pool.verifyBatch(checks);
      assert.deepEqual(got, checks.map((_, i) => i % 3 !== 0));
      assert.ok((await pool.verifyCount()) >= 40);
    } finally {
      await pool.close();
    }
  });
});
