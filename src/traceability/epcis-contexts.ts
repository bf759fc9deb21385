/**
 * JSON-LD `@context` handling for EPCIS 2.0 documents, without a JSON-LD processor and
 * without the network. The known GS1 context URLs map to copies vendored under
 * `vendor/epcis/contexts/` (sources in `vendor/epcis/SOURCE.md`); inline context objects
 * declare extension prefixes (`{"example": "http://ns.example.com/epcis/"}`); any other
 * remote context is rejected with its path and never fetched.
 */
import { readFileSync } from 'node:fs';
import { SilkError } from '../errors.js';

/** A GS1 context URL Silkledger recognises, and the vendored file that stands for it. */
export interface KnownEpcisContext {
  readonly url: string;
  /** File under `vendor/epcis/contexts/`. */
  readonly file: string;
  /**
   * True when the file is a byte-for-byte copy of what the URL served; false when it
   * stands in for official content that was not available offline (see SOURCE.md).
   */
  readonly exact: boolean;
}

/** The known GS1 EPCIS 2.0 context URLs. Every other remote context is rejected. */
export const KNOWN_EPCIS_CONTEXTS: readonly KnownEpcisContext[] = [
  { url: 'https://gs1.github.io/EPCIS/epcis-context-simple.jsonld', file: 'epcis-context-simple.jsonld', exact: true },
  { url: 'https://gs1.github.io/EPCIS/epcis-context.jsonld', file: 'epcis-context-simple.jsonld', exact: false },
  { url: 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', file: 'epcis-context-simple.jsonld', exact: false },
  { url: 'https://ref.gs1.org/standards/epcis/epcis-context.jsonld', file: 'epcis-context-simple.jsonld', exact: false },
];

/** The context in force at one place of a document, as far as validation needs it. */
export interface EpcisContext {
  /** Prefixes usable in compact IRIs such as `example:myField`: prefix → IRI. */
  readonly prefixes: ReadonlyMap<string, string>;
  /** Known GS1 context URLs referenced, in document order. */
  readonly gs1Contexts: readonly string[];
  /** Inline context objects, as given, in document order. */
  readonly inline: readonly Readonly<Record<string, unknown>>[];
  /** Terms the GS1 contexts protect (`@protected`): term → its definition as JSON. */
  readonly protectedTerms: ReadonlyMap<string, string>;
}

/** The empty context a document starts from. */
export const EMPTY_EPCIS_CONTEXT: EpcisContext = {
  prefixes: new Map(),
  gs1Contexts: [],
  inline: [],
  protectedTerms: new Map(),
};

const VENDOR_DIR = new URL('../../vendor/epcis/contexts/', import.meta.url);
const vendoredCache = new Map<string, Readonly<Record<string, unknown>>>();

/**
 * The `@context` object of a vendored GS1 context file.
 * @param url - one of {@link KNOWN_EPCIS_CONTEXTS}' URLs
 * @returns the inner `@context` object, or `undefined` for an unknown URL
 * @example
 * vendoredEpcisContext('https://gs1.github.io/EPCIS/epcis-context-simple.jsonld')?.['xsd'];
 */
export function vendoredEpcisContext(url: string): Readonly<Record<string, unknown>> | undefined {
  const known = KNOWN_EPCIS_CONTEXTS.find((k) => k.url === url);
  if (known === undefined) return undefined;
  let cached = vendoredCache.get(known.file);
  if (cached === undefined) {
    const parsed = JSON.parse(readFileSync(new URL(known.file, VENDOR_DIR), 'utf8')) as { '@context'?: unknown };
    if (!isPlainObject(parsed['@context'])) throw new SilkError('INTERNAL', `vendored context ${known.file} has no @context object`);
    cached = parsed['@context'];
    vendoredCache.set(known.file, cached);
  }
  return cached;
}

/**
 * Applies a `@context` value (a URL, an object or an array of both) on top of `parent`.
 * @param value - the `@context` value as found in the document
 * @param path - its JSON path, for error messages (e.g. `@context` or `epcisBody.eventList[0]["@context"]`)
 * @param parent - the context in force around it
 * @returns the context in force inside the object that carries `value`
 * @throws SilkError `INVALID_ARGUMENT` (details.path) for a remote context that is not a known
 *   GS1 one, a redefined protected GS1 term, or a malformed term definition
 * @example
 * const ctx = resolveEpcisContext(['https://gs1.github.io/EPCIS/epcis-context-simple.jsonld', { example: 'http://ns.example.com/epcis/' }], '@context');
 * ctx.prefixes.has('example'); // true
 */
export function resolveEpcisContext(value: unknown, path: string, parent: EpcisContext = EMPTY_EPCIS_CONTEXT): EpcisContext {
  const state = {
    prefixes: new Map(parent.prefixes),
    gs1Contexts: [...parent.gs1Contexts],
    inline: [...parent.inline],
    protectedTerms: new Map(parent.protectedTerms),
  };
  const items = Array.isArray(value) ? value : [value];
  items.forEach((item, i) => {
    const itemPath = Array.isArray(value) ? `${path}[${i}]` : path;
    if (typeof item === 'string') applyRemote(state, item, itemPath);
    else if (isPlainObject(item)) applyInline(state, item, itemPath);
    else throw invalid(itemPath, 'a JSON-LD context must be a URL or an object');
  });
  return state;
}

interface MutableContext {
  prefixes: Map<string, string>;
  gs1Contexts: string[];
  inline: Readonly<Record<string, unknown>>[];
  protectedTerms: Map<string, string>;
}

function applyRemote(state: MutableContext, url: string, path: string): void {
  const vendored = vendoredEpcisContext(url);
  if (vendored === undefined) {
    throw invalid(path, `remote JSON-LD context ${JSON.stringify(url)} is not a known GS1 EPCIS context; Silkledger never fetches contexts: declare extension prefixes in an inline context object`);
  }
  state.gs1Contexts.push(url);
  for (const [term, definition] of Object.entries(vendored)) {
    if (term.startsWith('@')) continue;
    const prefix = prefixIri(term, definition);
    if (prefix !== undefined) state.prefixes.set(term, prefix);
    if (vendored['@protected'] === true) state.protectedTerms.set(term, JSON.stringify(definition));
  }
}

function applyInline(state: MutableContext, context: Readonly<Record<string, unknown>>, path: string): void {
  for (const [term, definition] of Object.entries(context)) {
    const termPath = `${path}${memberPath(term)}`;
    if (term.startsWith('@')) {
      if (term === '@import' || term === '@context') checkNestedRemotes(definition, termPath);
      continue;
    }
    const guarded = state.protectedTerms.get(term);
    if (guarded !== undefined && guarded !== JSON.stringify(definition)) {
      throw invalid(termPath, `term ${JSON.stringify(term)} is protected by the GS1 EPCIS context and cannot be redefined`);
    }
    if (definition === null) {
      state.prefixes.delete(term);
      continue;
    }
    if (typeof definition !== 'string' && !isPlainObject(definition)) {
      throw invalid(termPath, 'a JSON-LD term definition must be a string, an object or null');
    }
    if (isPlainObject(definition) && '@context' in definition) checkNestedRemotes(definition['@context'], `${termPath}["@context"]`);
    const prefix = prefixIri(term, definition);
    if (prefix !== undefined) state.prefixes.set(term, prefix);
  }
  state.inline.push(context);
}

/** Scoped and imported contexts: a URL must be a known GS1 one; objects are searched in turn. */
function checkNestedRemotes(value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (vendoredEpcisContext(value) === undefined) {
      throw invalid(path, `remote JSON-LD context ${JSON.stringify(value)} is not a known GS1 EPCIS context; Silkledger never fetches contexts`);
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => { checkNestedRemotes(item, `${path}[${i}]`); });
  } else if (isPlainObject(value)) {
    for (const [key, inner] of Object.entries(value)) {
      if (key === '@import' || key === '@context') checkNestedRemotes(inner, `${path}${memberPath(key)}`);
      else if (isPlainObject(inner) && '@context' in inner) checkNestedRemotes(inner['@context'], `${path}${memberPath(key)}["@context"]`);
    }
  }
}

/**
 * The IRI a term stands for when used as a prefix, by the JSON-LD 1.1 rule: a simple
 * (string) definition whose IRI ends in a gen-delim character, or an expanded one with
 * `"@prefix": true`. Compact-IRI terms (`rail:vehicle`) are never prefixes.
 */
function prefixIri(term: string, definition: unknown): string | undefined {
  if (term.includes(':')) return undefined;
  if (typeof definition === 'string') return /[:/?#[\]@]$/.test(definition) ? definition : undefined;
  if (isPlainObject(definition) && definition['@prefix'] === true && typeof definition['@id'] === 'string') return definition['@id'];
  return undefined;
}

/**
 * Checks that a member name which looks like a compact IRI (`prefix:suffix`) uses a
 * declared prefix. Absolute IRIs (`https://…`, `http://…`, `urn:…`) are accepted as they stand.
 * @returns the problem, or `undefined` when the name is acceptable
 */
export function undeclaredPrefixProblem(name: string, context: EpcisContext): string | undefined {
  const colon = name.indexOf(':');
  if (colon <= 0) return undefined;
  const prefix = name.slice(0, colon);
  if (context.prefixes.has(prefix)) return undefined;
  if (/^(https?:\/\/|urn:)/i.test(name)) return undefined;
  return `extension field ${JSON.stringify(name)} uses the prefix ${JSON.stringify(prefix)}, which no @context declares`;
}

/** Path suffix for an object member: `.name` for plain names, `["odd:name"]` otherwise. */
export function memberPath(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(path: string, problem: string): SilkError {
  return new SilkError('INVALID_ARGUMENT', `${path}: ${problem}`, { path });
}
