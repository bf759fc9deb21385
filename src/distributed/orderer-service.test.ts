import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { bytesEqual, sha256, toHex } from '../crypto/hash.js';
import { generatePrivateKeyPem, generateSigner, signerFromPem, verifyP256, type Signer } from '../crypto/p256.js';
import { isSilkError } from '../errors.js';
import { blockHash, decodeBlock, encodeBlockHeader, GENESIS_PREVIOUS_HASH, txLeafHashes, type Block } from '../ledger/block.js';
import type { ChainConfig } from '../ledger/chain-config.js';
import { createConfigTransaction } from '../ledger/config-transaction.js';
import { merkleRootFromLeafHashes } from '../ledger/merkle.js';
import { createProposal } from '../ledger/proposal.js';
import { decodeEnvelope, decodeTransaction, encodeEnvelope, encodeTxResult, TX_FORMAT_VERSION } from '../ledger/transaction.js';
import type { ChainSpec } from '../network/embedded-network.js';
import type { OrderedPosition, Orderer } from '../ordering/orderer.js';
import { BROADCAST_BATCH_MAX_ENVELOPES, BROADCAST_BATCH_PATH, encodeBroadcastBatch, outcomesOfBatchAnswer, parseLeaderCandidate, postBroadcastBatch } from '../ordering/orderer-wire.js';
import { tempDir, waitUntil } from '../testing/fixtures.js';
import { freePort } from './loopback-ports.js';
import { openEtcdBlockLog } from './etcd-block-log.js';
import { openEtcdConnection, type EtcdConnection } from './etcd-client.js';
import type { EtcdCluster } from './etcd-cluster.js';
import { openChainElection } from './etcd-election.js';
import { openEtcdOrdererClient } from './etcd-orderer-client.js';
import { startTestCluster } from './etcd-test-support.js';
import { readTlsCredentials } from './mtls.js';
import { localNetworkDescription, networkDescriptionToYaml, validateNetworkDescription } from './network-description.js';
import { startOrdererService, type OrdererService } from './orderer-service.js';
import { adminKeysOfChains, tlsMembershipOfNetwork, writeNetworkCertificates } from './tls-pki.js';

const ETCD_DEADLINE_MS = 3_000;
const ORDERER_TIMEOUT_MS = 10_000;
const CLIENT_TIMEOUT_MS = 15_000;
const MAIN = join(fileURLToPath(new URL('.', import.meta.url)), 'orderer-main.js');

const admins: Record<string, Signer> = { Org1: generateSigner(), Org2: generateSigner() };
const POLICY = "OR('Org1.peer', 'Org2.peer')";

/** A genesis configuration of `chain` listing both orderer keys, batches of at most 10 envelopes. */
function genesisOf(chain: string, ordererKeys: readonly Uint8Array[]): { config: ChainConfig; envelope: Uint8Array } {
  const orgs = Object.fromEntries(Object.entries(admins).map(([org, admin]) => [org, {
    members: [{ name: 'admin', key: toHex(admin.publicKey), role: 'admin' }, { name: `peer0.${org.toLowerCase()}`, key: toHex(generateSigner().publicKey), role: 'peer' }],
  }]));
  const config: ChainConfig = {
    v: 1, chain, sequence: 0, orgs, orderers: ordererKeys.map((k) => toHex(k)),
    adminPolicy: "MAJORITY('Org1.admin', 'Org2.admin')",
    contracts: { basic: { version: '1.0', policy: POLICY } },
    txWindowMs: 300_000,
    batch: { maxTxs: 10, maxBytes: 4 * 1024 * 1024, timeoutMs: 20 },
  };
  return { config, envelope: createConfigTransaction(config, admins.Org1 as Signer, Object.values(admins)) };
}

let serial = 0;
/** An envelope signed by Org1's admin (a member), distinct each call. */
function envelopeFor(chain: string, creator: Signer = admins.Org1 as Signer): Uint8Array {
  const n = serial++;
  const signed = createProposal({ chain, contract: 'basic', version: '1.0', fn: 'put', args: { n } }, creator);
  const result = encodeTxResult({ v: TX_FORMAT_VERSION, proposalHash: sha256(signed.bytes), contract: 'basic', version: '1.0', reads: [], writes: [{ key: `k${n}`, value: String(n) }], hashedWrites: [], events: [], response: '' });
  return encodeEnvelope({ v: TX_FORMAT_VERSION, proposal: signed.bytes, signature: signed.signature, result, endorsements: [] });
}

/**
 * Reads the whole chain from etcd and checks it: numbers 0…h−1 without gap, each block chained to
 * the previous by hash, its data hash the RFC 9162 root of its envelopes, signed by one of
 * `ordererKeys`; every acknowledged envelope sits at its acknowledged position and no envelope
 * appears twice.
 */
async function checkChain(etcd: EtcdConnection, chain: string, ordererKeys: readonly Uint8Array[], acks: ReadonlyMap<string, { envelope: Uint8Array; position: OrderedPosition }>): Promise<Block[]> {
  const log = openEtcdBlockLog(etcd, { chain });
  const height = await log.height();
  const stored = await log.read(0, height);
  assert.deepEqual(stored.map((b) => b.number), Array.from({ length: height }, (_, i) => i), 'no gap and no repeated block number');
  const blocks = stored.map((b) => decodeBlock(b.bytes));
  const seen = new Set<string>();
  let previous: Uint8Array = GENESIS_PREVIOUS_HASH;
  let lastTime = 0;
  for (const block of blocks) {
    const h = block.header;
    assert.ok(bytesEqual(h.previousHash, previous), `block ${h.number} chains to block ${h.number - 1}`);
    assert.ok(h.timestamp >= lastTime, `block ${h.number} timestamp does not go backwards`);
    assert.ok(bytesEqual(h.dataHash, merkleRootFromLeafHashes(txLeafHashes(block.txs))), `block ${h.number} data hash`);
    assert.ok(ordererKeys.some((k) => bytesEqual(k, h.orderer)), `block ${h.number} cut by a listed orderer`);
    assert.ok(verifyP256(h.orderer, encodeBlockHeader(h), block.signature), `block ${h.number} orderer signature verifies`);
    previous = blockHash(h);
    lastTime = h.timestamp;
    for (const tx of block.txs) {
      const txId = decodeTransaction(tx).txId;
      assert.ok(!seen.has(txId), `envelope ${txId} ordered once`);
      seen.add(txId);
    }
  }
  for (const [txId, { envelope, position }] of acks) {
    const tx = blocks[position.block]?.txs[position.index];
    assert.ok(tx !== undefined && bytesEqual(tx, envelope), `acknowledged envelope ${txId} is at block ${position.block} index ${position.index}`);
  }
  return blocks;
}

function getText(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    httpRequest(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }); });
    }).on('error', reject).end();
  });
}

/** POSTs raw bytes and reads the JSON answer (for bodies the orderer must refuse). */
function postRaw(url: string, body: Uint8Array, contentType: string): Promise<{ status: number; body: { error?: { code?: string; message?: string } } }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': contentType, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: string; message?: string } } }); });
    });
    // The orderer may answer a body it refuses before reading all of it: the answer is what counts.
    req.on('error', reject);
    req.end(body);
  });
}

/** Batches received by the orderers on a chain from one source, and the envelopes in them (the batch histogram's count and sum). */
async function batchesReceived(services: readonly OrdererService[], chain: string, source: 'client' | 'orderer'): Promise<{ batches: number; envelopes: number }> {
  let batches = 0;
  let envelopes = 0;
  for (const s of services) {
    const metric = s.metrics.getSingleMetric('silk_orderer_broadcast_batch_envelopes');
    assert.ok(metric !== undefined, 'the batch histogram is registered');
    const values: readonly { labels: Partial<Record<string, string | number>>; value: number; metricName?: string }[] = (await metric.get()).values;
    for (const v of values) {
      if (v.labels.chain !== chain || v.labels.source !== source) continue;
      if (v.metricName === 'silk_orderer_broadcast_batch_envelopes_count') batches += v.value;
      if (v.metricName === 'silk_orderer_broadcast_batch_envelopes_sum') envelopes += v.value;
    }
  }
  return { batches, envelopes };
}

let cluster: EtcdCluster & { destroy(): Promise<void> };
let etcd: EtcdConnection;

before(async () => {
  cluster = await startTestCluster();
  etcd = openEtcdConnection({ endpoints: cluster.clientUrls, deadlineMs: ETCD_DEADLINE_MS });
});
after(async () => {
  etcd.close();
  await cluster.destroy();
});

describe('orderer services in process (2 orderers, 3 real etcd members)', () => {
  const chain = 'trade';
  const signers = [generateSigner(), generateSigner()];
  const keys = signers.map((s) => s.publicKey);
  const { envelope: genesis } = genesisOf(chain, keys);
  const services: OrdererService[] = [];
  let client: Orderer;
  const acks = new Map<string, { envelope: Uint8Array; position: OrderedPosition }>();

  const leaderAndFollower = (): [OrdererService, OrdererService] => {
    const leader = services.find((s) => s.isLeader(chain));
    assert.ok(leader !== undefined, 'one orderer leads');
    return [leader, services.find((s) => s !== leader) as OrdererService];
  };
  const record = (envelope: Uint8Array, position: OrderedPosition): void => {
    const txId = decodeTransaction(envelope).txId;
    assert.ok(!acks.has(txId), `envelope ${txId} acknowledged once`);
    acks.set(txId, { envelope, position });
  };

  before(async () => {
    for (const [i, signer] of signers.entries()) {
      services.push(await startOrdererService({
        name: `orderer${i}`, org: i === 0 ? 'Org1' : 'Org2', signer, chains: [genesis],
        etcd: { endpoints: cluster.clientUrls, deadlineMs: ETCD_DEADLINE_MS }, listen: { host: '127.0.0.1', port: 0 }, broadcastTimeoutMs: ORDERER_TIMEOUT_MS,
      }));
    }
    client = await openEtcdOrdererClient({ etcd: { endpoints: cluster.clientUrls, deadlineMs: ETCD_DEADLINE_MS }, orderers: services.map((s) => ({ name: s.name, url: s.url })), chains: [chain], broadcastTimeoutMs: CLIENT_TIMEOUT_MS });
    await waitUntil(() => client.height(chain) >= 1 && services.some((s) => s.isLeader(chain)), 30_000, 'the genesis block and a leader');
  });
  after(async () => {
    await client.close();
    await Promise.all(services.map((s) => s.close()));
  });

  it('acknowledges each of many concurrent broadcasts once, after appending, in a valid signed hash chain', async () => {
    const [, follower] = leaderAndFollower();
    const viaClient = Array.from({ length: 12 }, async () => {
      for (let i = 0; i < 12; i++) {
        const envelope = envelopeFor(chain);
        record(envelope, await client.broadcast(chain, envelope));
      }
    });
    // Broadcasts the follower receives are forwarded to the leader.
    const viaFollower = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 8; i++) {
        const envelope = envelopeFor(chain);
        record(envelope, await follower.broadcast(chain, envelope));
      }
    });
    await Promise.all([...viaClient, ...viaFollower]);
    assert.equal(acks.size, 12 * 12 + 4 * 8);

    // A retried broadcast of an ordered envelope gets its first position, not a second copy.
    const [first] = acks.values();
    assert.ok(first !== undefined);
    assert.deepEqual(await client.broadcast(chain, first.envelope), first.position);

    const blocks = await checkChain(etcd, chain, keys, acks);
    assert.ok(blocks.length > 2);
    assert.ok(blocks.slice(1).every((b) => b.txs.length <= 10), 'batches respect maxTxs');
    await waitUntil(() => client.height(chain) === blocks.length, 10_000, 'the client height');
    for (const s of services) await waitUntil(() => s.height(chain) === blocks.length, 10_000, `${s.name} following the log`);
  });

  it('refuses what the solo orderer refuses, with the registry codes', async () => {
    const stranger = generateSigner();
    await assert.rejects(client.broadcast(chain, envelopeFor(chain, stranger)), (e: unknown) => isSilkError(e, 'UNKNOWN_CREATOR'));
    const honest = decodeEnvelope(envelopeFor(chain));
    const signature = new Uint8Array(honest.signature);
    signature[5] = (signature[5] as number) ^ 1;
    await assert.rejects(client.broadcast(chain, encodeEnvelope({ ...honest, signature })), (e: unknown) => isSilkError(e, 'BAD_SIGNATURE'));
    await assert.rejects(client.broadcast(chain, new Uint8Array([1, 2, 3])), (e: unknown) => isSilkError(e, 'MALFORMED'));
    await assert.rejects(client.broadcast(chain, envelopeFor('other')), (e: unknown) => isSilkError(e, 'WRONG_CHAIN'));
    await assert.rejects(client.broadcast(chain, new Uint8Array(70 * 1024).fill(1)), (e: unknown) => isSilkError(e, 'PAYLOAD_TOO_LARGE'));
    await assert.rejects(client.broadcast('nochain', envelopeFor(chain)), (e: unknown) => isSilkError(e, 'UNKNOWN_CHAIN'));
  });

  it('answers a batch per envelope, in order: valid ones ordered, a refused one alone, a duplicate with its first position', async () => {
    const [leader, follower] = leaderAndFollower();
    const [ordered] = acks.values();
    assert.ok(ordered !== undefined);
    const valid = [envelopeFor(chain), envelopeFor(chain), envelopeFor(chain)];
    const honest = decodeEnvelope(envelopeFor(chain));
    const signature = new Uint8Array(honest.signature);
    signature[5] = (signature[5] as number) ^ 1;
    const badSignature = encodeEnvelope({ ...honest, signature });
    const sent = [valid[0], badSignature, valid[1], valid[0], ordered.envelope, valid[2]] as Uint8Array[];
    const forwardedBefore = await batchesReceived(services, chain, 'orderer');
    // To the leader, and to the follower, which forwards the batch's envelopes to the leader.
    for (const [target, envelopes] of [[leader, sent], [follower, [envelopeFor(chain), envelopeFor(chain, generateSigner()), badSignature]]] as const) {
      const answer = await postBroadcastBatch(target.url, { chain, envelopes }, { timeoutMs: CLIENT_TIMEOUT_MS });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const outcomes = outcomesOfBatchAnswer(answer, target.url, envelopes.length);
      if (target === leader) {
        const [first, bad, second, again, old, third] = outcomes;
        assert.ok(bad !== undefined && 'error' in bad && isSilkError(bad.error, 'BAD_SIGNATURE'), 'the bad signature is refused alone');
        assert.deepEqual(again, first, 'the same envelope twice in a batch gets one position');
        assert.deepEqual(old, { position: { block: ordered.position.block, index: ordered.position.index } }, 'an envelope already ordered gets its first position');
        for (const [i, outcome] of [first, second, third].entries()) {
          assert.ok(outcome !== undefined && 'position' in outcome, `valid envelope ${i} ordered`);
          record(valid[i] as Uint8Array, { chain, ...outcome.position });
        }
      } else {
        const [fine, stranger, bad] = outcomes;
        assert.ok(fine !== undefined && 'position' in fine, 'the valid envelope is ordered through the follower');
        record(envelopes[0], { chain, ...fine.position });
        assert.ok(stranger !== undefined && 'error' in stranger && isSilkError(stranger.error, 'UNKNOWN_CREATOR'));
        assert.ok(bad !== undefined && 'error' in bad && isSilkError(bad.error, 'BAD_SIGNATURE'));
      }
    }
    const forwarded = await batchesReceived(services, chain, 'orderer');
    assert.ok(forwarded.batches > forwardedBefore.batches, 'the follower forwarded through the batch route');
    await checkChain(etcd, chain, keys, acks);
  });

  it('refuses a malformed, oversize or non-binary batch body as a whole, with a clear error, ordering nothing', async () => {
    const [leader] = leaderAndFollower();
    const url = `${leader.url}${BROADCAST_BATCH_PATH}`;
    const heightBefore = await openEtcdBlockLog(etcd, { chain }).height();
    const body = encodeBroadcastBatch({ chain, envelopes: [envelopeFor(chain), envelopeFor(chain)] });
    const truncated = await postRaw(url, body.subarray(0, body.length - 5), 'application/octet-stream');
    assert.equal(truncated.status, 400);
    assert.equal(truncated.body.error?.code, 'MALFORMED');
    assert.match(truncated.body.error.message ?? '', /broadcast batch body is malformed: envelope 1 of 2 claims \d+ bytes, past the end of the body/);

    const tooMany = await postRaw(url, Buffer.concat([Buffer.from([1, chain.length]), Buffer.from(chain), Buffer.from([0, 0, 0x03, 0xe9]), Buffer.alloc(5 * (BROADCAST_BATCH_MAX_ENVELOPES + 1), 0)]), 'application/octet-stream');
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.error?.code, 'INVALID_ARGUMENT');
    assert.match(tooMany.body.error.message ?? '', /a broadcast batch holds 1 to 1000 envelopes; this one holds 1001/);

    const oversize = await postRaw(url, encodeBroadcastBatch({ chain, envelopes: Array.from({ length: 5 }, () => new Uint8Array(60 * 1024).fill(7)) }), 'application/octet-stream');
    assert.equal(oversize.status, 413);
    assert.equal(oversize.body.error?.code, 'PAYLOAD_TOO_LARGE');
    assert.match(oversize.body.error.message ?? '', /a broadcast batch body is at most 262144 bytes/);

    const json = await postRaw(url, Buffer.from(JSON.stringify({ chain, envelopes: [] })), 'application/json');
    assert.equal(json.status, 415);
    assert.match(json.body.error?.message ?? '', /application\/octet-stream/);

    assert.equal(await openEtcdBlockLog(etcd, { chain }).height(), heightBefore, 'nothing was ordered');
  });

  it('sends many concurrent broadcasts of one client in far fewer POSTs, each ordered exactly once', async () => {
    const before = await batchesReceived(services, chain, 'client');
    const envelopes = Array.from({ length: 400 }, () => envelopeFor(chain));
    const positions = await Promise.all(envelopes.map((e) => client.broadcast(chain, e)));
    envelopes.forEach((e, i) => { record(e, positions[i] as OrderedPosition); });
    const after = await batchesReceived(services, chain, 'client');
    const posts = after.batches - before.batches;
    console.log(`${envelopes.length} concurrent broadcasts arrived in ${posts} batch POSTs`);
    assert.ok(posts >= 1 && posts <= envelopes.length / 20, `${posts} POSTs for ${envelopes.length} envelopes`);
    assert.ok(after.envelopes - before.envelopes >= envelopes.length, 'every envelope arrived in a batch');
    await checkChain(etcd, chain, keys, acks);
  });

  it('serves health, readiness and metrics, and reads old blocks through the log', async () => {
    for (const s of services) {
      assert.equal((await getText(`${s.url}/orderer/v1/health`)).status, 200);
      assert.equal((await getText(`${s.url}/orderer/v1/ready`)).status, 200);
      assert.equal(await s.ready(), true);
    }
    const [leader] = leaderAndFollower();
    const metrics = (await getText(`${leader.url}/metrics`)).text;
    for (const series of ['silk_orderer_is_leader', 'silk_orderer_blocks_cut_total', 'silk_orderer_etcd_append_seconds_count', 'silk_orderer_chain_height', 'silk_orderer_broadcast_batch_envelopes_count']) {
      assert.match(metrics, new RegExp(`^${series}\\{[^}]*chain="trade"[^}]*\\} [1-9]`, 'm'), series);
    }

    const small = await openEtcdOrdererClient({ etcd: { endpoints: cluster.clientUrls }, orderers: services.map((s) => ({ name: s.name, url: s.url })), chains: [chain], cacheBlocks: 4 });
    try {
      assert.equal(small.block(chain, 1), undefined, 'not read yet');
      await waitUntil(() => small.block(chain, 1) !== undefined, 10_000, 'block 1 read through');
      const stored = await openEtcdBlockLog(etcd, { chain }).read(1, 2);
      assert.deepEqual(small.block(chain, 1), stored[0]?.bytes);
      const delivered: number[] = [];
      const stop = small.deliver(chain, 0, (_bytes, n) => { delivered.push(n); });
      await waitUntil(() => delivered.length === small.height(chain), 10_000, 'delivery from block 0');
      stop();
      assert.deepEqual(delivered, Array.from({ length: delivered.length }, (_, i) => i));
    } finally {
      await small.close();
    }
  });

  it('never lands a stale leader\'s block: the append is refused and the envelope goes to the new leader', async () => {
    const [stale, next] = leaderAndFollower();
    // etcd drops the leader key (as when the lease expires unnoticed); the stale leader still believes it leads.
    await etcd.client.delete().key(`/silk/${chain}/leader`).exec();
    await waitUntil(() => next.isLeader(chain), 15_000, 'the other orderer to lead');
    assert.equal(stale.isLeader(chain), true, 'the stale leader has not noticed');
    const heightBefore = await openEtcdBlockLog(etcd, { chain }).height();
    const envelope = envelopeFor(chain);
    const position = await stale.broadcast(chain, envelope);
    record(envelope, position);
    assert.equal(stale.isLeader(chain), false, 'the refused append made it step down');
    const metrics = await stale.metrics.getSingleMetricAsString('silk_orderer_append_refusals_total');
    assert.match(metrics, /reason="not-leader"[^\n]* [1-9]/);
    const blocks = await checkChain(etcd, chain, keys, acks);
    for (const block of blocks.slice(heightBefore)) assert.ok(bytesEqual(block.header.orderer, signers[services.indexOf(next)]?.publicKey ?? new Uint8Array()), `block ${block.header.number} is the new leader's`);
  });

  it('fails broadcasts with ORDERING_UNAVAILABLE within the deadline while 2 of 3 etcd members are down, and recovers without restarting orderers', async () => {
    const [a, b] = cluster.members.map((m) => m.name);
    assert.ok(a !== undefined && b !== undefined);
    await cluster.stopMember(a);
    await cluster.stopMember(b);
    const started = Date.now();
    await assert.rejects(client.broadcast(chain, envelopeFor(chain)), (e: unknown) => {
      assert.ok(isSilkError(e, 'ORDERING_UNAVAILABLE'), String(e));
      return true;
    });
    const took = Date.now() - started;
    console.log(`broadcast refused ${took} ms after quorum loss (orderer deadline ${ORDERER_TIMEOUT_MS} ms)`);
    assert.ok(took < CLIENT_TIMEOUT_MS + 5_000, `refused after ${took} ms`);

    await cluster.restartMember(a);
    await cluster.restartMember(b);
    await cluster.waitHealthy();
    const resumeBy = Date.now() + 40_000;
    for (;;) {
      const envelope = envelopeFor(chain);
      try {
        record(envelope, await client.broadcast(chain, envelope));
        break;
      } catch (error) {
        if (!isSilkError(error, 'ORDERING_UNAVAILABLE') || Date.now() > resumeBy) throw error;
      }
    }
    for (let i = 0; i < 5; i++) {
      const envelope = envelopeFor(chain);
      record(envelope, await client.broadcast(chain, envelope));
    }
    await checkChain(etcd, chain, keys, acks);
  });
});

describe('orderer processes (orderer-main, mutual TLS): SIGKILL of the leader under load', () => {
  const chain = 'kill';
  const dir = tempDir('silk-orderers-');
  const children = new Map<string, ChildProcess>();
  const outputs = new Map<string, string>();
  let client: Orderer;
  let keys: Uint8Array[] = [];
  let descriptionFile = '';

  before(async () => {
    const pems = [generatePrivateKeyPem(), generatePrivateKeyPem()];
    keys = pems.map((p) => signerFromPem(p).publicKey);
    const chainSpec: ChainSpec = { name: chain, contracts: [{ name: 'basic', policy: POLICY }], batch: { maxTxs: 10, timeoutMs: 20 } };
    const { config, envelope } = genesisOf(chain, keys);
    const base = localNetworkDescription({ orgs: Object.entries(admins).map(([name, s]) => ({ name, adminKey: toHex(s.publicKey) })), chains: [chainSpec], basePort: await freePort(), dataDir: dir.path });
    const ports = (url: string): number => Number(new URL(url).port);
    const description = validateNetworkDescription({
      ...base,
      etcd: base.etcd.map((e, i) => ({ ...e, clientPort: ports(cluster.members[i]?.clientUrl ?? ''), peerPort: ports(cluster.members[i]?.peerUrl ?? '') })),
      orderers: await Promise.all(base.orderers.map(async (o) => ({ ...o, port: await freePort() }))),
    });
    descriptionFile = join(dir.path, 'network.yaml');
    writeFileSync(descriptionFile, networkDescriptionToYaml(description));
    mkdirSync(join(dir.path, 'genesis'), { recursive: true });
    writeFileSync(join(dir.path, 'genesis', `${chain}.envelope`), envelope);
    for (const [i, o] of description.orderers.entries()) {
      mkdirSync(join(dir.path, o.dataDir, 'keys'), { recursive: true });
      writeFileSync(join(dir.path, o.dataDir, 'keys', 'orderer.pem'), pems[i] as string, { mode: 0o600 });
    }
    const files = await writeNetworkCertificates(description, admins);
    // This suite's etcd cluster runs without TLS: the orderers connect to it over plain HTTP.
    for (const o of description.orderers) for (const f of ['etcd-client.crt', 'etcd-client.key']) rmSync(join(dir.path, o.dataDir, 'tls', f));
    const membership = tlsMembershipOfNetwork(description, adminKeysOfChains([config]));
    for (const o of description.orderers) {
      const log = join(dir.path, `${o.name}.log`);
      outputs.set(o.name, log);
      const child = spawn(process.execPath, [MAIN, '--description', descriptionFile, '--name', o.name, '--broadcast-timeout-ms', String(ORDERER_TIMEOUT_MS), '--etcd-deadline-ms', String(ETCD_DEADLINE_MS)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (c: Buffer) => { text += c.toString('utf8'); writeFileSync(log, text); });
      child.stderr.on('data', (c: Buffer) => { text += c.toString('utf8'); writeFileSync(log, text); });
      children.set(o.name, child);
    }
    await waitUntil(() => [...outputs.values()].every((f) => { try { return readFileSync(f, 'utf8').includes('"orderer started"'); } catch { return false; } }), 30_000, 'both orderer processes to start');
    const peer = description.peers[0];
    assert.ok(peer !== undefined);
    const peerFiles = files.processes[peer.name]?.tls;
    assert.ok(peerFiles !== undefined);
    client = await openEtcdOrdererClient({
      etcd: { endpoints: cluster.clientUrls, deadlineMs: ETCD_DEADLINE_MS },
      orderers: description.orderers.map((o) => ({ name: o.name, url: `https://${o.host}:${o.port}` })),
      chains: [chain], broadcastTimeoutMs: CLIENT_TIMEOUT_MS * 2,
      tls: { credentials: readTlsCredentials(peerFiles), membership },
    });
    await waitUntil(() => client.height(chain) >= 1, 30_000, 'the genesis block');
  });
  after(async () => {
    await client.close();
    for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    dir.cleanup();
  });

  it('keeps ordering after the leader process is killed: no gap, fork, duplicate or lost acknowledgement', async () => {
    const acks = new Map<string, { envelope: Uint8Array; position: OrderedPosition }>();
    const ackTimes: number[] = [];
    const failures: unknown[] = [];
    const control = { stop: false };
    const loops = Array.from({ length: 8 }, async () => {
      while (!control.stop) {
        const envelope = envelopeFor(chain);
        try {
          const position = await client.broadcast(chain, envelope);
          acks.set(decodeTransaction(envelope).txId, { envelope, position });
          ackTimes.push(Date.now());
        } catch (error) {
          failures.push(error);
        }
      }
    });
    await waitUntil(() => acks.size >= 40, 30_000, 'acknowledgements before the kill');
    const info = await openChainElection(etcd, { chain, candidate: 'test' }).leader();
    const leaderName = info === undefined ? undefined : parseLeaderCandidate(info.candidate)?.name;
    assert.ok(leaderName !== undefined, 'a leader is elected');
    const leader = children.get(leaderName);
    assert.ok(leader !== undefined);
    const killedAt = Date.now();
    const acksAtKill = acks.size;
    leader.kill('SIGKILL');
    await waitUntil(() => acks.size >= acksAtKill + 60, 60_000, 'acknowledgements after the kill');
    control.stop = true;
    await Promise.all(loops);

    const sorted = [...ackTimes].sort((x, y) => x - y);
    let longestGap = 0;
    for (let i = 1; i < sorted.length; i++) longestGap = Math.max(longestGap, (sorted[i] as number) - (sorted[i - 1] as number));
    const firstAfter = sorted.find((t) => t > killedAt);
    console.log(`leader ${leaderName} killed; first acknowledgement ${firstAfter === undefined ? 'never' : `${firstAfter - killedAt} ms`} later; longest gap between acknowledgements ${longestGap} ms; ${acks.size} acknowledged`);
    assert.deepEqual(failures, [], 'the client failed over without surfacing errors');
    const blocks = await checkChain(etcd, chain, keys, acks);
    const survivorKey = keys[leaderName === 'orderer0' ? 1 : 0] as Uint8Array;
    assert.ok(bytesEqual(blocks.at(-1)?.header.orderer ?? new Uint8Array(), survivorKey), 'the surviving orderer cuts the new blocks');
    assert.ok(longestGap < ORDERER_TIMEOUT_MS * 2, `longest gap ${longestGap} ms`);
  });

  it('stops gracefully on SIGTERM, resigning its leadership', async () => {
    const alive = [...children.entries()].find(([, c]) => c.exitCode === null && c.signalCode === null);
    assert.ok(alive !== undefined);
    const [name, child] = alive;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code); }));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, `${name} exits 0`);
    const leader = await openChainElection(etcd, { chain, candidate: 'test' }).leader();
    assert.equal(leader, undefined, 'the leader key is gone at once (resigned, not expired)');
  });

  it('exits 2 with a readable message on bad input', () => {
    const noName = spawnSync(process.execPath, [MAIN, '--description', descriptionFile], { encoding: 'utf8' });
    assert.equal(noName.status, 2);
    assert.match(noName.stderr, /--description and --name are required/);
    const unknown = spawnSync(process.execPath, [MAIN, '--description', descriptionFile, '--name', 'orderer9'], { encoding: 'utf8' });
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /lists no orderer named orderer9/);
  });
});

describe('the leader keeps the block log within its retention window', () => {
  it('compacts to the newest blocks once enough are retained, and keeps ordering', async () => {
    const chain = 'kept';
    const signer = generateSigner();
    const { envelope: genesis } = genesisOf(chain, [signer.publicKey]);
    const service = await startOrdererService({
      name: 'orderer-kept', org: 'Org1', signer, chains: [genesis], etcd: { endpoints: cluster.clientUrls, deadlineMs: ETCD_DEADLINE_MS },
      listen: { host: '127.0.0.1', port: 0 }, broadcastTimeoutMs: ORDERER_TIMEOUT_MS, retainedWindowBlocks: 8, compactAtBlocks: 16,
    });
    const log = openEtcdBlockLog(etcd, { chain });
    try {
      await waitUntil(() => service.isLeader(chain), 30_000, 'a leader for the chain');
      // One envelope at a time: a block each.
      const positions: OrderedPosition[] = [];
      for (let i = 0; i < 40; i++) positions.push(await service.broadcast(chain, envelopeFor(chain)));
      assert.deepEqual(positions.map((p) => p.block), Array.from({ length: 40 }, (_, i) => i + 1), 'every envelope acknowledged in its own block, no gap');
      let first = await log.firstRetained();
      for (let waited = 0; (await log.height()) - first >= 16 && waited < 10_000; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        first = await log.firstRetained();
      }
      assert.ok(first > 0, 'old blocks were deleted');
      assert.ok((await log.height()) - first >= 8, 'the newest window is kept');
      await assert.rejects(log.read(0, 1), (e: unknown) => isSilkError(e, 'NOT_FOUND'));
      await assert.rejects(startOrdererService({ name: 'bad', org: 'Org1', signer, chains: [genesis], etcd: { endpoints: cluster.clientUrls }, listen: { host: '127.0.0.1', port: 0 }, retainedWindowBlocks: 16, compactAtBlocks: 16 }), (e: unknown) => isSilkError(e, 'INVALID_ARGUMENT'));
    } finally {
      await service.close();
    }
  });

  it('an orderer added by a configuration block that was compacted away learns from the checkpoints that it is listed, and leads', async () => {
    const chain = 'joined';
    const founder = generateSigner();
    const added = generateSigner();
    const { config, envelope: genesis } = genesisOf(chain, [founder.publicKey]);
    // Both start from the description's genesis, which lists only the founder.
    const start = (name: string, signer: Signer): Promise<OrdererService> => startOrdererService({
      name, org: 'Org1', signer, chains: [genesis], etcd: { endpoints: cluster.clientUrls, deadlineMs: ETCD_DEADLINE_MS },
      listen: { host: '127.0.0.1', port: 0 }, broadcastTimeoutMs: ORDERER_TIMEOUT_MS, retainedWindowBlocks: 8, compactAtBlocks: 16,
    });
    const log = openEtcdBlockLog(etcd, { chain });
    const founding = await start('orderer-founder', founder);
    let joining: OrdererService | undefined;
    try {
      await waitUntil(() => founding.isLeader(chain), 30_000, 'a leader for the chain');
      const update = createConfigTransaction({ ...config, sequence: 1, orderers: [toHex(founder.publicKey), toHex(added.publicKey)] }, admins.Org1 as Signer, Object.values(admins));
      const configBlock = await founding.broadcast(chain, update);
      for (let i = 0; i < 40; i++) await founding.broadcast(chain, envelopeFor(chain));
      await waitUntil(async () => (await log.firstRetained()) > configBlock.block, 10_000, 'the configuration block compacted away');
      await assert.rejects(log.read(configBlock.block, configBlock.block + 1), (e: unknown) => isSilkError(e, 'NOT_FOUND'));
      const kept = await log.configurationBlocks(await log.height());
      assert.deepEqual(kept.map((b) => b.number), [0, configBlock.block], 'the genesis and the configuration block are kept as checkpoints, nothing else');
      assert.ok(bytesEqual(decodeBlock((kept[1] as { bytes: Uint8Array }).bytes).txs[0] ?? new Uint8Array(), update), 'the checkpoint holds the configuration block');

      await founding.close();
      joining = await start('orderer-added', added);
      const service = joining;
      await waitUntil(() => service.isLeader(chain), 30_000, 'the added orderer leading');
      const position = await service.broadcast(chain, envelopeFor(chain));
      const [stored] = await log.read(position.block, position.block + 1);
      assert.ok(stored !== undefined && bytesEqual(decodeBlock(stored.bytes).header.orderer, added.publicKey), 'the block is cut and signed by the added orderer');
    } finally {
      await joining?.close();
      await founding.close();
    }
  });
});
