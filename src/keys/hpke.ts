/**
 * HPKE (RFC 9180) in base mode with one suite: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256,
 * AES-256-GCM, on `@hpke/core`. A thin layer: it fixes the suite, moves keys as bytes, and
 * turns the library's errors into one {@link HpkeOpenFailure}.
 *
 * Public keys are accepted compressed (33 bytes, how Silkledger stores them) or uncompressed
 * (65 bytes, RFC 9180's SerializePublicKey form). The encapsulated key `enc` is always the 65-byte
 * uncompressed point `r·G` the RFC defines.
 */
import type { webcrypto } from 'node:crypto';
import { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } from '@hpke/core';
import { p256 } from '@noble/curves/nist.js';
import { SilkError } from '../errors.js';

/** The suite's name, as records store it. */
export const HPKE_SUITE = 'DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM';

const suite = new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });

/**
 * The KEM calls used here, typed with node's WebCrypto key: `@hpke/core` declares them with the
 * DOM's global `CryptoKey`, which this project's libs (ES2024 + node) do not have.
 */
export interface HpkeKem {
  deriveKeyPair(ikm: Uint8Array): Promise<{ readonly privateKey: webcrypto.CryptoKey; readonly publicKey: webcrypto.CryptoKey }>;
  serializePrivateKey(key: webcrypto.CryptoKey): Promise<ArrayBuffer>;
  serializePublicKey(key: webcrypto.CryptoKey): Promise<ArrayBuffer>;
  deserializePrivateKey(key: Uint8Array): Promise<webcrypto.CryptoKey>;
  deserializePublicKey(key: Uint8Array): Promise<webcrypto.CryptoKey>;
}

const kem = suite.kem as unknown as HpkeKem;

/** A P-256 key pair for HPKE as bytes. */
export interface HpkeKeyPair {
  /** 32-byte big-endian scalar. */
  readonly privateKey: Uint8Array;
  /** 33-byte compressed SEC1 point. */
  readonly publicKey: Uint8Array;
}

/** What {@link hpkeSeal} returns: the encapsulated key and the ciphertext (with its 16-byte tag). */
export interface SealedBox {
  /** 65-byte uncompressed ephemeral public key `r·G` (the paper's C2). */
  readonly enc: Uint8Array;
  /** AES-256-GCM ciphertext ‖ tag (the paper's C1). */
  readonly ciphertext: Uint8Array;
}

/** Context binding of one seal: `info` goes into the key schedule, `aad` into the AEAD. */
export interface HpkeBinding {
  readonly info: Uint8Array;
  readonly aad: Uint8Array;
}

/** Thrown by {@link hpkeOpen} when the box does not open: wrong key, altered box, info or aad. */
export class HpkeOpenFailure extends SilkError {
  constructor(cause: unknown) {
    super('INVALID_ARGUMENT', 'the sealed box does not open with this key (wrong key, or altered ciphertext, enc, info or aad)', { reason: 'hpke-open' }, { cause });
    this.name = 'HpkeOpenFailure';
  }
}

/**
 * The 65-byte uncompressed form of a P-256 public key.
 * @throws SilkError INVALID_ARGUMENT when the bytes are not a point on P-256
 */
export function uncompressedPoint(publicKey: Uint8Array): Uint8Array {
  try {
    return p256.Point.fromBytes(publicKey).toBytes(false);
  } catch (cause) {
    throw new SilkError('INVALID_ARGUMENT', 'not a P-256 public key (33 or 65 bytes SEC1)', {}, { cause });
  }
}

/**
 * The 33-byte compressed form of a P-256 public key.
 * @throws SilkError INVALID_ARGUMENT when the bytes are not a point on P-256
 */
export function compressedPoint(publicKey: Uint8Array): Uint8Array {
  try {
    return p256.Point.fromBytes(publicKey).toBytes(true);
  } catch (cause) {
    throw new SilkError('INVALID_ARGUMENT', 'not a P-256 public key (33 or 65 bytes SEC1)', {}, { cause });
  }
}

/**
 * RFC 9180 §7.1.3 DeriveKeyPair for DHKEM(P-256): HKDF-SHA256 extract and expand of `ikm` with a
 * counter, rejecting candidates that are 0 or ≥ n (at most 256 tries; the chance one is needed
 * is about 2^-32). Deterministic: the same `ikm` always gives the same pair.
 * @param ikm at least 32 bytes of input keying material
 * @returns the key pair
 * @throws SilkError INVALID_ARGUMENT when `ikm` is shorter than 32 bytes
 * @example const idk = await deriveHpkeKeyPair(idOfX);
 */
export async function deriveHpkeKeyPair(ikm: Uint8Array): Promise<HpkeKeyPair> {
  if (!(ikm instanceof Uint8Array) || ikm.length < 32) throw new SilkError('INVALID_ARGUMENT', 'HPKE key derivation needs at least 32 bytes of input keying material');
  const pair = await kem.deriveKeyPair(ikm);
  const privateKey = new Uint8Array(await kem.serializePrivateKey(pair.privateKey));
  const publicKey = compressedPoint(new Uint8Array(await kem.serializePublicKey(pair.publicKey)));
  return { privateKey, publicKey };
}

/**
 * Seals `plaintext` to `recipientPublicKey` (single-shot, base mode, a fresh ephemeral key).
 * @param recipientPublicKey the recipient's P-256 public key, 33 or 65 bytes
 * @param plaintext the bytes to seal
 * @param binding `info` and `aad` the recipient must present to open
 * @returns `enc` (C2) and `ciphertext` (C1)
 * @throws SilkError INVALID_ARGUMENT when the key is not a P-256 point
 * @example const box = await hpkeSeal(guardianKey, share, { info, aad });
 */
export async function hpkeSeal(recipientPublicKey: Uint8Array, plaintext: Uint8Array, binding: HpkeBinding): Promise<SealedBox> {
  const recipient = await kem.deserializePublicKey(uncompressedPoint(recipientPublicKey));
  const sealed = await suite.seal({ recipientPublicKey: recipient, info: binding.info }, plaintext, binding.aad);
  return { enc: new Uint8Array(sealed.enc), ciphertext: new Uint8Array(sealed.ct) };
}

/**
 * Opens a box sealed by {@link hpkeSeal}.
 * @param recipientPrivateKey the recipient's 32-byte P-256 scalar
 * @param box `enc` and `ciphertext`
 * @param binding the `info` and `aad` it was sealed with
 * @returns the plaintext
 * @throws HpkeOpenFailure when the box does not open (wrong key; altered enc, ciphertext, info or aad)
 * @example const share = await hpkeOpen(myKey.privateKey, box, { info, aad });
 */
export async function hpkeOpen(recipientPrivateKey: Uint8Array, box: SealedBox, binding: HpkeBinding): Promise<Uint8Array> {
  try {
    const recipientKey = await kem.deserializePrivateKey(recipientPrivateKey);
    return new Uint8Array(await suite.open({ recipientKey, enc: box.enc, info: binding.info }, box.ciphertext, binding.aad));
  } catch (cause) {
    throw new HpkeOpenFailure(cause);
  }
}
