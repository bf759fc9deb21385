/**
 * The one-time setup of a distributed network, from its description: the orgs' key material,
 * each peer's and each orderer's signing key, every chain's genesis configuration transaction
 * (listing every orderer's key, signed by the member orgs' admins) and the TLS certificates.
 * Everything lands under the description's folders, where the processes read it:
 *
 * | what | where |
 * |---|---|
 * | org keys (PEM, or HD key trees in keystores) | `<dataDir>/keys/<org>/…` (the embedded network's layout) |
 * | a peer's signing key | `<peer dataDir>/keys/peer.pem` (0600) |
 * | an orderer's signing key | `<orderer dataDir>/keys/orderer.pem` (0600) |
 * | a chain's genesis configuration transaction | `<dataDir>/genesis/<chain>.envelope` |
 * | TLS CAs and process certificates | see `writeNetworkCertificates` (docs/distributed.md) |
| etcd's administrator certificate (CN `root`) | `<dataDir>/tls/etcd-root.crt`, `etcd-root.key` (0600) |
 *
 * It runs once: a second call finds every file in place and writes nothing. Run on a description
 * that lists a new process (a peer, orderer or etcd member added to a running network), it writes
 * that process's key and certificates only.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { toHex } from '../crypto/hash.js';
import { generatePrivateKeyPem, signerFromPem, type Signer } from '../crypto/p256.js';
import type { Contract } from '../contracts/framework/contract.js';
import { IdentityContract } from '../contracts/identity/identity-contract.js';
import { isSilkError, SilkError } from '../errors.js';
import { IDENTITY_CONTRACT } from '../identity/identity-record.js';
import type { ChainConfig } from '../ledger/chain-config.js';
import { createConfigTransaction } from '../ledger/config-transaction.js';
import { chainConfigFromSpec, type ChainSpec } from '../network/embedded-network.js';
import { openOrgKeyring, peerName, type NetworkKeysOptions } from '../network/org-keyring.js';
import { chainPrefix } from './etcd-keys.js';
import { describedPath, networkSpecOf, validateNetworkDescription, type DescribedOrderer, type DescribedPeer, type NetworkDescription } from './network-description.js';
import { ETCD_ROOT_USER } from './etcd-access.js';
import { allianceCaBundleFile, etcdRootTlsFiles, writeNetworkCertificates } from './tls-pki.js';

/** Options of {@link bootstrapNetwork}. */
export interface BootstrapOptions {
  /** The contracts the peers install: each chain's contracts take their versions from here. */
  readonly contracts: readonly Contract[];
  /** How the orgs' keys are kept: PEM files (a local network) or HD key trees in keystores (a password). */
  readonly keys: NetworkKeysOptions;
}

/** What {@link bootstrapNetwork} found or wrote. */
export interface BootstrapResult {
  /** True when this call wrote anything; false when the network was already bootstrapped. */
  readonly created: boolean;
  /** The orgs' key folder, `<dataDir>/keys`. */
  readonly keysDir: string;
  /** Each chain's genesis configuration transaction file. */
  readonly genesisFiles: Readonly<Record<string, string>>;
  /** Every orderer's public key (hex), as the genesis configurations list them. */
  readonly ordererKeys: Readonly<Record<string, string>>;
  /** Every peer's public key (hex). */
  readonly peerKeys: Readonly<Record<string, string>>;
}

/** The signing key file of a peer process: `<peer dataDir>/keys/peer.pem`. */
export function peerKeyFile(description: NetworkDescription, peer: DescribedPeer): string {
  return join(describedPath(description, peer.dataDir), 'keys', 'peer.pem');
}

/** The signing key file of an orderer process: `<orderer dataDir>/keys/orderer.pem`. */
export function ordererKeyFile(description: NetworkDescription, orderer: DescribedOrderer): string {
  return join(describedPath(description, orderer.dataDir), 'keys', 'orderer.pem');
}

/** A chain's genesis configuration transaction: `<dataDir>/genesis/<chain>.envelope`. */
export function genesisFile(description: NetworkDescription, chain: string): string {
  return join(describedPath(description, 'genesis'), `${chain}.envelope`);
}

/** The org keys' folder of a description: `<dataDir>/keys`. */
export function orgKeysDir(description: NetworkDescription): string {
  return describedPath(description, 'keys');
}

/** Reads a process key, creating it (0600, folder 0700) when missing. @returns the signer and whether it was created */
function processKey(file: string): { signer: Signer; created: boolean } {
  const created = !existsSync(file);
  if (created) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, generatePrivateKeyPem(), { mode: 0o600, flag: 'wx' });
  }
  try {
    return { signer: signerFromPem(readFileSync(file, 'utf8')), created };
  } catch (cause) {
    throw new SilkError('CONFIG_INVALID', `${file} is not a P-256 private key in PEM: restore it from a backup (a new key would not match the chains' configuration)`, { file }, { cause });
  }
}

function checkOptions(options: BootstrapOptions): void {
  const given = options as unknown;
  if (typeof given !== 'object' || given === null) throw new SilkError('INVALID_ARGUMENT', 'bootstrapNetwork needs options { contracts, keys }');
  const contracts = (given as { contracts?: unknown }).contracts;
  if (!Array.isArray(contracts) || contracts.some((c: unknown) => typeof (c as Partial<Contract> | null)?.name !== 'string' || typeof (c as Partial<Contract>).version !== 'string')) {
    throw new SilkError('INVALID_ARGUMENT', 'contracts must be a list of installed contracts (each with a name and a version)');
  }
  const kind = (options.keys as { kind?: unknown } | undefined)?.kind;
  if (kind !== 'pem' && kind !== 'hd') throw new SilkError('INVALID_ARGUMENT', "keys must be { kind: 'pem' } or { kind: 'hd', password }");
}

/** Sets each contract's version from the installed contracts. @throws SilkError UNKNOWN_CONTRACT */
function setContractVersions(config: ChainConfig, contracts: ReadonlyMap<string, Contract>): void {
  for (const [name, definition] of Object.entries(config.contracts)) {
    const contract = contracts.get(name);
    if (contract === undefined) throw new SilkError('UNKNOWN_CONTRACT', `chain ${config.chain} names contract ${name}, which is not installed`, { chain: config.chain, contract: name });
    (definition as { version: string }).version = contract.version;
  }
}

/**
 * Which certificates are missing: `all` when a CA certificate or the alliance bundle is (every
 * certificate is then issued), else the processes lacking a TLS file (a process added to a
 * running network gets its own, and no running process has its files rewritten); `root` when
 * etcd's administrator certificate is missing (a network bootstrapped before it existed).
 */
function missingCertificates(description: NetworkDescription): 'all' | string[] {
  const shared = [allianceCaBundleFile(description), ...description.orgs.map((o) => describedPath(description, o.tlsCa))];
  if (!shared.every((f) => existsSync(f))) return 'all';
  const root = etcdRootTlsFiles(description);
  const lacking = (p: { name: string; dataDir: string }, roles: readonly string[]): boolean => {
    const tls = join(describedPath(description, p.dataDir), 'tls');
    return ![join(tls, 'ca-bundle.crt'), ...roles.flatMap((role) => [join(tls, `${role}.crt`), join(tls, `${role}.key`)])].every((f) => existsSync(f));
  };
  return [
    ...description.peers.filter((p) => lacking(p, ['peer', 'etcd-client'])),
    ...description.orderers.filter((o) => lacking(o, ['orderer', 'etcd-client'])),
    ...description.etcd.filter((e) => lacking(e, ['etcd'])),
    ...(lacking(description.api, ['api']) ? [description.api] : []),
    ...([root.certFile, root.keyFile].every((f) => existsSync(f)) ? [] : [{ name: ETCD_ROOT_USER }]),
  ].map((p) => p.name);
}

/**
 * Creates, once, everything the processes of a distributed network need (see the module comment).
 * Org keys come from (or are created in) `<dataDir>/keys`; an org whose description lists
 * `adminKey` must have that admin key there. A peer's key in the chain configuration is its own
 * process key, listed as the org's i-th peer (`peer<i>.<org>`) in the description's order.
 * @param description a validated description
 * @returns what it found or wrote; `created` is false when nothing had to be written
 * @throws SilkError CONFIG_INVALID (a key that does not match, a chain name etcd cannot hold),
 *   UNKNOWN_CONTRACT (a chain's contract not in `contracts`), INVALID_ARGUMENT (keystore password)
 * @example const result = await bootstrapNetwork(readNetworkDescription('network.yaml'), { contracts: DEMO_CONTRACTS, keys: { kind: 'pem' } })
 */
export async function bootstrapNetwork(description: NetworkDescription, options: BootstrapOptions): Promise<BootstrapResult> {
  const d = validateNetworkDescription(description);
  checkOptions(options);
  for (const chain of d.chains) {
    try {
      chainPrefix(chain.name);
    } catch (cause) {
      throw new SilkError('CONFIG_INVALID', `chain ${chain.name}: the ordering log needs lower-case chain names (letters, digits, '-', '_')`, { chain: chain.name }, { cause: isSilkError(cause) ? cause : undefined });
    }
  }
  let created = false;
  const spec = networkSpecOf(d);
  const keysDir = orgKeysDir(d);
  const keyring = await openOrgKeyring({ keysDir, spec, keys: options.keys, create: true });
  const admins: Record<string, Signer> = {};
  for (const org of d.orgs) {
    const pemFile = join(keysDir, org.name, 'admin.pem');
    if (options.keys.kind === 'pem' && !existsSync(pemFile)) created = true;
    const admin = keyring.signer(org.name, 'admin');
    if (org.adminKey !== undefined && org.adminKey !== toHex(admin.publicKey)) {
      throw new SilkError('CONFIG_INVALID', `orgs: ${org.name}'s admin key in ${keysDir} (${toHex(admin.publicKey).slice(0, 16)}…) is not the adminKey the description lists (${org.adminKey.slice(0, 16)}…)`, { org: org.name });
    }
    admins[org.name] = admin;
  }

  const peerSigners = new Map<string, Signer>();
  const peerKeys: Record<string, string> = {};
  for (const org of d.orgs) {
    d.peers.filter((p) => p.org === org.name).forEach((p, i) => {
      const key = processKey(peerKeyFile(d, p));
      created ||= key.created;
      peerSigners.set(`${org.name}/${peerName(org.name, i)}`, key.signer);
      peerKeys[p.name] = toHex(key.signer.publicKey);
    });
  }
  const ordererKeys: Record<string, string> = {};
  const ordererPublicKeys: Uint8Array[] = [];
  for (const o of d.orderers) {
    const key = processKey(ordererKeyFile(d, o));
    created ||= key.created;
    ordererKeys[o.name] = toHex(key.signer.publicKey);
    ordererPublicKeys.push(key.signer.publicKey);
  }

  const keyOf = (org: string, name: string): Signer => {
    if (name === 'admin') return admins[org] ?? keyring.signer(org, name);
    return peerSigners.get(`${org}/${name}`) ?? keyring.signer(org, name);
  };
  const installed = new Map(options.contracts.map((c) => [c.name, c]));
  if (!installed.has(IDENTITY_CONTRACT)) installed.set(IDENTITY_CONTRACT, new IdentityContract());
  const genesisFiles: Record<string, string> = {};
  for (const chain of d.chains) {
    const file = genesisFile(d, chain.name);
    genesisFiles[chain.name] = file;
    if (existsSync(file)) continue;
    writeGenesis(file, spec, chain, keyOf, ordererPublicKeys, installed);
    created = true;
  }

  const missing = missingCertificates(d);
  if (missing === 'all' || missing.length > 0) {
    await writeNetworkCertificates(d, admins, missing === 'all' ? {} : { processes: missing });
    created = true;
  }
  return { created, keysDir, genesisFiles, ordererKeys, peerKeys };
}

function writeGenesis(file: string, spec: ReturnType<typeof networkSpecOf>, chain: ChainSpec, keyOf: (org: string, name: string) => Signer, ordererKeys: readonly Uint8Array[], installed: ReadonlyMap<string, Contract>): void {
  const config = chainConfigFromSpec(spec, chain, keyOf, ordererKeys);
  setContractVersions(config, installed);
  const admins = Object.keys(config.orgs).map((o) => keyOf(o, 'admin'));
  const envelope = createConfigTransaction(config, admins[0] as Signer, admins);
  mkdirSync(dirname(file), { recursive: true });
  // Written under a temporary name and renamed, so a crash never leaves half a genesis file.
  const partial = `${file}.partial`;
  writeFileSync(partial, envelope);
  renameSync(partial, file);
}
