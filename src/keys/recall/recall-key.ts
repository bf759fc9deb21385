/**
 * `ID(x)` and `IDK` of the paper's eq. 9, hardened.
 *
 * - `ID(x)` = scrypt(word, salt; N, r, p) with 32 bytes out, where the word is normalised
 *   ({@link normaliseRecallWord}) and the salt is the canonical CBOR map
 *   `{d: 'silkledger/recall-id/v1', chain, org, factsHash}`: the paper XORs a hash of the facts
 *   into the word; here the facts, the chain and the org salt a memory-hard KDF instead, so a
 *   guess costs an attacker 128·N·r bytes of memory for this one org.
 * - `IDK` = RFC 9180 DeriveKeyPair(`ID(x)`) for DHKEM(P-256): the scalar is HKDF-SHA256 output
 *   read as a big-endian integer, rejected and retried with the next counter while it is 0 or
 *   ≥ n (no modular reduction, so no bias), the method the RFC's test vectors pin down.
 */
import { scrypt as scryptCallback } from 'node:crypto';
import { encodeCanonical } from '../../codec/canonical-cbor.js';
import { toHex } from '../../crypto/hash.js';
import { SilkError } from '../../errors.js';
import { RECALL_SCRYPT_CAPS } from '../../contracts/recall/recall-formats.js';
import { deriveHpkeKeyPair, type HpkeKeyPair } from '../hpke.js';
import { normaliseRecallWord } from './recall-word.js';
import { RecoveryError } from './recovery-error.js';

/** scrypt's cost: N (a power of two), r, p. */
export interface ScryptCost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** The default cost of `ID(x)`: N = 2^17, r = 8, p = 1 (128 MiB per guess). */
export const DEFAULT_RECALL_SCRYPT: ScryptCost = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

/** Bytes of memory one scrypt evaluation needs: 128 · N · r (· p when run in parallel). */
export function scryptMemoryBytes(cost: ScryptCost): number {
  return 128 * cost.N * cost.r * cost.p;
}

/**
 * Checks a cost: N a power of two ≥ 2, r and p ≥ 1, each at most {@link RECALL_SCRYPT_CAPS}
 * (a record naming more could make its reader spend gigabytes).
 * @throws RecoveryError cost-too-high above the caps; SilkError INVALID_ARGUMENT for a malformed cost
 */
export function checkScryptCost(cost: ScryptCost): void {
  const { N, r, p } = cost;
  if (!Number.isSafeInteger(N) || !Number.isSafeInteger(r) || !Number.isSafeInteger(p) || N < 2 || r < 1 || p < 1 || (N & (N - 1)) !== 0) {
    throw new SilkError('INVALID_ARGUMENT', `scrypt cost N=${N}, r=${r}, p=${p} is malformed: N must be a power of two ≥ 2, r and p ≥ 1`);
  }
  if (N > RECALL_SCRYPT_CAPS.N || r > RECALL_SCRYPT_CAPS.r || p > RECALL_SCRYPT_CAPS.p) {
    throw new RecoveryError('cost-too-high', `scrypt cost N=${N}, r=${r}, p=${p} is above the caps N ≤ 2^20, r ≤ 16, p ≤ 4`, { N, r, p });
  }
}

/** What salts `ID(x)`. */
export interface RecallSaltInput {
  readonly chain: string;
  readonly org: string;
  /** SHA-256 of the normalised enterprise facts (32 bytes). */
  readonly factsHash: Uint8Array;
}

/** The scrypt salt of `ID(x)`: canonical CBOR `{d: 'silkledger/recall-id/v1', chain, org, factsHash}`. */
export function recallSalt(input: RecallSaltInput): Uint8Array {
  if (input.factsHash.length !== 32) throw new SilkError('INVALID_ARGUMENT', 'factsHash must be 32 bytes');
  return encodeCanonical({ d: 'silkledger/recall-id/v1', chain: input.chain, org: input.org, factsHash: toHex(input.factsHash) });
}

function scrypt(password: Uint8Array, salt: Uint8Array, cost: ScryptCost): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, 32, { N: cost.N, r: cost.r, p: cost.p, maxmem: scryptMemoryBytes(cost) + 16 * 1024 * 1024 }, (err, key) => {
      if (err === null) resolve(new Uint8Array(key));
      else reject(err);
    });
  });
}

/**
 * `ID(x)`: 32 bytes of scrypt over the normalised word, salted with chain, org and facts hash.
 * @param word the recall word (six words or an own phrase)
 * @param salt chain, org and facts hash
 * @param cost scrypt cost (checked against the caps)
 * @returns 32 bytes
 * @throws RecoveryError cost-too-high; SilkError INVALID_ARGUMENT for an empty word or a malformed cost
 * @example const id = await deriveRecallId(word, { chain, org, factsHash }, DEFAULT_RECALL_SCRYPT);
 */
export async function deriveRecallId(word: string, salt: RecallSaltInput, cost: ScryptCost): Promise<Uint8Array> {
  checkScryptCost(cost);
  const password = new TextEncoder().encode(normaliseRecallWord(word));
  try {
    return await scrypt(password, recallSalt(salt), cost);
  } finally {
    password.fill(0);
  }
}

/**
 * `IDK`: the P-256 key pair of `ID(x)` (RFC 9180 DeriveKeyPair), to which the secret is sealed.
 * @returns the key pair; `ID(x)` itself is wiped
 * @example const idk = await deriveRecallKey(word, { chain, org, factsHash }, DEFAULT_RECALL_SCRYPT);
 */
export async function deriveRecallKey(word: string, salt: RecallSaltInput, cost: ScryptCost): Promise<HpkeKeyPair> {
  const id = await deriveRecallId(word, salt, cost);
  try {
    return await deriveHpkeKeyPair(id);
  } finally {
    id.fill(0);
  }
}
