/**
 * ECDSA P-256 signing and verification on node:crypto (OpenSSL).
 *
 * Every signature in Silkledger is IEEE P1363 (`r‖s`, 64 bytes, what WebCrypto produces and
 * verifies) with a low S (s ≤ n/2). Verifiers refuse high-S and DER, so a signature cannot be
 * mangled into a second valid form. Public keys travel as 33-byte SEC1 compressed points and
 * are parsed once into cached `KeyObject`s.
 */
import { createECDH, createPrivateKey, createPublicKey, randomBytes, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { SilkError } from '../errors.js';
import { toHex } from './hash.js';

/** Order of the P-256 group. */
export const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_N = P256_N >> 1n;
/** DER prefix of a SubjectPublicKeyInfo holding a compressed P-256 point. */
const SPKI_COMPRESSED_PREFIX = Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex');

/** Something that signs with a P-256 key. */
export interface Signer {
  /** 33-byte compressed public key. */
  readonly publicKey: Uint8Array;
  /** Low-S P1363 signature over SHA-256 of `message`. */
  sign(message: Uint8Array): Uint8Array;
}

const keyCache = new Map<string, KeyObject>();
const MAX_CACHED_KEYS = 100_000;

/**
 * Parses a compressed public key once and caches the KeyObject.
 * @throws SilkError INVALID_ARGUMENT when the bytes are not a point on P-256
 */
export function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const id = toHex(publicKey);
  let key = keyCache.get(id);
  if (key === undefined) {
    if (publicKey.length !== 33 || (publicKey[0] !== 2 && publicKey[0] !== 3)) {
      throw new SilkError('INVALID_ARGUMENT', 'a public key must be a 33-byte compressed P-256 point');
    }
    try {
      key = createPublicKey({ key: Buffer.concat([SPKI_COMPRESSED_PREFIX, publicKey]), format: 'der', type: 'spki' });
    } catch (cause) {
      throw new SilkError('INVALID_ARGUMENT', 'public key is not a point on P-256', {}, { cause });
    }
    if (keyCache.size >= MAX_CACHED_KEYS) keyCache.clear();
    keyCache.set(id, key);
  }
  return key;
}

function bytesToBigInt(b: Uint8Array): bigint {
  return BigInt('0x' + (toHex(b) || '0'));
}

function bigIntTo32(v: bigint): Uint8Array {
  return Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
}

/** Compresses an uncompressed (65-byte) SEC1 point. */
function compressPoint(uncompressed: Uint8Array): Uint8Array {
  const out = new Uint8Array(33);
  out[0] = ((uncompressed[64] as number) & 1) === 1 ? 3 : 2;
  out.set(uncompressed.subarray(1, 33), 1);
  return out;
}

/**
 * Signs `message` (hashed with SHA-256) and normalises to low S.
 * @param key a P-256 private KeyObject
 * @param message the bytes to sign
 * @returns a 64-byte IEEE P1363 signature with s ≤ n/2
 */
export function signP256(key: KeyObject, message: Uint8Array): Uint8Array {
  const sig = new Uint8Array(nodeSign('sha256', message, { key, dsaEncoding: 'ieee-p1363' }));
  const s = bytesToBigInt(sig.subarray(32));
  if (s > HALF_N) sig.set(bigIntTo32(P256_N - s), 32);
  return sig;
}

const N_BYTES = bigIntTo32(P256_N);
const HALF_N_BYTES = bigIntTo32(HALF_N);

/** Compares the 32-byte big-endian integer at `b[at..at+32]` with `limit`: negative, zero or positive. */
function compare32(b: Uint8Array, at: number, limit: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const d = (b[at + i] as number) - (limit[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

function isZero32(b: Uint8Array, at: number): boolean {
  for (let i = 0; i < 32; i++) if (b[at + i] !== 0) return false;
  return true;
}

/** True when a 64-byte P1363 signature has r, s in range and a low S. */
export function isCanonicalSignature(signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  // Byte comparisons with n and n/2 (no big integers on the hot path); high S decides most
  // refusals, so it is checked first.
  return compare32(signature, 32, HALF_N_BYTES) <= 0 && !isZero32(signature, 32) && !isZero32(signature, 0) && compare32(signature, 0, N_BYTES) < 0;
}

let verifyCount = 0;

/**
 * Verifies a low-S P1363 signature: the one verify function of the hot path.
 * Returns false (never throws) for a wrong signature, a DER or high-S encoding, or a bad key.
 * @param publicKey 33-byte compressed P-256 key
 * @param message the signed bytes
 * @param signature 64-byte P1363 signature
 */
export function verifyP256(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  verifyCount++;
  if (!isCanonicalSignature(signature)) return false;
  let key: KeyObject;
  try {
    key = publicKeyObject(publicKey);
  } catch {
    return false;
  }
  return nodeVerify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature);
}

/** How many times {@link verifyP256} ran in this thread (the bench checks the design's count). */
export function verifyCallCount(): number {
  return verifyCount;
}

/** A signer over a node:crypto private key. */
export function createSigner(privateKey: KeyObject): Signer {
  const jwk = privateKey.export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || jwk.x === undefined || jwk.y === undefined) throw new SilkError('INVALID_ARGUMENT', 'expected a P-256 private key');
  const uncompressed = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  const publicKey = compressPoint(uncompressed);
  return { publicKey, sign: (message) => signP256(privateKey, message) };
}

/**
 * A node:crypto private key of a P-256 scalar (32 bytes, 1 … n−1).
 * @throws SilkError INVALID_ARGUMENT when the scalar is not a P-256 private key
 * @example const key = privateKeyObjectOfScalar(seedScalar)
 */
export function privateKeyObjectOfScalar(scalar: Uint8Array): KeyObject {
  let point: Buffer;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(scalar);
    point = ecdh.getPublicKey();
  } catch (cause) {
    throw new SilkError('INVALID_ARGUMENT', 'not a P-256 private key (the scalar must be 32 bytes in 1..n−1)', {}, { cause });
  }
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
  return createPrivateKey({ key: { kty: 'EC', crv: 'P-256', d: b64(scalar), x: b64(point.subarray(1, 33)), y: b64(point.subarray(33, 65)) }, format: 'jwk' });
}

/**
 * A fresh random P-256 private key. It is made from a random scalar rather than with
 * `generateKeyPairSync`: on Node 20 a key pair generated that way shares its lock with the
 * generation job, and exporting the key (JWK, PEM) while a garbage collection destroys that job
 * deadlocks the thread (seen once in the test suite, the process stuck for good).
 */
export function generatePrivateKey(): KeyObject {
  for (;;) {
    const scalar = randomBytes(32);
    const d = bytesToBigInt(scalar);
    if (d > 0n && d < P256_N) return privateKeyObjectOfScalar(scalar);
  }
}

/** A fresh random P-256 signer. */
export function generateSigner(): Signer {
  return createSigner(generatePrivateKey());
}

/** Exports a signer's private key as PKCS#8 PEM (for key files written to a data folder). */
export function generatePrivateKeyPem(): string {
  return generatePrivateKey().export({ format: 'pem', type: 'pkcs8' }).toString();
}

/**
 * A signer from a PKCS#8 PEM private key.
 * @throws SilkError INVALID_ARGUMENT when the PEM is not a P-256 private key
 */
export function signerFromPem(pem: string): Signer {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (cause) {
    throw new SilkError('INVALID_ARGUMENT', 'not a PEM private key', {}, { cause });
  }
  return createSigner(key);
}
