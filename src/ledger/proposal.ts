/**
 * Proposals: what a client asks a contract to do, signed by the client's key.
 * The tx id is SHA-256(nonce ‖ creator), so only the key holder can mint a given id.
 */
import { randomFillSync } from 'node:crypto';
import { CanonicalCursor, decodeCanonical, encodeCanonical, type CanonicalValue } from '../codec/canonical-cbor.js';
import { onlyFields, readBytes, readMap, readString, readUint, readVersion, type CanonicalMap } from '../codec/shape.js';
import { sha256, toHex } from '../crypto/hash.js';
import type { Signer } from '../crypto/p256.js';
import { asJsonValue, type JsonValue } from './json-value.js';

/** Format version of proposals this build writes and reads. */
export const PROPOSAL_FORMAT_VERSION = 1;
/** Largest encoded proposal accepted. */
export const MAX_PROPOSAL_BYTES = 1024 * 1024;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** A decoded proposal. */
export interface Proposal {
  readonly v: number;
  readonly chain: string;
  readonly contract: string;
  readonly version: string;
  readonly fn: string;
  readonly args: JsonValue;
  /** 33-byte compressed public key of the creator. */
  readonly creator: Uint8Array;
  readonly nonce: Uint8Array;
  /** Milliseconds since the Unix epoch, set by the client. */
  readonly ts: number;
}

/** A proposal with its exact bytes, the creator's signature over them, and its tx id. */
export interface SignedProposal {
  readonly bytes: Uint8Array;
  readonly signature: Uint8Array;
  readonly proposal: Proposal;
  readonly txId: string;
}

/** What a client fills in; the rest (version, nonce, creator) comes from the signer and defaults. */
export interface CreateProposalParameters {
  readonly chain: string;
  readonly contract: string;
  readonly version: string;
  readonly fn: string;
  readonly args: JsonValue;
  /** Proposal time in ms; defaults to now. */
  readonly ts?: number;
  /** 24 random bytes by default. */
  readonly nonce?: Uint8Array;
}

/** Random bytes drawn from the system's generator in blocks: one call per 170 nonces instead of one each. */
const NONCE_BYTES = 24;
const noncePool = new Uint8Array(NONCE_BYTES * 170);
let noncePoolAt = noncePool.length;

/** A fresh 24-byte nonce (its own buffer; the pool's bytes are never handed out twice). */
function freshNonce(): Uint8Array {
  if (noncePoolAt + NONCE_BYTES > noncePool.length) {
    randomFillSync(noncePool);
    noncePoolAt = 0;
  }
  const nonce = noncePool.slice(noncePoolAt, noncePoolAt + NONCE_BYTES);
  noncePoolAt += NONCE_BYTES;
  return nonce;
}

/** Tx id = hex SHA-256(nonce ‖ creator). */
export function computeTxId(nonce: Uint8Array, creator: Uint8Array): string {
  return toHex(sha256(nonce, creator));
}

/** A proposal built and encoded, not yet signed. */
export interface UnsignedProposal {
  readonly bytes: Uint8Array;
  readonly proposal: Proposal;
  readonly txId: string;
}

/**
 * Builds and encodes a proposal for `creator` to sign: the one code path behind
 * {@link createProposal} and the async signers' variant.
 * @param params chain, contract, version, function and arguments
 * @param creator the creator's 33-byte compressed public key
 * @returns the exact bytes to sign, the proposal and its tx id
 * @throws SilkError MALFORMED when peers would refuse to parse the result
 * @example const { bytes } = buildUnsignedProposal({ chain: 'trade', contract: 'basic', version: '1.0', fn: 'create', args: {} }, signer.publicKey)
 */
export function buildUnsignedProposal(params: CreateProposalParameters, creator: Uint8Array): UnsignedProposal {
  const proposal: Proposal = {
    v: PROPOSAL_FORMAT_VERSION,
    chain: params.chain,
    contract: params.contract,
    version: params.version,
    fn: params.fn,
    args: params.args,
    creator,
    nonce: params.nonce ?? freshNonce(),
    ts: params.ts ?? Date.now(),
  };
  const bytes = encodeCanonical(proposal as unknown as Record<string, JsonValue | Uint8Array>);
  // Decode what we built, so a client can never sign something peers would refuse to parse.
  decodeProposal(bytes);
  return { bytes, proposal, txId: computeTxId(proposal.nonce, proposal.creator) };
}

/**
 * Builds and signs a proposal.
 * @param params chain, contract, version, function and arguments
 * @param signer the creator's key
 * @returns the signed proposal with its tx id
 * @example createProposal({ chain: 'trade', contract: 'basic', version: '1.0', fn: 'create', args: { id: 'a1' } }, signer)
 */
export function createProposal(params: CreateProposalParameters, signer: Signer): SignedProposal {
  const { bytes, proposal, txId } = buildUnsignedProposal(params, signer.publicKey);
  return { bytes, signature: signer.sign(bytes), proposal, txId };
}

/** Decoding limits of a proposal's bytes. */
const PROPOSAL_LIMITS = { maxBytes: MAX_PROPOSAL_BYTES, maxDepth: 32, maxItems: 100_000 } as const;
/** A proposal's fields, in canonical order. */
const PROPOSAL_FIELDS = ['v', 'chain', 'contract', 'version', 'fn', 'args', 'creator', 'nonce', 'ts'];

/** A proposal without its arguments: who proposed what, and its tx id's inputs. */
export type ProposalIdentity = Omit<Proposal, 'args'>;

/** Checks the fields of a decoded proposal map, its arguments read by `readArgs`. */
function proposalOf<A>(m: CanonicalMap, readArgs: (v: CanonicalValue | undefined) => A): ProposalIdentity & { readonly args: A } {
  onlyFields(m, 'proposal', PROPOSAL_FIELDS);
  const p = {
    v: readVersion(m.v, 'proposal.v', PROPOSAL_FORMAT_VERSION),
    chain: readName(m.chain, 'proposal.chain'),
    contract: readName(m.contract, 'proposal.contract'),
    version: readString(m.version, 'proposal.version', 32, 1),
    fn: readName(m.fn, 'proposal.fn'),
    args: readArgs(m.args),
    creator: readBytes(m.creator, 'proposal.creator', 33),
    nonce: readBytes(m.nonce, 'proposal.nonce', undefined, 64),
    ts: readUint(m.ts, 'proposal.ts'),
  };
  if (p.nonce.length < 16) readBytes(m.nonce, 'proposal.nonce (16..64 bytes)', 16);
  return p;
}

const readArgs = (v: CanonicalValue | undefined): JsonValue => asJsonValue(v, 'proposal.args');

/**
 * Decodes and checks a proposal's bytes.
 * @throws SilkError MALFORMED naming the failing field; PAYLOAD_TOO_LARGE when oversize
 */
export function decodeProposal(bytes: Uint8Array): Proposal {
  return proposalOf(readMap(decodeCanonical(bytes, PROPOSAL_LIMITS), 'proposal'), readArgs);
}

/**
 * Decodes a proposal's bytes but its arguments, which are checked for canonical structure and
 * left undecoded: for a reader that needs who proposed what (and the tx id), not the call's
 * arguments, of a proposal whose arguments may be large (a whole EPCIS document).
 * @throws SilkError MALFORMED naming the failing field; PAYLOAD_TOO_LARGE when oversize
 * @example const { nonce, creator } = decodeProposalIdentity(envelope.proposal)
 */
export function decodeProposalIdentity(bytes: Uint8Array): ProposalIdentity {
  const cursor = new CanonicalCursor(bytes, PROPOSAL_LIMITS);
  const m: Record<string, CanonicalValue> = {};
  cursor.map((key) => {
    if (key === 'args') {
      cursor.pass();
      m.args = true; // there, and not decoded
    } else {
      m[key] = cursor.value();
    }
  });
  cursor.end();
  // Skipped arguments read as null (the field itself must be there).
  return proposalOf(m, (v) => (v === undefined ? readArgs(v) : null));
}

function readName(v: unknown, path: string): string {
  const s = readString(v as string, path, 64, 1);
  if (!NAME.test(s)) readString(undefined, `${path} (letters, digits, '_', '.', '-')`);
  return s;
}
