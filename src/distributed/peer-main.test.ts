import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BasicContract } from '../contracts/basic/basic-contract.js';
import { signerFromPem } from '../crypto/p256.js';
import type { Orderer } from '../ordering/orderer.js';
import { createSoloOrderer } from '../ordering/solo-orderer.js';
import { tempDir, unusedPort, waitUntil } from '../testing/fixtures.js';
import { isSilkError } from '../errors.js';
import { bootstrapNetwork, genesisFile, orgKeysDir, ordererKeyFile } from './network-bootstrap.js';
import { localNetworkDescription, validateNetworkDescription, type DescribedPeer, type NetworkDescription } from './network-description.js';
import { openPeerProcess, verifyWorkers, type PeerProcess } from './peer-main.js';

const CHAIN = 'trade';

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
  for (const p of d.peers) peers.push({ ...p, port: await unusedPort() });
  return validateNetworkDescription({ ...d, peers, api: { ...d.api, port: await unusedPort() }, orgs: d.orgs.map((o) => ({ name: o.name, adminKeystore: `keys/${o.name}/admin.pem`, tlsCa: o.tlsCa })) });
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
    first = await openPeerProcess({ description, name: p.name, orderer: compactedView(orderer, () => 0), contracts: [new BasicContract()] });
    assert.equal(first.urls.length, 2, 'the API fronts this peer, so it also listens on the API address');
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
    const raw = await fetch(`${first.urls[0] ?? ''}/api/chains/${CHAIN}/blocks/1/raw`);
    assert.equal(raw.headers.get('content-type'), 'application/octet-stream');
    assert.deepEqual(new Uint8Array(await raw.arrayBuffer()), new Uint8Array(first.peer.blockBytes(CHAIN, 1) ?? []));
    const missing = await fetch(`${first.urls[0] ?? ''}/api/chains/${CHAIN}/blocks/999/raw`);
    assert.equal(missing.status, 404);
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
