/**
 * Validation of EPCIS 2.0 JSON-LD documents (`EPCISDocument`, `EPCISQueryDocument`) for
 * capture, all-or-nothing: the first problem found rejects the whole document.
 *
 * Stages, in order:
 * 1. the GS1 EPCIS 2.0 JSON schema (vendored, draft-07, ajv with formats), with
 *    two deliberate relaxations: CBV values may also be in URN form (checked by the vocabulary), and
 *    the document `id` may be a JSON-LD blank node (`_:document1`),
 *    as every GS1 example has, which the schema's `format: "uri"` refuses;
 * 2. the `@context`: known GS1 context URLs map to vendored copies, inline objects declare
 *    extension prefixes, any other remote context is rejected (never fetched);
 * 3. the checks the schema cannot make: every member name of the form `prefix:name` uses a
 *    declared prefix; EPCs and location/party identifiers (EPC URN or GS1 Digital Link, with
 *    check digits); CBV vocabulary (bare, URN and web forms); RFC 3339 timestamps with an
 *    offset, and `eventTimeZoneOffset` within ±14:00.
 *
 * Pure: no clock, no network; the vendored schema and contexts are read once from disk.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { SilkError } from '../errors.js';
import { type EpcisContext, memberPath, resolveEpcisContext, undeclaredPrefixProblem } from './epcis-contexts.js';
import { canonicalIdentifier, normaliseVocabulary, type VocabularyKind } from './epcis-document-semantics.js';

/** The five EPCIS 2.0 event types. Extended (non-standard) types are URIs. */
export type EpcisEventType = 'ObjectEvent' | 'AggregationEvent' | 'TransactionEvent' | 'TransformationEvent' | 'AssociationEvent';

/** An EPC class with its amount, from a quantity list. */
export interface ValidatedQuantity {
  /** The class identifier in canonical (GS1 Digital Link) form. */
  readonly epcClass: string;
  readonly quantity: number | undefined;
  readonly uom: string | undefined;
}

/** A source or destination: its CBV type (normalised) and its party or location. */
export interface ValidatedSourceOrDestination {
  readonly type: string;
  /** Canonical (GS1 Digital Link) form for GS1 identifiers; other URIs as given. */
  readonly id: string;
}

/** A business transaction reference. */
export interface ValidatedBizTransaction {
  /** Normalised CBV type, or the given URI for a non-CBV type; absent when not given. */
  readonly type: string | undefined;
  readonly bizTransaction: string;
}

/** An error declaration, normalised. */
export interface ValidatedErrorDeclaration {
  /** Exactly as given. */
  readonly declarationTime: string;
  readonly reason: string | undefined;
  readonly correctiveEventIDs: readonly string[];
}

/** One event of a document after validation, with the fields later stages need normalised. */
export interface ValidatedEvent {
  /** JSON path of the event in the document, e.g. `epcisBody.eventList[0]`. */
  readonly path: string;
  /** Position in the event list. */
  readonly index: number;
  /** An {@link EpcisEventType}, or the URI of an extended event type. */
  readonly type: string;
  readonly eventID: string | undefined;
  /** Exactly as given (microseconds and offset kept), for round trips. */
  readonly eventTime: string;
  /** `eventTime` as microseconds since 1970-01-01T00:00:00Z (digits past microseconds dropped). */
  readonly eventTimeMicros: bigint;
  readonly eventTimeZoneOffset: string;
  readonly recordTime: string | undefined;
  readonly action: 'ADD' | 'OBSERVE' | 'DELETE' | undefined;
  /** Normalised CBV business step, or the given URI for a non-CBV step. */
  readonly bizStep: string | undefined;
  readonly disposition: string | undefined;
  readonly persistentDisposition: { readonly set: readonly string[]; readonly unset: readonly string[] } | undefined;
  /** Identifiers below: canonical GS1 Digital Link form for GS1 keys, other URIs as given. */
  readonly readPoint: string | undefined;
  readonly bizLocation: string | undefined;
  readonly parentID: string | undefined;
  readonly epcList: readonly string[];
  readonly childEPCs: readonly string[];
  readonly inputEPCList: readonly string[];
  readonly outputEPCList: readonly string[];
  readonly quantityList: readonly ValidatedQuantity[];
  readonly childQuantityList: readonly ValidatedQuantity[];
  readonly inputQuantityList: readonly ValidatedQuantity[];
  readonly outputQuantityList: readonly ValidatedQuantity[];
  readonly transformationID: string | undefined;
  readonly bizTransactions: readonly ValidatedBizTransaction[];
  readonly sources: readonly ValidatedSourceOrDestination[];
  readonly destinations: readonly ValidatedSourceOrDestination[];
  readonly errorDeclaration: ValidatedErrorDeclaration | undefined;
  /** The event object exactly as given (not copied: treat as read-only). */
  readonly original: Readonly<Record<string, unknown>>;
  /** The JSON-LD context in force for the event (the document's, plus the event's own). */
  readonly context: EpcisContext;
}

/** Result of {@link validateEpcisDocument}. */
export interface ValidateEpcisDocumentResult {
  readonly type: 'EPCISDocument' | 'EPCISQueryDocument';
  /** The events in document order. */
  readonly events: readonly ValidatedEvent[];
  /** The document's JSON-LD context. */
  readonly context: EpcisContext;
}

const SCHEMA_URL = new URL('../../vendor/epcis/EPCIS-JSON-Schema.json', import.meta.url);
let compiledSchema: ValidateFunction | undefined;

/** A document `id` that is a URI (the schema's rule) or a JSON-LD blank node identifier. */
const DOCUMENT_ID_SCHEMA = { anyOf: [{ $ref: '#/definitions/id' }, { type: 'string', pattern: '^_:[^\\s]+$' }] };

function schemaValidator(): ValidateFunction {
  if (compiledSchema !== undefined) return compiledSchema;
  const schema = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as { definitions: Record<string, { properties: Record<string, unknown> }> };
  // The vendored file stays byte-identical to GS1's; the blank-node relaxation is applied here,
  // to the two document definitions only (events' identifiers stay URIs).
  for (const name of ['epcisDocument', 'epcisQueryDocument']) {
    const definition = schema.definitions[name];
    if (definition === undefined) throw new SilkError('INTERNAL', `the vendored EPCIS schema has no ${name} definition`);
    definition.properties['id'] = DOCUMENT_ID_SCHEMA;
  }
  // CBV values are accepted in their bare, URN and web forms (the JSON schema keeps URN forms
  // out): any URI passes the schema here, and the vocabulary check then refuses unknown
  // standard terms in every form and keeps other URIs as user extensions.
  if (schema.definitions['vocab-other-uri'] === undefined) throw new SilkError('INTERNAL', 'the vendored EPCIS schema has no vocab-other-uri definition');
  (schema.definitions as Record<string, unknown>)['vocab-other-uri'] = { type: 'string', format: 'uri' };
  const ajv = new Ajv({ strict: false, allErrors: false });
  addFormatsModule.default(ajv);
  compiledSchema = ajv.compile(schema);
  return compiledSchema;
}

/**
 * Validates an EPCIS 2.0 document for capture, all or nothing.
 * @param json - the parsed JSON body (an `EPCISDocument` or `EPCISQueryDocument`)
 * @returns the events with their normalised fields, and the document's context
 * @throws SilkError `INVALID_ARGUMENT` on the first problem; `details.path` is its JSON path
 *   (e.g. `epcisBody.eventList[0].sourceList`; `""` for the document itself) and the message
 *   starts with that path
 * @example
 * const { events } = validateEpcisDocument(JSON.parse(body));
 * events[0]?.epcList; // ['https://id.gs1.org/01/00614141073467/21/2017', …]
 */
export function validateEpcisDocument(json: unknown): ValidateEpcisDocumentResult {
  if (!isPlainObject(json)) throw invalid('', 'an EPCIS document must be a JSON object');
  const type = json['type'];
  if (type !== 'EPCISDocument' && type !== 'EPCISQueryDocument') {
    throw invalid('type', `expected "EPCISDocument" or "EPCISQueryDocument", got ${describeValue(type)}`);
  }
  const validate = schemaValidator();
  if (!validate(json)) throw schemaFailure(validate.errors ?? [], json);

  const context = resolveEpcisContext(json['@context'], '@context');
  checkTimestamp(json['creationDate'], 'creationDate');
  checkMemberNames(json, '', context);

  const { list, path } = eventList(json, type);
  const events = list.map((event, index) => validateEvent(event, `${path}[${index}]`, index, context));
  return { type, events, context };
}

function eventList(doc: Record<string, unknown>, type: 'EPCISDocument' | 'EPCISQueryDocument'): { list: Record<string, unknown>[]; path: string } {
  // The schema has already guaranteed the shape; these reads only narrow types.
  const body = doc['epcisBody'] as Record<string, unknown>;
  if (type === 'EPCISDocument') return { list: body['eventList'] as Record<string, unknown>[], path: 'epcisBody.eventList' };
  const results = body['queryResults'] as Record<string, unknown>;
  const resultsBody = results['resultsBody'] as Record<string, unknown>;
  return { list: resultsBody['eventList'] as Record<string, unknown>[], path: 'epcisBody.queryResults.resultsBody.eventList' };
}

// ---------------------------------------------------------------------------------------------
// Events

function validateEvent(event: Record<string, unknown>, path: string, index: number, documentContext: EpcisContext): ValidatedEvent {
  const context = '@context' in event ? resolveEpcisContext(event['@context'], join(path, '@context'), documentContext) : documentContext;
  const at = (name: string): string => join(path, name);

  const eventTime = checkTimestamp(event['eventTime'], at('eventTime'));
  const eventTimeZoneOffset = checkZoneOffset(event['eventTimeZoneOffset'], at('eventTimeZoneOffset'));
  const recordTime = optional(event['recordTime'], (v) => checkTimestamp(v, at('recordTime')));
  checkSensorElements(event['sensorElementList'], at('sensorElementList'));

  return {
    path,
    index,
    type: event['type'] as string,
    eventID: optionalString(event['eventID']),
    eventTime: eventTime.text,
    eventTimeMicros: eventTime.micros,
    eventTimeZoneOffset,
    recordTime: recordTime?.text,
    action: event['action'] as ValidatedEvent['action'],
    bizStep: optional(event['bizStep'], (v) => vocabulary('bizStep', v, at('bizStep'))),
    disposition: optional(event['disposition'], (v) => vocabulary('disposition', v, at('disposition'))),
    persistentDisposition: optional(event['persistentDisposition'], (v) => persistentDisposition(v, at('persistentDisposition'))),
    readPoint: optional(event['readPoint'], (v) => identifier(field(v, 'id'), join(at('readPoint'), 'id'))),
    bizLocation: optional(event['bizLocation'], (v) => identifier(field(v, 'id'), join(at('bizLocation'), 'id'))),
    parentID: optional(event['parentID'], (v) => identifier(v, at('parentID'))),
    epcList: identifierList(event['epcList'], at('epcList')),
    childEPCs: identifierList(event['childEPCs'], at('childEPCs')),
    inputEPCList: identifierList(event['inputEPCList'], at('inputEPCList')),
    outputEPCList: identifierList(event['outputEPCList'], at('outputEPCList')),
    quantityList: quantityList(event['quantityList'], at('quantityList')),
    childQuantityList: quantityList(event['childQuantityList'], at('childQuantityList')),
    inputQuantityList: quantityList(event['inputQuantityList'], at('inputQuantityList')),
    outputQuantityList: quantityList(event['outputQuantityList'], at('outputQuantityList')),
    transformationID: optionalString(event['transformationID']),
    bizTransactions: bizTransactions(event['bizTransactionList'], at('bizTransactionList')),
    sources: sourcesOrDestinations(event['sourceList'], at('sourceList'), 'source'),
    destinations: sourcesOrDestinations(event['destinationList'], at('destinationList'), 'destination'),
    errorDeclaration: optional(event['errorDeclaration'], (v) => errorDeclaration(v, at('errorDeclaration'))),
    original: event,
    context,
  };
}

function identifier(value: unknown, path: string): string {
  return canonicalIdentifier(value as string, path);
}

function identifierList(value: unknown, path: string): string[] {
  if (value === undefined) return [];
  return (value as string[]).map((epc, i) => identifier(epc, `${path}[${i}]`));
}

function quantityList(value: unknown, path: string): ValidatedQuantity[] {
  if (value === undefined) return [];
  return (value as Record<string, unknown>[]).map((element, i) => ({
    epcClass: identifier(element['epcClass'], `${path}[${i}].epcClass`),
    quantity: element['quantity'] as number | undefined,
    uom: optionalString(element['uom']),
  }));
}

function bizTransactions(value: unknown, path: string): ValidatedBizTransaction[] {
  if (value === undefined) return [];
  return (value as Record<string, unknown>[]).map((element, i) => ({
    type: optional(element['type'], (v) => vocabulary('bizTransactionType', v, `${path}[${i}].type`)),
    bizTransaction: element['bizTransaction'] as string,
  }));
}

function sourcesOrDestinations(value: unknown, path: string, member: 'source' | 'destination'): ValidatedSourceOrDestination[] {
  if (value === undefined) return [];
  return (value as Record<string, unknown>[]).map((element, i) => ({
    type: vocabulary('sourceDestinationType', element['type'], `${path}[${i}].type`),
    id: identifier(element[member], `${path}[${i}].${member}`),
  }));
}

function persistentDisposition(value: unknown, path: string): { set: string[]; unset: string[] } {
  const list = (name: 'set' | 'unset'): string[] =>
    ((field(value, name) ?? []) as string[]).map((d, i) => vocabulary('disposition', d, `${path}.${name}[${i}]`));
  return { set: list('set'), unset: list('unset') };
}

function errorDeclaration(value: unknown, path: string): ValidatedErrorDeclaration {
  return {
    declarationTime: checkTimestamp(field(value, 'declarationTime'), `${path}.declarationTime`).text,
    reason: optional(field(value, 'reason'), (v) => vocabulary('errorReason', v, `${path}.reason`)),
    correctiveEventIDs: (field(value, 'correctiveEventIDs') ?? []) as string[],
  };
}

/** Sensor data: timestamps and measurement, alert and component vocabulary. Adds no fields. */
function checkSensorElements(value: unknown, path: string): void {
  if (value === undefined) return;
  (value as Record<string, unknown>[]).forEach((element, i) => {
    const elementPath = `${path}[${i}]`;
    const metadata = element['sensorMetadata'];
    for (const name of ['time', 'startTime', 'endTime']) {
      optional(field(metadata, name), (v) => checkTimestamp(v, `${elementPath}.sensorMetadata.${name}`));
    }
    (element['sensorReport'] as Record<string, unknown>[]).forEach((report, j) => {
      const reportPath = `${elementPath}.sensorReport[${j}]`;
      vocabulary('measurementType', report['type'], `${reportPath}.type`);
      optional(report['exception'], (v) => vocabulary('sensorAlertType', v, `${reportPath}.exception`));
      optional(report['component'], (v) => vocabulary('component', v, `${reportPath}.component`));
      optional(report['time'], (v) => checkTimestamp(v, `${reportPath}.time`));
    });
  });
}

function vocabulary(kind: VocabularyKind, value: unknown, path: string): string {
  return normaliseVocabulary(kind, value as string, path);
}

// ---------------------------------------------------------------------------------------------
// Extension member names

/**
 * Every member name of the form `prefix:name` (an extension field, in events, in `ilmd`, in
 * sensor data, in the header, or nested inside another extension) must use a prefix some
 * `@context` in force declares. Absolute IRIs (`https://…`, `urn:…`) are accepted as they are.
 */
function checkMemberNames(value: unknown, path: string, context: EpcisContext): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => { checkMemberNames(item, `${path}[${i}]`, context); });
    return;
  }
  if (!isPlainObject(value)) return;
  const inner = path !== '' && '@context' in value ? resolveEpcisContext(value['@context'], join(path, '@context'), context) : context;
  for (const [name, member] of Object.entries(value)) {
    if (name === '@context') continue;
    const memberAt = join(path, name);
    const problem = undeclaredPrefixProblem(name, inner);
    if (problem !== undefined) throw invalid(memberAt, problem);
    checkMemberNames(member, memberAt, inner);
  }
}

// ---------------------------------------------------------------------------------------------
// Timestamps

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):(\d{2}))$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

interface CheckedTimestamp {
  readonly text: string;
  readonly micros: bigint;
}

/**
 * An RFC 3339 / xsd:dateTimeStamp timestamp: `T` separator, an explicit offset (`Z` or
 * `±hh:mm` within ±14:00), real calendar dates, no leap seconds (no ledger clock orders them).
 */
function checkTimestamp(value: unknown, path: string): CheckedTimestamp {
  const text = value as string;
  const m = RFC3339.exec(text);
  if (m === null) {
    throw invalid(path, `${JSON.stringify(text)} is not an RFC 3339 timestamp with an offset (e.g. 2005-04-03T20:33:31.116-06:00)`);
  }
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  const fraction = m[7] ?? '';
  if (!validDate(year ?? 0, month ?? 0, day ?? 0) || (hour ?? 0) > 23 || (minute ?? 0) > 59 || (second ?? 0) > 59) {
    throw invalid(path, `${JSON.stringify(text)} is not a real date and time`);
  }
  let offsetMinutes = 0;
  if (m[8] !== 'Z') {
    offsetMinutes = checkOffsetParts(m[9] ?? '+', m[10] ?? '', m[11] ?? '', path, text);
  }
  const millis = Date.UTC(year ?? 0, (month ?? 1) - 1, day ?? 1, hour, minute, second) - offsetMinutes * 60_000;
  const micros = BigInt(millis) * 1000n + BigInt(fraction.slice(0, 6).padEnd(6, '0'));
  return { text, micros };
}

function validDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  return day <= days;
}

function checkOffsetParts(sign: string, hours: string, minutes: string, path: string, text: string): number {
  const total = Number(hours) * 60 + Number(minutes);
  if (Number(minutes) > 59 || total > 14 * 60) throw invalid(path, `${JSON.stringify(text)} has an offset outside ±14:00`);
  return sign === '-' ? -total : total;
}

/** `eventTimeZoneOffset`: `±hh:mm` within ±14:00 (`Z` is not allowed here). */
function checkZoneOffset(value: unknown, path: string): string {
  const text = value as string;
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(text);
  if (m === null) throw invalid(path, `${JSON.stringify(text)} is not a time zone offset of the form ±hh:mm`);
  checkOffsetParts(m[1] ?? '+', m[2] ?? '', m[3] ?? '', path, text);
  return text;
}

// ---------------------------------------------------------------------------------------------
// Schema errors

/**
 * Turns ajv's errors into one rejection: the deepest failing path (ajv lists the leaf failure
 * of each branch before the `if`/`anyOf` wrappers), named to the member for `required`,
 * `additionalProperties` and `propertyNames` failures.
 */
function schemaFailure(errors: readonly ErrorObject[], doc: unknown): SilkError {
  const located = errors.map((error) => ({ error, path: errorPath(error) }));
  const depth = (p: string): number => (p === '' ? 0 : p.split(/\.|\[/).length);
  const deepest = Math.max(...located.map((l) => depth(l.path)));
  const atDeepest = located.filter((l) => depth(l.path) === deepest && !['if', 'anyOf', 'oneOf', 'allOf'].includes(l.error.keyword));
  const chosen = atDeepest.length > 0 ? atDeepest : located;
  const path = chosen[0]?.path ?? '';
  const better = vocabularyExplanation(path, valueAt(doc, chosen[0]?.error.instancePath ?? ''));
  if (better !== undefined) return invalid(path, better);
  const messages = [...new Set(chosen.filter((l) => l.path === path).map((l) => describeSchemaError(l.error)))];
  return invalid(path, `does not conform to the EPCIS 2.0 schema: ${messages.join(', or ')}`);
}

function errorPath(error: ErrorObject): string {
  let path = pointerToPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const member = params['missingProperty'] ?? params['additionalProperty'] ?? params['propertyName'];
  if (typeof member === 'string' && ['required', 'additionalProperties', 'propertyNames'].includes(error.keyword)) path = join(path, member);
  return path;
}

function describeSchemaError(error: ErrorObject): string {
  switch (error.keyword) {
    case 'required':
      return 'required member is missing';
    case 'additionalProperties':
    case 'propertyNames':
      return 'member not allowed here (extension members are URIs or compact IRIs like prefix:name)';
    case 'enum':
    {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
      return allowed.length > 8 ? `must be one of the ${allowed.length} standard values` : `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    default:
      return error.message ?? error.keyword;
  }
}

/** A failing CBV member gets the vocabulary's own explanation (e.g. "unknown business step"). */
function vocabularyExplanation(path: string, value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const kind = vocabularyKindAt(path);
  if (kind === undefined) return undefined;
  try {
    normaliseVocabulary(kind, value, path);
  } catch (error) {
    if (error instanceof SilkError) return error.message.startsWith(`${path}: `) ? error.message.slice(path.length + 2) : error.message;
  }
  return undefined;
}

const VOCABULARY_MEMBERS: readonly (readonly [RegExp, VocabularyKind])[] = [
  [/\.bizStep$/, 'bizStep'],
  [/\.disposition$|\.persistentDisposition\.(?:set|unset)\[\d+\]$/, 'disposition'],
  [/\.bizTransactionList\[\d+\]\.type$/, 'bizTransactionType'],
  [/\.(?:sourceList|destinationList)\[\d+\]\.type$/, 'sourceDestinationType'],
  [/\.errorDeclaration\.reason$/, 'errorReason'],
  [/\.sensorReport\[\d+\]\.type$/, 'measurementType'],
  [/\.sensorReport\[\d+\]\.exception$/, 'sensorAlertType'],
  [/\.sensorReport\[\d+\]\.component$/, 'component'],
];

function vocabularyKindAt(path: string): VocabularyKind | undefined {
  return VOCABULARY_MEMBERS.find(([pattern]) => pattern.test(path))?.[1];
}

function pointerToPath(pointer: string): string {
  if (pointer === '') return '';
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : join(path, segment)), '');
}

function valueAt(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  let current = doc;
  for (const segment of pointer.slice(1).split('/')) {
    const key = segment.replace(/~1/g, '/').replace(/~0/g, '~');
    current = isPlainObject(current) || Array.isArray(current) ? (current as Record<string, unknown>)[key] : undefined;
  }
  return current;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Appends a member name to a JSON path (`a.b`, `a["x:y"]`; a bare name at the root). */
function join(path: string, name: string): string {
  if (path === '' && /^[\w$@]+$/.test(name)) return name;
  return `${path}${memberPath(name)}`;
}

function field(value: unknown, name: string): unknown {
  return isPlainObject(value) ? value[name] : undefined;
}

function optional<T>(value: unknown, check: (value: unknown) => T): T | undefined {
  return value === undefined ? undefined : check(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function describeValue(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(path: string, problem: string): SilkError {
  return new SilkError('INVALID_ARGUMENT', path === '' ? problem : `${path}: ${problem}`, { path });
}
