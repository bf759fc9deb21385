/**
 * How EPCIS events sit in the `epcis` contract's state, and how queries read them back: the
 * keys, the index entries an event writes, sortable event-time keys, and the paginated query
 * planner. Pure (no clock, no I/O), so the contract and the API's read routes share it.
 *
 * State (namespace `epcis`):
 * - `event:<sha-256 hex of the event hash ID>` → the {@link RecordedEpcisEvent};
 * - `ix:<field>:<value>|<time key>|<hash hex>` → the hash hex, one per indexed value, for the
 *   fields of {@link IndexField}; `ix:time:|<time key>|<hash hex>` for every event and
 *   `ix:errorDeclaration:|<time key>|<hash hex>` for every event with an error declaration.
 *
 * Within one index value, keys are in event-time order (ties by hash), so an `eventTime`
 * window is a key range on any index, and a list of values over one field is a merge of
 * sorted ranges. Index values never contain `|`.
 */
import { sha256, toHex } from '../crypto/hash.js';
import { SilkError } from '../errors.js';
import type { JsonValue } from '../ledger/json-value.js';
import { parseEpc } from './epc-identifiers.js';
import { canonicalIdentifier, normaliseVocabulary } from './epcis-document-semantics.js';

/**
 * Fields with an index. `epc` covers every EPC and EPC class an event names; `lot` every LGTIN
 * class it names or its ILMD `lotNumber` gives its items; `eventID` holds the SHA-256 hex of the
 * event's `eventID`; `errorDeclaration` (value `''`) lists the events declared erroneous.
 */
export type IndexField = 'epc' | 'bizStep' | 'disposition' | 'readPoint' | 'bizLocation' | 'lot' | 'eventID' | 'errorDeclaration';

/**
 * An error declaration recorded against the event it declares: the captured declaration's
 * members (`declarationTime`, `reason` and `correctiveEventIDs` when given, extension members)
 * plus `declaredBy` (org of the declaring transaction's creator, always the org that recorded
 * the event) and `txId` (the declaring transaction).
 */
export type RecordedErrorDeclaration = { readonly [member: string]: JsonValue } & {
  readonly declarationTime: string;
  readonly declaredBy: string;
  readonly txId: string;
};

/** An event as the contract records it. */
export interface RecordedEpcisEvent {
  /** `ni:///sha-256;…?ver=CBV2.0`. */
  readonly hash: string;
  readonly eventID: string;
  /** The event exactly as captured, with `eventID` set to the hash when it had none. */
  readonly event: { readonly [field: string]: JsonValue };
  /** JSON-LD prefixes of the captured document the event may use (empty when none). */
  readonly namespaces: { readonly [prefix: string]: string };
  /** Org of the transaction's creator. */
  readonly recordedBy: string;
  /** The capturing transaction: with {@link RecordedEpcisEvent.index}, the event's place in ledger order. */
  readonly txId: string;
  /** The event's position in its `captureEvents` call (ledger order = block, tx, index). */
  readonly index: number;
  /** The capturing proposal's time (ms): the event's record time. */
  readonly recordedAt: number;
  /** Set when the event was later declared erroneous (the captured event itself is unchanged). */
  readonly errorDeclaration?: RecordedErrorDeclaration;
  /** Hex key of the registered device that signed the event's `sensorElementList` at the source. */
  readonly sensorSignedBy?: string;
  readonly [field: string]: unknown;
}

/** The index values of one event, canonical (fields absent when the event writes none). */
export type EventIndexValues = Readonly<Partial<Record<IndexField, readonly string[]>>>;

/** Separator of index key parts: not a URI character, so never inside a value. */
const SEP = '|';
/** Micros added to times so that years 0000..9999 give non-negative keys of one width. */
const TIME_SHIFT = 100_000_000_000_000_000n;
const TIME_KEY_DIGITS = 18;

/** The state key of an event record. */
export const eventKey = (hashHex: string): string => `event:${hashHex}`;

/** The name the EPCIS contract is installed under (the namespace of its state). */
export const EPCIS_CONTRACT = 'epcis';

/** The hex digest of an event hash ID, or undefined when it is not one. */
export function hashHexOf(hashId: string): string | undefined {
  return /^ni:\/\/\/sha-256;([0-9a-f]{64})\?ver=CBV2\.0$/.exec(hashId)?.[1];
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function daysFromCivil(y: number, m: number, d: number): number {
  // Howard Hinnant's days_from_civil: proleptic Gregorian, no Date needed.
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * A sortable key of an RFC 3339 timestamp with offset: the UTC instant in microseconds (digits
 * past microseconds dropped), shifted and zero-padded so key order is time order.
 * @param text - e.g. `2005-04-03T20:33:31.116000-06:00`
 * @returns 18 digits
 * @throws SilkError `INVALID_ARGUMENT` when `text` is not an RFC 3339 timestamp with an offset
 * @example timeKey('1970-01-01T00:00:00Z') // '100000000000000000'
 */
export function timeKey(text: string): string {
  const m = RFC3339.exec(text);
  if (m === null) throw new SilkError('INVALID_ARGUMENT', `not an RFC 3339 timestamp with an offset: ${JSON.stringify(text.slice(0, 40))}`);
  const [, y, mo, d, h, mi, s, frac = '', , sign, oh = '0', om = '0'] = m;
  const days = daysFromCivil(Number(y), Number(mo), Number(d));
  const offsetMinutes = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  const seconds = BigInt(days) * 86400n + BigInt(Number(h) * 3600 + Number(mi) * 60 + Number(s) - offsetMinutes * 60);
  const micros = seconds * 1_000_000n + BigInt((frac + '000000').slice(0, 6));
  return (micros + TIME_SHIFT).toString().padStart(TIME_KEY_DIGITS, '0');
}

/** The {@link timeKey} of a time in milliseconds since 1970 (a record time). */
function millisKey(ms: number): string {
  return (BigInt(ms) * 1000n + TIME_SHIFT).toString().padStart(TIME_KEY_DIGITS, '0');
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function strings(value: unknown, path: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new SilkError('INVALID_ARGUMENT', `${path} must be a list of strings`, { path });
  return value;
}

function quantityClasses(value: unknown, path: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new SilkError('INVALID_ARGUMENT', `${path} must be a list`, { path });
  return value.map((q, i) => {
    const epcClass = isRecord(q) ? q['epcClass'] : undefined;
    if (typeof epcClass !== 'string') throw new SilkError('INVALID_ARGUMENT', `${path}[${i}].epcClass must be a string`, { path: `${path}[${i}].epcClass` });
    return epcClass;
  });
}

function parentOf(value: unknown): string[] {
  if (value === undefined) return [];
  if (typeof value !== 'string') throw new SilkError('INVALID_ARGUMENT', 'parentID must be a string', { path: 'parentID' });
  return [value];
}

function locationId(value: unknown, path: string): string[] {
  if (value === undefined) return [];
  const id = isRecord(value) ? value['id'] : undefined;
  if (typeof id !== 'string') throw new SilkError('INVALID_ARGUMENT', `${path}.id must be a string`, { path: `${path}.id` });
  return [canonicalIdentifier(id, `${path}.id`)];
}

function vocabularyValue(kind: 'bizStep' | 'disposition', value: unknown): string[] {
  if (value === undefined) return [];
  if (typeof value !== 'string') throw new SilkError('INVALID_ARGUMENT', `${kind} must be a string`, { path: kind });
  return [normaliseVocabulary(kind, value, kind)];
}

function checkValues(values: readonly string[], field: string): void {
  for (const v of values) {
    if (v.includes(SEP) || v.length > 700) throw new SilkError('INVALID_ARGUMENT', `${field} value ${JSON.stringify(v.slice(0, 60))} cannot be indexed (contains '${SEP}' or is over 700 characters)`, { path: field });
  }
}

/** Expanded names an ILMD lot number may have (`cbvmda:lotNumber` and its equivalents). */
const LOT_NUMBER_IRIS: ReadonlySet<string> = new Set(['urn:epcglobal:cbv:mda:lotNumber', 'urn:epcglobal:cbv:mda#lotNumber', 'https://gs1.org/voc/lotNumber', 'https://ref.gs1.org/cbv/mda/lotNumber']);
/** Prefixes the GS1 contexts declare that lot numbers are written with. */
const STANDARD_PREFIXES: Readonly<Record<string, string>> = { cbvmda: 'urn:epcglobal:cbv:mda:', gs1: 'https://gs1.org/voc/' };

/** Prefixes an object's own inline `@context` declares. */
function inlinePrefixes(context: unknown): Record<string, string> {
  const prefixes: Record<string, string> = {};
  for (const entry of Array.isArray(context) ? context : [context]) {
    if (!isRecord(entry)) continue;
    for (const [prefix, iri] of Object.entries(entry)) if (!prefix.startsWith('@') && typeof iri === 'string') prefixes[prefix] = iri;
  }
  return prefixes;
}

function expandMember(name: string, namespaces: Readonly<Record<string, string>>): string {
  const colon = name.indexOf(':');
  const namespace = colon > 0 ? namespaces[name.slice(0, colon)] : undefined;
  return namespace === undefined ? name : namespace + name.slice(colon + 1);
}

/**
 * The ILMD lot numbers of an event: `cbvmda:lotNumber` under any prefix naming that namespace
 * (the standard ones, the capture's `namespaces`, an inline `@context`), or its IRI.
 * @example ilmdLotNumbers({ ilmd: { 'cbvmda:lotNumber': 'L1' } }, {}) // ['L1']
 */
export function ilmdLotNumbers(event: Readonly<Record<string, unknown>>, namespaces: Readonly<Record<string, string>>): string[] {
  const ilmd = event['ilmd'];
  if (!isRecord(ilmd)) return [];
  const known = { ...STANDARD_PREFIXES, ...namespaces, ...inlinePrefixes(event['@context']), ...inlinePrefixes(ilmd['@context']) };
  return Object.entries(ilmd).filter(([name, value]) => typeof value === 'string' && LOT_NUMBER_IRIS.has(expandMember(name, known))).map(([, value]) => value as string);
}

/**
 * The canonical lot class (LGTIN) Digital Link of a GTIN and a lot number, or `undefined` when
 * they do not make a valid GS1 lot (check digit, length, character set 82).
 * @example lotClass('04012345123456', 'L1') // 'https://id.gs1.org/01/04012345123456/10/L1'
 */
export function lotClass(gtin: string, lot: string): string | undefined {
  if (!/^\d{14}$/.test(gtin) || lot === '') return undefined;
  try {
    const parsed = parseEpc(`https://id.gs1.org/01/${gtin}/10/${encodeURIComponent(lot)}`);
    return parsed.scheme === 'lgtin' ? parsed.digitalLink : undefined;
  } catch {
    return undefined;
  }
}

/** Parsed GS1 identifier of a canonical Digital Link, or undefined for other URIs. */
function parsedOrUndefined(value: string): ReturnType<typeof parseEpc> | undefined {
  if (!value.startsWith('https://id.gs1.org/')) return undefined;
  try {
    return parseEpc(value);
  } catch {
    return undefined;
  }
}

/**
 * The lots an event concerns: every LGTIN class of its quantity lists, and for each ILMD lot
 * number, the lot of every GTIN its items (SGTINs of `epcList`/`outputEPCList`) and GTIN-level
 * classes (quantity lists) have. A lot number that makes no valid GS1 lot writes nothing.
 */
function lotsOf(epcs: readonly string[], classes: readonly string[], lotNumbers: readonly string[]): string[] {
  const lots = classes.filter((c) => parsedOrUndefined(c)?.scheme === 'lgtin');
  if (lotNumbers.length > 0) {
    const gtins = new Set<string>();
    for (const value of [...epcs, ...classes]) {
      const p = parsedOrUndefined(value);
      if (p?.gtin !== undefined && p.lot === undefined && (p.scheme === 'sgtin')) gtins.add(p.gtin);
    }
    for (const gtin of gtins) for (const n of lotNumbers) {
      const lot = lotClass(gtin, n);
      if (lot !== undefined) lots.push(lot);
    }
  }
  return [...new Set(lots)];
}

/**
 * The canonical index values of an event: every EPC of `epcList`, `childEPCs`, `parentID`,
 * `inputEPCList`, `outputEPCList` and the classes of the four quantity lists as GS1 Digital
 * Link URIs (other URIs as given); bizStep and disposition in bare CBV form; read point and
 * business location identifiers canonical; lots (see {@link IndexField}). Also checks the shape
 * these fields must have.
 * @param event - an EPCIS 2.0 event object
 * @param namespaces - the captured document's inline prefixes (for ILMD lot numbers)
 * @returns the values per index field, duplicates removed
 * @throws SilkError `INVALID_ARGUMENT` naming the field when its shape is wrong or a value is not valid
 * @example indexValuesOf({ type: 'ObjectEvent', epcList: ['urn:epc:id:sgtin:0614141.107346.2017'], … }).epc
 * // ['https://id.gs1.org/01/00614141073467/21/2017']
 */
export function indexValuesOf(event: Readonly<Record<string, unknown>>, namespaces: Readonly<Record<string, string>> = {}): EventIndexValues {
  const f = eventFields(event);
  const values: EventIndexValues = {
    epc: [...new Set([...f.anyEPC, ...f.anyEPCClass])],
    bizStep: vocabularyValue('bizStep', event['bizStep']),
    disposition: vocabularyValue('disposition', event['disposition']),
    readPoint: locationId(event['readPoint'], 'readPoint'),
    bizLocation: locationId(event['bizLocation'], 'bizLocation'),
    lot: lotsOf([...f.epc, ...f.outputEPC], f.anyEPCClass, ilmdLotNumbers(event, namespaces)),
  };
  for (const [field, list] of Object.entries(values)) checkValues(list, field);
  return values;
}

/** The identifiers of an event by the REST binding's MATCH_ fields, canonical. */
interface EventFields {
  readonly epc: readonly string[];
  readonly parentID: readonly string[];
  readonly inputEPC: readonly string[];
  readonly outputEPC: readonly string[];
  readonly anyEPC: readonly string[];
  readonly epcClass: readonly string[];
  readonly anyEPCClass: readonly string[];
}

function eventFields(event: Readonly<Record<string, unknown>>): EventFields {
  const canon = (list: readonly string[]): string[] => list.map((e) => canonicalIdentifier(e, 'epc'));
  const epc = canon([...strings(event['epcList'], 'epcList'), ...strings(event['childEPCs'], 'childEPCs')]);
  const parentID = canon(parentOf(event['parentID']));
  const inputEPC = canon(strings(event['inputEPCList'], 'inputEPCList'));
  const outputEPC = canon(strings(event['outputEPCList'], 'outputEPCList'));
  const epcClass = canon([...quantityClasses(event['quantityList'], 'quantityList'), ...quantityClasses(event['childQuantityList'], 'childQuantityList')]);
  const anyEPCClass = [...epcClass, ...canon([...quantityClasses(event['inputQuantityList'], 'inputQuantityList'), ...quantityClasses(event['outputQuantityList'], 'outputQuantityList')])];
  return { epc, parentID, inputEPC, outputEPC, anyEPC: [...epc, ...parentID, ...inputEPC, ...outputEPC], epcClass, anyEPCClass };
}

/** The `eventID` index value: SHA-256 hex of the eventID, so any eventID (any length, any character) is indexable. */
export function eventIdIndexValue(eventID: string): string {
  return toHex(sha256(new TextEncoder().encode(eventID)));
}

/** The index key prefix of one value of a field (`time` indexes every event). */
const indexPrefix = (field: IndexField | 'time', value: string): string => `ix:${field}:${value}${SEP}`;

/**
 * Every index key an event writes.
 * @param values - from {@link indexValuesOf}, plus `eventID`
 * @param eventTime - the event's `eventTime` string
 * @param hashHex - the hex digest of its hash ID
 */
export function indexKeysOf(values: EventIndexValues, eventTime: string, hashHex: string): string[] {
  const suffix = `${timeKey(eventTime)}${SEP}${hashHex}`;
  const keys = [`${indexPrefix('time', '')}${suffix}`];
  for (const [field, list] of Object.entries(values) as [IndexField, readonly string[]][]) {
    for (const value of list) keys.push(`${indexPrefix(field, value)}${suffix}`);
  }
  return keys;
}

/** The index key marking an event as declared erroneous. */
export function errorDeclarationIndexKey(eventTime: string, hashHex: string): string {
  return `${indexPrefix('errorDeclaration', '')}${timeKey(eventTime)}${SEP}${hashHex}`;
}

/** Most events one `captureEvents` transaction may carry. */
export const MAX_EVENTS_PER_CAPTURE = 500;

/** Default and largest page sizes of {@link queryEpcisEvents}. */
export const DEFAULT_EVENT_PAGE = 50;
export const MAX_EVENT_PAGE = 500;
/** Index entries one page may scan while filtering before it returns what it has with a token. */
const MAX_SCAN_PER_PAGE = 5000;
/** Index entries read per range read while merging. */
const MERGE_CHUNK = 100;

/** The list-valued filters: every value list means OR. */
export const EVENT_QUERY_LIST_NAMES = [
  'eventType', 'EQ_action', 'EQ_bizStep', 'EQ_disposition', 'EQ_readPoint', 'EQ_bizLocation',
  'MATCH_epc', 'MATCH_parentID', 'MATCH_inputEPC', 'MATCH_outputEPC', 'MATCH_anyEPC', 'MATCH_epcClass', 'MATCH_anyEPCClass',
  'EQ_eventID', 'lot',
] as const;
/** The time window filters: `GE_` inclusive, `LT_` exclusive, RFC 3339 with an offset. */
export const EVENT_QUERY_TIME_NAMES = ['GE_eventTime', 'LT_eventTime', 'GE_recordTime', 'LT_recordTime'] as const;

export type EventQueryListName = (typeof EVENT_QUERY_LIST_NAMES)[number];
export type EventQueryTimeName = (typeof EVENT_QUERY_TIME_NAMES)[number];

/**
 * An event query in the EPCIS 2.0 REST binding's names (plus `lot`, Silkledger's): value lists
 * mean OR, filters mean AND; `perPage` and `nextPageToken` page the result.
 */
export type EpcisEventQuery = {
  readonly [name in EventQueryListName]?: readonly string[];
} & {
  readonly [name in EventQueryTimeName]?: string;
} & {
  /** `true`: only events declared erroneous; `false`: only the others. */
  readonly EXISTS_errorDeclaration?: boolean;
  readonly perPage?: number;
  readonly nextPageToken?: string;
};

/** Every parameter name {@link eventQueryFromParameters} accepts. */
export const EVENT_QUERY_NAMES: readonly string[] = [...EVENT_QUERY_LIST_NAMES, ...EVENT_QUERY_TIME_NAMES, 'EXISTS_errorDeclaration', 'perPage', 'nextPageToken'];

function invalidParameter(name: string, message: string): SilkError {
  return new SilkError('INVALID_ARGUMENT', `${name}: ${message}`, { path: name });
}

function listParameter(name: string, value: unknown): string[] {
  const parts = typeof value === 'string' ? value.split(',') : Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  if (parts === undefined) throw invalidParameter(name, 'expected a comma-separated list or a list of strings');
  const list = parts.map((v) => v.trim()).filter((v) => v !== '');
  if (list.length === 0) throw invalidParameter(name, 'expected at least one value');
  if (list.length > 64) throw invalidParameter(name, `at most 64 values, got ${list.length}`);
  for (const v of list) if (v.length > 700) throw invalidParameter(name, 'a value is over 700 characters');
  return list;
}

function booleanParameter(name: string, value: unknown): boolean {
  if (value === true || value === '' || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw invalidParameter(name, 'expected no value, true or false');
}

function pageSizeParameter(name: string, value: unknown): number {
  const n = typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_EVENT_PAGE) throw invalidParameter(name, `expected an integer 1..${MAX_EVENT_PAGE}`);
  return n;
}

/**
 * Reads an event query from REST query parameters or a contract argument object: lists as
 * comma-separated strings or string arrays, times as RFC 3339 strings, `EXISTS_errorDeclaration`
 * with no value (or `true`/`false`), `perPage` as an integer or its digits.
 * @param params - name → value; `undefined` values are ignored
 * @returns the query
 * @throws SilkError `INVALID_ARGUMENT` naming the parameter (an unknown name included)
 * @example eventQueryFromParameters({ EQ_bizStep: 'shipping,receiving', perPage: '10' })
 */
export function eventQueryFromParameters(params: Readonly<Record<string, unknown>>): EpcisEventQuery {
  const q: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if ((EVENT_QUERY_LIST_NAMES as readonly string[]).includes(name)) q[name] = listParameter(name, value);
    else if ((EVENT_QUERY_TIME_NAMES as readonly string[]).includes(name)) {
      if (typeof value !== 'string') throw invalidParameter(name, 'expected an RFC 3339 timestamp with an offset');
      try {
        timeKey(value);
      } catch {
        throw invalidParameter(name, `not an RFC 3339 timestamp with an offset: ${JSON.stringify(value.slice(0, 40))}`);
      }
      q[name] = value;
    } else if (name === 'EXISTS_errorDeclaration') q[name] = booleanParameter(name, value);
    else if (name === 'perPage') q[name] = pageSizeParameter(name, value);
    else if (name === 'nextPageToken') {
      if (typeof value !== 'string') throw invalidParameter(name, 'expected the token a previous page returned');
      q[name] = value;
    } else throw invalidParameter(name, `unknown query parameter; known: ${EVENT_QUERY_NAMES.join(', ')}`);
  }
  return q;
}

/** What the query planner reads. */
export interface EpcisStateReader {
  get(key: string): JsonValue | undefined;
  range(start: string, end: string, page?: { readonly limit?: number }): { readonly items: readonly { readonly key: string; readonly value: JsonValue }[] };
}

/** A page of recorded events in event-time order. */
export interface EpcisEventPage {
  readonly items: readonly RecordedEpcisEvent[];
  /** Present when more may follow: pass it as `nextPageToken`. */
  readonly nextPageToken?: string;
}

/**
 * A lot in any accepted form as its canonical LGTIN Digital Link: an LGTIN URN
 * (`urn:epc:class:lgtin:…`), a Digital Link with `/01/<gtin>/10/<lot>`, or `<gtin>/<lot>`
 * (GTIN-8, -12, -13 or -14; the lot may contain `/`).
 * @throws SilkError `INVALID_ARGUMENT` (path `lot`) when it is none of them
 * @example canonicalLot('04012345123456/L1') // 'https://id.gs1.org/01/04012345123456/10/L1'
 */
export function canonicalLot(text: string): string {
  const short = /^(\d{8}|\d{12,14})\/(.+)$/.exec(text);
  const lot = short === null ? tryLotIdentifier(text) : lotClass((short[1] ?? '').padStart(14, '0'), short[2] ?? '');
  if (lot === undefined) throw new SilkError('INVALID_ARGUMENT', `lot: ${JSON.stringify(text.slice(0, 80))} is not a lot: give an LGTIN URN (urn:epc:class:lgtin:…), a Digital Link …/01/<gtin>/10/<lot>, or <gtin>/<lot>`, { path: 'lot' });
  return lot;
}

function tryLotIdentifier(text: string): string | undefined {
  try {
    const p = parseEpc(text);
    return p.scheme === 'lgtin' ? p.digitalLink : undefined;
  } catch {
    return undefined;
  }
}

const ACTIONS: ReadonlySet<string> = new Set(['ADD', 'OBSERVE', 'DELETE']);

/** What a MATCH_ filter compares with. */
const MATCH_FIELDS = { MATCH_epc: 'epc', MATCH_parentID: 'parentID', MATCH_inputEPC: 'inputEPC', MATCH_outputEPC: 'outputEPC', MATCH_anyEPC: 'anyEPC', MATCH_epcClass: 'epcClass', MATCH_anyEPCClass: 'anyEPCClass' } as const;

/** One filter of a planned query: canonical values, the index that can serve it, and the check per event. */
interface PlannedFilter {
  readonly name: string;
  /** The index serving it, if any, its rank (lower = usually more selective), and whether it holds exactly the matching events. */
  readonly index?: { readonly field: IndexField; readonly rank: number; readonly exact: boolean };
  readonly values: readonly string[];
  readonly test: (record: RecordedEpcisEvent, facts: () => EventFacts) => boolean;
}

interface EventFacts {
  readonly fields: EventFields;
  readonly index: EventIndexValues;
}

const anyOf = (values: readonly string[], have: readonly string[] | undefined): boolean => values.some((v) => have?.includes(v) === true);

function indexFilter(name: string, field: IndexField, rank: number, values: readonly string[]): PlannedFilter {
  return { name, index: { field, rank, exact: true }, values, test: (_, facts) => anyOf(values, facts().index[field]) };
}

function canonicalList(name: string, list: readonly string[], canon: (v: string) => string): string[] {
  return [...new Set(list.map((v) => {
    try {
      return canon(v);
    } catch (e) {
      if (e instanceof SilkError && e.code === 'INVALID_ARGUMENT') throw invalidParameter(name, e.message.replace(/^[A-Za-z_.]+: /, ''));
      throw e;
    }
  }))];
}

/** The query's filters, canonical, each with its index (if any). */
function planFilters(q: EpcisEventQuery): PlannedFilter[] {
  const filters: PlannedFilter[] = [];
  if (q.EQ_eventID !== undefined) {
    const ids = q.EQ_eventID;
    filters.push({ name: 'EQ_eventID', index: { field: 'eventID', rank: 0, exact: true }, values: ids.map(eventIdIndexValue), test: (r) => ids.includes(r.eventID) });
  }
  for (const [name, field] of Object.entries(MATCH_FIELDS) as [keyof typeof MATCH_FIELDS, keyof EventFields][]) {
    const list = q[name];
    if (list === undefined) continue;
    const values = canonicalList(name, list, (v) => canonicalIdentifier(v, name));
    // The epc index holds every identifier of an event: the field is checked on each event.
    filters.push({ name, index: { field: 'epc', rank: 1, exact: false }, values, test: (_, facts) => anyOf(values, facts().fields[field]) });
  }
  if (q.lot !== undefined) filters.push(indexFilter('lot', 'lot', 1, canonicalList('lot', q.lot, canonicalLot)));
  if (q.EQ_readPoint !== undefined) filters.push(indexFilter('EQ_readPoint', 'readPoint', 2, canonicalList('EQ_readPoint', q.EQ_readPoint, (v) => canonicalIdentifier(v, 'EQ_readPoint'))));
  if (q.EQ_bizLocation !== undefined) filters.push(indexFilter('EQ_bizLocation', 'bizLocation', 2, canonicalList('EQ_bizLocation', q.EQ_bizLocation, (v) => canonicalIdentifier(v, 'EQ_bizLocation'))));
  if (q.EQ_bizStep !== undefined) filters.push(indexFilter('EQ_bizStep', 'bizStep', 3, canonicalList('EQ_bizStep', q.EQ_bizStep, (v) => normaliseVocabulary('bizStep', v, 'EQ_bizStep'))));
  if (q.EQ_disposition !== undefined) filters.push(indexFilter('EQ_disposition', 'disposition', 3, canonicalList('EQ_disposition', q.EQ_disposition, (v) => normaliseVocabulary('disposition', v, 'EQ_disposition'))));
  if (q.EXISTS_errorDeclaration !== undefined) {
    const wanted = q.EXISTS_errorDeclaration;
    filters.push({ name: 'EXISTS_errorDeclaration', ...(wanted ? { index: { field: 'errorDeclaration', rank: 4, exact: true } } : {}), values: [''], test: (r) => (r.errorDeclaration !== undefined) === wanted });
  }
  if (q.eventType !== undefined) {
    const types = q.eventType;
    filters.push({ name: 'eventType', values: types, test: (r) => typeof r.event['type'] === 'string' && types.includes(r.event['type']) });
  }
  if (q.EQ_action !== undefined) {
    const actions = q.EQ_action;
    for (const a of actions) if (!ACTIONS.has(a)) throw invalidParameter('EQ_action', `expected ADD, OBSERVE or DELETE, got ${JSON.stringify(a.slice(0, 40))}`);
    filters.push({ name: 'EQ_action', values: actions, test: (r) => typeof r.event['action'] === 'string' && actions.includes(r.event['action']) });
  }
  const recordFrom = q.GE_recordTime === undefined ? undefined : timeKey(q.GE_recordTime);
  const recordTo = q.LT_recordTime === undefined ? undefined : timeKey(q.LT_recordTime);
  if (recordFrom !== undefined || recordTo !== undefined) {
    filters.push({ name: 'recordTime', values: [], test: (r) => {
      const k = millisKey(r.recordedAt);
      return (recordFrom === undefined || k >= recordFrom) && (recordTo === undefined || k < recordTo);
    } });
  }
  return filters;
}

/** The filter whose index a query reads: the lowest rank, then the fewest values. */
function drivingFilter(filters: readonly PlannedFilter[]): PlannedFilter | undefined {
  let best: PlannedFilter | undefined;
  for (const f of filters) {
    if (f.index === undefined) continue;
    if (best?.index === undefined || f.index.rank < best.index.rank || (f.index.rank === best.index.rank && f.values.length < best.values.length)) best = f;
  }
  return best;
}

const SUFFIX = /^\d{18}\|[0-9a-f]{64}$/;

function encodeToken(suffix: string): string {
  return Buffer.from(suffix, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const suffix = /^[A-Za-z0-9_-]{1,200}$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (!SUFFIX.test(suffix)) throw new SilkError('INVALID_ARGUMENT', 'nextPageToken: not a token a previous page of this query returned', { path: 'nextPageToken' });
  return suffix;
}

/** One sorted range of an index value, read in chunks. */
interface RangeCursor {
  readonly prefix: string;
  next: string;
  readonly end: string;
  buffer: { readonly suffix: string; readonly hex: string }[];
  done: boolean;
}

function openCursor(field: IndexField | 'time', value: string, from: string | undefined, to: string | undefined, after: string | undefined): RangeCursor | undefined {
  if (value.includes(SEP)) return undefined;
  const prefix = indexPrefix(field, value);
  const lower = from === undefined ? prefix : `${prefix}${from}`;
  const start = after !== undefined && `${prefix}${after}\u0000` > lower ? `${prefix}${after}\u0000` : lower;
  const end = to === undefined ? `${prefix.slice(0, -1)}}` : `${prefix}${to}`;
  return start < end ? { prefix, next: start, end, buffer: [], done: false } : undefined;
}

function fill(reader: EpcisStateReader, c: RangeCursor, chunk: number): void {
  if (c.buffer.length > 0 || c.done) return;
  const page = reader.range(c.next, c.end, { limit: chunk });
  for (const entry of page.items) {
    if (typeof entry.value === 'string') c.buffer.push({ suffix: entry.key.slice(c.prefix.length), hex: entry.value });
    c.next = `${entry.key}\u0000`;
  }
  if (page.items.length < chunk) c.done = true;
}

/** Takes the smallest head of the cursors (removing equal heads: one event under two values), or undefined when all are spent. */
function takeSmallest(reader: EpcisStateReader, cursors: readonly RangeCursor[], chunk: number): { readonly suffix: string; readonly hex: string } | undefined {
  let smallest: { readonly suffix: string; readonly hex: string } | undefined;
  for (const c of cursors) {
    fill(reader, c, chunk);
    const head = c.buffer[0];
    if (head !== undefined && (smallest === undefined || head.suffix < smallest.suffix)) smallest = head;
  }
  if (smallest === undefined) return undefined;
  for (const c of cursors) if (c.buffer[0]?.suffix === smallest.suffix) c.buffer.shift();
  return smallest;
}

/**
 * Events matching a query, in event-time order (ties by hash), paginated. Reads the index of
 * the most selective filter (eventID, then EPC or lot, then read point or location, then business
 * step or disposition, then error declarations; else every event by time) — a list of values
 * there is a merge of its sorted ranges — and checks the other filters on each event. The event
 * time window is a key range on that index.
 * @param reader - state of the `epcis` contract
 * @param q - see {@link eventQueryFromParameters}; values in any accepted form (EPC URN or Digital
 *   Link; CBV bare, URN or web)
 * @returns up to `perPage` events and a `nextPageToken` when more may follow
 * @throws SilkError `INVALID_ARGUMENT` naming the parameter for an invalid value, time or token
 * @example queryEpcisEvents(ctx, { MATCH_anyEPC: ['urn:epc:id:sgtin:0614141.107346.2017'], perPage: 10 })
 */
export function queryEpcisEvents(reader: EpcisStateReader, q: EpcisEventQuery): EpcisEventPage {
  const limit = q.perPage ?? DEFAULT_EVENT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENT_PAGE) throw invalidParameter('perPage', `expected an integer 1..${MAX_EVENT_PAGE}`);
  const filters = planFilters(q);
  const driving = drivingFilter(filters);
  const rest = filters.filter((f) => f !== driving || driving.index?.exact !== true);
  const from = q.GE_eventTime === undefined ? undefined : timeKey(q.GE_eventTime);
  const to = q.LT_eventTime === undefined ? undefined : timeKey(q.LT_eventTime);
  const after = q.nextPageToken === undefined ? undefined : decodeToken(q.nextPageToken);
  const field: IndexField | 'time' = driving?.index?.field ?? 'time';
  const values = driving === undefined ? [''] : driving.values;
  const cursors = values.map((v) => openCursor(field, v, from, to, after)).filter((c): c is RangeCursor => c !== undefined);
  const chunk = Math.min(cursors.length > 1 ? MERGE_CHUNK : limit, MAX_EVENT_PAGE);
  const items: RecordedEpcisEvent[] = [];
  let scanned = 0;
  for (;;) {
    const entry = takeSmallest(reader, cursors, chunk);
    if (entry === undefined) return { items };
    scanned += 1;
    const record = reader.get(eventKey(entry.hex)) as RecordedEpcisEvent | undefined;
    if (record !== undefined && matches(record, rest)) items.push(record);
    if (items.length === limit || scanned >= MAX_SCAN_PER_PAGE) return { items, nextPageToken: encodeToken(entry.suffix) };
  }
}

function matches(record: RecordedEpcisEvent, filters: readonly PlannedFilter[]): boolean {
  let facts: EventFacts | undefined;
  const lazy = (): EventFacts => (facts ??= { fields: eventFields(record.event), index: { ...indexValuesOf(record.event, record.namespaces), eventID: [eventIdIndexValue(record.eventID)] } });
  return filters.every((f) => f.test(record, lazy));
}
