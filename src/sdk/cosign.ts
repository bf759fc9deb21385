/**
 * Co-signing with the SDK: what an endorsed envelope asks a co-signer to approve, and the
 * co-signature itself, made where the co-signer's key is (it never leaves that machine). A
 * write whose policy names a principal peers cannot be (`'Org1.finance@3'`) goes: the client
 * endorses it (`client.endorse`), each co-signer reads the summary and co-signs
 * (`cosignEnvelope`), and anyone orders the envelope (`client.submitEnvelope`). docs/sdk.md.
 */
import { toHex } from '../crypto/hash.js';
import type { JsonValue } from '../ledger/json-value.js';
import { decodeTransaction } from '../ledger/transaction.js';

export { cosignEnvelope } from '../ledger/transaction.js';

/** A write of an envelope's result, as a co-signer reads it. */
export interface EnvelopeWrite {
  readonly key: string;
  /** The value written; `null` deletes the key. */
  readonly value: JsonValue | null;
  /** A key-level policy the write sets for later writes of the key. */
  readonly policy?: string;
}

/** What an endorsed envelope does and who endorsed it. */
export interface EnvelopeSummary {
  readonly txId: string;
  readonly chain: string;
  readonly contract: string;
  readonly version: string;
  readonly fn: string;
  readonly args: JsonValue;
  /** The creator's public key, hex. */
  readonly creator: string;
  /** When the creator signed the proposal, ISO 8601. */
  readonly signedAt: string;
  readonly writes: readonly EnvelopeWrite[];
  /** The endorsers' public keys so far, hex (a co-signer's own included once it signed). */
  readonly endorsers: readonly string[];
}

/**
 * Reads an envelope for a co-signer: the proposal, the writes it would make and its endorsers.
 * @throws SilkError MALFORMED when the bytes are not an envelope
 * @example const s = summarizeEnvelope(endorsed.envelope); console.log(s.contract, s.fn, s.writes)
 */
export function summarizeEnvelope(envelope: Uint8Array): EnvelopeSummary {
  const d = decodeTransaction(envelope);
  const p = d.proposal;
  return {
    txId: d.txId,
    chain: p.chain,
    contract: p.contract,
    version: p.version,
    fn: p.fn,
    // Plain objects, as a caller compares and prints them (the decoder's maps inherit nothing).
    args: JSON.parse(JSON.stringify(p.args)) as JsonValue,
    creator: toHex(p.creator),
    signedAt: new Date(p.ts).toISOString(),
    writes: d.result.writes.map((w) => ({ key: w.key, value: w.value === null ? null : (JSON.parse(w.value) as JsonValue), ...(w.policy === undefined ? {} : { policy: w.policy }) })),
    endorsers: d.envelope.endorsements.map((e) => toHex(e.endorser)),
  };
}
