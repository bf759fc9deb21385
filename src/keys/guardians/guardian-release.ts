/**
 * A guardian's side of recovery: open its own share from the set-up, check it against its
 * commitment, and re-seal it to the requester's encryption key, bound to the request.
 */
import { sha256, toHex, fromHex } from '../../crypto/hash.js';
import type { ShareRelease, StoredRecoveryRequest } from '../../contracts/recall/recall-formats.js';
import { encodeCanonical } from '../../codec/canonical-cbor.js';
import { hpkeOpen, hpkeSeal, type HpkeBinding } from '../hpke.js';
import { RecoveryError } from '../recall/recovery-error.js';
import { checkGuardianSetup, guardianIndexOf, setupShareBinding } from './guardian-setup.js';
import { checkRecoveryRequest } from './recovery-request.js';

export type { ShareRelease, StoredShareRelease } from '../../contracts/recall/recall-formats.js';

const RELEASE_INFO = new TextEncoder().encode('silkledger/guardian-release/v1');

/** What a released share is bound to, besides the requester's key. */
export interface ReleaseContext {
  readonly chain: string;
  readonly org: string;
  readonly requestId: string;
  readonly guardian: string;
  readonly index: number;
  readonly shareHash: string;
  /** The requester's encryption key (hex, compressed). */
  readonly encryptionKey: string;
}

/** The HPKE binding of a released share: its info and the AAD naming request, guardian and commitment. */
export function releaseBinding(c: ReleaseContext): HpkeBinding {
  return { info: RELEASE_INFO, aad: encodeCanonical({ d: 'silkledger/guardian-release/v1', ...c }) };
}

/** Parameters of {@link createShareRelease}. */
export interface CreateShareReleaseParameters {
  /** The org's set-up, as read from the chain (checked: shape and admin signature). */
  readonly setup: unknown;
  /** The request, as read from the chain (checked: shape, the new key's signature, not cancelled). */
  readonly request: unknown;
  /** The guardian org releasing. */
  readonly guardian: string;
  /** The guardian org's encryption private key (32 bytes; `deriveEncryptionKey(master).privateKey`). */
  readonly encryptionPrivateKey: Uint8Array;
  /** Now (ms); when given, a release before the request's delay is refused here already. */
  readonly now?: number;
}

/**
 * Opens the guardian's share, checks it against its commitment and re-seals it to the requester.
 * @returns the release, ready for the `recall` contract's `releaseShare`
 * @throws RecoveryError record-altered (set-up, or the own share fails its commitment),
 *   request-unsigned, request-cancelled, delay-not-over
 * @example const release = await createShareRelease({ setup, request, guardian: 'Org2', encryptionPrivateKey: enc.privateKey });
 */
export async function createShareRelease(params: CreateShareReleaseParameters): Promise<ShareRelease> {
  const setup = checkGuardianSetup(params.setup);
  const request = checkRecoveryRequest(params.request);
  const stored = params.request as Partial<StoredRecoveryRequest>;
  if (request.org !== setup.org || request.chain !== setup.chain) throw new RecoveryError('record-altered', `the request is for ${request.org} on ${request.chain}, the set-up for ${setup.org} on ${setup.chain}`);
  if (stored.status === 'cancelled') throw new RecoveryError('request-cancelled', `request cancelled: ${setup.org}'s admin cancelled recovery request ${request.requestId}`);
  if (params.now !== undefined && typeof stored.requestedAt === 'number' && params.now < stored.requestedAt + (stored.delayMs ?? setup.delayMs)) {
    const from = stored.requestedAt + (stored.delayMs ?? setup.delayMs);
    throw new RecoveryError('delay-not-over', `delay not over: shares may be released from ${new Date(from).toISOString()}`, { releasableFrom: from });
  }
  const index = guardianIndexOf(setup, params.guardian);
  const g = setup.guardians[index - 1];
  if (g === undefined) throw new RecoveryError('record-altered', `${setup.org} has no guardian ${index}`);
  const share = await hpkeOpen(params.encryptionPrivateKey, { enc: fromHex(g.enc), ciphertext: fromHex(g.ciphertext) }, setupShareBinding(setup.chain, setup.org, g.org, index, g.shareHash));
  try {
    if (toHex(sha256(share)) !== g.shareHash) throw new RecoveryError('record-altered', `share ${index} of ${setup.org} fails its commitment`);
    const box = await hpkeSeal(fromHex(request.encryptionKey), share, releaseBinding({ chain: setup.chain, org: setup.org, requestId: request.requestId, guardian: g.org, index, shareHash: g.shareHash, encryptionKey: request.encryptionKey }));
    return { org: setup.org, requestId: request.requestId, index, enc: toHex(box.enc), ciphertext: toHex(box.ciphertext) };
  } finally {
    share.fill(0);
  }
}
