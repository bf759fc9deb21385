/**
 * `identity`: the on-chain registry of member and device keys, installed on every chain.
 *
 * An org's admin (its key in the chain configuration) registers keys with certificates it
 * signed, and registered keys register their own children; every certificate is signed by its
 * parent, stays inside the parent's validity and never exceeds its level. Keys are rotated
 * (planned: the new key replaces the old, the old key's descendants stay valid) or revoked
 * (`retired`, or `compromise`: the key and all its descendants stop being valid). Peers read the
 * committed records into their identity resolver (src/identity/registry-identity-resolver.ts),
 * which is what makes a registered key able to sign; see docs/identity.md.
 *
 * Each record gets the key-level endorsement policy `OR('<org>.peer')`, so once registered only
 * the key's own org's peers can endorse its rotation or revocation.
 */
import { Type } from '@sinclair/typebox';
import { openSignedCertificate, type IdentityCertificate } from '../../identity/identity-certificate.js';
import { ADMIN_FUNCTION, DEFAULT_FUNCTIONS, FUNCTION_KEY_PREFIX, IDENTITY_CONTRACT, identityStateKey, type IdentityRecord } from '../../identity/identity-record.js';
import { ContractRefusal, query, transaction, type Contract, type CreatorIdentity, type TransactionContext } from '../framework/contract.js';
import type { JsonValue } from '../../ledger/json-value.js';

const KeyHex = Type.String({ pattern: '^0[23][0-9a-f]{64}$' });
const CertificateHex = Type.String({ minLength: 2, maxLength: 2048, pattern: '^[0-9a-f]+$' });
const SignatureHex = Type.String({ pattern: '^[0-9a-f]{128}$' });
const OrgName = Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$' });
const FunctionName = Type.String({ pattern: '^[a-z][a-z0-9_-]{0,31}$' });

/** Deepest certificate chain followed. */
const MAX_DEPTH = 16;
/** An org admin's level. */
const ADMIN_LEVEL = 9;

interface FunctionEntry {
  readonly name: string;
  readonly index: number;
  readonly [field: string]: JsonValue;
}

function recordOf(ctx: TransactionContext, keyHex: string): IdentityRecord | undefined {
  return ctx.get(identityStateKey(keyHex)) as IdentityRecord | undefined;
}

function isOrgAdmin(creator: CreatorIdentity, org: string): boolean {
  return creator.role === 'admin' && creator.org === org;
}

function registeredFunction(ctx: TransactionContext, name: string): FunctionEntry | undefined {
  if (Object.hasOwn(DEFAULT_FUNCTIONS, name)) return { name, index: DEFAULT_FUNCTIONS[name] as number };
  return ctx.get(`${FUNCTION_KEY_PREFIX}${name}`) as FunctionEntry | undefined;
}

/** The keys from `keyHex` up to its root, refusing when any of them is compromised. */
function ancestry(ctx: TransactionContext, keyHex: string): IdentityRecord[] {
  const chain: IdentityRecord[] = [];
  for (let r = recordOf(ctx, keyHex); r !== undefined; r = recordOf(ctx, r.parent)) {
    if (chain.length >= MAX_DEPTH) throw new ContractRefusal(`certificate chain of ${keyHex.slice(0, 12)}… is deeper than ${MAX_DEPTH}`);
    if (r.status === 'compromised') throw new ContractRefusal(`key ${r.key.slice(0, 12)}… in the certificate chain is revoked as compromised`);
    chain.push(r);
  }
  return chain;
}

/** The parent's authority: level and validity window; refuses a parent that cannot certify now. */
function parentAuthority(ctx: TransactionContext, cert: IdentityCertificate, parentHex: string, knownRoot: string | undefined): { level: number; notBefore: number; notAfter: number } {
  const parent = recordOf(ctx, parentHex);
  if (parent === undefined) {
    // Not registered: it must be the org's admin key in the chain configuration, submitting
    // itself (or, in a rotation, the admin key that certified the key being replaced). Peers
    // check again at every use that the root is an admin of the configuration in force.
    if (parentHex !== knownRoot && (!isOrgAdmin(ctx.creator, cert.org) || ctx.creator.key !== parentHex)) {
      throw new ContractRefusal(`the parent key is neither registered nor ${cert.org}'s admin key submitting this registration`);
    }
    return { level: ADMIN_LEVEL, notBefore: 0, notAfter: Number.MAX_SAFE_INTEGER };
  }
  ancestry(ctx, parentHex);
  if (parent.org !== cert.org) throw new ContractRefusal(`the parent key belongs to ${parent.org}, not ${cert.org}`);
  if (parent.status !== 'active') throw new ContractRefusal(`the parent key is ${parent.status}`);
  if (ctx.timestamp < parent.notBefore || ctx.timestamp > parent.notAfter) throw new ContractRefusal('the parent key is outside its validity window');
  return { level: parent.level, notBefore: parent.notBefore, notAfter: parent.notAfter };
}

/** Checks a new certificate against its parent and the registry; returns its record. */
function admit(ctx: TransactionContext, certificateHex: string, signatureHex: string, rotated?: IdentityRecord): { record: IdentityRecord; cert: IdentityCertificate } {
  const opened = openSignedCertificate(certificateHex, signatureHex);
  if ('problem' in opened) throw new ContractRefusal(opened.problem);
  const cert = opened.certificate;
  const keyHex = hex(cert.key);
  const parentHex = hex(cert.parent);
  if (cert.chain !== ctx.chain) throw new ContractRefusal(`the certificate is for chain ${cert.chain}, not ${ctx.chain}`);
  if (!isOrgAdmin(ctx.creator, cert.org) && ctx.creator.key !== parentHex && ctx.creator.key !== rotated?.key) {
    throw new ContractRefusal(`only ${cert.org}'s admin or the holder of the parent key may register this key`);
  }
  if (registeredFunction(ctx, cert.function) === undefined) throw new ContractRefusal(`function ${cert.function} is not in the chain's function registry`);
  if (cert.function === ADMIN_FUNCTION) throw new ContractRefusal('the admin function belongs to the admin keys of the chain configuration');
  if (recordOf(ctx, keyHex) !== undefined) throw new ContractRefusal(`key ${keyHex.slice(0, 12)}… is already registered`);
  const parent = parentAuthority(ctx, cert, parentHex, rotated?.parent);
  if (cert.level > parent.level) throw new ContractRefusal(`level ${cert.level} exceeds the parent's level ${parent.level}`);
  if (cert.notBefore < parent.notBefore || cert.notAfter > parent.notAfter) throw new ContractRefusal("the certificate's validity is not inside its parent's");
  if (ctx.timestamp > cert.notAfter) throw new ContractRefusal('the certificate has already expired');
  const record: IdentityRecord = {
    key: keyHex,
    org: cert.org,
    function: cert.function,
    level: cert.level,
    path: cert.path,
    kind: cert.kind,
    parent: parentHex,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    certificate: certificateHex,
    signature: signatureHex,
    status: 'active',
    registeredTx: ctx.txId,
  };
  return { record, cert };
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function store(ctx: TransactionContext, record: IdentityRecord): void {
  const key = identityStateKey(record.key);
  ctx.put(key, record as unknown as JsonValue);
  ctx.setKeyPolicy(key, `OR('${record.org}.peer')`);
}

/** May the creator end (rotate or revoke) `record`: its org's admin, the key itself or the holder of an ancestor. */
function mayEnd(ctx: TransactionContext, record: IdentityRecord): boolean {
  const creator = ctx.creator;
  if (isOrgAdmin(creator, record.org) || creator.key === record.key) return true;
  for (let r: IdentityRecord | undefined = record, depth = 0; r !== undefined && depth < MAX_DEPTH; r = recordOf(ctx, r.parent), depth++) {
    if (r.parent === creator.key) return true;
  }
  return false;
}

function publicRecord(r: IdentityRecord): JsonValue {
  return { ...r } as unknown as JsonValue;
}

/** The `identity` contract. */
export class IdentityContract implements Contract {
  readonly name = IDENTITY_CONTRACT;
  readonly version = '1.0';
  readonly indexes = [{ name: 'org', fields: ['org'] }];

  readonly functions = {
    /** Adds a function to the chain's registry (an org admin only). */
    registerFunction: transaction(Type.Object({ name: FunctionName, index: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 }) }, { additionalProperties: false }), (ctx, { name, index }) => {
      if (ctx.creator.role !== 'admin') throw new ContractRefusal('only an org admin may register a function');
      if (registeredFunction(ctx, name) !== undefined) throw new ContractRefusal(`function ${name} is already registered`);
      const taken = Object.values(DEFAULT_FUNCTIONS).includes(index) || ctx.range(FUNCTION_KEY_PREFIX, `${FUNCTION_KEY_PREFIX}\uffff`, { limit: 1000 }).items.some((e) => (e.value as FunctionEntry).index === index);
      if (taken) throw new ContractRefusal(`function index ${index} is already used`);
      const entry = { name, index, registeredBy: ctx.creator.org };
      ctx.put(`${FUNCTION_KEY_PREFIX}${name}`, entry);
      ctx.emit('FunctionRegistered', entry);
      return entry;
    }),
    /** Registers a key with a certificate signed by its parent. */
    register: transaction(Type.Object({ certificate: CertificateHex, signature: SignatureHex }, { additionalProperties: false }), (ctx, { certificate, signature }) => {
      const { record } = admit(ctx, certificate, signature);
      store(ctx, record);
      ctx.emit('IdentityRegistered', { key: record.key, org: record.org, function: record.function, level: record.level });
      return publicRecord(record);
    }),
    /** Planned rotation: the new key (its own certificate) replaces `oldKey`; the old key's descendants stay valid. */
    rotate: transaction(Type.Object({ oldKey: KeyHex, certificate: CertificateHex, signature: SignatureHex }, { additionalProperties: false }), (ctx, { oldKey, certificate, signature }) => {
      const old = recordOf(ctx, oldKey);
      if (old === undefined) throw new ContractRefusal(`key ${oldKey.slice(0, 12)}… is not registered`);
      if (old.status !== 'active') throw new ContractRefusal(`key ${oldKey.slice(0, 12)}… is ${old.status}`);
      if (!mayEnd(ctx, old)) throw new ContractRefusal(`only ${old.org}'s admin, the key itself or an ancestor's holder may rotate it`);
      const { record, cert } = admit(ctx, certificate, signature, old);
      if (cert.org !== old.org) throw new ContractRefusal(`the new key belongs to ${cert.org}, not ${old.org}`);
      store(ctx, { ...old, status: 'retired', replacedBy: record.key, endedTx: ctx.txId });
      store(ctx, { ...record, replaces: oldKey });
      ctx.emit('IdentityRotated', { oldKey, newKey: record.key, org: record.org });
      return publicRecord({ ...record, replaces: oldKey });
    }),
    /** Revokes a key: `retired` stops it alone; `compromise` stops it and all its descendants. */
    revoke: transaction(Type.Object({ key: KeyHex, reason: Type.Union([Type.Literal('compromise'), Type.Literal('retired')]) }, { additionalProperties: false }), (ctx, { key, reason }) => {
      const r = recordOf(ctx, key);
      if (r === undefined) throw new ContractRefusal(`key ${key.slice(0, 12)}… is not registered`);
      if (!mayEnd(ctx, r)) throw new ContractRefusal(`only ${r.org}'s admin, the key itself or an ancestor's holder may revoke it`);
      const status = reason === 'compromise' ? 'compromised' : 'retired';
      if (r.status === status || r.status === 'compromised') throw new ContractRefusal(`key ${key.slice(0, 12)}… is already ${r.status}`);
      const updated: IdentityRecord = { ...r, status, endedTx: ctx.txId };
      store(ctx, updated);
      ctx.emit('IdentityRevoked', { key, org: r.org, reason });
      return publicRecord(updated);
    }),
    /** A registered key's record and its certificate chain up to the configured admin key. */
    identityOf: query(Type.Object({ key: KeyHex }, { additionalProperties: false }), (ctx, { key }) => {
      const r = recordOf(ctx, key);
      if (r === undefined) return null;
      const chain: JsonValue[] = [];
      for (let p = recordOf(ctx, r.parent); p !== undefined && chain.length < MAX_DEPTH; p = recordOf(ctx, p.parent)) chain.push(publicRecord(p));
      return { record: publicRecord(r), ancestors: chain };
    }),
    /** Registered keys of an org, paginated. */
    identities: query(Type.Object({ org: OrgName, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), bookmark: Type.Optional(Type.String({ maxLength: 1024 })) }, { additionalProperties: false }), (ctx, a) => {
      const page = ctx.query({ selector: { org: a.org } }, { limit: a.limit ?? 100, ...(a.bookmark === undefined ? {} : { bookmark: a.bookmark }) });
      return { items: page.items.map((e) => e.value), ...(page.bookmark === undefined ? {} : { bookmark: page.bookmark }) };
    }),
    /** The chain's function registry: the defaults and those registered since. */
    functions: query(Type.Object({}, { additionalProperties: false }), (ctx) => {
      const registered = ctx.range(FUNCTION_KEY_PREFIX, `${FUNCTION_KEY_PREFIX}\uffff`, { limit: 1000 }).items.map((e) => e.value as FunctionEntry);
      return [...Object.entries(DEFAULT_FUNCTIONS).map(([name, index]) => ({ name, index })), ...registered.map((f) => ({ name: f.name, index: f.index }))];
    }),
  };
}
