/**
 * The browser's twin of src/crypto/p256.ts for what a browser needs: verifying the low-S IEEE
 * P1363 P-256 signatures of receipts, over @noble/curves (the web build puts it in place of
 * that module; browsers sign nothing here). Same contract: false, never a throw, for a wrong
 * signature, a DER or high-S encoding, or a bad key.
 *
 * Results are remembered by (key, SHA-256 of the message, signature): the receipts of one block
 * carry the same orderer-signed header and the same peer statement, so a provenance answer
 * citing many transactions of few blocks costs two verifications a block, not two a receipt.
 * A verification is a pure function of those three, so a remembered answer is the answer.
 */
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from './hash.js';

/** Results kept; past it the memory starts again (a page checks a few hundred blocks at most). */
const REMEMBERED = 4096;
const results = new Map<string, boolean>();

/**
 * Verifies a low-S P1363 signature over SHA-256 of `message`.
 * @param publicKey 33-byte compressed P-256 key
 * @param message the signed bytes
 * @param signature 64-byte P1363 signature
 */
export function verifyP256(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  const digest = sha256(message);
  const key = `${toHex(publicKey)}:${toHex(digest)}:${toHex(signature)}`;
  const known = results.get(key);
  if (known !== undefined) return known;
  let ok: boolean;
  try {
    ok = p256.verify(signature, digest, publicKey, { prehash: false, lowS: true, format: 'compact' });
  } catch {
    ok = false;
  }
  if (results.size >= REMEMBERED) results.clear();
  results.set(key, ok);
  return ok;
}
