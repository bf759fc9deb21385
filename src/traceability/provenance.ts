/**
 * The provenance of one item, computed at query time from the EPCIS events the `epcis`
 * contract records: the item's own events, its lot's events, the containers it travelled in
 * (to any depth) while it was inside them, how it was made (transformation lineage), sensor
 * summaries per leg, its journey of places and custodians, and the events declared
 * erroneous. Pure: it reads state through a {@link ProvenanceReader} (a peer's
 * `reader(chain, 'epcis')` is one) and uses only the index ranges of
 * `epcis-ledger-index.ts`, so the work is bounded by the item's history, never by the ledger.
 *
 * Order of events: `eventTime` instant, then ledger order (block, transaction, position in its
 * `captureEvents` call), then hash. Everything is re-derived from all events on every query,
 * so a late capture (an event recorded after others with a later `eventTime`) takes its place
 * in time. Semantics: docs/traceability.md, section "Provenance".
 */
import { SilkError } from '../errors.js';
import type { JsonValue } from '../ledger/json-value.js';
import { cbvBareForm } from './cbv-vocabulary.js';
import { parseEpc } from './epc-identifiers.js';
import { canonicalIdentifier } from './epcis-document-semantics.js';
import { eventKey, ilmdLotNumbers, lotClass, type RecordedEpcisEvent } from './epcis-ledger-index.js';

/** What the provenance engine reads: the `epcis` contract's state. A peer's `reader(chain, 'epcis')` satisfies it. */
export interface ProvenanceReader {
  /** A state entry of the epcis contract with its version (block, tx index) = ledger order. */
  entry(key: string): { readonly value: JsonValue; readonly version: { readonly block: number; readonly tx: number } } | undefined;
  range(start: string, end: string, page?: { readonly limit?: number }): { readonly items: readonly { readonly key: string; readonly value: JsonValue }[] };
}

/** A sensor limit for one measurement type (and unit): readings outside `[min, max]` are excursions. */
export interface SensorThreshold {
  /** Measurement type in any form: `Temperature`, `gs1:Temperature`, `https://gs1.org/voc/Temperature`, or an extension URI. */
  readonly type: string;
  /** Unit (UN/CEFACT code, e.g. `CEL`); when absent the limit applies to every unit of the type. */
  readonly uom?: string;
  readonly min?: number;
  readonly max?: number;
}

/** Options of {@link itemProvenance}. */
export interface ProvenanceOptions {
  /** Most event records read in one query (default 5,000, at most 100,000); past it the answer says `truncated`. */
  readonly maxEvents?: number;
  /** Levels of transformation lineage (default 3, 0–5). */
  readonly lineageDepth?: number;
  /** Most lot events listed (default 20, 0–5,000); page the rest with `GET /api/epcis/events?lot=<epcClass>`. */
  readonly maxLotEvents?: number;
  /** Sensor limits per type (at most 64), e.g. `{ type: 'Temperature', uom: 'CEL', min: 2, max: 8 }`. */
  readonly thresholds?: readonly SensorThreshold[];
  /** The item's lot when it is known elsewhere (the products registry); else it comes from the commissioning event's ILMD. */
  readonly lotNumber?: string;
}

/** An event's place in the ledger. */
export interface LedgerPosition {
  readonly block: number;
  readonly tx: number;
  /** Position in its `captureEvents` call (0 when the record does not say). */
  readonly index: number;
}

/** Why an event is part of a provenance answer. */
export type ProvenanceRole = 'item' | 'container' | 'lot' | 'lineage';

/** One recorded event with what proofs need (`txId`, ledger position) and the event as captured. */
export interface ProvenanceEvent {
  /** CBV 2.0 hash ID `ni:///sha-256;…?ver=CBV2.0`. */
  readonly hash: string;
  readonly eventID: string;
  readonly recordedBy: string;
  readonly txId: string;
  readonly ledger: LedgerPosition;
  readonly eventTime: string;
  readonly type: string;
  readonly role: ProvenanceRole;
  /** For role `container`: the container (canonical EPC) whose event this is. */
  readonly container?: string;
  /** JSON-LD prefixes of the capturing document, when it declared any (the event hash expands the event's CURIEs with them). */
  readonly namespaces?: { readonly [prefix: string]: string };
  /** The event exactly as captured. */
  readonly event: { readonly [field: string]: JsonValue };
}

/** One end of an interval: the event that starts or ends it. */
export interface IntervalBound {
  readonly eventTime: string;
  readonly hash: string;
}

/** The item inside one container during `[from, to)` (`to` null: still inside as far as the ledger knows). */
export interface ContainmentInterval {
  /** The container, canonical EPC. */
  readonly parent: string;
  /** 1 for a direct parent (a case), 2 for its parent (a pallet), and so on. */
  readonly level: number;
  /** The chain of containers from the direct parent up to `parent`. */
  readonly path: readonly string[];
  readonly from: IntervalBound;
  readonly to: IntervalBound | null;
}

/** The item's lot: from options or its commissioning event's ILMD `lotNumber`. */
export interface ProvenanceLot {
  readonly gtin: string;
  readonly lotNumber: string;
  /** The LGTIN class, canonical Digital Link `https://id.gs1.org/01/<gtin>/10/<lot>`. */
  readonly epcClass: string;
  /** Where the lot number came from. */
  readonly source: 'ilmd' | 'option';
  /** Events of the lot class (quantity lists and the commissioning of its items), in event order. */
  readonly events: readonly ProvenanceEvent[];
  /** True when the lot has more events than `maxLotEvents` (page them with `lot=<epcClass>`). */
  readonly truncated: boolean;
}

/** One input of a transformation, and how it was made in turn. */
export interface LineageInput {
  /** Canonical EPC (`instance`) or EPC class (`class`). */
  readonly epc: string;
  readonly kind: 'instance' | 'class';
  readonly quantity?: number;
  readonly uom?: string;
  /** Transformations that produced this input; null when not followed (depth reached, or `cycle`). */
  readonly producedBy: readonly LineageStep[] | null;
  /** True when the input is already on the path from the item (a cycle in the recorded data). */
  readonly cycle: boolean;
}

/** A transformation that produced the item (or one of its inputs). */
export interface LineageStep {
  readonly event: ProvenanceEvent;
  readonly transformationID: string | null;
  readonly inputs: readonly LineageInput[];
}

/** One sensor excursion. */
export interface SensorExcursion {
  /** The reading's time (its own, else its sensor element's, else the event's). */
  readonly time: string;
  readonly value: number;
  /** Which limit it broke and where that limit came from. */
  readonly limit: 'min' | 'max';
  readonly bound: number;
  readonly boundFrom: 'reading' | 'threshold';
  readonly hash: string;
}

/** Readings of one measurement type and unit in one leg. */
export interface SensorSummary {
  /** Bare GS1 term (`Temperature`) or the extension URI. */
  readonly type: string;
  readonly uom: string | null;
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** Number of excursions; `excursions` lists the first 100. */
  readonly excursionCount: number;
  readonly excursions: readonly SensorExcursion[];
}

/** Where to page a leg's events (the API's `GET /api/epcis/events?MATCH_anyEPC=&GE_eventTime=&LT_eventTime=`). */
export interface SensorPage {
  readonly epc: string;
  readonly from: string | null;
  readonly to: string | null;
}

/** Sensor readings of one leg: the item's own events, or one containment interval. */
export interface SensorLeg {
  readonly leg: 'item' | 'container';
  /** The container for a container leg. */
  readonly parent?: string;
  readonly level?: number;
  readonly page: SensorPage;
  readonly sensors: readonly SensorSummary[];
}

/** A custodian seen at a place. */
export interface Custodian {
  readonly party: string;
  /** `owning_party`, `possessing_party`, or `recordedBy` when the event names neither (the recording org). */
  readonly role: 'owning_party' | 'possessing_party' | 'recordedBy';
}

/** One stop of the journey. */
export interface JourneyStop {
  /** Canonical business location, else read point. */
  readonly place: string;
  readonly placeType: 'bizLocation' | 'readPoint';
  /** Time of the first event at this stop. */
  readonly arrival: string;
  /** Time of the last event at this stop; null for the last stop (still there as far as the ledger knows). */
  readonly departure: string | null;
  readonly custodians: readonly Custodian[];
  /** Hash IDs of the stop's events. */
  readonly events: readonly string[];
}

/** An event declared erroneous: listed, and left out of everything else. */
export interface DeclaredErroneousEvent extends ProvenanceEvent {
  readonly errorDeclaration: JsonValue;
}

/** The provenance of one item. JSON-serialisable. */
export interface ItemProvenance {
  /** The item, canonical Digital Link. */
  readonly epc: string;
  /** Its own events and its containers' events while it was inside, in event order (erroneous ones excluded). */
  readonly events: readonly ProvenanceEvent[];
  readonly lot: ProvenanceLot | null;
  readonly containment: readonly ContainmentInterval[];
  /** Transformations that produced the item, with their inputs to `lineageDepth` levels. */
  readonly lineage: readonly LineageStep[];
  readonly sensors: readonly SensorLeg[];
  readonly journey: readonly JourneyStop[];
  readonly declaredErroneous: readonly DeclaredErroneousEvent[];
  /** Event records read. */
  readonly eventsRead: number;
  /** True when `maxEvents` stopped a read: some sections may be incomplete. */
  readonly truncated: boolean;
}

/** Where an item is now: its last place (through its containers), holder and containers. */
export interface ItemWhereabouts {
  readonly epc: string;
  /** The last stop of its journey, or null when no event names a place. */
  readonly place: { readonly id: string; readonly type: 'bizLocation' | 'readPoint'; readonly since: string } | null;
  /** The last custodian: the last event's possessing party, else owning party, else the recording org. */
  readonly custodian: Custodian | null;
  /** Containers it is inside now, innermost first. */
  readonly containers: readonly string[];
  /** The last event of its history. */
  readonly lastEvent: ProvenanceEvent | null;
}

export const DEFAULT_MAX_EVENTS = 5000;
const MAX_MAX_EVENTS = 100_000;
export const DEFAULT_LINEAGE_DEPTH = 3;
const MAX_LINEAGE_DEPTH = 5;
const DEFAULT_MAX_LOT_EVENTS = 20;
const MAX_MAX_LOT_EVENTS = 5000;
const MAX_THRESHOLDS = 64;
/** Containment levels followed above the item (cases, pallets, containers, vessels, …). */
const MAX_CONTAINMENT_LEVELS = 8;
/** Lineage inputs listed in one answer. */
const MAX_LINEAGE_NODES = 1000;
const MAX_EXCURSIONS_LISTED = 100;
const RANGE_PAGE = 1000;
/** Length of `<time key>|<hash hex>` at the end of an index key. */
const KEY_SUFFIX = 18 + 1 + 64;

type EventBody = Readonly<Record<string, JsonValue>>;

/** An event record read once, with its ordering key. */
interface LoadedEvent {
  readonly hex: string;
  readonly timeKey: string;
  readonly record: RecordedEpcisEvent;
  readonly event: EventBody;
  readonly block: number;
  readonly tx: number;
  readonly index: number;
  readonly erroneous: boolean;
}

/** The events of one index value read so far, in event order. */
interface IndexedEvents {
  readonly events: LoadedEvent[];
  /** Where the next read starts (exclusive end of what was read). */
  next: string;
  /** The end of everything read so far; `complete` when it is the end of the value's keys. */
  complete: boolean;
}

/** A span of a child inside one direct parent. */
interface Span {
  readonly parent: string;
  readonly start: LoadedEvent;
  readonly end: LoadedEvent | undefined;
}

/** A span at any level: `path` from the direct parent up to `parent`. */
interface Ancestor extends Span {
  readonly path: readonly string[];
}

const isRecord = (v: unknown): v is Readonly<Record<string, JsonValue>> => typeof v === 'object' && v !== null && !Array.isArray(v);
const stringList = (v: JsonValue | undefined): readonly string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);
const str = (v: JsonValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/** Event order: eventTime instant, ledger order, hash. */
function compareEvents(a: LoadedEvent, b: LoadedEvent): number {
  if (a.timeKey !== b.timeKey) return a.timeKey < b.timeKey ? -1 : 1;
  if (a.block !== b.block) return a.block - b.block;
  if (a.tx !== b.tx) return a.tx - b.tx;
  if (a.index !== b.index) return a.index - b.index;
  return a.hex < b.hex ? -1 : a.hex > b.hex ? 1 : 0;
}

const laterOf = (a: LoadedEvent, b: LoadedEvent): LoadedEvent => (compareEvents(a, b) >= 0 ? a : b);
function earlierOf(a: LoadedEvent | undefined, b: LoadedEvent | undefined): LoadedEvent | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareEvents(a, b) <= 0 ? a : b;
}
/** Whether `e` lies in `[start, end)`. */
const within = (e: LoadedEvent, start: LoadedEvent, end: LoadedEvent | undefined): boolean =>
  compareEvents(e, start) >= 0 && (end === undefined || compareEvents(e, end) < 0);

function invalidOption(message: string, path: string): SilkError {
  return new SilkError('INVALID_ARGUMENT', message, { path });
}

function integerOption(value: number | undefined, fallback: number, min: number, max: number, path: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) throw invalidOption(`${path} must be an integer ${min}..${max}`, path);
  return value;
}

/** Bare measurement type (`Temperature`) or the URI of an extension type. */
function measurementType(type: string): string {
  try {
    return cbvBareForm('measurementType', type);
  } catch {
    return type;
  }
}

interface CheckedThreshold {
  readonly type: string;
  readonly uom: string | undefined;
  readonly min: number | undefined;
  readonly max: number | undefined;
}

function finiteOrUndefined(v: unknown, path: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidOption(`${path} must be a finite number`, path);
  return v;
}

function checkThreshold(t: unknown, path: string): CheckedThreshold {
  const r = typeof t === 'object' && t !== null ? (t as Record<string, unknown>) : {};
  const type = r['type'];
  const uom = r['uom'];
  if (typeof type !== 'string' || type === '') throw invalidOption(`${path}.type must be a measurement type`, `${path}.type`);
  if (uom !== undefined && typeof uom !== 'string') throw invalidOption(`${path}.uom must be a string`, `${path}.uom`);
  const min = finiteOrUndefined(r['min'], `${path}.min`);
  const max = finiteOrUndefined(r['max'], `${path}.max`);
  if (min === undefined && max === undefined) throw invalidOption(`${path} needs min or max`, path);
  if (min !== undefined && max !== undefined && min > max) throw invalidOption(`${path}.min is above its max`, path);
  return { type: measurementType(type), uom, min, max };
}

function checkThresholds(list: unknown): readonly CheckedThreshold[] {
  if (list === undefined) return [];
  if (!Array.isArray(list) || list.length > MAX_THRESHOLDS) throw invalidOption(`thresholds must be a list of at most ${MAX_THRESHOLDS}`, 'thresholds');
  return (list as readonly unknown[]).map((t, i) => checkThreshold(t, `thresholds[${i}]`));
}

interface CheckedOptions {
  readonly maxEvents: number;
  readonly lineageDepth: number;
  readonly maxLotEvents: number;
  readonly thresholds: readonly CheckedThreshold[];
  readonly lotNumber: string | undefined;
}

function checkOptions(options: ProvenanceOptions): CheckedOptions {
  if (typeof options !== 'object' || (options as unknown) === null) throw invalidOption('options must be an object', 'options');
  const lotNumber: unknown = options.lotNumber;
  if (lotNumber !== undefined && (typeof lotNumber !== 'string' || !/^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$/.test(lotNumber))) {
    throw invalidOption('lotNumber must be 1–20 characters of GS1 character set 82', 'lotNumber');
  }
  return {
    maxEvents: integerOption(options.maxEvents, DEFAULT_MAX_EVENTS, 1, MAX_MAX_EVENTS, 'maxEvents'),
    lineageDepth: integerOption(options.lineageDepth, DEFAULT_LINEAGE_DEPTH, 0, MAX_LINEAGE_DEPTH, 'lineageDepth'),
    maxLotEvents: integerOption(options.maxLotEvents, DEFAULT_MAX_LOT_EVENTS, 0, MAX_MAX_LOT_EVENTS, 'maxLotEvents'),
    thresholds: checkThresholds(options.thresholds),
    lotNumber,
  };
}

/**
 * One query's reads: each event record and each index value is read once, identifiers are
 * canonicalised once, and the record budget is shared by every section.
 */
class ProvenanceSession {
  readonly #reader: ProvenanceReader;
  readonly #records = new Map<string, LoadedEvent | null>();
  readonly #indexed = new Map<string, IndexedEvents>();
  readonly #canonical = new Map<string, string>();
  readonly #parents = new Map<string, string | null>();
  readonly #children = new Map<string, ReadonlySet<string>>();
  readonly #ancestry = new Map<string, { readonly upper: string | undefined; readonly result: readonly Ancestor[] }>();
  #budget: number;
  eventsRead = 0;
  truncated = false;

  constructor(reader: ProvenanceReader, maxEvents: number) {
    this.#reader = reader;
    this.#budget = maxEvents;
  }

  /** The canonical form of an identifier as recorded (the contract checked it at capture). */
  canonical(raw: string): string {
    let c = this.#canonical.get(raw);
    if (c === undefined) {
      try {
        c = canonicalIdentifier(raw, 'epc');
      } catch {
        c = raw;
      }
      this.#canonical.set(raw, c);
    }
    return c;
  }

  #load(hex: string, timeKey: string): LoadedEvent | null | undefined {
    const known = this.#records.get(hex);
    if (known !== undefined) return known;
    if (this.#budget <= 0) return undefined;
    this.#budget -= 1;
    this.eventsRead += 1;
    const entry = this.#reader.entry(eventKey(hex));
    const record = entry === undefined || !isRecord(entry.value) ? undefined : (entry.value as RecordedEpcisEvent);
    if (entry === undefined || record === undefined || !isRecord(record.event)) {
      this.#records.set(hex, null);
      return null;
    }
    const declaration = record.errorDeclaration ?? record.event['errorDeclaration'];
    const index: unknown = record.index;
    const loaded: LoadedEvent = {
      hex,
      timeKey,
      record,
      event: record.event,
      block: entry.version.block,
      tx: entry.version.tx,
      index: typeof index === 'number' ? index : 0,
      erroneous: declaration !== undefined && declaration !== null,
    };
    this.#records.set(hex, loaded);
    return loaded;
  }

  /**
   * The events of one index value (`ix:<field>:<value>|…`) with an event time up to `upperTimeKey`
   * (inclusive; all when undefined), in event order. Reads only what earlier calls did not.
   */
  indexed(field: 'epc' | 'lot', value: string, upperTimeKey?: string, limit = Number.POSITIVE_INFINITY): readonly LoadedEvent[] {
    const prefix = `ix:${field}:${value}|`;
    const id = `${field}:${value}`;
    let state = this.#indexed.get(id);
    if (state === undefined) {
      state = { events: [], next: prefix, complete: false };
      this.#indexed.set(id, state);
    }
    const end = upperTimeKey === undefined ? `${prefix.slice(0, -1)}}` : `${prefix}${upperTimeKey}}`;
    if (state.complete || state.next >= end || state.events.length >= limit) return state.events;
    let added = false;
    for (;;) {
      // A bounded read asks for what it may still keep (and one more), not a whole page.
      const wanted = Number.isFinite(limit) ? Math.min(RANGE_PAGE, limit - state.events.length + 1) : RANGE_PAGE;
      const page = this.#reader.range(state.next, end, { limit: wanted }).items;
      for (const item of page) {
        if (state.events.length >= limit) return this.#sorted(state, added);
        const hex = typeof item.value === 'string' ? item.value : item.key.slice(-64);
        const loaded = this.#load(hex, item.key.slice(-KEY_SUFFIX, -65));
        if (loaded === undefined) {
          this.truncated = true;
          return this.#sorted(state, added);
        }
        state.next = `${item.key}\u0000`;
        if (loaded !== null) {
          state.events.push(loaded);
          added = true;
        }
      }
      if (page.length < wanted) break;
    }
    state.next = end;
    if (upperTimeKey === undefined) state.complete = true;
    return this.#sorted(state, added);
  }

  #sorted(state: IndexedEvents, added: boolean): readonly LoadedEvent[] {
    if (added) state.events.sort(compareEvents);
    return state.events;
  }

  /** The canonical `parentID` of an event, or null. */
  parentOf(e: LoadedEvent): string | null {
    let p = this.#parents.get(e.hex);
    if (p === undefined) {
      const raw = str(e.event['parentID']);
      p = raw === undefined ? null : this.canonical(raw);
      this.#parents.set(e.hex, p);
    }
    return p;
  }

  /** The canonical `childEPCs` of an event. */
  childrenOf(e: LoadedEvent): ReadonlySet<string> {
    let c = this.#children.get(e.hex);
    if (c === undefined) {
      c = new Set(stringList(e.event['childEPCs']).map((raw) => this.canonical(raw)));
      this.#children.set(e.hex, c);
    }
    return c;
  }

  ancestryMemo(epc: string, upper: string | undefined): readonly Ancestor[] | undefined {
    const m = this.#ancestry.get(epc);
    if (m === undefined) return undefined;
    if (m.upper === undefined || (upper !== undefined && m.upper >= upper)) return m.result;
    return undefined;
  }

  rememberAncestry(epc: string, upper: string | undefined, result: readonly Ancestor[]): void {
    this.#ancestry.set(epc, { upper, result });
  }
}

// ---------------------------------------------------------------------------------------------
// Containment

const isAggregation = (e: LoadedEvent): boolean => e.event['type'] === 'AggregationEvent' && !e.erroneous;
const actionOf = (e: LoadedEvent): string | undefined => str(e.event['action']);

/** A DELETE naming only its parent: it unpacks every child. */
function isUnpackAll(s: ProvenanceSession, e: LoadedEvent, parent: string): boolean {
  if (!isAggregation(e) || actionOf(e) !== 'DELETE' || s.parentOf(e) !== parent) return false;
  const quantities = e.event['childQuantityList'];
  return s.childrenOf(e).size === 0 && !(Array.isArray(quantities) && quantities.length > 0);
}

/**
 * Replays aggregation events (in event order) for one child: ADD or OBSERVE into a parent puts
 * it there (moving it out of another), DELETE naming it takes it out, an unpack-all of its
 * current parent takes it out.
 */
function replaySpans(s: ProvenanceSession, child: string, events: readonly LoadedEvent[]): Span[] {
  const spans: Span[] = [];
  let current: { parent: string; start: LoadedEvent } | undefined;
  const close = (end: LoadedEvent): void => {
    if (current !== undefined) spans.push({ parent: current.parent, start: current.start, end });
    current = undefined;
  };
  for (const e of events) {
    const parent = s.parentOf(e);
    if (!s.childrenOf(e).has(child)) {
      if (current !== undefined && parent === current.parent) close(e);
      continue;
    }
    const action = actionOf(e);
    if (action === 'DELETE') {
      if (current !== undefined && (parent === null || parent === current.parent)) close(e);
    } else if ((action === 'ADD' || action === 'OBSERVE') && parent !== null && parent !== child && parent !== current?.parent) {
      close(e);
      current = { parent, start: e };
    }
  }
  if (current !== undefined) spans.push({ parent: current.parent, start: current.start, end: undefined });
  return spans;
}

const maxKey = (a: string | undefined, b: string | undefined): string | undefined => (a === undefined || b === undefined ? undefined : a > b ? a : b);
const minKey = (a: string | undefined, b: string | undefined): string | undefined => (a === undefined ? b : b === undefined ? a : a < b ? a : b);

/** The spans of `child` in its direct parents, from its events up to `upper` and its parents' unpack-alls. */
function directSpans(s: ProvenanceSession, child: string, childEvents: readonly LoadedEvent[], upper: string | undefined): Span[] {
  const own = childEvents.filter((e) => isAggregation(e) && (upper === undefined || e.timeKey <= upper) && s.childrenOf(e).has(child));
  if (own.length === 0) return [];
  // Candidate spans from the child's own events bound how far each parent's events are read.
  const bounds = new Map<string, string | undefined>();
  for (const span of replaySpans(s, child, own)) {
    const end = span.end === undefined ? upper : minKey(span.end.timeKey, upper);
    bounds.set(span.parent, bounds.has(span.parent) ? maxKey(bounds.get(span.parent), end) : end);
  }
  const unpacks: LoadedEvent[] = [];
  for (const [parent, bound] of bounds) {
    for (const e of s.indexed('epc', parent, bound)) {
      if ((bound === undefined || e.timeKey <= bound) && isUnpackAll(s, e, parent)) unpacks.push(e);
    }
  }
  if (unpacks.length === 0) return replaySpans(s, child, own);
  return replaySpans(s, child, [...own, ...unpacks].sort(compareEvents));
}

function intersect(inner: Span, outer: Ancestor): Ancestor | undefined {
  const start = laterOf(inner.start, outer.start);
  const end = earlierOf(inner.end, outer.end);
  if (end !== undefined && compareEvents(start, end) >= 0) return undefined;
  return { parent: outer.parent, path: [inner.parent, ...outer.path], start, end };
}

/** Every container `epc` was inside (up to `upper`), at every level, as spans. */
function ancestry(s: ProvenanceSession, epc: string, upper: string | undefined, chain: ReadonlySet<string>): readonly Ancestor[] {
  const memo = s.ancestryMemo(epc, upper);
  if (memo !== undefined) return memo.filter((a) => a.path.every((p) => !chain.has(p)));
  const direct = directSpans(s, epc, s.indexed('epc', epc, upper), upper).filter((d) => !chain.has(d.parent));
  const result: Ancestor[] = direct.map((d) => ({ ...d, path: [d.parent] }));
  if (chain.size < MAX_CONTAINMENT_LEVELS) {
    const byParent = new Map<string, Span[]>();
    for (const d of direct) byParent.set(d.parent, [...(byParent.get(d.parent) ?? []), d]);
    for (const [parent, spans] of byParent) {
      const bound = spans.reduce<string | undefined>((acc, d, i) => {
        const end = d.end === undefined ? upper : d.end.timeKey;
        return i === 0 ? end : maxKey(acc, end);
      }, undefined);
      const above = ancestry(s, parent, bound, new Set([...chain, parent]));
      for (const d of spans) {
        for (const a of above) {
          const joined = intersect(d, a);
          if (joined !== undefined) result.push(joined);
        }
      }
    }
  }
  s.rememberAncestry(epc, upper, result);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Events, sensors, journey

function ledgerOf(e: LoadedEvent): LedgerPosition {
  return { block: e.block, tx: e.tx, index: e.index };
}

function describe(e: LoadedEvent, role: ProvenanceRole, container?: string): ProvenanceEvent {
  return {
    hash: e.record.hash,
    eventID: e.record.eventID,
    recordedBy: e.record.recordedBy,
    txId: e.record.txId,
    ledger: ledgerOf(e),
    eventTime: str(e.event['eventTime']) ?? '',
    type: str(e.event['type']) ?? '',
    role,
    ...(container === undefined ? {} : { container }),
    ...(Object.keys(e.record.namespaces).length === 0 ? {} : { namespaces: e.record.namespaces }),
    event: e.event,
  };
}

const bound = (e: LoadedEvent): IntervalBound => ({ eventTime: str(e.event['eventTime']) ?? '', hash: e.record.hash });

interface Reading {
  readonly type: string;
  readonly uom: string | null;
  readonly value: number;
  readonly time: string;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly hash: string;
}

const num = (v: JsonValue | undefined): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Numeric readings of an event's `sensorElementList` (`value`, else `meanValue`). */
function readingsOf(e: LoadedEvent): Reading[] {
  const elements = e.event['sensorElementList'];
  if (!Array.isArray(elements)) return [];
  const eventTime = str(e.event['eventTime']) ?? '';
  const out: Reading[] = [];
  for (const element of elements) {
    if (!isRecord(element)) continue;
    const metadata = isRecord(element['sensorMetadata']) ? element['sensorMetadata'] : {};
    const reports = element['sensorReport'];
    if (!Array.isArray(reports)) continue;
    for (const report of reports) {
      if (!isRecord(report)) continue;
      const type = str(report['type']);
      const value = num(report['value']) ?? num(report['meanValue']);
      if (type === undefined || value === undefined) continue;
      out.push({
        type: measurementType(type),
        uom: str(report['uom']) ?? null,
        value,
        time: str(report['time']) ?? str(metadata['time']) ?? str(metadata['endTime']) ?? eventTime,
        min: num(report['minValue']),
        max: num(report['maxValue']),
        hash: e.record.hash,
      });
    }
  }
  return out;
}

function excursionsOf(r: Reading, thresholds: readonly CheckedThreshold[]): SensorExcursion[] {
  const out: SensorExcursion[] = [];
  const check = (min: number | undefined, max: number | undefined, boundFrom: 'reading' | 'threshold'): void => {
    if (min !== undefined && r.value < min) out.push({ time: r.time, value: r.value, limit: 'min', bound: min, boundFrom, hash: r.hash });
    else if (max !== undefined && r.value > max) out.push({ time: r.time, value: r.value, limit: 'max', bound: max, boundFrom, hash: r.hash });
  };
  check(r.min, r.max, 'reading');
  for (const t of thresholds) {
    if (t.type === r.type && (t.uom === undefined || t.uom === r.uom)) check(t.min, t.max, 'threshold');
  }
  return out;
}

function summarise(events: readonly LoadedEvent[], thresholds: readonly CheckedThreshold[]): SensorSummary[] {
  const groups = new Map<string, { type: string; uom: string | null; count: number; min: number; max: number; sum: number; excursions: SensorExcursion[]; excursionCount: number }>();
  for (const e of events) {
    for (const r of readingsOf(e)) {
      const id = `${r.type}\u0000${r.uom ?? ''}`;
      let g = groups.get(id);
      if (g === undefined) {
        g = { type: r.type, uom: r.uom, count: 0, min: r.value, max: r.value, sum: 0, excursions: [], excursionCount: 0 };
        groups.set(id, g);
      }
      g.count += 1;
      g.min = Math.min(g.min, r.value);
      g.max = Math.max(g.max, r.value);
      g.sum += r.value;
      for (const x of excursionsOf(r, thresholds)) {
        g.excursionCount += 1;
        if (g.excursions.length < MAX_EXCURSIONS_LISTED) g.excursions.push(x);
      }
    }
  }
  return [...groups.values()].map((g) => ({ type: g.type, uom: g.uom, count: g.count, min: g.min, max: g.max, mean: g.sum / g.count, excursionCount: g.excursionCount, excursions: g.excursions }));
}

const PARTY_ROLES = ['possessing_party', 'owning_party'] as const;
/** Business steps at which goods leave: their custodian is the source. */
const DEPARTURES = new Set(['shipping', 'departing']);

function bare(kind: 'bizStep' | 'sourceDestType', value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return cbvBareForm(kind, value);
  } catch {
    return value;
  }
}

function partiesOf(list: JsonValue | undefined, member: 'source' | 'destination'): Custodian[] {
  if (!Array.isArray(list)) return [];
  const out: Custodian[] = [];
  for (const role of PARTY_ROLES) {
    for (const entry of list) {
      if (!isRecord(entry)) continue;
      const party = str(entry[member]);
      if (party !== undefined && bare('sourceDestType', str(entry['type'])) === role) out.push({ party, role });
    }
  }
  return out;
}

/** Custodians an event shows, possessing before owning: a departure's source, else its destination, else its source; else the recording org. */
function custodiansOf(e: LoadedEvent): Custodian[] {
  const sources = partiesOf(e.event['sourceList'], 'source');
  const destinations = partiesOf(e.event['destinationList'], 'destination');
  const departing = DEPARTURES.has(bare('bizStep', str(e.event['bizStep'])) ?? '');
  const first = departing ? sources : destinations;
  const second = departing ? destinations : sources;
  if (first.length > 0) return first;
  if (second.length > 0) return second;
  return [{ party: e.record.recordedBy, role: 'recordedBy' }];
}

function placeOf(s: ProvenanceSession, e: LoadedEvent): { id: string; type: 'bizLocation' | 'readPoint' } | undefined {
  for (const type of ['bizLocation', 'readPoint'] as const) {
    const location = e.event[type];
    const id = isRecord(location) ? str(location['id']) : undefined;
    if (id !== undefined) return { id: s.canonical(id), type };
  }
  return undefined;
}

function journeyOf(s: ProvenanceSession, events: readonly LoadedEvent[]): JourneyStop[] {
  interface Stop { place: string; placeType: 'bizLocation' | 'readPoint'; arrival: string; last: string; custodians: Custodian[]; events: string[] }
  const stops: Stop[] = [];
  for (const e of events) {
    const place = placeOf(s, e);
    if (place === undefined) continue;
    const time = str(e.event['eventTime']) ?? '';
    let stop = stops[stops.length - 1];
    if (stop?.place !== place.id) {
      stop = { place: place.id, placeType: place.type, arrival: time, last: time, custodians: [], events: [] };
      stops.push(stop);
    }
    stop.last = time;
    stop.events.push(e.record.hash);
    for (const c of custodiansOf(e)) {
      if (!stop.custodians.some((k) => k.party === c.party && k.role === c.role)) stop.custodians.push(c);
    }
  }
  return stops.map((st, i) => ({ place: st.place, placeType: st.placeType, arrival: st.arrival, departure: i === stops.length - 1 ? null : st.last, custodians: st.custodians, events: st.events }));
}

// ---------------------------------------------------------------------------------------------
// History

interface History {
  readonly own: readonly LoadedEvent[];
  readonly spans: readonly Ancestor[];
  /** Own and container events in event order, each once, with the container it came from. */
  readonly events: readonly { readonly e: LoadedEvent; readonly container?: string }[];
}

function historyOf(s: ProvenanceSession, epc: string): History {
  const own = s.indexed('epc', epc);
  const spans = ancestry(s, epc, undefined, new Set([epc]))
    .slice()
    .sort((a, b) => compareEvents(a.start, b.start) || a.path.length - b.path.length);
  const seen = new Map<string, { e: LoadedEvent; container?: string }>();
  for (const e of own) seen.set(e.hex, { e });
  for (const span of spans) {
    for (const e of s.indexed('epc', span.parent, span.end?.timeKey)) {
      if (!seen.has(e.hex) && (within(e, span.start, span.end) || e === span.end)) seen.set(e.hex, { e, container: span.parent });
    }
    if (!seen.has(span.start.hex)) seen.set(span.start.hex, { e: span.start, container: span.parent });
  }
  const events = [...seen.values()].sort((a, b) => compareEvents(a.e, b.e));
  return { own, spans, events };
}

function containmentOf(spans: readonly Ancestor[]): ContainmentInterval[] {
  return spans.map((a) => ({ parent: a.parent, level: a.path.length, path: a.path, from: bound(a.start), to: a.end === undefined ? null : bound(a.end) }));
}

function sensorLegs(s: ProvenanceSession, epc: string, h: History, thresholds: readonly CheckedThreshold[]): SensorLeg[] {
  const valid = (e: LoadedEvent): boolean => !e.erroneous;
  const legs: SensorLeg[] = [{ leg: 'item', page: { epc, from: null, to: null }, sensors: summarise(h.own.filter(valid), thresholds) }];
  for (const span of h.spans) {
    const events = s.indexed('epc', span.parent, span.end?.timeKey).filter((e) => valid(e) && within(e, span.start, span.end));
    legs.push({
      leg: 'container',
      parent: span.parent,
      level: span.path.length,
      page: { epc: span.parent, from: bound(span.start).eventTime, to: span.end === undefined ? null : bound(span.end).eventTime },
      sensors: summarise(events, thresholds),
    });
  }
  return legs;
}

// ---------------------------------------------------------------------------------------------
// Lot

/**
 * The ILMD `lotNumber` of a recorded event (the first, when it names several), as the `lot`
 * index reads it.
 * @param record - an event as the `epcis` contract records it
 * @returns the lot number, or undefined when its ILMD has none
 * @example ilmdLotNumber(record) // 'L1'
 */
export function ilmdLotNumber(record: RecordedEpcisEvent): string | undefined {
  return ilmdLotNumbers(record.event, record.namespaces)[0];
}

/** The item's lot number from its first own ADD event (commissioning) that carries one in its ILMD. */
function lotFromEvents(s: ProvenanceSession, epc: string, own: readonly LoadedEvent[]): string | undefined {
  for (const e of own) {
    if (e.erroneous) continue;
    const lot = ilmdLotNumber(e.record);
    if (lot === undefined) continue;
    const names = [...stringList(e.event['epcList']), ...stringList(e.event['outputEPCList'])];
    if (names.some((raw) => s.canonical(raw) === epc)) return lot;
  }
  return undefined;
}

function lotOf(s: ProvenanceSession, epc: string, gtin: string | undefined, own: readonly LoadedEvent[], o: CheckedOptions): { lot: ProvenanceLot | null; loaded: readonly LoadedEvent[] } {
  const fromEvents = o.lotNumber === undefined ? lotFromEvents(s, epc, own) : undefined;
  const lotNumber = o.lotNumber ?? fromEvents;
  if (gtin === undefined || lotNumber === undefined) return { lot: null, loaded: [] };
  const epcClass = lotClass(gtin, lotNumber);
  if (epcClass === undefined) {
    if (o.lotNumber !== undefined) throw invalidOption(`lotNumber ${JSON.stringify(lotNumber)} makes no valid GS1 lot of GTIN ${gtin}`, 'lotNumber');
    return { lot: null, loaded: [] };
  }
  const limit = o.maxLotEvents;
  // The `lot` index lists the lot class's quantity-list events and its items' commissioning.
  const all = limit === 0 ? [] : s.indexed('lot', epcClass, undefined, limit + 1);
  const kept = all.filter((e) => !e.erroneous);
  return {
    lot: {
      gtin,
      lotNumber,
      epcClass,
      source: o.lotNumber === undefined ? 'ilmd' : 'option',
      events: kept.slice(0, limit).map((e) => describe(e, 'lot')),
      truncated: kept.length > limit,
    },
    loaded: all,
  };
}

// ---------------------------------------------------------------------------------------------
// Lineage

interface LineageState {
  readonly s: ProvenanceSession;
  readonly depth: number;
  nodes: number;
  readonly seen: Map<string, LoadedEvent>;
}

function producedBy(st: LineageState, names: ReadonlySet<string>, candidates: readonly LoadedEvent[]): LoadedEvent[] {
  const out: LoadedEvent[] = [];
  for (const e of candidates) {
    if (e.erroneous || e.event['type'] !== 'TransformationEvent' || out.includes(e)) continue;
    const outputs = stringList(e.event['outputEPCList']).map((raw) => st.s.canonical(raw));
    const classes = quantityEntries(e.event['outputQuantityList']).map((q) => st.s.canonical(q.epcClass));
    if ([...outputs, ...classes].some((n) => names.has(n))) out.push(e);
  }
  return out;
}

function quantityEntries(list: JsonValue | undefined): { epcClass: string; quantity?: number; uom?: string }[] {
  if (!Array.isArray(list)) return [];
  const out: { epcClass: string; quantity?: number; uom?: string }[] = [];
  for (const q of list) {
    if (!isRecord(q)) continue;
    const epcClass = str(q['epcClass']);
    if (epcClass === undefined) continue;
    const quantity = num(q['quantity']);
    const uom = str(q['uom']);
    out.push({ epcClass, ...(quantity === undefined ? {} : { quantity }), ...(uom === undefined ? {} : { uom }) });
  }
  return out;
}

function lineageSteps(st: LineageState, names: ReadonlySet<string>, candidates: readonly LoadedEvent[], level: number, path: ReadonlySet<string>): LineageStep[] {
  return producedBy(st, names, candidates).map((e) => {
    st.seen.set(e.hex, e);
    const inputs: LineageInput[] = [];
    const add = (epc: string, kind: 'instance' | 'class', extra: { quantity?: number; uom?: string }): void => {
      st.nodes += 1;
      if (st.nodes > MAX_LINEAGE_NODES) {
        st.s.truncated = true;
        return;
      }
      const cycle = path.has(epc);
      const follow = !cycle && level < st.depth;
      const deeper = follow ? lineageSteps(st, new Set([epc]), st.s.indexed('epc', epc), level + 1, new Set([...path, epc])) : null;
      inputs.push({ epc, kind, ...extra, producedBy: deeper, cycle });
    };
    for (const raw of stringList(e.event['inputEPCList'])) add(st.s.canonical(raw), 'instance', {});
    for (const q of quantityEntries(e.event['inputQuantityList'])) add(st.s.canonical(q.epcClass), 'class', { quantity: q.quantity, uom: q.uom });
    return { event: describe(e, 'lineage'), transformationID: str(e.event['transformationID']) ?? null, inputs };
  });
}

// ---------------------------------------------------------------------------------------------
// Public API

function canonicalItem(epc: string): string {
  if (typeof epc !== 'string' || !/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(epc)) throw invalidOption('epc must be an EPC (URN or GS1 Digital Link URI)', 'epc');
  const c = canonicalIdentifier(epc, 'epc');
  if (c.includes('|') || c.length > 700) throw invalidOption('epc cannot be an index value', 'epc');
  return c;
}

function declaredOf(events: Iterable<{ e: LoadedEvent; role: ProvenanceRole; container?: string }>): DeclaredErroneousEvent[] {
  const out = new Map<string, { e: LoadedEvent; role: ProvenanceRole; container?: string }>();
  for (const x of events) if (x.e.erroneous && !out.has(x.e.hex)) out.set(x.e.hex, x);
  return [...out.values()]
    .sort((a, b) => compareEvents(a.e, b.e))
    .map(({ e, role, container }) => ({ ...describe(e, role, container), errorDeclaration: (e.record.errorDeclaration as JsonValue | undefined) ?? e.event['errorDeclaration'] ?? null }));
}

/**
 * The provenance of one item: its own events, its lot's events, the containers it was inside
 * (intervals at every level), its transformation lineage, sensor summaries per leg, its journey
 * and the events declared erroneous, each event with its hash ID, txId and ledger position.
 * @param reader - the `epcis` contract's state, e.g. `peer.reader(chain, 'epcis')`
 * @param epc - the item, as an EPC URN or GS1 Digital Link URI
 * @param options - limits (`maxEvents`, `lineageDepth`, `maxLotEvents`), sensor `thresholds`, a known `lotNumber`
 * @returns the item's provenance; `truncated` when `maxEvents` stopped a read
 * @throws SilkError `INVALID_ARGUMENT` (details.path) for an invalid EPC or option
 * @example
 * const p = itemProvenance(peer.reader('product', 'epcis'), 'urn:epc:id:sgtin:0614141.107346.2017', { thresholds: [{ type: 'Temperature', uom: 'CEL', min: 2, max: 8 }] });
 * p.containment; // [{ parent: 'https://id.gs1.org/00/…', level: 1, path: […], from: {…}, to: null }, …]
 */
export function itemProvenance(reader: ProvenanceReader, epc: string, options: ProvenanceOptions = {}): ItemProvenance {
  const o = checkOptions(options);
  const item = canonicalItem(epc);
  const gtin = item.startsWith('https://id.gs1.org/01/') ? parseEpc(item).gtin : undefined;
  const s = new ProvenanceSession(reader, o.maxEvents);
  const h = historyOf(s, item);
  const valid = h.events.filter((x) => !x.e.erroneous);
  const events = valid.map((x) => describe(x.e, x.container === undefined ? 'item' : 'container', x.container));
  const st: LineageState = { s, depth: o.lineageDepth, nodes: 0, seen: new Map() };
  const { lot, loaded: lotEvents } = lotOf(s, item, gtin, h.own, o);
  const names = new Set([item, ...(lot === null ? [] : [lot.epcClass])]);
  const lineage = o.lineageDepth === 0 ? [] : lineageSteps(st, names, [...h.own, ...lotEvents.filter((e) => e.event['type'] === 'TransformationEvent')].sort(compareEvents), 1, names);
  const declared = declaredOf([
    ...h.events.map((x) => ({ e: x.e, role: x.container === undefined ? ('item' as const) : ('container' as const), container: x.container })),
    ...lotEvents.map((e) => ({ e, role: 'lot' as const })),
  ]);
  return {
    epc: item,
    events,
    lot,
    containment: containmentOf(h.spans),
    lineage,
    sensors: sensorLegs(s, item, h, o.thresholds),
    journey: journeyOf(s, valid.map((x) => x.e)),
    declaredErroneous: declared,
    eventsRead: s.eventsRead,
    truncated: s.truncated,
  };
}

function holderOf(e: LoadedEvent): Custodian {
  const all = [...partiesOf(e.event['destinationList'], 'destination'), ...partiesOf(e.event['sourceList'], 'source')];
  return all.find((c) => c.role === 'possessing_party') ?? all.find((c) => c.role === 'owning_party') ?? { party: e.record.recordedBy, role: 'recordedBy' };
}

/**
 * Where each item is now, sharing reads between items (the items of one case read the case's
 * events once): the last place of its history (through its containers), the last custodian
 * and the containers it is inside now.
 * @param reader - the `epcis` contract's state
 * @param epcs - items, EPC URN or Digital Link (at most 10,000)
 * @param options - `maxEvents` for the whole call (default 5,000 per item, at most 100,000)
 * @returns one answer per item, in the order given, and whether `maxEvents` cut a read
 * @throws SilkError `INVALID_ARGUMENT` for an invalid EPC or option
 * @example itemsWhereabouts(reader, ['urn:epc:id:sgtin:0614141.107346.2017']).items[0]?.place
 */
export function itemsWhereabouts(reader: ProvenanceReader, epcs: readonly string[], options: { readonly maxEvents?: number } = {}): { readonly items: readonly ItemWhereabouts[]; readonly truncated: boolean } {
  if (!Array.isArray(epcs) || (epcs as readonly unknown[]).length > 10_000) throw invalidOption('epcs must be a list of at most 10,000 EPCs', 'epcs');
  const maxEvents = integerOption(options.maxEvents, Math.min(MAX_MAX_EVENTS, DEFAULT_MAX_EVENTS * Math.max(1, epcs.length)), 1, MAX_MAX_EVENTS, 'maxEvents');
  const items = (epcs as readonly unknown[]).map((epc, i) => {
    if (typeof epc !== 'string') throw invalidOption(`epcs[${i}] must be a string`, `epcs[${i}]`);
    try {
      return canonicalItem(epc);
    } catch (error) {
      throw invalidOption(`epcs[${i}]: ${error instanceof Error ? error.message : String(error)}`, `epcs[${i}]`);
    }
  });
  const s = new ProvenanceSession(reader, maxEvents);
  const out = items.map((epc): ItemWhereabouts => {
    const h = historyOf(s, epc);
    const valid = h.events.filter((x) => !x.e.erroneous).map((x) => x.e);
    const last = valid[valid.length - 1];
    const stop = journeyOf(s, valid).pop();
    const open = h.spans.filter((a) => a.end === undefined).sort((a, b) => a.path.length - b.path.length);
    return {
      epc,
      place: stop === undefined ? null : { id: stop.place, type: stop.placeType, since: stop.arrival },
      custodian: last === undefined ? null : holderOf(last),
      containers: open.map((a) => a.parent),
      lastEvent: last === undefined ? null : describe(last, h.own.includes(last) ? 'item' : 'container'),
    };
  });
  return { items: out, truncated: s.truncated };
}
