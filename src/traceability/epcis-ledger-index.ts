/**
 * How EPCIS events sit in the `epcis` contract's state, and how queries read them back: the
 * keys, the index entries an event writes, sortable event-time keys, and the paginated query
 * planner. Pure (no clock, no I/O), so the contract and the API's read routes share it.
 *
 * State (namespace `epcis`):
 * - `event:<sha-256 hex of the event hash ID>` → the {@link RecordedEpcisEvent};
 * - `ix:<field>:<value>|<time key>|<hash hex>` → the hash hex, one per indexed value, for the
 *   fields of {@link IndexField}; `ix:time:|<time key>|<hash hex>` for every event.
 *
 * Within one index value, keys are in event-time order (ties by hash), so an `eventTime`
 * window is a key range on any index. Index values never contain `|`.
 */
import { SilkError } from '../errors.js';
import type { JsonValue } from '../ledger/json-value.js';
import { canonicalIdentifier, normaliseVocabulary } from './epcis-document-semantics.js';

/** Fields with an index. `epc` covers every EPC and EPC class an event names. */
export type IndexField = 'epc' | 'bizStep' | 'disposition' | 'readPoint' | 'bizLocation';

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
  readonly txId: string;
  /** The capturing proposal's time (ms). */
  readonly recordedAt: number;
  readonly [field: string]: JsonValue;
}

/** The index values of one event, canonical. */
export type EventIndexValues = Readonly<Record<IndexField, readonly string[]>>;

/** Separator of index key parts: not a URI character, so never inside a value. */
const SEP = '|';
/** Micros added to times so that years 0000..9999 give non-negative keys of one width. */
const TIME_SHIFT = 100_000_000_000_000_000n;
const TIME_KEY_DIGITS = 18;

/** The state key of an event record. */
export const eventKey = (hashHex: string): string => `event:${hashHex}`;

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

/**
 * The canonical index values of an event: every EPC of `epcList`, `childEPCs`, `parentID`,
 * `inputEPCList`, `outputEPCList` and the classes of the four quantity lists as GS1 Digital
 * Link URIs (other URIs as given); bizStep and disposition in bare CBV form; read point and
 * business location identifiers canonical. Also checks the shape these fields must have.
 * @param event - an EPCIS 2.0 event object
 * @returns the values per index field, duplicates removed
 * @throws SilkError `INVALID_ARGUMENT` naming the field when its shape is wrong or a value is not valid
 * @example indexValuesOf({ type: 'ObjectEvent', epcList: ['urn:epc:id:sgtin:0614141.107346.2017'], … }).epc
 * // ['https://id.gs1.org/01/00614141073467/21/2017']
 */
export function indexValuesOf(event: Readonly<Record<string, unknown>>): EventIndexValues {
  const epcs = [
    ...strings(event['epcList'], 'epcList'),
    ...strings(event['childEPCs'], 'childEPCs'),
    ...strings(event['inputEPCList'], 'inputEPCList'),
    ...strings(event['outputEPCList'], 'outputEPCList'),
    ...parentOf(event['parentID']),
    ...quantityClasses(event['quantityList'], 'quantityList'),
    ...quantityClasses(event['childQuantityList'], 'childQuantityList'),
    ...quantityClasses(event['inputQuantityList'], 'inputQuantityList'),
    ...quantityClasses(event['outputQuantityList'], 'outputQuantityList'),
  ].map((e) => canonicalIdentifier(e, 'epc'));
  const values: EventIndexValues = {
    epc: [...new Set(epcs)],
    bizStep: vocabularyValue('bizStep', event['bizStep']),
    disposition: vocabularyValue('disposition', event['disposition']),
    readPoint: locationId(event['readPoint'], 'readPoint'),
    bizLocation: locationId(event['bizLocation'], 'bizLocation'),
  };
  for (const [field, list] of Object.entries(values)) checkValues(list, field);
  return values;
}

/** The index key prefix of one value of a field (`time` indexes every event). */
const indexPrefix = (field: IndexField | 'time', value: string): string => `ix:${field}:${value}${SEP}`;

/**
 * Every index key an event writes.
 * @param values - from {@link indexValuesOf}
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

/** An event query: equality filters, an `eventTime` window `[from, to)`, a page. */
export interface EpcisEventQuery {
  /** An EPC or EPC class, URN or Digital Link form. */
  readonly epc?: string;
  readonly bizStep?: string;
  readonly disposition?: string;
  readonly readPoint?: string;
  readonly bizLocation?: string;
  /** RFC 3339, inclusive. */
  readonly from?: string;
  /** RFC 3339, exclusive. */
  readonly to?: string;
  readonly limit?: number;
  readonly bookmark?: string;
}

/** What the query planner reads. */
export interface EpcisStateReader {
  get(key: string): JsonValue | undefined;
  range(start: string, end: string, page?: { readonly limit?: number }): { readonly items: readonly { readonly key: string; readonly value: JsonValue }[] };
}

/** A page of recorded events in event-time order. */
export interface EpcisEventPage {
  readonly items: readonly RecordedEpcisEvent[];
  readonly bookmark?: string;
}

/** Most events one `captureEvents` transaction may carry. */
export const MAX_EVENTS_PER_CAPTURE = 500;

/** Default and largest page sizes of {@link queryEpcisEvents}. */
export const DEFAULT_EVENT_PAGE = 50;
export const MAX_EVENT_PAGE = 500;
/** Index entries one page may scan while filtering before it returns what it has with a bookmark. */
const MAX_SCAN_PER_PAGE = 5000;

/** The query's filters in canonical form, in index preference order. */
function canonicalFilters(q: EpcisEventQuery): [IndexField, string][] {
  const filters: [IndexField, string][] = [];
  if (q.epc !== undefined) filters.push(['epc', canonicalIdentifier(q.epc, 'epc')]);
  if (q.bizStep !== undefined) filters.push(['bizStep', normaliseVocabulary('bizStep', q.bizStep, 'bizStep')]);
  if (q.disposition !== undefined) filters.push(['disposition', normaliseVocabulary('disposition', q.disposition, 'disposition')]);
  if (q.readPoint !== undefined) filters.push(['readPoint', canonicalIdentifier(q.readPoint, 'readPoint')]);
  if (q.bizLocation !== undefined) filters.push(['bizLocation', canonicalIdentifier(q.bizLocation, 'bizLocation')]);
  return filters;
}

function decodeBookmark(bookmark: string, start: string, end: string): string {
  const m = /^after:(.+)$/.exec(bookmark);
  const after = m?.[1];
  if (after === undefined || after < start || after >= end) throw new SilkError('INVALID_ARGUMENT', 'bookmark is not one this query returned', { path: 'bookmark' });
  return `${after}\u0000`;
}

/**
 * Events matching a query, in event-time order (ties by hash), paginated. Uses the index of
 * the first filter given (epc, bizStep, disposition, readPoint, bizLocation; else time) and
 * checks the others on each event; the time window is a key range on that index.
 * @param reader - state of the `epcis` contract
 * @param q - filters in any accepted form (EPC URN or Digital Link; CBV bare, URN or web)
 * @returns up to `limit` events and a bookmark when more may follow
 * @throws SilkError `INVALID_ARGUMENT` for an invalid filter value, time or bookmark
 * @example queryEpcisEvents(ctx, { epc: 'urn:epc:id:sgtin:0614141.107346.2017', limit: 10 })
 */
export function queryEpcisEvents(reader: EpcisStateReader, q: EpcisEventQuery): EpcisEventPage {
  const limit = q.limit ?? DEFAULT_EVENT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENT_PAGE) throw new SilkError('INVALID_ARGUMENT', `limit must be 1..${MAX_EVENT_PAGE}`, { path: 'limit' });
  const filters = canonicalFilters(q);
  const [field, value] = filters[0] ?? ['time', ''];
  const prefix = indexPrefix(field, value);
  if (value.includes(SEP)) return { items: [] };
  const start = q.from === undefined ? prefix : `${prefix}${timeKey(q.from)}`;
  const end = q.to === undefined ? `${prefix.slice(0, -1)}}` : `${prefix}${timeKey(q.to)}`;
  if (start >= end) return { items: [] };
  const rest = filters.slice(1);
  let cursor = q.bookmark === undefined ? start : decodeBookmark(q.bookmark, start, end);
  const items: RecordedEpcisEvent[] = [];
  let scanned = 0;
  for (;;) {
    const wanted = limit - items.length;
    const page = reader.range(cursor, end, { limit: wanted });
    for (const entry of page.items) {
      scanned += 1;
      const record = typeof entry.value === 'string' ? (reader.get(eventKey(entry.value)) as RecordedEpcisEvent | undefined) : undefined;
      if (record !== undefined && matches(record, rest)) items.push(record);
      cursor = `${entry.key}\u0000`;
      if (items.length === limit) return { items, bookmark: `after:${entry.key}` };
    }
    if (page.items.length < wanted) return { items };
    if (scanned >= MAX_SCAN_PER_PAGE) return { items, bookmark: `after:${cursor.slice(0, -1)}` };
  }
}

function matches(record: RecordedEpcisEvent, filters: readonly [IndexField, string][]): boolean {
  if (filters.length === 0) return true;
  const values = indexValuesOf(record.event);
  return filters.every(([field, value]) => values[field].includes(value));
}
