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
 * Sensor data signed at the source is checked by the contract, on every path a capture takes:
 * the signature, and that its key is a device key of the capturing org (`ctx.identityOf`).
 *
 * `GET /api/epcis/events` reads committed state (no signature, like the other state reads) and
 * answers with an `EPCISQueryDocument` of the events as captured (with their error
 * declarations). Its parameters are the EPCIS 2.0 REST binding's (`EQ_bizStep`, `MATCH_anyEPC`,
 * `GE_eventTime`, `perPage`, `nextPageToken`, …; comma lists mean OR) plus `lot`; the next page
 * is in a `Link: <…>; rel="next"` header carrying `nextPageToken`.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { SilkError } from '../../errors.js';
import { receiptToJson } from '../../ledger/receipt.js';
import { captureDocument } from '../../traceability/epcis-capture.js';
import { epcisQueryDocument } from '../../traceability/epcis-export.js';
import { EPCIS_CONTRACT, eventQueryFromParameters, EVENT_QUERY_LIST_NAMES, EVENT_QUERY_TIME_NAMES, queryEpcisEvents, type EpcisStateReader } from '../../traceability/epcis-ledger-index.js';
import type { ApiBackend } from '../backend.js';
import { DEFAULT_PAGE_SIZE, fromBase64, MAX_PAGE_SIZE, SignedProposalBody } from '../wire.js';

const Name = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
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

const ValueList = Type.Array(Type.String({ minLength: 1, maxLength: 45_000 }), { maxItems: 64, description: 'comma-separated values (or the parameter repeated): any of them matches' });
const LIST_DESCRIPTIONS: Readonly<Record<string, string>> = {
  eventType: 'ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent, AssociationEvent',
  EQ_action: 'ADD, OBSERVE or DELETE',
  EQ_bizStep: 'CBV business step, bare, URN or web form',
  EQ_disposition: 'CBV disposition, bare, URN or web form',
  EQ_readPoint: 'read point identifier (SGLN URN, Digital Link or other URI)',
  EQ_bizLocation: 'business location identifier',
  MATCH_epc: 'EPC in epcList or childEPCs (URN or Digital Link)',
  MATCH_parentID: 'EPC as parentID',
  MATCH_inputEPC: 'EPC in inputEPCList',
  MATCH_outputEPC: 'EPC in outputEPCList',
  MATCH_anyEPC: 'EPC in any of epcList, childEPCs, parentID, inputEPCList, outputEPCList',
  MATCH_epcClass: 'EPC class in quantityList or childQuantityList',
  MATCH_anyEPCClass: 'EPC class in any quantity list',
  EQ_eventID: 'eventID (a supplied one, or the hash ID)',
  lot: 'a lot: LGTIN URN, Digital Link …/01/<gtin>/10/<lot>, or <gtin>/<lot>; events naming the lot class or commissioning its items (ILMD lotNumber)',
};

/** Event query parameters: the EPCIS 2.0 REST binding's names, plus `lot`. */
export const EpcisEventsQuery = Type.Object(
  {
    chain: Name,
    ...Object.fromEntries(EVENT_QUERY_LIST_NAMES.map((name) => [name, Type.Optional({ ...ValueList, description: `${LIST_DESCRIPTIONS[name] ?? name}; comma-separated values mean OR` })])),
    ...Object.fromEntries(EVENT_QUERY_TIME_NAMES.map((name) => [name, Type.Optional({ ...Time, description: `${name.startsWith('GE_') ? 'inclusive' : 'exclusive'} bound, RFC 3339 with an offset${name.endsWith('recordTime') ? ' (record time: the capturing transaction\'s time)' : ''}` })])),
    EXISTS_errorDeclaration: Type.Optional(Type.String({ maxLength: 5, description: 'present (no value, or true): only events declared erroneous; false: only the others' })),
    perPage: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })),
    nextPageToken: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'from the previous page\'s Link header' })),
  },
  { additionalProperties: false },
);
export type EpcisEventsQuery = Static<typeof EpcisEventsQuery>;


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
      const r = await gateway.submitSigned(signed, { ...(req.body.endorsingOrgs === undefined ? {} : { endorsingOrgs: req.body.endorsingOrgs }), expect: { chain, contract: EPCIS_CONTRACT, fn: 'captureEvents' } });
      if (r.code !== 'VALID') throw new SilkError('CONTRACT_ERROR', `capture transaction ${r.txId} committed as ${r.code}: no event was recorded`, { txId: r.txId });
      void reply.status(201);
      return { captureID: r.txId, blockNumber: r.blockNumber, response: r.response ?? null, receipt: receiptToJson(r.receipt) };
    },
  );

  app.get<{ Querystring: EpcisEventsQuery }>(
    '/api/epcis/events',
    { schema: { tags: ['traceability'], summary: 'EPCIS events matching the query (EPCIS 2.0 REST binding names), in eventTime order, as an EPCISQueryDocument; the next page is in the Link header (rel="next", with nextPageToken)', querystring: EpcisEventsQuery } },
    (req, reply) => {
      const { chain, perPage, ...filters } = req.query;
      const ledger = peer.reader(chain, EPCIS_CONTRACT);
      const reader: EpcisStateReader = { get: (key) => ledger.entry(key)?.value, range: (start, end, page) => ledger.range(start, end, page) };
      const params = Object.fromEntries(Object.entries(filters).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]));
      const query = eventQueryFromParameters({ ...params, perPage: perPage ?? DEFAULT_PAGE_SIZE });
      const page = queryEpcisEvents(reader, query);
      const document = epcisQueryDocument(page.items, { creationDate: new Date().toISOString() });
      if (page.nextPageToken === undefined) return document;
      const next = new URLSearchParams();
      for (const [k, v] of Object.entries(req.query as Record<string, string | number | string[] | undefined>)) {
        if (k !== 'nextPageToken' && v !== undefined) next.set(k, Array.isArray(v) ? v.join(',') : String(v));
      }
      next.set('nextPageToken', page.nextPageToken);
      void reply.header('Link', `</api/epcis/events?${next.toString()}>; rel="next"`);
      return document;
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
      const chain = req.query.chain;
      const result = await captureDocument(document, (p) => gateway.submit(p, signer), { chain });
      void reply.status(201);
      return { captureID: result.transactions[0]?.txId ?? null, blockNumber: result.transactions[0]?.blockNumber ?? null, hashes: result.hashes, eventIDs: result.eventIDs };
    },
  );
}
