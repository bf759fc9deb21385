/**
 * `silk keys`: an org's key tree in keystore files. `new` makes a mnemonic and seals it,
 * `derive` seals one hardened signing key of the tree, `show` reads a keystore's header and
 * `export-public` its authenticated public key. Secrets reach the disk only inside keystores
 * (src/keys/keystore.ts, docs/keystores.md); passwords come from `$SILK_KEYSTORE_PASSWORD` or a
 * terminal prompt without echo, never from a flag (flags land in shell history and `ps`).
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { toHex } from '../../crypto/hash.js';
import { publicKeyObject } from '../../crypto/p256.js';
import { isSilkError } from '../../errors.js';
import { adminKeyPath, DEFAULT_FUNCTIONS, deriveSigningKey, signingKeyPath, type KeyRole } from '../../keys/key-tree.js';
import { checkScryptParameters, DEFAULT_KEYSTORE_SCRYPT, isKeystoreError, keystoreInfo, KEYSTORE_SCRYPT_CAPS, readKeystore, writeKeystore, type KeystoreHeader, type ScryptParameters, type UnlockedKeystore } from '../../keys/keystore.js';
import { generateMnemonic, mnemonicToSeed } from '../../keys/mnemonic.js';
import { derivePath, masterKeyFromSeed } from '../../keys/slip10.js';
import { EXIT, UsageError } from '../cli-support.js';
import { promptHidden as promptOnTerminal } from '../password-prompt.js';
import { fields } from '../human-format.js';

/** The password of keystores read, and of keystores written unless the next one is set. */
export const PASSWORD_ENV = 'SILK_KEYSTORE_PASSWORD';
/** The password of the keystore `silk keys derive` writes, when it differs from the mnemonic's. */
export const NEW_PASSWORD_ENV = 'SILK_KEYSTORE_NEW_PASSWORD';
/** Overrides scrypt's N for keystores written (tests only: it weakens the file). */
export const SCRYPT_N_ENV = 'SILK_KEYSTORE_SCRYPT_N';

const USAGE = `usage:
  silk keys new --out FILE [--words 24] [--no-show] [--force] [--json]
  silk keys derive --from MNEMONIC-KEYSTORE (--function NAME|INDEX --level N [--member M] | --admin) --out FILE [--force] [--json]
  silk keys show FILE [--json]
  silk keys export-public FILE [--json]`;

/** A mistake the user can fix (bad flag value, no password, existing file): one line, exit 2. */
class KeysInputError extends Error {}

// ---------------------------------------------------------------------------------------------
// Passwords

/** Reads a line from the terminal without echoing it. @throws KeysInputError on Ctrl+C */
async function promptHidden(prompt: string): Promise<string> {
  const value = await promptOnTerminal(prompt);
  if (value === undefined) throw new KeysInputError('cancelled');
  return value;
}

function nonEmpty(password: string, where: string): string {
  if (password.length === 0) throw new KeysInputError(`${where} is empty: refusing an empty password`);
  return password;
}

/** The password of an existing keystore: `$SILK_KEYSTORE_PASSWORD`, else a prompt. */
async function existingPassword(file: string): Promise<string> {
  const env = process.env[PASSWORD_ENV];
  if (env !== undefined) return nonEmpty(env, `$${PASSWORD_ENV}`);
  if (!process.stdin.isTTY) throw new KeysInputError(`no password for ${file}: set $${PASSWORD_ENV} or run silk keys on a terminal`);
  return nonEmpty(await promptHidden(`password of ${file}: `), 'the password');
}

/**
 * The password of a keystore about to be written. `silk keys new`: `$SILK_KEYSTORE_PASSWORD`,
 * else typed twice. `silk keys derive` (`sameAs` = the mnemonic keystore's password):
 * `$SILK_KEYSTORE_NEW_PASSWORD`, else the same password when it came from the environment,
 * else typed twice (Enter alone keeps the same).
 */
async function newPassword(file: string, sameAs?: string): Promise<string> {
  const envName = sameAs === undefined ? PASSWORD_ENV : NEW_PASSWORD_ENV;
  const env = process.env[envName];
  if (env !== undefined) return nonEmpty(env, `$${envName}`);
  if (sameAs !== undefined && process.env[PASSWORD_ENV] !== undefined) return sameAs;
  if (!process.stdin.isTTY) throw new KeysInputError(`no password for ${file}: set $${PASSWORD_ENV} or run silk keys on a terminal`);
  const hint = sameAs === undefined ? '' : ' (Enter: the same as the mnemonic keystore\'s)';
  const first = await promptHidden(`new password for ${file}${hint}: `);
  if (first === '' && sameAs !== undefined) return sameAs;
  nonEmpty(first, 'the password');
  if ((await promptHidden('again: ')) !== first) throw new KeysInputError('the two passwords differ; nothing was written');
  return first;
}

// ---------------------------------------------------------------------------------------------
// scrypt cost and progress

/** scrypt cost of keystores written: the default, or `$SILK_KEYSTORE_SCRYPT_N` (with a warning). */
export function writeCost(): ScryptParameters {
  const text = process.env[SCRYPT_N_ENV];
  if (text === undefined || text === '') return DEFAULT_KEYSTORE_SCRYPT;
  const N = Number(text);
  if (!/^\d{1,8}$/.test(text) || N < 2 || (N & (N - 1)) !== 0 || N > KEYSTORE_SCRYPT_CAPS.N) {
    throw new KeysInputError(`$${SCRYPT_N_ENV} must be a power of two from 2 to ${KEYSTORE_SCRYPT_CAPS.N}, got '${text}'`);
  }
  const cost = { ...DEFAULT_KEYSTORE_SCRYPT, N };
  checkScryptParameters(cost);
  if (N < DEFAULT_KEYSTORE_SCRYPT.N) console.error(`silk: warning: $${SCRYPT_N_ENV}=${N} makes the keystore cheaper to attack than the default N=${DEFAULT_KEYSTORE_SCRYPT.N}; for tests only`);
  return cost;
}

function describeCost(p: ScryptParameters): string {
  const log = Math.log2(p.N);
  const n = Number.isInteger(log) ? `2^${log}` : String(p.N);
  return `scrypt N=${n}, r=${p.r}, p=${p.p}, ${((128 * p.N * p.r) / 2 ** 20).toFixed(p.N * p.r >= 8192 ? 0 : 2)} MiB`;
}

/** Runs scrypt-bound work with a message on stderr: what is happening, and how long it took on a terminal. */
async function withKdfMessage<T>(label: string, cost: ScryptParameters, work: () => Promise<T>): Promise<T> {
  const tty = process.stderr.isTTY;
  const started = Date.now();
  process.stderr.write(`${label} (${describeCost(cost)})…${tty ? ' ' : '\n'}`);
  try {
    const result = await work();
    if (tty) process.stderr.write(`done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return result;
  } catch (e) {
    if (tty) process.stderr.write('failed\n');
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Shared steps

function refuseExisting(file: string, force: boolean): void {
  if (!force && existsSync(file)) throw new KeysInputError(`${file} already exists; it was left as it was (pass --force to replace it)`);
}

async function unlock(file: string, header: KeystoreHeader, password: string): Promise<UnlockedKeystore> {
  return withKdfMessage(`unlocking ${file}`, header, () => readKeystore(file, password));
}

function describeKind(header: KeystoreHeader): string {
  return header.kind === 'mnemonic' ? 'mnemonic (a whole key tree)' : 'private key';
}

function describeKey(header: KeystoreHeader): string {
  return header.kind === 'mnemonic' ? 'master public key (m): the tree\'s identity, it never signs' : `the key at ${header.path ?? '(no path recorded)'}`;
}

function showMnemonic(mnemonic: string): string {
  const words = mnemonic.split(' ');
  const rows: string[] = [];
  for (let i = 0; i < words.length; i += 4) {
    rows.push(words.slice(i, i + 4).map((w, j) => `${String(i + j + 1).padStart(2)}. ${w.padEnd(10)}`).join('  ').trimEnd());
  }
  return rows.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Subcommands

async function keysNew(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { out: { type: 'string' }, words: { type: 'string' }, force: { type: 'boolean' }, 'no-show': { type: 'boolean' }, json: { type: 'boolean' } }, strict: true, allowPositionals: true });
  if (positionals.length > 0 || values.out === undefined) throw new UsageError(`silk keys new needs --out FILE, the keystore to write\n${USAGE}`);
  if (values.words !== undefined && values.words !== '24') throw new KeysInputError(`--words: only 24 words (256 bits of entropy) are supported, got '${values.words}'`);
  const out = values.out;
  const force = values.force === true;
  refuseExisting(out, force);
  const cost = writeCost();
  const password = await newPassword(out);
  const mnemonic = generateMnemonic();
  const seed = mnemonicToSeed(mnemonic);
  const master = masterKeyFromSeed(seed);
  const pubkey = master.publicKey.slice();
  seed.fill(0);
  const header = await withKdfMessage(`sealing the mnemonic in ${out}`, cost, () => writeKeystore(out, { kind: 'mnemonic', mnemonic, pubkey, path: null }, password, { scrypt: cost, force }));
  const show = values['no-show'] !== true;
  if (values.json === true) {
    console.log(JSON.stringify({ file: out, kind: header.kind, pubkey: header.pubkey, path: header.path, kdf: header.kdf, N: header.N, r: header.r, p: header.p, ...(show ? { mnemonic } : {}) }));
  } else {
    console.log(fields([['Keystore', out], ['Kind', describeKind(header)], ['Public key', `${header.pubkey}  (${describeKey(header)})`], ['Sealed with', describeCost(header)]]));
  }
  if (show) {
    console.error('\nWRITE THESE 24 WORDS DOWN, in order, on paper, and keep them offline. They are shown once.');
    console.error('Anyone who has them holds every key of this tree; without them or the keystore and its password, the tree is lost.');
    if (values.json !== true) console.log(`\n${showMnemonic(mnemonic)}\n`);
  } else {
    console.error(`\nThe mnemonic was not shown: ${out} and its password are now its only copy. Back both up.`);
  }
  return EXIT.ok;
}

/** A function name from the registry or an index. */
function functionIndex(text: string): number {
  if (Object.hasOwn(DEFAULT_FUNCTIONS, text)) return DEFAULT_FUNCTIONS[text] ?? 0;
  if (/^\d{1,10}$/.test(text) && Number(text) < 2 ** 31) return Number(text);
  throw new KeysInputError(`--function must be one of ${Object.keys(DEFAULT_FUNCTIONS).join(', ')} or an index 0..2^31−1, got '${text}'`);
}

function smallInteger(text: string | undefined, flag: string, min: number, max: number, fallback?: number): number {
  if (text === undefined) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`silk keys derive needs ${flag}\n${USAGE}`);
  }
  const n = Number(text);
  if (!/^\d{1,10}$/.test(text) || n < min || n > max) throw new KeysInputError(`${flag} must be a whole number from ${min} to ${max}, got '${text}'`);
  return n;
}

interface DeriveTarget {
  readonly path: string;
  readonly role?: KeyRole;
}

function deriveTarget(values: { function?: string | undefined; level?: string | undefined; member?: string | undefined; admin?: boolean | undefined }): DeriveTarget {
  if (values.admin === true) {
    if (values.function !== undefined || values.level !== undefined || values.member !== undefined) throw new UsageError(`--admin goes without --function, --level, --member\n${USAGE}`);
    return { path: adminKeyPath() };
  }
  if (values.function === undefined) throw new UsageError(`silk keys derive needs --function NAME|INDEX and --level N (or --admin)\n${USAGE}`);
  const role: KeyRole = {
    function: functionIndex(values.function),
    level: smallInteger(values.level, '--level', 1, 9),
    member: smallInteger(values.member, '--member', 0, 2 ** 31 - 1, 0),
  };
  return { path: signingKeyPath(role), role };
}

async function keysDerive(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { from: { type: 'string' }, function: { type: 'string' }, level: { type: 'string' }, member: { type: 'string' }, admin: { type: 'boolean' }, out: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0 || values.from === undefined || values.out === undefined) throw new UsageError(`silk keys derive needs --from MNEMONIC-KEYSTORE and --out FILE\n${USAGE}`);
  const { from, out } = values;
  const force = values.force === true;
  const target = deriveTarget(values);
  refuseExisting(out, force);
  const cost = writeCost();
  const info = keystoreInfo(from);
  if (info.kind !== 'mnemonic') throw new KeysInputError(`${from} holds one private key, not a mnemonic: derive from the keystore silk keys new wrote`);
  const sourcePassword = await existingPassword(from);
  const source = await unlock(from, info, sourcePassword);
  if (source.kind !== 'mnemonic') throw new KeysInputError(`${from} holds one private key, not a mnemonic`);
  const password = await newPassword(out, sourcePassword);
  const seed = mnemonicToSeed(source.secret);
  const master = masterKeyFromSeed(seed);
  const key = target.role === undefined ? derivePath(master, target.path) : deriveSigningKey(master, target.role);
  const bytes = key.privateKey.slice();
  const pubkey = key.publicKey.slice();
  seed.fill(0);
  try {
    const header = await withKdfMessage(`sealing the key ${target.path} in ${out}`, cost, () => writeKeystore(out, { kind: 'private-key', bytes, pubkey, path: target.path }, password, { scrypt: cost, force }));
    if (values.json === true) {
      console.log(JSON.stringify({ file: out, kind: header.kind, pubkey: header.pubkey, path: header.path, ...(target.role === undefined ? {} : { role: target.role }), kdf: header.kdf, N: header.N, r: header.r, p: header.p }));
    } else {
      const role = target.role === undefined ? 'org admin key' : `function ${target.role.function}, level ${target.role.level}, member ${target.role.member}`;
      console.log(fields([['Keystore', out], ['Kind', describeKind(header)], ['Path', `${target.path}  (${role})`], ['Public key', header.pubkey], ['Sealed with', describeCost(header)]]));
    }
  } finally {
    bytes.fill(0);
  }
  return EXIT.ok;
}

function singleFile(argv: string[], command: string): { file: string; json: boolean } {
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean' } }, strict: true, allowPositionals: true });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError(`silk keys ${command} takes one keystore FILE\n${USAGE}`);
  return { file, json: values.json === true };
}

async function keysShow(argv: string[]): Promise<number> {
  const { file, json } = singleFile(argv, 'show');
  const h = keystoreInfo(file);
  if (json) {
    console.log(JSON.stringify({ file, v: h.v, kind: h.kind, pubkey: h.pubkey, path: h.path, kdf: h.kdf, N: h.N, r: h.r, p: h.p, created: h.created }));
  } else {
    console.log(fields([
      ['Keystore', `${file} (version ${h.v})`],
      ['Kind', describeKind(h)],
      ['Public key', `${h.pubkey}  (${describeKey(h)})`],
      ['Path', h.path ?? '—'],
      ['KDF', describeCost(h)],
      ['Created', h.created],
    ]));
    console.log('\nThe header is authenticated only when the keystore is unlocked: silk keys export-public checks it.');
  }
  return Promise.resolve(EXIT.ok);
}

async function keysExportPublic(argv: string[]): Promise<number> {
  const { file, json } = singleFile(argv, 'export-public');
  const header = keystoreInfo(file);
  // The header's public key is authenticated only by the AES-GCM tag: unlock before handing it out.
  const ks = await unlock(file, header, await existingPassword(file));
  const pubkey = toHex(ks.pubkey);
  const pem = publicKeyObject(ks.pubkey).export({ type: 'spki', format: 'pem' }).toString();
  if (json) {
    console.log(JSON.stringify({ file, kind: ks.kind, pubkey, path: ks.path, pem }));
  } else {
    console.log(fields([['Public key', pubkey], ['Key', describeKey(header)]]));
    console.log(`\n${pem.trimEnd()}`);
  }
  return EXIT.ok;
}

const SUBCOMMANDS: Readonly<Record<string, (argv: string[]) => Promise<number>>> = {
  new: keysNew,
  derive: keysDerive,
  show: keysShow,
  'export-public': keysExportPublic,
};

/** Runs `silk keys new | derive | show | export-public`. */
export async function keysCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const run = sub !== undefined && Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
  if (run === undefined) throw new UsageError(sub === undefined ? USAGE : `unknown subcommand 'keys ${sub}'\n${USAGE}`);
  try {
    return await run(rest);
  } catch (e) {
    if (e instanceof KeysInputError || isKeystoreError(e) || isSilkError(e, 'INVALID_ARGUMENT')) {
      console.error(`silk: ${e.message}`);
      return EXIT.usage;
    }
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      console.error(`silk: ${(e as Error).message}`);
      return EXIT.failure;
    }
    throw e;
  }
}
