/**
 * The alliance's TLS PKI for distributed mode. Each org has a TLS CA whose key is the org's admin
 * key, the key the chains' configuration lists for the org (`ChainConfig.orgs[org].members` with
 * role `admin`); the CA certificate is self-signed by that key. The CA issues one certificate per
 * process: peer, orderer, API, etcd member, and the etcd client certificates orderers and peers
 * present to etcd. So "issued by a member org" and "checked against the chain's membership" are
 * one check ({@link identifyPeerCertificate}): the certificate chains to a CA whose public key is
 * an org admin key of the configuration, and names a process the network description registers
 * for that org and role.
 *
 * Certificates are X.509 v3, ECDSA P-256 with SHA-256. A process certificate carries the org in O,
 * the process role in OU (as Fabric's node OUs do) and the process name in CN, subject alternative
 * names for its host (IP address or DNS name), key usage digitalSignature and extended key usages
 * serverAuth and clientAuth (every link is mutual TLS).
 *
 * The CN of a process's `etcd-client` certificate is its network name (`orderer0`, `peer0.org1`):
 * etcd takes it as the user name once its access control is on (etcd-access.ts). One more
 * certificate, `<dataDir>/tls/etcd-root.crt` with CN `root` (issued by the first org's CA), is
 * etcd's administrator: the etcd host and the operator tools present it.
 */
import 'reflect-metadata';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createPublicKey, randomBytes, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { bytesEqual, toHex } from '../crypto/hash.js';
import { generatePrivateKey, publicKeyObject } from '../crypto/p256.js';
import { SilkError } from '../errors.js';
import type { ChainConfig } from '../ledger/chain-config.js';
import { ETCD_ROOT_USER } from './etcd-access.js';
import { describedPath, type NetworkDescription } from './network-description.js';

/** The role a process certificate is issued for (its OU). */
export type ProcessRole = 'peer' | 'orderer' | 'api' | 'etcd' | 'etcd-client';
/** Every process role. */
export const PROCESS_ROLES: readonly ProcessRole[] = ['peer', 'orderer', 'api', 'etcd', 'etcd-client'];
/** OU of an org CA certificate. */
export const TLS_CA_UNIT = 'tls-ca';
/** Default validity of an org CA certificate: 5 years. */
export const CA_VALIDITY_DAYS = 5 * 365;
/** Default validity of a process certificate: 1 year (reissue with {@link writeNetworkCertificates}). */
export const PROCESS_VALIDITY_DAYS = 365;
/** Backdating of notBefore, so a host whose clock is a little behind accepts a fresh certificate. */
const CLOCK_SKEW_MS = 5 * 60_000;
const DAY_MS = 86_400_000;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** Something that signs with a P-256 key: a `Signer` or an `AsyncSigner` (keystore, token). */
export interface CertificateSigner {
  /** 33-byte compressed public key. */
  readonly publicKey: Uint8Array;
  /** A 64-byte P1363 signature over SHA-256 of `message`. */
  sign(message: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/** An org's TLS CA: its certificate and the admin key that signs with it. */
export interface OrgCa {
  readonly org: string;
  readonly certificatePem: string;
  readonly certificate: X509Certificate;
  readonly signer: CertificateSigner;
}

/** A process certificate with its private key. */
export interface ProcessCertificate {
  readonly org: string;
  readonly process: string;
  readonly role: ProcessRole;
  readonly certificatePem: string;
  /** PKCS#8 PEM; write it with mode 0600. */
  readonly privateKeyPem: string;
  readonly certificate: X509Certificate;
}

/** Validity window of a certificate; defaults: from five minutes ago for the default number of days. */
export interface ValidityParameters {
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

/** Parameters of {@link issueOrgCa}. */
export interface IssueOrgCaParameters extends ValidityParameters {
  readonly org: string;
  /** The org admin key (the CA key). */
  readonly signer: CertificateSigner;
}

/** Parameters of {@link issueProcessCertificate}. */
export interface IssueProcessCertificateParameters extends ValidityParameters {
  readonly ca: OrgCa;
  /** Process name (CN), e.g. `peer0.org1`. */
  readonly process: string;
  readonly role: ProcessRole;
  /** Hosts the process is reached at: IP addresses become IP SANs, names DNS SANs. */
  readonly hosts: readonly string[];
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

function checkName(what: string, value: string): void {
  if (typeof value !== 'string' || !NAME.test(value)) throw new SilkError('INVALID_ARGUMENT', `${what} must be 1-64 letters, digits, '_', '.' or '-', got ${JSON.stringify(value)}`);
}

function validity(params: ValidityParameters, days: number): { notBefore: Date; notAfter: Date } {
  const notBefore = params.notBefore ?? new Date(Date.now() - CLOCK_SKEW_MS);
  const notAfter = params.notAfter ?? new Date(notBefore.getTime() + CLOCK_SKEW_MS + days * DAY_MS);
  if (!(notAfter.getTime() > notBefore.getTime())) throw new SilkError('INVALID_ARGUMENT', `a certificate's notAfter (${notAfter.toISOString()}) must be after its notBefore (${notBefore.toISOString()})`);
  return { notBefore, notAfter };
}

/** A positive 128-bit serial number, hex, without a leading zero byte. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

/** DER prefix of a SubjectPublicKeyInfo holding an uncompressed P-256 point. */
const SPKI_UNCOMPRESSED_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

/**
 * SubjectPublicKeyInfo DER of a compressed P-256 key, with the point uncompressed: Go's TLS (etcd)
 * and other stacks refuse compressed points in certificates, and OpenSSL keeps the form it parsed.
 */
function spkiOfCompressed(publicKey: Uint8Array): Uint8Array {
  const jwk = publicKeyObject(publicKey).export({ format: 'jwk' });
  return new Uint8Array(Buffer.concat([SPKI_UNCOMPRESSED_PREFIX, Buffer.from([4]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]));
}

/** The 33-byte compressed form of a P-256 public key. */
function compressedKey(key: KeyObject): Uint8Array | undefined {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || jwk.x === undefined || jwk.y === undefined) return undefined;
  const x = Buffer.from(jwk.x, 'base64url');
  const y = Buffer.from(jwk.y, 'base64url');
  return new Uint8Array(Buffer.concat([Buffer.from([((y[31] ?? 0) & 1) === 1 ? 3 : 2]), x]));
}

/*
 * `@peculiar/x509` declares WebCrypto with the DOM's global types, which this Node-only build does
 * not load; its crypto and key parameters are therefore passed as `never`.
 */
const provider = webcrypto as never;

/**
 * A WebCrypto stand-in whose only signing key is `signer`, so certificates are signed by an org
 * key wherever it lives (memory, keystore, hardware) without exporting it.
 */
function signingCrypto(signer: CertificateSigner): { crypto: never; key: never } {
  const key = { algorithm: { name: 'ECDSA', namedCurve: 'P-256' }, type: 'private', extractable: false, usages: ['sign'] } as never;
  const subtle = {
    async sign(_algorithm: unknown, _key: unknown, data: ArrayBuffer | ArrayBufferView): Promise<ArrayBuffer> {
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      const signature = await signer.sign(bytes);
      if (signature.length !== 64) throw new SilkError('BAD_SIGNATURE', `the org key returned a ${signature.length}-byte signature; certificates need 64-byte P1363 signatures`);
      return new Uint8Array(signature).buffer;
    },
  };
  return { crypto: { subtle, getRandomValues: (a: Uint8Array) => webcrypto.getRandomValues(a) } as never, key };
}


async function sign(params: { issuer: string; subject: string; publicKey: Uint8Array; signer: CertificateSigner; notBefore: Date; notAfter: Date; extensions: x509.Extension[] }): Promise<X509Certificate> {
  const { crypto, key } = signingCrypto(params.signer);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    issuer: params.issuer,
    subject: params.subject,
    notBefore: params.notBefore,
    notAfter: params.notAfter,
    publicKey: params.publicKey,
    signingKey: key,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: params.extensions,
  }, crypto);
  return new X509Certificate(Buffer.from(cert.rawData));
}

function caSubject(org: string): string {
  return `O=${org}, OU=${TLS_CA_UNIT}, CN=${org} TLS CA`;
}

/**
 * Issues an org's TLS CA certificate, self-signed by the org admin key.
 * @returns the CA (certificate and signer) for {@link issueProcessCertificate}
 * @throws SilkError INVALID_ARGUMENT for a bad org name or validity window
 * @example const ca = await issueOrgCa({ org: 'Org1', signer: net.identity('Org1', 'admin') })
 */
export async function issueOrgCa(params: IssueOrgCaParameters): Promise<OrgCa> {
  checkName('org', params.org);
  const { notBefore, notAfter } = validity(params, CA_VALIDITY_DAYS);
  const publicKey = spkiOfCompressed(params.signer.publicKey);
  const certificate = await sign({
    issuer: caSubject(params.org), subject: caSubject(params.org), publicKey, signer: params.signer, notBefore, notAfter,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(publicKey, false, provider),
    ],
  });
  return { org: params.org, certificatePem: certificate.toString(), certificate, signer: params.signer };
}

/**
 * Issues a process certificate under an org's CA, with a fresh P-256 key.
 * @returns the certificate and its private key (PEM)
 * @throws SilkError INVALID_ARGUMENT for a bad name, role, host or validity window
 * @example const peer = await issueProcessCertificate({ ca, process: 'peer0.org1', role: 'peer', hosts: ['127.0.0.1'] })
 */
export async function issueProcessCertificate(params: IssueProcessCertificateParameters): Promise<ProcessCertificate> {
  checkName('process', params.process);
  if (!PROCESS_ROLES.includes(params.role)) throw new SilkError('INVALID_ARGUMENT', `role must be one of ${PROCESS_ROLES.join(', ')}, got ${JSON.stringify(params.role)}`);
  if (params.hosts.length === 0) throw new SilkError('INVALID_ARGUMENT', `process ${params.process} needs at least one host for its certificate`);
  for (const h of params.hosts) if (isIP(h) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(h)) throw new SilkError('INVALID_ARGUMENT', `host '${h}' of ${params.process} is neither an IP address nor a DNS name`);
  const { notBefore, notAfter } = validity(params, PROCESS_VALIDITY_DAYS);
  const privateKey = generatePrivateKey();
  const publicKey = new Uint8Array(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }));
  const caKey = spkiOfCompressed(params.ca.signer.publicKey);
  const certificate = await sign({
    issuer: caSubject(params.ca.org),
    subject: `O=${params.ca.org}, OU=${params.role}, CN=${params.process}`,
    publicKey, signer: params.ca.signer, notBefore, notAfter,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
      new x509.SubjectAlternativeNameExtension(params.hosts.map((h) => ({ type: isIP(h) === 0 ? 'dns' as const : 'ip' as const, value: h })), false),
      await x509.SubjectKeyIdentifierExtension.create(publicKey, false, provider),
      await x509.AuthorityKeyIdentifierExtension.create(caKey, false, provider),
    ],
  });
  return {
    org: params.ca.org, process: params.process, role: params.role,
    certificatePem: certificate.toString(),
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    certificate,
  };
}

/** A process the network description registers, with the role its certificate must carry. */
export interface RegisteredProcess {
  readonly name: string;
  readonly org: string;
  readonly role: ProcessRole;
}

/** The members a TLS endpoint accepts: each org's CA certificate and admin keys, and the registered processes. */
export interface TlsMembership {
  readonly orgs: ReadonlyMap<string, { readonly ca: X509Certificate; readonly adminKeys: ReadonlySet<string> }>;
  /** By `role/name`. */
  readonly processes: ReadonlyMap<string, RegisteredProcess>;
}

/** Parameters of {@link createTlsMembership}. */
export interface TlsMembershipParameters {
  /** Each member org's TLS CA certificate (PEM). */
  readonly caCertificates: Readonly<Record<string, string>>;
  /** Each member org's admin public keys (hex); from the chains' configurations, see {@link adminKeysOfChains}. */
  readonly adminKeys: Readonly<Record<string, readonly string[]>>;
  /** The processes allowed to connect; see {@link registeredProcesses}. */
  readonly processes: readonly RegisteredProcess[];
}

/**
 * The org admin keys of chain configurations (the keys with role `admin`), merged over the chains.
 * @example createTlsMembership({ caCertificates, adminKeys: adminKeysOfChains([config]), processes })
 */
export function adminKeysOfChains(configs: readonly ChainConfig[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const config of configs) {
    for (const [org, { members }] of Object.entries(config.orgs)) {
      const keys = (out[org] ??= []);
      for (const m of members) if (m.role === 'admin' && !keys.includes(m.key)) keys.push(m.key);
    }
  }
  return out;
}

/**
 * Every process a description registers: peers, orderers, etcd members, the API, and an
 * `etcd-client` entry for each orderer and peer (they are etcd's clients).
 */
export function registeredProcesses(description: NetworkDescription): RegisteredProcess[] {
  return [
    ...description.peers.map((p): RegisteredProcess => ({ name: p.name, org: p.org, role: 'peer' })),
    ...description.orderers.map((o): RegisteredProcess => ({ name: o.name, org: o.org, role: 'orderer' })),
    ...description.etcd.map((e): RegisteredProcess => ({ name: e.name, org: e.org, role: 'etcd' })),
    { name: description.api.name, org: description.api.org, role: 'api' },
    ...[...description.orderers, ...description.peers].map((p): RegisteredProcess => ({ name: p.name, org: p.org, role: 'etcd-client' })),
  ];
}

function parseCertificate(value: X509Certificate | string | Uint8Array, what: string): X509Certificate {
  if (value instanceof X509Certificate) return value;
  try {
    return new X509Certificate(typeof value === 'string' ? value : Buffer.from(value));
  } catch (cause) {
    throw new SilkError('UNTRUSTED_CERTIFICATE', `${what} is not an X.509 certificate`, { reason: 'malformed' }, { cause });
  }
}

/**
 * The membership a TLS endpoint checks against.
 * @throws SilkError INVALID_ARGUMENT when a CA certificate does not parse or is not a CA
 * @example const membership = createTlsMembership({ caCertificates: { Org1: pem }, adminKeys: adminKeysOfChains(configs), processes: registeredProcesses(description) })
 */
export function createTlsMembership(params: TlsMembershipParameters): TlsMembership {
  const orgs = new Map<string, { ca: X509Certificate; adminKeys: ReadonlySet<string> }>();
  for (const [org, pem] of Object.entries(params.caCertificates)) {
    let ca: X509Certificate;
    try {
      ca = new X509Certificate(pem);
    } catch (cause) {
      throw new SilkError('INVALID_ARGUMENT', `the TLS CA certificate of ${org} does not parse as PEM X.509`, {}, { cause });
    }
    if (!ca.ca) throw new SilkError('INVALID_ARGUMENT', `the TLS CA certificate of ${org} is not a CA certificate (basicConstraints CA:false)`);
    orgs.set(org, { ca, adminKeys: new Set(params.adminKeys[org] ?? []) });
  }
  return { orgs, processes: new Map(params.processes.map((p) => [`${p.role}/${p.name}`, p])) };
}

/** Who a verified certificate belongs to. */
export interface ProcessIdentity {
  readonly org: string;
  readonly process: string;
  readonly role: ProcessRole;
}

/** Options of {@link identifyPeerCertificate}. */
export interface IdentifyOptions {
  /** The roles accepted here (default: every role). */
  readonly roles?: readonly ProcessRole[];
  /** How the certificate is used: `client` needs clientAuth, `server` serverAuth (default: not checked). */
  readonly usage?: 'client' | 'server';
  /** The time validity is checked at (default: now). */
  readonly now?: Date;
}

function refuse(reason: string, message: string, details: Record<string, unknown> = {}): SilkError {
  return new SilkError('UNTRUSTED_CERTIFICATE', message, { reason, ...details });
}

/** The single-valued attributes of a distinguished name as node prints it (`O=…\nOU=…\nCN=…`). */
function nameAttributes(name: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of name.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

function checkValidity(cert: X509Certificate, now: Date, what: string): void {
  if (now.getTime() < new Date(cert.validFrom).getTime()) throw refuse('not-yet-valid', `${what} is not valid before ${new Date(cert.validFrom).toISOString()}`);
  if (now.getTime() > new Date(cert.validTo).getTime()) throw refuse('expired', `${what} expired on ${new Date(cert.validTo).toISOString()}: its org must issue a new one`);
}

/** The member org whose CA issued `cert`, checking the CA key is an admin key of the org. */
function issuingOrg(cert: X509Certificate, membership: TlsMembership, what: string): string {
  for (const [org, { ca, adminKeys }] of membership.orgs) {
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) continue;
    const caKey = compressedKey(ca.publicKey);
    if (caKey === undefined || !adminKeys.has(toHex(caKey))) {
      throw refuse('ca-not-admin-key', `${what} was issued by a CA named for ${org} whose key ${caKey === undefined ? '(not P-256)' : toHex(caKey).slice(0, 16) + '…'} is not an admin key of ${org} in the chain configuration`, { org });
    }
    if (nameAttributes(ca.subject).get('O') !== org) throw refuse('ca-not-admin-key', `the TLS CA certificate listed for ${org} names another org (${ca.subject.replaceAll('\n', ', ')})`, { org });
    return org;
  }
  throw refuse('unknown-issuer', `${what} (issuer ${cert.issuer.replaceAll('\n', ', ')}) was not issued by the TLS CA of any member org`);
}

/**
 * Identifies the process behind a certificate presented over TLS, against the alliance's membership:
 * the certificate must be signed by a member org's CA whose key is an admin key of that org in the
 * chain configuration, be valid now, carry the org in O, a role in OU and a process in CN that the
 * description registers with that org and role, and allow the usage asked for.
 * @param cert the peer's certificate (node X509Certificate, PEM or DER)
 * @returns the org, process name and role
 * @throws SilkError UNTRUSTED_CERTIFICATE with details.reason: malformed, unknown-issuer,
 *   ca-not-admin-key, expired, not-yet-valid, is-ca, wrong-org, wrong-role, unregistered, wrong-usage
 * @example const { org, process, role } = identifyPeerCertificate(socket.getPeerX509Certificate(), membership, { roles: ['orderer'] })
 */
export function identifyPeerCertificate(cert: X509Certificate | string | Uint8Array, membership: TlsMembership, options: IdentifyOptions = {}): ProcessIdentity {
  const c = parseCertificate(cert, 'the certificate presented');
  const subject = nameAttributes(c.subject);
  const what = `the certificate of ${subject.get('CN') ?? '(no CN)'}`;
  const org = issuingOrg(c, membership, what);
  const now = options.now ?? new Date();
  checkValidity(c, now, what);
  const ca = membership.orgs.get(org)?.ca;
  if (ca !== undefined) checkValidity(ca, now, `the TLS CA certificate of ${org}`);
  if (c.ca) throw refuse('is-ca', `${what} is a CA certificate, not a process certificate`, { org });
  if (subject.get('O') !== org) throw refuse('wrong-org', `${what} names org ${subject.get('O') ?? '(none)'} but was issued by ${org}'s CA`, { org });
  const role = subject.get('OU') as ProcessRole | undefined;
  const process = subject.get('CN') ?? '';
  if (role === undefined || !PROCESS_ROLES.includes(role)) throw refuse('wrong-role', `${what} carries no process role (OU ${role ?? 'missing'})`, { org });
  if (options.roles !== undefined && !options.roles.includes(role)) throw refuse('wrong-role', `${what} was issued for a ${role}; only ${options.roles.join(', ')} may connect here`, { org, role });
  const registered = membership.processes.get(`${role}/${process}`);
  if (registered?.org !== org) {
    const asOther = [...membership.processes.values()].find((p) => p.name === process && p.org === org);
    if (asOther !== undefined) throw refuse('wrong-role', `${what} was issued for a ${role}, but ${process} is registered as a ${asOther.role}`, { org, role });
    throw refuse('unregistered', `${process} is not a ${role} of ${org} in the network description`, { org, role, process });
  }
  // Undefined when the certificate has no extended key usage extension.
  const eku = (c.keyUsage as string[] | undefined) ?? [];
  if (options.usage !== undefined && !eku.includes(options.usage === 'client' ? CLIENT_AUTH : SERVER_AUTH)) throw refuse('wrong-usage', `${what} does not allow TLS ${options.usage} authentication`, { org, role });
  return { org, process, role };
}

/** The TLS files of one process. */
export interface ProcessTlsFiles {
  readonly certFile: string;
  /** Private key, mode 0600. */
  readonly keyFile: string;
  /** Every member org's CA certificate (trust anchors of every link). */
  readonly caFile: string;
}

/** What {@link writeNetworkCertificates} wrote. */
export interface NetworkCertificateFiles {
  /** The alliance's CA bundle, `<dataDir>/tls/alliance-ca.crt`: etcd's `--trusted-ca-file`. */
  readonly caBundleFile: string;
  /** Each org's CA certificate file (the description's `tlsCa`). */
  readonly orgCaFiles: Readonly<Record<string, string>>;
  /** Each process's certificate by process name; orderers and peers also have their etcd client certificate. */
  readonly processes: Readonly<Record<string, { readonly role: ProcessRole; readonly tls: ProcessTlsFiles; readonly etcdClient?: ProcessTlsFiles }>>;
  /** etcd's administrator certificate (CN `root`), when it was issued: see {@link etcdRootTlsFiles}. */
  readonly etcdRoot?: ProcessTlsFiles;
}

/**
 * The alliance's CA bundle, `<dataDir>/tls/alliance-ca.crt`: every member org's TLS CA certificate
 * (the same bundle as each process's `tls/ca-bundle.crt`). It is public: clients of the API's
 * HTTPS address trust it (`silk --ca`, the SDK's `connect({ ca })`).
 * @example connect({ url: 'https://10.0.1.10:8080', ca: readFileSync(allianceCaBundleFile(description)) })
 */
export function allianceCaBundleFile(description: NetworkDescription): string {
  return describedPath(description, join('tls', 'alliance-ca.crt'));
}

/**
 * The TLS files of a process with data folder `dataDir` for `role`, as `writeNetworkCertificates`
 * writes them (`tls/<role>.crt`, `tls/<role>.key`, `tls/ca-bundle.crt`): all of them, or undefined
 * when the role's certificate and key do not exist (a network without certificates runs plain links).
 * @throws SilkError CONFIG_INVALID when only one of the certificate and key exists, or the CA bundle is missing
 * @example const tls = processTlsFiles(describedPath(d, orderer.dataDir), 'etcd-client')
 */
export function processTlsFiles(dataDir: string, role: ProcessRole): ProcessTlsFiles | undefined {
  const dir = join(dataDir, 'tls');
  const files = { certFile: join(dir, `${role}.crt`), keyFile: join(dir, `${role}.key`), caFile: join(dir, 'ca-bundle.crt') };
  // The CA bundle is shared by every role of the process: the role's certificate and key decide.
  const present = [files.certFile, files.keyFile].filter((f) => existsSync(f));
  if (present.length === 0) return undefined;
  if (present.length < 2 || !existsSync(files.caFile)) throw new SilkError('CONFIG_INVALID', `TLS files are incomplete under ${dir}: need ${role}.crt, ${role}.key and ca-bundle.crt (silk network up writes them when it bootstraps a network)`, { dir });
  return files;
}

/**
 * Where etcd's administrator certificate lives: `<dataDir>/tls/etcd-root.crt` and `etcd-root.key`
 * (0600), with the alliance CA bundle. Its CN is `root`, the etcd user with every permission; the
 * etcd host (membership changes, defragmentation, alarms, snapshots, users and roles) and the
 * operator tools (`silk network status`, `etcd-snapshot`) present it.
 * @example openEtcdConnection({ endpoints, tls: etcdRootTlsFiles(description) })
 */
export function etcdRootTlsFiles(description: NetworkDescription): ProcessTlsFiles {
  return {
    certFile: describedPath(description, join('tls', 'etcd-root.crt')),
    keyFile: describedPath(description, join('tls', 'etcd-root.key')),
    caFile: allianceCaBundleFile(description),
  };
}

/** Options of {@link writeNetworkCertificates}. */
export interface WriteNetworkCertificatesOptions extends ValidityParameters {
  /** Issue new org CA certificates even when valid ones with the right key exist. */
  readonly renewCas?: boolean;
  /**
   * Issue process certificates only for these processes (by name), leaving every other process's
   * files as they are: a process added to a running network (default: every process). The name
   * `root` stands for etcd's administrator certificate.
   */
  readonly processes?: readonly string[];
}

function writePrivate(file: string, pem: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, pem, { mode: 0o600 });
  chmodSync(file, 0o600);
}

function writePublic(file: string, pem: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, pem, { mode: 0o644 });
}

/** The org's CA: the existing certificate when it is valid and holds the signer's key, else a new one. */
async function orgCa(org: string, file: string, signer: CertificateSigner, renew: boolean): Promise<OrgCa> {
  if (!renew && existsSync(file)) {
    try {
      const pem = readFileSync(file, 'utf8');
      const certificate = new X509Certificate(pem);
      const key = compressedKey(certificate.publicKey);
      const now = Date.now();
      if (key !== undefined && bytesEqual(key, signer.publicKey) && certificate.ca && new Date(certificate.validTo).getTime() > now + 30 * DAY_MS) return { org, certificatePem: pem, certificate, signer };
    } catch {
      // An unreadable CA file is replaced below.
    }
  }
  const ca = await issueOrgCa({ org, signer });
  writePublic(file, ca.certificatePem);
  return ca;
}

/** Loopback addresses: an API served on one is also reached as `localhost` (a browser on the same host). */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '::1']);

/** The names a process's certificate holds: its host, and `localhost` too for an API on a loopback address. */
function certificateHosts(role: ProcessRole, host: string): string[] {
  return role === 'api' && LOOPBACK_HOSTS.has(host) ? [host, 'localhost'] : [host];
}

async function writeProcess(ca: OrgCa, dir: string, role: ProcessRole, name: string, host: string, bundlePem: string, validityParams: ValidityParameters): Promise<ProcessTlsFiles> {
  const cert = await issueProcessCertificate({ ca, process: name, role, hosts: certificateHosts(role, host), ...validityParams });
  const tlsDir = join(dir, 'tls');
  const files = { certFile: join(tlsDir, `${role}.crt`), keyFile: join(tlsDir, `${role}.key`), caFile: join(tlsDir, 'ca-bundle.crt') };
  writePublic(files.certFile, cert.certificatePem);
  writePrivate(files.keyFile, cert.privateKeyPem);
  writePublic(files.caFile, bundlePem);
  return files;
}

/**
 * Issues and writes every certificate a description needs: each org's CA certificate at its
 * `tlsCa` path (kept when it is valid for another 30 days and holds the org's admin key), the
 * alliance CA bundle, and under each process's data folder `tls/`: `ca-bundle.crt`,
 * `<role>.crt` and `<role>.key` (0600); orderers and peers also get `etcd-client.crt/.key`; and
 * etcd's administrator certificate ({@link etcdRootTlsFiles}).
 * @param orgSigners each org's admin key, by org name (for the orgs whose description lists
 *   `adminKey`, it must be that key)
 * @returns the files written
 * @throws SilkError INVALID_ARGUMENT when an org has no signer; CONFIG_INVALID when a signer is not
 *   the org's listed admin key, or a process is named `root` (etcd's administrator)
 * @example const files = await writeNetworkCertificates(description, { Org1: admin1, Org2: admin2 })
 */
export async function writeNetworkCertificates(description: NetworkDescription, orgSigners: Readonly<Record<string, CertificateSigner>>, options: WriteNetworkCertificatesOptions = {}): Promise<NetworkCertificateFiles> {
  const named = [...description.peers, ...description.orderers, ...description.etcd, description.api].find((p) => p.name === ETCD_ROOT_USER);
  if (named !== undefined) throw new SilkError('CONFIG_INVALID', `process '${ETCD_ROOT_USER}': that name is etcd's administrator (the CN of its certificate); rename the process`, { process: named.name });
  const cas = new Map<string, OrgCa>();
  const orgCaFiles: Record<string, string> = {};
  for (const org of description.orgs) {
    const signer = Object.hasOwn(orgSigners, org.name) ? orgSigners[org.name] : undefined;
    if (signer === undefined) throw new SilkError('INVALID_ARGUMENT', `no admin key given for org ${org.name}: its TLS CA is signed by its admin key`);
    if (org.adminKey !== undefined && org.adminKey !== toHex(signer.publicKey)) throw new SilkError('CONFIG_INVALID', `the key given for ${org.name} (${toHex(signer.publicKey).slice(0, 16)}…) is not its admin key in the description (${org.adminKey.slice(0, 16)}…)`);
    const file = describedPath(description, org.tlsCa);
    cas.set(org.name, await orgCa(org.name, file, signer, options.renewCas === true));
    orgCaFiles[org.name] = file;
  }
  const bundlePem = [...cas.values()].map((c) => c.certificatePem.trim()).join('\n') + '\n';
  const caBundleFile = allianceCaBundleFile(description);
  writePublic(caBundleFile, bundlePem);
  const validityParams: ValidityParameters = { ...(options.notBefore ? { notBefore: options.notBefore } : {}), ...(options.notAfter ? { notAfter: options.notAfter } : {}) };
  const caOf = (org: string): OrgCa => cas.get(org) as OrgCa;
  const processes: Record<string, { role: ProcessRole; tls: ProcessTlsFiles; etcdClient?: ProcessTlsFiles }> = {};
  const only = options.processes === undefined ? undefined : new Set(options.processes);
  const issue = async (p: { name: string; org: string; host: string; dataDir: string }, role: ProcessRole, etcdClient: boolean): Promise<void> => {
    if (only !== undefined && !only.has(p.name)) return;
    const dir = describedPath(description, p.dataDir);
    const tls = await writeProcess(caOf(p.org), dir, role, p.name, p.host, bundlePem, validityParams);
    processes[p.name] = etcdClient ? { role, tls, etcdClient: await writeProcess(caOf(p.org), dir, 'etcd-client', p.name, p.host, bundlePem, validityParams) } : { role, tls };
  };
  for (const p of description.peers) await issue(p, 'peer', true);
  for (const o of description.orderers) await issue(o, 'orderer', true);
  for (const e of description.etcd) await issue(e, 'etcd', false);
  await issue(description.api, 'api', false);
  const rootOrg = description.orgs[0]?.name;
  if (rootOrg !== undefined && (only === undefined || only.has(ETCD_ROOT_USER))) {
    const etcdRoot = etcdRootTlsFiles(description);
    const cert = await issueProcessCertificate({ ca: caOf(rootOrg), process: ETCD_ROOT_USER, role: 'etcd-client', hosts: [description.etcd[0]?.host ?? '127.0.0.1'], ...validityParams });
    writePublic(etcdRoot.certFile, cert.certificatePem);
    writePrivate(etcdRoot.keyFile, cert.privateKeyPem);
    return { caBundleFile, orgCaFiles, processes, etcdRoot };
  }
  return { caBundleFile, orgCaFiles, processes };
}

/**
 * The membership of a description: its orgs' CA certificates read from their `tlsCa` files, the
 * admin keys given (from the chains' configurations), and its registered processes.
 * @throws SilkError CONFIG_INVALID when a CA certificate file cannot be read
 * @example const membership = tlsMembershipOfNetwork(description, adminKeysOfChains(configs))
 */
export function tlsMembershipOfNetwork(description: NetworkDescription, adminKeys: Readonly<Record<string, readonly string[]>>): TlsMembership {
  const caCertificates: Record<string, string> = {};
  for (const org of description.orgs) {
    const file = describedPath(description, org.tlsCa);
    try {
      caCertificates[org.name] = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new SilkError('CONFIG_INVALID', `cannot read the TLS CA certificate of ${org.name} at ${file}: ${(cause as Error).message}`, {}, { cause });
    }
  }
  return createTlsMembership({ caCertificates, adminKeys, processes: registeredProcesses(description) });
}

/**
 * The registered processes of a followed description, by `role/name`: read from its current
 * version on every lookup (the description is re-read when its file changed), and at once when a
 * process is not found, so one added a moment ago is admitted.
 */
class DescribedProcesses implements ReadonlyMap<string, RegisteredProcess> {
  readonly #description: (fresh: boolean) => NetworkDescription;
  #from: NetworkDescription | undefined;
  #map = new Map<string, RegisteredProcess>();

  constructor(description: (fresh: boolean) => NetworkDescription) {
    this.#description = description;
  }

  #current(fresh = false): Map<string, RegisteredProcess> {
    const d = this.#description(fresh);
    if (d !== this.#from) {
      this.#from = d;
      this.#map = new Map(registeredProcesses(d).map((p) => [`${p.role}/${p.name}`, p]));
    }
    return this.#map;
  }

  get(key: string): RegisteredProcess | undefined { return this.#current().get(key) ?? this.#current(true).get(key); }
  has(key: string): boolean { return this.get(key) !== undefined; }
  get size(): number { return this.#current().size; }
  forEach(callback: (value: RegisteredProcess, key: string, map: ReadonlyMap<string, RegisteredProcess>) => void): void {
    for (const [key, value] of this.#current()) callback(value, key, this);
  }
  entries(): MapIterator<[string, RegisteredProcess]> { return this.#current().entries(); }
  keys(): MapIterator<string> { return this.#current().keys(); }
  values(): MapIterator<RegisteredProcess> { return this.#current().values(); }
  [Symbol.iterator](): MapIterator<[string, RegisteredProcess]> { return this.entries(); }
}

/**
 * The membership of a description a running process follows (`watchNetworkDescription`): the orgs'
 * CA certificates and admin keys as at the start, the registered processes as the description
 * lists them now, so an orderer or peer added to the running network is admitted, and one removed
 * refused, without restarting anything.
 * @param description the description now; `fresh` asks to look at the file at once
 * @throws SilkError CONFIG_INVALID when a CA certificate file cannot be read
 * @example const membership = liveTlsMembership((fresh) => watch.current(fresh), adminKeysOfChains(configs))
 */
export function liveTlsMembership(description: (fresh: boolean) => NetworkDescription, adminKeys: Readonly<Record<string, readonly string[]>>): TlsMembership {
  const { orgs } = tlsMembershipOfNetwork(description(false), adminKeys);
  return { orgs, processes: new DescribedProcesses(description) };
}

/** The public key of a PEM certificate as a 33-byte compressed P-256 key (undefined for another key type). */
export function certificatePublicKey(cert: X509Certificate | string): Uint8Array | undefined {
  const c = typeof cert === 'string' ? new X509Certificate(cert) : cert;
  return compressedKey(c.publicKey);
}
