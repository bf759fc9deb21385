import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EmbeddedNetwork } from '../network/embedded-network.js';
import { epcisDocument, openEpcisTestNetwork } from '../testing/epcis-fixtures.js';
import { captureDocument, MAX_CAPTURE_ENVELOPE_BYTES, prepareCapture } from './epcis-capture.js';

/** `count` aggregations of 30 items each: small JSON, but 31 index entries per event. */
function packingDocument(count: number): Record<string, unknown> {
  const events = Array.from({ length: count }, (_, c) => ({
    type: 'AggregationEvent', action: 'ADD', bizStep: 'packing',
    parentID: `urn:epc:id:sscc:4012345.${String(100000 + c).padStart(10, '0')}`,
    childEPCs: Array.from({ length: 30 }, (_, i) => `urn:epc:id:sgtin:4012345.012345.C${c}I${i}`),
    eventTime: `2033-01-01T00:${String(c % 60).padStart(2, '0')}:00.000+00:00`, eventTimeZoneOffset: '+00:00',
  }));
  return epcisDocument(events);
}

describe('capture parts', () => {
  let net: EmbeddedNetwork & { cleanupDir(): void };
  before(async () => {
    net = await openEpcisTestNetwork();
  });
  after(async () => {
    await net.close();
    net.cleanupDir();
  });

  it('splits a document whose index entries would make a transaction too large, and every part commits', async () => {
    const doc = packingDocument(300);
    const { parts, hashes } = prepareCapture(doc);
    // Far under the 500-event and 512 KiB limits, yet too much for one envelope with its index entries.
    assert.ok(JSON.stringify(doc).length < 512 * 1024);
    assert.ok(parts.length >= 2, `${parts.length} part(s)`);
    assert.equal(parts.reduce((n, p) => n + p.events.length, 0), 300);
    const alice = net.identity('Org1', 'alice');
    const r = await captureDocument(doc, (p) => net.gateway('Org1').submit(p, alice), { chain: 'product', behaviour: 'proceed' });
    assert.equal(r.transactions.length, parts.length);
    assert.deepEqual(r.hashes, hashes);
    // All or nothing cannot be kept in one transaction: refused before anything is sent.
    const height = net.orderer.height('product');
    await assert.rejects(captureDocument(packingDocument(301), (p) => net.gateway('Org1').submit(p, alice), { chain: 'product' }), { code: 'PAYLOAD_TOO_LARGE' });
    assert.equal(net.orderer.height('product'), height);
  });

  it('keeps a small document in one part', () => {
    assert.equal(prepareCapture(packingDocument(20)).parts.length, 1);
    assert.ok(MAX_CAPTURE_ENVELOPE_BYTES < 2 * 1024 * 1024);
  });
});
