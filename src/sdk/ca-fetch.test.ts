import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { generateSigner } from '../crypto/p256.js';
import { isSilkError } from '../errors.js';
import { openTlsFixture, type TlsFixture } from '../distributed/tls-fixtures.js';
import { issueOrgCa } from '../distributed/tls-pki.js';
import { caBundle, caFetch, CONNECT_TIMEOUT } from './ca-fetch.js';
import { connect } from './index.js';

/** The `api` certificate of the fixture's network, as the bootstrap writes it. */
function apiCredentials(fx: TlsFixture): { cert: string; key: string } {
  const files = fx.files.processes['api']?.tls;
  assert.ok(files !== undefined);
  return { cert: readFileSync(files.certFile, 'utf8'), key: readFileSync(files.keyFile, 'utf8') };
}

describe('connect({ ca }): the CA bundle option', () => {
  let fx: TlsFixture;
  let server: Server;
  let base: string;
  let bundle: string;
  const seen: { method?: string; body?: string; type?: string }[] = [];

  before(async () => {
    fx = await openTlsFixture();
    bundle = readFileSync(fx.files.caBundleFile, 'utf8');
    server = createServer({ ...apiCredentials(fx), minVersion: 'TLSv1.2' }, (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      req.on('end', () => {
        seen.push({ ...(req.method === undefined ? {} : { method: req.method }), body, ...(req.headers['content-type'] === undefined ? {} : { type: req.headers['content-type'] }) });
        if (req.url?.startsWith('/api/slow/') === true) return; // never answers
        const answer = (): void => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: 'ok', chains: {} }));
        };
        if (req.url?.startsWith('/api/late/') === true) setTimeout(answer, 400);
        else answer();
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
    fx.cleanup();
  });

  it('reaches an https node whose certificate the bundle issued, as a string or a Buffer', async () => {
    assert.equal((await connect({ url: base, ca: bundle }).health()).status, 'ok');
    assert.equal((await connect({ url: base, ca: Buffer.from(bundle) }).health()).status, 'ok');
    // A POST carries its JSON body (as evaluate and submit send theirs).
    seen.length = 0;
    await connect({ url: base, ca: bundle }).query('trade', 'basic', { selector: { owner: 'a' } });
    assert.deepEqual(seen, [{ method: 'POST', body: JSON.stringify({ selector: { owner: 'a' } }), type: 'application/json' }]);
  });

  it('without the bundle, or with another CA, the certificate is not trusted: UNREACHABLE naming the URL, reason untrusted-certificate', async () => {
    const other = await issueOrgCa({ org: 'Elsewhere', signer: generateSigner() });
    for (const ca of [undefined, other.certificatePem]) {
      await assert.rejects(connect({ url: base, ...(ca === undefined ? {} : { ca }) }).health(), (e: unknown) => {
        assert.ok(isSilkError(e, 'UNREACHABLE'), String(e));
        assert.equal(e.details.reason, 'untrusted-certificate');
        assert.match(e.message, new RegExp(`^GET ${base.replaceAll('.', '\\.')}/api/health: the node's TLS certificate is not trusted \\([A-Z_]+\\)`));
        return true;
      });
    }
  });

  it('checks the host name: a loopback api certificate names 127.0.0.1 and localhost, not another address of the host', async () => {
    assert.equal((await connect({ url: base.replace('127.0.0.1', 'localhost'), ca: bundle }).health()).status, 'ok');
    // The same certificate served at another loopback address, which it does not name.
    const elsewhere = createServer(apiCredentials(fx), (_req, res) => { res.end('{}'); });
    await new Promise<void>((done) => elsewhere.listen(0, '127.0.0.2', done));
    try {
      const other = `https://127.0.0.2:${(elsewhere.address() as AddressInfo).port}`;
      await assert.rejects(connect({ url: other, ca: bundle }).health(), (e: unknown) => isSilkError(e, 'UNREACHABLE') && e.details.reason === 'certificate-name' && /does not name this host/.test(e.message));
    } finally {
      elsewhere.closeAllConnections();
      await new Promise((done) => elsewhere.close(done));
    }
  });

  it('applies the time limit: no answer in time is UNREACHABLE', async () => {
    const started = Date.now();
    const slow = connect({ url: `${base}/api/slow`, ca: bundle, timeoutMs: 300 });
    await assert.rejects(slow.health(), (e: unknown) => isSilkError(e, 'UNREACHABLE') && /no answer within 300 ms/.test(e.message));
    assert.ok(Date.now() - started < 5_000);
  });

  it('a node that accepts the TCP connection but never completes TLS fails CONNECT_TIMEOUT after connectTimeoutMs, and the client moves on to the next node', async () => {
    // A host that takes connections and says nothing: what a half-dead or black-holed node looks like.
    const held: Socket[] = [];
    const silent = createTcpServer((socket) => { held.push(socket); });
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    try {
      const silentUrl = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const started = Date.now();
      await assert.rejects(caFetch(bundle, { connectTimeoutMs: 300 })(`${silentUrl}/api/health`), (e: unknown) => {
        assert.ok(e instanceof TypeError);
        assert.equal((e.cause as { code?: string }).code, CONNECT_TIMEOUT);
        return true;
      });
      const took = Date.now() - started;
      assert.ok(took >= 250 && took < 3_000, `failed after ${took} ms`);
      // The SDK: UNREACHABLE with reason connect-timeout, long before the 60 s request limit.
      await assert.rejects(connect({ url: silentUrl, ca: bundle, connectTimeoutMs: 300 }).health(), (e: unknown) => isSilkError(e, 'UNREACHABLE') && e.details.reason === 'connect-timeout' && /did not accept a connection in time \(no connection within 300 ms/.test(e.message));
      // With a fallback, the call is answered by the next node.
      const client = connect({ url: silentUrl, fallbackUrls: [base], ca: bundle, connectTimeoutMs: 300 });
      const before = Date.now();
      assert.equal((await client.health()).status, 'ok');
      assert.ok(Date.now() - before < 3_000);
      assert.equal(client.url, base);
    } finally {
      for (const s of held) s.destroy();
      await new Promise((done) => silent.close(done));
    }
  });

  it('a kept-alive connection is reused without a connect limit: idle, then a request slower than it', async () => {
    let connections = 0;
    const counted = (): void => { connections++; };
    server.on('secureConnection', counted);
    try {
      const fetch = caFetch(bundle, { connectTimeoutMs: 200 });
      assert.equal((await fetch(`${base}/api/health`)).status, 200);
      await new Promise((done) => setTimeout(done, 400));
      // Answered after 400 ms, twice the connect limit, over the connection opened before.
      const again = await fetch(`${base}/api/late/health`);
      assert.equal(again.status, 200);
      await again.arrayBuffer();
      assert.equal(connections, 1, 'the second request went over the first connection');
    } finally {
      server.off('secureConnection', counted);
    }
  });

  it('refuses a connect limit that is not a positive whole number, or one without ca', () => {
    for (const connectTimeoutMs of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => connect({ url: base, ca: bundle, connectTimeoutMs }), (e: unknown) => isSilkError(e, 'INVALID_ARGUMENT') && e.details.path === 'connectTimeoutMs', String(connectTimeoutMs));
    }
    assert.throws(() => connect({ url: 'http://127.0.0.1:1', connectTimeoutMs: 1_000 }), (e: unknown) => isSilkError(e, 'INVALID_ARGUMENT') && /connections made with ca/.test(e.message));
  });

  it('refuses a bundle that is not PEM certificates, or ca together with fetch', () => {
    const pemBody = bundle.split('\n').slice(1, 3).join('\n');
    const cases: [unknown, RegExp][] = [
      ['hello', /^ca holds no PEM certificate/],
      [Buffer.from('not a certificate'), /^ca holds no PEM certificate/],
      [`-----BEGIN CERTIFICATE-----\n${pemBody.slice(0, 40)}\n-----END CERTIFICATE-----\n`, /^certificate 1 of ca does not parse/],
      [`${bundle}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`, /^certificate 3 of ca does not parse/],
      [42, /^ca must be PEM text/],
    ];
    for (const [ca, message] of cases) {
      assert.throws(() => connect({ url: base, ca: ca as string }), (e: unknown) => isSilkError(e, 'INVALID_ARGUMENT') && e.details.path === 'ca' && message.test(e.message), String(ca));
    }
    assert.throws(() => connect({ url: base, ca: bundle, fetch }), (e: unknown) => isSilkError(e, 'INVALID_ARGUMENT') && /either ca or fetch/.test(e.message));
    // Both org CAs of the bundle are kept, in order.
    assert.equal(caBundle(bundle).match(/BEGIN CERTIFICATE/g)?.length, 2);
  });
});
