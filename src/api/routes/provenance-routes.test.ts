import assert from 'node:assert/strict';
import { get as get1 } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { receiptFromJson, verifyReceipt, type ReceiptJson } from '../../ledger/receipt.js';
import { connect } from '../../sdk/index.js';
import type { TestApi } from '../../testing/api-fixtures.js';
import { epcisDocument, openEpcisTestApi } from '../../testing/epcis-fixtures.js';
import { toDigitalLink } from '../../traceability/epc-identifiers.js';
import { eventHashId } from '../../traceability/event-hash.js';
import type { ItemProvenance } from '../../traceability/provenance.js';
import type { LotRecallStatus } from '../../traceability/recall-queries.js';

interface Reply<T> {
  status: number;
  body: T;
}

async function get<T>(url: string): Promise<Reply<T>> {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as T };
}

/** The bytes as they come off the wire, asking for `encoding`. */
function download(url: string, encoding: string): Promise<{ headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get1(url, { headers: { 'accept-encoding': encoding } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => { resolve({ headers: res.headers, body: Buffer.concat(parts) }); });
    }).on('error', reject);
  });
}

const item = (n: number): string => `urn:epc:id:sgtin:4012345.012345.P${n}`;
const CASE = 'urn:epc:id:sscc:4012345.0000000011';
const PALLET = 'urn:epc:id:sscc:4012345.0000000022';
const SITE = 'urn:epc:id:sgln:4012345.00001.0';
const PORT = 'urn:epc:id:sgln:4012345.00002.0';
const at = (day: number, hour: number): string => `2031-02-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00.000+01:00`;

/** Two items of lot P1 packed into a case on a pallet, the pallet shipped with a cold-chain excursion, then unpacked. */
function story(): Record<string, unknown>[] {
  return [
    { type: 'ObjectEvent', action: 'ADD', bizStep: 'commissioning', epcList: [item(1), item(2)], eventTime: at(1, 8), eventTimeZoneOffset: '+01:00', bizLocation: { id: SITE }, ilmd: { 'cbvmda:lotNumber': 'P1' } },
    { type: 'AggregationEvent', action: 'ADD', bizStep: 'packing', parentID: CASE, childEPCs: [item(1), item(2)], eventTime: at(1, 9), eventTimeZoneOffset: '+01:00', bizLocation: { id: SITE } },
    { type: 'AggregationEvent', action: 'ADD', bizStep: 'packing', parentID: PALLET, childEPCs: [CASE], eventTime: at(1, 10), eventTimeZoneOffset: '+01:00', bizLocation: { id: SITE } },
    {
      type: 'ObjectEvent', action: 'OBSERVE', bizStep: 'shipping', epcList: [PALLET], eventTime: at(2, 8), eventTimeZoneOffset: '+01:00', readPoint: { id: SITE },
      sensorElementList: [
        { sensorMetadata: { time: at(2, 9) }, sensorReport: [{ type: 'Temperature', value: 4, uom: 'CEL' }] },
        { sensorMetadata: { time: at(2, 10) }, sensorReport: [{ type: 'Temperature', value: 11, uom: 'CEL' }] },
      ],
    },
    { type: 'AggregationEvent', action: 'DELETE', bizStep: 'unpacking', parentID: PALLET, eventTime: at(3, 8), eventTimeZoneOffset: '+01:00', bizLocation: { id: PORT } },
    // After the pallet was unpacked: not part of the items' history.
    { type: 'ObjectEvent', action: 'OBSERVE', bizStep: 'shipping', epcList: [PALLET], eventTime: at(4, 8), eventTimeZoneOffset: '+01:00', readPoint: { id: PORT } },
  ];
}

describe('provenance and recall routes', () => {
  let t: TestApi;
  before(async () => {
    t = await openEpcisTestApi({ demoIdentities: [{ org: 'Org2', name: 'bob' }] });
    const r = await fetch(`${t.url}/api/demo/epcis/capture?chain=product`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ as: { org: 'Org2', name: 'bob' }, document: epcisDocument(story()) }) });
    assert.equal(r.status, 201, await r.text());
  });
  after(async () => {
    await t.close();
  });

  it("answers an item's history through its case and pallet, with a receipt that verifies for every transaction it cites", async () => {
    const r = await get<{ provenance: ItemProvenance; proofs: Record<string, ReceiptJson>; missingProofs: string[] }>(`${t.url}/api/epcis/provenance?chain=product&epc=${encodeURIComponent(item(1))}&thresholds=Temperature:CEL:2:8`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const { provenance, proofs, missingProofs } = r.body;
    assert.equal(provenance.epc, toDigitalLink(item(1)));
    // Its own events, the case's and the pallet's while it was inside: not the pallet's later shipping.
    assert.deepEqual(provenance.events.map((e) => [e.event['bizStep'], e.role]), [['commissioning', 'item'], ['packing', 'item'], ['packing', 'container'], ['shipping', 'container'], ['unpacking', 'container']]);
    assert.deepEqual(provenance.containment.map((c) => [c.parent, c.level, c.to === null]), [[toDigitalLink(CASE), 1, true], [toDigitalLink(PALLET), 2, false]]);
    assert.equal(provenance.lot?.lotNumber, 'P1');
    const palletLeg = provenance.sensors.find((l) => l.parent === toDigitalLink(PALLET));
    assert.deepEqual(palletLeg?.sensors.map((s) => [s.type, s.count, s.min, s.max, s.excursionCount]), [['Temperature', 2, 4, 11, 1]]);
    // Every event's hash recomputes from the event as returned, and its transaction's receipt verifies.
    for (const e of provenance.events) assert.equal(eventHashId(e.event), e.hash);
    assert.deepEqual(missingProofs, []);
    const txIds = new Set(provenance.events.map((e) => e.txId));
    assert.deepEqual(Object.keys(proofs).sort(), [...txIds].sort());
    const client = connect({ url: t.url });
    for (const receipt of Object.values(proofs)) {
      assert.deepEqual(await client.verifyReceipt(receipt), { ok: true });
      // A forged path is caught.
      const forged = receiptFromJson(receipt);
      const trust = { orderers: [], peers: [] };
      assert.equal(verifyReceipt({ ...forged, leafHash: new Uint8Array(32) }, trust).ok, false);
    }
  });

  it('answers without proofs when asked, and refuses bad parameters with their name', async () => {
    const r = await get<{ proofs: Record<string, unknown> }>(`${t.url}/api/epcis/provenance?chain=product&epc=${encodeURIComponent(item(2))}&proofs=false`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.proofs, {});
    const bad = await get<{ error: { code: string; message: string } }>(`${t.url}/api/epcis/provenance?chain=product&epc=not-an-epc`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'INVALID_ARGUMENT');
    const thresholds = await get<{ error: { message: string } }>(`${t.url}/api/epcis/provenance?chain=product&epc=${encodeURIComponent(item(2))}&thresholds=Temperature:CEL::`);
    assert.equal(thresholds.status, 400);
    assert.match(thresholds.body.error.message, /thresholds\[0\]: give a min, a max or both/);
    const unknown = await get<{ error: { message: string } }>(`${t.url}/api/epcis/provenance?chain=product&epc=${encodeURIComponent(item(2))}&depth=2`);
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error.message, /depth/);
  });

  it('lists every item of a lot with where it is now and who recorded it last', async () => {
    const r = await get<LotRecallStatus>(`${t.url}/api/epcis/recall?chain=product&lot=urn:epc:class:lgtin:4012345.012345.P1`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.items.map((i) => i.epc), [toDigitalLink(item(1)), toDigitalLink(item(2))]);
    for (const i of r.body.items) {
      // Unpacked from the pallet at the port, still in its case.
      assert.equal(i.place?.id, toDigitalLink(PORT));
      assert.deepEqual(i.containers, [toDigitalLink(CASE)]);
      assert.equal(i.custodian?.party, 'Org2');
    }
    const bad = await get<{ error: { code: string } }>(`${t.url}/api/epcis/recall?chain=product&lot=P1`);
    assert.equal(bad.status, 400);
  });

  it('answers gzip-compressed to a client that takes it (a phone reading over a slow link), the same answer once inflated', async () => {
    const path = `${t.url}/api/epcis/provenance?chain=product&epc=${encodeURIComponent(item(1))}`;
    const [plain, packed] = await Promise.all([download(path, 'identity'), download(path, 'gzip')]);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(packed.headers['content-encoding'], 'gzip');
    assert.equal(packed.headers['vary'], 'accept-encoding');
    assert.equal(packed.headers['content-type'], 'application/json; charset=utf-8');
    assert.ok(packed.body.length * 3 < plain.body.length, `${packed.body.length} of ${plain.body.length} bytes`);
    assert.deepEqual(JSON.parse(gunzipSync(packed.body).toString()), JSON.parse(plain.body.toString()));
  });
});
