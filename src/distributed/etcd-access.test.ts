import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isSilkError } from '../errors.js';
import { freePort } from './loopback-ports.js';
import { addEtcdUser, ETCD_ROOT_USER, etcdUsersOfNetwork, removeEtcdUser, setUpEtcdAccessControl } from './etcd-access.js';
import { openEtcdBlockLog } from './etcd-block-log.js';
import { openEtcdConnection, type EtcdClientTlsFiles, type EtcdConnection } from './etcd-client.js';
import { createEtcdCluster, type EtcdCluster } from './etcd-cluster.js';
import { openChainElection } from './etcd-election.js';
import { chainPrefix } from './etcd-keys.js';
import { requireEtcd, testBlock } from './etcd-test-support.js';
import { openTlsFixture, type TlsFixture } from './tls-fixtures.js';
import { issueProcessCertificate } from './tls-pki.js';

const CHAIN = 'trade';
const HEIGHT_KEY = `${chainPrefix(CHAIN)}height`;

/** etcd's refusal of a user, as every etcd call reports it. */
function refused(user: string) {
  return (error: unknown): boolean => isSilkError(error, 'ORDERING_UNAVAILABLE') && error.details.reason === 'permission-denied' && error.details.user === user && error.message.includes(`etcd user '${user}'`);
}

describe('etcd access control over the client certificates (3 real members, mutual TLS)', () => {
  let fx: TlsFixture;
  let cluster: EtcdCluster;
  let root: EtcdConnection;
  const connections: EtcdConnection[] = [];
  const connect = (tls: EtcdClientTlsFiles): EtcdConnection => {
    const connection = openEtcdConnection({ endpoints: cluster.clientUrls, deadlineMs: 3_000, tls });
    connections.push(connection);
    return connection;
  };
  const etcdClientOf = (name: string): EtcdClientTlsFiles => {
    const files = fx.files.processes[name]?.etcdClient;
    assert.ok(files !== undefined, `etcd client certificate of ${name}`);
    return files;
  };

  before(async () => {
    requireEtcd();
    fx = await openTlsFixture();
    const rootTls = fx.files.etcdRoot;
    assert.ok(rootTls !== undefined, 'the bootstrap issues etcd\'s administrator certificate');
    const members = ['etcd-1', 'etcd-2', 'etcd-3'].map((name) => {
      const files = fx.files.processes[name]?.tls;
      assert.ok(files !== undefined);
      return { certFile: files.certFile, keyFile: files.keyFile, trustedCaFile: fx.files.caBundleFile };
    });
    const ports = [];
    for (let i = 0; i < 3; i++) ports.push({ client: await freePort(), peer: await freePort() });
    cluster = await createEtcdCluster({ dataDir: join(fx.description.dataDir, 'etcd-access'), ports, tls: { members, client: rootTls } });
    await cluster.start();
    root = connect(rootTls);
  });
  after(async () => {
    for (const connection of connections) connection.close();
    await cluster.close();
    fx.cleanup();
  });

  it('names each etcd user after its process: the CN of its client certificate; the administrator is root', () => {
    for (const name of ['orderer0', 'peer0.org1']) {
      assert.match(new X509Certificate(readFileSync(etcdClientOf(name).certFile ?? assert.fail('certificate file'))).subject, new RegExp(`^CN=${name.replace('.', '\\.')}$`, 'm'));
    }
    assert.equal(root.user, ETCD_ROOT_USER);
    assert.equal(connect(etcdClientOf('peer0.org1')).user, 'peer0.org1');
    assert.deepEqual(etcdUsersOfNetwork(fx.description).map((u) => `${u.name}:${u.role}`).sort(), [
      ...fx.description.orderers.map((o) => `${o.name}:orderer`), ...fx.description.peers.map((p) => `${p.name}:peer`),
    ].sort());
  });

  it('enables auth with a user per orderer and peer; orderers append, peers only read, unregistered names get nothing', async () => {
    const users = etcdUsersOfNetwork(fx.description);
    const setup = await setUpEtcdAccessControl(root, users);
    assert.deepEqual([...setup.added].sort(), users.map((u) => u.name).sort());
    assert.deepEqual(setup.removed, []);

    // An orderer's certificate campaigns (lease + Txn on the leader key), appends with the CAS and compacts.
    const orderer = connect(etcdClientOf('orderer0'));
    const election = openChainElection(orderer, { chain: CHAIN, candidate: 'orderer0' });
    try {
      const leadership = await election.campaign();
      const log = openEtcdBlockLog(orderer, { chain: CHAIN });
      await log.append(0, testBlock(0), leadership);
      await log.append(1, testBlock(1), leadership);
      assert.equal(await log.height(), 2);
      assert.equal((await log.compact(1)).deletedBlocks, 1);
      await election.resign();
    } finally {
      await election.close();
    }

    // A peer's certificate reads the log and the leader key, but cannot append a block at the next height.
    const peer = connect(etcdClientOf('peer0.org1'));
    const peerLog = openEtcdBlockLog(peer, { chain: CHAIN });
    assert.equal(await peerLog.height(), 2);
    assert.deepEqual((await peerLog.read(1, 2)).map((b) => b.number), [1]);
    const client = peer.client;
    const cas = (): Promise<unknown> => peer.call('append block 2 of chain trade', () => client
      .if(HEIGHT_KEY, 'Value', '==', '2')
      .then(client.put(`${chainPrefix(CHAIN)}blocks/0000000000000002`).value(Buffer.from(testBlock(2))), client.put(HEIGHT_KEY).value('3'))
      .commit());
    await assert.rejects(cas(), refused('peer0.org1'));
    await assert.rejects(peer.call('put the height', () => client.put(HEIGHT_KEY).value('3').exec()), refused('peer0.org1'));
    await assert.rejects(peer.call('delete a block', () => client.delete().key(`${chainPrefix(CHAIN)}blocks/0000000000000001`).exec()), refused('peer0.org1'));
    assert.equal(await openChainElection(peer, { chain: CHAIN, candidate: 'peer0.org1' }).leader(), undefined, 'the peer reads the leader key (vacant after the resignation)');
    await assert.rejects(peer.call('campaign', () => client.put(`${chainPrefix(CHAIN)}leader`).value('peer0.org1').exec()), refused('peer0.org1'));
    assert.equal(await peerLog.height(), 2, 'nothing the peer tried changed the log');
    // Both may ask for the cluster's members, which their connections follow (etcd-client.ts).
    for (const conn of [orderer, peer]) {
      const { members } = await conn.call('list the cluster members', () => conn.client.cluster.memberList({}));
      assert.equal(members.filter((m) => m.clientURLs.length > 0).length, 3);
    }

    // A certificate a member org's CA issued, for a name that is no etcd user: refused even reads.
    const caPem = readFileSync(fx.files.orgCaFiles.Org2 ?? assert.fail('Org2 CA file'), 'utf8');
    const ca = { org: 'Org2', certificatePem: caPem, certificate: new X509Certificate(caPem), signer: fx.admins.Org2 ?? assert.fail('Org2 admin') };
    const stranger = await issueProcessCertificate({ ca, process: 'orderer7', role: 'etcd-client', hosts: ['127.0.0.1'] });
    const strangerFiles = { certFile: join(fx.description.dataDir, 'orderer7.crt'), keyFile: join(fx.description.dataDir, 'orderer7.key'), caFile: fx.files.caBundleFile };
    writeFileSync(strangerFiles.certFile, stranger.certificatePem);
    writeFileSync(strangerFiles.keyFile, stranger.privateKeyPem, { mode: 0o600 });
    const outsider = connect(strangerFiles);
    await assert.rejects(openEtcdBlockLog(outsider, { chain: CHAIN }).height(), refused('orderer7'));
    await assert.rejects(outsider.call('put the height', () => outsider.client.put(HEIGHT_KEY).value('3').exec()), refused('orderer7'));
    // Administration is root's: an orderer may not defragment, take snapshots or add users.
    await assert.rejects(orderer.call('defragment', () => orderer.client.maintenance.defragment()), refused('orderer0'));
    await assert.rejects(orderer.call('add a user', () => orderer.client.auth.userAdd({ name: 'orderer7', options: { no_password: true } })), refused('orderer0'));
  });

  it('refuses an orderer once its user is deleted, on a connection it already had open too', async () => {
    const before = connect(etcdClientOf('orderer1'));
    const log = openEtcdBlockLog(before, { chain: CHAIN });
    assert.equal(await log.height(), 2);
    assert.equal(await removeEtcdUser(root, 'orderer1'), true);
    assert.equal(await removeEtcdUser(root, 'orderer1'), false, 'deleting it again is no error');
    await assert.rejects(log.height(), refused('orderer1'));
    await assert.rejects(before.call('campaign', () => before.client.put(`${chainPrefix(CHAIN)}leader`).value('orderer1').exec()), refused('orderer1'));
    const restarted = connect(etcdClientOf('orderer1'));
    await assert.rejects(openEtcdBlockLog(restarted, { chain: CHAIN }).height(), refused('orderer1'));

    // Added back (as an orderer added to the network is), the same certificate works again.
    await addEtcdUser(root, { name: 'orderer1', role: 'orderer' });
    assert.equal(await openEtcdBlockLog(restarted, { chain: CHAIN }).height(), 2);
    await assert.rejects(addEtcdUser(root, { name: ETCD_ROOT_USER, role: 'orderer' }), (error: unknown) => isSilkError(error, 'INVALID_ARGUMENT'));
    await assert.rejects(removeEtcdUser(root, ETCD_ROOT_USER), (error: unknown) => isSilkError(error, 'INVALID_ARGUMENT'));
  });

  it('is brought in line with the description at each setup: users of processes no longer listed are deleted', async () => {
    await addEtcdUser(root, { name: 'peer5.org2', role: 'peer' });
    const users = etcdUsersOfNetwork(fx.description).filter((u) => u.name !== 'orderer1');
    const setup = await setUpEtcdAccessControl(root, users);
    assert.deepEqual(setup, { added: [], removed: ['orderer1', 'peer5.org2'] });
    await assert.rejects(openEtcdBlockLog(connect(etcdClientOf('orderer1')), { chain: CHAIN }).height(), refused('orderer1'));
    assert.deepEqual((await setUpEtcdAccessControl(root, etcdUsersOfNetwork(fx.description))).added, ['orderer1']);
  });

  it('keeps the operator functions working through the root certificate: status, alarms, defragmentation, snapshots', async () => {
    const status = await cluster.status();
    assert.equal(status.healthy, true);
    assert.deepEqual(status.alarms, []);
    await cluster.defragment();
    assert.equal((await cluster.resolveNoSpaceAlarm()).hadAlarm, false);
    const file = join(fx.description.dataDir, 'access-backup.db');
    await cluster.snapshotSave(file);
    assert.ok(statSync(file).size > 0);
  });
});
