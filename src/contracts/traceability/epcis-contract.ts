/**
 * `epcis`: GS1 EPCIS 2.0 events on the ledger (issue 6, items 3 and 4). Clients and the
 * gateway validate a document (`validateEpcisDocument`) before it is submitted; the contract
 * re-checks the fields it relies on, recomputes each event's CBV 2.0 hash ID (pure), keeps a
 * supplied `eventID` (or sets it to the hash), refuses an event whose hash is already recorded,
 * and writes index entries so every query is a range read.
 *
 * State layout and the query planner: `src/traceability/epcis-ledger-index.ts`. One
 * `captureEvents` call is one transaction: all of its events are recorded, or none.
 */
import { Type } from '@sinclair/typebox';
import { isSilkError } from '../../errors.js';
import type { JsonValue } from '../../ledger/json-value.js';
import { eventHashId } from '../../traceability/event-hash.js';
import { eventKey, hashHexOf, indexKeysOf, indexValuesOf, MAX_EVENT_PAGE, MAX_EVENTS_PER_CAPTURE, queryEpcisEvents, type EpcisEventQuery, type RecordedEpcisEvent } from '../../traceability/epcis-ledger-index.js';
export { MAX_EVENTS_PER_CAPTURE } from '../../traceability/epcis-ledger-index.js';
import { ContractRefusal, query, transaction, type Contract, type StateIndex, type TransactionContext } from '../framework/contract.js';

const Uri = Type.String({ minLength: 1, maxLength: 700 });
const Time = Type.String({ minLength: 20, maxLength: 40 });
const HashId = Type.String({ pattern: '^ni:///sha-256;[0-9a-f]{64}\\?ver=CBV2\\.0$' });
const EventObject = Type.Record(Type.String(), Type.Unknown());

const CaptureEventsArgs = Type.Object({
  /** The events as in the document's `eventList`, validated and unchanged. */
  events: Type.Array(EventObject, { minItems: 1, maxItems: MAX_EVENTS_PER_CAPTURE }),
  /** The hash IDs the client computed, in event order; the contract checks them when given. */
  hashes: Type.Optional(Type.Array(HashId, { maxItems: MAX_EVENTS_PER_CAPTURE })),
  /** Prefixes of the document's inline JSON-LD context (the event hash expands CURIEs with them). */
  namespaces: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Uri)),
  /** The document's `ignoreFields`, if any. */
  ignoreFields: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 64 })),
}, { additionalProperties: false });

const EventsArgs = Type.Object({
  epc: Type.Optional(Uri),
  bizStep: Type.Optional(Uri),
  disposition: Type.Optional(Uri),
  readPoint: Type.Optional(Uri),
  bizLocation: Type.Optional(Uri),
  from: Type.Optional(Time),
  to: Type.Optional(Time),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_EVENT_PAGE })),
  bookmark: Type.Optional(Type.String({ maxLength: 2048 })),
}, { additionalProperties: false });

const EventsByEpcArgs = Type.Object({
  epc: Uri,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_EVENT_PAGE })),
  bookmark: Type.Optional(Type.String({ maxLength: 2048 })),
}, { additionalProperties: false });

/** Runs pure traceability code, turning its INVALID_ARGUMENT into a refusal naming the event. */
function refuseOnInvalid<T>(where: string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (isSilkError(e) && e.code === 'INVALID_ARGUMENT') throw new ContractRefusal(`${where}: ${e.message}`);
    throw e;
  }
}

function checkShape(event: Readonly<Record<string, unknown>>, where: string): void {
  if (typeof event['type'] !== 'string') throw new ContractRefusal(`${where}.type must be a string`);
  if (typeof event['eventTime'] !== 'string') throw new ContractRefusal(`${where}.eventTime must be a string`);
  if (typeof event['eventTimeZoneOffset'] !== 'string') throw new ContractRefusal(`${where}.eventTimeZoneOffset must be a string`);
  if (event['eventID'] !== undefined && typeof event['eventID'] !== 'string') throw new ContractRefusal(`${where}.eventID must be a string`);
}

interface CaptureContext {
  readonly namespaces: Readonly<Record<string, string>>;
  readonly ignoreFields: readonly string[];
}

/** Records one event; @returns its hash ID. */
function recordEvent(ctx: TransactionContext, event: Readonly<Record<string, unknown>>, index: number, expected: string | undefined, hashContext: CaptureContext): string {
  const where = `events[${index}]`;
  checkShape(event, where);
  const hash = refuseOnInvalid(where, () => eventHashId(event, hashContext));
  if (expected !== undefined && expected !== hash) throw new ContractRefusal(`${where}: its hash is ${hash}, not the ${expected} given`);
  const hex = hashHexOf(hash);
  if (hex === undefined) throw new ContractRefusal(`${where}: unexpected hash form ${hash}`);
  if (ctx.get(eventKey(hex)) !== undefined) throw new ContractRefusal(`${where}: event ${hash} is already recorded`);
  const values = refuseOnInvalid(where, () => indexValuesOf(event));
  const keys = refuseOnInvalid(where, () => indexKeysOf(values, event['eventTime'] as string, hex));
  const eventID = typeof event['eventID'] === 'string' ? event['eventID'] : hash;
  const record: RecordedEpcisEvent = {
    hash,
    eventID,
    event: { ...(event as Record<string, JsonValue>), eventID },
    namespaces: hashContext.namespaces,
    recordedBy: ctx.creator.org,
    txId: ctx.txId,
    recordedAt: ctx.timestamp,
  };
  ctx.put(eventKey(hex), record);
  for (const key of keys) ctx.put(key, hex);
  return hash;
}

function runQuery(ctx: TransactionContext, q: EpcisEventQuery): JsonValue {
  const page = refuseOnInvalid('query', () => queryEpcisEvents(ctx, q));
  return { items: page.items, ...(page.bookmark === undefined ? {} : { bookmark: page.bookmark }) };
}

/** Drops `undefined` members, which the query planner's optional fields do not accept. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The `epcis` contract. */
export class EpcisContract implements Contract {
  readonly name = 'epcis';
  readonly version = '1.0';
  readonly indexes: readonly StateIndex[] = [];

  readonly functions = {
    /**
     * Records events of one EPCIS document (or one part of it), all or nothing. Each is stored
     * under its hash ID with `recordedBy` (the creator's org); emits `captured` `{ hashes }`.
     * @returns `{ hashes }` in event order
     */
    captureEvents: transaction(CaptureEventsArgs, (ctx, a) => {
      if (a.hashes !== undefined && a.hashes.length !== a.events.length) throw new ContractRefusal(`hashes has ${a.hashes.length} entries for ${a.events.length} events`);
      const hashContext: CaptureContext = { namespaces: a.namespaces ?? {}, ignoreFields: a.ignoreFields ?? [] };
      const hashes = a.events.map((event, i) => recordEvent(ctx, event, i, a.hashes?.[i], hashContext));
      ctx.emit('captured', { hashes });
      return { hashes };
    }),

    /** Events naming an EPC or EPC class (URN or Digital Link form), in event-time order, paginated. */
    eventsByEpc: query(EventsByEpcArgs, (ctx, a) => runQuery(ctx, defined(a))),

    /** Events matching equality filters and an `eventTime` window `[from, to)`, in event-time order, paginated. */
    events: query(EventsArgs, (ctx, a) => runQuery(ctx, defined(a))),

    /** One event by its hash ID, or `null`. */
    event: query(Type.Object({ hash: HashId }, { additionalProperties: false }), (ctx, { hash }) => {
      const hex = hashHexOf(hash);
      return hex === undefined ? null : (ctx.get(eventKey(hex)) ?? null);
    }),
  };
}
