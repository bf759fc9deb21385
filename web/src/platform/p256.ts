/**
 * The browser's twin of src/crypto/p256.ts for what a browser needs: verifying the low-S IEEE
 * P1363 P-256 signatures of receipts, over @noble/curves (the web build puts it in place of
 * that module; browsers sign nothing here). Same contract: false, never a throw, for a wrong
 * signature, a DER or high-S encoding, or a bad key.
 */
import { p256 } from '@noble/curves/nist.js';

/**
 * Verifies a low-S P1363 signature over SHA-256 of `message`.
 * @param publicKey 33-byte compressed P-256 key
 * @param message the signed bytes
 * @param signature 64-byte P1363 signature
 */
export function verifyP256(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return p256.verify(signature, message, publicKey, { prehash: true, lowS: true, format: 'compact' });
  } catch {
    return false;
  }
}
