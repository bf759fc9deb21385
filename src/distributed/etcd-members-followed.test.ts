import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/fixtures.js';
import { ETCD_MEMBERS_FILE, followDescribedEtcdMembers, readEtcdMembersRecord, sameEtcdMembers } from './etcd-members-followed.js';
import type { NetworkDescription, NetworkDescriptionWatch } from './network-description.js';

/** A description watch whose etcd members the test sets (the only part these functions read). */
function watchOf(members: () => readonly { name: string; host: string; clientPort: number }[]): NetworkDescriptionWatch {
  const descriptions = new Map<string, NetworkDescription>();
  return {
    file: 'network.yaml',
    current() {
      const etcd = members();
      const key = JSON.stringify(etcd);
      let d = descriptions.get(key);
      if (d === undefined) {
        d = { etcd } as unknown as NetworkDescription;
        descriptions.set(key, d);
      }
      return d;
    },
  };
}

describe('the etcd members a process calls', () => {
  it('follows the description and records the members it calls by name, and a refused list changes nothing', () => {
    const dir = tempDir();
    const logged: string[] = [];
    const logger = { info: (_o: unknown, m: string) => { logged.push(`info ${m}`); }, warn: (_o: unknown, m: string) => { logged.push(`warn ${m}`); } };
    try {
      let members = [{ name: 'etcd-1', host: '10.0.0.1', clientPort: 2379 }, { name: 'etcd-2', host: 'fd00::2', clientPort: 2379 }];
      const followed = followDescribedEtcdMembers(watchOf(() => members), { tls: true, dataDir: dir.path, logger: logger as never });
      assert.deepEqual(followed.endpoints(), ['https://10.0.0.1:2379', 'https://[fd00::2]:2379']);
      // The members it starts with are recorded at once.
      assert.deepEqual(readEtcdMembersRecord(dir.path)?.members, ['etcd-1', 'etcd-2']);

      members = [{ name: 'etcd-2', host: 'fd00::2', clientPort: 2379 }, { name: 'etcd-4', host: '10.0.0.4', clientPort: 2379 }];
      const now = followed.endpoints();
      assert.deepEqual(now, ['https://[fd00::2]:2379', 'https://10.0.0.4:2379']);
      followed.onEndpoints({ kind: 'changed', source: 'given', endpoints: now, added: ['https://10.0.0.4:2379'], removed: ['https://10.0.0.1:2379'] });
      const record = readEtcdMembersRecord(dir.path);
      assert.deepEqual(record?.members, ['etcd-2', 'etcd-4']);
      assert.deepEqual(record.endpoints, now);
      assert.ok(!Number.isNaN(Date.parse(record.since)));

      followed.onEndpoints({ kind: 'refused', source: 'given', endpoints: now, reason: 'etcd endpoints must be one or more URLs' });
      assert.deepEqual(readEtcdMembersRecord(dir.path)?.members, ['etcd-2', 'etcd-4']);

      // The cluster lists a member this host's description does not know yet: the record names it
      // as the cluster does, and the rest as the description does.
      const fromCluster = ['https://[fd00::2]:2379', 'https://10.0.0.5:2379'];
      followed.onEndpoints({ kind: 'changed', source: 'cluster', endpoints: fromCluster, added: ['https://10.0.0.5:2379'], removed: ['https://10.0.0.4:2379'], names: { 'https://10.0.0.5:2379': 'etcd-5' } });
      assert.deepEqual(readEtcdMembersRecord(dir.path)?.members, ['etcd-2', 'etcd-5']);
      assert.deepEqual(readEtcdMembersRecord(dir.path)?.endpoints, fromCluster);
      // The cluster answers in its own order (by member id): the record keeps the description's,
      // then the members the description does not list yet, by name.
      const shuffled = ['https://10.0.0.7:2379', 'https://10.0.0.5:2379', 'https://[fd00::2]:2379', 'https://10.0.0.10:2379'];
      followed.onEndpoints({ kind: 'changed', source: 'cluster', endpoints: shuffled, added: ['https://10.0.0.7:2379', 'https://10.0.0.10:2379'], removed: [], names: { 'https://10.0.0.5:2379': 'etcd-5', 'https://10.0.0.7:2379': 'etcd-7', 'https://10.0.0.10:2379': 'etcd-10' } });
      assert.deepEqual(readEtcdMembersRecord(dir.path)?.members, ['etcd-2', 'etcd-5', 'etcd-7', 'etcd-10']);
      assert.deepEqual(readEtcdMembersRecord(dir.path)?.endpoints, ['https://[fd00::2]:2379', 'https://10.0.0.5:2379', 'https://10.0.0.7:2379', 'https://10.0.0.10:2379']);
      followed.onEndpoints({ kind: 'changed', source: 'cluster', endpoints: ['https://10.0.0.5:2379', 'https://[fd00::2]:2379'], added: [], removed: ['https://10.0.0.7:2379', 'https://10.0.0.10:2379'], names: { 'https://10.0.0.5:2379': 'etcd-5', 'https://[fd00::2]:2379': 'etcd-2' } });
      assert.deepEqual(readEtcdMembersRecord(dir.path)?.members, ['etcd-2', 'etcd-5']);
      assert.deepEqual(readEtcdMembersRecord(dir.path)?.endpoints, fromCluster);
      followed.onEndpoints({ kind: 'unsynced', endpoints: fromCluster, reason: 'no member answered' });
      assert.deepEqual(readEtcdMembersRecord(dir.path)?.members, ['etcd-2', 'etcd-5']);
      assert.deepEqual(logged, [
        'info etcd members changed: calling the ones the network description lists now',
        'warn the network description lists etcd members this process cannot call: it keeps the ones it has',
        'info etcd members changed: calling the ones the etcd cluster lists now',
        'info etcd members changed: calling the ones the etcd cluster lists now',
        'info etcd members changed: calling the ones the etcd cluster lists now',
        'warn cannot ask the etcd cluster for its members: this process keeps calling the ones it has',
      ]);
    } finally {
      dir.cleanup();
    }
  });

  it('compares member lists in any order', () => {
    assert.equal(sameEtcdMembers(['etcd-4', 'etcd-1'], ['etcd-1', 'etcd-4']), true);
    assert.equal(sameEtcdMembers(['etcd-1'], ['etcd-1', 'etcd-4']), false);
    assert.equal(sameEtcdMembers(['etcd-1', 'etcd-1'], ['etcd-1', 'etcd-4']), false);
  });

  it('reads no record from a folder without one, or with a damaged one', () => {
    const dir = tempDir();
    try {
      assert.equal(readEtcdMembersRecord(dir.path), undefined);
      const file = join(dir.path, ETCD_MEMBERS_FILE);
      for (const text of ['{"members":', '[]', '{"members":"etcd-1"}', '{"members":[1,2]}', 'null']) {
        writeFileSync(file, text);
        assert.equal(readEtcdMembersRecord(dir.path), undefined, text);
      }
      writeFileSync(file, '{"members":["etcd-3"]}');
      assert.deepEqual(readEtcdMembersRecord(dir.path), { members: ['etcd-3'], endpoints: [], since: '' });
      assert.equal(readFileSync(file, 'utf8'), '{"members":["etcd-3"]}');
    } finally {
      dir.cleanup();
    }
  });
});
