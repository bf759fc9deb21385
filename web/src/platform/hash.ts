/**
 * The browser's twin of src/crypto/hash.ts (SHA-256 and hex over node:crypto and Buffer): the
 * same functions over @noble/hashes and plain arrays. The web build puts it in place of that
 * module (web/vite.config.ts), so the ledger's own receipt checks run in the browser unchanged.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/** SHA-256 of the concatenation of `parts`. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = nobleSha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
}

/** SHA-256 of a text's UTF-8 bytes, as lower-case hex. */
export function sha256HexOfText(text: string): string {
  return toHex(nobleSha256(new TextEncoder().encode(text)));
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex of bytes. */
export function toHex(b: Uint8Array): string {
  let out = '';
  for (const x of b) out += HEX[x] as string;
  return out;
}

/**
 * Bytes from lower- or upper-case hex.
 * @throws TypeError when `hex` is not an even-length hex string
 */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new TypeError('expected an even-length hex string');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Equality of two byte strings (public data only). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
