/**
 * The GS1 CBV 2.0 event hash ID (CBV 2.0 §8.9): a canonical *pre-hash string* of an EPCIS
 * event, hashed with SHA-256 and written `ni:///sha-256;<hex>?ver=CBV2.0` (RFC 6920).
 *
 * This follows the reference implementation `epcis-event-hash-generator` (RalphTro, MIT)
 * step for step, so that its test vectors reproduce: the JSON event becomes a tree of
 * (name, value, children) nodes shaped like the XML form; the fields of the canonical
 * property order are written first (values sorted within each field), user extensions of
 * `readPoint`, `bizLocation` and the sensor elements close their parent, and everything left
 * (business transactions, sources, destinations, ILMD, event-level extensions) follows,
 * sorted. Values are normalised: timestamps to UTC milliseconds (rounded half to even, as
 * Python's `round`), numbers without trailing zeros, CBV URNs and bare terms to web URIs,
 * CURIEs expanded, EPCs to the constrained canonical GS1 Digital Link URI. `eventID`,
 * `recordTime`, `errorDeclaration` and fields a document lists in `ignoreFields` take no part.
 *
 * Where the reference implementation crashes or depends on the machine, this module makes a
 * choice instead: a timestamp without offset is read as UTC, a
 * rounding to 1000 ms carries into the next second, a business transaction (source,
 * destination) without `type` hashes as its value alone, an event-level `@context` only adds
 * prefixes, and bare CBV terms are expanded where the EPCIS 2.0 context gives the field that
 * vocabulary (the reference instead searches the whole JSON-LD expansion).
 */
import { sha256HexOfText } from '../crypto/hash.js';
import { SilkError } from '../errors.js';
import { expandBareCbvTerm, type CbvVocabulary } from './cbv-vocabulary.js';
import { tryCanonicalDigitalLink } from './epc-identifiers.js';

/** Prefix → namespace IRI, from a document's JSON-LD context (and the standard ones). */
export type NamespaceMap = Readonly<Record<string, string>>;

/** What an event hash needs from the document around the event. */
export interface EventHashContext {
  /** JSON-LD prefixes of the document (`example` → `https://ns.example.com/epcis/`). */
  readonly namespaces?: NamespaceMap;
  /** Top-level fields to leave out (compact names, as in an `ignoreFields` list). */
  readonly ignoreFields?: readonly string[];
}

/** One event's pre-hash string and hash ID. */
export interface EventHashResult {
  readonly preHash: string;
  readonly hashId: string;
}

/** Prefixes the EPCIS 2.0 context fixes; a document's inline context may add more. */
const STANDARD_NAMESPACES: NamespaceMap = {
  gs1: 'https://gs1.org/voc/',
  cbv: 'https://ref.gs1.org/cbv/',
  epcis: 'https://ref.gs1.org/epcis/',
};

// ---------------------------------------------------------------------------------------------
// The node tree (the reference's "simple python object")

interface HashNode {
  name: string;
  value: string;
  children: HashNode[];
  /** A business transaction / source / destination entry: its fields, unnamed, in order. */
  pair?: true;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Python's string order: by code point. */
function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const left = Array.from(a);
  const right = Array.from(b);
  for (let i = 0; i < Math.min(left.length, right.length); i += 1) {
    const x = left[i]?.codePointAt(0) ?? 0;
    const y = right[i]?.codePointAt(0) ?? 0;
    if (x !== y) return x - y;
  }
  return left.length - right.length;
}

/** Python's tuple order on (name, value, children). */
function compareNodes(a: HashNode, b: HashNode): number {
  const byName = compareText(a.name, b.name);
  if (byName !== 0) return byName;
  const byValue = compareText(a.value, b.value);
  if (byValue !== 0) return byValue;
  for (let i = 0; i < Math.min(a.children.length, b.children.length); i += 1) {
    const c = compareNodes(a.children[i] as HashNode, b.children[i] as HashNode);
    if (c !== 0) return c;
  }
  return a.children.length - b.children.length;
}

/** `prefix:local` → `{namespace}local` for keys; `namespace` + `local` for values. */
function expandName(text: string, namespaces: NamespaceMap, isValue: boolean): string {
  const colon = text.indexOf(':');
  if (colon < 0) return text;
  const namespace = namespaces[text.slice(0, colon)];
  if (namespace === undefined) return text;
  return isValue ? namespace + text.slice(colon + 1) : `{${namespace}}${text.slice(colon + 1)}`;
}

/** Python's `str()` of a JSON scalar. */
function scalarText(value: Json): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value).toString() : pythonFloat(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const UNSORTED_KEYS = ['bizTransaction', 'source', 'destination'];
const SKIPPED_KEYS = new Set(['#text', 'rdfs:comment', 'comment', '@context']);

function toNode(json: Json, namespaces: NamespaceMap): HashNode {
  if (Array.isArray(json)) {
    const children = json.map((item) => toNode(item, namespaces));
    if (!json.some((item) => typeof item === 'string' && UNSORTED_KEYS.includes(item))) children.sort(compareNodes);
    return { name: '', value: '', children };
  }
  if (!isObject(json)) {
    return { name: '', value: scalarText(typeof json === 'string' ? expandName(json, namespaces, true) : json), children: [] };
  }
  const type = json.type;
  const text = json['#text'];
  const node: HashNode = { name: typeof type === 'string' ? type : '', value: typeof text === 'string' ? text : '', children: [] };
  for (const [rawKey, value] of Object.entries(json)) {
    if (SKIPPED_KEYS.has(rawKey)) continue;
    const key = expandName(rawKey, namespaces, false);
    const child = toNode(value, namespaces);
    if (Array.isArray(value)) {
      for (const element of child.children) node.children.push({ name: key, value: element.value, children: element.children });
    } else {
      node.children.push({ name: key, value: child.value, children: child.children });
    }
  }
  if (!UNSORTED_KEYS.some((key) => key in json)) node.children.sort(compareNodes);
  return node;
}

const PAIRED_LISTS = new Set(['bizTransactionList', 'sourceList', 'destinationList']);

/** A transaction/source/destination entry: its `type` first, then its value (extensions dropped). */
function pairOf(entry: HashNode): HashNode {
  const type = entry.children.find((c) => c.name === 'type');
  const id = entry.children.find((c) => c.name !== 'type');
  return { name: '', value: '', children: [type, id].filter((c): c is HashNode => c !== undefined), pair: true };
}

/** Reshapes the JSON tree like the XML one (the reference's `deep_structure_correction`). */
function correctStructure(node: HashNode): HashNode {
  const lists = new Map<string, HashNode[]>();
  const rest: HashNode[] = [];
  for (const child of node.children) {
    if (child.pair !== true && child.name.endsWith('List')) {
      const entries = lists.get(child.name) ?? [];
      entries.push({ name: child.name.slice(0, -4), value: child.value, children: child.children });
      lists.set(child.name, entries);
    } else {
      rest.push(child);
    }
  }
  for (const [name, entries] of lists) {
    rest.push({ name, value: '', children: PAIRED_LISTS.has(name) ? entries.map(pairOf) : entries });
  }
  const childEpcs = rest.filter((c) => c.name === 'childEPCs');
  const children = rest.filter((c) => c.name !== 'childEPCs');
  if (childEpcs.length > 0) children.push({ name: 'childEPCs', value: '', children: childEpcs.map((c) => ({ name: 'epc', value: c.value, children: [] })) });
  const corrected = children.map((c) => (PAIRED_LISTS.has(c.name) ? c : correctStructure(c)));
  return { name: renamed(node), value: node.value, children: corrected, ...(node.pair === true ? { pair: true as const } : {}) };
}

function renamed(node: HashNode): string {
  if (node.name === 'inputEPC' || node.name === 'outputEPC') return 'epc';
  if (['inputQuantity', 'outputQuantity', 'childQuantity'].includes(node.name)) return 'quantityElement';
  if (node.name === 'quantity' && node.children.length > 0) return 'quantityElement';
  return node.name;
}

// ---------------------------------------------------------------------------------------------
// Value normalisation

const CBV_URNS: readonly (readonly [string, string])[] = [
  ['urn:epcglobal:cbv:bizstep:', 'https://ref.gs1.org/cbv/BizStep-'],
  ['urn:epcglobal:cbv:disp:', 'https://ref.gs1.org/cbv/Disp-'],
  ['urn:epcglobal:cbv:btt:', 'https://ref.gs1.org/cbv/BTT-'],
  ['urn:epcglobal:cbv:sdt:', 'https://ref.gs1.org/cbv/SDT-'],
  ['urn:epcglobal:cbv:er:', 'https://ref.gs1.org/cbv/ER-'],
];

const PYTHON_FLOAT = /^[+-]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?$/;

/** Python's `repr` of a non-integral float. */
function pythonFloat(value: number): string {
  if (Math.abs(value) >= 1e-4) return String(value);
  const [mantissa = '', exponent = '0'] = value.toExponential().split('e');
  const sign = exponent.startsWith('-') ? '-' : '+';
  return `${mantissa}e${sign}${exponent.replace(/^[+-]/, '').padStart(2, '0')}`;
}

/** Numbers lose trailing zeros and a leading `+` (the reference's `float()` then `int()`/`str()`). */
function formatNumeric(text: string): string {
  if (!PYTHON_FLOAT.test(text)) return text;
  const value = Number(text.replace(/_/g, ''));
  if (!Number.isFinite(value)) return text;
  return Number.isInteger(value) ? BigInt(value).toString() : pythonFloat(value);
}

function canonicalValue(text: string): string {
  let value = text;
  for (const [urn, web] of CBV_URNS) value = value.split(urn).join(web);
  value = formatNumeric(value);
  return tryCanonicalDigitalLink(value) ?? value;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Python's `round(x, -3)` on microseconds: half to even. */
function roundHalfEven(micros: number): number {
  const whole = Math.floor(micros / 1000);
  const rest = micros - whole * 1000;
  if (rest > 500 || (rest === 500 && whole % 2 === 1)) return whole + 1;
  return whole;
}

function offsetMinutes(zone: string | undefined): number {
  if (zone === undefined || zone.toUpperCase() === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
  return zone.startsWith('-') ? -minutes : minutes;
}

/** UTC, millisecond precision, `Z`; a value that is not a timestamp is kept as it is. */
function canonicalTimestamp(text: string): string {
  const match = TIMESTAMP.exec(text);
  if (match === null) return text;
  const [, year, month, day, hour, minute, second = '0', fraction = '', zone] = match;
  if (Number(second) > 59) return text;
  const micros = Number(fraction.padEnd(6, '0').slice(0, 6));
  const date = new Date(0);
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  date.setUTCHours(Number(hour), Number(minute), Number(second), 0);
  if (date.getUTCDate() !== Number(day) || Number(hour) > 23 || Number(minute) > 59) return text;
  const epochMs = date.getTime() - offsetMinutes(zone) * 60_000 + roundHalfEven(micros);
  return new Date(epochMs).toISOString();
}

// ---------------------------------------------------------------------------------------------
// Bare CBV terms, by field (what the EPCIS 2.0 JSON-LD context makes of them)

function expandBare(value: Json | undefined, vocabulary: CbvVocabulary): Json | undefined {
  if (typeof value === 'string') return expandBareCbvTerm(vocabulary, value) ?? value;
  if (Array.isArray(value)) return value.map((item) => expandBare(item, vocabulary) ?? item);
  return value;
}

function expandIn(object: JsonObject, key: string, vocabulary: CbvVocabulary): void {
  if (key in object) object[key] = expandBare(object[key], vocabulary) ?? null;
}

function expandEntries(list: Json | undefined, vocabulary: CbvVocabulary): void {
  if (!Array.isArray(list)) return;
  for (const entry of list) if (isObject(entry)) expandIn(entry, 'type', vocabulary);
}

function expandSensorElements(list: Json | undefined): void {
  if (!Array.isArray(list)) return;
  for (const element of list) {
    if (!isObject(element)) continue;
    const reports = element.sensorReport;
    for (const report of Array.isArray(reports) ? reports : [reports]) {
      if (!isObject(report)) continue;
      expandIn(report, 'type', 'measurementType');
      expandIn(report, 'exception', 'sensorAlertType');
      expandIn(report, 'component', 'component');
    }
  }
}

function expandBareTerms(event: JsonObject): JsonObject {
  const copy = structuredClone(event);
  expandIn(copy, 'bizStep', 'bizStep');
  expandIn(copy, 'disposition', 'disposition');
  const persistent = copy.persistentDisposition;
  if (isObject(persistent)) {
    expandIn(persistent, 'set', 'disposition');
    expandIn(persistent, 'unset', 'disposition');
  }
  expandEntries(copy.bizTransactionList, 'bizTransactionType');
  expandEntries(copy.sourceList, 'sourceDestType');
  expandEntries(copy.destinationList, 'sourceDestType');
  expandSensorElements(copy.sensorElementList);
  return copy;
}

// ---------------------------------------------------------------------------------------------
// The pre-hash string

/** A field of the canonical property order and, for a structure, the order of its fields. */
type PropertyOrder = readonly (readonly [string, PropertyOrder | undefined])[];

const QUANTITY_ELEMENT: PropertyOrder = [['quantityElement', [['epcClass', undefined], ['quantity', undefined], ['uom', undefined]]]];
const EPC: PropertyOrder = [['epc', undefined]];
const ID: PropertyOrder = [['id', undefined]];
const leaves = (...names: string[]): PropertyOrder => names.map((name) => [name, undefined] as const);

/** CBV 2.0 §8.9.3 canonical property order (the reference's `PROP_ORDER`). */
const CANONICAL_ORDER: PropertyOrder = [
  ['eventTime', undefined],
  ['eventTimeZoneOffset', undefined],
  ['certificationInfo', undefined],
  ['parentID', undefined],
  ['epcList', EPC],
  ['inputEPCList', EPC],
  ['childEPCs', EPC],
  ['quantityList', QUANTITY_ELEMENT],
  ['childQuantityList', QUANTITY_ELEMENT],
  ['inputQuantityList', QUANTITY_ELEMENT],
  ['outputEPCList', EPC],
  ['outputQuantityList', QUANTITY_ELEMENT],
  ['action', undefined],
  ['transformationID', undefined],
  ['bizStep', undefined],
  ['disposition', undefined],
  ['persistentDisposition', leaves('set', 'unset')],
  ['readPoint', ID],
  ['bizLocation', ID],
  // Business transactions, sources and destinations are listed here in the standard, but
  // their entries are (type, value) pairs that the reference writes with the leftovers.
  ['sensorElementList', [['sensorElement', [
    ['sensorMetadata', leaves('time', 'startTime', 'endTime', 'deviceID', 'deviceMetadata', 'rawData', 'dataProcessingMethod', 'bizRules')],
    ['sensorReport', leaves(
      'type', 'exception', 'deviceID', 'deviceMetadata', 'rawData', 'dataProcessingMethod', 'time', 'microorganism',
      'chemicalSubstance', 'value', 'component', 'stringValue', 'booleanValue', 'hexBinaryValue', 'uriValue', 'minValue',
      'maxValue', 'meanValue', 'sDev', 'percRank', 'percValue', 'uom', 'coordinateReferenceSystem',
    )],
  ]]]],
];

const IGNORED_FIELDS = new Set(['recordTime', 'eventID', 'type', 'errorDeclaration']);

const sortedJoin = (parts: string[]): string => parts.sort(compareText).join('');

function remove(list: HashNode[], node: HashNode): void {
  const at = list.indexOf(node);
  if (at >= 0) list.splice(at, 1);
}

/** Extensions of a structure with an extension point (readPoint, sensorReport, …): taken out to close it. */
function takeNestedExtensions(children: HashNode[]): HashNode[] {
  if (children.length <= 1) return [];
  if (children.some((c) => c.name.includes('eventTime') || c.name.includes('action'))) return [];
  const extensions = children.filter((c) => c.pair !== true && c.name.includes('{') && c.name.includes('/}'));
  for (const extension of extensions) remove(children, extension);
  return extensions;
}

function fieldText(node: HashNode, order: PropertyOrder | undefined): string {
  const nested = order === undefined ? '' : orderedText(node.children, order);
  let text = '';
  if (node.value !== '') {
    const trimmed = node.value.trim();
    const lower = node.name.toLowerCase();
    text = lower.includes('time') && !lower.includes('offset') ? canonicalTimestamp(trimmed) : canonicalValue(trimmed);
    if (text !== '') text = `=${text}`;
  }
  return text !== '' || nested !== '' ? node.name + text + nested : '';
}

/** Writes (and consumes) the fields of `order`, then the structure's own extensions. */
function orderedText(children: HashNode[], order: PropertyOrder): string {
  const extensions = takeNestedExtensions(children);
  let text = '';
  for (const [name, subOrder] of order) {
    const values: string[] = [];
    for (const child of children.filter((c) => c.name === name && c.pair !== true)) {
      const written = fieldText(child, subOrder);
      if (written !== '') values.push(written);
      if (child.children.length === 0) remove(children, child);
    }
    const joined = sortedJoin(values);
    if (joined !== '') text += joined;
  }
  return extensions.length > 0 ? text + genericText(extensions) : text;
}

/** Everything else, as `name=value` with nested fields, sorted (pairs keep type first). */
function genericText(children: readonly HashNode[]): string {
  const parts = children.map((child) => {
    if (child.pair === true) return genericText(child.children);
    const trimmed = child.value.trim();
    const value = trimmed === '' ? '' : `=${canonicalValue(trimmed)}`;
    return child.name + value + genericText(child.children);
  });
  const keepOrder = children.some((c) => UNSORTED_KEYS.includes(c.name));
  return children.length > 1 && !keepOrder ? sortedJoin(parts) : parts.join('');
}

function eventTree(event: JsonObject, context: EventHashContext): HashNode {
  const namespaces = { ...STANDARD_NAMESPACES, ...contextPrefixes(event['@context']), ...context.namespaces };
  const tree = correctStructure(toNode(expandBareTerms(event), namespaces));
  const ignored = new Set([...IGNORED_FIELDS, ...(context.ignoreFields ?? []).map((f) => expandName(f, namespaces, false))]);
  return { ...tree, children: tree.children.filter((c) => !ignored.has(c.name)) };
}

/**
 * The CBV 2.0 pre-hash string of one EPCIS 2.0 JSON(-LD) event.
 * @param event - the event object as in an EPCIS document's `eventList`
 * @param context - the document's prefixes and `ignoreFields` (see {@link eventHashContextOf})
 * @returns the canonical pre-hash string
 * @throws SilkError `INVALID_ARGUMENT` when `event` is not an object with a string `type`
 * @example
 * eventPreHash({ type: 'ObjectEvent', eventTime: '2020-01-01T00:00:00Z', eventTimeZoneOffset: '+00:00', action: 'OBSERVE' });
 * // 'eventType=ObjectEventeventTime=2020-01-01T00:00:00.000ZeventTimeZoneOffset=+00:00action=OBSERVE'
 */
export function eventPreHash(event: unknown, context: EventHashContext = {}): string {
  if (!isObject(event) || typeof event.type !== 'string') {
    throw new SilkError('INVALID_ARGUMENT', 'an EPCIS event must be an object with a string "type"');
  }
  const tree = eventTree(event, context);
  const type = tree.name;
  const children = tree.children;
  const ordered = orderedText(children, CANONICAL_ORDER);
  return `eventType=${type}${ordered}${children.length > 0 ? genericText(children) : ''}`;
}

/**
 * The CBV 2.0 event hash ID of a pre-hash string.
 * @param preHash - the string from {@link eventPreHash}
 * @returns `ni:///sha-256;<64 hex digits>?ver=CBV2.0`
 * @example
 * eventHashIdOf('eventType=ObjectEvent…');
 */
export function eventHashIdOf(preHash: string): string {
  return `ni:///sha-256;${sha256HexOfText(preHash)}?ver=CBV2.0`;
}

/**
 * The CBV 2.0 event hash ID of one event.
 * @param event - the event object
 * @param context - the document's prefixes and `ignoreFields`
 * @returns `ni:///sha-256;…?ver=CBV2.0`
 * @throws SilkError `INVALID_ARGUMENT` as {@link eventPreHash}
 * @example
 * eventHashId(document.epcisBody.eventList[0], eventHashContextOf(document));
 */
export function eventHashId(event: unknown, context: EventHashContext = {}): string {
  return eventHashIdOf(eventPreHash(event, context));
}

function contextPrefixes(context: unknown): Record<string, string> {
  const prefixes: Record<string, string> = {};
  for (const entry of Array.isArray(context) ? context : [context]) {
    if (!isObject(entry)) continue;
    for (const [prefix, iri] of Object.entries(entry)) {
      if (!prefix.startsWith('@') && typeof iri === 'string') prefixes[prefix] = iri;
    }
  }
  return prefixes;
}

const isIgnoreFieldsKey = (key: string): boolean => key === 'ignoreFields' || key.endsWith(':ignoreFields');

function ignoreFieldsIn(...holders: unknown[]): string[] {
  const fields: string[] = [];
  for (const holder of holders) {
    if (!isObject(holder)) continue;
    for (const [key, value] of Object.entries(holder)) {
      if (isIgnoreFieldsKey(key) && Array.isArray(value)) fields.push(...value.filter((v): v is string => typeof v === 'string'));
    }
  }
  return fields;
}

function eventsOf(document: JsonObject): unknown[] {
  const body = document.epcisBody;
  if (!isObject(body)) throw new SilkError('INVALID_ARGUMENT', 'an EPCIS document needs an "epcisBody" object', { path: '/epcisBody' });
  const queryResults = body.queryResults;
  const resultsBody = isObject(queryResults) ? queryResults.resultsBody : undefined;
  const list = body.eventList ?? (isObject(resultsBody) ? resultsBody.eventList : undefined) ?? (body.event === undefined ? [] : [body.event]);
  if (!Array.isArray(list)) throw new SilkError('INVALID_ARGUMENT', '"eventList" must be an array', { path: '/epcisBody/eventList' });
  return list;
}

/**
 * The hash context of an EPCIS document: the prefixes of its inline JSON-LD context and the
 * fields it names in an `ignoreFields` list (document level or query results level).
 * @param document - an EPCISDocument or EPCISQueryDocument
 * @returns the context for {@link eventPreHash}
 * @example
 * eventHashContextOf({ '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', { ex: 'https://ex.com/' }] });
 */
export function eventHashContextOf(document: unknown): EventHashContext {
  if (!isObject(document)) return {};
  const body = document.epcisBody;
  const queryResults = isObject(body) ? body.queryResults : undefined;
  return { namespaces: contextPrefixes(document['@context']), ignoreFields: ignoreFieldsIn(document, body, queryResults) };
}

/**
 * Pre-hash strings and hash IDs of every event of an EPCIS (query) document, in order.
 * @param document - a parsed EPCIS 2.0 JSON-LD document
 * @returns one result per event
 * @throws SilkError `INVALID_ARGUMENT` when the document has no event list or an event is not an object
 * @example
 * documentEventHashes(JSON.parse(text)).map((r) => r.hashId);
 */
export function documentEventHashes(document: unknown): EventHashResult[] {
  if (!isObject(document)) throw new SilkError('INVALID_ARGUMENT', 'an EPCIS document must be a JSON object');
  const context = eventHashContextOf(document);
  return eventsOf(document).map((event) => {
    const preHash = eventPreHash(event, context);
    return { preHash, hashId: eventHashIdOf(preHash) };
  });
}
