import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { acceptsGzip, COMPRESS_MIN_BYTES, gzipped } from './compression.js';

describe('compression', () => {
  it('reads Accept-Encoding as HTTP defines it: names, qualities and the wildcard', () => {
    const cases: [string | string[] | undefined, boolean][] = [
      [undefined, false],
      ['', false],
      ['gzip', true],
      ['GZIP', true],
      ['deflate, gzip;q=1.0, *;q=0.5', true],
      ['gzip, deflate, br, zstd', true],
      ['x-gzip', true],
      ['identity', false],
      ['br', false],
      ['*', true],
      ['gzip;q=0', false],
      ['gzip; q=0, *', false],
      ['*;q=0', false],
      [['br', 'gzip'], true],
    ];
    for (const [header, expected] of cases) assert.equal(acceptsGzip(header), expected, JSON.stringify(header));
  });

  it('compresses a body from its threshold on, and never hands back something larger', () => {
    const text = Buffer.from('{"event":"shipping"},'.repeat(200));
    const packed = gzipped(text);
    assert.ok(packed !== undefined && packed.length < text.length / 5);
    assert.deepEqual(gunzipSync(packed), text);
    assert.equal(gzipped(Buffer.from('x'.repeat(COMPRESS_MIN_BYTES - 1))), undefined);
    const noise = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24));
    const random = gzipped(noise);
    assert.ok(random === undefined || random.length < noise.length);
  });
});
