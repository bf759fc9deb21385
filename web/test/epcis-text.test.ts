import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventTime, lotCode, partyLabel, placeLabel, words } from '../src/epcis-text.js';

describe('EPCIS values as people read them', () => {
  it("tells a lot's code from an item's", () => {
    for (const code of ['https://id.gs1.org/01/06901234000016/10/YW2611A', 'https://id.gs1.org/01/06901234000016/10/YW2611A/', '/01/06901234000016/10/A1?x=1', 'urn:epc:class:lgtin:6901234.000001.YW2611A']) assert.equal(lotCode(code), true, code);
    for (const code of ['https://id.gs1.org/01/06901234000016/21/7', 'https://id.gs1.org/01/06901234000016/10/YW2611A/21/7', 'urn:epc:id:sgtin:6901234.000001.7', '']) assert.equal(lotCode(code), false, code);
  });

  it('writes business steps, times, places and parties in words', () => {
    assert.equal(words('retail_selling'), 'retail selling');
    assert.equal(words('https://ref.gs1.org/cbv/BizStep-receiving'), 'BizStep-receiving');
    assert.equal(words('urn:epcglobal:cbv:disp:in_transit'), 'in transit');
    assert.equal(words(undefined), '');
    assert.equal(eventTime('2026-11-23T16:00:00.000+01:00'), '2026-11-23 16:00+01:00');
    assert.equal(eventTime('2026-11-23T16:05:30.250Z'), '2026-11-23 16:05:30Z');
    assert.equal(placeLabel('https://id.gs1.org/414/8412345000016'), 'GLN 8412345000016');
    assert.equal(partyLabel('urn:epc:id:pgln:6901234.00000'), 'PGLN 6901234.00000');
    assert.equal(partyLabel('SellerCN'), 'SellerCN');
  });
});
