/**
 * How the SDK turns what went wrong on the wire into the registry's errors: a node's JSON
 * error body keeps its code, message and details; a transaction that was ordered but did not
 * commit as VALID (its body carries a receipt) or was not seen in time becomes a
 * {@link CommitError}; a failed connection or timeout is `UNREACHABLE`; anything that is not
 * an API answer is `BAD_RESPONSE`.
 */
import { CommitError, ERROR_CODES, SilkError, type ErrorCode, type SilkErrorDetails } from '../errors.js';
import { CONNECT_TIMEOUT } from './ca-fetch.js';

/** What the SDK knows about a failed HTTP exchange. */
export interface HttpFailure {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  /** The response body as text (possibly empty). */
  readonly body: string;
  /** The `Retry-After` header, when the node sent one. */
  readonly retryAfter?: string | null;
}

function isKnownCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
}

function parseErrorBody(text: string): { code?: unknown; message?: unknown; details: Record<string, unknown> } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const error = (json as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message, ...details } = error as Record<string, unknown>;
  return { code, message, details };
}

/**
 * The error a non-2xx answer stands for.
 * @param failure the request and the node's answer
 * @returns a SilkError with the node's code, message and details; a CommitError when the
 *   transaction was ordered (the body carries its receipt) or its commit was not seen in time
 * @example throw errorFromResponse({ method: 'GET', url, status: res.status, body: await res.text() })
 */
export function errorFromResponse(failure: HttpFailure): SilkError {
  const parsed = parseErrorBody(failure.body);
  const where = `${failure.method} ${failure.url}`;
  if (parsed === undefined || typeof parsed.message !== 'string') {
    return new SilkError('BAD_RESPONSE', `${where} answered HTTP ${failure.status} without a Silkledger error body${failure.body === '' ? '' : `: ${excerpt(failure.body)}`}`, { httpStatus: failure.status });
  }
  if (!isKnownCode(parsed.code)) {
    return new SilkError('BAD_RESPONSE', `${where} answered HTTP ${failure.status} with code ${String(parsed.code)}, which this client does not know: ${parsed.message}`, { ...parsed.details, httpStatus: failure.status, serverCode: parsed.code });
  }
  const details: SilkErrorDetails = failure.retryAfter === undefined || failure.retryAfter === null ? parsed.details : { ...parsed.details, retryAfterSeconds: Number(failure.retryAfter) };
  if (parsed.details.receipt !== undefined || parsed.code === 'COMMIT_TIMEOUT') return new CommitError(parsed.code, parsed.message, details);
  return new SilkError(parsed.code, parsed.message, details);
}

/** `details.reason` of an UNREACHABLE whose cause is a server certificate the client does not trust. */
export const UNTRUSTED_CERTIFICATE_REASON = 'untrusted-certificate';

/** OpenSSL's verdicts on a server certificate chain that does not lead to a trusted CA (or is not valid now). */
const UNTRUSTED_CERTIFICATE_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_UNTRUSTED', 'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'INVALID_CA', 'CERT_CHAIN_TOO_LONG',
  'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_REVOKED',
]);

/**
 * The error a request that got no answer stands for.
 * @param cause what fetch threw
 * @param where `METHOD url` of the request
 * @param timeoutMs the request's time limit, to name it when it ran out
 * @returns a SilkError UNREACHABLE whose cause is the original failure; a server certificate the
 *   client does not trust has details.reason {@link UNTRUSTED_CERTIFICATE_REASON}, one that does not
 *   name the host `certificate-name`, a connection not established in time `connect-timeout`
 */
export function unreachable(cause: unknown, where: string, timeoutMs?: number): SilkError {
  const name = (cause as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError') return new SilkError('UNREACHABLE', `${where}: no answer within ${timeoutMs ?? '?'} ms`, {}, { cause });
  const inner = (cause as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof inner?.code === 'string' && UNTRUSTED_CERTIFICATE_CODES.has(inner.code)) {
    return new SilkError('UNREACHABLE', `${where}: the node's TLS certificate is not trusted (${inner.code})`, { reason: UNTRUSTED_CERTIFICATE_REASON }, { cause });
  }
  if (inner?.code === CONNECT_TIMEOUT || inner?.code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new SilkError('UNREACHABLE', `${where}: the node did not accept a connection in time (${typeof inner.message === 'string' ? inner.message : inner.code})`, { reason: 'connect-timeout' }, { cause });
  }
  if (inner?.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new SilkError('UNREACHABLE', `${where}: the node's TLS certificate does not name this host (${typeof inner.message === 'string' ? inner.message : inner.code})`, { reason: 'certificate-name' }, { cause });
  }
  const reason = typeof inner?.code === 'string' ? inner.code : typeof inner?.message === 'string' ? inner.message : cause instanceof Error ? cause.message : String(cause);
  return new SilkError('UNREACHABLE', `${where}: cannot reach the node (${reason})`, {}, { cause });
}

/**
 * Whether a read that failed so may pass if made again later: no answer, the node busy or
 * stopping, or a server-side failure (5xx, also from a proxy). A refusal (4xx) never passes, nor
 * does a server certificate the client does not accept.
 */
export function isTransient(error: SilkError): boolean {
  if (error.code === 'RATE_LIMITED') return true;
  // A certificate the client does not accept stays so until the client is configured otherwise.
  if (error.details.reason === UNTRUSTED_CERTIFICATE_REASON || error.details.reason === 'certificate-name') return false;
  const status = typeof error.details.httpStatus === 'number' ? error.details.httpStatus : error.httpStatus;
  return status >= 500;
}
