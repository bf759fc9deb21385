/**
 * The HTTP API's wire formats: TypeBox schemas of every body and query string, shared by the
 * server (validation, OpenAPI) and the SDK (types). Bytes travel as base64 in request bodies and
 * as hex in responses, as the ledger's explorers show them.
 */
import { Type, type Static } from '@sinclair/typebox';

/** Largest page any list route returns. */
export const MAX_PAGE_SIZE = 100;
/** Page size when a request gives none. */
export const DEFAULT_PAGE_SIZE = 20;

const Name = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
const Base64 = Type.String({ minLength: 1, maxLength: 2 * 1024 * 1024, pattern: '^[A-Za-z0-9+/]+={0,2}$' });

/** Path parameters naming a chain. */
export const ChainParams = Type.Object({ chain: Name }, { additionalProperties: false });
export type ChainParams = Static<typeof ChainParams>;

/** Which configuration of a chain to show. */
export const ChainQuery = Type.Object({ at: Type.Optional(Type.Integer({ minimum: 0, description: 'the configuration that governed this block (default: the one in force now)' })) }, { additionalProperties: false });
export type ChainQuery = Static<typeof ChainQuery>;

/** Path parameters naming a block. */
export const BlockParams = Type.Object({ chain: Name, number: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });
export type BlockParams = Static<typeof BlockParams>;

/** Path parameters naming a transaction. */
export const TxParams = Type.Object({ chain: Name, txId: Type.String({ pattern: '^[0-9a-f]{64}$' }) }, { additionalProperties: false });
export type TxParams = Static<typeof TxParams>;

/** Path parameters naming a contract's state. */
export const ContractParams = Type.Object({ chain: Name, contract: Name }, { additionalProperties: false });
export type ContractParams = Static<typeof ContractParams>;

/** Path parameters naming one state key. */
export const KeyParams = Type.Object({ chain: Name, contract: Name, key: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });
export type KeyParams = Static<typeof KeyParams>;

const Limit = Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, description: `page size, 1..${MAX_PAGE_SIZE}` });
const Bookmark = Type.String({ minLength: 1, maxLength: 4096, description: 'the bookmark the previous page returned' });

/** A page request in a query string. */
export const PageQuery = Type.Object({ limit: Type.Optional(Limit), bookmark: Type.Optional(Bookmark) }, { additionalProperties: false });
export type PageQuery = Static<typeof PageQuery>;

/** A key range request. */
export const RangeQuery = Type.Object(
  {
    start: Type.Optional(Type.String({ maxLength: 1024, description: 'first key (inclusive); default: the first key' })),
    end: Type.Optional(Type.String({ maxLength: 1024, description: 'end key (exclusive); default: past the last key' })),
    limit: Type.Optional(Limit),
    bookmark: Type.Optional(Bookmark),
  },
  { additionalProperties: false },
);
export type RangeQuery = Static<typeof RangeQuery>;

/** A key history request. */
export const HistoryQuery = Type.Object(
  { order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' })), limit: Type.Optional(Limit), bookmark: Type.Optional(Bookmark) },
  { additionalProperties: false },
);
export type HistoryQuery = Static<typeof HistoryQuery>;

/** A Mango rich query body (docs/rich-queries.md). */
export const RichQueryBody = Type.Object(
  {
    selector: Type.Record(Type.String(), Type.Unknown()),
    sort: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Record(Type.String(), Type.Union([Type.Literal('asc'), Type.Literal('desc')]))]), { maxItems: 8 })),
    limit: Type.Optional(Limit),
    bookmark: Type.Optional(Bookmark),
  },
  { additionalProperties: false },
);
export type RichQueryBody = Static<typeof RichQueryBody>;

/** A proposal the client signed: the canonical proposal bytes and its P-256 P1363 signature, base64. */
export const SignedProposalBody = Type.Object(
  {
    proposal: Base64,
    signature: Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9+/]+={0,2}$' }),
    endorsingOrgs: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: 32, description: 'endorse with peers of these orgs instead of the cheapest set' })),
  },
  { additionalProperties: false },
);
export type SignedProposalBody = Static<typeof SignedProposalBody>;

/** An endorsed envelope, perhaps co-signed (`cosignEnvelope`): canonical bytes, base64 (at most 2 MiB decoded). */
export const EnvelopeBody = Type.Object(
  { envelope: Type.String({ minLength: 1, maxLength: Math.ceil((2 * 1024 * 1024) / 3) * 4, pattern: '^[A-Za-z0-9+/]+={0,2}$' }) },
  { additionalProperties: false },
);
export type EnvelopeBody = Static<typeof EnvelopeBody>;

/** A call made for a demo user with the server-held key (demo alliance only). */
export const DemoCallBody = Type.Object(
  {
    as: Type.Object({ org: Name, name: Name }, { additionalProperties: false, description: 'the demo identity to sign with' }),
    contract: Name,
    fn: Name,
    args: Type.Unknown({ description: "the function's argument object" }),
    endorsingOrgs: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: 32 })),
  },
  { additionalProperties: false },
);
export type DemoCallBody = Static<typeof DemoCallBody>;

/** Where an SSE stream starts. */
export const EventsQuery = Type.Object(
  {
    from: Type.Optional(Type.Integer({ minimum: 0, description: 'first block to send; Last-Event-ID (the last block received) takes precedence' })),
    types: Type.Optional(Type.String({ pattern: '^(block|contract)(,(block|contract))?$', description: 'comma list of block, contract (default both)' })),
  },
  { additionalProperties: false },
);
export type EventsQuery = Static<typeof EventsQuery>;

/** The body of every error response. */
export const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: true }),
});
export type ErrorBody = Static<typeof ErrorBody>;

/** Encodes bytes for a request body. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Decodes a base64 request field. */
export function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** The request header asking a node to answer at no fewer blocks of the request's chain than it gives (src/api/min-height.ts). */
export const MIN_HEIGHT_HEADER = 'silk-min-height';

/** The response header that marks a server holding demo users' keys. */
export const DEMO_MODE_HEADER = 'silk-demo-mode';

/** Query string of the registered identities list. */
export const IdentitiesQuery = Type.Object(
  { org: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$', description: 'only keys of this org' })), limit: Type.Optional(Limit), bookmark: Type.Optional(Bookmark) },
  { additionalProperties: false },
);
export type IdentitiesQuery = Static<typeof IdentitiesQuery>;

/** Path parameters naming a registered key (hex of the compressed public key). */
export const IdentityParams = Type.Object({ chain: Name, key: Type.String({ pattern: '^0[23][0-9a-f]{64}$' }) }, { additionalProperties: false });
export type IdentityParams = Static<typeof IdentityParams>;
