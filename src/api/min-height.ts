/**
 * Reads at a height the client has seen: a request on a chain may carry `Silk-Min-Height: N`,
 * the number of blocks of that chain the client has already seen (from a commit it was told of
 * or a read at another node). The node answers it only once it holds N blocks: it waits for
 * them a moment, then refuses with `BEHIND`, so a client moving between nodes never reads a
 * state older than its own writes, nor sees the ledger go back. The SDK sends the header by
 * itself (docs/sdk.md, "Several nodes").
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SilkError } from '../errors.js';
import { waitForPeerHeight } from '../peer/height-wait.js';
import type { Peer } from '../peer/peer.js';
import { MIN_HEIGHT_HEADER } from './wire.js';

/** How long a node behind waits for the blocks a request asks for before answering `BEHIND` (ms). */
export const DEFAULT_MIN_HEIGHT_WAIT_MS = 2_000;

/** A height a client can have seen: at most 2^53 − 1, as every block number. */
const HEIGHT = /^\d{1,16}$/;

/**
 * The height a request asks for, or undefined without the header.
 * @throws SilkError INVALID_ARGUMENT when the header is not one whole number
 */
export function requestedMinHeight(req: FastifyRequest): number | undefined {
  const raw = req.headers[MIN_HEIGHT_HEADER];
  if (raw === undefined) return undefined;
  const text = Array.isArray(raw) ? raw.join(',') : raw;
  const n = Number(text);
  if (!HEIGHT.test(text) || !Number.isSafeInteger(n)) throw new SilkError('INVALID_ARGUMENT', `the ${MIN_HEIGHT_HEADER} header must be a block count (a whole number), got '${text.slice(0, 40)}'`, { path: MIN_HEIGHT_HEADER });
  return n;
}

/**
 * Registers the wait on every route about a chain (a `:chain` parameter, or `?chain=` as the
 * EPCIS routes have): a request asking for more blocks than the peer holds waits until it holds
 * them, at most `waitMs`, then is refused with `BEHIND`. Routes without a chain, and a chain the
 * peer does not hold (the route answers `UNKNOWN_CHAIN`), are left alone.
 * @example registerMinHeight(app, backend.peer, 2_000)
 */
export function registerMinHeight(app: FastifyInstance, peer: Peer, waitMs: number): void {
  // A callback hook: a request without the header (nearly all) costs one header lookup, no promise.
  app.addHook('preHandler', (req, _reply, done) => {
    let minHeight: number | undefined;
    try {
      minHeight = requestedMinHeight(req);
    } catch (e) {
      done(e as SilkError);
      return;
    }
    const chain = minHeight === undefined ? undefined : chainOf(req);
    if (minHeight === undefined || chain === undefined || !peer.chains().includes(chain) || peer.height(chain) >= minHeight) {
      done();
      return;
    }
    const wanted = minHeight;
    void waitForPeerHeight(peer, chain, wanted, waitMs).then((reached) => {
      if (reached) {
        done();
        return;
      }
      const height = peer.height(chain);
      done(new SilkError('BEHIND', `this node holds ${height} blocks of ${chain} and the request asks to be answered at ${wanted} or more; it waited ${waitMs} ms: ask another node, or this one again shortly`, { chain, height, minHeight: wanted }));
    });
  });
}

/** The chain a request is about: the route's `:chain`, or the `chain` query parameter (the EPCIS routes). */
function chainOf(req: FastifyRequest): string | undefined {
  const fromPath = (req.params as { chain?: unknown } | undefined)?.chain;
  if (typeof fromPath === 'string') return fromPath;
  const fromQuery = (req.query as { chain?: unknown } | undefined)?.chain;
  return typeof fromQuery === 'string' ? fromQuery : undefined;
}
