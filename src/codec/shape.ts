/**
 * Typed readers over decoded canonical values: each checks one field's type and range and
 * names the path when it fails, so every decoder reports exactly what was wrong.
 */
import { SilkError } from '../errors.js';
import type { CanonicalValue } from './canonical-cbor.js';

/** A decoded map, read field by field. */
export type CanonicalMap = { readonly [key: string]: CanonicalValue | undefined };

function fail(path: string, expected: string): never {
  throw new SilkError('MALFORMED', `${path}: expected ${expected}`, { path });
}

/** Reads a map (and nothing else) at `path`. @throws SilkError MALFORMED */
export function readMap(v: CanonicalValue | undefined, path: string): CanonicalMap {
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array || Array.isArray(v)) fail(path, 'a map');
  return v as CanonicalMap;
}

/** Reads an array of at most `max` items at `path`. @throws SilkError MALFORMED */
export function readArray(v: CanonicalValue | undefined, path: string, max = 1_000_000): readonly CanonicalValue[] {
  if (!Array.isArray(v)) fail(path, 'an array');
  const arr = v as readonly CanonicalValue[];
  if (arr.length > max) fail(path, `at most ${max} items`);
  return arr;
}

/** Reads a text string of 0..`max` UTF-16 units at `path`. @throws SilkError MALFORMED */
export function readString(v: CanonicalValue | undefined, path: string, max = 65_536, min = 0): string {
  if (typeof v !== 'string') fail(path, 'a string');
  if (v.length > max || v.length < min) fail(path, `a string of ${min}..${max} characters`);
  return v;
}

/** Reads bytes, of exactly `len` bytes when given. @throws SilkError MALFORMED */
export function readBytes(v: CanonicalValue | undefined, path: string, len?: number, max = 16 * 1024 * 1024): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(path, 'bytes');
  if (len !== undefined && v.length !== len) fail(path, `${len} bytes`);
  if (v.length > max) fail(path, `at most ${max} bytes`);
  return v;
}

/** Reads a safe non-negative integer in [min, max]. @throws SilkError MALFORMED */
export function readUint(v: CanonicalValue | undefined, path: string, max = Number.MAX_SAFE_INTEGER, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) fail(path, `an integer in ${min}..${max}`);
  return v;
}

/** Reads a version field and checks it is one this build understands. @throws SilkError MALFORMED */
export function readVersion(v: CanonicalValue | undefined, path: string, supported: number): number {
  const n = readUint(v, path, 1000);
  if (n !== supported) throw new SilkError('MALFORMED', `${path}: format version ${n} is not supported (expected ${supported})`, { path });
  return n;
}

/** Refuses maps that carry fields outside `allowed`, so unknown data cannot ride along signed. */
export function onlyFields(m: CanonicalMap, path: string, allowed: readonly string[]): void {
  for (const k in m) {
    if (!allowed.includes(k)) throw new SilkError('MALFORMED', `${path}: unknown field '${k}'`, { path: `${path}.${k}` });
  }
}
