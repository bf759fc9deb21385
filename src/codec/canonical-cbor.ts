/**
 * The one canonical encoding for everything Silkledger hashes or signs: deterministic CBOR
 * (RFC 8949 §4.2.1 "core deterministic encoding"), restricted to the types a ledger needs.
 *
 * - integers: shortest form; safe integers decode to `number`, larger ones to `bigint`
 * - byte strings (`Uint8Array`), text strings (UTF-8, well-formed), arrays, maps with text keys
 *   sorted by their encoded bytes (length first, then bytewise), `null`, `true`, `false`
 * - non-integer numbers as float64 only; integral, NaN and infinite floats are refused
 *
 * The decoder accepts exactly what the encoder produces and nothing else, so one value has one
 * encoding and two different values never hash alike.
 */
import { SilkError } from '../errors.js';

/** A value the canonical encoding can carry. */
export type CanonicalValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | readonly CanonicalValue[]
  | { readonly [key: string]: CanonicalValue | undefined };

/** Limits a decoder enforces on untrusted input. */
export interface DecodeLimits {
  /** Largest input in bytes. */
  readonly maxBytes: number;
  /** Deepest nesting of arrays and maps. */
  readonly maxDepth: number;
  /** Most items in one array or map. */
  readonly maxItems: number;
}

/** Default decode limits: 8 MiB, depth 32, 1,000,000 items per container. */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxBytes: 8 * 1024 * 1024, maxDepth: 32, maxItems: 1_000_000 };

const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const MAX_U64 = (1n << 64n) - 1n;

/** Encodings at most this long leave the shared scratch buffer in place for the next one. */
const SCRATCH_KEEP_BYTES = 1024 * 1024;

class Writer {
  // A Buffer, for its in-place UTF-8 writer; encodings are copied out into plain Uint8Arrays.
  buf: Buffer;
  view: DataView;
  pos = 0;

  constructor(size = 256) {
    this.buf = Buffer.allocUnsafe(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  /** Writes a text string's head and UTF-8 bytes (the caller checked it is well formed). */
  text(v: string): void {
    const n = v.length;
    if (n < 24) {
      // Short ASCII text (map keys, names, ids) goes byte by byte, with no native call.
      this.ensure(1 + n);
      const start = this.pos;
      this.buf[this.pos++] = 0x60 | n;
      let i = 0;
      for (; i < n; i++) {
        const c = v.charCodeAt(i);
        if (c >= 0x80) break;
        this.buf[this.pos++] = c;
      }
      if (i === n) return;
      this.pos = start;
    }
    const len = Buffer.byteLength(v, 'utf8');
    this.head(3, len);
    this.ensure(len);
    this.buf.write(v, this.pos, len, 'utf8');
    this.pos += len;
  }

  /** A copy of what was written, in a plain Uint8Array of its own. */
  result(): Uint8Array {
    const out = new Uint8Array(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    return out;
  }

  head(major: number, len: number | bigint): void {
    const m = major << 5;
    if (typeof len === 'bigint') {
      if (len <= 0xffffffffn) {
        this.head(major, Number(len));
        return;
      }
      this.ensure(9);
      this.buf[this.pos++] = m | 27;
      this.view.setBigUint64(this.pos, len);
      this.pos += 8;
      return;
    }
    if (len < 24) {
      this.ensure(1);
      this.buf[this.pos++] = m | len;
    } else if (len < 0x100) {
      this.ensure(2);
      this.buf[this.pos++] = m | 24;
      this.buf[this.pos++] = len;
    } else if (len < 0x10000) {
      this.ensure(3);
      this.buf[this.pos++] = m | 25;
      this.view.setUint16(this.pos, len);
      this.pos += 2;
    } else if (len < 0x100000000) {
      this.ensure(5);
      this.buf[this.pos++] = m | 26;
      this.view.setUint32(this.pos, len);
      this.pos += 4;
    } else {
      this.head(major, BigInt(len));
    }
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

function encodeInteger(w: Writer, v: number | bigint): void {
  if (typeof v === 'number') {
    if (v >= 0) w.head(0, v);
    else w.head(1, -1 - v);
    return;
  }
  if (v >= 0n) {
    if (v > MAX_U64) throw new SilkError('INVALID_ARGUMENT', 'integer too large for the canonical encoding (max 2^64-1)');
    w.head(0, v);
  } else {
    const n = -1n - v;
    if (n > MAX_U64) throw new SilkError('INVALID_ARGUMENT', 'integer too small for the canonical encoding (min -2^64)');
    w.head(1, n);
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** {@link compareBytes} over two ranges of one buffer. */
function compareRanges(buf: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const aLen = aEnd - aStart;
  if (aLen !== bEnd - bStart) return aLen - (bEnd - bStart);
  for (let i = 0; i < aLen; i++) {
    const d = (buf[aStart + i] as number) - (buf[bStart + i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

const keyCache = new Map<string, Uint8Array>();
function encodedKey(key: string): Uint8Array {
  let e = keyCache.get(key);
  if (e === undefined) {
    if (!key.isWellFormed()) throw new SilkError('INVALID_ARGUMENT', 'map key contains a lone surrogate (not valid Unicode)');
    const w = new Writer(32);
    w.text(key);
    e = w.result();
    if (keyCache.size < 10_000) keyCache.set(key, e);
  }
  return e;
}

/** Map keys in canonical order: by encoded bytes (so by UTF-8 length first). */
function compareKeys(a: string, b: string): number {
  return compareBytes(encodedKey(a), encodedKey(b));
}

/**
 * Sorts map keys into canonical order in place. Maps have few keys and are usually built in
 * canonical order already, so an insertion sort (no comparison at all beyond one pass when
 * sorted) beats the general sort, which allocates a work array per call.
 */
function sortKeys(keys: string[]): void {
  if (keys.length > 32) {
    keys.sort(compareKeys);
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i] as string;
    let j = i - 1;
    if (compareKeys(keys[j] as string, k) <= 0) continue;
    while (j >= 0 && compareKeys(keys[j] as string, k) > 0) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = k;
  }
}

function encodeValue(w: Writer, v: CanonicalValue, depth: number): void {
  if (depth > 64) throw new SilkError('INVALID_ARGUMENT', 'value nests too deeply to encode');
  if (v === null) {
    w.ensure(1);
    w.buf[w.pos++] = 0xf6;
  } else if (v === true || v === false) {
    w.ensure(1);
    w.buf[w.pos++] = v ? 0xf5 : 0xf4;
  } else if (typeof v === 'number') {
    if (Number.isInteger(v)) {
      if (!Number.isSafeInteger(v)) throw new SilkError('INVALID_ARGUMENT', 'unsafe integer number: use a bigint');
      encodeInteger(w, Object.is(v, -0) ? 0 : v);
    } else {
      if (!Number.isFinite(v)) throw new SilkError('INVALID_ARGUMENT', 'NaN and infinities cannot be encoded');
      w.ensure(9);
      w.buf[w.pos++] = 0xfb;
      w.view.setFloat64(w.pos, v);
      w.pos += 8;
    }
  } else if (typeof v === 'bigint') {
    encodeInteger(w, v);
  } else if (typeof v === 'string') {
    // Lone surrogates would be encoded as U+FFFD, giving two strings one encoding.
    if (!v.isWellFormed()) throw new SilkError('INVALID_ARGUMENT', 'text contains a lone surrogate (not valid Unicode)');
    w.text(v);
  } else if (v instanceof Uint8Array) {
    w.head(2, v.length);
    w.bytes(v);
  } else if (Array.isArray(v)) {
    const arr = v as readonly CanonicalValue[];
    w.head(4, arr.length);
    for (const item of arr) encodeValue(w, item, depth + 1);
  } else if (typeof v === 'object') {
    const map = v as { readonly [key: string]: CanonicalValue | undefined };
    const keys = Object.keys(map);
    let count = 0;
    for (const k of keys) if (map[k] !== undefined) count++;
    if (keys.length > 1) sortKeys(keys);
    w.head(5, count);
    for (const k of keys) {
      const item = map[k];
      if (item === undefined) continue;
      w.bytes(encodedKey(k));
      encodeValue(w, item, depth + 1);
    }
  } else {
    throw new SilkError('INVALID_ARGUMENT', `cannot encode a value of type ${typeof v}`);
  }
}

/**
 * Encodes a value canonically. Object properties whose value is `undefined` are left out.
 * @param value the value to encode
 * @returns its one canonical encoding
 * @throws SilkError INVALID_ARGUMENT for values outside the supported types
 * @example encodeCanonical({ b: 1, a: [true, null] }) // same bytes as encodeCanonical({ a: [true, null], b: 1 })
 */
export function encodeCanonical(value: CanonicalValue): Uint8Array {
  // One scratch buffer serves every encoding (encoding never re-enters itself).
  const w = scratch ?? new Writer();
  scratch = undefined;
  w.pos = 0;
  try {
    encodeValue(w, value, 0);
    return w.result();
  } finally {
    if (w.buf.length <= SCRATCH_KEEP_BYTES) scratch = w;
  }
}

let scratch: Writer | undefined = new Writer(4096);

/** Texts up to this many bytes may come from the cache of short texts. */
const SHORT_TEXT_MAX = 24;
const SHORT_TEXT_SLOTS = 4096;
const shortTextBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SHORT_TEXT_SLOTS);
const shortTextStrings: string[] = new Array<string>(SHORT_TEXT_SLOTS);
/** Buffer's native one-byte string maker, called on any Uint8Array (ASCII bytes only here). */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice: (this: Uint8Array, start: number, end: number) => string }).latin1Slice;

/**
 * A short ASCII text from a direct-mapped cache of recent ones: map keys and names repeat in
 * every transaction, so most decode to the same string without allocating. Undefined when a
 * byte is not ASCII (the UTF-8 decoder then checks it).
 */
function shortAsciiText(buf: Uint8Array, at: number, len: number): string | undefined {
  let h = 0x811c9dc5;
  for (let i = at; i < at + len; i++) {
    const c = buf[i] as number;
    if (c >= 0x80) return undefined;
    h = Math.imul(h ^ c, 0x01000193);
  }
  const slot = (h >>> 0) % SHORT_TEXT_SLOTS;
  const known = shortTextBytes[slot];
  if (known !== undefined && known.length === len) {
    let same = true;
    for (let i = 0; i < len; i++) {
      if (known[i] !== buf[at + i]) {
        same = false;
        break;
      }
    }
    if (same) return shortTextStrings[slot];
  }
  const text = latin1Slice.call(buf, at, at + len);
  shortTextBytes[slot] = Uint8Array.prototype.slice.call(buf, at, at + len);
  shortTextStrings[slot] = text;
  return text;
}

/**
 * The constructor of decoded maps. Their prototype is an empty object with a null prototype, so a
 * decoded map inherits nothing (no `toString`, no `constructor`, nothing a key could shadow or
 * pollute; the prototype is frozen, so no code can add to every decoded map at once), while V8
 * keeps it a fast object with its fields in line: `Object.create(null)` makes a hash-table
 * object, about twice the memory and slower to fill and to read.
 */
const DecodedMap = function DecodedMap(): void {} as unknown as new () => object;
DecodedMap.prototype = Object.freeze(Object.create(null) as object);

class Reader {
  pos = 0;
  readonly view: DataView;
  constructor(readonly buf: Uint8Array, readonly limits: DecodeLimits) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  fail(message: string): never {
    throw new SilkError('MALFORMED', `${message} at byte ${this.pos}`, { offset: this.pos });
  }

  need(n: number): void {
    if (this.pos + n > this.buf.length) this.fail('truncated input');
  }

  /** Reads a head's argument, insisting on the shortest form. */
  arg(info: number): number | bigint {
    if (info < 24) return info;
    if (info === 24) {
      this.need(1);
      const v = this.buf[this.pos++] as number;
      if (v < 24) this.fail('non-canonical integer width');
      return v;
    }
    if (info === 25) {
      this.need(2);
      const v = this.view.getUint16(this.pos);
      this.pos += 2;
      if (v < 0x100) this.fail('non-canonical integer width');
      return v;
    }
    if (info === 26) {
      this.need(4);
      const v = this.view.getUint32(this.pos);
      this.pos += 4;
      if (v < 0x10000) this.fail('non-canonical integer width');
      return v;
    }
    if (info === 27) {
      this.need(8);
      const v = this.view.getBigUint64(this.pos);
      this.pos += 8;
      if (v <= 0xffffffffn) this.fail('non-canonical integer width');
      return v;
    }
    return this.fail(info === 31 ? 'indefinite lengths are not canonical' : 'reserved additional information');
  }

  length(info: number): number {
    const n = this.arg(info);
    if (typeof n === 'bigint' || n > this.buf.length - this.pos) this.fail('length exceeds input');
    return n;
  }

  /** Reads an item's initial byte at `depth`. */
  initial(depth: number): number {
    if (depth > this.limits.maxDepth) this.fail('nesting too deep');
    this.need(1);
    return this.buf[this.pos++] as number;
  }

  /**
   * Reads the key of a map entry at `depth`: text, after the previous key (the input's bytes from
   * `prevStart` to `prevEnd`, -1 for the first) in canonical order, and not `__proto__`. The
   * caller keeps the range: the key just read spans from where the position was to where it is.
   */
  mapKey(depth: number, prevStart: number, prevEnd: number): string {
    const start = this.pos;
    this.need(1);
    if ((this.buf[this.pos] as number) >> 5 !== 3) this.fail('map keys must be text');
    const key = this.value(depth + 1) as string;
    if (prevStart >= 0 && compareRanges(this.buf, prevStart, prevEnd, start, this.pos) >= 0) this.fail('map keys out of canonical order or repeated');
    if (key === '__proto__') this.fail('forbidden map key');
    return key;
  }

  value(depth: number): CanonicalValue {
    const ib = this.initial(depth);
    const major = ib >> 5;
    const info = ib & 0x1f;
    switch (major) {
      case 0: {
        const n = this.arg(info);
        return typeof n === 'bigint' && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
      }
      case 1: {
        const n = this.arg(info);
        const v = -1n - BigInt(n);
        return v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
      }
      case 2: {
        const len = this.length(info);
        // A copy, never a view: a Buffer input would otherwise be shared with the result.
        const out = Uint8Array.prototype.slice.call(this.buf, this.pos, this.pos + len);
        this.pos += len;
        return out;
      }
      case 3: {
        const len = this.length(info);
        if (len <= SHORT_TEXT_MAX) {
          const short = shortAsciiText(this.buf, this.pos, len);
          if (short !== undefined) {
            this.pos += len;
            return short;
          }
        }
        let s: string;
        try {
          s = textDecoder.decode(this.buf.subarray(this.pos, this.pos + len));
        } catch {
          return this.fail('invalid UTF-8 in text string');
        }
        this.pos += len;
        return s;
      }
      case 4: {
        const len = this.length(info);
        if (len > this.limits.maxItems) this.fail('array has too many items');
        const out: CanonicalValue[] = [];
        for (let i = 0; i < len; i++) out.push(this.value(depth + 1));
        return out;
      }
      case 5:
        return this.map(info, depth);
      case 7:
        return this.simple(info);
      default:
        return this.fail(`unsupported major type ${major}`);
    }
  }

  map(info: number, depth: number): CanonicalValue {
    const len = this.length(info);
    if (len > this.limits.maxItems) this.fail('map has too many entries');
    const out = new DecodedMap() as Record<string, CanonicalValue>;
    // The previous key's encoded bytes, as a range of the input (no view allocated per key).
    let prevStart = -1;
    let prevEnd = -1;
    for (let i = 0; i < len; i++) {
      const start = this.pos;
      const key = this.mapKey(depth, prevStart, prevEnd);
      prevStart = start;
      prevEnd = this.pos;
      out[key] = this.value(depth + 1);
    }
    return out;
  }

  /**
   * Moves past one item as {@link value} would read it, building nothing: heads, widths, lengths,
   * depth, item counts and the order of map keys are checked; text is not checked to be UTF-8.
   */
  pass(depth: number): void {
    const ib = this.initial(depth);
    const major = ib >> 5;
    const info = ib & 0x1f;
    switch (major) {
      case 0:
      case 1:
        this.arg(info);
        return;
      case 2:
      case 3: {
        // Read apart: `this.pos += this.length(…)` would add to the position before the length.
        const len = this.length(info);
        this.pos += len;
        return;
      }
      case 4: {
        const len = this.length(info);
        if (len > this.limits.maxItems) this.fail('array has too many items');
        for (let i = 0; i < len; i++) this.pass(depth + 1);
        return;
      }
      case 5: {
        const len = this.length(info);
        if (len > this.limits.maxItems) this.fail('map has too many entries');
        let prevStart = -1;
        let prevEnd = -1;
        for (let i = 0; i < len; i++) {
          const start = this.pos;
          this.mapKey(depth, prevStart, prevEnd);
          prevStart = start;
          prevEnd = this.pos;
          this.pass(depth + 1);
        }
        return;
      }
      case 7:
        this.simple(info);
        return;
      default:
        this.fail(`unsupported major type ${major}`);
    }
  }

  /** Reads the head of a map or an array (`major` 5 or 4) and returns its entry count. */
  head(major: 4 | 5, what: string): number {
    this.need(1);
    const ib = this.buf[this.pos] as number;
    if (ib >> 5 !== major) this.fail(`expected ${what}`);
    this.pos++;
    const len = this.length(ib & 0x1f);
    if (len > this.limits.maxItems) this.fail(`${what} has too many entries`);
    return len;
  }

  simple(info: number): CanonicalValue {
    if (info === 20) return false;
    if (info === 21) return true;
    if (info === 22) return null;
    if (info === 27) {
      this.need(8);
      const v = this.view.getFloat64(this.pos);
      this.pos += 8;
      if (!Number.isFinite(v) || Number.isInteger(v)) this.fail('non-canonical float');
      return v;
    }
    return this.fail('unsupported simple value or float width');
  }
}

/**
 * Reads canonical bytes a piece at a time, for a reader that needs a few fields of a large value:
 * what it does not ask for is skipped (checked for structure and canonical form, not built).
 * @example const c = new CanonicalCursor(bytes); c.map((key) => (key === 'id' ? (id = c.value()) : c.pass())); c.end()
 */
export class CanonicalCursor {
  readonly #r: Reader;
  #depth = 0;

  /** @throws SilkError MALFORMED for something that is not bytes; PAYLOAD_TOO_LARGE over `maxBytes` */
  constructor(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS) {
    if (!(bytes instanceof Uint8Array)) throw new SilkError('MALFORMED', 'expected bytes');
    if (bytes.length > limits.maxBytes) throw new SilkError('PAYLOAD_TOO_LARGE', `input of ${bytes.length} bytes exceeds ${limits.maxBytes}`);
    this.#r = new Reader(bytes, limits);
  }

  /** Decodes the next item whole. */
  value(): CanonicalValue {
    return this.#r.value(this.#depth);
  }

  /** Moves past the next item without building it. */
  pass(): void {
    this.#r.pass(this.#depth);
  }

  /**
   * Whether the next item is a text string whose UTF-8 bytes begin with `prefix` (nothing is
   * consumed): a reader can then decode only the texts it wants and pass the others.
   */
  startsWith(prefix: Uint8Array): boolean {
    const r = this.#r;
    r.need(1);
    const ib = r.buf[r.pos] as number;
    if (ib >> 5 !== 3) return false;
    const at = r.pos;
    r.pos++;
    const len = r.length(ib & 0x1f);
    const start = r.pos;
    r.pos = at;
    if (len < prefix.length) return false;
    for (let i = 0; i < prefix.length; i++) if (r.buf[start + i] !== prefix[i]) return false;
    return true;
  }

  /** Whether the next item is null (it is then consumed). */
  null(): boolean {
    this.#r.need(1);
    if (this.#r.buf[this.#r.pos] !== 0xf6) return false;
    this.#r.pos++;
    return true;
  }

  /**
   * Reads a map: for each entry, in canonical key order (checked), `visit` gets the key and must
   * read or pass exactly one item, its value.
   * @throws SilkError MALFORMED when the next item is not a map or its keys are not canonical
   */
  map(visit: (key: string) => void): void {
    const r = this.#r;
    const len = r.head(5, 'a map');
    let prevStart = -1;
    let prevEnd = -1;
    for (let i = 0; i < len; i++) {
      const start = r.pos;
      const key = r.mapKey(this.#depth, prevStart, prevEnd);
      prevStart = start;
      prevEnd = r.pos;
      this.#depth++;
      visit(key);
      this.#depth--;
    }
  }

  /**
   * Reads an array: `visit` gets each index and must read or pass exactly one item.
   * @returns the array's length
   * @throws SilkError MALFORMED when the next item is not an array
   */
  array(visit: (index: number, length: number) => void): number {
    const len = this.#r.head(4, 'an array');
    this.#depth++;
    for (let i = 0; i < len; i++) visit(i, len);
    this.#depth--;
    return len;
  }

  /** @throws SilkError MALFORMED when input is left after the value */
  end(): void {
    if (this.#r.pos !== this.#r.buf.length) this.#r.fail('trailing bytes after value');
  }
}

/**
 * Decodes canonical bytes, refusing anything the encoder would not have produced.
 * @param bytes untrusted input
 * @param limits size, depth and item limits
 * @returns the decoded value (maps decode to objects that inherit nothing: see `DecodedMap`)
 * @throws SilkError MALFORMED naming the failing byte offset; PAYLOAD_TOO_LARGE over `maxBytes`
 * @example decodeCanonical(encodeCanonical({ a: 1 })) // { a: 1 }
 */
export function decodeCanonical(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): CanonicalValue {
  if (!(bytes instanceof Uint8Array)) throw new SilkError('MALFORMED', 'expected bytes');
  if (bytes.length > limits.maxBytes) throw new SilkError('PAYLOAD_TOO_LARGE', `input of ${bytes.length} bytes exceeds ${limits.maxBytes}`);
  const r = new Reader(bytes, limits);
  const v = r.value(0);
  if (r.pos !== bytes.length) r.fail('trailing bytes after value');
  return v;
}
