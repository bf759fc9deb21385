/**
 * Every API failure becomes a JSON body `{ "error": { "code", "message", …details } }` with a
 * stable code from the one registry (src/errors.ts) and the HTTP status the registry gives it.
 * Fastify's own errors (validation, body size, media type, unknown route) are mapped onto the
 * same codes, so a client handles one shape.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, isSilkError, SilkError, type ErrorCode } from '../errors.js';

/** Fastify error codes and the registry code each becomes. */
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED',
  FST_ERR_NOT_FOUND: 'NOT_FOUND',
};

function describeValidation(error: FastifyError): { message: string; path: string } {
  const first = error.validation?.[0];
  const where = error.validationContext ?? 'request';
  if (first === undefined) return { message: error.message, path: where };
  const missing = (first.params as { missingProperty?: string }).missingProperty;
  const extra = (first.params as { additionalProperty?: string }).additionalProperty;
  const base = `${where}${first.instancePath.replaceAll('/', '.')}`;
  if (missing !== undefined) return { message: `${base}.${missing} is required`, path: `${base}.${missing}` };
  if (extra !== undefined) return { message: `${base}.${extra} is not a known field`, path: `${base}.${extra}` };
  return { message: `${base} ${first.message ?? 'is invalid'}`, path: base };
}

/**
 * Converts any thrown value into a SilkError with the right code.
 * @example const e = toSilkError(err); reply.status(e.httpStatus).send(e.toJSON())
 */
export function toSilkError(error: unknown): SilkError {
  if (isSilkError(error)) return error;
  const fe = error as FastifyError;
  if (fe.validation !== undefined) {
    const { message, path } = describeValidation(fe);
    return new SilkError('INVALID_ARGUMENT', message, { path });
  }
  if (fe.statusCode === 400 && error instanceof SyntaxError) return new SilkError('MALFORMED', `the body is not valid JSON: ${error.message}`);
  const mapped = typeof fe.code === 'string' ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped === 'UNSUPPORTED_MEDIA_TYPE') return new SilkError(mapped, 'request bodies must be JSON (content-type: application/json)');
  if (mapped !== undefined) return new SilkError(mapped, fe.message);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return new SilkError('INVALID_ARGUMENT', fe.message);
  return new SilkError('INTERNAL', 'an unexpected failure; nothing was changed', {}, { cause: error });
}

/**
 * Fastify error handler: logs server-side failures, answers with the registry's status and body.
 * @example app.setErrorHandler(sendError)
 */
export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const e = toSilkError(error);
  const status = ERROR_CODES[e.code].http;
  // An error that tells the client when to retry (`details.retryAfterSeconds`, as GATEWAY_BUSY
  // does) is the node shedding load as designed, not a failure of it: a refusal, with the header.
  const retryAfterSeconds = e.details.retryAfterSeconds;
  const shedding = typeof retryAfterSeconds === 'number';
  if (status >= 500 && !shedding) request.log.error({ err: error, code: e.code }, 'request failed');
  else request.log.debug({ code: e.code, message: e.message }, 'request refused');
  if (shedding) void reply.header('retry-after', String(retryAfterSeconds));
  void reply.status(status).type('application/json; charset=utf-8').send(e.toJSON());
}
