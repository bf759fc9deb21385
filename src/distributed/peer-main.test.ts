import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BasicContract } from '../contracts/basic/basic-contract.js';
import { signerFromPem } from '../crypto/p256.js';
import type { Orderer } from '../ordering/orderer.js';
import { createSoloOrderer } from '../ordering/solo-orderer.js';
import { tempDir, waitUntil } from '../testing/fixtures.js';
import { freePort } from './loopback-ports.js';
import { isSilkError } from '../errors.js';
import { bootstrapNetwork, genesisFile, orgKeysDir, ordererKeyFile } from './network-bootstrap.js';
import { localNetworkDescription, validateNetworkDescription, type DescribedPeer, type NetworkDescription } from './network-description.js';
import { openPeerProcess, verifyWorkers, type PeerProcess } from './peer-main.js';
import { processTlsFiles } from './tls-pki.js';
import { readTlsCredentials } from './mtls.js';
import { allianceCaBundleFile } from './tls-pki.js';
import { connect, type BlockEvent } from '../sdk/index.js';
import { runCli } from '../testing/cli-run.js';
import { get as httpsGet } from 'node:https';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { connect as tcpConnect } from 'node:net';

const CHAIN = 'trade';

/** GET over https (TLS 1.2 at most when asked); the status and body, or the error's code and message. */
function httpsGetText(url: string, options: { ca?: string; maxVersion?: 'TLSv1.2' }): Promise<{ status?: number; body: string; error?: string; code?: string }> {
  return new Promise((done) => {
    const req = httpsGet(url, { ...options, timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      res.on('end', () => { done({ ...(res.statusCode === undefined ? {} : { status: res.statusCode }), body }); });
    });
    req.on('timeout', () => { req.destroy(new Error('timed out')); });
    req.on('error', (error: Error & { code?: string }) => { done({ body: '', error: error.message, ...(error.code === undefined ? {} : { code: error.code }) }); });
  });
}

/** Sends a plain HTTP request over TCP; everything the server sent back before closing. */
function plainHttpExchange(host: string, port: number): Promise<string> {
  return new Promise((done, fail) => {
    const socket = tcpConnect({ host, port }, () => { socket.write(`GET /api/health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`); });
    let received = '';
    socket.setTimeout(5_000, () => { socket.destroy(); fail(new Error('the server kept a plain connection open without answering')); });
    socket.on('data', (chunk: Buffer) => { received += chunk.toString('latin1'); });
    socket.on('error', () => undefined);
    socket.on('close', () => { done(received); });
  });
}

/**
 * The ordering service as a peer sees it after the log compacted below `firstRetained()`: older
 * blocks are gone from it (`block` answers undefined, delivery starts at the window).
 */
function compactedView(orderer: Orderer, firstRetained: () => number): Orderer {
  return {
    createChain: (envelope) => orderer.createChain(envelope),
    broadcast: (chain, envelope) => orderer.broadcast(chain, envelope),
    deliver: (chain, from, onBlock) => orderer.deliver(chain, Math.max(from, firstRetained()), onBlock),
    block: (chain, n) => (n < firstRetained() ? undefined : orderer.block(chain, n)),
    height: (chain) => orderer.height(chain),
    chains: () => orderer.chains(),
    close: () => Promise.resolve(),
  };
}

async function describeTwoOrgs(dataDir: string): Promise<NetworkDescription> {
  const d = localNetworkDescription({
    orgs: [{ name: 'Org1' }, { name: 'Org2' }],
    chains: [{ name: CHAIN, contracts: [{ name: 'basic', policy: "OR('Org1.peer', 'Org2.peer')" }], batch: { maxTxs: 10, timeoutMs: 5 } }],
    basePort: 40_000,
    dataDir,
  });
  const peers = [];
  // The first peer's gateway is set in the description (its admission limit pinned to 100).
  for (const [i, p] of d.peers.entries()) peers.push({ ...p, port: await freePort(), ...(i === 0 ? { gateway: { commitTimeoutMs: 20_000, admission: { minInFlight: 100, maxInFlight: 100 } } } : {}) });
  return validateNetworkDescription({ ...d, peers, api: { ...d.api, port: await freePort() }, orgs: d.orgs.map((o) => ({ name: o.name, adminKeystore: `keys/${o.name}/admin.pem`, tlsCa: o.tlsCa })) });
}

/** The `api` certificate and key the bootstrap wrote under the API's data folder. */
function apiCertificate(d: NetworkDescription): { cert: string; key: string } {
  const files = processTlsFiles(join(d.dataDir, d.api.dataDir), 'api');
  assert.ok(files !== undefined, 'the bootstrap wrote the api certificate');
  const { cert, key } = readTlsCredentials(files);
  return { cert, key };
}

describe('verify workers of a peer process', () => {
  it('uses every core when the peer has its host to itself, none when it shares it, or what SILK_VERIFY_WORKERS says', async () => {
    const d = await describeTwoOrgs('/tmp/unused');
    const [p1, p2] = d.peers as [DescribedPeer, DescribedPeer];
    assert.equal(verifyWorkers(d, p1, undefined), 0, 'a whole network on loopback: the cores go to its processes');
    const alone = validateNetworkDescription({ ...d, peers: [{ ...p1, host: '10.0.0.7' }, p2] });
    assert.equal(verifyWorkers(alone, alone.peers[0]!, undefined), availableParallelism());
    assert.equal(verifyWorkers(d, p1, '3'), 3);
    assert.equal(verifyWorkers(alone, alone.peers[0]!, '0'), 0);
    for (const bad of ['-1', 'two', '1.5', '65']) assert.throws(() => verifyWorkers(d, p1, bad), (e: unknown) => isSilkError(e, 'CONFIG_INVALID') && /SILK_VERIFY_WORKERS/.test(e.message), bad);
  });
});

describe('peer process', () => {
  const dir = tempDir('silk-peer-main-');
  let description: NetworkDescription;
  let orderer: Orderer;
  let first: PeerProcess | undefined;
  let second: PeerProcess | undefined;
  const logged: { level: number; msg: string }[] = [];
  const logLines = new Writable({ write(chunk: Buffer, _encoding, done) { logged.push(JSON.parse(chunk.toString()) as { level: number; msg: string }); done(); } });

  before(async () => {
    description = await describeTwoOrgs(dir.path);
    await bootstrapNetwork(description, { contracts: [new BasicContract()], keys: { kind: 'pem' } });
    const orderer0 = description.orderers[0];
    assert.ok(orderer0 !== undefined);
    orderer = createSoloOrderer({ signer: signerFromPem(readFileSync(ordererKeyFile(description, orderer0), 'utf8')), path: join(dir.path, 'solo.sqlite') });
    await orderer.createChain(readFileSync(genesisFile(description, CHAIN)));
  });

  after(async () => {
    await second?.close();
    await first?.close();
    await orderer.close();
    dir.cleanup();
  });

  it('joins from the genesis block, follows delivery, serves its API and the raw block bytes', async () => {
    const p = description.peers[0];
    assert.ok(p !== undefined);
    first = await openPeerProcess({ description, name: p.name, orderer: compactedView(orderer, () => 0), contracts: [new BasicContract()], apiTls: apiCertificate(description), logger: pino({ level: 'debug' }, logLines) });
    assert.equal(first.urls.length, 2, 'the API fronts this peer, so it also listens on the API address');
    assert.match(first.urls[0] ?? '', /^http:\/\/127\.0\.0\.1:\d+$/, "the peer's own port stays plain HTTP");
    assert.equal(first.urls[1], `https://127.0.0.1:${description.api.port}`, 'the API address is HTTPS with the api certificate');
    const admin = signerFromPem(readFileSync(join(orgKeysDir(description), 'Org1', 'admin.pem'), 'utf8'));
    for (let i = 0; i < 3; i++) {
      const r = await first.gateway.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: { id: `a${i}`, owner: 'Org1', colour: 'red', size: 1, appraisedValue: 10 } }, admin);
      assert.equal(r.code, 'VALID');
    }
    assert.ok(first.ready());
    const ready = await fetch(`${first.urls[0] ?? ''}/api/ready`);
    assert.equal(ready.status, 200);
    // Its metrics: the same series a `silk start` node serves.
    const metrics = await (await fetch(`${first.urls[0] ?? ''}/metrics`)).text();
    assert.match(metrics, new RegExp(`^silk_chain_height\\{[^}]*chain="${CHAIN}"[^}]*\\} [1-9]`, 'm'));
    // The gateway runs with the description's settings, not the defaults (limit 256 at start).
    assert.match(metrics, new RegExp(`^silk_gateway_admission_limit\\{[^}]*chain="${CHAIN}"[^}]*\\} 100$`, 'm'));
    const raw = await fetch(`${first.urls[0] ?? ''}/api/chains/${CHAIN}/blocks/1/raw`);
    assert.equal(raw.headers.get('content-type'), 'application/octet-stream');
    assert.deepEqual(new Uint8Array(await raw.arrayBuffer()), new Uint8Array(first.peer.blockBytes(CHAIN, 1) ?? []));
    const missing = await fetch(`${first.urls[0] ?? ''}/api/chains/${CHAIN}/blocks/999/raw`);
    assert.equal(missing.status, 404);
  });

  it("serves the API address over HTTPS to clients that trust the alliance's CA bundle (the SDK with ca, the CLI with --ca or $SILK_CA)", async () => {
    assert.ok(first !== undefined);
    const api = first.urls[1] ?? '';
    const caFile = allianceCaBundleFile(description);
    const ca = readFileSync(caFile, 'utf8');
    // Server authentication only: a client with no certificate of its own is served.
    const trusted = await httpsGetText(`${api}/api/health`, { ca });
    assert.equal(trusted.status, 200, JSON.stringify(trusted));
    assert.equal((JSON.parse(trusted.body) as { status: string }).status, 'ok');
    // A browser on the same host reaches a loopback API as localhost: the certificate names it too.
    const local = await httpsGetText(`https://localhost:${description.api.port}/api/health`, { ca });
    assert.equal(local.status, 200, `the API answers at https://localhost: ${JSON.stringify(local)}`);
    const tls12 = await httpsGetText(`${api}/api/health`, { ca, maxVersion: 'TLSv1.2' });
    assert.equal(tls12.status, 200, `a TLS 1.2 client is served: ${JSON.stringify(tls12)}`);
    const untrusted = await httpsGetText(`${api}/api/health`, {});
    assert.equal(untrusted.status, undefined);
    assert.equal(untrusted.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', `a client with the default roots refuses the certificate: ${JSON.stringify(untrusted)}`);

    // Plain HTTP to the HTTPS address: nothing is served in clear, the API goes on serving, and
    // the failed handshake is only a debug line.
    logged.length = 0;
    const inClear = await plainHttpExchange('127.0.0.1', description.api.port);
    assert.doesNotMatch(inClear, /HTTP\/1\.1 200|"status"/, `plain HTTP was answered in clear: ${inClear}`);
    assert.equal((await httpsGetText(`${api}/api/health`, { ca })).status, 200, 'the API still serves after a plain request');
    assert.ok(logged.some((l) => l.level === 20 && /TLS handshake with a client failed/.test(l.msg)), JSON.stringify(logged));
    assert.deepEqual(logged.filter((l) => l.level >= 40), [], 'nothing logged as a warning or an error');

    // The SDK: with ca it reads, submits and follows blocks; without, a certificate error naming the URL.
    const admin = signerFromPem(readFileSync(join(orgKeysDir(description), 'Org1', 'admin.pem'), 'utf8'));
    const client = connect({ url: api, ca, signer: admin });
    assert.equal((await client.ready()).status, 'ready');
    const blocks: BlockEvent[] = [];
    const subscription = client.subscribe(CHAIN, { onBlock: (b) => { blocks.push(b); } });
    try {
      const r = await client.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: { id: 'https-1', owner: 'Org1', colour: 'green', size: 1, appraisedValue: 5 } });
      assert.equal(r.code, 'VALID');
      await waitUntil(() => blocks.some((b) => b.number === r.blockNumber), 10_000, 'the block over the event stream');
    } finally {
      subscription.close();
    }
    await assert.rejects(connect({ url: api }).health(), (e: unknown) => isSilkError(e, 'UNREACHABLE') && e.details.reason === 'untrusted-certificate' && e.message.startsWith(`GET ${api}/api/health:`));

    // The CLI: --ca or $SILK_CA reads; without, one line naming the URL and --ca, exit 5 as for other connection failures.
    const env = { SILK_URL: undefined, SILK_CA: undefined };
    const withFlag = await runCli(['status', '--url', api, '--ca', caFile, '--json'], 30_000, env);
    assert.equal(withFlag.code, 0, withFlag.stderr);
    assert.equal((JSON.parse(withFlag.stdout) as { url: string; ready: { status: string } }).ready.status, 'ready');
    const withEnv = await runCli(['block', CHAIN, '1', '--url', api], 30_000, { ...env, SILK_CA: caFile });
    assert.equal(withEnv.code, 0, withEnv.stderr);
    assert.match(withEnv.stdout, /^Block 1 of chain trade$/m);
    const without = await runCli(['status', '--url', api], 30_000, env);
    assert.equal(without.code, 5);
    assert.equal(without.stderr.trimEnd().split('\n').length, 1, without.stderr);
    assert.match(without.stderr.trimEnd(), new RegExp(`^silk: UNREACHABLE: GET ${api.replaceAll('.', '\\.')}/api/\\w+: the node's TLS certificate is not trusted \\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\\); pass the network's CA bundle with --ca FILE \\(or \\$SILK_CA\\)$`));
  });

  it('a peer behind the retained window fetches the missing blocks from another peer and checks them itself', async () => {
    const p = description.peers[1];
    assert.ok(p !== undefined && first !== undefined);
    const window = orderer.height(CHAIN);
    assert.ok(window >= 2, 'blocks exist below the window');
    second = await openPeerProcess({ description, name: p.name, orderer: compactedView(orderer, () => window), contracts: [new BasicContract()] });
    await waitUntil(() => second?.peer.height(CHAIN) === orderer.height(CHAIN), 20_000, 'the second peer to catch up');
    const a = first.peer;
    const b = second.peer;
    assert.equal(b.committedBlock(CHAIN, window - 1)?.commitHash, a.committedBlock(CHAIN, window - 1)?.commitHash);
    // And it follows the ordering service from there on.
    const admin2 = signerFromPem(readFileSync(join(orgKeysDir(description), 'Org2', 'admin.pem'), 'utf8'));
    const r = await second.gateway.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: { id: 'b1', owner: 'Org2', colour: 'blue', size: 2, appraisedValue: 20 } }, admin2);
    assert.equal(r.code, 'VALID');
    await waitUntil(() => a.height(CHAIN) === b.height(CHAIN), 10_000, 'both peers at one height');
    const top = a.height(CHAIN) - 1;
    assert.equal(a.committedBlock(CHAIN, top)?.commitHash, b.committedBlock(CHAIN, top)?.commitHash);
  });
});
