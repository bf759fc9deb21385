import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { toHex } from '../crypto/hash.js';
import { generateSigner } from '../crypto/p256.js';
import { isSilkError } from '../errors.js';
import { tempDir } from '../testing/fixtures.js';
import type { ChainSpec } from '../network/embedded-network.js';
import {
  describedPath, localNetworkDescription, networkDescriptionToYaml, networkSpecOf, parseNetworkDescription, readNetworkDescription, validateNetworkDescription,
  type NetworkDescription,
} from './network-description.js';

const CHAINS: ChainSpec[] = [
  { name: 'trade', contracts: [{ name: 'basic', policy: "OR('Org1.peer', 'Org2.peer')" }], batch: { maxTxs: 100, timeoutMs: 10 } },
  { name: 'audit', orgs: ['Org2', 'Org3'], contracts: [{ name: 'basic', policy: "AND('Org2.peer', 'Org3.peer')" }], txWindowMs: 60_000 },
];
const ORGS = [{ name: 'Org1', adminKey: toHex(generateSigner().publicKey) }, { name: 'Org2', peers: 2 }, { name: 'Org3' }];

function local(): NetworkDescription {
  return localNetworkDescription({ orgs: ORGS, chains: CHAINS, orderers: 2, etcdMembers: 3, basePort: 17_000, dataDir: '/srv/silk' });
}

/** A copy of the local description as untyped data (what a YAML parser yields), changed by `edit`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the edits write deliberately ill-typed values
function broken(edit: (d: any) => void): unknown {
  const d: unknown = structuredClone(local());
  edit(d);
  return d;
}

function refusal(value: unknown): string {
  try {
    validateNetworkDescription(value);
  } catch (e) {
    assert.ok(isSilkError(e, 'CONFIG_INVALID'), `expected CONFIG_INVALID, got ${String(e)}`);
    return e.message;
  }
  assert.fail('the description was accepted');
}

/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-assignment -- the broken cases edit untyped data */
describe('network description', () => {
  it('generates the loopback layout: etcd, orderers, a peer per org serving its chains, the API', () => {
    const d = local();
    assert.deepEqual(d.etcd.map((e) => [e.name, e.clientPort, e.peerPort]), [['etcd-1', 17_000, 17_001], ['etcd-2', 17_002, 17_003], ['etcd-3', 17_004, 17_005]]);
    assert.deepEqual(d.orderers.map((o) => [o.name, o.org, o.port]), [['orderer0', 'Org1', 17_006], ['orderer1', 'Org2', 17_007]]);
    assert.deepEqual(d.peers.map((p) => [p.name, p.chains]), [['peer0.org1', ['trade']], ['peer0.org2', ['trade', 'audit']], ['peer1.org2', ['trade', 'audit']], ['peer0.org3', ['trade', 'audit']]]);
    assert.deepEqual([d.api.org, d.api.peer, d.api.port], ['Org1', 'peer0.org1', 17_012]);
    assert.ok(d.peers.every((p) => p.host === '127.0.0.1'));
    assert.deepEqual(d.orgs.map((o) => o.adminKey ?? o.adminKeystore), [ORGS[0]?.adminKey, 'keys/Org2/mnemonic.keystore.json', 'keys/Org3/mnemonic.keystore.json']);
    assert.equal(describedPath(d, d.peers[0]!.dataDir), '/srv/silk/peers/peer0.org1');
    assert.deepEqual(networkSpecOf(d), { orgs: [{ name: 'Org1', peers: 1 }, { name: 'Org2', peers: 2 }, { name: 'Org3', peers: 1 }], chains: CHAINS });
  });

  it('round-trips: generate → YAML text → parse gives an equal description', () => {
    const d = local();
    const text = networkDescriptionToYaml(d);
    assert.match(text, /^orgs:$/m);
    assert.deepEqual(parseNetworkDescription(text), d);
  });

  it('reads a file, taking a relative root data folder from the file’s folder', () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'network.yaml');
      writeFileSync(file, networkDescriptionToYaml({ ...local(), dataDir: 'data' }));
      assert.equal(readNetworkDescription(file).dataDir, join(dir.path, 'data'));
      assert.throws(() => readNetworkDescription(join(dir.path, 'missing.yaml')), (e) => isSilkError(e, 'CONFIG_INVALID') && /cannot read/.test(e.message));
    } finally {
      dir.cleanup();
    }
  });

  it('accepts the example file examples/network.yaml, which the docs show', () => {
    const d = readNetworkDescription(new URL('../../examples/network.yaml', import.meta.url).pathname);
    assert.equal(d.etcd.length, 3);
    assert.ok(d.peers.some((p) => p.host !== d.peers[0]?.host), 'the example spreads processes over hosts');
    const doc = readFileSync(new URL('../../docs/distributed.md', import.meta.url), 'utf8');
    const block = /## The network description[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(block !== undefined, 'docs/distributed.md has a YAML example');
    assert.deepEqual(parseNetworkDescription(block, 'docs/distributed.md'), parseNetworkDescription(readFileSync(new URL('../../examples/network.yaml', import.meta.url), 'utf8')));
  });

  it('accepts the etcd member counts a membership change passes through (1 to 7, even ones too)', () => {
    for (const count of [1, 2, 4]) {
      const value = broken((d) => {
        const first = d.etcd[0] as object;
        d.etcd = Array.from({ length: count }, (_, i) => ({ ...first, name: `etcd-${i + 1}`, clientPort: 17_100 + 2 * i, peerPort: 17_101 + 2 * i, dataDir: `etcd/etcd-${i + 1}` }));
      });
      assert.equal(validateNetworkDescription(value).etcd.length, count);
    }
  });

  it('refuses broken descriptions, naming the failing path', () => {
    const cases: [string, unknown, RegExp][] = [
      ['port out of range', broken((d) => { d.peers[2].port = 70_000; }), /^peers\[2\]\.port: /],
      ['missing host', broken((d) => { delete d.orderers[1].host; }), /^orderers\[1\]\.host: /],
      ['unknown field', broken((d) => { d.api.tls = true; }), /^api(\.tls)?: /],
      ['wrong version', broken((d) => { d.version = 2; }), /^version: /],
      ['bad admin key', broken((d) => { d.orgs[0].adminKey = '04abc'; }), /^orgs\[0\]\.adminKey: .*got '04abc'/],
      ['admin key off the curve', broken((d) => { d.orgs[0].adminKey = '02' + 'ff'.repeat(32); }), /^orgs\[0\]\.adminKey: not a point on P-256/],
      ['both admin key forms', broken((d) => { d.orgs[0].adminKeystore = 'k.json'; }), /^orgs\[0\]: give exactly one of adminKey/],
      ['repeated org', broken((d) => { d.orgs.push({ ...d.orgs[1] }); }), /^orgs\[3\]\.name: org name Org2 is already used by orgs\[1\]\.name/],
      ['repeated process name', broken((d) => { d.orderers[1].name = 'peer0.org1'; }), /^orderers\[1\]\.name: process name peer0\.org1 is already used by peers\[0\]\.name/],
      ['repeated address', broken((d) => { d.etcd[1].peerPort = d.peers[0].port; }), /^etcd\[1\]\.peerPort: address 127\.0\.0\.1:17008 is already used by peers\[0\]\.port/],
      ['shared data folder', broken((d) => { d.orderers[0].dataDir = 'peers/peer0.org1/'; }), /^orderers\[0\]\.dataDir: data folder/],
      ['unknown org of a process', broken((d) => { d.peers[1].org = 'Org9'; }), /^peers\[1\]\.org: org Org9 is not listed/],
      ['unknown chain member', broken((d) => { d.chains[1].orgs = ['Org2', 'Org9']; }), /^chains\[1\]\.orgs\[1\]: org Org9/],
      ['bad policy', broken((d) => { d.chains[0].contracts[0].policy = "OR('Org1.peer'"; }), /^chains\[0\]\.contracts\[0\]\.policy: /],
      ['peer on an unknown chain', broken((d) => { d.peers[0].chains = ['trade', 'nope']; }), /^peers\[0\]\.chains\[1\]: chain nope is not listed/],
      ['peer on a chain its org is not in', broken((d) => { d.peers[0].chains = ['trade', 'audit']; }), /^peers\[0\]\.chains\[1\]: org Org1 of peer peer0\.org1 is not a member of chain audit/],
      ['member org without a peer', broken((d) => { d.peers[3].chains = ['trade']; }), /^chains\[1\]: member org Org3 has no peer serving chain audit/],
      ['no etcd member', broken((d) => { d.etcd = []; }), /^etcd: .*at least one etcd member/],
      ['eight etcd members', broken((d) => { for (let i = 4; i <= 8; i++) d.etcd.push({ ...d.etcd[0], name: `etcd-${i}`, clientPort: 17_100 + 2 * i, peerPort: 17_101 + 2 * i, dataDir: `etcd/etcd-${i}` }); }), /^etcd: /],
      ['no orderer', broken((d) => { d.orderers = []; }), /^orderers: /],
      ['API fronting an unknown peer', broken((d) => { d.api.peer = 'peer9.org1'; }), /^api\.peer: peer peer9\.org1 is not listed/],
      ['API fronting another org’s peer', broken((d) => { d.api.peer = 'peer0.org2'; }), /^api\.peer: .*fronts a peer of its own org/],
      ['bad host', broken((d) => { d.peers[3].host = 'bad host!'; }), /^peers\[3\]\.host: /],
      ['unknown gateway setting', broken((d) => { d.peers[1].gateway = { admission: { target: 500 } }; }), /^peers\[1\]\.gateway\.admission(\.target)?: /],
      ['negative admission wait', broken((d) => { d.peers[1].gateway = { admission: { maxWaitMs: -1 } }; }), /^peers\[1\]\.gateway\.admission\.maxWaitMs: /],
      ['commit timeout under a second', broken((d) => { d.peers[0].gateway = { commitTimeoutMs: 10 }; }), /^peers\[0\]\.gateway\.commitTimeoutMs: /],
      ['admission bounds crossed', broken((d) => { d.peers[2].gateway = { admission: { minInFlight: 500, maxInFlight: 100 } }; }), /^peers\[2\]\.gateway\.admission: minInFlight 500 is above maxInFlight 100$/],
      ['admission floor above the default ceiling', broken((d) => { d.peers[2].gateway = { admission: { minInFlight: 30_000 } }; }), /^peers\[2\]\.gateway\.admission: minInFlight 30000 is above maxInFlight 20000 \(the default\)$/],
    ];
    for (const [what, value, expected] of cases) assert.match(refusal(value), expected, what);
  });

  it('reports YAML syntax errors with their line, and checks under the file name', () => {
    assert.throws(() => parseNetworkDescription('version: 1\norgs: [\n', 'net.yaml'), (e) => isSilkError(e, 'CONFIG_INVALID') && /^net\.yaml line \d+ column \d+: not valid YAML/.test(e.message));
    assert.throws(() => parseNetworkDescription('version: 1\nversion: 1\n'), (e) => isSilkError(e, 'CONFIG_INVALID') && /not valid YAML/.test(e.message));
    const text = networkDescriptionToYaml(local()).replace('port: 17012', 'port: "17012"');
    assert.throws(() => parseNetworkDescription(text, 'net.yaml'), (e) => isSilkError(e, 'CONFIG_INVALID') && /^net\.yaml: api\.port: /.test(e.message));
  });
});
