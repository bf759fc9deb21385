import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { isSilkError } from '../errors.js';
import { allInclusionProofs, merkleLeafHash, packInclusionPath } from '../ledger/merkle.js';
import { fromCommitMessage, toCommitMessage } from './commit-message.js';
import { toStoredCommit } from './ledger-commit.js';
import { storedTxProofs } from './receipt-hashes.js';
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

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const plainProofs = (txs: BlockCommit['proofs']['txs']): unknown => txs.map((t) => [hex(t.envelopeHash), hex(t.leafHash), hex(t.path)]);

describe('commit message to a writer thread', () => {
  it('carries the receipt hashes through a thread boundary, from which every path is derived again', async () => {
    // 13 leaves: paths of 4 hashes and the last leaf's of 2.
    const c = commitOf(13);
    const before = plainProofs(c.proofs.txs);
    const { message, transfer } = toCommitMessage(toStoredCommit(c));
    assert.equal(message.receipts.hashes.length, 13 * 64, 'two hashes a transaction, no paths');
    // Through a real structured clone with the transfer, as postMessage does.
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<unknown>((resolve) => port2.once('message', resolve));
    port1.postMessage(message, transfer);
    const back = fromCommitMessage((await received) as typeof message);
    port1.close();
    port2.close();
    assert.equal(message.receipts.hashes.length, 0, 'the buffer was moved, not copied');
    assert.deepEqual(plainProofs(storedTxProofs(back.receipts.hashes, back.codes.length, back.number)), before);
    assert.deepEqual(plainProofs(c.proofs.txs), before, 'the caller\'s receipt material is untouched');
    assert.equal('proofs' in back, false, 'the paths do not travel');
    assert.deepEqual(back.txIndex, c.txIndex);
    assert.deepEqual(back.writes, c.writes);
    assert.equal(back.number, 7);
  });

  it('carries a block of one transaction (an empty path) and an empty block', () => {
    for (const n of [0, 1]) {
      const c = commitOf(n);
      const back = fromCommitMessage(toCommitMessage(toStoredCommit(c)).message);
      assert.deepEqual(plainProofs(storedTxProofs(back.receipts.hashes, n, 7)), plainProofs(c.proofs.txs));
    }
  });

  it('refuses hashes that are not 32 bytes, and stored hashes of another length than the block', () => {
    const c = commitOf(3);
    const odd = { ...c, proofs: { ...c.proofs, txs: [{ ...c.proofs.txs[0]!, leafHash: bytes(33) }] } };
    assert.throws(() => toStoredCommit(odd), (e) => isSilkError(e, 'INTERNAL') && /tx 0/.test(e.message));
    const stored = toStoredCommit(c);
    for (const wrong of [stored.receipts.hashes.subarray(0, 3 * 64 - 1), new Uint8Array(0), new Uint8Array(3 * 64 + 1)]) {
      assert.throws(() => fromCommitMessage({ ...stored, receipts: { ...stored.receipts, hashes: wrong } }), (e) => isSilkError(e, 'INTERNAL') && /receipt material of 3 transactions/.test(e.message));
    }
    const shared = new Uint8Array(4 * 64).subarray(64);
    assert.throws(() => toCommitMessage({ ...stored, receipts: { ...stored.receipts, hashes: shared } }), (e) => isSilkError(e, 'INTERNAL') && /cannot be moved/.test(e.message));
  });
});
