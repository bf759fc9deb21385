import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { bytesEqual, fromHex, sha256, toHex } from './hash.js';

const reference = (parts: Uint8Array[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

test('sha256 of one part matches the published vector for "abc"', () => {
  assert.equal(toHex(sha256(new TextEncoder().encode('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('sha256 of several parts is the digest of their concatenation, below, at and above the scratch size', () => {
  for (const sizes of [[0, 0], [1, 24, 33], [2048, 2048], [4095, 1], [4096, 1], [1, 5000, 3], [32, 32, 32, 32]]) {
    const parts = sizes.map((n, i) => Uint8Array.from({ length: n }, (_, j) => (j * 31 + i * 7) & 0xff));
    assert.equal(toHex(sha256(...parts)), reference(parts), `parts of ${sizes.join('+')} bytes`);
  }
});

test('digests of several parts stay independent of later calls (the scratch space is reused)', () => {
  const first = sha256(new Uint8Array([1]), new Uint8Array([2, 3]));
  const copy = first.slice();
  sha256(new Uint8Array([9]), new Uint8Array(100).fill(7));
  assert.ok(bytesEqual(first, copy));
  assert.equal(toHex(first), reference([new Uint8Array([1, 2, 3])]));
  assert.deepEqual(fromHex(toHex(first)), first);
});

test('a digest is a plain 32-byte Uint8Array of its own, and hex reads only a view\'s own bytes', () => {
  const d = sha256(new TextEncoder().encode('abc'));
  assert.equal(Object.getPrototypeOf(d), Uint8Array.prototype, 'not a Buffer: slice() copies, as callers expect of a Uint8Array');
  assert.equal(d.length, 32);
  assert.equal(d.buffer.byteLength, 32, 'no shared pool behind it');
  const other = sha256(new TextEncoder().encode('abd'));
  assert.notEqual(d.buffer, other.buffer);
  const backing = Uint8Array.from({ length: 16 }, (_, i) => i);
  assert.equal(toHex(backing.subarray(3, 7)), '03040506');
  assert.equal(toHex(new Uint8Array(0)), '');
});
