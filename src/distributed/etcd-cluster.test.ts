import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isSilkError } from '../errors.js';
import { waitUntil } from '../testing/fixtures.js';
import { freePort } from './loopback-ports.js';
import { openEtcdBlockLog, type EtcdBlockLog } from './etcd-block-log.js';
import { openEtcdConnection, type EtcdConnection, type EtcdEndpointsEvent } from './etcd-client.js';
import { ConnectionPool } from 'etcd3/lib/connection-pool.js';
import { createEtcdCluster, type EtcdCluster, type EtcdMemberInfo } from './etcd-cluster.js';
import { openChainElection, type ChainElection, type ChainLeadership } from './etcd-election.js';
import { CHECK_PASSED_MESSAGE, logOffset } from './etcd-start-check.js';
import { requireEtcd, startTestCluster, testBlock } from './etcd-test-support.js';
import { openTlsFixture } from './tls-fixtures.js';

const DEADLINE_MS = 3_000;

/** Appends the next block, retrying while etcd is unavailable (re-campaigning if leadership lapsed); returns its number. */
async function appendNext(log: EtcdBlockLog, election: ChainElection, leadership: ChainLeadership, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let current = leadership;
  for (;;) {
    try {
      const height = await log.height();
      await log.append(height, testBlock(height), current);
      return height;
    } catch (error) {
      if (!isSilkError(error, 'ORDERING_UNAVAILABLE') || Date.now() > deadline) throw error;
      if (error.details.reason === 'not-leader') current = await election.campaign();
    }
  }
}

describe('local etcd cluster (3 real members)', () => {
  let cluster: EtcdCluster & { destroy(): Promise<void> };
  let etcd: EtcdConnection;
  let log: EtcdBlockLog;
  let election: ChainElection;

  before(async () => {
    cluster = await startTestCluster();
    etcd = openEtcdConnection({ endpoints: cluster.clientUrls, deadlineMs: DEADLINE_MS });
    log = openEtcdBlockLog(etcd, { chain: 'trade' });
    election = openChainElection(etcd, { chain: 'trade', candidate: 'orderer-1' });
  });
  after(async () => {
    await election.close();
    etcd.close();
    await cluster.destroy();
  });

  it('starts healthy with one leader, each member logging to its own file', async () => {
    const status = await cluster.status();
    assert.equal(status.healthy, true);
    assert.equal(status.members.length, 3);
    assert.equal(status.members.filter((m) => m.isLeader).length, 1);
    assert.equal(status.members.find((m) => m.isLeader)?.name, status.leader);
    for (const member of cluster.members) {
      assert.ok(readFileSync(member.logFile, 'utf8').includes('"msg"'), `${member.name} writes its log to ${member.logFile}`);
      assert.ok(existsSync(join(member.dataDir, 'member')));
    }
  });

  it('loses no acknowledged append when the leader member is killed with SIGKILL and restarted', async () => {
    let leadership: ChainLeadership = await election.campaign();
    const acknowledged = new Map<number, Uint8Array>();
    let next = await log.height();
    const start = next;
    const control = { stop: false };
    const appender = (async () => {
      while (!control.stop || next < start + 40) {
        const bytes = testBlock(next);
        try {
          await log.append(next, bytes, leadership);
          acknowledged.set(next, bytes);
          next++;
        } catch (error) {
          if (!isSilkError(error, 'ORDERING_UNAVAILABLE')) throw error;
          if (error.details.reason === 'not-leader') leadership = await election.campaign();
          else if (error.details.reason !== 'unreachable') throw error;
        }
      }
    })();
    await waitUntil(() => next >= start + 10, 20_000, 'appends before the crash');
    const leader = await cluster.leader();
    assert.ok(leader !== undefined);
    await cluster.killMember(leader);
    assert.equal(cluster.isRunning(leader), false);
    await waitUntil(() => next >= start + 20, 30_000, 'appends while the old leader is down');
    await cluster.restartMember(leader);
    await cluster.waitHealthy();
    control.stop = true;
    await appender;

    const height = await log.height();
    assert.equal(height, next);
    const blocks = await log.read(start, height);
    assert.deepEqual(blocks.map((b) => b.number), Array.from({ length: height - start }, (_, i) => start + i));
    for (const block of blocks) assert.deepEqual(block.bytes, acknowledged.get(block.number));
  });

  it('refuses appends with ORDERING_UNAVAILABLE within the deadline while 2 of 3 members are down, and resumes after their restart', async () => {
    const leadership = await election.campaign();
    const height = await log.height();
    const [a, b] = cluster.members.map((m) => m.name);
    assert.ok(a !== undefined && b !== undefined);
    await cluster.stopMember(a);
    await cluster.stopMember(b);
    const started = Date.now();
    // As an orderer that has not yet noticed its lease lapsing would: only etcd itself can refuse it.
    const unaware = { ...leadership, isValid: () => true };
    await assert.rejects(log.append(height, testBlock(height), unaware), (error: unknown) => {
      assert.ok(isSilkError(error, 'ORDERING_UNAVAILABLE'), String(error));
      assert.equal(error.details.reason, 'unreachable');
      assert.match(error.message, /unreachable or without quorum/);
      assert.ok(error.message.includes(cluster.clientUrls[2] ?? 'missing'), error.message);
      return true;
    });
    // The deadline bounds the whole call, retries across members included (plus scheduling slack on a loaded machine).
    assert.ok(Date.now() - started < DEADLINE_MS + 2_000, `refused after ${Date.now() - started} ms`);

    // Reads fail too, on every member: enough of them to open every member's breaker (the loop stops early once
    // a read is refused by the breakers alone).
    for (let i = 0; i < 12; i++) {
      const refusal = await log.height().then(() => undefined, (error: unknown) => error);
      assert.ok(isSilkError(refusal, 'ORDERING_UNAVAILABLE'), String(refusal));
      if (/circuit breaker is open/.test(refusal.message)) break;
    }
    await cluster.restartMember(a);
    await cluster.restartMember(b);
    await cluster.waitHealthy();
    // Every member failed calls during the outage, so each member's breaker may still be open for up to
    // HOST_BREAKER_MS; the client tries them again then. (The etcd3 client's own default would refuse every
    // call for 5 s more, which this bound would catch.)
    const back = Date.now();
    let resumedHeight: number | undefined;
    while (resumedHeight === undefined) {
      try {
        resumedHeight = await log.height();
      } catch (error) {
        if (!isSilkError(error, 'ORDERING_UNAVAILABLE') || Date.now() - back > 3_000) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    assert.ok(resumedHeight >= height);
    assert.ok(Date.now() - back < 3_000, `reads resumed ${Date.now() - back} ms after the cluster was healthy`);
    // The refused append's outcome was unknown: the surviving member may have logged it and committed it once
    // a quorum returned. Repeating it with the same bytes succeeds either way, and appends go on.
    let current = leadership;
    const resumeBy = Date.now() + 30_000;
    for (;;) {
      try { await log.append(height, testBlock(height), current); break; } catch (error) {
        if (!isSilkError(error, 'ORDERING_UNAVAILABLE') || Date.now() > resumeBy) throw error;
        if (error.details.reason === 'not-leader') current = await election.campaign();
      }
    }
    assert.equal(await log.height(), height + 1);
    assert.equal(await appendNext(log, election, current, 30_000), height + 1);
    assert.deepEqual((await log.read(height, height + 2)).map((b) => b.bytes), [testBlock(height), testBlock(height + 1)]);
  });

  /**
   * Stops two of the three members until the leader's lease goes unconfirmed (`reasons`, filled
   * by its `onLost`, says so), then restarts them; answers when the cluster was healthy again.
   */
  const loseQuorumUntilUnconfirmed = async (reasons: readonly string[], ttlS: number): Promise<number> => {
    const [a, b] = cluster.members.map((m) => m.name);
    assert.ok(a !== undefined && b !== undefined);
    await cluster.stopMember(a);
    await cluster.stopMember(b);
    await waitUntil(() => reasons.length > 0, (ttlS + 10) * 1000, 'the lease going unconfirmed');
    assert.deepEqual(reasons, ['lease-unconfirmed']);
    await cluster.restartMember(a);
    await cluster.restartMember(b);
    await cluster.waitHealthy();
    return Date.now();
  };

  it('a leader whose lease went unconfirmed while etcd had no quorum leads again as soon as the quorum is back (its old lease revoked, not waited out)', async () => {
    const conn = openEtcdConnection({ endpoints: cluster.clientUrls, deadlineMs: DEADLINE_MS });
    // A long lease, so waiting it out (etcd even extends every lease when it elects a leader) would show.
    const TTL_S = 10;
    const quorumElection = openChainElection(conn, { chain: 'quorum', candidate: 'orderer-q', ttlSeconds: TTL_S });
    const reasons: string[] = [];
    quorumElection.onLost((_leadership, reason) => { reasons.push(reason); });
    try {
      const first = await quorumElection.campaign();
      const healthyAt = await loseQuorumUntilUnconfirmed(reasons, TTL_S);
      const again = await quorumElection.campaign();
      const took = Date.now() - healthyAt;
      assert.notEqual(again.term, first.term);
      assert.ok(took < (TTL_S * 1000) / 2, `leading again took ${took} ms after the quorum returned (the old lease lasts ${TTL_S} s)`);
      assert.equal((await quorumElection.leader())?.candidate, 'orderer-q');
    } finally {
      await quorumElection.close();
      conn.close();
      await cluster.waitHealthy();
    }
  });

  it('a leader keeps its leadership through an outage shorter than its lease: the keep-alive that fails is retried until etcd answers', async () => {
    const conn = openEtcdConnection({ endpoints: cluster.clientUrls, deadlineMs: DEADLINE_MS });
    // Keep-alives every TTL/3 (6.7 s): one falls inside the outage and fails.
    const TTL_S = 20;
    const brief = openChainElection(conn, { chain: 'brief', candidate: 'orderer-b', ttlSeconds: TTL_S });
    const reasons: string[] = [];
    brief.onLost((_leadership, reason) => { reasons.push(reason); });
    const [a, b] = cluster.members.map((m) => m.name);
    assert.ok(a !== undefined && b !== undefined);
    try {
      const leadership = await brief.campaign();
      const grantedAt = Date.now();
      await cluster.stopMember(a);
      await cluster.stopMember(b);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, grantedAt + (TTL_S * 1000) / 3 + 2_000 - Date.now())));
      // One member back makes a quorum again, well inside the lease.
      await cluster.restartMember(a);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, grantedAt + TTL_S * 1000 + 2_000 - Date.now())));
      assert.deepEqual(reasons, [], 'the leadership was lost');
      assert.equal(leadership.isValid(), true);
      assert.equal((await brief.leader())?.term, leadership.term);
    } finally {
      await cluster.restartMember(b);
      await cluster.waitHealthy();
      await brief.close();
      conn.close();
    }
  });

  it('a candidate closed after its lease went unconfirmed revokes that lease, so another leads as soon as the quorum is back', async () => {
    const conn = openEtcdConnection({ endpoints: cluster.clientUrls, deadlineMs: DEADLINE_MS });
    const TTL_S = 10;
    const leaving = openChainElection(conn, { chain: 'handover', candidate: 'orderer-leaving', ttlSeconds: TTL_S });
    const staying = openChainElection(conn, { chain: 'handover', candidate: 'orderer-staying', ttlSeconds: TTL_S });
    const reasons: string[] = [];
    leaving.onLost((_leadership, reason) => { reasons.push(reason); });
    try {
      await leaving.campaign();
      const healthyAt = await loseQuorumUntilUnconfirmed(reasons, TTL_S);
      // It leaves without campaigning again (an orderer removed or stopped after the outage).
      await leaving.close();
      await staying.campaign();
      const took = Date.now() - healthyAt;
      assert.ok(took < (TTL_S * 1000) / 2, `another candidate led ${took} ms after the quorum returned (the old lease lasts ${TTL_S} s)`);
      assert.equal((await staying.leader())?.candidate, 'orderer-staying');
    } finally {
      await leaving.close();
      await staying.close();
      conn.close();
      await cluster.waitHealthy();
    }
  });

  it('a connection following its endpoints moves to the members it is given, and keeps working when the one it started with dies', async () => {
    // It starts with a follower member (killing the Raft leader would pause every read for an election).
    const leader = await cluster.leader();
    const order = cluster.members.map((m, i) => ({ name: m.name, url: cluster.clientUrls[i] ?? '' })).sort((a, b) => Number(a.name === leader) - Number(b.name === leader));
    const [{ name: first, url: firstUrl }, { url: secondUrl }, { url: thirdUrl }] = order as [{ name: string; url: string }, { url: string }, { url: string }];
    let given: readonly string[] = [firstUrl];
    const events: EtcdEndpointsEvent[] = [];
    // Only the given lists here (the cluster's own list is the next test's).
    const follower = openEtcdConnection({ endpoints: () => given, syncMembersMs: 0, deadlineMs: DEADLINE_MS, onEndpoints: (e) => { events.push(e); } });
    const followerLog = openEtcdBlockLog(follower, { chain: 'trade' });
    try {
      assert.deepEqual(follower.endpoints, [firstUrl]);
      const height = await followerLog.height();
      given = [secondUrl, thirdUrl];
      await waitUntil(() => events.length > 0, 5_000, 'the new list taken');
      assert.deepEqual(events, [{ kind: 'changed', source: 'given', endpoints: [secondUrl, thirdUrl], added: [secondUrl, thirdUrl], removed: [firstUrl] }]);
      assert.deepEqual(follower.endpoints, [secondUrl, thirdUrl]);
      // The member it started with dies: the follower no longer calls it, so reads answer at once.
      await cluster.killMember(first);
      const started = Date.now();
      for (let i = 0; i < 20; i++) assert.ok(await followerLog.height() >= height);
      assert.ok(Date.now() - started < DEADLINE_MS, `20 reads took ${Date.now() - started} ms`);
      // A list it cannot use is reported once and changes nothing.
      given = ['etcd-2:2379'];
      await waitUntil(() => events.length > 1, 5_000, 'the bad list reported');
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      assert.equal(events.length, 2, JSON.stringify(events));
      const refusal = events[1];
      assert.ok(refusal?.kind === 'refused', JSON.stringify(refusal));
      assert.match(refusal.reason, /must be one or more URLs like http:\/\/127\.0\.0\.1:2379/);
      assert.deepEqual(follower.endpoints, [secondUrl, thirdUrl]);
      assert.ok(await followerLog.height() >= height);
      // Without following, a client of the dead member alone is refused.
      const stale = openEtcdConnection({ endpoints: [firstUrl], deadlineMs: 1_000 });
      try {
        await assert.rejects(openEtcdBlockLog(stale, { chain: 'trade' }).height(), (error: unknown) => isSilkError(error, 'ORDERING_UNAVAILABLE'));
      } finally {
        stale.close();
      }
    } finally {
      follower.close();
      if (!cluster.isRunning(first)) await cluster.restartMember(first);
      await cluster.waitHealthy();
    }
  });

  it('a connection asking the cluster for its members calls every started voting one, and only adds while a member is being added', async () => {
    const events: EtcdEndpointsEvent[] = [];
    const [firstUrl] = cluster.clientUrls as [string];
    const conn = openEtcdConnection({ endpoints: [firstUrl], syncMembersMs: 200, deadlineMs: DEADLINE_MS, onEndpoints: (e) => { events.push(e); } });
    const byUrl = Object.fromEntries(cluster.clientUrls.map((u, i) => [u, cluster.members[i]?.name ?? '']));
    let learner: string | undefined;
    try {
      await waitUntil(() => conn.endpoints.length === 3, 5_000, 'the cluster\'s members taken');
      assert.deepEqual([...conn.endpoints].sort(), [...cluster.clientUrls].sort());
      assert.equal(events.length, 1, JSON.stringify(events));
      const taken = events[0];
      assert.ok(taken?.kind === 'changed' && taken.source === 'cluster', JSON.stringify(taken));
      assert.deepEqual([...taken.added].sort(), cluster.clientUrls.filter((u) => u !== firstUrl).sort());
      assert.deepEqual(taken.removed, []);
      assert.deepEqual(taken.names, byUrl);

      // A member is being added (a learner that has not started): the answers add, never remove,
      // so an endpoint the cluster does not list (here a stray one) stays until the change ends.
      const learnerPeerUrl = `http://127.0.0.1:${await freePort()}`;
      // etcd refuses a member change until its members have been connected for 5 s ("unhealthy cluster").
      const addUntil = Date.now() + 15_000;
      while (learner === undefined) {
        try {
          learner = (await conn.call('add a learner', () => conn.client.cluster.memberAdd({ peerURLs: [learnerPeerUrl], isLearner: true }))).member.ID;
        } catch (error) {
          if (!/unhealthy cluster/.test((error as Error).message) || Date.now() > addUntil) throw error;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
      const stray = `http://127.0.0.1:${await freePort()}`;
      assert.equal(conn.setEndpoints([...cluster.clientUrls, stray]), true);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.deepEqual([...conn.endpoints].sort(), [...cluster.clientUrls, stray].sort());
      await conn.call('remove the learner', () => conn.client.cluster.memberRemove({ ID: learner }));
      learner = undefined;
      await waitUntil(() => conn.endpoints.length === 3, 5_000, 'the stray endpoint dropped');
      assert.deepEqual([...conn.endpoints].sort(), [...cluster.clientUrls].sort());
      const last = events.at(-1);
      assert.ok(last?.kind === 'changed' && last.source === 'cluster', JSON.stringify(last));
      assert.deepEqual(last.removed, [stray]);
    } finally {
      if (learner !== undefined) await conn.call('remove the learner', () => conn.client.cluster.memberRemove({ ID: learner }));
      conn.close();
    }

    // A cluster that cannot be asked is reported once, and the client keeps its members.
    const unsynced: EtcdEndpointsEvent[] = [];
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const lost = openEtcdConnection({ endpoints: [nowhere], syncMembersMs: 200, deadlineMs: 500, onEndpoints: (e) => { unsynced.push(e); } });
    try {
      await waitUntil(() => unsynced.length > 0, 5_000, 'the failed request reported');
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.equal(unsynced.length, 1, JSON.stringify(unsynced));
      assert.equal(unsynced[0]?.kind, 'unsynced');
      assert.deepEqual(lost.endpoints, [nowhere]);
    } finally {
      lost.close();
    }
    assert.throws(() => openEtcdConnection({ endpoints: [firstUrl], syncMembersMs: 50 }), (error: unknown) => isSilkError(error, 'INVALID_ARGUMENT') && /syncMembersMs must be 0 \(never\) or an integer of at least 100 ms; got 50/.test(error.message));
  });

  it('an operation that began before its member was taken out of the list still completes on it', async () => {
    // etcd3 draws an operation's order of members when it starts and keeps it through its
    // retries; in its deterministic order the last member of the list is tried first.
    const leader = await cluster.leader();
    const index = cluster.members.findIndex((m) => m.name !== leader);
    const paused = cluster.members[index]?.name ?? '';
    const pausedUrl = cluster.clientUrls[index] ?? '';
    const removedUrl = cluster.clientUrls.find((u) => u !== pausedUrl) ?? '';
    const conn = openEtcdConnection({ endpoints: [removedUrl, pausedUrl], deadlineMs: DEADLINE_MS });
    const connLog = openEtcdBlockLog(conn, { chain: 'trade' });
    ConnectionPool.deterministicOrder = true;
    cluster.pauseMember(paused);
    try {
      // Its first attempt waits on the paused member; meanwhile the other member leaves the list.
      const height = connLog.height();
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(conn.setEndpoints([pausedUrl]), true);
      assert.ok(await height >= 0);
    } finally {
      ConnectionPool.deterministicOrder = false;
      cluster.resumeMember(paused);
      conn.close();
      await cluster.waitHealthy();
    }
  });

  it('starts two members restarted at the same moment one after the other, each past its data check first, so neither waits out the check', async () => {
    const [a, b] = cluster.members;
    assert.ok(a !== undefined && b !== undefined);
    await cluster.stopMember(a.name);
    await cluster.stopMember(b.name);
    const from = new Map(cluster.members.map((m) => [m.name, logOffset(m.logFile)]));
    // As after a lost quorum, when both come back together.
    await Promise.all([cluster.restartMember(a.name), cluster.restartMember(b.name)]);
    await cluster.waitHealthy();
    /** The member's whole log lines of this restart (the last piece may be a line still being written). */
    const linesOf = (m: EtcdMemberInfo): { ts: string; msg: string; error?: string }[] =>
      readFileSync(m.logFile).subarray(from.get(m.name)).toString('utf8').split('\n').slice(0, -1).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { ts: string; msg: string; error?: string });
    const at = (m: EtcdMemberInfo, msg: string): string => {
      const found = linesOf(m).find((l) => l.msg.startsWith(msg));
      assert.ok(found !== undefined, `${m.name} logged "${msg}" after its restart`);
      return found.ts;
    };
    for (const m of [a, b]) {
      at(m, CHECK_PASSED_MESSAGE);
      // A peer that is down refuses the check's question at once; only one that is up but not serving makes it wait.
      const waited = linesOf(m).filter((l) => l.msg === 'failed hash kv request' && /deadline exceeded|request canceled/.test(l.error ?? ''));
      assert.deepEqual(waited, [], `${m.name} waited out its check`);
    }
    const [first, second] = [a, b].sort((x, y) => at(x, 'starting an etcd server').localeCompare(at(y, 'starting an etcd server')));
    assert.ok(first !== undefined && second !== undefined);
    assert.ok(at(second, 'starting an etcd server') >= at(first, CHECK_PASSED_MESSAGE), `${second.name} started only after ${first.name} passed its check`);
  });

  it('saves a snapshot and defragments member by member', async () => {
    const file = join(cluster.members[0]?.dataDir ?? '', '..', 'backup.db');
    await cluster.snapshotSave(file);
    assert.ok(statSync(file).size > 0);
    await cluster.defragment();
    assert.equal((await cluster.waitHealthy()).healthy, true);
  });
});

describe('local etcd cluster with mutual TLS (3 members, certificates from the org CAs)', () => {
  it('serves a client with a member org certificate over https, refuses one without a certificate, and snapshots over TLS', async () => {
    requireEtcd();
    const fx = await openTlsFixture();
    const members = ['etcd-1', 'etcd-2', 'etcd-3'].map((name) => {
      const files = fx.files.processes[name]?.tls;
      assert.ok(files !== undefined, `certificate of ${name}`);
      return { certFile: files.certFile, keyFile: files.keyFile, trustedCaFile: fx.files.caBundleFile };
    });
    const ports = [];
    for (let i = 0; i < 3; i++) ports.push({ client: await freePort(), peer: await freePort() });
    const cluster = await createEtcdCluster({ dataDir: join(fx.description.dataDir, 'etcd-tls'), ports, tls: { members } });
    const clients: EtcdConnection[] = [];
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }): void => { warnings.push(warning.code ?? warning.name); };
    process.on('warning', onWarning);
    try {
      await cluster.start();
      assert.ok(cluster.clientUrls.every((url) => url.startsWith('https://')) && cluster.members.every((m) => m.peerUrl.startsWith('https://')));
      assert.equal((await cluster.status()).healthy, true);

      // An orderer's etcd client certificate, issued by Org1's CA: reads and writes.
      const orderer = fx.files.processes['orderer0']?.etcdClient;
      assert.ok(orderer !== undefined);
      const member = openEtcdConnection({ endpoints: cluster.clientUrls, deadlineMs: 3_000, tls: orderer });
      clients.push(member);
      await member.call('put', async () => { await member.client.put('silk/tls-check').value('ok'); });
      assert.equal(await member.call('get', () => member.client.get('silk/tls-check').string()), 'ok');
      // The client connects to the members' IP addresses: Node's notice about an IP as the TLS server
      // name (DEP0123) is dropped, any other warning still reaches the process.
      process.emitWarning('a warning of another kind', { code: 'SILK_TEST_WARNING' });
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings, ['SILK_TEST_WARNING']);

      // Trusting the CAs but presenting no certificate: refused at the handshake.
      const anonymous = openEtcdConnection({ endpoints: cluster.clientUrls, deadlineMs: 2_000, tls: { caFile: fx.files.caBundleFile } });
      clients.push(anonymous);
      await assert.rejects(anonymous.call('get', () => anonymous.client.get('silk/tls-check').string()), (error: unknown) => isSilkError(error, 'ORDERING_UNAVAILABLE'));
      // Plain HTTP to a TLS member gets nothing.
      const plain = openEtcdConnection({ endpoints: cluster.clientUrls.map((u) => u.replace('https://', 'http://')), deadlineMs: 2_000 });
      clients.push(plain);
      await assert.rejects(plain.call('get', () => plain.client.get('silk/tls-check').string()), (error: unknown) => isSilkError(error, 'ORDERING_UNAVAILABLE'));
      // A scheme that does not match the TLS option is refused before connecting.
      assert.throws(() => openEtcdConnection({ endpoints: cluster.clientUrls }), (error: unknown) => isSilkError(error, 'INVALID_ARGUMENT'));

      // The cluster's own calls (status above, snapshots through etcdctl) present the member certificate.
      const file = join(fx.description.dataDir, 'tls-backup.db');
      await cluster.snapshotSave(file);
      assert.ok(statSync(file).size > 0);
    } finally {
      process.off('warning', onWarning);
      for (const c of clients) c.close();
      await cluster.close();
      fx.cleanup();
    }
  });
});
