import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { isSilkError } from '../errors.js';
import { documentEventHashes, eventHashId, eventHashIdOf, eventPreHash } from './event-hash.js';

const VECTORS_DIR = 'test/vectors/epcis-event-hash/';

/** From dist/traceability/ the project root is two levels up; else the working directory. */
function vectorsDir(): URL {
  const candidates = [new URL(`../../${VECTORS_DIR}`, import.meta.url), new URL(VECTORS_DIR, pathToFileURL(`${process.cwd()}/`))];
  const dir = candidates.find((candidate) => existsSync(candidate));
  assert.ok(dir, `cannot find ${VECTORS_DIR}`);
  return dir;
}

interface Erratum {
  readonly file: string;
  readonly event: number;
  readonly reason: string;
  readonly preHash: string;
  readonly hashId: string;
}

const dir = vectorsDir();
const read = (name: string): string => readFileSync(new URL(name, dir), 'utf8');
const lines = (name: string): string[] => read(name).split('\n').filter((line) => line !== '');
const errata = (JSON.parse(read('ERRATA.json')) as { entries: Erratum[] }).entries;
const names = readdirSync(dir).filter((file) => file.endsWith('.jsonld')).map((file) => file.slice(0, -'.jsonld'.length)).sort();
const sha256Id = (text: string): string => `ni:///sha-256;${createHash('sha256').update(text, 'utf8').digest('hex')}?ver=CBV2.0`;

describe('CBV 2.0 event hash: epcis-event-hash-generator vectors', () => {
  it('has all 16 vector files', () => {
    assert.equal(names.length, 16);
  });

  for (const name of names) {
    describe(name, () => {
      const results = documentEventHashes(JSON.parse(read(`${name}.jsonld`)));
      const preHashes = lines(`${name}.prehashes`);
      const hashes = lines(`${name}.hashes`);

      it('yields one hash per expected hash', () => {
        assert.equal(results.length, hashes.length);
        assert.equal(preHashes.length, hashes.length);
      });

      results.forEach((result, index) => {
        const erratum = errata.find((e) => e.file === name && e.event === index + 1);
        it(`event ${index + 1}: hash ID`, () => {
          assert.equal(result.hashId, hashes[index]);
          assert.equal(eventHashIdOf(result.preHash), result.hashId);
        });
        it(`event ${index + 1}: pre-hash string${erratum === undefined ? '' : ' (erratum)'}`, () => {
          if (erratum === undefined) {
            assert.equal(result.preHash, preHashes[index]);
            return;
          }
          // The upstream line is inconsistent with its own hash; the erratum is not.
          assert.notEqual(sha256Id(preHashes[index] ?? ''), hashes[index], erratum.reason);
          assert.equal(sha256Id(erratum.preHash), hashes[index]);
          assert.equal(result.preHash, erratum.preHash);
        });
      });
    });
  }

  it('lists exactly the inconsistent upstream lines as errata', () => {
    const inconsistent = names.flatMap((name) => {
      const hashes = lines(`${name}.hashes`);
      return lines(`${name}.prehashes`)
        .map((line, index) => ({ name, event: index + 1, ok: sha256Id(line) === hashes[index] }))
        .filter((entry) => !entry.ok)
        .map((entry) => `${entry.name}#${entry.event}`);
    });
    assert.deepEqual(inconsistent.sort(), errata.map((e) => `${e.file}#${e.event}`).sort());
  });
});

describe('CBV 2.0 event hash: normalisation rules', () => {
  const base = { type: 'ObjectEvent', eventTimeZoneOffset: '+01:00', action: 'OBSERVE' };

  it('writes timestamps in UTC with milliseconds, rounding half to even', () => {
    const pre = (eventTime: string): string => eventPreHash({ ...base, eventTime });
    assert.match(pre('2020-01-01T01:00:00+01:00'), /eventTime=2020-01-01T00:00:00\.000Z/);
    assert.match(pre('2020-01-01T00:00:00.0005Z'), /eventTime=2020-01-01T00:00:00\.000Z/);
    assert.match(pre('2020-01-01T00:00:00.0015Z'), /eventTime=2020-01-01T00:00:00\.002Z/);
    assert.match(pre('2020-01-01T00:00:00.00150099Z'), /eventTime=2020-01-01T00:00:00\.002Z/);
    assert.match(pre('2020-12-31T23:59:59.9996Z'), /eventTime=2021-01-01T00:00:00\.000Z/);
  });

  it('ignores eventID, recordTime and errorDeclaration, and key order', () => {
    const a = { ...base, eventTime: '2020-01-01T00:00:00Z', bizStep: 'shipping' };
    const b = { ...a, bizStep: 'urn:epcglobal:cbv:bizstep:shipping', eventID: 'urn:uuid:1', recordTime: '2021-01-01T00:00:00Z', errorDeclaration: { declarationTime: '2021-01-01T00:00:00Z', reason: 'did_not_occur' } };
    assert.equal(eventHashId(a), eventHashId(b));
  });

  it('matches URN and Digital Link forms of the same EPC and sorts lists', () => {
    const a = { ...base, eventTime: '2020-01-01T00:00:00Z', epcList: ['urn:epc:id:sgtin:0614141.107346.2018', 'urn:epc:id:sgtin:0614141.107346.2017'] };
    const b = { ...a, epcList: ['https://example.com/01/10614141073464/21/2017?x=y', 'https://id.gs1.org/01/10614141073464/21/2018'] };
    assert.equal(eventHashId(a), eventHashId(b));
  });

  it('drops trailing zeros of numbers and changes with any value', () => {
    const quantity = (q: number | string): string => eventHashId({ ...base, eventTime: '2020-01-01T00:00:00Z', quantityList: [{ epcClass: 'urn:epc:class:lgtin:4012345.011111.4444', quantity: q, uom: 'KGM' }] });
    assert.equal(quantity(10), quantity('10.0'));
    assert.notEqual(quantity(10), quantity(10.5));
  });

  it('refuses what is not an event', () => {
    assert.throws(() => eventPreHash({ eventTime: 'x' }), (error: unknown) => isSilkError(error, 'INVALID_ARGUMENT'));
    assert.throws(() => documentEventHashes({}), (error: unknown) => isSilkError(error, 'INVALID_ARGUMENT'));
  });
});
