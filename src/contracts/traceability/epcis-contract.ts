/**
 * `epcis`: GS1 EPCIS 2.0 events on the ledger (issue 6, items 3 and 4). Clients and the
 * gateway validate a document (`validateEpcisDocument`) before it is submitted; the contract
 * re-checks the fields it relies on, recomputes each event's CBV 2.0 hash ID (pure), keeps a
 * supplied `eventID` (or sets it to the hash), refuses an event whose hash is already recorded,
 * and writes index entries so every query is a range read (or a merge of range reads).
 *
 * An event carrying an `errorDeclaration` has the hash of the event it declares erroneous (the
 * CBV 2.0 hash ignores the declaration): it is recorded against that event, which must be
 * recorded already (earlier, or earlier in the same call) by the same org and not declared yet.
 * An event whose `sensorElementList` a device signed (`silk:sensorSignature`) is recorded only if
 * the signature verifies; whether the device key is registered to the capturing org is checked
 * by the capture routes, which can see the identity registry (a contract cannot: see
 * docs/traceability.md).
 *
 * State layout and the query planner: `src/traceability/epcis-ledger-index.ts`. One
 * `captureEvents` call is one transaction: all of its events are recorded, or none.
 */
import { Type } from '@sinclair/typebox';
import { isSilkError } from '../../errors.js';
import type { JsonValue } from '../../ledger/json-value.js';
import { eventHashId } from '../../traceability/event-hash.js';
import { parseEpc } from '../../traceability/epc-identifiers.js';
import { sensorSignatureMemberOf, verifiedSensorSigner } from '../../traceability/epcis-document-sensor-signature.js';
import { EPCIS_CONTRACT, errorDeclarationIndexKey, eventIdIndexValue, eventKey, eventQueryFromParameters, EVENT_QUERY_LIST_NAMES, EVENT_QUERY_TIME_NAMES, hashHexOf, indexKeysOf, indexValuesOf, MAX_EVENT_PAGE, MAX_EVENTS_PER_CAPTURE, queryEpcisEvents, timeKey, type EpcisEventQuery, type RecordedEpcisEvent, type RecordedErrorDeclaration } from '../../traceability/epcis-ledger-index.js';
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

const ValueList = Type.Union([Type.String({ minLength: 1, maxLength: 45_000 }), Type.Array(Uri, { minItems: 1, maxItems: 64 })]);

/** The EPCIS 2.0 REST binding's query names (see `eventQueryFromParameters`): lists are comma-separated strings or arrays. */
const EventsArgs = Type.Object({
  ...Object.fromEntries(EVENT_QUERY_LIST_NAMES.map((name) => [name, Type.Optional(ValueList)])),
  ...Object.fromEntries(EVENT_QUERY_TIME_NAMES.map((name) => [name, Type.Optional(Time)])),
  EXISTS_errorDeclaration: Type.Optional(Type.Union([Type.Boolean(), Type.Literal(''), Type.Literal('true'), Type.Literal('false')])),
  perPage: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_EVENT_PAGE })),
  nextPageToken: Type.Optional(Type.String({ maxLength: 2048 })),
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

/** The JSON of a record, as state holds it. */
const asJson = (record: RecordedEpcisEvent): JsonValue => record as unknown as JsonValue;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The declaration as recorded: the captured members (extension members kept), `declaredBy` and `txId`. */
function declarationOf(ctx: TransactionContext, value: unknown, where: string): RecordedErrorDeclaration {
  if (!isObject(value)) throw new ContractRefusal(`${where} must be an object`);
  const { declarationTime, reason, correctiveEventIDs, ...others } = value;
  if (typeof declarationTime !== 'string') throw new ContractRefusal(`${where}.declarationTime must be a string`);
  refuseOnInvalid(`${where}.declarationTime`, () => timeKey(declarationTime));
  if (reason !== undefined && typeof reason !== 'string') throw new ContractRefusal(`${where}.reason must be a string`);
  if (correctiveEventIDs !== undefined && (!Array.isArray(correctiveEventIDs) || !correctiveEventIDs.every((id) => typeof id === 'string'))) throw new ContractRefusal(`${where}.correctiveEventIDs must be a list of strings`);
  const extensions = Object.keys(others).filter((name) => !name.includes(':'));
  if (extensions.length > 0) throw new ContractRefusal(`${where}.${extensions[0] ?? ''}: only declarationTime, reason, correctiveEventIDs and extension members (prefix:name) are allowed`);
  return {
    ...(others as Record<string, JsonValue>),
    declarationTime,
    ...(reason === undefined ? {} : { reason }),
    ...(correctiveEventIDs === undefined ? {} : { correctiveEventIDs }),
    declaredBy: ctx.creator.org,
    txId: ctx.txId,
  };
}

/** Records an error declaration against the event it declares (same hash). */
function declareError(ctx: TransactionContext, event: Readonly<Record<string, unknown>>, where: string, hash: string, hex: string): void {
  const at = `${where}.errorDeclaration`;
  const original = ctx.get(eventKey(hex)) as RecordedEpcisEvent | undefined;
  if (original === undefined) throw new ContractRefusal(`${at}: declares event ${hash} erroneous, but it is not recorded; capture the event first (earlier in the same call is fine)`);
  if (original.recordedBy !== ctx.creator.org) throw new ContractRefusal(`${at}: event ${hash} was recorded by ${original.recordedBy}; only ${original.recordedBy} may declare it erroneous`);
  if (original.errorDeclaration !== undefined) throw new ContractRefusal(`${at}: event ${hash} was already declared erroneous (transaction ${original.errorDeclaration.txId}); an event has at most one error declaration`);
  const declaration = declarationOf(ctx, event['errorDeclaration'], at);
  ctx.put(eventKey(hex), asJson({ ...original, errorDeclaration: declaration }));
  ctx.put(errorDeclarationIndexKey(original.event['eventTime'] as string, hex), hex);
}

/**
 * Refuses sensor data signed by a key that is not, now, a device key (function `device`) of the
 * capturing org in the chain's identity registry.
 */
function checkSensorDevice(ctx: TransactionContext, event: Readonly<Record<string, unknown>>, where: string, device: string, namespaces: Readonly<Record<string, string>>): void {
  const path = `${where}.${sensorSignatureMemberOf(event, namespaces) ?? 'sensorSignature'}.device`;
  const id = ctx.identityOf(device);
  if (id === undefined) throw new ContractRefusal(`${path}: device key ${device} is not registered on chain ${ctx.chain}, or not valid now; register it with function device (silk identity register … --function device --device)`);
  if (id.org !== ctx.creator.org || id.function !== 'device') throw new ContractRefusal(`${path}: key ${device} is ${id.org}'s ${id.function ?? id.role} key; sensor data must be signed by a device key (function device) of the capturing org ${ctx.creator.org}`);
}

/** Records one event (or the error declaration it carries); @returns its hash ID. */
function recordEvent(ctx: TransactionContext, event: Readonly<Record<string, unknown>>, index: number, expected: string | undefined, hashContext: CaptureContext): string {
  const where = `events[${index}]`;
  checkShape(event, where);
  const hash = refuseOnInvalid(where, () => eventHashId(event, hashContext));
  if (expected !== undefined && expected !== hash) throw new ContractRefusal(`${where}: its hash is ${hash}, not the ${expected} given`);
  const hex = hashHexOf(hash);
  if (hex === undefined) throw new ContractRefusal(`${where}: unexpected hash form ${hash}`);
  if (event['errorDeclaration'] !== undefined) {
    declareError(ctx, event, where, hash, hex);
    return hash;
  }
  if (ctx.get(eventKey(hex)) !== undefined) throw new ContractRefusal(`${where}: event ${hash} is already recorded`);
  const sensorSignedBy = refuseOnInvalid(where, () => verifiedSensorSigner(event, hashContext.namespaces, where));
  if (sensorSignedBy !== undefined) checkSensorDevice(ctx, event, where, sensorSignedBy, hashContext.namespaces);
  const eventID = typeof event['eventID'] === 'string' ? event['eventID'] : hash;
  const values = refuseOnInvalid(where, () => ({ ...indexValuesOf(event, hashContext.namespaces), eventID: [eventIdIndexValue(eventID)] }));
  const keys = refuseOnInvalid(where, () => indexKeysOf(values, event['eventTime'] as string, hex));
  const record: RecordedEpcisEvent = {
    hash,
    eventID,
    event: { ...(event as Record<string, JsonValue>), eventID },
    namespaces: hashContext.namespaces,
    recordedBy: ctx.creator.org,
    txId: ctx.txId,
    index,
    recordedAt: ctx.timestamp,
    ...(sensorSignedBy === undefined ? {} : { sensorSignedBy }),
  };
  ctx.put(eventKey(hex), asJson(record));
  for (const key of keys) ctx.put(key, hex);
  return hash;
}

function runQuery(ctx: TransactionContext, q: EpcisEventQuery): JsonValue {
  const page = refuseOnInvalid('query', () => queryEpcisEvents(ctx, q));
  return { items: page.items.map(asJson), ...(page.nextPageToken === undefined ? {} : { nextPageToken: page.nextPageToken }) };
}

/** True for an EPC class or pattern (found in quantity lists), false for an instance EPC or another URI. */
function isEpcClass(epc: string): boolean {
  if (!/^urn:epc:/i.test(epc) && !/^https?:\/\//i.test(epc)) return false;
  try {
    return parseEpc(epc).kind !== 'id';
  } catch {
    return false;
  }
}

/** Drops `undefined` members, which the query planner's optional fields do not accept. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The `epcis` contract. */
export class EpcisContract implements Contract {
  readonly name = EPCIS_CONTRACT;
  readonly version = '1.0';
  readonly indexes: readonly StateIndex[] = [];

  readonly functions = {
    /**
     * Records events of one EPCIS document (or one part of it), all or nothing. Each is stored
     * under its hash ID with `recordedBy` (the creator's org) and its `index` in the call; an
     * event with an `errorDeclaration` is recorded against the event it declares. Emits
     * `captured` `{ hashes }` and, when there are declarations, `errorDeclared` `{ hashes }`.
     * @returns `{ hashes }` in event order
     */
    captureEvents: transaction(CaptureEventsArgs, (ctx, a) => {
      if (a.hashes !== undefined && a.hashes.length !== a.events.length) throw new ContractRefusal(`hashes has ${a.hashes.length} entries for ${a.events.length} events`);
      const hashContext: CaptureContext = { namespaces: a.namespaces ?? {}, ignoreFields: a.ignoreFields ?? [] };
      const hashes = a.events.map((event, i) => recordEvent(ctx, event, i, a.hashes?.[i], hashContext));
      ctx.emit('captured', { hashes });
      const declared = hashes.filter((_, i) => a.events[i]?.['errorDeclaration'] !== undefined);
      if (declared.length > 0) ctx.emit('errorDeclared', { hashes: declared });
      return { hashes };
    }),

    /** Events naming an EPC or EPC class (URN or Digital Link form), in event-time order, paginated: `{ items, bookmark? }`. */
    eventsByEpc: query(EventsByEpcArgs, (ctx, a) => {
      const field = refuseOnInvalid('epc', () => (isEpcClass(a.epc) ? 'MATCH_anyEPCClass' : 'MATCH_anyEPC'));
      const page = refuseOnInvalid('query', () => queryEpcisEvents(ctx, defined({ [field]: [a.epc], perPage: a.limit, nextPageToken: a.bookmark })));
      return { items: page.items.map(asJson), ...(page.nextPageToken === undefined ? {} : { bookmark: page.nextPageToken }) };
    }),

    /**
     * Events matching a query in the EPCIS 2.0 REST binding's names (`EQ_bizStep`, `MATCH_anyEPC`,
     * `GE_eventTime`, `EXISTS_errorDeclaration`, `lot`, `perPage`, `nextPageToken`, …; lists mean
     * OR), in event-time order: `{ items, nextPageToken? }`. The same filters as `GET /api/epcis/events`.
     */
    events: query(EventsArgs, (ctx, a) => runQuery(ctx, refuseOnInvalid('query', () => eventQueryFromParameters(a)))),

    /** One event by its hash ID, or `null`. */
    event: query(Type.Object({ hash: HashId }, { additionalProperties: false }), (ctx, { hash }) => {
      const hex = hashHexOf(hash);
      return hex === undefined ? null : (ctx.get(eventKey(hex)) ?? null);
    }),
  };
}
