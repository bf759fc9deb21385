import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isSilkError } from '../errors.js';
import type { JsonValue } from '../ledger/json-value.js';
import { tempDir } from '../testing/fixtures.js';
import { measureMachineLimit } from './machine-limit.js';
import { runTraceCapture } from './trace-capture.js';
import { planSupplyChain, supplyChainEvents } from './trace-events.js';
import { openTraceFixture, verifyTraceFixture, type TraceFixtureManifest } from './trace-fixture.js';
import { SUPPLY_CHAIN } from './trace-network.js';
import { provenanceWithProofs, runProvenance } from './trace-provenance.js';

interface StoredEvent {
  readonly recordedBy: string;
  readonly event: { readonly eventTime: string; readonly bizStep?: string; readonly epcList?: readonly string[] };
}

const EVENTS = 2000;
const SEED = 7;

describe('traceability benchmarks', () => {
  const cache = tempDir('silk-trace-cache-');
  after(() => { cache.cleanup(); });

  it('plans and generates exactly the requested number of events, the same for the same seed', () => {
    const all = [...supplyChainEvents({ seed: SEED, events: EVENTS })];
    assert.equal(all.length, EVENTS);
    assert.equal(planSupplyChain(EVENTS).events, EVENTS);
    const again = [...supplyChainEvents({ seed: SEED, events: EVENTS })];
    assert.deepEqual(again, all);
    const other = [...supplyChainEvents({ seed: SEED + 1, events: EVENTS })];
    assert.notDeepEqual(other[0], all[0]);
    assert.throws(() => planSupplyChain(10), RangeError);
  });

  describe('the fixture', () => {
    let manifest: TraceFixtureManifest;
    let dir: string;

    before(async () => {
      const f = await openTraceFixture({ events: EVENTS, seed: SEED, cacheRoot: cache.path, progressBar: false });
      try {
        assert.equal(f.reused, false);
        manifest = f.manifest;
        dir = f.dir;
        for (const p of f.net.peers) assert.equal(p.height(SUPPLY_CHAIN), manifest.chainHeight);
        // Every event is on the ledger, recorded by the org that is responsible for it.
        const records = allEvents(f.net.peers[0]!.reader(SUPPLY_CHAIN, 'epcis'));
        assert.equal(records.length, EVENTS);
        const item = f.itemEpc(0);
        const steps = records
          .filter((r) => r.event.epcList?.includes(item) === true)
          .sort((a, b) => Date.parse(a.event.eventTime) - Date.parse(b.event.eventTime))
          .map((r) => `${r.recordedBy}:${r.event.bizStep ?? ''}`);
        assert.deepEqual(steps, [
          'Brand:commissioning', 'Brand:inspecting', 'Brand:storing', 'Brand:shipping',
          'Packer:receiving', 'Packer:inspecting', 'Packer:picking',
          'Retailer:stocking', 'Retailer:retail_selling',
        ]);
      } finally {
        await f.close();
      }
    });

    it('writes a manifest with the parameters, counts, build time, height and seed', () => {
      const onDisk = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as TraceFixtureManifest;
      assert.deepEqual(onDisk, manifest);
      assert.equal(dir, join(cache.path, 'trace-2000-v1'));
      assert.equal(manifest.events, EVENTS);
      assert.equal(manifest.seed, SEED);
      assert.equal(manifest.parameters.events, EVENTS);
      assert.deepEqual(manifest.parameters.orgs, ['Brand', 'Packer', 'Carrier', 'Retailer']);
      assert.ok(manifest.items > 100 && manifest.items < EVENTS / 9);
      assert.ok(manifest.transactions >= EVENTS / 500 && manifest.transactions <= EVENTS / 100 + 4);
      assert.ok(manifest.chainHeight >= 2);
      assert.ok(manifest.build_s > 0 && manifest.events_per_s > 0);
    });

    it('is reused on a second open after its heights are checked', async () => {
      const f = await openTraceFixture({ events: EVENTS, seed: SEED, cacheRoot: cache.path, progressBar: false });
      try {
        assert.equal(f.reused, true);
        assert.deepEqual(f.manifest, manifest);
        // An item's answer carries one receipt per transaction its events came from.
        const answer = provenanceWithProofs(f.net.peers[0]!, f.itemEpc(0));
        assert.ok(answer.provenance.events.length >= 9);
        assert.deepEqual(answer.missingProofs, []);
        for (const e of answer.provenance.events) assert.equal(answer.proofs[e.txId]?.blockNumber, e.ledger.block);
      } finally {
        await f.close();
      }
    });

    it('verifies as silk verify does', async () => {
      const v = await verifyTraceFixture(dir);
      assert.equal(v.ok, true, v.problems.join('; '));
      assert.equal(v.ledgers, 4);
      assert.equal(v.blocks, 4 * manifest.chainHeight);
    });

    it('runs the provenance workload on it: answers with proofs, and the verification', async () => {
      const { report, failure } = await runProvenance({ mode: 'embedded', seed: SEED, events: EVENTS, queries: 20, cacheRoot: cache.path, progressBar: false, log: () => undefined });
      assert.equal(failure, undefined);
      assert.equal(report['workload'], 'provenance');
      assert.equal(report['fixture_reused'], true);
      assert.equal(report['queries'], 20);
      assert.equal(report['missing_receipts'], 0);
      assert.equal(report['verify_ok'], true);
      const p50 = report['p50_ms'] as number;
      const p99 = report['p99_ms'] as number;
      assert.ok(p50 > 0 && p50 <= p99);
      // The round right after opening is reported too, and the world state read between the rounds.
      const openedP50 = report['opened_p50_ms'] as number;
      assert.ok(openedP50 > 0 && openedP50 <= (report['opened_p99_ms'] as number));
      assert.ok((report['state_keys'] as number) > EVENTS, 'every event has its record and index keys');
      assert.ok((report['events_per_answer_avg'] as number) >= 9);
      assert.ok((report['receipts_per_answer_avg'] as number) >= 1);
      assert.ok((report['response_bytes_avg'] as number) > 1000);
      // Over HTTP the same answers: every one 200, about the bytes the in-process answer serialises to.
      assert.deepEqual(report['http_errors'], {});
      const httpP50 = report['http_p50_ms'] as number;
      assert.ok(httpP50 > 0 && httpP50 <= (report['http_p99_ms'] as number));
      assert.ok((report['http_response_bytes_avg'] as number) > 1000);
      // The label checks: every answer proven as a verifying client proves it, two signatures a receipt.
      assert.equal(report['check_failures'], 0);
      assert.ok((report['check_verifies_avg'] as number) >= 2);
      assert.ok((report['check_events_avg'] as number) >= 9);
      const checkP50 = report['check_p50_ms'] as number;
      assert.ok(checkP50 > 0 && checkP50 <= (report['check_p99_ms'] as number));
      const ratio = report['check_ratio'] as number;
      assert.ok(ratio > 0 && ratio < 1.1, `a check cannot beat its own signatures: ${ratio}`);
    });

    it('refuses a cache whose height differs from its manifest, and one built with another seed', async () => {
      const file = join(dir, 'manifest.json');
      const text = readFileSync(file, 'utf8');
      try {
        writeFileSync(file, JSON.stringify({ ...manifest, chainHeight: manifest.chainHeight + 1 }));
        await assert.rejects(openTraceFixture({ events: EVENTS, seed: SEED, cacheRoot: cache.path, progressBar: false }), (e: unknown) => isSilkError(e) && e.code === 'LEDGER_CORRUPT');
      } finally {
        writeFileSync(file, text);
      }
      await assert.rejects(openTraceFixture({ events: EVENTS, seed: SEED + 1, cacheRoot: cache.path, progressBar: false }), (e: unknown) => isSilkError(e) && e.code === 'INVALID_ARGUMENT');
    });
  });

  it('trace-capture reports events per second with its limit and ratio', async () => {
    const limit = await measureMachineLimit(300);
    const { report, verifyShortfall } = await runTraceCapture({ mode: 'embedded', seed: SEED, warmupS: 0, durationS: 1.5, limitMs: 300, limitBefore: limit, log: () => undefined });
    assert.equal(verifyShortfall, undefined);
    assert.equal(report.workload, 'trace-capture');
    assert.equal(report.failed, 0);
    assert.ok(report.committed > 0);
    const n = (field: string): number => {
      const v = report[field];
      assert.equal(typeof v, 'number', `${field} is a number`);
      assert.ok(Number.isFinite(v), `${field} is finite`);
      return v as number;
    };
    assert.ok(n('committed_events') >= 100 * report.committed && n('committed_events') <= 500 * report.committed);
    assert.ok(n('events_per_tx') >= 100 && n('events_per_tx') <= 500);
    assert.ok(n('events_per_s') > 0 && n('tps') > 0);
    assert.ok(n('p50_ms') > 0 && n('p50_ms') <= n('p99_ms'));
    assert.ok(n('limit_events_per_s') > 0 && n('event_hashes_per_sec') > 0 && n('verifies_per_sec') > 0);
    assert.ok(n('ratio') > 0);
    assert.ok(Math.abs(n('ratio') - n('events_per_s') / n('limit_events_per_s')) < 0.01);
    assert.ok(n('verify_calls_per_tx') >= n('verifies_per_tx') - 1e-9);
    assert.ok(n('block_size_avg') >= 1);
  });
});

/** Every recorded event of the `epcis` contract, all pages. */
function allEvents(reader: { range(start: string, end: string, page?: { limit?: number; bookmark?: string }): { readonly items: readonly { readonly value: JsonValue }[]; readonly bookmark?: string } }): StoredEvent[] {
  const out: StoredEvent[] = [];
  let bookmark: string | undefined;
  do {
    const page = reader.range('event:', 'event;', { limit: 500, ...(bookmark === undefined ? {} : { bookmark }) });
    for (const item of page.items) out.push(item.value as unknown as StoredEvent);
    bookmark = page.bookmark;
  } while (bookmark !== undefined);
  return out;
}
