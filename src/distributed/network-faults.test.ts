/**
 * Network-level fault tests: one real network (3 etcd members, 2 orderers, one peer per org of
 * 2 orgs, chain `trade` running `basic` with an any-one-org policy), faults injected into its
 * real processes one after another, each under load from the load client, each followed by the
 * ledger consistency check over every peer's API. What is asserted is what a client relies on:
 * nothing acknowledged is lost, nothing is VALID twice, every peer holds the same chain, and the
 * network comes back by itself.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { waitUntil } from '../testing/fixtures.js';
import { openEtcdBlockLog } from './etcd-block-log.js';
import { openEtcdConnection } from './etcd-client.js';
import { networkUnderLoad } from './etcd-test-support.js';
import { describedEtcdAccess } from './etcd-host-main.js';
import { checkedPeers } from './ledger-consistency.js';
import { startLoad, type LoadAttempt, type LoadRun } from './load-client.js';
import { readNetworkDescription } from './network-description.js';
import { addNetworkPeer, etcdMemberControl, NETWORK_FILE, networkProcesses, networkStatus, restartNetworkProcess, type LaunchedProcess } from './network-launcher.js';
import { allianceCaBundleFile } from './tls-pki.js';

const CHAIN = 'trade';
/** Submissions per second during each scenario: steady, and light enough for a loaded 2-core machine. */
const RATE = 8;

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

describe('network faults under load', { timeout: 295_000 }, () => {
  const { dir, checker, acknowledged, peers, targets } = networkUnderLoad('silk-faults-', CHAIN);
  let runs = 0;

  const processNamed = (name: string): LaunchedProcess => {
    const p = networkProcesses(dir.path).find((x) => x.name === name);
    assert.ok(p !== undefined, `no launched process ${name}`);
    return p;
  };

  const etcdHealthy = async (): Promise<boolean> => (await networkStatus(dir.path)).etcd.healthy;

  /** Runs `fault` under load, then stops the load and checks every peer's ledger. */
  async function underLoad(t: TestContext, name: string, fault: (load: LoadRun) => Promise<void>): Promise<void> {
    const load = startLoad({ targets, chain: CHAIN, rate: RATE, label: `f${++runs}` });
    try {
      await waitUntil(() => load.acknowledgedCount() >= 5, 60_000, `${name}: acknowledgements before the fault`, 250);
      await fault(load);
      const settled = load.acknowledgedCount();
      await waitUntil(() => load.acknowledgedCount() >= settled + 5, 60_000, `${name}: acknowledgements after the fault`, 250);
    } finally {
      const report = await load.stop();
      acknowledged.push(...report.acknowledged);
      const check = await checker.check(peers, acknowledged, 90_000);
      t.diagnostic(`${name}: attempted ${report.attempts.length}, acknowledged ${report.acknowledged.length} (all runs ${acknowledged.length}), failures ${JSON.stringify(report.failures)}, longest gap ${report.longestGapMs} ms, availability ${(report.availability * 100).toFixed(1)} %, p50 ${report.latencyP50Ms} ms; height ${check.height} at ${peers.length} peers, lost ${check.lost.length}, duplicates ${check.duplicates.length}`);
      assert.deepEqual(check.violations, [], `${name}: the ledgers disagree`);
      assert.equal(check.lost.length, 0);
      assert.equal(check.duplicates.length, 0);
      assert.ok(check.acknowledgedChecked === acknowledged.length && acknowledged.length > 0);
    }
  }

  it('SIGKILL an etcd member three times (the Raft leader twice), restarting it each time: nothing acknowledged is lost', async (t) => {
    for (const pick of ['leader', 'follower', 'leader'] as const) {
      await underLoad(t, `etcd kill (${pick})`, async (load) => {
        const status = await networkStatus(dir.path);
        const leader = status.etcd.leader;
        assert.ok(leader !== undefined, 'etcd has a leader before the fault');
        const victim = pick === 'leader' ? leader : (status.processes.find((p) => p.kind === 'etcd' && p.name !== leader)?.name ?? '');
        await etcdMemberControl(dir.path, victim, 'kill');
        // Two members are a quorum: acknowledgements go on while the member is dead.
        const during = load.acknowledgedCount();
        await waitUntil(() => load.acknowledgedCount() >= during + 5, 60_000, `acknowledgements with ${victim} dead`, 250);
        await etcdMemberControl(dir.path, victim, 'restart');
        await waitUntil(etcdHealthy, 60_000, `etcd healthy again after restarting ${victim}`, 250);
      });
    }
  });

  it('SIGKILL the leading orderer: another orderer cuts blocks within 10 s; the killed one restarts', async (t) => {
    await underLoad(t, 'orderer leader kill', async (load) => {
      const leader = (await networkStatus(dir.path)).chains.find((c) => c.name === CHAIN)?.leader;
      assert.ok(leader !== undefined, 'the chain has a leading orderer');
      const killedAt = Date.now();
      process.kill(processNamed(leader).pid, 'SIGKILL');
      const before = load.acknowledgedCount();
      await waitUntil(() => load.report().acknowledged.filter((a) => a.at > killedAt).length >= 5 && load.acknowledgedCount() > before, 60_000, 'acknowledgements under a new leader', 250);
      await waitUntil(async () => { const now = (await networkStatus(dir.path)).chains[0]?.leader; return now !== undefined && now !== leader; }, 30_000, 'a new orderer leader in etcd', 250);
      const gap = load.longestGap(killedAt, Date.now());
      t.diagnostic(`orderer ${leader} killed: longest gap between acknowledgements ${gap} ms`);
      assert.ok(gap < 10_000, `acknowledgements stopped for ${gap} ms after the leader was killed`);
      await restartNetworkProcess(dir.path, leader);
    });
  });

  it('losing the etcd quorum: submissions fail with ORDERING_UNAVAILABLE, nothing is acknowledged meanwhile, and the network resumes by itself', async (t) => {
    const others = networkProcesses(dir.path).filter((p) => p.kind !== 'etcd').map((p) => `${p.name}:${p.pid}`).sort();
    await underLoad(t, 'etcd quorum loss', async (load) => {
      await etcdMemberControl(dir.path, 'etcd-2', 'stop');
      await etcdMemberControl(dir.path, 'etcd-3', 'stop');
      const lostAt = Date.now();
      let restartAt = lostAt;
      try {
        await waitUntil(() => load.failuresWith('ORDERING_UNAVAILABLE').some((a) => a.startedAt > lostAt), 90_000, 'a submission refused with ORDERING_UNAVAILABLE', 250);
        const refusal = load.failuresWith('ORDERING_UNAVAILABLE').find((a) => a.startedAt > lostAt);
        assert.ok(refusal?.outcome.kind === 'failed' && /order/i.test(refusal.outcome.message), `the refusal says the transaction was not ordered: ${JSON.stringify(refusal?.outcome)}`);
        t.diagnostic(`without a quorum the client sees ORDERING_UNAVAILABLE: ${refusal.outcome.message}`);
        restartAt = Date.now();
        // Without a quorum nothing can be appended: no submission sent after the loss is acknowledged before the restart.
        const report = load.report();
        const sentAfterLoss = new Set(report.attempts.filter((x) => x.startedAt > lostAt).map((x) => x.txId));
        assert.deepEqual(report.acknowledged.filter((a) => a.at < restartAt && sentAfterLoss.has(a.txId)), [], 'acknowledged without an etcd quorum');
      } finally {
        await etcdMemberControl(dir.path, 'etcd-2', 'restart');
        await etcdMemberControl(dir.path, 'etcd-3', 'restart');
      }
      await waitUntil(() => load.report().attempts.filter((a) => a.startedAt > restartAt && a.outcome.kind === 'acknowledged').length >= 5, 120_000, 'acknowledgements after the quorum returned', 250);
      t.diagnostic(`quorum lost for ${restartAt - lostAt} ms; longest gap ${load.longestGap(lostAt, Date.now())} ms`);
      await waitUntil(etcdHealthy, 60_000, 'etcd healthy again', 250);
    });
    // It resumed by itself: the same orderer and peer processes as before.
    assert.deepEqual(networkProcesses(dir.path).filter((p) => p.kind !== 'etcd').map((p) => `${p.name}:${p.pid}`).sort(), others);
  });

  it('SIGSTOP/SIGCONT an etcd member and a peer for a few seconds each, and the leading orderer for 16 s: what was sent to it goes on to the new leader', async (t) => {
    await underLoad(t, 'pause etcd member', async (load) => {
      const leader = (await networkStatus(dir.path)).etcd.leader ?? 'etcd-1';
      await etcdMemberControl(dir.path, leader, 'pause');
      await sleep(4_000);
      await etcdMemberControl(dir.path, leader, 'resume');
      const now = load.acknowledgedCount();
      await waitUntil(() => load.acknowledgedCount() >= now + 5, 60_000, 'acknowledgements after the etcd member resumed', 250);
      await waitUntil(etcdHealthy, 60_000, 'etcd healthy again', 250);
    });
    await underLoad(t, 'pause orderer leader', async (load) => {
      const leader = (await networkStatus(dir.path)).chains[0]?.leader;
      assert.ok(leader !== undefined);
      const pid = processNamed(leader).pid;
      // Far longer than the 3 s lease: the other orderer takes over, and the paused one must step down when it wakes.
      const pausedAt = Date.now();
      process.kill(pid, 'SIGSTOP');
      try {
        await waitUntil(() => load.report().acknowledged.filter((a) => a.at > pausedAt).length >= 5, 30_000, `acknowledgements with ${leader} stopped`, 250);
        await sleep(Math.max(0, pausedAt + 16_000 - Date.now()));
        // Whatever was sent to the stopped leader went on to the new one: nothing sent in the first
        // 6 s of the pause still waits 10 s later (it would wait until the leader wakes).
        const held = load.waitingSince().filter((s) => s < pausedAt + 6_000);
        t.diagnostic(`orderer ${leader} stopped for ${Date.now() - pausedAt} ms: longest gap ${load.longestGap(pausedAt, Date.now())} ms, ${load.waitingSince().length} submissions waiting`);
        assert.deepEqual(held.map((s) => s - pausedAt), [], 'submissions still held by the stopped leader, by when they were sent after the pause (ms)');
      } finally {
        process.kill(pid, 'SIGCONT');
      }
    });
    await underLoad(t, 'pause peer', async () => {
      const pid = processNamed('peer0.org2').pid;
      process.kill(pid, 'SIGSTOP');
      await sleep(4_000);
      process.kill(pid, 'SIGCONT');
    });
  });

  it("SIGKILL a peer under load: its org's submissions go on through the other org's peer, and restarted it converges", async (t) => {
    await underLoad(t, 'peer kill', async (load) => {
      const killedAt = Date.now();
      process.kill(processNamed('peer0.org2').pid, 'SIGKILL');
      // Org2's client turns to Org1's peer (its fallback): its submissions go on being acknowledged.
      const org2Through = (): LoadAttempt[] => load.report().attempts.filter((a) => a.org === 'Org2' && a.startedAt > killedAt && a.outcome.kind === 'acknowledged');
      await waitUntil(() => org2Through().length >= 10, 60_000, "Org2's submissions acknowledged through Org1's peer while its own is down", 250);
      const org1Url = targets.find((x) => x.org === 'Org1')?.url;
      assert.ok(org2Through().every((a) => a.url === org1Url), 'answered by Org1\'s peer');
      assert.deepEqual(load.failuresWith('UNREACHABLE').filter((a) => a.startedAt > killedAt), [], 'no submission was left without an answer');
      await restartNetworkProcess(dir.path, 'peer0.org2');
    });
  });

  it('a new peer added after the ordering log was compacted pulls the earlier blocks from another peer and converges', async (t) => {
    const status = await networkStatus(dir.path);
    const committed = Math.min(...status.processes.filter((p) => p.kind === 'peer').map((p) => p.chains?.[CHAIN]?.height ?? 0));
    const description = readNetworkDescription(join(dir.path, NETWORK_FILE));
    // Over mutual TLS, with the etcd member certificate the bootstrap wrote (as the launcher's status does).
    const access = describedEtcdAccess(description);
    assert.ok(access.tls !== undefined && access.endpoints.every((url) => url.startsWith('https://')), 'the network runs etcd over TLS');
    const connection = openEtcdConnection(access);
    try {
      const log = openEtcdBlockLog(connection, { chain: CHAIN });
      const compacted = await log.compact(committed - 1);
      assert.ok(compacted.firstRetained > 10 && (await log.firstRetained()) === compacted.firstRetained, 'blocks compacted out of etcd');
      t.diagnostic(`ordering log compacted: blocks 0–${compacted.firstRetained - 1} deleted`);
      await underLoad(t, 'new peer after compaction', async () => {
        const added = await addNetworkPeer(dir.path, { org: 'Org1', timeoutMs: 120_000 });
        peers.push(...checkedPeers({ peerUrls: { [added.name]: added.url }, apiCa: allianceCaBundleFile(description) }));
      });
      // The blocks below firstRetained exist nowhere but at the other peers; the consistency check
      // read every block of the new peer from block 0 with the same hashes and commit hashes,
      // and a commit hash is computed by the committing peer from its own validation.
      assert.equal(await log.firstRetained(), compacted.firstRetained, 'the compacted blocks were not put back into etcd');
      // The check can fail: an acknowledgement in another block, or one no ledger holds, is reported lost.
      const real = acknowledged[0];
      assert.ok(real !== undefined);
      const tampered = await checker.check(peers, [{ ...real, block: real.block + 1 }, { txId: 'f'.repeat(64), block: 1, at: 0 }]);
      assert.deepEqual(tampered.lost, [real.txId, 'f'.repeat(64)]);
      // Each is wrong at every peer, once in the block scan and once through the transactions route.
      assert.equal(tampered.violations.length, 4 * peers.length);
    } finally {
      connection.close();
    }
  });
});
