/**
 * What an HTTPS address says to a client that speaks plain HTTP to it. Without this the TLS
 * handshake fails on the request's first bytes and the connection closes with no word: `curl
 * http://…` reports an empty reply, a program a reset connection, and neither says why. Here the
 * server looks at the first byte of each connection: a TLS handshake record (0x16) goes on to TLS
 * as before; a plain HTTP request (it starts with a method's capital letter, never with that byte)
 * is answered `400` with the usual error body, code `HTTPS_REQUIRED`, naming the https URL to use,
 * and closed. Nothing is served in clear but that refusal. Other bytes close the connection. The
 * cost is one peeked byte per connection; a connection that sends nothing for 10 s is closed.
 */
import type { Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import { SilkError } from '../errors.js';

/** First byte of a TLS handshake record. */
export const TLS_HANDSHAKE_BYTE = 0x16;
/** A connection that sends nothing for this long before its first byte is closed. */
const FIRST_BYTE_TIMEOUT_MS = 10_000;
/** How long the refused connection may stay open for its answer to be read. */
const REFUSAL_LINGER_MS = 1_000;
/** Longest host and path quoted back in the refusal. */
const MAX_QUOTED = 512;

/** A request line and `Host` header as they may be quoted (no control characters, bounded). */
function quotable(text: string | undefined): string | undefined {
  if (text === undefined || text.length > MAX_QUOTED || !/^[\x21-\x7e]+$/.test(text)) return undefined;
  return text;
}

/**
 * The refusal of a plain HTTP request that arrived at an HTTPS address, from its first bytes.
 * @returns the whole HTTP/1.1 response to write, or undefined when the bytes are not an HTTP request
 */
export function plainHttpRefusal(first: Uint8Array): string | undefined {
  const head = Buffer.from(first.buffer, first.byteOffset, Math.min(first.byteLength, 8192)).toString('latin1');
  const line = /^([A-Z]{3,10}) (\S+) HTTP\/1\.[01]\r?\n/.exec(head);
  if (line === null) return undefined;
  const host = quotable(/\r?\nhost:[ \t]*([^\r\n]*)/i.exec(head)?.[1]?.trim());
  const target = quotable(line[2]);
  const path = target?.startsWith('/') === true ? target : '/';
  const url = host === undefined ? undefined : `https://${host}${path}`;
  const error = new SilkError('HTTPS_REQUIRED', `this address serves HTTPS only: ${url === undefined ? 'send the request over https at the same host and port' : `send it to ${url}`}, trusting the alliance's CA bundle (tls/alliance-ca.crt: silk --ca FILE, or the SDK's connect({ ca }))`, url === undefined ? {} : { url });
  const body = JSON.stringify(error.toJSON());
  return [
    'HTTP/1.1 400 Bad Request',
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Makes an HTTPS server (node:https, or Fastify's with `https`) answer plain HTTP requests with
 * `HTTPS_REQUIRED` instead of a failed handshake (see the module comment). Call before it listens.
 * @example answerPlainHttp(app.server as tls.Server)
 */
export function answerPlainHttp(server: TlsServer): void {
  const tls = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const failed = (): void => { socket.destroy(); };
    socket.on('error', failed);
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, failed);
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.setTimeout(0);
      if (first[0] === TLS_HANDSHAKE_BYTE) {
        socket.removeListener('error', failed);
        socket.unshift(first);
        for (const listener of tls) listener.call(server, socket);
        return;
      }
      const refusal = plainHttpRefusal(first);
      if (refusal === undefined) {
        socket.destroy();
        return;
      }
      // The rest of the request is read and dropped, so the answer is not lost to a reset.
      socket.on('data', () => undefined);
      socket.resume();
      socket.end(refusal);
      setTimeout(failed, REFUSAL_LINGER_MS).unref();
    });
  });
}
