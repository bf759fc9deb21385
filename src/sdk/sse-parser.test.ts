import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSseParser, type SseEvent } from './sse-parser.js';

interface Collected {
  events: SseEvent[];
  retries: number[];
  comments: string[];
  lastEventId: () => string;
}

/** Parses `chunks` in order and collects what the parser reports. */
function parse(chunks: readonly string[], lastEventId?: string): Collected {
  const events: SseEvent[] = [];
  const retries: number[] = [];
  const comments: string[] = [];
  const parser = createSseParser({ onEvent: (e) => events.push(e), onRetry: (ms) => retries.push(ms), onComment: (c) => comments.push(c) }, lastEventId);
  for (const c of chunks) parser.feed(c);
  return { events, retries, comments, lastEventId: () => parser.lastEventId };
}

/** The node's own framing: contract events without id, then the block with its number as id. */
const NODE_STREAM = [
  'retry: 2000',
  '',
  'event: contract',
  'data: {"block":1,"name":"AssetCreated"}',
  '',
  'id: 1',
  'event: block',
  'data: {"number":1}',
  '',
  ': keep-alive',
  '',
  'id: 2',
  'event: block',
  'data: {"number":2}',
  '',
  '',
].join('\n');

describe('SSE parser', () => {
  it('reads the node framing: event types, data, ids, retry and heartbeats', () => {
    const r = parse([NODE_STREAM]);
    assert.deepEqual(r.events, [
      { type: 'contract', data: '{"block":1,"name":"AssetCreated"}', lastEventId: '' },
      { type: 'block', data: '{"number":1}', lastEventId: '1' },
      { type: 'block', data: '{"number":2}', lastEventId: '2' },
    ]);
    assert.deepEqual(r.retries, [2000]);
    assert.deepEqual(r.comments, ['keep-alive']);
    assert.equal(r.lastEventId(), '2');
  });

  it('gives the same events however the bytes are split, including a CR LF split in two', () => {
    const crlf = NODE_STREAM.replaceAll('\n', '\r\n');
    const whole = parse([crlf]).events;
    assert.equal(whole.length, 3);
    const oneByOne = parse(Array.from({ length: crlf.length }, (_, i) => crlf.slice(i, i + 1))).events;
    assert.deepEqual(oneByOne, whole);
    // Split right after every CR: a parser that saw "\r" then "\n" as two line ends would
    // dispatch early and mangle data.
    const atCr = crlf.split(/(?<=\r)/);
    assert.ok(atCr.length > 10);
    assert.deepEqual(parse(atCr).events, whole);
    assert.deepEqual(parse(['data: a\r', '\ndata: b\r\n\r\n']).events, [{ type: 'message', data: 'a\nb', lastEventId: '' }]);
  });

  it('accepts CR alone and LF alone as line ends', () => {
    assert.deepEqual(parse(['data: x\rdata: y\r\rdata: z\n\n']).events.map((e) => e.data), ['x\ny', 'z']);
  });

  it('joins multi-line data with LF and keeps empty data lines', () => {
    const r = parse(['data: first\ndata:second\ndata\ndata:  indented\n\n']);
    assert.deepEqual(r.events, [{ type: 'message', data: 'first\nsecond\n\n indented', lastEventId: '' }]);
  });

  it('keeps the last id for later events, ignores an id with NUL, and lets an id alone move it without an event', () => {
    const r = parse(['id: 7\ndata: a\n\ndata: b\n\nid: 8\0x\ndata: c\n\nid: 9\n\n']);
    assert.deepEqual(r.events.map((e) => [e.data, e.lastEventId]), [['a', '7'], ['b', '7'], ['c', '7']]);
    assert.equal(r.lastEventId(), '9');
    assert.deepEqual(parse(['data: d\n\n'], '41').events[0]?.lastEventId, '41', 'an id carried over from an earlier connection');
    assert.equal(parse(['id\ndata: e\n\n'], '41').events[0]?.lastEventId, '', 'an empty id resets it');
  });

  it('dispatches nothing for an event without data, and resets its type', () => {
    const r = parse(['event: block\n\ndata: x\n\n']);
    assert.deepEqual(r.events, [{ type: 'message', data: 'x', lastEventId: '' }]);
  });

  it('ignores unknown fields, comments and a retry that is not all digits', () => {
    const r = parse([':hello\nfoo: bar\nretry: 1.5\nretry: 10s\ndata: x\n\n']);
    assert.deepEqual(r.events.map((e) => e.data), ['x']);
    assert.deepEqual(r.retries, []);
    assert.deepEqual(r.comments, ['hello']);
  });

  it('discards an event the stream ended in the middle of', () => {
    assert.deepEqual(parse(['data: complete\n\ndata: cut off\n']).events.map((e) => e.data), ['complete']);
  });

  it('strips a byte order mark at the start only', () => {
    assert.deepEqual(parse(['\uFEFFdata: x\n\n']).events.map((e) => e.data), ['x']);
    assert.deepEqual(parse(['data: x\n\n', '\uFEFFdata: y\n\n']).events.map((e) => e.data), ['x'], 'a later BOM makes an unknown field');
  });
});
