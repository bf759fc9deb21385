/**
 * JSON over HTTP to a node: builds URLs, applies the time limit, and turns every failure into a
 * registry error (src/sdk/sdk-errors.ts), so the client above deals in results only. Given more
 * than one node, a request that cannot reach the node it is sent to goes to the next one (see
 * {@link HttpTransport.request}), and the node that answered is the one asked first from then on.
 */
import { isSilkError, SilkError } from '../errors.js';
import { caBundle, caFetch } from './ca-fetch.js';
import { errorFromResponse, unreachable, UNTRUSTED_CERTIFICATE_REASON } from './sdk-errors.js';
import { createLivenessMonitor, NODE_SILENT_REASON } from '../liveness/liveness-monitor.js';

/** The `fetch` the SDK calls (the global one by default). */
export type FetchFunction = typeof globalThis.fetch;

/** Query string values; `undefined` ones are left out. */
export type QueryValues = Readonly<Record<string, string | number | undefined>>;

/** Options of one request. */
export interface RequestOptions {
  readonly query?: QueryValues;
  /** A JSON body (POST). */
  readonly body?: unknown;
  /** More request headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Accepts a non-2xx answer as a result (e.g. readiness answers 503 with its report). */
  readonly accept?: (status: number, json: unknown) => boolean;
  /** A 2xx answer is bytes (`application/octet-stream`), returned as a Uint8Array; errors are JSON as ever. */
  readonly binary?: boolean;
}

/** A JSON client of a node, with other nodes to turn to. */
export interface HttpTransport {
  /** The base URL of the node asked first now (without a trailing slash): the last that answered. */
  readonly baseUrl: string;
  /** Every node's base URL, the one asked first now at the head. */
  readonly nodes: readonly string[];
  readonly fetch: FetchFunction;
  readonly timeoutMs: number;
  /** The URL of `path` with `query`. */
  url(path: string, query?: QueryValues): string;
  /**
   * Sends a request to the node asked first; when that node cannot be reached (no connection, no
   * answer in time), is shutting down or is behind (`BEHIND`), the same request goes to each
   * other node in turn.
   * Only requests whose resending is harmless go through here: reads, and calls carrying a
   * signed proposal or envelope, which cannot commit twice.
   * @throws SilkError with the answering node's code or BAD_RESPONSE; when no node could answer,
   *   the last one's UNREACHABLE, BEHIND or SHUTTING_DOWN, its message naming what happened at each
   */
  request<T>(method: 'GET' | 'POST', path: string, options?: RequestOptions): Promise<T>;
}

/** Options of {@link createHttpTransport}. */
export interface HttpTransportOptions {
  /** The node asked first. */
  readonly url: string;
  /** Other nodes of the same alliance, asked in this order when the one before cannot be reached. */
  readonly fallbackUrls?: readonly string[];
  readonly fetch?: FetchFunction;
  /** For an https URL: the CA certificates (PEM) to trust instead of the default roots. */
  readonly ca?: string | Uint8Array;
  /** With `ca`: how long a new connection may take, TLS handshake included (default 10 s, `caFetch`). */
  readonly connectTimeoutMs?: number;
  readonly timeoutMs: number;
  /**
   * While a request waits for its answer and another node is left to turn to: how often, in ms,
   * the client checks that the node is alive (`GET /api/health`, which must answer within the
   * same time). A node that accepted the request and answers nothing, not even that check, is
   * silent (its process stopped, its host cut off): the request goes on to the next node.
   * Default {@link DEFAULT_LIVENESS_CHECK_MS}; 0 turns the checks off (a request then waits up to
   * `timeoutMs` at each node).
   */
  readonly livenessCheckMs?: number;
}

/** Default of {@link HttpTransportOptions.livenessCheckMs}. */
export const DEFAULT_LIVENESS_CHECK_MS = 2_000;
/** `details.reason` of UNREACHABLE when a node accepted a request and then answered nothing, not even a health check. */
export { NODE_SILENT_REASON };

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
  if (options.ca === undefined) {
    if (options.connectTimeoutMs !== undefined) throw new SilkError('INVALID_ARGUMENT', 'connectTimeoutMs is a limit of the connections made with ca: without it Node\'s fetch (or yours) makes them, with its own limit', { path: 'connectTimeoutMs' });
    return options.fetch ?? globalThis.fetch;
  }
  if (options.fetch !== undefined) throw new SilkError('INVALID_ARGUMENT', 'give either ca or fetch: a fetch of your own makes its own TLS connections', { path: 'ca' });
  return caFetch(caBundle(options.ca), options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs });
}

/**
 * Whether a request that failed so may go to another node: the node gave no answer (no
 * connection, or none in time), is shutting down, or has not committed the blocks the request
 * asks to be answered at (`BEHIND`). A certificate the client does not accept is
 * the client's configuration, the same at every node.
 */
function movesOn(error: SilkError): boolean {
  if (error.code === 'SHUTTING_DOWN' || error.code === 'BEHIND') return true;
  return error.code === 'UNREACHABLE' && error.details.reason !== UNTRUSTED_CERTIFICATE_REASON && error.details.reason !== 'certificate-name';
}

/** Details of an error answered by a node after others the request went to gave no answer. */
export interface AfterSilenceDetails {
  /** The nodes that were sent the request and gave no answer (they may have acted on it). */
  readonly unansweredNodes?: readonly string[];
}

/** `e` (of the same class) with the nodes that gave no answer before it in `details.unansweredNodes`. */
function afterSilence(e: SilkError, silent: readonly string[]): SilkError {
  if (silent.length === 0) return e;
  const Class = e.constructor as typeof SilkError;
  return new Class(e.code, e.message, { ...e.details, unansweredNodes: [...silent] }, { cause: e.cause });
}

/**
 * Creates the transport.
 * @throws SilkError INVALID_ARGUMENT for a bad URL, time limit or CA bundle, or a node given twice
 * @example const http = createHttpTransport({ url: 'http://127.0.0.1:8080', fallbackUrls: ['http://127.0.0.1:8081'], timeoutMs: 60_000 })
 */
export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const nodes = [options.url, ...(options.fallbackUrls ?? [])].map(normaliseBaseUrl);
  if (new Set(nodes).size !== nodes.length) throw new SilkError('INVALID_ARGUMENT', `a node is given twice in ${nodes.join(', ')}`, { path: 'fallbackUrls' });
  if (!Number.isSafeInteger(options.timeoutMs) || options.timeoutMs <= 0) throw new SilkError('INVALID_ARGUMENT', `timeoutMs must be a positive integer, got ${String(options.timeoutMs)}`, { path: 'timeoutMs' });
  const fetchFn = transportFetch(options);
  const { timeoutMs } = options;
  const livenessCheckMs = options.livenessCheckMs ?? DEFAULT_LIVENESS_CHECK_MS;
  if (!Number.isSafeInteger(livenessCheckMs) || livenessCheckMs < 0 || (livenessCheckMs > 0 && livenessCheckMs < 10)) throw new SilkError('INVALID_ARGUMENT', `livenessCheckMs must be 0 (no checks) or a whole number of ms from 10, got ${String(livenessCheckMs)}`, { path: 'livenessCheckMs' });
  const liveness = livenessCheckMs === 0 ? undefined : createLivenessMonitor({
    periodMs: livenessCheckMs,
    // Any answer, whatever its status, shows the node's process is running.
    check: async (base, ms) => { await (await fetchFn(`${base}/api/health`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(ms) })).body?.cancel(); },
  });
  /** The index in `nodes` of the node asked first. */
  let first = 0;

  const urlAt = (base: string, path: string, query?: QueryValues): string => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return `${base}${path}${qs === '' ? '' : `?${qs}`}`;
  };

  /** One exchange with the node at `base`; with `watch`, a node gone silent is given up after a failed liveness check. */
  const exchange = async <T>(base: string, method: 'GET' | 'POST', path: string, opts: RequestOptions, watch: boolean): Promise<T> => {
    const target = urlAt(base, path, opts.query);
    const where = `${method} ${target}`;
    let status: number;
    let text: string;
    let retryAfter: string | null;
    const startedAt = Date.now();
    // One signal for both ends of the wait: the time limit, and a node gone silent.
    const controller = new AbortController();
    const deadline = setTimeout(() => { controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')); }, timeoutMs);
    const send = (signal: AbortSignal): Promise<Response> => fetchFn(target, {
      method,
      headers: { ...opts.headers, accept: opts.binary === true ? 'application/octet-stream, application/json' : 'application/json', ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
      signal,
    });
    try {
      const res = watch && liveness !== undefined ? await liveness.during(base, send, controller) : await send(controller.signal);
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      if (opts.binary === true && status >= 200 && status < 300) return new Uint8Array(await res.arrayBuffer()) as T;
      text = await res.text();
    } catch (cause) {
      if (isSilkError(cause) && cause.details.reason === NODE_SILENT_REASON) {
        throw new SilkError('UNREACHABLE', `${where}: no answer after ${Date.now() - startedAt} ms, and the node did not answer a health check within ${livenessCheckMs} ms`, { reason: NODE_SILENT_REASON }, { cause });
      }
      throw unreachable(cause, where, timeoutMs);
    } finally {
      clearTimeout(deadline);
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
  };

  return {
    get baseUrl() {
      return nodes[first] as string;
    },
    get nodes() {
      return [...nodes.slice(first), ...nodes.slice(0, first)];
    },
    fetch: fetchFn,
    timeoutMs,
    url: (path, query) => urlAt(nodes[first] as string, path, query),
    async request<T>(method: 'GET' | 'POST', path: string, opts: RequestOptions = {}): Promise<T> {
      const start = first;
      const failures: SilkError[] = [];
      /** Nodes the request went to that gave no answer: they may have acted on it. */
      const silent: string[] = [];
      for (let i = 0; i < nodes.length; i++) {
        const at = (start + i) % nodes.length;
        const base = nodes[at] as string;
        try {
          // Only a request with another node to turn to gives up on a silent node early.
          const answer = await exchange<T>(base, method, path, opts, i < nodes.length - 1);
          first = at;
          return answer;
        } catch (e) {
          if (!(e instanceof SilkError)) throw e;
          if (!movesOn(e)) {
            // The node answered (a refusal is an answer): it is the one to ask first.
            if (e.code !== 'UNREACHABLE') first = at;
            throw failures.length === 0 ? e : afterSilence(e, silent);
          }
          if (i === nodes.length - 1) {
            if (failures.length === 0) throw e;
            throw new SilkError(e.code, `no node could answer: ${[...failures, e].map((f) => f.message).join('; ')}`, e.details, { cause: e });
          }
          failures.push(e);
          if (e.code !== 'BEHIND') silent.push(base);
        }
      }
      throw new SilkError('INTERNAL', 'a transport without nodes');
    },
  };
}
