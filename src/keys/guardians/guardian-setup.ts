/**
 * Guardian set-up (beyond the paper): the org's 64-byte master secret split k-of-n with
 * `shamir-secret-sharing`, each share sealed with HPKE to a guardian org's published encryption
 * key, and committed on chain by SHA-256 of the share. The admin key signs the set-up.
 *
 * The Shamir library combines any shares it is given without complaint: k−1 shares, or an
 * altered one, give wrong bytes and no error. The commitments (checked per share) and the master
 * public key (checked after combining) are what detect it (guardian-recovery.ts).
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { split } from 'shamir-secret-sharing';
import { sha256, toHex } from '../../crypto/hash.js';
import { SilkError } from '../../errors.js';
import { GuardianSetupSchema, MAX_GUARDIAN_DELAY_MS, MAX_GUARDIANS, RECALL_HPKE_SUITE, type GuardianSetup } from '../../contracts/recall/recall-formats.js';
import { encodeCanonical } from '../../codec/canonical-cbor.js';
import { compressedPoint, hpkeSeal, type HpkeBinding } from '../hpke.js';
import { masterKeyFromSecret } from '../slip10.js';
import { signDocument, verifyDocument, type DocumentSigner } from '../recall/document-signature.js';
import { RecoveryError } from '../recall/recovery-error.js';

export type { GuardianSetup, GuardianShare } from '../../contracts/recall/recall-formats.js';

/** Default delay between a recovery request and the first release: 72 hours. */
export const DEFAULT_GUARDIAN_DELAY_MS = 72 * 3600 * 1000;

const SETUP_DOMAIN = 'silkledger/guardian-setup/v1';
const SHARE_INFO = new TextEncoder().encode('silkledger/guardian-share/v1');
const setupCheck = TypeCompiler.Compile(GuardianSetupSchema);

/** A guardian as the set-up names it: an org and its published encryption key (33 or 65 bytes). */
export interface GuardianKey {
  readonly org: string;
  readonly encryptionKey: Uint8Array;
}

/** Parameters of {@link createGuardianSetup}. */
export interface CreateGuardianSetupParameters {
  /** 64 bytes: master private key ‖ chain code. */
  readonly secret: Uint8Array;
  readonly chain: string;
  readonly org: string;
  /** k: shares needed to recover (2 ≤ k ≤ n). */
  readonly threshold: number;
  /** n ≥ 2 guardian orgs, each another org than `org`. */
  readonly guardians: readonly GuardianKey[];
  /** Delay between a request and the first release; {@link DEFAULT_GUARDIAN_DELAY_MS} by default. */
  readonly delayMs?: number;
  /** The org's admin key: signs the set-up, and must submit it. */
  readonly signer: DocumentSigner;
}

/** The HPKE binding of guardian `index`'s share in the set-up: info and the AAD naming where it belongs. */
export function setupShareBinding(chain: string, org: string, guardian: string, index: number, shareHash: string): HpkeBinding {
  return { info: SHARE_INFO, aad: encodeCanonical({ d: 'silkledger/guardian-share/v1', chain, org, guardian, index, shareHash }) };
}

function unsignedPart(setup: Omit<GuardianSetup, 'signature'>): Omit<GuardianSetup, 'signature'> {
  return {
    v: setup.v, suite: setup.suite, chain: setup.chain, org: setup.org, threshold: setup.threshold, delayMs: setup.delayMs,
    masterPublicKey: setup.masterPublicKey, adminKey: setup.adminKey,
    guardians: setup.guardians.map((g) => ({ org: g.org, encryptionKey: g.encryptionKey, shareHash: g.shareHash, enc: g.enc, ciphertext: g.ciphertext })),
  };
}

function checkParameters(params: CreateGuardianSetupParameters): void {
  const n = params.guardians.length;
  if (!(params.secret instanceof Uint8Array) || params.secret.length !== 64) throw new SilkError('INVALID_ARGUMENT', 'the secret must be 64 bytes: master private key ‖ chain code');
  if (n < 2 || n > MAX_GUARDIANS) throw new SilkError('INVALID_ARGUMENT', `name 2 to ${MAX_GUARDIANS} guardians, not ${n}`);
  if (!Number.isInteger(params.threshold) || params.threshold < 2 || params.threshold > n) throw new SilkError('INVALID_ARGUMENT', `the threshold must be 2..${n} (the number of guardians), not ${params.threshold}`);
  const orgs = new Set(params.guardians.map((g) => g.org));
  if (orgs.size !== n) throw new SilkError('INVALID_ARGUMENT', 'a guardian org is named twice');
  if (orgs.has(params.org)) throw new SilkError('INVALID_ARGUMENT', `${params.org} cannot be its own guardian`);
  const delay = params.delayMs ?? DEFAULT_GUARDIAN_DELAY_MS;
  if (!Number.isInteger(delay) || delay < 0 || delay > MAX_GUARDIAN_DELAY_MS) throw new SilkError('INVALID_ARGUMENT', `the delay must be 0..${MAX_GUARDIAN_DELAY_MS} ms, not ${delay}`);
}

/**
 * Splits the master secret among the guardians and signs the set-up.
 * @returns the set-up, ready for the `recall` contract's `setupGuardians`
 * @throws SilkError INVALID_ARGUMENT for a bad secret, threshold, delay or guardian list
 * @example const setup = await createGuardianSetup({ secret, chain, org: 'SellerCN', threshold: 2, guardians, signer: admin });
 */
export async function createGuardianSetup(params: CreateGuardianSetupParameters): Promise<GuardianSetup> {
  checkParameters(params);
  const masterPublicKey = toHex(masterKeyFromSecret(params.secret).publicKey);
  const shares = await split(params.secret, params.guardians.length, params.threshold);
  const guardians = [];
  for (const [i, g] of params.guardians.entries()) {
    const share = shares[i];
    if (share === undefined) throw new SilkError('INTERNAL', `the Shamir split returned ${shares.length} shares for ${params.guardians.length} guardians`);
    const shareHash = toHex(sha256(share));
    const encryptionKey = compressedPoint(g.encryptionKey);
    const box = await hpkeSeal(encryptionKey, share, setupShareBinding(params.chain, params.org, g.org, i + 1, shareHash));
    share.fill(0);
    guardians.push({ org: g.org, encryptionKey: toHex(encryptionKey), shareHash, enc: toHex(box.enc), ciphertext: toHex(box.ciphertext) });
  }
  const unsigned = {
    v: 1 as const, suite: RECALL_HPKE_SUITE, chain: params.chain, org: params.org, threshold: params.threshold,
    delayMs: params.delayMs ?? DEFAULT_GUARDIAN_DELAY_MS, masterPublicKey, adminKey: toHex(params.signer.publicKey), guardians,
  };
  return { ...unsigned, signature: await signDocument(params.signer, SETUP_DOMAIN, unsignedPart(unsigned)) };
}

/**
 * Checks a set-up read from the chain or a file: its shape and its admin signature.
 * @returns the set-up, typed
 * @throws RecoveryError record-altered naming what is wrong
 */
export function checkGuardianSetup(input: unknown): GuardianSetup {
  // The chain stores the set-up with its own fields (time, tx id): only the signed ones count.
  const s = (input !== null && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const setup: unknown = {
    v: s.v, suite: s.suite, chain: s.chain, org: s.org, threshold: s.threshold, delayMs: s.delayMs,
    masterPublicKey: s.masterPublicKey, adminKey: s.adminKey, guardians: s.guardians, signature: s.signature,
  };
  if (!setupCheck.Check(setup)) {
    const first = setupCheck.Errors(setup).First();
    throw new RecoveryError('record-altered', `guardian set-up altered: not well-formed${first === undefined ? '' : ` (${first.path || '/'}: ${first.message})`}`);
  }
  if (!verifyDocument(setup.adminKey, SETUP_DOMAIN, unsignedPart(setup), setup.signature)) throw new RecoveryError('record-altered', 'guardian set-up altered: its admin signature does not verify');
  return setup;
}

/** The 1-based index of `org` among the set-up's guardians. @throws SilkError INVALID_ARGUMENT when it is none */
export function guardianIndexOf(setup: GuardianSetup, org: string): number {
  const i = setup.guardians.findIndex((g) => g.org === org);
  if (i < 0) throw new SilkError('INVALID_ARGUMENT', `${org} is not a guardian of ${setup.org}`);
  return i + 1;
}

