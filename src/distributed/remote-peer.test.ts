import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createServer, request, type Agent, type Server } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { toBase64 } from '../api/wire.js';
import { caFetch } from '../sdk/ca-fetch.js';
import { generateSigner } from '../crypto/p256.js';
import { isSilkError } from '../errors.js';
import { createGateway, type Gateway } from '../gateway/gateway.js';
import type { NetworkSpec } from '../network/embedded-network.js';
import type { Peer } from '../peer/peer.js';
import { openTestNetwork, waitUntil } from '../testing/fixtures.js';
import { freePort } from './loopback-ports.js';
import { toHex } from '../crypto/hash.js';
import { decodeBlock } from '../ledger/block.js';
import { decodeTransaction } from '../ledger/transaction.js';
import { decodeEndorsementReply, encodeEndorsementReply } from './endorsement-wire.js';
import { mtlsAgent, readTlsCredentials, type TlsCredentials } from './mtls.js';
import { openPeerEndorsementService, type PeerEndorsementService } from './peer-endorsement-service.js';
import { createRemotePeer, type RemotePeer } from './remote-peer.js';
import { openTlsFixture, type TlsFixture } from './tls-fixtures.js';
import { issueOrgCa, issueProcessCertificate } from './tls-pki.js';

/** `trade` needs both orgs' peers; `open` either one. */
const SPEC: NetworkSpec = {
  orgs: [{ name: 'Org1', users: ['alice'] }, { name: 'Org2' }],
  chains: [
    { name: 'trade', contracts: [{ name: 'basic', policy: "AND('Org1.peer', 'Org2.peer')" }], batch: { maxTxs: 10, timeoutMs: 10 } },
    { name: 'open', contracts: [{ name: 'basic', policy: "OR('Org1.peer', 'Org2.peer')" }], batch: { maxTxs: 10, timeoutMs: 10 } },
  ],
};

interface Answer { status: number; contentType: string; body: Buffer }

/** One HTTPS request over `agent`; rejects when the connection fails. */
function send(port: number, agent: Agent, method: string, path: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: text === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', body: Buffer.concat(chunks) }); });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(text);
  });
}

const errorOf = (a: Answer): { code: string; reason?: string } => (JSON.parse(a.body.toString('utf8')) as { error: { code: string; reason?: string } }).error;

/**
 * An HTTPS server standing in for the peer's API, as the peer process serves its own port: the
 * peer's certificate, client certificates asked for but not required. The peer-to-peer routes share it.
 */
async function startPeerPort(peer: Peer, fx: TlsFixture, port = 0): Promise<{ http: Server; p2p: PeerEndorsementService; port: number }> {
  const credentials = readTlsCredentials(fx.files.processes['peer0.org2']!.tls);
  const http = createServer({ cert: credentials.cert, key: credentials.key, ca: credentials.ca, requestCert: true, rejectUnauthorized: false }, (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('{"api":"served"}');
  });
  const p2p = await openPeerEndorsementService({ peer, membership: fx.membership });
  p2p.shareListener(http);
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  return { http, p2p, port: (http.address() as { port: number }).port };
}

async function stopPeerPort(s: { http: Server; p2p: PeerEndorsementService }): Promise<void> {
  await s.p2p.close();
  s.http.closeAllConnections();
  await new Promise((resolve) => s.http.close(resolve));
}

describe('endorsement by a peer of another process over mutual TLS', () => {
  let fx: TlsFixture;
  let net: Awaited<ReturnType<typeof openTestNetwork>>;
  let org1: Peer;
  let org2: Peer;
  let port2: Awaited<ReturnType<typeof startPeerPort>>;
  let remote: RemotePeer;
  let gateway: Gateway;
  let org1Creds: TlsCredentials;
  const agents: Agent[] = [];
  const remotes: RemotePeer[] = [];
  const agent = (credentials: TlsCredentials): Agent => {
    const a = mtlsAgent({ credentials, keepAlive: false });
    agents.push(a);
    return a;
  };
  const remoteWith = (credentials: TlsCredentials, publicKey = org2.publicKey, timeoutMs?: number): RemotePeer => {
    const r = createRemotePeer({ name: 'peer0.org2', org: 'Org2', publicKey, url: `https://127.0.0.1:${port2.port}`, chains: ['trade', 'open'], credentials, membership: fx.membership, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    remotes.push(r);
    return r;
  };
  const alice = () => net.identity('Org1', 'alice');
  const asset = (id: string) => ({ id, owner: 'Org1', colour: 'red', size: 1, appraisedValue: 10 });

  before(async () => {
    fx = await openTlsFixture();
    net = await openTestNetwork({ spec: SPEC });
    org1 = net.peer('peer0.org1');
    org2 = net.peer('peer0.org2');
    port2 = await startPeerPort(org2, fx);
    org1Creds = readTlsCredentials(fx.files.processes['peer0.org1']!.tls);
    remote = remoteWith(org1Creds);
    gateway = createGateway({ peers: [org1, remote], commitPeer: org1, orderer: net.orderer });
  });
  after(async () => {
    gateway.close();
    for (const r of remotes) r.close();
    for (const a of agents) a.destroy();
    await stopPeerPort(port2);
    await net.close();
    net.cleanupDir();
    fx.cleanup();
  });

  it('a submit whose policy needs both orgs commits VALID with the local and the remote endorsement', async () => {
    const r = await gateway.submit({ chain: 'trade', contract: 'basic', fn: 'createAsset', args: asset('a1') }, alice());
    assert.equal(r.code, 'VALID');
    const bytes = org1.blockBytes('trade', r.blockNumber);
    assert.ok(bytes !== undefined);
    const tx = decodeTransaction(decodeBlock(bytes).txs[r.txIndex] as Uint8Array);
    assert.deepEqual(tx.envelope.endorsements.map((e) => toHex(e.endorser)).sort(), [toHex(org1.publicKey), toHex(org2.publicKey)].sort());
    // Org2's peer validated the endorsements too and committed the transaction as VALID.
    await waitUntil(() => org2.transactionStatus('trade', r.txId) !== undefined, 10_000, 'Org2 commits the transaction');
    assert.equal(org2.transactionStatus('trade', r.txId)?.code, 'VALID');
    assert.ok(remote.height('trade') >= 1, 'the remote peer reported its height');
  });

  it('the remote endorsement is the one the peer computes itself, signed by its configured key', async () => {
    const signed = gateway.propose({ chain: 'open', contract: 'basic', fn: 'createAsset', args: asset('b1') }, alice());
    const viaWire = await remote.endorse(signed);
    const local = org2.endorse(signed);
    assert.deepEqual(viaWire.result, local.result);
    assert.deepEqual(viaWire.endorsement.endorser, org2.publicKey);
    assert.equal(viaWire.txId, local.txId);
  });

  it('the same port serves the API to clients without a certificate, trusting the alliance bundle', async () => {
    const response = await caFetch(org1Creds.ca)(`https://127.0.0.1:${port2.port}/anything`);
    assert.deepEqual(await response.json(), { api: 'served' });
    // A member peer's certificate reaches the peer-to-peer routes on the same port instead.
    const height = await send(port2.port, agent(org1Creds), 'GET', '/peer/v1/height?chain=trade');
    assert.equal(height.status, 200);
    assert.equal((JSON.parse(height.body.toString('utf8')) as { chain: string }).chain, 'trade');
  });

  it('refuses a forged or unsigned proposal with BAD_SIGNATURE, and a body with unknown fields', async () => {
    const signed = gateway.propose({ chain: 'trade', contract: 'basic', fn: 'createAsset', args: asset('f1') }, alice());
    const forged = generateSigner().sign(signed.bytes);
    const a = agent(org1Creds);
    const byStranger = await send(port2.port, a, 'POST', '/peer/v1/endorse', { proposal: toBase64(signed.bytes), signature: toBase64(forged) });
    assert.equal(byStranger.status, 401);
    assert.equal(errorOf(byStranger).code, 'BAD_SIGNATURE');
    const unsigned = await send(port2.port, a, 'POST', '/peer/v1/endorse', { proposal: toBase64(signed.bytes), signature: toBase64(new Uint8Array(64)) });
    assert.equal(errorOf(unsigned).code, 'BAD_SIGNATURE');
    const extra = await send(port2.port, a, 'POST', '/peer/v1/endorse', { proposal: toBase64(signed.bytes), signature: toBase64(signed.signature), endorser: 'me' });
    assert.equal(extra.status, 400);
    assert.equal(errorOf(extra).code, 'INVALID_ARGUMENT');
    await assert.rejects(remote.endorse({ bytes: signed.bytes, signature: forged }), (e) => isSilkError(e, 'BAD_SIGNATURE') && /peer0\.org2/.test(e.message));
  });

  it('refuses a certificate of a member CA for another role with UNTRUSTED_CERTIFICATE', async () => {
    const orderer = readTlsCredentials(fx.files.processes['orderer0']!.tls);
    const answer = await send(port2.port, agent(orderer), 'GET', '/peer/v1/height?chain=trade');
    assert.equal(answer.status, 403);
    const refused = errorOf(answer);
    assert.deepEqual([refused.code, refused.reason], ['UNTRUSTED_CERTIFICATE', 'wrong-role']);
  });

  it('refuses a client certificate of a non-member CA with UNTRUSTED_CERTIFICATE (unknown-issuer), and the API is not reached with it', async () => {
    const ca = await issueOrgCa({ org: 'Org1', signer: generateSigner() });
    const cert = await issueProcessCertificate({ ca, process: 'peer0.org1', role: 'peer', hosts: ['127.0.0.1'] });
    const outsider: TlsCredentials = { cert: cert.certificatePem, key: cert.privateKeyPem, ca: org1Creds.ca };
    assert.ok(new X509Certificate(cert.certificatePem).issuer.includes('Org1'));
    for (const path of ['/peer/v1/height?chain=trade', '/anything']) {
      const answer = await send(port2.port, agent(outsider), 'GET', path);
      assert.equal(answer.status, 403, path);
      assert.deepEqual([errorOf(answer).code, errorOf(answer).reason], ['UNTRUSTED_CERTIFICATE', 'unknown-issuer'], path);
    }
    await assert.rejects(remoteWith(outsider).endorse(gateway.propose({ chain: 'open', contract: 'basic', fn: 'createAsset', args: asset('o1') }, alice())), (e) => isSilkError(e, 'ENDORSER_UNAVAILABLE') && e.details.peer === 'peer0.org2' && e.details.reason === 'tls' && /refused the TLS link/.test(e.message));
  });

  it('refuses an endorsement signed by another key than the one configured for the peer', async () => {
    const impostor = remoteWith(org1Creds, org1.publicKey);
    await assert.rejects(impostor.endorse(gateway.propose({ chain: 'open', contract: 'basic', fn: 'createAsset', args: asset('k1') }, alice())), (e) => isSilkError(e, 'BAD_ENDORSEMENT_SIGNATURE'));
  });

  it('the height route answers at once, or once the peer reaches the height asked for', async () => {
    const a = agent(org1Creds);
    const now = await send(port2.port, a, 'GET', '/peer/v1/height?chain=open');
    const { height } = JSON.parse(now.body.toString('utf8')) as { height: number };
    assert.equal(height, org2.height('open'));
    const later = send(port2.port, a, 'GET', `/peer/v1/height?chain=open&min=${height + 1}&waitMs=5000`);
    await gateway.submit({ chain: 'open', contract: 'basic', fn: 'createAsset', args: asset('h1') }, alice());
    const reached = JSON.parse((await later).body.toString('utf8')) as { height: number };
    assert.ok(reached.height >= height + 1, `height ${reached.height} after a commit`);
    const unknown = await send(port2.port, a, 'GET', '/peer/v1/height?chain=nope');
    assert.equal(errorOf(unknown).code, 'UNKNOWN_CHAIN');
  });

  it('the reply format is canonical and refuses unknown fields', () => {
    const reply = { result: new Uint8Array([1, 2]), endorser: org2.publicKey, signature: new Uint8Array(64), height: 7 };
    assert.deepEqual(decodeEndorsementReply(encodeEndorsementReply(reply)), reply);
    const bytes = encodeEndorsementReply(reply);
    assert.throws(() => decodeEndorsementReply(bytes.subarray(0, bytes.length - 1)), (e) => isSilkError(e, 'MALFORMED'));
  });

  it('an unreachable endorser is left out when another peer can satisfy the policy', async () => {
    const dead = createRemotePeer({ name: 'peer1.org2', org: 'Org2', publicKey: org2.publicKey, url: `https://127.0.0.1:${await freePort()}`, chains: ['open'], credentials: org1Creds, membership: fx.membership });
    remotes.push(dead);
    const asked: string[] = [];
    const counted = { ...dead, endorse: (signed: Parameters<RemotePeer['endorse']>[0]) => { asked.push(dead.name); return dead.endorse(signed); } };
    // Both remote, neither has reported a height: the first listed is asked first.
    const gw = createGateway({ peers: [counted, remoteWith(org1Creds)], commitPeer: org1, orderer: net.orderer });
    try {
      const r = await gw.submit({ chain: 'open', contract: 'basic', fn: 'createAsset', args: asset('x1') }, alice());
      assert.equal(r.code, 'VALID');
      assert.deepEqual(asked, ['peer1.org2'], 'the unreachable peer was asked first, then left out');
    } finally {
      gw.close();
    }
  });

  it('a silent endorser (it takes the connection and answers nothing, not even its height) is given up within seconds and left out', async () => {
    const credentials = readTlsCredentials(fx.files.processes['peer0.org2']!.tls);
    const asked: string[] = [];
    const hung = createServer({ cert: credentials.cert, key: credentials.key, ca: credentials.ca, requestCert: true, rejectUnauthorized: false }, (req) => { asked.push(`${req.method ?? ''} ${req.url ?? ''}`); });
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const silent = createRemotePeer({ name: 'peer1.org2', org: 'Org2', publicKey: org2.publicKey, url: `https://127.0.0.1:${(hung.address() as { port: number }).port}`, chains: ['open'], credentials: org1Creds, membership: fx.membership, timeoutMs: 60_000 });
    remotes.push(silent);
    const gw = createGateway({ peers: [silent, remoteWith(org1Creds)], commitPeer: org1, orderer: net.orderer });
    try {
      const began = Date.now();
      await assert.rejects(silent.endorse(gateway.propose({ chain: 'open', contract: 'basic', fn: 'createAsset', args: asset('s0') }, alice())),
        (e) => isSilkError(e, 'ENDORSER_UNAVAILABLE') && e.details.reason === 'silent' && /peer1\.org2 .*gave no answer, nor to a health check/.test(e.message));
      // Given up after a failed check, not after its 60 s time limit.
      assert.ok(Date.now() - began < 30_000, `${Date.now() - began} ms`);
      assert.ok(asked[0] === 'POST /peer/v1/endorse' && asked.slice(1).every((a) => a.startsWith('GET /peer/v1/height')) && asked.length >= 2, asked.join(', '));
      const r = await gw.submit({ chain: 'open', contract: 'basic', fn: 'createAsset', args: asset('s1') }, alice());
      assert.equal(r.code, 'VALID');
      assert.equal(asked.filter((a) => a === 'POST /peer/v1/endorse').length, 2, 'the silent peer was asked first, then left out');
    } finally {
      gw.close();
      hung.closeAllConnections();
      await new Promise((resolve) => hung.close(resolve));
    }
  });

  it('with the remote peer down a submit needing it fails with ENDORSER_UNAVAILABLE naming it, and succeeds once it is back', async () => {
    const port = port2.port;
    await stopPeerPort(port2);
    await assert.rejects(
      gateway.submit({ chain: 'trade', contract: 'basic', fn: 'createAsset', args: asset('d1') }, alice()),
      (e) => isSilkError(e, 'ENDORSER_UNAVAILABLE') && e.details.peer === 'peer0.org2' && /peer0\.org2/.test(e.message),
    );
    // A policy any one org satisfies is endorsed by this process's own peer meanwhile.
    assert.equal((await gateway.submit({ chain: 'open', contract: 'basic', fn: 'createAsset', args: asset('d2') }, alice())).code, 'VALID');
    port2 = await startPeerPort(org2, fx, port);
    const back = await gateway.submit({ chain: 'trade', contract: 'basic', fn: 'createAsset', args: asset('d3') }, alice());
    assert.equal(back.code, 'VALID');
  });
});
