/**
 * What the `silk` commands that talk to a running node share: the SDK client for `--url` (and
 * the CA bundle of an https node from `--ca`), the signing key from `--key` (a keystore, or a PKCS#8 PEM file), JSON arguments, and one way
 * to report failures. A mistake in
 * what the user typed (bad JSON, an unreadable key file) is one line and exit 2; the node's
 * answer keeps its code and picks the exit code (docs/cli.md).
 */
import { readFileSync } from 'node:fs';
import { createSigner, privateKeyObjectOfScalar } from '../crypto/p256.js';
import { isSilkError, type SilkError } from '../errors.js';
import { isKeystoreError, readKeystore } from '../keys/keystore.js';
import type { JsonValue } from '../ledger/json-value.js';
import { caBundle } from '../sdk/ca-fetch.js';
import { connect, signerFromPem, type Signer, type SilkClient } from '../sdk/index.js';
import { UNTRUSTED_CERTIFICATE_REASON } from '../sdk/sdk-errors.js';
import { apiUrl, EXIT } from './cli-support.js';
import { promptHidden } from './password-prompt.js';

/** The environment variable holding the password of the keystore given with `--key`. */
export const KEY_PASSWORD_ENV = 'SILK_KEYSTORE_PASSWORD';
/** The environment variable naming the CA bundle (PEM) an https node's certificate is checked against. */
export const CA_ENV = 'SILK_CA';

/** A value the user typed that cannot be used: reported on one line, exit 2. */
export class InputError extends Error {}

/** Options every client command accepts (for `parseArgs`). */
export const CLIENT_OPTIONS = {
  url: { type: 'string' },
  ca: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Options of commands that sign (for `parseArgs`). */
export const SIGNING_OPTIONS = {
  key: { type: 'string' },
} as const;

/**
 * The CA bundle at `--ca` or `$SILK_CA`, checked to hold PEM certificates; undefined when neither
 * is given.
 * @throws InputError when the file cannot be read or holds no usable PEM certificate
 */
function caOption(values: { ca?: string | undefined }): string | undefined {
  const path = values.ca ?? process.env[CA_ENV];
  if (path === undefined || path === '') return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new InputError(`cannot read the CA bundle ${path} (--ca or $${CA_ENV}): ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message}`);
  }
  try {
    return caBundle(text);
  } catch (e) {
    throw new InputError(`the CA bundle ${path} (--ca or $${CA_ENV}) is not usable: ${isSilkError(e) ? e.message : String(e)}`);
  }
}

/**
 * A client of the node at `--url`, `$SILK_URL` or the local default; for an https node whose
 * certificate is issued by a private CA (a distributed network's), trusting the bundle at `--ca`
 * or `$SILK_CA`. A comma-separated list names other nodes to turn to, in order, when the one
 * before cannot be reached (the SDK's `fallbackUrls`).
 * @throws InputError when a URL is not http(s), one is given twice, or the CA bundle cannot be used
 */
export function nodeClient(values: { url?: string | undefined; ca?: string | undefined }): SilkClient {
  const [url = '', ...fallbackUrls] = apiUrl(values).split(',').map((u) => u.trim().replace(/\/+$/, '')).filter((u) => u !== '');
  const ca = caOption(values);
  try {
    return connect({ url, ...(fallbackUrls.length === 0 ? {} : { fallbackUrls }), ...(ca === undefined ? {} : { ca }) });
  } catch (e) {
    throw new InputError(isSilkError(e) ? `--url: ${e.message}` : String(e));
  }
}

/** The password of the keystore `file`: `$SILK_KEYSTORE_PASSWORD`, else asked on the terminal. */
async function keystorePassword(file: string): Promise<string> {
  const env = process.env[KEY_PASSWORD_ENV];
  if (env !== undefined && env !== '') return env;
  if (!process.stdin.isTTY) throw new InputError(`${file} is a keystore: set $${KEY_PASSWORD_ENV} to its password, or run silk on a terminal to be asked`);
  const typed = await promptHidden(`password of ${file}: `);
  if (typed === undefined) throw new InputError('cancelled');
  if (typed === '') throw new InputError('the password is empty');
  return typed;
}

/** The signer of a private-key keystore; the key stays in memory only as a KeyObject. */
async function keystoreSigner(file: string): Promise<Signer> {
  const password = await keystorePassword(file);
  let ks;
  try {
    ks = await readKeystore(file, password);
  } catch (e) {
    if (isKeystoreError(e)) throw new InputError(e.message);
    throw e;
  }
  if (ks.kind === 'mnemonic') throw new InputError(`${file} holds a whole key tree (a mnemonic), not one key: make a key keystore with silk keys derive and sign with that`);
  try {
    return createSigner(privateKeyObjectOfScalar(ks.secret));
  } finally {
    ks.secret.fill(0);
  }
}

/**
 * The signer of the key file at `--key` or `$SILK_KEY`: a keystore (JSON, docs/keystores.md;
 * its password from `$SILK_KEYSTORE_PASSWORD` or a prompt on a terminal) or a PKCS#8 PEM file.
 * @param command the command's name, for the message when no key is given
 * @throws InputError when no key is given, the file cannot be read, the keystore does not open
 *   (wrong password, altered, a mnemonic) or the PEM is not a P-256 key
 * @example const signer = await keyFile({ key: 'data/keys/SellerCN/yiwu-seller.keystore.json' }, 'submit')
 */
export async function keyFile(values: { key?: string | undefined }, command: string): Promise<Signer> {
  const path = values.key ?? process.env.SILK_KEY;
  if (path === undefined || path === '') throw new InputError(`${command} signs with your key: give --key FILE (or set $SILK_KEY), e.g. --key data/keys/SellerCN/yiwu-seller.keystore.json with $${KEY_PASSWORD_ENV} set`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new InputError(`cannot read key file ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
  }
  if (text.trimStart().startsWith('{')) return keystoreSigner(path);
  try {
    return signerFromPem(text);
  } catch {
    throw new InputError(`key file ${path} does not hold a PEM private key (PKCS#8, P-256) or a keystore`);
  }
}

/**
 * Parses a JSON command-line argument.
 * @param what its name in messages, e.g. ARGS-JSON
 * @throws InputError naming the argument and why it does not parse
 */
export function jsonArgument(text: string, what: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (e) {
    const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
    throw new InputError(`${what} is not valid JSON (${(e as Error).message}): ${shown}; quote it for your shell, e.g. '{"id":"a1"}'`);
  }
}

/**
 * A non-negative integer argument.
 * @throws InputError otherwise
 */
export function integerArgument(text: string, what: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new InputError(`${what} must be a whole number, got '${text}'`);
  return Number(text);
}

/** The exit code a node error stands for. */
export function exitCodeFor(error: SilkError): number {
  if (error.code === 'UNREACHABLE') return EXIT.unreachable;
  if (error.code === 'BAD_RESPONSE') return EXIT.failure;
  return error.httpStatus < 500 ? EXIT.refused : EXIT.failure;
}

const HINTS: Partial<Record<SilkError['code'], string>> = {
  UNREACHABLE: 'is the node running? Give its address with --url or $SILK_URL',
  UNKNOWN_CREATOR: 'the key is not a member of this chain',
  BAD_SIGNATURE: 'the signature does not match the key: is the key file intact?',
  RATE_LIMITED: 'wait a moment and try again',
  COMMIT_TIMEOUT: 'the transaction may still commit: check it with silk tx',
};

/**
 * Runs a client command's body and reports what goes wrong: bad input on one line (exit 2);
 * a node error as `silk: CODE: message` on stderr, and as its JSON body on stdout with `--json`.
 * @returns the body's exit code, or the one the failure stands for
 */
export async function reportFailures(json: boolean, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof InputError) {
      console.error(`silk: ${e.message}`);
      return EXIT.usage;
    }
    if (!isSilkError(e)) throw e;
    if (e.code === 'UNREACHABLE' && e.details.reason === UNTRUSTED_CERTIFICATE_REASON) {
      // One line: what failed at which URL, and what to do.
      console.error(`silk: ${e.code}: ${e.message}; pass the network's CA bundle with --ca FILE (or $${CA_ENV})`);
      if (json) console.log(JSON.stringify(e.toJSON()));
      return exitCodeFor(e);
    }
    const hint = e.code === 'UNREACHABLE' && typeof e.details.txId === 'string' ? `look for it with silk tx before sending it again; ${HINTS.UNREACHABLE ?? ''}` : HINTS[e.code];
    console.error(`silk: ${e.code}: ${e.message}${hint === undefined ? '' : `\n      (${hint})`}`);
    if (json) console.log(JSON.stringify(e.toJSON()));
    return exitCodeFor(e);
  }
}
