/**
 * Keystore files: the only form in which Silkledger keeps a secret key at rest.
 *
 * A keystore is a small JSON file. Its secret (a BIP39 mnemonic, or a 32-byte P-256 private
 * scalar) is sealed with AES-256-GCM under a key stretched from a password by scrypt; every
 * other field of the file (the header) is the AAD, so changing the public key, the path or the
 * scrypt parameters makes decryption fail. scrypt parameters are capped on read, so a hostile
 * file cannot make us allocate gigabytes. Files are written atomically with mode 0600 and never
 * replace an existing file unless asked to. Format and threat model: docs/keystores.md.
 */
import { createCipheriv, createDecipheriv, createECDH, randomBytes, scrypt as scryptCallback, type ScryptOptions } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, linkSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SilkError } from '../errors.js';
import { bytesEqual, fromHex, toHex } from '../crypto/hash.js';
import { mnemonicToSeed, validateMnemonic } from './mnemonic.js';
import { masterKeyFromSeed } from './slip10.js';

/** Format version of keystore files this build writes and reads. */
export const KEYSTORE_VERSION = 1;

/** scrypt cost of keystores written by the CLI: 128 MiB and about half a second per unlock. */
export const DEFAULT_KEYSTORE_SCRYPT: ScryptParameters = { N: 2 ** 17, r: 8, p: 1 };

/**
 * Largest scrypt parameters a keystore may ask for. `memoryBytes` bounds 128·N·r, the buffer
 * scrypt allocates: N = 2^20 with r = 16 would be 2 GiB, so the memory cap bites first.
 */
export const KEYSTORE_SCRYPT_CAPS = { N: 2 ** 20, r: 16, p: 4, memoryBytes: 2 ** 30 } as const;

/** Largest keystore file read (a real one is under 1 KiB). */
const MAX_FILE_BYTES = 64 * 1024;
const SALT_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const MAX_MNEMONIC_BYTES = 1024;
const MAX_PASSWORD_CHARS = 1024;
const PATH_PATTERN = /^m(\/\d{1,10}')*$/;
const FIELDS = ['v', 'kind', 'kdf', 'N', 'r', 'p', 'salt', 'nonce', 'ct', 'pubkey', 'path', 'created'] as const;

/** scrypt's cost parameters: N (CPU/memory cost, a power of two), r (block size), p (parallelism). */
export interface ScryptParameters {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** What a keystore holds: a whole key tree (its mnemonic) or one private key. */
export type KeystoreKind = 'mnemonic' | 'private-key';

/**
 * A secret to seal in a keystore.
 * - `mnemonic`: the BIP39 words; `pubkey` is the tree's master public key (SLIP-0010 from the
 *   seed with an empty BIP39 passphrase) and `path` is null.
 * - `private-key`: a 32-byte P-256 scalar; `pubkey` is its public key and `path` the hardened
 *   derivation path it came from (null for a key from elsewhere).
 */
export type KeystoreSecret =
  | { readonly kind: 'mnemonic'; readonly mnemonic: string; readonly pubkey: Uint8Array; readonly path: string | null }
  | { readonly kind: 'private-key'; readonly bytes: Uint8Array; readonly pubkey: Uint8Array; readonly path: string | null };

/** A keystore's header: every field of the file but the ciphertext. Public; not authenticated until unlocked. */
export interface KeystoreHeader extends ScryptParameters {
  readonly v: number;
  readonly kind: KeystoreKind;
  readonly kdf: 'scrypt';
  /** Hex. */
  readonly salt: string;
  /** Hex, 12 bytes. */
  readonly nonce: string;
  /** Hex, 33-byte compressed P-256 point. */
  readonly pubkey: string;
  readonly path: string | null;
  /** ISO 8601 time of writing. */
  readonly created: string;
}

/** The contents of an unlocked keystore. */
export type UnlockedKeystore =
  | { readonly kind: 'mnemonic'; readonly secret: string; readonly pubkey: Uint8Array; readonly path: string | null; readonly header: KeystoreHeader }
  | { readonly kind: 'private-key'; readonly secret: Uint8Array; readonly pubkey: Uint8Array; readonly path: string | null; readonly header: KeystoreHeader };

/** Options of {@link writeKeystore}. */
export interface WriteKeystoreOptions {
  /** scrypt cost; {@link DEFAULT_KEYSTORE_SCRYPT} by default. Small values are for tests only. */
  readonly scrypt?: ScryptParameters;
  /** Replace an existing file (atomically). Default false: an existing file is an error and stays as it was. */
  readonly force?: boolean;
  /** Time recorded in the header; now by default. */
  readonly created?: Date;
}

/** Why a keystore operation failed, in `SilkError.details.reason`. */
export type KeystoreFailure = 'wrong-password' | 'malformed' | 'scrypt-cap' | 'version' | 'exists' | 'unreadable' | 'invalid-secret';

function keystoreError(reason: KeystoreFailure, file: string, message: string, cause?: unknown): SilkError {
  return new SilkError('INVALID_ARGUMENT', message, { path: file, reason }, cause === undefined ? undefined : { cause });
}

/** True when `e` is a keystore failure (optionally of the given reason). */
export function isKeystoreError(e: unknown, reason?: KeystoreFailure): e is SilkError {
  if (!(e instanceof SilkError) || typeof e.details.reason !== 'string') return false;
  return reason === undefined || e.details.reason === reason;
}

/**
 * Checks scrypt parameters against the caps before anything is allocated.
 * @throws SilkError INVALID_ARGUMENT (reason `scrypt-cap`) naming the parameter above its cap,
 *   or (reason `malformed`) when a parameter is not a positive integer or N not a power of two
 */
export function checkScryptParameters(params: ScryptParameters, file = '(options)'): void {
  const { N, r, p } = params;
  for (const [name, value] of [['N', N], ['r', r], ['p', p]] as const) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw keystoreError('malformed', file, `${file}: scrypt ${name} must be a positive integer, got ${String(value)}`);
  }
  if (N > KEYSTORE_SCRYPT_CAPS.N) throw keystoreError('scrypt-cap', file, `${file}: refusing scrypt N=${N} above the cap ${KEYSTORE_SCRYPT_CAPS.N}`);
  if (N < 2 || (N & (N - 1)) !== 0) throw keystoreError('malformed', file, `${file}: scrypt N must be a power of two ≥ 2, got ${N}`);
  if (r > KEYSTORE_SCRYPT_CAPS.r) throw keystoreError('scrypt-cap', file, `${file}: refusing scrypt r=${r} above the cap ${KEYSTORE_SCRYPT_CAPS.r}`);
  if (p > KEYSTORE_SCRYPT_CAPS.p) throw keystoreError('scrypt-cap', file, `${file}: refusing scrypt p=${p} above the cap ${KEYSTORE_SCRYPT_CAPS.p}`);
  const memory = 128 * N * r;
  if (memory > KEYSTORE_SCRYPT_CAPS.memoryBytes) {
    throw keystoreError('scrypt-cap', file, `${file}: refusing scrypt N=${N}, r=${r}: it needs ${memory / 2 ** 20} MiB, above the cap ${KEYSTORE_SCRYPT_CAPS.memoryBytes / 2 ** 20} MiB`);
  }
}

function normalisePassword(password: string): Buffer {
  if (typeof password !== 'string') throw new TypeError('a password must be a string');
  const normal = password.normalize('NFKC');
  if (normal.length === 0) throw new SilkError('INVALID_ARGUMENT', 'refusing an empty password', { reason: 'invalid-secret' });
  if (normal.length > MAX_PASSWORD_CHARS) throw new SilkError('INVALID_ARGUMENT', `a password may have at most ${MAX_PASSWORD_CHARS} characters`, { reason: 'invalid-secret' });
  return Buffer.from(normal, 'utf8');
}

/** scrypt on the thread pool, with `maxmem` just above what these parameters need. */
function stretch(password: Buffer, salt: Uint8Array, params: ScryptParameters): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 128 * params.N * params.r + 128 * params.r * params.p + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, 32, options, (err, key) => {
      if (err === null) resolve(key);
      else reject(err);
    });
  });
}

/** The AAD: the header as JSON with its keys in sorted order and no whitespace. */
function headerAad(header: KeystoreHeader): Buffer {
  const entries = Object.entries(header).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(Object.fromEntries(entries)), 'utf8');
}

/**
 * The compressed public key of a P-256 private scalar.
 * @throws SilkError INVALID_ARGUMENT when the bytes are not a scalar in 1..n−1
 */
export function publicKeyOfScalar(privateKey: Uint8Array): Uint8Array {
  if (privateKey.length !== 32) throw new SilkError('INVALID_ARGUMENT', 'a P-256 private key is 32 bytes');
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(privateKey);
    return new Uint8Array(ecdh.getPublicKey(null, 'compressed'));
  } catch (cause) {
    throw new SilkError('INVALID_ARGUMENT', 'not a P-256 private key (the scalar must be in 1..n−1)', {}, { cause });
  }
}

function masterPublicKeyOf(mnemonic: string): Uint8Array {
  return masterKeyFromSeed(mnemonicToSeed(mnemonic)).publicKey;
}

/** The plaintext of a secret, after checking that its public key matches it. */
function plaintextOf(secret: KeystoreSecret, file: string): Buffer {
  if (secret.path !== null && !PATH_PATTERN.test(secret.path)) throw keystoreError('invalid-secret', file, `'${secret.path}' is not a hardened derivation path like m/7777'/0'`);
  if (secret.kind === 'mnemonic') {
    const words = secret.mnemonic.normalize('NFKD').trim().split(/\s+/).join(' ');
    validateMnemonic(words);
    if (!bytesEqual(masterPublicKeyOf(words), secret.pubkey)) throw keystoreError('invalid-secret', file, 'the public key given is not the master public key of this mnemonic');
    const bytes = Buffer.from(words, 'utf8');
    if (bytes.length > MAX_MNEMONIC_BYTES) throw keystoreError('invalid-secret', file, 'mnemonic too long');
    return bytes;
  }
  const kind: unknown = secret.kind;
  if (kind !== 'private-key') throw keystoreError('invalid-secret', file, `unknown keystore kind '${String(kind)}'`);
  if (!bytesEqual(publicKeyOfScalar(secret.bytes), secret.pubkey)) throw keystoreError('invalid-secret', file, 'the public key given does not belong to this private key');
  return Buffer.from(secret.bytes);
}

/** fsync of a directory, so a rename in it survives a crash (a no-op where directories cannot be opened). */
function syncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) refuse fsync on a directory; the rename is still atomic.
  } finally {
    closeSync(fd);
  }
}

function existsError(file: string): SilkError {
  return keystoreError('exists', file, `${file} already exists; it was left as it was (pass force to replace it)`);
}

/**
 * Writes `contents` to `file` atomically: a temporary file in the same folder (mode 0600),
 * fsync, then a hard link (refuses an existing file, even one created meanwhile) or a rename
 * (with `force`), then fsync of the folder.
 */
function writeAtomically(file: string, contents: string, force: boolean): void {
  const dir = dirname(file);
  const temp = join(dir, `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    try {
      writeSync(fd, contents);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (force) {
      renameSync(temp, file);
    } else {
      try {
        linkSync(temp, file);
      } catch (e) {
        if ((e as { code?: string }).code === 'EEXIST') throw existsError(file);
        throw e;
      }
    }
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // Renamed away, or already gone.
    }
  }
  syncDirectory(dir);
}

function fileExists(file: string): boolean {
  try {
    closeSync(openSync(file, 'r'));
    return true;
  } catch (e) {
    return (e as { code?: string }).code !== 'ENOENT';
  }
}

/**
 * Seals a secret under a password and writes it as a keystore file.
 * @param file where to write; its folder must exist
 * @param secret the mnemonic or private key, with its public key and derivation path (checked against the secret)
 * @param password the password (NFKC-normalised; empty refused)
 * @param options scrypt cost, `force` to replace an existing file, the creation time
 * @returns the header written
 * @throws SilkError INVALID_ARGUMENT: reason `exists` when the file exists and `force` is not set
 *   (nothing is written), `invalid-secret` when the secret, its public key or path do not fit,
 *   `scrypt-cap`/`malformed` for parameters out of range
 * @example await writeKeystore('alice.key.json', { kind: 'private-key', bytes, pubkey, path: "m/7777'/0'/1'/3'/0'" }, 'correct horse')
 */
export async function writeKeystore(file: string, secret: KeystoreSecret, password: string, options: WriteKeystoreOptions = {}): Promise<KeystoreHeader> {
  const params = options.scrypt ?? DEFAULT_KEYSTORE_SCRYPT;
  checkScryptParameters(params);
  const force = options.force === true;
  const passwordBytes = normalisePassword(password);
  const plaintext = plaintextOf(secret, file);
  // Fail before spending half a second on scrypt; the link below still refuses a file created meanwhile.
  if (!force && fileExists(file)) throw existsError(file);
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const header: KeystoreHeader = {
    v: KEYSTORE_VERSION,
    kind: secret.kind,
    kdf: 'scrypt',
    N: params.N,
    r: params.r,
    p: params.p,
    salt: toHex(salt),
    nonce: toHex(nonce),
    pubkey: toHex(secret.pubkey),
    path: secret.path,
    created: (options.created ?? new Date()).toISOString(),
  };
  const key = await stretch(passwordBytes, salt, params);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(headerAad(header));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  key.fill(0);
  plaintext.fill(0);
  passwordBytes.fill(0);
  const body = { v: header.v, kind: header.kind, kdf: header.kdf, N: header.N, r: header.r, p: header.p, salt: header.salt, nonce: header.nonce, ct: ct.toString('hex'), pubkey: header.pubkey, path: header.path, created: header.created };
  writeAtomically(file, `${JSON.stringify(body, null, 2)}\n`, force);
  return header;
}

/** Reads at most MAX_FILE_BYTES of a file; refuses anything larger without reading it. */
function readBounded(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw keystoreError('unreadable', file, `cannot read keystore ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`, e);
  }
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_FILE_BYTES) throw keystoreError('malformed', file, `${file} is not a keystore: ${size} bytes, a keystore is under ${MAX_FILE_BYTES}`);
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function hexField(m: Record<string, unknown>, name: string, file: string, min: number, max: number): string {
  const v = m[name];
  if (typeof v !== 'string' || !/^[0-9a-f]*$/.test(v) || v.length % 2 !== 0 || v.length / 2 < min || v.length / 2 > max) {
    const size = min === max ? `${min} bytes` : `${min}..${max} bytes`;
    throw keystoreError('malformed', file, `${file}: field '${name}' must be lower-case hex of ${size}`);
  }
  return v;
}

function intField(m: Record<string, unknown>, name: string, file: string): number {
  const v = m[name];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw keystoreError('malformed', file, `${file}: field '${name}' must be an integer`);
  return v;
}

/** Parses and checks a keystore file's JSON; the ciphertext comes back apart from the header. */
function parseKeystore(text: string, file: string): { header: KeystoreHeader; ct: Buffer } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw keystoreError('malformed', file, `${file} is not a keystore: not valid JSON (truncated or damaged?)`, cause);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw keystoreError('malformed', file, `${file} is not a keystore: expected a JSON object`);
  const m = raw as Record<string, unknown>;
  if (m.v !== KEYSTORE_VERSION) throw keystoreError('version', file, `${file}: unsupported keystore version ${m.v === undefined ? 'missing' : JSON.stringify(m.v)} (this build reads version ${KEYSTORE_VERSION})`);
  for (const k of Object.keys(m)) if (!(FIELDS as readonly string[]).includes(k)) throw keystoreError('malformed', file, `${file}: unknown field '${k}'`);
  for (const k of FIELDS) if (!(k in m)) throw keystoreError('malformed', file, `${file}: missing field '${k}'`);
  if (m.kind !== 'mnemonic' && m.kind !== 'private-key') throw keystoreError('malformed', file, `${file}: unknown kind ${JSON.stringify(m.kind)}`);
  if (m.kdf !== 'scrypt') throw keystoreError('malformed', file, `${file}: unsupported kdf ${JSON.stringify(m.kdf)} (only scrypt)`);
  const params = { N: intField(m, 'N', file), r: intField(m, 'r', file), p: intField(m, 'p', file) };
  checkScryptParameters(params, file);
  if (m.path !== null && (typeof m.path !== 'string' || m.path.length > 128 || !PATH_PATTERN.test(m.path))) throw keystoreError('malformed', file, `${file}: field 'path' must be null or a hardened path like m/7777'/0'`);
  if (typeof m.created !== 'string' || m.created.length > 64) throw keystoreError('malformed', file, `${file}: field 'created' must be an ISO 8601 time`);
  const secretMax = m.kind === 'mnemonic' ? MAX_MNEMONIC_BYTES : 32;
  const secretMin = m.kind === 'mnemonic' ? 1 : 32;
  const ctHex = hexField(m, 'ct', file, secretMin + TAG_BYTES, secretMax + TAG_BYTES);
  const header: KeystoreHeader = {
    v: KEYSTORE_VERSION,
    kind: m.kind,
    kdf: 'scrypt',
    ...params,
    salt: hexField(m, 'salt', file, 16, 64),
    nonce: hexField(m, 'nonce', file, NONCE_BYTES, NONCE_BYTES),
    pubkey: hexField(m, 'pubkey', file, 33, 33),
    path: m.path,
    created: m.created,
  };
  if (!header.pubkey.startsWith('02') && !header.pubkey.startsWith('03')) throw keystoreError('malformed', file, `${file}: field 'pubkey' must be a compressed P-256 point (02… or 03…)`);
  return { header, ct: Buffer.from(ctHex, 'hex') };
}

/**
 * Reads a keystore's header without a password. Nothing in it is authenticated until the
 * keystore is unlocked with {@link readKeystore}.
 * @param file the keystore file
 * @returns kind, public key, path, scrypt parameters, creation time
 * @throws SilkError INVALID_ARGUMENT: reason `unreadable`, `malformed` (truncated, not JSON, a
 *   field of the wrong type or size), `version`, `scrypt-cap`
 * @example const { kind, pubkey } = keystoreInfo('org.mnemonic.json')
 */
export function keystoreInfo(file: string): KeystoreHeader {
  return parseKeystore(readBounded(file), file).header;
}

/**
 * Unlocks a keystore.
 * @param file the keystore file
 * @param password its password
 * @returns the secret (the mnemonic, or the 32-byte private key), its public key and path, and the header
 * @throws SilkError INVALID_ARGUMENT: reason `wrong-password` ("wrong password or altered
 *   file": AES-GCM cannot tell a wrong key from an altered header or ciphertext), and those of
 *   {@link keystoreInfo}
 * @example const ks = await readKeystore('alice.key.json', process.env.SILK_KEYSTORE_PASSWORD ?? '')
 */
export async function readKeystore(file: string, password: string): Promise<UnlockedKeystore> {
  const { header, ct } = parseKeystore(readBounded(file), file);
  const passwordBytes = normalisePassword(password);
  const key = await stretch(passwordBytes, fromHex(header.salt), header);
  passwordBytes.fill(0);
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, fromHex(header.nonce), { authTagLength: TAG_BYTES });
    decipher.setAAD(headerAad(header));
    decipher.setAuthTag(ct.subarray(ct.length - TAG_BYTES));
    plaintext = Buffer.concat([decipher.update(ct.subarray(0, ct.length - TAG_BYTES)), decipher.final()]);
  } catch (cause) {
    throw keystoreError('wrong-password', file, `cannot unlock ${file}: wrong password or altered file (AES-GCM cannot tell the two apart)`, cause);
  } finally {
    key.fill(0);
  }
  const pubkey = fromHex(header.pubkey);
  try {
    if (header.kind === 'mnemonic') {
      const mnemonic = plaintext.toString('utf8');
      validateMnemonic(mnemonic);
      if (!bytesEqual(masterPublicKeyOf(mnemonic), pubkey)) throw new Error('master public key differs');
      return { kind: 'mnemonic', secret: mnemonic, pubkey, path: header.path, header };
    }
    const secret = new Uint8Array(plaintext);
    if (!bytesEqual(publicKeyOfScalar(secret), pubkey)) throw new Error('public key differs');
    return { kind: 'private-key', secret, pubkey, path: header.path, header };
  } catch (cause) {
    throw keystoreError('invalid-secret', file, `${file} decrypts, but its secret does not match its public key: it was written by faulty software`, cause);
  } finally {
    plaintext.fill(0);
  }
}
