/**
 * A recovery request: a new key (not yet a member of the chain) asks the guardians for the org's
 * shares. It names the new signing key and a fresh encryption key, and is signed by the new key
 * (proof of possession). Any member may carry it to the chain; guardians check the signature
 * before they release (the contract cannot: no crypto inside contracts).
 */
import { randomBytes } from 'node:crypto';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { toHex } from '../../crypto/hash.js';
import { RecoveryRequestSchema, type RecoveryRequest } from '../../contracts/recall/recall-formats.js';
import { compressedPoint } from '../hpke.js';
import { signDocument, verifyDocument, type DocumentSigner } from '../recall/document-signature.js';
import { RecoveryError } from '../recall/recovery-error.js';

export type { RecoveryRequest, StoredRecoveryRequest } from '../../contracts/recall/recall-formats.js';

const REQUEST_DOMAIN = 'silkledger/recovery-request/v1';
const requestCheck = TypeCompiler.Compile(RecoveryRequestSchema);

/** Parameters of {@link createRecoveryRequest}. */
export interface CreateRecoveryRequestParameters {
  readonly chain: string;
  readonly org: string;
  /** The new signing key; it signs the request. */
  readonly newKey: DocumentSigner;
  /** The public key guardians seal to (33 or 65 bytes); keep its private key until recovery. */
  readonly encryptionKey: Uint8Array;
  /** 16 bytes; random by default. */
  readonly requestId?: Uint8Array;
}

function unsignedPart(r: Omit<RecoveryRequest, 'signature'>): Omit<RecoveryRequest, 'signature'> {
  return { v: r.v, chain: r.chain, org: r.org, requestId: r.requestId, newKey: r.newKey, encryptionKey: r.encryptionKey };
}

/**
 * Builds a recovery request signed by the new key.
 * @returns the request, ready for the `recall` contract's `requestRecovery`
 * @example const request = await createRecoveryRequest({ chain, org: 'SellerCN', newKey, encryptionKey: enc.publicKey });
 */
export async function createRecoveryRequest(params: CreateRecoveryRequestParameters): Promise<RecoveryRequest> {
  const unsigned = {
    v: 1 as const, chain: params.chain, org: params.org, requestId: toHex(params.requestId ?? randomBytes(16)),
    newKey: toHex(params.newKey.publicKey), encryptionKey: toHex(compressedPoint(params.encryptionKey)),
  };
  return { ...unsigned, signature: await signDocument(params.newKey, REQUEST_DOMAIN, unsignedPart(unsigned)) };
}

/**
 * Checks a request's shape and that the new key it names signed it.
 * @throws RecoveryError request-unsigned otherwise
 */
export function checkRecoveryRequest(request: unknown): RecoveryRequest {
  const r = (request !== null && typeof request === 'object' ? request : {}) as Record<string, unknown>;
  // A stored request carries the chain's fields (status, times) too: only the signed ones count.
  const signed: unknown = { v: r.v, chain: r.chain, org: r.org, requestId: r.requestId, newKey: r.newKey, encryptionKey: r.encryptionKey, signature: r.signature };
  if (!requestCheck.Check(signed)) throw new RecoveryError('request-unsigned', 'the recovery request is not well-formed');
  if (!verifyDocument(signed.newKey, REQUEST_DOMAIN, unsignedPart(signed), signed.signature)) {
    throw new RecoveryError('request-unsigned', `the recovery request is not signed by the new key it names (${signed.newKey})`);
  }
  return signed;
}
