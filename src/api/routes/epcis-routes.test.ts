import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { generateSigner } from '../../crypto/p256.js';
import { epcisClient } from '../../sdk/epcis.js';
import { connect } from '../../sdk/index.js';
import type { TestApi } from '../../testing/api-fixtures.js';
import { conformingEpcisExamples, EPCIS_EXAMPLES_DIR, epcisDocument, lotEvents, NONCONFORMING_EXAMPLE, openEpcisTestApi, registerOrgKey, sensorEvent } from '../../testing/epcis-fixtures.js';
import { waitUntil } from '../../testing/fixtures.js';
import { signDocumentSensorData } from '../../traceability/epcis-document-sensor-signature.js';
import { toDigitalLink } from '../../traceability/epc-identifiers.js';
import { prepareCapture } from '../../traceability/epcis-capture.js';
import { validateEpcisDocument } from '../../traceability/epcis-document.js';
import { documentEventHashes } from '../../traceability/event-hash.js';
import { toBase64 } from '../wire.js';

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function call(url: string, options: { body?: unknown } = {}): Promise<Reply> {
  const r = await fetch(url, options.body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(options.body) });
  return { status: r.status, headers: r.headers, body: (await r.json()) as Record<string, unknown> };
}

const example = (name: string): unknown => JSON.parse(readFileSync(new URL(name, EPCIS_EXAMPLES_DIR), 'utf8'));
const eventList = (doc: Record<string, unknown>): Record<string, unknown>[] =>
  ((doc['epcisBody'] as { queryResults: { resultsBody: { eventList: Record<string, unknown>[] } } }).queryResults.resultsBody.eventList);

describe('EPCIS REST routes', () => {
  let t: TestApi;
  const height = (): number => t.net.peers[0]!.height('product');
  before(async () => {
    t = await openEpcisTestApi({ demoIdentities: [{ org: 'Org2', name: 'bob' }] });
  });
  after(async () => {
    await t.close();
  });

  it('captures a document from a proposal the client signed, and refuses a proposal for another function', async () => {
    const doc = example('Example_9.6.1-ObjectEvent.jsonld');
    const { parts, hashes } = prepareCapture(doc);
    const client = connect({ url: t.url });
    const alice = t.net.identity('Org1', 'alice');
    const signed = await client.propose({ chain: 'product', contract: 'epcis', fn: 'captureEvents', args: parts[0]! }, alice);
    const r = await call(`${t.url}/api/epcis/capture?chain=product`, { body: { proposal: toBase64(signed.bytes), signature: toBase64(signed.signature) } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body['captureID'], signed.txId);
    assert.deepEqual((r.body['response'] as { hashes: string[] }).hashes, hashes);

    const other = await client.propose({ chain: 'product', contract: 'basic', fn: 'createAsset', args: { id: 'x', owner: 'o', colour: 'c', size: 1, appraisedValue: 1 } }, alice);
    const refused = await call(`${t.url}/api/epcis/capture?chain=product`, { body: { proposal: toBase64(other.bytes), signature: toBase64(other.signature) } });
    assert.equal(refused.status, 400);
    assert.match((refused.body['error'] as { message: string }).message, /epcis\.captureEvents/);
  });

  it('demo capture: validates, records all or nothing, names the failing path, refuses duplicates', async () => {
    const before = height();
    const bad = await call(`${t.url}/api/demo/epcis/capture?chain=product`, { body: { as: { org: 'Org2', name: 'bob' }, document: example(NONCONFORMING_EXAMPLE) } });
    assert.equal(bad.status, 400);
    assert.equal((bad.body['error'] as { path: string }).path, 'epcisBody.eventList[1].sourceList');
    assert.equal(height(), before, 'nothing recorded');

    const again = await call(`${t.url}/api/demo/epcis/capture?chain=product`, { body: { as: { org: 'Org2', name: 'bob' }, document: example('Example_9.6.1-ObjectEvent.jsonld') } });
    assert.equal(again.status, 422);
    assert.match((again.body['error'] as { message: string }).message, /already recorded/);
    assert.equal(height(), before);

    for (const { name, text } of conformingEpcisExamples()) {
      if (name.startsWith('Example_9.6.1-ObjectEvent')) continue;
      const r = await call(`${t.url}/api/demo/epcis/capture?chain=product`, { body: { as: { org: 'Org2', name: 'bob' }, document: JSON.parse(text) as unknown } });
      assert.equal(r.status, 201, `${name}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(r.body['hashes'], documentEventHashes(JSON.parse(text)).map((h) => h.hashId));
    }
  });

  it('GET /api/epcis/events: an EPCISQueryDocument of the original events, by EPC in either form, paginated', async () => {
    const urn = 'urn:epc:id:sgtin:0614141.107346.2017';
    const byUrn = await call(`${t.url}/api/epcis/events?chain=product&MATCH_anyEPC=${encodeURIComponent(urn)}`);
    assert.equal(byUrn.status, 200, JSON.stringify(byUrn.body));
    assert.equal(byUrn.body['type'], 'EPCISQueryDocument');
    const byLink = await call(`${t.url}/api/epcis/events?chain=product&MATCH_anyEPC=${encodeURIComponent(toDigitalLink(urn))}`);
    assert.deepEqual(eventList(byLink.body), eventList(byUrn.body));
    const original = (example('Example_9.6.1-ObjectEvent.jsonld') as { epcisBody: { eventList: Record<string, unknown>[] } }).epcisBody.eventList[0]!;
    const exported = eventList(byUrn.body).find((e) => e['eventID'] === original['eventID']);
    assert.deepEqual(exported, original, 'the event exactly as captured');
    // Round trip: the exported document validates and hashes the same.
    validateEpcisDocument(byUrn.body);
    assert.equal(documentEventHashes(byUrn.body)[0]?.hashId, documentEventHashes(example('Example_9.6.1-ObjectEvent.jsonld'))[0]?.hashId);

    const seen: unknown[] = [];
    let next: string | undefined = '/api/epcis/events?chain=product&perPage=2';
    while (next !== undefined) {
      const r = await call(`${t.url}${next}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      seen.push(...eventList(r.body).map((e) => e['eventID']));
      next = /^<([^>]+)>; rel="next"$/.exec(r.headers.get('link') ?? '')?.[1];
      if (next !== undefined) assert.match(next, /[?&]nextPageToken=[A-Za-z0-9_-]+/);
    }
    const all = await call(`${t.url}/api/epcis/events?chain=product&perPage=100`);
    assert.deepEqual(seen, eventList(all.body).map((e) => e['eventID']));
    assert.ok(seen.length >= 10, `paged ${seen.length} events`);
    const shipping = await call(`${t.url}/api/epcis/events?chain=product&EQ_bizStep=${encodeURIComponent('urn:epcglobal:cbv:bizstep:shipping')}`);
    assert.ok(eventList(shipping.body).length > 0);
    assert.ok(eventList(shipping.body).every((e) => /shipping/i.test(String(e['bizStep']))));

    const windowed = await call(`${t.url}/api/epcis/events?chain=product&GE_eventTime=2005-04-03T00:00:00Z&LT_eventTime=2005-04-04T00:00:00Z`);
    assert.ok(eventList(windowed.body).every((e) => String(e['eventTime']).startsWith('2005-04-0')));

    const badStep = await call(`${t.url}/api/epcis/events?chain=product&EQ_bizStep=no_such_step`);
    assert.equal(badStep.status, 400);
    assert.equal((badStep.body['error'] as { path: string }).path, 'EQ_bizStep');
  });

  it('GET /api/epcis/events: the REST binding names, comma lists as OR, paging with nextPageToken; old and unknown names refused by name', async () => {
    const hashesOf = async (query: string): Promise<string[]> => {
      const out: string[] = [];
      let next: string | undefined = `/api/epcis/events?chain=product&${query}`;
      while (next !== undefined) {
        const r = await call(`${t.url}${next}`);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        out.push(...documentEventHashes(r.body).map((h) => h.hashId));
        next = /^<([^>]+)>; rel="next"$/.exec(r.headers.get('link') ?? '')?.[1];
      }
      return out;
    };
    const shipping = await hashesOf('EQ_bizStep=shipping&perPage=100');
    const receiving = await hashesOf(`EQ_bizStep=${encodeURIComponent('https://ref.gs1.org/cbv/BizStep-receiving')}&perPage=100`);
    assert.ok(shipping.length > 0 && receiving.length > 0);
    const all = await hashesOf('perPage=100');
    const union = all.filter((h) => shipping.includes(h) || receiving.includes(h));
    assert.deepEqual(await hashesOf('EQ_bizStep=shipping,receiving&perPage=1'), union, 'OR, in eventTime order, one per page');
    assert.deepEqual(await hashesOf('EQ_bizStep=shipping&EQ_bizStep=receiving&perPage=3'), union, 'the parameter repeated is the same list');
    const sscc = 'urn:epc:id:sscc:0614141.1234567890';
    const parent = await hashesOf(`MATCH_parentID=${encodeURIComponent(sscc)}`);
    assert.ok(parent.length >= 1);
    assert.deepEqual(await hashesOf(`MATCH_epc=${encodeURIComponent(sscc)}`), [], 'a parentID is not matched by MATCH_epc');
    assert.deepEqual(await hashesOf(`MATCH_anyEPC=${encodeURIComponent(sscc)}&eventType=AggregationEvent&EQ_action=OBSERVE`), parent);
    const windowed = await hashesOf('GE_eventTime=2005-04-03T00:00:00Z&LT_eventTime=2005-04-05T00:00:00Z&EQ_disposition=in_transit,in_progress');
    assert.ok(windowed.length >= 1);

    for (const [name, value] of [['epc', 'urn:epc:id:sscc:0614141.1234567890'], ['bizStep', 'shipping'], ['limit', '5'], ['bookmark', 'x'], ['EQ_colour', 'red']] as const) {
      const r = await call(`${t.url}/api/epcis/events?chain=product&${name}=${encodeURIComponent(value)}`);
      assert.equal(r.status, 400, name);
      assert.match((r.body['error'] as { message: string }).message, new RegExp(name), `${name} is named`);
    }
    const badToken = await call(`${t.url}/api/epcis/events?chain=product&nextPageToken=garbage`);
    assert.equal(badToken.status, 400);
    assert.equal((badToken.body['error'] as { path: string }).path, 'nextPageToken');
  });

  it('error declarations and lots through the routes: EXISTS_errorDeclaration returns the event with its declaration; lot in every form', async () => {
    const client = connect({ url: t.url });
    const epcis = epcisClient(client);
    const alice = t.net.identity('Org1', 'alice');
    const event = { ...sensorEvent(20), eventTime: '2036-01-01T00:00:00Z' } as Record<string, unknown>;
    delete event['sensorElementList'];
    const declaration = { declarationTime: '2036-01-02T00:00:00Z', reason: 'incorrect_data' };
    const captured = await epcis.capture(epcisDocument([event, ...lotEvents('R5', 2036)]), { chain: 'product', signer: alice });
    await epcis.capture(epcisDocument([{ ...event, errorDeclaration: declaration }]), { chain: 'product', signer: alice });
    const declared = await epcis.events('product', { EXISTS_errorDeclaration: true, perPage: 100 });
    const found = declared.events.find((e) => e['eventTime'] === '2036-01-01T00:00:00Z');
    assert.deepEqual(found?.['errorDeclaration'], declaration);
    assert.equal(documentEventHashes(declared.document).find((h) => h.hashId === captured.hashes[0]) !== undefined, true, 'the exported event hashes as captured');
    const raw = await call(`${t.url}/api/epcis/events?chain=product&EXISTS_errorDeclaration&GE_eventTime=2036-01-01T00:00:00Z`);
    assert.equal(eventList(raw.body).length, 1);

    const lotHashes = captured.hashes.slice(1);
    for (const lot of ['urn:epc:class:lgtin:4012345.012345.R5', toDigitalLink('urn:epc:class:lgtin:4012345.012345.R5'), `${toDigitalLink('urn:epc:class:lgtin:4012345.012345.R5').split('/')[4] ?? ''}/R5`]) {
      const page = await epcis.events('product', { lot });
      assert.deepEqual(documentEventHashes(page.document).map((h) => h.hashId), lotHashes, lot);
    }
    const paged = await epcis.events('product', { lot: 'urn:epc:class:lgtin:4012345.012345.R5', perPage: 1 });
    assert.equal(paged.events.length, 1);
    assert.ok(paged.nextPageToken !== undefined);
    const rest = await epcis.events('product', { lot: 'urn:epc:class:lgtin:4012345.012345.R5', perPage: 1, nextPageToken: paged.nextPageToken });
    assert.deepEqual(documentEventHashes(rest.document).map((h) => h.hashId), [lotHashes[1]]);
  });

  it('sensor data signed at the source: a registered device of the capturing org is accepted; unregistered, another org\'s, non-device keys and forged readings are refused', async () => {
    const epcis = epcisClient(connect({ url: t.url }));
    const alice = t.net.identity('Org1', 'alice');
    const device = generateSigner();
    const org2Device = generateSigner();
    const salesKey = generateSigner();
    await registerOrgKey(t.net, 'product', 'Org1', device);
    await registerOrgKey(t.net, 'product', 'Org2', org2Device);
    await registerOrgKey(t.net, 'product', 'Org1', salesKey, 'sales', 3);
    // The API's node (Org1's peer) sees every registration, Org2's included.
    await waitUntil(() => t.net.peers.every((p) => p.height('product') === t.net.peers[0]!.height('product')), 10_000, 'peers at one height');

    const signed = signDocumentSensorData(epcisDocument([sensorEvent(31)]), device).document;
    const r = await epcis.capture(signed, { chain: 'product', signer: alice });
    const record = t.net.peers[0]!.reader('product', 'epcis').entry(`event:${/sha-256;([0-9a-f]{64})/.exec(r.hashes[0]!)?.[1] ?? ''}`)?.value as { sensorSignedBy?: string };
    assert.equal(record.sensorSignedBy, Buffer.from(device.publicKey).toString('hex'));

    const before = height();
    const refusedBy = async (doc: unknown): Promise<{ code: string; message: string; path?: string }> => {
      try {
        await epcis.capture(doc, { chain: 'product', signer: alice });
      } catch (e) {
        const err = e as { code: string; message: string; details: { path?: string } };
        return { code: err.code, message: err.message, ...(err.details.path === undefined ? {} : { path: err.details.path }) };
      }
      return assert.fail('expected a refusal');
    };
    const unregistered = await refusedBy(signDocumentSensorData(epcisDocument([sensorEvent(32)]), generateSigner()).document);
    assert.equal(unregistered.code, 'CONTRACT_ERROR');
    assert.match(unregistered.message, /events\[0\]\.silk:sensorSignature\.device: device key [0-9a-f]{66} is not registered on chain product/);
    const otherOrg = await refusedBy(signDocumentSensorData(epcisDocument([sensorEvent(33)]), org2Device).document);
    assert.match(otherOrg.message, /Org2's device key; sensor data must be signed by a device key \(function device\) of the capturing org Org1/);
    const notDevice = await refusedBy(signDocumentSensorData(epcisDocument([sensorEvent(34)]), salesKey).document);
    assert.match(notDevice.message, /Org1's sales key/);
    const forged = signDocumentSensorData(epcisDocument([sensorEvent(35, 5)]), device).document as { epcisBody: { eventList: { sensorElementList: { sensorReport: { value: number }[] }[] }[] } };
    forged.epcisBody.eventList[0]!.sensorElementList[0]!.sensorReport[0]!.value = 2;
    const forgedRefusal = await refusedBy(forged);
    assert.match(forgedRefusal.message, /does not verify/);
    assert.equal(height(), before, 'nothing recorded');

    // The demo capture and the generic transactions route are checked the same way: by the contract.
    const demo = await call(`${t.url}/api/demo/epcis/capture?chain=product`, { body: { as: { org: 'Org2', name: 'bob' }, document: signDocumentSensorData(epcisDocument([sensorEvent(36)]), device).document } });
    assert.equal(demo.status, 422);
    assert.match((demo.body['error'] as { message: string }).message, /Org1's device key; .* capturing org Org2/);
    const { parts } = prepareCapture(signDocumentSensorData(epcisDocument([sensorEvent(37)]), generateSigner()).document);
    const generic = await connect({ url: t.url }).propose({ chain: 'product', contract: 'epcis', fn: 'captureEvents', args: parts[0]! }, alice);
    const viaGeneric = await call(`${t.url}/api/chains/product/transactions`, { body: { proposal: toBase64(generic.bytes), signature: toBase64(generic.signature) } });
    assert.equal(viaGeneric.status, 422);
    assert.match((viaGeneric.body['error'] as { message: string }).message, /is not registered on chain product/);
    assert.equal(height(), before, 'nothing recorded');
  });
});
