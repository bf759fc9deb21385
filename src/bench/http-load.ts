/**
 * One closed-loop HTTP load phase with autocannon: a fixed number of keep-alive connections,
 * each sending its next request as soon as the previous answer arrived, for a fixed window.
 * Every request is built by the caller (path, body) and every answer is classified by the
 * caller (success, or an error code), so throughput and latency count successes only.
 */
import autocannon from 'autocannon';
import { createSampleList, percentile } from './stats.js';

/** One request to send. */
export interface LoadRequest {
  readonly path: string;
  readonly body?: Buffer;
  /** Passed back with the answer (e.g. the tx id). */
  readonly tag?: string;
}

/** What an answer meant. */
export interface ResponseOutcome {
  readonly ok: boolean;
  /** `VALID`, `OK`, an API error code, or `HTTP_<status>` when the body has none. */
  readonly code: string;
}

/** A load phase. */
export interface LoadSpec {
  readonly label: string;
  /** Base URL of the server. */
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly connections: number;
  readonly durationS: number;
  /** Seconds before a request counts as timed out (default 30). */
  readonly timeoutS?: number;
  /** The next request: called right before it is written (once per request). */
  readonly next: () => LoadRequest;
  readonly classify: (status: number, body: string, tag: string | undefined) => ResponseOutcome;
}

/** What a phase measured: answers that arrived within the window. */
export interface LoadResult {
  readonly label: string;
  readonly connections: number;
  readonly durationS: number;
  readonly responses: number;
  /** Successful answers. */
  readonly ok: number;
  /** ok ÷ window. */
  readonly okPerSec: number;
  /** Latency of the successful answers (request written → answer parsed), nearest rank. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Unsuccessful answers by code. */
  readonly errorsByCode: Readonly<Record<string, number>>;
  /** Connection errors and timeouts (no answer). */
  readonly socketErrors: number;
  readonly timeouts: number;
  readonly bytesPerResponse: number;
  /** Answers that arrived after the window, before autocannon closed its connections (not counted). */
  readonly late: number;
  /** CPU time of this (the client) process over the phase, µs. */
  readonly clientCpuUs: number;
}

interface Context {
  tag?: string | undefined;
}

/**
 * Runs one phase.
 * @param spec target, connections, window, request builder and answer classifier
 * @returns counts, rate and latency of the successful answers in the window
 * @throws Error when autocannon fails to start
 * @example const r = await runLoad({ label: 'GET health', url, method: 'GET', connections: 8, durationS: 5, next: () => ({ path: '/api/health' }), classify: (s) => ({ ok: s === 200, code: String(s) }) })
 */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  // autocannon calls onResponse and then, synchronously, emits 'response' with the latency.
  let answered: ResponseOutcome | undefined;
  const request: autocannon.Request = {
    method: spec.method,
    headers: spec.method === 'POST' ? { 'content-type': 'application/json' } : {},
    setupRequest: (req, context) => {
      const r = spec.next();
      (context as Context).tag = r.tag;
      req.path = r.path;
      if (r.body !== undefined) req.body = r.body;
      return req;
    },
    onResponse: (status, body, context) => {
      answered = spec.classify(status, body, (context as Context).tag);
    },
  };
  const latencies = createSampleList(1 << 16);
  const errorsByCode: Record<string, number> = {};
  let responses = 0;
  let ok = 0;
  let bytes = 0;
  let late = 0;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const windowEnd = t0 + spec.durationS * 1000;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      // sampleInt: autocannon stops at its first sample tick after the duration; 100 ms keeps that close.
      { url: spec.url, connections: spec.connections, duration: spec.durationS, timeout: spec.timeoutS ?? 30, pipelining: 1, sampleInt: 100, requests: [request] },
      (err: unknown, r: autocannon.Result) => {
        if (err !== null && err !== undefined) reject(err instanceof Error ? err : new Error(`${spec.label}: autocannon failed`, { cause: err }));
        else resolve(r);
      },
    );
    instance.on('response', (_client, status, resBytes, ms) => {
      const o = answered ?? { ok: false, code: `HTTP_${status}` };
      answered = undefined;
      if (performance.now() > windowEnd) {
        late++;
        return;
      }
      responses++;
      bytes += resBytes;
      if (o.ok) {
        ok++;
        latencies.push(ms);
      } else {
        errorsByCode[o.code] = (errorsByCode[o.code] ?? 0) + 1;
      }
    });
  });
  const c = process.cpuUsage(cpu);
  const sorted = latencies.sorted();
  return {
    label: spec.label,
    connections: spec.connections,
    durationS: spec.durationS,
    responses,
    ok,
    okPerSec: ok / spec.durationS,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    errorsByCode,
    socketErrors: result.errors - result.timeouts,
    timeouts: result.timeouts,
    bytesPerResponse: responses > 0 ? bytes / responses : 0,
    late,
    clientCpuUs: c.user + c.system,
  };
}

/**
 * The API error code of an answer: `error.code` of its JSON body, or `HTTP_<status>`.
 * @param status the HTTP status
 * @param body the answer's body
 */
export function errorCodeOf(status: number, body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown } } | null;
    const code = parsed?.error?.code;
    if (typeof code === 'string') return code;
  } catch {
    // Not JSON: the status is all there is.
  }
  return `HTTP_${status}`;
}
