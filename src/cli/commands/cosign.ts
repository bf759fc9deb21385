/**
 * Co-signing from the command line, for writes that need an approver no peer can stand in for
 * (a key-level policy naming `'Org1.finance@3'`, docs/api.md "Co-signing"):
 *
 *   silk endorse CHAIN CONTRACT FN ARGS-JSON --key FILE --out ENVELOPE.json   the creator
 *   silk cosign ENVELOPE.json --key FILE                                     each approver, offline
 *   silk submit-envelope ENVELOPE.json                                       anyone
 *
 * The envelope file is JSON (`{ v, chain, txId, envelope }`, the envelope in base64), so it can
 * travel by mail or chat. `cosign` needs no node: it shows what the approver signs and adds the
 * signature on the approver's machine, where the key stays; with `--url` it also names the keys
 * involved as the node knows them.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fromBase64, toBase64 } from '../../api/wire.js';
import { toHex } from '../../crypto/hash.js';
import { cosignEnvelope, isSilkError, SilkError, summarizeEnvelope, type EndorsedEnvelope, type EnvelopeSummary, type SilkClient } from '../../sdk/index.js';
import { EXIT, UsageError } from '../cli-support.js';
import { compact, fields } from '../human-format.js';
import { CLIENT_OPTIONS, InputError, jsonArgument, keyFile, nodeClient, reportFailures, SIGNING_OPTIONS } from '../node-client.js';
import { describeCommitted, endorsingOrgs } from './submit.js';

/** Version of the envelope file format. */
const ENVELOPE_FILE_VERSION = 1;
/** Largest envelope file read: a 2 MiB envelope in base64 and its few fields. */
const MAX_ENVELOPE_FILE_BYTES = 3 * 1024 * 1024;

/** The content of an envelope file. */
interface EnvelopeFile {
  readonly v: number;
  readonly chain: string;
  readonly txId: string;
  /** Base64 of the envelope's canonical bytes. */
  readonly envelope: string;
}

function writeEnvelopeFile(path: string, chain: string, txId: string, envelope: Uint8Array): void {
  const file: EnvelopeFile = { v: ENVELOPE_FILE_VERSION, chain, txId, envelope: toBase64(envelope) };
  // Written beside and renamed: an interrupted write never leaves half an envelope.
  const partial = `${path}.partial`;
  try {
    writeFileSync(partial, `${JSON.stringify(file, null, 2)}\n`);
    renameSync(partial, path);
  } catch (e) {
    throw new InputError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

/**
 * Reads and checks an envelope file: JSON with the fields above, an envelope that decodes, and
 * the chain and tx id the file names being the envelope's own.
 * @throws InputError naming the file and what is wrong with it
 */
function readEnvelopeFile(path: string): { chain: string; envelope: Uint8Array; summary: EnvelopeSummary } {
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MAX_ENVELOPE_FILE_BYTES) throw new InputError(`${path} is ${bytes.length} bytes: an envelope file is at most ${MAX_ENVELOPE_FILE_BYTES}`);
    text = bytes.toString('utf8');
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as { code?: string }).code;
    throw new InputError(`cannot read envelope file ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InputError(`${path} is not an envelope file (not JSON); silk endorse --out writes one`);
  }
  const file = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Partial<EnvelopeFile>;
  if (file.v !== ENVELOPE_FILE_VERSION || typeof file.chain !== 'string' || typeof file.txId !== 'string' || typeof file.envelope !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(file.envelope)) {
    throw new InputError(`${path} is not an envelope file: it needs v ${ENVELOPE_FILE_VERSION}, chain, txId and envelope (base64); silk endorse --out writes one`);
  }
  const envelope = fromBase64(file.envelope);
  let summary: EnvelopeSummary;
  try {
    summary = summarizeEnvelope(envelope);
  } catch (e) {
    throw new InputError(`${path}: the envelope does not decode (${isSilkError(e) ? e.message : String(e)})`);
  }
  if (summary.chain !== file.chain || summary.txId !== file.txId) {
    throw new InputError(`${path}: the file names chain ${file.chain} and transaction ${file.txId}, but its envelope is transaction ${summary.txId} of chain ${summary.chain}`);
  }
  return { chain: file.chain, envelope, summary };
}

/** Who a key is as a node told: its name for people, and whether it may sign now. */
interface KeyIdentity {
  /** `alice (Org1, client)`, `Org1 finance@3 member key`, with the reason when it may not sign now. */
  readonly name: string;
  readonly maySign: boolean;
}

/** Who keys are, by hex. */
type Names = ReadonlyMap<string, KeyIdentity>;

/**
 * Who a key is on `chain`, as the node knows it: a configured member `name (Org, role)`, a
 * registered key `Org finance@3 member key`, with its standing when it may not sign now.
 */
async function whoIs(client: SilkClient, chain: string, key: string): Promise<KeyIdentity> {
  try {
    const r = await client.identity(chain, key);
    const who = 'configured' in r
      ? `${r.configured.name} (${r.configured.org}, ${r.configured.role})`
      : `${r.record.org} ${r.record.function}@${r.record.level} ${r.record.kind} key`;
    return r.standing === 'valid' ? { name: who, maySign: true } : { name: `${who}, may not sign now: ${r.standing}`, maySign: false };
  } catch (e) {
    if (isSilkError(e, 'NOT_FOUND')) return { name: 'not a member of this chain', maySign: false };
    throw e;
  }
}

/** The names of an envelope's creator and endorsers (and `more` keys), asked of the node. */
async function namesOf(client: SilkClient, s: EnvelopeSummary, more: readonly string[] = []): Promise<Names> {
  const keys = [...new Set([s.creator, ...s.endorsers, ...more])];
  return new Map(await Promise.all(keys.map(async (k) => [k, await whoIs(client, s.chain, k)] as const)));
}

/** What a co-signer approves, for people; keys named when `names` knows them. */
function describeEnvelope(s: EnvelopeSummary, names?: Names): string {
  const named = (key: string): string => {
    const who = names?.get(key);
    return who === undefined ? key : `${key}  ${who.name}`;
  };
  return fields([
    ['Transaction', s.txId],
    ['Chain', s.chain],
    ['Call', `${s.contract} ${s.version} ${s.fn} ${compact(s.args)}`],
    ['Proposed by', `${named(s.creator)}\nat ${s.signedAt}`],
    ['Writes', s.writes.length === 0 ? '(none)' : s.writes.map((w) => `${w.key} = ${w.value === null ? '(deleted)' : compact(w.value)}${w.policy === undefined ? '' : `  [sets policy ${w.policy}]`}`).join('\n')],
    ['Endorsed by', s.endorsers.map(named).join('\n')],
  ]);
}

function describeEndorsed(e: EndorsedEnvelope, summary: EnvelopeSummary, out: string, names: Names): string {
  const next = e.unmet === null
    ? `Its endorsements meet every policy: order it with silk submit-envelope ${out}`
    : `Needs a co-signature: ${e.unmet.key === null ? 'the contract policy' : `key ${e.unmet.key}`} requires ${e.unmet.policy}\nEach approver runs: silk cosign ${out} --key THEIR-KEY\nThen: silk submit-envelope ${out}`;
  return `Endorsed, not ordered: written to ${out}\n${describeEnvelope(summary, names)}\n${next}`;
}

/**
 * Runs `silk endorse CHAIN CONTRACT FN ARGS-JSON --key FILE --out FILE [--endorsing-orgs A,B] [--url URL] [--json]`.
 * @returns 0 when endorsed and written, 4 when the node refused, 5 when it is unreachable
 */
export async function endorseCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...CLIENT_OPTIONS, ...SIGNING_OPTIONS, out: { type: 'string' }, 'endorsing-orgs': { type: 'string' } }, allowPositionals: true, strict: true });
  const [chain, contract, fn, argsText, ...extra] = positionals;
  if (chain === undefined || contract === undefined || fn === undefined || argsText === undefined || extra.length > 0 || values.out === undefined) {
    throw new UsageError('usage: silk endorse CHAIN CONTRACT FN ARGS-JSON --key FILE --out ENVELOPE.json [--endorsing-orgs A,B]');
  }
  const out = values.out;
  const json = values.json === true;
  return reportFailures(json, async () => {
    const args = jsonArgument(argsText, 'ARGS-JSON');
    const orgs = endorsingOrgs(values['endorsing-orgs']);
    const signer = await keyFile(values, 'endorse');
    const client = nodeClient(values);
    const endorsed = await client.endorse({ chain, contract, fn, args, ...orgs }, signer);
    writeEnvelopeFile(out, chain, endorsed.txId, endorsed.envelope);
    if (json) {
      console.log(JSON.stringify({ chain, txId: endorsed.txId, file: out, response: endorsed.response, unmet: endorsed.unmet }));
    } else {
      const summary = summarizeEnvelope(endorsed.envelope);
      console.log(describeEndorsed(endorsed, summary, out, await namesOf(client, summary)));
    }
    return EXIT.ok;
  });
}

/**
 * Runs `silk cosign ENVELOPE.json --key FILE [--url URL] [--json]`: shows what the key approves
 * and adds its endorsement to the file. No node is asked unless `--url` is given (not
 * `$SILK_URL`): then the creator, the endorsers and the signing key are named as that node
 * knows them, and a signing key that may not sign now is refused before it signs.
 * @returns 0 when co-signed, 2 when the file or key cannot be used, 4 when the node says the key may not sign
 */
export async function cosignCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...CLIENT_OPTIONS, ...SIGNING_OPTIONS }, allowPositionals: true, strict: true });
  const [path, ...extra] = positionals;
  if (path === undefined || extra.length > 0) throw new UsageError('usage: silk cosign ENVELOPE.json --key FILE [--url URL]');
  const json = values.json === true;
  return reportFailures(json, async () => {
    const { chain, envelope, summary } = readEnvelopeFile(path);
    const signer = await keyFile(values, 'cosign');
    const me = toHex(signer.publicKey);
    let names: Names | undefined;
    if (values.url !== undefined) {
      names = await namesOf(nodeClient(values), summary, [me]);
      const mine = names.get(me);
      if (mine?.maySign !== true) {
        throw new SilkError('UNKNOWN_CREATOR', `${path}: the signing key ${me} is ${mine?.name ?? 'unknown'} on chain ${chain}; nothing was signed`, { key: me });
      }
    }
    let cosigned: Uint8Array;
    try {
      cosigned = cosignEnvelope(envelope, signer);
    } catch (e) {
      throw new InputError(`${path}: ${isSilkError(e) ? e.message : String(e)}`);
    }
    writeEnvelopeFile(path, chain, summary.txId, cosigned);
    const after = summarizeEnvelope(cosigned);
    const signedAs = names?.get(me)?.name;
    console.log(json ? JSON.stringify({ ...after, file: path, ...(names === undefined ? {} : { names: Object.fromEntries(names) }) }) : `Co-signed ${path}${signedAs === undefined ? '' : ` as ${signedAs}`}\n${describeEnvelope(after, names)}\nOrder it with: silk submit-envelope ${path}`);
    return EXIT.ok;
  });
}

/**
 * Runs `silk submit-envelope ENVELOPE.json [--url URL] [--json]`: orders the envelope and waits
 * for its commit.
 * @returns 0 when committed as VALID, 4 when refused or committed invalid, 5 when the node is unreachable
 */
export async function submitEnvelopeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: CLIENT_OPTIONS, allowPositionals: true, strict: true });
  const [path, ...extra] = positionals;
  if (path === undefined || extra.length > 0) throw new UsageError('usage: silk submit-envelope ENVELOPE.json [--url URL]');
  const json = values.json === true;
  return reportFailures(json, async () => {
    const { chain, envelope } = readEnvelopeFile(path);
    const result = await nodeClient(values).submitEnvelope(chain, envelope);
    console.log(json ? JSON.stringify(result) : describeCommitted(chain, result));
    return EXIT.ok;
  });
}
