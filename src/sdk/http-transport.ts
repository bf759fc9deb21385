/**
 * JSON over HTTP to one node: builds URLs, applies the time limit, and turns every failure
 * into a registry error (src/sdk/sdk-errors.ts), so the client above deals in results only.
 */
import { SilkError } from '../errors.js';
import { caBundle, caFetch } from './ca-fetch.js';
import { errorFromResponse, unreachable } from './sdk-errors.js';

/** The `fetch` the SDK calls (the global one by default). */
export type FetchFunction = typeof globalThis.fetch;

/** Query string values; `undefined` ones are left out. */
export type QueryValues = Readonly<Record<string, string | number | undefined>>;

/** Options of one request. */
export interface RequestOptions {
  readonly query?: QueryValues;
  /** A JSON body (POST). */
  readonly body?: unknown;
  /** Accepts a non-2xx answer as a result (e.g. readiness answers 503 with its report). */
  readonly accept?: (status: number, json: unknown) => boolean;
}

/** A JSON client of one node. */
export interface HttpTransport {
  /** The node's base URL, without a trailing slash. */
  readonly baseUrl: string;
  readonly fetch: FetchFunction;
  readonly timeoutMs: number;
  /** The URL of `path` with `query`. */
  url(path: string, query?: QueryValues): string;
  /** @throws SilkError with the node's code, UNREACHABLE or BAD_RESPONSE */
  request<T>(method: 'GET' | 'POST', path: string, options?: RequestOptions): Promise<T>;
}

/** Options of {@link createHttpTransport}. */
export interface HttpTransportOptions {
  readonly url: string;
  readonly fetch?: FetchFunction;
  /** For an https URL: the CA certificates (PEM) to trust instead of the default roots. */
  readonly ca?: string | Uint8Array;
  readonly timeoutMs: number;
}

/**
 * Checks and normalises a node's base URL.
 * @throws SilkError INVALID_ARGUMENT when it is not an http(s) URL
 */
function normaliseBaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SilkError('INVALID_ARGUMENT', `'${url}' is not a URL; expected e.g. http://127.0.0.1:8080`, { path: 'url' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new SilkError('INVALID_ARGUMENT', `'${url}' is not an http or https URL`, { path: 'url' });
  if (parsed.search !== '' || parsed.hash !== '') throw new SilkError('INVALID_ARGUMENT', `'${url}' must not carry a query or fragment`, { path: 'url' });
  return parsed.href.replace(/\/+$/, '');
}

/**
 * The `fetch` of a transport: the caller's, one trusting `ca` for https, or the global one.
 * @throws SilkError INVALID_ARGUMENT when both are given, or `ca` is not a PEM CA bundle
 */
function transportFetch(options: HttpTransportOptions): FetchFunction {
  if (options.ca === undefined) return options.fetch ?? globalThis.fetch;
  if (options.fetch !== undefined) throw new SilkError('INVALID_ARGUMENT', 'give either ca or fetch: a fetch of your own makes its own TLS connections', { path: 'ca' });
  return caFetch(caBundle(options.ca));
}

/**
 * Creates the transport.
 * @throws SilkError INVALID_ARGUMENT for a bad URL, time limit or CA bundle
 * @example const http = createHttpTransport({ url: 'http://127.0.0.1:8080', timeoutMs: 60_000 })
 */
export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const baseUrl = normaliseBaseUrl(options.url);
  if (!Number.isSafeInteger(options.timeoutMs) || options.timeoutMs <= 0) throw new SilkError('INVALID_ARGUMENT', `timeoutMs must be a positive integer, got ${String(options.timeoutMs)}`, { path: 'timeoutMs' });
  const fetchFn = transportFetch(options);
  const { timeoutMs } = options;

  const url = (path: string, query?: QueryValues): string => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return `${baseUrl}${path}${qs === '' ? '' : `?${qs}`}`;
  };

  return {
    baseUrl,
    fetch: fetchFn,
    timeoutMs,
    url,
    async request<T>(method: 'GET' | 'POST', path: string, opts: RequestOptions = {}): Promise<T> {
      const target = url(path, opts.query);
      const where = `${method} ${target}`;
      let status: number;
      let text: string;
      let retryAfter: string | null;
      try {
        const res = await fetchFn(target, {
          method,
          headers: opts.body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
          ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        status = res.status;
        retryAfter = res.headers.get('retry-after');
        text = await res.text();
      } catch (cause) {
        throw unreachable(cause, where, timeoutMs);
      }
      let json: unknown;
      let parsed = true;
      try {
        json = JSON.parse(text);
      } catch {
        parsed = false;
      }
      if ((status >= 200 && status < 300) || (parsed && opts.accept?.(status, json) === true)) {
        if (!parsed) throw new SilkError('BAD_RESPONSE', `${where} answered HTTP ${status} with a body that is not JSON`, { httpStatus: status });
        return json as T;
      }
      throw errorFromResponse({ method, url: target, status, body: text, retryAfter });
    },
  };
}
