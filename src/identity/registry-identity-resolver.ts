/**
 * The identity resolver of a chain: its configuration history (configured members) combined
 * with the keys registered on chain through the identity contract. The peer feeds it the
 * identity contract's committed writes after each block, with the block number; a replay
 * (`silk verify`, a reopened peer) feeds it the same writes in the same order, so every peer
 * and every replay answers alike.
 *
 * Timing, for a key registered in block B, retired in block T and marked compromised in block R
 * (see docs/identity.md): the key signs valid transactions of blocks B+1 … T; its descendants
 * stay valid after T (a planned rotation); a compromise in block R invalidates the key and all
 * its descendants for blocks after R. Transactions of earlier blocks stay valid, since blocks
 * are never re-validated under a later registry.
 *
 * The cache holds, per key, the outcome of walking its certificate chain (height-independent:
 * the block interval it is valid for, its root admin key, its validity window) and is dropped
 * entirely on any identity write or configuration, so it can never answer from before a
 * revocation. What depends on the height (the configuration in force, the interval) is checked
 * on every call.
 */
import { fromHex, toHex } from '../crypto/hash.js';
import type { ChainConfig } from '../ledger/chain-config.js';
import { decodeCertificate, isWithinValidity, verifyCertificateSignature, type IdentityCertificate } from './identity-certificate.js';
import { IDENTITY_KEY_PREFIX, type IdentityRecord, type IdentityStatus } from './identity-record.js';
import { createConfigIdentityResolver, type ConfigIdentityResolver, type ResolvedIdentity } from './identity-resolver.js';

/** One committed write of the identity contract. */
export interface IdentityWrite {
  readonly key: string;
  /** JSON text, or `null` for a deletion. */
  readonly value: string | null;
}

/** A registered key as the registry knows it, with the blocks its status changed in. */
export interface RegisteredKey {
  readonly certificate: IdentityCertificate;
  readonly key: string;
  readonly parent: string;
  readonly registeredIn: number;
  readonly retiredIn?: number;
  readonly compromisedIn?: number;
}

/** Why a key does not resolve, or that it does (for status displays). */
export type KeyStanding = 'valid' | 'unknown' | 'not-yet-valid' | 'retired' | 'compromised' | 'ancestor-compromised' | 'expired' | 'broken-chain' | 'root-not-admin';

/** The configuration- and registry-backed resolver of one chain. */
export interface RegistryIdentityResolver extends ConfigIdentityResolver {
  /**
   * Records the identity contract's valid writes of block `block` (call after it commits, in
   * block order). Writes whose certificate does not decode, names another key or whose
   * parent's signature does not verify are ignored, so a forged registration never resolves.
   */
  applyIdentityWrites(block: number, writes: readonly IdentityWrite[]): void;
  /** A registered key, if any. */
  registered(keyHex: string): RegisteredKey | undefined;
  /** Why `keyHex` does or does not resolve at `height` and `timestamp`. */
  standing(chain: string, keyHex: string, height: number, timestamp?: number): KeyStanding;
}

interface MutableKey {
  certificate: IdentityCertificate;
  key: string;
  parent: string;
  registeredIn: number;
  retiredIn?: number;
  compromisedIn?: number;
}

/** The height-independent outcome of walking a key's certificate chain. */
interface Walk {
  readonly identity: ResolvedIdentity;
  /** First block number the key is valid for. */
  readonly from: number;
  /** Last block number the key is valid for (Infinity while nothing ended it). */
  readonly until: number;
  /** Why `until` is what it is. */
  readonly endedBy: 'retired' | 'compromised' | 'ancestor-compromised' | undefined;
  readonly root: Uint8Array;
  readonly certificate: IdentityCertificate;
}

/** Deepest certificate chain followed (admin → … → key). */
const MAX_CHAIN_DEPTH = 16;

function parseRecord(value: string): IdentityRecord | undefined {
  try {
    const r = JSON.parse(value) as IdentityRecord;
    return typeof r.certificate === 'string' && typeof r.signature === 'string' && typeof r.status === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

function admitted(keyHex: string, r: IdentityRecord): IdentityCertificate | undefined {
  try {
    const bytes = fromHex(r.certificate);
    const cert = decodeCertificate(bytes);
    if (toHex(cert.key) !== keyHex || !verifyCertificateSignature(cert, bytes, fromHex(r.signature))) return undefined;
    return cert;
  } catch {
    return undefined;
  }
}

function endStatus(k: MutableKey, status: IdentityStatus | 'deleted', block: number): void {
  if (status === 'active') return;
  k.retiredIn ??= block;
  if (status === 'compromised' || status === 'deleted') k.compromisedIn ??= block;
}

/**
 * Creates an empty resolver; feed it configurations with `addConfig` and identity writes with
 * `applyIdentityWrites`, both in block order.
 * @example const r = createRegistryIdentityResolver(); r.addConfig(0, genesis); r.applyIdentityWrites(5, writes); r.resolve('trade', key, 6, blockTimestamp)
 */
export function createRegistryIdentityResolver(): RegistryIdentityResolver {
  const config = createConfigIdentityResolver();
  const keys = new Map<string, MutableKey>();
  const cache = new Map<string, Walk | null>();

  const walk = (keyHex: string): Walk | null => {
    const self = keys.get(keyHex);
    if (self === undefined) return null;
    const cert = self.certificate;
    let from = self.registeredIn + 1;
    let until = self.retiredIn ?? Infinity;
    let endedBy: Walk['endedBy'] = self.compromisedIn !== undefined ? 'compromised' : self.retiredIn !== undefined ? 'retired' : undefined;
    let child = self;
    for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
      const parent = keys.get(child.parent);
      if (parent === undefined) {
        return { identity: { org: cert.org, role: cert.kind, name: cert.path, key: keyHex, function: cert.function, level: cert.level }, from, until, endedBy, root: child.certificate.parent, certificate: cert };
      }
      const p = parent.certificate;
      const c = child.certificate;
      // The contract enforces these at registration; the walk re-checks them so that a registry
      // fed a write no honest contract would produce still never resolves it.
      if (p.org !== c.org || p.chain !== c.chain || c.level > p.level || c.notBefore < p.notBefore || c.notAfter > p.notAfter) return null;
      from = Math.max(from, parent.registeredIn + 1);
      if (parent.compromisedIn !== undefined && parent.compromisedIn < until) {
        until = parent.compromisedIn;
        endedBy = 'ancestor-compromised';
      }
      child = parent;
    }
    return null;
  };

  const cachedWalk = (keyHex: string): Walk | null => {
    let w = cache.get(keyHex);
    if (w === undefined) {
      w = walk(keyHex);
      cache.set(keyHex, w);
    }
    return w;
  };

  const standingOf = (chain: string, keyHex: string, w: Walk | null, height: number, timestamp: number | undefined): KeyStanding => {
    if (w === null) return keys.has(keyHex) ? 'broken-chain' : 'unknown';
    if (w.certificate.chain !== chain) return 'unknown';
    if (height < w.from) return 'not-yet-valid';
    if (height > w.until) return w.endedBy ?? 'retired';
    const root = config.resolve(chain, w.root, height);
    if (root?.role !== 'admin' || root.org !== w.identity.org) return 'root-not-admin';
    if (timestamp !== undefined && !isWithinValidity(w.certificate, timestamp)) return 'expired';
    return 'valid';
  };

  return {
    addConfig(committedIn, c: ChainConfig) {
      config.addConfig(committedIn, c);
      cache.clear();
    },
    configAt: (height) => config.configAt(height),
    configSpanAt: (height) => config.configSpanAt(height),
    current: () => config.current(),
    resolve(chain, creator, height, timestamp) {
      const member = config.resolve(chain, creator, height);
      if (member !== undefined || keys.size === 0) return member;
      const keyHex = toHex(creator);
      const w = cachedWalk(keyHex);
      return w !== null && standingOf(chain, keyHex, w, height, timestamp) === 'valid' ? w.identity : undefined;
    },
    applyIdentityWrites(block, writes) {
      for (const { key, value } of writes) {
        if (!key.startsWith(IDENTITY_KEY_PREFIX)) continue;
        const keyHex = key.slice(IDENTITY_KEY_PREFIX.length);
        const existing = keys.get(keyHex);
        const record = value === null ? undefined : parseRecord(value);
        if (existing !== undefined) {
          endStatus(existing, record?.status ?? 'deleted', block);
        } else if (record !== undefined) {
          const certificate = admitted(keyHex, record);
          if (certificate === undefined) continue;
          const k: MutableKey = { certificate, key: keyHex, parent: toHex(certificate.parent), registeredIn: block };
          endStatus(k, record.status, block);
          keys.set(keyHex, k);
        }
        cache.clear();
      }
    },
    registered(keyHex) {
      return keys.get(keyHex);
    },
    standing(chain, keyHex, height, timestamp) {
      const member = config.resolve(chain, fromHex(keyHex), height);
      if (member !== undefined) return 'valid';
      return standingOf(chain, keyHex, cachedWalk(keyHex), height, timestamp);
    },
  };
}
