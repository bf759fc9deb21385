/**
 * The peer-to-peer endorsement wire of distributed mode. `POST /peer/v1/endorse` answers a
 * proposal's endorsement as one canonical CBOR map (`application/cbor`):
 *
 * | field | what |
 * |---|---|
 * | `v` | 1 |
 * | `result` | the encoded `TxResult` the peer simulated (the bytes it signed) |
 * | `endorser` | the peer's 33-byte compressed public key |
 * | `signature` | the peer's 64-byte P1363 signature over `result` |
 * | `height` | the peer's height of the proposal's chain when it simulated |
 *
 * The tx id and the contract's response are not sent: the caller computes the first from the
 * proposal and reads the second from `result`, so the reply carries nothing it could contradict.
 */
import { decodeCanonical, encodeCanonical } from '../codec/canonical-cbor.js';
import { onlyFields, readBytes, readMap, readUint, readVersion } from '../codec/shape.js';
import { bytesEqual, sha256, toHex } from '../crypto/hash.js';
import { verifyP256 } from '../crypto/p256.js';
import { EndorseError } from '../errors.js';
import type { JsonValue } from '../ledger/json-value.js';
import { computeTxId, decodeProposal } from '../ledger/proposal.js';
import { decodeTxResult, MAX_ENVELOPE_BYTES, type TxResult } from '../ledger/transaction.js';
import type { EndorsementResponse, SignedProposalBytes } from '../peer/peer.js';

/** The format version of an endorsement reply. */
export const ENDORSEMENT_REPLY_VERSION = 1;
/** Largest endorsement reply read (a result fits in an envelope; keys and signature are small). */
export const MAX_ENDORSEMENT_REPLY_BYTES = MAX_ENVELOPE_BYTES + 1024;

/** What a peer answers to an endorsement request. */
export interface EndorsementReply {
  readonly result: Uint8Array;
  readonly endorser: Uint8Array;
  readonly signature: Uint8Array;
  /** The endorser's height of the chain when it simulated. */
  readonly height: number;
}

/**
 * Encodes a reply canonically.
 * @example encodeEndorsementReply({ result, endorser: peer.publicKey, signature, height: peer.height('trade') })
 */
export function encodeEndorsementReply(reply: EndorsementReply): Uint8Array {
  return encodeCanonical({ v: ENDORSEMENT_REPLY_VERSION, result: reply.result, endorser: reply.endorser, signature: reply.signature, height: reply.height });
}

/**
 * Decodes a reply (canonical input only, known fields only).
 * @throws SilkError MALFORMED naming the failing field
 */
export function decodeEndorsementReply(bytes: Uint8Array): EndorsementReply {
  const m = readMap(decodeCanonical(bytes, { maxBytes: MAX_ENDORSEMENT_REPLY_BYTES, maxDepth: 2, maxItems: 16 }), 'reply');
  onlyFields(m, 'reply', ['v', 'result', 'endorser', 'signature', 'height']);
  readVersion(m.v, 'reply.v', ENDORSEMENT_REPLY_VERSION);
  return {
    result: readBytes(m.result, 'reply.result', undefined, MAX_ENVELOPE_BYTES),
    endorser: readBytes(m.endorser, 'reply.endorser', 33),
    signature: readBytes(m.signature, 'reply.signature', 64),
    height: readUint(m.height, 'reply.height'),
  };
}

/**
 * Checks a reply against the proposal it answers and the peer that was asked, and turns it into
 * the endorsement the gateway assembles: the endorser is the expected key, its signature over the
 * result verifies, and the result is of this proposal.
 * @param peer the asked peer's name, for messages
 * @throws EndorseError BAD_ENDORSEMENT_SIGNATURE (another key, a signature that does not verify,
 *   a result of another proposal), MALFORMED (a result that does not decode)
 * @example const endorsement = endorsementOfReply(decodeEndorsementReply(bytes), signed, peerKey, 'peer0.org2')
 */
export function endorsementOfReply(reply: EndorsementReply, signed: SignedProposalBytes, expectedEndorser: Uint8Array, peer: string): EndorsementResponse {
  if (!bytesEqual(reply.endorser, expectedEndorser)) {
    throw new EndorseError('BAD_ENDORSEMENT_SIGNATURE', `peer ${peer} endorsed with key ${toHex(reply.endorser).slice(0, 16)}…, not its configured key ${toHex(expectedEndorser).slice(0, 16)}…`, { peer });
  }
  if (!verifyP256(reply.endorser, reply.result, reply.signature)) throw new EndorseError('BAD_ENDORSEMENT_SIGNATURE', `peer ${peer}'s endorsement signature does not verify`, { peer });
  let result: TxResult;
  try {
    result = decodeTxResult(reply.result);
  } catch (cause) {
    throw new EndorseError('MALFORMED', `peer ${peer} endorsed a result that does not decode: ${(cause as Error).message}`, { peer }, { cause });
  }
  if (!bytesEqual(result.proposalHash, sha256(signed.bytes))) throw new EndorseError('BAD_ENDORSEMENT_SIGNATURE', `peer ${peer} endorsed a result of another proposal`, { peer });
  const proposal = decodeProposal(signed.bytes);
  let response: JsonValue | undefined;
  try {
    response = result.response === '' ? undefined : (JSON.parse(result.response) as JsonValue);
  } catch (cause) {
    throw new EndorseError('MALFORMED', `peer ${peer} endorsed a response that is not JSON`, { peer }, { cause });
  }
  return { txId: computeTxId(proposal.nonce, proposal.creator), result: reply.result, endorsement: { endorser: reply.endorser, signature: reply.signature }, response };
}
