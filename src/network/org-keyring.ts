/**
 * Where the embedded network's keys come from. Two backings:
 *
 * - `pem` (the default, for tests): one random key per identity in a PKCS#8 PEM file
 *   `keys/<org>/<name>.pem`, created on first use. Fast, but the private keys lie in plaintext.
 * - `hd` (what `silk start` uses): each org has one key tree (docs/keys.md) whose 24-word
 *   mnemonic is created once and kept only in a mnemonic keystore
 *   `keys/<org>/mnemonic.keystore.json` (scrypt + AES-256-GCM under a password, docs/keystores.md).
 *   Every key of the org is derived from it: the admin at `adminKeyPath()`, peer i at the device
 *   key `{ function: device, level: PEER_DEVICE_LEVEL, member: i }`, a user with a function at
 *   `{ function, level, member }` (member = how many earlier users of the org share that function
 *   and level). Each such user's derived key is also written to a private-key keystore
 *   `keys/<org>/<name>.keystore.json`, so its holder can sign from the CLI. The orderer's key is a
 *   random key in a private-key keystore `keys/orderer/orderer0.keystore.json`. Nothing secret
 *   is ever written in plaintext.
 *
 * Every keystore is unlocked once when the network opens, all orgs in parallel (scrypt runs on
 * the libuv thread pool), and the derived keys stay in memory as node:crypto KeyObjects.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSigner, generatePrivateKeyPem, privateKeyObjectOfScalar, signerFromPem, type Signer } from '../crypto/p256.js';
import { SilkError } from '../errors.js';
import { adminKeyPath, DEFAULT_FUNCTIONS, signingKeyPath } from '../keys/key-tree.js';
import { publicKeyOfScalar, readKeystore, writeKeystore, type ScryptParameters } from '../keys/keystore.js';
import { generateMnemonic, mnemonicToSeed } from '../keys/mnemonic.js';
import { derivePath, masterKeyFromSeed, signerFromExtendedKey } from '../keys/slip10.js';
import type { NetworkSpec, OrgSpec } from './embedded-network.js';

/** File name of an org's mnemonic keystore in `keys/<org>/`. */
export const MNEMONIC_KEYSTORE = 'mnemonic.keystore.json';
/** The authority level in a peer's device key path (`m/7777'/0'/6'/1'/<peer index>'`). */
export const PEER_DEVICE_LEVEL = 1;
/** The org folder and name of the orderer's key. */
const ORDERER = { org: 'orderer', name: 'orderer0' } as const;

/** How the embedded network keeps its keys (see the module comment). */
export type NetworkKeysOptions =
  | { readonly kind: 'pem' }
  | {
    readonly kind: 'hd';
    /** The password of every keystore of the network. */
    readonly password: string;
    /** scrypt cost of keystores written; `DEFAULT_KEYSTORE_SCRYPT` unless given. Small values are for tests only. */
    readonly scrypt?: ScryptParameters;
  };

/** A user of an org with a place in the key tree: registered on chain, not a configuration member. */
export interface FunctionUserSpec {
  readonly name: string;
  /** A function of `DEFAULT_FUNCTIONS` other than `admin`, e.g. `sales`. */
  readonly function: string;
  /** Authority level 1..9. */
  readonly level: number;
}

/** A user as an org spec lists it: a plain name (a configuration member with role `client`) or a function user. */
export type UserSpec = string | FunctionUserSpec;

/** A user of an org, resolved: configuration clients have no role; function users have their key's path. */
export type OrgUser =
  | { readonly name: string; readonly configured: true }
  | { readonly name: string; readonly configured: false; readonly function: string; readonly level: number; readonly member: number; readonly path: string };

/** The name of an org's i-th peer, e.g. `peer0.sellercn`. */
export function peerName(org: string, i: number): string {
  return `peer${i}.${org.toLowerCase()}`;
}

/**
 * An org's users with their place in the key tree.
 * @throws SilkError CONFIG_INVALID for an unknown or `admin` function, a bad level or a repeated name
 * @example orgUsers({ name: 'SellerCN', users: [{ name: 'yiwu-seller', function: 'sales', level: 3 }] })[0].path; // "m/7777'/0'/1'/3'/0'"
 */
export function orgUsers(org: OrgSpec): OrgUser[] {
  const seen = new Set<string>(['admin']);
  const members = new Map<string, number>();
  return (org.users ?? []).map((u): OrgUser => {
    const name = typeof u === 'string' ? u : u.name;
    if (seen.has(name)) throw new SilkError('CONFIG_INVALID', `org ${org.name} lists identity ${name} twice (or names a user admin)`);
    seen.add(name);
    if (typeof u === 'string') return { name, configured: true };
    const index = Object.hasOwn(DEFAULT_FUNCTIONS, u.function) ? DEFAULT_FUNCTIONS[u.function] : undefined;
    if (index === undefined || u.function === 'admin') throw new SilkError('CONFIG_INVALID', `user ${org.name}/${name}: function '${u.function}' is not one of ${Object.keys(DEFAULT_FUNCTIONS).filter((f) => f !== 'admin').join(', ')}`);
    if (!Number.isInteger(u.level) || u.level < 1 || u.level > 9) throw new SilkError('CONFIG_INVALID', `user ${org.name}/${name}: level must be an integer from 1 to 9, got ${String(u.level)}`);
    const slot = `${u.function}/${u.level}`;
    const member = members.get(slot) ?? 0;
    members.set(slot, member + 1);
    return { name, configured: false, function: u.function, level: u.level, member, path: signingKeyPath({ function: index, level: u.level, member }) };
  });
}

/** The keys of an embedded network, unlocked. */
export interface OrgKeyring {
  readonly kind: NetworkKeysOptions['kind'];
  /**
   * The signer of an identity: `admin`, a peer name or a user name of an org, or
   * `orderer0` of `orderer`.
   * @throws SilkError INVALID_ARGUMENT for an identity the network does not have (HD keyring)
   */
  signer(org: string, name: string): Signer;
  /** The keystore files a person may sign with (HD: the function users'); empty for PEM. */
  readonly userKeystores: readonly { readonly org: string; readonly name: string; readonly file: string }[];
}

/** Parameters of {@link openOrgKeyring}. */
export interface OpenOrgKeyringParameters {
  /** The network's `keys` folder. */
  readonly keysDir: string;
  readonly spec: NetworkSpec;
  readonly keys: NetworkKeysOptions;
  /** True when the network is being created: missing key files are then created, not an error. */
  readonly create: boolean;
}

/** Which backing a keys folder holds, or undefined when it holds none yet. */
function backingOnDisk(keysDir: string, spec: NetworkSpec): NetworkKeysOptions['kind'] | undefined {
  for (const org of spec.orgs) {
    if (existsSync(join(keysDir, org.name, MNEMONIC_KEYSTORE))) return 'hd';
    if (existsSync(join(keysDir, org.name, 'admin.pem'))) return 'pem';
  }
  return undefined;
}

/**
 * Opens (creating on first start) the keys of an embedded network.
 * @returns the keyring; with `hd`, every keystore has been unlocked
 * @throws SilkError CONFIG_INVALID when the folder holds the other backing, or a keystore of an
 *   existing network is missing; INVALID_ARGUMENT (details.reason `wrong-password`, …) from the keystores
 * @example const keyring = await openOrgKeyring({ keysDir: 'data/keys', spec, keys: { kind: 'hd', password }, create: true })
 */
export async function openOrgKeyring(params: OpenOrgKeyringParameters): Promise<OrgKeyring> {
  const onDisk = backingOnDisk(params.keysDir, params.spec);
  if (onDisk !== undefined && onDisk !== params.keys.kind) {
    throw new SilkError('CONFIG_INVALID', `${params.keysDir} holds ${onDisk === 'hd' ? 'keystores (HD keys)' : 'PEM keys'}, but the network was opened with ${params.keys.kind} keys`);
  }
  return params.keys.kind === 'pem' ? pemKeyring(params.keysDir) : await hdKeyring(params, params.keys.password, params.keys.scrypt);
}

function pemKeyring(keysDir: string): OrgKeyring {
  const keys = new Map<string, Signer>();
  return {
    kind: 'pem',
    userKeystores: [],
    signer(org, name) {
      const id = `${org}/${name}`;
      let k = keys.get(id);
      if (k === undefined) {
        const dir = join(keysDir, org);
        const file = join(dir, `${name}.pem`);
        if (!existsSync(file)) {
          mkdirSync(dir, { recursive: true, mode: 0o700 });
          writeFileSync(file, generatePrivateKeyPem(), { mode: 0o600 });
        }
        k = signerFromPem(readFileSync(file, 'utf8'));
        keys.set(id, k);
      }
      return k;
    },
  };
}

function missing(file: string): SilkError {
  return new SilkError('CONFIG_INVALID', `${file} is missing: the network exists, and a new key would not match the one on its chains (restore the file from a backup)`);
}

/** The org's mnemonic: unlocked from its keystore, or created and sealed on first start. */
async function orgMnemonic(file: string, params: OpenOrgKeyringParameters, password: string, scrypt: ScryptParameters | undefined): Promise<string> {
  if (existsSync(file)) {
    const ks = await readKeystore(file, password);
    if (ks.kind !== 'mnemonic') throw new SilkError('CONFIG_INVALID', `${file} holds a private key, not an org's mnemonic`);
    return ks.secret;
  }
  if (!params.create) throw missing(file);
  const mnemonic = generateMnemonic();
  const seed = mnemonicToSeed(mnemonic);
  const master = masterKeyFromSeed(seed);
  await writeKeystore(file, { kind: 'mnemonic', mnemonic, pubkey: master.publicKey, path: null }, password, scrypt === undefined ? {} : { scrypt });
  for (const secret of [seed, master.privateKey, master.chainCode]) secret.fill(0);
  return mnemonic;
}

/** Unlocks (or creates) one org's tree and derives its admin, peers and function users. */
async function openOrg(org: OrgSpec, params: OpenOrgKeyringParameters, password: string, scrypt: ScryptParameters | undefined): Promise<{ signers: Map<string, Signer>; userKeystores: { org: string; name: string; file: string }[] }> {
  const dir = join(params.keysDir, org.name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const mnemonic = await orgMnemonic(join(dir, MNEMONIC_KEYSTORE), params, password, scrypt);
  const seed = mnemonicToSeed(mnemonic);
  const master = masterKeyFromSeed(seed);
  const signers = new Map<string, Signer>();
  const userKeystores: { org: string; name: string; file: string }[] = [];
  const writes: Promise<unknown>[] = [];
  try {
    const derive = (name: string, path: string): void => {
      const key = derivePath(master, path);
      signers.set(name, signerFromExtendedKey(key));
      key.chainCode.fill(0);
      key.privateKey.fill(0);
    };
    derive('admin', adminKeyPath());
    const device = DEFAULT_FUNCTIONS.device as number;
    for (let i = 0; i < (org.peers ?? 1); i++) derive(peerName(org.name, i), signingKeyPath({ function: device, level: PEER_DEVICE_LEVEL, member: i }));
    for (const user of orgUsers(org)) {
      if (user.configured) throw new SilkError('CONFIG_INVALID', `user ${org.name}/${user.name} has no function and level: with HD keys every user needs them (its key's place in the tree)`);
      const key = derivePath(master, user.path);
      signers.set(user.name, signerFromExtendedKey(key));
      const file = join(dir, `${user.name}.keystore.json`);
      userKeystores.push({ org: org.name, name: user.name, file });
      // The user's copy of its key; rewritten (same key) if someone deleted it.
      if (!existsSync(file)) writes.push(writeKeystore(file, { kind: 'private-key', bytes: key.privateKey.slice(), pubkey: key.publicKey, path: user.path }, password, scrypt === undefined ? {} : { scrypt }));
      key.chainCode.fill(0);
      key.privateKey.fill(0);
    }
  } finally {
    for (const secret of [seed, master.privateKey, master.chainCode]) secret.fill(0);
  }
  await Promise.all(writes);
  return { signers, userKeystores };
}

/** The orderer's key: unlocked from its keystore, or created and sealed on first start. */
async function ordererSigner(params: OpenOrgKeyringParameters, password: string, scrypt: ScryptParameters | undefined): Promise<Signer> {
  const dir = join(params.keysDir, ORDERER.org);
  const file = join(dir, `${ORDERER.name}.keystore.json`);
  let scalar: Uint8Array;
  if (existsSync(file)) {
    const ks = await readKeystore(file, password);
    if (ks.kind !== 'private-key') throw new SilkError('CONFIG_INVALID', `${file} holds a mnemonic, not the orderer's key`);
    scalar = ks.secret;
  } else {
    if (!params.create) throw missing(file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    scalar = randomScalar();
    await writeKeystore(file, { kind: 'private-key', bytes: scalar, pubkey: publicKeyOfScalar(scalar), path: null }, password, scrypt === undefined ? {} : { scrypt });
  }
  try {
    return createSigner(privateKeyObjectOfScalar(scalar));
  } finally {
    scalar.fill(0);
  }
}

/** A uniformly random P-256 scalar in 1..n−1 (a draw outside it, chance ~2^-32, is redrawn). */
function randomScalar(): Uint8Array {
  for (;;) {
    const candidate = new Uint8Array(randomBytes(32));
    try {
      publicKeyOfScalar(candidate);
      return candidate;
    } catch {
      candidate.fill(0);
    }
  }
}

async function hdKeyring(params: OpenOrgKeyringParameters, password: string, scrypt: ScryptParameters | undefined): Promise<OrgKeyring> {
  const [orderer, orgs] = await Promise.all([
    ordererSigner(params, password, scrypt),
    Promise.all(params.spec.orgs.map(async (o) => ({ org: o.name, ...(await openOrg(o, params, password, scrypt)) }))),
  ]);
  const signers = new Map<string, Signer>([[`${ORDERER.org}/${ORDERER.name}`, orderer]]);
  const userKeystores: { org: string; name: string; file: string }[] = [];
  for (const opened of orgs) {
    for (const [name, signer] of opened.signers) signers.set(`${opened.org}/${name}`, signer);
    userKeystores.push(...opened.userKeystores);
  }
  return {
    kind: 'hd',
    userKeystores,
    signer(org, name) {
      const signer = signers.get(`${org}/${name}`);
      if (signer === undefined) throw new SilkError('INVALID_ARGUMENT', `the network has no identity ${org}/${name}`);
      return signer;
    },
  };
}
