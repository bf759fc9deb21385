/**
 * The commit hash chains a peer's state history into one value per block, so peers compare
 * their whole state by comparing it.
 */
import { encodeCanonical } from '../codec/canonical-cbor.js';
import { sha256 } from '../crypto/hash.js';
import { VALIDATION_CODES, type ValidationCode } from '../errors.js';

/** A valid write as the commit hash covers it. */
export interface CommittedWrite {
  readonly ns: string;
  readonly key: string;
  readonly value: string | null;
  readonly policy?: string;
}

const CODE_INDEX = new Map(VALIDATION_CODES.map((c, i) => [c, i]));

/** A validation code as stored: its index in the registry's list. */
export function validationCodeIndex(code: ValidationCode): number {
  const i = CODE_INDEX.get(code);
  if (i === undefined) throw new RangeError(`unknown validation code ${code}`);
  return i;
}

/** Validation codes as stored: one byte per transaction. */
export function encodeValidationCodes(codes: readonly ValidationCode[]): Uint8Array {
  return Uint8Array.from(codes, validationCodeIndex);
}

/**
 * Commit hash of block `number` = SHA-256(previous commit hash ‖ canonical[number, codes, valid writes]).
 * @param previous the commit hash of the block before (32 zero bytes before block 0)
 * @example computeCommitHash(new Uint8Array(32), 0, codes, writes)
 */
export function computeCommitHash(previous: Uint8Array, number: number, codes: Uint8Array, writes: readonly CommittedWrite[]): Uint8Array {
  return sha256(previous, encodeCanonical([number, codes, writes.map((w) => [w.ns, w.key, w.value, w.policy ?? null])]));
}
