import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { openTlsFixture, type TlsFixture } from '../distributed/tls-fixtures.js';
import { caFetch } from '../sdk/ca-fetch.js';
import { openTestApi, type TestApi } from '../testing/api-fixtures.js';
import { plainHttpRefusal } from './plain-http-answer.js';

/** Sends raw bytes over TCP; resolves with every byte answered once the server closes the connection. */
function rawExchange(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port }, () => { socket.write(bytes); });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => { resolve(Buffer.concat(chunks).toString('latin1')); });
    socket.on('error', reject);
    socket.setTimeout(5_000, () => { socket.destroy(new Error('the server kept the connection open')); });
  });
}

interface Refusal { readonly status: number; readonly error: { code: string; message: string; url?: string } }

function parseRefusal(text: string): Refusal {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
  assert.match(head, /\r\nconnection: close/i);
  assert.match(head, /\r\ncontent-type: application\/json/i);
  return { status, ...(JSON.parse(body) as { error: Refusal['error'] }) };
}

describe('plain HTTP to an HTTPS address: HTTPS_REQUIRED instead of a silent close', () => {
  let fx: TlsFixture;
  let t: TestApi;
  let port: number;

  before(async () => {
    fx = await openTlsFixture();
    const files = fx.files.processes['api']?.tls;
    assert.ok(files !== undefined);
    t = await openTestApi({ server: { https: { cert: readFileSync(files.certFile, 'utf8'), key: readFileSync(files.keyFile, 'utf8') } } });
    port = Number(new URL(t.url).port);
  });
  after(async () => {
    await t.close();
    fx.cleanup();
  });

  it('the https address serves the API to a client trusting the bundle', async () => {
    assert.match(t.url, /^https:\/\//);
    const response = await caFetch(readFileSync(fx.files.caBundleFile, 'utf8'))(`${t.url}/api/health`);
    assert.equal(response.status, 200);
  });

  it('a plain GET is answered 400 HTTPS_REQUIRED naming the https URL, and the connection closed', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/api/chains/trade?x=1`);
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { code: string; url: string; message: string } };
    assert.equal(body.error.code, 'HTTPS_REQUIRED');
    assert.equal(body.error.url, `https://127.0.0.1:${port}/api/chains/trade?x=1`);
    assert.match(body.error.message, /serves HTTPS only: send it to https:\/\/127\.0\.0\.1:\d+\/api\/chains\/trade\?x=1, trusting the alliance's CA bundle/);
  });

  it('a plain POST with a body gets the same answer, and nothing of it reaches the API', async () => {
    const before = t.net.peers[0]?.height('trade');
    const body = JSON.stringify({ proposal: 'AAAA', signature: 'AAAA' });
    const text = await rawExchange(port, `POST /api/chains/trade/transactions HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const refusal = parseRefusal(text);
    assert.deepEqual([refusal.status, refusal.error.code, refusal.error.url], [400, 'HTTPS_REQUIRED', `https://127.0.0.1:${port}/api/chains/trade/transactions`]);
    assert.equal(t.net.peers[0]?.height('trade'), before);
  });

  it('bytes that are neither TLS nor HTTP get the connection closed, with no answer', async () => {
    assert.equal(await rawExchange(port, Buffer.from([0x00, 0x01, 0x02, 0xff, 0x0a])), '');
  });

  it('the https address still works after plain clients were turned away', async () => {
    const response = await caFetch(readFileSync(fx.files.caBundleFile, 'utf8'))(`${t.url}/api/health`);
    assert.equal(response.status, 200);
  });
});

describe('plainHttpRefusal', () => {
  it('quotes the Host header and the path as the https URL', () => {
    const text = plainHttpRefusal(Buffer.from('GET /api/health HTTP/1.1\r\nhost: peer0.org1.example:7051\r\n\r\n'));
    assert.ok(text !== undefined);
    const refusal = parseRefusal(text);
    assert.deepEqual([refusal.status, refusal.error.code, refusal.error.url], [400, 'HTTPS_REQUIRED', 'https://peer0.org1.example:7051/api/health']);
  });

  it('names no URL when the Host header is missing or holds what a URL must not', () => {
    for (const request of ['GET / HTTP/1.0\r\n\r\n', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', `GET / HTTP/1.1\r\nHost: ${'h'.repeat(600)}\r\n\r\n`]) {
      const text = plainHttpRefusal(Buffer.from(request));
      assert.ok(text !== undefined, request);
      const refusal = parseRefusal(text);
      assert.equal(refusal.error.code, 'HTTPS_REQUIRED');
      assert.equal(refusal.error.url, undefined, request);
      assert.match(refusal.error.message, /send the request over https at the same host and port/);
    }
  });

  it('answers / for a request target that is not a path', () => {
    const text = plainHttpRefusal(Buffer.from('GET http://evil.example/x HTTP/1.1\r\nHost: 10.0.0.5:7051\r\n\r\n'));
    assert.equal(parseRefusal(text ?? '').error.url, 'https://10.0.0.5:7051/');
  });

  it('is undefined for bytes that are not an HTTP request line', () => {
    for (const bytes of [Buffer.from([0x16, 0x03, 0x01]), Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'), Buffer.from('get / HTTP/1.1\r\n'), Buffer.alloc(0)]) {
      assert.equal(plainHttpRefusal(bytes), undefined, bytes.toString('latin1'));
    }
  });
});
