import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openTestApi, type TestApi } from '../testing/api-fixtures.js';

interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/** Reads an SSE stream until `until` says stop, then aborts the connection. */
async function readEvents(url: string, until: (m: SseMessage, all: SseMessage[]) => boolean, headers: Record<string, string> = {}): Promise<{ messages: SseMessage[]; status: number; contentType: string | null }> {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  const messages: SseMessage[] = [];
  if (res.body === null) return { messages, status: res.status, contentType: res.headers.get('content-type') };
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const m: SseMessage = { event: 'message', data: '' };
        let fields = 0;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const i = line.indexOf(':');
          const name = i < 0 ? line : line.slice(0, i);
          const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
          if (name === 'id') m.id = value;
          else if (name === 'event') m.event = value;
          else if (name === 'data') m.data += value;
          else continue;
          fields++;
        }
        if (fields === 0 || m.data === '') continue;
        messages.push(m);
        if (until(m, messages)) {
          abort.abort();
          return { messages, status: res.status, contentType: res.headers.get('content-type') };
        }
      }
    }
  } catch (e) {
    if ((e as Error).name !== 'AbortError') throw e;
  }
  return { messages, status: res.status, contentType: res.headers.get('content-type') };
}

describe('SSE events', () => {
  let t: TestApi;
  const create = async (id: string): Promise<void> => {
    await t.net.gateway('Org1').submit({ chain: 'trade', contract: 'basic', fn: 'createAsset', args: { id, owner: 'alice', colour: 'red', size: 1, appraisedValue: 1 } }, t.net.identity('Org1', 'alice'));
  };

  before(async () => {
    t = await openTestApi();
    for (let i = 0; i < 3; i++) await create(`first-${i}`);
  });
  after(async () => {
    await t.close();
  });

  it('streams stored then live blocks, with each block\'s contract events before it', async () => {
    const height = t.net.peer('peer0.org1').height('trade');
    const reading = readEvents(`${t.url}/api/chains/trade/events?from=0`, (m) => m.event === 'block' && m.id === String(height));
    setTimeout(() => void create('live-0'), 200);
    const { messages, status, contentType } = await reading;
    assert.equal(status, 200);
    assert.match(contentType ?? '', /text\/event-stream/);
    const blocks = messages.filter((m) => m.event === 'block').map((m) => Number(m.id));
    assert.deepEqual(blocks, Array.from({ length: height + 1 }, (_, i) => i));
    const live = messages.findIndex((m) => m.event === 'contract' && (JSON.parse(m.data) as { payload: { id: string } }).payload.id === 'live-0');
    assert.ok(live >= 0, 'the live block\'s contract event arrived');
    assert.equal(messages[live + 1]?.event, 'block');
    assert.equal(messages[live + 1]?.id, String(height));
    const event = JSON.parse(messages[live]?.data ?? '{}') as { name: string; contract: string; block: number };
    assert.deepEqual({ name: event.name, contract: event.contract, block: event.block }, { name: 'AssetCreated', contract: 'basic', block: height });
  });

  it('resumes after a disconnect from Last-Event-ID: every block and event exactly once', async () => {
    const first = await readEvents(`${t.url}/api/chains/trade/events?from=0`, (m) => m.event === 'block' && m.id === '2');
    const lastId = first.messages.filter((m) => m.id !== undefined).at(-1)?.id;
    assert.equal(lastId, '2');
    // Blocks committed while the client is away.
    for (let i = 0; i < 3; i++) await create(`away-${i}`);
    const height = t.net.peer('peer0.org1').height('trade');
    const second = await readEvents(`${t.url}/api/chains/trade/events`, (m) => m.event === 'block' && m.id === String(height - 1), { 'last-event-id': lastId });
    const all = [...first.messages, ...second.messages];
    const blocks = all.filter((m) => m.event === 'block').map((m) => Number(m.id));
    assert.deepEqual(blocks, Array.from({ length: height }, (_, i) => i), 'each block once, in order');
    const created = all.filter((m) => m.event === 'contract').map((m) => (JSON.parse(m.data) as { payload: { id: string } }).payload.id);
    assert.equal(new Set(created).size, created.length, 'no contract event twice');
    for (const id of ['first-0', 'first-1', 'first-2', 'live-0', 'away-0', 'away-1', 'away-2']) assert.ok(created.includes(id), `event for ${id}`);
  });

  it('sends only block messages when asked, and refuses a bad Last-Event-ID or unknown chain', async () => {
    const only = await readEvents(`${t.url}/api/chains/trade/events?from=0&types=block`, (_m, all) => all.length === 3);
    assert.deepEqual(only.messages.map((m) => m.event), ['block', 'block', 'block']);
    const bad = await fetch(`${t.url}/api/chains/trade/events`, { headers: { 'last-event-id': 'yesterday' } });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'INVALID_ARGUMENT');
    const unknown = await fetch(`${t.url}/api/chains/nowhere/events`);
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'UNKNOWN_CHAIN');
  });

  it('ends open streams when the server closes, so shutdown does not hang', async () => {
    const t2 = await openTestApi();
    const res = await fetch(`${t2.url}/api/chains/trade/events?from=0`);
    const reader = res.body?.getReader();
    await reader?.read();
    const closing = t2.close();
    let ended = false;
    while (!ended) ended = (await reader?.read())?.done ?? true;
    await closing;
    assert.ok(ended);
  });
});
