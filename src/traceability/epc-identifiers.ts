/**
 * EPC identifiers in their three forms: EPC pure identity URNs (`urn:epc:id:…`), EPC class and
 * pattern URNs (`urn:epc:class:lgtin:…`, `urn:epc:idpat:…`) and GS1 Digital Link URIs
 * (`https://id.gs1.org/01/…/21/…`, or any https host with the GS1 path grammar).
 *
 * **Canonical form.** Silkledger stores every EPC as its *canonical Digital Link URI*: host
 * `https://id.gs1.org`, numeric application identifiers (never `gtin`, `sscc`, … short
 * names), GTINs padded to 14 digits, no query string or fragment, only the finest level of
 * identification (a lot is dropped when a serial is present, a consumer product variant
 * `22` is dropped) and values percent-encoded as GS1 Digital Link requires. This is the
 * same constrained form the CBV 2.0 event hash uses, so a stored EPC and a hashed EPC agree.
 * Queries may use either form: convert with {@link toDigitalLink} and compare, or use
 * {@link sameEpc}.
 *
 * A URN carries the GS1 company prefix split (`0614141.107346`); a Digital Link URI does not,
 * so {@link toEpcUrn} needs the company prefix length, as a number or as a lookup.
 *
 * Sources: GS1 EPC Tag Data Standard 2.x (EPC URI grammar, §6–7), GS1 Digital Link URI
 * Syntax 1.2 (path grammar, percent-encoding), GS1 General Specifications (AI table,
 * character sets 82 and 39, §7.9.1 check digit).
 */
import { SilkError } from '../errors.js';

/** Whether an identifier names one object (`id`), a lot class (`class`) or a pattern (`idpat`). */
export type EpcKind = 'id' | 'class' | 'idpat';

/** EPC schemes this module reads and writes (the TDS names). */
export type EpcScheme =
  | 'sgtin' | 'sscc' | 'sgln' | 'grai' | 'giai' | 'gsrn' | 'gsrnp' | 'gdti' | 'cpi' | 'sgcn'
  | 'ginc' | 'gsin' | 'itip' | 'upui' | 'pgln' | 'lgtin';

/** One application identifier and its (decoded) value, as in a Digital Link path. */
export interface Gs1Element {
  readonly ai: string;
  readonly value: string;
}

/** A parsed EPC, whichever form it was written in. */
export interface ParsedEpc {
  readonly kind: EpcKind;
  readonly scheme: EpcScheme;
  /** The canonical GS1 Digital Link URI: the form Silkledger stores. */
  readonly digitalLink: string;
  /** The EPC URN, when the input was one or a company prefix length was given. */
  readonly urn?: string;
  /** The primary key then its qualifiers, values decoded, in canonical order. */
  readonly elements: readonly Gs1Element[];
  /** Length of the GS1 company prefix, when known (always known from a URN). */
  readonly companyPrefixLength?: number;
  readonly gtin?: string;
  readonly serial?: string;
  readonly lot?: string;
  readonly sscc?: string;
  readonly gln?: string;
  /** GLN extension (`254`) of an SGLN, absent for the location itself. */
  readonly glnExtension?: string;
}

/** Gives the GS1 company prefix length for a key; `digits` start with the company prefix. */
export type CompanyPrefixLookup = (digits: string) => number | undefined;

/** Options of {@link parseEpc}. */
export interface ParseEpcOptions {
  /** For a Digital Link input: the company prefix length, or a lookup, to derive the URN. */
  readonly companyPrefixLength?: number | CompanyPrefixLookup;
}

const CANONICAL_HOST = 'https://id.gs1.org';

/**
 * The path of a GS1 Digital Link of an item or a lot on any host (`/01/<gtin>/21/<serial>`,
 * `/01/<gtin>/10/<lot>`, both qualifiers, a trailing slash): what a label's QR code addresses,
 * and the paths the web UI answers with its verify page.
 */
export const DIGITAL_LINK_ITEM_OR_LOT_PATH = /^\/01\/\d{8,14}(\/(10|21)\/[^/]+)*\/?$/;
/** GS1 AI encodable character set 82. */
const CSET82 = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*$/;
/** GS1 AI encodable character set 39 (CPID). */
const CSET39 = /^[#\-/0-9A-Z]*$/;
/** Characters an EPC URN must percent-encode (TDS §5: `"`, `%`, `&`, `/`, `<`, `>`, `?`). */
const URN_ESCAPED = new Set(['"', '%', '&', '/', '<', '>', '?']);
/** Characters a Digital Link path value is written percent-encoded (GS1 DL 1.2 table 7-1 plus URI delimiters). */
const DL_ESCAPED = new Set(['!', '"', '#', '%', '&', '(', ')', '*', '+', ',', '/', ':', '<', '>', '?', ' ']);

function invalid(message: string, input: string): SilkError {
  return new SilkError('INVALID_ARGUMENT', message, { value: input });
}

const isDigits = (text: string, min: number, max = min): boolean =>
  text.length >= min && text.length <= max && /^[0-9]*$/.test(text);

/**
 * The GS1 mod-10 check digit of `digits` (the key without its check digit).
 * @param digits - decimal digits only
 * @returns the check digit, 0–9
 * @example
 * gs1CheckDigit('0061414112345'); // 2
 */
export function gs1CheckDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    const digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    sum += i % 2 === 0 ? digit * 3 : digit;
  }
  return (10 - (sum % 10)) % 10;
}

/** Appends the check digit. */
const withCheckDigit = (digits: string): string => `${digits}${gs1CheckDigit(digits)}`;

function assertCheckDigit(key: string, what: string, input: string): void {
  const expected = gs1CheckDigit(key.slice(0, -1));
  if (key.endsWith(String(expected))) return;
  throw invalid(`bad check digit in ${what} ${key}: expected ${expected}, found ${key.slice(-1)}`, input);
}

// ---------------------------------------------------------------------------------------------
// Character sets and escaping

function assertCharset(value: string, what: string, input: string, max: number, set: RegExp = CSET82, min = 1): void {
  if (!set.test(value)) {
    const bad = Array.from(value).find((ch) => !set.test(ch)) ?? '';
    const setName = set === CSET82 ? 'GS1 AI encodable character set 82' : 'GS1 character set 39';
    throw invalid(`illegal character ${JSON.stringify(bad)} in ${what}: only ${setName} is allowed`, input);
  }
  if (value.length < min || value.length > max) {
    throw invalid(`${what} must be ${min} to ${max} characters, found ${value.length}`, input);
  }
}

/** Decodes `%XX` escapes of an EPC URN component and refuses characters a URN may not hold literally. */
function decodeUrnComponent(text: string, what: string, input: string): string {
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    const ch = text.charAt(i);
    if (ch === '%') {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw invalid(`malformed percent-encoding in ${what}`, input);
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i += 2;
    } else if (URN_ESCAPED.has(ch)) {
      throw invalid(`character ${JSON.stringify(ch)} in ${what} must be percent-encoded in an EPC URN`, input);
    } else {
      out += ch;
    }
  }
  return out;
}

const hexEscape = (ch: string): string => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;

function encodeUrnComponent(value: string): string {
  return Array.from(value).map((ch) => (URN_ESCAPED.has(ch) || ch === '#' ? hexEscape(ch) : ch)).join('');
}

function encodeDlValue(value: string): string {
  return Array.from(value).map((ch) => (DL_ESCAPED.has(ch) ? hexEscape(ch) : ch)).join('');
}

function decodeDlValue(segment: string, input: string): string {
  try {
    return decodeURIComponent(segment);
  } catch (error) {
    throw new SilkError('INVALID_ARGUMENT', `malformed percent-encoding in Digital Link segment ${JSON.stringify(segment)}`, { value: input }, { cause: error });
  }
}

// ---------------------------------------------------------------------------------------------
// Digital Link: AI table and constrained canonical form

interface AiSpec {
  readonly name: string;
  /** Validates a decoded value; throws on error. */
  readonly check: (value: string, input: string) => void;
}

function numericKey(name: string, length: number): AiSpec {
  return {
    name,
    check: (value, input) => {
      if (!isDigits(value, length)) throw invalid(`${name} must be ${length} digits, found ${JSON.stringify(value)}`, input);
      assertCheckDigit(value, name, input);
    },
  };
}

function alphanumeric(name: string, max: number, set: RegExp = CSET82): AiSpec {
  return { name, check: (value, input) => { assertCharset(value, name, input, max, set); } };
}

/** A numeric key with check digit followed by an optional serial component. */
function keyWithSerial(name: string, keyLength: number, serialMax: number, serialSet: RegExp): AiSpec {
  return {
    name,
    check: (value, input) => {
      const key = value.slice(0, keyLength);
      if (!isDigits(key, keyLength)) throw invalid(`${name} must start with ${keyLength} digits`, input);
      assertCheckDigit(key, name, input);
      const serial = value.slice(keyLength);
      if (serial !== '') assertCharset(serial, `${name} serial component`, input, serialMax, serialSet);
    },
  };
}

const ITIP_SPEC: AiSpec = {
  name: 'ITIP',
  check: (value, input) => {
    if (!isDigits(value, 18)) throw invalid(`ITIP must be 18 digits, found ${JSON.stringify(value)}`, input);
    assertCheckDigit(value.slice(0, 14), 'ITIP GTIN', input);
  },
};

/** Primary keys a Digital Link path may start with. */
const PRIMARY_AIS: Readonly<Record<string, AiSpec>> = {
  '00': numericKey('SSCC', 18),
  '01': numericKey('GTIN', 14),
  '253': keyWithSerial('GDTI', 13, 17, CSET82),
  '255': keyWithSerial('GCN', 13, 12, /^[0-9]*$/),
  '401': alphanumeric('GINC', 30),
  '402': numericKey('GSIN', 17),
  '414': numericKey('GLN', 13),
  '417': numericKey('party GLN', 13),
  '8003': keyWithSerial('GRAI', 14, 16, CSET82),
  '8004': alphanumeric('GIAI', 30),
  '8006': ITIP_SPEC,
  '8010': alphanumeric('CPID', 30, CSET39),
  '8017': numericKey('GSRN-P', 18),
  '8018': numericKey('GSRN', 18),
};

/** Key qualifiers, and which primary keys accept them. */
const QUALIFIER_AIS: Readonly<Record<string, AiSpec & { readonly after: readonly string[] }>> = {
  '22': { ...alphanumeric('consumer product variant', 20), after: ['01'] },
  '10': { ...alphanumeric('lot', 20), after: ['01', '8006'] },
  '21': { ...alphanumeric('serial', 20), after: ['01', '8006'] },
  '235': { ...alphanumeric('third-party serial (TPX)', 28), after: ['01'] },
  '254': { ...alphanumeric('GLN extension', 20), after: ['414'] },
  '8011': { ...alphanumeric('CPID serial', 12, /^[0-9]*$/), after: ['8010'] },
};

/** Short names GS1 Digital Link allows instead of numeric AIs. */
const SHORT_NAMES: Readonly<Record<string, string>> = {
  gtin: '01', itip: '8006', cpid: '8010', gln: '414', party: '417', gsrnp: '8017', gsrn: '8018',
  gcn: '255', sscc: '00', gdti: '253', ginc: '401', gsin: '402', grai: '8003', giai: '8004',
  cpv: '22', lot: '10', ser: '21',
};

const aiOf = (segment: string): string => SHORT_NAMES[segment] ?? segment;

/** Pads GTIN-8/12/13 to GTIN-14. */
function padGtin(value: string): string {
  return /^(?:[0-9]{8}|[0-9]{12}|[0-9]{13})$/.test(value) ? value.padStart(14, '0') : value;
}

/** Tries to read `segments` (from the primary key on) as AI/value pairs. */
function readPairs(segments: readonly string[], input: string): Gs1Element[] | undefined {
  if (segments.length % 2 !== 0) return undefined;
  const elements: Gs1Element[] = [];
  for (let i = 0; i < segments.length; i += 2) {
    const ai = aiOf(segments[i] ?? '');
    const known = i === 0 ? PRIMARY_AIS[ai] : QUALIFIER_AIS[ai];
    if (known === undefined) return undefined;
    const raw = decodeDlValue(segments[i + 1] ?? '', input);
    elements.push({ ai, value: ai === '01' ? padGtin(raw) : raw });
  }
  return elements;
}

/** The constrained form: lowest identification level, no CPV, qualifiers in the standard order. */
function constrain(elements: readonly Gs1Element[], input: string): Gs1Element[] {
  const [primary, ...qualifiers] = elements;
  if (primary === undefined) throw invalid('a Digital Link URI needs a primary key', input);
  PRIMARY_AIS[primary.ai]?.check(primary.value, input);
  const seen = new Set<string>();
  for (const qualifier of qualifiers) {
    const spec = QUALIFIER_AIS[qualifier.ai];
    if (spec === undefined || !spec.after.includes(primary.ai)) {
      throw invalid(`AI ${qualifier.ai} is not a key qualifier of AI ${primary.ai}`, input);
    }
    if (seen.has(qualifier.ai)) throw invalid(`AI ${qualifier.ai} appears twice`, input);
    seen.add(qualifier.ai);
    spec.check(qualifier.value, input);
  }
  const kept = qualifiers.filter((q) => q.ai !== '22' && !(q.ai === '10' && seen.has('21')));
  const order = ['10', '21', '235', '254', '8011'];
  kept.sort((a, b) => order.indexOf(a.ai) - order.indexOf(b.ai));
  return [primary, ...kept];
}

function digitalLinkOf(elements: readonly Gs1Element[]): string {
  return CANONICAL_HOST + elements.map((e) => `/${e.ai}/${encodeDlValue(e.value)}`).join('');
}

function parseDigitalLink(text: string): Gs1Element[] {
  let url: URL;
  try {
    url = new URL(text);
  } catch (error) {
    throw new SilkError('INVALID_ARGUMENT', `not a URI: ${JSON.stringify(text)}`, { value: text }, { cause: error });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`unknown EPC scheme ${url.protocol}`, text);
  // Read the raw path (URL would normalise some escapes); drop a trailing slash.
  const rawPath = text.slice(text.indexOf('//') + 2).replace(/^[^/?#]*/, '').replace(/[?#].*$/, '').replace(/\/$/, '');
  const segments = rawPath.split('/').slice(1);
  for (let start = 0; start < segments.length; start += 1) {
    const elements = readPairs(segments.slice(start), text);
    if (elements !== undefined) return constrain(elements, text);
  }
  throw invalid(`not a GS1 Digital Link URI: no GS1 primary key in the path of ${JSON.stringify(text)}`, text);
}

// ---------------------------------------------------------------------------------------------
// EPC URNs

interface UrnParts {
  readonly elements: Gs1Element[];
  readonly companyPrefixLength: number;
}

/** Splits at the first `count - 1` dots (later parts may contain dots). */
function splitParts(body: string, count: number, input: string): string[] {
  const parts: string[] = [];
  let rest = body;
  for (let i = 1; i < count; i += 1) {
    const dot = rest.indexOf('.');
    if (dot < 0) throw invalid(`EPC URN needs ${count} dot-separated parts`, input);
    parts.push(rest.slice(0, dot));
    rest = rest.slice(dot + 1);
  }
  parts.push(rest);
  return parts;
}

function companyPrefix(cp: string, input: string): number {
  if (!isDigits(cp, 6, 12)) throw invalid(`GS1 company prefix must be 6 to 12 digits, found ${JSON.stringify(cp)}`, input);
  return cp.length;
}

function fixedRef(ref: string, length: number, what: string, input: string): void {
  if (!isDigits(ref, length)) throw invalid(`${what} must be ${length} digits for this company prefix, found ${JSON.stringify(ref)}`, input);
}

/** GTIN-14 from company prefix and indicator + item reference. */
function gtinOf(cp: string, itemRef: string, input: string): string {
  fixedRef(itemRef, 13 - cp.length, 'indicator digit and item reference', input);
  return withCheckDigit(itemRef.slice(0, 1) + cp + itemRef.slice(1));
}

type UrnReader = (body: string, input: string) => UrnParts;

const serialOf = (text: string, what: string, input: string, max: number): string => {
  const value = decodeUrnComponent(text, what, input);
  assertCharset(value, what, input, max);
  return value;
};

const assertPattern = (star: string | undefined, input: string): void => {
  if (star !== '*') throw invalid('an EPC pattern URN must end with ".*"', input);
};

function readGtinFamily(body: string, input: string, count: number): { cp: string; gtin: string; rest: string[] } {
  const [cp = '', itemRef = '', ...rest] = splitParts(body, count, input);
  companyPrefix(cp, input);
  return { cp, gtin: gtinOf(cp, itemRef, input), rest };
}

function read12(body: string, count: number, what: string, input: string): { cp: string; key: string; rest: string[] } {
  const [cp = '', ref = '', ...rest] = splitParts(body, count, input);
  companyPrefix(cp, input);
  fixedRef(ref, 12 - cp.length, what, input);
  return { cp, key: withCheckDigit(cp + ref), rest };
}

function readLongNumber(body: string, input: string, total: number, what: string): { cp: string; ref: string } {
  const [cp = '', ref = ''] = splitParts(body, 2, input);
  companyPrefix(cp, input);
  fixedRef(ref, total - cp.length, what, input);
  return { cp, ref };
}

function readAlphaRef(body: string, input: string, what: string): { cp: string; ref: string } {
  const [cp = '', encoded = ''] = splitParts(body, 2, input);
  companyPrefix(cp, input);
  const ref = decodeUrnComponent(encoded, what, input);
  assertCharset(cp + ref, what, input, 30);
  return { cp, ref };
}

const URN_READERS: Readonly<Record<string, UrnReader>> = {
  'id:sgtin': (body, input) => {
    const { cp, gtin, rest } = readGtinFamily(body, input, 3);
    return { companyPrefixLength: cp.length, elements: [{ ai: '01', value: gtin }, { ai: '21', value: serialOf(rest[0] ?? '', 'serial', input, 20) }] };
  },
  'class:lgtin': (body, input) => {
    const { cp, gtin, rest } = readGtinFamily(body, input, 3);
    return { companyPrefixLength: cp.length, elements: [{ ai: '01', value: gtin }, { ai: '10', value: serialOf(rest[0] ?? '', 'lot', input, 20) }] };
  },
  'idpat:sgtin': (body, input) => {
    const { cp, gtin, rest } = readGtinFamily(body, input, 3);
    assertPattern(rest[0], input);
    return { companyPrefixLength: cp.length, elements: [{ ai: '01', value: gtin }] };
  },
  'id:upui': (body, input) => {
    const { cp, gtin, rest } = readGtinFamily(body, input, 3);
    return { companyPrefixLength: cp.length, elements: [{ ai: '01', value: gtin }, { ai: '235', value: serialOf(rest[0] ?? '', 'third-party serial (TPX)', input, 28) }] };
  },
  'idpat:upui': (body, input) => {
    const { cp, gtin, rest } = readGtinFamily(body, input, 3);
    assertPattern(rest[0], input);
    return { companyPrefixLength: cp.length, elements: [{ ai: '01', value: gtin }] };
  },
  'id:itip': (body, input) => readItip(body, input, false),
  'idpat:itip': (body, input) => readItip(body, input, true),
  'id:sscc': (body, input) => {
    const { cp, ref } = readLongNumber(body, input, 17, 'extension digit and serial reference');
    return { companyPrefixLength: cp.length, elements: [{ ai: '00', value: withCheckDigit(ref.slice(0, 1) + cp + ref.slice(1)) }] };
  },
  'id:sgln': (body, input) => {
    const { cp, key, rest } = read12(body, 3, 'location reference', input);
    const extension = serialOf(rest[0] ?? '', 'GLN extension', input, 20);
    const elements: Gs1Element[] = [{ ai: '414', value: key }];
    if (extension !== '0') elements.push({ ai: '254', value: extension });
    return { companyPrefixLength: cp.length, elements };
  },
  'id:pgln': (body, input) => {
    const { cp, key } = read12(body, 2, 'party reference', input);
    return { companyPrefixLength: cp.length, elements: [{ ai: '417', value: key }] };
  },
  'id:grai': (body, input) => readKeyWithSerial(body, input, '8003', 'asset type', 16, false),
  'idpat:grai': (body, input) => readKeyWithSerial(body, input, '8003', 'asset type', 16, true),
  'id:gdti': (body, input) => readKeyWithSerial(body, input, '253', 'document type', 17, false),
  'idpat:gdti': (body, input) => readKeyWithSerial(body, input, '253', 'document type', 17, true),
  'id:sgcn': (body, input) => readKeyWithSerial(body, input, '255', 'coupon reference', 12, false),
  'idpat:sgcn': (body, input) => readKeyWithSerial(body, input, '255', 'coupon reference', 12, true),
  'id:giai': (body, input) => {
    const { cp, ref } = readAlphaRef(body, input, 'individual asset reference');
    return { companyPrefixLength: cp.length, elements: [{ ai: '8004', value: cp + ref }] };
  },
  'id:ginc': (body, input) => {
    const { cp, ref } = readAlphaRef(body, input, 'consignment reference');
    return { companyPrefixLength: cp.length, elements: [{ ai: '401', value: cp + ref }] };
  },
  'id:gsrn': (body, input) => {
    const { cp, ref } = readLongNumber(body, input, 17, 'service reference');
    return { companyPrefixLength: cp.length, elements: [{ ai: '8018', value: withCheckDigit(cp + ref) }] };
  },
  'id:gsrnp': (body, input) => {
    const { cp, ref } = readLongNumber(body, input, 17, 'service reference');
    return { companyPrefixLength: cp.length, elements: [{ ai: '8017', value: withCheckDigit(cp + ref) }] };
  },
  'id:gsin': (body, input) => {
    const { cp, ref } = readLongNumber(body, input, 16, 'shipper reference');
    return { companyPrefixLength: cp.length, elements: [{ ai: '402', value: withCheckDigit(cp + ref) }] };
  },
  'id:cpi': (body, input) => readCpi(body, input, false),
  'idpat:cpi': (body, input) => readCpi(body, input, true),
};

function readItip(body: string, input: string, pattern: boolean): UrnParts {
  const { cp, gtin, rest } = readGtinFamily(body, input, 5);
  const [piece = '', total = '', last = ''] = rest;
  if (!isDigits(piece, 2) || !isDigits(total, 2)) throw invalid('ITIP piece and total must be 2 digits each', input);
  const elements: Gs1Element[] = [{ ai: '8006', value: gtin + piece + total }];
  if (pattern) assertPattern(last, input);
  else elements.push({ ai: '21', value: serialOf(last, 'serial', input, 20) });
  return { companyPrefixLength: cp.length, elements };
}

function readKeyWithSerial(body: string, input: string, ai: string, what: string, max: number, pattern: boolean): UrnParts {
  const { cp, key, rest } = read12(body, 3, what, input);
  const prefix = ai === '8003' ? `0${key}` : key;
  if (pattern) {
    assertPattern(rest[0], input);
    return { companyPrefixLength: cp.length, elements: [{ ai, value: prefix }] };
  }
  const serial = serialOf(rest[0] ?? '', 'serial', input, max);
  if (ai === '255' && !isDigits(serial, 1, 12)) throw invalid('SGCN serial component must be 1 to 12 digits', input);
  return { companyPrefixLength: cp.length, elements: [{ ai, value: prefix + serial }] };
}

function readCpi(body: string, input: string, pattern: boolean): UrnParts {
  const [cp = '', encodedRef = '', last = ''] = splitParts(body, 3, input);
  companyPrefix(cp, input);
  const ref = decodeUrnComponent(encodedRef, 'component/part reference', input);
  assertCharset(cp + ref, 'component/part reference', input, 30, CSET39);
  const elements: Gs1Element[] = [{ ai: '8010', value: cp + ref }];
  if (pattern) assertPattern(last, input);
  else {
    if (!isDigits(last, 1, 12)) throw invalid('CPI serial must be 1 to 12 digits', input);
    elements.push({ ai: '8011', value: last });
  }
  return { companyPrefixLength: cp.length, elements };
}

function parseUrn(text: string): UrnParts & { kind: EpcKind } {
  const match = /^urn:epc:(id|class|idpat):([a-z]+):(.+)$/.exec(text);
  if (match === null) {
    throw invalid(`unknown EPC scheme: ${JSON.stringify(text.slice(0, 40))} is not urn:epc:id:, urn:epc:class: or urn:epc:idpat:`, text);
  }
  const [, kind = '', scheme = '', body = ''] = match;
  const reader = URN_READERS[`${kind}:${scheme}`];
  if (reader === undefined) throw invalid(`unknown EPC scheme urn:epc:${kind}:${scheme}`, text);
  return { ...reader(body, text), kind: kind as EpcKind };
}

// ---------------------------------------------------------------------------------------------
// Classification and URN writing

interface Classified {
  readonly kind: EpcKind;
  readonly scheme: EpcScheme;
}

function classify(elements: readonly Gs1Element[]): Classified {
  const [primary, second] = elements;
  const ai = primary?.ai ?? '';
  const q = second?.ai;
  const value = primary?.value ?? '';
  switch (ai) {
    case '01':
      if (q === '21') return { kind: 'id', scheme: 'sgtin' };
      if (q === '10') return { kind: 'class', scheme: 'lgtin' };
      if (q === '235') return { kind: 'id', scheme: 'upui' };
      return { kind: 'idpat', scheme: 'sgtin' };
    case '8006': return { kind: q === '21' ? 'id' : 'idpat', scheme: 'itip' };
    case '8003': return { kind: value.length > 14 ? 'id' : 'idpat', scheme: 'grai' };
    case '253': return { kind: value.length > 13 ? 'id' : 'idpat', scheme: 'gdti' };
    case '255': return { kind: value.length > 13 ? 'id' : 'idpat', scheme: 'sgcn' };
    case '8010': return { kind: q === '8011' ? 'id' : 'idpat', scheme: 'cpi' };
    default: return { kind: 'id', scheme: SIMPLE_SCHEMES[ai] ?? 'sgtin' };
  }
}

const SIMPLE_SCHEMES: Readonly<Record<string, EpcScheme>> = {
  '00': 'sscc', '414': 'sgln', '417': 'pgln', '8004': 'giai', '401': 'ginc', '8018': 'gsrn', '8017': 'gsrnp', '402': 'gsin',
};

/** Where the company prefix starts inside the primary key value. */
const CP_OFFSET: Readonly<Record<string, number>> = { '00': 1, '01': 1, '8006': 1, '8003': 1 };

function resolvePrefixLength(elements: readonly Gs1Element[], given: number | CompanyPrefixLookup, input: string): number {
  const primary = elements[0];
  const digits = (primary?.value ?? '').slice(CP_OFFSET[primary?.ai ?? ''] ?? 0);
  const length = typeof given === 'number' ? given : given(digits);
  if (length === undefined || !Number.isInteger(length) || length < 6 || length > 12) {
    throw invalid(`GS1 company prefix length must be an integer from 6 to 12, found ${String(length)}`, input);
  }
  if (!isDigits(digits.slice(0, length), length)) throw invalid(`the key has no ${length}-digit company prefix`, input);
  return length;
}

function urnOf(elements: readonly Gs1Element[], cpLength: number, classified: Classified): string {
  const primary = elements[0]?.value ?? '';
  const qualifier = elements[1]?.value ?? '';
  const head = `urn:epc:${classified.kind}:${classified.scheme}:`;
  const gtinParts = (gtin: string): string => `${gtin.slice(1, 1 + cpLength)}.${gtin.slice(0, 1)}${gtin.slice(1 + cpLength, 13)}`;
  const split12 = (key: string): string => `${key.slice(0, cpLength)}.${key.slice(cpLength, 12)}`;
  const tail = (text: string): string => (classified.kind === 'idpat' ? '*' : text);
  switch (classified.scheme) {
    case 'sgtin': case 'lgtin': case 'upui':
      return `${head}${gtinParts(primary)}.${tail(encodeUrnComponent(qualifier))}`;
    case 'itip':
      return `${head}${gtinParts(primary.slice(0, 14))}.${primary.slice(14, 16)}.${primary.slice(16, 18)}.${tail(encodeUrnComponent(qualifier))}`;
    case 'sscc':
      return `${head}${primary.slice(1, 1 + cpLength)}.${primary.slice(0, 1)}${primary.slice(1 + cpLength, 17)}`;
    case 'sgln':
      return `${head}${split12(primary)}.${qualifier === '' ? '0' : encodeUrnComponent(qualifier)}`;
    case 'pgln':
      return `${head}${split12(primary)}`;
    case 'grai':
      return `${head}${split12(primary.slice(1))}.${tail(encodeUrnComponent(primary.slice(14)))}`;
    case 'gdti': case 'sgcn':
      return `${head}${split12(primary)}.${tail(encodeUrnComponent(primary.slice(13)))}`;
    case 'cpi':
      return `${head}${primary.slice(0, cpLength)}.${encodeUrnComponent(primary.slice(cpLength))}.${tail(qualifier)}`;
    case 'giai': case 'ginc':
      return `${head}${primary.slice(0, cpLength)}.${encodeUrnComponent(primary.slice(cpLength))}`;
    case 'gsrn': case 'gsrnp': case 'gsin':
      return `${head}${primary.slice(0, cpLength)}.${primary.slice(cpLength, -1)}`;
  }
}

function namedParts(elements: readonly Gs1Element[]): Partial<ParsedEpc> {
  const get = (ai: string): string | undefined => elements.find((e) => e.ai === ai)?.value;
  const result: Record<string, string | undefined> = {
    gtin: get('01') ?? get('8006')?.slice(0, 14),
    serial: get('21') ?? get('235') ?? get('8011'),
    lot: get('10'),
    sscc: get('00'),
    gln: get('414') ?? get('417'),
    glnExtension: get('254'),
  };
  return Object.fromEntries(Object.entries(result).filter(([, v]) => v !== undefined));
}

function build(elements: Gs1Element[], urn: string | undefined, cpLength: number | undefined, kindHint?: EpcKind): ParsedEpc {
  const classified = classify(elements);
  const kind = kindHint ?? classified.kind;
  return {
    kind,
    scheme: classified.scheme,
    digitalLink: digitalLinkOf(elements),
    ...(urn === undefined ? {} : { urn }),
    elements,
    ...(cpLength === undefined ? {} : { companyPrefixLength: cpLength }),
    ...namedParts(elements),
  };
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Parses an EPC written as an EPC URN or a GS1 Digital Link URI, validating check digits,
 * company prefix split, character sets and lengths.
 * @param text - `urn:epc:id:…`, `urn:epc:class:lgtin:…`, `urn:epc:idpat:…` or `https://host/…/01/…`
 * @param options - `companyPrefixLength` to also derive the URN of a Digital Link input
 * @returns the parsed EPC, with its canonical Digital Link URI
 * @throws SilkError `INVALID_ARGUMENT` naming what is wrong (not a URI, unknown scheme, bad
 *   check digit, illegal character, wrong length)
 * @example
 * parseEpc('urn:epc:id:sgtin:0614141.107346.2017').digitalLink;
 * // 'https://id.gs1.org/01/10614141073464/21/2017'
 */
export function parseEpc(text: string, options: ParseEpcOptions = {}): ParsedEpc {
  if (typeof text !== 'string') throw new SilkError('INVALID_ARGUMENT', 'an EPC must be a string');
  if (text.startsWith('urn:')) {
    const { elements, companyPrefixLength, kind } = parseUrn(text);
    const constrained = constrain(elements, text);
    return build(constrained, urnOf(constrained, companyPrefixLength, { kind, scheme: classify(constrained).scheme }), companyPrefixLength, kind);
  }
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(text)) throw invalid(`not a URI: ${JSON.stringify(text.slice(0, 60))}`, text);
  if (!/^https?:\/\//i.test(text)) throw invalid(`unknown EPC scheme ${JSON.stringify(text.slice(0, text.indexOf(':') + 1))}`, text);
  const elements = parseDigitalLink(text);
  if (options.companyPrefixLength === undefined) return build(elements, undefined, undefined);
  const cpLength = resolvePrefixLength(elements, options.companyPrefixLength, text);
  return build(elements, urnOf(elements, cpLength, classify(elements)), cpLength);
}

/**
 * The canonical GS1 Digital Link URI of an EPC given in either form.
 * @param epc - an EPC URN or a Digital Link URI (any host, short names, query string allowed)
 * @returns `https://id.gs1.org/…` in the constrained canonical form
 * @throws SilkError `INVALID_ARGUMENT` when `epc` is not a valid EPC
 * @example
 * toDigitalLink('urn:epc:id:sscc:0614141.1234567890'); // 'https://id.gs1.org/00/106141412345678908'
 */
export function toDigitalLink(epc: string): string {
  return parseEpc(epc).digitalLink;
}

/**
 * The EPC URN of an EPC given as a Digital Link URI (a URN input is returned in normal form).
 * @param epc - a Digital Link URI (or an EPC URN)
 * @param companyPrefixLength - the GS1 company prefix length (6–12), or a lookup given the digits that start with it
 * @returns the `urn:epc:id:…`, `urn:epc:class:lgtin:…` or `urn:epc:idpat:…` form
 * @throws SilkError `INVALID_ARGUMENT` when `epc` is invalid or the prefix length is unknown or out of range
 * @example
 * toEpcUrn('https://id.gs1.org/01/10614141073464/21/2017', 7); // 'urn:epc:id:sgtin:0614141.107346.2017'
 */
export function toEpcUrn(epc: string, companyPrefixLength: number | CompanyPrefixLookup): string {
  const parsed = parseEpc(epc, { companyPrefixLength });
  if (parsed.urn === undefined) throw invalid('cannot derive an EPC URN', epc);
  return parsed.urn;
}

/**
 * Whether two EPCs, each in URN or Digital Link form, name the same thing.
 * @param a - an EPC in either form
 * @param b - an EPC in either form
 * @returns true when their canonical Digital Link URIs are equal
 * @throws SilkError `INVALID_ARGUMENT` when either is not a valid EPC
 * @example
 * sameEpc('urn:epc:id:sgtin:0614141.107346.2017', 'https://example.com/gtin/10614141073464/ser/2017'); // true
 */
export function sameEpc(a: string, b: string): boolean {
  return toDigitalLink(a) === toDigitalLink(b);
}

/**
 * Like {@link toDigitalLink} but returns `undefined` instead of throwing: for values that
 * may or may not be EPCs (the event hash canonicalises any value that is one).
 * @param text - any string
 * @returns the canonical Digital Link URI, or undefined when `text` is not a valid EPC
 * @example
 * tryCanonicalDigitalLink('geo:50.9,6.9'); // undefined
 */
export function tryCanonicalDigitalLink(text: string): string | undefined {
  if (!text.startsWith('urn:epc:') && !/^https?:\/\//.test(text)) return undefined;
  try {
    return toDigitalLink(text);
  } catch {
    return undefined;
  }
}
