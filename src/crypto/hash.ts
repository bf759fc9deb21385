/** SHA-256 helpers over node:crypto. */
import { createHash, hash } from 'node:crypto';

/**
 * SHA-256 of the concatenation of `parts`.
 * @param parts byte strings hashed in order
 * @returns the 32-byte digest
 * @example sha256(new TextEncoder().encode('abc'))
 */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  // One part (most calls): the one-shot digest, without a Hash object per call.
  if (parts.length === 1) return digestBytes(hash('sha256', parts[0] as Uint8Array, 'buffer'));
  // Several small parts (tx ids, Merkle leaves and nodes): copied into one scratch buffer and
  // hashed one-shot, which costs less than a Hash object.
  let size = 0;
  for (const p of parts) size += p.length;
  if (size <= concatScratch.length) {
    let at = 0;
    for (const p of parts) {
      concatScratch.set(p, at);
      at += p.length;
    }
    return digestBytes(hash('sha256', concatScratch.subarray(0, size), 'buffer'));
  }
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/**
 * The digest as a plain Uint8Array over the Buffer's own memory: a one-shot digest comes back in a
 * fresh 32-byte ArrayBuffer of its own (never a slice of Node's shared pool), so no copy is needed.
 */
function digestBytes(b: Buffer): Uint8Array {
  return b.byteOffset === 0 && b.buffer.byteLength === b.length ? new Uint8Array(b.buffer) : new Uint8Array(b);
}

/** Scratch space of {@link sha256} for parts hashed together (hashing never re-enters itself). */
const concatScratch = new Uint8Array(4096);

/**
 * SHA-256 of a text's UTF-8 bytes, as lower-case hex (one-shot, no intermediate buffer).
 * @example sha256HexOfText('abc') // 'ba7816bf…'
 */
export function sha256HexOfText(text: string): string {
  return hash('sha256', text, 'hex');
}

/** Lower-case hex of bytes. */
export function toHex(b: Uint8Array): string {
  return hexSlice.call(b, 0, b.length);
}

/** Buffer's hex writer, called on any Uint8Array: no Buffer object per call. */
const hexSlice = (Buffer.prototype as unknown as { hexSlice: (this: Uint8Array, start: number, end: number) => string }).hexSlice;

/**
 * Bytes from lower- or upper-case hex.
 * @throws TypeError when `hex` is not an even-length hex string
 */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new TypeError('expected an even-length hex string');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** Constant-time-insensitive equality of two byte strings (for public data only). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
