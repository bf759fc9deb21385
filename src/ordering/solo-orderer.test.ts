/**
 * The solo orderer on real SQLite files, its log written by its writer thread: acknowledgements,
 * heights and deliveries follow durable writes in block order while later blocks are cut; a
 * write that fails (a really full file system) leaves no gap; close loses nothing acknowledged.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { bytesEqual, sha256, toHex } from '../crypto/hash.js';
import { generateSigner, verifyP256, type Signer } from '../crypto/p256.js';
import { isSilkError } from '../errors.js';
import { blockHash, decodeBlock, encodeBlockHeader, GENESIS_PREVIOUS_HASH, type Block } from '../ledger/block.js';
import type { ChainConfig } from '../ledger/chain-config.js';
import { createConfigTransaction } from '../ledger/config-transaction.js';
import { createProposal } from '../ledger/proposal.js';
import { encodeEnvelope, encodeTxResult, TX_FORMAT_VERSION } from '../ledger/transaction.js';
import { tempDir } from '../testing/fixtures.js';
import { fillFileSystem, withSmallFileSystem } from '../testing/full-disk.js';
import type { OrderedPosition, Orderer } from './orderer.js';
import { createSoloOrderer } from './solo-orderer.js';

const CHAIN = 'trade';
const ordererSigner = generateSigner();
const admins = { Org1: generateSigner(), Org2: generateSigner() };
const carol = generateSigner();

function genesisConfig(batch: ChainConfig['batch']): ChainConfig {
  return {
    v: 1, chain: CHAIN, sequence: 0,
    orgs: Object.fromEntries(Object.entries(admins).map(([org, admin]) => [org, { members: [{ name: 'admin', key: toHex(admin.publicKey), role: 'admin' }] }])),
    orderers: [toHex(ordererSigner.publicKey)],
    adminPolicy: "MAJORITY('Org1.admin', 'Org2.admin')",
    contracts: { basic: { version: '1.0', policy: "OR('Org1.admin', 'Org2.admin')" } },
    txWindowMs: 300_000,
    batch,
  };
}

/** The configuration after `config` with carol added to Org1 as a client. */
function withCarol(config: ChainConfig): ChainConfig {
  const org1 = config.orgs.Org1 ?? { members: [] };
  return { ...config, sequence: config.sequence + 1, orgs: { ...config.orgs, Org1: { members: [...org1.members, { name: 'carol', key: toHex(carol.publicKey), role: 'client' }] } } };
}

const configEnvelope = (config: ChainConfig): Uint8Array => createConfigTransaction(config, admins.Org1, [admins.Org1, admins.Org2]);

let serial = 0;
/** A distinct envelope of `creator` carrying a value of `valueBytes` bytes. */
function envelope(creator: Signer = admins.Org1, valueBytes = 16): Uint8Array {
  const n = serial++;
  const signed = createProposal({ chain: CHAIN, contract: 'basic', version: '1.0', fn: 'put', args: { n } }, creator);
  const result = encodeTxResult({ v: TX_FORMAT_VERSION, proposalHash: sha256(signed.bytes), contract: 'basic', version: '1.0', reads: [], writes: [{ key: `k${n}`, value: 'v'.repeat(valueBytes) }], hashedWrites: [], events: [], response: '' });
  return encodeEnvelope({ v: TX_FORMAT_VERSION, proposal: signed.bytes, signature: signed.signature, result, endorsements: [] });
}

const open = (path: string): Orderer => createSoloOrderer({ signer: ordererSigner, path });

interface Acked {
  readonly envelope: Uint8Array;
  readonly position: OrderedPosition;
}

/** Broadcasts each envelope; records each acknowledgement (once) and each refusal. */
function broadcastAll(orderer: Orderer, envelopes: readonly Uint8Array[]): { settled: Promise<void>; acked: Acked[]; refused: { envelope: Uint8Array; error: unknown }[] } {
  const acked: Acked[] = [];
  const refused: { envelope: Uint8Array; error: unknown }[] = [];
  const settled = Promise.all(envelopes.map((e) => orderer.broadcast(CHAIN, e).then(
    (position) => { acked.push({ envelope: e, position }); },
    (error: unknown) => { refused.push({ envelope: e, error }); },
  ))).then(() => undefined);
  return { settled, acked, refused };
}

/** Records what a subscriber receives, checking the height and block() agree with it. */
function subscribe(orderer: Orderer, fromBlock = 0): { numbers: number[]; blocks: Map<number, Uint8Array>; stop: () => void } {
  const numbers: number[] = [];
  const blocks = new Map<number, Uint8Array>();
  const stop = orderer.deliver(CHAIN, fromBlock, (bytes, n) => {
    assert.ok(orderer.height(CHAIN) > n, `block ${n} is delivered once stored (height ${orderer.height(CHAIN)})`);
    const stored = orderer.block(CHAIN, n);
    assert.ok(stored !== undefined && bytesEqual(stored, bytes), `block ${n} is readable once delivered`);
    numbers.push(n);
    blocks.set(n, bytes);
  });
  return { numbers, blocks, stop };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/**
 * Reopens the log and checks it: blocks 0…h−1 chained by hash with timestamps not going back,
 * signed by the orderer; block 0 the genesis; the other blocks hold exactly the acknowledged
 * envelopes, each at its acknowledged position.
 */
async function checkReopenedLog(path: string, acked: readonly Acked[]): Promise<Block[]> {
  const orderer = open(path);
  try {
    const height = orderer.height(CHAIN);
    assert.equal(orderer.block(CHAIN, height), undefined, 'nothing past the height');
    const blocks: Block[] = [];
    let previous: Uint8Array = GENESIS_PREVIOUS_HASH;
    let lastTime = 0;
    for (let n = 0; n < height; n++) {
      const bytes = orderer.block(CHAIN, n);
      assert.ok(bytes !== undefined, `block ${n} is stored`);
      const block = decodeBlock(bytes);
      const h = block.header;
      assert.equal(h.number, n);
      assert.ok(bytesEqual(h.previousHash, previous), `block ${n} chains to block ${n - 1}`);
      assert.ok(h.timestamp >= lastTime, `block ${n}'s timestamp does not go back`);
      assert.ok(verifyP256(h.orderer, encodeBlockHeader(h), block.signature), `block ${n} is signed by the orderer`);
      previous = blockHash(h);
      lastTime = h.timestamp;
      blocks.push(block);
    }
    const byPosition = new Map(acked.map((a) => [`${a.position.block}/${a.position.index}`, a.envelope]));
    assert.equal(byPosition.size, acked.length, 'no two envelopes acknowledged at the same position');
    let txs = 0;
    for (const block of blocks.slice(1)) {
      block.txs.forEach((tx, i) => {
        const envelopeAcked = byPosition.get(`${block.header.number}/${i}`);
        assert.ok(envelopeAcked !== undefined && bytesEqual(envelopeAcked, tx), `block ${block.header.number} tx ${i} is the envelope acknowledged there`);
      });
      txs += block.txs.length;
    }
    assert.equal(txs, acked.length, 'the log holds exactly the acknowledged envelopes');
    return blocks;
  } finally {
    await orderer.close();
  }
}

describe('the solo orderer and its writer thread', () => {
  it('acknowledges many concurrent broadcasts once each, in order, heights following the durable blocks, and reopens with exactly them', async () => {
    const dir = tempDir('silk-solo-');
    const path = join(dir.path, 'log.sqlite');
    try {
      const orderer = open(path);
      const genesis = await orderer.createChain(configEnvelope(genesisConfig({ maxTxs: 5, maxBytes: 1024 * 1024, timeoutMs: 20 })));
      assert.equal(decodeBlock(genesis).header.number, 0);
      assert.equal(orderer.height(CHAIN), 1);
      const sub = subscribe(orderer);
      const envelopes = Array.from({ length: 63 }, () => envelope());
      const run = broadcastAll(orderer, envelopes);
      // A duplicate while its first copy is being ordered gets the same position.
      const again = orderer.broadcast(CHAIN, envelopes[7] as Uint8Array);
      // Twelve blocks are cut and being written: none is reported before it is durable.
      assert.equal(orderer.height(CHAIN), 1, 'no block counts before its write is durable');
      assert.equal(orderer.block(CHAIN, 1), undefined);
      await run.settled;
      assert.deepEqual(run.refused, []);
      assert.equal(run.acked.length, envelopes.length, 'every envelope is acknowledged once');
      for (const a of run.acked) assert.ok(orderer.height(CHAIN) > a.position.block);
      const positions = new Set(run.acked.map((a) => `${a.position.block}/${a.position.index}`));
      assert.equal(positions.size, envelopes.length, 'each at its own position');
      const ackOf7 = run.acked.find((a) => a.envelope === envelopes[7]);
      assert.deepEqual(await again, ackOf7?.position, 'the duplicate is answered with the first copy\'s position');
      assert.equal(orderer.height(CHAIN), 14, 'genesis, twelve full blocks and one cut by the timeout');
      assert.deepEqual(sub.numbers, range(0, 14), 'delivered in order, no gap, no repeat');
      assert.ok(bytesEqual(sub.blocks.get(0) as Uint8Array, genesis));
      await orderer.close();
      await assert.rejects(orderer.broadcast(CHAIN, envelope()), (e: unknown) => isSilkError(e, 'ORDERING_UNAVAILABLE'));
      const blocks = await checkReopenedLog(path, run.acked);
      assert.equal(blocks.length, 14);

      // Reopened, the orderer goes on where the log ends.
      const reopened = open(path);
      try {
        const position = await reopened.broadcast(CHAIN, envelope());
        assert.equal(position.block, 14);
        assert.equal(reopened.height(CHAIN), 15);
      } finally {
        await reopened.close();
      }
    } finally {
      dir.cleanup();
    }
  });

  it('delivers every block once, in order, to subscribers that join while writes are in flight', async () => {
    const dir = tempDir('silk-solo-');
    const path = join(dir.path, 'log.sqlite');
    const orderer = open(path);
    try {
      await orderer.createChain(configEnvelope(genesisConfig({ maxTxs: 4, maxBytes: 1024 * 1024, timeoutMs: 20 })));
      const acks = Array.from({ length: 40 }, () => orderer.broadcast(CHAIN, envelope()));
      // Joins with ten blocks cut and none stored yet.
      assert.equal(orderer.height(CHAIN), 1);
      const early = subscribe(orderer);
      const ahead = subscribe(orderer, 6);
      // Joins once block 1 is stored, the others still being written.
      assert.equal((await acks[0])?.block, 1);
      const joinedAt = orderer.height(CHAIN);
      assert.ok(joinedAt < 11, `blocks are still in flight when the late subscriber joins (height ${joinedAt})`);
      const late = subscribe(orderer);
      await Promise.all(acks);
      assert.equal(orderer.height(CHAIN), 11);
      assert.deepEqual(early.numbers, range(0, 11));
      assert.deepEqual(late.numbers, range(0, 11), 'the stored blocks, then the new ones, each once');
      assert.deepEqual(ahead.numbers, range(6, 11), 'from the block asked for');
      for (const s of [early, late, ahead]) s.stop();
    } finally {
      await orderer.close();
      dir.cleanup();
    }
  });

  it('refuses the failed block and those behind it when the disk is full, then orders the next envelopes under the failed block\'s number', async () => {
    await withSmallFileSystem(4, async (mnt) => {
      const path = join(mnt, 'log.sqlite');
      const filler = join(mnt, 'filler');
      const config = genesisConfig({ maxTxs: 5, maxBytes: 4 * 1024 * 1024, timeoutMs: 20 });
      const orderer = open(path);
      const acked: Acked[] = [];
      try {
        await orderer.createChain(configEnvelope(config));
        const sub = subscribe(orderer);
        const warmUp = broadcastAll(orderer, [envelope()]);
        await warmUp.settled;
        acked.push(...warmUp.acked);
        assert.equal(orderer.height(CHAIN), 2);

        // Three blocks of five 32 KiB envelopes, then a configuration block adding carol, all
        // cut at once; the first needs more room than is left.
        fillFileSystem(filler, mnt, 64 * 1024);
        const big = Array.from({ length: 15 }, () => envelope(admins.Org1, 32 * 1024));
        const update = configEnvelope(withCarol(config));
        const burst = broadcastAll(orderer, [...big, update]);
        await burst.settled;
        assert.deepEqual(burst.acked, [], 'nothing of the failed block or those behind it is acknowledged');
        assert.equal(burst.refused.length, 16);
        for (const { envelope: e, error } of burst.refused) {
          assert.ok(isSilkError(error, 'STORAGE_FULL'), `refused as STORAGE_FULL: ${String(error)}`);
          const inFailedBlock = big.indexOf(e) >= 0 && big.indexOf(e) < 5;
          assert.match(error.message, inFailedBlock ? /could not store block 2: the disk is full/ : /could not store block [3-5]: block 2 before it was not stored/);
        }
        assert.equal(orderer.height(CHAIN), 2);
        assert.equal(orderer.block(CHAIN, 2), undefined);
        assert.deepEqual(sub.numbers, [0, 1], 'nothing of them is delivered');
        // The configuration block was not stored: admission is back to the configuration before it.
        await assert.rejects(orderer.broadcast(CHAIN, envelope(carol)), (e: unknown) => isSilkError(e, 'UNKNOWN_CREATOR'));

        rmSync(filler);
        const next = broadcastAll(orderer, [envelope(), envelope()]);
        await next.settled;
        assert.deepEqual(next.refused, []);
        assert.deepEqual(next.acked.map((a) => a.position.block), [2, 2], 'the next block reuses the failed number');
        acked.push(...next.acked);
        // The configuration update is ordered again, and carol is admitted once it is.
        const retried = broadcastAll(orderer, [update]);
        await retried.settled;
        assert.deepEqual(retried.acked.map((a) => a.position.block), [3]);
        acked.push(...retried.acked);
        const byCarol = broadcastAll(orderer, [envelope(carol)]);
        await byCarol.settled;
        assert.deepEqual(byCarol.acked.map((a) => a.position.block), [4]);
        acked.push(...byCarol.acked);
        assert.deepEqual(sub.numbers, [0, 1, 2, 3, 4]);
      } finally {
        await orderer.close();
      }
      const blocks = await checkReopenedLog(path, acked);
      assert.equal(blocks.length, 5);
      // The reopened log knows carol's configuration.
      const reopened = open(path);
      try {
        assert.equal((await reopened.broadcast(CHAIN, envelope(carol))).block, 5);
      } finally {
        await reopened.close();
      }
    });
  });

  it('refuses, once a configuration block adding a member is not stored, what that member sent meanwhile', async () => {
    await withSmallFileSystem(4, async (mnt) => {
      const path = join(mnt, 'log.sqlite');
      const filler = join(mnt, 'filler');
      // Full batches are cut at once; a partial one waits far longer than this test.
      const config = genesisConfig({ maxTxs: 5, maxBytes: 4 * 1024 * 1024, timeoutMs: 60_000 });
      const orderer = open(path);
      try {
        await orderer.createChain(configEnvelope(config));
        const warmUp = broadcastAll(orderer, Array.from({ length: 5 }, () => envelope()));
        await warmUp.settled;
        assert.equal(orderer.height(CHAIN), 2);

        // A block that needs more room than is left, the configuration block adding carol behind
        // it, then carol's envelope, admitted under that configuration and still batched when the
        // first write fails; and one of a member all along.
        fillFileSystem(filler, mnt, 64 * 1024);
        const big = Array.from({ length: 5 }, () => envelope(admins.Org1, 32 * 1024));
        const byCarol = envelope(carol);
        const byAdmin = envelope();
        const burst = broadcastAll(orderer, [...big, configEnvelope(withCarol(config)), byCarol]);
        const admin = broadcastAll(orderer, [byAdmin]);
        await burst.settled;
        const carols = burst.refused.filter((r) => r.envelope === byCarol);
        assert.equal(carols.length, 1, 'carol\'s envelope is refused');
        assert.ok(isSilkError(carols[0]?.error, 'UNKNOWN_CREATOR'), `as from a creator the configuration in force does not know: ${String(carols[0]?.error)}`);
        assert.ok(burst.refused.filter((r) => r.envelope !== byCarol).every((r) => isSilkError(r.error, 'STORAGE_FULL')), 'the failed blocks are refused as STORAGE_FULL');
        assert.equal(orderer.height(CHAIN), 2);

        // The member's envelope stays batched and is ordered once the disk has room again.
        rmSync(filler);
        const fill = broadcastAll(orderer, Array.from({ length: 4 }, () => envelope()));
        await Promise.all([fill.settled, admin.settled]);
        assert.deepEqual(admin.refused, []);
        assert.deepEqual(admin.acked.map((a) => a.position.block), [2], 'the member\'s envelope is in the block that reuses the failed number');
        assert.deepEqual(fill.refused, []);
      } finally {
        await orderer.close();
      }
    });
  });

  it('closes with writes in flight and envelopes still batched, losing none it acknowledged', async () => {
    const dir = tempDir('silk-solo-');
    const path = join(dir.path, 'log.sqlite');
    try {
      const orderer = open(path);
      // The batch timeout never fires in this test: only close() cuts the last, partial batch.
      await orderer.createChain(configEnvelope(genesisConfig({ maxTxs: 5, maxBytes: 1024 * 1024, timeoutMs: 60_000 })));
      const run = broadcastAll(orderer, Array.from({ length: 23 }, () => envelope()));
      let settledBeforeClose = false;
      void run.settled.then(() => { settledBeforeClose = true; });
      assert.equal(orderer.height(CHAIN), 1);
      await orderer.close();
      assert.ok(settledBeforeClose, 'close() returns once every write is settled');
      await run.settled;
      assert.deepEqual(run.refused, []);
      assert.equal(run.acked.length, 23);
      assert.equal(Math.max(...run.acked.map((a) => a.position.block)), 5, 'four full blocks and the partial one close() cut');
      const blocks = await checkReopenedLog(path, run.acked);
      assert.equal(blocks.length, 6);
    } finally {
      dir.cleanup();
    }
  });
});
