/**
 * The API's graceful stop, run by `ApiServer.close()` before Fastify's own close. Draining first stops listening,
 * so a new connection is refused before anything is sent (a client knows its request was not
 * run); connections already open stay open: a request arriving on one is refused with
 * `SHUTTING_DOWN` (503, a body clients understand), and every answer now carries
 * `Connection: close`, so no client keeps a connection the server is about to drop. Draining
 * ends when the requests in flight have been answered, no request has arrived for a moment,
 * and every connection not yet told to close has been idle for a second (a loaded process may
 * not have read a request already sent on it); closing the server after that finds nothing busy.
 *
 * Fastify's own close, used alone, closes idle keep-alive connections at once (a client sending
 * on one at that moment sees a reset and cannot tell whether its submit ran), answers requests
 * on busy connections with a bare 503 body without an error code, and keeps the connections of
 * requests that complete during the close alive until their keep-alive timeout (72 s), so a
 * stop under load took that long.
 */
import type { ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { SilkError } from '../errors.js';

/** Routes whose requests last as long as the client wants (event streams): they end at close, not drain. */
const LONG_LIVED_ROUTES = new Set(['/api/chains/:chain/events']);
/**
 * Draining ends once no request has arrived for this long: requests that raced the stop on
 * kept-alive connections (typically the clients whose last answers ended the drain) are then
 * answered SHUTTING_DOWN instead of finding their connection dropped by the close.
 */
const QUIET_MS = 200;
/**
 * A kept-alive connection that has not been told `Connection: close` (its last answer came
 * before the stop) may carry a request the loaded process has not read yet: draining waits
 * until each such connection has been idle this long since the stop began or its last request.
 */
const UNTOLD_IDLE_MS = 1000;
const POLL_MS = 20;

/** The outcome of {@link ShutdownGate.drain}. */
export interface DrainResult {
  /** True when every request in flight was answered before the timeout. */
  readonly drained: boolean;
  /** Requests still unanswered at the end. */
  readonly inFlight: number;
}

/** The gate: a plugin `createApiServer` registers first, and the call that starts draining. */
export interface ShutdownGate {
  readonly plugin: (app: FastifyInstance) => void;
  /**
   * Stops listening, refuses new requests on open connections and waits until those in flight
   * are answered and no request has arrived for a moment; Fastify's close follows.
   * @param timeoutMs longest wait (a submit waits at most for the gateway's commit timeout)
   */
  drain(timeoutMs: number): Promise<DrainResult>;
}

/**
 * Creates a shutdown gate.
 * @example const gate = createShutdownGate(); gate.plugin(app); … await gate.drain(35_000); await app.close()
 */
export function createShutdownGate(): ShutdownGate {
  const inFlight = new Set<ServerResponse>();
  /** Open connections: when a request last arrived on each, and whether it was told to close. */
  const connections = new Map<Socket, { lastArrival: number; told: boolean }>();
  let stopping = false;
  let lastArrival = 0;
  let listener: NetServer | undefined;

  const plugin = (app: FastifyInstance): void => {
    listener = app.server;
    app.server.on('connection', (socket: Socket) => {
      connections.set(socket, { lastArrival: 0, told: false });
      socket.once('close', () => connections.delete(socket));
    });
    app.addHook('onRequest', (req, reply, done) => {
      lastArrival = Date.now();
      const connection = connections.get(req.raw.socket);
      if (connection !== undefined) connection.lastArrival = lastArrival;
      if (stopping) {
        void reply.header('connection', 'close');
        done(new SilkError('SHUTTING_DOWN', 'the node is stopping and accepts no new requests; retry against another node or once it is back'));
        return;
      }
      const route = req.routeOptions.url;
      if (route === undefined || !LONG_LIVED_ROUTES.has(route)) {
        const raw = reply.raw;
        inFlight.add(raw);
        raw.once('close', () => inFlight.delete(raw));
      }
      done();
    });
    app.addHook('onSend', (req, reply, payload, done) => {
      if (stopping) {
        void reply.header('connection', 'close');
        const connection = connections.get(req.raw.socket);
        if (connection !== undefined) connection.told = true;
      }
      done(null, payload);
    });
  };

  return {
    plugin,
    async drain(timeoutMs) {
      stopping = true;
      const started = Date.now();
      lastArrival = Math.max(lastArrival, started);
      // The listening socket only: http.Server#close would also drop idle keep-alive connections
      // now, racing clients that are sending on them. They get SHUTTING_DOWN instead.
      if (listener?.listening === true) NetServer.prototype.close.call(listener);
      const untoldBusy = (now: number): boolean => [...connections.values()].some((c) => !c.told && now - Math.max(c.lastArrival, started) < UNTOLD_IDLE_MS);
      while (inFlight.size > 0 || Date.now() - lastArrival < QUIET_MS || untoldBusy(Date.now())) {
        if (Date.now() - started >= timeoutMs) return { drained: inFlight.size === 0, inFlight: inFlight.size };
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      return { drained: true, inFlight: 0 };
    },
  };
}
