/**
 * Rich queries over world state: a documented subset of CouchDB's Mango selector language,
 * compiled to one parameterised SQLite statement over `json_extract(value, '$.path')` and
 * served from an expression index the contract declares. `docs/rich-queries.md` is the
 * user-facing description of the subset, its semantics, its limits and its pagination.
 *
 * Safety rests on two rules: every value from a query is bound as a parameter, and the only
 * text spliced into SQL (namespace, field paths, index names) must match strict patterns of
 * letters, digits and underscores. Paths and the namespace have to be literals, not
 * parameters, or SQLite could not match them against the expression index and its
 * partial-index `WHERE ns = '…'` clause.
 */
import { createHash } from 'node:crypto';
import { SilkError } from '../errors.js';

/** An index a contract declares over its own namespace of world state. */
export interface StateIndex {
  /** `[a-z][a-z0-9_]{0,39}`, unique among the contract's indexes. */
  readonly name: string;
  /** 1 to 4 dotted JSON paths (`owner`, `meta.colour`); each segment is `[A-Za-z0-9_]+`. */
  readonly fields: readonly string[];
}

/** A sort direction, as in Mango. */
export type MangoSortDirection = 'asc' | 'desc';

/** A Mango sort: field names (ascending) or one-key objects naming the direction. */
export type MangoSort = readonly (string | Readonly<Record<string, MangoSortDirection>>)[];

/** A Mango selector: field conditions and combination operators, as parsed from JSON. */
export type MangoSelector = Readonly<Record<string, unknown>>;

/** A rich query. Only `selector`, `sort` and `use_index` are accepted. */
export interface MangoQuery {
  /** Which documents match; see `docs/rich-queries.md` for the operators. */
  readonly selector: MangoSelector;
  /** Result order; every field must belong to the index serving the query, all one direction. */
  readonly sort?: MangoSort;
  /** Projection is not supported: any value is rejected with `INVALID_QUERY`. */
  readonly fields?: readonly string[];
  /** The name of the declared index to serve the query from, instead of choosing one. */
  readonly use_index?: string;
}

/** Which page of results to return. */
export interface MangoPage {
  /** Rows per page, an integer from 1 to {@link MANGO_LIMITS}.maxPageSize. */
  readonly limit: number;
  /** The bookmark returned with the previous page; omit for the first page. */
  readonly bookmark?: string;
}

/** One sort field of a compiled query. */
export interface MangoSortKey {
  readonly field: string;
  readonly direction: MangoSortDirection;
}

/** A rich query compiled to SQL, ready for `db.prepare(sql).all(...params)`. */
export interface CompiledMangoQuery {
  /**
   * Selects `key, value, block, tx` and one column per sort field (named in
   * {@link CompiledMangoQuery.sortColumns}), ordered by the sort fields then `key`, and
   * returns up to `limit + 1` rows: the extra row only tells {@link toMangoPage} that
   * another page exists.
   */
  readonly sql: string;
  /** Positional parameters for `sql`, in order. */
  readonly params: unknown[];
  /** The declared name of the index serving the query. */
  readonly index: string;
  /** The SQLite name of that index (see {@link indexSqlName}). */
  readonly sqlIndex: string;
  /** The order of results before the final `key` tiebreaker (same direction). */
  readonly sort: readonly MangoSortKey[];
  /** The column holding each sort field's value, parallel to `sort`. */
  readonly sortColumns: readonly string[];
  /** The page size asked for. */
  readonly limit: number;
}

/** A sort value as SQLite returns it from `json_extract` (a `bigint` under `safeIntegers`). */
export type MangoSortValue = string | number | bigint | null;

/** The position a bookmark encodes: the last row's sort values and key. */
export interface MangoBookmark {
  /** The sort fields the position belongs to. */
  readonly order: readonly string[];
  readonly direction: MangoSortDirection;
  /** The last row's sort values, parallel to `order`. */
  readonly values: readonly MangoSortValue[];
  /** The last row's key, the final tiebreaker. */
  readonly key: string;
}

/** One state entry in a page of rich-query results. */
export interface MangoRecord {
  readonly key: string;
  /** The stored JSON text. */
  readonly value: string;
  readonly block: number;
  readonly tx: number;
}

/** A page of rich-query results. */
export interface MangoResultPage {
  readonly records: MangoRecord[];
  /** Pass back as `page.bookmark` for the next page; absent when this page is the last. */
  readonly bookmark?: string;
}

/** The hard limits on rich queries and index declarations. */
export const MANGO_LIMITS = {
  /** Nesting of objects and arrays in a selector, the selector itself being level 1. */
  maxDepth: 10,
  /** Field conditions (and empty `{}` sub-selectors) in one selector. */
  maxConditions: 64,
  /** Items in one `$in` or `$nin` list. */
  maxListItems: 256,
  /** Characters in one dotted field path. */
  maxPathLength: 200,
  /** Rows per page. */
  maxPageSize: 1000,
  /** Fields in one index. */
  maxIndexFields: 4,
  /** Characters in a bookmark. */
  maxBookmarkLength: 1_000_000,
} as const;

const NAMESPACE_PATTERN = /^[A-Za-z0-9_]{1,64}$/;
const INDEX_NAME_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;
const FIELD_PATH_PATTERN = /^[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*$/;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]+$/;
const BOOKMARK_VERSION = 1;

/** Mango operators recognised but deliberately outside the supported subset. */
const UNSUPPORTED_OPERATORS = new Set([
  '$regex', '$all', '$elemMatch', '$allMatch', '$keyMapMatch', '$mod', '$text', '$beginsWith',
]);

/** `$type` names and the `json_type` results each one accepts. */
const TYPE_NAMES: Readonly<Record<string, string>> = {
  null: "'null'",
  boolean: "'true','false'",
  number: "'integer','real'",
  string: "'text'",
  array: "'array'",
  object: "'object'",
};

// ---------------------------------------------------------------------------------------
// Validation of the pieces spliced into SQL
// ---------------------------------------------------------------------------------------

function invalidArgument(message: string, path?: string): SilkError {
  return new SilkError('INVALID_ARGUMENT', message, path === undefined ? {} : { path });
}

function invalidQuery(message: string, path: string): SilkError {
  return new SilkError('INVALID_QUERY', `${message} (at ${path})`, { path });
}

function assertNamespace(ns: unknown): asserts ns is string {
  if (typeof ns !== 'string' || !NAMESPACE_PATTERN.test(ns)) {
    throw invalidArgument(`namespace must match ${NAMESPACE_PATTERN.source}`, 'ns');
  }
}

function isFieldPath(path: string): boolean {
  return path.length <= MANGO_LIMITS.maxPathLength && FIELD_PATH_PATTERN.test(path);
}

function assertIndex(index: unknown, where: string): asserts index is StateIndex {
  if (typeof index !== 'object' || index === null) throw invalidArgument('an index must be an object', where);
  const { name, fields } = index as { name?: unknown; fields?: unknown };
  if (typeof name !== 'string' || !INDEX_NAME_PATTERN.test(name)) {
    throw invalidArgument(`index name must match ${INDEX_NAME_PATTERN.source}`, `${where}.name`);
  }
  if (!Array.isArray(fields) || fields.length < 1 || fields.length > MANGO_LIMITS.maxIndexFields) {
    throw invalidArgument(`index ${name} must list 1 to ${MANGO_LIMITS.maxIndexFields} fields`, `${where}.fields`);
  }
  const seen = new Set<string>();
  fields.forEach((field: unknown, i) => {
    if (typeof field !== 'string' || !isFieldPath(field)) {
      throw invalidArgument(
        `index ${name} field must be a dotted path of [A-Za-z0-9_]+ segments, at most ${MANGO_LIMITS.maxPathLength} characters`,
        `${where}.fields[${i}]`,
      );
    }
    if (seen.has(field)) throw invalidArgument(`index ${name} lists field ${field} twice`, `${where}.fields[${i}]`);
    seen.add(field);
  });
}

function assertIndexes(indexes: unknown): asserts indexes is readonly StateIndex[] {
  if (!Array.isArray(indexes)) throw invalidArgument('indexes must be an array', 'indexes');
  const names = new Set<string>();
  indexes.forEach((index: unknown, i) => {
    assertIndex(index, `indexes[${i}]`);
    if (names.has(index.name)) throw invalidArgument(`index name ${index.name} is declared twice`, `indexes[${i}].name`);
    names.add(index.name);
  });
}

/** `json_extract(value,'$.path')`, spelled exactly as in the index so SQLite matches it. */
function extractSql(path: string): string {
  return `json_extract(value,'$.${path}')`;
}

function typeSql(path: string): string {
  return `json_type(value,'$.${path}')`;
}

function presentSql(path: string): string {
  return `${typeSql(path)} IS NOT NULL`;
}

/** Negation that reads SQL NULL ("unknown") as false, keeping the logic two-valued. */
function notSql(sql: string): string {
  return `(${sql}) IS NOT TRUE`;
}

// ---------------------------------------------------------------------------------------
// Index DDL
// ---------------------------------------------------------------------------------------

/**
 * The SQLite name of a declared index: readable, and unique per namespace, index name and
 * field list (SQLite names ignore case, and a redeclared field list must not reuse an old
 * index silently).
 * @param ns - The contract's namespace, `[A-Za-z0-9_]{1,64}`.
 * @param index - The declared index.
 * @returns A name like `state_market_by_owner_3f2a9c0d1e4b`.
 * @throws {SilkError} `INVALID_ARGUMENT` when `ns` or the index declaration is malformed.
 * @example
 * indexSqlName('market', { name: 'by_owner', fields: ['owner'] }); // 'state_market_by_owner_…'
 */
export function indexSqlName(ns: string, index: StateIndex): string {
  assertNamespace(ns);
  assertIndex(index, 'index');
  const digest = createHash('sha256').update(JSON.stringify([ns, index.name, index.fields])).digest('hex');
  return `state_${ns}_${index.name}_${digest.slice(0, 12)}`;
}

/**
 * The `CREATE INDEX IF NOT EXISTS` statement for a declared index: a partial expression
 * index on `(ns, json_extract(value,'$.f1'), …)` restricted to the namespace.
 * @param ns - The contract's namespace, `[A-Za-z0-9_]{1,64}`.
 * @param index - The declared index.
 * @returns One SQL statement, safe to run on every start.
 * @throws {SilkError} `INVALID_ARGUMENT` when `ns` or the index declaration is malformed.
 * @example
 * db.exec(indexDdl('market', { name: 'by_colour_price', fields: ['meta.colour', 'price'] }));
 */
export function indexDdl(ns: string, index: StateIndex): string {
  const name = indexSqlName(ns, index);
  const columns = ['ns', ...index.fields.map(extractSql)].join(', ');
  return `CREATE INDEX IF NOT EXISTS ${name} ON state (${columns}) WHERE ns = '${ns}'`;
}

// ---------------------------------------------------------------------------------------
// Selector compilation
// ---------------------------------------------------------------------------------------

type Scalar = string | number | boolean | null;

/** A top-level AND-ed condition that an index can seek on. */
interface Anchor {
  readonly path: string;
  /** One value only (scalar equality): every match has the same sort value here. */
  readonly single: boolean;
  /** Every match has a non-NULL `json_extract` here. */
  readonly nonNull: boolean;
}

interface CompileState {
  readonly params: unknown[];
  readonly anchors: Anchor[];
  conditions: number;
}

/** Where an operator sits in the selector. */
interface OperatorSite {
  readonly arg: unknown;
  /** The dotted field path the operator applies to; undefined at the top level. */
  readonly field: string | undefined;
  /** Display path for errors, e.g. `selector.$or[2].price.$gt`. */
  readonly where: string;
  /** Depth of the object holding the operator. */
  readonly depth: number;
  /** True when the operator is reached only through ANDs from the top. */
  readonly anded: boolean;
  readonly state: CompileState;
}

type OperatorHandler = (site: OperatorSite) => string;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkDepth(depth: number, where: string): void {
  if (depth > MANGO_LIMITS.maxDepth) {
    throw invalidQuery(`selector is nested deeper than ${MANGO_LIMITS.maxDepth} levels`, where);
  }
}

function countCondition(state: CompileState, where: string): void {
  state.conditions += 1;
  if (state.conditions > MANGO_LIMITS.maxConditions) {
    throw invalidQuery(`selector has more than ${MANGO_LIMITS.maxConditions} conditions`, where);
  }
}

function scalarArg(value: unknown, where: string): Scalar {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalidQuery('numbers must be finite', where);
    return value;
  }
  throw invalidQuery('value must be a string, number, boolean or null (arrays and objects are not comparable)', where);
}

function bind(state: CompileState, value: unknown): string {
  state.params.push(value);
  return '?';
}

function equalitySql(path: string, value: Scalar, state: CompileState): string {
  const x = extractSql(path);
  const t = typeSql(path);
  if (value === null) return `(${x} IS NULL AND ${t} = 'null')`;
  if (typeof value === 'boolean') return `(${x} = ${bind(state, value ? 1 : 0)} AND ${t} = '${String(value)}')`;
  if (typeof value === 'number') return `(${t} IN ('integer','real') AND ${x} = ${bind(state, value)})`;
  return `(${t} = 'text' AND ${x} = ${bind(state, value)})`;
}

function inListSql(path: string, items: readonly Scalar[], state: CompileState): string {
  const strings = items.filter((v): v is string => typeof v === 'string');
  const numbers = items.filter((v): v is number => typeof v === 'number');
  const others = items.filter((v): v is boolean | null => typeof v === 'boolean' || v === null);
  const parts: string[] = [];
  const x = extractSql(path);
  const t = typeSql(path);
  if (strings.length > 0) parts.push(`(${t} = 'text' AND ${x} IN (${strings.map((v) => bind(state, v)).join(',')}))`);
  if (numbers.length > 0) parts.push(`(${t} IN ('integer','real') AND ${x} IN (${numbers.map((v) => bind(state, v)).join(',')}))`);
  for (const v of new Set(others)) parts.push(equalitySql(path, v, state));
  return parts.length === 0 ? '0' : `(${parts.join(' OR ')})`;
}

function listArg(site: OperatorSite, op: string): Scalar[] {
  const where = `${site.where}.${op}`;
  checkDepth(site.depth + 1, where);
  if (!Array.isArray(site.arg)) throw invalidQuery(`${op} needs an array`, where);
  if (site.arg.length > MANGO_LIMITS.maxListItems) {
    throw invalidQuery(`${op} lists more than ${MANGO_LIMITS.maxListItems} items`, where);
  }
  return site.arg.map((item: unknown, i) => scalarArg(item, `${where}[${i}]`));
}

/** Wraps a handler for an operator that tests one field's value. */
function fieldOperator(op: string, compile: (site: OperatorSite & { field: string }, where: string) => string): OperatorHandler {
  return (site) => {
    const where = `${site.where}.${op}`;
    const { field } = site;
    if (field === undefined) throw invalidQuery(`${op} must apply to a field`, where);
    countCondition(site.state, where);
    return compile({ ...site, field }, where);
  };
}

function rangeOperator(op: string, sqlOp: string): OperatorHandler {
  return fieldOperator(op, (site, where) => {
    const value = scalarArg(site.arg, where);
    const x = extractSql(site.field);
    const t = typeSql(site.field);
    let sql: string;
    if (typeof value === 'number') sql = `(${t} IN ('integer','real') AND ${x} ${sqlOp} ${bind(site.state, value)})`;
    else if (typeof value === 'string') sql = `(${t} = 'text' AND ${x} ${sqlOp} ${bind(site.state, value)})`;
    else throw invalidQuery(`${op} needs a number or a string`, where);
    if (site.anded) site.state.anchors.push({ path: site.field, single: false, nonNull: true });
    return sql;
  });
}

function combination(op: '$and' | '$or' | '$nor'): OperatorHandler {
  return (site) => {
    const where = `${site.where}.${op}`;
    checkDepth(site.depth + 1, where);
    if (!Array.isArray(site.arg) || site.arg.length === 0) throw invalidQuery(`${op} needs a non-empty array of selectors`, where);
    const anded = site.anded && op === '$and';
    const parts = site.arg.map((sub: unknown, i) =>
      compileSelector(sub, site.field, `${where}[${i}]`, site.depth + 2, anded, site.state),
    );
    if (op === '$and') return `(${parts.join(' AND ')})`;
    const any = `(${parts.join(' OR ')})`;
    if (op === '$or') return any;
    return site.field === undefined ? notSql(any) : `(${presentSql(site.field)} AND ${notSql(any)})`;
  };
}

const OPERATORS: Readonly<Record<string, OperatorHandler>> = {
  $and: combination('$and'),
  $or: combination('$or'),
  $nor: combination('$nor'),
  $not: (site) => {
    const where = `${site.where}.$not`;
    const inner = compileSelector(site.arg, site.field, where, site.depth + 1, false, site.state);
    return site.field === undefined ? notSql(inner) : `(${presentSql(site.field)} AND ${notSql(inner)})`;
  },
  $eq: fieldOperator('$eq', (site, where) => {
    const value = scalarArg(site.arg, where);
    if (site.anded) site.state.anchors.push({ path: site.field, single: true, nonNull: value !== null });
    return equalitySql(site.field, value, site.state);
  }),
  $ne: fieldOperator('$ne', (site, where) => {
    const value = scalarArg(site.arg, where);
    return `(${presentSql(site.field)} AND ${notSql(equalitySql(site.field, value, site.state))})`;
  }),
  $gt: rangeOperator('$gt', '>'),
  $gte: rangeOperator('$gte', '>='),
  $lt: rangeOperator('$lt', '<'),
  $lte: rangeOperator('$lte', '<='),
  $in: fieldOperator('$in', (site) => {
    const items = listArg(site, '$in');
    if (site.anded && items.length > 0) {
      site.state.anchors.push({ path: site.field, single: false, nonNull: !items.includes(null) });
    }
    return inListSql(site.field, items, site.state);
  }),
  $nin: fieldOperator('$nin', (site) => {
    const items = listArg(site, '$nin');
    return `(${presentSql(site.field)} AND ${notSql(inListSql(site.field, items, site.state))})`;
  }),
  $exists: fieldOperator('$exists', (site, where) => {
    if (typeof site.arg !== 'boolean') throw invalidQuery('$exists needs true or false', where);
    return site.arg ? `(${presentSql(site.field)})` : `(${typeSql(site.field)} IS NULL)`;
  }),
  $type: fieldOperator('$type', (site, where) => {
    const types = typeof site.arg === 'string' && Object.hasOwn(TYPE_NAMES, site.arg) ? TYPE_NAMES[site.arg] : undefined;
    if (types === undefined) throw invalidQuery(`$type needs one of ${Object.keys(TYPE_NAMES).join(', ')}`, where);
    return `(${typeSql(site.field)} IN (${types}))`;
  }),
  $size: fieldOperator('$size', (site, where) => {
    if (typeof site.arg !== 'number' || !Number.isSafeInteger(site.arg) || site.arg < 0) {
      throw invalidQuery('$size needs a non-negative integer', where);
    }
    return `(${typeSql(site.field)} = 'array' AND json_array_length(value,'$.${site.field}') = ${bind(site.state, site.arg)})`;
  }),
};

function compileOperator(op: string, site: OperatorSite): string {
  const handler = Object.hasOwn(OPERATORS, op) ? OPERATORS[op] : undefined;
  if (handler !== undefined) return handler(site);
  const where = `${site.where}.${op}`;
  if (UNSUPPORTED_OPERATORS.has(op)) throw invalidQuery(`operator ${op} is not supported`, where);
  throw invalidQuery(`unknown operator ${op}`, where);
}

function compileField(key: string, value: unknown, site: Omit<OperatorSite, 'arg'>): string {
  const where = `${site.where}.${key}`;
  const path = site.field === undefined ? key : `${site.field}.${key}`;
  if (!FIELD_PATH_PATTERN.test(key)) {
    throw invalidQuery('field names must be dotted paths of [A-Za-z0-9_]+ segments', where);
  }
  if (path.length > MANGO_LIMITS.maxPathLength) {
    throw invalidQuery(`field path is longer than ${MANGO_LIMITS.maxPathLength} characters`, where);
  }
  if (isPlainObject(value)) {
    if (Object.keys(value).length === 0) throw invalidQuery('a field condition cannot be an empty object', where);
    return compileSelector(value, path, where, site.depth + 1, site.anded, site.state);
  }
  countCondition(site.state, where);
  const scalar = scalarArg(value, where);
  if (site.anded) site.state.anchors.push({ path, single: true, nonNull: scalar !== null });
  return equalitySql(path, scalar, site.state);
}

/** Compiles a selector object applying at `field` (undefined at the top level). */
function compileSelector(
  selector: unknown,
  field: string | undefined,
  where: string,
  depth: number,
  anded: boolean,
  state: CompileState,
): string {
  checkDepth(depth, where);
  if (!isPlainObject(selector)) throw invalidQuery('a selector must be an object', where);
  const keys = Object.keys(selector);
  if (keys.length === 0) {
    countCondition(state, where);
    return '1';
  }
  const site = { field, where, depth, anded, state };
  const parts = keys.map((key) =>
    key.startsWith('$') ? compileOperator(key, { ...site, arg: selector[key] }) : compileField(key, selector[key], site),
  );
  return parts.length === 1 ? (parts[0] ?? '1') : `(${parts.join(' AND ')})`;
}

// ---------------------------------------------------------------------------------------
// Query envelope, sort, index choice
// ---------------------------------------------------------------------------------------

interface ParsedSort {
  readonly fields: readonly string[];
  readonly direction: MangoSortDirection;
}

function sortEntry(entry: unknown, where: string): MangoSortKey {
  if (typeof entry === 'string') return { field: entry, direction: 'asc' };
  if (isPlainObject(entry)) {
    const keys = Object.keys(entry);
    const field = keys[0];
    const direction = field === undefined ? undefined : entry[field];
    if (keys.length === 1 && field !== undefined && (direction === 'asc' || direction === 'desc')) return { field, direction };
  }
  throw invalidQuery('a sort entry must be a field name or {"field": "asc" | "desc"}', where);
}

function parseSort(sort: unknown): ParsedSort | undefined {
  if (sort === undefined) return undefined;
  if (!Array.isArray(sort)) throw invalidQuery('sort must be an array', 'sort');
  if (sort.length === 0) return undefined;
  if (sort.length > MANGO_LIMITS.maxIndexFields) {
    throw invalidQuery(`sort lists more than ${MANGO_LIMITS.maxIndexFields} fields`, 'sort');
  }
  const keys = sort.map((entry: unknown, i) => {
    const key = sortEntry(entry, `sort[${i}]`);
    if (!isFieldPath(key.field)) throw invalidQuery('sort fields must be dotted paths of [A-Za-z0-9_]+ segments', `sort[${i}]`);
    return key;
  });
  const fields = keys.map((k) => k.field);
  if (new Set(fields).size !== fields.length) throw invalidQuery('sort lists a field twice', 'sort');
  const direction = keys[0]?.direction ?? 'asc';
  if (keys.some((k) => k.direction !== direction)) throw invalidQuery('all sort fields must have the same direction', 'sort');
  return { fields, direction };
}

const QUERY_KEYS = new Set(['selector', 'sort', 'fields', 'use_index']);

function parseEnvelope(query: unknown): { selector: unknown; sort: ParsedSort | undefined; useIndex: string | undefined } {
  if (!isPlainObject(query)) throw invalidQuery('a query must be an object', 'query');
  for (const key of Object.keys(query)) {
    if (key === 'limit' || key === 'skip' || key === 'bookmark') {
      throw invalidQuery(`${key} is not part of the query: pass page.limit and page.bookmark`, key);
    }
    if (!QUERY_KEYS.has(key)) throw invalidQuery(`unknown query member ${key}`, key);
  }
  if (query.fields !== undefined) {
    throw invalidQuery('fields (projection) is not supported: read the returned value instead', 'fields');
  }
  if (!Object.hasOwn(query, 'selector')) throw invalidQuery('a query needs a selector', 'selector');
  const useIndex = query.use_index;
  if (useIndex !== undefined && typeof useIndex !== 'string') throw invalidQuery('use_index must be an index name', 'use_index');
  return { selector: query.selector, sort: parseSort(query.sort), useIndex };
}

function describeIndexes(indexes: readonly StateIndex[]): string {
  if (indexes.length === 0) return 'the contract declares no indexes';
  return `declared indexes: ${indexes.map((ix) => `${ix.name}(${ix.fields.join(', ')})`).join(', ')}`;
}

function notIndexed(message: string, indexes: readonly StateIndex[]): SilkError {
  return new SilkError('QUERY_NOT_INDEXED', `${message}; ${describeIndexes(indexes)}`, {
    indexes: indexes.map((ix) => ({ name: ix.name, fields: [...ix.fields] })),
  });
}

/** How many leading fields of the index are pinned to one value by the selector. */
function pinnedPrefix(index: StateIndex, anchors: readonly Anchor[]): number {
  let n = 0;
  while (n < index.fields.length && anchors.some((a) => a.single && a.path === index.fields[n])) n += 1;
  return n;
}

function chooseIndex(
  indexes: readonly StateIndex[],
  anchors: readonly Anchor[],
  sort: ParsedSort | undefined,
  useIndex: string | undefined,
): StateIndex {
  const serves = (ix: StateIndex): boolean => anchors.some((a) => a.path === ix.fields[0]);
  let candidates: StateIndex[];
  if (useIndex === undefined) {
    candidates = indexes.filter(serves);
    if (candidates.length === 0) {
      throw notIndexed(
        'no declared index serves this selector: it needs an equality, $in or range condition, AND-ed at the top level, on the first field of an index',
        indexes,
      );
    }
  } else {
    const named = indexes.find((ix) => ix.name === useIndex);
    if (named === undefined) throw notIndexed(`use_index names no declared index ${useIndex}`, indexes);
    if (!serves(named)) {
      throw notIndexed(`index ${named.name} needs an equality, $in or range condition, AND-ed at the top level, on ${named.fields[0] ?? ''}`, indexes);
    }
    candidates = [named];
  }
  if (sort !== undefined) {
    const fitting = candidates.filter((ix) => sort.fields.every((f) => ix.fields.includes(f)));
    if (fitting.length === 0) {
      const names = candidates.map((ix) => `${ix.name}(${ix.fields.join(', ')})`).join(', ');
      throw invalidQuery(`sort fields ${sort.fields.join(', ')} must all be fields of the index serving the query (${names})`, 'sort');
    }
    candidates = fitting;
  }
  // Stable: on equal pinned prefixes the earlier declaration wins.
  return candidates.reduce((best, ix) => (pinnedPrefix(ix, anchors) > pinnedPrefix(best, anchors) ? ix : best));
}

function checkPage(page: unknown): { limit: number; bookmark: string | undefined } {
  if (!isPlainObject(page)) throw invalidArgument('page must be an object', 'page');
  const { limit, bookmark } = page;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MANGO_LIMITS.maxPageSize) {
    throw invalidArgument(`page.limit must be an integer from 1 to ${MANGO_LIMITS.maxPageSize}`, 'page.limit');
  }
  if (bookmark !== undefined && typeof bookmark !== 'string') throw invalidArgument('page.bookmark must be a string', 'page.bookmark');
  return { limit, bookmark };
}

// ---------------------------------------------------------------------------------------
// Keyset pagination
// ---------------------------------------------------------------------------------------

/**
 * Rows strictly after the bookmark in (sort values…, key) order. NULL sorts first in
 * SQLite, so comparisons with a NULL bookmark value are spelled out; `IS` compares equal
 * NULLs. Both the ORDER BY and these comparisons use SQLite's storage-class order, so they
 * agree on every row.
 */
function keysetSql(exprs: readonly string[], direction: MangoSortDirection, mark: MangoBookmark, params: unknown[]): string {
  const after = (i: number): string => {
    const expr = exprs[i];
    if (expr === undefined) {
      params.push(mark.key);
      return `key ${direction === 'asc' ? '>' : '<'} ?`;
    }
    const value = mark.values[i] ?? null;
    let beyond: string | undefined;
    if (value === null) beyond = direction === 'asc' ? `${expr} IS NOT NULL` : undefined;
    else {
      params.push(value);
      beyond = direction === 'asc' ? `${expr} > ?` : `(${expr} < ? OR ${expr} IS NULL)`;
    }
    params.push(value);
    const same = `${expr} IS ? AND ${after(i + 1)}`;
    return beyond === undefined ? `(${same})` : `(${beyond} OR (${same}))`;
  };
  return after(0);
}

/** A redundant bound on the first sort expression, so SQLite seeks instead of scanning. */
function seekSql(expr: string, field: string, direction: MangoSortDirection, value: MangoSortValue, anchors: readonly Anchor[], params: unknown[]): string | undefined {
  if (value === null) return undefined;
  if (direction === 'asc') {
    params.push(value);
    return `${expr} >= ?`;
  }
  // Descending, NULLs come last; the bound is exact only when no match can be NULL.
  if (!anchors.some((a) => a.path === field && a.nonNull)) return undefined;
  params.push(value);
  return `${expr} <= ?`;
}

/**
 * Compiles a rich query into one SQL statement over the `state` table, served from a
 * declared index of the namespace.
 * @param ns - The contract's namespace, `[A-Za-z0-9_]{1,64}`.
 * @param query - The Mango query, as parsed from untrusted JSON.
 * @param indexes - The indexes the contract declares (their DDL from {@link indexDdl} must have run).
 * @param page - Page size and, after the first page, the previous page's bookmark.
 * @returns The SQL, its parameters and the chosen index; feed the rows to {@link toMangoPage}.
 * @throws {SilkError} `INVALID_QUERY` for operators, values or forms outside the subset or over a limit
 *   (`details.path` names the place, e.g. `selector.$or[2].price.$gt`);
 *   `QUERY_NOT_INDEXED` when no declared index serves the selector (the message lists them);
 *   `INVALID_ARGUMENT` for a bad namespace, index declaration, page size or bookmark.
 * @example
 * const compiled = compileMangoQuery('market', { selector: { owner: 'alice', price: { $lt: 50 } } },
 *   [{ name: 'by_owner', fields: ['owner'] }], { limit: 20 });
 * const page = toMangoPage(db.prepare(compiled.sql).all(...compiled.params), compiled);
 */
export function compileMangoQuery(
  ns: string,
  query: MangoQuery,
  indexes: readonly StateIndex[],
  page: MangoPage,
): CompiledMangoQuery {
  assertNamespace(ns);
  assertIndexes(indexes);
  const { limit, bookmark } = checkPage(page);
  const envelope = parseEnvelope(query);
  const state: CompileState = { params: [], anchors: [], conditions: 0 };
  const where = compileSelector(envelope.selector, undefined, 'selector', 1, true, state);
  const index = chooseIndex(indexes, state.anchors, envelope.sort, envelope.useIndex);
  const sqlIndex = indexSqlName(ns, index);
  const order = envelope.sort ?? { fields: [index.fields[0] ?? ''], direction: 'asc' as const };
  const dir = order.direction === 'asc' ? 'ASC' : 'DESC';
  const exprs = order.fields.map(extractSql);
  const sortColumns = order.fields.map((_, i) => `sort_${i}`);

  // A field pinned to one value by a top-level equality orders nothing; leaving it out
  // lets SQLite read rows in index order instead of sorting them.
  const pinned = (field: string): boolean => state.anchors.some((a) => a.single && a.path === field);
  const moving = order.fields.map((field, i) => ({ field, i })).filter(({ field }) => !pinned(field));
  const movingExprs = moving.map(({ i }) => exprs[i] ?? '');

  const params = [...state.params];
  const conditions = [`ns = '${ns}'`, where];
  if (bookmark !== undefined) {
    const mark = decodeBookmark(bookmark);
    if (mark.direction !== order.direction || mark.order.join('\n') !== order.fields.join('\n')) {
      throw invalidArgument('page.bookmark belongs to a query with a different sort order', 'page.bookmark');
    }
    const movingMark: MangoBookmark = { ...mark, values: moving.map(({ i }) => mark.values[i] ?? null) };
    const first = moving[0];
    const seek = first === undefined
      ? undefined
      : seekSql(movingExprs[0] ?? '', first.field, order.direction, movingMark.values[0] ?? null, state.anchors, params);
    if (seek !== undefined) conditions.push(seek);
    conditions.push(keysetSql(movingExprs, order.direction, movingMark, params));
  }
  params.push(limit + 1);

  const select = ['key', 'value', 'block', 'tx', ...exprs.map((e, i) => `${e} AS ${sortColumns[i] ?? ''}`)].join(', ');
  const orderBy = [...movingExprs.map((e) => `${e} ${dir}`), `key ${dir}`].join(', ');
  const sql = `SELECT ${select} FROM state INDEXED BY ${sqlIndex} WHERE ${conditions.join(' AND ')} ORDER BY ${orderBy} LIMIT ?`;
  return {
    sql,
    params,
    index: index.name,
    sqlIndex,
    sort: order.fields.map((field) => ({ field, direction: order.direction })),
    sortColumns,
    limit,
  };
}

// ---------------------------------------------------------------------------------------
// Bookmarks and pages
// ---------------------------------------------------------------------------------------

type EncodedValue = string | number | null | { readonly i: string } | { readonly f: string };

function encodeValue(value: MangoSortValue): EncodedValue {
  if (typeof value === 'bigint') return { i: value.toString() };
  if (typeof value === 'number' && !Number.isFinite(value)) return { f: String(value) };
  return value;
}

function decodeValue(value: unknown): MangoSortValue {
  if (value === null || typeof value === 'string' || typeof value === 'number') return value;
  if (isPlainObject(value) && Object.keys(value).length === 1) {
    if (typeof value.i === 'string' && /^-?\d{1,20}$/.test(value.i)) return BigInt(value.i);
    if (value.f === 'Infinity' || value.f === '-Infinity') return Number(value.f);
  }
  throw invalidArgument('page.bookmark is malformed', 'page.bookmark');
}

/**
 * Encodes a position in a result order as an opaque base64url bookmark.
 * @param mark - The sort fields and direction, the last row's sort values and its key.
 * @returns A base64url string (no padding).
 * @throws {SilkError} `INVALID_ARGUMENT` when `values` and `order` differ in length.
 * @example
 * encodeBookmark({ order: ['price'], direction: 'asc', values: [12], key: 'item-007' });
 */
export function encodeBookmark(mark: MangoBookmark): string {
  if (mark.values.length !== mark.order.length) throw invalidArgument('bookmark needs one value per sort field');
  const payload = { v: BOOKMARK_VERSION, o: mark.order, d: mark.direction, s: mark.values.map(encodeValue), k: mark.key };
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

/**
 * Decodes a bookmark made by {@link encodeBookmark}.
 * @param bookmark - The opaque string a client sent back.
 * @returns The position it encodes.
 * @throws {SilkError} `INVALID_ARGUMENT` when the bookmark is not one this module made.
 * @example
 * decodeBookmark(page.bookmark).key; // 'item-007'
 */
export function decodeBookmark(bookmark: string): MangoBookmark {
  const malformed = (cause?: unknown): SilkError =>
    new SilkError('INVALID_ARGUMENT', 'page.bookmark is malformed', { path: 'page.bookmark' }, { cause });
  if (bookmark.length > MANGO_LIMITS.maxBookmarkLength || !BASE64URL_PATTERN.test(bookmark)) throw malformed();
  const bytes = Buffer.from(bookmark, 'base64url');
  if (bytes.toString('base64url') !== bookmark) throw malformed();
  let payload: unknown;
  try {
    payload = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw malformed(error);
  }
  if (!isPlainObject(payload) || payload.v !== BOOKMARK_VERSION) throw malformed();
  const { o: order, d: direction, s: values, k: key } = payload;
  if (
    !Array.isArray(order) || !order.every((f): f is string => typeof f === 'string' && isFieldPath(f)) ||
    (direction !== 'asc' && direction !== 'desc') ||
    !Array.isArray(values) || values.length !== order.length ||
    typeof key !== 'string'
  ) {
    throw malformed();
  }
  return { order, direction, values: values.map(decodeValue), key };
}

function asRow(row: unknown): Readonly<Record<string, unknown>> {
  if (!isPlainObject(row)) throw invalidArgument('a result row must be an object');
  return row;
}

function sortValue(value: unknown, column: string): MangoSortValue {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') return value;
  throw invalidArgument(`result row has no usable sort value in ${column}`);
}

/**
 * The bookmark that continues after `row`, a row returned by a compiled query.
 * @param row - A row of `compiled.sql` (it carries `key` and the sort columns).
 * @param compiled - The query that produced the row.
 * @returns A bookmark for the page after `row`.
 * @throws {SilkError} `INVALID_ARGUMENT` when the row lacks `key` or a sort column.
 * @example
 * const next = nextBookmark(rows[rows.length - 1], compiled);
 */
export function nextBookmark(row: unknown, compiled: CompiledMangoQuery): string {
  const r = asRow(row);
  if (typeof r.key !== 'string') throw invalidArgument('result row has no key');
  return encodeBookmark({
    order: compiled.sort.map((s) => s.field),
    direction: compiled.sort[0]?.direction ?? 'asc',
    values: compiled.sortColumns.map((column) => sortValue(r[column], column)),
    key: r.key,
  });
}

function toNumber(value: unknown, column: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' && value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= 0n) return Number(value);
  throw invalidArgument(`result row has no usable ${column}`);
}

/**
 * Turns the rows of a compiled query into a page: at most `limit` records, and a bookmark
 * when more rows follow.
 * @param rows - Everything `db.prepare(compiled.sql).all(...compiled.params)` returned.
 * @param compiled - The query that produced the rows.
 * @returns The records in order, and the bookmark for the next page if there is one.
 * @throws {SilkError} `INVALID_ARGUMENT` when a row does not have the compiled query's shape.
 * @example
 * const { records, bookmark } = toMangoPage(db.prepare(c.sql).all(...c.params), c);
 */
export function toMangoPage(rows: readonly unknown[], compiled: CompiledMangoQuery): MangoResultPage {
  const kept = rows.slice(0, compiled.limit).map(asRow);
  const records = kept.map((r): MangoRecord => {
    if (typeof r.key !== 'string' || typeof r.value !== 'string') throw invalidArgument('result row has no key or value');
    return { key: r.key, value: r.value, block: toNumber(r.block, 'block'), tx: toNumber(r.tx, 'tx') };
  });
  const last = kept[kept.length - 1];
  if (rows.length <= compiled.limit || last === undefined) return { records };
  return { records, bookmark: nextBookmark(last, compiled) };
}
