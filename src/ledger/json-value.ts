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
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new SilkError('MALFORMED', `${path}: numbers must be finite`, { path });
    return v;
  }
  if (Array.isArray(v)) {
    (v as readonly CanonicalValue[]).forEach((item, i) => asJsonValue(item, `${path}[${i}]`));
    return v as JsonValue;
  }
  if (typeof v === 'object' && !(v instanceof Uint8Array)) {
    for (const [k, item] of Object.entries(v)) asJsonValue(item, `${path}.${k}`);
    return v as JsonValue;
  }
  throw new SilkError('MALFORMED', `${path}: expected a JSON value`, { path });
}
