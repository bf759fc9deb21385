import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request, type Agent } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { toHex } from '../crypto/hash.js';
import { generateSigner } from '../crypto/p256.js';
import { waitUntil } from '../testing/fixtures.js';
import { freePort } from './loopback-ports.js';
import { mtlsAgent, mtlsServerOptions, readTlsCredentials, requireMember, tlsIdentityOf, type TlsCredentials } from './mtls.js';
import { openTlsFixture, type TlsFixture } from './tls-fixtures.js';
import { createTlsMembership, issueOrgCa, issueProcessCertificate, registeredProcesses, type OrgCa, type TlsMembership } from './tls-pki.js';

const DAY = 86_400_000;

/** GET / over the agent: the status and JSON body, or the error the connection failed with. */
function get(port: number, agent: Agent): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }); });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A server on loopback requiring member certificates; answers with the caller's identity. */
async function startServer(credentials: TlsCredentials, membership: TlsMembership): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ https: mtlsServerOptions(credentials) });
  app.addHook('onRequest', requireMember(membership, ['peer', 'orderer', 'api']));
  app.get('/', (request) => ({ caller: tlsIdentityOf(request) }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, port: (app.server.address() as { port: number }).port };
}

describe('mutual TLS between member processes', () => {
  let fx: TlsFixture;
  let server: { app: FastifyInstance; port: number };
  let org1Ca: OrgCa;
  let bundle: string;
  const agents: Agent[] = [];
  const agent = (credentials: TlsCredentials, membership?: TlsMembership): Agent => {
    const a = mtlsAgent({ credentials, keepAlive: false, ...(membership ? { membership } : {}) });
    agents.push(a);
    return a;
  };
  const certified = async (ca: OrgCa, process: string, role: 'peer' | 'orderer', validity: { notBefore?: Date; notAfter?: Date } = {}): Promise<TlsCredentials> => {
    const c = await issueProcessCertificate({ ca, process, role, hosts: ['127.0.0.1'], ...validity });
    return { cert: c.certificatePem, key: c.privateKeyPem, ca: bundle };
  };

  before(async () => {
    fx = await openTlsFixture();
    bundle = readFileSync(fx.files.caBundleFile, 'utf8');
    const pem = readFileSync(fx.files.orgCaFiles.Org1 as string, 'utf8');
    org1Ca = { org: 'Org1', certificatePem: pem, certificate: new X509Certificate(pem), signer: fx.admins.Org1 as OrgCa['signer'] };
    server = await startServer(readTlsCredentials(fx.files.processes['peer0.org2']!.tls), fx.membership);
  });
  after(async () => {
    for (const a of agents) a.destroy();
    await server.app.close();
    fx.cleanup();
  });

  it('serves a member process presenting its certificate, and tells the handler who it is', async () => {
    const reply = await get(server.port, agent(readTlsCredentials(fx.files.processes['orderer0']!.tls), fx.membership));
    assert.deepEqual(reply, { status: 200, body: { caller: { org: 'Org1', process: 'orderer0', role: 'orderer' } } });
  });

  it('refuses a client without a certificate', async () => {
    const creds = readTlsCredentials(fx.files.processes['orderer0']!.tls);
    const a = mtlsAgent({ credentials: { ...creds, cert: '', key: '' }, keepAlive: false });
    agents.push(a);
    await assert.rejects(get(server.port, a), (e: NodeJS.ErrnoException) => /certificate required|ECONNRESET|socket hang up/i.test(`${e.code ?? ''} ${e.message}`));
  });

  it('refuses a certificate from a CA that is not a member org’s', async () => {
    const outsider = await issueOrgCa({ org: 'Org3', signer: generateSigner() });
    const creds = await certified(outsider, 'peer0.org1', 'peer');
    await assert.rejects(get(server.port, agent(creds)), (e: NodeJS.ErrnoException) => /unknown ca|ECONNRESET|socket hang up/i.test(`${e.code ?? ''} ${e.message}`));
  });

  it('refuses an expired certificate of a member', async () => {
    const creds = await certified(org1Ca, 'peer0.org1', 'peer', { notBefore: new Date(Date.now() - 3 * DAY), notAfter: new Date(Date.now() - DAY) });
    await assert.rejects(get(server.port, agent(creds)), (e: NodeJS.ErrnoException) => /certificate expired|ECONNRESET|socket hang up/i.test(`${e.code ?? ''} ${e.message}`));
    // The same process with a current certificate is served: the refusal was the expiry.
    assert.equal((await get(server.port, agent(await certified(org1Ca, 'peer0.org1', 'peer')))).status, 200);
  });

  it('refuses, with a 403 naming the reason, a CA in the bundle whose key is not the org admin key, and an unregistered process', async () => {
    const impostor = await issueOrgCa({ org: 'Org1', signer: generateSigner() });
    const tampered = createTlsMembership({
      caCertificates: { Org1: impostor.certificatePem, Org2: readFileSync(fx.files.orgCaFiles.Org2 as string, 'utf8') },
      adminKeys: { Org1: [toHex(fx.admins.Org1!.publicKey)], Org2: [toHex(fx.admins.Org2!.publicKey)] },
      processes: registeredProcesses(fx.description),
    });
    const serverCreds = readTlsCredentials(fx.files.processes['peer0.org2']!.tls);
    const second = await startServer({ ...serverCreds, ca: `${serverCreds.ca}${impostor.certificatePem}` }, tampered);
    try {
      const creds = { ...(await certified(impostor, 'peer0.org1', 'peer')), ca: bundle };
      const reply = await get(second.port, agent(creds));
      assert.equal(reply.status, 403);
      assert.equal((reply.body as { error: { code: string; reason: string } }).error.code, 'UNTRUSTED_CERTIFICATE');
      assert.equal((reply.body as { error: { reason: string } }).error.reason, 'ca-not-admin-key');
    } finally {
      await second.app.close();
    }
    const stranger = await get(server.port, agent(await certified(org1Ca, 'peer9.org1', 'peer')));
    assert.equal(stranger.status, 403);
    assert.match((stranger.body as { error: { message: string } }).error.message, /peer9\.org1 is not a peer of Org1/);
  });

  it('lets a client refuse a server that is not a registered member of the role it expects', async () => {
    const creds = readTlsCredentials(fx.files.processes['orderer0']!.tls);
    const expectOrderer = mtlsAgent({ credentials: creds, membership: fx.membership, serverRoles: ['orderer'], keepAlive: false });
    agents.push(expectOrderer);
    await assert.rejects(get(server.port, expectOrderer), (e: Error) => /was issued for a peer/.test(e.message));
  });

  it('speaks TLS 1.3 only', async () => {
    const creds = readTlsCredentials(fx.files.processes['orderer0']!.tls);
    const { Agent: HttpsAgent } = await import('node:https');
    const tls12 = new HttpsAgent({ cert: creds.cert, key: creds.key, ca: creds.ca, maxVersion: 'TLSv1.2', keepAlive: false });
    agents.push(tls12);
    await assert.rejects(get(server.port, tls12), (e: NodeJS.ErrnoException) => /version|protocol/i.test(`${e.code ?? ''} ${e.message}`));
  });
});

// Installed by scripts/install-system-packages.sh (run by `npm test`).
const ETCD = '/usr/bin/etcd';
const ETCDCTL = '/usr/bin/etcdctl';

/** Runs etcdctl; resolves with its exit status and output (never rejects on a non-zero exit). */
function etcdctl(args: readonly string[]): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(ETCDCTL, ['--dial-timeout=3s', '--command-timeout=5s', ...args], { env: { ...process.env, ETCDCTL_API: '3' } }, (error, stdout, stderr) => {
      resolve({ ok: error === null, out: `${stdout}${stderr}` });
    });
  });
}

describe('etcd with client certificate authentication', () => {
  let fx: TlsFixture;
  let etcd: ChildProcess | undefined;
  let endpoint = '';

  before(async () => {
    assert.ok(existsSync(ETCD) && existsSync(ETCDCTL), 'etcd and etcdctl are missing: run scripts/install-system-packages.sh');
    fx = await openTlsFixture();
    const member = fx.files.processes['etcd-1']!.tls;
    const [client, peer] = [await freePort(), await freePort()];
    endpoint = `https://127.0.0.1:${client}`;
    const dir = join(fx.description.dataDir, 'etcd', 'etcd-1');
    mkdirSync(join(dir, 'data'), { recursive: true, mode: 0o700 });
    etcd = spawn(ETCD, [
      '--name', 'etcd-1', '--data-dir', join(dir, 'data'),
      '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
      '--listen-peer-urls', `https://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `https://127.0.0.1:${peer}`,
      '--initial-cluster', `etcd-1=https://127.0.0.1:${peer}`,
      '--cert-file', member.certFile, '--key-file', member.keyFile, '--trusted-ca-file', fx.files.caBundleFile, '--client-cert-auth',
      '--peer-cert-file', member.certFile, '--peer-key-file', member.keyFile, '--peer-trusted-ca-file', fx.files.caBundleFile, '--peer-client-cert-auth',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    etcd.stderr?.on('data', (chunk: Buffer) => { log += chunk.toString(); });
    const state = { exited: false, healthy: false, gaveUp: false };
    etcd.on('exit', () => { state.exited = true; });
    const orderer = fx.files.processes['orderer0']!.etcdClient!;
    void (async () => {
      while (!state.healthy && !state.exited && !state.gaveUp) {
        const r = await etcdctl(['--endpoints', endpoint, '--cacert', orderer.caFile, '--cert', orderer.certFile, '--key', orderer.keyFile, 'endpoint', 'health']);
        if (r.ok) state.healthy = true;
        else await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    try {
      await waitUntil(() => state.healthy || state.exited, 60_000, 'etcd to serve');
    } finally {
      state.gaveUp = true;
    }
    assert.ok(state.healthy, `etcd exited: ${log.slice(-2000)}`);
  });

  after(async () => {
    if (etcd !== undefined && etcd.exitCode === null) {
      const done = new Promise((resolve) => etcd?.once('exit', resolve));
      etcd.kill('SIGTERM');
      await done;
    }
    fx.cleanup();
  });

  it('serves a client with a member’s etcd client certificate and refuses one without a certificate or from another CA', async () => {
    const orderer = fx.files.processes['orderer0']!.etcdClient!;
    const peer = fx.files.processes['peer0.org2']!.etcdClient!;
    const put = await etcdctl(['--endpoints', endpoint, '--cacert', orderer.caFile, '--cert', orderer.certFile, '--key', orderer.keyFile, 'put', 'silk/tls-check', 'ok']);
    assert.ok(put.ok, put.out);
    const read = await etcdctl(['--endpoints', endpoint, '--cacert', peer.caFile, '--cert', peer.certFile, '--key', peer.keyFile, 'get', '--print-value-only', 'silk/tls-check']);
    assert.ok(read.ok, read.out);
    assert.equal(read.out.trim(), 'ok');

    const anonymous = await etcdctl(['--endpoints', endpoint, '--cacert', orderer.caFile, 'get', 'silk/tls-check']);
    assert.equal(anonymous.ok, false, anonymous.out);

    const outsider = await issueOrgCa({ org: 'Org3', signer: generateSigner() });
    const foreign = await issueProcessCertificate({ ca: outsider, process: 'orderer0', role: 'etcd-client', hosts: ['127.0.0.1'] });
    const dir = join(fx.description.dataDir, 'outsider');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'c.crt'), foreign.certificatePem);
    writeFileSync(join(dir, 'c.key'), foreign.privateKeyPem, { mode: 0o600 });
    const refused = await etcdctl(['--endpoints', endpoint, '--cacert', orderer.caFile, '--cert', join(dir, 'c.crt'), '--key', join(dir, 'c.key'), 'get', 'silk/tls-check']);
    assert.equal(refused.ok, false, refused.out);
  });
});
