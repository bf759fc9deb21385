import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isSilkError } from '../errors.js';
import {
  compileEndorsementPolicy,
  formatEndorsementPolicy,
  MAX_POLICY_DEPTH,
  MAX_POLICY_LENGTH,
  parseEndorsementPolicy,
  policyOrgs,
  principalAccepts,
  type PolicyAuthority,
  type PolicyExpression,
  type PolicyOutOf,
  type PolicyPrincipal,
  type PolicySigner,
} from './endorsement-policy.js';

const p = (org: string, role: string): PolicyPrincipal => ({ kind: 'principal', org, role });
const fp = (org: string, fn: string, minLevel: number): PolicyAuthority => ({ kind: 'authority', org, function: fn, minLevel });
const outOf = (n: number, ...rules: PolicyExpression[]): PolicyOutOf => ({ kind: 'outOf', n, rules });
const and = (...rules: PolicyExpression[]): PolicyOutOf => outOf(rules.length, ...rules);
const or = (...rules: PolicyExpression[]): PolicyOutOf => outOf(1, ...rules);

/** Parses `"A.peer, B.admin, A.member:finance@3"` into signers (`:function@level` for keys with authority). */
function signers(list: string): PolicySigner[] {
  return list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const [orgRole = '', authority] = entry.split(':');
      const [org = '', role = ''] = orgRole.split('.');
      if (authority === undefined) return { org, role };
      const [fn = '', level = ''] = authority.split('@');
      return { org, role, function: fn, level: Number(level) };
    });
}

function assertPolicyError(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseEndorsementPolicy(text),
    (error: unknown) => {
      assert.ok(isSilkError(error, 'INVALID_ARGUMENT'), `expected INVALID_ARGUMENT for ${JSON.stringify(text)}`);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

void describe('parseEndorsementPolicy', () => {
  void it('parses the Fabric-style examples', () => {
    assert.deepEqual(
      parseEndorsementPolicy("AND('Customs.officer', OR('SellerCN.member','SellerEU.member'))"),
      and(p('Customs', 'officer'), or(p('SellerCN', 'member'), p('SellerEU', 'member'))),
    );
    assert.deepEqual(
      parseEndorsementPolicy("OutOf(2, 'Org1.peer', 'Org2.peer', 'Org3.peer')"),
      outOf(2, p('Org1', 'peer'), p('Org2', 'peer'), p('Org3', 'peer')),
    );
    assert.deepEqual(parseEndorsementPolicy("OR('Org1.peer')"), or(p('Org1', 'peer')));
    assert.deepEqual(parseEndorsementPolicy("'Org1.admin'"), p('Org1', 'admin'));
    assert.deepEqual(parseEndorsementPolicy('"Org_1-x.peer"'), p('Org_1-x', 'peer'));
  });

  void it('parses authority principals (function and minimum level)', () => {
    assert.deepEqual(parseEndorsementPolicy("'Org1.finance@3'"), fp('Org1', 'finance', 3));
    assert.deepEqual(
      parseEndorsementPolicy(`AND('Org1.peer', OR("Org1.finance@3", 'Org2.audit@9'), 'Org1.member')`),
      and(p('Org1', 'peer'), or(fp('Org1', 'finance', 3), fp('Org2', 'audit', 9)), p('Org1', 'member')),
    );
    assertPolicyError("'Org1.finance@'", /expected a level 1\.\.9 after '@' at position 15, found "'"/);
    assertPolicyError("'Org1.finance@0'", /the level at position 15 must be 1\.\.9, got 0/);
    assertPolicyError("'Org1.finance@10'", /the level at position 15 must be 1\.\.9, got 10/);
    assertPolicyError("'Org1.finance@x'", /expected a level 1\.\.9 after '@' at position 15, found "x"/);
    assertPolicyError("'Org1.finance@3@4'", /expected closing ' .* at position 16, found "@"/);
    assertPolicyError("'Org1.finance @3'", /expected closing ' .* at position 14, found " "/);
    assertPolicyError("'Org1@3'", /expected '\.' between org and role at position 6/);
  });

  void it('expands MAJORITY and ANY into OutOf', () => {
    assert.deepEqual(parseEndorsementPolicy("MAJORITY('A.peer','B.peer','C.peer')"), outOf(2, p('A', 'peer'), p('B', 'peer'), p('C', 'peer')));
    assert.deepEqual(parseEndorsementPolicy("majority('A.peer','B.peer','C.peer','D.peer')"), outOf(3, p('A', 'peer'), p('B', 'peer'), p('C', 'peer'), p('D', 'peer')));
    assert.deepEqual(parseEndorsementPolicy("Any('A.peer','B.peer')"), or(p('A', 'peer'), p('B', 'peer')));
  });

  void it('accepts free whitespace, either quote and any keyword case', () => {
    const expected = outOf(2, and(p('A', 'peer'), p('B', 'admin')), p('C', 'member'), or(p('D', 'client')));
    assert.deepEqual(parseEndorsementPolicy("outof(2,and('A.peer','B.admin'),'C.member',Or('D.client'))"), expected);
    assert.deepEqual(parseEndorsementPolicy(' \n OUTOF ( 2 ,\tAnD ( "A.peer" , \'B.admin\' ) , "C.member" , oR ( \'D.client\' ) )\n'), expected);
  });

  void it('parses deep nesting up to the limit and rejects one level more', () => {
    const nested = (depth: number): string => 'OR('.repeat(depth) + "'A.peer'" + ')'.repeat(depth);
    let expected: PolicyExpression = p('A', 'peer');
    for (let i = 0; i < MAX_POLICY_DEPTH; i++) expected = or(expected);
    assert.deepEqual(parseEndorsementPolicy(nested(MAX_POLICY_DEPTH)), expected);
    assertPolicyError(nested(MAX_POLICY_DEPTH + 1), /deeper than 16 levels at position 49\b/);
  });

  void it('returns a frozen tree', () => {
    const expr = parseEndorsementPolicy("AND('A.peer', 'B.peer')");
    assert.ok(Object.isFrozen(expr));
    assert.equal(expr.kind, 'outOf');
    assert.ok(Object.isFrozen(expr.rules));
  });

  void it('names the position and what was expected on malformed input', () => {
    assertPolicyError('', /the policy is empty/);
    assertPolicyError('   \n ', /the policy is empty/);
    assertPolicyError("AND('A.peer', 'B.peer'", /expected ',' or '\)' .* at position 23, found end of input/);
    assertPolicyError("AND('A.peer', 'B.peer'))", /expected end of policy .* at position 24, found "\)"/);
    assertPolicyError("AND('A.peer' 'B.peer')", /expected ',' or '\)' .* at position 14, found "'"/);
    assertPolicyError("AND 'A.peer')", /expected '\(' after AND at position 5/);
    assertPolicyError("AND(A.peer, 'B.peer')", /principals must be quoted.* at position 5, found "A"/);
    assertPolicyError("AND('A.peer, 'B.peer')", /expected closing ' of the principal opened at position 5 at position 12, found ","/);
    assertPolicyError("'A.peer", /expected closing ' .* at position 8, found end of input/);
    assertPolicyError("'A.peer\"", /expected closing ' .* found "\\""/);
    assertPolicyError("'Apeer'", /expected '\.' between org and role at position 7/);
    assertPolicyError("'A.'", /expected a role name .* at position 4/);
    assertPolicyError("'.peer'", /expected an org name .* at position 2/);
    assertPolicyError("'A.pe er'", /expected closing ' .* at position 6, found " "/);
    assertPolicyError("'A.peer' junk", /expected end of policy .* at position 10, found "junk"/);
    assertPolicyError("NAND('A.peer')", /expected a quoted principal .* at position 1, found "NAND"/);
    assertPolicyError("AND('A.peer',)", /expected a quoted principal .* at position 14, found "\)"/);
    assertPolicyError("AND(,'A.peer')", /expected a quoted principal .* at position 5, found ","/);
    assertPolicyError('AND()', /AND at position 1 has an empty rule list/);
    assertPolicyError('OutOf(1)', /OutOf at position 1 has an empty rule list/);
    assertPolicyError(") 'A.peer'", /expected a quoted principal .* at position 1, found "\)"/);
  });

  void it('rejects OutOf counts outside 1..rules', () => {
    assertPolicyError("OutOf(0, 'A.peer')", /OutOf count at position 7 must be at least 1, got 0/);
    assertPolicyError("OutOf(3, 'A.peer', 'B.peer')", /OutOf at position 1 needs 3 rules but lists only 2/);
    assertPolicyError("OutOf(-1, 'A.peer')", /expected a positive integer count .* at position 7, found "-1"/);
    assertPolicyError("OutOf(x, 'A.peer')", /expected a positive integer count .* at position 7, found "x"/);
    assertPolicyError("OutOf(1 'A.peer')", /expected ',' after the OutOf count at position 9/);
    assertPolicyError("OutOf(99999999999999999999, 'A.peer')", /needs 100000000000000000000 rules but lists only 1/);
  });

  void it('rejects text longer than the limit', () => {
    const long = `OR(${Array.from({ length: 400 }, (_, i) => `'Org${i}.peer'`).join(',')})`;
    assert.ok(long.length > MAX_POLICY_LENGTH);
    assertPolicyError(long, /characters long; the limit is 4096/);
    assertPolicyError(`'A.peer'${' '.repeat(MAX_POLICY_LENGTH)}`, /limit is 4096/);
  });

  void it('rejects a non-string', () => {
    assert.throws(() => parseEndorsementPolicy(42 as unknown as string), (error: unknown) => isSilkError(error, 'INVALID_ARGUMENT'));
  });
});

void describe('formatEndorsementPolicy', () => {
  void it('prints the canonical form', () => {
    assert.equal(
      formatEndorsementPolicy(parseEndorsementPolicy('and( "Customs.officer",or("SellerCN.member" ,"SellerEU.member"))')),
      "AND('Customs.officer', OR('SellerCN.member', 'SellerEU.member'))",
    );
    assert.equal(formatEndorsementPolicy(parseEndorsementPolicy("majority('A.p','B.p','C.p')")), "OutOf(2, 'A.p', 'B.p', 'C.p')");
    assert.equal(formatEndorsementPolicy(parseEndorsementPolicy("OutOf(1,'A.p')")), "OR('A.p')");
    assert.equal(formatEndorsementPolicy(parseEndorsementPolicy("OutOf(2,'A.p','B.p')")), "AND('A.p', 'B.p')");
    assert.equal(formatEndorsementPolicy(p('Org1', 'admin')), "'Org1.admin'");
    assert.equal(formatEndorsementPolicy(parseEndorsementPolicy('and( "Org1.peer",or("Org1.finance@3" ,"Org2.audit@9"))')), "AND('Org1.peer', OR('Org1.finance@3', 'Org2.audit@9'))");
    assert.equal(formatEndorsementPolicy(fp('Org1', 'finance', 3)), "'Org1.finance@3'");
  });

  void it('rejects hand-built expressions that would not parse back', () => {
    const rejects = (expr: PolicyExpression): void => {
      assert.throws(() => formatEndorsementPolicy(expr), (error: unknown) => isSilkError(error, 'INVALID_ARGUMENT'));
    };
    rejects(outOf(0, p('A', 'peer')));
    rejects(outOf(2, p('A', 'peer')));
    rejects(outOf(1.5, p('A', 'peer'), p('B', 'peer')));
    rejects(outOf(1));
    rejects(p('A.B', 'peer'));
    rejects(p('A', "pe'er"));
    rejects(p('', 'peer'));
    rejects(fp('Org1', 'finance', 0));
    rejects(fp('Org1', 'finance', 10));
    rejects(fp('Org1', 'finance', 2.5));
    rejects(fp('Org1', 'fin@ance', 3));
    rejects(fp('Org.1', 'finance', 3));
    let deep: PolicyExpression = p('A', 'peer');
    for (let i = 0; i <= MAX_POLICY_DEPTH; i++) deep = or(deep);
    rejects(deep);
    rejects(or(...Array.from({ length: 400 }, (_, i) => p(`Org${i}`, 'peer'))));
  });
});

void describe('policyOrgs and principals()', () => {
  void it('lists distinct orgs and principals in order of first appearance', () => {
    const text = "AND('Customs.officer', OR('SellerCN.member', 'Customs.admin', 'SellerCN.member'), 'SellerEU.peer')";
    assert.deepEqual(policyOrgs(parseEndorsementPolicy(text)), ['Customs', 'SellerCN', 'SellerEU']);
    const policy = compileEndorsementPolicy(text);
    assert.deepEqual(policy.principals(), [
      { org: 'Customs', role: 'officer' },
      { org: 'SellerCN', role: 'member' },
      { org: 'Customs', role: 'admin' },
      { org: 'SellerEU', role: 'peer' },
    ]);
    assert.deepEqual(compileEndorsementPolicy("OR('A.finance@3', 'A.finance', 'A.finance@3', 'A.finance@4', 'B.member')").principals(), [
      { org: 'A', function: 'finance', minLevel: 3 },
      { org: 'A', role: 'finance' },
      { org: 'A', function: 'finance', minLevel: 4 },
      { org: 'B', role: 'member' },
    ]);
    assert.deepEqual(policyOrgs(parseEndorsementPolicy("AND('A.peer', 'C.audit@2')")), ['A', 'C']);
    // Callers get fresh copies they may change.
    const first = policy.principals()[0]!;
    (first as { org: string }).org = 'Changed';
    assert.equal(policy.principals()[0]!.org, 'Customs');
  });
});

void describe('compileEndorsementPolicy', () => {
  void it('caches by text and keeps the given text', () => {
    const text = "OR( 'A.peer' )";
    const policy = compileEndorsementPolicy(text);
    assert.equal(compileEndorsementPolicy(text), policy);
    assert.equal(policy.text, text);
    assert.deepEqual(policy.expression, or(p('A', 'peer')));
    assert.ok(Object.isFrozen(policy));
    assert.notEqual(compileEndorsementPolicy("OR('A.peer')"), policy);
  });

  void it('keeps working when more policies are compiled than the cache holds', () => {
    const texts = Array.from({ length: 600 }, (_, i) => `'Org${i}.peer'`);
    for (const text of texts) compileEndorsementPolicy(text);
    for (const [i, text] of texts.entries()) {
      assert.equal(compileEndorsementPolicy(text).isSatisfiedBy([{ org: `Org${i}`, role: 'peer' }]), true);
    }
  });

  void it('propagates parse errors and does not cache them', () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      assert.throws(() => compileEndorsementPolicy('AND('), (error: unknown) => isSilkError(error, 'INVALID_ARGUMENT'));
    }
  });
});

void describe('isSatisfiedBy', () => {
  const truthTable = (text: string, rows: readonly (readonly [string, boolean])[]): void => {
    const policy = compileEndorsementPolicy(text);
    for (const [list, expected] of rows) {
      assert.equal(policy.isSatisfiedBy(signers(list)), expected, `${text} with [${list}]`);
    }
  };

  void it('evaluates a bare principal', () => {
    truthTable("'Org1.admin'", [
      ['', false],
      ['Org1.admin', true],
      ['Org1.peer', false],
      ['Org2.admin', false],
      ['Org2.admin, Org1.admin', true],
      ['org1.admin', false],
    ]);
    truthTable("'Org1.member'", [
      ['Org1.peer', true],
      ['Org1.admin', true],
      ['Org1.member', true],
      ['Org2.member', false],
    ]);
  });

  void it('evaluates the customs example', () => {
    truthTable("AND('Customs.officer', OR('SellerCN.member','SellerEU.member'))", [
      ['', false],
      ['Customs.officer', false],
      ['SellerCN.peer', false],
      ['Customs.officer, SellerCN.peer', true],
      ['SellerEU.admin, Customs.officer', true],
      ['Customs.admin, SellerEU.admin', false],
      ['Customs.officer, Buyer.peer', false],
    ]);
  });

  void it('evaluates OutOf(2, …) over three orgs', () => {
    truthTable("OutOf(2, 'Org1.peer', 'Org2.peer', 'Org3.peer')", [
      ['', false],
      ['Org1.peer', false],
      ['Org1.peer, Org2.peer', true],
      ['Org1.peer, Org3.peer', true],
      ['Org2.peer, Org3.peer', true],
      ['Org1.peer, Org2.peer, Org3.peer', true],
      ['Org1.peer, Org1.peer', false],
      ['Org1.peer, Org2.admin', false],
      ['Org1.peer, Org4.peer', false],
    ]);
  });

  void it('lets each signer satisfy at most one principal', () => {
    truthTable("AND('A.member','A.member')", [
      ['A.peer', false],
      ['A.peer, A.admin', true],
      ['A.peer, B.peer', false],
      // Duplicate signers count as given.
      ['A.peer, A.peer', true],
    ]);
    truthTable("AND('A.peer','A.member')", [
      ['A.peer', false],
      ['A.peer, A.admin', true],
      ['A.admin, A.client', false],
      ['A.peer, A.peer', true],
      ['A.member, A.peer', true],
    ]);
    truthTable("AND('A.peer', OR('A.peer', 'B.peer'))", [
      ['A.peer', false],
      ['A.peer, B.peer', true],
      ['A.peer, A.peer', true],
    ]);
  });

  void it('finds assignments a greedy evaluator misses', () => {
    // Greedy would give the A.peer signer to A.member, leaving no one for A.peer.
    truthTable("AND('A.member', 'A.peer')", [['A.peer, A.admin', true]]);
    truthTable("AND(OR('A.member', 'B.member'), 'A.peer')", [
      ['A.peer, B.admin', true],
      ['A.peer', false],
    ]);
    truthTable("OutOf(2, AND('A.member', 'B.member'), AND('A.peer', 'C.member'), 'B.admin')", [
      ['A.peer, A.admin, B.client, C.x', true],
      ['A.peer, B.admin, C.x', true],
      ['A.peer, B.admin', false],
    ]);
  });

  void it('evaluates nested gates', () => {
    truthTable("MAJORITY(AND('A.peer','B.peer'), OR('C.admin','D.admin'), 'E.member')", [
      ['A.peer, B.peer', false],
      ['A.peer, B.peer, D.admin', true],
      ['C.admin, E.client', true],
      ['A.peer, E.client', false],
    ]);
  });

  void it('evaluates authority principals by function and minimum level; an admin meets any function of its org', () => {
    truthTable("'Org1.finance@3'", [
      ['', false],
      ['Org1.member:finance@3', true],
      ['Org1.member:finance@9', true],
      ['Org1.device:finance@3', true],
      // Below the level, another function, another org, no authority at all.
      ['Org1.member:finance@2', false],
      ['Org1.member:sales@9', false],
      ['Org2.member:finance@3', false],
      ['Org1.peer', false],
      ['Org1.client', false],
      // A role named like the function is not the function.
      ['Org1.finance', false],
      // A configured admin (function admin, level 9) of the org meets it; of another org, not.
      ['Org1.admin:admin@9', true],
      ['Org2.admin:admin@9', false],
      // An admin function below the level does not.
      ['Org1.member:admin@2', false],
    ]);
    truthTable("'Org1.admin@9'", [
      ['Org1.admin:admin@9', true],
      ['Org1.member:finance@9', false],
    ]);
  });

  void it('assigns a signer that matches a role and an authority principal to only one of them', () => {
    truthTable("AND('Org1.member', 'Org1.finance@3')", [
      ['Org1.member:finance@3', false],
      ['Org1.member:finance@3, Org1.peer', true],
      ['Org1.member:finance@3, Org1.member:finance@2', true],
      ['Org1.member:finance@2, Org1.peer', false],
      ['Org1.admin:admin@9, Org1.peer', true],
    ]);
    truthTable("AND('Org1.peer', 'Org1.finance@3', 'Org1.finance@5')", [
      ['Org1.peer, Org1.member:finance@5', false],
      ['Org1.peer, Org1.member:finance@5, Org1.member:finance@3', true],
      ['Org1.peer, Org1.member:finance@4, Org1.member:finance@3', false],
      ['Org1.peer, Org1.admin:admin@9, Org1.member:finance@3', true],
    ]);
    // Greedy would give the level-5 key to the first principal and leave none for the second.
    truthTable("OutOf(2, 'Org1.finance@3', 'Org1.finance@5', 'Org1.audit@1')", [
      ['Org1.member:finance@5, Org1.member:finance@3', true],
      ['Org1.member:finance@5, Org1.member:audit@1', true],
      ['Org1.member:finance@3, Org1.member:finance@4', false],
    ]);
    truthTable("AND(OR('Org1.finance@3', 'Org2.peer'), 'Org1.admin')", [
      ['Org1.admin:admin@9', false],
      ['Org1.admin:admin@9, Org1.member:finance@3', true],
      ['Org1.admin:admin@9, Org2.peer', true],
      ['Org1.admin:admin@9, Org1.admin:admin@9', true],
    ]);
  });

  void it('principalAccepts mirrors hasAuthority', () => {
    const finance3 = { org: 'Org1', function: 'finance', minLevel: 3 };
    assert.equal(principalAccepts(finance3, { org: 'Org1', role: 'member', function: 'finance', level: 3 }), true);
    assert.equal(principalAccepts(finance3, { org: 'Org1', role: 'member', function: 'finance', level: 2 }), false);
    assert.equal(principalAccepts(finance3, { org: 'Org1', role: 'admin', function: 'admin', level: 9 }), true);
    assert.equal(principalAccepts(finance3, { org: 'Org1', role: 'peer' }), false);
    assert.equal(principalAccepts({ org: 'Org1', role: 'member' }, { org: 'Org1', role: 'peer' }), true);
    assert.equal(principalAccepts({ org: 'Org1', role: 'peer' }, { org: 'Org1', role: 'member', function: 'finance', level: 9 }), false);
  });

  void it('stays fast when no assignment exists among many overlapping choices', { timeout: 10_000 }, () => {
    const orgs = Array.from({ length: 16 }, (_, i) => `O${i}`);
    const text = `AND(${orgs.map(() => `OR(${orgs.map((org) => `'${org}.member'`).join(',')})`).join(',')})`;
    assert.ok(text.length <= MAX_POLICY_LENGTH);
    const policy = compileEndorsementPolicy(text);
    assert.equal(policy.isSatisfiedBy(orgs.slice(1).map((org) => ({ org, role: 'peer' }))), false);
    assert.equal(policy.isSatisfiedBy(orgs.map((org) => ({ org, role: 'peer' }))), true);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

/** Tries every assignment of distinct signers to principals, then evaluates the gates. */
function bruteForceSatisfied(expr: PolicyExpression, given: readonly PolicySigner[]): boolean {
  const leaves: (PolicyPrincipal | PolicyAuthority)[] = [];
  const collect = (node: PolicyExpression): void => {
    if (node.kind === 'outOf') node.rules.forEach(collect);
    else leaves.push(node);
  };
  collect(expr);
  const satisfied = leaves.map(() => false);
  const evaluate = (node: PolicyExpression, next: { index: number }): boolean => {
    if (node.kind !== 'outOf') return satisfied[next.index++]!;
    const results = node.rules.map((rule) => evaluate(rule, next));
    return results.filter(Boolean).length >= node.n;
  };
  // Written out independently of principalAccepts: the rule of hasAuthority() for authority principals.
  const matches = (leaf: PolicyPrincipal | PolicyAuthority, signer: PolicySigner): boolean =>
    leaf.org === signer.org &&
    (leaf.kind === 'principal'
      ? leaf.role === 'member' || leaf.role === signer.role
      : signer.level !== undefined && signer.level >= leaf.minLevel && (signer.function === leaf.function || signer.function === 'admin'));
  const search = (i: number, used: readonly boolean[]): boolean => {
    if (i === leaves.length) return evaluate(expr, { index: 0 });
    satisfied[i] = false;
    if (search(i + 1, used)) return true;
    for (const [j, signer] of given.entries()) {
      if (used[j] === true || !matches(leaves[i]!, signer)) continue;
      satisfied[i] = true;
      const nowUsed = [...used];
      nowUsed[j] = true;
      if (search(i + 1, nowUsed)) return true;
      satisfied[i] = false;
    }
    return false;
  };
  return search(0, given.map(() => false));
}

function leafCount(expr: PolicyExpression): number {
  return expr.kind === 'outOf' ? expr.rules.reduce((sum, rule) => sum + leafCount(rule), 0) : 1;
}

const orgArb = fc.constantFrom('A', 'B', 'C');
const roleArb = fc.constantFrom('member', 'peer', 'admin', 'client');
// fc.record builds null-prototype objects; map to plain ones so deepEqual compares like with like.
const functionArb = fc.constantFrom('finance', 'sales', 'admin');
const levelArb = fc.integer({ min: 1, max: 9 });
const rolePrincipalArb: fc.Arbitrary<PolicyPrincipal> = fc.tuple(orgArb, roleArb).map(([org, role]) => p(org, role));
const authorityPrincipalArb: fc.Arbitrary<PolicyAuthority> = fc.tuple(orgArb, functionArb, fc.constantFrom(1, 3, 5, 9)).map(([org, fn, level]) => fp(org, fn, level));
const principalArb: fc.Arbitrary<PolicyPrincipal | PolicyAuthority> = fc.oneof({ weight: 2, arbitrary: rolePrincipalArb }, { weight: 1, arbitrary: authorityPrincipalArb });
// Signers: configured members (role only), configured admins (function admin, level 9) and registered keys (member/device with a function and level).
const signerArb: fc.Arbitrary<PolicySigner> = fc.oneof(
  fc.tuple(fc.constantFrom('A', 'B', 'C', 'D'), roleArb).map(([org, role]): PolicySigner => (role === 'admin' ? { org, role, function: 'admin', level: 9 } : { org, role })),
  fc.tuple(fc.constantFrom('A', 'B', 'C', 'D'), fc.constantFrom('member', 'device'), fc.constantFrom('finance', 'sales', 'audit', 'admin'), levelArb).map(([org, role, fn, level]): PolicySigner => ({ org, role, function: fn, level })),
);

const policyArb = fc.letrec<{ rule: PolicyExpression; gate: PolicyOutOf }>((tie) => ({
  rule: fc.oneof({ maxDepth: 3, depthIdentifier: 'policy' }, principalArb, tie('gate')),
  gate: fc
    .array(tie('rule'), { minLength: 1, maxLength: 4, depthIdentifier: 'policy' })
    .chain((rules) => fc.integer({ min: 1, max: rules.length }).map((n): PolicyOutOf => ({ kind: 'outOf', n, rules }))),
})).rule.filter((expr) => leafCount(expr) <= 7);

const flatPolicyArb = fc
  .array(principalArb, { minLength: 1, maxLength: 6 })
  .chain((rules) => fc.integer({ min: 1, max: rules.length }).map((n): PolicyOutOf => ({ kind: 'outOf', n, rules })));

void describe('properties', () => {
  void it('the evaluator agrees with brute force on random nested policies', () => {
    fc.assert(
      fc.property(policyArb, fc.array(signerArb, { maxLength: 6 }), (expr, given) => {
        const policy = compileEndorsementPolicy(formatEndorsementPolicy(expr));
        assert.equal(policy.isSatisfiedBy(given), bruteForceSatisfied(expr, given));
      }),
      { numRuns: 500 },
    );
  });

  void it('the matching fast path agrees with brute force on flat policies', () => {
    fc.assert(
      fc.property(flatPolicyArb, fc.array(signerArb, { maxLength: 8 }), (expr, given) => {
        const policy = compileEndorsementPolicy(formatEndorsementPolicy(expr));
        assert.equal(policy.isSatisfiedBy(given), bruteForceSatisfied(expr, given));
      }),
      { numRuns: 500 },
    );
  });

  void it('signer order does not matter', () => {
    fc.assert(
      fc.property(policyArb, fc.array(signerArb, { maxLength: 6 }), (expr, given) => {
        const policy = compileEndorsementPolicy(formatEndorsementPolicy(expr));
        assert.equal(policy.isSatisfiedBy([...given].reverse()), policy.isSatisfiedBy(given));
      }),
      { numRuns: 200 },
    );
  });

  void it('a signer with a function and level counts for at most one principal (brute force over many same-org keys)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('A'), fc.constantFrom('peer', 'member'), fc.constantFrom('finance', 'sales', 'admin'), levelArb), { maxLength: 6 }), flatPolicyArb, (keys, expr) => {
        const given = keys.map(([org, role, fn, level]): PolicySigner => ({ org, role, function: fn, level }));
        assert.equal(compileEndorsementPolicy(formatEndorsementPolicy(expr)).isSatisfiedBy(given), bruteForceSatisfied(expr, given));
      }),
      { numRuns: 300 },
    );
  });

  void it('format then parse round-trips', () => {
    fc.assert(
      fc.property(policyArb, (expr) => {
        const text = formatEndorsementPolicy(expr);
        const parsed = parseEndorsementPolicy(text);
        assert.deepEqual(parsed, expr);
        assert.equal(formatEndorsementPolicy(parsed), text);
      }),
      { numRuns: 500 },
    );
  });
});
