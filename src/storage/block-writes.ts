/**
 * A block's index record, stored in `block_writes` in the same SQLite transaction as the block:
 * the tx ids the block adds to the tx index (with position and validation code) and every state
 * write it makes (namespace, key, value or null for a delete, position). It is the one copy of
 * what a key history row returns besides its key and version, so `history` rows stay four
 * columns, and it is what rebuilds the index rows not yet written to their tables after a
 * restart (sqlite-ledger-store.ts keeps them in memory and writes them in batches).
 *
 * Encoding: canonical CBOR (src/codec/canonical-cbor.ts), a map
 * `{ txs: [[txId (32 bytes), tx, code], ...], writes: [[ns, key, value | null, tx], ...] }`,
 * txs in position order, writes in (tx, ns, key) order with one write per key and transaction
 * (the last one given). One block's material has one encoding, so a record can be compared
 * byte for byte with the one a replay of the block produces.
 */
import { decodeCanonical, encodeCanonical, type CanonicalValue } from '../codec/canonical-cbor.js';
import { toHex } from '../crypto/hash.js';
import { SilkError } from '../errors.js';

/** A tx index entry: a transaction that claims its tx id in this block. */
export interface IndexedTx {
  readonly txId: string;
  readonly tx: number;
  readonly code: number;
}

/** A state write as the record keeps it. */
export interface RecordedWrite {
  readonly ns: string;
  readonly key: string;
  readonly value: string | null;
  readonly tx: number;
}

/** A decoded record. */
export interface BlockWrites {
  readonly txs: readonly IndexedTx[];
  readonly writes: readonly RecordedWrite[];
}

/** Length of a tx id in bytes (a SHA-256 digest); 64 lowercase hex digits in the API. */
export const TX_ID_BYTES = 32;
const TX_ID = /^[0-9a-f]{64}$/;

/** Records are the ledger's own data, written by this code: limits far beyond any block. */
const RECORD_LIMITS = { maxBytes: 2 ** 31 - 1, maxDepth: 4, maxItems: 2 ** 26 };

/** True for a well-formed tx id: 64 lowercase hex digits. */
export function isTxId(id: string): boolean {
  return TX_ID.test(id);
}

/**
 * Checks a tx id's form.
 * @throws SilkError INVALID_ARGUMENT when `id` is not 64 lowercase hex digits
 */
export function assertTxId(id: string): void {
  if (!TX_ID.test(id)) throw new SilkError('INVALID_ARGUMENT', `a tx id is 64 lowercase hex digits, got ${JSON.stringify(id.slice(0, 80))}`, { path: 'txId' });
}

/**
 * A tx id as the 32 bytes the tx index stores.
 * @throws SilkError INVALID_ARGUMENT when `id` is not 64 lowercase hex digits
 */
export function txIdBytes(id: string): Buffer {
  assertTxId(id);
  return Buffer.from(id, 'hex');
}

/** A stored 32-byte tx id as hex. */
export function txIdHex(bytes: Uint8Array): string {
  return toHex(bytes);
}

/** Orders writes by (tx, ns, key). */
function compareWrites(a: RecordedWrite, b: RecordedWrite): number {
  if (a.tx !== b.tx) return a.tx - b.tx;
  if (a.ns !== b.ns) return a.ns < b.ns ? -1 : 1;
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return 0;
}

/**
 * The canonical record of a block's index material, whatever order the parts come in.
 * @param txs the tx index entries the block adds
 * @param writes the block's state writes (a later write of a key in the same transaction wins)
 * @throws SilkError INVALID_ARGUMENT for a malformed tx id
 * @example const bytes = encodeBlockWrites(commit.txIndex, commit.writes)
 */
export function encodeBlockWrites(txs: readonly IndexedTx[], writes: readonly RecordedWrite[]): Uint8Array {
  const byTx = txs.length < 2 || txs.every((t, i) => i === 0 || (txs[i - 1] as IndexedTx).tx < t.tx) ? txs : [...txs].sort((a, b) => a.tx - b.tx);
  const sorted = [...writes].sort(compareWrites);
  const w: CanonicalValue[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const x = sorted[i] as RecordedWrite;
    const next = sorted[i + 1];
    // The stable sort keeps a key's writes within one transaction in their given order.
    if (next !== undefined && compareWrites(x, next) === 0) continue;
    w.push([x.ns, x.key, x.value, x.tx]);
  }
  return encodeCanonical({ txs: byTx.map((t) => [txIdBytes(t.txId), t.tx, t.code]), writes: w });
}

/**
 * Decodes a stored record.
 * @param block the block it belongs to (named in errors)
 * @throws SilkError LEDGER_CORRUPT when the bytes are not a record
 */
export function decodeBlockWrites(bytes: Uint8Array, block: number): BlockWrites {
  const bad = (why: string, cause?: unknown): never => {
    throw new SilkError('LEDGER_CORRUPT', `the block_writes record of block ${block} is unreadable: ${why}`, { block }, cause === undefined ? undefined : { cause });
  };
  let v: CanonicalValue;
  try {
    v = decodeCanonical(bytes, RECORD_LIMITS);
  } catch (e) {
    return bad((e as Error).message, e);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) return bad('not a map');
  const { txs, writes } = v as { readonly txs?: CanonicalValue; readonly writes?: CanonicalValue };
  if (!Array.isArray(txs) || !Array.isArray(writes) || Object.keys(v).length !== 2) return bad('expected the keys txs and writes');
  const isPosition = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  const outTxs = (txs as readonly CanonicalValue[]).map((t): IndexedTx => {
    if (!Array.isArray(t) || t.length !== 3) return bad('a tx entry is not [id, tx, code]');
    const [id, tx, code] = t as readonly CanonicalValue[];
    if (!(id instanceof Uint8Array) || id.length !== TX_ID_BYTES || !isPosition(tx) || !isPosition(code)) return bad('a tx entry is not [id, tx, code]');
    return { txId: txIdHex(id), tx, code };
  });
  const outWrites = (writes as readonly CanonicalValue[]).map((x): RecordedWrite => {
    if (!Array.isArray(x) || x.length !== 4) return bad('a write is not [ns, key, value, tx]');
    const [ns, key, value, tx] = x as readonly CanonicalValue[];
    if (typeof ns !== 'string' || typeof key !== 'string' || (value !== null && typeof value !== 'string') || !isPosition(tx)) return bad('a write is not [ns, key, value, tx]');
    return { ns, key, value, tx };
  });
  return { txs: outTxs, writes: outWrites };
}

/** A decoded record with what a history row needs looked up by position and key. */
export interface IndexedBlockWrites extends BlockWrites {
  readonly number: number;
  /** The block's timestamp (its stored `ts`). */
  readonly timestamp: number;
  /** The tx id of the transaction at a position, when it is in the record. */
  txIdAt(tx: number): string | undefined;
  /** The write of a key by the transaction at a position (`undefined` when there is none). */
  write(ns: string, key: string, tx: number): RecordedWrite | undefined;
}

/**
 * Adds the lookups of {@link IndexedBlockWrites} to a decoded record.
 * @param number the block's number
 * @param timestamp the block's stored timestamp
 */
export function indexBlockWrites(number: number, timestamp: number, record: BlockWrites): IndexedBlockWrites {
  let ids: Map<number, string> | undefined;
  let byKey: Map<string, RecordedWrite> | undefined;
  return {
    number,
    timestamp,
    txs: record.txs,
    writes: record.writes,
    txIdAt(tx) {
      ids ??= new Map(record.txs.map((t) => [t.tx, t.txId]));
      return ids.get(tx);
    },
    write(ns, key, tx) {
      byKey ??= new Map(record.writes.map((w) => [writeKey(w.ns, w.key, w.tx), w]));
      return byKey.get(writeKey(ns, key, tx));
    },
  };
}

function writeKey(ns: string, key: string, tx: number): string {
  return `${tx}\u0000${ns}\u0000${key}`;
}

/** Decoded records kept for history reads: a block's record is read once for all its rows. */
export const RECORD_CACHE_BLOCKS = 48;

/**
 * A small cache of decoded records, evicting the least recently used.
 * @example const records = new BlockWritesCache((n) => readRecord(n)); records.get(12)
 */
export class BlockWritesCache {
  readonly #entries = new Map<number, IndexedBlockWrites>();
  readonly #read: (n: number) => IndexedBlockWrites | undefined;

  /** @param read loads and decodes a block's record, or undefined when none is stored */
  constructor(read: (n: number) => IndexedBlockWrites | undefined) {
    this.#read = read;
  }

  /** A block's decoded record, or undefined when none is stored. */
  get(n: number): IndexedBlockWrites | undefined {
    const hit = this.#entries.get(n);
    if (hit !== undefined) {
      this.#entries.delete(n);
      this.#entries.set(n, hit);
      return hit;
    }
    const loaded = this.#read(n);
    if (loaded === undefined) return undefined;
    this.#entries.set(n, loaded);
    if (this.#entries.size > RECORD_CACHE_BLOCKS) {
      const oldest = this.#entries.keys().next().value as number;
      this.#entries.delete(oldest);
    }
    return loaded;
  }

  clear(): void {
    this.#entries.clear();
  }
}
