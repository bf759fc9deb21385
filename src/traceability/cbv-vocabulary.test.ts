import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSilkError } from '../errors.js';
import { type CbvVocabulary, cbvBareForm, cbvTerms, expandBareCbvTerm, normaliseCbv, parseCbv, sameCbvValue } from './cbv-vocabulary.js';

const invalidArgument = (pattern: RegExp) => (error: unknown): boolean => isSilkError(error, 'INVALID_ARGUMENT') && pattern.test((error as Error).message);

describe('CBV vocabulary', () => {
  const threeForms: readonly [CbvVocabulary, string, string, string][] = [
    ['bizStep', 'shipping', 'urn:epcglobal:cbv:bizstep:shipping', 'https://ref.gs1.org/cbv/BizStep-shipping'],
    ['bizStep', 'sensor_reporting', 'urn:epcglobal:cbv:bizstep:sensor_reporting', 'https://ref.gs1.org/cbv/BizStep-sensor_reporting'],
    ['disposition', 'in_transit', 'urn:epcglobal:cbv:disp:in_transit', 'https://ref.gs1.org/cbv/Disp-in_transit'],
    ['bizTransactionType', 'po', 'urn:epcglobal:cbv:btt:po', 'https://ref.gs1.org/cbv/BTT-po'],
    ['sourceDestType', 'owning_party', 'urn:epcglobal:cbv:sdt:owning_party', 'https://ref.gs1.org/cbv/SDT-owning_party'],
    ['errorReason', 'did_not_occur', 'urn:epcglobal:cbv:er:did_not_occur', 'https://ref.gs1.org/cbv/ER-did_not_occur'],
  ];

  for (const [vocabulary, bare, urn, web] of threeForms) {
    it(`normalises the three forms of ${vocabulary} ${bare} to the web URI`, () => {
      for (const form of [bare, urn, web]) {
        assert.equal(normaliseCbv(vocabulary, form), web);
        assert.equal(cbvBareForm(vocabulary, form), bare);
        assert.equal(parseCbv(vocabulary, form).standard, true);
      }
      assert.ok(sameCbvValue(vocabulary, bare, urn));
    });
  }

  it('knows the GS1 Web Vocabulary measurement and alert types, and components', () => {
    assert.equal(normaliseCbv('measurementType', 'Temperature'), 'https://gs1.org/voc/Temperature');
    assert.equal(normaliseCbv('measurementType', 'gs1:Temperature'), 'https://gs1.org/voc/Temperature');
    assert.equal(normaliseCbv('sensorAlertType', 'ALARM_CONDITION'), 'https://gs1.org/voc/ALARM_CONDITION');
    assert.equal(normaliseCbv('component', 'cbv:Comp-latitude'), 'https://ref.gs1.org/cbv/Comp-latitude');
    assert.ok(cbvTerms('measurementType').includes('RelativeHumidity'));
  });

  it('lists the CBV 2.0 vocabularies', () => {
    assert.equal(cbvTerms('bizStep').length, 41);
    assert.equal(cbvTerms('disposition').length, 33);
    assert.deepEqual(cbvTerms('sourceDestType'), ['location', 'owning_party', 'possessing_party']);
  });

  it('keeps user extension URIs as they are', () => {
    const own = 'http://epcis.example.com/user/vocab/bizstep/exampling';
    assert.deepEqual(parseCbv('bizStep', own), { canonical: own, standard: false });
    assert.equal(normaliseCbv('disposition', 'urn:example:disp:quarantined'), 'urn:example:disp:quarantined');
  });

  it('refuses unknown bare, URN and web values and values of another vocabulary', () => {
    assert.throws(() => normaliseCbv('bizStep', 'shippin'), invalidArgument(/unknown business step "shippin"/));
    assert.throws(() => normaliseCbv('bizStep', 'urn:epcglobal:cbv:bizstep:teleporting'), invalidArgument(/business step/));
    assert.throws(() => normaliseCbv('bizStep', 'https://ref.gs1.org/cbv/BizStep-teleporting'), invalidArgument(/business step/));
    assert.throws(() => normaliseCbv('bizStep', 'urn:epcglobal:cbv:disp:in_transit'), invalidArgument(/not a business step/));
    assert.throws(() => normaliseCbv('disposition', 'https://ref.gs1.org/cbv/BizStep-shipping'), invalidArgument(/disposition/));
    assert.throws(() => normaliseCbv('bizStep', 'not a uri: at all'), invalidArgument(/not a URI/));
    assert.throws(() => normaliseCbv('bizStep', ''), invalidArgument(/non-empty/));
  });

  it('expands only bare standard terms without throwing', () => {
    assert.equal(expandBareCbvTerm('disposition', 'in_progress'), 'https://ref.gs1.org/cbv/Disp-in_progress');
    assert.equal(expandBareCbvTerm('disposition', 'in_limbo'), undefined);
  });
});
