/**
 * The wire form of a batch of signature checks sent to a verify worker: one buffer, transferred
 * rather than cloned, holding for each check `u8 keyLen ‖ key ‖ u8 sigLen ‖ sig ‖ u32 msgLen ‖ msg`.
 */

/** One signature to check. */
export interface SignatureCheck {
  readonly key: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * Packs checks into one buffer.
 * @throws RangeError when a key or signature is longer than 255 bytes
 */
export function packSignatureChecks(checks: readonly SignatureCheck[]): Uint8Array {
  let size = 0;
  for (const c of checks) {
    if (c.key.length > 255 || c.signature.length > 255) throw new RangeError('keys and signatures are at most 255 bytes');
    size += 1 + c.key.length + 1 + c.signature.length + 4 + c.message.length;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const c of checks) {
    out[at++] = c.key.length;
    out.set(c.key, at);
    at += c.key.length;
    out[at++] = c.signature.length;
    out.set(c.signature, at);
    at += c.signature.length;
    view.setUint32(at, c.message.length);
    at += 4;
    out.set(c.message, at);
    at += c.message.length;
  }
  return out;
}

/** Unpacks a buffer made by {@link packSignatureChecks} into views over it (no copies). */
export function unpackSignatureChecks(buf: Uint8Array): SignatureCheck[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: SignatureCheck[] = [];
  let at = 0;
  while (at < buf.length) {
    const keyLen = buf[at++] as number;
    const key = buf.subarray(at, at + keyLen);
    at += keyLen;
    const sigLen = buf[at++] as number;
    const signature = buf.subarray(at, at + sigLen);
    at += sigLen;
    const msgLen = view.getUint32(at);
    at += 4;
    const message = buf.subarray(at, at + msgLen);
    at += msgLen;
    out.push({ key, message, signature });
  }
  return out;
}
