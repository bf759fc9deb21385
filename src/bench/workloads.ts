/**
 * The benchmark workloads on the `basic` contract, after Hyperledger Caliper's fixed-asset
 * benchmarks: a blind write, a read-modify-write endorsed by one org, and one endorsed by two.
 */
import type { NetworkSpec } from '../network/embedded-network.js';
import { seededRandom } from '../testing/seeded-random.js';

/** A workload: which function, how keys and values are drawn, which policy endorses it. */
export interface Workload {
  readonly name: string;
  readonly description: string;
  /** `basic` function each transaction calls. */
  readonly fn: 'put' | 'rmw';
  /** The contract's endorsement policy on the bench chain. */
  readonly policy: string;
  /** Endorsements each transaction carries (E in the verify formula). */
  readonly endorsements: number;
  /** Keys are drawn uniformly from `kv:k0 … kv:k<keys-1>`. */
  readonly keys: number;
  readonly valueBytes: number;
  /** Write every key once before the rounds (not timed). */
  readonly preload: boolean;
}

/** Organisations of the bench network; each has one peer and one client user. */
export const BENCH_ORGS = ['Org1', 'Org2', 'Org3'] as const;
/** The client identity each org's transactions are signed with. */
export const BENCH_USER = 'bench-client';
/** The chain the bench runs on. */
export const BENCH_CHAIN = 'bench';

const ANY_ONE = "OR('Org1.peer', 'Org2.peer', 'Org3.peer')";
const TWO_OF_THREE = "OutOf(2, 'Org1.peer', 'Org2.peer', 'Org3.peer')";

/** Every workload, in the order a full run takes them. */
export const WORKLOADS: readonly Workload[] = [
  { name: 'blind-write', description: 'put of a random key of 10,000 (100-byte value), endorsed by 1 org', fn: 'put', policy: ANY_ONE, endorsements: 1, keys: 10_000, valueBytes: 100, preload: false },
  { name: 'rmw', description: 'read-modify-write of one of 10,000 preloaded keys (100-byte value), endorsed by 1 org', fn: 'rmw', policy: ANY_ONE, endorsements: 1, keys: 10_000, valueBytes: 100, preload: true },
  { name: 'rmw-2of3', description: 'read-modify-write of one of 10,000 preloaded keys, endorsed by 2 of 3 orgs', fn: 'rmw', policy: TWO_OF_THREE, endorsements: 2, keys: 10_000, valueBytes: 100, preload: true },
];

/** Finds a workload by name, or `undefined`. */
export function findWorkload(name: string): Workload | undefined {
  return WORKLOADS.find((w) => w.name === name);
}

/** The network a workload runs on: three orgs with one peer each, one chain running `basic`. */
export function benchNetworkSpec(w: Workload): NetworkSpec {
  return {
    orgs: BENCH_ORGS.map((name) => ({ name, peers: 1, users: [BENCH_USER] })),
    chains: [{ name: BENCH_CHAIN, contracts: [{ name: 'basic', policy: w.policy }] }],
  };
}

/** Arguments of one `put`/`rmw` call. */
export interface KvArgs {
  readonly key: string;
  readonly value: string;
  readonly [name: string]: string;
}

/** A seeded generator of keys and values (mulberry32), so runs draw the same sequence. */
export interface ArgsGenerator {
  /** A uniformly drawn key and a fresh value. */
  next(): KvArgs;
  /** Key number `i` with a fresh value (preloading). */
  forKey(i: number): KvArgs;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** Characters of a value turned into a string at once. */
const VALUE_CHUNK = 4096;

/** Creates the generator of a workload. */
export function createArgsGenerator(w: Workload, seed: number): ArgsGenerator {
  const random = seededRandom(seed);
  // Character codes drawn into one array and turned into a string a chunk at a time (a chunk
  // stays far below the engine's limit on call arguments), not a string grown by a character.
  const codes = new Array<number>(w.valueBytes);
  const value = (): string => {
    for (let i = 0; i < w.valueBytes; i++) codes[i] = ALPHABET.charCodeAt(Math.floor(random() * ALPHABET.length));
    if (codes.length <= VALUE_CHUNK) return String.fromCharCode(...codes);
    let s = '';
    for (let at = 0; at < codes.length; at += VALUE_CHUNK) s += String.fromCharCode(...codes.slice(at, at + VALUE_CHUNK));
    return s;
  };
  return {
    next: () => ({ key: `k${Math.floor(random() * w.keys)}`, value: value() }),
    forKey: (i) => ({ key: `k${i}`, value: value() }),
  };
}
