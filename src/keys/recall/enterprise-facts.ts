/**
 * The enterprise facts that salt an org's recall key (paper eq. 9): registration number,
 * registered address and legal representative. They are normalised before hashing so that a
 * re-typed address with other spacing or another Unicode composition gives the same hash.
 */
import { encodeCanonical } from '../../codec/canonical-cbor.js';
import { sha256 } from '../../crypto/hash.js';
import { SilkError } from '../../errors.js';

/** The facts of an enterprise that the recall record is bound to. */
export interface EnterpriseFacts {
  readonly registrationNumber: string;
  readonly registeredAddress: string;
  readonly legalRepresentative: string;
}

/** Longest fact accepted, in characters after normalisation. */
export const MAX_FACT_LENGTH = 1024;

/**
 * One fact normalised: Unicode NFC, trimmed, every run of whitespace one space. Case is kept:
 * registries print names and numbers with meaningful case.
 * @throws SilkError INVALID_ARGUMENT when the fact is empty after normalisation or too long
 * @example normaliseFact('  Yiwu  Trade\tCity ') // 'Yiwu Trade City'
 */
export function normaliseFact(fact: string, name = 'fact'): string {
  if (typeof fact !== 'string') throw new SilkError('INVALID_ARGUMENT', `${name} must be a string`);
  const normal = fact.normalize('NFC').trim().replace(/\s+/gu, ' ');
  if (normal === '') throw new SilkError('INVALID_ARGUMENT', `${name} is empty`);
  if (normal.length > MAX_FACT_LENGTH) throw new SilkError('INVALID_ARGUMENT', `${name} is longer than ${MAX_FACT_LENGTH} characters`);
  return normal;
}

/**
 * SHA-256 of the normalised facts, in the canonical CBOR map
 * `{d: 'silkledger/enterprise-facts/v1', registrationNumber, registeredAddress, legalRepresentative}`.
 * @returns 32 bytes
 * @throws SilkError INVALID_ARGUMENT for an empty or over-long fact
 * @example toHex(enterpriseFactsHash({ registrationNumber: '91330782MA2EC', registeredAddress: 'Yiwu', legalRepresentative: 'Li Wei' }))
 */
export function enterpriseFactsHash(facts: EnterpriseFacts): Uint8Array {
  return sha256(encodeCanonical({
    d: 'silkledger/enterprise-facts/v1',
    registrationNumber: normaliseFact(facts.registrationNumber, 'registration number'),
    registeredAddress: normaliseFact(facts.registeredAddress, 'registered address'),
    legalRepresentative: normaliseFact(facts.legalRepresentative, 'legal representative'),
  }));
}
