/**
 * The supply-chain event history of the traceability benchmarks (docs/benchmarks.md,
 * "Traceability"), deterministic from a seed: serialized items (SGTINs of three GTINs, in lots)
 * packed in cases of 24, cases on pallets of 40, pallets in containers of 20. Each container is
 * one shipment from the brand owner's plant through the packer's warehouse and a carrier to a
 * retailer, and every event is tagged with the org that records it:
 *
 * - Brand: a TransformationEvent per lot (ingredient lots → the product lot, so lineage exists);
 *   per item commissioning (ILMD lot number and expiry), inspecting, storing, shipping;
 * - Packer: per item receiving, inspecting, picking; AggregationEvent ADD of each case, pallet
 *   and container; the container's shipping with a temperature reading;
 * - Carrier: the container's sensor reports in transit (some are excursions above 8 °C);
 * - Retailer: the container's receiving with a reading, AggregationEvent DELETE of container,
 *   pallets and cases, per item stocking and retail_selling.
 *
 * Nine item-level events per item plus the aggregations: about 9.1 events per item. A few of the
 * packer's inspections are captured late (after thousands of later events). eventTimes are in
 * order per item, in each org's own time zone.
 */
import type { JsonValue } from '../ledger/json-value.js';
import { seededRandom } from '../testing/seeded-random.js';

/** The orgs of the supply network, in the order goods pass them. */
export const SUPPLY_ORGS = ['Brand', 'Packer', 'Carrier', 'Retailer'] as const;
/** One org of the supply network. */
export type SupplyOrg = (typeof SUPPLY_ORGS)[number];

/** An EPCIS 2.0 event object as it goes into a document's `eventList`. */
export type EpcisEventObject = { readonly [field: string]: JsonValue };

/** An event and the org responsible for it (who captures it). */
export interface SupplyEvent {
  readonly org: SupplyOrg;
  readonly event: EpcisEventObject;
}

export const ITEMS_PER_CASE = 24;
export const CASES_PER_PALLET = 40;
export const PALLETS_PER_CONTAINER = 20;
/** Item-level events each item gets. */
export const ITEM_EVENTS = 9;
const ITEMS_PER_CONTAINER = ITEMS_PER_CASE * CASES_PER_PALLET * PALLETS_PER_CONTAINER;
const CASES_PER_CONTAINER = CASES_PER_PALLET * PALLETS_PER_CONTAINER;
/** Carrier sensor reports per container (the last container of a sized history may get a few more). */
const READINGS_PER_CONTAINER = 8;
/** A lot is this many consecutive cases of one GTIN. */
const CASES_PER_LOT = 50;
/** Share of the packer's inspections captured late. */
const LATE_SHARE = 0.002;
/** Smallest history {@link planSupplyChain} builds: one item, its case, pallet and container. */
export const MIN_SUPPLY_EVENTS = 26;

const HOUR = 3_600_000;
/** Shipment q leaves the plant on day q from this instant. */
const T0 = Date.UTC(2026, 2, 2, 5, 0, 0);
const DAY = 24 * HOUR;

const BRAND_PREFIX = '0614141';
const PACKER_PREFIX = '4012345';
const CARRIER_PREFIX = '0371234';
const RETAILER_PREFIX = '5412345';
/** Item references (indicator digit + item reference) of the three products. */
const GTIN_REFS = ['107346', '107347', '107348'] as const;
/** Item reference of the ingredient of every product. */
const INGREDIENT_REF = '207350';

const ZONES: Readonly<Record<SupplyOrg, number>> = { Brand: 60, Packer: 120, Carrier: 0, Retailer: -300 };

const sgln = (prefix: string, location: string, extension: string): string => `urn:epc:id:sgln:${prefix}.${location}.${extension}`;
const SITES = {
  plant: sgln(BRAND_PREFIX, '00001', '0'),
  line: sgln(BRAND_PREFIX, '00001', '1'),
  qa: sgln(BRAND_PREFIX, '00001', '2'),
  store: sgln(BRAND_PREFIX, '00001', '3'),
  plantDock: sgln(BRAND_PREFIX, '00001', '4'),
  warehouse: sgln(PACKER_PREFIX, '00011', '0'),
  inbound: sgln(PACKER_PREFIX, '00011', '1'),
  packerQa: sgln(PACKER_PREFIX, '00011', '2'),
  packing: sgln(PACKER_PREFIX, '00011', '3'),
  outbound: sgln(PACKER_PREFIX, '00011', '4'),
  hub: sgln(CARRIER_PREFIX, '00021', '0'),
  store0: sgln(RETAILER_PREFIX, '00031', '0'),
  dock: sgln(RETAILER_PREFIX, '00031', '1'),
  backroom: sgln(RETAILER_PREFIX, '00031', '2'),
  floor: sgln(RETAILER_PREFIX, '00031', '3'),
  pos: sgln(RETAILER_PREFIX, '00031', '4'),
} as const;

function zoneText(minutes: number): string {
  const a = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** `eventTime` and `eventTimeZoneOffset` of an instant as recorded by `org` in its own zone. */
function timeFields(org: SupplyOrg, ms: number): { eventTime: string; eventTimeZoneOffset: string } {
  const zone = ZONES[org];
  const offset = zoneText(zone);
  return { eventTime: `${new Date(ms + zone * 60_000).toISOString().slice(0, 23)}${offset}`, eventTimeZoneOffset: offset };
}

/** One shipment (container) of a history. */
interface Shipment {
  readonly index: number;
  readonly firstItem: number;
  readonly items: number;
  readonly firstCase: number;
  readonly cases: number;
  readonly firstPallet: number;
  readonly pallets: number;
  readonly readings: number;
}

function shipment(index: number, totalItems: number, extraReadings: number): Shipment {
  const firstItem = index * ITEMS_PER_CONTAINER;
  const items = Math.min(ITEMS_PER_CONTAINER, totalItems - firstItem);
  const cases = Math.ceil(items / ITEMS_PER_CASE);
  return {
    index,
    firstItem,
    items,
    firstCase: index * CASES_PER_CONTAINER,
    cases,
    firstPallet: index * PALLETS_PER_CONTAINER,
    pallets: Math.ceil(cases / CASES_PER_PALLET),
    readings: READINGS_PER_CONTAINER + extraReadings,
  };
}

const gtinOfCase = (c: number): number => c % GTIN_REFS.length;
const lotStartsAt = (c: number): boolean => Math.floor(c / GTIN_REFS.length) % CASES_PER_LOT === 0;

function shipmentEvents(s: Shipment): number {
  let lots = 0;
  for (let c = s.firstCase; c < s.firstCase + s.cases; c++) if (lotStartsAt(c)) lots++;
  // item events, case ADD/DELETE, pallet ADD/DELETE, container ADD/DELETE, shipping, receiving, readings, lots
  return ITEM_EVENTS * s.items + 2 * s.cases + 2 * s.pallets + 4 + s.readings + lots;
}

/** Events of a history of `items` items without extra readings. */
function eventsFor(items: number): number {
  let total = 0;
  for (let q = 0; q * ITEMS_PER_CONTAINER < items; q++) total += shipmentEvents(shipment(q, items, 0));
  return total;
}

/** The shape of a history of an exact number of events. */
export interface SupplyChainPlan {
  readonly events: number;
  readonly items: number;
  readonly cases: number;
  readonly pallets: number;
  readonly containers: number;
  /** Carrier sensor reports added to the last container so the count is exact. */
  readonly extraReadings: number;
}

/**
 * The largest history of at most `events` events, padded with carrier sensor reports to exactly
 * `events`.
 * @param events - the number of events, at least {@link MIN_SUPPLY_EVENTS}
 * @throws RangeError when `events` is not a safe integer ≥ {@link MIN_SUPPLY_EVENTS}
 * @example planSupplyChain(20_000).items // 2,187
 */
export function planSupplyChain(events: number): SupplyChainPlan {
  if (!Number.isSafeInteger(events) || events < MIN_SUPPLY_EVENTS) throw new RangeError(`a supply-chain history has at least ${MIN_SUPPLY_EVENTS} events, got ${events}`);
  let lo = 1;
  let hi = Math.floor(events / ITEM_EVENTS) + 1;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (eventsFor(mid) <= events) lo = mid;
    else hi = mid;
  }
  const items = lo;
  const cases = Math.ceil(items / ITEMS_PER_CASE);
  const containers = Math.ceil(items / ITEMS_PER_CONTAINER);
  let pallets = 0;
  for (let q = 0; q < containers; q++) pallets += shipment(q, items, 0).pallets;
  return { events, items, cases, pallets, containers, extraReadings: events - eventsFor(items) };
}

/** Identifiers of the history's objects, namespaced by the seed. */
export interface SupplyIdentifiers {
  /** The SGTIN (EPC URN) of item `i`. */
  item(i: number): string;
  caseId(c: number): string;
  pallet(p: number): string;
  container(q: number): string;
  /** The LGTIN class of the lot case `c` belongs to. */
  lotClass(c: number): string;
  lotNumber(c: number): string;
}

/**
 * The identifiers of a history.
 * @param seed - the history's seed (part of every serial)
 */
export function supplyIdentifiers(seed: number): SupplyIdentifiers {
  const unitSerial = (extension: number, n: number): string => `urn:epc:id:sscc:${PACKER_PREFIX}.${extension}${String((seed % 100) * 10_000_000 + n).padStart(9, '0')}`;
  const lotNumber = (c: number): string => `L${seed}G${gtinOfCase(c)}N${Math.floor(Math.floor(c / GTIN_REFS.length) / CASES_PER_LOT)}`;
  return {
    item: (i) => `urn:epc:id:sgtin:${BRAND_PREFIX}.${GTIN_REFS[gtinOfCase(Math.floor(i / ITEMS_PER_CASE))]!}.${seed}S${i}`,
    caseId: (c) => unitSerial(1, c),
    pallet: (p) => unitSerial(2, p),
    container: (q) => unitSerial(3, q),
    lotClass: (c) => `urn:epc:class:lgtin:${BRAND_PREFIX}.${GTIN_REFS[gtinOfCase(c)]!}.${lotNumber(c)}`,
    lotNumber,
  };
}

interface EventParts {
  readonly type?: string;
  readonly action?: 'ADD' | 'OBSERVE' | 'DELETE';
  readonly bizStep: string;
  readonly disposition: string;
  readonly readPoint: string;
  readonly bizLocation?: string;
  readonly [field: string]: JsonValue | undefined;
}

function event(org: SupplyOrg, ms: number, parts: EventParts): SupplyEvent {
  const { type = 'ObjectEvent', action, readPoint, bizLocation, ...rest } = parts;
  const fields: Record<string, JsonValue> = { type, ...timeFields(org, ms) };
  if (action !== undefined) fields['action'] = action;
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) fields[k] = v;
  fields['readPoint'] = { id: readPoint };
  if (bizLocation !== undefined) fields['bizLocation'] = { id: bizLocation };
  return { org, event: fields };
}

const party = (kind: 'source' | 'destination', site: string): JsonValue => ({ type: 'location', [kind]: site });

/** A temperature sensor element: one reading of a logger, an excursion above 8 °C flagged. */
function temperature(org: SupplyOrg, ms: number, logger: string, random: () => number): JsonValue[] {
  const excursion = random() < 0.08;
  const mean = excursion ? 8.5 + random() * 4 : 2.5 + random() * 4;
  const spread = 0.3 + random() * 0.8;
  const round1 = (v: number): number => Math.round(v * 10) / 10;
  const report: Record<string, JsonValue> = { type: 'Temperature', minValue: round1(mean - spread), maxValue: round1(mean + spread), meanValue: round1(mean), uom: 'CEL' };
  if (excursion) report['exception'] = 'ALARM_CONDITION';
  return [{ sensorMetadata: { time: timeFields(org, ms).eventTime, deviceID: logger }, sensorReport: [report] }];
}

/** Options of {@link supplyChainEvents}. */
export interface SupplyChainEventsOptions {
  readonly seed: number;
  /** Exactly this many events ({@link planSupplyChain}); omit for an endless history of full containers. */
  readonly events?: number;
}

/**
 * The events of a history, in capture order (each org's events in its own time order, but a few
 * of the packer's inspections late).
 * @example for (const { org, event } of supplyChainEvents({ seed: 1, events: 20_000 })) …
 */
export function* supplyChainEvents(options: SupplyChainEventsOptions): Generator<SupplyEvent> {
  const random = seededRandom(options.seed);
  const plan = options.events === undefined ? undefined : planSupplyChain(options.events);
  const ids = supplyIdentifiers(options.seed);
  const deferred: { readonly at: number; readonly e: SupplyEvent }[] = [];
  let emitted = 0;
  for (let q = 0; plan === undefined || q < plan.containers; q++) {
    const extra = plan !== undefined && q === plan.containers - 1 ? plan.extraReadings : 0;
    const s = shipment(q, plan?.items ?? Number.POSITIVE_INFINITY, extra);
    for (const e of shipmentHistory(s, ids, random)) {
      if (e.org === 'Packer' && e.event['bizStep'] === 'inspecting' && random() < LATE_SHARE) {
        deferred.push({ at: emitted + 500 + Math.floor(random() * 5000), e });
        continue;
      }
      yield e;
      emitted++;
      while (deferred.length > 0 && deferred[0]!.at <= emitted) {
        yield deferred.shift()!.e;
        emitted++;
      }
    }
  }
  for (const d of deferred) yield d.e;
}

function* shipmentHistory(s: Shipment, ids: SupplyIdentifiers, random: () => number): Generator<SupplyEvent> {
  yield* brandPhase(s, ids, random);
  yield* packerPhase(s, ids, random);
  yield* transitPhase(s, ids, random);
  yield* retailPhase(s, ids, random);
}

const start = (s: Shipment): number => T0 + s.index * DAY;
const jitter = (random: () => number, ms: number): number => Math.floor(random() * ms);
const itemsOf = function* (s: Shipment): Generator<{ readonly i: number; readonly k: number; readonly c: number }> {
  for (let k = 0; k < s.items; k++) yield { i: s.firstItem + k, k, c: Math.floor((s.firstItem + k) / ITEMS_PER_CASE) };
};

function* brandPhase(s: Shipment, ids: SupplyIdentifiers, random: () => number): Generator<SupplyEvent> {
  const t = start(s);
  for (const { i, k, c } of itemsOf(s)) {
    const made = t + k * 2000 + jitter(random, 1000);
    if (i % ITEMS_PER_CASE === 0 && lotStartsAt(c)) {
      yield event('Brand', made - 10 * 60_000, {
        type: 'TransformationEvent', bizStep: 'creating_class_instance', disposition: 'active', readPoint: SITES.line, bizLocation: SITES.plant,
        inputQuantityList: [
          { epcClass: `urn:epc:class:lgtin:${BRAND_PREFIX}.${INGREDIENT_REF}.R${ids.lotNumber(c)}A`, quantity: 600.5, uom: 'KGM' },
          { epcClass: `urn:epc:class:lgtin:${BRAND_PREFIX}.${INGREDIENT_REF}.R${ids.lotNumber(c)}B`, quantity: 120.25, uom: 'KGM' },
        ],
        outputQuantityList: [{ epcClass: ids.lotClass(c), quantity: CASES_PER_LOT * ITEMS_PER_CASE }],
        ilmd: { 'cbvmda:lotNumber': ids.lotNumber(c) },
      });
    }
    const epcList = [ids.item(i)];
    yield event('Brand', made, { action: 'ADD', bizStep: 'commissioning', disposition: 'active', readPoint: SITES.line, bizLocation: SITES.plant, epcList, ilmd: { 'cbvmda:lotNumber': ids.lotNumber(c), 'cbvmda:itemExpirationDate': '2027-09-30' } });
    yield event('Brand', made + 90_000 + jitter(random, 60_000), { action: 'OBSERVE', bizStep: 'inspecting', disposition: 'conformant', readPoint: SITES.qa, bizLocation: SITES.plant, epcList });
    yield event('Brand', made + 15 * 60_000 + jitter(random, 60_000), { action: 'OBSERVE', bizStep: 'storing', disposition: 'sellable_not_accessible', readPoint: SITES.store, bizLocation: SITES.plant, epcList });
  }
  for (const { i, k } of itemsOf(s)) {
    yield event('Brand', t + 12 * HOUR + k * 500, {
      action: 'OBSERVE', bizStep: 'shipping', disposition: 'in_transit', readPoint: SITES.plantDock, epcList: [ids.item(i)],
      sourceList: [party('source', SITES.plant)], destinationList: [party('destination', SITES.warehouse)],
    });
  }
}

function* packerPhase(s: Shipment, ids: SupplyIdentifiers, random: () => number): Generator<SupplyEvent> {
  const t = start(s);
  for (const { i, k } of itemsOf(s)) {
    const epcList = [ids.item(i)];
    const received = t + 24 * HOUR + k * 1000;
    yield event('Packer', received, {
      action: 'OBSERVE', bizStep: 'receiving', disposition: 'in_progress', readPoint: SITES.inbound, bizLocation: SITES.warehouse, epcList,
      sourceList: [party('source', SITES.plant)], destinationList: [party('destination', SITES.warehouse)],
    });
    yield event('Packer', received + 60_000 + jitter(random, 60_000), { action: 'OBSERVE', bizStep: 'inspecting', disposition: 'conformant', readPoint: SITES.packerQa, bizLocation: SITES.warehouse, epcList });
  }
  for (const { i, k } of itemsOf(s)) {
    yield event('Packer', t + 30 * HOUR + k * 1000, { action: 'OBSERVE', bizStep: 'picking', disposition: 'in_progress', readPoint: SITES.packing, bizLocation: SITES.warehouse, epcList: [ids.item(i)] });
  }
  for (let c = s.firstCase; c < s.firstCase + s.cases; c++) {
    const childEPCs: string[] = [];
    for (let i = c * ITEMS_PER_CASE; i < Math.min((c + 1) * ITEMS_PER_CASE, s.firstItem + s.items); i++) childEPCs.push(ids.item(i));
    yield event('Packer', t + 36 * HOUR + (c - s.firstCase) * 60_000, { type: 'AggregationEvent', action: 'ADD', bizStep: 'packing', disposition: 'in_progress', readPoint: SITES.packing, bizLocation: SITES.warehouse, parentID: ids.caseId(c), childEPCs });
  }
  for (let p = s.firstPallet; p < s.firstPallet + s.pallets; p++) {
    const childEPCs: string[] = [];
    for (let c = p * CASES_PER_PALLET; c < Math.min((p + 1) * CASES_PER_PALLET, s.firstCase + s.cases); c++) childEPCs.push(ids.caseId(c));
    yield event('Packer', t + 50 * HOUR + (p - s.firstPallet) * 600_000, { type: 'AggregationEvent', action: 'ADD', bizStep: 'packing', disposition: 'in_progress', readPoint: SITES.packing, bizLocation: SITES.warehouse, parentID: ids.pallet(p), childEPCs });
  }
  const pallets = Array.from({ length: s.pallets }, (_, j) => ids.pallet(s.firstPallet + j));
  yield event('Packer', t + 54 * HOUR, { type: 'AggregationEvent', action: 'ADD', bizStep: 'loading', disposition: 'container_closed', readPoint: SITES.outbound, bizLocation: SITES.warehouse, parentID: ids.container(s.index), childEPCs: pallets });
  yield event('Packer', t + 55 * HOUR, {
    action: 'OBSERVE', bizStep: 'shipping', disposition: 'in_transit', readPoint: SITES.outbound, epcList: [ids.container(s.index)],
    bizTransactionList: [{ type: 'po', bizTransaction: `urn:epcglobal:cbv:bt:${RETAILER_PREFIX}000013:PO${s.index}` }],
    sourceList: [party('source', SITES.warehouse)], destinationList: [party('destination', SITES.store0)],
    sensorElementList: temperature('Packer', t + 55 * HOUR, logger(s), random),
  });
}

const logger = (s: Shipment): string => `urn:epc:id:giai:${CARRIER_PREFIX}.LOGGER${s.index}`;

function* transitPhase(s: Shipment, ids: SupplyIdentifiers, random: () => number): Generator<SupplyEvent> {
  const t = start(s);
  for (let r = 0; r < s.readings; r++) {
    const at = t + 56 * HOUR + r * 2 * HOUR;
    yield event('Carrier', at, { action: 'OBSERVE', bizStep: 'sensor_reporting', disposition: 'in_transit', readPoint: SITES.hub, epcList: [ids.container(s.index)], sensorElementList: temperature('Carrier', at, logger(s), random) });
  }
}

function* retailPhase(s: Shipment, ids: SupplyIdentifiers, random: () => number): Generator<SupplyEvent> {
  const t = start(s) + 170 * HOUR;
  yield event('Retailer', t, {
    action: 'OBSERVE', bizStep: 'receiving', disposition: 'in_progress', readPoint: SITES.dock, bizLocation: SITES.store0, epcList: [ids.container(s.index)],
    sourceList: [party('source', SITES.warehouse)], destinationList: [party('destination', SITES.store0)],
    sensorElementList: temperature('Retailer', t, logger(s), random),
  });
  const pallets = Array.from({ length: s.pallets }, (_, j) => ids.pallet(s.firstPallet + j));
  yield event('Retailer', t + HOUR, { type: 'AggregationEvent', action: 'DELETE', bizStep: 'unloading', disposition: 'in_progress', readPoint: SITES.dock, bizLocation: SITES.store0, parentID: ids.container(s.index), childEPCs: pallets });
  for (let p = s.firstPallet; p < s.firstPallet + s.pallets; p++) {
    const childEPCs: string[] = [];
    for (let c = p * CASES_PER_PALLET; c < Math.min((p + 1) * CASES_PER_PALLET, s.firstCase + s.cases); c++) childEPCs.push(ids.caseId(c));
    yield event('Retailer', t + 2 * HOUR + (p - s.firstPallet) * 300_000, { type: 'AggregationEvent', action: 'DELETE', bizStep: 'unpacking', disposition: 'in_progress', readPoint: SITES.backroom, bizLocation: SITES.store0, parentID: ids.pallet(p), childEPCs });
  }
  for (let c = s.firstCase; c < s.firstCase + s.cases; c++) {
    const childEPCs: string[] = [];
    for (let i = c * ITEMS_PER_CASE; i < Math.min((c + 1) * ITEMS_PER_CASE, s.firstItem + s.items); i++) childEPCs.push(ids.item(i));
    yield event('Retailer', t + 6 * HOUR + (c - s.firstCase) * 20_000, { type: 'AggregationEvent', action: 'DELETE', bizStep: 'unpacking', disposition: 'in_progress', readPoint: SITES.backroom, bizLocation: SITES.store0, parentID: ids.caseId(c), childEPCs });
  }
  for (const { i, k } of itemsOf(s)) {
    const epcList = [ids.item(i)];
    yield event('Retailer', t + 14 * HOUR + k * 1000, { action: 'OBSERVE', bizStep: 'stocking', disposition: 'sellable_accessible', readPoint: SITES.floor, bizLocation: SITES.store0, epcList });
    yield event('Retailer', t + 22 * HOUR + k * 10_000 + jitter(random, 9000), { action: 'OBSERVE', bizStep: 'retail_selling', disposition: 'retail_sold', readPoint: SITES.pos, bizLocation: SITES.store0, epcList });
  }
}

/** One capture document's worth of events of one org. */
export interface CaptureBatch {
  readonly org: SupplyOrg;
  readonly events: readonly EpcisEventObject[];
}

/** Sizes of capture documents: drawn uniformly from `[min, max]` per document. */
export interface BatchSizes {
  readonly min: number;
  readonly max: number;
}

/**
 * Groups events into per-org documents, each org capturing its own steps: an org's batch is
 * handed out when it reaches its drawn size; the rest at the end.
 * @param seed - seed of the size draws
 */
export function* captureBatches(events: Iterable<SupplyEvent>, sizes: BatchSizes, seed: number): Generator<CaptureBatch> {
  const random = seededRandom(seed ^ 0x5eed);
  const draw = (): number => sizes.min + Math.floor(random() * (sizes.max - sizes.min + 1));
  const open = new Map<SupplyOrg, { events: EpcisEventObject[]; size: number }>();
  for (const { org, event: e } of events) {
    let b = open.get(org);
    if (b === undefined) {
      b = { events: [], size: draw() };
      open.set(org, b);
    }
    b.events.push(e);
    if (b.events.length >= b.size) {
      open.delete(org);
      yield { org, events: b.events };
    }
  }
  for (const [org, b] of open) yield { org, events: b.events };
}

/** The EPCIS 2.0 document of a batch. */
export function captureDocumentOf(batch: CaptureBatch): JsonValue {
  const last = batch.events[batch.events.length - 1];
  return {
    '@context': ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: typeof last?.['eventTime'] === 'string' ? last['eventTime'] : '2026-03-02T00:00:00.000Z',
    epcisBody: { eventList: [...batch.events] },
  };
}
