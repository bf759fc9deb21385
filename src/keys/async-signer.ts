/**
 * Asynchronous signers: keys that may live in memory, in a keystore file, or later in a
 * hardware token or a remote KMS, behind one interface. The synchronous `Signer` of
 * `crypto/p256.ts` stays the one used on hot paths (peers, orderers, the bench); clients and
 * the CLI sign through an {@link AsyncSigner}.
 *
 * Every signature an AsyncSigner returns is checked: 64-byte IEEE P1363 (`r‖s`) with a low S,
 * what every Silkledger verifier accepts. A device that returns DER or a high S is refused,
 * never silently fixed, so a misconfigured adapter fails at its first signature.
 *
 * Hardware: a token or KMS signs a SHA-256 digest and usually answers in DER with either S. Its
 * adapter (not part of this build) passes `createAsyncSigner` a `sign` that hashes, calls the
 * device, converts DER to P1363 and replaces s by n − s when s > n/2; the private key never
 * leaves the device, so the paths of the key tree are derived before it is imported.
 */
import { SilkError } from '../errors.js';
import { bytesEqual, toHex } from '../crypto/hash.js';
import { createSigner, isCanonicalSignature, privateKeyObjectOfScalar, verifyP256, type Signer } from '../crypto/p256.js';
import { buildUnsignedProposal, type CreateProposalParameters, type SignedProposal } from '../ledger/proposal.js';
import { readKeystore } from './keystore.js';
import { mnemonicToSeed } from './mnemonic.js';
import { derivePath, masterKeyFromSeed } from './slip10.js';

/** Something that signs with a P-256 key, possibly slowly or remotely. */
export interface AsyncSigner {
  /** 33-byte compressed public key. */
  readonly publicKey: Uint8Array;
  /** A 64-byte low-S P1363 signature over SHA-256 of `message`. */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/**
 * Checks that `signature` is a canonical Silkledger signature and, when given the key and
 * message, that it verifies.
 * @throws SilkError BAD_SIGNATURE for a DER, high-S or wrong-length signature, or one that does not verify
 */
export function assertCanonicalSignature(signature: Uint8Array, publicKey?: Uint8Array, message?: Uint8Array): void {
  if (!(signature instanceof Uint8Array) || !isCanonicalSignature(signature)) {
    const what = signature instanceof Uint8Array ? `${signature.length} bytes${signature.length === 64 ? ' with a high S or r, s out of range' : signature[0] === 0x30 ? ', DER?' : ''}` : typeof signature;
    throw new SilkError('BAD_SIGNATURE', `the signer returned a signature Silkledger refuses (${what}): it needs 64-byte IEEE P1363 r‖s with a low S`);
  }
  if (publicKey !== undefined && message !== undefined && !verifyP256(publicKey, message, signature)) {
    throw new SilkError('BAD_SIGNATURE', `the signer's signature does not verify under its public key ${toHex(publicKey)}`);
  }
}

/** Wraps a signing function so that every signature it returns is checked. */
function guarded(publicKey: Uint8Array, sign: (message: Uint8Array) => Promise<Uint8Array>, verify: boolean): AsyncSigner {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 33 || (publicKey[0] !== 2 && publicKey[0] !== 3)) {
    throw new SilkError('INVALID_ARGUMENT', 'a signer public key must be a 33-byte compressed P-256 point');
  }
  const key = new Uint8Array(publicKey);
  return {
    publicKey: key,
    async sign(message) {
      const signature = await sign(message);
      assertCanonicalSignature(signature, verify ? key : undefined, message);
      return signature;
    },
  };
}

/**
 * An AsyncSigner over a synchronous in-memory {@link Signer} (tests, keys already in memory).
 * @example const signer = asyncSignerFromSigner(generateSigner())
 */
export function asyncSignerFromSigner(signer: Signer): AsyncSigner {
  return guarded(signer.publicKey, (message) => Promise.resolve(signer.sign(message)), false);
}

/**
 * An AsyncSigner over any signing function: the adapter point for hardware tokens and remote
 * key services. Each signature is checked for the canonical form and verified against
 * `publicKey`, so a device holding another key or answering in DER fails loudly.
 * @param publicKey the 33-byte compressed public key the device holds
 * @param sign returns a 64-byte low-S P1363 signature over SHA-256 of the message
 * @throws SilkError INVALID_ARGUMENT when `publicKey` is not a compressed P-256 point
 * @example const token = createAsyncSigner(pubkey, async (m) => toP1363LowS(await device.sign(sha256(m))))
 */
export function createAsyncSigner(publicKey: Uint8Array, sign: (message: Uint8Array) => Promise<Uint8Array>): AsyncSigner {
  return guarded(publicKey, sign, true);
}

/** Options of {@link openKeystoreSigner}. */
export interface OpenKeystoreSignerOptions {
  /**
   * For a mnemonic keystore: the hardened path of the key to sign with, e.g.
   * `signingKeyPath(role)`. For a private-key keystore: when given, it must equal the path
   * recorded in the file.
   */
  readonly path?: string;
}

/**
 * Unlocks a keystore once and signs with its key. The password is used for the unlock and
 * dropped; the signer keeps only a node:crypto KeyObject (for a mnemonic keystore, of the
 * derived key at `options.path`, never the mnemonic or a chain code).
 * @param file the keystore file
 * @param password its password
 * @param options the derivation path (required for a mnemonic keystore)
 * @throws SilkError INVALID_ARGUMENT: those of `readKeystore` (wrong password or altered file,
 *   malformed, parameters above the caps), a mnemonic keystore without `path`, a path that differs
 * @example const signer = await openKeystoreSigner('alice.key.json', password)
 */
export async function openKeystoreSigner(file: string, password: string, options: OpenKeystoreSignerOptions = {}): Promise<AsyncSigner> {
  const ks = await readKeystore(file, password);
  let scalar: Uint8Array;
  if (ks.kind === 'mnemonic') {
    if (options.path === undefined) {
      throw new SilkError('INVALID_ARGUMENT', `${file} holds a whole key tree (a mnemonic): give the derivation path of the key to sign with`, { path: file });
    }
    const seed = mnemonicToSeed(ks.secret);
    const master = masterKeyFromSeed(seed);
    const child = derivePath(master, options.path);
    scalar = new Uint8Array(child.privateKey);
    for (const secret of [seed, master.privateKey, master.chainCode, child.privateKey, child.chainCode]) secret.fill(0);
  } else {
    if (options.path !== undefined && options.path !== ks.path) {
      throw new SilkError('INVALID_ARGUMENT', `${file} holds the key at ${ks.path ?? '(no path)'}, not ${options.path}`, { path: file });
    }
    scalar = ks.secret;
  }
  try {
    const key = privateKeyObjectOfScalar(scalar);
    const signer = createSigner(key);
    if (ks.kind === 'private-key' && !bytesEqual(signer.publicKey, ks.pubkey)) throw new SilkError('INVALID_ARGUMENT', `${file}: its key does not match its public key`, { path: file });
    return asyncSignerFromSigner(signer);
  } finally {
    scalar.fill(0);
  }
}

/**
 * Builds and signs a proposal with an AsyncSigner: the same bytes, tx id and checks as
 * `createProposal`, whose encoding it shares.
 * @param params chain, contract, version, function and arguments
 * @param signer the creator's key
 * @returns the signed proposal with its tx id
 * @throws SilkError BAD_SIGNATURE when the signer returns a non-canonical signature or one that does not verify
 * @example const p = await createProposalAsync({ chain: 'trade', contract: 'basic', version: '1.0', fn: 'create', args: { id: 'a1' } }, signer)
 */
export async function createProposalAsync(params: CreateProposalParameters, signer: AsyncSigner): Promise<SignedProposal> {
  const { bytes, proposal, txId } = buildUnsignedProposal(params, signer.publicKey);
  const signature = await signer.sign(bytes);
  assertCanonicalSignature(signature, signer.publicKey, bytes);
  return { bytes, signature, proposal, txId };
}
