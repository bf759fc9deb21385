/**
 * Endorsement policies: Hyperledger Fabric style expressions over org roles, such as
 * `AND('Customs.officer', OR('SellerCN.member', 'SellerEU.member'))`, parsed into a small
 * AST, printed back canonically, and compiled into evaluators that run for every transaction.
 *
 * A principal names a role (`'Org1.peer'`, or `'Org1.member'` for any signer of the org) or an
 * authority (`'Org1.finance@3'`: a signer of Org1 whose registered function is `finance` at level 3
 * or more; an org admin, function `admin` at level 9, meets any function of its org, as
 * `hasAuthority()` rules for contracts).
 *
 * Each signer may satisfy at most one principal in an evaluation (Fabric's signature
 * de-duplication), so `AND('A.member', 'A.member')` needs two distinct signers of org `A`.
 * Unlike Fabric's greedy evaluator, {@link CompiledPolicy.isSatisfiedBy} searches every
 * assignment, so it never answers `false` when some assignment of signers satisfies the policy.
 */
import { SilkError } from '../errors.js';

/** A principal `'Org.role'`: satisfied by one signer of `org` with exactly `role`, or any role when `role` is `member`. */
export interface PolicyPrincipal {
  readonly kind: 'principal';
  readonly org: string;
  readonly role: string;
}

/**
 * A principal `'Org.function@level'`: satisfied by one signer of `org` whose function is
 * `function` (or `admin`) and whose level is at least `minLevel`. Signers without a level (peers,
 * configured clients) never satisfy it.
 */
export interface PolicyAuthority {
  readonly kind: 'authority';
  readonly org: string;
  readonly function: string;
  /** 1..9. */
  readonly minLevel: number;
}

/** A threshold gate: satisfied when `n` of its `rules` are. `AND` is `n = rules.length`, `OR` is `n = 1`. */
export interface PolicyOutOf {
  readonly kind: 'outOf';
  readonly n: number;
  readonly rules: readonly PolicyExpression[];
}

/**
 * The parsed form of an endorsement policy.
 * @example
 * // OR('A.peer', 'B.member')
 * const expr: PolicyExpression = { kind: 'outOf', n: 1, rules: [
 *   { kind: 'principal', org: 'A', role: 'peer' }, { kind: 'principal', org: 'B', role: 'member' }] };
 */
export type PolicyExpression = PolicyPrincipal | PolicyAuthority | PolicyOutOf;

/** An org and a role: the identity of a signer, or a principal a policy names. */
export interface OrgRole {
  readonly org: string;
  readonly role: string;
}

/**
 * A signer as policies see it: its org and role, and for keys with authority (registered keys,
 * configured admins) its function and level. `ResolvedIdentity` is one.
 */
export interface PolicySigner extends OrgRole {
  readonly function?: string;
  readonly level?: number;
}

/** An org, a function and a minimum level: an authority principal a policy names. */
export interface OrgAuthority {
  readonly org: string;
  readonly function: string;
  readonly minLevel: number;
}

/** A principal as {@link CompiledPolicy.principals} lists it. */
export type PrincipalRequirement = OrgRole | OrgAuthority;

/**
 * A parsed, cached policy ready to evaluate against the signers of a transaction.
 * @example
 * compileEndorsementPolicy("OutOf(2, 'A.peer', 'B.peer', 'C.peer')")
 *   .isSatisfiedBy([{ org: 'A', role: 'peer' }, { org: 'C', role: 'peer' }]); // true
 */
export interface CompiledPolicy {
  /** The policy text exactly as it was given to {@link compileEndorsementPolicy}. */
  readonly text: string;
  /** The parsed policy (frozen; shared by every caller of the same text). */
  readonly expression: PolicyExpression;
  /**
   * True when distinct signers can be assigned to principals so that the policy holds.
   * Duplicate entries (same org and role twice) count as two signers, as given.
   */
  isSatisfiedBy(signers: readonly PolicySigner[]): boolean;
  /** The distinct principals the policy names, in order of first appearance: `{org, role}` or `{org, function, minLevel}`. */
  principals(): PrincipalRequirement[];
}

/** The longest policy text {@link parseEndorsementPolicy} accepts, in characters. */
export const MAX_POLICY_LENGTH = 4096;

/** The deepest nesting of gates (`AND`, `OR`, `OutOf`, …) a policy may have. */
export const MAX_POLICY_DEPTH = 16;

/** The role that any signer of an org satisfies. */
const MEMBER_ROLE = 'member';

/** The function of an org admin, which meets every function requirement of its org. */
const ADMIN_FUNCTION = 'admin';

/** Authority levels a principal may require (as in identity certificates). */
const MIN_LEVEL = 1;
const MAX_LEVEL = 9;

/** How many compiled policies stay cached; the least recently used one goes first. */
const POLICY_CACHE_LIMIT = 512;

const NAME_PATTERN = /^[A-Za-z0-9_-]+$/;
const NAME_RUN = /[A-Za-z0-9_-]*/y;
const DIGIT_RUN = /[0-9]*/y;
const WHITESPACE_RUN = /\s*/y;
const FOUND_TOKEN = /[A-Za-z0-9_-]+|[\s\S]/y;

/** How many rules each keyword requires, given how many rules it has. */
const GATE_THRESHOLDS: ReadonlyMap<string, (ruleCount: number) => number> = new Map([
  ['and', (ruleCount: number) => ruleCount],
  ['or', () => 1],
  ['any', () => 1],
  ['majority', (ruleCount: number) => Math.floor(ruleCount / 2) + 1],
]);
const OUT_OF_KEYWORD = 'outof';
const EXPECTED_RULE = "a quoted principal such as 'Org1.member' or 'Org1.finance@3', or one of AND, OR, OutOf, MAJORITY, ANY";

// ---------------------------------------------------------------------------------------------
// Parsing

interface Cursor {
  readonly text: string;
  pos: number;
}

function readRun(cursor: Cursor, pattern: RegExp): string {
  pattern.lastIndex = cursor.pos;
  const run = pattern.exec(cursor.text)?.[0] ?? '';
  cursor.pos += run.length;
  return run;
}

function skipWhitespace(cursor: Cursor): void {
  readRun(cursor, WHITESPACE_RUN);
}

function describeFound(text: string, at: number): string {
  if (at >= text.length) return 'end of input';
  FOUND_TOKEN.lastIndex = at;
  return JSON.stringify(FOUND_TOKEN.exec(text)?.[0] ?? '');
}

function policyError(message: string, position: number): SilkError {
  return new SilkError('INVALID_ARGUMENT', `endorsement policy: ${message}`, { position });
}

function syntaxError(cursor: Cursor, expected: string, at: number = cursor.pos): SilkError {
  return policyError(`expected ${expected} at position ${at + 1}, found ${describeFound(cursor.text, at)}`, at + 1);
}

function expectChar(cursor: Cursor, char: string, expected: string): void {
  skipWhitespace(cursor);
  if (cursor.text[cursor.pos] !== char) throw syntaxError(cursor, expected);
  cursor.pos += 1;
}

function parseLevel(cursor: Cursor): number {
  const at = cursor.pos;
  const digits = readRun(cursor, DIGIT_RUN);
  if (digits === '') throw syntaxError(cursor, `a level ${MIN_LEVEL}..${MAX_LEVEL} after '@'`);
  const level = Number(digits);
  if (digits.length > 1 || level < MIN_LEVEL) {
    throw policyError(`the level at position ${at + 1} must be ${MIN_LEVEL}..${MAX_LEVEL}, got ${digits}`, at + 1);
  }
  return level;
}

function parsePrincipal(cursor: Cursor): PolicyPrincipal | PolicyAuthority {
  const start = cursor.pos;
  const quote = cursor.text[start] ?? '';
  cursor.pos += 1;
  const org = readRun(cursor, NAME_RUN);
  if (org === '') throw syntaxError(cursor, 'an org name ([A-Za-z0-9_-]+)');
  if (cursor.text[cursor.pos] !== '.') throw syntaxError(cursor, "'.' between org and role");
  cursor.pos += 1;
  const role = readRun(cursor, NAME_RUN);
  if (role === '') throw syntaxError(cursor, 'a role name ([A-Za-z0-9_-]+)');
  let minLevel: number | undefined;
  if (cursor.text[cursor.pos] === '@') {
    cursor.pos += 1;
    minLevel = parseLevel(cursor);
  }
  if (cursor.text[cursor.pos] !== quote) {
    throw syntaxError(cursor, `closing ${quote} of the principal opened at position ${start + 1}`);
  }
  cursor.pos += 1;
  if (minLevel !== undefined) return Object.freeze({ kind: 'authority', org, function: role, minLevel });
  return Object.freeze({ kind: 'principal', org, role });
}

function parseRule(cursor: Cursor, depth: number): PolicyExpression {
  skipWhitespace(cursor);
  const first = cursor.text[cursor.pos];
  if (first === "'" || first === '"') return parsePrincipal(cursor);
  const start = cursor.pos;
  const word = readRun(cursor, NAME_RUN);
  const keyword = word.toLowerCase();
  if (keyword !== OUT_OF_KEYWORD && !GATE_THRESHOLDS.has(keyword)) {
    const unquoted = word !== '' && cursor.text[cursor.pos] === '.';
    throw syntaxError(cursor, unquoted ? `${EXPECTED_RULE} (principals must be quoted)` : EXPECTED_RULE, start);
  }
  if (depth >= MAX_POLICY_DEPTH) {
    throw policyError(`gates nest deeper than ${MAX_POLICY_DEPTH} levels at position ${start + 1}`, start + 1);
  }
  return parseGate(cursor, word, start, depth + 1);
}

function parseOutOfCount(cursor: Cursor, start: number): number {
  skipWhitespace(cursor);
  const at = cursor.pos;
  const digits = readRun(cursor, DIGIT_RUN);
  if (digits === '') throw syntaxError(cursor, 'a positive integer count after OutOf(');
  const n = Number(digits);
  if (n < 1) throw policyError(`OutOf count at position ${at + 1} must be at least 1, got ${digits}`, at + 1);
  skipWhitespace(cursor);
  if (cursor.text[cursor.pos] === ')') {
    throw policyError(`OutOf at position ${start + 1} has an empty rule list`, cursor.pos + 1);
  }
  expectChar(cursor, ',', "',' after the OutOf count");
  return n;
}

function parseRuleList(cursor: Cursor, word: string, start: number, depth: number): PolicyExpression[] {
  skipWhitespace(cursor);
  if (cursor.text[cursor.pos] === ')') {
    throw policyError(`${word} at position ${start + 1} has an empty rule list`, cursor.pos + 1);
  }
  const rules: PolicyExpression[] = [];
  for (;;) {
    rules.push(parseRule(cursor, depth));
    skipWhitespace(cursor);
    const next = cursor.text[cursor.pos];
    cursor.pos += 1;
    if (next === ')') return rules;
    if (next !== ',') throw syntaxError(cursor, `',' or ')' in the rule list of ${word} at position ${start + 1}`, cursor.pos - 1);
  }
}

function parseGate(cursor: Cursor, word: string, start: number, depth: number): PolicyOutOf {
  const keyword = word.toLowerCase();
  expectChar(cursor, '(', `'(' after ${word}`);
  const explicitN = keyword === OUT_OF_KEYWORD ? parseOutOfCount(cursor, start) : undefined;
  const rules = parseRuleList(cursor, word, start, depth);
  const threshold = GATE_THRESHOLDS.get(keyword);
  const n = explicitN ?? (threshold === undefined ? rules.length : threshold(rules.length));
  if (n > rules.length) {
    throw policyError(`OutOf at position ${start + 1} needs ${n} rules but lists only ${rules.length}`, start + 1);
  }
  return Object.freeze({ kind: 'outOf', n, rules: Object.freeze(rules) });
}

/**
 * Parses endorsement policy text into a {@link PolicyExpression}.
 *
 * Grammar: a quoted principal `'Org.role'` or `'Org.function@level'` (single or double quotes;
 * names are `[A-Za-z0-9_-]+`, the level one digit 1..9), or a gate `AND(r, …)`, `OR(r, …)`, `OutOf(n, r, …)`, `MAJORITY(r, …)` (n = ⌊len/2⌋ + 1) or
 * `ANY(r, …)` (n = 1). Keywords are case-insensitive; whitespace is free. The returned tree is frozen.
 *
 * @param text - The policy text, at most {@link MAX_POLICY_LENGTH} characters.
 * @returns The parsed policy; `AND`, `OR`, `MAJORITY` and `ANY` become `outOf` nodes.
 * @throws {SilkError} `INVALID_ARGUMENT` naming the 1-based position and what was expected, on a
 *   syntax error, an empty policy or rule list, an OutOf count below 1 or above its rule count,
 *   text longer than {@link MAX_POLICY_LENGTH} or gates nested deeper than {@link MAX_POLICY_DEPTH}.
 * @example
 * parseEndorsementPolicy("OutOf(2, 'Org1.peer', 'Org2.peer', 'Org3.peer')");
 * // { kind: 'outOf', n: 2, rules: [{ kind: 'principal', org: 'Org1', role: 'peer' }, …] }
 */
export function parseEndorsementPolicy(text: string): PolicyExpression {
  if (typeof (text as unknown) !== 'string') {
    throw new SilkError('INVALID_ARGUMENT', 'endorsement policy: the policy must be a string');
  }
  if (text.length > MAX_POLICY_LENGTH) {
    throw policyError(`the policy is ${text.length} characters long; the limit is ${MAX_POLICY_LENGTH}`, MAX_POLICY_LENGTH + 1);
  }
  const cursor: Cursor = { text, pos: 0 };
  skipWhitespace(cursor);
  if (cursor.pos === text.length) throw policyError('the policy is empty', 1);
  const expression = parseRule(cursor, 0);
  skipWhitespace(cursor);
  if (cursor.pos !== text.length) throw syntaxError(cursor, 'end of policy after a complete expression');
  return expression;
}

// ---------------------------------------------------------------------------------------------
// Formatting and inspection

function checkExpression(expr: PolicyExpression, depth: number): void {
  if (expr.kind === 'principal') {
    if (!NAME_PATTERN.test(expr.org) || !NAME_PATTERN.test(expr.role)) {
      throw new SilkError('INVALID_ARGUMENT', `endorsement policy: principal ${JSON.stringify(`${expr.org}.${expr.role}`)} has an org or role outside [A-Za-z0-9_-]+`);
    }
    return;
  }
  if (expr.kind === 'authority') {
    if (!NAME_PATTERN.test(expr.org) || !NAME_PATTERN.test(expr.function)) {
      throw new SilkError('INVALID_ARGUMENT', `endorsement policy: principal ${JSON.stringify(`${expr.org}.${expr.function}`)} has an org or function outside [A-Za-z0-9_-]+`);
    }
    if (!Number.isSafeInteger(expr.minLevel) || expr.minLevel < MIN_LEVEL || expr.minLevel > MAX_LEVEL) {
      throw new SilkError('INVALID_ARGUMENT', `endorsement policy: principal ${JSON.stringify(`${expr.org}.${expr.function}`)} has level ${expr.minLevel}, outside ${MIN_LEVEL}..${MAX_LEVEL}`);
    }
    return;
  }
  if (depth >= MAX_POLICY_DEPTH) {
    throw new SilkError('INVALID_ARGUMENT', `endorsement policy: gates nest deeper than ${MAX_POLICY_DEPTH} levels`);
  }
  if (expr.rules.length === 0 || !Number.isSafeInteger(expr.n) || expr.n < 1 || expr.n > expr.rules.length) {
    throw new SilkError('INVALID_ARGUMENT', `endorsement policy: OutOf(${expr.n}) over ${expr.rules.length} rules is out of range`);
  }
  for (const rule of expr.rules) checkExpression(rule, depth + 1);
}

function formatRule(expr: PolicyExpression): string {
  if (expr.kind === 'principal') return `'${expr.org}.${expr.role}'`;
  if (expr.kind === 'authority') return `'${expr.org}.${expr.function}@${expr.minLevel}'`;
  const body = expr.rules.map(formatRule).join(', ');
  if (expr.n === 1) return `OR(${body})`;
  if (expr.n === expr.rules.length) return `AND(${body})`;
  return `OutOf(${expr.n}, ${body})`;
}

/**
 * Prints a policy in canonical form: single-quoted principals (`'Org.role'`,
 * `'Org.function@level'`), `OR` for n = 1, `AND` for
 * n = rule count, `OutOf(n, …)` otherwise, rules separated by `", "`. The result always parses
 * back to an equal expression.
 *
 * @param expr - The policy to print (checked, since it may be built by hand).
 * @returns The canonical policy text.
 * @throws {SilkError} `INVALID_ARGUMENT` when a name is outside `[A-Za-z0-9_-]+`, a level outside 1..9, a gate has no
 *   rules or an out-of-range n, gates nest deeper than {@link MAX_POLICY_DEPTH}, or the text
 *   would exceed {@link MAX_POLICY_LENGTH} characters.
 * @example
 * formatEndorsementPolicy(parseEndorsementPolicy('majority("A.peer","B.peer","C.peer")'));
 * // "OutOf(2, 'A.peer', 'B.peer', 'C.peer')"
 */
export function formatEndorsementPolicy(expr: PolicyExpression): string {
  checkExpression(expr, 0);
  const text = formatRule(expr);
  if (text.length > MAX_POLICY_LENGTH) {
    throw new SilkError('INVALID_ARGUMENT', `endorsement policy: the canonical text is ${text.length} characters long; the limit is ${MAX_POLICY_LENGTH}`);
  }
  return text;
}

/** A leaf of a policy: a role or an authority principal. */
type PolicyLeaf = PolicyPrincipal | PolicyAuthority;

function collectPrincipals(expr: PolicyExpression, into: PolicyLeaf[]): PolicyLeaf[] {
  if (expr.kind === 'outOf') for (const rule of expr.rules) collectPrincipals(rule, into);
  else into.push(expr);
  return into;
}

/** The canonical text of a principal, without quotes: its identity among a policy's principals. */
function principalText(principal: PrincipalRequirement): string {
  return 'role' in principal ? `${principal.org}.${principal.role}` : `${principal.org}.${principal.function}@${principal.minLevel}`;
}

/**
 * Lists the distinct orgs a policy names, in order of first appearance.
 *
 * @param expr - A parsed policy.
 * @returns The org names, each once.
 * @throws Never.
 * @example
 * policyOrgs(parseEndorsementPolicy("AND('Customs.officer', OR('SellerCN.member', 'Customs.admin'))"));
 * // ['Customs', 'SellerCN']
 */
export function policyOrgs(expr: PolicyExpression): string[] {
  return [...new Set(collectPrincipals(expr, []).map((principal) => principal.org))];
}

/**
 * True when one signer satisfies one principal, taken alone (in a policy each signer still counts
 * for at most one principal). A role principal wants the org and the role (`member`: any role); an
 * authority principal wants the org, a level of at least `minLevel` and the function, or the
 * function `admin` — the same rule as the contract framework's `hasAuthority()`.
 *
 * @param principal - `{org, role}` or `{org, function, minLevel}` (as {@link CompiledPolicy.principals} lists them, or a parsed leaf).
 * @param signer - The signer's org and role, and its function and level when it has them.
 * @returns Whether the signer can be assigned to the principal.
 * @throws Never.
 * @example
 * principalAccepts({ org: 'Org1', function: 'finance', minLevel: 3 }, { org: 'Org1', role: 'admin', function: 'admin', level: 9 }); // true
 * principalAccepts({ org: 'Org1', function: 'finance', minLevel: 3 }, { org: 'Org1', role: 'peer' }); // false: no level
 */
export function principalAccepts(principal: PrincipalRequirement, signer: PolicySigner): boolean {
  if (signer.org !== principal.org) return false;
  if ('role' in principal) return principal.role === MEMBER_ROLE || principal.role === signer.role;
  if (signer.level === undefined || signer.level < principal.minLevel) return false;
  return signer.function === principal.function || signer.function === ADMIN_FUNCTION;
}

// ---------------------------------------------------------------------------------------------
// Evaluation
//
// Signers are tallied into classes. Two signers are interchangeable when they satisfy exactly the
// same principals, so each class stands for one such set. Within an org, what a signer satisfies
// depends only on its role slot (one per role some principal names, other than `member`, and one
// for every other role) and, when the org has authority principals, its authority profile: its
// function slot (each function a principal names, `admin`, every other) and level bucket (how many
// of the named minimum levels it reaches). The plan enumerates those slots once and gives every
// distinct set of satisfied principals a class; a transaction's signers then reduce to a vector of
// class counts, and duplicates simply count twice. Policies without authority principals get
// exactly the classes they always had (one profile per org).

interface OrgClasses {
  /** Role slot of each role some principal names (other than `member`). */
  readonly byRole: ReadonlyMap<string, number>;
  /** The role slot of every other role. */
  readonly otherRole: number;
  /** Function slot of each function an authority principal names, and of `admin` (empty without authority principals). */
  readonly byFunction: ReadonlyMap<string, number>;
  /** The function slot of every other function, and of signers without one. */
  readonly otherFunction: number;
  /** The distinct minimum levels the org's authority principals name, ascending. */
  readonly levels: readonly number[];
  /** Authority profiles per role slot: function slots × level buckets (1 without authority principals). */
  readonly profiles: number;
  /** The class of role slot `r` with profile `f` is `classOf[r * profiles + f]`. */
  readonly classOf: readonly number[];
  /** One representative signer per class, with its class. */
  readonly representatives: readonly { readonly cls: number; readonly signer: PolicySigner }[];
}

interface PlanLeaf {
  readonly kind: 'leaf';
  /** The classes whose signers satisfy this principal. */
  readonly classes: readonly number[];
}

interface PlanGate {
  readonly kind: 'gate';
  readonly n: number;
  readonly children: readonly PlanNode[];
  /** Every child is a leaf: evaluate by bipartite matching instead of the general search. */
  readonly flat: boolean;
}

type PlanNode = PlanLeaf | PlanGate;

interface EvaluationPlan {
  readonly orgs: ReadonlyMap<string, OrgClasses>;
  /** Per class, how many signers could ever be used (the principals that accept the class). */
  readonly caps: readonly number[];
  readonly root: PlanNode;
}

/** How many signers of each class are available (capped), or used by a partial assignment. */
type ClassCounts = readonly number[];

interface OrgPrincipals {
  readonly roles: Set<string>;
  readonly functions: Set<string>;
  readonly levels: Set<number>;
  readonly distinct: Map<string, PolicyLeaf>;
}

function groupByOrg(principals: readonly PolicyLeaf[]): Map<string, OrgPrincipals> {
  const byOrg = new Map<string, OrgPrincipals>();
  for (const principal of principals) {
    const group = byOrg.get(principal.org) ?? { roles: new Set<string>(), functions: new Set<string>(), levels: new Set<number>(), distinct: new Map<string, PolicyLeaf>() };
    if (principal.kind === 'principal') {
      if (principal.role !== MEMBER_ROLE) group.roles.add(principal.role);
    } else {
      group.functions.add(principal.function);
      group.levels.add(principal.minLevel);
    }
    group.distinct.set(principalText(principal), principal);
    byOrg.set(principal.org, group);
  }
  return byOrg;
}

/** The role, function and level a signer in role slot `roleSlot` with profile `profile` stands for. */
function representative(org: string, roles: readonly string[], functions: readonly string[], levels: readonly number[], roleSlot: number, profile: number): PolicySigner {
  // Names outside [A-Za-z0-9_-]+ (here '.') are never named by a principal: they stand for "every other".
  const role = roles[roleSlot] ?? '.other';
  if (levels.length === 0) return { org, role };
  const bucket = profile % (levels.length + 1);
  const fn = functions[Math.floor(profile / (levels.length + 1))] ?? '.other';
  const level = bucket === 0 ? undefined : levels[bucket - 1];
  return level === undefined ? { org, role, function: fn } : { org, role, function: fn, level };
}

function buildOrgClasses(principals: readonly PolicyLeaf[]): { orgs: Map<string, OrgClasses>; classCount: number } {
  const orgs = new Map<string, OrgClasses>();
  let next = 0;
  for (const [org, group] of groupByOrg(principals)) {
    const roles = [...group.roles];
    const functions = group.functions.size === 0 ? [] : [...new Set([...group.functions, ADMIN_FUNCTION])];
    const levels = [...group.levels].sort((a, b) => a - b);
    const profiles = levels.length === 0 ? 1 : (functions.length + 1) * (levels.length + 1);
    const distinct = [...group.distinct.values()];
    const classByMask = new Map<string, number>();
    const classOf: number[] = [];
    const representatives: { cls: number; signer: PolicySigner }[] = [];
    for (let r = 0; r <= roles.length; r++) {
      for (let f = 0; f < profiles; f++) {
        const signer = representative(org, roles, functions, levels, r, f);
        const mask = distinct.map((principal) => (principalAccepts(principal, signer) ? '1' : '0')).join('');
        let cls = classByMask.get(mask);
        if (cls === undefined) {
          cls = next++;
          classByMask.set(mask, cls);
          representatives.push({ cls, signer });
        }
        classOf.push(cls);
      }
    }
    orgs.set(org, {
      byRole: new Map(roles.map((role, slot) => [role, slot])),
      otherRole: roles.length,
      byFunction: new Map(functions.map((fn, slot) => [fn, slot])),
      otherFunction: functions.length,
      levels,
      profiles,
      classOf,
      representatives,
    });
  }
  return { orgs, classCount: next };
}

function leafClasses(principal: PolicyLeaf, orgs: ReadonlyMap<string, OrgClasses>): number[] {
  const org = orgs.get(principal.org);
  if (org === undefined) return [];
  return org.representatives.filter(({ signer }) => principalAccepts(principal, signer)).map(({ cls }) => cls);
}

function buildPlanNode(expr: PolicyExpression, orgs: ReadonlyMap<string, OrgClasses>): PlanNode {
  if (expr.kind !== 'outOf') return { kind: 'leaf', classes: leafClasses(expr, orgs) };
  const children = expr.rules.map((rule) => buildPlanNode(rule, orgs));
  return { kind: 'gate', n: expr.n, children, flat: children.every((child) => child.kind === 'leaf') };
}

function buildPlan(expr: PolicyExpression): EvaluationPlan {
  const principals = collectPrincipals(expr, []);
  const { orgs, classCount } = buildOrgClasses(principals);
  const caps = new Array<number>(classCount).fill(0);
  for (const principal of principals) {
    for (const c of leafClasses(principal, orgs)) caps[c] = (caps[c] ?? 0) + 1;
  }
  return { orgs, caps, root: buildPlanNode(expr, orgs) };
}

/** The authority profile of a signer in an org (0 when the org has no authority principals). */
function profileOf(org: OrgClasses, signer: PolicySigner): number {
  if (org.levels.length === 0) return 0;
  const fn = signer.function === undefined ? org.otherFunction : (org.byFunction.get(signer.function) ?? org.otherFunction);
  let bucket = 0;
  if (signer.level !== undefined) while (bucket < org.levels.length && (org.levels[bucket] ?? Infinity) <= signer.level) bucket++;
  return fn * (org.levels.length + 1) + bucket;
}

function tallySigners(plan: EvaluationPlan, signers: readonly PolicySigner[]): number[] {
  const counts = plan.caps.map(() => 0);
  for (const signer of signers) {
    const org = plan.orgs.get(signer.org);
    if (org === undefined) continue;
    const c = org.classOf[(org.byRole.get(signer.role) ?? org.otherRole) * org.profiles + profileOf(org, signer)];
    if (c === undefined) continue;
    const count = counts[c] ?? 0;
    if (count < (plan.caps[c] ?? 0)) counts[c] = count + 1;
  }
  return counts;
}

function leafSatisfied(leaf: PlanLeaf, available: ClassCounts): boolean {
  return leaf.classes.some((c) => (available[c] ?? 0) > 0);
}

/** Tries to give `leaf` a signer, moving earlier leaves to other classes if that frees one (Kuhn). */
function augment(leaf: PlanLeaf, available: ClassCounts, holders: PlanLeaf[][], seen: Set<number>): boolean {
  for (const c of leaf.classes) {
    if (seen.has(c)) continue;
    seen.add(c);
    const held = holders[c] ?? [];
    if (held.length < (available[c] ?? 0)) {
      held.push(leaf);
      holders[c] = held;
      return true;
    }
    for (const [index, other] of held.entries()) {
      if (augment(other, available, holders, seen)) {
        held[index] = leaf;
        return true;
      }
    }
  }
  return false;
}

/** A gate over plain principals: is there a matching of at least n principals to distinct signers? */
function flatGateSatisfied(gate: PlanGate, available: ClassCounts): boolean {
  const leaves = gate.children.filter((child): child is PlanLeaf => child.kind === 'leaf' && leafSatisfied(child, available));
  if (leaves.length < gate.n) return false;
  if (gate.n === 1) return true;
  const holders: PlanLeaf[][] = available.map(() => []);
  let matched = 0;
  for (const [index, leaf] of leaves.entries()) {
    if (matched + leaves.length - index < gate.n) return false;
    if (augment(leaf, available, holders, new Set()) && ++matched >= gate.n) return true;
  }
  return false;
}

function countsKey(counts: ClassCounts): string {
  return String.fromCharCode(...counts);
}

function addWithin(used: ClassCounts, extra: ClassCounts, available: ClassCounts): number[] | undefined {
  const sum = new Array<number>(used.length);
  for (const [c, count] of used.entries()) {
    const total = count + (extra[c] ?? 0);
    if (total > (available[c] ?? 0)) return undefined;
    sum[c] = total;
  }
  return sum;
}

function dominates(a: ClassCounts, b: ClassCounts): boolean {
  return a.every((count, c) => count <= (b[c] ?? 0));
}

/** Drops usages that use a superset of another's signers; skipped for large sets (it is only a speed-up). */
function minimalUsages(usages: ClassCounts[]): ClassCounts[] {
  if (usages.length > 64) return usages;
  return usages.filter((candidate, i) => !usages.some((other, j) => j !== i && dominates(other, candidate)));
}

function leafUsages(leaf: PlanLeaf, available: ClassCounts): ClassCounts[] {
  return leaf.classes
    .filter((c) => (available[c] ?? 0) > 0)
    .map((c) => available.map((_, i) => (i === c ? 1 : 0)));
}

function extendLayer(from: ReadonlyMap<string, ClassCounts>, into: Map<string, ClassCounts>, options: readonly ClassCounts[], available: ClassCounts): void {
  for (const used of from.values()) {
    for (const option of options) {
      const sum = addWithin(used, option, available);
      if (sum !== undefined) into.set(countsKey(sum), sum);
    }
  }
}

/**
 * The ways (as class-count vectors of signers used) to satisfy `node` with `available` signers.
 * For a gate this is an exhaustive search over which children to satisfy and with which signers,
 * with partial assignments that use the same signer counts merged (so it stays polynomial in the
 * number of distinct count vectors rather than exponential in the number of principals).
 * With `firstOnly`, stops at the first way found.
 */
function usagesOf(node: PlanNode, available: ClassCounts, firstOnly: boolean): ClassCounts[] {
  if (node.kind === 'leaf') return leafUsages(node, available);
  // layers[k]: the distinct signer usages after satisfying exactly k of the children seen so far.
  const layers: Map<string, ClassCounts>[] = Array.from({ length: node.n + 1 }, () => new Map<string, ClassCounts>());
  const none = available.map(() => 0);
  layers[0]?.set(countsKey(none), none);
  for (const [index, child] of node.children.entries()) {
    const options = usagesOf(child, available, false);
    for (let k = Math.min(node.n - 1, index); k >= 0 && options.length > 0; k--) {
      const from = layers[k];
      const into = layers[k + 1];
      if (from !== undefined && into !== undefined) extendLayer(from, into, options, available);
    }
    if (firstOnly && (layers[node.n]?.size ?? 0) > 0) break;
    // Usages that cannot reach n even if every remaining child is satisfied are dead.
    const remaining = node.children.length - index - 1;
    for (let k = 0; k < node.n - remaining; k++) layers[k]?.clear();
    if (layers.every((layer) => layer.size === 0)) return [];
  }
  return minimalUsages([...(layers[node.n]?.values() ?? [])]);
}

function minimumSigners(node: PlanNode): number {
  if (node.kind === 'leaf') return 1;
  const needs = node.children.map(minimumSigners).sort((a, b) => a - b);
  return needs.slice(0, node.n).reduce((sum, need) => sum + need, 0);
}

function planSatisfied(plan: EvaluationPlan, minimum: number, signers: readonly PolicySigner[]): boolean {
  const available = tallySigners(plan, signers);
  if (available.reduce((sum, count) => sum + count, 0) < minimum) return false;
  const root = plan.root;
  if (root.kind === 'leaf') return leafSatisfied(root, available);
  if (root.flat) return flatGateSatisfied(root, available);
  return usagesOf(root, available, true).length > 0;
}

function requirementOf(principal: PolicyLeaf): PrincipalRequirement {
  return principal.kind === 'principal' ? { org: principal.org, role: principal.role } : { org: principal.org, function: principal.function, minLevel: principal.minLevel };
}

function createCompiledPolicy(text: string, expression: PolicyExpression): CompiledPolicy {
  const plan = buildPlan(expression);
  const minimum = minimumSigners(plan.root);
  const distinct = new Map<string, PolicyLeaf>();
  for (const principal of collectPrincipals(expression, [])) {
    const key = principalText(principal);
    if (!distinct.has(key)) distinct.set(key, principal);
  }
  return Object.freeze({
    text,
    expression,
    isSatisfiedBy: (signers: readonly PolicySigner[]) => planSatisfied(plan, minimum, signers),
    principals: () => [...distinct.values()].map(requirementOf),
  });
}

const policyCache = new Map<string, CompiledPolicy>();

/**
 * Parses and compiles a policy for evaluation, caching the result by its exact text (the 512
 * most recently used texts stay cached), since policies are
 * evaluated for every transaction. Flat `OR`/`AND`/`OutOf` over plain principals are checked by
 * bipartite matching; nested policies by an exhaustive search over signer assignments.
 *
 * @param text - The policy text (see {@link parseEndorsementPolicy} for the grammar).
 * @returns The compiled policy; the same object for the same text while it stays cached.
 * @throws {SilkError} `INVALID_ARGUMENT` when the text does not parse.
 * @example
 * const policy = compileEndorsementPolicy("AND('A.peer', 'A.member')");
 * policy.isSatisfiedBy([{ org: 'A', role: 'peer' }]); // false: one signer cannot count twice
 * policy.isSatisfiedBy([{ org: 'A', role: 'peer' }, { org: 'A', role: 'admin' }]); // true
 */
export function compileEndorsementPolicy(text: string): CompiledPolicy {
  const cached = policyCache.get(text);
  if (cached !== undefined) {
    policyCache.delete(text);
    policyCache.set(text, cached);
    return cached;
  }
  const compiled = createCompiledPolicy(text, parseEndorsementPolicy(text));
  policyCache.set(text, compiled);
  if (policyCache.size > POLICY_CACHE_LIMIT) {
    const oldest = policyCache.keys().next();
    if (oldest.done !== true) policyCache.delete(oldest.value);
  }
  return compiled;
}
