/**
 * `anchor`: the information anchoring model of the paper (§3.1). It records block headers of
 * the alliance's other chains, so that a record on `product`, `trade` or `logistics` can be
 * proven against one global chain: the record's inclusion proof leads to its block header,
 * and the header's hash is anchored here.
 *
 * State (namespace `anchor`):
 * - `header:<chain>:<number, 16 digits>` → the {@link AnchoredHeader} of that block;
 * - `latest:<chain>` → the most recent {@link AnchoredHeader} of that chain.
 *
 * Block numbers are zero-padded so that key order is block order and a range read lists a
 * chain's anchors in number order.
 */
import { Type } from '@sinclair/typebox';
import { ContractRefusal, query, transaction, type Contract, type StateIndex, type TransactionContext } from '../framework/contract.js';
import type { JsonValue } from '../../ledger/json-value.js';

/** Most headers one `anchorHeaders` transaction may carry. */
export const MAX_HEADERS_PER_ANCHOR = 64;

/** Roles that may anchor: org admins and peers (the processes that hold the headers). */
export const ANCHOR_ROLES: readonly string[] = ['admin', 'peer'];

/** Digits of a zero-padded block number in a key: enough for every safe integer. */
const NUMBER_DIGITS = 16;

/** Chain names as chain configurations allow them (no ':', so key prefixes never overlap). */
const ChainName = Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$' });
const BlockNumber = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
/** A SHA-256 digest in lower-case hex: one spelling per hash, as `toHex` writes it. */
const Hash = Type.String({ pattern: '^[0-9a-f]{64}$' });

const HeaderToAnchor = Type.Object({
  chain: ChainName,
  number: BlockNumber,
  /** Block hash: SHA-256 of the header's canonical bytes. */
  hash: Hash,
  /** The header's RFC 9162 Merkle root over the block's transactions. */
  dataHash: Type.Optional(Hash),
  /** The header's orderer timestamp (ms). */
  timestamp: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
}, { additionalProperties: false });

const AnchorHeadersArgs = Type.Object({
  headers: Type.Array(HeaderToAnchor, { minItems: 1, maxItems: MAX_HEADERS_PER_ANCHOR }),
}, { additionalProperties: false });

const Page = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  bookmark: Type.Optional(Type.String({ maxLength: 512 })),
};

/** A block header as the anchor chain records it. */
export interface AnchoredHeader {
  readonly chain: string;
  readonly number: number;
  /** Block hash (hex). */
  readonly hash: string;
  /** Merkle root of the block's transactions (hex); `null` when the anchorer did not give it. */
  readonly dataHash: string | null;
  /** The block's orderer timestamp (ms). */
  readonly timestamp: number;
  /** The anchoring transaction's proposal time (ms). */
  readonly anchoredAt: number;
  /** The anchoring transaction's id. */
  readonly txId: string;
  /** Who anchored it: `<org>/<name>`. */
  readonly anchoredBy: string;
  readonly [field: string]: JsonValue;
}

const headerKey = (chain: string, n: number): string => `header:${chain}:${String(n).padStart(NUMBER_DIGITS, '0')}`;
const latestKey = (chain: string): string => `latest:${chain}`;

/** The first key after every key starting with `prefix` (prefixes here end in ':'). */
const prefixEnd = (prefix: string): string => `${prefix.slice(0, -1)};`;

/** The latest anchor of `chain`, as this transaction sees it (its own earlier writes included). */
function latestOf(ctx: TransactionContext, chain: string): AnchoredHeader | undefined {
  return ctx.get(latestKey(chain)) as AnchoredHeader | undefined;
}

/** The `anchor` contract. */
export class AnchorContract implements Contract {
  readonly name = 'anchor';
  readonly version = '1.0';
  readonly indexes: readonly StateIndex[] = [];

  readonly functions = {
    /**
     * Records block headers of other chains, in order. Each header's number must be above the
     * latest anchored number of its chain (earlier headers of the same call included); a chain
     * never anchors its own headers. Emits one `anchored` event listing what was recorded.
     */
    anchorHeaders: transaction(AnchorHeadersArgs, (ctx, { headers }) => {
      const anchored: JsonValue[] = [];
      for (const h of headers) {
        if (h.chain === ctx.chain) throw new ContractRefusal(`chain ${ctx.chain} does not anchor its own headers`);
        const latest = latestOf(ctx, h.chain);
        if (latest !== undefined && h.number <= latest.number) {
          throw new ContractRefusal(`block ${h.number} of ${h.chain} is not above its latest anchored block ${latest.number}`);
        }
        const record: AnchoredHeader = {
          chain: h.chain,
          number: h.number,
          hash: h.hash,
          dataHash: h.dataHash ?? null,
          timestamp: h.timestamp,
          anchoredAt: ctx.timestamp,
          txId: ctx.txId,
          anchoredBy: `${ctx.creator.org}/${ctx.creator.name}`,
        };
        ctx.put(headerKey(h.chain, h.number), record);
        ctx.put(latestKey(h.chain), record);
        anchored.push({ chain: h.chain, number: h.number, hash: h.hash });
      }
      ctx.emit('anchored', { headers: anchored });
      return { anchored: anchored.length };
    }, { roles: ANCHOR_ROLES }),

    /** The latest anchored header of a chain, or `null` when none is anchored yet. */
    latestAnchor: query(Type.Object({ chain: ChainName }, { additionalProperties: false }), (ctx, { chain }) => latestOf(ctx, chain) ?? null),

    /** The latest anchored header of every chain anchored so far, in chain-name order. */
    latestAnchors: query(Type.Object(Page, { additionalProperties: false }), (ctx, a) => {
      const page = ctx.range('latest:', prefixEnd('latest:'), { limit: a.limit ?? 100, ...(a.bookmark === undefined ? {} : { bookmark: a.bookmark }) });
      return { items: page.items.map((e) => e.value), ...(page.bookmark === undefined ? {} : { bookmark: page.bookmark }) };
    }),

    /** The anchored header of block `number` of `chain`, or `null` when that block is not anchored. */
    anchorOf: query(Type.Object({ chain: ChainName, number: BlockNumber }, { additionalProperties: false }), (ctx, { chain, number }) => ctx.get(headerKey(chain, number)) ?? null),

    /**
     * Anchored headers of a chain with numbers in [fromNumber, toNumber) (default: all), in
     * number order, paginated.
     */
    listAnchors: query(Type.Object({ chain: ChainName, fromNumber: Type.Optional(BlockNumber), toNumber: Type.Optional(BlockNumber), ...Page }, { additionalProperties: false }), (ctx, a) => {
      const prefix = `header:${a.chain}:`;
      const start = a.fromNumber === undefined ? prefix : headerKey(a.chain, a.fromNumber);
      const end = a.toNumber === undefined ? prefixEnd(prefix) : headerKey(a.chain, a.toNumber);
      if (start >= end) return { items: [] };
      const page = ctx.range(start, end, { limit: a.limit ?? 100, ...(a.bookmark === undefined ? {} : { bookmark: a.bookmark }) });
      return { items: page.items.map((e) => e.value), ...(page.bookmark === undefined ? {} : { bookmark: page.bookmark }) };
    }),
  };
}
