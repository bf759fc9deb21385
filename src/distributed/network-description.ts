/**
 * The network description of distributed mode: one YAML file every process starts from. It lists
 * the orgs (admin key, TLS CA certificate), the chains (the embedded network's `ChainSpec`, so one
 * chain definition serves both modes), and every process with its host, port and data folder:
 * peers, orderers, the etcd members of the ordering log and the API. `silk network up` writes the
 * loopback layout of {@link localNetworkDescription}; separate hosts use a hand-written file of
 * the same format (docs/distributed.md).
 *
 * Relative folders and files in a description are under its root data folder `dataDir`
 * ({@link describedPath}); {@link readNetworkDescription} resolves a relative root against the
 * folder holding the file.
 */
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { parseDocument, stringify } from 'yaml';
import { fromHex } from '../crypto/hash.js';
import { publicKeyObject } from '../crypto/p256.js';
import { SilkError } from '../errors.js';
import { DEFAULT_MAX_IN_FLIGHT, DEFAULT_MIN_IN_FLIGHT } from '../gateway/admission.js';
import { compileEndorsementPolicy } from '../ledger/endorsement-policy.js';
import { peerName } from '../network/org-keyring.js';
import type { ChainSpec, NetworkSpec, OrgSpec } from '../network/embedded-network.js';

/** A host as it stands in a URL: an IPv6 address in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The format version a description carries in `version`. */
export const NETWORK_DESCRIPTION_VERSION = 1;
/** Largest description file read (a description is small; a larger file is a mistake). */
export const MAX_DESCRIPTION_BYTES = 1024 * 1024;

const OrgName = Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$' });
const ProcessName = Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$' });
const Host = Type.String({ minLength: 1, maxLength: 253 });
const Port = Type.Integer({ minimum: 1, maximum: 65_535 });
const Folder = Type.String({ minLength: 1, maxLength: 4096 });

const OrgSchema = Type.Object({
  name: OrgName,
  /** The org admin's public key: 33-byte compressed P-256, hex. */
  adminKey: Type.Optional(Type.String({ pattern: '^0[23][0-9a-f]{64}$' })),
  /** Or the keystore holding the org's key tree (mnemonic) or its admin key. */
  adminKeystore: Type.Optional(Folder),
  /** The org's TLS CA certificate (PEM). */
  tlsCa: Folder,
}, { additionalProperties: false });

const ChainSchema = Type.Object({
  name: OrgName,
  orgs: Type.Optional(Type.Array(OrgName, { minItems: 1, maxItems: 256 })),
  contracts: Type.Array(Type.Object({ name: OrgName, policy: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false }), { maxItems: 256 }),
  txWindowMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 86_400_000 })),
  batch: Type.Optional(Type.Object({
    maxTxs: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    maxBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 32 * 1024 * 1024 })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000 })),
  }, { additionalProperties: false })),
}, { additionalProperties: false });

/** The gateway of a peer process: its commit wait and its admission control (docs/operations.md "Overload"). */
const GatewaySchema = Type.Object({
  commitTimeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 600_000 })),
  admission: Type.Optional(Type.Object({
    targetLatencyMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 60_000 })),
    minInFlight: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    maxInFlight: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    maxWaitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
    maxQueued: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  }, { additionalProperties: false })),
}, { additionalProperties: false });

const PeerSchema = Type.Object({
  name: ProcessName, org: OrgName, host: Host, port: Port, dataDir: Folder,
  chains: Type.Array(OrgName, { minItems: 1, maxItems: 256 }),
  gateway: Type.Optional(GatewaySchema),
}, { additionalProperties: false });

const OrdererSchema = Type.Object({ name: ProcessName, org: OrgName, host: Host, port: Port, dataDir: Folder }, { additionalProperties: false });

const EtcdMemberSchema = Type.Object({
  name: ProcessName, org: OrgName, host: Host, clientPort: Port, peerPort: Port, dataDir: Folder,
}, { additionalProperties: false });

const ApiSchema = Type.Object({
  name: ProcessName, org: OrgName, peer: ProcessName, host: Host, port: Port, dataDir: Folder,
}, { additionalProperties: false });

const DescriptionSchema = Type.Object({
  version: Type.Literal(NETWORK_DESCRIPTION_VERSION),
  dataDir: Folder,
  orgs: Type.Array(OrgSchema, { minItems: 1, maxItems: 256 }),
  chains: Type.Array(ChainSchema, { minItems: 1, maxItems: 256 }),
  peers: Type.Array(PeerSchema, { minItems: 1, maxItems: 1024 }),
  orderers: Type.Array(OrdererSchema, { minItems: 1, maxItems: 64 }),
  etcd: Type.Array(EtcdMemberSchema, { maxItems: 7 }),
  api: ApiSchema,
}, { additionalProperties: false });

/** An org: its admin key (or the keystore holding it) and its TLS CA certificate. */
export type DescribedOrg = Static<typeof OrgSchema>;
/** A peer process. */
export type DescribedPeer = Static<typeof PeerSchema>;
/** An orderer process. */
export type DescribedOrderer = Static<typeof OrdererSchema>;
/** A member of the etcd cluster holding the ordering log; `org` is the org that runs it and issues its certificate. */
export type DescribedEtcdMember = Static<typeof EtcdMemberSchema>;
/** The API process and the peer (of its own org) it fronts. */
export type DescribedApi = Static<typeof ApiSchema>;

/** A validated network description. `chains` are the embedded network's {@link ChainSpec}s. */
export interface NetworkDescription {
  readonly version: typeof NETWORK_DESCRIPTION_VERSION;
  /** Root data folder; relative folders and files below are under it. */
  readonly dataDir: string;
  readonly orgs: readonly DescribedOrg[];
  readonly chains: readonly ChainSpec[];
  readonly peers: readonly DescribedPeer[];
  readonly orderers: readonly DescribedOrderer[];
  readonly etcd: readonly DescribedEtcdMember[];
  readonly api: DescribedApi;
}

// The schema's static type must fit the interface (a compile-time check only).
const _schemaFitsInterface = (d: Static<typeof DescriptionSchema>): NetworkDescription => d;

const checker = TypeCompiler.Compile(DescriptionSchema);

function invalid(path: string, message: string): SilkError {
  return new SilkError('CONFIG_INVALID', `${path}: ${message}`, { path });
}

/** `/peers/2/port` → `peers[2].port`. */
function formatPointer(pointer: string): string {
  let out = '';
  for (const segment of pointer.split('/').slice(1)) {
    const key = segment.replaceAll('~1', '/').replaceAll('~0', '~');
    out += /^\d+$/.test(key) ? `[${key}]` : (out === '' ? key : `.${key}`);
  }
  return out === '' ? '(description)' : out;
}

function checkSchema(value: unknown): NetworkDescription {
  const first = checker.Errors(value).First();
  if (first === undefined) return value as NetworkDescription;
  const path = formatPointer(first.path);
  const known = first.schema as { pattern?: string };
  const hint = known.pattern !== undefined && typeof first.value === 'string' ? ` (got '${first.value.slice(0, 80)}')` : '';
  throw invalid(path, `${first.message}${hint}`);
}

/** Checks hosts: an IPv4/IPv6 address or a DNS name. */
function checkHost(path: string, host: string): void {
  if (isIP(host) !== 0) return;
  const labels = host.split('.');
  if (!labels.every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l))) throw invalid(path, `'${host}' is neither an IP address nor a DNS name`);
}

/** Records values that must be unique, naming the first place a repeated one was seen. */
class UniqueValues {
  readonly #seen = new Map<string, string>();
  constructor(readonly what: string) {}
  add(path: string, value: string): void {
    const earlier = this.#seen.get(value);
    if (earlier !== undefined) throw invalid(path, `${this.what} ${value} is already used by ${earlier}`);
    this.#seen.set(value, path);
  }
}

/** Every process of a description with the path of its entry. */
function processEntries(d: NetworkDescription): { path: string; name: string; org: string; host: string; ports: [string, number][]; dataDir: string }[] {
  return [
    ...d.peers.map((p, i) => ({ path: `peers[${i}]`, name: p.name, org: p.org, host: p.host, ports: [['port', p.port]] as [string, number][], dataDir: p.dataDir })),
    ...d.orderers.map((o, i) => ({ path: `orderers[${i}]`, name: o.name, org: o.org, host: o.host, ports: [['port', o.port]] as [string, number][], dataDir: o.dataDir })),
    ...d.etcd.map((e, i) => ({ path: `etcd[${i}]`, name: e.name, org: e.org, host: e.host, ports: [['clientPort', e.clientPort], ['peerPort', e.peerPort]] as [string, number][], dataDir: e.dataDir })),
    { path: 'api', name: d.api.name, org: d.api.org, host: d.api.host, ports: [['port', d.api.port]], dataDir: d.api.dataDir },
  ];
}

function checkOrgs(d: NetworkDescription): void {
  const names = new UniqueValues('org name');
  d.orgs.forEach((o, i) => {
    names.add(`orgs[${i}].name`, o.name);
    if ((o.adminKey === undefined) === (o.adminKeystore === undefined)) throw invalid(`orgs[${i}]`, 'give exactly one of adminKey (the admin public key, hex) and adminKeystore (a keystore file)');
    if (o.adminKey !== undefined) {
      try {
        publicKeyObject(fromHex(o.adminKey));
      } catch {
        throw invalid(`orgs[${i}].adminKey`, 'not a point on P-256: copy the admin key from the chain configuration');
      }
    }
  });
}

function checkChains(d: NetworkDescription, orgs: ReadonlySet<string>): void {
  const names = new UniqueValues('chain name');
  d.chains.forEach((c, i) => {
    names.add(`chains[${i}].name`, c.name);
    const members = new UniqueValues('member org');
    (c.orgs ?? []).forEach((o, j) => {
      if (!orgs.has(o)) throw invalid(`chains[${i}].orgs[${j}]`, `org ${o} is not listed under orgs`);
      members.add(`chains[${i}].orgs[${j}]`, o);
    });
    const contracts = new UniqueValues('contract');
    c.contracts.forEach((k, j) => {
      contracts.add(`chains[${i}].contracts[${j}].name`, k.name);
      try {
        compileEndorsementPolicy(k.policy);
      } catch (cause) {
        throw new SilkError('CONFIG_INVALID', `chains[${i}].contracts[${j}].policy: ${(cause as Error).message}`, { path: `chains[${i}].contracts[${j}].policy` }, { cause });
      }
    });
  });
}

function checkProcesses(d: NetworkDescription, orgs: ReadonlySet<string>): void {
  const names = new UniqueValues('process name');
  const endpoints = new UniqueValues('address');
  const folders = new UniqueValues('data folder');
  for (const p of processEntries(d)) {
    names.add(`${p.path}.name`, p.name);
    if (!orgs.has(p.org)) throw invalid(`${p.path}.org`, `org ${p.org} is not listed under orgs`);
    checkHost(`${p.path}.host`, p.host);
    for (const [field, port] of p.ports) endpoints.add(`${p.path}.${field}`, `${p.host}:${port}`);
    folders.add(`${p.path}.dataDir`, resolve('/', p.dataDir));
  }
}

function checkPeersServeChains(d: NetworkDescription): void {
  const chains = new Map(d.chains.map((c) => [c.name, c]));
  const allOrgs = d.orgs.map((o) => o.name);
  d.peers.forEach((p, i) => {
    const seen = new UniqueValues('chain');
    p.chains.forEach((name, j) => {
      seen.add(`peers[${i}].chains[${j}]`, name);
      const chain = chains.get(name);
      if (chain === undefined) throw invalid(`peers[${i}].chains[${j}]`, `chain ${name} is not listed under chains`);
      if (!(chain.orgs ?? allOrgs).includes(p.org)) throw invalid(`peers[${i}].chains[${j}]`, `org ${p.org} of peer ${p.name} is not a member of chain ${name}`);
    });
  });
  d.chains.forEach((c, i) => {
    for (const org of c.orgs ?? allOrgs) {
      if (!d.peers.some((p) => p.org === org && p.chains.includes(c.name))) throw invalid(`chains[${i}]`, `member org ${org} has no peer serving chain ${c.name}: list the chain under one of its peers`);
    }
  });
}

/** Admission bounds that cannot hold together (each one alone passed the schema). */
function checkGateways(d: NetworkDescription): void {
  d.peers.forEach((p, i) => {
    const a = p.gateway?.admission;
    if (a === undefined) return;
    const min = a.minInFlight ?? DEFAULT_MIN_IN_FLIGHT;
    const max = a.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    if (min > max) {
      const named = (field: string, v: number, given: boolean): string => `${field} ${v}${given ? '' : ' (the default)'}`;
      throw invalid(`peers[${i}].gateway.admission`, `${named('minInFlight', min, a.minInFlight !== undefined)} is above ${named('maxInFlight', max, a.maxInFlight !== undefined)}`);
    }
  });
}

function checkClusterAndApi(d: NetworkDescription): void {
  // Any count from 1 to 7 (etcd's own bounds): a membership change passes through even counts
  // (3, add one, remove one), and an operator may shrink below 3 on purpose (docs/operations.md).
  if (d.etcd.length < 1) throw invalid('etcd', 'the ordering log needs at least one etcd member (3 or 5 keep a majority through a failure); got 0');
  const peer = d.peers.find((p) => p.name === d.api.peer);
  if (peer === undefined) throw invalid('api.peer', `peer ${d.api.peer} is not listed under peers`);
  if (peer.org !== d.api.org) throw invalid('api.peer', `peer ${peer.name} belongs to ${peer.org}, but the API is ${d.api.org}'s: an API fronts a peer of its own org`);
}

/**
 * Checks a network description: the shape, then unique names, addresses and data folders, that
 * every org named exists, that every member org of a chain has a peer serving it, 1 to 7 etcd
 * members (3 or 5 to survive a failure; other counts occur while the membership changes), at
 * least one orderer, and an API fronting a peer of its own org.
 * @param value untrusted data (for instance parsed YAML)
 * @returns the description, typed
 * @throws SilkError CONFIG_INVALID whose message starts with the failing path (`peers[2].port: …`)
 * @example const description = validateNetworkDescription(JSON.parse(text))
 */
export function validateNetworkDescription(value: unknown): NetworkDescription {
  const d = checkSchema(value);
  checkOrgs(d);
  const orgs = new Set(d.orgs.map((o) => o.name));
  checkChains(d, orgs);
  checkProcesses(d, orgs);
  checkPeersServeChains(d);
  checkGateways(d);
  checkClusterAndApi(d);
  return d;
}

/**
 * Parses and validates the YAML text of a network description.
 * @param text YAML 1.2
 * @param source what to call the text in errors (a file name)
 * @throws SilkError CONFIG_INVALID for YAML syntax (with line and column) or a failed check
 * @example const description = parseNetworkDescription(readFileSync('network.yaml', 'utf8'))
 */
export function parseNetworkDescription(text: string, source = 'network description'): NetworkDescription {
  if (typeof text !== 'string') throw new SilkError('INVALID_ARGUMENT', 'a network description is YAML text');
  if (Buffer.byteLength(text) > MAX_DESCRIPTION_BYTES) throw new SilkError('CONFIG_INVALID', `${source} is larger than ${MAX_DESCRIPTION_BYTES} bytes`);
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const error = doc.errors[0];
  if (error !== undefined) {
    const at = error.linePos?.[0];
    throw new SilkError('CONFIG_INVALID', `${source}${at === undefined ? '' : ` line ${at.line} column ${at.col}`}: not valid YAML: ${error.message.split('\n')[0] ?? ''}`, at === undefined ? {} : { line: at.line, column: at.col });
  }
  try {
    return validateNetworkDescription(doc.toJS({ maxAliasCount: 100 }));
  } catch (e) {
    if (e instanceof SilkError && e.code === 'CONFIG_INVALID') throw new SilkError('CONFIG_INVALID', `${source}: ${e.message}`, e.details, { cause: e });
    throw e;
  }
}

/**
 * Reads a description file. A relative root `dataDir` is taken relative to the file's folder.
 * @throws SilkError CONFIG_INVALID when the file cannot be read or fails a check
 * @example const description = readNetworkDescription('/etc/silk/network.yaml')
 */
export function readNetworkDescription(file: string): NetworkDescription {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new SilkError('CONFIG_INVALID', `cannot read the network description ${file}: ${(cause as Error).message}`, {}, { cause });
  }
  const d = parseNetworkDescription(text, file);
  return isAbsolute(d.dataDir) ? d : { ...d, dataDir: resolve(dirname(file), d.dataDir) };
}

/** How often {@link watchNetworkDescription} looks whether the file changed (at most). */
export const DESCRIPTION_CHECK_MS = 1_000;

/** A description file followed while a process runs: {@link watchNetworkDescription}. */
export interface NetworkDescriptionWatch {
  readonly file: string;
  /**
   * The description as the file holds it now: read again when the file changed (its inode, size
   * or modification time; looked at most once per {@link DESCRIPTION_CHECK_MS}, or at once with
   * `fresh`). A file that cannot be read or fails a check leaves the last good description in use.
   */
  current(fresh?: boolean): NetworkDescription;
}

/**
 * Follows a description file, so a running process sees processes added or removed since it
 * started (`silk network orderer add`, …): its TLS membership and the orderers it sends to are
 * taken from {@link NetworkDescriptionWatch.current}. The membership commands replace the file by
 * renaming a complete new one over it, so a reader never sees half a file.
 * @throws SilkError CONFIG_INVALID when the file cannot be read or fails a check now
 * @example const watch = watchNetworkDescription('network.yaml'); watch.current().orderers
 */
export function watchNetworkDescription(file: string): NetworkDescriptionWatch {
  const stamp = (): string => {
    try {
      const s = statSync(file);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return '';
    }
  };
  let seen = stamp();
  let description = readNetworkDescription(file);
  let checkedAt = Date.now();
  return {
    file,
    current(fresh = false) {
      if (!fresh && Date.now() - checkedAt < DESCRIPTION_CHECK_MS) return description;
      checkedAt = Date.now();
      const now = stamp();
      if (now === seen || now === '') return description;
      try {
        description = readNetworkDescription(file);
        seen = now;
      } catch {
        // A broken file does not take the membership away: the last good description stays.
      }
      return description;
    },
  };
}

/**
 * The YAML text of a description (what {@link parseNetworkDescription} reads back as an equal value).
 * @example writeFileSync('network.yaml', networkDescriptionToYaml(description))
 */
export function networkDescriptionToYaml(description: NetworkDescription): string {
  return `# Silkledger network description (docs/distributed.md)\n${stringify(description, { lineWidth: 0 })}`;
}

/**
 * A folder or file of a description as an absolute path: relative ones are under the root `dataDir`.
 * @example describedPath(description, description.peers[0].dataDir)
 */
export function describedPath(description: NetworkDescription, path: string): string {
  return resolve(description.dataDir, path);
}

/**
 * The embedded network's spec of the description's orgs and chains (peers counted per org), so
 * chain configurations are built the same way in both modes (`chainConfigFromSpec`).
 */
export function networkSpecOf(description: NetworkDescription): NetworkSpec {
  return {
    orgs: description.orgs.map((o) => ({ name: o.name, peers: description.peers.filter((p) => p.org === o.name).length })),
    chains: description.chains,
  };
}

/** An org of {@link localNetworkDescription}: the embedded spec's org, and its admin key if known. */
export interface LocalOrg extends Pick<OrgSpec, 'name' | 'peers'> {
  /** Admin public key (hex); without it the description points at `keys/<org>/mnemonic.keystore.json`. */
  readonly adminKey?: string;
}

/** Parameters of {@link localNetworkDescription}. */
export interface LocalNetworkParameters {
  readonly orgs: readonly LocalOrg[];
  readonly chains: readonly ChainSpec[];
  /** Orderer processes (default 2). */
  readonly orderers?: number;
  /** etcd members (default 3). */
  readonly etcdMembers?: number;
  /** First port; the layout uses `2 × etcdMembers + orderers + peers + 1` consecutive ports. */
  readonly basePort: number;
  /** Root data folder. */
  readonly dataDir: string;
  /** Host every process listens on (default 127.0.0.1). */
  readonly host?: string;
}

/**
 * The loopback layout `silk network up` runs: etcd members `etcd-1…` (client and peer port each),
 * orderers `orderer0…`, each org's peers `peer<i>.<org>` serving every chain the org is a member of,
 * and the API fronting the first org's first peer; orderers and etcd members are spread over
 * the orgs in turn. Ports are consecutive from `basePort` in that order.
 * @throws SilkError CONFIG_INVALID when the result fails {@link validateNetworkDescription} (or the ports run past 65535)
 * @example localNetworkDescription({ orgs: [{ name: 'Org1' }, { name: 'Org2' }], chains, basePort: 7000, dataDir: './data' })
 */
export function localNetworkDescription(params: LocalNetworkParameters): NetworkDescription {
  const host = params.host ?? '127.0.0.1';
  const ordererCount = params.orderers ?? 2;
  const etcdCount = params.etcdMembers ?? 3;
  let port = params.basePort;
  const next = (): number => port++;
  const orgAt = (i: number): string => (params.orgs[i % params.orgs.length] as LocalOrg).name;
  const allOrgs = params.orgs.map((o) => o.name);
  const etcd = Array.from({ length: etcdCount }, (_, i): DescribedEtcdMember => ({ name: `etcd-${i + 1}`, org: orgAt(i), host, clientPort: next(), peerPort: next(), dataDir: `etcd/etcd-${i + 1}` }));
  const orderers = Array.from({ length: ordererCount }, (_, i): DescribedOrderer => ({ name: `orderer${i}`, org: orgAt(i), host, port: next(), dataDir: `orderers/orderer${i}` }));
  const peers: DescribedPeer[] = [];
  for (const org of params.orgs) {
    const chains = params.chains.filter((c) => (c.orgs ?? allOrgs).includes(org.name)).map((c) => c.name);
    for (let i = 0; i < (org.peers ?? 1); i++) peers.push({ name: peerName(org.name, i), org: org.name, host, port: next(), dataDir: `peers/${peerName(org.name, i)}`, chains });
  }
  const first = params.orgs[0]?.name ?? '';
  const api: DescribedApi = { name: 'api', org: first, peer: peers.find((p) => p.org === first)?.name ?? '', host, port: next(), dataDir: 'api' };
  const orgs = params.orgs.map((o): DescribedOrg => ({
    name: o.name,
    ...(o.adminKey === undefined ? { adminKeystore: `keys/${o.name}/mnemonic.keystore.json` } : { adminKey: o.adminKey }),
    tlsCa: `tls/${o.name}-ca.crt`,
  }));
  return validateNetworkDescription({ version: NETWORK_DESCRIPTION_VERSION, dataDir: params.dataDir, orgs, chains: params.chains, peers, orderers, etcd, api });
}
