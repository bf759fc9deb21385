import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TestApi } from '../../testing/api-fixtures.js';
import { runCli } from '../../testing/cli-run.js';
import { generatePrivateKeyPem, signerFromPem } from '../../crypto/p256.js';
import { EPCIS_EXAMPLES_DIR, epcisDocument, NONCONFORMING_EXAMPLE, openEpcisTestApi, registerOrgKey, sensorEvent } from '../../testing/epcis-fixtures.js';
import { tempDir } from '../../testing/fixtures.js';
import { documentEventHashes } from '../../traceability/event-hash.js';

const examplePath = (name: string): string => fileURLToPath(new URL(name, EPCIS_EXAMPLES_DIR));

describe('silk epcis', () => {
  let t: TestApi;
  let key: string;
  const scratch = tempDir('silk-epcis-cli-');
  const silk = (args: readonly string[]): ReturnType<typeof runCli> => runCli(args, 30_000, { SILK_URL: undefined, SILK_KEY: undefined });
  before(async () => {
    t = await openEpcisTestApi();
    key = join(t.net.keysDir, 'Org1', 'alice.pem');
  });
  after(async () => {
    await t.close();
    scratch.cleanup();
  });

  it('import: validates locally, records the document and prints its event hashes; a second import is refused', async () => {
    const file = examplePath('Example_9.6.3-AggregationEvent.jsonld');
    const r = await silk(['epcis', 'import', file, '--chain', 'product', '--key', key, '--url', t.url]);
    assert.equal(r.code, 0, r.stderr);
    const expected = documentEventHashes(JSON.parse(readFileSync(file, 'utf8'))).map((h) => h.hashId);
    for (const h of expected) assert.match(r.stdout, new RegExp(`^${h.replace(/[?.]/g, '\\$&')}`, 'm'));
    const again = await silk(['epcis', 'import', file, '--chain', 'product', '--key', key, '--url', t.url]);
    assert.equal(again.code, 4);
    assert.match(again.stderr, /CONTRACT_ERROR: .*already recorded/);
  });

  it('import: an invalid document is refused with the path of its first problem, nothing sent', async () => {
    const before = t.net.peers[0]!.height('product');
    const r = await silk(['epcis', 'import', examplePath(NONCONFORMING_EXAMPLE), '--chain', 'product', '--key', key, '--url', t.url]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /epcisBody\.eventList\[1\]\.sourceList/);
    assert.equal(t.net.peers[0]!.height('product'), before);
    const notJson = join(scratch.path, 'bad.jsonld');
    writeFileSync(notJson, '{ nope');
    const bad = await silk(['epcis', 'import', notJson, '--chain', 'product', '--key', key, '--url', t.url]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /is not JSON/);
  });

  it('import --parts records a big document in atomic parts; events lists them by EPC', async () => {
    const r = await silk(['epcis', 'import', examplePath('Example-TransactionEvents-2020_07_03y-corrected.jsonld'), '--chain', 'product', '--key', key, '--url', t.url, '--parts', '--events-per-tx', '1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { hashes: string[]; transactions: unknown[] };
    assert.equal(result.transactions.length, 2);
    const one = await silk(['epcis', 'import', examplePath('Example-TransactionEvents-2020_07_03y-corrected.jsonld'), '--chain', 'product', '--key', key, '--url', t.url, '--events-per-tx', '1']);
    assert.equal(one.code, 4, 'all or nothing: too big for one transaction');
    assert.match(one.stderr, /PAYLOAD_TOO_LARGE/);

    const events = await silk(['epcis', 'events', '--chain', 'product', '--epc', 'urn:epc:id:sscc:0614141.1234567890', '--url', t.url, '--json']);
    assert.equal(events.code, 0, events.stderr);
    const doc = JSON.parse(events.stdout) as { type: string; epcisBody: { queryResults: { resultsBody: { eventList: unknown[] } } } };
    assert.equal(doc.type, 'EPCISQueryDocument');
    assert.equal(doc.epcisBody.queryResults.resultsBody.eventList.length, 1, 'the aggregation event, by its parentID');
    const human = await silk(['epcis', 'events', '--chain', 'product', '--url', t.url]);
    assert.equal(human.code, 0, human.stderr);
    assert.ok(human.stdout.trim().split('\n').length >= 3, human.stdout);
  });

  it('events: REST binding names through shorthands and --where, comma lists, paging with --next-page-token', async () => {
    const url = ['--url', t.url];
    const count = async (steps: string): Promise<number> => {
      const r = await silk(['epcis', 'events', '--chain', 'product', '--biz-step', steps, '--json', ...url]);
      assert.equal(r.code, 0, r.stderr);
      const events = (JSON.parse(r.stdout) as { epcisBody: { queryResults: { resultsBody: { eventList: { bizStep: string }[] } } } }).epcisBody.queryResults.resultsBody.eventList;
      assert.ok(events.every((e) => steps.split(',').some((s) => e.bizStep.includes(s))));
      return events.length;
    };
    const receiving = await count('receiving');
    assert.ok(receiving >= 1);
    assert.equal(await count('shipping,receiving'), (await count('shipping')) + receiving);
    const where = await silk(['epcis', 'events', '--chain', 'product', '--where', 'MATCH_parentID=urn:epc:id:sscc:0614141.1234567890', '--where', 'eventType=AggregationEvent', ...url]);
    assert.equal(where.code, 0, where.stderr);
    assert.equal(where.stdout.trim().split('\n').length, 1, where.stdout);
    const first = await silk(['epcis', 'events', '--chain', 'product', '--per-page', '1', ...url]);
    const token = /^more: --next-page-token (\S+)$/m.exec(first.stdout)?.[1];
    assert.ok(token !== undefined, first.stdout);
    const second = await silk(['epcis', 'events', '--chain', 'product', '--per-page', '1', '--next-page-token', token, ...url]);
    assert.equal(second.code, 0, second.stderr);
    assert.notEqual(second.stdout.split('\n')[0], first.stdout.split('\n')[0]);
    const unknown = await silk(['epcis', 'events', '--chain', 'product', '--where', 'EQ_colour=red', ...url]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /EQ_colour: not a query name/);
  });

  it('sign-sensors signs sensor data with a device key; import records it when the device is registered to the org, and is refused otherwise', async () => {
    const url = ['--url', t.url];
    const pem = generatePrivateKeyPem();
    const device = signerFromPem(pem);
    const devicePem = join(scratch.path, 'device.pem');
    writeFileSync(devicePem, pem);
    const doc = join(scratch.path, 'readings.jsonld');
    writeFileSync(doc, JSON.stringify(epcisDocument([sensorEvent(40)])));
    const signedFile = join(scratch.path, 'readings.signed.jsonld');
    const signed = await silk(['epcis', 'sign-sensors', doc, '--device-key', devicePem, '--out', signedFile]);
    assert.equal(signed.code, 0, signed.stderr);
    assert.match(signed.stdout, /signed the sensor data of 1 event/);
    const refused = await silk(['epcis', 'import', signedFile, '--chain', 'product', '--key', key, ...url]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /silk:sensorSignature\.device: device key [0-9a-f]{66} is not registered/);
    await registerOrgKey(t.net, 'product', 'Org1', device);
    const recorded = await silk(['epcis', 'import', signedFile, '--chain', 'product', '--key', key, ...url]);
    assert.equal(recorded.code, 0, recorded.stderr);
    const noSensors = join(scratch.path, 'plain.jsonld');
    writeFileSync(noSensors, readFileSync(examplePath('Example_9.6.2-ObjectEvent.jsonld')));
    const nothing = await silk(['epcis', 'sign-sensors', noSensors, '--device-key', devicePem]);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /no event has a sensorElementList/);
  });

  it('trace: prints an item\'s history through its case with every proof checked; recall lists the lot\'s items', async () => {
    const item = (n: number): string => `urn:epc:id:sgtin:4012345.012345.T${n}`;
    const CASE = 'urn:epc:id:sscc:4012345.0000000077';
    const doc = epcisDocument([
      { type: 'ObjectEvent', action: 'ADD', bizStep: 'commissioning', epcList: [item(1), item(2)], eventTime: '2032-01-01T08:00:00.000+01:00', eventTimeZoneOffset: '+01:00', ilmd: { 'cbvmda:lotNumber': 'T1' } },
      { type: 'AggregationEvent', action: 'ADD', bizStep: 'packing', parentID: CASE, childEPCs: [item(1), item(2)], eventTime: '2032-01-01T09:00:00.000+01:00', eventTimeZoneOffset: '+01:00' },
      { type: 'ObjectEvent', action: 'OBSERVE', bizStep: 'shipping', epcList: [CASE], eventTime: '2032-01-02T09:00:00.000+01:00', eventTimeZoneOffset: '+01:00', sensorElementList: [{ sensorMetadata: { time: '2032-01-02T10:00:00.000+01:00' }, sensorReport: [{ type: 'Temperature', value: 12, uom: 'CEL' }] }] },
    ]);
    const file = join(scratch.path, 'trace.jsonld');
    writeFileSync(file, JSON.stringify(doc));
    assert.equal((await silk(['epcis', 'import', file, '--chain', 'product', '--key', key, '--url', t.url])).code, 0);
    const human = await silk(['epcis', 'trace', item(1), '--chain', 'product', '--threshold', 'Temperature:CEL:2:8', '--url', t.url]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /every receipt, event hash and recording transaction checked here/);
    assert.match(human.stdout, /shipping .* by Org1 .*\(via https:\/\/id\.gs1\.org\/00\/040123450000000771\)/);
    assert.match(human.stdout, /Temperature CEL: 1 reading\(s\), min 12, max 12, mean 12, 1 EXCURSION/);
    const json = await silk(['epcis', 'trace', item(1), '--chain', 'product', '--json', '--url', t.url]);
    const answer = JSON.parse(json.stdout) as { provenance: { events: unknown[]; lot: { lotNumber: string } }; proofs: Record<string, unknown> };
    assert.equal(answer.provenance.events.length, 3);
    assert.equal(answer.provenance.lot.lotNumber, 'T1');
    assert.equal(Object.keys(answer.proofs).length, 1);
    const bad = await silk(['epcis', 'trace', item(1), '--chain', 'product', '--threshold', 'Temperature:CEL', '--url', t.url]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--threshold Temperature:CEL: give TYPE:UOM:MIN:MAX/);
    const recall = await silk(['epcis', 'recall', 'urn:epc:class:lgtin:4012345.012345.T1', '--chain', 'product', '--url', t.url]);
    assert.equal(recall.code, 0, recall.stderr);
    assert.match(recall.stdout, /: 2 item\(s\)/);
    assert.match(recall.stdout, /\/21\/T1 .*held by Org1 .*in https:\/\/id\.gs1\.org\/00\/040123450000000771/);
    // Recording the recall: one event naming the lot and both items, part of each item's history.
    const record = await silk(['epcis', 'recall', '04012345123456/T1', '--chain', 'product', '--record', '--key', key, '--json', '--url', t.url]);
    assert.equal(record.code, 0, record.stderr);
    const recorded = (JSON.parse(record.stdout) as { recallEvent: { hash: string } }).recallEvent;
    const after = JSON.parse((await silk(['epcis', 'trace', item(2), '--chain', 'product', '--json', '--url', t.url])).stdout) as { provenance: { events: { hash: string; event: { disposition?: string } }[] } };
    assert.equal(after.provenance.events.find((e) => e.hash === recorded.hash)?.event.disposition, 'recalled');
  });
});
