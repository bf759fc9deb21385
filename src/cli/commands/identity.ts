/**
 * `silk identity register | rotate | revoke | list`: manages an org's member and device keys on
 * a chain through the identity contract. Certificates are built and signed by the parent key on
 * this machine; the transaction is signed by the admin key (or the parent's) and endorsed by the
 * org's own peers (the records' key-level policy).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { toHex } from '../../crypto/hash.js';
import { signCertificate, type IdentityCertificate, type IdentityKind } from '../../identity/identity-certificate.js';
import type { JsonValue } from '../../ledger/json-value.js';
import { signerFromPem, type Signer } from '../../sdk/index.js';
import { EXIT, UsageError } from '../cli-support.js';
import { CLIENT_OPTIONS, InputError, integerArgument, nodeClient, reportFailures } from '../node-client.js';

const CERT_OPTIONS = {
  org: { type: 'string' },
  'key-file': { type: 'string' },
  pubkey: { type: 'string' },
  function: { type: 'string' },
  level: { type: 'string' },
  path: { type: 'string' },
  kind: { type: 'string' },
  member: { type: 'boolean' },
  device: { type: 'boolean' },
  'not-before': { type: 'string' },
  'valid-days': { type: 'string' },
  'parent-key': { type: 'string' },
  'admin-key': { type: 'string' },
  'old-key': { type: 'string' },
} as const;
const OPTIONS = { ...CLIENT_OPTIONS, ...CERT_OPTIONS, key: { type: 'string' }, reason: { type: 'string' }, limit: { type: 'string' }, bookmark: { type: 'string' } } as const;
type Values = { readonly [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

const KEY_HEX = /^0[23][0-9a-f]{64}$/;
const DAY_MS = 86_400_000;
const USAGE = `usage:
  silk identity register CHAIN --org ORG (--key-file PEM | --pubkey HEX) --function F --level N --path P
                         [--member | --device] [--valid-days N] --parent-key PEM [--admin-key PEM]
  silk identity rotate CHAIN --old-key HEX (--key-file PEM | --pubkey HEX) … the same certificate options
  silk identity revoke CHAIN --key HEX --reason compromise|retired --admin-key PEM
  silk identity list CHAIN [--org ORG] [--limit N] [--bookmark B]`;

function pem(path: string | undefined, what: string): Signer {
  if (path === undefined) throw new InputError(`give ${what} PEM-FILE`);
  try {
    return signerFromPem(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`${what} ${path}: ${(e as Error).message}`);
  }
}

function keyHex(text: string | undefined, what: string): string {
  if (text === undefined || !KEY_HEX.test(text)) throw new InputError(`${what} is the hex of a compressed P-256 public key (66 characters, 02… or 03…)`);
  return text;
}

/** `--member` (the default), `--device` or `--kind member|device`; contradictions are refused rather than guessed. */
function kindOf(v: Values): IdentityKind {
  if (v.kind !== undefined && v.kind !== 'member' && v.kind !== 'device') throw new InputError(`--kind is member or device, got '${v.kind}'`);
  const asked = new Set<IdentityKind>();
  if (v.member === true) asked.add('member');
  if (v.device === true) asked.add('device');
  if (v.kind !== undefined) asked.add(v.kind);
  if (asked.size > 1) throw new InputError('give one kind: --member, --device or --kind');
  return asked.has('device') ? 'device' : 'member';
}

/**
 * Builds and signs the certificate. Without `--valid-days` it is valid for a year, but never past
 * `parentNotAfter` (a registered parent's end): a child's window must lie inside its parent's.
 */
function certificateArgs(chain: string, v: Values, parent: Signer, parentNotAfter: number | undefined): { certificate: string; signature: string } {
  const subject = v.pubkey !== undefined ? keyHex(v.pubkey, '--pubkey') : v['key-file'] !== undefined ? toHex(pem(v['key-file'], '--key-file').publicKey) : undefined;
  if (subject === undefined) throw new InputError('give the new key as --key-file PEM or --pubkey HEX');
  if (v.org === undefined || v.function === undefined || v.level === undefined || v.path === undefined) throw new InputError('give --org, --function, --level and --path');
  const kind = kindOf(v);
  const notBefore = v['not-before'] === undefined ? Date.now() : integerArgument(v['not-before'], '--not-before');
  const days = v['valid-days'] === undefined ? undefined : integerArgument(v['valid-days'], '--valid-days');
  const notAfter = days === undefined ? Math.min(notBefore + 365 * DAY_MS, parentNotAfter ?? Number.MAX_SAFE_INTEGER) : notBefore + days * DAY_MS;
  const cert: IdentityCertificate = {
    v: 1, chain, org: v.org, key: Uint8Array.from(Buffer.from(subject, 'hex')), parent: parent.publicKey,
    function: v.function, level: integerArgument(v.level, '--level'), path: v.path, kind, notBefore, notAfter,
  };
  try {
    const { bytes, signature } = signCertificate(cert, parent);
    return { certificate: toHex(bytes), signature: toHex(signature) };
  } catch (e) {
    throw new InputError((e as Error).message);
  }
}

/**
 * Runs `silk identity register|rotate|revoke|list CHAIN …`.
 * @returns 0 when done, 2 for bad usage, 4 when the node refused, 5 when it is unreachable
 */
export async function identityCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [action, chain, ...extra] = positionals;
  if (action === undefined || chain === undefined || extra.length > 0 || !['register', 'rotate', 'revoke', 'list'].includes(action)) throw new UsageError(USAGE);
  const v = values as Values;
  const json = v.json === true;
  return reportFailures(json, async () => {
    const client = nodeClient(v);
    if (action === 'list') {
      const page = await client.identities(chain, { ...(v.org === undefined ? {} : { org: v.org }), ...(v.limit === undefined ? {} : { limit: integerArgument(v.limit, '--limit') }), ...(v.bookmark === undefined ? {} : { bookmark: v.bookmark }) });
      if (json) {
        console.log(JSON.stringify(page));
        return EXIT.ok;
      }
      for (const item of page.items) console.log(`${item.key}  ${item.org}  ${item.function}@${item.level}  ${item.kind}  ${item.status}  ${item.path}`);
      const n = `${page.items.length} ${page.items.length === 1 ? 'identity' : 'identities'}`;
      console.log(page.bookmark === undefined ? n : `${n}; more: run again with --bookmark ${page.bookmark}`);
      return EXIT.ok;
    }
    let fn: string;
    let args: JsonValue;
    let signer: Signer;
    let org = v.org;
    if (action === 'revoke') {
      if (v.reason !== 'compromise' && v.reason !== 'retired') throw new InputError('--reason is compromise or retired');
      fn = 'revoke';
      args = { key: keyHex(v.key, '--key'), reason: v.reason };
      signer = pem(v['admin-key'], '--admin-key');
      const answer = await client.identity(chain, keyHex(v.key, '--key'));
      org = 'record' in answer ? answer.record.org : undefined;
    } else {
      const parent = pem(v['parent-key'], '--parent-key');
      // Bad options are refused (exit 2) before the node is asked anything.
      let cert = certificateArgs(chain, v, parent, undefined);
      if (v['valid-days'] === undefined) {
        // A configured admin key has no record (and no window); a registered parent's bounds the child's.
        const parentView = await client.identity(chain, toHex(parent.publicKey));
        if ('record' in parentView) cert = certificateArgs(chain, v, parent, parentView.record.notAfter);
      }
      fn = action;
      args = action === 'rotate' ? { oldKey: keyHex(v['old-key'], '--old-key'), ...cert } : cert;
      signer = v['admin-key'] === undefined ? parent : pem(v['admin-key'], '--admin-key');
    }
    const result = await client.submit({ chain, contract: 'identity', fn, args, ...(org === undefined ? {} : { endorsingOrgs: [org] }) }, signer);
    console.log(json ? JSON.stringify(result) : `VALID: ${action} committed in block ${result.blockNumber} of chain ${chain} (transaction ${result.txId})`);
    return EXIT.ok;
  });
}
