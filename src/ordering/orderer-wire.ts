/**
 * The HTTP wire of an orderer process (distributed mode): its routes, the JSON bodies, the binary
 * body of a broadcast batch, and the POSTs that followers (forwarding to their chain's leader)
 * and the orderer client use, over plain HTTP or mutual TLS (pass the agent of `mtlsAgent`).
 */
import { request as httpRequest, type Agent as HttpAgent } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { ERROR_CODES, SilkError, type ErrorCode } from '../errors.js';
import { createLivenessMonitor, type LivenessMonitor } from '../liveness/liveness-monitor.js';

/** `POST { chain, envelope }` → `{ block, index }`. */
export const BROADCAST_PATH = '/orderer/v1/broadcast';
/**
 * `POST` a batch body (`application/octet-stream`, see {@link encodeBroadcastBatch}) →
 * `{ results: [...] }`: per envelope, in order, `{ block, index }` or that envelope's error body.
 */
export const BROADCAST_BATCH_PATH = '/orderer/v1/broadcast-batch';
/** `POST { envelope }` (a genesis configuration transaction) → `{ chain, height }`. */
export const CREATE_CHAIN_PATH = '/orderer/v1/chains';
/** Liveness. */
export const HEALTH_PATH = '/orderer/v1/health';
/** Readiness: connected to etcd and following every chain. */
export const READY_PATH = '/orderer/v1/ready';
/** Header a follower sets when it forwards, so the receiver answers instead of forwarding again. */
export const FORWARDED_HEADER = 'x-silk-forwarded';
/**
 * While a broadcast (or a follower's forward) waits at an orderer: how often its sender checks the
 * orderer is alive, and how long the check may take (docs/distributed.md, "A silent orderer").
 * An orderer answers a batch within a block's cut and append, and its health check at once even
 * when etcd is slow; one that answers neither within a second is stopped or cut off.
 */
export const ORDERER_LIVENESS_CHECK_MS = 1_000;

/** Largest answer body read (answers are small JSON). */
const MAX_ANSWER_BYTES = 64 * 1024;
/** Largest batch answer read: 1,000 results, each an error body of well under 1 KiB. */
const MAX_BATCH_ANSWER_BYTES = 1024 * 1024;
/** Largest request body an orderer takes, a single envelope's JSON or a batch: 256 KiB. */
export const ORDERER_BODY_LIMIT_BYTES = 256 * 1024;
/** Most envelopes one broadcast batch may hold. */
export const BROADCAST_BATCH_MAX_ENVELOPES = 1_000;
/** Version byte that opens a batch body. */
export const BROADCAST_BATCH_FORMAT = 1;
/** Bytes of a batch body per envelope besides the envelope itself (its length, u32 big-endian). */
export const BROADCAST_BATCH_FRAME_BYTES = 4;
/** A chain name, as every orderer route takes it. */
export const CHAIN_NAME_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$';
const CHAIN_NAME = new RegExp(CHAIN_NAME_PATTERN);

/** Body of {@link BROADCAST_PATH}. */
export interface BroadcastRequestBody {
  readonly chain: string;
  /** The envelope's bytes, base64. */
  readonly envelope: string;
}

/** The content of a broadcast batch. */
export interface BroadcastBatchBody {
  readonly chain: string;
  readonly envelopes: readonly Uint8Array[];
}

/** Where an envelope was ordered, as an orderer answers. */
export interface BroadcastPosition {
  readonly block: number;
  readonly index: number;
}

/** One envelope's outcome in a batch: its position, or the error that envelope alone met. */
export type BroadcastOutcome = { readonly position: BroadcastPosition } | { readonly error: Error };

/** A JSON answer. */
export interface JsonAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** Options of {@link postJson}. */
export interface PostJsonOptions {
  /** Whole-request deadline in ms. */
  readonly timeoutMs: number;
  /** For https URLs: the mutual TLS agent. */
  readonly agent?: HttpAgent | HttpsAgent;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Gives the request up when it aborts (e.g. the orderer failed a liveness check while the
   * request waited): UNREACHABLE, with the abort reason's message when it is an Error.
   */
  readonly signal?: AbortSignal;
}

/** Options of {@link postBroadcastBatch}. */
export type PostBroadcastBatchOptions = PostJsonOptions;

/**
 * Asks an orderer's {@link HEALTH_PATH}; any answer, whatever its status, shows its process runs.
 * @throws SilkError UNREACHABLE when it gives no answer within `timeoutMs` or cannot be reached
 * @example await checkOrdererAlive('https://10.0.1.10:7050', { timeoutMs: 1000, agent })
 */
export function checkOrdererAlive(baseUrl: string, options: { readonly timeoutMs: number; readonly agent?: HttpAgent | HttpsAgent }): Promise<void> {
  const url = new URL(HEALTH_PATH, baseUrl);
  const get = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<void>((resolve, reject) => {
    const req = get(url, { method: 'GET', ...(options.agent === undefined ? {} : { agent: options.agent }) }, (res) => {
      res.resume();
      clearTimeout(timer);
      resolve();
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new SilkError('UNREACHABLE', `orderer at ${baseUrl} did not answer a health check within ${options.timeoutMs} ms`, { url: baseUrl }));
    }, options.timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(new SilkError('UNREACHABLE', `orderer at ${baseUrl} could not be reached: ${error.message}`, { url: baseUrl }, { cause: error }));
    });
    req.end();
  });
}

/**
 * The liveness monitor of a process's requests to orderers ({@link ORDERER_LIVENESS_CHECK_MS},
 * checks by {@link checkOrdererAlive} over the same agent).
 * @example const liveness = ordererLivenessMonitor(agent); const answer = await liveness.during(url, (signal) => postJson(url, path, body, { timeoutMs, signal, agent }))
 */
export function ordererLivenessMonitor(agent?: HttpAgent | HttpsAgent): LivenessMonitor {
  return createLivenessMonitor({ periodMs: ORDERER_LIVENESS_CHECK_MS, check: (url, timeoutMs) => checkOrdererAlive(url, { timeoutMs, ...(agent === undefined ? {} : { agent }) }) });
}

/**
 * POSTs a JSON body and reads the JSON answer, whatever its status.
 * @throws SilkError UNREACHABLE when the connection fails, times out or is dropped; BAD_RESPONSE when the answer is not JSON
 * @example const answer = await postJson('http://127.0.0.1:7050', BROADCAST_PATH, { chain, envelope }, { timeoutMs: 5000 })
 */
export function postJson(baseUrl: string, path: string, body: unknown, options: PostJsonOptions): Promise<JsonAnswer> {
  return postBody(baseUrl, path, Buffer.from(JSON.stringify(body)), 'application/json', MAX_ANSWER_BYTES, options);
}

/**
 * POSTs a broadcast batch ({@link BROADCAST_BATCH_PATH}) and reads the JSON answer, whatever its
 * status; {@link outcomesOfBatchAnswer} reads the results of a 200 answer.
 * @throws SilkError UNREACHABLE when the connection fails, times out or is dropped; BAD_RESPONSE when the answer is not JSON
 * @example const answer = await postBroadcastBatch('https://10.0.1.10:7050', { chain: 'trade', envelopes }, { timeoutMs: 5000, agent })
 */
export function postBroadcastBatch(baseUrl: string, batch: BroadcastBatchBody, options: PostBroadcastBatchOptions): Promise<JsonAnswer> {
  return postBody(baseUrl, BROADCAST_BATCH_PATH, encodeBroadcastBatch(batch), 'application/octet-stream', MAX_BATCH_ANSWER_BYTES, options);
}

function postBody(baseUrl: string, path: string, payload: Buffer, contentType: string, maxAnswerBytes: number, options: PostJsonOptions): Promise<JsonAnswer> {
  const url = new URL(path, baseUrl);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<JsonAnswer>((resolve, reject) => {
    let settled = false;
    const fail = (reason: string, cause?: unknown): void => {
      if (settled) return;
      settled = true;
      reject(new SilkError('UNREACHABLE', `orderer at ${baseUrl} ${reason}`, { url: baseUrl }, { cause }));
    };
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': contentType, 'content-length': String(payload.length), ...options.headers },
      timeout: options.timeoutMs,
      ...(options.agent === undefined ? {} : { agent: options.agent }),
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxAnswerBytes) { req.destroy(); fail(`answered with more than ${maxAnswerBytes} bytes`); return; }
        chunks.push(chunk);
      });
      res.on('error', (error) => { fail(`dropped the answer: ${error.message}`, error); });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
        } catch (cause) {
          reject(new SilkError('BAD_RESPONSE', `orderer at ${baseUrl} answered ${String(res.statusCode)} with a body that is not JSON: ${JSON.stringify(text.slice(0, 120))}`, { url: baseUrl }, { cause }));
        }
      });
    });
    const timer = setTimeout(() => { req.destroy(); fail(`did not answer within ${options.timeoutMs} ms`); }, options.timeoutMs);
    const { signal } = options;
    const onAbort = (): void => {
      req.destroy();
      fail(signal?.reason instanceof Error ? signal.reason.message : 'was given up', signal?.reason);
    };
    if (signal?.aborted === true) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    });
    req.on('timeout', () => { req.destroy(); fail(`did not answer within ${options.timeoutMs} ms`); });
    req.on('error', (error) => { fail(`could not be reached: ${error.message}`, error); });
    req.end(payload);
  });
}

function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/**
 * The error an answer carries (`{ error: { code, message, …details } }`), rebuilt as a SilkError.
 * @returns BAD_RESPONSE when the body is not an error body with a known code
 */
export function errorOfAnswer(answer: JsonAnswer, from: string): SilkError {
  const error = (answer.body as { error?: unknown } | null)?.error;
  if (typeof error === 'object' && error !== null) {
    const { code, message, ...details } = error as { code?: unknown; message?: unknown };
    if (isErrorCode(code) && typeof message === 'string') return new SilkError(code, message, details);
  }
  return new SilkError('BAD_RESPONSE', `orderer at ${from} answered ${answer.status} without a Silkledger error body`, { status: answer.status });
}

/**
 * The position in a broadcast's answer.
 * @throws SilkError BAD_RESPONSE when it is not `{ block, index }` of non-negative integers
 */
export function positionOfAnswer(answer: JsonAnswer, from: string): { block: number; index: number } {
  const { block, index } = (answer.body ?? {}) as { block?: unknown; index?: unknown };
  if (typeof block !== 'number' || typeof index !== 'number' || !Number.isSafeInteger(block) || !Number.isSafeInteger(index) || block < 0 || index < 0) {
    throw new SilkError('BAD_RESPONSE', `orderer at ${from} acknowledged a broadcast without a position`, { status: answer.status });
  }
  return { block, index };
}

/** Bytes of a batch body before its first envelope: format, chain name length and name, envelope count. */
export function broadcastBatchHeaderBytes(chain: string): number {
  return 2 + Buffer.byteLength(chain) + 4;
}

/**
 * The body of a broadcast batch: one byte format version ({@link BROADCAST_BATCH_FORMAT}), one
 * byte chain name length, the chain name (ASCII), the envelope count (u32 big-endian), then each
 * envelope as its length (u32 big-endian) and its bytes. No base64 and no JSON: the orderer takes
 * the envelopes as views of the body it read.
 * @throws SilkError INVALID_ARGUMENT for a chain name that is not one, or a count outside 1 to {@link BROADCAST_BATCH_MAX_ENVELOPES}
 * @example const body = encodeBroadcastBatch({ chain: 'trade', envelopes: [a, b] })
 */
export function encodeBroadcastBatch(batch: BroadcastBatchBody): Buffer {
  checkBatchHead(batch.chain, batch.envelopes.length);
  let size = broadcastBatchHeaderBytes(batch.chain);
  for (const e of batch.envelopes) size += BROADCAST_BATCH_FRAME_BYTES + e.length;
  const body = Buffer.allocUnsafe(size);
  body[0] = BROADCAST_BATCH_FORMAT;
  body[1] = batch.chain.length;
  let at = 2 + body.write(batch.chain, 2, 'latin1');
  at = body.writeUInt32BE(batch.envelopes.length, at);
  for (const e of batch.envelopes) {
    at = body.writeUInt32BE(e.length, at);
    body.set(e, at);
    at += e.length;
  }
  return body;
}

function checkBatchHead(chain: string, count: number): void {
  if (!CHAIN_NAME.test(chain)) throw new SilkError('INVALID_ARGUMENT', `the batch's chain must be a chain name (${CHAIN_NAME_PATTERN}); got ${JSON.stringify(chain.slice(0, 80))}`, { path: 'chain' });
  if (count < 1 || count > BROADCAST_BATCH_MAX_ENVELOPES) {
    throw new SilkError('INVALID_ARGUMENT', `a broadcast batch holds 1 to ${BROADCAST_BATCH_MAX_ENVELOPES} envelopes; this one holds ${count}: send larger sets in several batches`, { path: 'envelopes', count });
  }
}

/**
 * Reads a batch body ({@link encodeBroadcastBatch}); the envelopes are views of `body`.
 * @throws SilkError MALFORMED when the framing is broken (unknown format, a length running past the end, bytes left over); INVALID_ARGUMENT for a bad chain name or envelope count
 * @example const { chain, envelopes } = decodeBroadcastBatch(request.body)
 */
export function decodeBroadcastBatch(body: Uint8Array): BroadcastBatchBody {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const malformed = (why: string): SilkError => new SilkError('MALFORMED', `the broadcast batch body is malformed: ${why} (docs/distributed.md, "HTTP", gives the format)`);
  if (body.length < 2) throw malformed(`it has ${body.length} bytes, fewer than its header`);
  if (body[0] !== BROADCAST_BATCH_FORMAT) throw malformed(`its format byte is ${String(body[0])}, not ${BROADCAST_BATCH_FORMAT}`);
  const nameLength = body[1] as number;
  if (body.length < 2 + nameLength + 4) throw malformed(`it ends inside its header (${body.length} bytes)`);
  const chain = Buffer.from(body.buffer, body.byteOffset + 2, nameLength).toString('latin1');
  const count = view.getUint32(2 + nameLength);
  checkBatchHead(chain, count);
  const envelopes: Uint8Array[] = [];
  let at = 2 + nameLength + 4;
  for (let i = 0; i < count; i++) {
    if (at + BROADCAST_BATCH_FRAME_BYTES > body.length) throw malformed(`it ends before envelope ${i} of ${count}`);
    const length = view.getUint32(at);
    at += BROADCAST_BATCH_FRAME_BYTES;
    if (at + length > body.length) throw malformed(`envelope ${i} of ${count} claims ${length} bytes, past the end of the body`);
    envelopes.push(body.subarray(at, at + length));
    at += length;
  }
  if (at !== body.length) throw malformed(`${body.length - at} bytes follow its last envelope`);
  return { chain, envelopes };
}

/**
 * The per-envelope outcomes of a 200 batch answer: a position, or the SilkError of that envelope.
 * @throws SilkError BAD_RESPONSE when the answer is not `{ results }` with one position or error body per envelope sent
 */
export function outcomesOfBatchAnswer(answer: JsonAnswer, from: string, sent: number): BroadcastOutcome[] {
  const results = (answer.body as { results?: unknown } | null)?.results;
  if (!Array.isArray(results) || results.length !== sent) {
    throw new SilkError('BAD_RESPONSE', `orderer at ${from} answered a batch of ${sent} envelopes without one result for each`, { status: answer.status });
  }
  return results.map((result: unknown): BroadcastOutcome => {
    const error = (result as { error?: unknown } | null)?.error;
    if (error === undefined) return { position: positionOfAnswer({ status: answer.status, body: result }, from) };
    const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
    const status = isErrorCode(code) ? ERROR_CODES[code].http : answer.status;
    return { error: errorOfAnswer({ status, body: result }, from) };
  });
}

/**
 * A leader's election candidate: its name and broadcast URL, so followers and clients know where
 * to send broadcasts (`orderer0 https://10.0.1.10:7050`).
 */
export function leaderCandidate(name: string, url: string): string {
  return `${name} ${url}`;
}

/** The name and URL of a {@link leaderCandidate}, or undefined for another value. */
export function parseLeaderCandidate(candidate: string): { name: string; url: string } | undefined {
  const space = candidate.indexOf(' ');
  if (space <= 0) return undefined;
  const url = candidate.slice(space + 1);
  return /^https?:\/\/\S+$/.test(url) ? { name: candidate.slice(0, space), url } : undefined;
}
