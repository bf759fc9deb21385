/** Liveness and readiness. */
import type { FastifyInstance } from 'fastify';
import type { ApiBackend } from '../backend.js';

/**
 * `GET /api/health`: the process answers and its ledgers are open. `height` is one number, the
 * blocks of all the node's chains together (it grows with every block any of them commits: what a
 * probe that only wants to see progress reads), and `chains` gives each chain's own height.
 * `GET /api/ready`: 200 once the peer has committed every block the ordering service cut, else 503.
 */
export function registerHealthRoutes(app: FastifyInstance, backend: ApiBackend): void {
  app.get('/api/health', { schema: { tags: ['node'], summary: "Liveness: `height`, the blocks of all the node's chains together, and `chains`, each chain's height", security: [] }, config: { rateLimit: false } }, () => {
    const chains = Object.fromEntries(backend.peer.chains().map((c) => [c, backend.peer.height(c)]));
    const height = Object.values(chains).reduce((sum, h) => sum + h, 0);
    return { status: 'ok', height, chains };
  });

  app.get('/api/ready', { schema: { tags: ['node'], summary: 'Readiness: 200 when the peer has caught up with ordering, else 503' }, config: { rateLimit: false } }, (_req, reply) => {
    const chains = Object.fromEntries(backend.peer.chains().map((c) => [c, { height: backend.peer.height(c), ordered: backend.orderedHeight(c) }]));
    const ready = Object.values(chains).every((c) => c.height >= c.ordered);
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'catching-up', chains });
  });
}
