/**
 * The embedded network: one process hosts an alliance's peers (one SQLite file per peer per
 * chain), a solo orderer and a gateway per org. It is created from a network spec on first
 * start (keys written under the data folder, chains created by signed configuration
 * transactions) and reopened from disk after. Keys come from src/network/org-keyring.ts: PEM
 * files by default (tests), or each org's HD key tree in keystores (`keys: { kind: 'hd' }`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { toHex } from '../crypto/hash.js';
import type { Signer } from '../crypto/p256.js';
import { createInlineVerifier, createVerifyPool, type SignatureVerifier } from '../crypto/verify-pool.js';
import type { Contract } from '../contracts/framework/contract.js';
import { IdentityContract } from '../contracts/identity/identity-contract.js';
import { IDENTITY_CONTRACT } from '../identity/identity-record.js';
import { SilkError } from '../errors.js';
import type { AdmissionOptions } from '../gateway/admission.js';
import { createGateway, type Gateway } from '../gateway/gateway.js';
import type { ChainConfig } from '../ledger/chain-config.js';
import { createConfigTransaction } from '../ledger/config-transaction.js';
import type { Orderer } from '../ordering/orderer.js';
import { createSoloOrderer } from '../ordering/solo-orderer.js';
import { createPeer, type Peer } from '../peer/peer.js';
import { lockDataFolder, type DataLock } from '../storage/data-lock.js';
import { openOrgKeyring, orgUsers, peerName, type NetworkKeysOptions, type OrgKeyring, type UserSpec } from './org-keyring.js';

/** An organisation of the network. */
export interface OrgSpec {
  readonly name: string;
  /** Peers of the org (default 1). */
  readonly peers?: number;
  /**
   * Users besides the admin: a plain name is a configuration member with role `client` (PEM keys
   * only); `{ name, function, level }` is a key of the org's tree, not in the configuration,
   * which the org's admin registers through the identity contract (see `orgUsers`).
   */
  readonly users?: readonly UserSpec[];
}

/** A chain of the network. */
export interface ChainSpec {
  readonly name: string;
  /** Member orgs (default: all). */
  readonly orgs?: readonly string[];
  /**
   * Contracts defined on the chain with their endorsement policies. The identity contract is
   * added to every chain unless listed, with the policy {@link identityPolicy}.
   */
  readonly contracts: readonly { readonly name: string; readonly policy: string }[];
  readonly txWindowMs?: number;
  readonly batch?: { readonly maxTxs?: number; readonly maxBytes?: number; readonly timeoutMs?: number };
}

/** The shape of a network. */
export interface NetworkSpec {
  readonly orgs: readonly OrgSpec[];
  readonly chains: readonly ChainSpec[];
}

/** Options of {@link openEmbeddedNetwork}. */
export interface EmbeddedNetworkOptions {
  readonly dataDir: string;
  /** Used on first start; later starts read the spec stored in the data folder. */
  readonly spec: NetworkSpec;
  readonly contracts: readonly Contract[];
  /** Verify signatures on worker threads (default true). */
  readonly parallelVerify?: boolean;
  readonly logger?: Logger;
  readonly commitTimeoutMs?: number;
  /** Admission control of the gateways' submissions (src/gateway/admission.ts); defaults otherwise. */
  readonly admission?: AdmissionOptions;
  /** Where keys live: PEM files (default) or HD key trees in keystores; see src/network/org-keyring.ts. */
  readonly keys?: NetworkKeysOptions;
}

/** A running embedded network. */
export interface EmbeddedNetwork {
  readonly dataDir: string;
  readonly spec: NetworkSpec;
  readonly orderer: Orderer;
  readonly peers: readonly Peer[];
  readonly verifier: SignatureVerifier;
  /** True when this start created the network. */
  readonly created: boolean;
  peer(name: string): Peer;
  /** A signer of an org: `admin`, a user name, or a peer name. */
  identity(org: string, name?: string): Signer;
  /** The gateway of an org (commits are awaited at its first peer). */
  gateway(org: string): Gateway;
  /** Folder holding the key files. */
  readonly keysDir: string;
  /** How the keys are kept: `pem` files or `hd` trees in keystores. */
  readonly keyKind: OrgKeyring['kind'];
  /** Keystores of the function users' keys (HD keys only), for their holders to sign with. */
  readonly userKeystores: OrgKeyring['userKeystores'];
  close(): Promise<void>;
}

/**
 * The default endorsement policy of the identity contract on a chain: any one peer of a member
 * org. Each record then carries the key-level policy of its own org's peers (set by the
 * contract), and peers admit a registration only with a valid parent signature, so a peer of
 * another org can neither forge nor revoke an org's keys.
 */
export function identityPolicy(orgs: readonly string[]): string {
  return `OR(${orgs.map((o) => `'${o}.peer'`).join(', ')})`;
}

/** The chain's contracts with the identity contract added when the spec does not list it. */
function withIdentityContract(chain: ChainSpec, orgs: readonly string[]): ChainSpec['contracts'] {
  return chain.contracts.some((c) => c.name === IDENTITY_CONTRACT) ? chain.contracts : [...chain.contracts, { name: IDENTITY_CONTRACT, policy: identityPolicy(orgs) }];
}

/**
 * Builds a chain's genesis configuration from the network spec and the members' keys.
 * @param keyOf the key of an org's `admin`, of its i-th peer (`peerName(org, i)`) and of its configured users
 * @param orderers every orderer's public key (33-byte compressed): a block signed by any of them
 *   is accepted (the embedded network lists its solo orderer alone)
 * @returns the configuration (sequence 0)
 * @throws SilkError CONFIG_INVALID for a chain naming an unknown org or a network without orderer keys
 * @example chainConfigFromSpec(spec, spec.chains[0], keyOf, [orderer0.publicKey, orderer1.publicKey])
 */
export function chainConfigFromSpec(spec: NetworkSpec, chain: ChainSpec, keyOf: (org: string, name: string) => Signer, orderers: readonly Uint8Array[]): ChainConfig {
  if (orderers.length === 0) throw new SilkError('CONFIG_INVALID', `chain ${chain.name} needs at least one orderer key`);
  const orgNames = chain.orgs ?? spec.orgs.map((o) => o.name);
  const orgs: ChainConfig['orgs'] = {};
  for (const name of orgNames) {
    const o = spec.orgs.find((x) => x.name === name);
    if (o === undefined) throw new SilkError('CONFIG_INVALID', `chain ${chain.name} names unknown org ${name}`);
    const members = [{ name: 'admin', key: toHex(keyOf(name, 'admin').publicKey), role: 'admin' }];
    for (let i = 0; i < (o.peers ?? 1); i++) members.push({ name: peerName(name, i), key: toHex(keyOf(name, peerName(name, i)).publicKey), role: 'peer' });
    // Function users are registered on chain, not configured (docs/identity.md).
    for (const u of orgUsers(o).filter((x) => x.configured)) members.push({ name: u.name, key: toHex(keyOf(name, u.name).publicKey), role: 'client' });
    orgs[name] = { members };
  }
  return {
    v: 1,
    chain: chain.name,
    sequence: 0,
    orgs,
    orderers: [...new Set(orderers.map((k) => toHex(k)))],
    adminPolicy: `MAJORITY(${orgNames.map((o) => `'${o}.admin'`).join(', ')})`,
    contracts: Object.fromEntries(withIdentityContract(chain, orgNames).map((c) => [c.name, { version: '', policy: c.policy }])),
    txWindowMs: chain.txWindowMs ?? 300_000,
    batch: { maxTxs: chain.batch?.maxTxs ?? 500, maxBytes: chain.batch?.maxBytes ?? 4 * 1024 * 1024, timeoutMs: chain.batch?.timeoutMs ?? 50 },
  };
}

/**
 * Opens the embedded network in a data folder, creating it on first start.
 * @throws SilkError DATA_FOLDER_LOCKED when another process runs it
 * @example const net = await openEmbeddedNetwork({ dataDir: './data', spec, contracts: [new BasicContract()] })
 */
export async function openEmbeddedNetwork(options: EmbeddedNetworkOptions): Promise<EmbeddedNetwork> {
  const { dataDir } = options;
  const lock: DataLock = lockDataFolder(dataDir);
  try {
    return await open(options, lock);
  } catch (e) {
    lock.release();
    throw e;
  }
}

async function open(options: EmbeddedNetworkOptions, lock: DataLock): Promise<EmbeddedNetwork> {
  const { dataDir } = options;
  const specFile = join(dataDir, 'network.json');
  const created = !existsSync(specFile);
  const spec: NetworkSpec = created ? options.spec : (JSON.parse(readFileSync(specFile, 'utf8')) as NetworkSpec);
  const keysDir = join(dataDir, 'keys');
  const keyring = await openOrgKeyring({ keysDir, spec, keys: options.keys ?? { kind: 'pem' }, create: created });
  const keyOf = (org: string, name: string): Signer => keyring.signer(org, name);
  const ordererSigner = keyOf('orderer', 'orderer0');
  mkdirSync(join(dataDir, 'orderer'), { recursive: true });
  const orderer = createSoloOrderer({ signer: ordererSigner, path: join(dataDir, 'orderer', 'log.sqlite') });
  const verifier = options.parallelVerify === false ? createInlineVerifier() : createVerifyPool();
  // Every network runs the identity contract (docs/identity.md).
  const contracts = options.contracts.some((c) => c.name === IDENTITY_CONTRACT) ? options.contracts : [...options.contracts, new IdentityContract()];
  const contractsByName = new Map(contracts.map((c) => [c.name, c]));

  const peers: Peer[] = [];
  const unsubscribers: (() => void)[] = [];
  try {
    for (const org of spec.orgs) {
      for (let i = 0; i < (org.peers ?? 1); i++) {
        const name = peerName(org.name, i);
        peers.push(createPeer({ name, org: org.name, signer: keyOf(org.name, name), dataDir: join(dataDir, 'peers', name), contracts, verifier, ...(options.logger ? { logger: options.logger.child({ peer: name }) } : {}) }));
      }
    }

    for (const chain of spec.chains) {
      let genesis: Uint8Array;
      if (orderer.chains().includes(chain.name)) {
        const first = orderer.block(chain.name, 0);
        if (first === undefined) throw new SilkError('LEDGER_CORRUPT', `the ordering log has no genesis block for ${chain.name}`);
        genesis = first;
      } else {
        const config = chainConfigFromSpec(spec, chain, keyOf, [ordererSigner.publicKey]);
        for (const c of withIdentityContract(chain, Object.keys(config.orgs))) {
          const contract = contractsByName.get(c.name);
          if (contract === undefined) throw new SilkError('UNKNOWN_CONTRACT', `chain ${chain.name} names contract ${c.name}, which is not installed`);
          (config.contracts[c.name] as { version: string }).version = contract.version;
        }
        const orgNames = Object.keys(config.orgs);
        const admins = orgNames.map((o) => keyOf(o, 'admin'));
        genesis = await orderer.createChain(createConfigTransaction(config, admins[0] as Signer, admins));
      }
      const members = new Set(chain.orgs ?? spec.orgs.map((o) => o.name));
      for (const peer of peers.filter((p) => members.has(p.org))) {
        await peer.joinChain(genesis);
        unsubscribers.push(orderer.deliver(chain.name, peer.height(chain.name), (bytes) => {
          peer.deliver(bytes).catch((e: unknown) => options.logger?.error({ err: e, peer: peer.name, chain: chain.name }, 'block not committed'));
        }));
      }
    }
  } catch (e) {
    // Nothing opened so far outlives the failure: no thread keeps the process alive, no file stays open.
    for (const u of unsubscribers) u();
    await Promise.allSettled([orderer.close(), ...peers.map((p) => p.close())]);
    await verifier.close();
    throw e;
  }
  if (created) writeFileSync(specFile, JSON.stringify(spec, null, 2));

  const gateways = new Map<string, Gateway>();
  const network: EmbeddedNetwork = {
    dataDir,
    spec,
    orderer,
    peers,
    verifier,
    created,
    keysDir,
    keyKind: keyring.kind,
    userKeystores: keyring.userKeystores,
    peer(name) {
      const p = peers.find((x) => x.name === name);
      if (p === undefined) throw new SilkError('INVALID_ARGUMENT', `no peer ${name}`);
      return p;
    },
    identity: (org, name = 'admin') => keyOf(org, name),
    gateway(org) {
      let g = gateways.get(org);
      if (g === undefined) {
        const commitPeer = peers.find((p) => p.org === org);
        if (commitPeer === undefined) throw new SilkError('INVALID_ARGUMENT', `no peer of org ${org}`);
        g = createGateway({ peers, commitPeer, orderer, ...(options.commitTimeoutMs === undefined ? {} : { commitTimeoutMs: options.commitTimeoutMs }), ...(options.admission === undefined ? {} : { admission: options.admission }) });
        gateways.set(org, g);
      }
      return g;
    },
    async close() {
      for (const g of gateways.values()) g.close();
      await orderer.close();
      for (const u of unsubscribers) u();
      await Promise.all(peers.map((p) => p.close()));
      await verifier.close();
      lock.release();
    },
  };
  return network;
}
