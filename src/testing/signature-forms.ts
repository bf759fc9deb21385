/** Other encodings of a valid P1363 signature, for tests that check verifiers refuse them. */
import { fromHex, toHex } from '../crypto/hash.js';
import { P256_N } from '../crypto/p256.js';

/** The same signature with s replaced by n − s: valid under plain ECDSA, refused as high-S. */
export function highS(signature: Uint8Array): Uint8Array {
  const s = BigInt(`0x${toHex(signature.subarray(32))}`);
  const out = signature.slice();
  out.set(fromHex((P256_N - s).toString(16).padStart(64, '0')), 32);
  return out;
}

function derInteger(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0 && ((bytes[i + 1] ?? 0) & 0x80) === 0) i++;
  let v = Buffer.from(bytes.subarray(i));
  if (((v[0] ?? 0) & 0x80) !== 0) v = Buffer.concat([Buffer.from([0]), v]);
  return Buffer.concat([Buffer.from([0x02, v.length]), v]);
}

/** The same signature in ASN.1 DER (what OpenSSL produces by default). */
export function toDer(signature: Uint8Array): Uint8Array {
  const body = Buffer.concat([derInteger(signature.subarray(0, 32)), derInteger(signature.subarray(32))]);
  return new Uint8Array(Buffer.concat([Buffer.from([0x30, body.length]), body]));
}
