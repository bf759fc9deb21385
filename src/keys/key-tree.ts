/**
 * Silkledger's key tree (paper §3.3 eq. 6–8): where each org's admin, function and encryption
 * keys sit below its master key. Every step is hardened.
 *
 * ```
 * m                                      master (Ik, Mcc): escrowed for key recall, never signs
 * └─ 7777'                               Silkledger purpose
 *    ├─ 0'                               org admin key: joins the chain, certifies the keys below
 *    │  └─ <function>'                   function index from the on-chain function registry
 *    │     └─ <level>'                   authority level 1..9 (higher = more authority)
 *    │        └─ <member>'               member or device number
 *    └─ 1'                               encryption branch (ECDH P-256), never signs
 *       └─ <index>'                      encryption key number
 * ```
 *
 * docs/keys.md explains the layout; test/vectors/silk-key-tree.json pins it.
 */
import { SilkError } from '../errors.js';
import { HARDENED, derivePath, uncompressedPoint, type ExtendedKey } from './slip10.js';

/** The first path step of every Silkledger key (like BIP43's purpose field). */
export const SILK_PURPOSE = 7777;
/** Branch of signing keys (the admin key and its function tree). */
const SIGNING_BRANCH = 0;
/** Branch of ECDH encryption keys. */
const ENCRYPTION_BRANCH = 1;
const MIN_LEVEL = 1;
const MAX_LEVEL = 9;

/** Where a signing key sits in the tree: which function, at what authority level, for whom. */
export interface KeyRole {
  /** Index of the function in the chain's function registry (see {@link DEFAULT_FUNCTIONS}). */
  readonly function: number;
  /** Authority level 1..9; higher means more authority. */
  readonly level: number;
  /** Member or device number within the function and level. */
  readonly member: number;
}

/**
 * The demo alliance's function registry: function name → index in the key path. The identity
 * contract registers these on each chain; a chain may add more (indexes below 2^31).
 * `admin` (0) holds delegated admin keys below the org admin key, e.g. a deputy at level 9.
 */
export const DEFAULT_FUNCTIONS: Readonly<Record<string, number>> = Object.freeze({
  admin: 0,
  sales: 1,
  finance: 2,
  logistics: 3,
  customs: 4,
  audit: 5,
  device: 6,
});

function checkIndex(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value >= HARDENED) {
    throw new SilkError('INVALID_ARGUMENT', `${name} must be an integer from 0 to 2^31−1, got ${String(value)}`);
  }
  return value;
}

function checkRole(role: unknown): KeyRole {
  if (typeof role !== 'object' || role === null) throw new SilkError('INVALID_ARGUMENT', 'a key role must be an object { function, level, member }');
  const r = role as Partial<Record<keyof KeyRole, unknown>>;
  checkIndex('a key role\'s function', r.function);
  checkIndex('a key role\'s member', r.member);
  if (typeof r.level !== 'number' || !Number.isInteger(r.level) || r.level < MIN_LEVEL || r.level > MAX_LEVEL) {
    throw new SilkError('INVALID_ARGUMENT', `a key role's level must be an integer from 1 to 9, got ${String(r.level)}`);
  }
  return role as KeyRole;
}

/**
 * The org admin key's path, `m/7777'/0'`: the key an org joins a chain with.
 * @example adminKeyPath(); // "m/7777'/0'"
 */
export function adminKeyPath(): string {
  return `m/${SILK_PURPOSE}'/${SIGNING_BRANCH}'`;
}

/**
 * The path of a function key: `m/7777'/0'/<function>'/<level>'/<member>'`.
 * @param role function index (0..2^31−1), level (1..9), member (0..2^31−1)
 * @returns the path, every step hardened
 * @throws SilkError INVALID_ARGUMENT for an out-of-range field
 * @example signingKeyPath({ function: DEFAULT_FUNCTIONS.sales!, level: 3, member: 0 }); // "m/7777'/0'/1'/3'/0'"
 */
export function signingKeyPath(role: KeyRole): string {
  const r = checkRole(role);
  return `${adminKeyPath()}/${r.function}'/${r.level}'/${r.member}'`;
}

/**
 * The path of an encryption key: `m/7777'/1'/<index>'`, a branch apart from every signing key.
 * @param index encryption key number (default 0), 0..2^31−1
 * @throws SilkError INVALID_ARGUMENT for an out-of-range index
 * @example encryptionKeyPath(); // "m/7777'/1'/0'"
 */
export function encryptionKeyPath(index = 0): string {
  return `m/${SILK_PURPOSE}'/${ENCRYPTION_BRANCH}'/${checkIndex('an encryption key index', index)}'`;
}

/**
 * Derives a function key for a role.
 * @param master the org's master key
 * @param role function, level and member
 * @returns the extended key at {@link signingKeyPath}(role); sign with `signerFromExtendedKey`
 * @throws SilkError INVALID_ARGUMENT for a bad role or a master not at depth 0
 * @example const key = deriveSigningKey(master, { function: 1, level: 3, member: 0 });
 */
export function deriveSigningKey(master: ExtendedKey, role: KeyRole): ExtendedKey {
  return derivePath(master, signingKeyPath(role));
}

/**
 * Derives an org's ECDH P-256 encryption key pair (guardian shares, the privacy model). It never
 * signs, and the chain code stays behind: only the bare key pair is returned.
 * @param master the org's master key
 * @param index encryption key number (default 0)
 * @returns `privateKey`: 32-byte scalar; `publicKey`: 65-byte uncompressed SEC1 point, the
 *   SerializePublicKey form of RFC 9180 DHKEM(P-256) (`@hpke/core` imports both as 'raw')
 * @throws SilkError INVALID_ARGUMENT for a bad index or a master not at depth 0
 * @example const { privateKey, publicKey } = deriveEncryptionKey(master);
 */
export function deriveEncryptionKey(master: ExtendedKey, index = 0): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const key = derivePath(master, encryptionKeyPath(index));
  return { privateKey: key.privateKey.slice(), publicKey: uncompressedPoint(key.publicKey) };
}
