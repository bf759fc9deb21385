/**
 * The traceability story the demo alliance seeds on its `product` chain: a lot of silk scarves
 * made in Yiwu, packed into cases and a pallet, shipped in a reefer container to Valencia,
 * inspected by EU customs, unpacked in the Madrid warehouse, and one scarf sold to a consumer
 * in Madrid. Every step is recorded by the org responsible for it, with its own user's key:
 * products-contract transactions (company prefix, product line, lot, serialized items) and
 * EPCIS 2.0 documents captured with the `epcis` contract.
 *
 * The identifiers are real GS1 keys with check digits under the demo company prefixes
 * 6901234 (SellerCN) and 6909876 (Logistics).
 */
import type { JsonValue } from '../ledger/json-value.js';
import { gs1CheckDigit } from '../traceability/epc-identifiers.js';

/** SellerCN's GS1 company prefix (China's GS1 prefixes are 690–699). */
export const DEMO_COMPANY_PREFIX = '6901234';
const LOGISTICS_PREFIX = '6909876';

const withCheck = (digits: string): string => `${digits}${gs1CheckDigit(digits)}`;

/** The scarf line's GTIN-14 (indicator 0, item reference 00001). */
export const DEMO_GTIN = withCheck(`0${DEMO_COMPANY_PREFIX}00001`);
/** The production lot of the seeded scarves. */
export const DEMO_LOT = 'YW2611A';
/** How many scarves the lot commissions: two cases of 24. */
export const DEMO_ITEM_COUNT = 48;
const CASE_SIZE = 24;

/** The SGTIN URN of scarf `serial` (1-based). */
export const demoItem = (serial: number): string => `urn:epc:id:sgtin:${DEMO_COMPANY_PREFIX}.000001.${serial}`;
const sscc = (prefix: string, serialReference: number): string => `urn:epc:id:sscc:${prefix}.${String(serialReference).padStart(17 - prefix.length, '0')}`;
const sgln = (prefix: string, locationReference: number): string => `urn:epc:id:sgln:${prefix}.${String(locationReference).padStart(12 - prefix.length, '0')}.0`;
const gln = (prefix: string, locationReference: number): string => withCheck(`${prefix}${String(locationReference).padStart(12 - prefix.length, '0')}`);

/** The two cases, the pallet and the reefer container the scarves travel in. */
export const DEMO_CASES = [sscc(DEMO_COMPANY_PREFIX, 1), sscc(DEMO_COMPANY_PREFIX, 2)] as const;
export const DEMO_PALLET = sscc(DEMO_COMPANY_PREFIX, 101);
export const DEMO_CONTAINER = sscc(LOGISTICS_PREFIX, 5001);

const PLACES = {
  factory: sgln(DEMO_COMPANY_PREFIX, 1),
  packingLine: sgln(DEMO_COMPANY_PREFIX, 2),
  ningboPort: sgln(LOGISTICS_PREFIX, 10),
  valenciaPort: sgln(LOGISTICS_PREFIX, 20),
  madridWarehouse: sgln(LOGISTICS_PREFIX, 30),
  madridShop: sgln(LOGISTICS_PREFIX, 40),
} as const;

/** Party identifiers (PGLN) of source and destination lists. */
const PARTIES = {
  sellerCN: `urn:epc:id:pgln:${DEMO_COMPANY_PREFIX}.00000`,
  logistics: `urn:epc:id:pgln:${LOGISTICS_PREFIX}.00000`,
} as const;

/** One seeding step of the story: a products transaction or an EPCIS document, and who records it. */
export type TraceabilitySeedStep =
  | { readonly kind: 'products'; readonly org: string; readonly user: string; readonly fn: string; readonly args: JsonValue }
  | { readonly kind: 'epcis'; readonly org: string; readonly user: string; readonly what: string; readonly document: JsonValue };

const CONTEXT = ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'];

function epcisDocument(creationDate: string, events: readonly JsonValue[]): JsonValue {
  return { '@context': CONTEXT, type: 'EPCISDocument', schemaVersion: '2.0', creationDate, epcisBody: { eventList: [...events] } };
}

const serials = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Hourly reefer readings between two UTC times (ms), temperature and relative humidity, one excursion. */
function reeferReadings(fromMs: number, count: number, stepHours: number, excursionAt: number): JsonValue[] {
  return Array.from({ length: count }, (_, i) => {
    const time = new Date(fromMs + i * stepHours * 3_600_000).toISOString().replace('.000Z', 'Z');
    const humidity = i === excursionAt ? 81.5 : 55 + ((i * 7) % 11);
    const reading: JsonValue = {
      sensorMetadata: { time, deviceID: `urn:epc:id:giai:${LOGISTICS_PREFIX}.R5001` },
      sensorReport: [
        { type: 'Temperature', value: 18 + ((i * 3) % 5) * 0.5, uom: 'CEL' },
        { type: 'RelativeHumidity', value: humidity, uom: 'A93', minValue: 30, maxValue: 75 },
      ],
    };
    return reading;
  });
}

/**
 * The story, in order: each step may rely on the ones before it having committed.
 * @returns the steps; the demo seeds them one after another
 */
export function demoTraceabilitySteps(): TraceabilitySeedStep[] {
  const items = serials(1, DEMO_ITEM_COUNT).map(demoItem);
  const caseOf = (i: number): string[] => items.slice(i * CASE_SIZE, (i + 1) * CASE_SIZE);
  const seller = { org: 'SellerCN', user: 'packing-line' } as const;
  return [
    { kind: 'products', org: 'SellerCN', user: 'admin', fn: 'registerCompanyPrefix', args: { prefix: DEMO_COMPANY_PREFIX } },
    {
      kind: 'products', org: 'SellerCN', user: 'yiwu-seller', fn: 'registerProductLine',
      args: { gtin: DEMO_GTIN, brand: 'Yiwu Silk House', name: 'Mulberry silk scarf, crimson, 90 × 90 cm', category: 'Apparel accessories', hsCode: '621410', origin: 'CN' },
    },
    { kind: 'products', ...seller, fn: 'registerLot', args: { gtin: DEMO_GTIN, lot: DEMO_LOT, productionDate: '2026-11-02', site: gln(DEMO_COMPANY_PREFIX, 1) } },
    { kind: 'products', ...seller, fn: 'commissionItems', args: { gtin: DEMO_GTIN, lot: DEMO_LOT, serials: serials(1, DEMO_ITEM_COUNT).map(String) } },
    {
      kind: 'epcis', ...seller, what: 'commissioning and packing in Yiwu',
      document: epcisDocument('2026-11-03T09:30:00+08:00', [
        {
          type: 'ObjectEvent', eventTime: '2026-11-02T08:00:00.000+08:00', eventTimeZoneOffset: '+08:00', epcList: items, action: 'ADD',
          bizStep: 'commissioning', disposition: 'active', readPoint: { id: PLACES.factory }, bizLocation: { id: PLACES.factory },
          ilmd: { 'cbvmda:lotNumber': DEMO_LOT, 'cbvmda:itemExpirationDate': '2031-11-02' },
        },
        ...[0, 1].map((c) => ({
          type: 'AggregationEvent', eventTime: `2026-11-02T15:0${c}:00.000+08:00`, eventTimeZoneOffset: '+08:00', parentID: DEMO_CASES[c] as string, childEPCs: caseOf(c), action: 'ADD',
          bizStep: 'packing', disposition: 'in_progress', readPoint: { id: PLACES.packingLine },
        })),
        {
          type: 'AggregationEvent', eventTime: '2026-11-03T09:00:00.000+08:00', eventTimeZoneOffset: '+08:00', parentID: DEMO_PALLET, childEPCs: [...DEMO_CASES], action: 'ADD',
          bizStep: 'packing', disposition: 'container_closed', readPoint: { id: PLACES.packingLine },
        },
      ]),
    },
    {
      kind: 'epcis', org: 'Logistics', user: 'dispatcher', what: 'loading and departure from Ningbo',
      document: epcisDocument('2026-11-04T19:00:00+08:00', [
        {
          type: 'AggregationEvent', eventTime: '2026-11-04T10:00:00.000+08:00', eventTimeZoneOffset: '+08:00', parentID: DEMO_CONTAINER, childEPCs: [DEMO_PALLET], action: 'ADD',
          bizStep: 'loading', disposition: 'container_closed', readPoint: { id: PLACES.ningboPort }, bizLocation: { id: PLACES.ningboPort },
          sourceList: [{ type: 'owning_party', source: PARTIES.sellerCN }], destinationList: [{ type: 'possessing_party', destination: PARTIES.logistics }],
        },
        {
          type: 'ObjectEvent', eventTime: '2026-11-04T18:00:00.000+08:00', eventTimeZoneOffset: '+08:00', epcList: [DEMO_CONTAINER], action: 'OBSERVE',
          bizStep: 'departing', disposition: 'in_transit', readPoint: { id: PLACES.ningboPort },
          bizTransactionList: [{ type: 'bol', bizTransaction: `urn:epcglobal:cbv:bt:${gln(LOGISTICS_PREFIX, 0)}:BL-2026-1104` }],
        },
      ]),
    },
    {
      kind: 'epcis', org: 'Logistics', user: 'dispatcher', what: 'arrival in Valencia with the voyage\'s reefer readings',
      document: epcisDocument('2026-11-20T07:30:00+01:00', [
        {
          type: 'ObjectEvent', eventTime: '2026-11-20T07:00:00.000+01:00', eventTimeZoneOffset: '+01:00', epcList: [DEMO_CONTAINER], action: 'OBSERVE',
          bizStep: 'arriving', disposition: 'in_transit', readPoint: { id: PLACES.valenciaPort }, bizLocation: { id: PLACES.valenciaPort },
          sensorElementList: reeferReadings(Date.parse('2026-11-04T12:00:00Z'), 16, 24, 9),
        },
      ]),
    },
    {
      kind: 'epcis', org: 'CustomsEU', user: 'officer', what: 'customs inspection in Valencia',
      document: epcisDocument('2026-11-20T12:00:00+01:00', [
        {
          type: 'ObjectEvent', eventTime: '2026-11-20T11:00:00.000+01:00', eventTimeZoneOffset: '+01:00', epcList: [DEMO_CONTAINER], action: 'OBSERVE',
          bizStep: 'inspecting', disposition: 'conformant', readPoint: { id: PLACES.valenciaPort },
        },
      ]),
    },
    {
      kind: 'epcis', org: 'Warehouse', user: 'warehouse-keeper', what: 'unloading and storing in Madrid',
      document: epcisDocument('2026-11-21T11:00:00+01:00', [
        {
          type: 'AggregationEvent', eventTime: '2026-11-21T09:00:00.000+01:00', eventTimeZoneOffset: '+01:00', parentID: DEMO_CONTAINER, action: 'DELETE',
          bizStep: 'unloading', disposition: 'container_open', readPoint: { id: PLACES.madridWarehouse }, bizLocation: { id: PLACES.madridWarehouse },
          sourceList: [{ type: 'possessing_party', source: PARTIES.logistics }],
        },
        {
          type: 'AggregationEvent', eventTime: '2026-11-21T10:00:00.000+01:00', eventTimeZoneOffset: '+01:00', parentID: DEMO_PALLET, action: 'DELETE',
          bizStep: 'unpacking', disposition: 'container_open', readPoint: { id: PLACES.madridWarehouse }, bizLocation: { id: PLACES.madridWarehouse },
        },
        {
          type: 'ObjectEvent', eventTime: '2026-11-21T10:30:00.000+01:00', eventTimeZoneOffset: '+01:00', epcList: [...DEMO_CASES], action: 'OBSERVE',
          bizStep: 'storing', disposition: 'sellable_not_accessible', readPoint: { id: PLACES.madridWarehouse }, bizLocation: { id: PLACES.madridWarehouse },
        },
      ]),
    },
    {
      kind: 'epcis', org: 'Warehouse', user: 'warehouse-keeper', what: 'picking an order in Madrid',
      document: epcisDocument('2026-11-23T09:10:00+01:00', [
        {
          type: 'AggregationEvent', eventTime: '2026-11-23T09:00:00.000+01:00', eventTimeZoneOffset: '+01:00', parentID: DEMO_CASES[0], childEPCs: [demoItem(7)], action: 'DELETE',
          bizStep: 'picking', disposition: 'in_progress', readPoint: { id: PLACES.madridWarehouse }, bizLocation: { id: PLACES.madridWarehouse },
        },
      ]),
    },
    {
      kind: 'epcis', org: 'Platform', user: 'operator', what: 'a scarf sold to a consumer in Madrid',
      document: epcisDocument('2026-11-23T16:05:00+01:00', [
        {
          type: 'ObjectEvent', eventTime: '2026-11-23T16:00:00.000+01:00', eventTimeZoneOffset: '+01:00', epcList: [demoItem(7)], action: 'OBSERVE',
          bizStep: 'retail_selling', disposition: 'retail_sold', readPoint: { id: PLACES.madridShop }, bizLocation: { id: PLACES.madridShop },
        },
      ]),
    },
  ];
}
