/**
 * One orderer process of distributed mode. For every chain it orders it follows the chain's
 * block log in etcd (height, last hash and time, configuration, recent tx ids) and campaigns for
 * the chain's leadership with its name and broadcast URL. The leader admits envelopes with the
 * solo orderer's checks (`src/ordering/block-cutter.ts`), cuts batches by the chain's batch
 * configuration (bytes capped so a block fits {@link MAX_BLOCK_BYTES}), signs block N and appends
 * it with the leadership-guarded compare-and-swap of the block log; only then does it acknowledge
 * each envelope with its position. A follower forwards broadcasts to the leader, in batches
 * (`src/ordering/broadcast-batcher.ts`), as peers' clients send them. A leader that
 * loses its lease or the compare-and-swap hands whatever it had not appended to that same
 * forwarding path, so the new leader orders it (once: leaders answer a tx id already in the log
 * with its position). docs/distributed.md, "Ordering service", describes the whole protocol.
 */
import type { Agent } from 'node:https';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { sendError } from '../api/error-reply.js';
import { bytesEqual, toHex } from '../crypto/hash.js';
import type { Signer } from '../crypto/p256.js';
import { SilkError, SubmitError, isSilkError } from '../errors.js';
import { blockHash, createBlock, decodeBlock, encodeBlock, GENESIS_PREVIOUS_HASH } from '../ledger/block.js';
import { CONFIG_NAMESPACE, type ChainConfig } from '../ledger/chain-config.js';
import { configUpdateProblem } from '../ledger/config-transaction.js';
import { decodeTransaction } from '../ledger/transaction.js';
import { configOfBlockTxs, configOfTransaction, createBlockCutter, toSubmitError, type BlockCutter, type CutBatch, type PendingEnvelope } from '../ordering/block-cutter.js';
import { createBroadcastBatcher, type BroadcastBatch, type BroadcastBatcher } from '../ordering/broadcast-batcher.js';
import type { OrderedPosition } from '../ordering/orderer.js';
import {
  BROADCAST_BATCH_MAX_ENVELOPES, BROADCAST_BATCH_PATH, BROADCAST_PATH, CHAIN_NAME_PATTERN, CREATE_CHAIN_PATH, decodeBroadcastBatch, errorOfAnswer, FORWARDED_HEADER, HEALTH_PATH,
  leaderCandidate, ORDERER_BODY_LIMIT_BYTES, ordererLivenessMonitor, outcomesOfBatchAnswer, parseLeaderCandidate, postBroadcastBatch, READY_PATH, type BroadcastOutcome,
} from '../ordering/orderer-wire.js';
import type { LivenessMonitor } from '../liveness/liveness-monitor.js';
import { MAX_BLOCK_BYTES, MAX_RETAINED_BLOCKS, openEtcdBlockLog, type BlockWatch, type EtcdBlockLog, type StoredBlock } from './etcd-block-log.js';
import { openEtcdConnection, type EtcdConnection, type EtcdConnectionOptions } from './etcd-client.js';
import { openChainElection, type ChainElection, type ChainLeadership } from './etcd-election.js';
import { chainPrefix } from './etcd-keys.js';
import { mtlsAgent, mtlsServerOptions, requireMember, type TlsCredentials } from './mtls.js';
import { urlHost } from './network-description.js';
import type { TlsMembership } from './tls-pki.js';

/**
 * How long a broadcast may take before its caller gets `ORDERING_UNAVAILABLE`: 20 s, room for
 * a leader failover (lease TTL 3 s, then a campaign and catch-up) and two etcd call deadlines
 * (5 s each) on a loaded machine.
 */
export const BROADCAST_TIMEOUT_MS = 20_000;
/** Pause between attempts to reach a chain's leader (none elected yet, or it just changed). */
export const FORWARD_RETRY_MS = 200;
/** How often an orderer the chain's configuration does not list looks whether a new one does. */
const LISTED_CHECK_MS = 500;
/** Pause before a leader retries an append whose answer was lost (etcd unreachable). */
export const APPEND_RETRY_MS = 100;
/** Tx ids of the newest ordered envelopes kept per chain, so a retried broadcast gets its first position. */
export const RECENT_TX_IDS = 100_000;
/**
 * Blocks the leader keeps in etcd once it compacts: 2,048 × at most 64 KiB = 128 MiB per chain
 * at worst. A peer further behind fetches the older blocks from other peers and validates
 * them itself (docs/distributed.md, "Peer processes").
 */
export const RETAINED_WINDOW_BLOCKS = 2_048;
/** The leader compacts when this many blocks are retained, well before the block log's hard cap (4,096). */
export const COMPACT_AT_BLOCKS = 3_072;
/** Largest HTTP body: a base64 envelope of up to `MAX_BLOCK_BYTES` with room to spare, or a batch of envelopes. */
const BODY_LIMIT_BYTES = ORDERER_BODY_LIMIT_BYTES;
/** Seconds: one etcd append. */
const APPEND_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Envelopes in one broadcast batch received. */
const BATCH_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, BROADCAST_BATCH_MAX_ENVELOPES];

/** Mutual TLS of the orderer's HTTP port and of its forwarding. */
export interface OrdererTlsOptions {
  readonly credentials: TlsCredentials;
  /** When given, only registered orderer, peer and API processes may call, and forwarding reaches only registered orderers. */
  readonly membership?: TlsMembership;
}

/** Options of {@link startOrdererService}. */
export interface OrdererServiceOptions {
  /** The orderer's process name (its leader candidacy and logs). */
  readonly name: string;
  readonly org: string;
  /** Signs every block it cuts; its public key must be among the chain configuration's orderers. */
  readonly signer: Signer;
  readonly etcd: EtcdConnectionOptions;
  /** The genesis configuration transaction of every chain it orders. */
  readonly chains: readonly Uint8Array[];
  /** Where the HTTP server listens (port 0 picks a free one). */
  readonly listen: { readonly host: string; readonly port: number };
  /** The URL others reach it at (default `http(s)://<host>:<port>`). */
  readonly advertisedUrl?: string;
  readonly tls?: OrdererTlsOptions;
  readonly logger?: Logger;
  /** Default {@link BROADCAST_TIMEOUT_MS}. */
  readonly broadcastTimeoutMs?: number;
  /** Lease TTL of its candidacies in seconds (default: the election's). */
  readonly electionTtlSeconds?: number;
  /** Clock (ms) for block timestamps. */
  readonly now?: () => number;
  /** The block log's retention: keep this many blocks once compacting (default {@link RETAINED_WINDOW_BLOCKS}) … */
  readonly retainedWindowBlocks?: number;
  /** … and compact when this many are retained (default {@link COMPACT_AT_BLOCKS}; below the log's cap of 4,096). */
  readonly compactAtBlocks?: number;
}

/** A running orderer. */
export interface OrdererService {
  readonly name: string;
  /** Its broadcast URL, as followers and clients reach it. */
  readonly url: string;
  /** The metrics served at `/metrics`. */
  readonly metrics: Registry;
  /**
   * Orders an envelope (as `POST /orderer/v1/broadcast` does): admitted and appended when this
   * orderer leads the chain, else forwarded to the leader.
   * @throws SubmitError the admission codes, UNKNOWN_CHAIN, ORDERING_UNAVAILABLE
   */
  broadcast(chain: string, envelope: Uint8Array): Promise<OrderedPosition>;
  /** Whether this orderer leads the chain and has caught up with its log. */
  isLeader(chain: string): boolean;
  /** Blocks of the chain this orderer has followed (or appended). */
  height(chain: string): number;
  /** Connected to etcd and following every chain. */
  ready(): Promise<boolean>;
  /** Stops taking broadcasts, finishes in-flight appends, resigns every leadership and closes. */
  close(): Promise<void>;
}

interface ServiceMetrics {
  readonly registry: Registry;
  readonly blocksCut: Counter<'chain'>;
  readonly envelopes: Counter<'chain' | 'outcome'>;
  readonly leaderChanges: Counter<'chain'>;
  readonly isLeader: Gauge<'chain'>;
  readonly appendSeconds: Histogram<'chain'>;
  readonly appendRefusals: Counter<'chain' | 'reason'>;
  readonly batchEnvelopes: Histogram<'chain' | 'source'>;
}

function createServiceMetrics(name: string, heights: () => Iterable<[string, number]>): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ orderer: name });
  const registers = [registry];
  new Gauge({ name: 'silk_orderer_chain_height', help: 'Blocks of the chain this orderer has followed in etcd (the next block number)', labelNames: ['chain'], registers, collect() { for (const [chain, h] of heights()) this.set({ chain }, h); } });
  return {
    registry,
    blocksCut: new Counter({ name: 'silk_orderer_blocks_cut_total', help: 'Blocks this orderer cut and appended as the chain\'s leader', labelNames: ['chain'], registers }),
    envelopes: new Counter({ name: 'silk_orderer_envelopes_total', help: 'Broadcast envelopes by outcome: ordered (appended by this leader), duplicate (already in the log), forwarded, refused (admission), unavailable, timeout', labelNames: ['chain', 'outcome'], registers }),
    leaderChanges: new Counter({ name: 'silk_orderer_leader_changes_total', help: 'Times this orderer became or ceased to be the chain\'s leader', labelNames: ['chain'], registers }),
    isLeader: new Gauge({ name: 'silk_orderer_is_leader', help: '1 while this orderer leads the chain (and has caught up with its log)', labelNames: ['chain'], registers }),
    appendSeconds: new Histogram({ name: 'silk_orderer_etcd_append_seconds', help: 'Latency of one block append to etcd, successful or not', labelNames: ['chain'], buckets: APPEND_BUCKETS, registers }),
    appendRefusals: new Counter({ name: 'silk_orderer_append_refusals_total', help: 'Appends etcd refused or could not confirm, by reason (not-leader, height-conflict, unreachable, …)', labelNames: ['chain', 'reason'], registers }),
    batchEnvelopes: new Histogram({ name: 'silk_orderer_broadcast_batch_envelopes', help: 'Envelopes per broadcast batch received (its count is the batches received), by source: client (peers, gateways) or orderer (forwarded by a follower)', labelNames: ['chain', 'source'], buckets: BATCH_BUCKETS, registers }),
  };
}

/** What the service shares with each chain it orders. */
interface ServiceContext {
  readonly name: string;
  /** Set once the server listens (chains start after that). */
  url: string;
  readonly signer: Signer;
  readonly conn: EtcdConnection;
  readonly log: Logger;
  readonly metrics: ServiceMetrics;
  readonly broadcastTimeoutMs: number;
  readonly electionTtlSeconds: number | undefined;
  readonly agent: Agent | undefined;
  /** Whether the leader a forward waits on is alive (a stopped leader is given up before its lease runs out). */
  readonly liveness: LivenessMonitor;
  readonly now: () => number;
  readonly retainedWindowBlocks: number;
  readonly compactAtBlocks: number;
  isClosing(): boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The configuration a block's single configuration transaction puts in force, judged against
 * `current` as the peers judge it at the block's time `at`, or undefined (not a configuration
 * block, or an update that does not take effect: `report` is told why).
 */
function updateTakingEffect(current: ChainConfig, txs: readonly Uint8Array[], at: number, report: (message: string) => void): ChainConfig | undefined {
  if (txs.length !== 1) return undefined;
  try {
    const d = decodeTransaction(txs[0] as Uint8Array);
    if (d.proposal.contract !== CONFIG_NAMESPACE) return undefined;
    const problem = configUpdateProblem(current, d, at);
    if (problem !== undefined) {
      report(`a configuration transaction was ordered that does not take effect (${problem.code}): ${problem.message}`);
      return undefined;
    }
    return configOfTransaction(d);
  } catch {
    return undefined;
  }
}

/** The retention options, checked: 1 ≤ window < compactAt ≤ 4,096 (the block log's cap). */
function retention(options: OrdererServiceOptions): { retainedWindowBlocks: number; compactAtBlocks: number } {
  const retainedWindowBlocks = options.retainedWindowBlocks ?? RETAINED_WINDOW_BLOCKS;
  const compactAtBlocks = options.compactAtBlocks ?? COMPACT_AT_BLOCKS;
  if (!Number.isSafeInteger(retainedWindowBlocks) || !Number.isSafeInteger(compactAtBlocks) || retainedWindowBlocks < 1 || compactAtBlocks <= retainedWindowBlocks || compactAtBlocks > MAX_RETAINED_BLOCKS) {
    throw new SilkError('INVALID_ARGUMENT', `the retention window must satisfy 1 ≤ retainedWindowBlocks < compactAtBlocks ≤ ${MAX_RETAINED_BLOCKS}; got ${String(retainedWindowBlocks)} and ${String(compactAtBlocks)}`);
  }
  return { retainedWindowBlocks, compactAtBlocks };
}

function reasonOf(error: unknown): string {
  return isSilkError(error) && typeof error.details.reason === 'string' ? error.details.reason : isSilkError(error) ? error.code : 'error';
}

/** Errors after which another attempt (at the leader, or after a leader change) may succeed. */
function isRetryable(error: unknown): boolean {
  return isSilkError(error) && ['ORDERING_UNAVAILABLE', 'SHUTTING_DOWN', 'UNREACHABLE', 'BAD_RESPONSE'].includes(error.code);
}

/** Rejects with ORDERING_UNAVAILABLE when `promise` is not settled by `deadline`. */
function withDeadline<T>(promise: Promise<T>, deadline: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new SubmitError('ORDERING_UNAVAILABLE', `${what} was not ordered within the broadcast deadline; it may still be ordered: check its status by tx id before sending it again`, { reason: 'timeout' }));
    }, Math.max(0, deadline - Date.now()));
  });
  return Promise.race([promise, timeout]).finally(() => { clearTimeout(timer); });
}

/** The ordering of one chain by this orderer: follower always, leader when elected. */
class ChainOrdering {
  readonly chain: string;
  readonly #ctx: ServiceContext;
  readonly #genesis: Uint8Array;
  readonly #log: EtcdBlockLog;
  readonly #election: ChainElection;
  readonly #cutter: BlockCutter;
  readonly #recent = new Map<string, OrderedPosition>();
  #height = 0;
  /** The oldest block etcd retains, as last read or compacted to (undefined: not read yet). */
  #firstRetained: number | undefined;
  #compacting: Promise<void> | undefined;
  #lastHash: Uint8Array = GENESIS_PREVIOUS_HASH;
  /** Whether `#lastHash` is the hash of block `#height − 1` (not after jumping over compacted blocks). */
  #tipKnown = true;
  #lastTimestamp = 0;
  #config: ChainConfig;
  /** The configuration of the genesis this orderer was given. */
  readonly #genesisConfig: ChainConfig;
  #watch: BlockWatch | undefined;
  #leading: ChainLeadership | undefined;
  #lost: (() => void) | undefined;
  readonly #queue: CutBatch[] = [];
  #pumping: Promise<void> | undefined;
  #leadLoop: Promise<void> | undefined;
  readonly #heightWaiters = new Set<() => void>();
  /** Coalesces the envelopes this follower forwards into batches to the leader. */
  readonly #forwarding: BroadcastBatcher;

  constructor(ctx: ServiceContext, genesis: Uint8Array, config: ChainConfig) {
    this.chain = config.chain;
    this.#ctx = ctx;
    this.#genesis = genesis;
    this.#genesisConfig = config;
    this.#config = config;
    this.#log = openEtcdBlockLog(ctx.conn, { chain: this.chain });
    this.#election = openChainElection(ctx.conn, { chain: this.chain, candidate: leaderCandidate(ctx.name, ctx.url), ...(ctx.electionTtlSeconds === undefined ? {} : { ttlSeconds: ctx.electionTtlSeconds }) });
    this.#cutter = createBlockCutter({ chain: this.chain, config, maxBlockBytes: MAX_BLOCK_BYTES, onBatch: (batch) => { this.#enqueue(batch); } });
    this.#forwarding = createBroadcastBatcher({ send: (batch) => this.#forwardBatch(batch) });
    this.#election.onLost((leadership, reason) => {
      ctx.log.warn({ chain: this.chain, term: leadership.term, reason }, 'leadership lost');
      this.#lost?.();
    });
  }

  get height(): number { return this.#height; }
  get leading(): boolean { return this.#leading?.isValid() === true; }

  /**
   * Whether the follower has reached the height etcd reports now (waiting up to a second for
   * the watch, which trails appends by a moment).
   * @throws SilkError ORDERING_UNAVAILABLE when etcd cannot be read
   */
  async following(): Promise<boolean> {
    const height = await this.#log.height();
    const until = Date.now() + 1_000;
    while (this.#height < height && Date.now() < until) await sleep(20);
    return this.#height >= height && height > 0 && this.#tipKnown;
  }

  start(): void {
    this.#follow(0);
    this.#leadLoop = this.#lead();
  }

  // ---- following the log ------------------------------------------------------------------

  #follow(from: number): void {
    this.#watch = this.#log.watch(from, (block) => { this.#applyStored(block); }, {
      onError: (error) => {
        this.#ctx.log.warn({ chain: this.chain, err: error }, 'following the block log: retrying');
        if (error.code === 'NOT_FOUND' && typeof error.details.firstRetained === 'number' && !this.#ctx.isClosing()) {
          // Compacted below our position: follow from the oldest retained block (its hash becomes the tip).
          const first = error.details.firstRetained;
          this.#ctx.log.error({ chain: this.chain, firstRetained: first }, 'blocks this orderer had not followed were compacted; following from the oldest retained block');
          this.#height = first;
          // The hash of block first − 1 is unknown until block `first` arrives: no leading before.
          this.#tipKnown = false;
          void this.#followAfterCompaction(first);
        }
      },
    });
  }

  /**
   * Follows from `first`, the oldest retained block, under the configuration in force there:
   * replayed from the log's configuration checkpoints (the genesis and every configuration block,
   * which compaction leaves), as following every block would have found it. So an orderer added
   * by a configuration block that was compacted away still knows it is listed, and can lead.
   */
  async #followAfterCompaction(first: number): Promise<void> {
    for (let pause = 200; !this.#ctx.isClosing(); pause = Math.min(2 * pause, 2_000)) {
      try {
        this.#useConfig(await this.#configurationAt(first));
        break;
      } catch (error) {
        this.#ctx.log.warn({ chain: this.chain, err: error }, 'reading the configuration checkpoints: retrying');
        await sleep(pause);
      }
    }
    if (!this.#ctx.isClosing()) this.#follow(first);
  }

  /**
   * The configuration in force at block `first`: the genesis configuration (the log's checkpoint
   * of block 0, else the one this orderer was given) with each checkpointed update below `first`
   * that took effect, unless the one this orderer followed to is newer (a log written before
   * checkpoints were kept has none).
   */
  async #configurationAt(first: number): Promise<ChainConfig> {
    const followed = this.#config;
    let config = this.#genesisConfig;
    for (const stored of await this.#log.configurationBlocks(first)) {
      const block = decodeBlock(stored.bytes);
      if (stored.number === 0) config = configOfBlockTxs(block.txs) ?? config;
      else config = updateTakingEffect(config, block.txs, block.header.timestamp, (message) => { this.#ctx.log.debug({ chain: this.chain, block: stored.number }, message); }) ?? config;
    }
    return config.sequence >= followed.sequence ? config : followed;
  }

  #applyStored(stored: StoredBlock): void {
    if (stored.number < this.#height) return;
    const block = decodeBlock(stored.bytes);
    if (stored.number === 0 && !bytesEqual(block.txs[0] ?? new Uint8Array(), this.#genesis)) {
      this.#ctx.log.warn({ chain: this.chain }, 'block 0 in etcd holds a different genesis configuration than this orderer was given; following the log');
    }
    const txIds: string[] = [];
    for (const tx of block.txs) {
      try {
        txIds.push(decodeTransaction(tx).txId);
      } catch {
        txIds.push('');
      }
    }
    // Block 0 is the chain's genesis as the log holds it; a later configuration block changes
    // what this orderer does only when its update takes effect at the peers too.
    const config = stored.number === 0 ? configOfBlockTxs(block.txs) : this.#updateTakingEffect(block.txs, block.header.timestamp);
    this.#advance(stored.number, blockHash(block.header), block.header.timestamp, txIds, config);
  }

  /** The configuration a block's single configuration transaction puts in force, judged against the one in force now, or undefined. */
  #updateTakingEffect(txs: readonly Uint8Array[], at: number): ChainConfig | undefined {
    return updateTakingEffect(this.#config, txs, at, (message) => { this.#ctx.log.warn({ chain: this.chain }, message); });
  }

  /** Moves the tip past block `number` (the one place the tip changes). */
  #advance(number: number, hash: Uint8Array, timestamp: number, txIds: readonly string[], config: ChainConfig | undefined): void {
    this.#height = number + 1;
    this.#tipKnown = true;
    this.#lastHash = hash;
    this.#lastTimestamp = timestamp;
    txIds.forEach((txId, index) => {
      if (txId === '') return;
      this.#recent.set(txId, { chain: this.chain, block: number, index });
    });
    for (const txId of this.#recent.keys()) {
      if (this.#recent.size <= RECENT_TX_IDS) break;
      this.#recent.delete(txId);
    }
    if (config !== undefined) this.#useConfig(config);
    for (const wake of this.#heightWaiters) wake();
  }

  /** Puts a configuration in force: admission follows it, and a leader it no longer lists steps down. */
  #useConfig(config: ChainConfig): void {
    this.#config = config;
    this.#cutter.useConfig(config);
    if (this.#leading !== undefined && !this.#listed()) this.#stepDown();
  }

  /** Whether the configuration in force lists this orderer's key (peers refuse blocks of an unlisted one). */
  #listed(): boolean {
    return this.#config.orderers.includes(toHex(this.#ctx.signer.publicKey));
  }

  /**
   * Stops leading at once, before another block is built: the configuration just applied no
   * longer lists this orderer, so any block it signed from here on would be refused by every
   * peer (and would stall the chain). What it had not appended goes to the next leader.
   */
  #stepDown(): void {
    const leadership = this.#leading;
    if (leadership === undefined) return;
    this.#ctx.log.warn({ chain: this.chain, term: leadership.term, height: this.#height }, 'this orderer\'s key was removed from the chain configuration: it stops leading');
    this.#leading = undefined;
    void this.#resign(leadership);
    this.#lost?.();
  }

  /** Waits until the configuration in force lists this orderer (a configuration transaction adds its key). */
  async #waitUntilListed(): Promise<void> {
    while (!this.#listed() && !this.#ctx.isClosing()) await sleep(LISTED_CHECK_MS);
  }

  async #waitForHeight(height: number, leadership: ChainLeadership): Promise<void> {
    while (this.#height < height && leadership.isValid() && !this.#ctx.isClosing()) {
      await new Promise<void>((resolve) => {
        const wake = (): void => { this.#heightWaiters.delete(wake); clearTimeout(timer); resolve(); };
        const timer = setTimeout(wake, 250);
        this.#heightWaiters.add(wake);
      });
    }
  }

  // ---- leading --------------------------------------------------------------------------

  async #lead(): Promise<void> {
    const ownKey = toHex(this.#ctx.signer.publicKey);
    while (!this.#ctx.isClosing()) {
      // An orderer the configuration does not list (yet, or any more) does not campaign: it could
      // only append blocks every peer refuses, the genesis block of an empty chain included.
      if (!this.#listed()) {
        await this.#waitUntilListed();
        continue;
      }
      let leadership: ChainLeadership;
      try {
        leadership = await this.#election.campaign();
      } catch (error) {
        if (this.#ctx.isClosing()) return;
        this.#ctx.log.warn({ chain: this.chain, err: error }, 'campaign failed; retrying');
        await sleep(FORWARD_RETRY_MS);
        continue;
      }
      const lost = new Promise<void>((resolve) => { this.#lost = resolve; });
      try {
        await this.#takeOver(leadership);
      } catch (error) {
        this.#ctx.log.warn({ chain: this.chain, err: error }, 'could not take over as leader; resigning');
        await this.#resign(leadership);
        continue;
      }
      if (!this.#listed()) {
        this.#ctx.log.error({ chain: this.chain, key: ownKey }, 'this orderer\'s key is not among the chain configuration\'s orderers: it does not lead this chain (peers would refuse its blocks) until a configuration transaction lists it');
        await this.#resign(leadership);
        await this.#waitUntilListed();
        continue;
      }
      if (!leadership.isValid() || this.#ctx.isClosing()) continue;
      this.#leading = leadership;
      this.#ctx.metrics.isLeader.set({ chain: this.chain }, 1);
      this.#ctx.metrics.leaderChanges.inc({ chain: this.chain });
      this.#ctx.log.info({ chain: this.chain, term: leadership.term, height: this.#height }, 'leading the chain');
      await lost;
      this.#leading = undefined;
      this.#ctx.metrics.isLeader.set({ chain: this.chain }, 0);
      this.#ctx.metrics.leaderChanges.inc({ chain: this.chain });
      // What was still open goes to the next leader; cut batches are handed off by the append pump.
      const open = this.#cutter.drain();
      if (open.length > 0) this.#handOff(open);
    }
  }

  /** Reads the height, appends the genesis block on an empty chain, and waits until the follower has caught up. */
  async #takeOver(leadership: ChainLeadership): Promise<void> {
    let height = await this.#log.height();
    if (height === 0) {
      const bytes = encodeBlock(createBlock({ chain: this.chain, number: 0, previousHash: GENESIS_PREVIOUS_HASH, timestamp: this.#ctx.now(), txs: [this.#genesis] }, this.#ctx.signer));
      try {
        await this.#log.append(0, bytes, leadership, { configuration: true });
        this.#ctx.log.info({ chain: this.chain }, 'appended the genesis block');
      } catch (error) {
        if (!isSilkError(error, 'ORDERING_UNAVAILABLE') || error.details.reason !== 'height-conflict') throw error;
      }
      height = await this.#log.height();
    }
    await this.#waitForHeight(height, leadership);
  }

  async #resign(leadership: ChainLeadership): Promise<void> {
    if (this.#election.current() !== leadership) return;
    await this.#election.resign().catch((error: unknown) => { this.#ctx.log.warn({ chain: this.chain, err: error }, 'resigning failed; the lease expires on its own'); });
  }

  // ---- broadcasts ---------------------------------------------------------------------

  /** Orders an envelope until `deadline`: here when leading, else at the leader. */
  async order(envelope: Uint8Array, forwarded: boolean, deadline: number): Promise<OrderedPosition> {
    let last: unknown;
    for (;;) {
      if (this.#ctx.isClosing()) throw new SubmitError('ORDERING_UNAVAILABLE', `orderer ${this.#ctx.name} is stopping`, { reason: 'stopping' });
      if (this.leading) return this.#orderHere(envelope);
      if (forwarded) {
        throw new SubmitError('ORDERING_UNAVAILABLE', `orderer ${this.#ctx.name} does not lead chain ${this.chain} (any more)`, { reason: 'not-leader', chain: this.chain });
      }
      try {
        const position = await this.#forward(envelope, deadline);
        this.#ctx.metrics.envelopes.inc({ chain: this.chain, outcome: 'forwarded' });
        return position;
      } catch (error) {
        if (!isRetryable(error)) throw toSubmitError(error);
        last = error;
      }
      if (Date.now() + FORWARD_RETRY_MS >= deadline) break;
      await sleep(FORWARD_RETRY_MS);
    }
    const why = last instanceof Error ? last.message : 'no leader elected';
    throw new SubmitError('ORDERING_UNAVAILABLE', `no orderer leading chain ${this.chain} took the envelope within ${this.#ctx.broadcastTimeoutMs} ms (last problem: ${why})`, { reason: 'no-leader', chain: this.chain });
  }

  #orderHere(envelope: Uint8Array): Promise<OrderedPosition> {
    let decoded;
    try {
      decoded = this.#cutter.admit(envelope);
    } catch (error) {
      this.#ctx.metrics.envelopes.inc({ chain: this.chain, outcome: 'refused' });
      throw error;
    }
    const known = this.#recent.get(decoded.txId);
    if (known !== undefined) {
      this.#ctx.metrics.envelopes.inc({ chain: this.chain, outcome: 'duplicate' });
      return Promise.resolve(known);
    }
    return this.#cutter.add(envelope, decoded);
  }

  /** Forwards an envelope to the leader, in a batch with the others forwarded meanwhile. */
  async #forward(envelope: Uint8Array, deadline: number): Promise<OrderedPosition> {
    const position = await this.#forwarding.submit(this.chain, envelope, deadline);
    return { chain: this.chain, ...position };
  }

  /**
   * POSTs a batch to the chain's leader, marked forwarded. A failure of the whole batch rejects
   * each envelope's `order()`, which tries again (a retried envelope the leader already ordered
   * or holds gets that position: `#orderHere`).
   */
  async #forwardBatch(batch: BroadcastBatch): Promise<BroadcastOutcome[]> {
    const leader = await this.#election.leader();
    const target = leader === undefined ? undefined : parseLeaderCandidate(leader.candidate);
    if (target === undefined || target.name === this.#ctx.name) {
      throw new SilkError('ORDERING_UNAVAILABLE', leader === undefined ? `no orderer leads chain ${this.chain} right now` : `chain ${this.chain} is between leaders`, { reason: 'no-leader' });
    }
    const { liveness } = this.#ctx;
    // A leader that just failed a health check is stopped or cut off: wait for its lease to run out and another to lead.
    if (liveness.silentNow(target.url)) throw new SilkError('UNREACHABLE', `the leader of chain ${this.chain}, ${target.name}, answered no health check within ${liveness.periodMs} ms`, { url: target.url });
    const deadline = batch.deadline ?? Date.now() + this.#ctx.broadcastTimeoutMs;
    const answer = await liveness.during(target.url, (signal) => postBroadcastBatch(target.url, batch, {
      timeoutMs: Math.max(1, deadline - Date.now()), signal, headers: { [FORWARDED_HEADER]: this.#ctx.name }, ...(this.#ctx.agent === undefined ? {} : { agent: this.#ctx.agent }),
    }));
    if (answer.status !== 200) throw errorOfAnswer(answer, target.url);
    return outcomesOfBatchAnswer(answer, target.url, batch.envelopes.length);
  }

  /** Sends envelopes this orderer could not append to the forwarding path; their callers get its answer. */
  #handOff(txs: readonly PendingEnvelope[]): void {
    this.#cutter.release(txs);
    const deadline = Date.now() + this.#ctx.broadcastTimeoutMs;
    for (const p of txs) {
      this.order(p.bytes, false, deadline).then(
        (position) => { for (const w of p.waiters) w.resolve(position); },
        (error: unknown) => { for (const w of p.waiters) w.reject(error); },
      );
    }
  }

  // ---- appending --------------------------------------------------------------------------

  #enqueue(batch: CutBatch): void {
    this.#queue.push(batch);
    this.#pumping ??= this.#pump().finally(() => { this.#pumping = undefined; });
  }

  async #pump(): Promise<void> {
    for (let batch = this.#queue.shift(); batch !== undefined; batch = this.#queue.shift()) {
      try {
        await this.#append(batch);
      } catch (error) {
        this.#cutter.release(batch.txs);
        for (const p of batch.txs) for (const w of p.waiters) w.reject(toSubmitError(error));
      }
    }
  }

  /** Appends one batch as block N, retrying a lost answer with the same bytes; hands it off when leadership ends. */
  async #append(batch: CutBatch): Promise<void> {
    let built: { number: number; bytes: Uint8Array; hash: Uint8Array; timestamp: number } | undefined;
    for (;;) {
      const leadership = this.#leading;
      if (leadership === undefined || !leadership.isValid()) {
        this.#handOff(batch.txs);
        return;
      }
      if (built?.number !== this.#height) {
        const timestamp = Math.max(this.#ctx.now(), this.#lastTimestamp);
        const block = createBlock({ chain: this.chain, number: this.#height, previousHash: this.#lastHash, timestamp, txs: batch.txs.map((t) => t.bytes) }, this.#ctx.signer);
        built = { number: this.#height, bytes: encodeBlock(block), hash: blockHash(block.header), timestamp };
        if (built.bytes.length > MAX_BLOCK_BYTES) throw new SubmitError('PAYLOAD_TOO_LARGE', `block ${built.number} of chain ${this.chain} would be ${built.bytes.length} bytes, above the ${MAX_BLOCK_BYTES} the etcd block log takes`);
      }
      const stopTimer = this.#ctx.metrics.appendSeconds.startTimer({ chain: this.chain });
      try {
        await this.#log.append(built.number, built.bytes, leadership, { configuration: batch.isConfig });
        stopTimer();
      } catch (error) {
        stopTimer();
        const reason = reasonOf(error);
        this.#ctx.metrics.appendRefusals.inc({ chain: this.chain, reason });
        this.#ctx.log.warn({ chain: this.chain, block: built.number, reason, err: error }, 'append refused');
        if (reason === 'unreachable') { await sleep(APPEND_RETRY_MS); continue; }
        if (reason === 'height-conflict') {
          const height = isSilkError(error) && typeof error.details.height === 'number' ? error.details.height : this.#height + 1;
          await this.#waitForHeight(height, leadership);
          continue;
        }
        if (reason === 'not-leader') {
          // A newer leader holds the chain: this block never lands. Step down and let it order the batch.
          await this.#resign(leadership);
          this.#lost?.();
          this.#handOff(batch.txs);
          return;
        }
        throw error;
      }
      this.#cutter.release(batch.txs);
      this.#advance(built.number, built.hash, built.timestamp, batch.txs.map((t) => t.txId), batch.isConfig ? this.#updateTakingEffect(batch.txs.map((t) => t.bytes), built.timestamp) : undefined);
      this.#ctx.metrics.blocksCut.inc({ chain: this.chain });
      this.#ctx.metrics.envelopes.inc({ chain: this.chain, outcome: 'ordered' }, batch.txs.length);
      const number = built.number;
      batch.txs.forEach((t, index) => { for (const w of t.waiters) w.resolve({ chain: this.chain, block: number, index }); });
      this.#compactIfDue(number + 1);
      return;
    }
  }

  /**
   * Keeps the block log within its retention window: when {@link COMPACT_AT_BLOCKS} blocks are
   * retained, the leader deletes all but the newest {@link RETAINED_WINDOW_BLOCKS} (and etcd's
   * history of them). One compaction at a time, beside the appends; a failure is logged and
   * tried again after a later append.
   */
  #compactIfDue(height: number): void {
    if (this.#compacting !== undefined) return;
    const { compactAtBlocks, retainedWindowBlocks } = this.#ctx;
    if (this.#firstRetained !== undefined && height - this.#firstRetained < compactAtBlocks) return;
    this.#compacting = (async () => {
      this.#firstRetained ??= await this.#log.firstRetained();
      if (height - this.#firstRetained < compactAtBlocks) return;
      const upTo = height - retainedWindowBlocks;
      const r = await this.#log.compact(upTo);
      this.#firstRetained = r.firstRetained;
      this.#ctx.log.info({ chain: this.chain, firstRetained: r.firstRetained, deletedBlocks: r.deletedBlocks }, 'block log compacted to its retention window');
    })().catch((error: unknown) => {
      this.#ctx.log.warn({ chain: this.chain, err: error }, 'block log compaction failed; it is tried again after a later append');
    }).finally(() => { this.#compacting = undefined; });
  }

  // ---- stopping ---------------------------------------------------------------------------

  /** Cuts the open batch and waits for the appends in flight (bounded by the broadcast deadline). */
  async drain(deadline: number): Promise<void> {
    if (this.leading) this.#cutter.flush();
    while (this.#pumping !== undefined && Date.now() < deadline) await Promise.race([this.#pumping, sleep(100)]);
  }

  async close(): Promise<void> {
    this.#cutter.close();
    const stopping = new SubmitError('ORDERING_UNAVAILABLE', `orderer ${this.#ctx.name} stopped before ordering the envelope`, { reason: 'stopping' });
    this.#forwarding.close(stopping);
    const open = this.#cutter.drain();
    this.#cutter.release(open);
    for (const p of open) for (const w of p.waiters) w.reject(stopping);
    await this.#election.close();
    this.#lost?.();
    await this.#watch?.stop();
    await this.#leadLoop;
  }
}

/** Validates the options that are not checked by the parts they go to. */
function checkOptions(options: OrdererServiceOptions): void {
  if (typeof options.name !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(options.name)) {
    throw new SilkError('INVALID_ARGUMENT', `orderer name must be 1 to 64 letters, digits, '_', '.' or '-'; got ${JSON.stringify(options.name)}`);
  }
  if (!Array.isArray(options.chains) || options.chains.length === 0 || !options.chains.every((c) => c instanceof Uint8Array)) {
    throw new SilkError('INVALID_ARGUMENT', 'chains must list at least one genesis configuration envelope (bytes)');
  }
  const { host, port } = options.listen;
  if (typeof host !== 'string' || host === '' || !Number.isSafeInteger(port) || port < 0 || port > 65_535) {
    throw new SilkError('INVALID_ARGUMENT', `listen must be a host and a port from 0 to 65535; got ${JSON.stringify(options.listen)}`);
  }
  const timeout = options.broadcastTimeoutMs ?? BROADCAST_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeout) || timeout < 1_000 || timeout > 600_000) {
    throw new SilkError('INVALID_ARGUMENT', `broadcastTimeoutMs must be an integer from 1000 to 600000; got ${String(timeout)}`);
  }
}

/**
 * The genesis configuration of each envelope, checked. An orderer added to a running network is
 * not among the genesis orderers: a later configuration transaction lists it, and it leads only
 * once the configuration in force does (see `#lead`).
 */
function genesisConfigs(envelopes: readonly Uint8Array[]): { envelope: Uint8Array; config: ChainConfig }[] {
  const seen = new Set<string>();
  return envelopes.map((envelope, i) => {
    let config: ChainConfig;
    try {
      config = configOfTransaction(decodeTransaction(envelope));
    } catch (cause) {
      throw new SilkError('CONFIG_INVALID', `chains[${i}] is not a genesis configuration transaction: ${(cause as Error).message}`, { path: `chains[${i}]` }, { cause });
    }
    chainPrefix(config.chain);
    if (seen.has(config.chain)) throw new SilkError('CONFIG_INVALID', `chain ${config.chain} is given twice`);
    seen.add(config.chain);
    return { envelope, config };
  });
}

const BASE64 = '^[A-Za-z0-9+/]*={0,2}$';
const BATCH_CONTENT_TYPE = 'application/octet-stream';

/** The refusal of a batch body that is not `application/octet-stream`. */
function batchMediaTypeError(): SilkError {
  return new SilkError('UNSUPPORTED_MEDIA_TYPE', `a broadcast batch body is ${BATCH_CONTENT_TYPE}: the binary framing of docs/distributed.md, "HTTP"`);
}

/**
 * `POST /orderer/v1/broadcast-batch`: the binary body, parsed as bytes (no JSON, no base64), in
 * its own scope so no other route takes octet streams; its body limit is the orderer's.
 */
function registerBatchRoute(app: FastifyInstance, service: OrdererServiceImpl): void {
  void app.register((scope, _options, done) => {
    scope.addContentTypeParser(BATCH_CONTENT_TYPE, { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (_request, body, parsed) => { parsed(null, body); });
    scope.setErrorHandler((error, request, reply) => {
      const code = (error as { code?: unknown }).code;
      if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        sendError(new SilkError('PAYLOAD_TOO_LARGE', `a broadcast batch body is at most ${BODY_LIMIT_BYTES} bytes: send fewer envelopes per batch`, { limit: BODY_LIMIT_BYTES }), request, reply);
      } else if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        sendError(batchMediaTypeError(), request, reply);
      } else {
        sendError(error, request, reply);
      }
    });
    scope.post(BROADCAST_BATCH_PATH, async (request) => {
      if (!Buffer.isBuffer(request.body)) throw batchMediaTypeError();
      const { chain, envelopes } = decodeBroadcastBatch(request.body);
      const forwarded = request.headers[FORWARDED_HEADER] !== undefined;
      return { results: await service.orderBatch(chain, envelopes, forwarded) };
    });
    done();
  });
}

function registerRoutes(app: FastifyInstance, service: OrdererServiceImpl): void {
  app.post<{ Body: { chain: string; envelope: string } }>(BROADCAST_PATH, {
    schema: { body: { type: 'object', required: ['chain', 'envelope'], additionalProperties: false, properties: { chain: { type: 'string', pattern: CHAIN_NAME_PATTERN }, envelope: { type: 'string', minLength: 4, pattern: BASE64 } } } },
  }, async (request) => {
    const forwarded = request.headers[FORWARDED_HEADER] !== undefined;
    const position = await service.order(request.body.chain, new Uint8Array(Buffer.from(request.body.envelope, 'base64')), forwarded);
    return { block: position.block, index: position.index };
  });
  registerBatchRoute(app, service);
  app.post<{ Body: { envelope: string } }>(CREATE_CHAIN_PATH, {
    schema: { body: { type: 'object', required: ['envelope'], additionalProperties: false, properties: { envelope: { type: 'string', minLength: 4, pattern: BASE64 } } } },
  }, async (request) => service.createChain(new Uint8Array(Buffer.from(request.body.envelope, 'base64'))));
  app.get(HEALTH_PATH, () => ({ status: 'ok', orderer: service.name }));
  app.get(READY_PATH, async (_request, reply) => {
    const status = await service.readiness();
    if (status.ready) return status;
    const error = new SilkError('ORDERING_UNAVAILABLE', `orderer ${service.name} is not ready: ${status.problem ?? 'unknown'}`, { reason: 'not-ready', chains: status.chains });
    return reply.code(error.httpStatus).send(error.toJSON());
  });
  app.get('/metrics', async (_request, reply) => reply.type(service.metrics.contentType).send(await service.metrics.metrics()));
}

class OrdererServiceImpl implements OrdererService {
  readonly name: string;
  url = '';
  readonly metrics: Registry;
  readonly #options: OrdererServiceOptions;
  readonly #conn: EtcdConnection;
  readonly #chains = new Map<string, ChainOrdering>();
  readonly #ctx: ServiceContext;
  readonly #serviceMetrics: ServiceMetrics;
  readonly #log: Logger;
  readonly #app: FastifyInstance;
  /** Set when stopping begins: no new broadcasts. */
  #refusing = false;
  /** Set once in-flight appends are finished: chains stop. */
  #closing = false;
  #closed: Promise<void> | undefined;

  constructor(options: OrdererServiceOptions, conn: EtcdConnection, app: FastifyInstance, log: Logger) {
    this.name = options.name;
    this.#options = options;
    this.#conn = conn;
    this.#app = app;
    this.#log = log;
    this.#serviceMetrics = createServiceMetrics(options.name, () => [...this.#chains].map(([chain, c]): [string, number] => [chain, c.height]));
    this.metrics = this.#serviceMetrics.registry;
    const tls = options.tls;
    const agent = tls === undefined ? undefined : mtlsAgent({ credentials: tls.credentials, ...(tls.membership === undefined ? {} : { membership: tls.membership, serverRoles: ['orderer'] }) });
    this.#ctx = {
      name: options.name,
      url: '',
      signer: options.signer,
      conn,
      log,
      metrics: this.#serviceMetrics,
      broadcastTimeoutMs: options.broadcastTimeoutMs ?? BROADCAST_TIMEOUT_MS,
      electionTtlSeconds: options.electionTtlSeconds,
      agent,
      liveness: ordererLivenessMonitor(agent),
      now: options.now ?? Date.now,
      ...retention(options),
      isClosing: () => this.#closing,
    };
  }

  addChain(envelope: Uint8Array, config: ChainConfig): ChainOrdering {
    const existing = this.#chains.get(config.chain);
    if (existing !== undefined) return existing;
    const chain = new ChainOrdering(this.#ctx, envelope, config);
    this.#chains.set(config.chain, chain);
    chain.start();
    return chain;
  }

  #chain(name: string): ChainOrdering {
    const chain = this.#chains.get(name);
    if (chain === undefined) throw new SubmitError('UNKNOWN_CHAIN', `orderer ${this.name} does not order chain ${name}`, { chain: name });
    return chain;
  }

  async order(chain: string, envelope: Uint8Array, forwarded: boolean): Promise<OrderedPosition> {
    const deadline = Date.now() + this.#ctx.broadcastTimeoutMs;
    try {
      if (this.#refusing) throw new SubmitError('ORDERING_UNAVAILABLE', `orderer ${this.name} is stopping`, { reason: 'stopping' });
      return await withDeadline(this.#chain(chain).order(envelope, forwarded, deadline), deadline, 'the envelope');
    } catch (error) {
      const e = toSubmitError(error);
      if (e.code === 'ORDERING_UNAVAILABLE') this.#serviceMetrics.envelopes.inc({ chain, outcome: e.details.reason === 'timeout' ? 'timeout' : 'unavailable' });
      throw e;
    }
  }

  /**
   * Orders each envelope of a batch as `order()` orders one, independently: one refused envelope
   * does not touch the others. Resolves once every envelope has its result, in order.
   * @throws SubmitError ORDERING_UNAVAILABLE (reason stopping) for the whole batch when this orderer is stopping
   */
  async orderBatch(chain: string, envelopes: readonly Uint8Array[], forwarded: boolean): Promise<({ block: number; index: number } | ReturnType<SilkError['toJSON']>)[]> {
    if (this.#refusing) throw new SubmitError('ORDERING_UNAVAILABLE', `orderer ${this.name} is stopping`, { reason: 'stopping' });
    // Only chains it orders are labelled: a caller's chain name does not become a series.
    if (this.#chains.has(chain)) this.#serviceMetrics.batchEnvelopes.observe({ chain, source: forwarded ? 'orderer' : 'client' }, envelopes.length);
    return Promise.all(envelopes.map((envelope) => this.order(chain, envelope, forwarded).then(
      (position) => ({ block: position.block, index: position.index }),
      (error: unknown) => toSubmitError(error).toJSON(),
    )));
  }

  broadcast(chain: string, envelope: Uint8Array): Promise<OrderedPosition> {
    if (!(envelope instanceof Uint8Array)) return Promise.reject(new SubmitError('INVALID_ARGUMENT', 'an envelope is a Uint8Array'));
    return this.order(chain, envelope, false);
  }

  async createChain(envelope: Uint8Array): Promise<{ chain: string; height: number }> {
    if (this.#refusing) throw new SubmitError('ORDERING_UNAVAILABLE', `orderer ${this.name} is stopping`, { reason: 'stopping' });
    const [{ config }] = genesisConfigs([envelope]) as [{ envelope: Uint8Array; config: ChainConfig }];
    if (!config.orderers.includes(toHex(this.#options.signer.publicKey))) {
      throw new SubmitError('CONFIG_INVALID', `this orderer's key ${toHex(this.#options.signer.publicKey).slice(0, 16)}… is not among the orderers of the new chain ${config.chain}: list it in the genesis configuration`, { chain: config.chain });
    }
    const chain = this.addChain(envelope, config);
    const deadline = Date.now() + this.#ctx.broadcastTimeoutMs;
    // Block 0 is appended by whichever orderer leads the new chain first.
    while (chain.height === 0) {
      if (Date.now() > deadline) throw new SubmitError('ORDERING_UNAVAILABLE', `the genesis block of chain ${config.chain} was not appended within ${this.#ctx.broadcastTimeoutMs} ms`, { reason: 'timeout', chain: config.chain });
      await sleep(50);
    }
    return { chain: config.chain, height: chain.height };
  }

  isLeader(chain: string): boolean { return this.#chain(chain).leading; }
  height(chain: string): number { return this.#chain(chain).height; }

  async readiness(): Promise<{ ready: boolean; problem?: string; chains: Record<string, { height: number; following: boolean; leading: boolean }> }> {
    const chains: Record<string, { height: number; following: boolean; leading: boolean }> = {};
    let problem: string | undefined = this.#refusing ? 'stopping' : undefined;
    await Promise.all([...this.#chains].map(async ([name, c]) => {
      let following = false;
      try {
        following = await c.following();
      } catch (error) {
        problem ??= (error as Error).message;
      }
      chains[name] = { height: c.height, following, leading: c.leading };
    }));
    const behind = Object.entries(chains).filter(([, c]) => !c.following).map(([name]) => name);
    if (problem === undefined && behind.length > 0) problem = `not following chain ${behind.join(', ')} yet`;
    return problem === undefined ? { ready: true, chains } : { ready: false, problem, chains };
  }

  async ready(): Promise<boolean> { return (await this.readiness()).ready; }

  async listen(): Promise<void> {
    const { host, port } = this.#options.listen;
    await this.#app.listen({ host, port });
    const address = this.#app.server.address();
    const actual = typeof address === 'object' && address !== null ? address.port : port;
    const scheme = this.#options.tls === undefined ? 'http' : 'https';
    this.url = this.#options.advertisedUrl ?? `${scheme}://${urlHost(host)}:${actual}`;
    this.#ctx.url = this.url;
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#log.info('stopping: finishing in-flight appends, then resigning');
    this.#refusing = true;
    const deadline = Date.now() + this.#ctx.broadcastTimeoutMs;
    await Promise.all([...this.#chains.values()].map((c) => c.drain(deadline)));
    this.#closing = true;
    await Promise.all([...this.#chains.values()].map((c) => c.close()));
    await this.#app.close();
    this.#conn.close();
    this.#ctx.agent?.destroy();
    this.#log.info('stopped');
  }
}

/**
 * Starts an orderer: connects to etcd, follows and campaigns for every chain (appending the
 * genesis block of a chain whose log is empty), and serves its HTTP routes.
 * @returns the running service (its `url` is the broadcast URL)
 * @throws SilkError INVALID_ARGUMENT for bad options; CONFIG_INVALID for a genesis envelope that is not one
 * @example
 * const orderer = await startOrdererService({ name: 'orderer0', org: 'Org1', signer, etcd: { endpoints }, chains: [genesis], listen: { host: '127.0.0.1', port: 7050 } });
 */
export async function startOrdererService(options: OrdererServiceOptions): Promise<OrdererService> {
  checkOptions(options);
  const genesis = genesisConfigs(options.chains);
  const log = (options.logger ?? pino({ level: 'silent' })).child({ orderer: options.name, org: options.org });
  const ownKey = toHex(options.signer.publicKey);
  const unlisted = genesis.filter((g) => !g.config.orderers.includes(ownKey)).map((g) => g.config.chain);
  if (unlisted.length > 0) log.warn({ chains: unlisted, key: ownKey }, 'this orderer\'s key is not among the genesis orderers of these chains: it follows them, and leads once a configuration transaction lists it');
  const conn = openEtcdConnection(options.etcd);
  const tls = options.tls;
  const logger: FastifyBaseLogger = log;
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    ...(tls === undefined ? {} : { https: mtlsServerOptions(tls.credentials) }),
  });
  if (tls?.membership !== undefined) app.addHook('onRequest', requireMember(tls.membership, ['orderer', 'peer', 'api']));
  app.setErrorHandler(sendError);
  app.setNotFoundHandler((request, reply) => {
    const e = new SilkError('NOT_FOUND', `no route ${request.method} ${request.url} on the orderer`);
    void reply.code(e.httpStatus).send(e.toJSON());
  });
  const service = new OrdererServiceImpl(options, conn, app, log);
  registerRoutes(app, service);
  try {
    await service.listen();
  } catch (error) {
    conn.close();
    await app.close();
    throw new SilkError('INVALID_ARGUMENT', `orderer ${options.name} cannot listen on ${options.listen.host}:${options.listen.port}: ${(error as Error).message}`, {}, { cause: error });
  }
  for (const { envelope, config } of genesis) service.addChain(envelope, config);
  log.info({ url: service.url, chains: genesis.map((g) => g.config.chain) }, 'orderer started');
  return service;
}
