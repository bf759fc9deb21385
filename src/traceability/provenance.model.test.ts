/**
 * Containment over time, checked against a small independent model: random pack, unpack,
 * move and ship sequences through three levels (items → cases → pallets → containers),
 * captured in a different order than their event times, with equal times broken by capture
 * order. The property runs on an in-memory ledger written with the real index functions, and
 * again, for fewer runs, through a real network with the `epcis` contract.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { JsonValue } from '../ledger/json-value.js';
import type { EmbeddedNetwork } from '../network/embedded-network.js';
import { openEpcisTestNetwork } from '../testing/epcis-fixtures.js';
import { gs1CheckDigit } from './epc-identifiers.js';
import { eventIdIndexValue, eventKey, hashHexOf, indexKeysOf, indexValuesOf } from './epcis-ledger-index.js';
import { eventHashId } from './event-hash.js';
import { itemProvenance, type ProvenanceReader } from './provenance.js';

type Event = Record<string, JsonValue>;

// ---------------------------------------------------------------------------------------------
// Scenario generation

/** Level 0 items, 1 cases, 2 pallets, 3 containers; how many of each. */
const COUNTS = [5, 3, 2, 2] as const;

interface Step {
  readonly kind: 'add' | 'delete' | 'ship';
  /** The parent's level (1–3) for add/delete; the shipped entity's level for ship. */
  readonly level: number;
  readonly parent: number;
  /** Child indexes at level − 1 (empty delete = unpack everything). */
  readonly children: readonly number[];
  readonly minute: number;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom('add', 'add', 'delete', 'ship'),
  level: fc.integer({ min: 1, max: 3 }),
  parent: fc.nat(4),
  children: fc.uniqueArray(fc.nat(4), { maxLength: 3 }),
  minute: fc.integer({ min: 0, max: 6 }),
}).map((s) => {
  const parent = s.parent % (COUNTS[s.level] ?? 1);
  const children = [...new Set(s.children.map((c) => c % (COUNTS[s.level - 1] ?? 1)))];
  if (s.kind === 'add' && children.length === 0) return { ...s, parent, children: [0] };
  return { ...s, parent, children: s.kind === 'ship' ? [] : children };
});

/** A scenario: steps in event order, and the order and transactions they are captured in. */
const scenarioArb = fc.array(stepArb, { minLength: 1, maxLength: 18 }).chain((steps) =>
  fc.record({
    steps: fc.constant(steps),
    captureOrder: fc.shuffledSubarray(steps.map((_, i) => i), { minLength: steps.length, maxLength: steps.length }),
    cuts: fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, steps.length - 1) }), { maxLength: 3 }),
  }));

/** EPCs of one run (fresh per run, so runs on one ledger never share an event). */
function entities(run: number): string[][] {
  const sscc = (level: number, i: number): string => {
    const body = `00614141${String(run * 100 + level * 10 + i).padStart(9, '0')}`;
    return `https://id.gs1.org/00/${body}${gs1CheckDigit(body)}`;
  };
  return COUNTS.map((n, level) => Array.from({ length: n }, (_, i) => (level === 0 ? `https://id.gs1.org/01/10614141073464/21/r${run}i${i}` : sscc(level, i))));
}

const timeOf = (minute: number): string => `2024-03-01T10:${String(minute).padStart(2, '0')}:00Z`;

function toEvent(step: Step, seq: number, ids: string[][]): Event {
  const base = { eventTime: timeOf(step.minute), eventTimeZoneOffset: '+00:00', readPoint: { id: `urn:example:rp:${seq}` } };
  const at = (level: number, i: number): string => ids[level]?.[i] ?? '';
  if (step.kind === 'ship') return { type: 'ObjectEvent', ...base, action: 'OBSERVE', epcList: [at(step.level, step.parent)], bizStep: 'shipping' };
  return {
    type: 'AggregationEvent',
    ...base,
    action: step.kind === 'add' ? 'ADD' : 'DELETE',
    parentID: at(step.level, step.parent),
    childEPCs: step.children.map((c) => at(step.level - 1, c)),
  };
}

// ---------------------------------------------------------------------------------------------
// The model: replay in (time, capture order), one parent per child, read the chains.

interface ModelInterval {
  readonly path: string;
  readonly from: number;
  readonly to: number | null;
}

function model(steps: readonly Step[], captureSeq: readonly number[], ids: string[][]): Map<string, ModelInterval[]> {
  const order = steps.map((_, i) => i).sort((a, b) => (steps[a]?.minute ?? 0) - (steps[b]?.minute ?? 0) || (captureSeq[a] ?? 0) - (captureSeq[b] ?? 0));
  const parentOf = new Map<string, string>();
  const open = new Map<string, Map<string, number>>();
  const out = new Map<string, ModelInterval[]>();
  for (const item of ids[0] ?? []) {
    open.set(item, new Map());
    out.set(item, []);
  }
  for (const i of order) {
    const s = steps[i];
    if (s === undefined || s.kind === 'ship') continue;
    const parent = ids[s.level]?.[s.parent] ?? '';
    const children = s.children.map((c) => ids[s.level - 1]?.[c] ?? '');
    if (s.kind === 'add') for (const c of children) parentOf.set(c, parent);
    else for (const c of children.length > 0 ? children : [...parentOf.keys()]) if (parentOf.get(c) === parent) parentOf.delete(c);
    for (const [item, intervals] of open) {
      const chain: string[] = [];
      for (let p = parentOf.get(item); p !== undefined; p = parentOf.get(p)) chain.push(p);
      const now = new Set(chain.map((_, k) => chain.slice(0, k + 1).join('>')));
      for (const [path, from] of intervals) {
        if (!now.has(path)) {
          out.get(item)?.push({ path, from, to: i });
          intervals.delete(path);
        }
      }
      for (const path of now) if (!intervals.has(path)) intervals.set(path, i);
    }
  }
  for (const [item, intervals] of open) for (const [path, from] of intervals) out.get(item)?.push({ path, from, to: null });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Ledgers

interface Ledger {
  /** Captures transactions in order; @returns each event's hash ID. */
  capture(transactions: readonly (readonly Event[])[]): Promise<string[][]>;
  readonly reader: ProvenanceReader;
}

/** The contract's state layout written with the real index functions; one block per transaction. */
function memoryLedger(): Ledger {
  const state = new Map<string, { value: JsonValue; version: { block: number; tx: number } }>();
  let keys: string[] | undefined;
  let block = 0;
  return {
    capture(transactions) {
      return Promise.resolve(transactions.map((events) => {
        block += 1;
        keys = undefined;
        return events.map((event, index) => {
          const hash = eventHashId(event);
          const hex = hashHexOf(hash) ?? '';
          assert.equal(state.has(eventKey(hex)), false, 'scenario events are distinct');
          const version = { block, tx: 0 };
          const record = { hash, eventID: hash, event: { ...event, eventID: hash }, namespaces: {}, recordedBy: 'Org1', txId: `tx${block}`, index, recordedAt: 0 };
          state.set(eventKey(hex), { value: record, version });
          const values = { ...indexValuesOf(event), eventID: [eventIdIndexValue(hash)] };
          for (const key of indexKeysOf(values, event['eventTime'] as string, hex)) state.set(key, { value: hex, version });
          return hash;
        });
      }));
    },
    reader: {
      entry: (key) => state.get(key),
      range(start, end, page) {
        keys ??= [...state.keys()].sort();
        const from = keys.findIndex((k) => k >= start);
        const items: { key: string; value: JsonValue }[] = [];
        for (let i = from; i >= 0 && i < keys.length && items.length < (page?.limit ?? 100); i += 1) {
          const key = keys[i] ?? '';
          if (key >= end) break;
          items.push({ key, value: state.get(key)?.value ?? null });
        }
        return { items };
      },
    },
  };
}

let runs = 0;

async function checkScenario(ledger: Ledger, scenario: { steps: readonly Step[]; captureOrder: readonly number[]; cuts: readonly number[] }): Promise<void> {
  const ids = entities((runs += 1));
  const { steps, captureOrder } = scenario;
  const cuts = [...scenario.cuts].filter((c) => c < captureOrder.length).sort((a, b) => a - b);
  const transactions = [0, ...cuts].map((from, k) => captureOrder.slice(from, cuts[k] ?? captureOrder.length));
  const hashes = await ledger.capture(transactions.map((tx) => tx.map((i) => toEvent(steps[i] as Step, i, ids))));
  const hashOf = new Map<number, string>();
  transactions.forEach((tx, t) => {
    tx.forEach((i, k) => hashOf.set(i, hashes[t]?.[k] ?? ''));
  });
  const captureSeq: number[] = [];
  captureOrder.forEach((i, seq) => {
    captureSeq[i] = seq;
  });
  const expected = model(steps, captureSeq, ids);
  for (const item of ids[0] ?? []) {
    const p = itemProvenance(ledger.reader, item);
    assert.equal(p.truncated, false);
    const got = p.containment.map((c) => `${c.path.join('>')} ${c.from.hash} ${c.to?.hash ?? 'open'}`).sort();
    const want = (expected.get(item) ?? []).map((m) => `${m.path} ${hashOf.get(m.from) ?? ''} ${m.to === null ? 'open' : (hashOf.get(m.to) ?? '')}`).sort();
    assert.deepEqual(got, want, `containment of ${item}`);
    for (const c of p.containment) assert.equal(c.level, c.path.length);
  }
}

describe('provenance containment against a model', () => {
  it('agrees with the model on an in-memory ledger (real index functions)', async () => {
    await fc.assert(fc.asyncProperty(scenarioArb, (s) => checkScenario(memoryLedger(), s)), { numRuns: 300 });
  });

  describe('through a network with the epcis contract', () => {
    let net: EmbeddedNetwork & { cleanupDir(): void };
    let ledger: Ledger;
    before(async () => {
      net = await openEpcisTestNetwork();
      const alice = net.identity('Org1', 'alice');
      const peer = net.peers[0];
      assert.ok(peer !== undefined);
      ledger = {
        async capture(transactions) {
          const out: string[][] = [];
          for (const events of transactions) {
            const r = await net.gateway('Org1').submit({ chain: 'product', contract: 'epcis', fn: 'captureEvents', args: { events } }, alice);
            out.push((r.response as { hashes: string[] }).hashes);
          }
          return out;
        },
        reader: peer.reader('product', 'epcis'),
      };
    });
    after(async () => {
      await net.close();
      net.cleanupDir();
    });

    it('agrees with the model for events captured through the contract, in shuffled transactions', async () => {
      await fc.assert(fc.asyncProperty(scenarioArb, (s) => checkScenario(ledger, s)), { numRuns: 100 });
    });

    it('an example: a late capture re-opens history, an unpack-all ends every level, ties go by capture order', async () => {
      const ids = entities((runs += 1));
      const [item, item2] = ids[0] ?? [];
      const [box] = ids[1] ?? [];
      const [pallet] = ids[2] ?? [];
      const [container] = ids[3] ?? [];
      const agg = (action: string, minute: number, parent: string | undefined, children: (string | undefined)[], rp: number): Event => ({
        type: 'AggregationEvent', eventTime: timeOf(minute), eventTimeZoneOffset: '+00:00', action, parentID: parent ?? '', childEPCs: children.map((c) => c ?? ''), readPoint: { id: `urn:example:rp:x${rp}` },
      });
      // Captured first: the container is unpacked at minute 5 and the box leaves the pallet at minute 3.
      const [first = []] = await ledger.capture([[agg('DELETE', 5, container, [], 1), agg('DELETE', 3, pallet, [box], 2)]]);
      // Captured later, with earlier times: the packing. Tie at minute 1: item2 then item in the box.
      const [second = []] = await ledger.capture([[agg('ADD', 2, container, [pallet], 3), agg('ADD', 1, box, [item2], 4), agg('ADD', 1, box, [item], 5), agg('ADD', 1, pallet, [box], 6)]]);
      const p = itemProvenance(ledger.reader, item ?? '');
      const by = (path: string): { from: string; to: string | null } | undefined => {
        const c = p.containment.find((x) => x.path.join('>') === path);
        return c === undefined ? undefined : { from: c.from.hash, to: c.to?.hash ?? null };
      };
      assert.deepEqual(by(`${box}`), { from: second[2], to: null });
      // The box went into the pallet after the item went into the box (capture order at the tie).
      assert.deepEqual(by(`${box}>${pallet}`), { from: second[3], to: first[1] });
      assert.deepEqual(by(`${box}>${pallet}>${container}`), { from: second[0], to: first[1] }, 'the box left the pallet (minute 3) before the container was unpacked (minute 5)');
      assert.equal(p.containment.length, 3);
      // The container's unpack (minute 5) is after the box left the pallet: not part of the item's history.
      assert.ok(!p.events.some((e) => e.hash === first[0]));
      assert.ok(p.events.some((e) => e.hash === first[1] && e.role === 'container' && e.container === box), 'the box leaving the pallet is an event of the box');
      assert.ok(p.events.every((e) => e.ledger.block > 0 && e.txId !== ''));
    });
  });
});
