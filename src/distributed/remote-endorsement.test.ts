import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request, type Agent } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { toBase64 } from '../api/wire.js';
import { toHex } from '../crypto/hash.js';
import { generateSigner, signerFromPem, type Signer } from '../crypto/p256.js';
import { isSilkError } from '../errors.js';
import { decodeBlock } from '../ledger/block.js';
import { createProposal } from '../ledger/proposal.js';
import { decodeTransaction } from '../ledger/transaction.js';
import type { ChainSpec } from '../network/embedded-network.js';
import { openOrgKeyring } from '../network/org-keyring.js';
import { caFetch } from '../sdk/ca-fetch.js';
import type { FetchFunction } from '../sdk/http-transport.js';
import { connect } from '../sdk/index.js';
import { tempDir, waitUntil } from '../testing/fixtures.js';
import { findFreePortRange } from './loopback-ports.js';
import { requireEtcd } from './etcd-test-support.js';
import { mtlsAgent, readTlsCredentials, type TlsCredentials } from './mtls.js';
import { isLaunchedAlive, networkDown, networkUp, NETWORK_FILE, PIDS_FILE, type NetworkUpResult, type PidsFile } from './network-launcher.js';
import { localNetworkDescription, networkDescriptionToYaml, type NetworkDescription } from './network-description.js';
import { issueOrgCa, issueProcessCertificate } from './tls-pki.js';

/** A chain whose contract needs an endorsement from each org's peer. */
const TRADE: ChainSpec = { name: 'trade', contracts: [{ name: 'basic', policy: "AND('Org1.peer', 'Org2.peer')" }], batch: { maxTxs: 100, timeoutMs: 20 } };
/** A chain whose contract either org's peer satisfies; its assets may carry key-level policies. */
const MARKET: ChainSpec = { name: 'market', contracts: [{ name: 'basic', policy: "OR('Org1.peer', 'Org2.peer')" }], batch: { maxTxs: 100, timeoutMs: 20 } };
/** `2 × 3 etcd + 2 orderers + 2 peers + 1 API` consecutive ports. */
const PORTS = 11;
const PEER_MAIN = fileURLToPath(new URL('./peer-main.js', import.meta.url));

/** Writes `<dir>/network.yaml`: two orgs with PEM keys, chain `trade` needing both orgs' peers and chain `market` either. */
async function describeNetwork(dir: string, basePort: number): Promise<NetworkDescription> {
  const orgs = [{ name: 'Org1', peers: 1 }, { name: 'Org2', peers: 1 }];
  const keyring = await openOrgKeyring({ keysDir: join(dir, 'keys'), spec: { orgs, chains: [TRADE, MARKET] }, keys: { kind: 'pem' }, create: true });
  const description = localNetworkDescription({
    orgs: orgs.map((o) => ({ ...o, adminKey: toHex(keyring.signer(o.name, 'admin').publicKey) })),
    chains: [TRADE, MARKET], basePort, dataDir: '.',
  });
  writeFileSync(join(dir, NETWORK_FILE), networkDescriptionToYaml(description));
  return description;
}

function post(port: number, agent: Agent, path: string, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let answer = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { answer += c; });
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: answer }); });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(text);
  });
}

async function peerReady(url: string, fetch: FetchFunction): Promise<boolean> {
  try {
    const response = await fetch(`${url}/api/ready`, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

describe('cross-org endorsement between peer processes', { timeout: 300_000 }, () => {
  const dir = tempDir('silk-remote-endorse-');
  const agents: Agent[] = [];
  let restarted: ChildProcess | undefined;

  after(async () => {
    for (const a of agents) a.destroy();
    if (restarted?.pid !== undefined && restarted.exitCode === null) {
      restarted.kill('SIGTERM');
      await waitUntil(() => restarted?.exitCode !== null || restarted.signalCode !== null, 20_000, 'the restarted peer to stop').catch(() => restarted?.kill('SIGKILL'));
    }
    await networkDown(dir.path).catch(() => undefined);
    try {
      const pids = JSON.parse(readFileSync(join(dir.path, PIDS_FILE), 'utf8')) as PidsFile;
      for (const p of pids.processes) if (isLaunchedAlive(p)) process.kill(p.pid, 'SIGKILL');
    } catch {
      // down removed the file
    }
    dir.cleanup();
  });

  it('endorses with both orgs through one org\'s API, refuses forged and foreign callers, and names a peer that is down', async () => {
    requireEtcd();
    const description = await describeNetwork(dir.path, await findFreePortRange(PORTS));
    const up: NetworkUpResult = await networkUp({ dir: dir.path, timeoutMs: 200_000 });
    const org1Url = up.peerUrls['peer0.org1'];
    const org2Url = up.peerUrls['peer0.org2'];
    assert.ok(org1Url !== undefined && org2Url !== undefined && up.apiCa !== undefined);
    // Each peer's own port serves its API over HTTPS, trusted with the alliance's CA bundle.
    assert.ok(org1Url.startsWith('https://') && org2Url.startsWith('https://'));
    const ca = readFileSync(up.apiCa, 'utf8');
    const fetch = caFetch(ca);
    const admin1: Signer = signerFromPem(readFileSync(join(dir.path, 'keys', 'Org1', 'admin.pem'), 'utf8'));
    const client = connect({ url: org1Url, signer: admin1, ca });
    const asset = (id: string) => ({ chain: 'trade', contract: 'basic', fn: 'createAsset', args: { id, owner: 'Org1', colour: 'red', size: 1, appraisedValue: 10 } });

    // 1. A submit through Org1's API commits VALID, endorsed by both orgs' peers.
    const first = await client.submit(asset('a1'));
    assert.equal(first.code, 'VALID');
    // Org2's peer commits the block too (it follows the ordering service on its own).
    let blockBytes: Uint8Array | undefined;
    await waitUntil(async () => {
      const raw = await fetch(`${org2Url}/api/chains/trade/blocks/${first.blockNumber}/raw`, { signal: AbortSignal.timeout(2000) });
      if (raw.status === 200) blockBytes = new Uint8Array(await raw.arrayBuffer());
      else await raw.body?.cancel();
      return blockBytes !== undefined;
    }, 30_000, 'peer0.org2 to commit the block', 100);
    const tx = decodeTransaction(decodeBlock(blockBytes as Uint8Array).txs[first.txIndex] as Uint8Array);
    assert.equal(tx.txId, first.txId);
    const peerKeys = new Set(tx.envelope.endorsements.map((e) => toHex(e.endorser)));
    assert.equal(peerKeys.size, 2, 'two distinct endorsers');

    // 1b. On `market` one peer satisfies the contract, and Org1's gateway endorses with its own.
    // An asset whose key-level policy names Org2's peer changes through Org1's API all the same:
    // the gateway adds Org2's peer, over mutual TLS, without the client naming it.
    const market = (fn: string, args: Record<string, string | number>) => ({ chain: 'market', contract: 'basic', fn, args });
    assert.equal((await client.submit(market('createAsset', { id: 'm1', owner: 'Org1', colour: 'red', size: 1, appraisedValue: 10 }))).code, 'VALID');
    assert.equal((await client.submit(market('protectAsset', { id: 'm1', policy: "OR('Org2.peer')" }))).code, 'VALID');
    const moved = await client.submit(market('transferAsset', { id: 'm1', newOwner: 'Org2' }));
    assert.equal(moved.code, 'VALID');
    const movedRaw = await fetch(`${org1Url}/api/chains/market/blocks/${moved.blockNumber}/raw`, { signal: AbortSignal.timeout(5000) });
    const movedTx = decodeTransaction(decodeBlock(new Uint8Array(await movedRaw.arrayBuffer())).txs[moved.txIndex] as Uint8Array);
    // VALID under the key policy means peer0.org2 endorsed. It also meets the contract policy, so
    // Org1's own peer (the contract policy's first pick) is left out: one endorsement, Org2's.
    const org2PeerKeys = (await client.chain('market')).config.orgs.Org2?.members.filter((m) => m.role === 'peer').map((m) => m.key) ?? [];
    assert.deepEqual(movedTx.envelope.endorsements.map((e) => org2PeerKeys.includes(toHex(e.endorser))), [true]);

    // 2. The endorsement route, called by a member peer: a forged signature and an unsigned proposal are refused.
    const org2 = description.peers.find((p) => p.name === 'peer0.org2');
    assert.ok(org2 !== undefined);
    const org1Tls: TlsCredentials = readTlsCredentials({ certFile: join(dir.path, 'peers/peer0.org1/tls/peer.crt'), keyFile: join(dir.path, 'peers/peer0.org1/tls/peer.key'), caFile: join(dir.path, 'peers/peer0.org1/tls/ca-bundle.crt') });
    const member = mtlsAgent({ credentials: org1Tls, keepAlive: false });
    agents.push(member);
    const proposal = createProposal({ chain: 'trade', contract: 'basic', version: tx.proposal.version, fn: 'createAsset', args: asset('f1').args }, admin1);
    const forged = await post(org2.port, member, '/peer/v1/endorse', { proposal: toBase64(proposal.bytes), signature: toBase64(generateSigner().sign(proposal.bytes)) });
    assert.equal(forged.status, 401);
    assert.equal((JSON.parse(forged.body) as { error: { code: string } }).error.code, 'BAD_SIGNATURE');
    const unsigned = await post(org2.port, member, '/peer/v1/endorse', { proposal: toBase64(proposal.bytes), signature: toBase64(new Uint8Array(64)) });
    assert.equal((JSON.parse(unsigned.body) as { error: { code: string } }).error.code, 'BAD_SIGNATURE');

    // 3. A client certificate of a CA that is not a member org's is refused: UNTRUSTED_CERTIFICATE, unknown-issuer.
    const foreignCa = await issueOrgCa({ org: 'Org1', signer: generateSigner() });
    const foreign = await issueProcessCertificate({ ca: foreignCa, process: 'peer0.org1', role: 'peer', hosts: ['127.0.0.1'] });
    const outsider = mtlsAgent({ credentials: { cert: foreign.certificatePem, key: foreign.privateKeyPem, ca: org1Tls.ca }, keepAlive: false });
    agents.push(outsider);
    const byOutsider = await post(org2.port, outsider, '/peer/v1/endorse', { proposal: toBase64(proposal.bytes), signature: toBase64(proposal.signature) });
    assert.equal(byOutsider.status, 403);
    const refused = (JSON.parse(byOutsider.body) as { error: { code: string; reason: string } }).error;
    assert.deepEqual([refused.code, refused.reason], ['UNTRUSTED_CERTIFICATE', 'unknown-issuer']);

    // 4. Org2's peer down: the submit fails naming it; nothing was ordered.
    const pids = JSON.parse(readFileSync(join(dir.path, PIDS_FILE), 'utf8')) as PidsFile;
    const org2Process = pids.processes.find((p) => p.name === 'peer0.org2');
    assert.ok(org2Process !== undefined);
    process.kill(org2Process.pid, 'SIGTERM');
    await waitUntil(() => !isLaunchedAlive(org2Process), 30_000, 'peer0.org2 to stop');
    await assert.rejects(client.submit(asset('d1')), (e) => isSilkError(e, 'ENDORSER_UNAVAILABLE') && /peer0\.org2/.test(e.message) && e.details.peer === 'peer0.org2');
    // So does a change of the asset only Org2's peer may endorse, though Org1's peer meets the contract policy.
    await assert.rejects(client.submit(market('transferAsset', { id: 'm1', newOwner: 'Org3' })), (e) => isSilkError(e, 'ENDORSER_UNAVAILABLE') && e.details.peer === 'peer0.org2');

    // 5. Once it is back, the same submit succeeds.
    const log = openSync(join(dir.path, 'peers/peer0.org2/peer.log'), 'a');
    restarted = spawn(process.execPath, [PEER_MAIN, '--description', join(dir.path, NETWORK_FILE), '--name', 'peer0.org2'], { stdio: ['ignore', log, log] });
    closeSync(log);
    await waitUntil(() => peerReady(org2Url, fetch), 60_000, 'peer0.org2 to be ready again', 100);
    const back = await client.submit(asset('d1'));
    assert.equal(back.code, 'VALID');
  });
});
