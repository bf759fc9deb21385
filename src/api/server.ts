/**
 * The HTTP API (Fastify): chains, blocks, transactions, state, rich queries, evaluate and
 * submit, Server-Sent Events, health and readiness, OpenAPI 3 at `/docs`, the web UI at `/`. Every body and query
 * string is validated against its schema (src/api/wire.ts); body size, page size and request
 * rate are limited; every error is a JSON body with a code from the one registry.
 */
import type { Server as TlsServer } from 'node:tls';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { SilkError } from '../errors.js';
import type { ApiBackend } from './backend.js';
import { sendError } from './error-reply.js';
import { DEFAULT_MIN_HEIGHT_WAIT_MS, registerMinHeight } from './min-height.js';
import { answerPlainHttp } from './plain-http-answer.js';
import { createShutdownGate } from './shutdown-gate.js';
import { registerChainRoutes } from './routes/chain-routes.js';
import { registerEpcisRoutes } from './routes/epcis-routes.js';
import { registerEventRoutes } from './routes/event-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerIdentityRoutes } from './routes/identity-routes.js';
import { registerProvenanceRoutes } from './routes/provenance-routes.js';
import { registerStateRoutes } from './routes/state-routes.js';
import { registerTransactionRoutes } from './routes/transaction-routes.js';
import { registerWebUi } from './web-ui.js';
import { DEMO_MODE_HEADER } from './wire.js';

/** Longest wait for requests in flight at a stop: a submit waits at most 30 s for its commit. */
const DRAIN_TIMEOUT_MS = 35_000;

/** Options of {@link createApiServer}. */
export interface ApiServerOptions {
  readonly backend: ApiBackend;
  readonly logger?: Logger;
  /** Largest request body (default 3 MiB: a 2 MiB proposal in base64). */
  readonly bodyLimitBytes?: number;
  /** Requests per minute per client address; 0 turns the limit off (default 6000). */
  readonly rateLimitPerMinute?: number;
  /** Extra routes registered on the same server (metrics, the web UI). */
  readonly plugins?: readonly ((app: FastifyInstance) => void | Promise<void>)[];
  /**
   * Serve HTTPS with this certificate (PEM, the leaf or the leaf and its chain) and private key:
   * TLS 1.2 or later, server authentication only unless `clientCa` asks for client certificates;
   * a plain HTTP request is answered `HTTPS_REQUIRED` (src/api/plain-http-answer.ts). Without it
   * the server speaks plain HTTP.
   */
  readonly https?: ApiHttpsOptions;
  /**
   * The built web UI this server serves at `/` (src/api/web-ui.ts): its folder, or `false` for
   * none (default: dist/web, where `npm run build` puts it).
   */
  readonly webUi?: string | false;
  /** How long a request whose `Silk-Min-Height` this node has not reached waits for it before `BEHIND` (default 2,000 ms; src/api/min-height.ts). */
  readonly minHeightWaitMs?: number;
}

/** The certificate and key an HTTPS API server presents. */
export interface ApiHttpsOptions {
  readonly cert: string;
  readonly key: string;
  /**
   * Ask each client for a certificate issued by one of these CAs (PEM), without requiring one: a
   * client without a certificate is served as any other, and a connection's certificate and the
   * handshake's verdict on it stay on its socket (a peer's port hands the connections that present
   * one to its peer-to-peer routes, src/distributed/peer-endorsement-service.ts).
   */
  readonly clientCa?: string;
}

/** Why the server could not listen, in words an operator acts on; other failures pass unchanged. */
function listenError(e: unknown, host: string, port: number): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const reasons: Record<string, string> = {
    EADDRINUSE: 'the port is already in use by another process: stop it or choose another port',
    EACCES: 'no permission to listen on this port (ports below 1024 need privileges): choose a port above 1023',
    EADDRNOTAVAIL: `${host} is not an address of this machine`,
    ENOTFOUND: `the host name ${host} does not resolve`,
  };
  const reason = code === undefined ? undefined : reasons[code];
  if (reason === undefined) return e;
  return new SilkError('INVALID_ARGUMENT', `cannot listen on ${host}:${port}: ${reason}`, { host, port, reason: code }, { cause: e });
}

/** A created (not yet listening) API server. */
export interface ApiServer {
  readonly app: FastifyInstance;
  /** Starts listening. @returns the base URL */
  listen(options: { port: number; host?: string }): Promise<string>;
  /**
   * Stops gracefully: stops listening, answers requests arriving on open connections with
   * SHUTTING_DOWN, waits for those in flight (at most `drainTimeoutMs`, default 35 s: a submit
   * waits up to 30 s for its commit), then ends event streams and closes.
   */
  close(options?: { readonly drainTimeoutMs?: number }): Promise<void>;
}

/**
 * Creates the API server over a backend.
 * @example const api = await createApiServer({ backend: embeddedApiBackend(net, { org: 'Platform' }) }); await api.listen({ port: 8080 })
 */
export async function createApiServer(options: ApiServerOptions): Promise<ApiServer> {
  // Fastify types its instance by the logger it is given; the base logger type keeps plugins' types simple.
  const logger: FastifyBaseLogger | undefined = options.logger;
  const tls = options.https;
  const clientCertificates = tls?.clientCa === undefined ? {} : { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false };
  const https = tls === undefined ? {} : { https: { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' as const, ...clientCertificates } };
  const app = Fastify({
    ...https,
    ...(logger === undefined ? { logger: false } : { loggerInstance: logger }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes ?? 3 * 1024 * 1024,
    // The shutdown gate answers requests during a stop with SHUTTING_DOWN in the usual error shape.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  });
  app.setErrorHandler(sendError);
  if (options.https !== undefined) {
    // Plain HTTP to the https address is answered HTTPS_REQUIRED, naming the https URL.
    answerPlainHttp(app.server as unknown as TlsServer);
    // A client that does not trust the certificate: the handshake fails and the connection is closed.
    app.server.on('tlsClientError', (error: Error & { code?: string }) => {
      app.log.debug({ code: error.code, reason: error.message }, 'TLS handshake with a client failed; connection closed');
    });
  }
  const gate = createShutdownGate();
  gate.plugin(app);
  // Bodies are JSON only: anything else is refused with UNSUPPORTED_MEDIA_TYPE, never parsed as text.
  app.removeContentTypeParser('text/plain');
  app.setNotFoundHandler((req, reply) => {
    sendError(new SilkError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0] ?? ''}; the API is described at /docs`), req, reply);
  });
  if (options.backend.demoIdentities !== undefined) {
    app.addHook('onSend', (_req, reply, payload, done) => {
      void reply.header(DEMO_MODE_HEADER, 'server-held keys for demo users');
      done(null, payload);
    });
  }

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Silkledger API', version: '1', description: 'Permissioned ledger for cross-border e-commerce alliances. Errors are `{ "error": { "code", "message", … } }` with codes from docs/errors.md.' },
      tags: [{ name: 'node' }, { name: 'chains' }, { name: 'blocks' }, { name: 'transactions' }, { name: 'state' }, { name: 'events' }, { name: 'identities' }, { name: 'traceability' }, { name: 'demo' }],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  const perMinute = options.rateLimitPerMinute ?? 6000;
  if (perMinute > 0) {
    await app.register(fastifyRateLimit, {
      max: perMinute,
      timeWindow: 60_000,
      errorResponseBuilder: (_req, context) => new SilkError('RATE_LIMITED', `more than ${context.max} requests per minute; retry in ${Math.ceil(context.ttl / 1000)} s`),
    });
  }

  const { backend } = options;
  registerMinHeight(app, backend.peer, options.minHeightWaitMs ?? DEFAULT_MIN_HEIGHT_WAIT_MS);
  registerHealthRoutes(app, backend);
  registerChainRoutes(app, backend);
  registerStateRoutes(app, backend);
  registerTransactionRoutes(app, backend);
  registerEventRoutes(app, backend);
  registerIdentityRoutes(app, backend);
  registerEpcisRoutes(app, backend);
  registerProvenanceRoutes(app, backend);
  if (options.webUi !== false) registerWebUi(app, options.webUi);
  for (const plugin of options.plugins ?? []) await plugin(app);
  await app.ready();

  return {
    app,
    async listen({ port, host = '127.0.0.1' }) {
      try {
        return await app.listen({ port, host });
      } catch (e) {
        throw listenError(e, host, port);
      }
    },
    async close(closeOptions) {
      const drain = await gate.drain(closeOptions?.drainTimeoutMs ?? DRAIN_TIMEOUT_MS);
      if (!drain.drained) app.log.warn({ inFlight: drain.inFlight }, 'requests still in flight at the drain timeout; closing anyway');
      await app.close();
    },
  };
}
