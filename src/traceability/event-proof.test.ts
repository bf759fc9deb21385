import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bytesEqual, sha256 } from '../crypto/hash.js';
import { receiptFromJson, type Receipt } from '../ledger/receipt.js';
import { connect } from '../sdk/index.js';
import { verifyProvenance } from '../sdk/epcis.js';
import type { TestApi } from '../testing/api-fixtures.js';
import { epcisDocument, openEpcisTestApi } from '../testing/epcis-fixtures.js';
import { eventHashId } from './event-hash.js';
import { checkProvenanceEvent, recordedEvents, type TransactionProof } from './event-proof.js';
import type { ProvenanceEvent } from './provenance.js';
import { positioningTransaction, type ProvenanceWithProofs } from './provenance-proofs.js';

const item = 'urn:epc:id:sgtin:4012345.012345.E1';
const SITE = 'urn:epc:id:sgln:4012345.00001.0';
const SHOP = 'urn:epc:id:sgln:4012345.00009.0';
const at = (day: number): string => `2031-03-0${day}T08:00:00.000+01:00`;

async function raw(url: string): Promise<{ status: number; bytes: Uint8Array; type: string | null }> {
  const r = await fetch(url);
  return { status: r.status, bytes: new Uint8Array(await r.arrayBuffer()), type: r.headers.get('content-type') };
}

const reasonOf = (p: { readonly ok: boolean; readonly reason?: string }): string => (p.ok ? 'ok' : (p.reason ?? ''));

/** The event with one member changed, as a node forging the answer would show it. */
function altered(e: ProvenanceEvent, rehash: boolean): ProvenanceEvent {
  const event = { ...e.event, bizLocation: { id: SHOP } };
  return { ...e, event, ...(rehash ? { hash: eventHashId(event, { namespaces: e.namespaces ?? {} }) } : {}) };
}

describe('event proofs: each provenance event checked against the transaction that recorded it', () => {
  let t: TestApi;
  let answer: ProvenanceWithProofs;
  const envelopes = new Map<string, Uint8Array>();
  const receipts = new Map<string, Receipt>();
  const as = { org: 'Org2', name: 'bob' };
  const capture = async (events: Record<string, unknown>[]): Promise<void> => {
    const r = await fetch(`${t.url}/api/demo/epcis/capture?chain=product`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ as, document: epcisDocument(events) }) });
    assert.equal(r.status, 201, await r.text());
  };
  before(async () => {
    t = await openEpcisTestApi({ demoIdentities: [as] });
    await capture([{ type: 'ObjectEvent', action: 'ADD', bizStep: 'commissioning', epcList: [item], eventTime: at(1), eventTimeZoneOffset: '+01:00', bizLocation: { id: SITE } }]);
    await capture([{ type: 'ObjectEvent', action: 'OBSERVE', bizStep: 'shipping', epcList: [item], eventTime: at(2), eventTimeZoneOffset: '+01:00', readPoint: { id: SITE } }]);
    // A third event, then declared erroneous by a later transaction: its record is rewritten there.
    const wrong = { type: 'ObjectEvent', action: 'OBSERVE', bizStep: 'receiving', epcList: [item], eventTime: at(3), eventTimeZoneOffset: '+01:00', readPoint: { id: SHOP } };
    await capture([wrong]);
    await capture([{ ...wrong, errorDeclaration: { declarationTime: '2031-03-04T00:00:00Z', reason: 'incorrect_data' } }]);
    answer = (await (await fetch(`${t.url}/api/epcis/provenance?chain=product&epc=${encodeURIComponent(item)}`)).json()) as ProvenanceWithProofs;
    for (const [txId, json] of Object.entries(answer.proofs)) {
      receipts.set(txId, receiptFromJson(json));
      const r = await raw(`${t.url}/api/chains/product/transactions/${txId}/raw`);
      assert.equal(r.status, 200);
      envelopes.set(txId, r.bytes);
    }
  });
  after(async () => {
    await t.close();
  });

  it("serves a transaction's bytes as ordered: they hash to its receipt's envelope hash; an unknown id is NOT_FOUND", async () => {
    assert.equal(answer.provenance.events.length, 2);
    assert.equal(answer.provenance.declaredErroneous.length, 1);
    assert.equal(envelopes.size, 4, 'three captures and the declaration: four transactions');
    for (const [txId, bytes] of envelopes) assert.ok(bytesEqual(sha256(bytes), (receipts.get(txId) as Receipt).envelopeHash));
    const first = await raw(`${t.url}/api/chains/product/transactions/${[...envelopes.keys()][0] as string}/raw`);
    assert.equal(first.type, 'application/octet-stream');
    const missing = await fetch(`${t.url}/api/chains/product/transactions/${'0'.repeat(64)}/raw`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
    assert.equal((await fetch(`${t.url}/api/chains/product/transactions/xyz/raw`)).status, 400);
  });

  const proofOf = (txId: string): TransactionProof => {
    const receipt = receipts.get(txId) as Receipt;
    return { receipt, recorded: recordedEvents(envelopes.get(txId) as Uint8Array, receipt) };
  };

  it('proves every event of a true answer, a declared-erroneous one at the position its declaration gave it', () => {
    for (const e of [...answer.provenance.events, ...answer.provenance.declaredErroneous]) {
      assert.deepEqual(checkProvenanceEvent(e, proofOf(e.txId), proofOf(positioningTransaction(e))), { ok: true });
    }
    const [declared] = answer.provenance.declaredErroneous;
    assert.ok(declared !== undefined && positioningTransaction(declared) !== declared.txId, 'the declaration is its own transaction');
    assert.match(reasonOf(checkProvenanceEvent(declared, proofOf(declared.txId), proofOf(declared.txId))), /is said to be at block/);
  });

  it('names each forgery: altered content, a re-hashed forgery, another transaction, another block, bytes that are not the receipt\'s', () => {
    const [first, second] = answer.provenance.events as [ProvenanceEvent, ProvenanceEvent];
    const r1 = receipts.get(first.txId) as Receipt;
    const r2 = receipts.get(second.txId) as Receipt;
    const p1 = proofOf(first.txId);
    const p2 = proofOf(second.txId);
    const check = (e: ProvenanceEvent, by: TransactionProof): string => reasonOf(checkProvenanceEvent(e, by, by));
    assert.match(check(altered(first, false), p1), /content does not hash to its ID/);
    assert.match(check(altered(first, true), p1), /its transaction did not record this event/);
    // The second transaction's genuine receipt and bytes attached to the first event.
    assert.match(check({ ...first, txId: second.txId }, p2), /is said to be at block|did not record/);
    assert.match(check(first, { receipt: r2, recorded: p1.recorded }), /receipt is of another transaction/);
    assert.match(check({ ...first, ledger: { ...first.ledger, block: first.ledger.block + 1 } }, p1), /is said to be at block \d+ transaction \d+, its transaction is at block/);
    assert.deepEqual(recordedEvents(envelopes.get(second.txId) as Uint8Array, r1), { ok: false, reason: 'transaction bytes are not the ones its receipt proves' });
    const flipped = (envelopes.get(first.txId) as Uint8Array).slice();
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1;
    assert.equal(reasonOf(recordedEvents(flipped, r1)), 'transaction bytes are not the ones its receipt proves');
  });

  it("the SDK's verifyProvenance accepts the true answer and refuses a forged one with BAD_RESPONSE naming the event", async () => {
    const client = connect({ url: t.url });
    await verifyProvenance(client, answer);
    const [first, ...rest] = answer.provenance.events as [ProvenanceEvent, ...ProvenanceEvent[]];
    const forged: ProvenanceWithProofs = { ...answer, provenance: { ...answer.provenance, events: [altered(first, true), ...rest] } };
    await assert.rejects(verifyProvenance(client, forged), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'BAD_RESPONSE');
      assert.match(e.message, new RegExp(`of transaction ${first.txId}: its transaction did not record this event`));
      return true;
    });
    const swapped: ProvenanceWithProofs = { ...answer, proofs: Object.fromEntries(Object.keys(answer.proofs).map((txId, i, ids) => [txId, answer.proofs[ids[(i + 1) % ids.length] as string]!])) };
    await assert.rejects(verifyProvenance(client, swapped), /of transaction [0-9a-f]{64}: receipt is that of transaction [0-9a-f]{64}/);
  });
});
