import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isSilkError, SilkError, type ErrorCode } from '../errors.js';
import { CanonicalCursor, decodeCanonical, DEFAULT_DECODE_LIMITS, encodeCanonical, type CanonicalValue, type DecodeLimits } from './canonical-cbor.js';

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replaceAll(' ', ''), 'hex'));

/** Decoded maps inherit nothing (not plain objects); rebuild plain objects so deepStrictEqual compares like with like. */
function plain(v: CanonicalValue | undefined): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) return (v as readonly CanonicalValue[]).map(plain);
  const out: Record<string, unknown> = {};
  for (const [k, item] of Object.entries(v)) if (item !== undefined) out[k] = plain(item);
  return out;
}

/** What decoding the encoding of `v` must give: safe bigints become numbers, -0 becomes 0, undefined fields vanish. */
function expected(v: CanonicalValue | undefined): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (typeof v === 'number') return Object.is(v, -0) ? 0 : v;
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return plain(v);
  if (Array.isArray(v)) return (v as readonly CanonicalValue[]).map(expected);
  const out: Record<string, unknown> = {};
  for (const [k, item] of Object.entries(v)) if (item !== undefined) out[k] = expected(item);
  return out;
}

function roundTrip(v: CanonicalValue): void {
  const bytes = encodeCanonical(v);
  const back = decodeCanonical(bytes);
  assert.deepStrictEqual(plain(back), expected(v), `round trip of ${hex(bytes)}`);
  assert.equal(hex(encodeCanonical(back)), hex(bytes), 're-encoding the decoded value gives the same bytes');
}

function throwsCode(fn: () => unknown, code: ErrorCode, what: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SilkError, `${what}: expected a SilkError, got ${String(e)}`);
    assert.equal(e.code, code, `${what}: ${e.message}`);
    assert.ok(e.message.length > 0, `${what}: the error has a message`);
    return true;
  }, what);
}

const refuses = (h: string, why: string, limits?: DecodeLimits): void => {
  throwsCode(() => decodeCanonical(unhex(h), limits), 'MALFORMED', `${why} (${h})`);
};

describe('canonical CBOR: round trips', () => {
  it('round-trips integers across every head width, both signs', () => {
    for (const n of [0, 1, 23, 24, 255, 256, 65_535, 65_536, 0xffff_ffff, 0x1_0000_0000, Number.MAX_SAFE_INTEGER]) {
      roundTrip(n);
      roundTrip(-n);
      if (Number.isSafeInteger(-n - 1)) roundTrip(-n - 1);
    }
  });

  it('round-trips bigints at the safe-integer and 64-bit boundaries', () => {
    const cases: [bigint, string][] = [
      [2n ** 53n, '1b0020000000000000'],
      [2n ** 53n + 1n, '1b0020000000000001'],
      [2n ** 64n - 1n, '1bffffffffffffffff'],
      [-(2n ** 53n), '3b001fffffffffffff'],
      [-(2n ** 64n), '3bffffffffffffffff'],
    ];
    for (const [v, h] of cases) {
      assert.equal(hex(encodeCanonical(v)), h, `encoding of ${v}`);
      const back = decodeCanonical(unhex(h));
      assert.equal(typeof back, 'bigint', `${v} decodes to a bigint`);
      assert.equal(back, v);
    }
    // Safe values carried as bigints encode like numbers and decode to numbers.
    assert.equal(hex(encodeCanonical(2n ** 53n - 1n)), hex(encodeCanonical(Number.MAX_SAFE_INTEGER)));
    assert.equal(decodeCanonical(encodeCanonical(2n ** 53n - 1n)), Number.MAX_SAFE_INTEGER);
    assert.equal(decodeCanonical(encodeCanonical(-(2n ** 53n) + 1n)), Number.MIN_SAFE_INTEGER);
    assert.equal(decodeCanonical(encodeCanonical(0x1_0000_0000n)), 0x1_0000_0000);
    assert.equal(hex(encodeCanonical(5n)), '05');
  });

  it('refuses integers outside the encoding and unsafe numbers', () => {
    throwsCode(() => encodeCanonical(2n ** 64n), 'INVALID_ARGUMENT', '2^64');
    throwsCode(() => encodeCanonical(-(2n ** 64n) - 1n), 'INVALID_ARGUMENT', '-2^64-1');
    throwsCode(() => encodeCanonical(2 ** 53), 'INVALID_ARGUMENT', 'unsafe number 2^53');
    throwsCode(() => encodeCanonical(-(2 ** 53)), 'INVALID_ARGUMENT', 'unsafe number -2^53');
    throwsCode(() => encodeCanonical(1e300), 'INVALID_ARGUMENT', 'integral float beyond the safe range');
  });

  it('round-trips float64 values and refuses NaN and infinities', () => {
    for (const f of [1.1, -1.1, 0.5, -4.1, 3.141592653589793, 1e-300, Number.MIN_VALUE, -Number.MIN_VALUE, 2 ** 52 - 0.5, 123_456.789]) {
      const bytes = encodeCanonical(f);
      assert.equal(bytes.length, 9, `${f} is a float64`);
      assert.equal(bytes[0], 0xfb);
      roundTrip(f);
    }
    // Integral numbers are integers, never floats.
    assert.equal(hex(encodeCanonical(1.0)), '01');
    assert.equal(hex(encodeCanonical(-2.0)), '21');
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      throwsCode(() => encodeCanonical(bad), 'INVALID_ARGUMENT', String(bad));
    }
  });

  it('encodes -0 as the integer 0', () => {
    assert.equal(hex(encodeCanonical(-0)), '00');
    assert.ok(Object.is(decodeCanonical(encodeCanonical(-0)), 0));
    assert.equal(hex(encodeCanonical([-0, { a: -0 }])), hex(encodeCanonical([0, { a: 0 }])));
  });

  it('round-trips text, including multi-byte and astral characters and long strings', () => {
    for (const s of ['', 'a', 'IETF', '"\\', 'ü', '水', '𐅑', 'naïve café', 'x'.repeat(23), 'x'.repeat(24), 'y'.repeat(256), 'z'.repeat(70_000), '\u0000', '\u007f\u0080\u07ff\u0800\uffff']) {
      roundTrip(s);
    }
    assert.equal(hex(encodeCanonical('x'.repeat(24))).slice(0, 4), '7818');
    assert.equal(hex(encodeCanonical('z'.repeat(70_000))).slice(0, 10), '7a00011170');
  });

  it('encodes text as UTF-8 whatever mix of ASCII and other characters, short or long', () => {
    for (const s of ['abc', 'abcé', 'éabc', 'a'.repeat(22) + 'ü', 'k00042', 'ü'.repeat(12), 'a'.repeat(23), 'a'.repeat(30) + '水']) {
      const utf8 = new TextEncoder().encode(s);
      const head = utf8.length < 24 ? [0x60 | utf8.length] : [0x78, utf8.length];
      assert.equal(hex(encodeCanonical(s)), hex(new Uint8Array([...head, ...utf8])), s);
      assert.equal(hex(encodeCanonical({ [s]: 1 })), hex(new Uint8Array([0xa1, ...head, ...utf8, 1])), `${s} as a map key`);
    }
  });

  it('decodes many short texts right, in any order, even when the input buffer is reused afterwards', () => {
    // More distinct short texts than the decoder's cache of them has slots, so slots collide.
    const texts = Array.from({ length: 20_000 }, (_, i) => `k${(i * 7919) % 100_000}`.padEnd(1 + (i % 20), 'x'));
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < texts.length; i += 1 + round) {
        const t = texts[(i * 31) % texts.length] as string;
        const input = Buffer.from(encodeCanonical({ [t]: t }));
        assert.deepEqual(plain(decodeCanonical(input)), { [t]: t });
        // The caller reuses its buffer: what was decoded before must not change what decodes next.
        input.fill(0x61, 2);
      }
    }
  });

  it('round-trips byte strings, arrays, null and booleans', () => {
    for (const v of [new Uint8Array(0), new Uint8Array(24).fill(7), new Uint8Array(300).fill(255), null, true, false, [], [[]], [null, true, false, 1, 'a', new Uint8Array([1])]]) {
      roundTrip(v);
    }
    const many = Array.from({ length: 1000 }, (_, i) => i);
    roundTrip(many);
    assert.equal(hex(encodeCanonical(many)).slice(0, 6), '9903e8');
  });

  it('orders map keys by encoded length first, then bytewise, whatever the insertion order', () => {
    assert.equal(hex(encodeCanonical({ b: 1, aa: 2 })), 'a2' + '6162' + '01' + '626161' + '02');
    assert.equal(hex(encodeCanonical({ aa: 2, b: 1 })), hex(encodeCanonical({ b: 1, aa: 2 })));
    // Length is the UTF-8 length: 'é' is one UTF-16 unit but two bytes, so it sorts with 'zz', after it (0x7a < 0xc3).
    const v = { é: 1, zz: 2, b: 3, '': 4, ab: 5, aaa: 6 };
    const decoded = decodeCanonical(encodeCanonical(v)) as Record<string, CanonicalValue>;
    assert.deepEqual(Object.keys(decoded), ['', 'b', 'ab', 'zz', 'é', 'aaa']);
    assert.equal(hex(encodeCanonical({ z: 1, a: 2 })), 'a2' + '6161' + '02' + '617a' + '01');
    roundTrip({ outer: { b: [1, { y: null, x: true }], a: new Uint8Array([9]) }, list: [{ k: 'v' }] });
  });

  it('drops undefined fields', () => {
    assert.equal(hex(encodeCanonical({ a: 1, b: undefined })), hex(encodeCanonical({ a: 1 })));
    assert.equal(hex(encodeCanonical({ x: undefined })), 'a0');
    assert.deepStrictEqual(plain(decodeCanonical(encodeCanonical({ a: { b: undefined, c: 2 } }))), { a: { c: 2 } });
  });

  it('decodes maps to objects that inherit nothing and refuses a __proto__ key', () => {
    const m = decodeCanonical(unhex('a1616101')) as Record<string, unknown>;
    // Nothing from Object.prototype: no key a contract reads can come from anywhere but the input.
    for (const inherited of ['toString', 'constructor', 'hasOwnProperty', 'valueOf', '__proto__', 'isPrototypeOf']) {
      assert.equal(inherited in m, false, inherited);
      assert.equal(m[inherited], undefined, inherited);
    }
    assert.deepEqual(Object.keys(m), ['a']);
    const proto = Object.getPrototypeOf(m) as object;
    assert.equal(Object.getPrototypeOf(proto), null);
    assert.deepEqual(Reflect.ownKeys(proto), []);
    assert.ok(Object.isFrozen(proto), 'no code can add a member to every decoded map');
    refuses('a1' + '69' + Buffer.from('__proto__').toString('hex') + '01', '__proto__ key');
  });
});

describe('canonical CBOR: RFC 8949 Appendix A (supported subset)', () => {
  const vectors: [CanonicalValue, string][] = [
    [0, '00'], [1, '01'], [10, '0a'], [23, '17'], [24, '1818'], [25, '1819'], [100, '1864'], [1000, '1903e8'],
    [1_000_000, '1a000f4240'], [1_000_000_000_000, '1b000000e8d4a51000'],
    [18_446_744_073_709_551_615n, '1bffffffffffffffff'], [-18_446_744_073_709_551_616n, '3bffffffffffffffff'],
    [-1, '20'], [-10, '29'], [-100, '3863'], [-1000, '3903e7'],
    [1.1, 'fb3ff199999999999a'], [-4.1, 'fbc010666666666666'],
    [false, 'f4'], [true, 'f5'], [null, 'f6'],
    [new Uint8Array(0), '40'], [unhex('01020304'), '4401020304'],
    ['', '60'], ['a', '6161'], ['IETF', '6449455446'], ['"\\', '62225c'], ['\u00fc', '62c3bc'], ['\u6c34', '63e6b0b4'], ['\ud800\udd51', '64f0908591'],
    [[], '80'], [[1, 2, 3], '83010203'], [[1, [2, 3], [4, 5]], '8301820203820405'],
    [Array.from({ length: 25 }, (_, i) => i + 1), '98190102030405060708090a0b0c0d0e0f101112131415161718181819'],
    [{}, 'a0'], [{ a: 1, b: [2, 3] }, 'a26161016162820203'], [['a', { b: 'c' }], '826161a161626163'],
    [{ a: 'A', b: 'B', c: 'C', d: 'D', e: 'E' }, 'a56161614161626142616361436164614461656145'],
  ];
  for (const [value, h] of vectors) {
    it(h, () => {
      assert.equal(hex(encodeCanonical(value)), h);
      assert.deepStrictEqual(plain(decodeCanonical(unhex(h))), expected(value));
    });
  }
});

describe('canonical CBOR: the decoder refuses non-canonical and unsupported forms', () => {
  it('refuses integers and lengths not in their shortest form', () => {
    for (const h of ['1800', '1817', '190017', '1900ff', '1a0000ffff', '1b00000000ffffffff', '1b0000000000000000', '3800', '3817', '3900ff',
      '5800', '580140', '7800', '780161', '9800', '980101', 'b800', '590001' + '00', '7a00000001' + '61']) {
      refuses(h, 'non-shortest head');
    }
  });

  it('refuses indefinite lengths and a stray break', () => {
    for (const h of ['5fff', '5f4101ff', '7fff', '7f6161ff', '9fff', '9f01ff', 'bfff', 'bf616101ff', 'ff']) refuses(h, 'indefinite length');
  });

  it('refuses unsorted, repeated and non-text map keys', () => {
    refuses('a2' + '6162' + '01' + '6161' + '02', 'bytewise unsorted keys');
    refuses('a2' + '626161' + '01' + '6162' + '02', 'longer key before shorter');
    refuses('a2' + '6161' + '01' + '6161' + '02', 'duplicate key');
    refuses('a1' + '01' + '02', 'integer key');
    refuses('a1' + '4161' + '02', 'byte string key');
    refuses('a1' + 'f6' + '02', 'null key');
  });

  it('refuses integral, NaN and infinite float64s and every shorter float', () => {
    for (const h of ['fb3ff0000000000000', 'fb0000000000000000', 'fb8000000000000000', 'fb4340000000000000', 'fbc0f86a0000000000']) refuses(h, 'integral float64');
    for (const h of ['fb7ff8000000000000', 'fbfff8000000000000', 'fb7ff0000000000001', 'fb7ff0000000000000', 'fbfff0000000000000']) refuses(h, 'NaN or infinity');
    for (const h of ['f93c00', 'f93e00', 'f97c00', 'f97e00', 'fa3fc00000', 'fa47c35000', 'fa7f800000']) refuses(h, 'half or single float');
  });

  it('refuses invalid UTF-8', () => {
    for (const h of ['61ff', '6180', '62c328', '62c0af', '63eda080', '63e28228', '64f4908080', '64f0908591'.slice(0, 8) + '28', '61c3']) {
      refuses(h, 'invalid UTF-8');
    }
  });

  it('refuses trailing bytes and truncated input', () => {
    for (const h of ['0000', 'f6f6', '8001', 'a000', '6161' + '61']) refuses(h, 'trailing bytes');
    for (const h of ['', '18', '1901', '1a000f42', '1b000000e8d4a510', '62', '6261', '4401', '82', '8201', 'a1', 'a16161', 'fb3ff1999999', '5a', '5affffffff', '5bffffffffffffffff']) {
      refuses(h, 'truncated');
    }
  });

  it('refuses tags, undefined and other simple values', () => {
    for (const h of ['c074323031332d30332d32315432303a30343a30305a', 'c11a514b67b0', 'c249010000000000000000', 'd82076687474703a2f2f7777772e6578616d706c652e636f6d', 'd9d9f700', 'c0']) {
      refuses(h, 'tag');
    }
    for (const h of ['f7', 'e0', 'f0', 'f3', 'f818', 'f8ff', 'fc', 'fd', 'fe']) refuses(h, 'simple value or reserved');
    for (const h of ['1c', '1d', '1e', '1f', '3c', '5c', '7c', '9c', 'bc']) refuses(h, 'reserved additional information');
  });

  it('names the failing byte offset', () => {
    try {
      decodeCanonical(unhex('83010218'));
      assert.fail('should throw');
    } catch (e) {
      assert.ok(isSilkError(e, 'MALFORMED'));
      assert.match(e.message, /at byte \d+/);
      assert.equal(typeof e.details.offset, 'number');
    }
  });

  it('refuses input that is not bytes', () => {
    throwsCode(() => decodeCanonical('00' as unknown as Uint8Array), 'MALFORMED', 'a string');
    throwsCode(() => decodeCanonical([0] as unknown as Uint8Array), 'MALFORMED', 'an array');
  });
});

describe('canonical CBOR: limits', () => {
  const nested = (depth: number, inner = '00'): string => '81'.repeat(depth) + inner;
  const lim = (l: Partial<DecodeLimits>): DecodeLimits => ({ ...DEFAULT_DECODE_LIMITS, ...l });

  it('enforces the size limit with PAYLOAD_TOO_LARGE', () => {
    throwsCode(() => decodeCanonical(new Uint8Array(11), lim({ maxBytes: 10 })), 'PAYLOAD_TOO_LARGE', 'over maxBytes');
    assert.equal(decodeCanonical(unhex('4a' + '00'.repeat(10)), lim({ maxBytes: 11 })) instanceof Uint8Array, true);
    const big = new Uint8Array(DEFAULT_DECODE_LIMITS.maxBytes + 1);
    throwsCode(() => decodeCanonical(big), 'PAYLOAD_TOO_LARGE', 'over the default 8 MiB');
  });

  it('enforces the depth limit', () => {
    assert.deepStrictEqual(decodeCanonical(unhex(nested(2)), lim({ maxDepth: 2 })), [[0]]);
    refuses(nested(3), 'three levels under maxDepth 2', lim({ maxDepth: 2 }));
    refuses('a16161a16161a1616100', 'nested maps under maxDepth 2', lim({ maxDepth: 2 }));
    assert.ok(Array.isArray(decodeCanonical(unhex(nested(DEFAULT_DECODE_LIMITS.maxDepth)))));
    refuses(nested(DEFAULT_DECODE_LIMITS.maxDepth + 1), 'one level past the default depth');
    // A hostile deeply nested input fails cleanly, not with a stack overflow.
    refuses(nested(200_000), 'very deep nesting');
  });

  it('enforces the item limit on arrays and maps', () => {
    assert.deepStrictEqual(decodeCanonical(unhex('820102'), lim({ maxItems: 2 })), [1, 2]);
    refuses('83010203', 'array over maxItems', lim({ maxItems: 2 }));
    refuses('a3' + '616101' + '616202' + '616303', 'map over maxItems', lim({ maxItems: 2 }));
  });

  it('refuses a declared length longer than the input before allocating', () => {
    refuses('9b00000001000000000000', '2^32-item array header');
    refuses('bb00000001000000000000', '2^32-entry map header');
    refuses('9a7fffffff', 'huge array header on tiny input');
  });

  it('refuses to encode values nested past its own limit', () => {
    let v: CanonicalValue = 0;
    for (let i = 0; i < 100; i++) v = [v];
    throwsCode(() => encodeCanonical(v), 'INVALID_ARGUMENT', 'deep value');
  });
});

describe('canonical CBOR: one value, one encoding', () => {
  it('keeps a leading U+FEFF (byte order mark) in text: it is a character, not a signature', () => {
    // TextDecoder strips a leading BOM unless ignoreBOM is set, so 63efbbbf would decode to ''
    // whose canonical encoding is 60: two encodings of one value, and data silently lost.
    assert.equal(hex(encodeCanonical(decodeCanonical(unhex('64efbbbf61')))), '64efbbbf61', 'bytes that decode re-encode to themselves');
    assert.equal(decodeCanonical(encodeCanonical('\ufeff')), '\ufeff');
    assert.equal(decodeCanonical(encodeCanonical('\ufeffabc')), '\ufeffabc');
    const m = decodeCanonical(encodeCanonical({ '\ufeffk': 1, k: 2 })) as Record<string, CanonicalValue>;
    assert.deepEqual(Object.keys(m).sort(), ['k', '\ufeffk']);
  });

  it('refuses to encode text with lone surrogates, which would share an encoding with U+FFFD', () => {
    // TextEncoder replaces a lone surrogate with U+FFFD, so '\ud800' and '\ufffd' would hash alike.
    for (const s of ['\ud800', 'a\udc00b', '\udbff']) {
      throwsCode(() => encodeCanonical(s), 'INVALID_ARGUMENT', `lone surrogate in ${JSON.stringify(s)}`);
      throwsCode(() => encodeCanonical({ [s]: 1 }), 'INVALID_ARGUMENT', `lone surrogate in key ${JSON.stringify(s)}`);
    }
  });
});

describe('canonical CBOR: properties', () => {
  const key = fc.string({ unit: 'binary', maxLength: 8 }).filter((k) => k !== '__proto__');
  const float = fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d) || Number.isSafeInteger(d));
  const { value } = fc.letrec<{ value: CanonicalValue }>((tie) => ({
    value: fc.oneof(
      { maxDepth: 4, depthIdentifier: 'cbor' },
      fc.constant(null),
      fc.boolean(),
      fc.maxSafeInteger(),
      fc.integer(),
      fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
      float,
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.array(tie('value'), { maxLength: 5, depthIdentifier: 'cbor' }),
      fc.dictionary(key, tie('value'), { maxKeys: 5, depthIdentifier: 'cbor' }),
    ),
  }));

  it('decode(encode(x)) equals x for arbitrary supported values', () => {
    fc.assert(
      fc.property(value, (v) => {
        roundTrip(v);
      }),
      { numRuns: 2000 },
    );
  });

  const checkBytes = (b: Uint8Array): void => {
    let v: CanonicalValue;
    try {
      v = decodeCanonical(b);
    } catch (e) {
      assert.ok(isSilkError(e, 'MALFORMED'), `decoding ${hex(b)} failed with ${String(e)}`);
      return;
    }
    assert.equal(hex(encodeCanonical(v)), hex(b), 'a decodable input is the canonical encoding of its value');
  };

  it('encode(decode(b)) === b whenever decode(b) succeeds, for random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 48 }), checkBytes), { numRuns: 20_000 });
  });

  it('encode(decode(b)) === b whenever decode(b) succeeds, for mutated canonical encodings', () => {
    const mutation = fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), kind: fc.constantFrom('set', 'insert', 'delete', 'truncate', 'append') });
    fc.assert(
      fc.property(value, fc.array(mutation, { minLength: 1, maxLength: 3 }), (v, muts) => {
        let b = Array.from(encodeCanonical(v));
        for (const m of muts) {
          const i = b.length === 0 ? 0 : m.at % b.length;
          if (m.kind === 'set') b[i] = m.byte;
          else if (m.kind === 'insert') b.splice(i, 0, m.byte);
          else if (m.kind === 'delete') b.splice(i, 1);
          else if (m.kind === 'truncate') b = b.slice(0, i);
          else b.push(m.byte);
        }
        checkBytes(Uint8Array.from(b));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('canonical CBOR: the cursor', () => {
  /** Whether the cursor skips `bytes` as one whole value. */
  const skips = (bytes: Uint8Array, limits?: DecodeLimits): boolean => {
    try {
      const c = new CanonicalCursor(bytes, limits);
      c.pass();
      c.end();
      return true;
    } catch (e) {
      assert.ok(isSilkError(e) && (e.code === 'MALFORMED' || e.code === 'PAYLOAD_TOO_LARGE'), String(e));
      return false;
    }
  };
  /** Whether decodeCanonical reads it, and why not. */
  const decodes = (bytes: Uint8Array, limits?: DecodeLimits): { ok: boolean; utf8: boolean } => {
    try {
      decodeCanonical(bytes, limits);
      return { ok: true, utf8: false };
    } catch (e) {
      return { ok: false, utf8: /invalid UTF-8/.test((e as Error).message) };
    }
  };

  it('skips exactly what the decoder reads (text is not checked to be UTF-8): random bytes, and canonical values cut, flipped and extended', () => {
    const agree = (b: Uint8Array, limits?: DecodeLimits): void => {
      const d = decodes(b, limits);
      if (d.utf8) return;
      assert.equal(skips(b, limits), d.ok, hex(b));
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => { agree(b); }), { numRuns: 5000 });
    const value: fc.Arbitrary<CanonicalValue> = fc.letrec<{ v: CanonicalValue }>((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string({ maxLength: 30 }), fc.uint8Array({ maxLength: 30 }), fc.constantFrom(null, true, false, 1.5, 2n ** 60n, -(2n ** 60n)), fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 6 }).filter((k) => k !== '__proto__'), tie('v'), { maxKeys: 4 })),
    })).v;
    fc.assert(fc.property(value, fc.nat(), fc.integer({ min: 1, max: 255 }), (v, at, mask) => {
      const bytes = encodeCanonical(v);
      assert.equal(skips(bytes), true);
      const flipped = bytes.slice();
      flipped[at % bytes.length] = (flipped[at % bytes.length] as number) ^ mask;
      agree(flipped);
      agree(bytes.subarray(0, at % bytes.length));
      agree(Uint8Array.from([...bytes, 0]));
      agree(bytes, { maxBytes: 1 << 20, maxDepth: 2, maxItems: 3 });
    }), { numRuns: 3000 });
  });

  it('reads the fields asked for and skips the others, in canonical key order', () => {
    const bytes = encodeCanonical({ id: 'a1', big: { deep: [1, 2, { x: new Uint8Array(3) }] }, gone: null });
    const c = new CanonicalCursor(bytes);
    const seen: string[] = [];
    let id: CanonicalValue = null;
    let gone = false;
    c.map((key) => {
      seen.push(key);
      if (key === 'id') id = c.value();
      else if (key === 'gone') gone = c.null();
      else c.pass();
    });
    c.end();
    assert.deepEqual(seen, ['id', 'big', 'gone']);
    assert.equal(id, 'a1');
    assert.equal(gone, true);
    const texts = new CanonicalCursor(encodeCanonical(['event:ab', 'ev', 'index:x', 7, 'é-prefixed']));
    const enc = (t: string): Uint8Array => new TextEncoder().encode(t);
    const picked: string[] = [];
    texts.array(() => {
      if (texts.startsWith(enc('ev'))) picked.push(texts.value() as string);
      else if (texts.startsWith(enc('é'))) picked.push(`é:${texts.value() as string}`);
      else texts.pass();
    });
    texts.end();
    assert.deepEqual(picked, ['event:ab', 'ev', 'é:é-prefixed']);
    const items: number[] = [];
    const list = new CanonicalCursor(encodeCanonical([7, 'x', [1]]));
    assert.equal(list.array((i) => { items.push(i); list.pass(); }), 3);
    assert.deepEqual(items, [0, 1, 2]);
    throwsCode(() => { new CanonicalCursor(encodeCanonical([1])).map(() => undefined); }, 'MALFORMED', 'an array is not a map');
    throwsCode(() => { const x = new CanonicalCursor(unhex('a2 6162 02 6161 01')); x.map(() => { x.pass(); }); }, 'MALFORMED', 'keys out of order');
    throwsCode(() => { const x = new CanonicalCursor(unhex('a1 6178 01 00')); x.map(() => { x.pass(); }); x.end(); }, 'MALFORMED', 'trailing bytes');
  });
});
