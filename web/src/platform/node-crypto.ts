/**
 * The two node:crypto functions the ledger modules the browser runs import (the web build maps
 * `node:crypto` here): equality of byte strings in time independent of their content, and
 * random bytes from the browser's own generator.
 */

/** True when `a` and `b` are equal; the time does not depend on where they differ. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) throw new RangeError('timingSafeEqual needs inputs of one length');
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** Fills `buffer` with random bytes. */
export function randomFillSync<T extends Uint8Array>(buffer: T): T {
  // getRandomValues fills at most 65,536 bytes a call.
  for (let at = 0; at < buffer.length; at += 65_536) crypto.getRandomValues(buffer.subarray(at, Math.min(buffer.length, at + 65_536)) as Uint8Array<ArrayBuffer>);
  return buffer;
}
