import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { SilkError, type ErrorCode } from '../errors.js';
import { seededRandom } from '../testing/seeded-random.js';
import {
  MANGO_LIMITS,
  compileMangoQuery,
  decodeBookmark,
  encodeBookmark,
  indexDdl,
  indexSqlName,
  nextBookmark,
  toMangoPage,
  type CompiledMangoQuery,
  type MangoQuery,
  type MangoSort,
  type StateIndex,
} from './mango-query.js';

// ---------------------------------------------------------------------------------------
// Fixture: two namespaces of generated documents with awkward types on purpose
// ---------------------------------------------------------------------------------------

const INDEXES: readonly StateIndex[] = [
  { name: 'by_owner', fields: ['owner'] },
  { name: 'by_price', fields: ['price'] },
  { name: 'by_colour_price', fields: ['meta.colour', 'price'] },
];
const OTHER_INDEXES: readonly StateIndex[] = [{ name: 'by_owner', fields: ['owner'] }];
const OWNERS = ['alice', 'bob', 'carol', 'dave', 'Émile', 'zoë'] as const;
const COLOURS = ['red', 'green', 'blue', 'Red'] as const;

type Doc = Record<string, unknown>;

function makeDoc(r: () => number): Doc {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const doc: Doc = {};
  const o = r();
  if (o >= 0.05) doc.owner = o < 0.08 ? null : o < 0.11 ? 7 : pick(OWNERS);
  const p = r();
  if (p >= 0.05) {
    if (p < 0.08) doc.price = null;
    else if (p < 0.12) doc.price = pick(['7', '10', 'abc']);
    else if (p < 0.15) doc.price = pick([true, false]);
    else if (p < 0.55) doc.price = Math.floor(r() * 101);
    else doc.price = Math.round(r() * 1000) / 10;
  }
  const m = r();
  if (m >= 0.1) {
    if (m < 0.14) doc.meta = 5;
    else if (m < 0.18) doc.meta = ['red'];
    else if (m < 0.21) doc.meta = null;
    else {
      const meta: Doc = {};
      if (r() < 0.9) meta.colour = pick(COLOURS);
      if (r() < 0.8) meta.size = Math.floor(r() * 5);
      doc.meta = meta;
    }
  }
  if (r() < 0.8) doc.tags = Array.from({ length: Math.floor(r() * 4) }, () => pick(['new', 'sale', 'eu', 'asia']));
  const f = r();
  if (f < 0.8) doc.flag = f < 0.4;
  else if (f < 0.85) doc.flag = 1;
  return doc;
}

function makeDocs(count: number, seed: number): Map<string, Doc> {
  const r = seededRandom(seed);
  const docs = new Map<string, Doc>();
  for (let i = 0; i < count; i += 1) docs.set(`item-${String(i).padStart(3, '0')}`, makeDoc(r));
  return docs;
}

const DOCS: Record<string, Map<string, Doc>> = { market: makeDocs(150, 1), other: makeDocs(60, 2) };
// Pin the type-confusion cases the semantics tests rely on.
Object.assign(DOCS.market!.get('item-000')!, { price: 1, flag: 1 });
Object.assign(DOCS.market!.get('item-001')!, { price: true, flag: true });
Object.assign(DOCS.market!.get('item-002')!, { price: '7', owner: 'alice' });

const db = new Database(':memory:');
db.exec(
  'CREATE TABLE state (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL /* JSON text */, block INTEGER NOT NULL, tx INTEGER NOT NULL, policy TEXT, PRIMARY KEY (ns, key)) WITHOUT ROWID;',
);
{
  const insert = db.prepare('INSERT INTO state (ns, key, value, block, tx, policy) VALUES (?, ?, ?, ?, ?, NULL)');
  for (const [ns, docs] of Object.entries(DOCS)) {
    let i = 0;
    for (const [key, doc] of docs) insert.run(ns, key, JSON.stringify(doc), i++, 0);
  }
  for (const index of INDEXES) db.exec(indexDdl('market', index));
  for (const index of OTHER_INDEXES) db.exec(indexDdl('other', index));
}

function indexesOf(ns: string): readonly StateIndex[] {
  return ns === 'market' ? INDEXES : OTHER_INDEXES;
}

// ---------------------------------------------------------------------------------------
// Reference evaluator for the supported subset, in plain JS
// ---------------------------------------------------------------------------------------

const MISSING = Symbol('missing');

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function lookup(doc: unknown, path: string): unknown {
  let current = doc;
  for (const segment of path.split('.')) {
    if (!isObject(current) || !Object.hasOwn(current, segment)) return MISSING;
    current = current[segment];
  }
  return current;
}

function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function refEq(value: unknown, arg: unknown): boolean {
  if (arg === null) return value === null;
  return typeof value === typeof arg && value === arg;
}

function refRange(value: unknown, op: string, arg: unknown): boolean {
  let c: number;
  if (typeof arg === 'number' && typeof value === 'number') c = value - arg;
  else if (typeof arg === 'string' && typeof value === 'string') c = utf8Compare(value, arg);
  else return false;
  return op === '$gt' ? c > 0 : op === '$gte' ? c >= 0 : op === '$lt' ? c < 0 : c <= 0;
}

function refType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const type = typeof value;
  return type === 'boolean' || type === 'number' || type === 'string' ? type : 'object';
}

function refOperator(op: string, arg: unknown, doc: Doc, field: string | undefined): boolean {
  const value = field === undefined ? MISSING : lookup(doc, field);
  const present = value !== MISSING;
  const list = arg as unknown[];
  switch (op) {
    case '$and': return list.every((s) => refMatches(s as Doc, doc, field));
    case '$or': return list.some((s) => refMatches(s as Doc, doc, field));
    case '$nor': return (field === undefined || present) && !list.some((s) => refMatches(s as Doc, doc, field));
    case '$not': return (field === undefined || present) && !refMatches(arg as Doc, doc, field);
    case '$eq': return refEq(value, arg);
    case '$ne': return present && !refEq(value, arg);
    case '$gt': case '$gte': case '$lt': case '$lte': return refRange(value, op, arg);
    case '$in': return list.some((a) => refEq(value, a));
    case '$nin': return present && !list.some((a) => refEq(value, a));
    case '$exists': return arg === present;
    case '$type': return present && refType(value) === arg;
    case '$size': return Array.isArray(value) && value.length === arg;
    default: throw new Error(`reference evaluator does not know ${op}`);
  }
}

function refMatches(selector: Doc, doc: Doc, field?: string): boolean {
  return Object.entries(selector).every(([key, arg]) => {
    if (key.startsWith('$')) return refOperator(key, arg, doc, field);
    const path = field === undefined ? key : `${field}.${key}`;
    return isObject(arg) ? refMatches(arg, doc, path) : refEq(lookup(doc, path), arg);
  });
}

/** The SQL value `json_extract` yields, for ordering. */
function sqlValue(value: unknown): unknown {
  if (value === MISSING || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'object') return JSON.stringify(value);
  return value;
}

/** SQLite's order across storage classes: NULL < numbers < text (bytewise UTF-8). */
function sqlCompare(a: unknown, b: unknown): number {
  const rank = (v: unknown): number => (v === null ? 0 : typeof v === 'number' ? 1 : 2);
  const byRank = rank(a) - rank(b);
  if (byRank !== 0) return byRank;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return utf8Compare(a, b);
  return 0;
}

function refQuery(ns: string, selector: Doc, compiled: CompiledMangoQuery): string[] {
  const docs = [...(DOCS[ns] ?? new Map<string, Doc>())].filter(([, doc]) => refMatches(selector, doc));
  const sign = compiled.sort[0]?.direction === 'desc' ? -1 : 1;
  docs.sort(([ka, a], [kb, b]) => {
    for (const { field } of compiled.sort) {
      const c = sqlCompare(sqlValue(lookup(a, field)), sqlValue(lookup(b, field)));
      if (c !== 0) return sign * c;
    }
    return sign * utf8Compare(ka, kb);
  });
  return docs.map(([key]) => key);
}

// ---------------------------------------------------------------------------------------
// Running compiled queries
// ---------------------------------------------------------------------------------------

function compile(ns: string, query: MangoQuery, limit = 1000, bookmark?: string): CompiledMangoQuery {
  return compileMangoQuery(ns, query, indexesOf(ns), bookmark === undefined ? { limit } : { limit, bookmark });
}

function runPage(compiled: CompiledMangoQuery): { keys: string[]; bookmark: string | undefined } {
  const page = toMangoPage(db.prepare(compiled.sql).all(...compiled.params), compiled);
  return { keys: page.records.map((r) => r.key), bookmark: page.bookmark };
}

/** Walks every page; returns the keys in the order served. */
function walk(ns: string, query: MangoQuery, limit: number): string[] {
  const keys: string[] = [];
  let bookmark: string | undefined;
  for (let pages = 0; pages < 1000; pages += 1) {
    const page = runPage(compile(ns, query, limit, bookmark));
    assert.ok(page.keys.length <= limit);
    keys.push(...page.keys);
    if (page.bookmark === undefined) return keys;
    assert.equal(page.keys.length, limit, 'only the last page may be short');
    bookmark = page.bookmark;
  }
  throw new Error('pagination did not end');
}

function assertMatchesReference(ns: string, query: MangoQuery, limit = 1000): string[] {
  const compiled = compile(ns, query);
  const expected = refQuery(ns, query.selector, compiled);
  const actual = walk(ns, query, limit);
  assert.deepEqual(actual, expected, JSON.stringify(query));
  return actual;
}

function assertRejects(fn: () => unknown, code: ErrorCode, pattern?: RegExp, path?: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof SilkError, `expected a SilkError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern !== undefined) assert.match(error.message, pattern);
    if (path !== undefined) assert.equal(error.details.path, path);
    return true;
  });
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

describe('operators match a plain-JS reference', () => {
  const cases: [string, Doc, boolean?][] = [
    ['implicit equality', { owner: 'alice' }],
    ['implicit equality, non-ASCII', { owner: 'Émile' }],
    ['nested object as dotted path', { meta: { colour: 'red' } }],
    ['dotted key', { 'meta.colour': 'red', 'meta.size': 2 }],
    ['$eq number', { price: { $eq: 10 } }],
    ['$eq null', { owner: { $eq: null } }],
    ['implicit null', { owner: null }],
    ['$eq true (not 1)', { owner: { $in: [...OWNERS] }, flag: true }],
    ['number equality (not true)', { price: 1 }],
    ['$ne', { owner: { $in: ['alice', 'bob'] }, price: { $ne: 10 } }],
    ['$ne null', { owner: { $ne: null }, price: { $gte: 0 } }],
    ['$gt number excludes strings', { price: { $gt: 5 } }],
    ['$gte/$lte number', { price: { $gte: 10.5, $lte: 40 } }],
    ['$lt string', { owner: { $lt: 'carol' } }],
    ['$gte string includes non-ASCII', { owner: { $gte: 'dave' } }],
    ['$in mixed types', { owner: { $in: ['alice', 7, null, true] } }],
    ['$in empty', { price: { $gte: 0 }, owner: { $in: [] } }],
    ['$nin', { price: { $gte: 0 }, owner: { $nin: ['alice', 'bob', null] } }],
    ['$exists false', { price: { $gte: 0 }, owner: { $exists: false } }],
    ['$exists true includes null', { price: { $lt: 50 }, owner: { $exists: true } }],
    ['$exists on a path through a non-object', { owner: 'bob', 'meta.colour': { $exists: false } }],
    ['$and', { $and: [{ owner: { $gte: 'b' } }, { price: { $lt: 30 } }] }],
    ['$or', { owner: 'alice', $or: [{ price: { $lt: 10 } }, { 'meta.colour': 'blue' }] }],
    ['$nor', { owner: 'bob', $nor: [{ price: { $lt: 10 } }, { flag: true }] }],
    ['$not top-level', { price: { $gte: 20 }, $not: { owner: 'alice' } }],
    ['$not field-level requires presence', { price: { $gte: 20 }, owner: { $not: { $eq: 'alice' } } }],
    ['field-level $or', { owner: { $or: [{ $eq: 'alice' }, { $eq: 'bob' }] }, price: { $lte: 50 } }],
    ['$size', { owner: { $in: [...OWNERS] }, tags: { $size: 2 } }],
    ['$type', { owner: { $gte: '' }, price: { $type: 'string' } }],
    ['$type boolean', { owner: { $gte: '' }, flag: { $type: 'boolean' } }],
    ['$type object', { price: { $gte: 0 }, meta: { $type: 'object' } }],
    ['composite index, equality then range', { 'meta.colour': 'green', price: { $gt: 20 } }],
    ['case-sensitive strings', { 'meta.colour': 'Red' }],
    ['quote in a value is just a value', { owner: "alice' OR '1'='1" }, true],
  ];
  for (const [name, selector, mayBeEmpty] of cases) {
    test(name, () => {
      const keys = assertMatchesReference('market', { selector });
      if (mayBeEmpty !== true && name !== '$in empty') assert.ok(keys.length > 0, 'case should not be vacuous');
    });
  }

  test('type rules: a number bound never matches the string "7", and 1 never matches true', () => {
    const gt = walk('market', { selector: { price: { $gt: 5 } } }, 1000);
    const docs = DOCS.market!;
    assert.ok([...docs.values()].some((d) => d.price === '7'), 'fixture has a string price');
    assert.ok(gt.every((k) => typeof docs.get(k)?.price === 'number'));
    const one = walk('market', { selector: { flag: { $exists: true }, owner: { $in: [...OWNERS] } } }, 1000);
    assert.ok(one.length > 0);
    const flagTrue = walk('market', { selector: { owner: { $in: [...OWNERS] }, flag: true } }, 1000);
    assert.ok(flagTrue.every((k) => docs.get(k)?.flag === true));
    assert.ok([...docs.values()].some((d) => d.flag === 1), 'fixture has flag 1');
  });

  test('a __proto__ field from JSON.parse is an ordinary field', () => {
    const selector = JSON.parse('{"owner":"alice","__proto__":{"$exists":false}}') as Doc;
    assertMatchesReference('market', { selector });
  });
});

// Random selectors ---------------------------------------------------------------------

const scalarArb = fc.oneof(
  fc.constantFrom('alice', 'bob', 'carol', 'Émile', 'zoë', 'red', 'Red', 'green', '7', '10', '', 'abc', 'new'),
  fc.integer({ min: -5, max: 105 }),
  fc.integer({ min: 0, max: 1000 }).map((n) => n / 10),
  fc.boolean(),
  fc.constant(null),
);
const boundArb = fc.oneof(
  fc.constantFrom('alice', 'bob', 'c', 'red', '7', 'Z', 'é', ''),
  fc.integer({ min: -5, max: 105 }),
  fc.integer({ min: 0, max: 1000 }).map((n) => n / 10),
);
const rangeArb = fc.tuple(fc.constantFrom('$gt', '$gte', '$lt', '$lte'), boundArb).map(([op, v]) => ({ [op]: v }));
const operatorArb: fc.Arbitrary<Doc> = fc.oneof(
  scalarArb.map((v) => ({ $eq: v })),
  scalarArb.map((v) => ({ $ne: v })),
  rangeArb,
  fc.tuple(rangeArb, rangeArb).map(([a, b]) => ({ ...a, ...b })),
  fc.array(scalarArb, { maxLength: 4 }).map((vs) => ({ $in: vs })),
  fc.array(scalarArb, { maxLength: 4 }).map((vs) => ({ $nin: vs })),
  fc.boolean().map((b) => ({ $exists: b })),
  fc.constantFrom('null', 'boolean', 'number', 'string', 'array', 'object').map((t) => ({ $type: t })),
  fc.integer({ min: 0, max: 3 }).map((n) => ({ $size: n })),
);
const conditionArb: fc.Arbitrary<unknown> = fc.oneof(
  scalarArb,
  operatorArb,
  operatorArb.map((c) => ({ $not: c })),
  fc.array(operatorArb, { minLength: 1, maxLength: 2 }).map((cs) => ({ $or: cs })),
);
const FIELDS = ['owner', 'price', 'meta.colour', 'meta.size', 'meta', 'tags', 'flag'] as const;
const fieldSelectorArb = fc.tuple(fc.constantFrom(...FIELDS), conditionArb, fc.boolean()).map(([field, cond, nest]) => {
  const [head, tail] = field.split('.');
  return nest && tail !== undefined && head !== undefined ? { [head]: { [tail]: cond } } : { [field]: cond };
});
const { selector: selectorArb } = fc.letrec<{ selector: Doc }>((tie) => ({
  selector: fc.oneof(
    { maxDepth: 3, depthSize: 'small' },
    fieldSelectorArb,
    fc.array(tie('selector'), { minLength: 1, maxLength: 3 }).map((xs) => ({ $and: xs })),
    fc.array(tie('selector'), { minLength: 1, maxLength: 3 }).map((xs) => ({ $or: xs })),
    fc.array(tie('selector'), { minLength: 1, maxLength: 3 }).map((xs) => ({ $nor: xs })),
    tie('selector').map((s) => ({ $not: s })),
    fc.tuple(fieldSelectorArb, fieldSelectorArb).map(([a, b]) => ({ ...a, ...b })),
  ),
}));

interface Anchored { readonly anchor: Doc; readonly sorts: readonly MangoSort[] }
const asc = (...fields: string[]): MangoSort => fields;
const desc = (...fields: string[]): MangoSort => fields.map((f) => ({ [f]: 'desc' as const }));
const ANCHORS: fc.Arbitrary<Anchored> = fc.oneof(
  fc.subarray([...OWNERS], { minLength: 1 }).map((os): Anchored => ({ anchor: { owner: { $in: os } }, sorts: [asc('owner'), desc('owner')] })),
  fc.constant<Anchored>({ anchor: { owner: { $gte: '' } }, sorts: [asc('owner'), desc('owner')] }),
  fc.integer({ min: 0, max: 100 }).map((n): Anchored => ({ anchor: { price: { $gte: n } }, sorts: [asc('price'), desc('price')] })),
  fc.constantFrom(...COLOURS).map((c): Anchored => ({
    anchor: { 'meta.colour': c },
    sorts: [asc('price'), desc('price'), asc('meta.colour', 'price'), desc('meta.colour', 'price')],
  })),
  fc.constant<Anchored>({ anchor: { 'meta.colour': { $lt: 's' } }, sorts: [desc('meta.colour', 'price'), asc('meta.colour')] }),
);

/** Nesting of objects and arrays, the selector itself being level 1. */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (isObject(value)) return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

/** Compiles, or skips the run when the random selector went over the size limits. */
function compileOrSkip(ns: string, query: MangoQuery): CompiledMangoQuery | undefined {
  try {
    return compile(ns, query);
  } catch (error) {
    if (error instanceof SilkError && error.code === 'INVALID_QUERY' && /more than 64 conditions/.test(error.message)) return undefined;
    throw error;
  }
}

describe('random selectors (fast-check)', () => {
  test('every random selector returns what the reference evaluator returns', () => {
    let compared = 0;
    let nonEmpty = 0;
    fc.assert(
      fc.property(ANCHORS, selectorArb, fc.constantFrom('market', 'other'), ({ anchor }, selector, ns) => {
        const query = { selector: { $and: [anchor, selector] } };
        fc.pre(ns === 'market' || 'owner' in anchor);
        if (depthOf(query.selector) > MANGO_LIMITS.maxDepth) {
          assertRejects(() => compile(ns, query), 'INVALID_QUERY', /deeper than 10/);
          return;
        }
        const compiled = compileOrSkip(ns, query);
        fc.pre(compiled !== undefined);
        const expected = refQuery(ns, query.selector, compiled);
        compared += 1;
        if (expected.length > 0) nonEmpty += 1;
        assert.deepEqual(runPage(compiled).keys, expected, JSON.stringify(query));
      }),
      { numRuns: 400 },
    );
    // Guard against a generator that only ever produces empty results.
    assert.ok(compared > 200 && nonEmpty > compared / 4, `compared ${compared}, non-empty ${nonEmpty}`);
  });

  test('random pagination walks every match exactly once, in order, both directions', () => {
    fc.assert(
      fc.property(ANCHORS.chain((a) => fc.tuple(fc.constant(a.anchor), fc.constantFrom(...a.sorts))), selectorArb, fc.integer({ min: 1, max: 25 }),
        ([anchor, sort], selector, limit) => {
          const query = { selector: { $and: [anchor, selector] }, sort };
          fc.pre(depthOf(query.selector) <= MANGO_LIMITS.maxDepth);
          const compiled = compileOrSkip('market', query);
          fc.pre(compiled !== undefined);
          const expected = refQuery('market', query.selector, compiled);
          const keys = walk('market', query, limit);
          assert.equal(new Set(keys).size, keys.length, 'no key twice');
          assert.deepEqual(keys, expected, JSON.stringify({ query, limit }));
        }),
      { numRuns: 200 },
    );
  });
});

describe('namespaces', () => {
  test('a query sees only its own namespace', () => {
    const market = assertMatchesReference('market', { selector: { owner: 'alice' } });
    const other = assertMatchesReference('other', { selector: { owner: 'alice' } });
    assert.ok(market.length > 0 && other.length > 0);
    const otherDocs = DOCS.other!;
    assert.ok(other.every((k) => otherDocs.get(k)?.owner === 'alice'));
    // Keys overlap between namespaces, so the sets differ only because of the ns filter.
    assert.notDeepEqual(market, other);
    const compiled = compile('other', { selector: { owner: 'alice' } });
    assert.match(compiled.sql, /ns = 'other'/);
    assert.equal(compiled.sqlIndex, indexSqlName('other', { name: 'by_owner', fields: ['owner'] }));
  });

  test('index names differ per namespace, name, field list and letter case', () => {
    const ix = { name: 'by_owner', fields: ['owner'] };
    const names = new Set([
      indexSqlName('market', ix),
      indexSqlName('Market', ix),
      indexSqlName('market', { name: 'by_owner', fields: ['owner', 'price'] }),
      indexSqlName('market_by', { name: 'owner', fields: ['owner'] }),
      indexSqlName('market', { name: 'by_owner2', fields: ['owner'] }),
    ].map((n) => n.toLowerCase()));
    assert.equal(names.size, 5);
    assert.match(indexSqlName('market', ix), /^state_market_by_owner_[0-9a-f]{12}$/);
  });
});

describe('pagination', () => {
  const queries: [string, MangoQuery][] = [
    ['default order', { selector: { owner: { $gte: 'b' } } }],
    ['equality, default order', { selector: { owner: 'alice' } }],
    ['sort asc', { selector: { price: { $gte: 5 } }, sort: ['price'] }],
    ['sort desc', { selector: { price: { $gte: 5 } }, sort: [{ price: 'desc' }] }],
    ['sort desc with NULL sort values', { selector: { 'meta.colour': 'red' }, sort: [{ price: 'desc' }] }],
    ['sort asc with NULL sort values', { selector: { 'meta.colour': { $in: ['red', 'blue'] } }, sort: ['meta.colour', 'price'] }],
    ['two fields desc', { selector: { 'meta.colour': { $gt: 'a' } }, sort: [{ 'meta.colour': 'desc' }, { price: 'desc' }] }],
    ['mixed-type sort values', { selector: { owner: { $in: [...OWNERS, 7, null] } }, sort: [{ owner: 'desc' }] }],
  ];
  for (const [name, query] of queries) {
    test(name, () => {
      const compiled = compile('market', query);
      const expected = refQuery('market', query.selector, compiled);
      assert.ok(expected.length > 3, 'case should span pages');
      for (const limit of [1, 2, 3, 7, expected.length - 1, expected.length, expected.length + 1]) {
        assert.deepEqual(walk('market', query, limit), expected, `limit ${limit}`);
      }
    });
  }

  test('integers beyond 2^53 page exactly when read with safeIntegers', () => {
    const index = { name: 'by_n', fields: ['n'] };
    db.exec(indexDdl('big', index));
    const insert = db.prepare("INSERT INTO state (ns, key, value, block, tx) VALUES ('big', ?, ?, 0, 0)");
    const rows: [string, string][] = [
      ['k1', '{"n":9007199254740993}'], ['k2', '{"n":9007199254740992}'], ['k3', '{"n":9007199254740994}'],
      ['k4', '{"n":9007199254740993}'], ['k5', '{"n":5}'], ['k6', '{"n":-9007199254740995}'],
    ];
    for (const [key, value] of rows) insert.run(key, value);
    for (const [sort, expected] of [
      [['n'], ['k6', 'k5', 'k2', 'k1', 'k4', 'k3']],
      [[{ n: 'desc' as const }], ['k3', 'k4', 'k1', 'k2', 'k5', 'k6']],
    ] as const) {
      const keys: string[] = [];
      let bookmark: string | undefined;
      do {
        const page = { limit: 1, ...(bookmark === undefined ? {} : { bookmark }) };
        const compiled = compileMangoQuery('big', { selector: { n: { $gt: -1e300 } }, sort }, [index], page);
        const result = toMangoPage(db.prepare(compiled.sql).safeIntegers(true).all(...compiled.params), compiled);
        keys.push(...result.records.map((r) => r.key));
        bookmark = result.bookmark;
      } while (bookmark !== undefined);
      assert.deepEqual(keys, expected);
    }
  });

  test('bookmarks round-trip bigint, infinite and null sort values', () => {
    const mark = { order: ['a', 'b', 'c', 'd'], direction: 'desc' as const, values: [12345678901234567890n, -Infinity, null, 'é'], key: 'k' };
    assert.deepEqual(decodeBookmark(encodeBookmark(mark)), mark);
    assert.match(encodeBookmark(mark), /^[A-Za-z0-9_-]+$/);
  });

  test('nextBookmark continues after the given row', () => {
    const query: MangoQuery = { selector: { price: { $gte: 5 } }, sort: ['price'] };
    const all = compile('market', query);
    const rows = db.prepare(all.sql).all(...all.params);
    const third = rows[2];
    const next = compile('market', query, 1000, nextBookmark(third, all));
    const keys = runPage(next).keys;
    assert.deepEqual(keys, toMangoPage(rows, all).records.slice(3).map((r) => r.key));
  });

  test('the last page has no bookmark; a full page followed by nothing has none either', () => {
    const query: MangoQuery = { selector: { owner: 'alice' } };
    const count = walk('market', query, 1000).length;
    assert.equal(runPage(compile('market', query, count)).bookmark, undefined);
    assert.notEqual(runPage(compile('market', query, count - 1)).bookmark, undefined);
  });
});

describe('the index serves the query (EXPLAIN QUERY PLAN)', () => {
  function plan(compiled: CompiledMangoQuery): string {
    const rows = db.prepare(`EXPLAIN QUERY PLAN ${compiled.sql}`).all(...compiled.params) as { detail: string }[];
    return rows.map((r) => r.detail).join(' | ');
  }

  test('equality on the first field seeks the index and needs no sort', () => {
    const compiled = compile('market', { selector: { owner: 'alice', price: { $gt: 3 } } }, 10);
    assert.equal(compiled.index, 'by_owner');
    const detail = plan(compiled);
    assert.match(detail, new RegExp(`USING INDEX ${compiled.sqlIndex} \\(ns=\\? AND <expr>=\\?\\)`));
    assert.doesNotMatch(detail, /TEMP B-TREE/);
  });

  test('a range on the first field seeks the index, both directions, with a bookmark', () => {
    for (const sort of [['price'], [{ price: 'desc' as const }]]) {
      const first = compile('market', { selector: { price: { $gt: 10 } }, sort }, 5);
      const page = runPage(first);
      assert.ok(page.bookmark !== undefined);
      const compiled = compile('market', { selector: { price: { $gt: 10 } }, sort }, 5, page.bookmark);
      const detail = plan(compiled);
      assert.match(detail, new RegExp(`USING INDEX ${compiled.sqlIndex} \\(ns=\\? AND <expr>>\\?`));
      assert.doesNotMatch(detail, /TEMP B-TREE/);
    }
  });

  test('equality on the first field of a composite index, sorted by the second', () => {
    const compiled = compile('market', { selector: { meta: { colour: 'red' } }, sort: [{ price: 'desc' }] }, 5);
    assert.equal(compiled.index, 'by_colour_price');
    const detail = plan(compiled);
    assert.match(detail, new RegExp(`USING INDEX ${compiled.sqlIndex}`));
    assert.doesNotMatch(detail, /TEMP B-TREE/);
  });

  test('the DDL is a partial expression index on the namespace', () => {
    assert.equal(
      indexDdl('market', { name: 'by_colour_price', fields: ['meta.colour', 'price'] }),
      `CREATE INDEX IF NOT EXISTS ${indexSqlName('market', { name: 'by_colour_price', fields: ['meta.colour', 'price'] })} ` +
        "ON state (ns, json_extract(value,'$.meta.colour'), json_extract(value,'$.price')) WHERE ns = 'market'",
    );
  });
});

describe('rejections', () => {
  const selectorWith = (extra: Doc): MangoQuery => ({ selector: { owner: 'alice', ...extra } });

  test('$regex and other unsupported operators name the operator and the path', () => {
    assertRejects(() => compile('market', selectorWith({ name: { $regex: '^a' } })), 'INVALID_QUERY', /\$regex.*selector\.name\.\$regex/, 'selector.name.$regex');
    assertRejects(
      () => compile('market', { selector: { owner: 'a', $or: [{ price: 1 }, { price: 2 }, { price: { $elemMatch: {} } }] } }),
      'INVALID_QUERY', /\$elemMatch is not supported/, 'selector.$or[2].price.$elemMatch',
    );
    assertRejects(() => compile('market', selectorWith({ price: { $foo: 1 } })), 'INVALID_QUERY', /unknown operator \$foo/, 'selector.price.$foo');
  });

  test('wrong operand types', () => {
    const bad: [Doc, string][] = [
      [{ price: { $gt: true } }, 'selector.price.$gt'],
      [{ price: { $gt: null } }, 'selector.price.$gt'],
      [{ price: { $lt: [1] } }, 'selector.price.$lt'],
      [{ price: [1, 2] }, 'selector.price'],
      [{ price: { $eq: { a: 1 } } }, 'selector.price.$eq'],
      [{ price: {} }, 'selector.price'],
      [{ price: { $in: 'a' } }, 'selector.price.$in'],
      [{ price: { $in: [1, [2]] } }, 'selector.price.$in[1]'],
      [{ price: { $exists: 1 } }, 'selector.price.$exists'],
      [{ price: { $type: 'date' } }, 'selector.price.$type'],
      [{ tags: { $size: -1 } }, 'selector.tags.$size'],
      [{ $or: [] }, 'selector.$or'],
      [{ $and: {} }, 'selector.$and'],
      [{ $not: 1 }, 'selector.$not'],
      [{ $gt: 1 }, 'selector.$gt'],
      [{ $or: [{ price: { $gt: Number.NaN } }] }, 'selector.$or[0].price.$gt'],
    ];
    for (const [extra, path] of bad) assertRejects(() => compile('market', selectorWith(extra)), 'INVALID_QUERY', undefined, path);
  });

  test('limits: depth, conditions, list length, path length', () => {
    let deep: Doc = { price: 1 };
    for (let i = 0; i < 9; i += 1) deep = { $and: [deep] };
    assertRejects(() => compile('market', selectorWith(deep)), 'INVALID_QUERY', /deeper than 10/);
    let ok: Doc = { price: 1 };
    for (let i = 0; i < 4; i += 1) ok = { $and: [ok] };
    compile('market', selectorWith(ok));

    const many = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`f${i}`, i]));
    assertRejects(() => compile('market', selectorWith(many)), 'INVALID_QUERY', /more than 64 conditions/, 'selector.f63');
    const { f63: _dropped, ...sixtyThree } = many;
    compile('market', selectorWith(sixtyThree));

    const list = Array.from({ length: 257 }, (_, i) => i);
    assertRejects(() => compile('market', selectorWith({ price: { $in: list } })), 'INVALID_QUERY', /256/, 'selector.price.$in');
    compile('market', selectorWith({ price: { $nin: list.slice(1) } }));

    const long = 'a'.repeat(201);
    assertRejects(() => compile('market', selectorWith({ [long]: 1 })), 'INVALID_QUERY', /200/);
    assertRejects(() => compile('market', selectorWith({ ['a'.repeat(150)]: { ['b'.repeat(50)]: 1 } })), 'INVALID_QUERY', /200/);
  });

  test('a selector no declared index serves', () => {
    const cases: Doc[] = [
      { flag: true },
      { $or: [{ owner: 'alice' }, { owner: 'bob' }] },
      { owner: { $ne: 'alice' } },
      { owner: { $exists: true } },
      { $not: { owner: 'alice' } },
      { 'meta.size': 3 },
      {},
    ];
    for (const selector of cases) {
      assertRejects(() => compile('market', { selector }), 'QUERY_NOT_INDEXED', /by_owner\(owner\), by_price\(price\), by_colour_price\(meta\.colour, price\)/);
    }
    assertRejects(() => compileMangoQuery('market', { selector: { owner: 'a' } }, [], { limit: 1 }), 'QUERY_NOT_INDEXED', /declares no indexes/);
    assertRejects(() => compile('market', { selector: { owner: 'a' }, use_index: 'by_price' }), 'QUERY_NOT_INDEXED', /by_price/);
    assertRejects(() => compile('market', { selector: { owner: 'a' }, use_index: 'nope' }), 'QUERY_NOT_INDEXED', /nope/);
    assert.equal(compile('market', { selector: { owner: 'a', price: 1 }, use_index: 'by_price' }).index, 'by_price');
  });

  test('sort must use fields of the serving index, in one direction', () => {
    assertRejects(() => compile('market', { selector: { owner: 'alice' }, sort: ['price'] }), 'INVALID_QUERY', /sort fields price/, 'sort');
    assertRejects(() => compile('market', { selector: { 'meta.colour': 'red' }, sort: ['meta.colour', { price: 'desc' }] }), 'INVALID_QUERY', /same direction/);
    assertRejects(() => compile('market', { selector: { owner: 'alice' }, sort: [{ owner: 'up' } as never] }), 'INVALID_QUERY', undefined, 'sort[0]');
    assertRejects(() => compile('market', { selector: { owner: 'alice' }, sort: ['owner', 'owner'] }), 'INVALID_QUERY', /twice/);
    assert.equal(compile('market', { selector: { owner: 'a', 'meta.colour': 'red' }, sort: ['price'] }).index, 'by_colour_price');
  });

  test('query members outside the subset', () => {
    assertRejects(() => compile('market', { selector: { owner: 'a' }, fields: ['owner'] }), 'INVALID_QUERY', /projection/);
    assertRejects(() => compile('market', { selector: { owner: 'a' }, limit: 5 } as MangoQuery), 'INVALID_QUERY', /page\.limit/);
    assertRejects(() => compile('market', { selector: { owner: 'a' }, r: 1 } as MangoQuery), 'INVALID_QUERY', /unknown query member/);
    assertRejects(() => compile('market', {} as MangoQuery), 'INVALID_QUERY', /needs a selector/);
    assertRejects(() => compile('market', { selector: [] as unknown as Doc }), 'INVALID_QUERY', /must be an object/);
  });

  test('page limits and bookmarks', () => {
    for (const limit of [0, 1001, 1.5, Number.NaN, -1]) {
      assertRejects(() => compile('market', { selector: { owner: 'a' } }, limit), 'INVALID_ARGUMENT', /page\.limit/);
    }
    compile('market', { selector: { owner: 'a' } }, 1000);
    const good = encodeBookmark({ order: ['owner'], direction: 'asc', values: ['a'], key: 'k' });
    for (const bookmark of ['', 'not base64!', `${good}=`, Buffer.from('{"v":1').toString('base64url'),
      Buffer.from('{"v":2,"o":[],"d":"asc","s":[],"k":"k"}').toString('base64url'),
      Buffer.from('{"v":1,"o":["a"],"d":"asc","s":[{"x":1}],"k":"k"}').toString('base64url'),
      Buffer.from('{"v":1,"o":["a\'"],"d":"asc","s":[1],"k":"k"}').toString('base64url')]) {
      assertRejects(() => compile('market', { selector: { owner: 'a' } }, 5, bookmark), 'INVALID_ARGUMENT', /bookmark/);
    }
    const otherOrder = encodeBookmark({ order: ['price'], direction: 'asc', values: [1], key: 'k' });
    assertRejects(() => compile('market', { selector: { owner: 'a' } }, 5, otherOrder), 'INVALID_ARGUMENT', /different sort order/);
    const otherDirection = encodeBookmark({ order: ['owner'], direction: 'desc', values: ['a'], key: 'k' });
    assertRejects(() => compile('market', { selector: { owner: 'a' } }, 5, otherDirection), 'INVALID_ARGUMENT', /different sort order/);
  });
});

describe('injection attempts', () => {
  test('field names, sort fields and namespaces cannot carry SQL', () => {
    const evil = ["owner') OR 1=1 --", "owner'", 'owner"', 'owner)', 'owner.', '.owner', 'own er', 'owner[0]', 'ow$ner', 'owner\u0000', 'ownér'];
    for (const field of evil) {
      assertRejects(() => compile('market', { selector: { owner: 'a', [field]: 1 } }), 'INVALID_QUERY', /field names/, `selector.${field}`);
      assertRejects(() => compile('market', { selector: { owner: 'a' }, sort: [field] }), 'INVALID_QUERY', undefined, 'sort[0]');
    }
    for (const ns of ["market' OR '1'='1", 'market;', '', 'a'.repeat(65), 'mar ket', 'märket']) {
      assertRejects(() => compileMangoQuery(ns, { selector: { owner: 'a' } }, INDEXES, { limit: 1 }), 'INVALID_ARGUMENT', /namespace/);
      assertRejects(() => indexDdl(ns, { name: 'by_owner', fields: ['owner'] }), 'INVALID_ARGUMENT', /namespace/);
    }
  });

  test('index declarations cannot carry SQL', () => {
    const bad: StateIndex[] = [
      { name: 'by_owner', fields: ["a'); DROP TABLE state; --"] },
      { name: 'x; DROP TABLE state', fields: ['owner'] },
      { name: 'By_owner', fields: ['owner'] },
      { name: '1st', fields: ['owner'] },
      { name: 'a'.repeat(41), fields: ['owner'] },
      { name: 'by_owner', fields: [] },
      { name: 'by_owner', fields: ['a', 'b', 'c', 'd', 'e'] },
      { name: 'by_owner', fields: ['owner', 'owner'] },
      { name: 'by_owner', fields: ['a'.repeat(201)] },
    ];
    for (const index of bad) {
      assertRejects(() => indexDdl('market', index), 'INVALID_ARGUMENT');
      assertRejects(() => compileMangoQuery('market', { selector: { owner: 'a' } }, [index], { limit: 1 }), 'INVALID_ARGUMENT');
    }
    assertRejects(() => compileMangoQuery('market', { selector: { owner: 'a' } }, [INDEXES[0]!, INDEXES[0]!], { limit: 1 }), 'INVALID_ARGUMENT', /twice/);
  });

  test('values are bound, never spliced', () => {
    const value = "x'); DROP TABLE state; --";
    const compiled = compile('market', { selector: { owner: value, price: { $in: [value] } } });
    assert.ok(!compiled.sql.includes(value));
    assert.ok(compiled.params.includes(value));
    assert.deepEqual(runPage(compiled).keys, []);
    assert.equal((db.prepare("SELECT count(*) AS n FROM state WHERE ns IN ('market', 'other')").get() as { n: number }).n, 210);
  });
});
