/**
 * Identity certificates: a member or device key of an org, with its function, authority level,
 * derivation path and validity window, signed by its parent key (the org admin's key in the
 * chain configuration, or a registered key of the same org). One canonical CBOR encoding
 * (src/codec/canonical-cbor.ts), versioned, unknown fields refused; the parent signs
 * `CERTIFICATE_SIGNING_DOMAIN ‖ bytes` (low-S IEEE P1363), so a certificate signature can never
 * be replayed as a proposal, endorsement or block signature.
 */
import { decodeCanonical, encodeCanonical } from '../codec/canonical-cbor.js';
import { onlyFields, readBytes, readMap, readString, readUint, readVersion } from '../codec/shape.js';
import { bytesEqual, fromHex } from '../crypto/hash.js';
import { verifyP256, type Signer } from '../crypto/p256.js';
import { SilkError } from '../errors.js';

/** Format version of certificates this build writes and reads. */
export const CERTIFICATE_FORMAT_VERSION = 1;
/** Largest encoded certificate accepted. */
export const MAX_CERTIFICATE_BYTES = 1024;
/** Highest authority level (an org admin's). */
export const MAX_LEVEL = 9;
/** Prefix of the bytes a parent signs: domain separation from every other signature in the system. */
export const CERTIFICATE_SIGNING_DOMAIN = new TextEncoder().encode('silkledger identity certificate v1\u0000');

const CHAIN = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;
const FUNCTION = /^[a-z][a-z0-9_-]{0,31}$/;
/** Hardened-only derivation paths (every derivation below the master is hardened). */
const PATH = /^m(\/[0-9]{1,10}')+$/;
const HARDENED_LIMIT = 2 ** 31;
const KINDS: ReadonlySet<string> = new Set(['member', 'device']);
const FIELDS = ['v', 'chain', 'org', 'key', 'parent', 'function', 'level', 'path', 'kind', 'notBefore', 'notAfter'] as const;

/** What a registered key is: a person's key or a device's. */
export type IdentityKind = 'member' | 'device';

/** A decoded identity certificate. */
export interface IdentityCertificate {
  readonly v: number;
  readonly chain: string;
  readonly org: string;
  /** 33-byte compressed P-256 key being certified. */
  readonly key: Uint8Array;
  /** 33-byte compressed P-256 key that signs this certificate. */
  readonly parent: Uint8Array;
  /** A function name from the chain's function registry (e.g. `finance`). */
  readonly function: string;
  /** Authority level 1..9; higher means more authority; never above the parent's. */
  readonly level: number;
  /** Derivation path, hardened only, e.g. `m/7777'/0'/2'/3'/0'`. */
  readonly path: string;
  readonly kind: IdentityKind;
  /** First millisecond (Unix epoch) the key is valid, judged against block timestamps. */
  readonly notBefore: number;
  /** Last millisecond the key is valid. */
  readonly notAfter: number;
}

/** A certificate's exact bytes and its parent's signature over them. */
export interface SignedCertificate {
  readonly bytes: Uint8Array;
  readonly signature: Uint8Array;
}

function fail(path: string, message: string): never {
  throw new SilkError('MALFORMED', `certificate.${path}: ${message}`, { path: `certificate.${path}` });
}

function checkKey(k: Uint8Array, path: string): void {
  if (k.length !== 33 || (k[0] !== 2 && k[0] !== 3)) fail(path, 'expected a 33-byte compressed P-256 key');
}

/** Checks every field's range and the relations between them. @throws SilkError MALFORMED */
function checkCertificate(c: IdentityCertificate): IdentityCertificate {
  if (c.v !== CERTIFICATE_FORMAT_VERSION) fail('v', `format version ${c.v} is not supported`);
  if (!CHAIN.test(c.chain)) fail('chain', 'expected a chain name');
  if (!CHAIN.test(c.org)) fail('org', 'expected an org name');
  checkKey(c.key, 'key');
  checkKey(c.parent, 'parent');
  if (bytesEqual(c.key, c.parent)) fail('parent', 'a key cannot certify itself');
  if (!FUNCTION.test(c.function)) fail('function', 'expected a function name ([a-z][a-z0-9_-]{0,31})');
  if (!Number.isSafeInteger(c.level) || c.level < 1 || c.level > MAX_LEVEL) fail('level', `expected an integer in 1..${MAX_LEVEL}`);
  if (c.path.length > 128 || !PATH.test(c.path) || c.path.slice(2).split('/').some((s) => Number(s.slice(0, -1)) >= HARDENED_LIMIT)) {
    fail('path', "expected a hardened derivation path such as m/7777'/0'/2'/3'/0'");
  }
  if (!KINDS.has(c.kind)) fail('kind', "expected 'member' or 'device'");
  if (!Number.isSafeInteger(c.notBefore) || c.notBefore < 0) fail('notBefore', 'expected a non-negative integer (ms)');
  if (!Number.isSafeInteger(c.notAfter) || c.notAfter < c.notBefore) fail('notAfter', 'expected an integer (ms) not before notBefore');
  return c;
}

/**
 * Encodes a certificate canonically after checking it.
 * @param certificate the certificate
 * @returns its one canonical encoding
 * @throws SilkError MALFORMED naming the bad field
 * @example const bytes = encodeCertificate({ v: 1, chain: 'trade', org: 'Org1', key, parent: admin.publicKey, function: 'finance', level: 3, path: "m/7777'/0'/2'/3'/0'", kind: 'member', notBefore: 0, notAfter: 2e12 })
 */
export function encodeCertificate(certificate: IdentityCertificate): Uint8Array {
  const c = checkCertificate(certificate);
  return encodeCanonical({ v: c.v, chain: c.chain, org: c.org, key: c.key, parent: c.parent, function: c.function, level: c.level, path: c.path, kind: c.kind, notBefore: c.notBefore, notAfter: c.notAfter });
}

/**
 * Decodes and checks a certificate's bytes (canonical input only, no unknown fields).
 * @throws SilkError MALFORMED naming the failing field
 * @example const cert = decodeCertificate(bytes)
 */
export function decodeCertificate(bytes: Uint8Array): IdentityCertificate {
  if (bytes.length > MAX_CERTIFICATE_BYTES) fail('', `longer than ${MAX_CERTIFICATE_BYTES} bytes`);
  const m = readMap(decodeCanonical(bytes, { maxBytes: MAX_CERTIFICATE_BYTES, maxDepth: 2, maxItems: 16 }), 'certificate');
  onlyFields(m, 'certificate', FIELDS);
  const kind = readString(m.kind, 'certificate.kind', 16);
  return checkCertificate({
    v: readVersion(m.v, 'certificate.v', CERTIFICATE_FORMAT_VERSION),
    chain: readString(m.chain, 'certificate.chain', 64, 1),
    org: readString(m.org, 'certificate.org', 64, 1),
    key: readBytes(m.key, 'certificate.key', 33),
    parent: readBytes(m.parent, 'certificate.parent', 33),
    function: readString(m.function, 'certificate.function', 32, 1),
    level: readUint(m.level, 'certificate.level', MAX_LEVEL, 1),
    path: readString(m.path, 'certificate.path', 128, 3),
    kind: kind as IdentityKind,
    notBefore: readUint(m.notBefore, 'certificate.notBefore'),
    notAfter: readUint(m.notAfter, 'certificate.notAfter'),
  });
}

function signingInput(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(CERTIFICATE_SIGNING_DOMAIN.length + bytes.length);
  out.set(CERTIFICATE_SIGNING_DOMAIN);
  out.set(bytes, CERTIFICATE_SIGNING_DOMAIN.length);
  return out;
}

/**
 * Encodes a certificate and signs it with the parent's key.
 * @throws SilkError INVALID_ARGUMENT when the signer is not the certificate's parent; MALFORMED for a bad field
 * @example const { bytes, signature } = signCertificate(cert, adminSigner)
 */
export function signCertificate(certificate: IdentityCertificate, parent: Signer): SignedCertificate {
  if (!bytesEqual(parent.publicKey, certificate.parent)) throw new SilkError('INVALID_ARGUMENT', "the signer is not the certificate's parent key");
  const bytes = encodeCertificate(certificate);
  return { bytes, signature: parent.sign(signingInput(bytes)) };
}

/**
 * True when `signature` is the certificate parent's signature over `bytes`. Deterministic (no
 * clock, no randomness), so contracts may call it.
 * @param certificate the certificate decoded from `bytes`
 */
export function verifyCertificateSignature(certificate: IdentityCertificate, bytes: Uint8Array, signature: Uint8Array): boolean {
  return verifyP256(certificate.parent, signingInput(bytes), signature);
}

/**
 * True when the certificate is valid at `timestamp` (ms, the orderer's block timestamp).
 * @example isWithinValidity(cert, block.header.timestamp)
 */
export function isWithinValidity(certificate: Pick<IdentityCertificate, 'notBefore' | 'notAfter'>, timestamp: number): boolean {
  return timestamp >= certificate.notBefore && timestamp <= certificate.notAfter;
}

const HEX = /^(?:[0-9a-f]{2})*$/;

/**
 * Decodes a certificate and its signature given as lowercase hex (as the identity contract
 * receives them) and checks the parent's signature.
 * @returns the certificate, or a reason it is refused
 * @example const r = openSignedCertificate(args.certificate, args.signature); if ('problem' in r) refuse(r.problem)
 */
export function openSignedCertificate(certificateHex: string, signatureHex: string): { readonly certificate: IdentityCertificate } | { readonly problem: string } {
  if (!HEX.test(certificateHex) || certificateHex.length > 2 * MAX_CERTIFICATE_BYTES) return { problem: 'the certificate is not lowercase hex of at most 1024 bytes' };
  if (!HEX.test(signatureHex) || signatureHex.length !== 128) return { problem: 'the signature is not 64 bytes of lowercase hex (IEEE P1363)' };
  const bytes = fromHex(certificateHex);
  let certificate: IdentityCertificate;
  try {
    certificate = decodeCertificate(bytes);
  } catch (e) {
    return { problem: (e as Error).message };
  }
  if (!verifyCertificateSignature(certificate, bytes, fromHex(signatureHex))) return { problem: "the certificate's signature does not verify with its parent key" };
  return { certificate };
}
