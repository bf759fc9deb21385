/**
 * SLIP-0010 key derivation for NIST P-256 (paper §3.3 eq. 5–8, made safe).
 *
 * The master key and chain code come from HMAC-SHA512 keyed "Nist256p1 seed" over the BIP39 seed,
 * retried while the key is invalid; children by SLIP-0010's CKDpriv with its retry rule. Everything
 * runs on node:crypto (OpenSSL): HMAC-SHA512, the point multiplication k·G (ECDH, more than ten
 * times faster than `@noble/curves` here, docs/keys.md) and signing; the scalar
 * addition mod n is a bigint sum. `@noble/curves` is the independent oracle of the tests.
 *
 * Silkledger derives only hardened children below the master: a non-hardened child private key
 * together with its parent's public key and chain code gives away the parent private key (see the
 * attack test in slip10.test.ts and docs/keys.md). Non-hardened derivation is reachable only with
 * `allowNonHardened`, for the SLIP-0010 vectors and that test. Nothing here serialises an extended
 * public key; the only function that hands out a chain code is {@link masterSecret}, for escrow.
 */
import { createECDH, createHash, createHmac, createPrivateKey, ECDH } from 'node:crypto';
import { SilkError } from '../errors.js';
import { toHex } from '../crypto/hash.js';
import { createSigner, P256_N, type Signer } from '../crypto/p256.js';

/**
 * A private extended key: a P-256 private key with its chain code and its place in the tree.
 * It lives in memory only; `JSON.stringify` and `console.log` of it show neither the private
 * key nor the chain code.
 */
export interface ExtendedKey {
  /** 32-byte big-endian scalar in [1, n−1]. */
  readonly privateKey: Uint8Array;
  /** 32-byte chain code: with the public key it would let anyone derive non-hardened children. */
  readonly chainCode: Uint8Array;
  /** 33-byte compressed SEC1 public key. */
  readonly publicKey: Uint8Array;
  /** 0 for the master. */
  readonly depth: number;
  /** BIP32 child number (≥ {@link HARDENED} for hardened children); 0 for the master. */
  readonly index: number;
  /** First 4 bytes of HASH160 of the parent's public key, as an unsigned integer; 0 for the master. */
  readonly parentFingerprint: number;
}

/** The first hardened child index, 2^31. */
export const HARDENED = 0x80000000;

const MASTER_HMAC_KEY = Buffer.from('Nist256p1 seed', 'utf8');
const MAX_INDEX = 0xffffffff;
const MAX_DEPTH = 255;
const MIN_SEED_BYTES = 16;
const MAX_SEED_BYTES = 64;
const SECRET_BYTES = 64;

function hmacSha512(key: Uint8Array, ...data: Uint8Array[]): Uint8Array {
  const h = createHmac('sha512', key);
  for (const d of data) h.update(d);
  return new Uint8Array(h.digest());
}

function parse256(b: Uint8Array): bigint {
  return BigInt(`0x${toHex(b)}`);
}

function ser256(v: bigint): Uint8Array {
  return new Uint8Array(Buffer.from(v.toString(16).padStart(64, '0'), 'hex'));
}

function ser32(i: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, i, false);
  return b;
}

/** First 4 bytes of RIPEMD160(SHA256(publicKey)), BIP32's key identifier, as an unsigned integer. */
function fingerprint(publicKey: Uint8Array): number {
  const id = createHash('ripemd160').update(createHash('sha256').update(publicKey).digest()).digest();
  return id.readUInt32BE(0);
}

/** point(k) as a 33-byte compressed SEC1 point, on OpenSSL. A fresh ECDH object keeps no key behind. */
function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(privateKey);
  return new Uint8Array(ecdh.getPublicKey(null, 'compressed'));
}

/**
 * A compressed P-256 point as 65 uncompressed bytes (0x04 ‖ x ‖ y), on OpenSSL.
 * @throws SilkError INVALID_ARGUMENT when the bytes are not a point on P-256
 * @example const raw = uncompressedPoint(key.publicKey); // what HPKE DHKEM(P-256) imports as 'raw'
 */
export function uncompressedPoint(publicKey: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(ECDH.convertKey(publicKey, 'prime256v1', undefined, undefined, 'uncompressed') as Buffer);
  } catch (cause) {
    throw new SilkError('INVALID_ARGUMENT', 'public key is not a point on P-256', {}, { cause });
  }
}

function validScalar(k: bigint): boolean {
  return k > 0n && k < P256_N;
}

const HIDDEN = '[hidden]';

/** Builds a frozen ExtendedKey whose JSON and inspect forms leave out the secrets. */
function makeKey(privateKey: Uint8Array, chainCode: Uint8Array, depth: number, index: number, parentFingerprint: number): ExtendedKey {
  const publicKey = publicKeyOf(privateKey);
  const key = { privateKey, chainCode, publicKey, depth, index, parentFingerprint };
  const visible = (): Record<string, unknown> => ({ publicKey: toHex(publicKey), depth, index, parentFingerprint, privateKey: HIDDEN, chainCode: HIDDEN });
  Object.defineProperty(key, 'toJSON', { value: visible, enumerable: false });
  Object.defineProperty(key, Symbol.for('nodejs.util.inspect.custom'), { value: visible, enumerable: false });
  return Object.freeze(key);
}

function checkBytes(name: string, value: unknown, min: number, max = min): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new SilkError('INVALID_ARGUMENT', `${name} must be a Uint8Array`);
  if (value.length < min || value.length > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    throw new SilkError('INVALID_ARGUMENT', `${name} must be ${want} bytes, got ${value.length}`);
  }
  return value;
}

function checkExtendedKey(key: unknown): ExtendedKey {
  const k = key as Partial<ExtendedKey> | null;
  if (typeof k !== 'object' || k === null) throw new SilkError('INVALID_ARGUMENT', 'expected an ExtendedKey');
  checkBytes('an extended key\'s private key', k.privateKey, 32);
  checkBytes('an extended key\'s chain code', k.chainCode, 32);
  checkBytes('an extended key\'s public key', k.publicKey, 33);
  if (!Number.isSafeInteger(k.depth) || (k.depth as number) < 0 || (k.depth as number) > MAX_DEPTH) throw new SilkError('INVALID_ARGUMENT', 'an extended key\'s depth must be an integer from 0 to 255');
  return k as ExtendedKey;
}

/**
 * The master key of a seed by SLIP-0010 for NIST P-256 (eq. 5): I = HMAC-SHA512("Nist256p1 seed", S);
 * private key I_L, chain code I_R; while I_L is 0 or ≥ n, S := I and again.
 * @param seed 16 to 64 bytes, normally the 64-byte BIP39 seed of {@link mnemonicToSeed}
 * @returns the master extended key (depth 0)
 * @throws SilkError INVALID_ARGUMENT when the seed is not 16 to 64 bytes
 * @example const master = masterKeyFromSeed(mnemonicToSeed(phrase));
 */
export function masterKeyFromSeed(seed: Uint8Array): ExtendedKey {
  let data: Uint8Array = checkBytes('a seed', seed, MIN_SEED_BYTES, MAX_SEED_BYTES);
  for (;;) {
    const i = hmacSha512(MASTER_HMAC_KEY, data);
    if (validScalar(parse256(i.subarray(0, 32)))) return makeKey(i.slice(0, 32), i.slice(32), 0, 0, 0);
    data = i;
  }
}

/**
 * One child of a private extended key by SLIP-0010 CKDpriv, with its retry rule (when I_L ≥ n or
 * the child key would be 0, I = HMAC-SHA512(c_par, 0x01 ‖ I_R ‖ ser32(i)) and again).
 * @param parent the parent extended key
 * @param index child number; must be ≥ {@link HARDENED} (hardened) unless `allowNonHardened`
 * @param options `allowNonHardened` only for the SLIP-0010 vectors and the parent-key recovery test
 * @returns the child extended key
 * @throws SilkError INVALID_ARGUMENT for a non-hardened index without `allowNonHardened`, an index
 *   outside [0, 2^32−1], a malformed parent, or a parent already at depth 255
 * @example const admin = deriveChild(deriveChild(master, HARDENED + 7777), HARDENED);
 */
export function deriveChild(parent: ExtendedKey, index: number, options: { allowNonHardened?: boolean } = {}): ExtendedKey {
  checkExtendedKey(parent);
  if (!Number.isSafeInteger(index) || index < 0 || index > MAX_INDEX) throw new SilkError('INVALID_ARGUMENT', `a child index must be an integer from 0 to 2^32−1, got ${String(index)}`);
  const hardened = index >= HARDENED;
  if (!hardened && options.allowNonHardened !== true) {
    throw new SilkError('INVALID_ARGUMENT', `non-hardened child ${index} refused: every key below the master is hardened (use ${index}' or index + HARDENED)`);
  }
  if (parent.depth >= MAX_DEPTH) throw new SilkError('INVALID_ARGUMENT', 'an extended key cannot be deeper than 255 levels');
  const kPar = parse256(parent.privateKey);
  const i32 = ser32(index);
  let i = hardened
    ? hmacSha512(parent.chainCode, new Uint8Array([0]), parent.privateKey, i32)
    : hmacSha512(parent.chainCode, parent.publicKey, i32);
  for (;;) {
    const il = parse256(i.subarray(0, 32));
    const k = (il + kPar) % P256_N;
    if (il < P256_N && k !== 0n) return makeKey(ser256(k), i.slice(32), parent.depth + 1, index, fingerprint(parent.publicKey));
    i = hmacSha512(parent.chainCode, new Uint8Array([1]), i.subarray(32), i32);
  }
}

const PATH_SYNTAX = /^m(?:\/(?:0|[1-9][0-9]{0,9})['h]?)*$/;

/**
 * Parses a derivation path into child numbers.
 * @throws SilkError INVALID_ARGUMENT for bad syntax or an index ≥ 2^31 before the hardened mark
 */
function parsePath(path: string): number[] {
  if (typeof path !== 'string' || !PATH_SYNTAX.test(path)) {
    throw new SilkError('INVALID_ARGUMENT', `bad derivation path ${JSON.stringify(path)}: expected m/<n>'/<n>'/… with decimal indexes and ' or h marking hardened steps`);
  }
  const steps = path.split('/').slice(1);
  if (steps.length > MAX_DEPTH) throw new SilkError('INVALID_ARGUMENT', 'a derivation path has at most 255 steps');
  return steps.map((step) => {
    const hardened = step.endsWith("'") || step.endsWith('h');
    const n = Number(hardened ? step.slice(0, -1) : step);
    if (n >= HARDENED) throw new SilkError('INVALID_ARGUMENT', `path step ${step} is out of range: an index is below 2^31 (mark it ' to harden it)`);
    return hardened ? n + HARDENED : n;
  });
}

/**
 * The key at a path below a master key, every step hardened unless `allowNonHardened`.
 * @param master a master key (depth 0): `m` in the path stands for it
 * @param path e.g. "m/7777'/0'/3'/2'/0'"; ' or h marks a hardened step
 * @param options `allowNonHardened` only for the SLIP-0010 vectors and tests
 * @returns the extended key at the path (`master` itself for "m")
 * @throws SilkError INVALID_ARGUMENT for bad syntax, an out-of-range index, a non-hardened step
 *   without `allowNonHardened`, or a `master` that is not at depth 0
 * @example const key = derivePath(master, "m/7777'/0'/1'/3'/0'");
 */
export function derivePath(master: ExtendedKey, path: string, options: { allowNonHardened?: boolean } = {}): ExtendedKey {
  checkExtendedKey(master);
  const indexes = parsePath(path);
  if (master.depth !== 0) throw new SilkError('INVALID_ARGUMENT', `derivePath starts at a master key (depth 0), got a key at depth ${master.depth}`);
  const soft = indexes.find((i) => i < HARDENED);
  if (soft !== undefined && options.allowNonHardened !== true) {
    throw new SilkError('INVALID_ARGUMENT', `path ${path} has a non-hardened step ${soft}: every key below the master is hardened`);
  }
  return indexes.reduce((key, i) => deriveChild(key, i, options), master);
}

/**
 * Rebuilds a master key from its escrowed secret (what key recall restores, eq. 9–10).
 * @param secret 64 bytes: private key ‖ chain code, as {@link masterSecret} returns
 * @returns the master extended key
 * @throws SilkError INVALID_ARGUMENT when the secret is not 64 bytes or its private key is not in [1, n−1]
 * @example const master = masterKeyFromSecret(recovered);
 */
export function masterKeyFromSecret(secret: Uint8Array): ExtendedKey {
  checkBytes('a master secret', secret, SECRET_BYTES);
  const privateKey = secret.slice(0, 32);
  if (!validScalar(parse256(privateKey))) throw new SilkError('INVALID_ARGUMENT', 'a master secret\'s private key must be in [1, n−1] of P-256');
  return makeKey(privateKey, secret.slice(32), 0, 0, 0);
}

/**
 * The 64-byte escrow form of a master key: private key ‖ chain code. The one place a chain code
 * leaves an ExtendedKey; it is sealed at once (docs/recall.md) and never stored in the clear.
 * @param master a master key (depth 0)
 * @returns a fresh 64-byte array
 * @throws SilkError INVALID_ARGUMENT for a key below the master: only the master is escrowed
 * @example const secret = masterSecret(master); // seal it, then secret.fill(0)
 */
export function masterSecret(master: ExtendedKey): Uint8Array {
  checkExtendedKey(master);
  if (master.depth !== 0) throw new SilkError('INVALID_ARGUMENT', 'only a master key (depth 0) is escrowed; a child key\'s chain code never leaves the process');
  const out = new Uint8Array(SECRET_BYTES);
  out.set(master.privateKey, 0);
  out.set(master.chainCode, 32);
  return out;
}

/**
 * A signer over an extended key's private key: imported into node:crypto once (as a JWK),
 * signing low-S IEEE P1363 like every Silkledger signer.
 * @param key any extended key
 * @returns a Signer whose publicKey is `key.publicKey`
 * @throws SilkError INVALID_ARGUMENT for a malformed key
 * @example const signer = signerFromExtendedKey(deriveSigningKey(master, role));
 */
export function signerFromExtendedKey(key: ExtendedKey): Signer {
  checkExtendedKey(key);
  const point = uncompressedPoint(key.publicKey);
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
  const keyObject = createPrivateKey({
    key: { kty: 'EC', crv: 'P-256', d: b64(key.privateKey), x: b64(point.subarray(1, 33)), y: b64(point.subarray(33)) },
    format: 'jwk',
  });
  return createSigner(keyObject);
}
