/**
 * `silk recall register | recover`: the org's key recall record (docs/recall.md).
 *
 * `register` seals the org's 64-byte master secret (from its mnemonic or keystore) to the key of
 * six fresh BIP39 words (or an own phrase zxcvbn rates ≥ 10^20 guesses) and the enterprise facts,
 * signs the record with the admin key and stores it on chain (or only in a file, `--offline`).
 * `recover` needs nothing but the word, the facts and the record (from the chain, or a file): it
 * runs in a fresh data folder and writes the recovered secret to a new file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { JsonValue } from '../../ledger/json-value.js';
import { toHex } from '../../crypto/hash.js';
import { recallKeys } from '../../contracts/recall/recall-formats.js';
import { readKeystore } from '../../keys/keystore.js';
import { mnemonicToSeed } from '../../keys/mnemonic.js';
import { masterKeyFromSeed, masterSecret } from '../../keys/slip10.js';
import type { EnterpriseFacts } from '../../keys/recall/enterprise-facts.js';
import { createRecallRecord, recoverFromRecord, type RecallWord } from '../../keys/recall/recall-record.js';
import { DEFAULT_RECALL_SCRYPT } from '../../keys/recall/recall-key.js';
import { generateRecallWord } from '../../keys/recall/recall-word.js';
import { isRecoveryError } from '../../keys/recall/recovery-error.js';
import { EXIT, UsageError } from '../cli-support.js';
import { fields } from '../human-format.js';
import { CLIENT_OPTIONS, InputError, keyFile, nodeClient, reportFailures, SIGNING_OPTIONS } from '../node-client.js';

/** The contract the recall commands talk to. */
export const RECALL_CONTRACT = 'recall';

/** Options naming the org's key tree: its mnemonic file or its keystore. */
export const TREE_OPTIONS = {
  'mnemonic-file': { type: 'string' },
  keystore: { type: 'string' },
} as const;

const FACT_OPTIONS = {
  'registration-number': { type: 'string' },
  'registered-address': { type: 'string' },
  'legal-representative': { type: 'string' },
} as const;

const WHERE_OPTIONS = { chain: { type: 'string' }, org: { type: 'string' } } as const;

const REGISTER_OPTIONS = { ...CLIENT_OPTIONS, ...SIGNING_OPTIONS, ...TREE_OPTIONS, ...FACT_OPTIONS, ...WHERE_OPTIONS, 'phrase-file': { type: 'string' }, out: { type: 'string' }, offline: { type: 'boolean' } } as const;
const RECOVER_OPTIONS = { ...CLIENT_OPTIONS, ...FACT_OPTIONS, ...WHERE_OPTIONS, 'word-file': { type: 'string' }, record: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' } } as const;

const USAGE = `usage: silk recall register --chain CHAIN --org ORG (--mnemonic-file FILE | --keystore FILE) --key PEM
                           --registration-number N --registered-address A --legal-representative R
                           [--phrase-file FILE] [--out RECORD.json] [--offline] [--url URL] [--json]
       silk recall recover --chain CHAIN --org ORG --word-file FILE --registration-number N
                           --registered-address A --legal-representative R [--record RECORD.json | --url URL]
                           --out SECRET.json [--force] [--json]`;

/** A text file's contents, or standard input for '-'. @throws InputError */
export function readTextArgument(path: string, what: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

/** A required string option. @throws UsageError naming it */
export function required(value: string | undefined, flag: string, usage: string): string {
  if (value === undefined || value === '') throw new UsageError(`missing --${flag}\n${usage}`);
  return value;
}

/**
 * The org's 64-byte master secret, from `--mnemonic-file` (BIP39 passphrase in
 * `$SILK_MNEMONIC_PASSPHRASE`, default empty) or `--keystore` of kind mnemonic (password in
 * `$SILK_KEYSTORE_PASSWORD`).
 * @throws UsageError when neither or both are given
 */
export async function loadMasterSecret(values: { 'mnemonic-file'?: string | undefined; keystore?: string | undefined }, usage: string): Promise<Uint8Array> {
  const file = values['mnemonic-file'];
  if ((file === undefined) === (values.keystore === undefined)) throw new UsageError(`give the org's key tree: --mnemonic-file FILE or --keystore FILE\n${usage}`);
  let mnemonic: string;
  if (values.keystore !== undefined) {
    const unlocked = await readKeystore(values.keystore, process.env.SILK_KEYSTORE_PASSWORD ?? '');
    if (unlocked.kind !== 'mnemonic') throw new InputError(`keystore ${values.keystore} holds one private key, not a key tree (mnemonic)`);
    mnemonic = unlocked.secret;
  } else {
    mnemonic = readTextArgument(file ?? '-', 'mnemonic file').trim();
  }
  return masterSecret(masterKeyFromSeed(mnemonicToSeed(mnemonic, process.env.SILK_MNEMONIC_PASSPHRASE ?? '')));
}

function factsOf(values: { 'registration-number'?: string | undefined; 'registered-address'?: string | undefined; 'legal-representative'?: string | undefined }): EnterpriseFacts {
  return {
    registrationNumber: required(values['registration-number'], 'registration-number', USAGE),
    registeredAddress: required(values['registered-address'], 'registered-address', USAGE),
    legalRepresentative: required(values['legal-representative'], 'legal-representative', USAGE),
  };
}

/**
 * Writes a recovered master secret to a new file (mode 0600); an existing file only with `--force`.
 * The file holds the secret in the clear: move it into a keystore, then delete it.
 */
export function writeSecretFile(path: string, contents: { chain: string; org: string; masterPublicKey: Uint8Array; secret: Uint8Array }, force: boolean): void {
  const body = `${JSON.stringify({ v: 1, kind: 'silkledger-master-secret', chain: contents.chain, org: contents.org, masterPublicKey: toHex(contents.masterPublicKey), secret: toHex(contents.secret) }, null, 2)}\n`;
  try {
    writeFileSync(path, body, { mode: 0o600, flag: force ? 'w' : 'wx' });
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new InputError(code === 'EEXIST' ? `${path} exists: give --force to replace it` : `cannot write ${path}: ${(e as Error).message}`);
  }
}

/** A value of the recall contract's state, or undefined when the key is not there. */
export async function readRecallState(values: { url?: string | undefined }, chain: string, key: string): Promise<JsonValue | undefined> {
  try {
    return (await nodeClient(values).state(chain, RECALL_CONTRACT, key)).value;
  } catch (e) {
    if ((e as { code?: string }).code === 'NOT_FOUND') return undefined;
    throw e;
  }
}

async function register(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: REGISTER_OPTIONS, allowPositionals: true, strict: true });
  if (positionals.length > 0) throw new UsageError(USAGE);
  const chain = required(values.chain, 'chain', USAGE);
  const org = required(values.org, 'org', USAGE);
  const facts = factsOf(values);
  if (values.offline === true && values.out === undefined) throw new UsageError(`--offline needs --out RECORD.json\n${USAGE}`);
  const json = values.json === true;
  return reportFailures(json, async () => {
    const signer = await keyFile(values, 'recall register');
    const secret = await loadMasterSecret(values, USAGE);
    const word: RecallWord = values['phrase-file'] === undefined ? { kind: 'generated', words: generateRecallWord() } : { kind: 'own', phrase: readTextArgument(values['phrase-file'], 'phrase file') };
    const started = performance.now();
    let record;
    try {
      record = await createRecallRecord({ secret, chain, org, facts, word, signer, scrypt: DEFAULT_RECALL_SCRYPT });
    } catch (e) {
      if (isRecoveryError(e)) throw new InputError(e.message);
      throw e;
    } finally {
      secret.fill(0);
    }
    const sealMs = performance.now() - started;
    if (values.out !== undefined) writeFileSync(values.out, `${JSON.stringify(record, null, 2)}\n`);
    const submitted = values.offline === true ? undefined : await nodeClient(values).submit({ chain, contract: RECALL_CONTRACT, fn: 'registerRecord', args: { record } }, signer);
    const shownWord = word.kind === 'generated' ? word.words : undefined;
    if (json) {
      console.log(JSON.stringify({ record, ...(shownWord === undefined ? {} : { word: shownWord }), ...(submitted === undefined ? {} : { txId: submitted.txId, blockNumber: submitted.blockNumber }), sealMs: Math.round(sealMs) }));
    } else {
      console.log(`Recall record of ${org} on chain ${chain} ${submitted === undefined ? `written to ${values.out ?? ''} (not submitted)` : `registered in block ${submitted.blockNumber}`}`);
      console.log(fields([
        ['Master public key', record.header.masterPublicKey],
        ['Facts hash', record.header.factsHash],
        ['scrypt', `N=${record.header.kdf.N}, r=${record.header.kdf.r}, p=${record.header.kdf.p} (${Math.round(sealMs)} ms)`],
        ...(submitted === undefined ? [] : [['Transaction', submitted.txId] as const]),
      ], 2));
      if (shownWord !== undefined) console.log(`\nRecall word (shown once; write it down, keep it apart from the facts):\n\n  ${shownWord}\n`);
    }
    return EXIT.ok;
  });
}

async function recover(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: RECOVER_OPTIONS, allowPositionals: true, strict: true });
  if (positionals.length > 0) throw new UsageError(USAGE);
  const chain = required(values.chain, 'chain', USAGE);
  const org = required(values.org, 'org', USAGE);
  const facts = factsOf(values);
  const out = required(values.out, 'out', USAGE);
  const wordFile = required(values['word-file'], 'word-file', USAGE);
  const json = values.json === true;
  return reportFailures(json, async () => {
    const word = readTextArgument(wordFile, 'word file');
    const record = values.record !== undefined ? JSON.parse(readTextArgument(values.record, 'record file')) as unknown : await readRecallState(values, chain, recallKeys.record(org));
    if (record === undefined) throw new InputError(`${org} has no recall record on chain ${chain}`);
    const started = performance.now();
    let recovered;
    try {
      recovered = await recoverFromRecord({ record, word, facts, chain, org });
    } catch (e) {
      if (!isRecoveryError(e)) throw e;
      console.error(`silk: recall failed: ${e.message}`);
      if (json) console.log(JSON.stringify(e.toJSON()));
      return EXIT.failure;
    }
    const recoverMs = performance.now() - started;
    writeSecretFile(out, { chain, org, masterPublicKey: recovered.masterPublicKey, secret: recovered.secret }, values.force === true);
    recovered.secret.fill(0);
    if (json) console.log(JSON.stringify({ org, chain, masterPublicKey: toHex(recovered.masterPublicKey), out, recoverMs: Math.round(recoverMs) }));
    else console.log(`Recovered the master key of ${org}: record signature, facts, word and master public key all check.\n${fields([['Master public key', toHex(recovered.masterPublicKey)], ['Secret written to', `${out} (mode 0600; move it into a keystore, then delete it)`], ['Took', `${Math.round(recoverMs)} ms`]], 2)}`);
    return EXIT.ok;
  });
}

/** Runs `silk recall register | recover …` (see {@link USAGE}). */
export async function recallCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'register') return register(rest);
  if (sub === 'recover') return recover(rest);
  throw new UsageError(USAGE);
}
