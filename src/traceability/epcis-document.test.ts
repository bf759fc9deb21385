import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isSilkError } from '../errors.js';
import { toDigitalLink } from './epc-identifiers.js';
import { validateEpcisDocument } from './epcis-document.js';

const VECTORS = new URL('../../test/vectors/epcis-examples/', import.meta.url);
const NON_CONFORMING = 'Example-TransactionEvents-2020_07_03y.jsonld';
const CORRECTED = 'Example-TransactionEvents-2020_07_03y-corrected.jsonld';

function load(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, VECTORS), 'utf8')) as Record<string, unknown>;
}

/** A deep copy of an example with one change made to its first event. */
function mutated(change: (doc: Record<string, unknown>, event: Record<string, unknown>) => void, name = 'Example_9.6.1-ObjectEvent.jsonld'): Record<string, unknown> {
  const doc = load(name);
  const body = doc['epcisBody'] as { eventList: Record<string, unknown>[] };
  change(doc, body.eventList[0]!);
  return doc;
}

function assertRejected(doc: unknown, path: string, message: RegExp): void {
  assert.throws(() => validateEpcisDocument(doc), (error: unknown) => {
    assert.ok(isSilkError(error, 'INVALID_ARGUMENT'), `expected INVALID_ARGUMENT, got ${String(error)}`);
    assert.equal(error.details.path, path);
    assert.match(error.message, message);
    return true;
  });
}

describe('validateEpcisDocument: the GS1 examples', () => {
  const examples = readdirSync(VECTORS).filter((name) => name.endsWith('.jsonld') && name !== NON_CONFORMING);
  assert.ok(examples.length >= 11);
  for (const name of examples) {
    it(`accepts ${name}`, () => {
      const doc = load(name);
      const result = validateEpcisDocument(doc);
      const events = (doc['epcisBody'] as { eventList: Record<string, unknown>[] }).eventList;
      assert.equal(result.events.length, events.length);
      result.events.forEach((event, i) => {
        assert.equal(event.path, `epcisBody.eventList[${i}]`);
        assert.equal(event.original, events[i]);
        assert.equal(event.eventTime, events[i]!['eventTime']);
        assert.equal(event.type, events[i]!['type']);
      });
    });
  }

  it('rejects the TransactionEvent example, naming its object-valued sourceList', () => {
    assertRejected(load(NON_CONFORMING), 'epcisBody.eventList[1].sourceList', /must be array/);
  });

  it('accepts the corrected copy and its rail: extension prefix', () => {
    const result = validateEpcisDocument(load(CORRECTED));
    assert.deepEqual(result.events[1]?.sources, [{ type: 'location', id: toDigitalLink('urn:epc:id:sgln:952005385.481.0') }]);
    assert.ok(result.context.prefixes.has('rail'));
  });

  it('keeps eventTime exactly (microseconds and offset) and orders by its instant', () => {
    const [first, second] = validateEpcisDocument(load('Example_9.6.1-ObjectEvent-with-error-declaration.jsonld')).events;
    assert.equal(first!.eventTime, '2005-04-03T20:33:31.116000-06:00');
    assert.equal(first!.eventTimeMicros, BigInt(Date.parse('2005-04-03T20:33:31.116-06:00')) * 1000n);
    assert.equal(first?.errorDeclaration?.reason, 'incorrect_data');
    assert.equal(second?.bizTransactions[1]?.type, 'desadv');
  });

  it('accepts the CBV web form, normalised to the bare value', () => {
    const doc = mutated((_doc, event) => {
      event['bizStep'] = 'https://ref.gs1.org/cbv/BizStep-shipping';
      event['disposition'] = 'https://ref.gs1.org/cbv/Disp-in_transit';
    });
    const [event] = validateEpcisDocument(doc).events;
    assert.equal(event!.bizStep, 'shipping');
    assert.equal(event?.disposition, 'in_transit');
  });

  it('accepts an EPCISQueryDocument', () => {
    const source = load('Example_9.6.1-ObjectEvent.jsonld');
    const doc = {
      '@context': source['@context'],
      type: 'EPCISQueryDocument',
      schemaVersion: '2.0',
      creationDate: '2005-07-11T11:30:47.0Z',
      epcisBody: { queryResults: { queryName: 'SimpleEventQuery', resultsBody: source['epcisBody'] } },
    };
    const result = validateEpcisDocument(doc);
    assert.equal(result.events[0]?.path, 'epcisBody.queryResults.resultsBody.eventList[0]');
  });
});

describe('validateEpcisDocument: mutated documents are rejected with their path', () => {
  it('a time without an offset', () => {
    assertRejected(mutated((_d, e) => { e['eventTime'] = '2005-04-03T20:33:31.116'; }), 'epcisBody.eventList[0].eventTime', /date-time|RFC 3339/);
  });

  it('an impossible date', () => {
    assertRejected(mutated((_d, e) => { e['eventTime'] = '2005-02-30T20:33:31Z'; }), 'epcisBody.eventList[0].eventTime', /date-time|not a real date/);
  });

  it('a recordTime with a lower-case separator and an offset past ±14:00', () => {
    assertRejected(mutated((_d, e) => { e['recordTime'] = '2005-04-03T20:33:31+15:00'; }), 'epcisBody.eventList[0].recordTime', /date-time|±14:00/);
  });

  it('an eventTimeZoneOffset past +14:00', () => {
    assertRejected(mutated((_d, e) => { e['eventTimeZoneOffset'] = '+14:30'; }), 'epcisBody.eventList[0].eventTimeZoneOffset', /pattern|±14:00/);
  });

  it('an unknown business step (bare)', () => {
    assertRejected(mutated((_d, e) => { e['bizStep'] = 'teleporting'; }), 'epcisBody.eventList[0].bizStep', /unknown business step "teleporting"/);
  });

  it('an unknown business step (web form)', () => {
    assertRejected(mutated((_d, e) => { e['bizStep'] = 'https://ref.gs1.org/cbv/BizStep-teleporting'; }), 'epcisBody.eventList[0].bizStep', /unknown business step/);
  });

  it('an unknown business step (URN form)', () => {
    assertRejected(mutated((_d, e) => { e['bizStep'] = 'urn:epcglobal:cbv:bizstep:teleporting'; }), 'epcisBody.eventList[0].bizStep', /unknown business step/);
  });

  it('accepts a known business step and disposition in URN form, normalised like the bare form', () => {
    const doc = mutated((_d, e) => {
      e['bizStep'] = 'urn:epcglobal:cbv:bizstep:shipping';
      e['disposition'] = 'urn:epcglobal:cbv:disp:in_transit';
    });
    const { events } = validateEpcisDocument(doc);
    const [first] = events;
    assert.ok(first);
    assert.equal(first.bizStep, 'shipping');
    assert.equal(first.disposition, 'in_transit');
  });

  it('a bad check digit in a Digital Link EPC', () => {
    const doc = mutated((_d, e) => {
      (e['childEPCs'] as string[])[1] = 'https://id.gs1.org/01/70614141123452/21/2018';
    }, 'Example_9.6.3-AggregationEventWithDigitalLink.jsonld');
    assertRejected(doc, 'epcisBody.eventList[0].childEPCs[1]', /check digit/);
  });

  it('an EPC that is not a URI', () => {
    assertRejected(mutated((_d, e) => { (e['epcList'] as string[])[0] = '0614141.107346.2017'; }), 'epcisBody.eventList[0].epcList[0]', /uri/);
  });

  it('a malformed EPC URN', () => {
    assertRejected(mutated((_d, e) => { (e['epcList'] as string[])[1] = 'urn:epc:id:sgtin:0614141 107346 2018'; }), 'epcisBody.eventList[0].epcList[1]', /uri|EPC/);
  });

  it('a remote @context that is not a known GS1 context', () => {
    const doc = mutated((d) => { (d['@context'] as unknown[])[0] = 'https://evil.example.com/context.jsonld'; });
    assertRejected(doc, '@context[0]', /never fetches/);
  });

  it('a remote context inside an event', () => {
    const doc = mutated((_d, e) => { e['@context'] = 'https://evil.example.com/context.jsonld'; });
    assertRejected(doc, 'epcisBody.eventList[0]["@context"]', /not a known GS1 EPCIS context/);
  });

  it('an extension field with an undeclared prefix', () => {
    const doc = mutated((_d, e) => { e['acme:myField'] = 'x'; });
    assertRejected(doc, 'epcisBody.eventList[0]["acme:myField"]', /prefix "acme"/);
  });

  it('an undeclared prefix nested inside ilmd', () => {
    const doc = mutated((_d, e) => { e['ilmd'] = { 'acme:lot': 'L1' }; }, 'Example_9.6.4-TransformationEvent.jsonld');
    assertRejected(doc, 'epcisBody.eventList[0].ilmd["acme:lot"]', /prefix "acme"/);
  });

  it('a missing eventTime', () => {
    assertRejected(mutated((_d, e) => { delete e['eventTime']; }), 'epcisBody.eventList[0].eventTime', /required/);
  });

  it('a missing action', () => {
    assertRejected(mutated((_d, e) => { delete e['action']; }), 'epcisBody.eventList[0].action', /required/);
  });

  it('a missing creationDate', () => {
    assertRejected(mutated((d) => { delete d['creationDate']; }), 'creationDate', /required/);
  });

  it('a missing @context', () => {
    assertRejected(mutated((d) => { delete d['@context']; }), '@context', /required/);
  });

  it('something that is not a document', () => {
    assertRejected([], '', /JSON object/);
    assertRejected({ type: 'ObjectEvent' }, 'type', /EPCISDocument/);
  });
});
