import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fromHex, toHex } from '../crypto/hash.js';
import { createConfigTransaction } from '../ledger/config-transaction.js';
import { createProposal } from '../ledger/proposal.js';
import { encodeValidationCodes } from '../ledger/commit-hash.js';
import { encodeCommitStatement } from '../ledger/receipt.js';
import type { ValidationCode } from '../errors.js';
import type { EmbeddedNetwork } from '../network/embedded-network.js';
import { describeBlock } from '../peer/block-view.js';
import { openTestNetwork } from '../testing/fixtures.js';
import { auditChain, commitOfBlockView, type AuditedCommit, type AuditSource } from './chain-audit.js';

const CHAIN = 'trade';

/** The node as an auditor sees it: Org1's peer, with `tamper` changing what it serves. */
function peerSource(net: EmbeddedNetwork, tamper: { bytes?: (n: number, b: Uint8Array) => Uint8Array; commit?: (n: number, c: AuditedCommit) => AuditedCommit } = {}): AuditSource {
  const peer = net.peers[0]!;
  return {
    height: () => Promise.resolve(peer.height(CHAIN)),
    blockBytes: (n) => Promise.resolve((tamper.bytes ?? ((_, b) => b))(n, peer.blockBytes(CHAIN, n)!)),
    commit: (n) => {
      const c = commitOfBlockView(describeBlock(peer, CHAIN, n)!);
      return Promise.resolve((tamper.commit ?? ((_, x) => x))(n, c));
    },
  };
}

describe('auditing a chain from its genesis block', () => {
  let net: EmbeddedNetwork & { cleanupDir(): void };
  let configBlock = 0;
  let txCount = 0;
  const submit = async (id: string): Promise<void> => {
    await net.gateway('Org1').submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: { id, owner: 'yiwu-seller', colour: 'red', size: 1, appraisedValue: 10 } }, net.identity('Org1', 'alice'));
  };

  before(async () => {
    net = await openTestNetwork();
    for (let i = 0; i < 4; i++) await submit(`before-${i}`);
    // A second configuration: the audit follows it from the block that carries it.
    const config = net.peers[0]!.config(CHAIN);
    const admins = ['Org1', 'Org2', 'Org3'].map((org) => net.identity(org, 'admin'));
    const update = await net.gateway('Org1').submitEnvelope(CHAIN, createConfigTransaction({ ...config, sequence: config.sequence + 1, txWindowMs: config.txWindowMs + 1_000 }, admins[0]!, admins));
    assert.equal(update.code, 'VALID');
    configBlock = update.blockNumber;
    await Promise.all([0, 1, 2].map((i) => submit(`after-${i}`)));
    // Two transfers of one asset endorsed before either is ordered: the second commits as a read
    // conflict, and the replay must find the same.
    const gateway = net.gateway('Org1');
    const [first, second] = ['madrid-shop', 'lyon-shop'].map((newOwner) => gateway.endorse(createProposal({ chain: CHAIN, contract: 'basic', version: '1.0', fn: 'transferAsset', args: { id: 'after-0', newOwner } }, net.identity('Org1', 'alice'))));
    assert.equal((await gateway.submitEnvelope(CHAIN, first!.envelope)).code, 'VALID');
    assert.equal((await gateway.submitEnvelope(CHAIN, second!.envelope)).code, 'MVCC_READ_CONFLICT');
    const peer = net.peers[0]!;
    const codes: string[] = [];
    for (let n = 0; n < peer.height(CHAIN); n++) codes.push(...describeBlock(peer, CHAIN, n)!.transactions.map((t) => t.code));
    assert.ok(codes.includes('MVCC_READ_CONFLICT'), codes.join(', '));
    txCount = codes.length;
  });
  after(async () => {
    await net.close();
    net.cleanupDir();
  });

  it('replays every block, matches what the peer signed, follows the configurations and names the keys in force', async () => {
    const peer = net.peers[0]!;
    const height = peer.height(CHAIN);
    const genesis = describeBlock(peer, CHAIN, 0)!.hash;
    const progress: number[] = [];
    const audit = await auditChain(CHAIN, peerSource(net), { genesisHash: genesis.toUpperCase(), prefetch: 3, onProgress: (done) => { progress.push(done); } });
    assert.deepEqual(audit.problems, []);
    assert.equal(audit.ok, true);
    assert.equal(audit.blocks, height);
    assert.equal(audit.transactions, txCount);
    assert.equal(audit.genesisHash, genesis);
    assert.equal(audit.genesisPinned, true);
    const last = describeBlock(peer, CHAIN, height - 1)!;
    assert.deepEqual(audit.head, { number: height - 1, hash: last.hash, commitHash: last.commitHash });
    assert.deepEqual(audit.peers, [toHex(peer.publicKey)]);
    assert.deepEqual(audit.configurations, [{ sequence: 0, block: 0 }, { sequence: 1, block: configBlock }]);
    assert.ok(audit.trust?.peers.includes(toHex(peer.publicKey)));
    assert.deepEqual(audit.trust?.orderers, peer.config(CHAIN).orderers);
    assert.deepEqual(progress, Array.from({ length: height }, (_, i) => i + 1));

    const partial = await auditChain(CHAIN, peerSource(net), { to: 1 });
    assert.equal(partial.ok, true);
    assert.equal(partial.blocks, 2);
    assert.equal(partial.genesisPinned, false);
  });

  it('stops at the first block whose codes, commit hash, signature or bytes are not what the replay gives', async () => {
    const peer = net.peers[0]!;
    const k = configBlock + 1;
    const notGenesis = await auditChain(CHAIN, peerSource(net), { genesisHash: 'ab'.repeat(32) });
    assert.equal(notGenesis.ok, false);
    assert.match(notGenesis.problems[0]!.message, /^block 0: its hash [0-9a-f]{64} is not the genesis hash you trust \(abab/);
    assert.equal(notGenesis.head, undefined);

    const flipped = await auditChain(CHAIN, peerSource(net, { commit: (n, c) => (n === k ? { ...c, codes: c.codes.map((code, i) => (i === 0 ? (code === 'VALID' ? 'MVCC_READ_CONFLICT' : 'VALID') : code)) } : c) }));
    assert.equal(flipped.ok, false);
    assert.match(flipped.problems[0]!.message, new RegExp(`^block ${k}: the node says tx 0 is \\w+; replayed, it is \\w+`));
    assert.equal(flipped.head?.number, k - 1, 'the blocks before it matched');

    const rewritten = await auditChain(CHAIN, peerSource(net, { commit: (n, c) => (n === k ? { ...c, commitHash: '00'.repeat(32) } : c) }));
    assert.match(rewritten.problems[0]!.message, new RegExp(`^block ${k}: the node's commit hash 0{64} differs from the replay's`));

    // A statement signed correctly, but by a key that is no peer of the chain (a client's).
    const alice = net.identity('Org1', 'alice');
    const byClient = await auditChain(CHAIN, peerSource(net, {
      commit: (n, c) => {
        if (n !== k) return c;
        const b = describeBlock(peer, CHAIN, n)!;
        const statement = encodeCommitStatement({ chain: CHAIN, number: n, blockHash: fromHex(b.hash), codes: encodeValidationCodes(c.codes as ValidationCode[]), commitHash: fromHex(c.commitHash) });
        return { ...c, peer: toHex(alice.publicKey), peerSignature: toHex(alice.sign(statement)) };
      },
    }));
    assert.match(byClient.problems[0]!.message, new RegExp(`^block ${k}: key ${toHex(alice.publicKey)} is not a peer of chain trade at block ${k}`));

    const forged = await auditChain(CHAIN, peerSource(net, { commit: (n, c) => (n === k ? { ...c, peerSignature: c.peerSignature.replace(/^../, (x) => (x === '00' ? '01' : '00')) } : c) }));
    assert.match(forged.problems[0]!.message, new RegExp(`^block ${k}: the peer's commit signature does not verify`));

    const altered = await auditChain(CHAIN, peerSource(net, {
      bytes: (n, b) => {
        if (n !== k) return b;
        const copy = Uint8Array.from(b);
        const at = copy.length - 200; // inside the last transaction
        copy[at] = (copy[at] ?? 0) ^ 0x01;
        return copy;
      },
    }));
    assert.equal(altered.ok, false);
    assert.equal(altered.problems[0]!.block, k);
  });

  it('refuses a malformed genesis hash or last block, and a chain the block 0 is not of', async () => {
    await assert.rejects(auditChain(CHAIN, peerSource(net), { genesisHash: 'not-a-hash' }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(auditChain(CHAIN, peerSource(net), { to: -1 }), { code: 'INVALID_ARGUMENT' });
    const other = await auditChain('product', peerSource(net), { to: 0 });
    assert.equal(other.ok, false);
    assert.match(other.problems[0]!.message, /^block 0: it is the genesis block of chain trade, not product/);
  });
});
