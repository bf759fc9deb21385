import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { entropyToMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { isSilkError } from '../errors.js';
import { generateMnemonic, generateWords, mnemonicToSeed, validateMnemonic } from './mnemonic.js';

interface Bip39Vectors {
  readonly source: string;
  readonly passphrase: string;
  readonly english: readonly (readonly [string, string, string, string])[];
}

const VECTORS_PATH = 'test/vectors/bip39-english.json';

/** From dist/keys/ the project root is two levels up; otherwise the working directory. */
function loadVectors(): Bip39Vectors {
  const candidates = [new URL(`../../${VECTORS_PATH}`, import.meta.url), new URL(VECTORS_PATH, pathToFileURL(`${process.cwd()}/`))];
  const file = candidates.find((candidate) => existsSync(candidate));
  assert.ok(file, `cannot find ${VECTORS_PATH}`);
  return JSON.parse(readFileSync(file, 'utf8')) as Bip39Vectors;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** Base58Check decoding, only to prove the copied xprv column intact. */
function base58CheckDecode(text: string): Buffer {
  let n = 0n;
  for (const ch of text) {
    const d = BASE58.indexOf(ch);
    assert.ok(d >= 0, `not base58: ${ch}`);
    n = n * 58n + BigInt(d);
  }
  const raw = Buffer.from(n.toString(16).padStart(164, '0'), 'hex');
  const payload = raw.subarray(0, raw.length - 4);
  const check = createHash('sha256').update(createHash('sha256').update(payload).digest()).digest().subarray(0, 4);
  assert.deepEqual(raw.subarray(raw.length - 4), check, 'xprv checksum');
  return payload;
}

function expectInvalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => isSilkError(e, 'INVALID_ARGUMENT') && pattern.test(e.message));
}

const vectors = loadVectors();
const VALID_12 = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

describe('BIP39 (official English vectors)', () => {
  it('names its source and holds all 24 English vectors with passphrase TREZOR', () => {
    assert.match(vectors.source, /trezor\/python-mnemonic/);
    assert.equal(vectors.passphrase, 'TREZOR');
    assert.equal(vectors.english.length, 24);
  });

  it('entropy → mnemonic → seed for every vector', () => {
    for (const [entropy, mnemonic, seed] of vectors.english) {
      assert.equal(entropyToMnemonic(Buffer.from(entropy, 'hex'), wordlist), mnemonic);
      validateMnemonic(mnemonic);
      assert.equal(hex(mnemonicToSeed(mnemonic, vectors.passphrase)), seed, mnemonic);
    }
  });

  it('the copied xprv column matches HMAC-SHA512("Bitcoin seed", seed): the file is intact', () => {
    for (const [, , seed, xprv] of vectors.english) {
      const payload = base58CheckDecode(xprv);
      const i = createHmac('sha512', 'Bitcoin seed').update(Buffer.from(seed, 'hex')).digest();
      assert.equal(payload.subarray(13, 45).toString('hex'), i.subarray(32).toString('hex'), 'chain code');
      assert.equal(payload.subarray(46, 78).toString('hex'), i.subarray(0, 32).toString('hex'), 'private key');
    }
  });
});

describe('mnemonics', () => {
  it('generates 24-word phrases with a valid checksum, different every time', () => {
    const a = generateMnemonic();
    const b = generateMnemonic();
    assert.equal(a.split(' ').length, 24);
    validateMnemonic(a);
    assert.notEqual(a, b);
    assert.equal(mnemonicToSeed(a).length, 64);
  });

  it('names the problem: wrong length, unknown word N, bad checksum', () => {
    expectInvalid(() => { validateMnemonic(''); }, /wrong length.*has 0/);
    expectInvalid(() => { validateMnemonic(VALID_12.split(' ').slice(1).join(' ')); }, /wrong length.*has 11/);
    expectInvalid(() => { validateMnemonic(VALID_12.replace('about', 'abuot')); }, /unknown word 12/);
    expectInvalid(() => { validateMnemonic(`Abandon ${VALID_12.split(' ').slice(1).join(' ')}`); }, /unknown word 1\b/);
    expectInvalid(() => { validateMnemonic(VALID_12.replace('about', 'abandon')); }, /bad checksum/);
    expectInvalid(() => { validateMnemonic(42 as unknown as string); }, /string/);
    expectInvalid(() => mnemonicToSeed(VALID_12.replace('about', 'zoo')), /bad checksum/);
    expectInvalid(() => mnemonicToSeed(VALID_12, 7 as unknown as string), /passphrase/);
  });

  it('never puts the mistyped word in the message (phrases are secret)', () => {
    assert.throws(() => { validateMnemonic(VALID_12.replace('about', 'secretish')); }, (e: unknown) => e instanceof Error && !e.message.includes('secretish'));
  });

  it('treats runs of whitespace as one separator and normalises the passphrase to NFKD', () => {
    const canonical = mnemonicToSeed(VALID_12, 'TREZOR');
    assert.deepEqual(mnemonicToSeed(`  ${VALID_12.replaceAll(' ', ' \t ')}\n`, 'TREZOR'), canonical);
    const composed = 'Ä'.normalize('NFC');
    const decomposed = 'Ä'.normalize('NFD');
    assert.notEqual(composed, decomposed);
    assert.deepEqual(mnemonicToSeed(VALID_12, composed), mnemonicToSeed(VALID_12, decomposed));
    assert.notDeepEqual(mnemonicToSeed(VALID_12, composed), mnemonicToSeed(VALID_12));
  });
});

describe('secret words (key recall)', () => {
  it('draws 6, 12 or 24 words from the BIP39 list', () => {
    const list = new Set(wordlist);
    for (const count of [6, 12, 24] as const) {
      const words = generateWords(count).split(' ');
      assert.equal(words.length, count);
      assert.ok(words.every((w) => list.has(w)));
    }
    assert.notEqual(generateWords(6), generateWords(6));
  });

  it('refuses other counts', () => {
    expectInvalid(() => generateWords(7 as 6), /6, 12 or 24/);
  });
});
