/**
 * The HTTP wire of an orderer process (distributed mode): its routes, the JSON bodies, and the
 * one POST that followers (forwarding to their chain's leader) and the orderer client use, over
 * plain HTTP or mutual TLS (pass the agent of `mtlsAgent`).
 */
import { request as httpRequest, type Agent as HttpAgent } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { ERROR_CODES, SilkError, type ErrorCode } from '../errors.js';

/** `POST { chain, envelope }` → `{ block, index }`. */
export const BROADCAST_PATH = '/orderer/v1/broadcast';
/** `POST { envelope }` (a genesis configuration transaction) → `{ chain, height }`. */
export const CREATE_CHAIN_PATH = '/orderer/v1/chains';
/** Liveness. */
export const HEALTH_PATH = '/orderer/v1/health';
/** Readiness: connected to etcd and following every chain. */
export const READY_PATH = '/orderer/v1/ready';
/** Header a follower sets when it forwards, so the receiver answers instead of forwarding again. */
export const FORWARDED_HEADER = 'x-silk-forwarded';
/** Largest answer body read (answers are small JSON). */
const MAX_ANSWER_BYTES = 64 * 1024;

/** Body of {@link BROADCAST_PATH}. */
export interface BroadcastRequestBody {
  readonly chain: string;
  /** The envelope's bytes, base64. */
  readonly envelope: string;
}

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
}

/**
 * POSTs a JSON body and reads the JSON answer, whatever its status.
 * @throws SilkError UNREACHABLE when the connection fails, times out or is dropped; BAD_RESPONSE when the answer is not JSON
 * @example const answer = await postJson('http://127.0.0.1:7050', BROADCAST_PATH, { chain, envelope }, { timeoutMs: 5000 })
 */
export function postJson(baseUrl: string, path: string, body: unknown, options: PostJsonOptions): Promise<JsonAnswer> {
  const url = new URL(path, baseUrl);
  const payload = Buffer.from(JSON.stringify(body));
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
      headers: { 'content-type': 'application/json', 'content-length': String(payload.length), ...options.headers },
      timeout: options.timeoutMs,
      ...(options.agent === undefined ? {} : { agent: options.agent }),
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) { req.destroy(); fail(`answered with more than ${MAX_ANSWER_BYTES} bytes`); return; }
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
    req.on('close', () => { clearTimeout(timer); });
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
