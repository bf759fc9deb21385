/**
 * Coalesces broadcasts into batches, as Fabric's Broadcast stream carries many envelopes: the
 * envelopes broadcast on one chain within a short window (the current event-loop turn plus at
 * most {@link BATCH_WINDOW_MS}), or until a count or byte cap is reached, leave together in one
 * `send` (one `POST /orderer/v1/broadcast-batch`). A batch never waits for another's answer, so
 * several may be in flight at once. Each caller gets its own envelope's outcome; a batch whose
 * `send` fails rejects every caller of that batch with the error. The orderer client of peers
 * and the orderers' forwarding to their chain's leader both send through it.
 */
import { SilkError } from '../errors.js';
import {
  BROADCAST_BATCH_FRAME_BYTES, BROADCAST_BATCH_MAX_ENVELOPES, broadcastBatchHeaderBytes, ORDERER_BODY_LIMIT_BYTES,
  type BroadcastOutcome, type BroadcastPosition,
} from './orderer-wire.js';

/** How long the first envelope of a batch waits for others to join it: 2 ms. */
export const BATCH_WINDOW_MS = 2;
/** Envelopes after which a batch leaves at once. */
export const BATCH_MAX_ENVELOPES = 500;
/** Bytes of a batch body (framing included) it may not pass: the orderer's body limit. */
export const BATCH_MAX_BYTES = ORDERER_BODY_LIMIT_BYTES;

/** A batch as it leaves. */
export interface BroadcastBatch {
  readonly chain: string;
  readonly envelopes: readonly Uint8Array[];
  /** The latest deadline (ms since the epoch) its callers gave, or undefined when none gave one. */
  readonly deadline: number | undefined;
}

/** Options of {@link createBroadcastBatcher}. */
export interface BroadcastBatcherOptions {
  /**
   * Sends one batch. Resolves with one outcome per envelope, in order; rejects when the batch as
   * a whole failed (every caller of the batch gets that error).
   */
  readonly send: (batch: BroadcastBatch) => Promise<readonly BroadcastOutcome[]>;
  /** Default {@link BATCH_WINDOW_MS}; 0 sends after the current event-loop turn. */
  readonly windowMs?: number;
  /** Default {@link BATCH_MAX_ENVELOPES}; at most the orderer's {@link BROADCAST_BATCH_MAX_ENVELOPES}. */
  readonly maxEnvelopes?: number;
  /** Default {@link BATCH_MAX_BYTES}; an envelope larger than this on its own leaves alone. */
  readonly maxBytes?: number;
}

/** Coalesces broadcasts per chain. */
export interface BroadcastBatcher {
  /**
   * Adds an envelope to the chain's open batch.
   * @param deadline when the caller stops waiting (ms since the epoch); the batch carries the latest one
   * @returns the envelope's position once the batch's answer names it
   * @throws the envelope's own error, the batch's error, or the reason given to `close()`
   */
  submit(chain: string, envelope: Uint8Array, deadline?: number): Promise<BroadcastPosition>;
  /** Sends every open batch now. */
  flush(): void;
  /** Rejects the envelopes of open batches, and every later one, with `reason`; batches in flight finish. */
  close(reason: Error): void;
}

interface Waiter {
  resolve(position: BroadcastPosition): void;
  reject(error: unknown): void;
}

interface OpenBatch {
  readonly chain: string;
  readonly envelopes: Uint8Array[];
  readonly waiters: Waiter[];
  bytes: number;
  deadline: number | undefined;
  timer: NodeJS.Timeout | undefined;
}

function checkCap(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new SilkError('INVALID_ARGUMENT', `${name} must be an integer from ${min} to ${max}; got ${String(value)}`);
  return value;
}

class WindowedBroadcastBatcher implements BroadcastBatcher {
  readonly #send: BroadcastBatcherOptions['send'];
  readonly #windowMs: number;
  readonly #maxEnvelopes: number;
  readonly #maxBytes: number;
  readonly #open = new Map<string, OpenBatch>();
  #closed: { reason: Error } | undefined;

  constructor(options: BroadcastBatcherOptions) {
    this.#send = options.send;
    this.#windowMs = checkCap('windowMs', options.windowMs ?? BATCH_WINDOW_MS, 0, 1_000);
    this.#maxEnvelopes = checkCap('maxEnvelopes', options.maxEnvelopes ?? BATCH_MAX_ENVELOPES, 1, BROADCAST_BATCH_MAX_ENVELOPES);
    this.#maxBytes = checkCap('maxBytes', options.maxBytes ?? BATCH_MAX_BYTES, 1, ORDERER_BODY_LIMIT_BYTES);
  }

  submit(chain: string, envelope: Uint8Array, deadline?: number): Promise<BroadcastPosition> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed.reason);
    return new Promise<BroadcastPosition>((resolve, reject) => {
      const cost = BROADCAST_BATCH_FRAME_BYTES + envelope.length;
      let batch = this.#open.get(chain);
      if (batch !== undefined && batch.bytes + cost > this.#maxBytes) {
        this.#dispatch(batch);
        batch = undefined;
      }
      batch ??= this.#start(chain);
      batch.envelopes.push(envelope);
      batch.waiters.push({ resolve, reject });
      batch.bytes += cost;
      if (deadline !== undefined) batch.deadline = Math.max(batch.deadline ?? deadline, deadline);
      if (batch.envelopes.length >= this.#maxEnvelopes) this.#dispatch(batch);
    });
  }

  #start(chain: string): OpenBatch {
    const batch: OpenBatch = { chain, envelopes: [], waiters: [], bytes: broadcastBatchHeaderBytes(chain), deadline: undefined, timer: undefined };
    batch.timer = setTimeout(() => { this.#dispatch(batch); }, this.#windowMs);
    this.#open.set(chain, batch);
    return batch;
  }

  /** Closes a batch to newcomers and sends it; its answer settles its callers. */
  #dispatch(batch: OpenBatch): void {
    clearTimeout(batch.timer);
    if (this.#open.get(batch.chain) === batch) this.#open.delete(batch.chain);
    const { waiters } = batch;
    let sending: Promise<readonly BroadcastOutcome[]>;
    try {
      sending = this.#send({ chain: batch.chain, envelopes: batch.envelopes, deadline: batch.deadline });
    } catch (error) {
      sending = Promise.reject(error instanceof Error ? error : new SilkError('INTERNAL', `sending a broadcast batch failed: ${String(error)}`));
    }
    sending.then((outcomes) => {
      if (outcomes.length !== waiters.length) {
        const error = new SilkError('BAD_RESPONSE', `a batch of ${waiters.length} envelopes on chain ${batch.chain} was answered with ${outcomes.length} outcomes`);
        for (const w of waiters) w.reject(error);
        return;
      }
      outcomes.forEach((outcome, i) => {
        const w = waiters[i] as Waiter;
        if ('position' in outcome) w.resolve(outcome.position);
        else w.reject(outcome.error);
      });
    }, (error: unknown) => {
      for (const w of waiters) w.reject(error);
    });
  }

  flush(): void {
    for (const batch of [...this.#open.values()]) this.#dispatch(batch);
  }

  close(reason: Error): void {
    this.#closed ??= { reason };
    for (const batch of this.#open.values()) {
      clearTimeout(batch.timer);
      for (const w of batch.waiters) w.reject(reason);
    }
    this.#open.clear();
  }
}

/**
 * Creates a batcher that coalesces broadcasts per chain and sends each batch with `send`.
 * @throws SilkError INVALID_ARGUMENT when a window or cap is out of range
 * @example
 * const batcher = createBroadcastBatcher({ send: (batch) => sendToLeader(batch) });
 * const { block, index } = await batcher.submit('trade', envelope);
 */
export function createBroadcastBatcher(options: BroadcastBatcherOptions): BroadcastBatcher {
  return new WindowedBroadcastBatcher(options);
}
