/**
 * `silk guardians …`: k-of-n recovery of an org's master secret by guardian orgs (docs/recall.md).
 *
 * - `publish-key`: a guardian org publishes its encryption public key (from its key tree).
 * - `setup`: the org splits its secret among guardians, seals each share to their published keys.
 * - `request`: a new key asks for recovery; writes the new signing and encryption keys to a file.
 * - `cancel`: the org's (old) admin cancels a request during the delay.
 * - `release`: a guardian re-seals its share to the requester (after the delay).
 * - `recover`: the requester collects the shares, checks each against its commitment, combines.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { JsonValue } from '../../ledger/json-value.js';
import { fromHex, toHex } from '../../crypto/hash.js';
import { generatePrivateKeyPem, signerFromPem } from '../../crypto/p256.js';
import { recallKeys, type StoredEncryptionKey } from '../../contracts/recall/recall-formats.js';
import { deriveEncryptionKey } from '../../keys/key-tree.js';
import { masterKeyFromSecret } from '../../keys/slip10.js';
import { compressedPoint, deriveHpkeKeyPair } from '../../keys/hpke.js';
import { createGuardianSetup, DEFAULT_GUARDIAN_DELAY_MS } from '../../keys/guardians/guardian-setup.js';
import { createRecoveryRequest } from '../../keys/guardians/recovery-request.js';
import { createShareRelease } from '../../keys/guardians/guardian-release.js';
import { recoverFromGuardians } from '../../keys/guardians/guardian-recovery.js';
import { isRecoveryError } from '../../keys/recall/recovery-error.js';
import { EXIT, UsageError } from '../cli-support.js';
import { fields } from '../human-format.js';
import { CLIENT_OPTIONS, InputError, integerArgument, keyFile, nodeClient, reportFailures, SIGNING_OPTIONS } from '../node-client.js';
import { loadMasterSecret, readRecallState, readTextArgument, RECALL_CONTRACT, required, TREE_OPTIONS, writeSecretFile } from './recall.js';

const USAGE = `usage: silk guardians publish-key --chain C --org O (--mnemonic-file F | --keystore F) --key PEM [--index N]
       silk guardians setup --chain C --org O (--mnemonic-file F | --keystore F) --key PEM
                            --guardians A,B,C --threshold K [--delay 72h]
       silk guardians request --chain C --org O --key PEM --out REQUEST.json
       silk guardians cancel --chain C --org O --request ID --key PEM
       silk guardians release --chain C --org O --request ID --guardian G (--mnemonic-file F | --keystore F) --key PEM [--index N]
       silk guardians recover --request-file REQUEST.json --out SECRET.json [--force]
  (each also takes --url URL, --ca FILE and --json)`;

const BASE = { ...CLIENT_OPTIONS, chain: { type: 'string' }, org: { type: 'string' } } as const;
const OPTIONS = {
  'publish-key': { ...BASE, ...SIGNING_OPTIONS, ...TREE_OPTIONS, index: { type: 'string' } },
  setup: { ...BASE, ...SIGNING_OPTIONS, ...TREE_OPTIONS, guardians: { type: 'string' }, threshold: { type: 'string' }, delay: { type: 'string' } },
  request: { ...BASE, ...SIGNING_OPTIONS, out: { type: 'string' } },
  cancel: { ...BASE, ...SIGNING_OPTIONS, request: { type: 'string' } },
  release: { ...BASE, ...SIGNING_OPTIONS, ...TREE_OPTIONS, request: { type: 'string' }, guardian: { type: 'string' }, index: { type: 'string' } },
  recover: { ...CLIENT_OPTIONS, 'request-file': { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' } },
} as const;

const DELAY_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A delay such as `72h`, `30m`, `90s`, `1500ms` or `3d`.
 * @throws InputError otherwise
 */
export function parseDelay(text: string): number {
  const m = /^(\d{1,9})(ms|s|m|h|d)$/.exec(text.trim());
  const unit = m?.[2] === undefined ? undefined : DELAY_UNITS[m[2]];
  if (m?.[1] === undefined || unit === undefined) throw new InputError(`--delay is a number and a unit (ms, s, m, h, d), e.g. 72h; got '${text}'`);
  return Number(m[1]) * unit;
}

/** What `request` writes and `recover` reads: the requester's keys, in the clear (mode 0600). */
interface RequestFile {
  readonly v: 1;
  readonly kind: 'silkledger-recovery-request';
  readonly chain: string;
  readonly org: string;
  readonly requestId: string;
  /** The new signing key (PKCS#8 PEM). */
  readonly newKeyPem: string;
  /** The encryption private key the shares are sealed to (hex). */
  readonly encryptionPrivateKey: string;
  readonly url: string;
}

function where(values: { chain?: string | undefined; org?: string | undefined }): { chain: string; org: string } {
  return { chain: required(values.chain, 'chain', USAGE), org: required(values.org, 'org', USAGE) };
}

async function submit(values: { url?: string | undefined; key?: string | undefined }, chain: string, fn: string, args: unknown, what: string): Promise<{ txId: string; blockNumber: number; response: JsonValue }> {
  const signer = await keyFile(values, `guardians ${what}`);
  const r = await nodeClient(values).submit({ chain, contract: RECALL_CONTRACT, fn, args: args as JsonValue }, signer);
  return { txId: r.txId, blockNumber: r.blockNumber, response: r.response ?? null };
}

function report(json: boolean, result: JsonValue, human: string): number {
  console.log(json ? JSON.stringify(result) : human);
  return EXIT.ok;
}

async function publishKey(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS['publish-key'], strict: true });
  const { chain, org } = where(values);
  return reportFailures(values.json === true, async () => {
    const secret = await loadMasterSecret(values, USAGE);
    const pair = deriveEncryptionKey(masterKeyFromSecret(secret), values.index === undefined ? 0 : integerArgument(values.index, '--index'));
    secret.fill(0);
    pair.privateKey.fill(0);
    const publicKey = toHex(compressedPoint(pair.publicKey));
    const r = await submit(values, chain, 'publishEncryptionKey', { publicKey }, 'publish-key');
    return report(values.json === true, { org, publicKey, txId: r.txId }, `Published the encryption key of ${org} on ${chain}: ${publicKey}\n  (block ${r.blockNumber}, transaction ${r.txId})`);
  });
}

async function setup(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS.setup, strict: true });
  const { chain, org } = where(values);
  const guardianOrgs = required(values.guardians, 'guardians', USAGE).split(',').map((g) => g.trim());
  const threshold = integerArgument(required(values.threshold, 'threshold', USAGE), '--threshold');
  return reportFailures(values.json === true, async () => {
    const delayMs = values.delay === undefined ? DEFAULT_GUARDIAN_DELAY_MS : parseDelay(values.delay);
    const guardians = [];
    for (const g of guardianOrgs) {
      const published = await readRecallState(values, chain, recallKeys.encryptionKey(g)) as StoredEncryptionKey | undefined;
      if (published === undefined) throw new InputError(`guardian ${g} has published no encryption key on ${chain} (silk guardians publish-key)`);
      guardians.push({ org: g, encryptionKey: fromHex(published.publicKey) });
    }
    const secret = await loadMasterSecret(values, USAGE);
    const signer = await keyFile(values, 'guardians setup');
    let made;
    try {
      made = await createGuardianSetup({ secret, chain, org, threshold, guardians, delayMs, signer });
    } finally {
      secret.fill(0);
    }
    const r = await submit(values, chain, 'setupGuardians', { setup: made }, 'setup');
    return report(values.json === true, { org, threshold, guardians: guardianOrgs, delayMs, txId: r.txId }, `Guardians of ${org} on ${chain}: any ${threshold} of ${guardianOrgs.join(', ')}, after a delay of ${delayMs} ms\n  (block ${r.blockNumber}, transaction ${r.txId})`);
  });
}

async function request(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS.request, strict: true });
  const { chain, org } = where(values);
  const out = required(values.out, 'out', USAGE);
  return reportFailures(values.json === true, async () => {
    const newKeyPem = generatePrivateKeyPem();
    const encryption = await deriveHpkeKeyPair(randomBytes(32));
    const made = await createRecoveryRequest({ chain, org, newKey: signerFromPem(newKeyPem), encryptionKey: encryption.publicKey });
    const file: RequestFile = { v: 1, kind: 'silkledger-recovery-request', chain, org, requestId: made.requestId, newKeyPem, encryptionPrivateKey: toHex(encryption.privateKey), url: nodeClient(values).url };
    try {
      writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      throw new InputError(`cannot write ${out}: ${(e as Error).message}`);
    }
    const r = await submit(values, chain, 'requestRecovery', { request: made }, 'request');
    const from = (r.response as { releasableFrom?: number } | null)?.releasableFrom;
    return report(values.json === true, { org, requestId: made.requestId, newKey: made.newKey, releasableFrom: from ?? null, txId: r.txId, out },
      `Recovery request ${made.requestId} for ${org} on ${chain}\n${fields([['New key', made.newKey], ['Guardians may release from', from === undefined ? '?' : new Date(from).toISOString()], ['Keys written to', `${out} (mode 0600: keep it until recovery)`], ['Transaction', r.txId]], 2)}`);
  });
}

async function cancel(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS.cancel, strict: true });
  const { chain, org } = where(values);
  const requestId = required(values.request, 'request', USAGE);
  return reportFailures(values.json === true, async () => {
    const r = await submit(values, chain, 'cancelRecovery', { org, requestId }, 'cancel');
    return report(values.json === true, { org, requestId, status: 'cancelled', txId: r.txId }, `Cancelled recovery request ${requestId} of ${org} (transaction ${r.txId})`);
  });
}

async function readRequest(values: { url?: string | undefined }, chain: string, org: string, requestId: string): Promise<{ request: JsonValue; releases: JsonValue[] }> {
  const stored = await readRecallState(values, chain, recallKeys.request(org, requestId));
  if (stored === undefined) throw new InputError(`no recovery request ${requestId} for ${org} on ${chain}`);
  const page = await nodeClient(values).range(chain, RECALL_CONTRACT, { start: recallKeys.releasesStart(org, requestId), end: recallKeys.releasesEnd(org, requestId), limit: 100 });
  return { request: stored, releases: page.items.map((e) => e.value) };
}

async function release(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS.release, strict: true });
  const { chain, org } = where(values);
  const requestId = required(values.request, 'request', USAGE);
  const guardian = required(values.guardian, 'guardian', USAGE);
  return reportFailures(values.json === true, async () => {
    const setupValue = await readRecallState(values, chain, recallKeys.guardians(org));
    if (setupValue === undefined) throw new InputError(`${org} has no guardians on ${chain}`);
    const { request: stored } = await readRequest(values, chain, org, requestId);
    const secret = await loadMasterSecret(values, USAGE);
    const pair = deriveEncryptionKey(masterKeyFromSecret(secret), values.index === undefined ? 0 : integerArgument(values.index, '--index'));
    secret.fill(0);
    let made;
    try {
      made = await createShareRelease({ setup: setupValue, request: stored, guardian, encryptionPrivateKey: pair.privateKey, now: Date.now() });
    } catch (e) {
      if (isRecoveryError(e)) throw new InputError(`not released: ${e.message}`);
      throw e;
    } finally {
      pair.privateKey.fill(0);
    }
    const r = await submit(values, chain, 'releaseShare', { release: made }, 'release');
    return report(values.json === true, { org, requestId, index: made.index, guardian, txId: r.txId }, `${guardian} released share ${made.index} of ${org} to request ${requestId} (transaction ${r.txId})`);
  });
}

function readRequestFile(path: string): RequestFile {
  let file: Partial<RequestFile>;
  try {
    file = JSON.parse(readTextArgument(path, 'request file')) as Partial<RequestFile>;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path} is not a recovery request file: ${(e as Error).message}`);
  }
  if (file.kind !== 'silkledger-recovery-request') throw new InputError(`${path} is not a recovery request file (silk guardians request --out writes one)`);
  return file as RequestFile;
}

async function recover(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS.recover, strict: true });
  const requestFile = required(values['request-file'], 'request-file', USAGE);
  const out = required(values.out, 'out', USAGE);
  const json = values.json === true;
  return reportFailures(json, async () => {
    const file = readRequestFile(requestFile);
    const url = { url: values.url ?? file.url, ca: values.ca };
    const setupValue = await readRecallState(url, file.chain, recallKeys.guardians(file.org));
    if (setupValue === undefined) throw new InputError(`${file.org} has no guardians on ${file.chain}`);
    const { request: stored, releases } = await readRequest(url, file.chain, file.org, file.requestId);
    const started = performance.now();
    let recovered;
    try {
      recovered = await recoverFromGuardians({ setup: setupValue, request: stored, releases, encryptionPrivateKey: fromHex(file.encryptionPrivateKey) });
    } catch (e) {
      if (!isRecoveryError(e)) throw e;
      console.error(`silk: guardian recovery failed: ${e.message}`);
      if (json) console.log(JSON.stringify(e.toJSON()));
      return EXIT.failure;
    }
    const ms = performance.now() - started;
    writeSecretFile(out, { chain: file.chain, org: file.org, masterPublicKey: recovered.masterPublicKey, secret: recovered.secret }, values.force === true);
    recovered.secret.fill(0);
    for (const f of recovered.failed) console.error(`silk: warning: ${f.reason}`);
    return report(json, { org: file.org, masterPublicKey: toHex(recovered.masterPublicKey), used: [...recovered.used], failed: recovered.failed.map((f) => ({ ...f })), out, recoverMs: Math.round(ms) },
      `Recovered the master key of ${file.org} from guardians ${recovered.used.join(', ')}\n${fields([['Master public key', toHex(recovered.masterPublicKey)], ['Secret written to', `${out} (mode 0600; move it into a keystore, then delete it)`], ['Took', `${Math.round(ms)} ms`]], 2)}`);
  });
}

const SUBCOMMANDS: Readonly<Record<string, (argv: string[]) => Promise<number>>> = { 'publish-key': publishKey, setup, request, cancel, release, recover };

/** Runs `silk guardians …` (see {@link USAGE}). */
export async function guardiansCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const run = sub !== undefined && Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
  if (run === undefined) throw new UsageError(USAGE);
  return run(rest);
}
