/** JSON values as they travel in proposals, state and events. */
import { SilkError } from '../errors.js';
import type { CanonicalValue } from '../codec/canonical-cbor.js';

/** A JSON value (no bigint, bytes or undefined). */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * Checks that a decoded canonical value is plain JSON and returns it typed.
 * @throws SilkError MALFORMED naming the path of the first non-JSON part
 */
export function asJsonValue(v: CanonicalValue | undefined, path: string): JsonValue {
  // The common case, checked without building a path per member; the path is built only to
  // name what failed.
  if (isJson(v, 0)) return v as JsonValue;
  return asJsonValueNamingFailure(v, path);
}

/** Deeper than this, the checker below hands over to the path-building one (no deep recursion twice). */
const FAST_CHECK_DEPTH = 256;

function isJson(v: CanonicalValue | undefined, depth: number): boolean {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (depth > FAST_CHECK_DEPTH || typeof v !== 'object' || v instanceof Uint8Array) return false;
  if (Array.isArray(v)) {
    for (const item of v as readonly CanonicalValue[]) if (!isJson(item, depth + 1)) return false;
    return true;
  }
  const m = v as { readonly [key: string]: CanonicalValue };
  for (const k in m) if (!isJson(m[k], depth + 1)) return false;
  return true;
}

function asJsonValueNamingFailure(v: CanonicalValue | undefined, path: string): JsonValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new SilkError('MALFORMED', `${path}: numbers must be finite`, { path });
    return v;
  }
  if (Array.isArray(v)) {
    (v as readonly CanonicalValue[]).forEach((item, i) => asJsonValueNamingFailure(item, `${path}[${i}]`));
    return v as JsonValue;
  }
  if (typeof v === 'object' && !(v instanceof Uint8Array)) {
    for (const [k, item] of Object.entries(v)) asJsonValueNamingFailure(item, `${path}.${k}`);
    return v as JsonValue;
  }
  throw new SilkError('MALFORMED', `${path}: expected a JSON value`, { path });
}
