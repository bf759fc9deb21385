/**
 * Provenance and recall reads over the `epcis` contract's committed state (src/traceability/
 * provenance.ts, recall-queries.ts), served by the node's peer like every state read:
 *
 * - `GET /api/epcis/provenance?chain=&epc=`: an item's full history (its events, its lot's,
 *   its containers' while it was inside them), containment, lineage, sensor legs, journey and
 *   events declared erroneous; with one receipt per transaction the answer cites (`proofs`).
 * - `GET /api/epcis/recall?chain=&lot=`: every item of a lot, where it is now and who holds it.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { SilkError } from '../../errors.js';
import type { Peer } from '../../peer/peer.js';
import { canonicalLot, EPCIS_CONTRACT } from '../../traceability/epcis-ledger-index.js';
import { itemProvenance, type SensorThreshold } from '../../traceability/provenance.js';
import { withProofs } from '../../traceability/provenance-proofs.js';
import { lotRecallStatus, type ProductsReader, type RecallReaders } from '../../traceability/recall-queries.js';
import type { ApiBackend } from '../backend.js';
import { sendJsonCompressible } from '../compression.js';

const Name = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
const Uri = Type.String({ minLength: 1, maxLength: 700 });

/** Query of `GET /api/epcis/provenance`. */
export const ProvenanceQuery = Type.Object(
  {
    chain: Name,
    epc: Type.String({ ...Uri, description: 'the item: SGTIN (or other EPC) as URN or GS1 Digital Link' }),
    lineageDepth: Type.Optional(Type.Integer({ minimum: 0, maximum: 5, default: 3, description: 'levels of transformation inputs to follow' })),
    maxEvents: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 5000, description: 'most event records read; past it the answer says truncated' })),
    maxLotEvents: Type.Optional(Type.Integer({ minimum: 0, maximum: 5000, default: 20 })),
    thresholds: Type.Optional(Type.String({
      maxLength: 2048,
      pattern: '^[^,:]+:[^,:]*:-?[0-9.]*:-?[0-9.]*(,[^,:]+:[^,:]*:-?[0-9.]*:-?[0-9.]*)*$',
      description: 'sensor limits, comma-separated type:uom:min:max (uom, min or max may be empty), e.g. Temperature:CEL:2:8',
    })),
    proofs: Type.Optional(Type.Boolean({ default: true, description: 'attach one receipt per cited transaction' })),
  },
  { additionalProperties: false },
);
export type ProvenanceQuery = Static<typeof ProvenanceQuery>;

/** Query of `GET /api/epcis/recall`. */
export const RecallQuery = Type.Object(
  {
    chain: Name,
    lot: Type.String({ minLength: 3, maxLength: 700, description: 'the lot: LGTIN URN, Digital Link …/01/<gtin>/10/<lot>, or <gtin>/<lot>' }),
    maxItems: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 10_000 })),
  },
  { additionalProperties: false },
);
export type RecallQuery = Static<typeof RecallQuery>;

function parseThresholds(text: string): SensorThreshold[] {
  return text.split(',').map((part, i) => {
    const [type = '', uom = '', min = '', max = ''] = part.split(':');
    const number = (v: string, which: string): number | undefined => {
      if (v === '') return undefined;
      const n = Number(v);
      if (!Number.isFinite(n)) throw new SilkError('INVALID_ARGUMENT', `thresholds[${i}]: ${which} ${JSON.stringify(v)} is not a number`, { path: 'thresholds' });
      return n;
    };
    const lo = number(min, 'min');
    const hi = number(max, 'max');
    if (lo === undefined && hi === undefined) throw new SilkError('INVALID_ARGUMENT', `thresholds[${i}]: give a min, a max or both (type:uom:min:max)`, { path: 'thresholds' });
    return { type, ...(uom === '' ? {} : { uom }), ...(lo === undefined ? {} : { min: lo }), ...(hi === undefined ? {} : { max: hi }) };
  });
}

/** The chain's `products` registry, when the chain runs that contract. */
function productsReader(peer: Peer, chain: string): ProductsReader | undefined {
  try {
    return peer.reader(chain, 'products');
  } catch (e) {
    if (e instanceof SilkError && e.code === 'UNKNOWN_CONTRACT') return undefined;
    throw e;
  }
}

/** `{ gtin, lot }` of a canonical LGTIN Digital Link. */
function lotReference(digitalLink: string): { gtin: string; lot: string } {
  const m = /\/01\/(\d{14})\/10\/([^/?#]+)$/.exec(digitalLink);
  if (m === null) throw new SilkError('INVALID_ARGUMENT', `lot: ${digitalLink} is not a lot`, { path: 'lot' });
  return { gtin: m[1] as string, lot: decodeURIComponent(m[2] as string) };
}

/** Registers the provenance and recall routes. */
export function registerProvenanceRoutes(app: FastifyInstance, backend: ApiBackend): void {
  const { peer } = backend;

  app.get<{ Querystring: ProvenanceQuery }>(
    '/api/epcis/provenance',
    { schema: { tags: ['traceability'], summary: "An item's provenance (its events, its lot's, its containers' while it was inside), containment, lineage, sensor legs, journey, with a receipt per cited transaction", querystring: ProvenanceQuery } },
    (req, reply) => {
      const q = req.query;
      const provenance = itemProvenance(peer.reader(q.chain, EPCIS_CONTRACT), q.epc, {
        ...(q.lineageDepth === undefined ? {} : { lineageDepth: q.lineageDepth }),
        ...(q.maxEvents === undefined ? {} : { maxEvents: q.maxEvents }),
        ...(q.maxLotEvents === undefined ? {} : { maxLotEvents: q.maxLotEvents }),
        ...(q.thresholds === undefined ? {} : { thresholds: parseThresholds(q.thresholds) }),
      });
      // A phone reads this answer over whatever link it has: it goes gzip-compressed when the client takes it.
      return sendJsonCompressible(req, reply, q.proofs === false ? { provenance, proofs: {}, missingProofs: [] } : withProofs(provenance, (txId) => peer.receipt(q.chain, txId)));
    },
  );

  app.get<{ Querystring: RecallQuery }>(
    '/api/epcis/recall',
    { schema: { tags: ['traceability'], summary: 'Every item of a lot: where it is now (through its containers), who holds it, its registered owner', querystring: RecallQuery } },
    (req, reply) => {
      const q = req.query;
      const products = productsReader(peer, q.chain);
      const readers: RecallReaders = { epcis: peer.reader(q.chain, EPCIS_CONTRACT), ...(products === undefined ? {} : { products }) };
      return sendJsonCompressible(req, reply, lotRecallStatus(readers, lotReference(canonicalLot(q.lot)), q.maxItems === undefined ? {} : { maxItems: q.maxItems }));
    },
  );
}
