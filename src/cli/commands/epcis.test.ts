import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TestApi } from '../../testing/api-fixtures.js';
import { runCli } from '../../testing/cli-run.js';
import { EPCIS_EXAMPLES_DIR, NONCONFORMING_EXAMPLE, openEpcisTestApi } from '../../testing/epcis-fixtures.js';
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
});
