import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SilkError } from '../errors.js';
import { createBlockSequencer, type BlockSequencer } from './block-subscription.js';
import type { SseEvent } from './sse-parser.js';

const block = (n: number): SseEvent => ({ type: 'block', data: JSON.stringify({ chain: 'trade', number: n, hash: `h${n}`, timestamp: n, commitHash: `c${n}`, transactions: [] }), lastEventId: String(n) });
const contract = (b: number, name: string, lastEventId = String(b - 1)): SseEvent => ({ type: 'contract', data: JSON.stringify({ chain: 'trade', block: b, txId: 'ab', tx: 0, contract: 'basic', name, payload: {} }), lastEventId });

function recorder(): { seq: BlockSequencer; log: string[]; errors: SilkError[] } {
  const log: string[] = [];
  const errors: SilkError[] = [];
  const seq = createBlockSequencer({
    onBlock: (b) => log.push(`block ${b.number}`),
    onContractEvent: (e) => log.push(`event ${e.block} ${e.name}`),
    onError: (e) => errors.push(e),
  });
  return { seq, log, errors };
}

describe('block sequencer (exactly-once delivery across reconnections)', () => {
  it('holds contract events until their block arrives, then delivers them before it', () => {
    const { seq, log } = recorder();
    seq.accept(contract(1, 'A'));
    seq.accept(contract(1, 'B'));
    assert.deepEqual(log, [], 'nothing before the block message closes block 1');
    seq.accept(block(1));
    assert.deepEqual(log, ['event 1 A', 'event 1 B', 'block 1']);
    assert.equal(seq.lastBlock, 1);
  });

  it('drops events of a block cut off by a dropped connection, and delivers them once when it is resent', () => {
    const { seq, log } = recorder();
    seq.accept(block(4));
    seq.accept(contract(5, 'A'));
    seq.reset();
    // The reconnection resumes after block 4: block 5 comes again, complete.
    seq.accept(contract(5, 'A'));
    seq.accept(block(5));
    assert.deepEqual(log, ['block 4', 'event 5 A', 'block 5']);
  });

  it('ignores blocks and events it has already delivered', () => {
    const { seq, log } = recorder();
    seq.accept(contract(1, 'A'));
    seq.accept(block(1));
    seq.accept(contract(1, 'A'));
    seq.accept(block(1));
    seq.accept(block(2));
    assert.deepEqual(log, ['event 1 A', 'block 1', 'block 2']);
  });

  it('reports blocks the stream skipped, from the expected start or after the last block', () => {
    const { seq, log, errors } = recorder();
    seq.startAt(3);
    seq.accept(block(4));
    seq.accept(block(7));
    assert.deepEqual(log, ['block 4', 'block 7']);
    assert.deepEqual(errors.map((e) => [e.code, e.message]), [['BAD_RESPONSE', 'the node skipped block 3'], ['BAD_RESPONSE', 'the node skipped blocks 5..6']]);
  });

  it('reports a handler that throws and goes on with the next block', () => {
    const errors: SilkError[] = [];
    const seen: number[] = [];
    const seq = createBlockSequencer({
      onBlock: (b) => {
        seen.push(b.number);
        if (b.number === 1) throw new Error('disk full');
      },
      onError: (e) => errors.push(e),
    });
    seq.accept(block(1));
    seq.accept(block(2));
    assert.deepEqual(seen, [1, 2]);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /block 1: disk full/);
  });

  it('reports data that is not JSON and delivers nothing for it', () => {
    const { seq, log, errors } = recorder();
    seq.accept({ type: 'block', data: 'not json', lastEventId: '1' });
    seq.accept({ type: 'contract', data: '{"name":"x"}', lastEventId: '' });
    assert.deepEqual(log, []);
    assert.deepEqual(errors.map((e) => e.code), ['BAD_RESPONSE', 'BAD_RESPONSE']);
  });
});
