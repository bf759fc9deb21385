/**
 * RFC 9180 Appendix A vectors replayed on @hpke/core (test/vectors/rfc9180-dhkem-p256.json), and
 * the properties of the thin seal/open layer Silkledger uses.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { Aes128Gcm, Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, DhkemP521HkdfSha512, HkdfSha256, HkdfSha512 } from '@hpke/core';
import { fromHex, toHex } from '../crypto/hash.js';
import { compressedPoint, deriveHpkeKeyPair, hpkeOpen, hpkeSeal, HpkeOpenFailure, uncompressedPoint, type HpkeKem } from './hpke.js';

interface Encryption {
  readonly sequence_number: number;
  readonly pt: string;
  readonly aad: string;
  readonly nonce: string;
  readonly ct: string;
}

interface BaseVector {
  readonly section: string;
  readonly kem_id: number;
  readonly kdf_id: number;
  readonly aead_id: number;
  readonly info: string;
  readonly ikmE: string;
  readonly pkEm: string;
  readonly skEm: string;
  readonly ikmR: string;
  readonly pkRm: string;
  readonly skRm: string;
  readonly enc: string;
  readonly encryptions: readonly Encryption[];
}

const VECTORS_PATH = 'test/vectors/rfc9180-dhkem-p256.json';

function loadVectors(): { source: string; vectors: BaseVector[] } {
  const candidates = [new URL(`../../${VECTORS_PATH}`, import.meta.url), new URL(VECTORS_PATH, pathToFileURL(`${process.cwd()}/`))];
  const file = candidates.find((c) => existsSync(c));
  if (file === undefined) throw new Error(`${VECTORS_PATH} not found`);
  return JSON.parse(readFileSync(file, 'utf8')) as { source: string; vectors: BaseVector[] };
}

function suiteFor(v: BaseVector): CipherSuite {
  if (v.kem_id === 16 && v.kdf_id === 1 && v.aead_id === 1) return new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
  if (v.kem_id === 18 && v.kdf_id === 3 && v.aead_id === 2) return new CipherSuite({ kem: new DhkemP521HkdfSha512(), kdf: new HkdfSha512(), aead: new Aes256Gcm() });
  throw new Error(`no suite for ${v.section}`);
}

describe('RFC 9180 vectors on @hpke/core', () => {
  const { source, vectors } = loadVectors();
  it('names its source', () => {
    assert.match(source, /RFC 9180/);
    assert.deepEqual(vectors.map((v) => v.section), ['A.3.1', 'A.6.1']);
  });

  for (const v of vectors) {
    it(`${v.section}: DeriveKeyPair(ikmE), DeriveKeyPair(ikmR), enc and every listed encryption`, async () => {
      const suite = suiteFor(v);
      const kem = suite.kem as unknown as HpkeKem;
      const e = await kem.deriveKeyPair(fromHex(v.ikmE));
      const r = await kem.deriveKeyPair(fromHex(v.ikmR));
      assert.equal(toHex(new Uint8Array(await kem.serializePrivateKey(e.privateKey))), v.skEm);
      assert.equal(toHex(new Uint8Array(await kem.serializePublicKey(e.publicKey))), v.pkEm);
      assert.equal(toHex(new Uint8Array(await kem.serializePrivateKey(r.privateKey))), v.skRm);
      assert.equal(toHex(new Uint8Array(await kem.serializePublicKey(r.publicKey))), v.pkRm);

      const sender = await suite.createSenderContext({ recipientPublicKey: r.publicKey, info: fromHex(v.info), ekm: e });
      assert.equal(toHex(new Uint8Array(sender.enc)), v.enc);
      const recipient = await suite.createRecipientContext({ recipientKey: await kem.deserializePrivateKey(fromHex(v.skRm)), enc: fromHex(v.enc), info: fromHex(v.info) });
      const wanted = new Map(v.encryptions.map((x) => [x.sequence_number, x]));
      const last = Math.max(...wanted.keys());
      for (let seq = 0; seq <= last; seq++) {
        const x = wanted.get(seq);
        // Seal every sequence number in order (the nonce is base_nonce XOR seq); check the listed ones.
        const pt = x === undefined ? new Uint8Array(1) : fromHex(x.pt);
        const aad = x === undefined ? new Uint8Array(0) : fromHex(x.aad);
        const ct = new Uint8Array(await sender.seal(pt, aad));
        const opened = new Uint8Array(await recipient.open(ct, aad));
        assert.deepEqual(opened, pt);
        if (x !== undefined) assert.equal(toHex(ct), x.ct, `${v.section} sequence ${seq}`);
      }
    });
  }

  it('A.3.1: deriveHpkeKeyPair (what IDK uses) is RFC 9180 DeriveKeyPair', async () => {
    const v = vectors[0]!;
    const pair = await deriveHpkeKeyPair(fromHex(v.ikmR));
    assert.equal(toHex(pair.privateKey), v.skRm);
    assert.equal(toHex(uncompressedPoint(pair.publicKey)), v.pkRm);
    assert.equal(pair.publicKey.length, 33);
  });
});

describe('hpkeSeal / hpkeOpen (DHKEM(P-256), HKDF-SHA256, AES-256-GCM)', () => {
  const info = new TextEncoder().encode('silkledger/test');
  const aad = new TextEncoder().encode('header');
  const plaintext = new Uint8Array(64).map((_, i) => i);

  it('round-trips to a compressed or uncompressed key; enc is the 65-byte r·G; a 64-byte secret gives 80 bytes', async () => {
    const pair = await deriveHpkeKeyPair(new Uint8Array(32).fill(7));
    for (const key of [pair.publicKey, uncompressedPoint(pair.publicKey)]) {
      const box = await hpkeSeal(key, plaintext, { info, aad });
      assert.equal(box.enc.length, 65);
      assert.equal(box.enc[0], 4);
      assert.equal(box.ciphertext.length, 80);
      assert.deepEqual(await hpkeOpen(pair.privateKey, box, { info, aad }), plaintext);
    }
    assert.deepEqual(compressedPoint(uncompressedPoint(pair.publicKey)), pair.publicKey);
  });

  it('fails to open with another key, another aad or info, or an altered enc or ciphertext', async () => {
    const pair = await deriveHpkeKeyPair(new Uint8Array(32).fill(7));
    const other = await deriveHpkeKeyPair(new Uint8Array(32).fill(8));
    const box = await hpkeSeal(pair.publicKey, plaintext, { info, aad });
    const flipped = (b: Uint8Array, i: number): Uint8Array => { const c = b.slice(); c[i] = (c[i] ?? 0) ^ 1; return c; };
    await assert.rejects(hpkeOpen(other.privateKey, box, { info, aad }), HpkeOpenFailure);
    await assert.rejects(hpkeOpen(pair.privateKey, box, { info, aad: new Uint8Array(0) }), HpkeOpenFailure);
    await assert.rejects(hpkeOpen(pair.privateKey, box, { info: new Uint8Array(0), aad }), HpkeOpenFailure);
    await assert.rejects(hpkeOpen(pair.privateKey, { ...box, ciphertext: flipped(box.ciphertext, 3) }, { info, aad }), HpkeOpenFailure);
    await assert.rejects(hpkeOpen(pair.privateKey, { ...box, enc: flipped(box.enc, 40) }, { info, aad }), HpkeOpenFailure);
  });

  it('refuses short input keying material and keys off the curve', async () => {
    await assert.rejects(deriveHpkeKeyPair(new Uint8Array(31)), { code: 'INVALID_ARGUMENT' });
    const offCurve = new Uint8Array(33).fill(0xff); // x ≥ p: no such point
    offCurve[0] = 2;
    await assert.rejects(hpkeSeal(offCurve, plaintext, { info, aad }), { code: 'INVALID_ARGUMENT' });
  });
});
