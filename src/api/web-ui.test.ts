import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { tempDir } from '../testing/fixtures.js';
import { sendError } from './error-reply.js';
import { registerWebUi } from './web-ui.js';

/** A script worth compressing. */
const BIG_SCRIPT = Array.from({ length: 400 }, (_, i) => `export const value${i} = 'the same few words again and again';`).join('\n');

/** A server with only the UI's routes, over `dir`. */
async function uiServer(dir: string): Promise<FastifyInstance> {
  const app = Fastify();
  app.setErrorHandler(sendError);
  registerWebUi(app, dir);
  await app.ready();
  return app;
}

describe('web UI serving', () => {
  const built = tempDir('silk-web-');
  const empty = tempDir('silk-web-empty-');
  let app: FastifyInstance;
  before(async () => {
    mkdirSync(join(built.path, 'assets'));
    writeFileSync(join(built.path, 'index.html'), '<!doctype html><title>ui</title>');
    writeFileSync(join(built.path, 'assets', 'index-abc.js'), 'console.log(1)');
    writeFileSync(join(built.path, 'assets', 'index-abc.css'), 'body{}');
    writeFileSync(join(built.path, 'assets', 'index-big.js'), BIG_SCRIPT);
    app = await uiServer(built.path);
  });
  after(async () => {
    await app.close();
    built.cleanup();
    empty.cleanup();
  });

  it('serves the page at / with a policy that lets it load only from its own origin, checked at every visit', async () => {
    const r = await app.inject({ url: '/' });
    assert.equal(r.statusCode, 200);
    assert.equal(r.body, '<!doctype html><title>ui</title>');
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.match(String(r.headers['content-security-policy']), /default-src 'self'/);
    assert.match(String(r.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
  });

  it('serves hashed assets with their type, cached for good', async () => {
    const js = await app.inject({ url: '/assets/index-abc.js' });
    assert.equal(js.statusCode, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    const css = await app.inject({ url: '/assets/index-abc.css' });
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
  });

  it('sends a file gzip-compressed to a browser that takes it, the same bytes once inflated; a small file and a client without gzip get it as it is', async () => {
    const packed = await app.inject({ url: '/assets/index-big.js', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    assert.equal(packed.statusCode, 200);
    assert.equal(packed.headers['content-encoding'], 'gzip');
    assert.equal(packed.headers['vary'], 'accept-encoding');
    assert.equal(packed.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.ok(packed.rawPayload.length < BIG_SCRIPT.length / 4, `${packed.rawPayload.length} bytes`);
    assert.equal(gunzipSync(packed.rawPayload).toString(), BIG_SCRIPT);
    for (const headers of [{}, { 'accept-encoding': 'identity' }, { 'accept-encoding': 'gzip;q=0, *' }]) {
      const plain = await app.inject({ url: '/assets/index-big.js', headers });
      assert.equal(plain.headers['content-encoding'], undefined, JSON.stringify(headers));
      assert.equal(plain.body, BIG_SCRIPT);
    }
    const small = await app.inject({ url: '/', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(small.headers['content-encoding'], undefined, 'a page of 32 bytes is not worth compressing');
  });

  it('answers NOT_FOUND in the API error shape for an asset it does not have, and never reads outside its folder', async () => {
    const missing = await app.inject({ url: '/assets/nope.js' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json<{ error: { code: string } }>().error.code, 'NOT_FOUND');
    const escape = await app.inject({ url: '/assets/..%2F..%2Fpackage.json' });
    assert.equal(escape.statusCode, 404);
  });

  it('opens the page at a Digital Link path of an item or a lot, as a label QR code addresses it', async () => {
    for (const path of ['/01/06901234000016/21/7', '/01/06901234000016/10/YW2611A', '/01/06901234000016/10/YW2611A/21/7', '/01/06901234000016/21/7?linkType=all']) {
      const r = await app.inject({ url: path });
      assert.equal(r.statusCode, 200, path);
      assert.equal(r.body, '<!doctype html><title>ui</title>', path);
    }
  });

  it('refuses a path under /01/ that is not a Digital Link, saying what one looks like', async () => {
    const r = await app.inject({ url: '/01/scarf' });
    assert.equal(r.statusCode, 404);
    const { error } = r.json<{ error: { code: string; message: string } }>();
    assert.equal(error.code, 'NOT_FOUND');
    assert.match(error.message, /\/01\/<gtin>\/21\/<serial>/);
  });

  it('tells how to build the UI when its folder holds none, and keeps serving', async () => {
    const bare = await uiServer(join(empty.path, 'absent'));
    try {
      const r = await bare.inject({ url: '/' });
      assert.equal(r.statusCode, 404);
      assert.match(r.json<{ error: { message: string } }>().error.message, /web UI is not built .*npm run build/);
    } finally {
      await bare.close();
    }
  });
});
