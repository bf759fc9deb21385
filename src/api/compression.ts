/**
 * gzip for the answers a consumer's phone downloads: the web UI's files (compressed once, when
 * they are loaded), and the traceability answers and transaction bytes the verify page reads
 * (compressed per answer). JSON and canonical CBOR of trace events compress about six to one
 * (the demo scarf's provenance: 34 KB → 6 KB; its seven transactions: 75 KB → 12 KB), at about
 * 5 µs of CPU a kilobyte. Other routes answer uncompressed: a submit's answer is small and on
 * the hot path.
 */
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Answers smaller than this go as they are: gzip's header would eat most of the gain. */
export const COMPRESS_MIN_BYTES = 1024;

/**
 * Whether a request's `Accept-Encoding` takes gzip (`gzip`, `x-gzip` or `*`, with a quality above 0).
 * @example acceptsGzip('gzip, deflate, br') // true; acceptsGzip('gzip;q=0, *') // false
 */
export function acceptsGzip(header: string | readonly string[] | undefined): boolean {
  if (header === undefined) return false;
  let gzip: boolean | undefined;
  let any = false;
  for (const part of (typeof header === 'string' ? header : header.join(',')).split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const wanted = q === undefined || Number(q.slice(2)) > 0;
    if (name.trim() === 'gzip' || name.trim() === 'x-gzip') gzip = wanted;
    else if (name.trim() === '*') any = wanted;
  }
  return gzip ?? any;
}

/**
 * The gzip form of a body worth compressing.
 * @returns undefined when the body is under {@link COMPRESS_MIN_BYTES} or does not shrink
 */
export function gzipped(body: Buffer): Buffer | undefined {
  if (body.length < COMPRESS_MIN_BYTES) return undefined;
  const packed = gzipSync(body);
  return packed.length < body.length ? packed : undefined;
}

/**
 * Sends a body, gzip-compressed when the client takes it (`Vary: Accept-Encoding` either way).
 * @param packed the body's gzip form when it is already known (a file compressed at load)
 * @example return sendCompressible(req, reply.type('application/json; charset=utf-8'), Buffer.from(JSON.stringify(answer)))
 */
export function sendCompressible(req: FastifyRequest, reply: FastifyReply, body: Buffer, packed?: Buffer): FastifyReply {
  void reply.header('vary', 'accept-encoding');
  const gz = acceptsGzip(req.headers['accept-encoding']) ? (packed ?? gzipped(body)) : undefined;
  return gz === undefined ? reply.send(body) : reply.header('content-encoding', 'gzip').send(gz);
}

/**
 * Sends a JSON answer, gzip-compressed when the client takes it.
 * @example return sendJsonCompressible(req, reply, { provenance, proofs })
 */
export function sendJsonCompressible(req: FastifyRequest, reply: FastifyReply, answer: unknown): FastifyReply {
  return sendCompressible(req, reply.type('application/json; charset=utf-8'), Buffer.from(JSON.stringify(answer)));
}
