import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isSilkError, type SilkError } from '../errors.js';
import { waitUntil } from '../testing/fixtures.js';
import { openEtcdBlockLog, type StoredBlock } from './etcd-block-log.js';
import { openEtcdConnection, type EtcdConnection } from './etcd-client.js';
import type { EtcdCluster } from './etcd-cluster.js';
import { openChainElection } from './etcd-election.js';
import { startTestCluster, testBlock } from './etcd-test-support.js';

describe('etcd block log and leader election (3 real members)', () => {
  let cluster: EtcdCluster & { destroy(): Promise<void> };
  const connections: EtcdConnection[] = [];
  const connect = (endpoints: readonly string[]): EtcdConnection => {
    const connection = openEtcdConnection({ endpoints, deadlineMs: 3_000 });
    connections.push(connection);
    return connection;
  };

  before(async () => { cluster = await startTestCluster(); });
  after(async () => {
    for (const connection of connections) connection.close();
    await cluster.destroy();
  });

  it('refuses a stale leader whose lease expired while it was cut off, once a new leader took over', async () => {
    const [m1, m2, m3] = cluster.members;
    assert.ok(m1 !== undefined && m2 !== undefined && m3 !== undefined);
    // Orderer A reaches etcd only through member 1; orderer B through members 2 and 3.
    const etcdA = connect([m1.clientUrl]);
    const etcdB = connect([m2.clientUrl, m3.clientUrl]);
    const logA = openEtcdBlockLog(etcdA, { chain: 'stale' });
    const logB = openEtcdBlockLog(etcdB, { chain: 'stale' });
    const electionA = openChainElection(etcdA, { chain: 'stale', candidate: 'orderer-a', ttlSeconds: 2 });
    const electionB = openChainElection(etcdB, { chain: 'stale', candidate: 'orderer-b', ttlSeconds: 2 });
    const lost: string[] = [];
    electionA.onLost((_l, reason) => { lost.push(reason); });

    const leadershipA = await electionA.campaign();
    await logA.append(0, testBlock(0), leadershipA);
    const leaderA = await electionB.leader();
    assert.equal(leaderA?.candidate, 'orderer-a');
    assert.equal(leaderA.term, leadershipA.term);

    cluster.pauseMember(m1.name);
    const leadershipB = await electionB.campaign();
    assert.notEqual(leadershipB.term, leadershipA.term);
    await waitUntil(() => !leadershipA.isValid(), 10_000, "A's leadership to lapse locally");
    assert.ok(lost.length === 1 && lost[0]?.startsWith('lease-'), `A was told it lost leadership: ${lost.join(',')}`);
    await logB.append(1, testBlock(1), leadershipB);
    cluster.resumeMember(m1.name);
    await cluster.waitHealthy();

    // A process that was paused has not noticed yet: it still believes its leadership valid. The CAS refuses it.
    const unaware = { ...leadershipA, isValid: () => true };
    await assert.rejects(logA.append(2, testBlock(2, 300), unaware), (error: unknown) => isSilkError(error, 'ORDERING_UNAVAILABLE') && error.details.reason === 'not-leader');
    await assert.rejects(logA.append(2, testBlock(2), leadershipA), (error: unknown) => isSilkError(error, 'ORDERING_UNAVAILABLE') && error.details.reason === 'not-leader');
    // The leader is refused a block number that is not the height, but repeating an acknowledged append is harmless.
    await assert.rejects(logB.append(1, testBlock(1, 300), leadershipB), (error: unknown) => isSilkError(error, 'ORDERING_UNAVAILABLE') && error.details.reason === 'height-conflict' && error.details.height === 2);
    await logB.append(1, testBlock(1), leadershipB);
    assert.equal(await logB.height(), 2);
    assert.deepEqual((await logB.read(0, 10)).map((b) => b.bytes), [testBlock(0), testBlock(1)]);
    assert.equal((await electionA.leader())?.candidate, 'orderer-b');
    await electionA.close();
    await electionB.close();
    assert.equal(await logB.height(), 2);
  });

  it('keeps configuration checkpoints through compaction and reads them below a block, across pages', async () => {
    const etcd = connect(cluster.clientUrls);
    const log = openEtcdBlockLog(etcd, { chain: 'checkpoints' });
    const election = openChainElection(etcd, { chain: 'checkpoints', candidate: 'orderer-a' });
    try {
      const leadership = await election.campaign();
      // 80 blocks, every other one a configuration block: 40 checkpoints, more than one page.
      for (let n = 0; n < 80; n++) await log.append(n, testBlock(n), leadership, { configuration: n % 2 === 0 });
      await log.compact(70);
      await assert.rejects(log.read(0, 1), (error: unknown) => isSilkError(error, 'NOT_FOUND'));
      const all = await log.configurationBlocks(80);
      assert.deepEqual(all.map((b) => b.number), Array.from({ length: 40 }, (_, i) => 2 * i), 'every checkpoint, in order, none lost to compaction');
      assert.ok(all.every((b) => Buffer.from(b.bytes).equals(testBlock(b.number))), 'each holds its block\'s bytes');
      assert.deepEqual((await log.configurationBlocks(7)).map((b) => b.number), [0, 2, 4, 6], 'only those below the block asked');
      assert.deepEqual(await log.configurationBlocks(0), []);
    } finally {
      await election.close();
    }
  });

  it('a watch from block 0 started as the genesis block is appended never takes it for compacted', async () => {
    const etcd = connect(cluster.clientUrls);
    const mistaken: string[] = [];
    for (let i = 0; i < 40; i++) {
      const chain = `race${i}`;
      const log = openEtcdBlockLog(etcd, { chain });
      const election = openChainElection(etcd, { chain, candidate: 'orderer-1' });
      const leadership = await election.campaign();
      const received: number[] = [];
      const watch = log.watch(0, (block) => { received.push(block.number); }, { onError: (e) => { if (e.code === 'NOT_FOUND') mistaken.push(`${chain}: ${e.message}`); } });
      // Let the watch's first read find the chain empty, then append while it looks further.
      await new Promise((resolve) => setImmediate(resolve));
      await log.append(0, testBlock(0), leadership);
      await waitUntil(() => received.length === 1 || mistaken.length > 0, 10_000, `block 0 of ${chain} delivered`);
      await watch.stop();
      await election.close();
    }
    assert.deepEqual(mistaken, []);
  });

  it('watch delivers every block exactly once, in order, across a member restart and a compaction', async (t) => {
    const etcd = connect(cluster.clientUrls);
    const log = openEtcdBlockLog(etcd, { chain: 'watched' });
    const election = openChainElection(etcd, { chain: 'watched', candidate: 'orderer-1' });
    let leadership = await election.campaign();
    // Appends block n (the next one when omitted), retrying while etcd elects a new Raft leader.
    const append = async (n?: number): Promise<void> => {
      for (;;) {
        try { const number = n ?? await log.height(); await log.append(number, testBlock(number), leadership); return; } catch (error) {
          if (!isSilkError(error, 'ORDERING_UNAVAILABLE')) throw error;
          if (error.details.reason === 'not-leader') leadership = await election.campaign();
        }
      }
    };
    for (let n = 0; n < 5; n++) await append(n);

    const received: StoredBlock[] = [];
    let gate: Promise<void> = Promise.resolve();
    let openGate = (): void => undefined;
    const errors: SilkError[] = [];
    const watch = log.watch(0, async (block) => { await gate; received.push(block); }, { onError: (e) => errors.push(e) });
    t.after(async () => { openGate(); await watch.stop(); await election.close(); });
    await waitUntil(() => received.length === 5, 10_000, 'stored blocks delivered');

    // The consumer stalls while members restart and blocks keep coming.
    gate = new Promise((resolve) => { openGate = resolve; });
    for (const member of cluster.members) {
      await cluster.killMember(member.name);
      await append();
      await cluster.restartMember(member.name);
      await cluster.waitHealthy();
    }
    await append();
    const before = await log.height();
    // Compacting what the consumer committed removes blocks and the revision history behind its watch.
    const compacted = await log.compact(5);
    assert.equal(compacted.firstRetained, 5);
    assert.equal(compacted.deletedBlocks, 5);
    assert.equal(await log.firstRetained(), 5);
    for (let n = before; n < before + 5; n++) await append(n);
    openGate();
    const total = before + 5;
    await waitUntil(() => received.length >= total, 30_000, `all ${total} blocks delivered`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(received.map((b) => b.number), Array.from({ length: total }, (_, i) => i));
    for (const block of received) assert.deepEqual(block.bytes, testBlock(block.number));
    await watch.stop();

    // A newcomer asking for compacted blocks is told to fetch them from a peer; from the retained window it gets the rest.
    await assert.rejects(log.read(0, 3), (error: unknown) => isSilkError(error, 'NOT_FOUND'));
    const late: SilkError[] = [];
    const dead = log.watch(2, () => undefined, { onError: (e) => late.push(e) });
    await waitUntil(() => late.length > 0, 10_000, 'the compacted watch to report');
    assert.equal(late[0]?.code, 'NOT_FOUND');
    await dead.stop();
    const tail: number[] = [];
    const retained = log.watch(5, (block) => { tail.push(block.number); });
    await waitUntil(() => tail.length === total - 5, 10_000, 'the retained blocks');
    await retained.stop();
    assert.deepEqual(tail, Array.from({ length: total - 5 }, (_, i) => i + 5));
    await election.close();
  });
});

describe('NOSPACE alarm (3 real members, 1 MiB quota)', () => {
  it('is raised when blocks fill the quota, and cleared by compacting the log and resolving the alarm', async () => {
    const cluster = await startTestCluster({ quotaBackendBytes: 1024 * 1024 });
    const etcd = openEtcdConnection({ endpoints: cluster.clientUrls, deadlineMs: 3_000 });
    try {
      const log = openEtcdBlockLog(etcd, { chain: 'full' });
      const election = openChainElection(etcd, { chain: 'full', candidate: 'orderer-1' });
      const leadership = await election.campaign();
      let refusal: SilkError | undefined;
      for (let n = 0; n < 64 && refusal === undefined; n++) {
        try { await log.append(n, testBlock(n, 60 * 1024), leadership); } catch (error) {
          if (!isSilkError(error)) throw error;
          refusal = error;
        }
      }
      assert.equal(refusal?.code, 'ORDERING_UNAVAILABLE');
      assert.equal(refusal.details.reason, 'nospace');
      const status = await cluster.status();
      assert.equal(status.healthy, false);
      assert.ok(status.alarms.some((a) => a.alarm === 'NOSPACE'));

      const height = await log.height();
      await log.compact(height);
      const resolution = await cluster.resolveNoSpaceAlarm();
      assert.equal(resolution.hadAlarm, true);
      assert.ok(resolution.dbSizeBytesAfter < resolution.dbSizeBytesBefore, `${resolution.dbSizeBytesAfter} < ${resolution.dbSizeBytesBefore}`);
      assert.equal((await cluster.waitHealthy()).alarms.length, 0);
      await log.append(height, testBlock(height, 60 * 1024), leadership);
      assert.equal(await log.height(), height + 1);
      await election.close();
    } finally {
      etcd.close();
      await cluster.destroy();
    }
  });
});
