/**
 * The requester's side of recovery: open every released share, check each against its
 * commitment (a failing share is named), refuse with fewer than k valid ones, combine, and check
 * the master public key. `shamir-secret-sharing` returns wrong bytes without an error for k−1 or
 * altered shares, so these checks are the only thing between a bad share and a wrong key.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { combine } from 'shamir-secret-sharing';
import { bytesEqual, fromHex, sha256, toHex } from '../../crypto/hash.js';
import { ShareReleaseSchema, type GuardianSetup, type RecoveryRequest, type StoredRecoveryRequest } from '../../contracts/recall/recall-formats.js';
import { hpkeOpen } from '../hpke.js';
import { masterKeyFromSecret } from '../slip10.js';
import { RecoveryError } from '../recall/recovery-error.js';
import { checkGuardianSetup } from './guardian-setup.js';
import { releaseBinding } from './guardian-release.js';
import { checkRecoveryRequest } from './recovery-request.js';

const releaseCheck = TypeCompiler.Compile(ShareReleaseSchema);

/** A released share that could not be used, and why. */
export interface ShareFailure {
  /** 1-based guardian index (0 when the release names none). */
  readonly index: number;
  readonly guardian: string;
  readonly reason: string;
}

/** Parameters of {@link recoverFromGuardians}. */
export interface RecoverFromGuardiansParameters {
  /** The org's set-up as read from the chain. */
  readonly setup: unknown;
  /** The stored request as read from the chain (with its status). */
  readonly request: unknown;
  /** The releases as read from the chain. */
  readonly releases: readonly unknown[];
  /** The requester's encryption private key (32 bytes). */
  readonly encryptionPrivateKey: Uint8Array;
}

/** What {@link recoverFromGuardians} gives back. */
export interface GuardianRecovery {
  /** 64 bytes: master private key ‖ chain code. Wipe it after use. */
  readonly secret: Uint8Array;
  readonly masterPublicKey: Uint8Array;
  /** Indices of the shares combined. */
  readonly used: readonly number[];
  /** Shares that failed (recovery went on without them). */
  readonly failed: readonly ShareFailure[];
}

function describeFailures(failed: readonly ShareFailure[]): string {
  return failed.map((f) => f.reason).join('; ');
}

function checkedRequest(setup: GuardianSetup, request: unknown): RecoveryRequest {
  const checked = checkRecoveryRequest(request);
  const stored = request as Partial<StoredRecoveryRequest>;
  if (checked.org !== setup.org || checked.chain !== setup.chain) throw new RecoveryError('record-altered', `the request is for ${checked.org} on ${checked.chain}, the set-up for ${setup.org} on ${setup.chain}`);
  if (stored.status === 'cancelled') {
    throw new RecoveryError('request-cancelled', `request cancelled: ${setup.org}'s admin (${stored.cancelledBy ?? 'unknown'}) cancelled recovery request ${checked.requestId}; it cannot complete`);
  }
  return checked;
}

async function openRelease(setup: GuardianSetup, request: RecoveryRequest, input: unknown, key: Uint8Array): Promise<{ index: number; share: Uint8Array } | ShareFailure> {
  // The chain stores a release with its own fields (guardian, time, tx id): only the sealed ones count.
  const r = (input !== null && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const release: unknown = { org: r.org, requestId: r.requestId, index: r.index, enc: r.enc, ciphertext: r.ciphertext };
  if (!releaseCheck.Check(release)) return { index: 0, guardian: 'unknown', reason: 'a release is not well-formed' };
  const g = setup.guardians[release.index - 1];
  if (g === undefined) return { index: release.index, guardian: 'unknown', reason: `a release names guardian ${release.index}, which the set-up does not have` };
  if (release.org !== setup.org || release.requestId !== request.requestId) return { index: release.index, guardian: g.org, reason: `share of guardian ${g.org} (#${release.index}) is for another request` };
  let share: Uint8Array;
  try {
    share = await hpkeOpen(key, { enc: fromHex(release.enc), ciphertext: fromHex(release.ciphertext) }, releaseBinding({ chain: setup.chain, org: setup.org, requestId: request.requestId, guardian: g.org, index: release.index, shareHash: g.shareHash, encryptionKey: request.encryptionKey }));
  } catch {
    return { index: release.index, guardian: g.org, reason: `share of guardian ${g.org} (#${release.index}) does not open with the request's key` };
  }
  if (toHex(sha256(share)) !== g.shareHash) {
    share.fill(0);
    return { index: release.index, guardian: g.org, reason: `share of guardian ${g.org} (#${release.index}) fails its commitment` };
  }
  return { index: release.index, share };
}

/**
 * Recovers the master secret from the guardians' released shares.
 * @throws RecoveryError record-altered (set-up), request-unsigned, request-cancelled,
 *   insufficient-shares (naming each failing share), master-key-differs
 * @example const { secret, failed } = await recoverFromGuardians({ setup, request, releases, encryptionPrivateKey });
 */
export async function recoverFromGuardians(params: RecoverFromGuardiansParameters): Promise<GuardianRecovery> {
  const setup = checkGuardianSetup(params.setup);
  const request = checkedRequest(setup, params.request);
  const shares = new Map<number, Uint8Array>();
  const failed: ShareFailure[] = [];
  for (const release of params.releases) {
    const opened = await openRelease(setup, request, release, params.encryptionPrivateKey);
    if ('share' in opened) {
      if (shares.has(opened.index)) opened.share.fill(0);
      else shares.set(opened.index, opened.share);
    } else {
      failed.push(opened);
    }
  }
  const used = [...shares.keys()].sort((a, b) => a - b);
  try {
    if (shares.size < setup.threshold) {
      throw new RecoveryError('insufficient-shares', `insufficient shares: ${shares.size} valid of the ${setup.threshold} needed${failed.length === 0 ? '' : ` (${describeFailures(failed)})`}`, { valid: shares.size, threshold: setup.threshold, failed });
    }
    const secret = await combine([...shares.entries()].sort(([a], [b]) => a - b).map(([, share]) => share));
    let masterPublicKey: Uint8Array | undefined;
    try {
      masterPublicKey = masterKeyFromSecret(secret).publicKey;
    } catch {
      masterPublicKey = undefined;
    }
    if (masterPublicKey === undefined || !bytesEqual(masterPublicKey, fromHex(setup.masterPublicKey))) {
      secret.fill(0);
      throw new RecoveryError('master-key-differs', `master public key differs: the combined shares do not give ${setup.masterPublicKey}`);
    }
    return { secret, masterPublicKey, used, failed };
  } finally {
    for (const s of shares.values()) s.fill(0);
  }
}
