/**
 * What every orderer does before a block is stored, whatever stores it: admit an envelope (size,
 * format, chain, membership of the submitter, its signature) and cut batches by the chain's batch
 * configuration (count, bytes, timeout), configuration transactions alone in their own batch.
 * The solo orderer writes a batch's block to its SQLite log on its writer thread; the distributed
 * orderer appends it to the etcd block log as its chain's leader. Both settle the waiters only
 * once the block is stored.
 */
import { toHex } from '../crypto/hash.js';
import { verifyP256 } from '../crypto/p256.js';
import { SilkError, SubmitError } from '../errors.js';
import { indexMembers, type ResolvedIdentity } from '../identity/identity-resolver.js';
import { CONFIG_NAMESPACE, validateChainConfig, type ChainConfig } from '../ledger/chain-config.js';
import { configUpdateProblem } from '../ledger/config-transaction.js';
import { decodeForOrdering, decodeResultOf, decodeTransaction, MAX_ENVELOPE_BYTES, type DecodedTransaction, type OrderingView } from '../ledger/transaction.js';
import type { OrderedPosition } from './orderer.js';

/** Bytes of a block besides its envelopes: header, signature and CBOR framing, with room to spare. */
export const BLOCK_OVERHEAD_BYTES = 1024;
/** CBOR framing of one envelope inside a block (a byte-string head of at most 9 bytes). */
export const ENVELOPE_FRAMING_BYTES = 9;

/** Someone waiting for an envelope's position. */
export interface PositionWaiter {
  resolve(position: OrderedPosition): void;
  reject(error: unknown): void;
}

/** An admitted envelope waiting to be stored in a block. */
export interface PendingEnvelope {
  readonly bytes: Uint8Array;
  readonly txId: string;
  readonly waiters: PositionWaiter[];
}

/** A batch ready to become one block. */
export interface CutBatch {
  readonly txs: PendingEnvelope[];
  /** The configuration a configuration transaction carries (its batch is alone); undefined when it does not parse. */
  readonly config?: ChainConfig;
  /** True for a configuration transaction's batch. */
  readonly isConfig: boolean;
}

/** Options of {@link createBlockCutter}. */
export interface BlockCutterOptions {
  readonly chain: string;
  /** The configuration in force at the chain's tip. */
  readonly config: ChainConfig;
  /** Largest encoded block the store accepts (default: no limit besides the chain's `batch.maxBytes`). */
  readonly maxBlockBytes?: number;
  /** Receives every cut batch, in order; called synchronously from `add()`, `flush()` or the batch timer. */
  readonly onBatch: (batch: CutBatch) => void;
}

/**
 * What admission decoded: the envelope and its proposal; a configuration transaction is decoded
 * whole (`full`), since the orderer acts on the configuration it carries.
 */
export interface AdmittedEnvelope extends OrderingView {
  readonly full?: DecodedTransaction;
}

/** Admission and batching of one chain. */
export interface BlockCutter {
  readonly chain: string;
  /** The configuration admission checks against. */
  readonly config: ChainConfig;
  /**
   * Checks an envelope as the orderer must before ordering it.
   * @throws SubmitError PAYLOAD_TOO_LARGE, MALFORMED, WRONG_CHAIN, UNKNOWN_CREATOR, BAD_SIGNATURE
   */
  admit(envelope: Uint8Array): AdmittedEnvelope;
  /**
   * Queues an admitted envelope; resolves with its position once the owner stores its block. The
   * same tx id while still pending joins the first envelope's waiters.
   */
  add(envelope: Uint8Array, decoded: AdmittedEnvelope): Promise<OrderedPosition>;
  /** Cuts the open batch now (nothing happens when it is empty). */
  flush(): void;
  /** Takes every queued envelope out without cutting (the open batch only; cut batches belong to the owner). */
  drain(): PendingEnvelope[];
  /** The envelope pending under a tx id (queued or cut and not yet released). */
  pending(txId: string): PendingEnvelope | undefined;
  /** Forgets the tx ids of a batch the owner has settled. */
  release(batch: readonly PendingEnvelope[]): void;
  /** Admits against a new configuration from now on (after its block is stored). */
  useConfig(config: ChainConfig): void;
  /** Stops the batch timer. */
  close(): void;
}

/**
 * The configuration a configuration transaction carries.
 * @throws SubmitError CONFIG_INVALID when it is not one or the configuration is invalid
 */
export function configOfTransaction(d: DecodedTransaction): ChainConfig {
  const w = d.result.writes[0];
  if (d.proposal.contract !== CONFIG_NAMESPACE || w?.value == null) throw new SubmitError('CONFIG_INVALID', 'not a configuration transaction');
  return validateChainConfig(JSON.parse(w.value));
}

/**
 * The configuration in a block's transactions when the block is a configuration block (one
 * configuration transaction), else undefined.
 */
export function configOfBlockTxs(txs: readonly Uint8Array[]): ChainConfig | undefined {
  if (txs.length !== 1) return undefined;
  try {
    return configOfTransaction(decodeTransaction(txs[0] as Uint8Array));
  } catch {
    return undefined;
  }
}

/**
 * A creator outside the configuration (a key registered through the identity contract, which
 * the orderer does not track) is accepted when a configured peer endorsed the transaction: the
 * peer resolved the creator when it endorsed, and every peer re-resolves it at validation. The
 * endorsement's signature is checked here (only on this path), so copying a peer's public key
 * into an envelope does not get spam ordered; configuration transactions still need a member.
 */
function vouchedByPeer(members: ReadonlyMap<string, ResolvedIdentity>, d: OrderingView): boolean {
  if (d.proposal.contract === CONFIG_NAMESPACE) return false;
  return d.envelope.endorsements.some((e) => members.get(toHex(e.endorser))?.role === 'peer' && verifyP256(e.endorser, d.envelope.result, e.signature));
}

/** Any failure as a {@link SubmitError} (the stage of ordering), keeping its code. */
export function toSubmitError(e: unknown): SubmitError {
  if (e instanceof SubmitError) return e;
  if (e instanceof SilkError) return new SubmitError(e.code, e.message, e.details, { cause: e });
  return new SubmitError('INTERNAL', `ordering failed unexpectedly: ${e instanceof Error ? e.message : String(e)}`, {}, { cause: e });
}

/**
 * Creates the admission and batching of one chain.
 * @throws SilkError INVALID_ARGUMENT when `maxBlockBytes` leaves no room for an envelope
 * @example
 * const cutter = createBlockCutter({ chain: 'trade', config, onBatch: (batch) => { store(batch); } });
 * const position = await cutter.add(envelope, cutter.admit(envelope));
 */
export function createBlockCutter(options: BlockCutterOptions): BlockCutter {
  if (options.maxBlockBytes !== undefined && (!Number.isSafeInteger(options.maxBlockBytes) || options.maxBlockBytes <= BLOCK_OVERHEAD_BYTES + ENVELOPE_FRAMING_BYTES)) {
    throw new SilkError('INVALID_ARGUMENT', `maxBlockBytes must be an integer above ${BLOCK_OVERHEAD_BYTES + ENVELOPE_FRAMING_BYTES}; got ${String(options.maxBlockBytes)}`);
  }
  return new ChainBlockCutter(options);
}

class ChainBlockCutter implements BlockCutter {
  readonly chain: string;
  #config: ChainConfig;
  #members: ReadonlyMap<string, ResolvedIdentity>;
  readonly #maxBlockBytes: number | undefined;
  readonly #onBatch: (batch: CutBatch) => void;
  #batch: PendingEnvelope[] = [];
  #batchBytes = 0;
  readonly #pending = new Map<string, PendingEnvelope>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: BlockCutterOptions) {
    this.chain = options.chain;
    this.#config = options.config;
    this.#members = indexMembers(options.config);
    this.#maxBlockBytes = options.maxBlockBytes;
    this.#onBatch = options.onBatch;
  }

  get config(): ChainConfig { return this.#config; }

  /** Envelope bytes a batch may hold: the chain's limit, and the store's block limit less framing. */
  #batchLimit(): number {
    const chainLimit = this.#config.batch.maxBytes;
    return this.#maxBlockBytes === undefined ? chainLimit : Math.min(chainLimit, this.#maxBlockBytes - BLOCK_OVERHEAD_BYTES);
  }

  #cost(envelope: Uint8Array): number {
    return envelope.length + (this.#maxBlockBytes === undefined ? 0 : ENVELOPE_FRAMING_BYTES);
  }

  admit(envelope: Uint8Array): AdmittedEnvelope {
    const limit = Math.min(MAX_ENVELOPE_BYTES, this.#batchLimit());
    if (this.#cost(envelope) > limit) throw new SubmitError('PAYLOAD_TOO_LARGE', `envelope of ${envelope.length} bytes exceeds the chain's limit of ${limit} bytes per envelope`, { chain: this.chain });
    try {
      const view = decodeForOrdering(envelope);
      // A configuration transaction is decoded whole: its result is the configuration.
      const d: AdmittedEnvelope = view.proposal.contract === CONFIG_NAMESPACE ? { ...view, full: decodeResultOf(view) } : view;
      if (d.proposal.chain !== this.chain) throw new SubmitError('WRONG_CHAIN', `envelope is for chain ${d.proposal.chain}, not ${this.chain}`);
      if (!this.#members.has(toHex(d.proposal.creator)) && !vouchedByPeer(this.#members, d)) throw new SubmitError('UNKNOWN_CREATOR', `the submitter is not a member of chain ${this.chain}, and no configured peer of it endorsed the transaction`);
      if (!verifyP256(d.proposal.creator, d.envelope.proposal, d.envelope.signature)) throw new SubmitError('BAD_SIGNATURE', 'the submitter signature does not verify');
      if (d.proposal.contract === CONFIG_NAMESPACE) {
        // The orderer acts on a configuration it cuts (members, batching, which orderers may
        // lead): one that would not take effect at the peers is refused here, with the reason.
        const problem = configUpdateProblem(this.#config, d.full as DecodedTransaction, Date.now());
        if (problem !== undefined) throw new SubmitError(problem.code, `configuration transaction refused: ${problem.message}`, { chain: this.chain });
      }
      return d;
    } catch (e) {
      throw toSubmitError(e);
    }
  }

  add(envelope: Uint8Array, decoded: AdmittedEnvelope): Promise<OrderedPosition> {
    return new Promise<OrderedPosition>((resolve, reject) => {
      const existing = this.#pending.get(decoded.txId);
      if (existing !== undefined) {
        existing.waiters.push({ resolve, reject });
        return;
      }
      const p: PendingEnvelope = { bytes: envelope, txId: decoded.txId, waiters: [{ resolve, reject }] };
      this.#pending.set(decoded.txId, p);
      if (decoded.proposal.contract === CONFIG_NAMESPACE) {
        this.flush();
        // Judged again when cut: another update may have taken effect since it was admitted. One
        // that would not take effect is still ordered (peers mark it invalid), and changes nothing.
        const full = decoded.full ?? decodeResultOf(decoded);
        const config = configUpdateProblem(this.#config, full, Date.now()) === undefined ? configOfTransaction(full) : undefined;
        this.#onBatch({ txs: [p], isConfig: true, ...(config === undefined ? {} : { config }) });
        return;
      }
      const cost = this.#cost(envelope);
      if (this.#batchBytes + cost > this.#batchLimit()) this.flush();
      this.#batch.push(p);
      this.#batchBytes += cost;
      if (this.#batch.length >= this.#config.batch.maxTxs) this.flush();
      else this.#timer ??= setTimeout(() => { this.flush(); }, this.#config.batch.timeoutMs);
    });
  }

  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#batch.length === 0) return;
    const txs = this.#batch;
    this.#batch = [];
    this.#batchBytes = 0;
    this.#onBatch({ txs, isConfig: false });
  }

  drain(): PendingEnvelope[] {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const txs = this.#batch;
    this.#batch = [];
    this.#batchBytes = 0;
    return txs;
  }

  pending(txId: string): PendingEnvelope | undefined {
    return this.#pending.get(txId);
  }

  release(batch: readonly PendingEnvelope[]): void {
    for (const p of batch) if (this.#pending.get(p.txId) === p) this.#pending.delete(p.txId);
  }

  useConfig(config: ChainConfig): void {
    this.#config = config;
    this.#members = indexMembers(config);
  }

  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
