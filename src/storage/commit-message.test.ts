import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { isSilkError } from '../errors.js';
import { allInclusionProofs, merkleLeafHash, packInclusionPath } from '../ledger/merkle.js';
import { fromCommitMessage, toCommitMessage } from './commit-message.js';
import type { BlockCommit } from './sqlite-ledger-store.js';

const bytes = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

/** A commit of `n` transactions whose receipt paths are those of a real tree of n leaves. */
function commitOf(n: number): BlockCommit {
  const envelopes = Array.from({ length: n }, () => bytes(200));
  const leaves = envelopes.map((e) => merkleLeafHash(e));
  const paths = allInclusionProofs(leaves);
  return {
    number: 7,
    hash: bytes(32),
    bytes: bytes(1000),
    codes: new Uint8Array(n),
    commitHash: bytes(32),
    peerSignature: bytes(64),
    timestamp: 1_700_000_000_000,
    txIndex: envelopes.map((_, tx) => ({ txId: 'ab'.repeat(32), tx, code: 0 })),
    writes: [{ ns: 'basic', key: 'k1', value: '{"v":1}', tx: 0, txId: 'ab'.repeat(32) }],
    proofs: {
      header: bytes(150),
      ordererSignature: bytes(64),
      txs: envelopes.map((e, i) => ({ envelopeHash: bytes(32), leafHash: leaves[i]!, path: packInclusionPath(paths[i]!) })),
    },
  };
}

const plainProofs = (c: BlockCommit): unknown => c.proofs.txs.map((t) => [Buffer.from(t.envelopeHash).toString('hex'), Buffer.from(t.leafHash).toString('hex'), Buffer.from(t.path).toString('hex')]);

describe('commit message to a writer thread', () => {
  it('carries every receipt path through a thread boundary, the caller\'s commit untouched', async () => {
    // 13 leaves: paths of 4 hashes and the last leaf's of 2, so entries differ in length.
    const c = commitOf(13);
    const before = plainProofs(c);
    const { message, transfer } = toCommitMessage(c);
    // Through a real structured clone with the transfer, as postMessage does.
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<unknown>((resolve) => port2.once('message', resolve));
    port1.postMessage(message, transfer);
    const back = fromCommitMessage((await received) as typeof message);
    port1.close();
    port2.close();
    assert.deepEqual(plainProofs(back), before);
    assert.deepEqual(plainProofs(c), before, 'moving the packed buffer leaves the caller\'s arrays intact');
    assert.deepEqual(back.txIndex, c.txIndex);
    assert.deepEqual(back.writes, c.writes);
    assert.equal(back.number, 7);
    assert.deepEqual(c.proofs.txs.map((t) => t.path.length / 32), [4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 2]);
  });

  it('carries a block of one transaction (an empty path) and an empty block', () => {
    for (const n of [0, 1]) {
      const c = commitOf(n);
      assert.deepEqual(plainProofs(fromCommitMessage(toCommitMessage(c).message)), plainProofs(c));
    }
  });

  it('refuses receipt material that is not whole hashes, and a packed buffer cut short', () => {
    const c = commitOf(3);
    const odd = { ...c, proofs: { ...c.proofs, txs: [{ ...c.proofs.txs[0]!, path: bytes(33) }] } };
    assert.throws(() => toCommitMessage(odd), (e) => isSilkError(e, 'INTERNAL') && /tx 0/.test(e.message));
    const { message } = toCommitMessage(c);
    for (const cut of [message.proofs.packed.subarray(0, message.proofs.packed.length - 1), new Uint8Array(0)]) {
      assert.throws(() => fromCommitMessage({ ...message, proofs: { ...message.proofs, packed: cut } }), (e) => isSilkError(e, 'INTERNAL') && /does not unpack/.test(e.message));
    }
    const longer = new Uint8Array(message.proofs.packed.length + 1);
    longer.set(message.proofs.packed);
    assert.throws(() => fromCommitMessage({ ...message, proofs: { ...message.proofs, packed: longer } }), (e) => isSilkError(e, 'INTERNAL'));
  });
});
