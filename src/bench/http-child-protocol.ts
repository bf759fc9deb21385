/**
 * What the HTTP benchmark's parent and its API-server child say to each other over the
 * child-process IPC channel: the child announces itself once, then answers calls by id.
 */
import type { ClosedLoopResult } from './rounds.js';

/** Arguments of the child, passed on its command line. */
export interface HttpChildArgs {
  /** Seed of the key/value generator of the in-process rounds and the preload. */
  readonly seed: number;
  /** Keys of the `rmw` workload (10,000 unless a test wants a faster preload). */
  readonly keys: number;
}

/** The child's first message: the network is open, preloaded, and served. */
export interface HttpChildReady {
  readonly kind: 'ready';
  /** Base URL of the API server, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** Where the members' key files are: clients sign with their own keys, as real clients do. */
  readonly keysDir: string;
  readonly chain: string;
  readonly keys: number;
  /** Height of the chain after the preload. */
  readonly height: number;
}

/** What the in-process closed loop measured, in the child, on the network the API serves. */
export interface InProcessRound extends Omit<ClosedLoopResult, 'cost'> {
  readonly concurrency: number;
  readonly durationS: number;
  /** Blocks committed during the measured loop: [from, to). */
  readonly blocksFrom: number;
  readonly blocksTo: number;
  /** Transactions in those blocks ÷ blocks. */
  readonly blockSizeAvg: number;
  /** CPU time of the child (all threads) during the measured loop, µs; it includes the client's signing. */
  readonly cpuUs: number;
  /** Transactions in blocks (valid or not) during the measured loop, counted at the first peer. */
  readonly txsInBlocks: number;
}

/** The network has nothing in flight: no block was cut for a while and every peer is at the orderer's height. */
export interface Settled {
  readonly settled: boolean;
  readonly height: number;
  /** CPU time of the child (all threads) since it started, µs. */
  readonly cpuUs: number;
  /** Transactions in blocks since the network opened, counted at the first peer. */
  readonly txsInBlocks: number;
}

/** How the transactions a client saw answered VALID stand on the ledger. */
export interface LedgerCheck {
  readonly checked: number;
  /** VALID at every peer. */
  readonly validAtEveryPeer: number;
  /** What the others are: a code stored at some peer, or `MISSING`. */
  readonly otherByCode: Readonly<Record<string, number>>;
}

/** The calls the child answers: parameters and result of each. */
export interface HttpChildCalls {
  /** Runs the in-process closed loop of `rmw` (warm-up, then the measured loop). */
  inProcess: { params: { readonly warmupS: number; readonly durationS: number; readonly concurrency: number }; result: InProcessRound };
  /** Waits until the network is quiet. */
  settle: { params: { readonly quietMs: number; readonly timeoutMs: number }; result: Settled };
  /** Looks transactions up at every peer. */
  checkValid: { params: { readonly txIds: readonly string[] }; result: LedgerCheck };
  /** Stops the server and closes the network; the child exits after answering. */
  close: { params: Record<string, never>; result: null };
}

/** A call name. */
export type HttpChildCall = keyof HttpChildCalls;

/** A call sent to the child. */
export interface HttpChildRequest<K extends HttpChildCall = HttpChildCall> {
  readonly id: number;
  readonly call: K;
  readonly params: HttpChildCalls[K]['params'];
}

/** The child's answer to a call. */
export type HttpChildReply =
  | { readonly kind: 'reply'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly kind: 'reply'; readonly id: number; readonly ok: false; readonly error: string };

/** Anything the child sends. */
export type HttpChildMessage = HttpChildReady | HttpChildReply;
