/**
 * Transactions: the endorsed result of simulating a proposal (read set with versions, write set,
 * events, response), the endorsers' signatures over it, and the envelope the orderer batches.
 */
import { CanonicalCursor, decodeCanonical, encodeCanonical, type CanonicalValue } from '../codec/canonical-cbor.js';
import { onlyFields, readArray, readBytes, readMap, readString, readUint, readVersion } from '../codec/shape.js';
import { sha256 } from '../crypto/hash.js';
import type { Signer } from '../crypto/p256.js';
import { SilkError } from '../errors.js';
import { compileEndorsementPolicy } from './endorsement-policy.js';
import { computeTxId, decodeProposal, decodeProposalIdentity, MAX_PROPOSAL_BYTES, type Proposal } from './proposal.js';

/** Format version of results and envelopes this build writes and reads. */
export const TX_FORMAT_VERSION = 1;
/** Largest encoded envelope a peer or orderer accepts. */
export const MAX_ENVELOPE_BYTES = 2 * 1024 * 1024;
/** Largest JSON text of one state value. */
export const MAX_VALUE_BYTES = 512 * 1024;
/** Longest state key. */
export const MAX_KEY_LENGTH = 1024;

/** A version of a key: the block and the transaction index that last wrote it. */
export interface KeyVersion {
  readonly block: number;
  readonly tx: number;
}

/** A key read during simulation, with the version seen (`null` = the key did not exist). */
export interface KeyRead {
  readonly key: string;
  readonly version: KeyVersion | null;
}

/**
 * A range read: every key in [start, end) seen during simulation with its version. Peers
 * re-read the interval at commit, so a key inserted, changed or deleted inside it since
 * endorsement (a phantom) invalidates the transaction.
 */
export interface RangeRead {
  readonly start: string;
  /** Exclusive upper bound. */
  readonly end: string;
  readonly reads: readonly { readonly key: string; readonly version: KeyVersion }[];
}

/** A key written: JSON text, or `null` to delete; `policy` sets a key-level endorsement policy. */
export interface KeyWrite {
  readonly key: string;
  readonly value: string | null;
  readonly policy?: string;
}

/**
 * A private write, recorded on chain only as hashes (the private data itself travels off the
 * ordered path; reserved for the privacy model and carried unchanged until then).
 */
export interface HashedWrite {
  readonly collection: string;
  readonly keyHash: Uint8Array;
  readonly valueHash: Uint8Array | null;
}

/** A contract event: a name and a JSON payload text. */
export interface ContractEvent {
  readonly name: string;
  readonly payload: string;
}

/** What endorsers sign: the outcome of simulating one proposal. */
export interface TxResult {
  readonly v: number;
  readonly proposalHash: Uint8Array;
  readonly contract: string;
  /** Contract version that produced this result. */
  readonly version: string;
  readonly reads: readonly KeyRead[];
  /** Range reads (omitted when none). */
  readonly ranges?: readonly RangeRead[];
  readonly writes: readonly KeyWrite[];
  readonly hashedWrites: readonly HashedWrite[];
  readonly events: readonly ContractEvent[];
  /** The function's return value as JSON text (`''` for none). */
  readonly response: string;
}

/** An endorser's signature over the encoded {@link TxResult}. */
export interface Endorsement {
  readonly endorser: Uint8Array;
  readonly signature: Uint8Array;
}

/** The unit of ordering: a signed proposal, its result and the endorsements. */
export interface Envelope {
  readonly v: number;
  readonly proposal: Uint8Array;
  readonly signature: Uint8Array;
  readonly result: Uint8Array;
  readonly endorsements: readonly Endorsement[];
}

/** An envelope with its parts decoded (what validation works on). */
export interface DecodedTransaction {
  readonly envelope: Envelope;
  readonly proposal: Proposal;
  readonly result: TxResult;
  readonly txId: string;
}

function readToWire(r: KeyRead): CanonicalValue {
  return r.version === null ? [r.key] : [r.key, r.version.block, r.version.tx];
}

function writeToWire(w: KeyWrite): CanonicalValue {
  return w.policy === undefined ? [w.key, w.value] : [w.key, w.value, w.policy];
}

/** Encodes a result canonically (the bytes endorsers sign). */
export function encodeTxResult(r: TxResult): Uint8Array {
  return encodeCanonical({
    v: r.v,
    proposalHash: r.proposalHash,
    contract: r.contract,
    version: r.version,
    reads: r.reads.map(readToWire),
    ranges: r.ranges === undefined || r.ranges.length === 0 ? undefined : r.ranges.map((g) => [g.start, g.end, g.reads.map((x) => [x.key, x.version.block, x.version.tx])]),
    writes: r.writes.map(writeToWire),
    hashedWrites: r.hashedWrites.map((h) => ({ collection: h.collection, keyHash: h.keyHash, valueHash: h.valueHash })),
    events: r.events.map((e) => [e.name, e.payload]),
    response: r.response,
  });
}

function decodeRead(v: CanonicalValue, path: string): KeyRead {
  const a = readArray(v, path, 3);
  const key = readString(a[0], `${path}[0]`, MAX_KEY_LENGTH, 1);
  if (a.length === 1) return { key, version: null };
  if (a.length !== 3) throw new SilkError('MALFORMED', `${path}: expected [key] or [key, block, tx]`, { path });
  return { key, version: { block: readUint(a[1], `${path}[1]`), tx: readUint(a[2], `${path}[2]`) } };
}

function decodeRange(v: CanonicalValue, path: string): RangeRead {
  const a = readArray(v, path, 3);
  if (a.length !== 3) throw new SilkError('MALFORMED', `${path}: expected [start, end, reads]`, { path });
  const reads = readArray(a[2], `${path}[2]`, 100_000).map((r, i) => {
    const read = decodeRead(r, `${path}[2][${i}]`);
    if (read.version === null) throw new SilkError('MALFORMED', `${path}[2][${i}]: a range read carries a version`, { path });
    return { key: read.key, version: read.version };
  });
  return { start: readString(a[0], `${path}[0]`, MAX_KEY_LENGTH + 1), end: readString(a[1], `${path}[1]`, MAX_KEY_LENGTH + 1), reads };
}

/** The error of a write that is not `[key, value]` or `[key, value, policy]`. */
function writeShapeError(path: string): SilkError {
  return new SilkError('MALFORMED', `${path}: expected [key, value] or [key, value, policy]`, { path });
}

function decodeWrite(v: CanonicalValue, path: string): KeyWrite {
  const a = readArray(v, path, 3);
  if (a.length < 2) throw writeShapeError(path);
  const key = readString(a[0], `${path}[0]`, MAX_KEY_LENGTH, 1);
  const value = a[1] === null ? null : readString(a[1], `${path}[1]`, MAX_VALUE_BYTES);
  if (a.length === 3) {
    const policy = readString(a[2], `${path}[2]`, 4096, 1);
    try {
      compileEndorsementPolicy(policy);
    } catch (cause) {
      throw new SilkError('MALFORMED', `${path}[2]: key policy does not parse: ${(cause as Error).message}`, { path: `${path}[2]` }, { cause });
    }
    return { key, value, policy };
  }
  return { key, value };
}

function decodeHashedWrite(v: CanonicalValue, path: string): HashedWrite {
  const m = readMap(v, path);
  onlyFields(m, path, ['collection', 'keyHash', 'valueHash']);
  return {
    collection: readString(m.collection, `${path}.collection`, 64, 1),
    keyHash: readBytes(m.keyHash, `${path}.keyHash`, 32),
    valueHash: m.valueHash === null ? null : readBytes(m.valueHash, `${path}.valueHash`, 32),
  };
}

/** Decoding limits of a result's bytes. */
const RESULT_LIMITS = { maxBytes: MAX_ENVELOPE_BYTES, maxDepth: 8, maxItems: 100_000 } as const;
/** A result's fields. */
const RESULT_FIELDS = ['v', 'proposalHash', 'contract', 'version', 'reads', 'ranges', 'writes', 'hashedWrites', 'events', 'response'];

/**
 * Decodes a result's bytes.
 * @throws SilkError MALFORMED naming the failing path
 */
export function decodeTxResult(bytes: Uint8Array): TxResult {
  const m = readMap(decodeCanonical(bytes, RESULT_LIMITS), 'result');
  onlyFields(m, 'result', RESULT_FIELDS);
  const ranges = m.ranges === undefined ? undefined : readArray(m.ranges, 'result.ranges', 1000).map((g, i) => decodeRange(g, `result.ranges[${i}]`));
  if (ranges?.length === 0) throw new SilkError('MALFORMED', 'result.ranges: omitted when empty, never an empty list', { path: 'result.ranges' });
  return {
    v: readVersion(m.v, 'result.v', TX_FORMAT_VERSION),
    proposalHash: readBytes(m.proposalHash, 'result.proposalHash', 32),
    contract: readString(m.contract, 'result.contract', 64, 1),
    version: readString(m.version, 'result.version', 32, 1),
    reads: readArray(m.reads, 'result.reads', 100_000).map((r, i) => decodeRead(r, `result.reads[${i}]`)),
    ...(ranges === undefined ? {} : { ranges }),
    writes: readArray(m.writes, 'result.writes', 100_000).map((w, i) => decodeWrite(w, `result.writes[${i}]`)),
    hashedWrites: readArray(m.hashedWrites, 'result.hashedWrites', 10_000).map((h, i) => decodeHashedWrite(h, `result.hashedWrites[${i}]`)),
    events: readArray(m.events, 'result.events', 1000).map((e, i) => {
      const a = readArray(e, `result.events[${i}]`, 2);
      return { name: readString(a[0], `result.events[${i}][0]`, 128, 1), payload: readString(a[1], `result.events[${i}][1]`, MAX_VALUE_BYTES) };
    }),
    response: readString(m.response, 'result.response', MAX_VALUE_BYTES),
  };
}

/** Encodes an envelope canonically (the bytes that go into a block). */
export function encodeEnvelope(e: Envelope): Uint8Array {
  return encodeCanonical({
    v: e.v,
    proposal: e.proposal,
    signature: e.signature,
    result: e.result,
    endorsements: e.endorsements.map((x) => [x.endorser, x.signature]),
  });
}

/**
 * Decodes an envelope's outer layer only (proposal and result stay bytes): enough for a view
 * that shows who proposed what, at a fraction of a full decode.
 * @throws SilkError MALFORMED naming the failing path; PAYLOAD_TOO_LARGE when oversize
 */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  const m = readMap(decodeCanonical(bytes, { maxBytes: MAX_ENVELOPE_BYTES, maxDepth: 4, maxItems: 1000 }), 'envelope');
  onlyFields(m, 'envelope', ['v', 'proposal', 'signature', 'result', 'endorsements']);
  return {
    v: readVersion(m.v, 'envelope.v', TX_FORMAT_VERSION),
    proposal: readBytes(m.proposal, 'envelope.proposal', undefined, MAX_PROPOSAL_BYTES),
    signature: readBytes(m.signature, 'envelope.signature', undefined, 72),
    result: readBytes(m.result, 'envelope.result', undefined, MAX_ENVELOPE_BYTES),
    endorsements: readArray(m.endorsements, 'envelope.endorsements', 32).map((x, i) => {
      const a = readArray(x, `envelope.endorsements[${i}]`, 2);
      return { endorser: readBytes(a[0], `envelope.endorsements[${i}][0]`, 33), signature: readBytes(a[1], `envelope.endorsements[${i}][1]`, undefined, 72) };
    }),
  };
}

/** An envelope decoded as far as ordering needs: its outer layer and the proposal; the result stays bytes. */
export interface OrderingView {
  readonly envelope: Envelope;
  readonly proposal: Proposal;
  readonly txId: string;
}

/**
 * Decodes what an orderer checks before ordering an envelope (submitter, chain, contract, tx id).
 * The result is not decoded: the peers decode and judge it at validation, where a malformed one
 * is marked MALFORMED.
 * @throws SilkError MALFORMED naming the failing path; PAYLOAD_TOO_LARGE when oversize
 */
export function decodeForOrdering(bytes: Uint8Array): OrderingView {
  const envelope = decodeEnvelope(bytes);
  const proposal = decodeProposal(envelope.proposal);
  return { envelope, proposal, txId: computeTxId(proposal.nonce, proposal.creator) };
}

/**
 * Decodes an envelope and its proposal and result, checking that the result belongs to the proposal.
 * @throws SilkError MALFORMED naming the failing path; PAYLOAD_TOO_LARGE when oversize
 */
export function decodeTransaction(bytes: Uint8Array): DecodedTransaction {
  return decodeResultOf(decodeForOrdering(bytes));
}

const utf8 = new TextEncoder();
const NO_PREFIX = new Uint8Array(0);

/** The keys a transaction wrote, and its id and contract ({@link decodeWrittenKeys}). */
export interface WrittenKeys {
  readonly txId: string;
  readonly contract: string;
  /** Each write's key (under the prefix asked for), and whether it deleted the key; the values are not decoded. */
  readonly writes: readonly { readonly key: string; readonly deleted: boolean }[];
}

/**
 * Decodes an envelope as far as the keys its result writes: the proposal's arguments and the
 * written values (and, with `prefix`, the keys outside it) are checked for canonical structure
 * and left undecoded, and the result is checked to belong to the proposal. For a reader of what
 * a large transaction recorded (the event proofs of a provenance answer,
 * src/traceability/event-proof.ts), several times cheaper than {@link decodeTransaction}.
 * @param options.prefix return only the writes of keys that begin with it
 * @throws SilkError MALFORMED naming the failing path; PAYLOAD_TOO_LARGE when oversize
 * @example const { txId, writes } = decodeWrittenKeys(bytes, { prefix: 'event:' })
 */
export function decodeWrittenKeys(bytes: Uint8Array, options: { readonly prefix?: string } = {}): WrittenKeys {
  const envelope = decodeEnvelope(bytes);
  const proposal = decodeProposalIdentity(envelope.proposal);
  const cursor = new CanonicalCursor(envelope.result, RESULT_LIMITS);
  const prefix = options.prefix === undefined ? NO_PREFIX : utf8.encode(options.prefix);
  const fields: Record<string, CanonicalValue> = {};
  const writes: { key: string; deleted: boolean }[] = [];
  cursor.map((field) => {
    if (!RESULT_FIELDS.includes(field)) throw new SilkError('MALFORMED', `result: unknown field '${field}'`, { path: `result.${field}` });
    if (field === 'writes') {
      cursor.array((i) => {
        let key: string | undefined;
        let deleted = false;
        const length = cursor.array((j) => {
          if (j === 0) {
            // Every key is text; only those under the prefix are decoded.
            if (!cursor.startsWith(NO_PREFIX)) readString(undefined, `result.writes[${i}][0]`);
            if (cursor.startsWith(prefix)) key = readString(cursor.value(), `result.writes[${i}][0]`, MAX_KEY_LENGTH, 1);
            else cursor.pass();
          } else if (j === 1) {
            deleted = cursor.null();
            if (!deleted) cursor.pass();
          } else cursor.pass();
        });
        if (length < 2 || length > 3) throw writeShapeError(`result.writes[${i}]`);
        if (key !== undefined) writes.push({ key, deleted });
      });
      fields.writes = null;
    } else if (field === 'v' || field === 'proposalHash' || field === 'contract') {
      fields[field] = cursor.value();
    } else {
      cursor.pass();
    }
  });
  cursor.end();
  readVersion(fields.v, 'result.v', TX_FORMAT_VERSION);
  const proposalHash = readBytes(fields.proposalHash, 'result.proposalHash', 32);
  const contract = readString(fields.contract, 'result.contract', 64, 1);
  if (fields.writes === undefined) readArray(undefined, 'result.writes');
  if (Buffer.compare(sha256(envelope.proposal), proposalHash) !== 0) throw new SilkError('MALFORMED', 'result.proposalHash does not match the proposal', { path: 'result.proposalHash' });
  if (contract !== proposal.contract) throw new SilkError('MALFORMED', 'result.contract does not match the proposal', { path: 'result.contract' });
  return { txId: computeTxId(proposal.nonce, proposal.creator), contract, writes };
}

/**
 * Completes an ordering view into a whole decoded transaction: decodes its result and checks
 * that the result belongs to the proposal.
 * @throws SilkError MALFORMED naming the failing path
 */
export function decodeResultOf(view: OrderingView): DecodedTransaction {
  const { envelope, proposal } = view;
  const result = decodeTxResult(envelope.result);
  const ph = sha256(envelope.proposal);
  if (Buffer.compare(ph, result.proposalHash) !== 0) throw new SilkError('MALFORMED', 'result.proposalHash does not match the proposal', { path: 'result.proposalHash' });
  if (result.contract !== proposal.contract) throw new SilkError('MALFORMED', 'result.contract does not match the proposal', { path: 'result.contract' });
  return { envelope, proposal, result, txId: view.txId };
}

/**
 * Adds `signer`'s endorsement to an envelope: its signature over the envelope's result, the bytes
 * endorsing peers sign. For policies that name signers other than peers — chiefly an authority
 * principal such as `'Org1.finance@3'`, which only a registered key of that function and level
 * (or an org admin) can satisfy: endorse with peers, co-sign, then order the envelope.
 *
 * @param envelope - An encoded envelope, usually from `Gateway.endorse()`.
 * @param signer - The co-signing key; validation resolves it like any endorser (registered keys included).
 * @returns The envelope with one more endorsement.
 * @throws {SilkError} `MALFORMED` when the envelope does not decode; `INVALID_ARGUMENT` when the key already endorsed it.
 * @example
 * const { envelope } = gateway.endorse(gateway.propose(params, clerk));
 * await gateway.submitEnvelope(chain, cosignEnvelope(envelope, financeManager));
 */
export function cosignEnvelope(envelope: Uint8Array, signer: Signer): Uint8Array {
  const e = decodeEnvelope(envelope);
  if (e.endorsements.some((x) => Buffer.compare(x.endorser, signer.publicKey) === 0)) {
    throw new SilkError('INVALID_ARGUMENT', 'this key has already endorsed the envelope');
  }
  return encodeEnvelope({ ...e, endorsements: [...e.endorsements, { endorser: signer.publicKey, signature: signer.sign(e.result) }] });
}
