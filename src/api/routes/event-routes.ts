/**
 * Server-Sent Events: committed blocks and the contract events of their valid transactions.
 * Each block's contract events come first, then the block message with `id:` = its number,
 * so a client that reconnects with `Last-Event-ID: N` resumes at block N + 1 and receives every
 * block and event exactly once.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { SilkError } from '../../errors.js';
import type { CommittedBlock } from '../../peer/peer.js';
import type { ApiBackend } from '../backend.js';
import { ChainParams, DEMO_MODE_HEADER, EventsQuery } from '../wire.js';

/** A client this far behind (bytes buffered) is disconnected; it resumes with Last-Event-ID. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;

function lastEventId(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header[0] : header;
  if (text === undefined || text === '') return undefined;
  if (!/^\d{1,15}$/.test(text)) throw new SilkError('INVALID_ARGUMENT', 'Last-Event-ID must be a block number', { path: 'headers.last-event-id' });
  return Number(text);
}

function blockMessage(b: CommittedBlock): string {
  const data = { chain: b.chain, number: b.number, hash: b.hash, timestamp: b.timestamp, commitHash: b.commitHash, transactions: b.txIds.map((txId, i) => ({ txId: txId ?? null, code: b.codes[i] })) };
  return `id: ${b.number}\nevent: block\ndata: ${JSON.stringify(data)}\n\n`;
}

function contractMessages(b: CommittedBlock): string {
  let out = '';
  for (const tx of b.events) {
    for (const e of tx.events) {
      out += `event: contract\ndata: ${JSON.stringify({ chain: b.chain, block: b.number, txId: tx.txId, tx: tx.tx, contract: tx.contract, name: e.name, payload: JSON.parse(e.payload) as unknown })}\n\n`;
    }
  }
  return out;
}

/** Registers `GET /api/chains/:chain/events`; open streams end when the server closes. */
export function registerEventRoutes(app: FastifyInstance, backend: ApiBackend): void {
  const open = new Set<ServerResponse>();
  app.addHook('preClose', (done) => {
    for (const raw of open) raw.end();
    open.clear();
    done();
  });

  app.get<{ Params: ChainParams; Querystring: EventsQuery }>(
    '/api/chains/:chain/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Server-Sent Events of committed blocks and contract events, resumable with Last-Event-ID (a block number)',
        params: ChainParams,
        querystring: EventsQuery,
      },
      config: { rateLimit: false },
    },
    (req, reply) => {
      const { chain } = req.params;
      const height = backend.peer.height(chain);
      const last = lastEventId(req.headers['last-event-id']);
      const from = last !== undefined ? last + 1 : (req.query.from ?? height);
      const types = new Set((req.query.types ?? 'block,contract').split(','));
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        ...(backend.demoIdentities === undefined ? {} : { [DEMO_MODE_HEADER]: 'server-held keys for demo users' }),
      });
      raw.write('retry: 2000\n\n');
      open.add(raw);
      let unsubscribe = (): void => undefined;
      const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      const stop = (): void => {
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(raw);
      };
      req.raw.on('close', stop);
      raw.on('close', stop);
      unsubscribe = backend.peer.subscribe(chain, from, (b) => {
        if (raw.writableEnded) return;
        raw.write((types.has('contract') ? contractMessages(b) : '') + (types.has('block') ? blockMessage(b) : `id: ${b.number}\n\n`));
        if (raw.writableLength > MAX_BUFFERED_BYTES) {
          req.log.info({ chain, block: b.number }, 'event stream client too slow; disconnected to resume later');
          raw.end();
        }
      });
      if (raw.writableEnded) stop();
    },
  );
}
