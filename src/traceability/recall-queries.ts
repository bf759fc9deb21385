/**
 * Recall queries over a lot: its items (from the `epcis` contract's `lot` index and, when given,
 * the `products` registry), where each item is now and who holds it, and the CBV-conformant
 * recall event to capture. Pure, over readers like {@link ProvenanceReader}; see
 * docs/traceability.md, section "Recall".
 */
import { SilkError } from '../errors.js';
import type { JsonValue } from '../ledger/json-value.js';
import { cbvBareForm } from './cbv-vocabulary.js';
import { parseEpc } from './epc-identifiers.js';
import { canonicalIdentifier } from './epcis-document-semantics.js';
import { eventKey, lotClass, timeKey, type RecordedEpcisEvent } from './epcis-ledger-index.js';
import { ilmdLotNumber, itemsWhereabouts, type ItemWhereabouts, type ProvenanceReader } from './provenance.js';

/** The `products` contract's state, through its rich queries (a peer's `reader(chain, 'products')` satisfies it). */
export interface ProductsReader {
  query(query: { readonly selector: Record<string, unknown> }, page?: { readonly limit?: number; readonly bookmark?: string }): {
    readonly items: readonly { readonly key: string; readonly value: JsonValue }[];
    readonly bookmark?: string;
  };
}

/** What recall queries read: the `epcis` contract's state, and optionally the `products` registry. */
export interface RecallReaders {
  readonly epcis: ProvenanceReader;
  readonly products?: ProductsReader;
}

/** A lot: GTIN-14 and lot number. */
export interface LotReference {
  readonly gtin: string;
  readonly lot: string;
}

/** The items of a lot. */
export interface LotItems {
  /** The LGTIN class, canonical Digital Link. */
  readonly epcClass: string;
  /** Canonical Digital Links of the items, sorted. */
  readonly items: readonly string[];
  /** The registry's owner of each item it knows. */
  readonly owners: Readonly<Record<string, string>>;
  /** True when `maxItems` cut the list. */
  readonly truncated: boolean;
}

/** One item of a lot under recall: where it is and who holds it. */
export interface RecallItemStatus extends ItemWhereabouts {
  /** Owner in the products registry, when it knows the item. */
  readonly owner: string | null;
}

/** Where every item of a lot is. */
export interface LotRecallStatus {
  readonly epcClass: string;
  readonly items: readonly RecallItemStatus[];
  /** True when `maxItems` or `maxEvents` cut the answer. */
  readonly truncated: boolean;
}

/** Parameters of {@link lotRecallEvent}. */
export interface LotRecallEventParameters extends LotReference {
  /** RFC 3339 with an offset. */
  readonly eventTime: string;
  /** `+hh:mm` or `-hh:mm`. */
  readonly eventTimeZoneOffset: string;
  /** Items to name one by one (besides the lot class), e.g. from {@link lotItems}; at most 10,000. */
  readonly epcs?: readonly string[];
  /** Where the recall is decided (an SGLN or other location URI). */
  readonly readPoint?: string;
  readonly bizLocation?: string;
  readonly eventID?: string;
}

const MAX_ITEMS = 10_000;
const PAGE = 1000;

function invalid(message: string, path: string): SilkError {
  return new SilkError('INVALID_ARGUMENT', message, { path });
}

/** The lot's class, checking the reference. */
function checkLot(ref: LotReference): string {
  if (typeof ref !== 'object' || typeof ref.gtin !== 'string' || !/^\d{14}$/.test(ref.gtin)) throw invalid('gtin must be a GTIN-14 (14 digits)', 'gtin');
  if (typeof ref.lot !== 'string' || ref.lot === '') throw invalid('lot must be a lot number', 'lot');
  const epcClass = lotClass(ref.gtin, ref.lot);
  if (epcClass === undefined) throw invalid(`${ref.gtin} / ${ref.lot} is not a valid GS1 lot (check digit, 1–20 characters of set 82)`, 'lot');
  return epcClass;
}

function maxItemsOf(value: number | undefined): number {
  if (value === undefined) return MAX_ITEMS;
  if (!Number.isInteger(value) || value < 1 || value > MAX_ITEMS) throw invalid(`maxItems must be an integer 1..${MAX_ITEMS}`, 'maxItems');
  return value;
}

/** SGTINs of `gtin` an event commissions into the lot (its ILMD names the lot). */
function commissionedItems(record: RecordedEpcisEvent, gtin: string, lot: string): string[] {
  if (record.errorDeclaration !== undefined || ilmdLotNumber(record) !== lot) return [];
  const out: string[] = [];
  for (const field of ['epcList', 'outputEPCList']) {
    const list = record.event[field];
    if (!Array.isArray(list)) continue;
    for (const raw of list) {
      if (typeof raw !== 'string') continue;
      try {
        const p = parseEpc(raw);
        if (p.scheme === 'sgtin' && p.kind === 'id' && p.gtin === gtin) out.push(p.digitalLink);
      } catch {
        // Not a GS1 identifier: not an item of the lot.
      }
    }
  }
  return out;
}

/**
 * The items of a lot: EPCs of the events the `lot` index lists whose ILMD gives this lot and
 * whose GTIN matches (the commissioning), events declared erroneous left out; plus the items
 * the products registry holds for the lot, with their owner, when `readers.products` is given.
 * @param readers - `epcis` state, and optionally `products` state
 * @param ref - `{ gtin, lot }`
 * @param options - `maxItems` (default and at most 10,000)
 * @returns the items, sorted, and `truncated` when there are more
 * @throws SilkError `INVALID_ARGUMENT` for an invalid GTIN, lot or option
 * @example lotItems({ epcis: peer.reader('product', 'epcis') }, { gtin: '10614141073464', lot: 'L1' }).items
 */
export function lotItems(readers: RecallReaders, ref: LotReference, options: { readonly maxItems?: number } = {}): LotItems {
  const epcClass = checkLot(ref);
  const maxItems = maxItemsOf(options.maxItems);
  const items = new Set<string>();
  const owners: Record<string, string> = {};
  let truncated = false;
  const prefix = `ix:lot:${epcClass}|`;
  let start = prefix;
  const end = `${prefix.slice(0, -1)}}`;
  scan: for (;;) {
    const page = readers.epcis.range(start, end, { limit: PAGE }).items;
    for (const { key, value } of page) {
      start = `${key}\u0000`;
      const record = typeof value === 'string' ? readers.epcis.entry(eventKey(value))?.value : undefined;
      if (typeof record !== 'object' || record === null || Array.isArray(record)) continue;
      for (const epc of commissionedItems(record as unknown as RecordedEpcisEvent, ref.gtin, ref.lot)) {
        if (items.size >= maxItems && !items.has(epc)) {
          truncated = true;
          break scan;
        }
        items.add(epc);
      }
    }
    if (page.length < PAGE) break;
  }
  if (readers.products !== undefined && !truncated) {
    let bookmark: string | undefined;
    do {
      const page = readers.products.query({ selector: { type: 'item', gtin: ref.gtin, lot: ref.lot } }, { limit: PAGE, ...(bookmark === undefined ? {} : { bookmark }) });
      for (const { key, value } of page.items) {
        if (items.size >= maxItems && !items.has(key)) {
          truncated = true;
          break;
        }
        items.add(key);
        const owner = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, JsonValue>)['owner'] : undefined;
        if (typeof owner === 'string') owners[key] = owner;
      }
      bookmark = truncated ? undefined : page.bookmark;
    } while (bookmark !== undefined);
  }
  return { epcClass, items: [...items].sort(), owners, truncated };
}

/**
 * Where every item of a lot is now: its last place through its containers, the last custodian
 * and the containers it is inside, with its owner in the products registry. Reads shared by
 * items (a case's events) happen once.
 * @param readers - `epcis` state, and optionally `products` state
 * @param ref - `{ gtin, lot }`
 * @param options - `maxItems` (default 10,000), `maxEvents` for the whole query (default 100,000)
 * @returns one status per item, and `truncated` when a limit cut the answer
 * @throws SilkError `INVALID_ARGUMENT` for an invalid GTIN, lot or option
 * @example lotRecallStatus({ epcis, products }, { gtin: '10614141073464', lot: 'L1' }).items[0]?.custodian
 */
export function lotRecallStatus(readers: RecallReaders, ref: LotReference, options: { readonly maxItems?: number; readonly maxEvents?: number } = {}): LotRecallStatus {
  const lot = lotItems(readers, ref, options.maxItems === undefined ? {} : { maxItems: options.maxItems });
  const where = itemsWhereabouts(readers.epcis, lot.items, { maxEvents: options.maxEvents ?? 100_000 });
  return {
    epcClass: lot.epcClass,
    items: where.items.map((w) => ({ ...w, owner: lot.owners[w.epc] ?? null })),
    truncated: lot.truncated || where.truncated,
  };
}

const OFFSET = /^[+-](0\d|1[0-4]):[0-5]\d$/;

function location(id: string | undefined, path: string): { bizLocation?: { id: string } } | undefined {
  if (id === undefined) return undefined;
  if (typeof id !== 'string' || !/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(id)) throw invalid(`${path} must be a URI`, path);
  return { bizLocation: { id: canonicalIdentifier(id, path) } };
}

/**
 * The recall event of a lot, ready to capture: an `ObjectEvent` with action `OBSERVE`, the lot
 * class in `quantityList` (and the given items in `epcList`), business step `holding` (the goods
 * are set aside) and disposition `recalled` (CBV 2.0).
 * @param p - the lot, the time, and optionally items, read point, business location and eventID
 * @returns the event object
 * @throws SilkError `INVALID_ARGUMENT` for an invalid lot, time, offset, EPC or location
 * @example lotRecallEvent({ gtin: '10614141073464', lot: 'L1', eventTime: '2024-05-01T09:00:00Z', eventTimeZoneOffset: '+00:00' })
 */
export function lotRecallEvent(p: LotRecallEventParameters): Record<string, JsonValue> {
  const epcClass = checkLot(p);
  if (typeof p.eventTime !== 'string') throw invalid('eventTime must be an RFC 3339 timestamp with an offset', 'eventTime');
  try {
    timeKey(p.eventTime);
  } catch {
    throw invalid(`eventTime ${JSON.stringify(p.eventTime.slice(0, 40))} is not an RFC 3339 timestamp with an offset`, 'eventTime');
  }
  if (typeof p.eventTimeZoneOffset !== 'string' || !OFFSET.test(p.eventTimeZoneOffset)) throw invalid('eventTimeZoneOffset must be ±hh:mm within ±14:00', 'eventTimeZoneOffset');
  if (p.epcs !== undefined && (!Array.isArray(p.epcs) || p.epcs.length > MAX_ITEMS)) throw invalid(`epcs must be a list of at most ${MAX_ITEMS} EPCs`, 'epcs');
  const epcs = ((p.epcs ?? []) as readonly unknown[]).map((e, i) => {
    if (typeof e !== 'string') throw invalid(`epcs[${i}] must be an EPC`, `epcs[${i}]`);
    return canonicalIdentifier(e, `epcs[${i}]`);
  });
  const readPoint = location(p.readPoint, 'readPoint')?.bizLocation;
  const bizLocation = location(p.bizLocation, 'bizLocation')?.bizLocation;
  if (p.eventID !== undefined && (typeof p.eventID !== 'string' || !/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(p.eventID))) throw invalid('eventID must be a URI', 'eventID');
  return {
    type: 'ObjectEvent',
    ...(p.eventID === undefined ? {} : { eventID: p.eventID }),
    eventTime: p.eventTime,
    eventTimeZoneOffset: p.eventTimeZoneOffset,
    ...(epcs.length === 0 ? {} : { epcList: epcs }),
    action: 'OBSERVE',
    bizStep: cbvBareForm('bizStep', 'holding'),
    disposition: cbvBareForm('disposition', 'recalled'),
    ...(readPoint === undefined ? {} : { readPoint }),
    ...(bizLocation === undefined ? {} : { bizLocation }),
    quantityList: [{ epcClass }],
  };
}
