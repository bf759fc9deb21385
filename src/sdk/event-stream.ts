/**
 * A Server-Sent Events client over `fetch` streaming, with no dependency: what `EventSource`
 * does, plus what a long-lived ledger subscriber needs. After a dropped connection, a stream
 * the server ended, or a silent one (no byte, not even a heartbeat, within the idle limit) it
 * reconnects with `Last-Event-ID`, waiting the server's `retry:` time doubled after each
 * consecutive failure up to a cap. A refusal (4xx) ends the stream: retrying cannot help.
 */
import { SilkError } from '../errors.js';
import type { FetchFunction } from './http-transport.js';
import { errorFromResponse, isTransient, unreachable } from './sdk-errors.js';
import { createSseParser, type SseEvent } from './sse-parser.js';

/** Options of {@link openEventStream}. */
export interface EventStreamOptions {
  /** The stream's URL for the next connection attempt; called before each one (it may fetch). */
  readonly url: () => string | Promise<string>;
  readonly fetch: FetchFunction;
  /** Sent as `Last-Event-ID` on the first connection. */
  readonly lastEventId?: string;
  /** Wait before the first reconnection until the server sends `retry:` (default 1000 ms). */
  readonly retryMs?: number;
  /** Longest wait between attempts (default 30 000 ms). */
  readonly maxRetryMs?: number;
  /** Time limit for the response headers (default 30 000 ms). */
  readonly connectTimeoutMs?: number;
  /** A connection that brings no byte for this long is dropped and reopened (default 45 000 ms; the node sends a heartbeat every 15 s). */
  readonly idleTimeoutMs?: number;
  /** A connection opened (HTTP 200 with an event stream). */
  readonly onOpen?: () => void;
  /** Each dispatched event, in order; what it throws is reported to onError and the stream goes on. */
  readonly onEvent: (event: SseEvent) => void;
  /** A connection ended or failed; events of an incomplete message are gone. */
  readonly onDisconnect?: () => void;
  /** Each failure; `willRetry` false means the stream has ended. */
  readonly onError?: (error: SilkError, willRetry: boolean) => void;
}

/** An open event stream. */
export interface EventStream {
  /** Stops for good: aborts the connection and any pending reconnection. */
  close(): void;
  /** The last event ID received, sent as `Last-Event-ID` when reconnecting. */
  readonly lastEventId: string;
  /** Settles when the stream ends: with the error that ended it, or undefined after {@link close}. */
  readonly ended: Promise<SilkError | undefined>;
}

/** Why one connection ended. */
type ConnectionEnd = { readonly closed: true } | { readonly closed: false; readonly error: SilkError; readonly opened: boolean };

const noop = (): void => undefined;

/** Calls a caller's handler; what it throws has nowhere to go and must not stop the stream. */
function callSafely(handler: (() => void) | undefined): void {
  try {
    handler?.();
  } catch {
    // ignored on purpose
  }
}

/**
 * Opens an event stream and keeps it open until {@link EventStream.close} or a refusal.
 * @param options where to connect and what to call
 * @returns the stream
 * @example
 * const stream = openEventStream({ url: () => `${base}/api/chains/trade/events`, fetch, onEvent: (e) => { console.log(e.type, e.data); } });
 * // later
 * stream.close();
 */
export function openEventStream(options: EventStreamOptions): EventStream {
  const maxRetryMs = options.maxRetryMs ?? 30_000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 30_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
  let retryMs = options.retryMs ?? 1000;
  let lastEventId = options.lastEventId ?? '';
  const state = { closed: false };
  // A call, so a check after an await sees what close() set meanwhile.
  const isClosed = (): boolean => state.closed;
  let current: AbortController | undefined;
  let wake: () => void = noop;
  let finish: (error: SilkError | undefined) => void = noop;
  const ended = new Promise<SilkError | undefined>((resolve) => {
    finish = resolve;
  });

  const notifyError = (error: SilkError, willRetry: boolean): void => {
    callSafely(() => options.onError?.(error, willRetry));
  };

  /** One connection: resolves when it ends, never rejects. */
  const connect = async (): Promise<ConnectionEnd> => {
    const abort = new AbortController();
    current = abort;
    let opened = false;
    let idleTimer: NodeJS.Timeout | undefined;
    const armIdle = (ms: number): void => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        abort.abort(new SilkError('UNREACHABLE', opened ? `the event stream brought nothing for ${ms} ms` : `no answer within ${ms} ms`));
      }, ms);
    };
    let where = 'GET event stream';
    try {
      const target = await options.url();
      where = `GET ${target}`;
      if (isClosed()) return { closed: true };
      armIdle(connectTimeoutMs);
      const res = await options.fetch(target, {
        headers: { accept: 'text/event-stream', 'cache-control': 'no-cache', ...(lastEventId === '' ? {} : { 'last-event-id': lastEventId }) },
        signal: abort.signal,
      });
      if (res.status !== 200) {
        const body = await res.text();
        return { closed: false, opened, error: errorFromResponse({ method: 'GET', url: target, status: res.status, body, retryAfter: res.headers.get('retry-after') }) };
      }
      const type = res.headers.get('content-type') ?? '';
      if (!type.startsWith('text/event-stream') || res.body === null) {
        await res.body?.cancel();
        return { closed: false, opened, error: new SilkError('BAD_RESPONSE', `${where} answered ${type === '' ? 'without a content type' : type}, not an event stream`, { httpStatus: res.status }) };
      }
      opened = true;
      callSafely(options.onOpen);
      const parser = createSseParser(
        {
          onEvent: (e) => {
            lastEventId = e.lastEventId;
            if (isClosed()) return;
            try {
              options.onEvent(e);
            } catch (cause) {
              notifyError(new SilkError('INTERNAL', `the event handler threw: ${(cause as Error).message}`, {}, { cause }), true);
            }
          },
          onRetry: (ms) => {
            retryMs = ms;
          },
        },
        lastEventId,
      );
      armIdle(idleTimeoutMs);
      const decoder = new TextDecoder();
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done || isClosed()) break;
        armIdle(idleTimeoutMs);
        parser.feed(decoder.decode(value, { stream: true }));
        lastEventId = parser.lastEventId;
      }
      if (isClosed()) return { closed: true };
      return { closed: false, opened, error: new SilkError('UNREACHABLE', `${where}: the node ended the event stream`) };
    } catch (cause) {
      if (isClosed()) return { closed: true };
      // The idle timer aborts with a SilkError saying why; url() fails with the node's error.
      const reason: unknown = abort.signal.aborted ? abort.signal.reason : undefined;
      if (reason instanceof SilkError) return { closed: false, opened, error: new SilkError(reason.code, `${where}: ${reason.message}`) };
      if (cause instanceof SilkError) return { closed: false, opened, error: cause };
      return { closed: false, opened, error: unreachable(cause, where) };
    } finally {
      clearTimeout(idleTimer);
      if (!abort.signal.aborted) abort.abort();
    }
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        wake = noop;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const run = async (): Promise<void> => {
    let failures = 0;
    for (;;) {
      const end = await connect();
      if (end.closed || isClosed()) break;
      callSafely(options.onDisconnect);
      const retry = isTransient(end.error);
      notifyError(end.error, retry);
      if (!retry) {
        state.closed = true;
        finish(end.error);
        return;
      }
      failures = end.opened ? 1 : failures + 1;
      await sleep(Math.min(maxRetryMs, retryMs * 2 ** (failures - 1)));
      if (isClosed()) break;
    }
    finish(undefined);
  };
  void run();

  return {
    close() {
      if (isClosed()) return;
      state.closed = true;
      current?.abort();
      wake();
    },
    get lastEventId() {
      return lastEventId;
    },
    ended,
  };
}
