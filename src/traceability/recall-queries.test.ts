/**
 * Recall of a lot on a real ledger: its items (lot index and products registry), where each is
 * now through its containers and who holds it, and a recall event that validates and captures.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isSilkError } from '../errors.js';
import type { JsonValue } from '../ledger/json-value.js';
import type { EmbeddedNetwork } from '../network/embedded-network.js';
import { openEpcisTestNetwork } from '../testing/epcis-fixtures.js';
import { gs1CheckDigit } from './epc-identifiers.js';
import { validateEpcisDocument } from './epcis-document.js';
import { lotClass } from './epcis-ledger-index.js';
import { itemProvenance, type ProvenanceReader } from './provenance.js';
import { lotItems, lotRecallEvent, lotRecallStatus, type ProductsReader } from './recall-queries.js';

type Event = Record<string, JsonValue>;

const GTIN = '10614141073464';
const item = (serial: string): string => `https://id.gs1.org/01/${GTIN}/21/${serial}`;
const sscc = (n: number): string => {
  const body = `00614141${String(n).padStart(9, '0')}`;
  return `https://id.gs1.org/00/${body}${gs1CheckDigit(body)}`;
};
const at = (minute: number): string => `2024-05-01T08:${String(minute).padStart(2, '0')}:00Z`;
const base = (minute: number): Event => ({ eventTime: at(minute), eventTimeZoneOffset: '+00:00' });

const A = item('r1');
const B = item('r2');
const OTHER_LOT = item('r3');
const CASE = sscc(11);
const PALLET = sscc(12);
const FACTORY = 'urn:example:loc:factory';
const DC = 'urn:example:loc:dc';

/** A products registry holding one more item of the lot (never seen in an event), owned by Org2. */
const registry: ProductsReader = {
  query: (q) => {
    const s = q.selector;
    const match = s['type'] === 'item' && s['gtin'] === GTIN && s['lot'] === 'R1';
    return { items: match ? [{ key: item('r9'), value: { type: 'item', gtin: GTIN, serial: 'r9', lot: 'R1', owner: 'Org2', commissionedAt: 0 } }] : [] };
  },
};

describe('recall queries', () => {
  let net: EmbeddedNetwork & { cleanupDir(): void };
  let epcis: ProvenanceReader;
  let capture: (events: Event[]) => Promise<string[]>;

  before(async () => {
    net = await openEpcisTestNetwork();
    const alice = net.identity('Org1', 'alice');
    capture = (events) => net.gateway('Org1').submit({ chain: 'product', contract: 'epcis', fn: 'captureEvents', args: { events } }, alice).then((r) => (r.response as { hashes: string[] }).hashes);
    await capture([
      { type: 'ObjectEvent', ...base(1), action: 'ADD', epcList: [A, B], bizStep: 'commissioning', bizLocation: { id: FACTORY }, ilmd: { 'cbvmda:lotNumber': 'R1' } },
      { type: 'ObjectEvent', ...base(1), action: 'ADD', epcList: [OTHER_LOT], bizStep: 'commissioning', bizLocation: { id: FACTORY }, ilmd: { 'cbvmda:lotNumber': 'R2' } },
      { type: 'AggregationEvent', ...base(5), action: 'ADD', parentID: CASE, childEPCs: [B], bizStep: 'packing' },
      { type: 'AggregationEvent', ...base(6), action: 'ADD', parentID: PALLET, childEPCs: [CASE], bizStep: 'packing' },
      {
        type: 'ObjectEvent', ...base(10), action: 'OBSERVE', epcList: [PALLET], bizStep: 'receiving', bizLocation: { id: DC },
        destinationList: [{ type: 'owning_party', destination: 'urn:example:party:retailer' }, { type: 'possessing_party', destination: 'urn:example:party:carrier' }],
      },
    ]);
    const peer = net.peers[0];
    assert.ok(peer !== undefined);
    epcis = peer.reader('product', 'epcis');
  });
  after(async () => {
    await net.close();
    net.cleanupDir();
  });

  it('finds the items of a lot from its commissioning events and the products registry', () => {
    assert.deepEqual(lotItems({ epcis }, { gtin: GTIN, lot: 'R1' }).items, [A, B]);
    const both = lotItems({ epcis, products: registry }, { gtin: GTIN, lot: 'R1' });
    assert.deepEqual(both.items, [A, B, item('r9')]);
    assert.deepEqual(both.owners, { [item('r9')]: 'Org2' });
    assert.equal(both.epcClass, lotClass(GTIN, 'R1'));
    const cut = lotItems({ epcis, products: registry }, { gtin: GTIN, lot: 'R1' }, { maxItems: 1 });
    assert.deepEqual([cut.items.length, cut.truncated], [1, true]);
  });

  it('says where each item is now, through its containers, and who holds it', () => {
    const status = lotRecallStatus({ epcis, products: registry }, { gtin: GTIN, lot: 'R1' });
    assert.equal(status.truncated, false);
    const by = new Map(status.items.map((s) => [s.epc, s]));
    assert.deepEqual(by.get(A)?.place, { id: FACTORY, type: 'bizLocation', since: at(1) });
    assert.deepEqual(by.get(A)?.custodian, { party: 'Org1', role: 'recordedBy' });
    assert.deepEqual(by.get(B)?.place, { id: DC, type: 'bizLocation', since: at(10) }, 'the pallet it is in arrived at the DC');
    assert.deepEqual(by.get(B)?.custodian, { party: 'urn:example:party:carrier', role: 'possessing_party' });
    assert.deepEqual(by.get(B)?.containers, [CASE, PALLET]);
    assert.deepEqual([by.get(item('r9'))?.place, by.get(item('r9'))?.owner], [null, 'Org2']);
  });

  it('builds a CBV recall event for the lot that validates, captures, and joins the lot history', async () => {
    const event = lotRecallEvent({ gtin: GTIN, lot: 'R1', eventTime: at(30), eventTimeZoneOffset: '+00:00', epcs: ['urn:epc:id:sgtin:0614141.107346.r1'], bizLocation: DC });
    assert.equal(event['disposition'], 'recalled');
    assert.equal(event['bizStep'], 'holding');
    const doc = { '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: at(31), epcisBody: { eventList: [event] } };
    assert.equal(validateEpcisDocument(doc).events.length, 1);
    const [recall] = await capture([event]);
    const p = itemProvenance(epcis, A);
    assert.ok(p.lot?.events.some((e) => e.hash === recall), 'the lot class in the quantity list files it under the lot');
    assert.ok(p.events.some((e) => e.hash === recall && e.role === 'item'));
  });

  it('refuses an invalid lot or time with INVALID_ARGUMENT naming it', () => {
    const path = (run: () => unknown): unknown => {
      try {
        run();
      } catch (e) {
        if (isSilkError(e) && e.code === 'INVALID_ARGUMENT') return e.details.path;
        throw e;
      }
      return assert.fail('expected a refusal');
    };
    assert.equal(path(() => lotItems({ epcis }, { gtin: '10614141073465', lot: 'R1' })), 'lot');
    assert.equal(path(() => lotItems({ epcis }, { gtin: '123', lot: 'R1' })), 'gtin');
    assert.equal(path(() => lotRecallEvent({ gtin: GTIN, lot: 'R1', eventTime: 'yesterday', eventTimeZoneOffset: '+00:00' })), 'eventTime');
    assert.equal(path(() => lotRecallEvent({ gtin: GTIN, lot: 'R1', eventTime: at(1), eventTimeZoneOffset: '+15:00' })), 'eventTimeZoneOffset');
  });
});
