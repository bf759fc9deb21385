/**
 * The `Orderer` that peers and gateways use in distributed mode. Broadcasts go over HTTP (or
 * mutual TLS) to an orderer process: the chain's leader when etcd names one, else any, failing
 * over to the next when one cannot be reached. Broadcasts on one chain made within a couple of
 * milliseconds of each other travel together in one batch POST (`src/ordering/broadcast-batcher.ts`);
 * each caller still gets its own envelope's position or error. Blocks come straight from the etcd block log: a
 * delivery is the log's watch (in order, each block once, resuming across etcd failures). The
 * synchronous `height()` and `block()` answer from what this client has read or watched, with a
 * bounded cache, and read through the log in the background when asked for a block they lack.
 * Peers check every block themselves, so nothing here trusts an orderer beyond ordering.
 */
import type { Agent } from 'node:https';
import { pino, type Logger } from 'pino';
import { SilkError, SubmitError, isSilkError } from '../errors.js';
import { decodeBlock } from '../ledger/block.js';
import { decodeTransaction } from '../ledger/transaction.js';
import { configOfTransaction, toSubmitError } from '../ordering/block-cutter.js';
import { createBroadcastBatcher, type BroadcastBatch, type BroadcastBatcher } from '../ordering/broadcast-batcher.js';
import type { OrderedPosition, Orderer } from '../ordering/orderer.js';
import { CREATE_CHAIN_PATH, errorOfAnswer, ordererLivenessMonitor, outcomesOfBatchAnswer, parseLeaderCandidate, postBroadcastBatch, postJson, type BroadcastOutcome } from '../ordering/orderer-wire.js';
import type { LivenessMonitor } from '../liveness/liveness-monitor.js';
import { openEtcdBlockLog, type BlockWatch, type EtcdBlockLog, type StoredBlock } from './etcd-block-log.js';
import { openEtcdConnection, type EtcdConnection, type EtcdConnectionOptions } from './etcd-client.js';
import { openChainElection, type ChainElection } from './etcd-election.js';
import { chainPrefix } from './etcd-keys.js';
import { mtlsAgent, type TlsCredentials } from './mtls.js';
import type { TlsMembership } from './tls-pki.js';

/**
 * How long a broadcast may take: 30 s, longer than an orderer's own deadline (20 s) so its
 * answer, even a refusal, arrives before the client gives up.
 */
export const CLIENT_BROADCAST_TIMEOUT_MS = 30_000;
/** Blocks kept in memory per chain, least recently used out first (at most 256 × 64 KiB = 16 MiB). */
export const CLIENT_CACHE_BLOCKS = 256;
/** How long the leader read from etcd is used before it is read again. */
export const LEADER_CACHE_MS = 2_000;
/** Pause after every orderer failed to answer, before the next round. */
const ROUND_PAUSE_MS = 200;
/** Blocks one read-through fetches. */
const READ_AHEAD_BLOCKS = 32;

/** An orderer process the client may send broadcasts to. */
export interface OrdererEndpoint {
  readonly name: string;
  /** Its broadcast URL, e.g. `https://10.0.1.10:7050`. */
  readonly url: string;
}

/** Options of {@link openEtcdOrdererClient}. */
export interface EtcdOrdererClientOptions {
  readonly etcd: EtcdConnectionOptions;
  /**
   * The orderers, or a function giving them as they are now (a process following its network
   * description passes one, so an orderer added to the running network is sent to, and trusted
   * as the chain's leader, without a restart).
   */
  readonly orderers: readonly OrdererEndpoint[] | (() => readonly OrdererEndpoint[]);
  /** The chains this client follows. */
  readonly chains: readonly string[];
  /** Mutual TLS to the orderers: this process's credentials, and the membership the orderers must belong to. */
  readonly tls?: { readonly credentials: TlsCredentials; readonly membership?: TlsMembership };
  /** Default {@link CLIENT_BROADCAST_TIMEOUT_MS}. */
  readonly broadcastTimeoutMs?: number;
  /** Default {@link CLIENT_CACHE_BLOCKS}. */
  readonly cacheBlocks?: number;
  readonly logger?: Logger;
}

interface ClientChain {
  readonly log: EtcdBlockLog;
  readonly election: ChainElection;
  height: number;
  readonly cache: Map<number, Uint8Array>;
  readonly reading: Set<number>;
  tracker?: BlockWatch;
  leader?: { readonly url: string; readonly at: number };
}

/** An array with an element (without narrowing the type to `any[]`). */
function isNonEmptyList(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}

/** @throws SilkError INVALID_ARGUMENT unless `orderers` lists at least one `{ name, url }` */
function checkOrderers(orderers: readonly OrdererEndpoint[]): void {
  if (!isNonEmptyList(orderers)) throw new SilkError('INVALID_ARGUMENT', 'orderers must list at least one { name, url }');
  for (const [i, o] of orderers.entries()) {
    if (typeof o.name !== 'string' || o.name === '' || typeof o.url !== 'string' || !/^https?:\/\/[^\s/]+\/?$/.test(o.url)) {
      throw new SilkError('INVALID_ARGUMENT', `orderers[${i}] must be { name, url } with a URL like https://10.0.1.10:7050; got ${JSON.stringify(o)}`);
    }
  }
}

function checkOptions(options: EtcdOrdererClientOptions): void {
  checkOrderers(typeof options.orderers === 'function' ? options.orderers() : options.orderers);
  const chains: readonly string[] = options.chains;
  if (!isNonEmptyList(chains)) throw new SilkError('INVALID_ARGUMENT', 'chains must list at least one chain name');
  for (const c of chains) chainPrefix(c);
  const timeout = options.broadcastTimeoutMs ?? CLIENT_BROADCAST_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeout) || timeout < 1_000 || timeout > 600_000) throw new SilkError('INVALID_ARGUMENT', `broadcastTimeoutMs must be an integer from 1000 to 600000; got ${String(timeout)}`);
  const cache = options.cacheBlocks ?? CLIENT_CACHE_BLOCKS;
  if (!Number.isSafeInteger(cache) || cache < 1 || cache > 100_000) throw new SilkError('INVALID_ARGUMENT', `cacheBlocks must be an integer from 1 to 100000; got ${String(cache)}`);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Whether a request (or one envelope of a batch) goes to the next orderer after this problem: the
 * orderer could not be reached, answered something that is not a Silkledger answer, or is
 * stopping. Any other refusal is the answer.
 */
function movesOn(problem: unknown): boolean {
  if (!isSilkError(problem)) return false;
  if (problem.code === 'ORDERING_UNAVAILABLE') return problem.details.reason === 'stopping';
  return problem.code === 'UNREACHABLE' || problem.code === 'BAD_RESPONSE' || problem.code === 'SHUTTING_DOWN';
}

class EtcdOrdererClient implements Orderer {
  readonly #conn: EtcdConnection;
  readonly #orderersNow: () => readonly OrdererEndpoint[];
  #lastGood: readonly OrdererEndpoint[];
  readonly #chains = new Map<string, ClientChain>();
  readonly #agent: Agent | undefined;
  /** Whether the orderers a request waits on are alive: a stopped one is given up and passed over. */
  readonly #liveness: LivenessMonitor;
  readonly #timeoutMs: number;
  readonly #cacheBlocks: number;
  readonly #log: Logger;
  readonly #watches = new Set<BlockWatch>();
  readonly #batcher: BroadcastBatcher;
  #next = 0;
  #closed = false;

  constructor(options: EtcdOrdererClientOptions, conn: EtcdConnection) {
    this.#conn = conn;
    const given = options.orderers;
    this.#lastGood = typeof given === 'function' ? given() : [...given];
    this.#orderersNow = typeof given === 'function' ? given : () => this.#lastGood;
    const tls = options.tls;
    this.#agent = tls === undefined ? undefined : mtlsAgent({ credentials: tls.credentials, ...(tls.membership === undefined ? {} : { membership: tls.membership, serverRoles: ['orderer'] }) });
    this.#liveness = ordererLivenessMonitor(this.#agent);
    this.#timeoutMs = options.broadcastTimeoutMs ?? CLIENT_BROADCAST_TIMEOUT_MS;
    this.#cacheBlocks = options.cacheBlocks ?? CLIENT_CACHE_BLOCKS;
    this.#log = (options.logger ?? pino({ level: 'silent' })).child({ component: 'orderer-client' });
    this.#batcher = createBroadcastBatcher({ send: (batch) => this.#sendBatch(batch) });
  }

  /** Opens a chain: reads its height and follows it from there. */
  async openChain(name: string): Promise<ClientChain> {
    const existing = this.#chains.get(name);
    if (existing !== undefined) return existing;
    const log = openEtcdBlockLog(this.#conn, { chain: name });
    const height = await log.height();
    const again = this.#chains.get(name);
    if (again !== undefined) return again;
    const chain: ClientChain = { log, election: openChainElection(this.#conn, { chain: name, candidate: 'orderer-client' }), height, cache: new Map(), reading: new Set() };
    this.#chains.set(name, chain);
    chain.tracker = log.watch(height, (block) => { this.#remember(chain, block); }, { onError: (e) => { this.#log.warn({ chain: name, err: e }, 'following the block log: retrying'); } });
    return chain;
  }

  #chain(name: string): ClientChain {
    const chain = this.#chains.get(name);
    if (chain === undefined) throw new SubmitError('UNKNOWN_CHAIN', `this orderer client does not follow chain ${name}`, { chain: name });
    return chain;
  }

  #remember(chain: ClientChain, block: StoredBlock): void {
    chain.height = Math.max(chain.height, block.number + 1);
    // Least recently used first out: the Map's order is the order of use.
    chain.cache.delete(block.number);
    chain.cache.set(block.number, block.bytes);
    for (const n of chain.cache.keys()) {
      if (chain.cache.size <= this.#cacheBlocks) break;
      chain.cache.delete(n);
    }
  }

  // ---- broadcasts -------------------------------------------------------------------------

  /** The orderers as they are now (a list that turns out empty or malformed keeps the last good one). */
  get #orderers(): readonly OrdererEndpoint[] {
    const now = this.#orderersNow();
    if (now !== this.#lastGood) {
      try {
        checkOrderers(now);
        this.#lastGood = now;
      } catch (error) {
        this.#log.warn({ err: error }, 'the orderer list given is not usable; keeping the last good one');
      }
    }
    return this.#lastGood;
  }

  /** The chain's leader URL when etcd names a configured orderer (cached briefly), else undefined. */
  async #leaderUrl(chain: ClientChain): Promise<string | undefined> {
    if (chain.leader !== undefined && Date.now() - chain.leader.at < LEADER_CACHE_MS) return chain.leader.url;
    chain.leader = undefined;
    try {
      const info = await chain.election.leader();
      const parsed = info === undefined ? undefined : parseLeaderCandidate(info.candidate);
      // Only orderers this client was configured with are trusted with broadcasts.
      const known = parsed === undefined ? undefined : this.#orderers.find((o) => o.name === parsed.name);
      if (known !== undefined) chain.leader = { url: known.url, at: Date.now() };
      return known?.url;
    } catch {
      return undefined;
    }
  }

  /** Orderer URLs to try in this round: the leader first, then the others from a rotating start. */
  async #targets(chain: ClientChain): Promise<string[]> {
    const start = this.#next++ % this.#orderers.length;
    const rotated = [...this.#orderers.slice(start), ...this.#orderers.slice(0, start)].map((o) => o.url);
    const leader = await this.#leaderUrl(chain);
    return leader === undefined ? rotated : [leader, ...rotated.filter((u) => u !== leader)];
  }

  async broadcast(name: string, envelope: Uint8Array): Promise<OrderedPosition> {
    try {
      if (this.#closed) throw new SubmitError('ORDERING_UNAVAILABLE', 'the orderer client is closed', { reason: 'closed' });
      if (!(envelope instanceof Uint8Array) || envelope.length === 0) throw new SubmitError('INVALID_ARGUMENT', 'an envelope is a non-empty Uint8Array');
      this.#chain(name);
      // Joins the chain's open batch in this same turn (no await before), so concurrent callers share a POST.
      const position = await this.#batcher.submit(name, envelope);
      return { chain: name, ...position };
    } catch (error) {
      throw toSubmitError(error);
    }
  }

  /**
   * Sends one batch to the leader or any orderer, failing over as a single request does. The
   * envelopes an orderer answers with "stopping" go on to the next orderer; retrying is safe:
   * an orderer answers a tx id it already ordered or holds with that position.
   */
  async #sendBatch(batch: BroadcastBatch): Promise<BroadcastOutcome[]> {
    const chain = this.#chain(batch.chain);
    const outcomes: (BroadcastOutcome | undefined)[] = batch.envelopes.map(() => undefined);
    let open = batch.envelopes.map((_, i) => i);
    try {
      await this.#failover(chain, async (url, timeoutMs, signal) => {
        const envelopes = open.map((i) => batch.envelopes[i] as Uint8Array);
        const answer = await postBroadcastBatch(url, { chain: batch.chain, envelopes }, { timeoutMs, signal, ...(this.#agent === undefined ? {} : { agent: this.#agent }) });
        if (answer.status !== 200) return errorOfAnswer(answer, url);
        const still: number[] = [];
        let problem: Error | undefined;
        outcomesOfBatchAnswer(answer, url, open.length).forEach((outcome, k) => {
          const i = open[k] as number;
          if ('error' in outcome && movesOn(outcome.error)) {
            still.push(i);
            problem = outcome.error;
          } else {
            outcomes[i] = outcome;
          }
        });
        open = still;
        return problem;
      });
    } catch (error) {
      const failure = toSubmitError(error);
      for (const i of open) outcomes[i] = { error: failure };
    }
    return outcomes as BroadcastOutcome[];
  }

  /** POSTs to the leader or any orderer, failing over until one answers or the deadline passes. */
  async #post(chain: ClientChain | undefined, path: string, body: unknown): Promise<{ answer: { status: number; body: unknown }; url: string }> {
    let result: { answer: { status: number; body: unknown }; url: string } | undefined;
    await this.#failover(chain, async (url, timeoutMs, signal) => {
      const answer = await postJson(url, path, body, { timeoutMs, signal, ...(this.#agent === undefined ? {} : { agent: this.#agent }) });
      if (answer.status !== 200) return errorOfAnswer(answer, url);
      result = { answer, url };
      return undefined;
    });
    return result as { answer: { status: number; body: unknown }; url: string };
  }

  /**
   * Runs `attempt` at the chain's leader first, then at the other orderers, round after round,
   * until it is done (it returns undefined) or the client's deadline passes. A problem it returns
   * or throws moves on to the next orderer when {@link movesOn} says so; any other is thrown. An
   * orderer that fails a liveness check while an attempt waits on it (stopped, cut off) is given
   * up then, and passed over in the rounds that follow while it stays silent and others are left.
   * @throws SubmitError ORDERING_UNAVAILABLE (reason unreachable) when no orderer took it in time
   */
  async #failover(chain: ClientChain | undefined, attempt: (url: string, timeoutMs: number, signal: AbortSignal) => Promise<unknown>): Promise<void> {
    const deadline = Date.now() + this.#timeoutMs;
    let last: unknown;
    while (Date.now() < deadline && !this.#closed) {
      const targets = chain === undefined ? this.#orderers.map((o) => o.url) : await this.#targets(chain);
      for (const [k, url] of targets.entries()) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) break;
        let problem: unknown;
        if (this.#liveness.silentNow(url) && k < targets.length - 1) {
          last = new SilkError('UNREACHABLE', `orderer at ${url} answered no health check within ${this.#liveness.periodMs} ms`, { url });
          continue;
        }
        try {
          problem = await this.#liveness.during(url, (signal) => attempt(url, remaining, signal));
        } catch (error) {
          problem = error;
        }
        if (problem === undefined) return;
        if (!movesOn(problem)) throw problem instanceof Error ? problem : toSubmitError(problem);
        last = problem;
        if (chain !== undefined) chain.leader = undefined;
      }
      await sleep(ROUND_PAUSE_MS);
    }
    const why = last instanceof Error ? last.message : 'the client closed';
    throw new SubmitError('ORDERING_UNAVAILABLE', `no orderer of ${this.#orderers.map((o) => o.name).join(', ')} took the request within ${this.#timeoutMs} ms (last problem: ${why})`, { reason: 'unreachable' });
  }

  async createChain(configEnvelope: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) throw new SubmitError('ORDERING_UNAVAILABLE', 'the orderer client is closed', { reason: 'closed' });
    let name: string;
    try {
      name = configOfTransaction(decodeTransaction(configEnvelope)).chain;
    } catch (error) {
      throw toSubmitError(error);
    }
    const log = openEtcdBlockLog(this.#conn, { chain: name });
    if (await log.height() === 0) await this.#post(undefined, CREATE_CHAIN_PATH, { envelope: Buffer.from(configEnvelope).toString('base64') });
    const [genesis] = await log.read(0, 1);
    if (genesis === undefined) throw new SubmitError('ORDERING_UNAVAILABLE', `the genesis block of chain ${name} is not in etcd after the orderer created it`, { chain: name });
    if (!Buffer.from(decodeBlock(genesis.bytes).txs[0] ?? []).equals(configEnvelope)) {
      throw new SubmitError('CONFIG_INVALID', `chain ${name} already exists with another genesis configuration`, { chain: name });
    }
    const chain = await this.openChain(name);
    this.#remember(chain, genesis);
    return genesis.bytes;
  }

  // ---- blocks -------------------------------------------------------------------------------

  deliver(name: string, fromBlock: number, onBlock: (bytes: Uint8Array, number: number) => void): () => void {
    const chain = this.#chain(name);
    if (!Number.isSafeInteger(fromBlock) || fromBlock < 0) throw new SilkError('INVALID_ARGUMENT', `fromBlock must be a non-negative integer; got ${String(fromBlock)}`);
    const watch = chain.log.watch(fromBlock, (block) => {
      this.#remember(chain, block);
      onBlock(block.bytes, block.number);
    }, { onError: (e) => { this.#log.warn({ chain: name, from: fromBlock, err: e }, e.code === 'NOT_FOUND' ? 'delivery stopped: the blocks asked for were compacted out of etcd (fetch them from a peer)' : 'delivering blocks: retrying'); } });
    this.#watches.add(watch);
    return () => {
      this.#watches.delete(watch);
      void watch.stop();
    };
  }

  block(name: string, number: number): Uint8Array | undefined {
    const chain = this.#chain(name);
    const cached = chain.cache.get(number);
    if (cached !== undefined) {
      chain.cache.delete(number);
      chain.cache.set(number, cached);
      return cached;
    }
    if (!Number.isSafeInteger(number) || number < 0 || number >= chain.height) return undefined;
    this.#readThrough(name, chain, number);
    return undefined;
  }

  /** Fetches blocks from `number` on into the cache, once at a time per start block. */
  #readThrough(name: string, chain: ClientChain, number: number): void {
    if (chain.reading.has(number) || this.#closed) return;
    chain.reading.add(number);
    chain.log.read(number, Math.min(number + Math.min(READ_AHEAD_BLOCKS, this.#cacheBlocks), chain.height)).then(
      // The asked-for block last, so it is the most recently used.
      (blocks) => { for (const b of blocks.reverse()) this.#remember(chain, b); },
      (error: unknown) => { this.#log.warn({ chain: name, block: number, err: error }, 'reading blocks through from etcd failed'); },
    ).finally(() => { chain.reading.delete(number); });
  }

  height(name: string): number {
    return this.#chain(name).height;
  }

  chains(): string[] {
    return [...this.#chains.keys()];
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#batcher.close(new SubmitError('ORDERING_UNAVAILABLE', 'the orderer client is closed', { reason: 'closed' }));
    const watches = [...this.#watches, ...[...this.#chains.values()].flatMap((c) => (c.tracker === undefined ? [] : [c.tracker]))];
    await Promise.all(watches.map((w) => w.stop()));
    this.#conn.close();
    this.#agent?.destroy();
  }
}

/**
 * Opens the orderer client of a peer or gateway process: connects to etcd and follows every
 * chain named from its current height.
 * @throws SilkError INVALID_ARGUMENT for bad options; ORDERING_UNAVAILABLE when etcd cannot be read
 * @example
 * const orderer = await openEtcdOrdererClient({ etcd: { endpoints }, orderers: [{ name: 'orderer0', url: 'https://10.0.1.10:7050' }], chains: ['trade'], tls });
 * const { block, index } = await orderer.broadcast('trade', envelope);
 */
export async function openEtcdOrdererClient(options: EtcdOrdererClientOptions): Promise<Orderer> {
  checkOptions(options);
  const conn = openEtcdConnection(options.etcd);
  const client = new EtcdOrdererClient(options, conn);
  try {
    for (const chain of options.chains) await client.openChain(chain);
  } catch (error) {
    await client.close();
    throw error;
  }
  return client;
}
