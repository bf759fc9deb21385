/**
 * The peer-to-peer routes of a peer process, served only to registered peer processes of member
 * orgs over mutual TLS (their certificate checked against the membership, `identifyTlsClient`):
 *
 * | route | answer |
 * |---|---|
 * | `POST /peer/v1/endorse` `{ proposal, signature }` (base64, as the API's signed proposal body) | the endorsement of the local `peer.endorse()`, canonical CBOR (`application/cbor`, see `endorsement-wire.ts`), or the API's error body with the registry's status |
 * | `GET /peer/v1/height?chain=C[&min=N&waitMs=MS]` | `{ chain, height }`; with `min`, answered once the peer has `min` blocks or after `waitMs` (at most 5 s), whichever comes first |
 * | `GET /api/chains/{chain}/blocks/{n}/raw` | the block's ordered bytes (`application/octet-stream`), for a peer catching up (the same path as the API's, so a follower's URLs differ only in the scheme); the fetching peer checks every block itself |
 *
 * A peer added to the network after this process started is not in the membership it was given:
 * a certificate refused as `unregistered` makes the service re-read the membership
 * (`refreshMembership`, at most once a second) before it answers 403.
 *
 * The routes share the peer's own port with its public API ({@link PeerEndorsementService.shareListener}):
 * the port serves HTTPS with the peer's certificate and asks each client for a certificate of a
 * member CA without requiring one. A connection that presents a certificate is a process of the
 * alliance and is handed to these routes (which admit registered peers only, whatever the
 * handshake's verdict on the chain: one that fails it is answered 403 `UNTRUSTED_CERTIFICATE`,
 * reason `unknown-issuer`); a connection without one is an API client (a browser, `silk`, the
 * SDK) and goes to the API. The network description needs no second port per peer.
 */
import { TLSSocket, type Server as TlsServer } from 'node:tls';
import { Type, type Static } from '@sinclair/typebox';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { sendError } from '../api/error-reply.js';
import { BlockParams, fromBase64 } from '../api/wire.js';
import { isSilkError, SilkError } from '../errors.js';
import { decodeProposal } from '../ledger/proposal.js';
import type { Peer } from '../peer/peer.js';
import { encodeEndorsementReply } from './endorsement-wire.js';
import { identifyTlsClient } from './mtls.js';
import type { TlsMembership } from './tls-pki.js';
import { waitForPeerHeight } from '../peer/height-wait.js';

/** Longest wait a height request may ask for. */
export const MAX_HEIGHT_WAIT_MS = 5_000;
/** Shortest time between two re-reads of the membership for an unregistered certificate. */
export const MEMBERSHIP_REFRESH_MS = 1_000;

const Base64 = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '^[A-Za-z0-9+/]+={0,2}$' });
const EndorseBody = Type.Object({ proposal: Base64(3 * 1024 * 1024), signature: Base64(200) }, { additionalProperties: false });
const HeightQuery = Type.Object({
  chain: Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$' }),
  min: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  waitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_HEIGHT_WAIT_MS })),
}, { additionalProperties: false });

/** Options of {@link openPeerEndorsementService}. */
export interface PeerEndorsementServiceOptions {
  /** The process's peer: it endorses, reports heights and is watched for new blocks. */
  readonly peer: Pick<Peer, 'name' | 'endorse' | 'height' | 'subscribe' | 'blockBytes'>;
  /** Who may call: registered peer processes of member orgs. */
  readonly membership: TlsMembership;
  /**
   * The membership as it is now (e.g. re-read from the network description), asked when a
   * certificate is refused as unregistered: a peer added since this process started is admitted.
   */
  readonly refreshMembership?: () => TlsMembership;
  readonly logger?: Logger;
}

/** The peer-to-peer routes of a peer process. */
export interface PeerEndorsementService {
  /**
   * Shares an HTTPS server's port (the peer's API, created with `clientCa` so that it asks for
   * client certificates): connections presenting a certificate are served here, every other one by
   * that server as before. Call before it listens.
   */
  shareListener(server: TlsServer): void;
  /** Refuses new connections, closes the open ones (requests are short) and stops. */
  close(): Promise<void>;
}

/** Resolves once `peer` has `height` blocks of `chain`, or after `ms`. */
function heightReached(peer: PeerEndorsementServiceOptions['peer'], chain: string, height: number, ms: number): Promise<void> {
  return waitForPeerHeight(peer, chain, height, ms).then(() => undefined);
}

function registerRoutes(app: FastifyInstance, options: PeerEndorsementServiceOptions, isClosing: () => boolean): void {
  const { peer } = options;
  app.post('/peer/v1/endorse', { schema: { body: EndorseBody } }, async (request, reply) => {
    if (isClosing()) throw new SilkError('SHUTTING_DOWN', `peer ${peer.name} is stopping`);
    const body = request.body as Static<typeof EndorseBody>;
    const signed = { bytes: fromBase64(body.proposal), signature: fromBase64(body.signature) };
    // The height before simulating: the state the endorsement read is at least this recent.
    const height = peer.height(decodeProposal(signed.bytes).chain);
    const e = peer.endorse(signed);
    const bytes = encodeEndorsementReply({ result: e.result, endorser: e.endorsement.endorser, signature: e.endorsement.signature, height });
    return reply.type('application/cbor').send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
  app.get('/peer/v1/height', { schema: { querystring: HeightQuery } }, async (request) => {
    if (isClosing()) throw new SilkError('SHUTTING_DOWN', `peer ${peer.name} is stopping`);
    const q = request.query as Static<typeof HeightQuery>;
    peer.height(q.chain); // UNKNOWN_CHAIN before waiting
    if (q.min !== undefined) await heightReached(peer, q.chain, q.min, q.waitMs ?? 0);
    return { chain: q.chain, height: peer.height(q.chain) };
  });
  app.get('/api/chains/:chain/blocks/:number/raw', { schema: { params: BlockParams } }, async (request, reply) => {
    const { chain, number } = request.params as BlockParams;
    const bytes = peer.blockBytes(chain, number);
    if (bytes === undefined) throw new SilkError('NOT_FOUND', `chain ${chain} has no block ${number} (height ${peer.height(chain)})`, { block: number });
    return reply.type('application/octet-stream').send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
}

/**
 * The `onRequest` hook admitting registered peer processes only (403 with the error body
 * otherwise), re-reading the membership once for an unregistered certificate.
 */
function admitPeers(options: PeerEndorsementServiceOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  let membership = options.membership;
  let refreshedAt = 0;
  const refresh = (): boolean => {
    if (options.refreshMembership === undefined || Date.now() - refreshedAt < MEMBERSHIP_REFRESH_MS) return false;
    refreshedAt = Date.now();
    try {
      membership = options.refreshMembership();
      return true;
    } catch (error) {
      options.logger?.warn({ err: error }, 'the membership could not be re-read; keeping the one in use');
      return false;
    }
  };
  return async (request, reply) => {
    const socket = request.raw.socket;
    if (!(socket instanceof TLSSocket)) throw new SilkError('UNTRUSTED_CERTIFICATE', 'the peer-to-peer routes are served over mutual TLS only', { reason: 'no-tls' });
    try {
      identifyTlsClient(socket, membership, ['peer']);
    } catch (error) {
      if (!isSilkError(error, 'UNTRUSTED_CERTIFICATE')) throw error;
      let refusal = error;
      if (error.details.reason === 'unregistered' && refresh()) {
        try {
          identifyTlsClient(socket, membership, ['peer']);
          return;
        } catch (again) {
          if (!isSilkError(again, 'UNTRUSTED_CERTIFICATE')) throw again;
          refusal = again;
        }
      }
      await reply.code(refusal.httpStatus).send(refusal.toJSON());
    }
  };
}

/**
 * Creates the peer-to-peer routes of a peer process, reachable once they share the HTTPS port of
 * its API ({@link PeerEndorsementService.shareListener}): that port's TLS does the handshake, and
 * this service's HTTP side (never listening itself) serves the connections handed to it.
 * @example const p2p = await openPeerEndorsementService({ peer, membership }); p2p.shareListener(api.app.server)
 */
export async function openPeerEndorsementService(options: PeerEndorsementServiceOptions): Promise<PeerEndorsementService> {
  let closing = false;
  const app: FastifyInstance = Fastify({
    ...(options.logger === undefined ? { logger: false } : { loggerInstance: options.logger }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 4 * 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  }) as unknown as FastifyInstance;
  app.setErrorHandler(sendError);
  app.removeContentTypeParser('text/plain');
  app.setNotFoundHandler((request, reply) => {
    sendError(new SilkError('NOT_FOUND', `no peer-to-peer route ${request.method} ${request.url.split('?')[0] ?? ''}`), request, reply);
  });
  app.addHook('onRequest', admitPeers(options));
  registerRoutes(app, options, () => closing);
  await app.ready();

  const handed = new Set<TLSSocket>();
  const handToPeers = (socket: TLSSocket): void => {
    if (closing) {
      socket.destroy();
      return;
    }
    handed.add(socket);
    socket.once('close', () => handed.delete(socket));
    // This service's HTTP side takes the established TLS connection, as an HTTPS server's does.
    app.server.emit('connection', socket);
  };

  return {
    shareListener(server) {
      const api = server.listeners('secureConnection') as ((socket: TLSSocket) => void)[];
      server.removeAllListeners('secureConnection');
      server.on('secureConnection', (socket: TLSSocket) => {
        if (socket.getPeerX509Certificate() !== undefined) {
          handToPeers(socket);
          return;
        }
        for (const listener of api) listener.call(server, socket);
      });
    },
    async close() {
      closing = true;
      for (const socket of handed) socket.destroy();
      await app.close();
    },
  };
}
