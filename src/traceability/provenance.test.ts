/**
 * Provenance sections on a real ledger: lot events, transformation lineage to depth 3 with a
 * cycle in the data, sensor summaries with excursions per leg, the journey with custodians,
 * an event declared erroneous through the contract, and the `maxEvents` bound.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isSilkError } from '../errors.js';
import type { JsonValue } from '../ledger/json-value.js';
import type { EmbeddedNetwork } from '../network/embedded-network.js';
import { openEpcisTestNetwork } from '../testing/epcis-fixtures.js';
import { gs1CheckDigit } from './epc-identifiers.js';
import { lotClass } from './epcis-ledger-index.js';
import { itemProvenance, type LineageInput, type ProvenanceReader } from './provenance.js';

type Event = Record<string, JsonValue>;

const GTIN = '10614141073464';
const GTIN2 = `1061414107350${gs1CheckDigit('1061414107350')}`;
const item = (serial: string, gtin = GTIN): string => `https://id.gs1.org/01/${gtin}/21/${serial}`;
const sscc = (n: number): string => {
  const body = `00614141${String(n).padStart(9, '0')}`;
  return `https://id.gs1.org/00/${body}${gs1CheckDigit(body)}`;
};
const at = (minute: number): string => `2024-04-01T08:${String(minute).padStart(2, '0')}:00Z`;
const base = (minute: number): Event => ({ eventTime: at(minute), eventTimeZoneOffset: '+00:00' });
const place = (id: string): Event => ({ id });

const A = item('p1');
const B = item('p2');
const CASE = sscc(1);
const LOT = lotClass(GTIN, 'L1') ?? '';
const M1 = item('m1', GTIN2);
const M2 = item('m2', GTIN2);
const F1 = lotClass(GTIN2, 'F1') ?? '';
const FACTORY = 'urn:example:loc:factory';
const DOCK = 'urn:example:loc:dock';
const SHOP = 'urn:example:loc:shop';

/** The scenario, by name; captured in this order. */
const EVENTS: Record<string, Event> = {
  t1: { type: 'TransformationEvent', ...base(1), inputEPCList: [M1], outputEPCList: [A], transformationID: 'urn:example:tr:1' },
  t2: { type: 'TransformationEvent', ...base(0), inputQuantityList: [{ epcClass: F1, quantity: 3, uom: 'KGM' }], outputEPCList: [M1] },
  t3: { type: 'TransformationEvent', ...base(0), inputEPCList: [M2], outputQuantityList: [{ epcClass: F1, quantity: 10, uom: 'KGM' }] },
  t4: { type: 'TransformationEvent', ...base(0), inputEPCList: [A], outputEPCList: [M2] },
  commission: { type: 'ObjectEvent', ...base(2), action: 'ADD', epcList: [A, B], bizStep: 'commissioning', bizLocation: place(FACTORY), ilmd: { 'cbvmda:lotNumber': 'L1' } },
  lotCheck: { type: 'ObjectEvent', ...base(3), action: 'OBSERVE', quantityList: [{ epcClass: LOT, quantity: 2 }], bizStep: 'inspecting', bizLocation: place(FACTORY) },
  pack: { type: 'AggregationEvent', ...base(10), action: 'ADD', parentID: CASE, childEPCs: [A], bizStep: 'packing', readPoint: place(FACTORY) },
  ship: {
    type: 'ObjectEvent', ...base(20), action: 'OBSERVE', epcList: [CASE], bizStep: 'shipping', readPoint: place(DOCK),
    sourceList: [{ type: 'owning_party', source: 'urn:example:party:maker' }], destinationList: [{ type: 'owning_party', destination: 'urn:example:party:shop' }],
    sensorElementList: [{
      sensorMetadata: { time: at(19) },
      sensorReport: [
        { type: 'Temperature', value: 5, uom: 'CEL' },
        { type: 'Temperature', value: 9.5, uom: 'CEL', time: at(18) },
        { type: 'RelativeHumidity', value: 70, uom: 'P1', minValue: 20, maxValue: 60 },
      ],
    }],
  },
  receive: { type: 'ObjectEvent', ...base(30), action: 'OBSERVE', epcList: [CASE], bizStep: 'receiving', bizLocation: place(SHOP), destinationList: [{ type: 'possessing_party', destination: 'urn:example:party:shop' }] },
  ownReading: { type: 'ObjectEvent', ...base(32), action: 'OBSERVE', epcList: [A], bizStep: 'sensor_reporting', bizLocation: place(SHOP), sensorElementList: [{ sensorReport: [{ type: 'Temperature', value: 1, uom: 'CEL' }] }] },
  wrong: { type: 'ObjectEvent', ...base(35), action: 'OBSERVE', epcList: [A], bizStep: 'storing', bizLocation: place('urn:example:loc:wrong') },
  unpack: { type: 'AggregationEvent', ...base(40), action: 'DELETE', parentID: CASE, bizStep: 'unpacking', bizLocation: place(SHOP) },
  afterUnpack: { type: 'ObjectEvent', ...base(50), action: 'OBSERVE', epcList: [CASE], bizStep: 'shipping', readPoint: place(DOCK), sensorElementList: [{ sensorReport: [{ type: 'Temperature', value: 30, uom: 'CEL' }] }] },
};

describe('itemProvenance', () => {
  let net: EmbeddedNetwork & { cleanupDir(): void };
  let reader: ProvenanceReader;
  const hash: Record<string, string> = {};

  before(async () => {
    net = await openEpcisTestNetwork();
    const alice = net.identity('Org1', 'alice');
    const names = Object.keys(EVENTS);
    const submit = (events: Event[]): Promise<string[]> =>
      net.gateway('Org1').submit({ chain: 'product', contract: 'epcis', fn: 'captureEvents', args: { events } }, alice).then((r) => (r.response as { hashes: string[] }).hashes);
    const hashes = await submit(names.map((n) => EVENTS[n] ?? {}));
    names.forEach((n, i) => {
      hash[n] = hashes[i] ?? '';
    });
    // Declared erroneous afterwards: the same event with an error declaration.
    await submit([{ ...(EVENTS['wrong'] ?? {}), errorDeclaration: { declarationTime: '2024-04-02T00:00:00Z', reason: 'incorrect_data' } }]);
    const peer = net.peers[0];
    assert.ok(peer !== undefined);
    reader = peer.reader('product', 'epcis');
  });
  after(async () => {
    await net.close();
    net.cleanupDir();
  });

  it('lists the item events and its case events while inside, each with txId and ledger position', () => {
    const p = itemProvenance(reader, 'urn:epc:id:sgtin:0614141.107346.p1');
    assert.equal(p.epc, A);
    assert.equal(p.truncated, false);
    const listed = p.events.map((e) => e.hash);
    for (const n of ['t1', 't4', 'commission', 'pack', 'ship', 'receive', 'ownReading', 'unpack']) assert.ok(listed.includes(hash[n] ?? ''), n);
    for (const n of ['afterUnpack', 'lotCheck', 'wrong']) assert.ok(!listed.includes(hash[n] ?? ''), n);
    assert.equal(p.events.find((e) => e.hash === hash['ship'])?.container, CASE);
    assert.deepEqual(p.containment.map((c) => [c.parent, c.level, c.from.hash, c.to?.hash]), [[CASE, 1, hash['pack'], hash['unpack']]]);
    for (const e of p.events) {
      assert.ok(e.txId.length > 0 && e.ledger.block > 0 && Number.isInteger(e.ledger.index), e.hash);
    }
    assert.deepEqual(JSON.parse(JSON.stringify(p)), p, 'JSON-serialisable');
  });

  it('gives the lot from the commissioning ILMD and the lot class events', () => {
    const p = itemProvenance(reader, A);
    assert.equal(p.lot?.epcClass, LOT);
    assert.equal(p.lot.lotNumber, 'L1');
    assert.equal(p.lot.source, 'ilmd');
    assert.deepEqual(p.lot.events.map((e) => e.hash), [hash['commission'], hash['lotCheck']]);
    assert.equal(p.lot.truncated, false);
  });

  it('follows transformation lineage to depth 3 and marks a cycle when followed further', () => {
    const p = itemProvenance(reader, A);
    assert.equal(p.lineage.length, 1);
    const step1 = p.lineage[0];
    assert.ok(step1 !== undefined);
    assert.equal(step1.event.hash, hash['t1']);
    assert.equal(step1.transformationID, 'urn:example:tr:1');
    const m1 = step1.inputs[0];
    assert.deepEqual([m1?.epc, m1?.kind], [M1, 'instance']);
    const f1 = m1?.producedBy?.[0]?.inputs[0];
    assert.deepEqual([f1?.epc, f1?.kind, f1?.quantity, f1?.uom], [F1, 'class', 3, 'KGM']);
    const m2 = f1?.producedBy?.[0]?.inputs[0];
    assert.equal(m2?.epc, M2);
    assert.equal(m2.producedBy, null, 'depth 3 reached');

    const deep = itemProvenance(reader, A, { lineageDepth: 5 });
    const walk = (input: LineageInput | undefined, n: number): LineageInput | undefined => (n === 0 ? input : walk(input?.producedBy?.[0]?.inputs[0], n - 1));
    const back = walk(deep.lineage[0]?.inputs[0], 3);
    assert.deepEqual([back?.epc, back?.cycle, back?.producedBy], [A, true, null], 'M2 was made from the item itself: a cycle, not followed');
    assert.deepEqual(itemProvenance(reader, A, { lineageDepth: 0 }).lineage, []);
  });

  it('summarises sensor readings per leg with excursions from thresholds and from the reading itself', () => {
    const p = itemProvenance(reader, A, { thresholds: [{ type: 'gs1:Temperature', uom: 'CEL', min: 2, max: 8 }] });
    const own = p.sensors.find((l) => l.leg === 'item');
    assert.deepEqual(own?.sensors.map((s) => [s.type, s.count, s.excursionCount]), [['Temperature', 1, 1]]);
    assert.equal(own.sensors[0]?.excursions[0]?.limit, 'min');
    const leg = p.sensors.find((l) => l.leg === 'container');
    assert.deepEqual(leg?.page, { epc: CASE, from: at(10), to: at(40) });
    const temperature = leg.sensors.find((s) => s.type === 'Temperature');
    assert.deepEqual([temperature?.count, temperature?.min, temperature?.max, temperature?.mean], [2, 5, 9.5, 7.25], 'the reading after the unpack is not in the leg');
    assert.deepEqual(temperature?.excursions, [{ time: at(18), value: 9.5, limit: 'max', bound: 8, boundFrom: 'threshold', hash: hash['ship'] }]);
    const humidity = leg.sensors.find((s) => s.type === 'RelativeHumidity');
    assert.deepEqual(humidity?.excursions.map((x) => [x.limit, x.bound, x.boundFrom, x.time]), [['max', 60, 'reading', at(19)]]);
    assert.equal(itemProvenance(reader, A).sensors.find((l) => l.leg === 'container')?.sensors.find((s) => s.type === 'Temperature')?.excursionCount, 0);
  });

  it('builds the journey of places with arrival, departure and custodians, leaving out the erroneous event', () => {
    const p = itemProvenance(reader, A);
    assert.deepEqual(p.journey.map((s) => [s.place, s.arrival, s.departure]), [
      [FACTORY, at(2), at(10)],
      [DOCK, at(20), at(20)],
      [SHOP, at(30), null],
    ]);
    assert.deepEqual(p.journey[0]?.custodians, [{ party: 'Org1', role: 'recordedBy' }]);
    assert.deepEqual(p.journey[1]?.custodians, [{ party: 'urn:example:party:maker', role: 'owning_party' }], 'a shipment is in its source party\'s custody');
    assert.deepEqual(p.journey[2]?.custodians[0], { party: 'urn:example:party:shop', role: 'possessing_party' });
  });

  it('lists an event declared erroneous with its declaration and nowhere else', () => {
    const p = itemProvenance(reader, A);
    assert.deepEqual(p.declaredErroneous.map((e) => e.hash), [hash['wrong']]);
    const declaration = p.declaredErroneous[0]?.errorDeclaration as Record<string, JsonValue>;
    assert.equal(declaration['reason'], 'incorrect_data');
    assert.equal(declaration['declaredBy'], 'Org1');
    assert.ok(!p.events.some((e) => e.hash === hash['wrong']));
    assert.ok(!p.journey.some((s) => s.place === 'urn:example:loc:wrong'));
  });

  it('stops at maxEvents and says so', () => {
    const p = itemProvenance(reader, A, { maxEvents: 3 });
    assert.equal(p.truncated, true);
    assert.equal(p.eventsRead, 3);
    assert.ok(itemProvenance(reader, A).eventsRead > 3);
  });

  it('refuses an invalid EPC or option with INVALID_ARGUMENT naming it', () => {
    const refused = (run: () => unknown): string => {
      try {
        run();
      } catch (e) {
        if (isSilkError(e) && e.code === 'INVALID_ARGUMENT') return String(e.details.path);
        throw e;
      }
      return assert.fail('expected a refusal');
    };
    assert.equal(refused(() => itemProvenance(reader, 'not an epc')), 'epc');
    assert.equal(refused(() => itemProvenance(reader, 'https://id.gs1.org/01/10614141073465/21/x')), 'epc');
    assert.equal(refused(() => itemProvenance(reader, A, { lineageDepth: 6 })), 'lineageDepth');
    assert.equal(refused(() => itemProvenance(reader, A, { maxEvents: 0 })), 'maxEvents');
    assert.equal(refused(() => itemProvenance(reader, A, { thresholds: [{ type: 'Temperature', min: 9, max: 2 }] })), 'thresholds[0]');
  });
});
