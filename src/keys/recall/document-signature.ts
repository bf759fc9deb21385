/**
 * Signatures over the documents of recall and guardian recovery (records, set-ups, requests):
 * a domain-separated canonical CBOR encoding signed with P-256 (low-S IEEE P1363 over SHA-256),
 * verified with the one verifier of src/crypto/p256.ts.
 */
import { encodeCanonical, type CanonicalValue } from '../../codec/canonical-cbor.js';
import { fromHex, toHex } from '../../crypto/hash.js';
import { isCanonicalSignature, verifyP256 } from '../../crypto/p256.js';
import { SilkError } from '../../errors.js';

/** Signs with a P-256 key: the synchronous `Signer` of crypto/p256.ts and an `AsyncSigner` both fit. */
export interface DocumentSigner {
  /** 33-byte compressed public key. */
  readonly publicKey: Uint8Array;
  /** A 64-byte low-S P1363 signature over SHA-256 of `message`. */
  sign(message: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/** The bytes signed for a document: canonical CBOR of `{d: domain, doc}`. */
export function documentBytes(domain: string, doc: CanonicalValue): Uint8Array {
  return encodeCanonical({ d: domain, doc });
}

/**
 * Signs a document.
 * @returns the signature as hex
 * @throws SilkError BAD_SIGNATURE when the signer returns a non-canonical or wrong signature
 */
export async function signDocument(signer: DocumentSigner, domain: string, doc: CanonicalValue): Promise<string> {
  const bytes = documentBytes(domain, doc);
  const signature = await Promise.resolve(signer.sign(bytes));
  if (!isCanonicalSignature(signature) || !verifyP256(signer.publicKey, bytes, signature)) {
    throw new SilkError('BAD_SIGNATURE', 'the signer returned a signature that does not verify as low-S P1363 under its own key');
  }
  return toHex(signature);
}

/** True when `signatureHex` is a valid signature by `publicKeyHex` over the document. Never throws. */
export function verifyDocument(publicKeyHex: string, domain: string, doc: CanonicalValue, signatureHex: string): boolean {
  try {
    return verifyP256(fromHex(publicKeyHex), documentBytes(domain, doc), fromHex(signatureHex));
  } catch {
    return false;
  }
}
