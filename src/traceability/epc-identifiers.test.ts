import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSilkError } from '../errors.js';
import { gs1CheckDigit, parseEpc, sameEpc, toDigitalLink, toEpcUrn, tryCanonicalDigitalLink } from './epc-identifiers.js';

/** Every EPC URN and Digital Link URI in ../shared/epcis/examples/*.jsonld (GS1 EPCIS 2.0 examples). */
const EXAMPLE_URNS: readonly (readonly [string, string])[] = [
  ['urn:epc:class:lgtin:0614141.077777.987', 'https://id.gs1.org/01/00614141777778/10/987'],
  ['urn:epc:class:lgtin:4012345.011111.4444', 'https://id.gs1.org/01/04012345111118/10/4444'],
  ['urn:epc:class:lgtin:4012345.012345.998877', 'https://id.gs1.org/01/04012345123456/10/998877'],
  ['urn:epc:id:gdti:95252084.0001.0003555480001000', 'https://id.gs1.org/253/95252084000140003555480001000'],
  ['urn:epc:id:giai:4000001.111', 'https://id.gs1.org/8004/4000001111'],
  ['urn:epc:id:giai:4000001.12345', 'https://id.gs1.org/8004/400000112345'],
  ['urn:epc:id:giai:735005385.vehicle1', 'https://id.gs1.org/8004/735005385vehicle1'],
  ['urn:epc:id:giai:952005385.vehicle2', 'https://id.gs1.org/8004/952005385vehicle2'],
  ['urn:epc:id:giai:952005385.w2', 'https://id.gs1.org/8004/952005385w2'],
  ['urn:epc:id:grai:4012345.55555.987', 'https://id.gs1.org/8003/04012345555554987'],
  ['urn:epc:id:gsrn:95252084.000000001', 'https://id.gs1.org/8018/952520840000000010'],
  ['urn:epc:id:sgln:0012345.11111.0', 'https://id.gs1.org/414/0012345111112'],
  ['urn:epc:id:sgln:0012345.11111.400', 'https://id.gs1.org/414/0012345111112/254/400'],
  ['urn:epc:id:sgln:0614141.00001.0', 'https://id.gs1.org/414/0614141000012'],
  ['urn:epc:id:sgln:0614141.00777.0', 'https://id.gs1.org/414/0614141007776'],
  ['urn:epc:id:sgln:0614141.00888.0', 'https://id.gs1.org/414/0614141008889'],
  ['urn:epc:id:sgln:0614141.07346.1234', 'https://id.gs1.org/414/0614141073467/254/1234'],
  ['urn:epc:id:sgln:4012345.00001.0', 'https://id.gs1.org/414/4012345000016'],
  ['urn:epc:id:sgln:4012345.00005.0', 'https://id.gs1.org/414/4012345000054'],
  ['urn:epc:id:sgln:4012345.00225.0', 'https://id.gs1.org/414/4012345002256'],
  ['urn:epc:id:sgln:952005385.011.0', 'https://id.gs1.org/414/9520053850113'],
  ['urn:epc:id:sgln:952005385.011.scA', 'https://id.gs1.org/414/9520053850113/254/scA'],
  ['urn:epc:id:sgln:952005385.011.ts4711', 'https://id.gs1.org/414/9520053850113/254/ts4711'],
  ['urn:epc:id:sgln:952005385.481.0', 'https://id.gs1.org/414/9520053854814'],
  ['urn:epc:id:sgln:9524567.98765.0', 'https://id.gs1.org/414/9524567987655'],
  ['urn:epc:id:sgtin:0614141.107346.2017', 'https://id.gs1.org/01/10614141073464/21/2017'],
  ['urn:epc:id:sgtin:0614141.107346.2018', 'https://id.gs1.org/01/10614141073464/21/2018'],
  ['urn:epc:id:sgtin:4000001.065432.99886655', 'https://id.gs1.org/01/04000001654321/21/99886655'],
  ['urn:epc:id:sgtin:4012345.011111.9876', 'https://id.gs1.org/01/04012345111118/21/9876'],
  ['urn:epc:id:sgtin:4012345.011122.25', 'https://id.gs1.org/01/04012345111224/21/25'],
  ['urn:epc:id:sgtin:4012345.077889.25', 'https://id.gs1.org/01/04012345778892/21/25'],
  ['urn:epc:id:sgtin:4012345.077889.26', 'https://id.gs1.org/01/04012345778892/21/26'],
  ['urn:epc:id:sgtin:4012345.077889.27', 'https://id.gs1.org/01/04012345778892/21/27'],
  ['urn:epc:id:sgtin:4012345.077889.28', 'https://id.gs1.org/01/04012345778892/21/28'],
  ['urn:epc:id:sscc:0614141.1234567890', 'https://id.gs1.org/00/106141412345678908'],
  ['urn:epc:idpat:sgtin:4012345.066666.*', 'https://id.gs1.org/01/04012345666663'],
  ['urn:epc:idpat:sgtin:4012345.098765.*', 'https://id.gs1.org/01/04012345987652'],
];

/** The Digital Link URIs of the same examples, and their URNs. */
const EXAMPLE_DIGITAL_LINKS: readonly (readonly [string, string])[] = [
  ['https://id.gs1.org/01/04012345123456/10/998877', 'urn:epc:class:lgtin:4012345.012345.998877'],
  ['https://id.gs1.org/01/04012345987652', 'urn:epc:idpat:sgtin:4012345.098765.*'],
  ['https://id.gs1.org/01/70614141123451/21/2017', 'urn:epc:id:sgtin:0614141.712345.2017'],
  ['https://id.gs1.org/01/70614141123451/21/2018', 'urn:epc:id:sgtin:0614141.712345.2018'],
  ['https://id.gs1.org/8004/4000001111', 'urn:epc:id:giai:4000001.111'],
];

/** A company prefix table, as a member registry would provide. */
const KNOWN_PREFIXES = ['0614141', '4012345', '4000001', '0012345', '95252084', '952005385', '735005385', '9524567'];
const lookup = (digits: string): number | undefined => KNOWN_PREFIXES.find((prefix) => digits.startsWith(prefix))?.length;

const invalidArgument = (pattern: RegExp) => (error: unknown): boolean => isSilkError(error, 'INVALID_ARGUMENT') && pattern.test((error as Error).message);

describe('EPC identifiers: the EPCIS 2.0 examples', () => {
  for (const [urn, dl] of EXAMPLE_URNS) {
    it(`${urn} <-> ${dl}`, () => {
      const parsed = parseEpc(urn);
      assert.equal(parsed.digitalLink, dl);
      assert.equal(parsed.urn, urn);
      assert.equal(toEpcUrn(dl, parsed.companyPrefixLength ?? 0), urn);
      assert.equal(toEpcUrn(dl, lookup), urn);
      assert.ok(sameEpc(urn, dl));
    });
  }
  for (const [dl, urn] of EXAMPLE_DIGITAL_LINKS) {
    it(`${dl} <-> ${urn}`, () => {
      assert.equal(toDigitalLink(dl), dl);
      assert.equal(toEpcUrn(dl, lookup), urn);
      assert.equal(toDigitalLink(urn), dl);
    });
  }
});

describe('EPC identifiers: forms and fields', () => {
  it('describes an SGTIN', () => {
    const parsed = parseEpc('urn:epc:id:sgtin:0614141.107346.2017');
    assert.equal(parsed.kind, 'id');
    assert.equal(parsed.scheme, 'sgtin');
    assert.equal(parsed.gtin, '10614141073464');
    assert.equal(parsed.serial, '2017');
    assert.equal(parsed.companyPrefixLength, 7);
  });

  it('reads any host, short names, GTIN-13, query strings; keeps the finest level', () => {
    const canonical = 'https://id.gs1.org/01/10614141073464/21/2017';
    assert.equal(toDigitalLink('https://brand.example.com/some/path/gtin/10614141073464/ser/2017?linkType=all'), canonical);
    assert.equal(toDigitalLink('https://id.gs1.org/01/10614141073464/10/LOT1/21/2017'), canonical);
    assert.equal(toDigitalLink('https://id.gs1.org/01/10614141073464/22/V1/21/2017/'), canonical);
    assert.equal(toDigitalLink('https://example.org/01/0614141123452/10/L1'), 'https://id.gs1.org/01/00614141123452/10/L1');
  });

  it('percent-encodes serials as each form requires', () => {
    const parsed = parseEpc('urn:epc:id:sgtin:0614141.107346.A%2FB!C');
    assert.equal(parsed.serial, 'A/B!C');
    assert.equal(parsed.digitalLink, 'https://id.gs1.org/01/10614141073464/21/A%2FB%21C');
    assert.equal(toEpcUrn(parsed.digitalLink, 7), 'urn:epc:id:sgtin:0614141.107346.A%2FB!C');
  });

  it('converts the other schemes', () => {
    const cases: readonly (readonly [string, string])[] = [
      ['urn:epc:id:sgln:012345678901..7', 'https://id.gs1.org/414/0123456789012/254/7'],
      ['urn:epc:id:pgln:4012345.00000', 'https://id.gs1.org/417/4012345000009'],
      ['urn:epc:id:gsrnp:4012345.0000098765', 'https://id.gs1.org/8017/401234500000987658'],
      ['urn:epc:id:gsin:4012345.999987654', 'https://id.gs1.org/402/40123459999876541'],
      ['urn:epc:id:cpi:4012345.A%2FB.123', 'https://id.gs1.org/8010/4012345A%2FB/8011/123'],
      ['urn:epc:id:sgcn:4012345.99999.44', 'https://id.gs1.org/255/401234599999044'],
      ['urn:epc:id:ginc:4012345.333', 'https://id.gs1.org/401/4012345333'],
      ['urn:epc:id:itip:4012345.012345.01.02.999', 'https://id.gs1.org/8006/040123451234560102/21/999'],
      ['urn:epc:id:upui:4012345.012345.AB12', 'https://id.gs1.org/01/04012345123456/235/AB12'],
      ['urn:epc:idpat:grai:4012345.66666.*', 'https://id.gs1.org/8003/04012345666663'],
    ];
    for (const [urn, dl] of cases) {
      const parsed = parseEpc(urn);
      assert.equal(parsed.digitalLink, dl, urn);
      assert.equal(toEpcUrn(dl, parsed.companyPrefixLength ?? 0), urn, dl);
    }
  });

  it('computes GS1 check digits', () => {
    assert.equal(gs1CheckDigit('1061414107346'), 4);
    assert.equal(gs1CheckDigit('10614141234567890'), 8);
  });

  it('returns undefined, not an error, for values that are not EPCs', () => {
    assert.equal(tryCanonicalDigitalLink('geo:50.94,6.92'), undefined);
    assert.equal(tryCanonicalDigitalLink('urn:epcglobal:cbv:bt:0614141073467:1152'), undefined);
    assert.equal(tryCanonicalDigitalLink('https://id.gs1.org/01/10614141073465/21/1'), undefined);
  });
});

describe('EPC identifiers: bad input', () => {
  const cases: readonly (readonly [string, RegExp])[] = [
    ['https://id.gs1.org/01/10614141073465/21/2017', /bad check digit in GTIN 10614141073465: expected 4, found 5/],
    ['https://id.gs1.org/00/106141412345678909', /bad check digit in SSCC/],
    ['https://id.gs1.org/414/0614141073468', /bad check digit in GLN/],
    ['urn:epc:id:foo:0614141.107346.2017', /unknown EPC scheme urn:epc:id:foo/],
    ['urn:isbn:9780306406157', /unknown EPC scheme/],
    ['ftp://id.gs1.org/01/10614141073464', /unknown EPC scheme "ftp:"/],
    ['0614141.107346.2017', /not a URI/],
    ['10614141073464', /not a URI/],
    ['https://example.com/products/42', /no GS1 primary key/],
    ['urn:epc:id:sgtin:0614141.107346.20 17', /illegal character " " in serial/],
    ['urn:epc:id:sgtin:0614141.107346.A/B', /must be percent-encoded/],
    ['urn:epc:id:sgtin:0614141.107346.A%GG', /malformed percent-encoding/],
    ['https://id.gs1.org/01/10614141073464/21/caf%C3%A9', /illegal character "é" in serial/],
    ['https://id.gs1.org/01/10614141073464/21/%E0%A4%A', /malformed percent-encoding/],
    ['urn:epc:id:sgtin:0614141.107346.123456789012345678901', /serial must be 1 to 20 characters/],
    ['urn:epc:id:sgtin:0614141.10734.2017', /indicator digit and item reference must be 6 digits/],
    ['urn:epc:id:sgtin:06141.1073460.2017', /company prefix must be 6 to 12 digits/],
    ['urn:epc:idpat:sgtin:0614141.107346.2017', /must end with "\.\*"/],
    ['https://id.gs1.org/414/0614141073467/21/7', /AI 21 is not a key qualifier of AI 414/],
  ];
  for (const [input, message] of cases) {
    it(`refuses ${input}`, () => {
      assert.throws(() => parseEpc(input), invalidArgument(message));
    });
  }

  it('needs a valid company prefix length to derive a URN from a Digital Link', () => {
    assert.throws(() => toEpcUrn('https://id.gs1.org/01/10614141073464/21/2017', 5), invalidArgument(/6 to 12/));
    assert.throws(() => toEpcUrn('https://id.gs1.org/01/10614141073464/21/2017', () => undefined), invalidArgument(/6 to 12/));
  });
});
