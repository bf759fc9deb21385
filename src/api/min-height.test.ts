import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Signer } from '../crypto/p256.js';
import { openTestApi, type TestApi } from '../testing/api-fixtures.js';
import { MIN_HEIGHT_HEADER } from './wire.js';

const CHAIN = 'trade';
const WAIT_MS = 300;

interface Answer {
  readonly status: number;
  readonly body: { value?: unknown; status?: string; error?: { code: string; message: string; chain?: string; height?: number; minHeight?: number } };
  /** When the answer came, in ms after the request was sent. */
  readonly afterMs: number;
}

describe('Silk-Min-Height: reads at no fewer blocks than the client has seen', () => {
  let t: TestApi;
  let alice: Signer;

  before(async () => {
    t = await openTestApi({ server: { minHeightWaitMs: WAIT_MS } });
    alice = t.net.identity('Org1', 'alice');
  });
  after(async () => {
    await t.close();
  });

  const get = async (path: string, minHeight: string | undefined): Promise<Answer> => {
    const started = Date.now();
    const res = await fetch(`${t.url}${path}`, { headers: minHeight === undefined ? {} : { [MIN_HEIGHT_HEADER]: minHeight } });
    return { status: res.status, body: (await res.json()) as Answer['body'], afterMs: Date.now() - started };
  };
  const height = (): number => t.net.peers[0]!.height(CHAIN);
  const put = (key: string, value: string): Promise<unknown> => t.net.gateway('Org1').submit({ chain: CHAIN, contract: 'basic', fn: 'put', args: { key, value } }, alice);

  it('answers at once when the node holds the blocks asked for', async () => {
    await put('mh-1', 'one');
    const a = await get(`/api/chains/${CHAIN}/contracts/basic/state/kv:mh-1`, String(height()));
    assert.equal(a.status, 200);
    assert.equal(a.body.value, 'one');
  });

  it('waits for the next block when asked for it, and answers with what it wrote', async () => {
    await put('mh-2', 'before');
    const pending = get(`/api/chains/${CHAIN}/contracts/basic/state/kv:mh-2`, String(height() + 1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await put('mh-2', 'after');
    const a = await pending;
    assert.equal(a.status, 200);
    assert.equal(a.body.value, 'after', 'the read waited for the block that wrote it');
  });

  it('refuses with BEHIND, saying how far it is, when the blocks do not come within its wait', async () => {
    const h = height();
    const a = await get(`/api/chains/${CHAIN}/blocks`, String(h + 50));
    assert.equal(a.status, 503);
    assert.equal(a.body.error?.code, 'BEHIND');
    assert.deepEqual([a.body.error.chain, a.body.error.height, a.body.error.minHeight], [CHAIN, h, h + 50]);
    assert.match(a.body.error.message, /ask another node/);
    assert.ok(a.afterMs >= WAIT_MS - 20, `answered after ${a.afterMs} ms, before the ${WAIT_MS} ms wait`);
  });

  it('refuses a header that is not a block count, and leaves routes without a chain alone', async () => {
    for (const bad of ['-1', '1.5', 'ten', '99999999999999999']) {
      const a = await get(`/api/chains/${CHAIN}/blocks`, bad);
      assert.equal(a.status, 400, bad);
      assert.equal(a.body.error?.code, 'INVALID_ARGUMENT', bad);
      assert.match(a.body.error.message, /silk-min-height/);
    }
    const health = await get('/api/health', String(height() + 50));
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    const unknown = await get('/api/chains/nochain/blocks', '5');
    assert.equal(unknown.body.error?.code, 'UNKNOWN_CHAIN');
  });
});
