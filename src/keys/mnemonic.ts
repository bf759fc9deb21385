/**
 * BIP39 mnemonics (paper §3.3 eq. 2–4): 256 bits of entropy from the CSPRNG, an 8-bit SHA-256
 * checksum, 11-bit groups mapped to the English word list, and the 64-byte seed from
 * PBKDF2-HMAC-SHA512 (2048 rounds, salt "mnemonic" ‖ passphrase, both NFKD). Word lists and the
 * checksum come from `@scure/bip39`; the seed is computed on node:crypto.
 *
 * Also the recall "secret word" (docs/recall.md): a few random BIP39 words with no checksum.
 */
import { pbkdf2Sync, randomInt } from 'node:crypto';
import { generateMnemonic as scureGenerateMnemonic, validateMnemonic as scureValidateMnemonic } from '@scure/bip39';
import { wordlist as ENGLISH } from '@scure/bip39/wordlists/english.js';
import { SilkError } from '../errors.js';

function wordAt(i: number): string {
  const w = ENGLISH[i];
  if (w === undefined) throw new RangeError(`no BIP39 word ${i}`);
  return w;
}

/** Word counts BIP39 defines (128 to 256 bits of entropy, in steps of 32). */
const MNEMONIC_LENGTHS: readonly number[] = [12, 15, 18, 21, 24];
const WORD_INDEX: ReadonlyMap<string, number> = new Map(ENGLISH.map((w, i) => [w, i]));
const PBKDF2_ROUNDS = 2048;
const SEED_BYTES = 64;

/**
 * Splits a mnemonic into its NFKD words. Runs of whitespace count as one separator, so a phrase
 * typed with a double space or a trailing newline gives the same seed as the canonical phrase.
 */
function mnemonicWords(mnemonic: unknown): string[] {
  if (typeof mnemonic !== 'string') throw new SilkError('INVALID_ARGUMENT', 'a mnemonic must be a string of words');
  const normalised = mnemonic.normalize('NFKD').trim();
  return normalised === '' ? [] : normalised.split(/\s+/u);
}

/** The canonical form of a mnemonic after validation: NFKD words joined by single spaces. */
function canonicalMnemonic(mnemonic: unknown): string {
  const words = mnemonicWords(mnemonic);
  if (!MNEMONIC_LENGTHS.includes(words.length)) {
    throw new SilkError('INVALID_ARGUMENT', `wrong length: a mnemonic has 12, 15, 18, 21 or 24 words, this one has ${words.length}`);
  }
  const unknown = words.findIndex((w) => !WORD_INDEX.has(w));
  // The position, never the word: a phrase is secret, and error messages end up in logs.
  if (unknown >= 0) throw new SilkError('INVALID_ARGUMENT', `unknown word ${unknown + 1}: word ${unknown + 1} of the mnemonic is not in the BIP39 English list`);
  const sentence = words.join(' ');
  if (!scureValidateMnemonic(sentence, ENGLISH)) {
    throw new SilkError('INVALID_ARGUMENT', 'bad checksum: the words are all in the BIP39 list but their checksum does not match (a word is wrong or out of order)');
  }
  return sentence;
}

/**
 * A fresh BIP39 mnemonic: 24 English words over 256 bits of CSPRNG entropy (eq. 2–3).
 * @returns 24 words separated by single spaces
 * @example const phrase = generateMnemonic(); // 'ladder pulse … tiger'
 */
export function generateMnemonic(): string {
  return scureGenerateMnemonic(ENGLISH, 256);
}

/**
 * Checks a mnemonic's length, words and checksum.
 * @param mnemonic 12, 15, 18, 21 or 24 BIP39 English words (whitespace runs are one separator)
 * @throws SilkError INVALID_ARGUMENT naming the problem: wrong length, unknown word N (1-based), or bad checksum
 * @example validateMnemonic('abandon abandon … about');
 */
export function validateMnemonic(mnemonic: string): void {
  canonicalMnemonic(mnemonic);
}

/**
 * The 64-byte BIP39 seed of a mnemonic (eq. 4): PBKDF2-HMAC-SHA512, 2048 rounds, password the
 * NFKD mnemonic, salt "mnemonic" ‖ NFKD passphrase. The mnemonic is validated first.
 * @param mnemonic a valid BIP39 English mnemonic
 * @param passphrase optional BIP39 passphrase (default empty); a different passphrase gives a different tree
 * @returns 64 bytes
 * @throws SilkError INVALID_ARGUMENT when the mnemonic is invalid or the passphrase is not a string
 * @example const seed = mnemonicToSeed(phrase, 'TREZOR');
 */
export function mnemonicToSeed(mnemonic: string, passphrase = ''): Uint8Array {
  const sentence = canonicalMnemonic(mnemonic);
  if (typeof passphrase !== 'string') throw new SilkError('INVALID_ARGUMENT', 'a BIP39 passphrase must be a string');
  const salt = Buffer.from(`mnemonic${passphrase.normalize('NFKD')}`, 'utf8');
  return new Uint8Array(pbkdf2Sync(Buffer.from(sentence, 'utf8'), salt, PBKDF2_ROUNDS, SEED_BYTES, 'sha512'));
}

/**
 * `count` words drawn uniformly and independently from the BIP39 English list (11 bits each, so
 * 6 words carry 66 bits). No checksum: this is the key-recall secret word, not a mnemonic.
 * @param count 6, 12 or 24
 * @returns the words separated by single spaces
 * @throws SilkError INVALID_ARGUMENT for another count
 * @example const word = generateWords(6); // 'orbit gentle …' (66 bits)
 */
export function generateWords(count: 6 | 12 | 24): string {
  const n: unknown = count;
  if (n !== 6 && n !== 12 && n !== 24) throw new SilkError('INVALID_ARGUMENT', `generateWords takes 6, 12 or 24 words, got ${String(n)}`);
  return Array.from({ length: n }, () => wordAt(randomInt(ENGLISH.length))).join(' ');
}
