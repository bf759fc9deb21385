/**
 * Who signed: maps a public key on a chain at a height to its org, role and name.
 * The backing here is the chain's configuration history (genesis and configuration
 * transactions); `registry-identity-resolver.ts` adds the keys registered through the
 * on-chain identity contract behind the same interface.
 */
import { toHex } from '../crypto/hash.js';
import type { ChainConfig } from '../ledger/chain-config.js';
import { ADMIN_FUNCTION } from './identity-record.js';
import { MAX_LEVEL } from './identity-certificate.js';

/** A resolved signer. */
export interface ResolvedIdentity {
  readonly org: string;
  /** A configured member's role (`admin`, `peer`, `client`, …); a registered key's kind (`member` or `device`). */
  readonly role: string;
  readonly name: string;
  /** Hex of the compressed public key. */
  readonly key: string;
  /** The function from the chain's registry: `admin` for a configured admin, the certificate's for a registered key, absent for other configured members. */
  readonly function?: string;
  /** Authority level 1..9: 9 for a configured admin, the certificate's for a registered key, absent for other configured members. */
  readonly level?: number;
}

/** Answers who a creator is on a chain at a height, and whether its key is valid there. */
export interface IdentityResolver {
  /**
   * @param chain the chain name
   * @param creator 33-byte compressed public key
   * @param height the block number being validated (the identity must be valid for it)
   * @param timestamp the time (ms) a registered key's validity window is judged at: the block
   *   header's timestamp when validating, the proposal's when endorsing; without it the window is not checked
   * @returns the identity, or `undefined` when the key is unknown or not valid at that height
   */
  resolve(chain: string, creator: Uint8Array, height: number, timestamp?: number): ResolvedIdentity | undefined;
  /** The configuration in force for transactions of block `height`. */
  configAt(height: number): ChainConfig;
  /** The configuration in force at block `height` and the blocks it governs: `from` up to `until` (exclusive; undefined while it is in force). */
  configSpanAt(height: number): ConfigSpan;
}

/** A configuration and the blocks it governs. */
export interface ConfigSpan {
  readonly config: ChainConfig;
  /** The first block it governs. */
  readonly from: number;
  /** The first block the next configuration governs; undefined while this one is in force. */
  readonly until: number | undefined;
}

/**
 * Indexes a configuration's member keys: hex compressed key → identity. The one place a
 * configuration's members are looked up (peers, orderers and gateways all use it).
 */
export function indexMembers(config: ChainConfig): Map<string, ResolvedIdentity> {
  const byKey = new Map<string, ResolvedIdentity>();
  for (const [org, { members }] of Object.entries(config.orgs)) {
    for (const m of members) byKey.set(m.key, m.role === 'admin' ? { org, role: m.role, name: m.name, key: m.key, function: ADMIN_FUNCTION, level: MAX_LEVEL } : { org, role: m.role, name: m.name, key: m.key });
  }
  return byKey;
}

interface ConfigEpoch {
  /** First block number validated under this configuration. */
  readonly from: number;
  readonly config: ChainConfig;
  readonly byKey: ReadonlyMap<string, ResolvedIdentity>;
}

/** The configuration-backed resolver of one chain. */
export interface ConfigIdentityResolver extends IdentityResolver {
  /** Records a configuration committed in block `committedIn`; it governs blocks after it. */
  addConfig(committedIn: number, config: ChainConfig): void;
  /** The latest configuration. */
  current(): ChainConfig;
}

/**
 * Creates a resolver over a chain's configuration history.
 * @example const r = createConfigIdentityResolver(); r.addConfig(0, genesisConfig); r.resolve('trade', key, 5)
 */
export function createConfigIdentityResolver(): ConfigIdentityResolver {
  const epochs: ConfigEpoch[] = [];
  /** The index of the last configuration in force at `height` (-1 before the first; configAt and configSpanAt then take the first). */
  const epochIndexAt = (height: number): number => {
    let i = epochs.length - 1;
    while (i >= 0 && (epochs[i] as ConfigEpoch).from > height) i--;
    return i;
  };
  const epochAt = (height: number): ConfigEpoch | undefined => epochs[epochIndexAt(height)];
  return {
    addConfig(committedIn, config) {
      const byKey = indexMembers(config);
      const from = committedIn + 1;
      while (epochs.length > 0 && (epochs[epochs.length - 1] as ConfigEpoch).from >= from) epochs.pop();
      epochs.push({ from, config, byKey });
    },
    resolve(chain, creator, height) {
      const e = epochAt(height);
      if (e === undefined || e.config.chain !== chain) return undefined;
      return e.byKey.get(toHex(creator));
    },
    configAt(height) {
      const e = epochAt(height) ?? epochs[0];
      if (e === undefined) throw new Error('no configuration recorded yet');
      return e.config;
    },
    configSpanAt(height) {
      const i = Math.max(0, epochIndexAt(height));
      const e = epochs[i];
      if (e === undefined) throw new Error('no configuration recorded yet');
      // The first configuration also governs the blocks before it took effect (the genesis block).
      return { config: e.config, from: i === 0 ? 0 : e.from, until: epochs[i + 1]?.from };
    },
    current() {
      const e = epochs[epochs.length - 1];
      if (e === undefined) throw new Error('no configuration recorded yet');
      return e.config;
    },
  };
}
