/**
 * Prometheus metrics of a node, served at `GET /metrics` by a plugin of the API server: chain
 * heights, committed blocks and transactions by validation code, submit and evaluate latency by
 * outcome, HTTP request durations, ledger file sizes, open event streams and the process
 * metrics of prom-client. Everything lives in a private registry, so two nodes in one process
 * (tests) never mix their series. docs/operations.md lists every metric with its meaning.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AdmissionStats } from '../gateway/admission.js';
import type { ApiBackend } from './backend.js';
import { toSilkError } from './error-reply.js';

/** Options of {@link createNodeMetrics}. */
export interface NodeMetricsOptions {
  /** Also collect prom-client's process and Node.js runtime metrics (default true). */
  readonly processMetrics?: boolean;
  /** Labels added to every series, e.g. `{ node: 'platform-1' }`. */
  readonly defaultLabels?: Readonly<Record<string, string>>;
}

/** A node's metrics: the plugin serving them and the registry behind it. */
export interface NodeMetrics {
  /** Registers `GET /metrics` and the request hooks; pass it in `createApiServer`'s `plugins`. */
  readonly plugin: (app: FastifyInstance) => void;
  /** The private registry (for tests and for embedding in another exporter). */
  readonly registry: Registry;
  /** Stops following the peer's commits and empties the registry. */
  close(): void;
}

/** Route patterns whose latency is a submit, by what they run. */
const SUBMIT_ROUTES = new Set(['/api/chains/:chain/transactions', '/api/demo/chains/:chain/transactions']);
const EVALUATE_ROUTES = new Set(['/api/chains/:chain/evaluate', '/api/demo/chains/:chain/evaluate']);
const EVENT_ROUTE = '/api/chains/:chain/events';

/** Seconds: from a cached read to a commit waiting for a slow block. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Creates the metrics of the node behind `backend`. Committed blocks are counted from the peer's
 * height at creation on; heights and sizes are read when Prometheus scrapes.
 * @param backend the API's backend (its peer is the one measured)
 * @returns the plugin for `createApiServer({ plugins: [metrics.plugin] })` and `close()`
 * @example const metrics = createNodeMetrics(backend); const api = await createApiServer({ backend, plugins: [metrics.plugin] }); … await api.close(); metrics.close()
 */
export function createNodeMetrics(backend: ApiBackend, options: NodeMetricsOptions = {}): NodeMetrics {
  const { peer } = backend;
  const registry = new Registry();
  if (options.defaultLabels !== undefined) registry.setDefaultLabels({ ...options.defaultLabels });
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  /** Event streams this server answered and has not yet closed. */
  const eventStreams = new Set<ServerResponse>();

  new Gauge({
    name: 'silk_chain_height',
    help: 'Blocks committed on the chain by this node\'s peer (the next block number)',
    labelNames: ['chain'],
    registers,
    collect() {
      for (const chain of peer.chains()) this.set({ chain }, peer.height(chain));
    },
  });
  new Gauge({
    name: 'silk_chain_ordered_height',
    help: 'Blocks the ordering service has cut on the chain; above silk_chain_height while the peer catches up',
    labelNames: ['chain'],
    registers,
    collect() {
      for (const chain of peer.chains()) this.set({ chain }, backend.orderedHeight(chain));
    },
  });
  new Gauge({
    name: 'silk_ledger_size_bytes',
    help: 'Size of the peer\'s SQLite ledger file of the chain',
    labelNames: ['chain'],
    registers,
    collect() {
      for (const chain of peer.chains()) this.set({ chain }, peer.store(chain).sizeBytes());
    },
  });
  const admissionGauge = (name: string, help: string, read: (s: AdmissionStats) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['chain'],
      registers,
      collect() {
        for (const [chain, stats] of backend.gateway.admissionStats()) this.set({ chain }, read(stats));
      },
    });
  };
  admissionGauge('silk_gateway_admission_limit', 'Submissions of the chain the gateway lets be between endorsement and commit at once now (docs/operations.md, "Overload")', (s) => s.limit);
  admissionGauge('silk_gateway_in_flight', 'Submissions of the chain between endorsement and commit at this gateway', (s) => s.inFlight);
  admissionGauge('silk_gateway_waiting', 'Submissions of the chain waiting for admission at this gateway', (s) => s.queued);
  new Counter({
    name: 'silk_gateway_refused_total',
    help: 'Submissions refused with GATEWAY_BUSY (they waited too long for admission, or too many waited)',
    labelNames: ['chain'],
    registers,
    collect() {
      this.reset();
      for (const [chain, stats] of backend.gateway.admissionStats()) if (stats.refused > 0) this.inc({ chain }, stats.refused);
    },
  });
  new Gauge({
    name: 'silk_event_stream_clients',
    help: 'Server-Sent Event streams open now',
    registers,
    collect() {
      let open = 0;
      for (const raw of eventStreams) if (raw.headersSent && raw.statusCode === 200 && !raw.writableEnded) open++;
      this.set(open);
    },
  });

  const transactions = new Counter({ name: 'silk_transactions_committed_total', help: 'Transactions committed by the peer, by validation code (VALID or why not); rate() gives tx/s', labelNames: ['chain', 'code'], registers });
  const blocks = new Counter({ name: 'silk_blocks_committed_total', help: 'Blocks committed by the peer', labelNames: ['chain'], registers });
  const submits = new Histogram({ name: 'silk_submit_duration_seconds', help: 'Submit requests from arrival to answer (endorse, order, commit), by outcome code', labelNames: ['chain', 'code'], buckets: LATENCY_BUCKETS, registers });
  const evaluates = new Histogram({ name: 'silk_evaluate_duration_seconds', help: 'Evaluate (query) requests from arrival to answer, by outcome code', labelNames: ['chain', 'code'], buckets: LATENCY_BUCKETS, registers });
  const requests = new Histogram({ name: 'silk_http_request_duration_seconds', help: 'HTTP requests by method, route pattern and status', labelNames: ['method', 'route', 'status'], buckets: LATENCY_BUCKETS, registers });

  const unsubscribers = peer.chains().map((chain) => peer.subscribe(chain, peer.height(chain), (b) => {
    blocks.inc({ chain });
    const byCode = new Map<string, number>();
    for (const code of b.codes) byCode.set(code, (byCode.get(code) ?? 0) + 1);
    for (const [code, n] of byCode) transactions.inc({ chain, code }, n);
  }));

  /** The error code each failed request answered with. */
  const failures = new WeakMap<FastifyRequest, string>();
  /** A chain label from a URL parameter: only joined chains, so a scanner cannot grow the series. */
  const chainLabel = (req: FastifyRequest): string => {
    const chain = (req.params as { chain?: unknown }).chain;
    return typeof chain === 'string' && peer.chains().includes(chain) ? chain : 'unknown';
  };

  const plugin = (app: FastifyInstance): void => {
    app.addHook('onRequest', (req, reply, done) => {
      if (req.routeOptions.url === EVENT_ROUTE) {
        const raw = reply.raw;
        eventStreams.add(raw);
        raw.once('close', () => eventStreams.delete(raw));
      }
      done();
    });
    app.addHook('onError', (req, _reply, error, done) => {
      failures.set(req, toSilkError(error).code);
      done();
    });
    app.addHook('onResponse', (req, reply, done) => {
      const route = req.routeOptions.url;
      const seconds = reply.elapsedTime / 1000;
      requests.observe({ method: req.method, route: route ?? 'unmatched', status: String(reply.statusCode) }, seconds);
      if (route !== undefined && (SUBMIT_ROUTES.has(route) || EVALUATE_ROUTES.has(route))) {
        const submit = SUBMIT_ROUTES.has(route);
        const code = failures.get(req) ?? (reply.statusCode < 400 ? (submit ? 'VALID' : 'OK') : String(reply.statusCode));
        (submit ? submits : evaluates).observe({ chain: chainLabel(req), code }, seconds);
      }
      done();
    });
    app.get('/metrics', {
      schema: { tags: ['node'], summary: 'Prometheus metrics of this node (text exposition format)' },
      config: { rateLimit: false },
    }, async (_req, reply) => {
      const text = await registry.metrics();
      return reply.type(registry.contentType).send(text);
    });
  };

  return {
    plugin,
    registry,
    close() {
      for (const u of unsubscribers) u();
      unsubscribers.length = 0;
      registry.clear();
    },
  };
}
