/**
 * A chain subscription: committed blocks and contract events, each delivered exactly once and
 * in order across reconnections. The node sends a block's contract events first, then the
 * block with `id: <number>`; the subscription holds contract events back until their block
 * message arrives, so events of a block cut off by a dropped connection are dropped with it
 * and arrive again, once, after the reconnection resumes with `Last-Event-ID`.
 */
import { SilkError } from '../errors.js';
import { openEventStream } from './event-stream.js';
import type { HttpTransport } from './http-transport.js';
import type { BlockEvent, ChainInfo, ContractEvent } from './responses.js';
import type { SseEvent } from './sse-parser.js';

/** What a subscription delivers. */
export type SubscriptionEventType = 'block' | 'contract';

/** Options of `client.subscribe()`. */
export interface SubscribeOptions {
  /** First block to deliver (default: the chain's height when subscribing, i.e. new blocks only). */
  readonly from?: number;
  /** What to deliver (default both). */
  readonly types?: readonly SubscriptionEventType[];
  /** Each committed block, once, in order. */
  readonly onBlock?: (block: BlockEvent) => void;
  /** Each contract event of a VALID transaction, once, before its block. */
  readonly onContractEvent?: (event: ContractEvent) => void;
  /** Each failure: `willRetry` true while the subscription reconnects, false when it has ended. */
  readonly onError?: (error: SilkError, willRetry: boolean) => void;
  /** Wait before reconnecting until the node sends its own (default 1000 ms; doubled per consecutive failure). */
  readonly retryMs?: number;
  /** Longest wait between reconnection attempts (default 30 000 ms). */
  readonly maxRetryMs?: number;
  /** A connection silent for this long is reopened (default 45 000 ms). */
  readonly idleTimeoutMs?: number;
}

/** A running subscription. */
export interface Subscription {
  /** Stops it; no handler is called afterwards. */
  close(): void;
  /** The last block delivered (or passed, when blocks are not delivered), if any. */
  readonly lastBlock: number | undefined;
  /** Settles when the subscription ends: with the error that ended it, or undefined after close(). */
  readonly ended: Promise<SilkError | undefined>;
}

/** Where a sequencer sends what it releases. */
export interface SequencerHandlers {
  readonly onBlock?: (block: BlockEvent) => void;
  readonly onContractEvent?: (event: ContractEvent) => void;
  readonly onError?: (error: SilkError, willRetry: boolean) => void;
}

/** Orders one chain's stream events into exactly-once deliveries. */
export interface BlockSequencer {
  /** The block the stream is expected to start at, when nothing was delivered yet. */
  startAt(block: number): void;
  /** Takes the next event of the stream. */
  accept(event: SseEvent): void;
  /** The connection dropped: contract events of an unfinished block are discarded. */
  reset(): void;
  readonly lastBlock: number | undefined;
}

/** The event's JSON data, or undefined when it is not JSON. */
function parseData(event: SseEvent): unknown {
  try {
    return JSON.parse(event.data);
  } catch {
    return undefined;
  }
}

/**
 * Creates the sequencer of one subscription (no I/O: the subscription feeds it).
 * @param handlers where deliveries and failures go; a handler that throws is reported to onError
 * @returns the sequencer
 * @example const seq = createBlockSequencer({ onBlock: (b) => { seen.push(b.number); } })
 */
export function createBlockSequencer(handlers: SequencerHandlers): BlockSequencer {
  let lastBlock: number | undefined;
  let expected: number | undefined;
  let pending: ContractEvent[] = [];

  const report = (error: SilkError): void => {
    handlers.onError?.(error, true);
  };
  const deliver = <T>(handler: ((value: T) => void) | undefined, value: T, what: string, block: number): void => {
    if (handler === undefined) return;
    try {
      handler(value);
    } catch (cause) {
      report(new SilkError('INTERNAL', `the ${what} handler threw for block ${block}: ${(cause as Error).message}`, { block }, { cause }));
    }
  };

  const onContract = (event: SseEvent): void => {
    const e = parseData(event) as ContractEvent | undefined;
    if (typeof e?.block !== 'number') {
      report(new SilkError('BAD_RESPONSE', `a contract event is not JSON with a block number: ${event.data.slice(0, 80)}`));
      return;
    }
    if (lastBlock !== undefined && e.block <= lastBlock) return;
    pending.push(e);
  };

  const onBlock = (event: SseEvent): void => {
    const b = parseData(event) as BlockEvent | undefined;
    if (typeof b?.number !== 'number') {
      report(new SilkError('BAD_RESPONSE', `a block event is not JSON with a block number: ${event.data.slice(0, 80)}`));
      return;
    }
    const events = pending.filter((e) => e.block === b.number);
    pending = pending.filter((e) => e.block > b.number);
    if (lastBlock !== undefined && b.number <= lastBlock) return;
    const next = lastBlock === undefined ? expected : lastBlock + 1;
    if (next !== undefined && b.number > next) {
      report(new SilkError('BAD_RESPONSE', `the node skipped ${b.number - next === 1 ? `block ${next}` : `blocks ${next}..${b.number - 1}`}`, { block: b.number }));
    }
    for (const e of events) deliver(handlers.onContractEvent, e, 'contract event', b.number);
    lastBlock = b.number;
    deliver(handlers.onBlock, b, 'block', b.number);
  };

  return {
    startAt(block) {
      if (lastBlock === undefined) expected = block;
    },
    accept(event) {
      if (event.type === 'contract') onContract(event);
      else if (event.type === 'block') onBlock(event);
    },
    reset() {
      pending = [];
    },
    get lastBlock() {
      return lastBlock;
    },
  };
}

/**
 * Subscribes to a chain's committed blocks and contract events through its event stream.
 * @param http the node
 * @param chain the chain
 * @param options what to deliver and where
 * @returns the running subscription
 * @throws SilkError INVALID_ARGUMENT for a bad `from` or `types`
 */
export function subscribeToChain(http: HttpTransport, chain: string, options: SubscribeOptions): Subscription {
  const types = new Set(options.types ?? ['block', 'contract']);
  if (types.size === 0 || [...types].some((t) => t !== 'block' && t !== 'contract')) throw new SilkError('INVALID_ARGUMENT', "types must list 'block' and/or 'contract'", { path: 'types' });
  let from = options.from;
  if (from !== undefined && (!Number.isSafeInteger(from) || from < 0)) throw new SilkError('INVALID_ARGUMENT', `from must be a block number, got ${String(from)}`, { path: 'from' });
  const sequencer = createBlockSequencer({
    ...(types.has('block') && options.onBlock !== undefined ? { onBlock: options.onBlock } : {}),
    ...(types.has('contract') && options.onContractEvent !== undefined ? { onContractEvent: options.onContractEvent } : {}),
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  });
  const path = `/api/chains/${encodeURIComponent(chain)}`;
  // Block messages always travel: they close each block's contract events and carry the resume id.
  const serverTypes = types.has('contract') ? 'block,contract' : 'block';
  const stream = openEventStream({
    fetch: http.fetch,
    url: async () => {
      // Asked before each connection: the chain's height, from the first of the client's nodes
      // that answers, which the stream then connects to. Without `from`, the stream starts at
      // that height, so a drop before the first block loses nothing; a reconnection resumes at
      // the last block received, whichever node serves it (event ids are block numbers).
      const { height } = await http.request<ChainInfo>('GET', path);
      from ??= height;
      sequencer.startAt(from);
      return http.url(`${path}/events`, { from, types: serverTypes });
    },
    connectTimeoutMs: http.timeoutMs,
    ...(options.retryMs === undefined ? {} : { retryMs: options.retryMs }),
    ...(options.maxRetryMs === undefined ? {} : { maxRetryMs: options.maxRetryMs }),
    ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
    onEvent: (e) => {
      sequencer.accept(e);
    },
    onDisconnect: () => {
      sequencer.reset();
    },
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  });
  return {
    close: () => {
      stream.close();
    },
    get lastBlock() {
      return sequencer.lastBlock;
    },
    ended: stream.ended,
  };
}
