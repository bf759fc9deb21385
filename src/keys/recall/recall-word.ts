/**
 * The user's recall word of eq. 9. By default six random BIP39 English words (6 × 11 = 66 bits);
 * a phrase of the user's own is accepted only when zxcvbn estimates that guessing it takes at
 * least {@link MIN_OWN_PHRASE_GUESSES} tries, more than the 2^66 ≈ 7.4·10^19 of the default,
 * because zxcvbn's estimate of a human phrase is optimistic where the default's is exact.
 */
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as zxcvbnCommon from '@zxcvbn-ts/language-common';
import * as zxcvbnEn from '@zxcvbn-ts/language-en';
import { SilkError } from '../../errors.js';
import { generateWords } from '../mnemonic.js';
import { RecoveryError } from './recovery-error.js';

/** Guesses zxcvbn must estimate for an own phrase: 10^20. */
export const MIN_OWN_PHRASE_GUESSES = 1e20;

/** Words of the default recall word. */
export const DEFAULT_RECALL_WORDS = 6;

/** Longest recall word accepted, in characters after normalisation. */
export const MAX_RECALL_WORD_LENGTH = 512;

let estimator: ZxcvbnFactory | undefined;

function zxcvbn(): ZxcvbnFactory {
  estimator ??= new ZxcvbnFactory({
    dictionary: { ...zxcvbnCommon.dictionary, ...zxcvbnEn.dictionary },
    graphs: zxcvbnCommon.adjacencyGraphs,
    translations: zxcvbnEn.translations,
  });
  return estimator;
}

/**
 * A fresh default recall word: six random BIP39 English words.
 * @returns the words separated by single spaces
 * @example const word = generateRecallWord(); // 'orbit gentle ladder pulse tiger cousin'
 */
export function generateRecallWord(): string {
  return generateWords(DEFAULT_RECALL_WORDS);
}

/**
 * The recall word as scrypt sees it: Unicode NFKD (as BIP39 normalises), trimmed, whitespace
 * runs one space. Case is kept.
 * @throws SilkError INVALID_ARGUMENT when empty or longer than {@link MAX_RECALL_WORD_LENGTH}
 * @example normaliseRecallWord('  orbit   gentle ') // 'orbit gentle'
 */
export function normaliseRecallWord(word: string): string {
  if (typeof word !== 'string') throw new SilkError('INVALID_ARGUMENT', 'the recall word must be a string');
  const normal = word.normalize('NFKD').trim().replace(/\s+/gu, ' ');
  if (normal === '') throw new SilkError('INVALID_ARGUMENT', 'the recall word is empty');
  if (normal.length > MAX_RECALL_WORD_LENGTH) throw new SilkError('INVALID_ARGUMENT', `the recall word is longer than ${MAX_RECALL_WORD_LENGTH} characters`);
  return normal;
}

/** zxcvbn's verdict on an own phrase. */
export interface PhraseStrength {
  /** zxcvbn's estimate of the guesses needed. */
  readonly guesses: number;
  readonly accepted: boolean;
  /** zxcvbn's warning, when it has one. */
  readonly warning: string | null;
}

/**
 * Estimates an own phrase with zxcvbn (English and common dictionaries).
 * @param phrase the phrase (normalised first)
 * @param userInputs words an attacker knows: org name, enterprise facts; they count as dictionary words
 * @example estimateOwnPhrase('correct horse battery staple').accepted // false
 */
export function estimateOwnPhrase(phrase: string, userInputs: readonly string[] = []): PhraseStrength {
  const result = zxcvbn().check(normaliseRecallWord(phrase), [...userInputs]);
  return { guesses: result.guesses, accepted: result.guesses >= MIN_OWN_PHRASE_GUESSES, warning: result.feedback.warning };
}

/**
 * Refuses an own phrase zxcvbn estimates below {@link MIN_OWN_PHRASE_GUESSES} guesses.
 * @throws RecoveryError weak-phrase, saying the estimate and the bar
 * @example assertOwnPhraseStrong(phrase, ['SellerCN', facts.registeredAddress]);
 */
export function assertOwnPhraseStrong(phrase: string, userInputs: readonly string[] = []): PhraseStrength {
  const strength = estimateOwnPhrase(phrase, userInputs);
  if (!strength.accepted) {
    throw new RecoveryError('weak-phrase', `phrase too weak: zxcvbn estimates ${strength.guesses.toExponential(1)} guesses, at least 1e20 are needed${strength.warning === null ? '' : ` (${strength.warning})`}; use the six generated words instead`, { guesses: strength.guesses });
  }
  return strength;
}
