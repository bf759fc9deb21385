/**
 * Membership changes of a running network, end to end through `silk network etcd add | remove`
 * and `silk network orderer add | remove`: one real network (3 etcd members, 2 orderers, one
 * peer per org of 2 orgs, chain `trade`), changed under a steady load of submissions, each change
 * followed by the ledger consistency check over every peer's API. What is asserted is what an
 * operator and a client rely on: submissions go on being acknowledged, nothing acknowledged is
 * lost, every peer ends at one height and commit hash, `status` shows the membership there is
 * now, a new orderer can lead and its blocks are accepted, a removed one's are refused, and a
 * refused change changes nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { Etcd3 } from 'etcd3';
import { IdentityContract } from '../contracts/identity/identity-contract.js';
import { toHex } from '../crypto/hash.js';
import { signerFromPem } from '../crypto/p256.js';
import { createInlineVerifier } from '../crypto/verify-pool.js';
import { isSilkError } from '../errors.js';
import { blockHash, createBlock, decodeBlock, encodeBlock } from '../ledger/block.js';
import { DEMO_CONTRACTS } from '../network/demo-alliance.js';
import { createPeer } from '../peer/peer.js';
import { runCli, type CliRun } from '../testing/cli-run.js';
import { tempDir, waitUntil } from '../testing/fixtures.js';
import { openEtcdBlockLog } from './etcd-block-log.js';
import { etcdCredentials, openEtcdConnection } from './etcd-client.js';
import { describedEtcdAccess } from './etcd-host-main.js';
import { processTlsFiles } from './tls-pki.js';
import { readEtcdMembersRecord, sameEtcdMembers } from './etcd-members-followed.js';
import { networkUnderLoad } from './etcd-test-support.js';
import { RETRIABLE_CODES, startLoad, type LoadRun } from './load-client.js';
import { describedPath, readNetworkDescription } from './network-description.js';
import { chainOrdering, NETWORK_FILE, networkDown, networkProcesses, networkStatus, networkUp, restartNetworkProcess } from './network-launcher.js';
import type { EtcdMembershipChange, OrdererMembershipChange } from './network-membership.js';

const CHAIN = 'trade';
/** Submissions per second: steady, and light enough for a loaded 2-core machine. */
const RATE = 8;
/**
 * Submissions per second while the leading orderer is removed: enough that blocks are being cut
 * in the moment between its removal block and its stop, when it must not cut any.
 */
const REMOVAL_RATE = 25;
/** Longest pause between acknowledgements a membership change may cause. */
const MAX_GAP_MS = 10_000;

/** The etcd members the network's orderers and peers start with. */
const STARTED_WITH = ['etcd-1', 'etcd-2', 'etcd-3'];

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** `silk network …` with `--json`: the parsed answer, or the failure with its output. */
async function silkNetwork<T>(args: readonly string[], dir: string): Promise<T> {
  const run = await runCli(['network', ...args, '--dir', dir, '--json'], 150_000);
  assert.equal(run.code, 0, `silk network ${args.join(' ')} failed:\n${run.stdout}\n${run.stderr.slice(-3_000)}`);
  return JSON.parse(run.stdout) as T;
}

/** A refused `silk network …`: exit 3 and the error code and message printed as JSON. */
async function refused(args: readonly string[], dir: string): Promise<{ code: string; message: string }> {
  const run: CliRun = await runCli(['network', ...args, '--dir', dir, '--json'], 60_000);
  assert.equal(run.code, 3, `silk network ${args.join(' ')} should be refused:\n${run.stdout}\n${run.stderr.slice(-2_000)}`);
  return (JSON.parse(run.stdout) as { error: { code: string; message: string } }).error;
}

describe('silk network etcd add|remove and orderer add|remove on a running network', { timeout: 240_000 }, () => {
  const { dir, checker, acknowledged, peers, targets } = networkUnderLoad('silk-membership-', CHAIN);
  const file = join(dir.path, NETWORK_FILE);
  let runs = 0;
  /** A GET at the first peer's API (https, trusting the alliance's CA bundle). */
  const atFirstPeer = (path: string): Promise<Response> => {
    const first = peers[0];
    assert.ok(first !== undefined);
    return (first.fetch ?? fetch)(`${first.url}${path}`);
  };

  /** Runs `changes` under load; acknowledgements must go on throughout; then every ledger is checked. */
  async function underLoad(t: TestContext, name: string, changes: (load: LoadRun) => Promise<void>, rate = RATE): Promise<void> {
    const load = startLoad({ targets, chain: CHAIN, rate, label: `m${++runs}` });
    try {
      await waitUntil(() => load.acknowledgedCount() >= 5, 60_000, `${name}: acknowledgements before the change`, 250);
      const from = Date.now();
      await changes(load);
      const settled = load.acknowledgedCount();
      await waitUntil(() => load.acknowledgedCount() >= settled + 5, 60_000, `${name}: acknowledgements after the change`, 250);
      const gap = load.longestGap(from, Date.now());
      t.diagnostic(`${name}: longest gap between acknowledgements ${gap} ms`);
      assert.ok(gap < MAX_GAP_MS, `${name}: acknowledgements stopped for ${gap} ms`);
    } finally {
      const report = await load.stop();
      acknowledged.push(...report.acknowledged);
      const check = await checker.check(peers, acknowledged, 90_000);
      t.diagnostic(`${name}: attempted ${report.attempts.length}, acknowledged ${report.acknowledged.length}, failures ${JSON.stringify(report.failures)}; height ${check.height} at ${peers.length} peers, commit hash ${check.commitHash.slice(0, 16)}`);
      // A submission may have to be sent again (a leader changing hands), never be refused for good.
      assert.deepEqual(Object.keys(report.failures).filter((code) => !RETRIABLE_CODES.has(code)), [], `${name}: submissions refused`);
      assert.deepEqual(check.violations, [], `${name}: the ledgers disagree`);
      assert.equal(check.lost.length, 0);
      assert.equal(check.duplicates.length, 0);
    }
  }

  /** The etcd members as etcd itself lists them: name and whether a (non-voting) learner. */
  async function etcdMemberList(): Promise<{ name: string; isLearner: boolean }[]> {
    const access = describedEtcdAccess(readNetworkDescription(file));
    const client = new Etcd3({ hosts: access.endpoints, ...(access.tls === undefined ? {} : { credentials: etcdCredentials(access.tls) }) });
    try {
      const list = await client.cluster.memberList({ linearizable: true }, { deadline: Date.now() + 5_000 });
      return list.members.map((m) => ({ name: m.name, isLearner: m.isLearner })).sort((a, b) => a.name.localeCompare(b.name));
    } finally {
      client.close();
    }
  }

  /** etcd refuses a removed orderer's certificate: it can neither read the ordering log nor write the height. */
  async function assertEtcdRefuses(orderer: string): Promise<void> {
    const access = describedEtcdAccess(readNetworkDescription(file));
    const tls = processTlsFiles(join(dir.path, 'orderers', orderer), 'etcd-client');
    assert.ok(tls !== undefined, `${orderer}'s etcd client certificate stays on disk`);
    const conn = openEtcdConnection({ endpoints: access.endpoints, tls });
    const denied = (error: unknown): boolean => isSilkError(error, 'ORDERING_UNAVAILABLE') && error.details.reason === 'permission-denied' && error.details.user === orderer;
    try {
      await assert.rejects(openEtcdBlockLog(conn, { chain: CHAIN }).height(), denied);
      await assert.rejects(conn.call('write the height', () => conn.client.put(`/silk/${CHAIN}/height`).value('0').exec()), denied);
    } finally {
      conn.close();
    }
  }

  const ordererKey = (name: string): string => toHex(signerFromPem(readFileSync(join(dir.path, 'orderers', name, 'keys', 'orderer.pem'), 'utf8')).publicKey);
  const chainLeader = async (): Promise<string | undefined> => (await chainOrdering(readNetworkDescription(file))).find((c) => c.name === CHAIN)?.leader;
  const blockAt = async (n: number): Promise<{ orderer: string; transactions: { fn?: string }[] }> => {
    const response = await atFirstPeer(`/api/chains/${CHAIN}/blocks/${n}`);
    assert.equal(response.status, 200);
    return await response.json() as { orderer: string; transactions: { fn?: string }[] };
  };

  /** The pid of a running orderer or peer. */
  const processPid = (name: string): number => {
    const p = networkProcesses(dir.path).find((x) => x.name === name);
    assert.ok(p !== undefined, `${name} runs`);
    return p.pid;
  };
  /** Whether the process's record of the etcd members it calls names exactly `members`. */
  const callsEvery = (name: string, members: readonly string[]): boolean => {
    const d = readNetworkDescription(file);
    const entry = [...d.orderers, ...d.peers].find((p) => p.name === name);
    const recorded = entry === undefined ? undefined : readEtcdMembersRecord(describedPath(d, entry.dataDir));
    return recorded !== undefined && sameEtcdMembers(recorded.members, members);
  };
  /** Every running orderer and peer calls exactly `members` (its record in its data folder says so). */
  const assertEveryProcessCalls = (members: readonly string[]): void => {
    for (const p of networkProcesses(dir.path).filter((x) => x.kind !== 'etcd')) assert.ok(callsEvery(p.name, members), `${p.name} calls ${members.join(', ')}`);
  };

  it('adds an etcd member (a healthy voting member) and removes the Raft leader while submissions go on; status shows the new membership', async (t) => {
    const before = readFileSync(file, 'utf8');
    await underLoad(t, 'etcd add and remove', async (load) => {
      const added = await silkNetwork<EtcdMembershipChange>(['etcd', 'add'], dir.path);
      assert.equal(added.member, 'etcd-4');
      assert.deepEqual(added.members, ['etcd-1', 'etcd-2', 'etcd-3', 'etcd-4']);
      assert.deepEqual(await etcdMemberList(), ['etcd-1', 'etcd-2', 'etcd-3', 'etcd-4'].map((name) => ({ name, isLearner: false })), 'every member votes, the new one too');
      const during = load.acknowledgedCount();
      await waitUntil(() => load.acknowledgedCount() >= during + 5, 60_000, 'acknowledgements with four members', 250);

      const leader = (await networkStatus(dir.path)).etcd.leader;
      assert.ok(leader !== undefined, 'etcd has a Raft leader');
      const removed = await silkNetwork<EtcdMembershipChange>(['etcd', 'remove', leader], dir.path);
      assert.equal(removed.wasLeader, true);
      const rest = ['etcd-1', 'etcd-2', 'etcd-3', 'etcd-4'].filter((m) => m !== leader);
      assert.deepEqual(removed.members, rest);
      // Every running orderer and peer took etcd-4 and dropped the removed member, without a restart.
      assert.deepEqual(added.warnings, []);
      assert.deepEqual(removed.warnings, []);
      assertEveryProcessCalls(rest);
      assert.deepEqual(await etcdMemberList(), rest.map((name) => ({ name, isLearner: false })));

      // As on a host whose copy of the description was not updated: it lists the members from
      // before the change again. The processes take that list, then the cluster's own member list
      // (asked every few seconds) puts them back on the members there are.
      const now = readFileSync(file, 'utf8');
      const rewrite = (text: string): void => {
        writeFileSync(`${file}.tmp`, text);
        renameSync(`${file}.tmp`, file);
      };
      rewrite(before);
      try {
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        await waitUntil(() => networkProcesses(dir.path).filter((x) => x.kind !== 'etcd').every((x) => callsEvery(x.name, rest)), 10_000, 'every process back on the cluster\'s members', 100);
        const stale = load.acknowledgedCount();
        await waitUntil(() => load.acknowledgedCount() >= stale + 5, 60_000, 'acknowledgements while the description is stale', 250);
      } finally {
        rewrite(now);
      }
    });
    await waitUntil(async () => (await networkStatus(dir.path)).ready, 60_000, 'the whole network ready', 250);
    const status = await networkStatus(dir.path);
    const etcd = status.processes.filter((p) => p.kind === 'etcd');
    assert.equal(etcd.length, 3);
    assert.ok(etcd.map((p) => p.name).includes('etcd-4') && etcd.every((p) => p.alive && p.ready && p.pid !== undefined), JSON.stringify(etcd));
    assert.equal(status.etcd.healthy, true);
    assert.deepEqual(readNetworkDescription(file).etcd.map((e) => e.name), etcd.map((p) => p.name));
  });

  it('refuses an unknown etcd member, and a removal leaving fewer than three, changing nothing', async () => {
    const text = readFileSync(file, 'utf8');
    const members = readNetworkDescription(file).etcd.map((e) => e.name);
    const unknown = await refused(['etcd', 'remove', 'etcd-9'], dir.path);
    assert.equal(unknown.code, 'INVALID_ARGUMENT');
    assert.match(unknown.message, new RegExp(`no etcd member named etcd-9; members: ${members.join(', ')}`));
    const tooFew = await refused(['etcd', 'remove', members[0] ?? ''], dir.path);
    assert.equal(tooFew.code, 'INVALID_ARGUMENT');
    assert.match(tooFew.message, /would leave 2 etcd members .*fewer than 3.*--force/);
    assert.equal(readFileSync(file, 'utf8'), text, 'the description is unchanged');
    assert.deepEqual((await etcdMemberList()).map((m) => m.name), members, 'etcd has the same members');
  });

  it('with --force shrinks the cluster below three members; the processes follow it onto members they did not start with, and a paused one is never left without a member it calls', async (t) => {
    let members = readNetworkDescription(file).etcd.map((e) => e.name);
    // A member the running processes did not start with, so every one they started with can go.
    if (members.every((m) => STARTED_WITH.includes(m))) members = [...(await silkNetwork<EtcdMembershipChange>(['etcd', 'add'], dir.path)).members];
    await underLoad(t, 'every starting etcd member removed', async () => {
      for (const victim of members.filter((m) => STARTED_WITH.includes(m))) {
        const removed = await silkNetwork<EtcdMembershipChange>(['etcd', 'remove', victim, '--force'], dir.path);
        assert.deepEqual(removed.members, members.filter((m) => m !== victim));
        assert.deepEqual(removed.warnings, [], `every process followed the removal of ${victim}`);
        members = [...removed.members];
      }
    });
    assert.ok(members.length < 3 && members.every((m) => !STARTED_WITH.includes(m)), `--force took the cluster below three members, none of those the processes started with: ${members.join(', ')}`);
    assertEveryProcessCalls(members);

    // A paused peer takes no change: the last member it calls cannot be taken away from it.
    const paused = processPid('peer0.org2');
    process.kill(paused, 'SIGSTOP');
    try {
      const grown = await silkNetwork<EtcdMembershipChange>(['etcd', 'add'], dir.path);
      assert.ok(!STARTED_WITH.includes(grown.member) && !members.includes(grown.member), `a fresh name: ${grown.member}`);
      assert.equal(grown.warnings.length, 1, JSON.stringify(grown.warnings));
      assert.match(grown.warnings[0] ?? '', new RegExp(`^peer0\\.org2 \\(calling ${members.join(', ')}\\) did not take the new etcd members within 10 s`));
      // status shows which members each process calls, and which one lags.
      const seen = await networkStatus(dir.path);
      assert.deepEqual(seen.processes.find((p) => p.name === 'peer0.org2')?.etcdMembers, members);
      assert.deepEqual(seen.processes.find((p) => p.name === 'peer0.org1')?.etcdMembers, grown.members);
      const shown = await runCli(['network', 'status', '--dir', dir.path], 60_000);
      assert.match(shown.stdout, new RegExp(`peer0\\.org2 .*etcd: calls ${members.join(', ')}, not ${grown.members.join(', ')} yet`), shown.stdout);
      assert.doesNotMatch(shown.stdout, /peer0\.org1 .*etcd: calls/, shown.stdout);
      const text = readFileSync(file, 'utf8');
      const last = members[members.length - 1] ?? '';
      if (members.length > 1) await silkNetwork<EtcdMembershipChange>(['etcd', 'remove', members[0] ?? '', '--force'], dir.path);
      const stranded = await refused(['etcd', 'remove', last, '--force'], dir.path);
      assert.equal(stranded.code, 'CONFIG_INVALID');
      assert.match(stranded.message, /^peer0\.org2 \(calling .*\) would have no etcd member left to reach: it has not taken the members the description lists/);
      if (members.length === 1) assert.equal(readFileSync(file, 'utf8'), text, 'the description is unchanged');
      members = readNetworkDescription(file).etcd.map((e) => e.name);
    } finally {
      process.kill(paused, 'SIGCONT');
    }
    await waitUntil(() => callsEvery('peer0.org2', members), 10_000, 'the resumed peer follows the description', 100);
    assert.deepEqual((await etcdMemberList()).map((m) => m.name), members);
    // Back to three; a new member takes a name never used before.
    while (members.length < 3) {
      const grown = await silkNetwork<EtcdMembershipChange>(['etcd', 'add'], dir.path);
      assert.ok(!STARTED_WITH.includes(grown.member) && grown.member !== 'etcd-4', `a fresh name: ${grown.member}`);
      assert.deepEqual(grown.warnings, []);
      members = [...grown.members];
    }
    assertEveryProcessCalls(members);
    assert.deepEqual(await etcdMemberList(), members.map((name) => ({ name, isLearner: false })));
    await waitUntil(async () => (await networkStatus(dir.path)).ready, 60_000, 'the whole network ready', 250);
  });

  it('adds an orderer that leads once the old ones are gone, its blocks accepted by every peer; removes it while it leads, and a dead one', async (t) => {
    let key2 = '';
    await underLoad(t, 'orderer add, old orderers killed', async (load) => {
      const added = await silkNetwork<OrdererMembershipChange>(['orderer', 'add'], dir.path);
      assert.equal(added.orderer, 'orderer2');
      assert.deepEqual(added.orderers, ['orderer0', 'orderer1', 'orderer2']);
      key2 = ordererKey('orderer2');
      assert.equal(added.key, key2);
      assert.deepEqual(added.chains.map((c) => [c.chain, c.sequence]), [[CHAIN, 1]]);
      const configBlock = await blockAt(added.chains[0]?.block ?? -1);
      assert.deepEqual(configBlock.transactions.map((x) => x.fn), ['update'], 'the configuration transaction is alone in its block');

      // With both old orderers dead, the new one must lead, and the peers must take its blocks.
      for (const old of ['orderer0', 'orderer1']) process.kill(networkProcesses(dir.path).find((p) => p.name === old)?.pid ?? 0, 'SIGKILL');
      const killedAt = Date.now();
      await waitUntil(async () => (await chainLeader()) === 'orderer2', 30_000, 'orderer2 leading the chain', 250);
      await waitUntil(() => load.report().acknowledged.filter((a) => a.at > killedAt).length >= 10, 60_000, 'acknowledgements of blocks cut by orderer2', 250);
      const newest = Math.max(...load.report().acknowledged.map((a) => a.block));
      assert.equal((await blockAt(newest)).orderer, key2, 'the newest acknowledged block was cut by orderer2');
    });

    await underLoad(t, 'orderer remove (the leader), orderer remove (a dead one)', async (load) => {
      await restartNetworkProcess(dir.path, 'orderer1');
      assert.equal(await chainLeader(), 'orderer2');
      const removed = await silkNetwork<OrdererMembershipChange>(['orderer', 'remove', 'orderer2'], dir.path);
      assert.deepEqual(removed.ledChains, [CHAIN]);
      assert.equal(removed.stopped, true);
      assert.deepEqual(removed.orderers, ['orderer0', 'orderer1']);
      // Its etcd user is gone: etcd refuses its certificate, should the process run anywhere.
      assert.equal(removed.etcdUserDeleted, true);
      await assertEtcdRefuses('orderer2');
      const removalBlock = removed.chains[0]?.block ?? -1;
      // orderer2 cut the block removing itself, and no block after it.
      assert.equal((await blockAt(removalBlock)).orderer, key2);
      await waitUntil(async () => (await chainLeader()) === 'orderer1', 30_000, 'orderer1 leading the chain', 250);
      const after = load.acknowledgedCount();
      await waitUntil(() => load.acknowledgedCount() >= after + 5, 60_000, 'acknowledgements after orderer2 left', 250);
      assert.equal((await blockAt(removalBlock + 1)).orderer, ordererKey('orderer1'));

      const dead = await silkNetwork<OrdererMembershipChange>(['orderer', 'remove', 'orderer0'], dir.path);
      assert.equal(dead.stopped, false);
      assert.deepEqual(dead.orderers, ['orderer1']);
      assert.equal(dead.etcdUserDeleted, true);
      await assertEtcdRefuses('orderer0');
      assert.deepEqual(dead.chains.map((c) => [c.chain, c.sequence]), [[CHAIN, 3]]);
    }, REMOVAL_RATE);
    const status = await networkStatus(dir.path);
    assert.deepEqual(status.processes.filter((p) => p.kind === 'orderer').map((p) => [p.name, p.alive]), [['orderer1', true]]);
    assert.equal(status.chains.find((c) => c.name === CHAIN)?.leader, 'orderer1');
  });

  it('refuses an unknown orderer and the last one, changing nothing', async () => {
    const text = readFileSync(file, 'utf8');
    const sequence = async (): Promise<number> => ((await (await atFirstPeer(`/api/chains/${CHAIN}`)).json()) as { config: { sequence: number } }).config.sequence;
    const before = await sequence();
    const unknown = await refused(['orderer', 'remove', 'orderer9'], dir.path);
    assert.equal(unknown.code, 'INVALID_ARGUMENT');
    assert.match(unknown.message, /no orderer named orderer9; orderers: orderer1$/);
    const last = await refused(['orderer', 'remove', 'orderer1'], dir.path);
    assert.equal(last.code, 'INVALID_ARGUMENT');
    assert.match(last.message, /orderer1 is the network's last orderer/);
    const badOrg = await refused(['orderer', 'add', '--org', 'Org9'], dir.path);
    assert.match(badOrg.message, /no org Org9 in the network; orgs: Org1, Org2/);
    assert.equal(readFileSync(file, 'utf8'), text, 'the description is unchanged');
    assert.equal(await sequence(), before, 'no configuration transaction was committed');
  });

  it('a block signed by the removed orderer after its removal is refused by a peer replaying the chain; signed by a listed one it is taken', async () => {
    const ledger = tempDir('silk-membership-peer-');
    const org1 = signerFromPem(readFileSync(join(dir.path, 'peers', 'peer0.org1', 'keys', 'peer.pem'), 'utf8'));
    const peer = createPeer({ name: 'replay', org: 'Org1', signer: org1, dataDir: ledger.path, contracts: [...DEMO_CONTRACTS, new IdentityContract()], verifier: createInlineVerifier() });
    try {
      const raw = async (n: number): Promise<Uint8Array> => new Uint8Array(await (await atFirstPeer(`/api/chains/${CHAIN}/blocks/${n}/raw`)).arrayBuffer());
      const height = ((await (await atFirstPeer(`/api/chains/${CHAIN}`)).json()) as { height: number }).height;
      await peer.joinChain(await raw(0));
      // Every block, those orderer2 cut while it was listed among them, passes the peer's checks.
      for (let n = 1; n < height; n++) await peer.deliver(await raw(n));
      assert.equal(peer.height(CHAIN), height);
      const last = decodeBlock(await raw(height - 1));
      const next = (signer: ReturnType<typeof signerFromPem>): Uint8Array => encodeBlock(createBlock({ chain: CHAIN, number: height, previousHash: blockHash(last.header), timestamp: last.header.timestamp + 1, txs: last.txs }, signer));
      await assert.rejects(peer.deliver(next(signerFromPem(readFileSync(join(dir.path, 'orderers', 'orderer2', 'keys', 'orderer.pem'), 'utf8')))), (e) => isSilkError(e, 'BAD_BLOCK') && /cut by an orderer the chain does not list/.test(e.message));
      assert.equal(peer.height(CHAIN), height, 'nothing was committed');
      const taken = await peer.deliver(next(signerFromPem(readFileSync(join(dir.path, 'orderers', 'orderer1', 'keys', 'orderer.pem'), 'utf8'))));
      assert.equal(taken.number, height);
    } finally {
      await peer.close();
      ledger.cleanup();
    }
  });

  it('down and up run the changed membership: the etcd host starts the members there are now, and submissions are acknowledged', async (t) => {
    const before = readNetworkDescription(file);
    await networkDown(dir.path);
    const up = await networkUp({ dir: dir.path });
    assert.deepEqual(up.processes.map((p) => p.name).sort(), ['etcd', 'orderer1', 'peer0.org1', 'peer0.org2']);
    const status = await networkStatus(dir.path);
    assert.equal(status.ready, true);
    assert.deepEqual(status.processes.filter((p) => p.kind === 'etcd').map((p) => p.name), before.etcd.map((e) => e.name));
    assert.deepEqual(await etcdMemberList(), before.etcd.map((e) => ({ name: e.name, isLearner: false })));
    await underLoad(t, 'after down and up', async () => { await sleep(1_000); });
  });
});
