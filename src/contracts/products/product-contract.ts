/**
 * `products`: brand owners' GS1 company prefixes, product lines (the paper's unique product-line
 * code, §3.3.4, is the GTIN-14), lots and serialized items with their owner org. See
 * docs/products.md.
 *
 * State (namespace `products`):
 * - `prefix:<company prefix>` → {@link CompanyPrefixRecord}: first come, owned by the creator's org;
 * - `line:<gtin>` → {@link ProductLineRecord};
 * - `lot:<gtin>:<lot>` → {@link LotRecord} (the GTIN is fixed-length, so a `:` in a lot is unambiguous);
 * - `https://id.gs1.org/01/<gtin>/21/<serial>` → {@link ItemRecord}: each item under its
 *   canonical GS1 Digital Link URI, the form EPCIS capture stores EPCs in.
 *
 * Every record carries `type`, so the rich-query indexes (`line_prefix`, `item_lot`) select one
 * kind of record only.
 */
import { Type } from '@sinclair/typebox';
import { SilkError } from '../../errors.js';
import type { JsonValue } from '../../ledger/json-value.js';
import { gs1CheckDigit, parseEpc } from '../../traceability/epc-identifiers.js';
import { ContractRefusal, query, transaction, type AuthorityRequirement, type Contract, type StateIndex, type TransactionContext } from '../framework/contract.js';

/**
 * Most serials one `commissionItems` transaction may carry. Worst case (20-character serials
 * and lot full of characters that need escaping, a 64-character owner) one item costs about
 * 450 bytes of envelope: its serial in the proposal, a read of its absent key and a write of its
 * key, record and key-level policy. 4,000 items measured 1,797,141 bytes (1.71 MiB), under
 * `MAX_ENVELOPE_BYTES` (2 MiB) with room for signatures; the test commissions such a worst-case
 * batch.
 */
export const MAX_ITEMS_PER_COMMISSION = 4000;
/** Most items one `transferItems` transaction may carry. */
export const MAX_ITEMS_PER_TRANSFER = 1000;

/** What each function demands of its creator (an org admin, function `admin` at level 9, meets all). */
export const PRODUCT_AUTHORITY = {
  /** Claiming a company prefix binds every GTIN under it: senior sales staff. */
  registerCompanyPrefix: { function: 'sales', minLevel: 5 },
  /** Defining a product line: sales staff. */
  registerProductLine: { function: 'sales', minLevel: 3 },
  /** Recording a production lot: logistics (production and warehouse) staff. */
  registerLot: { function: 'logistics', minLevel: 2 },
  /** Serializing items, typically from a packaging line: logistics staff. */
  commissionItems: { function: 'logistics', minLevel: 2 },
  /** Changing the owner of goods is a sale. */
  transferItems: { function: 'sales', minLevel: 2 },
} as const satisfies Readonly<Record<string, AuthorityRequirement>>;

/** GS1 AI encodable character set 82 (serials and lots). */
const CSET82 = "^[!\"%&'()*+,\\-./0-9:;<=>?A-Z_a-z]{1,20}$";

const CompanyPrefix = Type.String({ pattern: '^[0-9]{6,12}$' });
const Gtin = Type.String({ pattern: '^[0-9]{14}$' });
const Lot = Type.String({ pattern: CSET82 });
const Serial = Type.String({ pattern: CSET82 });
const OrgName = Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$' });
const Text = (max: number): ReturnType<typeof Type.String> => Type.String({ minLength: 1, maxLength: max });
/** A calendar date, ISO 8601 extended form (GS1 AIs 11 and 17 are dates, not times). */
const IsoDate = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' });
const Epc = Type.String({ minLength: 1, maxLength: 512 });
const PageArgs = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  bookmark: Type.Optional(Type.String({ maxLength: 1024 })),
};

/** A registered GS1 company prefix. */
export interface CompanyPrefixRecord {
  readonly type: 'prefix';
  readonly prefix: string;
  readonly org: string;
  readonly registeredBy: string;
  readonly registeredAt: number;
  readonly txId: string;
  readonly [field: string]: JsonValue;
}

/** A product line: one GTIN-14. */
export interface ProductLineRecord {
  readonly type: 'line';
  readonly gtin: string;
  /** The registered company prefix the GTIN falls under. */
  readonly companyPrefix: string;
  readonly org: string;
  readonly brand: string;
  readonly name: string;
  readonly category: string;
  readonly hsCode: string;
  /** ISO 3166-1 alpha-2 country of origin. */
  readonly origin: string;
  readonly registeredBy: string;
  readonly registeredAt: number;
  readonly txId: string;
  readonly [field: string]: JsonValue;
}

/** A production lot (batch) of a product line. */
export interface LotRecord {
  readonly type: 'lot';
  readonly gtin: string;
  readonly lot: string;
  readonly productionDate: string;
  readonly expiryDate: string | null;
  /** GLN of the production site. */
  readonly site: string;
  readonly org: string;
  readonly registeredBy: string;
  readonly registeredAt: number;
  readonly txId: string;
  readonly [field: string]: JsonValue;
}

/** A serialized item as stored under its canonical Digital Link URI (the key is its EPC). */
export interface StoredItem {
  readonly type: 'item';
  readonly gtin: string;
  readonly serial: string;
  readonly lot: string | null;
  /** The org that owns the item now. */
  readonly owner: string;
  /** The proposal time of the commissioning transaction. */
  readonly commissionedAt: number;
  readonly [field: string]: JsonValue;
}

/** A serialized item as queries return it: the stored record and its EPC (not stored twice: each byte counts in a batch of thousands). */
export interface ItemRecord extends StoredItem {
  readonly epc: string;
}

/** An item with its EPC, from its key. */
const itemOf = (epc: string, value: JsonValue): JsonValue => ({ epc, ...(value as StoredItem) });

const prefixKey = (prefix: string): string => `prefix:${prefix}`;
const lineKey = (gtin: string): string => `line:${gtin}`;
const lotKey = (gtin: string, lot: string): string => `lot:${gtin}:${lot}`;
/** The first key after every key starting with `prefix` (the prefixes here end in ':' or a digit). */
const after = (prefix: string): string => `${prefix}\uffff`;

function invalid(message: string, value: string): SilkError {
  return new SilkError('INVALID_ARGUMENT', message, { value });
}

function assertGtin(gtin: string): void {
  const expected = gs1CheckDigit(gtin.slice(0, 13));
  if (!gtin.endsWith(String(expected))) throw invalid(`bad check digit in GTIN ${gtin}: expected ${expected}, found ${gtin.slice(13)}`, gtin);
}

function assertGln(gln: string): void {
  if (!/^[0-9]{13}$/.test(gln)) throw invalid(`a GLN is 13 digits, found ${JSON.stringify(gln)}`, gln);
  const expected = gs1CheckDigit(gln.slice(0, 12));
  if (!gln.endsWith(String(expected))) throw invalid(`bad check digit in GLN ${gln}: expected ${expected}, found ${gln.slice(12)}`, gln);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Checks a `YYYY-MM-DD` date is a real calendar date (no Date object: contracts have no clock). */
function assertDate(text: string, what: string): void {
  const year = Number(text.slice(0, 4));
  const month = Number(text.slice(5, 7));
  const day = Number(text.slice(8, 10));
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  if (days === undefined || day < 1 || day > days) throw invalid(`${what} ${text} is not a calendar date`, text);
}

/** The canonical Digital Link URI of a serialized item (validates the serial again on the way). */
export function itemEpc(gtin: string, serial: string): string {
  return parseEpc(`https://id.gs1.org/01/${gtin}/21/${encodeURIComponent(serial)}`).digitalLink;
}

/** The Digital Link URI of an SGTIN written as a URN or a Digital Link URI; refuses other EPCs. */
function sgtinOf(epc: string): string {
  const parsed = parseEpc(epc);
  if (parsed.scheme !== 'sgtin' || parsed.kind !== 'id') throw invalid(`${epc} is not a serialized item (SGTIN)`, epc);
  return parsed.digitalLink;
}

/** The registered company prefix `digits` start with (the longest, when an org registered nested ones). */
function ownerPrefix(ctx: TransactionContext, digits: string): CompanyPrefixRecord | undefined {
  for (let length = Math.min(12, digits.length); length >= 6; length -= 1) {
    const record = ctx.get(prefixKey(digits.slice(0, length))) as CompanyPrefixRecord | undefined;
    if (record !== undefined) return record;
  }
  return undefined;
}

function lineOf(ctx: TransactionContext, gtin: string): ProductLineRecord {
  const line = ctx.get(lineKey(gtin)) as ProductLineRecord | undefined;
  if (line === undefined) throw new ContractRefusal(`product line ${gtin} is not registered`);
  return line;
}

/** The line of `gtin`, refusing unless the creator's org owns it. */
function ownLine(ctx: TransactionContext, gtin: string): ProductLineRecord {
  const line = lineOf(ctx, gtin);
  if (line.org !== ctx.creator.org) throw new ContractRefusal(`product line ${gtin} belongs to ${line.org}, not ${ctx.creator.org}`);
  return line;
}

const who = (ctx: TransactionContext): string => `${ctx.creator.org}/${ctx.creator.name}`;

function paged(page: { items: readonly { value: JsonValue }[]; bookmark?: string }): JsonValue {
  return { items: page.items.map((e) => e.value), ...(page.bookmark === undefined ? {} : { bookmark: page.bookmark }) };
}

const pageOf = (a: { limit?: number; bookmark?: string }): { limit: number; bookmark?: string } => ({ limit: a.limit ?? 100, ...(a.bookmark === undefined ? {} : { bookmark: a.bookmark }) });

const RegisterPrefixArgs = Type.Object({ prefix: CompanyPrefix }, { additionalProperties: false });
const RegisterLineArgs = Type.Object({
  gtin: Gtin,
  brand: Text(128),
  name: Text(256),
  category: Text(128),
  hsCode: Type.String({ pattern: '^[0-9]{6,10}$' }),
  origin: Type.String({ pattern: '^[A-Z]{2}$' }),
}, { additionalProperties: false });
const RegisterLotArgs = Type.Object({ gtin: Gtin, lot: Lot, productionDate: IsoDate, expiryDate: Type.Optional(IsoDate), site: Type.String({ pattern: '^[0-9]{13}$' }) }, { additionalProperties: false });
const CommissionArgs = Type.Object({
  gtin: Gtin,
  lot: Type.Optional(Lot),
  serials: Type.Array(Serial, { minItems: 1, maxItems: MAX_ITEMS_PER_COMMISSION }),
  owner: Type.Optional(OrgName),
}, { additionalProperties: false });
const TransferArgs = Type.Object({ items: Type.Array(Epc, { minItems: 1, maxItems: MAX_ITEMS_PER_TRANSFER }), to: OrgName }, { additionalProperties: false });

function registerPrefix(ctx: TransactionContext, prefix: string): JsonValue {
  const existing = ownerPrefix(ctx, prefix);
  if (existing?.prefix === prefix) throw new ContractRefusal(`company prefix ${prefix} is already registered by ${existing.org}`);
  if (existing !== undefined && existing.org !== ctx.creator.org) throw new ContractRefusal(`company prefix ${prefix} extends ${existing.prefix}, registered by ${existing.org}`);
  // Longer prefixes that extend this one: a range read, so a concurrent registration is a phantom.
  const longer = ctx.range(prefixKey(prefix), after(prefixKey(prefix)), { limit: 1000 }).items.map((e) => e.value as CompanyPrefixRecord);
  const foreign = longer.find((r) => r.org !== ctx.creator.org);
  if (foreign !== undefined) throw new ContractRefusal(`company prefix ${prefix} is a prefix of ${foreign.prefix}, registered by ${foreign.org}`);
  const record: CompanyPrefixRecord = { type: 'prefix', prefix, org: ctx.creator.org, registeredBy: who(ctx), registeredAt: ctx.timestamp, txId: ctx.txId };
  ctx.put(prefixKey(prefix), record);
  ctx.emit('CompanyPrefixRegistered', { prefix, org: record.org });
  return record;
}

function registerLine(ctx: TransactionContext, a: { gtin: string; brand: string; name: string; category: string; hsCode: string; origin: string }): JsonValue {
  assertGtin(a.gtin);
  const prefix = ownerPrefix(ctx, a.gtin.slice(1, 13));
  if (prefix === undefined) throw new ContractRefusal(`GTIN ${a.gtin} is under no registered company prefix`);
  if (prefix.org !== ctx.creator.org) throw new ContractRefusal(`GTIN ${a.gtin} is under company prefix ${prefix.prefix}, owned by ${prefix.org}`);
  if (ctx.get(lineKey(a.gtin)) !== undefined) throw new ContractRefusal(`product line ${a.gtin} is already registered`);
  const record: ProductLineRecord = { type: 'line', ...a, companyPrefix: prefix.prefix, org: prefix.org, registeredBy: who(ctx), registeredAt: ctx.timestamp, txId: ctx.txId };
  ctx.put(lineKey(a.gtin), record);
  ctx.emit('ProductLineRegistered', { gtin: a.gtin, org: record.org });
  return record;
}

function registerLot(ctx: TransactionContext, a: { gtin: string; lot: string; productionDate: string; expiryDate?: string; site: string }): JsonValue {
  assertGtin(a.gtin);
  assertGln(a.site);
  assertDate(a.productionDate, 'productionDate');
  if (a.expiryDate !== undefined) {
    assertDate(a.expiryDate, 'expiryDate');
    if (a.expiryDate <= a.productionDate) throw invalid(`expiryDate ${a.expiryDate} is not after productionDate ${a.productionDate}`, a.expiryDate);
  }
  const line = ownLine(ctx, a.gtin);
  if (ctx.get(lotKey(a.gtin, a.lot)) !== undefined) throw new ContractRefusal(`lot ${a.lot} of ${a.gtin} is already registered`);
  const record: LotRecord = { type: 'lot', gtin: a.gtin, lot: a.lot, productionDate: a.productionDate, expiryDate: a.expiryDate ?? null, site: a.site, org: line.org, registeredBy: who(ctx), registeredAt: ctx.timestamp, txId: ctx.txId };
  ctx.put(lotKey(a.gtin, a.lot), record);
  ctx.emit('LotRegistered', { gtin: a.gtin, lot: a.lot });
  return record;
}

/**
 * The key-level policy of an item: only its owner org's peers endorse a change of it. The
 * contract checks the creator's org owns the items it transfers, but with the contract policy
 * any one peer endorses: a dishonest peer of another org could endorse a forged transfer. With
 * this policy the owner's own peer must run the check too (the gateway asks it, docs/products.md).
 */
function ownerPolicy(org: string): string {
  return `OR('${org}.peer')`;
}

function commission(ctx: TransactionContext, a: { gtin: string; lot?: string; serials: string[]; owner?: string }): JsonValue {
  assertGtin(a.gtin);
  ownLine(ctx, a.gtin);
  if (a.lot !== undefined && ctx.get(lotKey(a.gtin, a.lot)) === undefined) throw new ContractRefusal(`lot ${a.lot} of ${a.gtin} is not registered`);
  const owner = a.owner ?? ctx.creator.org;
  const seen = new Set<string>();
  for (const serial of a.serials) {
    if (seen.has(serial)) throw new ContractRefusal(`serial ${serial} appears twice in this batch`);
    seen.add(serial);
    const epc = itemEpc(a.gtin, serial);
    if (ctx.get(epc) !== undefined) throw new ContractRefusal(`item ${epc} is already commissioned`);
    const record: StoredItem = { type: 'item', gtin: a.gtin, serial, lot: a.lot ?? null, owner, commissionedAt: ctx.timestamp };
    ctx.put(epc, record);
    ctx.setKeyPolicy(epc, ownerPolicy(owner));
  }
  const summary = { gtin: a.gtin, lot: a.lot ?? null, owner, count: a.serials.length, first: a.serials[0] ?? '', last: a.serials[a.serials.length - 1] ?? '' };
  ctx.emit('ItemsCommissioned', summary);
  return summary;
}

function transfer(ctx: TransactionContext, a: { items: string[]; to: string }): JsonValue {
  const from = ctx.creator.org;
  const seen = new Set<string>();
  for (const given of a.items) {
    const epc = sgtinOf(given);
    if (seen.has(epc)) throw new ContractRefusal(`item ${epc} appears twice in this transfer`);
    seen.add(epc);
    const item = ctx.get(epc) as StoredItem | undefined;
    if (item === undefined) throw new ContractRefusal(`item ${epc} is not commissioned`);
    if (item.owner !== from) throw new ContractRefusal(`item ${epc} belongs to ${item.owner}, not ${from}`);
    ctx.put(epc, { ...item, owner: a.to });
    ctx.setKeyPolicy(epc, ownerPolicy(a.to));
  }
  if (a.to === from) throw new ContractRefusal(`the items already belong to ${from}`);
  const summary = { from, to: a.to, count: a.items.length };
  ctx.emit('ItemsTransferred', { ...summary, items: [...seen] });
  return summary;
}

/** The `products` contract. */
export class ProductContract implements Contract {
  readonly name = 'products';
  readonly version = '1.0';
  readonly indexes: readonly StateIndex[] = [
    { name: 'line_prefix', fields: ['type', 'companyPrefix'] },
    { name: 'item_lot', fields: ['type', 'gtin', 'lot'] },
  ];

  readonly functions = {
    /** Claims a GS1 company prefix for the creator's org: first come; overlapping another org's prefix is refused. */
    registerCompanyPrefix: transaction(RegisterPrefixArgs, (ctx, { prefix }) => registerPrefix(ctx, prefix), { authority: PRODUCT_AUTHORITY.registerCompanyPrefix }),
    /** Registers a product line (GTIN-14 under a prefix the creator's org owns). */
    registerProductLine: transaction(RegisterLineArgs, registerLine, { authority: PRODUCT_AUTHORITY.registerProductLine }),
    /** Registers a production lot of one of the creator's org's product lines. */
    registerLot: transaction(RegisterLotArgs, registerLot, { authority: PRODUCT_AUTHORITY.registerLot }),
    /** Commissions serialized items of one of the creator's org's lines, refusing any serial already commissioned. */
    commissionItems: transaction(CommissionArgs, commission, { authority: PRODUCT_AUTHORITY.commissionItems }),
    /** Transfers items the creator's org owns to another org (all or nothing). */
    transferItems: transaction(TransferArgs, transfer, { authority: PRODUCT_AUTHORITY.transferItems }),

    /** A registered company prefix, or `null`. */
    companyPrefix: query(RegisterPrefixArgs, (ctx, { prefix }) => ctx.get(prefixKey(prefix)) ?? null),
    /** A product line, or `null`. */
    productLine: query(Type.Object({ gtin: Gtin }, { additionalProperties: false }), (ctx, { gtin }) => ctx.get(lineKey(gtin)) ?? null),
    /** Product lines in GTIN order, or those under one registered company prefix; paginated. */
    productLines: query(Type.Object({ prefix: Type.Optional(CompanyPrefix), ...PageArgs }, { additionalProperties: false }), (ctx, a) => {
      if (a.prefix === undefined) return paged(ctx.range('line:', after('line:'), pageOf(a)));
      return paged(ctx.query({ selector: { type: 'line', companyPrefix: a.prefix } }, pageOf(a)));
    }),
    /** A lot, or `null`. */
    lot: query(Type.Object({ gtin: Gtin, lot: Lot }, { additionalProperties: false }), (ctx, { gtin, lot }) => ctx.get(lotKey(gtin, lot)) ?? null),
    /** An item by its EPC, as an SGTIN URN or a Digital Link URI (any host, short names), or `null`. */
    item: query(Type.Object({ epc: Epc }, { additionalProperties: false }), (ctx, { epc }) => {
      const key = sgtinOf(epc);
      const value = ctx.get(key);
      return value === undefined ? null : itemOf(key, value);
    }),
    /** The items of a lot, paginated. */
    itemsOfLot: query(Type.Object({ gtin: Gtin, lot: Lot, ...PageArgs }, { additionalProperties: false }), (ctx, a) =>
{
      const page = ctx.query({ selector: { type: 'item', gtin: a.gtin, lot: a.lot } }, pageOf(a));
      return { items: page.items.map((e) => itemOf(e.key, e.value)), ...(page.bookmark === undefined ? {} : { bookmark: page.bookmark }) };
    }),
  };
}
