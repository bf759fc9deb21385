import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSilkError, SilkError } from '../errors.js';
import { createBroadcastBatcher, type BroadcastBatch } from './broadcast-batcher.js';
import { BROADCAST_BATCH_MAX_ENVELOPES, broadcastBatchHeaderBytes, decodeBroadcastBatch, encodeBroadcastBatch, outcomesOfBatchAnswer, type BroadcastOutcome } from './orderer-wire.js';

/** An envelope whose bytes say which one it is (first byte), `size` bytes long. */
const envelope = (n: number, size = 8): Uint8Array => new Uint8Array(size).fill(n);

/** A position that names the envelope it answers, so a caller can tell it got its own. */
const positionOf = (e: Uint8Array): BroadcastOutcome => ({ position: { block: e[0] as number, index: e.length } });

/** Records every batch sent and answers each envelope with its own position. */
function recordingSend(): { batches: BroadcastBatch[]; send: (batch: BroadcastBatch) => Promise<BroadcastOutcome[]> } {
  const batches: BroadcastBatch[] = [];
  return { batches, send: (batch) => { batches.push(batch); return Promise.resolve(batch.envelopes.map(positionOf)); } };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('the broadcast batcher', () => {
  it('sends the envelopes submitted in one turn in one batch, and gives each caller its own result', async () => {
    const { batches, send } = recordingSend();
    const batcher = createBroadcastBatcher({ send });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => batcher.submit('trade', envelope(i, 8 + i))));
    assert.equal(batches.length, 1);
    const [batch] = batches;
    assert.ok(batch !== undefined);
    assert.equal(batch.chain, 'trade');
    assert.equal(batch.envelopes.length, 20);
    assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => ({ block: i, index: 8 + i })));
  });

  it('keeps a batch open for the window across turns, then starts a new one', async () => {
    const { batches, send } = recordingSend();
    const batcher = createBroadcastBatcher({ send, windowMs: 100 });
    const first = batcher.submit('trade', envelope(1));
    await nextTurn();
    const second = batcher.submit('trade', envelope(2));
    await Promise.all([first, second]);
    assert.deepEqual(batches.map((b) => b.envelopes.length), [2], 'a later turn within the window joins the batch');
    await batcher.submit('trade', envelope(3));
    assert.deepEqual(batches.map((b) => b.envelopes.length), [2, 1], 'after the batch left, a new one');
  });

  it('keeps chains apart', async () => {
    const { batches, send } = recordingSend();
    const batcher = createBroadcastBatcher({ send });
    await Promise.all([batcher.submit('trade', envelope(1)), batcher.submit('audit', envelope(2)), batcher.submit('trade', envelope(3))]);
    assert.deepEqual(batches.map((b) => [b.chain, b.envelopes.map((e) => e[0])]).sort(), [['audit', [2]], ['trade', [1, 3]]]);
  });

  it('splits batches at the envelope cap, and at once, without waiting for the window', async () => {
    const { batches, send } = recordingSend();
    const batcher = createBroadcastBatcher({ send, maxEnvelopes: 3, windowMs: 1_000 });
    const started = Date.now();
    const results = Promise.all(Array.from({ length: 6 }, (_, i) => batcher.submit('trade', envelope(i))));
    assert.deepEqual(batches.map((b) => b.envelopes.map((e) => e[0])), [[0, 1, 2], [3, 4, 5]], 'both full batches left in the same turn');
    assert.deepEqual((await results).map((p) => p.block), [0, 1, 2, 3, 4, 5]);
    assert.ok(Date.now() - started < 500, 'full batches do not wait for the window');
    const last = batcher.submit('trade', envelope(6));
    batcher.flush();
    assert.equal((await last).block, 6);
    assert.deepEqual(batches.map((b) => b.envelopes.length), [3, 3, 1]);
  });

  it('splits batches at the byte cap, counted as the body the orderer reads', async () => {
    const { batches, send } = recordingSend();
    const perEnvelope = 4 + 10;
    const maxBytes = broadcastBatchHeaderBytes('trade') + 3 * perEnvelope;
    const batcher = createBroadcastBatcher({ send, maxBytes });
    await Promise.all(Array.from({ length: 7 }, (_, i) => batcher.submit('trade', envelope(i, 10))));
    assert.deepEqual(batches.map((b) => b.envelopes.length), [3, 3, 1]);
    for (const b of batches) assert.ok(encodeBroadcastBatch(b).length <= maxBytes, 'each body within the cap');
    // An envelope larger than the cap on its own leaves alone (the orderer gives its answer).
    await Promise.all([batcher.submit('trade', envelope(8, 10)), batcher.submit('trade', envelope(9, 200)), batcher.submit('trade', envelope(10, 10))]);
    assert.deepEqual(batches.slice(3).map((b) => b.envelopes.map((e) => e[0])), [[8], [9], [10]]);
  });

  it('rejects only the caller whose envelope met an error', async () => {
    const refusal = new SilkError('BAD_SIGNATURE', 'the submitter signature does not verify');
    const batcher = createBroadcastBatcher({ send: (batch) => Promise.resolve(batch.envelopes.map((e) => (e[0] === 2 ? { error: refusal } : positionOf(e)))) });
    const settled = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit('trade', envelope(n))));
    assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.equal((settled[1] as PromiseRejectedResult).reason, refusal);
  });

  it('rejects every caller of a batch whose POST failed with that error, and no other caller', async () => {
    const down = new SilkError('UNREACHABLE', 'orderer at http://127.0.0.1:1 could not be reached');
    let calls = 0;
    const batcher = createBroadcastBatcher({ send: (batch) => (++calls === 1 ? Promise.reject(down) : Promise.resolve(batch.envelopes.map(positionOf))) });
    const failed = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit('trade', envelope(n))));
    assert.deepEqual(failed.map((s) => s.status === 'rejected' && s.reason === down), [true, true, true]);
    assert.equal((await batcher.submit('trade', envelope(4))).block, 4, 'the next batch is unaffected');
  });

  it('rejects every caller when the answer does not hold one outcome per envelope, or send throws', async () => {
    const short = createBroadcastBatcher({ send: (batch) => Promise.resolve(batch.envelopes.slice(1).map(positionOf)) });
    const settled = await Promise.allSettled([1, 2].map((n) => short.submit('trade', envelope(n))));
    assert.ok(settled.every((s) => s.status === 'rejected' && isSilkError(s.reason, 'BAD_RESPONSE')));
    const throwing = createBroadcastBatcher({ send: () => { throw new SilkError('INVALID_ARGUMENT', 'no'); } });
    await assert.rejects(throwing.submit('trade', envelope(1)), (e: unknown) => isSilkError(e, 'INVALID_ARGUMENT'));
  });

  it('sends the next batch while the previous one is unanswered', async () => {
    const answers: (() => void)[] = [];
    const sent: number[] = [];
    const batcher = createBroadcastBatcher({
      send: (batch) => new Promise((resolve) => {
        sent.push(batch.envelopes.length);
        answers.push(() => { resolve(batch.envelopes.map(positionOf)); });
      }),
    });
    const first = batcher.submit('trade', envelope(1));
    await sleep(20);
    assert.deepEqual(sent, [1], 'the first batch left');
    const second = Promise.all([batcher.submit('trade', envelope(2)), batcher.submit('trade', envelope(3))]);
    await sleep(20);
    assert.deepEqual(sent, [1, 2], 'the second batch left before the first was answered');
    answers[1]?.();
    assert.deepEqual((await second).map((p) => p.block), [2, 3], 'the second is answered first');
    answers[0]?.();
    assert.equal((await first).block, 1);
  });

  it('carries the latest deadline its callers gave', async () => {
    const { batches, send } = recordingSend();
    const batcher = createBroadcastBatcher({ send });
    await Promise.all([batcher.submit('trade', envelope(1), 5_000), batcher.submit('trade', envelope(2), 9_000), batcher.submit('trade', envelope(3))]);
    await batcher.submit('trade', envelope(4));
    assert.deepEqual(batches.map((b) => b.deadline), [9_000, undefined]);
  });

  it('on close, rejects the envelopes not sent yet and every later one; batches in flight finish', async () => {
    const answers: (() => void)[] = [];
    const batcher = createBroadcastBatcher({ send: (batch) => new Promise((resolve) => { answers.push(() => { resolve(batch.envelopes.map(positionOf)); }); }), windowMs: 50 });
    const inFlight = batcher.submit('trade', envelope(1));
    batcher.flush();
    const waiting = batcher.submit('trade', envelope(2));
    const closed = new SilkError('ORDERING_UNAVAILABLE', 'the orderer client is closed', { reason: 'closed' });
    batcher.close(closed);
    await assert.rejects(waiting, (e: unknown) => e === closed);
    await assert.rejects(batcher.submit('trade', envelope(3)), (e: unknown) => e === closed);
    assert.equal(answers.length, 1, 'only the flushed batch was sent');
    answers[0]?.();
    assert.equal((await inFlight).block, 1);
  });

  it('refuses caps outside what the orderer takes', () => {
    const { send } = recordingSend();
    for (const options of [{ maxEnvelopes: 0 }, { maxEnvelopes: BROADCAST_BATCH_MAX_ENVELOPES + 1 }, { maxBytes: 256 * 1024 + 1 }, { windowMs: -1 }, { windowMs: 1.5 }]) {
      assert.throws(() => createBroadcastBatcher({ send, ...options }), (e: unknown) => isSilkError(e, 'INVALID_ARGUMENT'), JSON.stringify(options));
    }
  });
});

describe('the broadcast batch body', () => {
  it('round-trips chain and envelopes, empty envelopes included', () => {
    const envelopes = [envelope(1, 3), new Uint8Array(0), envelope(2, 300)];
    const decoded = decodeBroadcastBatch(encodeBroadcastBatch({ chain: 'trade-2', envelopes }));
    assert.equal(decoded.chain, 'trade-2');
    assert.deepEqual(decoded.envelopes.map((e) => [...e]), envelopes.map((e) => [...e]));
  });

  it('refuses a broken framing as MALFORMED and a bad chain or count as INVALID_ARGUMENT, saying what is wrong', () => {
    const body = encodeBroadcastBatch({ chain: 'trade', envelopes: [envelope(1, 10), envelope(2, 10)] });
    const refused = (bytes: Uint8Array, code: 'MALFORMED' | 'INVALID_ARGUMENT', why: RegExp): void => {
      assert.throws(() => decodeBroadcastBatch(bytes), (e: unknown) => isSilkError(e, code) && why.test(e.message), `${code} ${String(why)}`);
    };
    refused(new Uint8Array(0), 'MALFORMED', /fewer than its header/);
    refused(Uint8Array.from([2, ...body.subarray(1)]), 'MALFORMED', /format byte is 2/);
    refused(body.subarray(0, 8), 'MALFORMED', /ends inside its header/);
    refused(body.subarray(0, body.length - 1), 'MALFORMED', /envelope 1 of 2 claims 10 bytes, past the end/);
    refused(body.subarray(0, 11 + 14), 'MALFORMED', /ends before envelope 1 of 2/);
    refused(Buffer.concat([body, Buffer.from([0])]), 'MALFORMED', /1 bytes follow its last envelope/);
    const badChain = Buffer.from(body);
    badChain[2] = 'T'.charCodeAt(0);
    refused(badChain, 'INVALID_ARGUMENT', /chain must be a chain name/);
    const tooMany = Buffer.from(body);
    tooMany.writeUInt32BE(BROADCAST_BATCH_MAX_ENVELOPES + 1, 7);
    refused(tooMany, 'INVALID_ARGUMENT', /1 to 1000 envelopes; this one holds 1001/);
    assert.throws(() => encodeBroadcastBatch({ chain: 'trade', envelopes: [] as Uint8Array[] }), (e: unknown) => isSilkError(e, 'INVALID_ARGUMENT'));
  });

  it('reads an answer into one outcome per envelope, and refuses an answer that does not fit', () => {
    const answer = { status: 200, body: { results: [{ block: 4, index: 0 }, { error: { code: 'BAD_SIGNATURE', message: 'the submitter signature does not verify' } }] } };
    const [ok, refused] = outcomesOfBatchAnswer(answer, 'http://o', 2);
    assert.deepEqual(ok, { position: { block: 4, index: 0 } });
    assert.ok(refused !== undefined && 'error' in refused && isSilkError(refused.error, 'BAD_SIGNATURE') && refused.error.httpStatus === 401);
    assert.throws(() => outcomesOfBatchAnswer(answer, 'http://o', 3), (e: unknown) => isSilkError(e, 'BAD_RESPONSE'));
    assert.throws(() => outcomesOfBatchAnswer({ status: 200, body: { results: [{ block: -1, index: 0 }] } }, 'http://o', 1), (e: unknown) => isSilkError(e, 'BAD_RESPONSE'));
    const [unknown] = outcomesOfBatchAnswer({ status: 200, body: { results: [{ error: null }] } }, 'http://o', 1);
    assert.ok(unknown !== undefined && 'error' in unknown && isSilkError(unknown.error, 'BAD_RESPONSE'));
  });
});
