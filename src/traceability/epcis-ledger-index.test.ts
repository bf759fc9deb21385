import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalLot, eventQueryFromParameters } from './epcis-ledger-index.js';
import { silkErrorPath } from '../testing/fixtures.js';

describe('event query parameters', () => {
  it('reads comma lists, arrays, EXISTS without a value and perPage digits; refuses unknown names by name', () => {
    assert.deepEqual(eventQueryFromParameters({ EQ_bizStep: 'shipping, receiving', MATCH_epc: ['a', 'b'], EXISTS_errorDeclaration: '', perPage: '7' }), { EQ_bizStep: ['shipping', 'receiving'], MATCH_epc: ['a', 'b'], EXISTS_errorDeclaration: true, perPage: 7 });
    assert.equal(silkErrorPath(() => eventQueryFromParameters({ epc: 'x' })), 'epc');
    assert.equal(silkErrorPath(() => eventQueryFromParameters({ perPage: '0' })), 'perPage');
    assert.equal(silkErrorPath(() => eventQueryFromParameters({ GE_eventTime: 'yesterday' })), 'GE_eventTime');
    assert.equal(silkErrorPath(() => eventQueryFromParameters({ EQ_bizStep: ',' })), 'EQ_bizStep');
  });

  it('a lot in its three forms is one canonical LGTIN Digital Link', () => {
    const dl = canonicalLot('urn:epc:class:lgtin:4012345.012345.998877');
    assert.equal(dl, 'https://id.gs1.org/01/04012345123456/10/998877');
    assert.equal(canonicalLot(dl), dl);
    assert.equal(canonicalLot('04012345123456/998877'), dl);
    assert.equal(canonicalLot('4012345123456/998877'), dl, 'GTIN-13 is padded');
    assert.equal(silkErrorPath(() => canonicalLot('04012345123457/998877')), 'lot', 'bad check digit');
    assert.equal(silkErrorPath(() => canonicalLot('urn:epc:id:sgtin:0614141.107346.2017')), 'lot', 'an item is not a lot');
  });
});
