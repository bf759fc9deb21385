import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Signer } from '../../crypto/p256.js';
import { isSilkError } from '../../errors.js';
import type { JsonValue } from '../../ledger/json-value.js';
import type { EmbeddedNetwork } from '../../network/embedded-network.js';
import { generateSigner } from '../../crypto/p256.js';
import { conformingEpcisExamples, EPCIS_EXAMPLES_DIR, epcisDocument, lotEvents, NONCONFORMING_EXAMPLE, openEpcisTestNetwork, registerOrgKey, sensorEvent } from '../../testing/epcis-fixtures.js';
import { signDocumentSensorData, SILK_EPCIS_NAMESPACE } from '../../traceability/epcis-document-sensor-signature.js';
import { toDigitalLink } from '../../traceability/epc-identifiers.js';
import { captureDocument, prepareCapture, type CaptureSubmit } from '../../traceability/epcis-capture.js';
import { validateEpcisDocument } from '../../traceability/epcis-document.js';
import { epcisQueryDocument, exportedEvent } from '../../traceability/epcis-export.js';
import type { RecordedEpcisEvent } from '../../traceability/epcis-ledger-index.js';
import { documentEventHashes } from '../../traceability/event-hash.js';

interface EventsPage {
  items: RecordedEpcisEvent[];
  bookmark?: string;
  nextPageToken?: string;
}

const ERROR_DECLARATION_EXAMPLE = 'Example_9.6.1-ObjectEvent-with-error-declaration.jsonld';

/** What a rejected promise's SilkError says. */
async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string; path: unknown }> {
  try {
    await promise;
  } catch (e) {
    if (isSilkError(e)) return { code: e.code, message: e.message, path: e.details.path };
    throw e;
  }
  assert.fail('expected a refusal');
}

describe('epcis contract and capture service', () => {
  let net: EmbeddedNetwork & { cleanupDir(): void };
  let alice: Signer;
  let submit: CaptureSubmit;
  const height = (): number => net.peers[0]!.height('product');
  const read = (fn: string, args: JsonValue): JsonValue | undefined => net.gateway('Org1').evaluate({ chain: 'product', contract: 'epcis', fn, args }, alice);
  const page = (fn: string, args: JsonValue): EventsPage => read(fn, args) as unknown as EventsPage;
  /** Every event hash of `eventsByEpc`'s result, all pages (limit 1 to walk bookmarks). */
  const byEpc = (epc: string): string[] => {
    const hashes: string[] = [];
    let bookmark: string | undefined;
    for (;;) {
      const p = page('eventsByEpc', { epc, limit: 1, ...(bookmark === undefined ? {} : { bookmark }) });
      hashes.push(...p.items.map((e) => e.hash));
      if (p.bookmark === undefined) return hashes;
      bookmark = p.bookmark;
    }
  };
  /** Every event hash of `events` for a query in the REST binding's names, all pages of `perPage` (walking nextPageToken). */
  const allHashes = (args: Record<string, JsonValue>, perPage = 1): string[] => {
    const hashes: string[] = [];
    let token: string | undefined;
    for (;;) {
      const p = page('events', { ...args, perPage, ...(token === undefined ? {} : { nextPageToken: token }) });
      hashes.push(...p.items.map((e) => e.hash));
      if (p.nextPageToken === undefined) return hashes;
      token = p.nextPageToken;
    }
  };
  const captured = new Map<string, { readonly original: Readonly<Record<string, unknown>>; readonly eventID: string | undefined }>();

  before(async () => {
    net = await openEpcisTestNetwork();
    alice = net.identity('Org1', 'alice');
    submit = (p) => net.gateway('Org1').submit(p, alice);
  });
  after(async () => {
    await net.close();
    net.cleanupDir();
  });

  it('captures every conforming GS1 example in one transaction each; an event already recorded is refused, nothing recorded', async () => {
    for (const { name, text } of conformingEpcisExamples()) {
      if (name === ERROR_DECLARATION_EXAMPLE) continue; // its declaration is tested below
      const doc = JSON.parse(text) as unknown;
      const prepared = prepareCapture(doc);
      const duplicate = prepared.hashes.some((h) => captured.has(h));
      const before = height();
      if (duplicate) {
        const r = await refusal(captureDocument(doc, submit, { chain: 'product' }));
        assert.equal(r.code, 'CONTRACT_ERROR', name);
        assert.match(r.message, /is already recorded/, name);
        assert.equal(height(), before, `${name}: nothing recorded`);
        continue;
      }
      const result = await captureDocument(doc, submit, { chain: 'product' });
      assert.equal(result.transactions.length, 1, name);
      assert.deepEqual(result.hashes, documentEventHashes(doc).map((h) => h.hashId), name);
      prepared.validated.events.forEach((e, i) => {
        const hash = prepared.hashes[i]!;
        captured.set(hash, { original: e.original, eventID: e.eventID });
        const stored = read('event', { hash }) as unknown as RecordedEpcisEvent;
        assert.equal(stored.recordedBy, 'Org1');
        assert.equal(stored.index, i, `${name}: the event's position in its capture call`);
        assert.equal(stored.txId, result.transactions[0]!.txId);
        assert.equal(stored.eventID, e.eventID ?? hash, `${name}: a supplied eventID is kept, a missing one is the hash`);
        assert.equal(stored.event['eventTime'], e.eventTime);
      });
    }
    assert.ok(captured.size >= 12, `captured ${captured.size}`);
  });

  it('finds events by EPC in URN and Digital Link form, including children, parents, inputs, outputs and classes', () => {
    for (const [hash, { original }] of captured) {
      const epcs = ['epcList', 'childEPCs', 'inputEPCList', 'outputEPCList'].flatMap((f) => (original[f] as string[] | undefined) ?? []);
      if (typeof original['parentID'] === 'string') epcs.push(original['parentID']);
      for (const q of ['quantityList', 'childQuantityList', 'inputQuantityList', 'outputQuantityList']) {
        for (const entry of (original[q] as { epcClass: string }[] | undefined) ?? []) epcs.push(entry.epcClass);
      }
      for (const epc of epcs.filter((e) => e.startsWith('urn:epc:') || e.startsWith('https://'))) {
        const forms = epc.startsWith('urn:epc:') ? [epc, toDigitalLink(epc)] : [epc, toDigitalLink(epc)];
        for (const form of forms) assert.ok(byEpc(form).includes(hash), `${form} finds ${hash}`);
      }
    }
    // One SGTIN in both forms: same answer.
    const urn = 'urn:epc:id:sgtin:0614141.107346.2017';
    assert.ok(byEpc(urn).length > 0);
    assert.deepEqual(byEpc(urn), byEpc(toDigitalLink(urn)));
    assert.deepEqual(allHashes({ MATCH_anyEPC: urn }), byEpc(urn), 'events with MATCH_anyEPC is eventsByEpc');
  });

  it('filters by business step, disposition, locations and an eventTime window, in any CBV form', () => {
    const all = allHashes({}, 3);
    assert.equal(new Set(all).size, captured.size);
    const shipping = allHashes({ EQ_bizStep: 'shipping' });
    assert.ok(shipping.length > 0);
    assert.deepEqual(allHashes({ EQ_bizStep: 'urn:epcglobal:cbv:bizstep:shipping' }), shipping);
    assert.deepEqual(allHashes({ EQ_bizStep: ['https://ref.gs1.org/cbv/BizStep-shipping'] }), shipping);
    for (const h of shipping) {
      const bizStep = String(captured.get(h)?.original['bizStep']);
      assert.match(bizStep, /shipping/i);
    }
    const inTransit = allHashes({ EQ_bizStep: 'shipping', EQ_disposition: 'in_transit' });
    assert.ok(inTransit.every((h) => shipping.includes(h)));
    // Time window [from, to): the records come back in eventTime order.
    const records = page('events', { perPage: 500 }).items;
    const first = records[0]!;
    const last = records[records.length - 1]!;
    const window = allHashes({ GE_eventTime: first.event['eventTime'] as string, LT_eventTime: last.event['eventTime'] as string });
    assert.ok(window.includes(first.hash));
    assert.ok(!window.includes(last.hash));
    const rp = records.find((r) => typeof (r.event['readPoint'] as { id?: string } | undefined)?.id === 'string')!;
    const rpId = (rp.event['readPoint'] as { id: string }).id;
    assert.ok(allHashes({ EQ_readPoint: rpId }).includes(rp.hash));
    assert.throws(() => read('events', { EQ_bizStep: 'no_such_step' }), /EQ_bizStep/);
    assert.throws(() => read('events', { bizStep: 'shipping' }), /bizStep/, 'the old name is refused');
  });

  it('value lists mean OR: a merge of sorted index ranges, in eventTime order, paged with nextPageToken', () => {
    const shipping = allHashes({ EQ_bizStep: 'shipping' }, 50);
    const receiving = allHashes({ EQ_bizStep: 'receiving' }, 50);
    assert.ok(shipping.length > 0 && receiving.length > 0);
    const all = page('events', { perPage: 500 }).items.map((r) => r.hash);
    const expected = all.filter((h) => shipping.includes(h) || receiving.includes(h));
    assert.deepEqual(allHashes({ EQ_bizStep: 'shipping,receiving' }, 50), expected, 'the union, in the eventTime order of the whole ledger');
    assert.deepEqual(allHashes({ EQ_bizStep: ['receiving', 'urn:epcglobal:cbv:bizstep:shipping'] }, 1), expected, 'page by page, either form');
    // One event under two values of the list comes back once.
    const twoEpcs = captured.size > 0 ? [...captured.values()].map((c) => c.original['epcList'] as string[] | undefined).find((l) => l !== undefined && l.length >= 2)! : [];
    const both = allHashes({ MATCH_epc: twoEpcs.join(',') }, 1);
    assert.equal(new Set(both).size, both.length);
    assert.ok(both.length >= 1);
    assert.throws(() => read('events', { EQ_bizStep: 'shipping', nextPageToken: 'bm90LWEtdG9rZW4' }), /nextPageToken/);
  });

  it('MATCH_ fields look only where the binding says; eventType, EQ_action, EQ_eventID and record time filter', () => {
    const records = page('events', { perPage: 500 }).items;
    const aggregation = records.find((r) => r.event['type'] === 'AggregationEvent' && typeof r.event['parentID'] === 'string')!;
    const parent = aggregation.event['parentID'] as string;
    assert.ok(allHashes({ MATCH_parentID: parent }).includes(aggregation.hash));
    assert.ok(allHashes({ MATCH_anyEPC: parent }).includes(aggregation.hash));
    assert.ok(!allHashes({ MATCH_epc: parent }).includes(aggregation.hash), 'a parent is not in epcList/childEPCs');
    const child = (aggregation.event['childEPCs'] as string[])[0]!;
    assert.ok(allHashes({ MATCH_epc: child }).includes(aggregation.hash));
    const transformation = records.find((r) => r.event['type'] === 'TransformationEvent')!;
    const input = ((transformation.event['inputEPCList'] as string[] | undefined) ?? [])[0];
    if (input !== undefined) {
      assert.ok(allHashes({ MATCH_inputEPC: input }).includes(transformation.hash));
      assert.ok(!allHashes({ MATCH_outputEPC: input }).includes(transformation.hash));
    }
    const inputClass = ((transformation.event['inputQuantityList'] as { epcClass: string }[] | undefined) ?? [])[0]?.epcClass;
    if (inputClass !== undefined) {
      assert.ok(allHashes({ MATCH_anyEPCClass: inputClass }).includes(transformation.hash));
      assert.ok(!allHashes({ MATCH_epcClass: inputClass }).includes(transformation.hash), 'MATCH_epcClass is quantityList/childQuantityList only');
    }
    const aggregations = allHashes({ eventType: 'AggregationEvent' }, 50);
    assert.deepEqual(aggregations, records.filter((r) => r.event['type'] === 'AggregationEvent').map((r) => r.hash));
    assert.deepEqual(allHashes({ EQ_action: 'ADD,DELETE' }, 50), records.filter((r) => r.event['action'] === 'ADD' || r.event['action'] === 'DELETE').map((r) => r.hash));
    assert.throws(() => read('events', { EQ_action: 'ERASE' }), /EQ_action/);
    const withId = records.find((r) => r.eventID !== r.hash)!;
    assert.deepEqual(allHashes({ EQ_eventID: [withId.eventID, 'urn:uuid:00000000-0000-0000-0000-000000000000'] }), [withId.hash]);
    assert.deepEqual(allHashes({ EQ_eventID: records[0]!.eventID }), [records[0]!.hash]);
    // Record time: the capturing transaction's time.
    const recordTimes = records.map((r) => r.recordedAt).sort((a, b) => a - b);
    const cut = recordTimes[Math.floor(recordTimes.length / 2)]!;
    const after = allHashes({ GE_recordTime: new Date(cut).toISOString() }, 50);
    assert.deepEqual(after, records.filter((r) => r.recordedAt >= cut).map((r) => r.hash));
    assert.deepEqual(allHashes({ LT_recordTime: new Date(cut).toISOString() }, 50), records.filter((r) => r.recordedAt < cut).map((r) => r.hash));
  });

  it('exports an EPCISQueryDocument that validates and gives back the same hashes, eventIDs and eventTime strings', () => {
    const records = page('events', { perPage: 500 }).items;
    const doc = epcisQueryDocument(records, { creationDate: '2024-01-01T00:00:00Z' });
    const validated = validateEpcisDocument(doc);
    assert.equal(validated.events.length, captured.size);
    const hashes = documentEventHashes(doc).map((h) => h.hashId);
    assert.deepEqual(hashes, records.map((r) => r.hash));
    validated.events.forEach((e, i) => {
      const original = captured.get(hashes[i]!)!;
      assert.equal(e.eventID, original.eventID ?? hashes[i]);
      assert.equal(e.eventTime, original.original['eventTime']);
    });
  });

  it('refuses an invalid document with its path and records nothing', async () => {
    const before = height();
    const doc = JSON.parse(readFileSync(new URL(NONCONFORMING_EXAMPLE, EPCIS_EXAMPLES_DIR), 'utf8')) as unknown;
    const r = await refusal(captureDocument(doc, submit, { chain: 'product' }));
    assert.equal(r.code, 'INVALID_ARGUMENT');
    assert.equal(r.path, 'epcisBody.eventList[1].sourceList');
    assert.equal(height(), before);
  });

  it('is all or nothing: a document over the transaction limit is refused before anything is submitted; proceed captures atomic parts', async () => {
    const doc = JSON.parse(conformingEpcisExamples().find((e) => e.name === 'Example-TransactionEvents-2020_07_03y-corrected.jsonld')!.text) as { epcisBody: { eventList: Record<string, unknown>[] } };
    // Fresh events: shift the times so their hashes are new.
    for (const e of doc.epcisBody.eventList) {
      e['eventTime'] = String(e['eventTime']).replace(/^\d{4}/, '2031');
      delete e['eventID'];
    }
    const before = height();
    const r = await refusal(captureDocument(doc, submit, { chain: 'product', maxEventsPerTransaction: 1 }));
    assert.equal(r.code, 'PAYLOAD_TOO_LARGE');
    assert.equal(height(), before);
    const progress: number[] = [];
    const result = await captureDocument(doc, submit, { chain: 'product', maxEventsPerTransaction: 1, behaviour: 'proceed', onProgress: (n) => progress.push(n) });
    assert.equal(result.transactions.length, 2);
    assert.deepEqual(progress, [1, 2]);
    assert.deepEqual(result.eventIDs, result.hashes, 'missing eventIDs are set to the hash');
  });

  it('recomputes hashes: a wrong hash, a duplicate inside one call and a malformed event are refused', async () => {
    const doc = JSON.parse(conformingEpcisExamples().find((e) => e.name === 'Example_9.6.2-ObjectEvent.jsonld')!.text) as { epcisBody: { eventList: Record<string, JsonValue>[] } };
    const event = { ...doc.epcisBody.eventList[0]!, eventTime: '2032-01-01T00:00:00.123456+02:00' };
    const call = (args: JsonValue): Promise<unknown> => net.gateway('Org1').submit({ chain: 'product', contract: 'epcis', fn: 'captureEvents', args }, alice);
    const before = height();
    const wrong = await refusal(call({ events: [event], hashes: [`ni:///sha-256;${'0'.repeat(64)}?ver=CBV2.0`] }));
    assert.match(wrong.message, /its hash is/);
    const twice = await refusal(call({ events: [event, event] }));
    assert.match(twice.message, /events\[1\]: .* already recorded/);
    const malformed = await refusal(call({ events: [{ ...event, epcList: 'not-a-list' }] }));
    assert.match(malformed.message, /epcList must be a list/);
    assert.equal(height(), before);
    const ok = await call({ events: [event] }) as { response: { hashes: string[] } };
    const stored = read('event', { hash: ok.response.hashes[0]! }) as unknown as RecordedEpcisEvent;
    assert.equal(stored.event['eventTime'], '2032-01-01T00:00:00.123456+02:00', 'microseconds and offset kept');
  });

  it('error declarations: recorded against the original by its own org, once; exports and EXISTS_errorDeclaration show it', async () => {
    const declarationDoc = JSON.parse(readFileSync(new URL(ERROR_DECLARATION_EXAMPLE, EPCIS_EXAMPLES_DIR), 'utf8')) as { epcisBody: { eventList: Record<string, JsonValue>[] } };
    const declaring = declarationDoc.epcisBody.eventList[0]!;
    const declarationOnly = epcisDocument([declaring], { example: 'http://ns.example.com/epcis/' });
    const hash = prepareCapture(declarationOnly).hashes[0]!;
    const original = read('event', { hash }) as unknown as RecordedEpcisEvent;
    assert.equal(original.recordedBy, 'Org1', 'the original (Example_9.6.1) was captured by Org1 above');
    assert.equal(original.errorDeclaration, undefined);
    const before = height();

    const bob = net.identity('Org2', 'bob');
    const byOther = await refusal(captureDocument(declarationOnly, (p) => net.gateway('Org2').submit(p, bob), { chain: 'product' }));
    assert.match(byOther.message, /events\[0\]\.errorDeclaration: .*recorded by Org1; only Org1 may declare it/);
    const fresh = { ...declaring, eventTime: '2033-01-01T00:00:00Z', eventTimeZoneOffset: '+00:00' };
    const unrecorded = await refusal(captureDocument(epcisDocument([fresh], { example: 'http://ns.example.com/epcis/' }), submit, { chain: 'product' }));
    assert.match(unrecorded.message, /events\[0\]\.errorDeclaration: declares event .* but it is not recorded/);
    assert.equal(height(), before, 'nothing recorded');

    const result = await captureDocument(declarationOnly, submit, { chain: 'product' });
    assert.deepEqual(result.hashes, [hash]);
    const declared = read('event', { hash }) as unknown as RecordedEpcisEvent;
    assert.deepEqual(declared.event, original.event, 'the event as captured is unchanged');
    assert.equal(declared.txId, original.txId, 'txId and index still give the original capture');
    assert.deepEqual(declared.errorDeclaration, {
      declarationTime: '2021-02-01T22:46:31.117000+00:00',
      reason: 'incorrect_data',
      correctiveEventIDs: ['ni:///sha-256;c6407ffcac52ec159528f2b556ba4ac3844c5aa48485c1fd61643e94f0a2d678?ver=CBV2.0', 'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6'],
      declaredBy: 'Org1',
      txId: result.transactions[0]!.txId,
    });
    const exported = exportedEvent(declared);
    assert.deepEqual(exported['errorDeclaration'], declaring['errorDeclaration'], 'exports carry the declaration as captured, without ledger fields');
    assert.equal(documentEventHashes(epcisQueryDocument([declared], { creationDate: '2024-01-01T00:00:00Z' }))[0]?.hashId, hash, 'and hash the same');
    assert.deepEqual(allHashes({ EXISTS_errorDeclaration: true }), [hash]);
    assert.ok(!allHashes({ EXISTS_errorDeclaration: false }, 50).includes(hash));
    assert.deepEqual(allHashes({ EXISTS_errorDeclaration: '', EQ_bizStep: 'shipping' }), [hash]);

    const second = await refusal(captureDocument(declarationOnly, submit, { chain: 'product' }));
    assert.match(second.message, /events\[0\]\.errorDeclaration: .*already declared erroneous/);
  });

  it('a declaration in the same call as its original: accepted after it, refused before it', async () => {
    const event = { ...sensorEvent(1), sensorElementList: undefined, eventTime: '2034-02-02T00:00:00Z' } as Record<string, unknown>;
    delete event['sensorElementList'];
    const declaration = { ...event, errorDeclaration: { declarationTime: '2034-02-03T00:00:00Z', reason: 'did_not_occur' } };
    const before = height();
    const wrongOrder = await refusal(captureDocument(epcisDocument([declaration, event]), submit, { chain: 'product' }));
    assert.match(wrongOrder.message, /events\[0\]\.errorDeclaration: .*not recorded/);
    assert.equal(height(), before);
    const r = await captureDocument(epcisDocument([event, declaration]), submit, { chain: 'product' });
    const stored = read('event', { hash: r.hashes[0]! }) as unknown as RecordedEpcisEvent;
    assert.equal(stored.index, 0);
    const recorded = stored.errorDeclaration;
    assert.ok(recorded !== undefined);
    assert.equal(recorded['reason'], 'did_not_occur');
    assert.equal(recorded.txId, stored.txId, 'declared in the same transaction');
  });

  it('lots: the lot index lists the commissioning of its items (ILMD lotNumber) and events naming the lot class, in every lot form', async () => {
    await captureDocument(epcisDocument(lotEvents('L7', 2035)), submit, { chain: 'product' });
    // The lot number under a prefix the document declares for the CBV master data namespace.
    const other = await captureDocument(epcisDocument(lotEvents('L8', 2035, 'mda:lotNumber').slice(0, 1), { mda: 'urn:epcglobal:cbv:mda:' }), submit, { chain: 'product' });
    const l7 = allHashes({ lot: 'urn:epc:class:lgtin:4012345.012345.L7' });
    assert.equal(l7.length, 2, 'commissioning and shipping');
    const gtin = toDigitalLink('urn:epc:class:lgtin:4012345.012345.L7').split('/')[4]!;
    assert.deepEqual(allHashes({ lot: `https://id.gs1.org/01/${gtin}/10/L7` }), l7);
    assert.deepEqual(allHashes({ lot: `${gtin}/L7` }), l7);
    assert.deepEqual(allHashes({ lot: `${gtin}/L8` }), other.hashes);
    assert.deepEqual(allHashes({ lot: `${gtin}/L7,${gtin}/L8` }, 1).sort(), [...l7, ...other.hashes].sort());
    assert.deepEqual(allHashes({ lot: `${gtin}/L7`, EQ_bizStep: 'commissioning' }).length, 1);
    assert.deepEqual(allHashes({ lot: `${gtin}/L9` }), []);
    assert.throws(() => read('events', { lot: 'not-a-lot' }), /lot/);
  });

  it('sensor data signed at the source: the contract verifies the signature and the device registration, and records the device; forged readings are refused', async () => {
    const device = generateSigner();
    // Not registered yet: refused on any path, here the gateway directly.
    const early = await refusal(captureDocument(signDocumentSensorData(epcisDocument([sensorEvent(1)]), device).document, submit, { chain: 'product' }));
    assert.equal(early.code, 'CONTRACT_ERROR');
    assert.match(early.message, /events\[0\]\.silk:sensorSignature\.device: device key [0-9a-f]{66} is not registered on chain product/);
    await registerOrgKey(net, 'product', 'Org1', device);
    const { document } = signDocumentSensorData(epcisDocument([sensorEvent(2)]), device);
    const r = await captureDocument(document, submit, { chain: 'product' });
    const stored = read('event', { hash: r.hashes[0]! }) as unknown as RecordedEpcisEvent;
    assert.equal(stored.sensorSignedBy, Buffer.from(device.publicKey).toString('hex'));
    assert.deepEqual(stored.namespaces, { silk: SILK_EPCIS_NAMESPACE });

    const unsigned = await captureDocument(epcisDocument([sensorEvent(3)]), submit, { chain: 'product' });
    assert.equal((read('event', { hash: unsigned.hashes[0]! }) as unknown as RecordedEpcisEvent).sensorSignedBy, undefined);

    const forged = signDocumentSensorData(epcisDocument([sensorEvent(4, 4.5)]), device).document as { epcisBody: { eventList: { sensorElementList: { sensorReport: { value: number }[] }[] }[] } };
    forged.epcisBody.eventList[0]!.sensorElementList[0]!.sensorReport[0]!.value = 3.9;
    const before = height();
    const refused = await refusal(captureDocument(forged, submit, { chain: 'product' }));
    assert.equal(refused.code, 'CONTRACT_ERROR');
    assert.match(refused.message, /events\[0\]\.silk:sensorSignature: the signature of device [0-9a-f]{66} does not verify/);
    assert.equal(height(), before);
  });
});
