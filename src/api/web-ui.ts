/**
 * Serves the built web UI (web/, built by Vite into dist/web) from the API server that its pages
 * call: `/` is the UI, `/assets/…` its hashed scripts and styles, and a GS1 Digital Link path
 * (`/01/<gtin>/21/<serial>`, `/01/<gtin>/10/<lot>`: what a label's QR code holds when the
 * alliance's domain resolves its links) opens the consumer's verify page for that item.
 *
 * The files are read once, when the server is created; they are a few hundred kilobytes. A page
 * may load only scripts, styles and data from its own origin (Content-Security-Policy).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SilkError } from '../errors.js';
import { DIGITAL_LINK_ITEM_OR_LOT_PATH } from '../traceability/epc-identifiers.js';
import { gzipped, sendCompressible } from './compression.js';

/** Where `npm run build` puts the UI: dist/web, beside this module's dist/api. */
export const DEFAULT_WEB_UI_DIR = fileURLToPath(new URL('../web/', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** What a page of the UI may load: its own scripts, styles, data and the API. */
const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";


/** One file of the built UI, with its gzip form when that is smaller (compressed once, here). */
interface UiFile {
  readonly body: Buffer;
  readonly gz: Buffer | undefined;
  readonly type: string;
}

/** The built UI's files by URL path (`/index.html`, `/assets/index-….js`), or why there are none. */
function loadUi(dir: string): Map<string, UiFile> {
  const files = new Map<string, UiFile>();
  const walk = (folder: string, prefix: string): void => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path, `${prefix}${name}/`);
      else {
        const body = readFileSync(path);
        files.set(`${prefix}${name}`, { body, gz: gzipped(body), type: CONTENT_TYPES[extname(name)] ?? 'application/octet-stream' });
      }
    }
  };
  try {
    walk(dir, '/');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return files;
}

function send(req: FastifyRequest, reply: FastifyReply, file: UiFile, cache: string): FastifyReply {
  reply
    .type(file.type)
    .header('cache-control', cache)
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
  return sendCompressible(req, reply, file.body, file.gz);
}

/**
 * Registers the UI's routes on an API server.
 * @param dir the built UI (default {@link DEFAULT_WEB_UI_DIR}); when it holds no index.html,
 *   `/` answers NOT_FOUND saying how to build it, and the API works as before
 * @example await app.register((app) => { registerWebUi(app); })
 */
export function registerWebUi(app: FastifyInstance, dir: string = DEFAULT_WEB_UI_DIR): void {
  const files = loadUi(dir);
  const index = files.get('/index.html');
  const page = (req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (index === undefined) throw new SilkError('NOT_FOUND', `the web UI is not built (no index.html in ${dir}): run npm run build`);
    // The page names its hashed assets: it is checked again at every visit, they never change.
    return send(req, reply, index, 'no-cache');
  };
  app.get('/', { schema: { hide: true } }, (req, reply) => page(req, reply));
  app.get('/index.html', { schema: { hide: true } }, (req, reply) => page(req, reply));
  app.get<{ Params: { '*': string } }>('/01/*', { schema: { hide: true } }, (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    if (!DIGITAL_LINK_ITEM_OR_LOT_PATH.test(path)) throw new SilkError('NOT_FOUND', `${path} is not a GS1 Digital Link of an item or a lot (/01/<gtin>/21/<serial> or /01/<gtin>/10/<lot>)`);
    return page(req, reply);
  });
  app.get<{ Params: { '*': string } }>('/assets/*', { schema: { hide: true } }, (req, reply) => {
    const file = files.get(`/assets/${req.params['*']}`);
    if (file === undefined) throw new SilkError('NOT_FOUND', `the web UI has no file /assets/${req.params['*']}`);
    return send(req, reply, file, 'public, max-age=31536000, immutable');
  });
}
