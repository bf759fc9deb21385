import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Signer } from '../../crypto/p256.js';
import { isSilkError } from '../../errors.js';
import type { JsonValue } from '../../ledger/json-value.js';
import type { EmbeddedNetwork } from '../../network/embedded-network.js';
import { conformingEpcisExamples, EPCIS_EXAMPLES_DIR, NONCONFORMING_EXAMPLE, openEpcisTestNetwork } from '../../testing/epcis-fixtures.js';
import { toDigitalLink } from '../../traceability/epc-identifiers.js';
import { captureDocument, prepareCapture, type CaptureSubmit } from '../../traceability/epcis-capture.js';
import { validateEpcisDocument } from '../../traceability/epcis-document.js';
import { epcisQueryDocument } from '../../traceability/epcis-export.js';
import type { RecordedEpcisEvent } from '../../traceability/epcis-ledger-index.js';
import { documentEventHashes } from '../../traceability/event-hash.js';

interface EventsPage {
  items: RecordedEpcisEvent[];
  bookmark?: string;
}

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
  /** Every event hash of `fn`'s result, all pages (limit 1 to walk bookmarks). */
  const allHashes = (fn: string, args: Record<string, JsonValue>, limit = 1): string[] => {
    const hashes: string[] = [];
    let bookmark: string | undefined;
    for (;;) {
      const p = page(fn, { ...args, limit, ...(bookmark === undefined ? {} : { bookmark }) });
      hashes.push(...p.items.map((e) => e.hash));
      if (p.bookmark === undefined) return hashes;
      bookmark = p.bookmark;
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
      const doc = JSON.parse(text) as unknown;
      const prepared = prepareCapture(doc);
      const duplicate = prepared.hashes.some((h) => captured.has(h));
      const before = height();
      if (duplicate) {
        // Example_9.6.1-ObjectEvent.jsonld has the events of its error-declaration variant (errorDeclaration is not hashed).
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
        for (const form of forms) assert.ok(allHashes('eventsByEpc', { epc: form }).includes(hash), `${form} finds ${hash}`);
      }
    }
    // One SGTIN in both forms: same answer.
    const urn = 'urn:epc:id:sgtin:0614141.107346.2017';
    assert.ok(allHashes('eventsByEpc', { epc: urn }).length > 0);
    assert.deepEqual(allHashes('eventsByEpc', { epc: urn }), allHashes('eventsByEpc', { epc: toDigitalLink(urn) }));
  });

  it('filters by business step, disposition, locations and an eventTime window, in any CBV form', () => {
    const all = allHashes('events', {}, 3);
    assert.equal(new Set(all).size, captured.size);
    const shipping = allHashes('events', { bizStep: 'shipping' });
    assert.ok(shipping.length > 0);
    assert.deepEqual(allHashes('events', { bizStep: 'urn:epcglobal:cbv:bizstep:shipping' }), shipping);
    assert.deepEqual(allHashes('events', { bizStep: 'https://ref.gs1.org/cbv/BizStep-shipping' }), shipping);
    for (const h of shipping) {
      const bizStep = String(captured.get(h)?.original['bizStep']);
      assert.match(bizStep, /shipping/i);
    }
    const inTransit = allHashes('events', { bizStep: 'shipping', disposition: 'in_transit' });
    assert.ok(inTransit.every((h) => shipping.includes(h)));
    // Time window [from, to): the records come back in eventTime order.
    const records = page('events', { limit: 500 }).items;
    const first = records[0]!;
    const last = records[records.length - 1]!;
    const window = allHashes('events', { from: first.event['eventTime'] as string, to: last.event['eventTime'] as string });
    assert.ok(window.includes(first.hash));
    assert.ok(!window.includes(last.hash));
    const rp = records.find((r) => typeof (r.event['readPoint'] as { id?: string } | undefined)?.id === 'string')!;
    const rpId = (rp.event['readPoint'] as { id: string }).id;
    assert.ok(allHashes('events', { readPoint: rpId }).includes(rp.hash));
    assert.throws(() => read('events', { bizStep: 'no_such_step' }), /CBV|unknown|bizStep/);
  });

  it('exports an EPCISQueryDocument that validates and gives back the same hashes, eventIDs and eventTime strings', () => {
    const records = page('events', { limit: 500 }).items;
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
});
