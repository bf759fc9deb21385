/**
 * The ordering log of one chain in etcd. Keys (see `etcd-keys.ts`): `/silk/<chain>/height` (the
 * next block number, decimal), `/silk/<chain>/blocks/<16-digit number>` (the block's bytes) and
 * `/silk/<chain>/configs/<16-digit number>` (a copy of each configuration block and the genesis,
 * which compaction leaves, so an orderer that starts after its blocks were compacted still knows
 * the configuration in force). Block N is appended in one transaction that succeeds only if the
 * height is N and the caller's leadership term is still the leader key's, so a stale leader is
 * refused. Peers follow the log with {@link EtcdBlockLog.watch}, which delivers every block once
 * and in order.
 */
import type { IKeyValue, Watcher } from 'etcd3';
import { SilkError, isSilkError } from '../errors.js';
import { orderingUnavailable, type EtcdConnection } from './etcd-client.js';
import type { ChainLeadership } from './etcd-election.js';
import { blockKey, blockNumberOfKey, chainPrefix, configurationKey } from './etcd-keys.js';

/**
 * Largest block stored in etcd: 64 KiB, far below etcd's 1.5 MiB request limit, so a Raft
 * entry stays small and a slow member catches up quickly.
 */
export const MAX_BLOCK_BYTES = 64 * 1024;
/**
 * Most blocks retained between compactions (default): 4,096 × 64 KiB = 256 MiB at worst, an
 * eighth of the 2 GiB backend quota. Appends past it are refused until `compact()` runs.
 */
export const MAX_RETAINED_BLOCKS = 4_096;
/** Blocks per range request: 32 × 64 KiB = 2 MiB, under gRPC's 4 MiB message limit. */
const READ_PAGE_BLOCKS = 32;
/** A watch that delivered nothing for this long while the height moved on is re-opened. */
const WATCH_STALL_CHECK_MS = 2_000;
/**
 * Pause before a failed watch re-reads and re-opens, growing to {@link WATCH_MAX_RETRY_MS}: half a
 * second at most, so a follower is back within that of the cluster's recovery (a failed read of a
 * cluster without quorum costs next to nothing).
 */
const WATCH_RETRY_MS = 200;
const WATCH_MAX_RETRY_MS = 500;

/** One block as stored. */
export interface StoredBlock {
  readonly number: number;
  readonly bytes: Uint8Array;
}

/** An acknowledged append: the block is durably stored on a quorum. */
export interface AppendResult {
  readonly number: number;
  /** The etcd revision of the append. */
  readonly revision: string;
}

/** What `compact()` did. */
export interface CompactResult {
  /** The first block still stored (`upToBlock`). */
  readonly firstRetained: number;
  readonly deletedBlocks: number;
  /** etcd history before this revision is gone. */
  readonly compactedRevision: string;
}

/** A running watch. */
export interface BlockWatch {
  /** The next block number it will deliver. */
  readonly next: number;
  /** Stops delivering; resolves once no callback runs any more. */
  stop(): Promise<void>;
}

/** Options of {@link EtcdBlockLog.watch}. */
export interface WatchBlocksOptions {
  /**
   * Told about trouble while the watch keeps retrying (etcd unreachable, `onBlock` threw), and
   * about the end of the watch: `NOT_FOUND` when `from` lies below the retained window (fetch
   * those blocks from a peer and watch again).
   */
  readonly onError?: (error: SilkError) => void;
}

/** Options of {@link openEtcdBlockLog}. */
export interface EtcdBlockLogOptions {
  readonly chain: string;
  /** Most blocks kept between compactions (default {@link MAX_RETAINED_BLOCKS}). */
  readonly maxRetainedBlocks?: number;
}

/** A chain's ordering log in etcd. */
export interface EtcdBlockLog {
  readonly chain: string;
  /** @throws SilkError ORDERING_UNAVAILABLE */
  height(): Promise<number>;
  /** The lowest block number still stored (the height when none is). @throws SilkError ORDERING_UNAVAILABLE */
  firstRetained(): Promise<number>;
  /**
   * Appends block `number` if the height is `number` and `leadership` is still the chain's
   * leader. Idempotent: appending the same bytes again after a lost answer succeeds. A block
   * appended with `configuration` (the genesis, or a block of one configuration transaction) is
   * also kept as a configuration checkpoint, in the same etcd transaction.
   * @throws SilkError ORDERING_UNAVAILABLE with `details.reason` `not-leader` (a newer leader
   * took over), `height-conflict` (`details.height` says the stored height), `retention-full`
   * (compact first), `nospace` (etcd's NOSPACE alarm) or `unreachable` (no quorum within the
   * deadline: the outcome is unknown, read the height); INVALID_ARGUMENT, PAYLOAD_TOO_LARGE
   */
  append(number: number, bytes: Uint8Array, leadership: ChainLeadership, options?: { readonly configuration?: boolean }): Promise<AppendResult>;
  /**
   * The configuration checkpoints of blocks below `below`, oldest first: the blocks a follower
   * replays to know the configuration in force at `below` when the blocks before it were compacted.
   * @throws SilkError ORDERING_UNAVAILABLE; LEDGER_CORRUPT for a key that is not a checkpoint
   */
  configurationBlocks(below: number): Promise<StoredBlock[]>;
  /**
   * Blocks `from` (inclusive) to `to` (exclusive), stopping at the height.
   * @throws SilkError NOT_FOUND when `from` lies below the retained window; ORDERING_UNAVAILABLE
   */
  read(from: number, to: number): Promise<StoredBlock[]>;
  /**
   * Delivers blocks from `from` on, in order, each exactly once, across member restarts,
   * leader changes and compactions; `onBlock` is awaited before the next block, and a block
   * whose `onBlock` threw is delivered again.
   */
  watch(from: number, onBlock: (block: StoredBlock) => void | Promise<void>, options?: WatchBlocksOptions): BlockWatch;
  /**
   * Deletes blocks below `upToBlock` (every peer must have committed them: the caller knows)
   * and compacts etcd's revision history up to the deletion. Works during a NOSPACE alarm.
   * @throws SilkError INVALID_ARGUMENT when `upToBlock` exceeds the height; ORDERING_UNAVAILABLE
   */
  compact(upToBlock: number): Promise<CompactResult>;
}

/**
 * Opens the ordering log of `options.chain` over an etcd connection.
 * @throws SilkError INVALID_ARGUMENT for a bad chain name or retention
 * @example
 * const log = openEtcdBlockLog(etcd, { chain: 'trade' });
 * const watch = log.watch(await peerHeight(), async (block) => { await commit(block.bytes); });
 */
export function openEtcdBlockLog(connection: EtcdConnection, options: EtcdBlockLogOptions): EtcdBlockLog {
  const prefix = chainPrefix(options.chain);
  const retained = options.maxRetainedBlocks ?? MAX_RETAINED_BLOCKS;
  if (!Number.isSafeInteger(retained) || retained < 1) {
    throw new SilkError('INVALID_ARGUMENT', `maxRetainedBlocks must be a positive integer; got ${String(retained)}`);
  }
  return new EtcdBlockLogImpl(connection, options.chain, prefix, retained);
}

function checkBlockNumber(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new SilkError('INVALID_ARGUMENT', `${name} must be a non-negative safe integer; got ${String(value)}`);
}

class EtcdBlockLogImpl implements EtcdBlockLog {
  readonly #conn: EtcdConnection;
  readonly #prefix: string;
  readonly #heightKey: string;
  readonly #maxRetained: number;
  /** Lowest block known stored; only grows, so a stale value merely triggers a re-read. */
  #firstRetained = 0;

  constructor(conn: EtcdConnection, readonly chain: string, prefix: string, maxRetained: number) {
    this.#conn = conn;
    this.#prefix = prefix;
    this.#heightKey = `${prefix}height`;
    this.#maxRetained = maxRetained;
  }

  /** Runs one etcd operation under the deadline; NOSPACE gets its own refusal. */
  async #call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await this.#conn.call(what, operation);
    } catch (error) {
      if (isSilkError(error) && error.message.includes('database space exceeded')) {
        throw new SilkError('ORDERING_UNAVAILABLE', `etcd is out of space (NOSPACE alarm) while trying to ${what}: compact the block log, then resolve the alarm (compact, defragment, disarm)`, { reason: 'nospace', chain: this.chain }, { cause: error });
      }
      throw error;
    }
  }

  async height(): Promise<number> {
    const client = this.#conn.client;
    const value = await this.#call(`read the height of chain ${this.chain}`, () => client.get(this.#heightKey).string());
    return value === null ? 0 : this.#parseHeight(value);
  }

  #parseHeight(value: string): number {
    const height = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(height)) {
      throw new SilkError('LEDGER_CORRUPT', `etcd key ${this.#heightKey} holds ${JSON.stringify(value.slice(0, 40))}, not a block height`, { chain: this.chain });
    }
    return height;
  }

  async firstRetained(): Promise<number> {
    const client = this.#conn.client;
    // The height first, then the blocks: an append writes both at once, so a block present in the
    // second read is below the height of the first, and an empty range means no block yet, not
    // "all compacted" (read together, a first append between the reads looked like compaction).
    const height = await this.height();
    const keys = await this.#call(`read the first block of chain ${this.chain}`, () => client.getAll().inRange({ start: `${this.#prefix}blocks/`, end: `${this.#prefix}blocks0` }).sort('Key', 'Ascend').limit(1).keys());
    const first = keys[0] === undefined ? height : (blockNumberOfKey(this.#prefix, keys[0]) ?? height);
    this.#firstRetained = Math.max(this.#firstRetained, first);
    return first;
  }

  async append(number: number, bytes: Uint8Array, leadership: ChainLeadership, options?: { readonly configuration?: boolean }): Promise<AppendResult> {
    checkBlockNumber('block number', number);
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new SilkError('INVALID_ARGUMENT', 'block bytes must be a non-empty Uint8Array');
    if (bytes.length > MAX_BLOCK_BYTES) throw new SilkError('PAYLOAD_TOO_LARGE', `block ${number} is ${bytes.length} bytes; the etcd block log takes at most ${MAX_BLOCK_BYTES}`, { block: number });
    if (leadership.chain !== this.chain) throw new SilkError('INVALID_ARGUMENT', `leadership is for chain ${leadership.chain}, not ${this.chain}`);
    if (!leadership.isValid()) {
      throw new SilkError('ORDERING_UNAVAILABLE', `orderer ${leadership.candidate} no longer leads chain ${this.chain} (its lease expired or it resigned); block ${number} not appended`, { reason: 'not-leader', chain: this.chain, block: number });
    }
    if (number - this.#firstRetained >= this.#maxRetained && number - (await this.firstRetained()) >= this.#maxRetained) {
      throw new SilkError('ORDERING_UNAVAILABLE', `chain ${this.chain} retains ${this.#maxRetained} blocks in etcd already: compact the blocks every peer has committed before appending block ${number}`, { reason: 'retention-full', chain: this.chain, block: number });
    }
    const client = this.#conn.client;
    const key = blockKey(this.#prefix, number);
    const value = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const result = await this.#call(`append block ${number} to chain ${this.chain}`, () => {
      const txn = client.if(leadership.key, 'Create', '==', leadership.term);
      if (number === 0) txn.and(this.#heightKey, 'Version', '==', 0);
      else txn.and(this.#heightKey, 'Value', '==', String(number));
      const writes = [client.put(key).value(value), client.put(this.#heightKey).value(String(number + 1))];
      if (options?.configuration === true) writes.push(client.put(configurationKey(this.#prefix, number)).value(value));
      return txn
        .then(...writes)
        .else(client.get(this.#heightKey), client.get(leadership.key), client.get(key))
        .commit();
    });
    if (result.succeeded) return { number, revision: result.header.revision };
    const [heightKv, leaderKv, blockKv] = [0, 1, 2].map((i) => result.responses[i]?.response_range.kvs[0]);
    const height = heightKv === undefined ? 0 : this.#parseHeight(heightKv.value.toString('utf8'));
    // Our own earlier attempt went through and only its answer was lost.
    if (blockKv !== undefined && height > number && value.equals(blockKv.value)) return { number, revision: blockKv.mod_revision };
    if (leaderKv?.create_revision !== leadership.term) {
      throw new SilkError('ORDERING_UNAVAILABLE', `orderer ${leadership.candidate} (term ${leadership.term}) no longer leads chain ${this.chain}: a newer leader took over; block ${number} not appended`, { reason: 'not-leader', chain: this.chain, block: number, height });
    }
    throw new SilkError('ORDERING_UNAVAILABLE', `chain ${this.chain} is at height ${height}, not ${number}: block ${number} not appended`, { reason: 'height-conflict', chain: this.chain, block: number, height });
  }

  async configurationBlocks(below: number): Promise<StoredBlock[]> {
    checkBlockNumber('below', below);
    const client = this.#conn.client;
    const end = configurationKey(this.#prefix, below);
    const blocks: StoredBlock[] = [];
    // In pages, as blocks are read: a chain may have many configuration blocks of up to 64 KiB.
    for (let start = `${this.#prefix}configs/`; ;) {
      const response = await this.#call(`read the configuration checkpoints of chain ${this.chain} below block ${below}`, () => client.getAll()
        .inRange({ start, end }).sort('Key', 'Ascend').limit(READ_PAGE_BLOCKS).exec());
      const page = response.kvs.map((kv) => this.#toBlock(kv, 'configs'));
      blocks.push(...page);
      const last = page.at(-1);
      if (last === undefined || page.length < READ_PAGE_BLOCKS) return blocks;
      start = configurationKey(this.#prefix, last.number + 1);
    }
  }

  /** Up to `limit` blocks from `from` on (below `to`), and the revision they were read at. */
  async readPage(from: number, to: number | undefined, limit: number): Promise<{ blocks: StoredBlock[]; revision: string }> {
    const client = this.#conn.client;
    const end = to === undefined ? `${this.#prefix}blocks0` : blockKey(this.#prefix, to);
    const response = await this.#call(`read blocks of chain ${this.chain} from ${from}`, () => client.getAll()
      .inRange({ start: blockKey(this.#prefix, from), end }).sort('Key', 'Ascend').limit(limit).exec());
    const blocks = response.kvs.map((kv) => this.#toBlock(kv));
    return { blocks, revision: response.header.revision };
  }

  /** A stored block (or configuration checkpoint) from its key and value. */
  #toBlock(kv: IKeyValue, folder: 'blocks' | 'configs' = 'blocks'): StoredBlock {
    const key = kv.key.toString('utf8');
    const number = blockNumberOfKey(this.#prefix, key, folder);
    if (number === undefined) throw new SilkError('LEDGER_CORRUPT', `unexpected key ${JSON.stringify(key)} among the ${folder === 'blocks' ? 'blocks' : 'configuration checkpoints'} of chain ${this.chain}`, { chain: this.chain });
    return { number, bytes: new Uint8Array(kv.value) };
  }

  #compacted(from: number, first: number): SilkError {
    return new SilkError('NOT_FOUND', `blocks ${from} to ${first - 1} of chain ${this.chain} were compacted out of etcd: fetch them from a peer`, { chain: this.chain, block: from, firstRetained: first });
  }

  async read(from: number, to: number): Promise<StoredBlock[]> {
    checkBlockNumber('from', from);
    checkBlockNumber('to', to);
    if (to < from) throw new SilkError('INVALID_ARGUMENT', `read range is empty or reversed: from ${from} to ${to}`);
    const blocks: StoredBlock[] = [];
    let next = from;
    while (next < to) {
      const page = await this.readPage(next, to, READ_PAGE_BLOCKS);
      for (const block of page.blocks) {
        if (block.number !== next) {
          const first = await this.firstRetained();
          if (first > next) throw this.#compacted(next, first);
          throw new SilkError('LEDGER_CORRUPT', `block ${next} of chain ${this.chain} is missing from etcd while block ${block.number} is stored`, { chain: this.chain, block: next });
        }
        blocks.push(block);
        next++;
      }
      if (page.blocks.length < READ_PAGE_BLOCKS) break;
    }
    if (next < to && blocks.length === 0) {
      const first = await this.firstRetained();
      if (first > next) throw this.#compacted(next, first);
    }
    return blocks;
  }

  watch(from: number, onBlock: (block: StoredBlock) => void | Promise<void>, options: WatchBlocksOptions = {}): BlockWatch {
    checkBlockNumber('from', from);
    return new BlockFollower(this, this.#conn, this.#prefix, from, onBlock, options);
  }

  async compact(upToBlock: number): Promise<CompactResult> {
    checkBlockNumber('upToBlock', upToBlock);
    const height = await this.height();
    if (upToBlock > height) throw new SilkError('INVALID_ARGUMENT', `cannot compact chain ${this.chain} up to block ${upToBlock}: its height is ${height}`);
    const client = this.#conn.client;
    const deleted = await this.#call(`delete blocks below ${upToBlock} of chain ${this.chain}`, () => client.delete()
      .inRange({ start: `${this.#prefix}blocks/`, end: blockKey(this.#prefix, upToBlock) }).exec());
    const revision = deleted.header.revision;
    try {
      await this.#call(`compact etcd history of chain ${this.chain} to revision ${revision}`, () => client.kv.compact({ revision, physical: true }));
    } catch (error) {
      // Another compaction already went past this revision: the history is gone either way.
      if (!(error instanceof Error && error.message.includes('compacted'))) throw error;
    }
    this.#firstRetained = Math.max(this.#firstRetained, upToBlock);
    return { firstRetained: upToBlock, deletedBlocks: Number(deleted.deleted), compactedRevision: revision };
  }
}

/** Reads what is stored, then watches from the revision read; on any trouble, reads again. */
class BlockFollower implements BlockWatch {
  readonly #log: EtcdBlockLogImpl;
  readonly #conn: EtcdConnection;
  readonly #prefix: string;
  readonly #onBlock: (block: StoredBlock) => void | Promise<void>;
  readonly #onError: (error: SilkError) => void;
  #next: number;
  #stopped = false;
  #wake: (() => void) | undefined;
  readonly #running: Promise<void>;

  constructor(log: EtcdBlockLogImpl, conn: EtcdConnection, prefix: string, from: number, onBlock: (block: StoredBlock) => void | Promise<void>, options: WatchBlocksOptions) {
    this.#log = log;
    this.#conn = conn;
    this.#prefix = prefix;
    this.#next = from;
    this.#onBlock = onBlock;
    this.#onError = options.onError ?? (() => undefined);
    this.#running = this.#run();
  }

  get next(): number { return this.#next; }

  /** Read through a method: `stop()` flips it while this object's loops await. */
  #isStopped(): boolean { return this.#stopped; }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#running;
  }

  async #deliver(block: StoredBlock): Promise<void> {
    try {
      await this.#onBlock(block);
    } catch (error) {
      throw new SilkError('INTERNAL', `handling block ${block.number} of chain ${this.#log.chain} failed; it will be delivered again: ${error instanceof Error ? error.message : String(error)}`, { block: block.number }, { cause: error });
    }
    this.#next = block.number + 1;
  }

  async #run(): Promise<void> {
    let retryMs = WATCH_RETRY_MS;
    while (!this.#isStopped()) {
      try {
        const revision = await this.#catchUp();
        if (revision !== undefined) {
          if (this.#isStopped()) break;
          await this.#follow(revision);
          retryMs = WATCH_RETRY_MS;
          continue;
        }
      } catch (error) {
        if (this.#isStopped()) break;
        const silk = isSilkError(error) ? error : orderingUnavailable(`watch chain ${this.#log.chain}`, this.#conn.endpoints, error, this.#conn.user);
        this.#onError(silk);
        if (silk.code === 'NOT_FOUND' || silk.code === 'LEDGER_CORRUPT' || this.#conn.closed) { this.#stopped = true; break; }
      }
      await this.#pause(retryMs);
      retryMs = Math.min(retryMs * 2, WATCH_MAX_RETRY_MS);
    }
  }

  async #pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => { clearTimeout(timer); resolve(); };
    });
    this.#wake = undefined;
  }

  /** Delivers every stored block from `next` on; returns the revision read at, or undefined to retry. */
  async #catchUp(): Promise<string | undefined> {
    for (;;) {
      const page = await this.#log.readPage(this.#next, undefined, READ_PAGE_BLOCKS);
      const first = page.blocks[0];
      if (first !== undefined && first.number !== this.#next) {
        const retained = await this.#log.firstRetained();
        if (retained > this.#next) throw new SilkError('NOT_FOUND', `blocks ${this.#next} to ${retained - 1} of chain ${this.#log.chain} were compacted out of etcd: fetch them from a peer and watch from ${retained}`, { block: this.#next, firstRetained: retained });
        return undefined;
      }
      if (first === undefined) {
        const retained = await this.#log.firstRetained();
        if (retained > this.#next) throw new SilkError('NOT_FOUND', `blocks ${this.#next} to ${retained - 1} of chain ${this.#log.chain} were compacted out of etcd: fetch them from a peer and watch from ${retained}`, { block: this.#next, firstRetained: retained });
      }
      for (const block of page.blocks) {
        if (this.#isStopped()) return undefined;
        if (block.number !== this.#next) return undefined;
        await this.#deliver(block);
      }
      if (page.blocks.length < READ_PAGE_BLOCKS) return page.revision;
    }
  }

  /** Watches from `revision + 1` until the watch breaks, stalls or leaves a gap; then resolves. */
  async #follow(revision: string): Promise<void> {
    const client = this.#conn.client;
    let watcher: Watcher | undefined;
    let stallTimer: NodeJS.Timeout | undefined;
    let failure: unknown;
    let processing = Promise.resolve();
    await new Promise<void>((resolve) => {
      let done = false;
      const finish = (error?: unknown): void => {
        if (done) return;
        done = true;
        failure = error;
        this.#wake = undefined;
        resolve();
      };
      this.#wake = () => { finish(); };
      const onPut = (kv: IKeyValue): void => {
        processing = processing.then(async () => {
          if (done) return;
          const number = blockNumberOfKey(this.#prefix, kv.key.toString('utf8'));
          if (number === undefined || number < this.#next) return;
          if (number > this.#next) { finish(); return; }
          await this.#deliver({ number, bytes: new Uint8Array(kv.value) });
        }).catch((error: unknown) => { finish(error); });
      };
      client.watch().inRange({ start: `${this.#prefix}blocks/`, end: `${this.#prefix}blocks0` }).only('put').startRevision(String(BigInt(revision) + 1n)).create().then((w) => {
        if (done) { void w.cancel().catch(() => undefined); return; }
        watcher = w;
        w.on('put', onPut);
        w.on('disconnected', () => { finish(); });
        // A start revision compacted away cancels the watch: read again from the stored blocks.
        w.on('error', (error) => { finish(error.message.includes('compacted') ? undefined : error); });
      }, (error: unknown) => { finish(error); });
      let lastSeen = this.#next;
      stallTimer = setInterval(() => {
        if (this.#next !== lastSeen) { lastSeen = this.#next; return; }
        this.#log.height().then((height) => { if (height > this.#next && this.#next === lastSeen) finish(); }, (error: unknown) => { finish(error); });
      }, WATCH_STALL_CHECK_MS);
    });
    clearInterval(stallTimer);
    await processing;
    const w: Watcher | undefined = watcher;
    // A cancel waits for the server's answer; on a broken stream that may never come.
    if (w !== undefined) await Promise.race([w.cancel().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, WATCH_RETRY_MS * 5))]);
    if (failure !== undefined && !this.#isStopped()) throw failure instanceof Error ? failure : new Error('watch failed', { cause: failure });
  }
}
