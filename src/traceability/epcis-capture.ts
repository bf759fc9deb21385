/**
 * EPCIS capture: validate a document, compute its event hashes, and submit it to the `epcis`
 * contract through whatever submits transactions (an in-process Gateway or the SDK).
 *
 * All or nothing, like the REST binding's `GS1-Capture-Error-Behaviour: rollback`: a document
 * is one transaction, so either every event is recorded or none is. One transaction holds at
 * most {@link MAX_EVENTS_PER_CAPTURE} events and {@link MAX_CAPTURE_BYTES} bytes of event JSON
 * (the proposal carries the events and the write set carries them again, and a transaction
 * envelope is at most 2 MiB). A bigger document is refused before anything is submitted
 * (`PAYLOAD_TOO_LARGE`), never half recorded. A caller that accepts partial recording may ask
 * for `behaviour: 'proceed'`: the document is split into parts within those limits, each part
 * atomic, submitted in order; a failure stops there and says how many parts committed.
 */
import { SilkError } from '../errors.js';
import type { JsonValue } from '../ledger/json-value.js';
import { validateEpcisDocument, type ValidateEpcisDocumentResult } from './epcis-document.js';
import { indexKeysOf, indexValuesOf, MAX_EVENTS_PER_CAPTURE } from './epcis-ledger-index.js';
import { documentEventHashes, eventHashContextOf } from './event-hash.js';

export { MAX_EVENTS_PER_CAPTURE } from './epcis-ledger-index.js';

/** Most bytes of event JSON in one capture transaction (512 KiB). */
export const MAX_CAPTURE_BYTES = 512 * 1024;

/**
 * Most bytes a capture transaction's envelope may be estimated at: the envelope carries each
 * event twice (in the proposal and in the write set's record) plus one index entry per value
 * the event is indexed by (an aggregation of 40 children writes 40+), and the ordering
 * service refuses envelopes over 2 MiB (`MAX_ENVELOPE_BYTES`); this leaves room for the
 * proposal header, endorsements and response.
 */
export const MAX_CAPTURE_ENVELOPE_BYTES = 1536 * 1024;
/** Bytes an index entry adds to the write set besides its key: the hash value and encoding. */
const INDEX_ENTRY_OVERHEAD = 80;

/** What one event adds to its capture transaction's envelope, estimated from its JSON and its index entries. */
function envelopeCost(event: Readonly<Record<string, unknown>>, namespaces: Readonly<Record<string, string>>, size: number): number {
  let keys = 0;
  try {
    const time = typeof event['eventTime'] === 'string' ? event['eventTime'] : '1970-01-01T00:00:00Z';
    for (const key of indexKeysOf(indexValuesOf(event, namespaces), time, '0'.repeat(64))) keys += key.length + INDEX_ENTRY_OVERHEAD;
  } catch {
    // The contract refuses an event it cannot index, naming it; count its JSON only.
  }
  return 2 * size + keys;
}

/** The argument of one `epcis.captureEvents` transaction. */
export interface CaptureEventsArgs {
  readonly events: readonly JsonValue[];
  readonly hashes: readonly string[];
  readonly namespaces: Readonly<Record<string, string>>;
  readonly ignoreFields: readonly string[];
  readonly [field: string]: JsonValue;
}

/** A validated document, ready to submit. */
export interface PreparedCapture {
  readonly validated: ValidateEpcisDocumentResult;
  /** Hash IDs in event order. */
  readonly hashes: readonly string[];
  /** The transactions' arguments, in order: one part unless the document exceeds the limits. */
  readonly parts: readonly CaptureEventsArgs[];
}

/** Options of {@link prepareCapture}. */
export interface PrepareCaptureOptions {
  /** Events per transaction, 1..{@link MAX_EVENTS_PER_CAPTURE} (default the maximum). */
  readonly maxEventsPerTransaction?: number;
  /** Bytes of event JSON per transaction (default {@link MAX_CAPTURE_BYTES}). */
  readonly maxBytesPerTransaction?: number;
}

/**
 * Validates an EPCIS document and splits it into `captureEvents` arguments.
 * @param document - a parsed EPCISDocument or EPCISQueryDocument
 * @returns the validation result, hashes and transaction parts
 * @throws SilkError `INVALID_ARGUMENT` with `details.path` at the first problem (see validateEpcisDocument);
 *   `PAYLOAD_TOO_LARGE` when one event alone exceeds the byte limit
 * @example const { parts } = prepareCapture(JSON.parse(text)); parts.length // 1
 */
export function prepareCapture(document: unknown, options: PrepareCaptureOptions = {}): PreparedCapture {
  const maxEvents = options.maxEventsPerTransaction ?? MAX_EVENTS_PER_CAPTURE;
  if (!Number.isInteger(maxEvents) || maxEvents < 1 || maxEvents > MAX_EVENTS_PER_CAPTURE) throw new RangeError(`maxEventsPerTransaction must be 1..${MAX_EVENTS_PER_CAPTURE}`);
  const maxBytes = options.maxBytesPerTransaction ?? MAX_CAPTURE_BYTES;
  const validated = validateEpcisDocument(document);
  const hashes = documentEventHashes(document).map((h) => h.hashId);
  const context = eventHashContextOf(document);
  const shared = { namespaces: { ...(context.namespaces ?? {}) }, ignoreFields: [...(context.ignoreFields ?? [])] };
  const parts: CaptureEventsArgs[] = [];
  let events: JsonValue[] = [];
  let partHashes: string[] = [];
  let bytes = 0;
  let envelope = 0;
  validated.events.forEach((event, i) => {
    const size = Buffer.byteLength(JSON.stringify(event.original));
    if (size > maxBytes) throw new SilkError('PAYLOAD_TOO_LARGE', `${event.path} is ${size} bytes; one capture transaction holds at most ${maxBytes} bytes of events`, { path: event.path });
    const cost = envelopeCost(event.original, shared.namespaces, size);
    if (cost > MAX_CAPTURE_ENVELOPE_BYTES) throw new SilkError('PAYLOAD_TOO_LARGE', `${event.path} would make a transaction of about ${cost} bytes with its index entries; one holds at most ${MAX_CAPTURE_ENVELOPE_BYTES}`, { path: event.path });
    if (events.length === maxEvents || bytes + size > maxBytes || envelope + cost > MAX_CAPTURE_ENVELOPE_BYTES) {
      parts.push({ events, hashes: partHashes, ...shared });
      events = [];
      partHashes = [];
      bytes = 0;
      envelope = 0;
    }
    events.push(event.original as JsonValue);
    partHashes.push(hashes[i] ?? '');
    bytes += size;
    envelope += cost;
  });
  if (events.length > 0) parts.push({ events, hashes: partHashes, ...shared });
  return { validated, hashes, parts };
}

/** What submits one transaction and waits for its commit (a Gateway or SDK client with a signer bound). */
export type CaptureSubmit = (params: { readonly chain: string; readonly contract: string; readonly fn: string; readonly args: JsonValue }) => Promise<{ readonly txId: string; readonly code: string; readonly blockNumber: number }>;

/** Options of {@link captureDocument}. */
export interface CaptureDocumentOptions extends PrepareCaptureOptions {
  readonly chain: string;
  /** `rollback` (default): one transaction or nothing. `proceed`: atomic parts in order. */
  readonly behaviour?: 'rollback' | 'proceed';
  /** Called after each committed part. */
  readonly onProgress?: (committedEvents: number, totalEvents: number) => void;
}

/** One committed capture transaction. */
export interface CaptureTransaction {
  readonly txId: string;
  readonly blockNumber: number;
  readonly events: number;
}

/** Result of {@link captureDocument}. */
export interface CaptureDocumentResult {
  /** Hash IDs in event order. */
  readonly hashes: readonly string[];
  /** Each event's `eventID` as recorded (the supplied one, else its hash). */
  readonly eventIDs: readonly string[];
  readonly transactions: readonly CaptureTransaction[];
}

/**
 * Validates, hashes and records an EPCIS document on `chain` with the `epcis` contract.
 * @param document - a parsed EPCIS document
 * @param submit - submits one transaction (e.g. `(p) => gateway.submit(p, signer)`)
 * @returns hashes, eventIDs and the committed transactions
 * @throws SilkError `INVALID_ARGUMENT` (with `details.path`) for an invalid document, nothing submitted;
 *   `PAYLOAD_TOO_LARGE` when `rollback` and the document needs more than one transaction, nothing
 *   submitted; the submit's error (refusal, invalid commit) otherwise, with `details.committedEvents`
 *   when earlier parts of a `proceed` capture committed
 * @example await captureDocument(doc, (p) => gateway.submit(p, signer), { chain: 'product' })
 */
export async function captureDocument(document: unknown, submit: CaptureSubmit, options: CaptureDocumentOptions): Promise<CaptureDocumentResult> {
  const prepared = prepareCapture(document, options);
  const total = prepared.hashes.length;
  if ((options.behaviour ?? 'rollback') === 'rollback' && prepared.parts.length > 1) {
    throw new SilkError('PAYLOAD_TOO_LARGE', `the document has ${total} events (${prepared.parts.length} transactions' worth); an all-or-nothing capture is one transaction of at most ${options.maxEventsPerTransaction ?? MAX_EVENTS_PER_CAPTURE} events and ${options.maxBytesPerTransaction ?? MAX_CAPTURE_BYTES} bytes of events: split the document, or capture it in atomic parts (behaviour 'proceed')`);
  }
  const transactions: CaptureTransaction[] = [];
  let committed = 0;
  for (const part of prepared.parts) {
    try {
      const r = await submit({ chain: options.chain, contract: 'epcis', fn: 'captureEvents', args: part });
      if (r.code !== 'VALID') throw new SilkError('CONTRACT_ERROR', `capture transaction ${r.txId} committed as ${r.code}: its events were not recorded`, { txId: r.txId });
      transactions.push({ txId: r.txId, blockNumber: r.blockNumber, events: part.events.length });
    } catch (e) {
      if (committed > 0 && e instanceof SilkError) {
        throw new SilkError(e.code, `${e.message} (${committed} of ${total} events were recorded by earlier transactions)`, { ...e.details, committedEvents: committed }, { cause: e });
      }
      throw e;
    }
    committed += part.events.length;
    options.onProgress?.(committed, total);
  }
  const eventIDs = prepared.validated.events.map((e, i) => e.eventID ?? prepared.hashes[i] ?? '');
  return { hashes: prepared.hashes, eventIDs, transactions };
}
