/**
 * The EPCIS 2.0 REST binding's capture and event query interfaces over the `epcis` contract.
 *
 * Capture is a write, so as everywhere in this API the client signs: `POST /api/epcis/capture`
 * takes a signed proposal for `epcis.captureEvents` (the SDK's `prepareCapture` + `propose`, or
 * `silk epcis import`, build it after validating the document locally). The demo alliance also
 * accepts `{ as, document }` at `/api/demo/epcis/capture`, validated here and signed with the
 * server-held key. Either way one document is one transaction: all events recorded or none
 * (`GS1-Capture-Error-Behaviour: rollback`).
 *
 * `GET /api/epcis/events` reads committed state (no signature, like the other state reads) and
 * answers with an `EPCISQueryDocument` of the events exactly as captured.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { SilkError } from '../../errors.js';
import { receiptToJson } from '../../ledger/receipt.js';
import { captureDocument } from '../../traceability/epcis-capture.js';
import { epcisQueryDocument } from '../../traceability/epcis-export.js';
import { queryEpcisEvents, type EpcisEventQuery, type EpcisStateReader } from '../../traceability/epcis-ledger-index.js';
import type { ApiBackend } from '../backend.js';
import { DEFAULT_PAGE_SIZE, fromBase64, MAX_PAGE_SIZE, SignedProposalBody } from '../wire.js';

const Name = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
const Uri = Type.String({ minLength: 1, maxLength: 700 });
const Time = Type.String({ minLength: 20, maxLength: 40, description: 'RFC 3339 with an offset' });

/** Which chain a capture goes to. */
export const EpcisCaptureQuery = Type.Object({ chain: Name }, { additionalProperties: false });
export type EpcisCaptureQuery = Static<typeof EpcisCaptureQuery>;

/** A capture signed with a demo user's server-held key (demo alliance only). */
export const DemoEpcisCaptureBody = Type.Object(
  {
    as: Type.Object({ org: Name, name: Name }, { additionalProperties: false }),
    document: Type.Unknown({ description: 'an EPCISDocument (JSON-LD)' }),
  },
  { additionalProperties: false },
);
export type DemoEpcisCaptureBody = Static<typeof DemoEpcisCaptureBody>;

/** Event query parameters: the EPCIS 2.0 REST binding's names where it has them. */
export const EpcisEventsQuery = Type.Object(
  {
    chain: Name,
    epc: Type.Optional(Type.String({ ...Uri, description: 'an EPC or EPC class in any list of the event (URN or Digital Link)' })),
    bizStep: Type.Optional(Uri),
    disposition: Type.Optional(Uri),
    readPoint: Type.Optional(Uri),
    bizLocation: Type.Optional(Uri),
    GE_eventTime: Type.Optional(Time),
    LT_eventTime: Type.Optional(Time),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })),
    bookmark: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  },
  { additionalProperties: false },
);
export type EpcisEventsQuery = Static<typeof EpcisEventsQuery>;

const CONTRACT = 'epcis';

/** Keeps only the members that are set. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Registers the EPCIS capture and query routes (and the demo capture when the backend has demo keys). */
export function registerEpcisRoutes(app: FastifyInstance, backend: ApiBackend): void {
  const { gateway, peer } = backend;

  app.post<{ Querystring: EpcisCaptureQuery; Body: SignedProposalBody }>(
    '/api/epcis/capture',
    {
      schema: {
        tags: ['traceability'],
        summary: 'Captures an EPCIS document: a signed proposal for epcis.captureEvents, one transaction, all or nothing',
        querystring: EpcisCaptureQuery,
        body: SignedProposalBody,
      },
    },
    async (req, reply) => {
      const { chain } = req.query;
      const signed = { bytes: fromBase64(req.body.proposal), signature: fromBase64(req.body.signature) };
      const r = await gateway.submitSigned(signed, { ...(req.body.endorsingOrgs === undefined ? {} : { endorsingOrgs: req.body.endorsingOrgs }), expect: { chain, contract: CONTRACT, fn: 'captureEvents' } });
      if (r.code !== 'VALID') throw new SilkError('CONTRACT_ERROR', `capture transaction ${r.txId} committed as ${r.code}: no event was recorded`, { txId: r.txId });
      void reply.status(201);
      return { captureID: r.txId, blockNumber: r.blockNumber, response: r.response ?? null, receipt: receiptToJson(r.receipt) };
    },
  );

  app.get<{ Querystring: EpcisEventsQuery }>(
    '/api/epcis/events',
    { schema: { tags: ['traceability'], summary: 'EPCIS events matching the query, in eventTime order, as an EPCISQueryDocument (bookmark of the next page in `bookmark` and a Link header)', querystring: EpcisEventsQuery } },
    (req, reply) => {
      const q = req.query;
      const ledger = peer.reader(q.chain, CONTRACT);
      const reader: EpcisStateReader = { get: (key) => ledger.entry(key)?.value, range: (start, end, page) => ledger.range(start, end, page) };
      const query: EpcisEventQuery = defined({
        epc: q.epc,
        bizStep: q.bizStep,
        disposition: q.disposition,
        readPoint: q.readPoint,
        bizLocation: q.bizLocation,
        from: q.GE_eventTime,
        to: q.LT_eventTime,
        limit: q.limit ?? DEFAULT_PAGE_SIZE,
        bookmark: q.bookmark,
      });
      const page = queryEpcisEvents(reader, query);
      const document = epcisQueryDocument(page.items, { creationDate: new Date().toISOString() });
      if (page.bookmark === undefined) return document;
      const next = new URLSearchParams(Object.entries(q).filter(([k]) => k !== 'bookmark').map(([k, v]): [string, string] => [k, String(v)]));
      next.set('bookmark', page.bookmark);
      void reply.header('Link', `</api/epcis/events?${next.toString()}>; rel="next"`);
      return { ...document, bookmark: page.bookmark };
    },
  );

  const demo = backend.demoIdentities;
  if (demo === undefined) return;
  app.post<{ Querystring: EpcisCaptureQuery; Body: DemoEpcisCaptureBody }>(
    '/api/demo/epcis/capture',
    { schema: { tags: ['demo'], summary: 'Captures an EPCIS document as a demo user, signed with the server-held key (demo alliance only)', querystring: EpcisCaptureQuery, body: DemoEpcisCaptureBody } },
    async (req, reply) => {
      const { as, document } = req.body;
      const signer = demo.get(`${as.org}/${as.name}`);
      if (signer === undefined) throw new SilkError('INVALID_ARGUMENT', `${as.org}/${as.name} is not a demo identity; GET /api/demo/identities lists them`, { path: 'body.as' });
      peer.height(req.query.chain);
      const result = await captureDocument(document, (p) => gateway.submit(p, signer), { chain: req.query.chain });
      void reply.status(201);
      return { captureID: result.transactions[0]?.txId ?? null, blockNumber: result.transactions[0]?.blockNumber ?? null, hashes: result.hashes, eventIDs: result.eventIDs };
    },
  );
}
