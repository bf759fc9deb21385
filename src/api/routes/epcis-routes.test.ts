import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../sdk/index.js';
import type { TestApi } from '../../testing/api-fixtures.js';
import { conformingEpcisExamples, EPCIS_EXAMPLES_DIR, NONCONFORMING_EXAMPLE, openEpcisTestApi } from '../../testing/epcis-fixtures.js';
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
    const byUrn = await call(`${t.url}/api/epcis/events?chain=product&epc=${encodeURIComponent(urn)}`);
    assert.equal(byUrn.status, 200, JSON.stringify(byUrn.body));
    assert.equal(byUrn.body['type'], 'EPCISQueryDocument');
    const byLink = await call(`${t.url}/api/epcis/events?chain=product&epc=${encodeURIComponent(toDigitalLink(urn))}`);
    assert.deepEqual(eventList(byLink.body), eventList(byUrn.body));
    const original = (example('Example_9.6.1-ObjectEvent.jsonld') as { epcisBody: { eventList: Record<string, unknown>[] } }).epcisBody.eventList[0]!;
    const exported = eventList(byUrn.body).find((e) => e['eventID'] === original['eventID']);
    assert.deepEqual(exported, original, 'the event exactly as captured');
    // Round trip: the exported document validates and hashes the same.
    validateEpcisDocument(byUrn.body);
    assert.equal(documentEventHashes(byUrn.body)[0]?.hashId, documentEventHashes(example('Example_9.6.1-ObjectEvent.jsonld'))[0]?.hashId);

    const seen: unknown[] = [];
    let next: string | undefined = '/api/epcis/events?chain=product&limit=2';
    while (next !== undefined) {
      const r = await call(`${t.url}${next}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      seen.push(...eventList(r.body).map((e) => e['eventID']));
      next = /^<([^>]+)>; rel="next"$/.exec(r.headers.get('link') ?? '')?.[1];
      assert.equal(next === undefined, r.body['bookmark'] === undefined);
    }
    const all = await call(`${t.url}/api/epcis/events?chain=product&limit=100`);
    assert.deepEqual(seen, eventList(all.body).map((e) => e['eventID']));
    assert.ok(seen.length >= 10, `paged ${seen.length} events`);
    const shipping = await call(`${t.url}/api/epcis/events?chain=product&bizStep=${encodeURIComponent('urn:epcglobal:cbv:bizstep:shipping')}`);
    assert.ok(eventList(shipping.body).length > 0);
    assert.ok(eventList(shipping.body).every((e) => /shipping/i.test(String(e['bizStep']))));

    const windowed = await call(`${t.url}/api/epcis/events?chain=product&GE_eventTime=2005-04-03T00:00:00Z&LT_eventTime=2005-04-04T00:00:00Z`);
    assert.ok(eventList(windowed.body).every((e) => String(e['eventTime']).startsWith('2005-04-0')));

    const badStep = await call(`${t.url}/api/epcis/events?chain=product&bizStep=no_such_step`);
    assert.equal(badStep.status, 400);
  });
});
