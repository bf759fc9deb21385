/**
 * HTTPS to a node whose certificate is issued by a CA of the caller's choosing (a distributed
 * network's alliance CA bundle) rather than one of the default roots. Node's global `fetch`
 * takes no CA list, so this is a `fetch` over `node:https` with an agent that trusts exactly the
 * given certificates; it does what the SDK asks of `fetch` (method, headers, a string or bytes
 * body, an abort signal; a streamed `Response`) and fails the way `fetch` fails (a `TypeError`
 * whose `cause` is the socket or TLS error, or the signal's reason), so the transport above turns
 * failures into the same registry errors.
 *
 * A new connection has {@link DEFAULT_CONNECT_TIMEOUT_MS} (as Node's own `fetch` gives) to be
 * established, TLS handshake included: a node whose host drops packets (switched off behind a
 * firewall) fails with `CONNECT_TIMEOUT` then, instead of taking the whole request's time limit,
 * so a client with fallback nodes moves on. A kept-alive connection reused is not timed again.
 */
import { X509Certificate } from 'node:crypto';
import { Agent, request } from 'node:https';
import { Readable } from 'node:stream';
import { SilkError } from '../errors.js';
import type { FetchFunction } from './http-transport.js';

/** How long a new connection may take to be established, TLS handshake included (Node's `fetch` allows as long). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** The `code` of the error a connection not established in time fails with (the `cause` of fetch's TypeError). */
export const CONNECT_TIMEOUT = 'CONNECT_TIMEOUT';

/** Options of {@link caFetch}. */
export interface CaFetchOptions {
  /** How long a new connection may take, TLS handshake included (default {@link DEFAULT_CONNECT_TIMEOUT_MS}). */
  readonly connectTimeoutMs?: number;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

/**
 * Checks a CA bundle given as `ca`: PEM text (a string or its bytes) holding one or more
 * certificates, each of which parses.
 * @returns the bundle's certificates as PEM text
 * @throws SilkError INVALID_ARGUMENT (details.path `ca`) when it is neither a string nor bytes,
 *   holds no PEM certificate, or one of them does not parse
 * @example const pem = caBundle(readFileSync('network/tls/alliance-ca.crt'))
 */
export function caBundle(ca: unknown): string {
  let text: string;
  if (typeof ca === 'string') text = ca;
  else if (ca instanceof Uint8Array) text = Buffer.from(ca.buffer, ca.byteOffset, ca.byteLength).toString('utf8');
  else throw new SilkError('INVALID_ARGUMENT', `ca must be PEM text (a string or a Buffer) of CA certificates, got ${ca === null ? 'null' : typeof ca}`, { path: 'ca' });
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new SilkError('INVALID_ARGUMENT', 'ca holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the CA bundle that issued the node\'s certificate', { path: 'ca' });
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (cause) {
      throw new SilkError('INVALID_ARGUMENT', `certificate ${i + 1} of ca does not parse: ${(cause as Error).message}`, { path: 'ca' }, { cause });
    }
  });
  return `${blocks.join('\n')}\n`;
}

/** Statuses whose responses have no body (a `Response` refuses one). */
const NO_BODY = new Set([101, 204, 205, 304]);

/** A request body this fetch sends, or the TypeError `fetch` would reject with for another kind. */
function requestBody(body: unknown): string | Uint8Array | undefined | TypeError {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  return new TypeError('this fetch sends string or byte bodies only');
}

function responseHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) out.append(name, item);
  }
  return out;
}

/** Why a signal aborted, as `fetch` rejects with it (an `AbortSignal.timeout` gives a TimeoutError). */
function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new DOMException(String(reason), 'AbortError');
}

/**
 * A `fetch` that trusts only the CA certificates of `pem` for https URLs (TLS 1.2 or later, the
 * server's host name checked; connections kept alive between requests); other URLs go to the
 * global `fetch`.
 * @param pem the CA bundle, as {@link caBundle} returns it
 * @throws SilkError INVALID_ARGUMENT when `connectTimeoutMs` is not a positive whole number
 * @example const fetch = caFetch(caBundle(readFileSync('alliance-ca.crt'))); await fetch('https://10.0.1.10:8080/api/health')
 */
export function caFetch(pem: string, options: CaFetchOptions = {}): FetchFunction {
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (!Number.isSafeInteger(connectTimeoutMs) || connectTimeoutMs <= 0) throw new SilkError('INVALID_ARGUMENT', `connectTimeoutMs must be a positive whole number of milliseconds, got ${String(connectTimeoutMs)}`, { path: 'connectTimeoutMs' });
  const agent = new Agent({ ca: pem, keepAlive: true, minVersion: 'TLSv1.2' });
  return (input, init) => {
    const target = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!target.startsWith('https:')) return globalThis.fetch(input, init);
    return new Promise<Response>((resolve, reject) => {
      const signal = init?.signal ?? undefined;
      if (signal?.aborted === true) {
        reject(abortReason(signal));
        return;
      }
      const body = requestBody(init?.body);
      if (body instanceof TypeError) {
        reject(body);
        return;
      }
      let answered = false;
      const headers = Object.fromEntries(new Headers(init?.headers).entries());
      const req = request(target, { agent, method: init?.method ?? 'GET', headers }, (res) => {
        answered = true;
        const status = res.statusCode ?? 0;
        const empty = NO_BODY.has(status) || init?.method === 'HEAD';
        if (empty) res.resume();
        try {
          resolve(new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, statusText: res.statusMessage ?? '', headers: responseHeaders(res.headers) }));
        } catch (cause) {
          res.destroy();
          reject(new TypeError('fetch failed', { cause }));
        }
      });
      const onAbort = (): void => {
        const reason = abortReason(signal);
        req.destroy(reason);
        if (!answered) reject(reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('close', () => { signal?.removeEventListener('abort', onAbort); });
      req.on('socket', (socket) => {
        if (req.reusedSocket) return;
        const timer = setTimeout(() => {
          req.destroy(Object.assign(new Error(`no connection within ${connectTimeoutMs} ms (TLS handshake included)`), { code: CONNECT_TIMEOUT }));
        }, connectTimeoutMs);
        socket.once('secureConnect', () => { clearTimeout(timer); });
        socket.once('close', () => { clearTimeout(timer); });
      });
      req.on('error', (cause) => {
        if (!answered && signal?.aborted !== true) reject(new TypeError('fetch failed', { cause }));
      });
      req.end(body);
    });
  };
}
