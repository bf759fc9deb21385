/**
 * A "seen before?" filter over a ledger's transaction ids, so the common question of the hot
 * path (is this new tx id a duplicate? it almost never is) is answered from memory instead of
 * an index read. A scalable Bloom filter: a chain of bit arrays, each twice the capacity of the
 * one before, so it grows with the ledger without being rebuilt. "No" is certain; "maybe" is
 * checked against the tx index. About 2 bytes per transaction id; false positives about 0.05 %.
 *
 * Tx ids are SHA-256 digests in hex (`txId` in src/ledger/proposal.ts): their bits are already
 * uniform, so the bit positions are read straight from the id. Any other string is always "maybe".
 */

/** Bits per id and probes per lookup: 16 bits and 8 probes give about 0.05 % false positives. */
const BITS_PER_ID = 16;
const PROBES = 8;
/** Capacity of the first bit array (ids). */
const FIRST_CAPACITY = 1 << 14;

interface Layer {
  readonly bits: Uint32Array;
  /** log2 of the layer's size in bits. */
  readonly log2: number;
  readonly capacity: number;
  count: number;
}

function layer(capacity: number): Layer {
  // Bit positions are 32-bit words masked to the layer: at most 2^31 bits (256 MiB) a layer.
  const log2 = Math.min(31, Math.ceil(Math.log2(capacity * BITS_PER_ID)));
  return { bits: new Uint32Array(2 ** (log2 - 5)), log2, capacity, count: 0 };
}

/** The value of a lowercase hex digit's char code, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * The probe positions of a hex tx id: its eight 32-bit words, folded to the layer's size later.
 * Parsed from the char codes (no substrings).
 * @returns false when `id` is not 64 lowercase hex digits (`out` is then unspecified)
 */
function probes(id: string, out: Uint32Array): boolean {
  if (id.length !== 64) return false;
  for (let i = 0; i < PROBES; i++) {
    let word = 0;
    for (let j = i * 8; j < i * 8 + 8; j++) {
      const d = hexDigit(id.charCodeAt(j));
      if (d < 0) return false;
      word = (word << 4) | d;
    }
    out[i] = word >>> 0;
  }
  return true;
}

/** Transaction ids seen by a ledger: certain absence, probable presence. */
export class TxIdFilter {
  readonly #layers: Layer[] = [];
  readonly #scratch = new Uint32Array(PROBES);

  /**
   * A filter holding `ids`, sized for them and as many again.
   * @example const f = TxIdFilter.of(db.prepare('SELECT txid FROM txs').pluck().iterate())
   */
  static of(ids: Iterable<string>, expected = 0): TxIdFilter {
    const f = new TxIdFilter(Math.max(FIRST_CAPACITY, expected * 2));
    for (const id of ids) f.add(id);
    return f;
  }

  constructor(capacity = FIRST_CAPACITY) {
    this.#layers.push(layer(Math.max(1, capacity)));
  }

  /** Records an id (ids that are not 64 lowercase hex digits are not recorded: they are always "maybe"). */
  add(id: string): void {
    if (!probes(id, this.#scratch)) return;
    let top = this.#layers[this.#layers.length - 1] as Layer;
    if (top.count >= top.capacity) {
      top = layer(top.capacity * 2);
      this.#layers.push(top);
    }
    const mask = 2 ** top.log2 - 1;
    for (const p of this.#scratch) {
      const bit = p & mask;
      top.bits[bit >>> 5] = (top.bits[bit >>> 5] as number) | (1 << (bit & 31));
    }
    top.count++;
  }

  /** False only when the id was certainly never added; true means "look it up". */
  mightContain(id: string): boolean {
    if (!probes(id, this.#scratch)) return true;
    for (const l of this.#layers) {
      const mask = 2 ** l.log2 - 1;
      let all = true;
      for (const p of this.#scratch) {
        const bit = p & mask;
        if (((l.bits[bit >>> 5] as number) & (1 << (bit & 31))) === 0) { all = false; break; }
      }
      if (all) return true;
    }
    return false;
  }

  /** Ids recorded. */
  get size(): number {
    return this.#layers.reduce((s, l) => s + l.count, 0);
  }

  /** Bytes of the bit arrays. */
  get bytes(): number {
    return this.#layers.reduce((s, l) => s + l.bits.byteLength, 0);
  }
}
