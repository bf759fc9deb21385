import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstUnmetWritePolicy } from './write-policies.js';

const CONTRACT = "OR('Org1.peer', 'Org2.peer')";
const policies: Record<string, string> = { owned: "OR('Org2.peer')", shared: "AND('Org1.peer', 'Org3.peer')" };
const keyPolicyOf = (key: string): string | null => policies[key] ?? null;
const writes = (...keys: string[]): { key: string }[] => keys.map((key) => ({ key }));
/** `met` for endorsers that meet exactly the listed policies; records what was asked. */
const meeting = (...met: string[]): { met: (p: string) => boolean; asked: string[] } => {
  const asked: string[] = [];
  return { met: (p) => { asked.push(p); return met.includes(p); }, asked };
};

describe('the policies a transaction’s writes need', () => {
  it('a key with a key-level policy needs that policy, not the contract’s', () => {
    const m = meeting(policies.owned as string);
    assert.equal(firstUnmetWritePolicy(CONTRACT, writes('owned'), keyPolicyOf, m.met), undefined);
    assert.deepEqual(m.asked, [policies.owned]);
    assert.deepEqual(firstUnmetWritePolicy(CONTRACT, writes('owned'), keyPolicyOf, meeting(CONTRACT).met), { policy: policies.owned, key: 'owned', keyLevel: true });
  });

  it('keys without one need the contract policy, asked once, named by the first such key', () => {
    const m = meeting();
    assert.deepEqual(firstUnmetWritePolicy(CONTRACT, writes('a', 'b'), keyPolicyOf, m.met), { policy: CONTRACT, key: 'a', keyLevel: false });
    assert.deepEqual(m.asked, [CONTRACT]);
    assert.equal(firstUnmetWritePolicy(CONTRACT, writes('a', 'b'), keyPolicyOf, meeting(CONTRACT).met), undefined);
  });

  it('a mix needs every key policy and the contract’s; the first unmet in write order is answered', () => {
    const all = meeting(CONTRACT, policies.owned as string, policies.shared as string);
    assert.equal(firstUnmetWritePolicy(CONTRACT, writes('owned', 'plain', 'shared'), keyPolicyOf, all.met), undefined);
    assert.deepEqual(firstUnmetWritePolicy(CONTRACT, writes('owned', 'plain', 'shared'), keyPolicyOf, meeting(CONTRACT, policies.owned as string).met), { policy: policies.shared, key: 'shared', keyLevel: true });
    assert.deepEqual(firstUnmetWritePolicy(CONTRACT, writes('owned', 'plain', 'shared'), keyPolicyOf, meeting(policies.owned as string, policies.shared as string).met), { policy: CONTRACT, key: 'plain', keyLevel: false });
  });

  it('a transaction that writes nothing needs the contract policy', () => {
    assert.deepEqual(firstUnmetWritePolicy(CONTRACT, [], keyPolicyOf, meeting().met), { policy: CONTRACT, key: undefined, keyLevel: false });
    assert.equal(firstUnmetWritePolicy(CONTRACT, [], keyPolicyOf, meeting(CONTRACT).met), undefined);
  });
});
