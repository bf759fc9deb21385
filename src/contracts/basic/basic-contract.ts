/**
 * `basic`: a small asset contract, the test and benchmark vehicle of the ledger core.
 * Assets have an id, an owner, a colour, a size and an appraised value in minor units.
 */
import { Type } from '@sinclair/typebox';
import { ContractRefusal, query, transaction, type Contract } from '../framework/contract.js';
import type { JsonValue } from '../../ledger/json-value.js';

const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' });
const Asset = Type.Object({
  id: Id,
  owner: Type.String({ minLength: 1, maxLength: 128 }),
  colour: Type.String({ maxLength: 32 }),
  size: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  appraisedValue: Type.Integer({ minimum: 0 }),
}, { additionalProperties: false });

interface AssetRecord {
  readonly id: string;
  readonly owner: string;
  readonly colour: string;
  readonly size: number;
  readonly appraisedValue: number;
  readonly [key: string]: JsonValue;
}

const assetKey = (id: string): string => `asset:${id}`;

/** The `basic` contract. */
export class BasicContract implements Contract {
  readonly name = 'basic';
  readonly version = '1.0';
  readonly indexes = [{ name: 'owner', fields: ['owner'] }, { name: 'colour_size', fields: ['colour', 'size'] }];

  readonly functions = {
    /** Creates an asset; refuses an id that exists. */
    createAsset: transaction(Asset, (ctx, a) => {
      if (ctx.get(assetKey(a.id)) !== undefined) throw new ContractRefusal(`asset ${a.id} already exists`);
      ctx.put(assetKey(a.id), a);
      ctx.emit('AssetCreated', { id: a.id, owner: a.owner });
      return a;
    }),
    /** Moves an asset to a new owner. */
    transferAsset: transaction(Type.Object({ id: Id, newOwner: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }), (ctx, { id, newOwner }) => {
      const asset = ctx.get(assetKey(id)) as AssetRecord | undefined;
      if (asset === undefined) throw new ContractRefusal(`asset ${id} does not exist`);
      const updated = { ...asset, owner: newOwner };
      ctx.put(assetKey(id), updated);
      ctx.emit('AssetTransferred', { id, from: asset.owner, to: newOwner });
      return updated;
    }),
    /** Deletes an asset. */
    deleteAsset: transaction(Type.Object({ id: Id }, { additionalProperties: false }), (ctx, { id }) => {
      if (ctx.get(assetKey(id)) === undefined) throw new ContractRefusal(`asset ${id} does not exist`);
      ctx.delete(assetKey(id));
      return null;
    }),
    /** Sets a key-level endorsement policy on an asset. */
    protectAsset: transaction(Type.Object({ id: Id, policy: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false }), (ctx, { id, policy }) => {
      if (ctx.get(assetKey(id)) === undefined) throw new ContractRefusal(`asset ${id} does not exist`);
      ctx.setKeyPolicy(assetKey(id), policy);
      return null;
    }),
    /**
     * Records an inventory of the assets with ids in [fromId, toId): their count and total
     * appraised value. It reads the whole id range, so an asset created, changed or deleted
     * in the range before it commits invalidates it (PHANTOM_READ_CONFLICT).
     */
    recordInventory: transaction(Type.Object({ fromId: Id, toId: Id }, { additionalProperties: false }), (ctx, { fromId, toId }) => {
      let count = 0;
      let totalValue = 0;
      let bookmark: string | undefined;
      do {
        const page = ctx.range(assetKey(fromId), assetKey(toId), { limit: 1000, ...(bookmark === undefined ? {} : { bookmark }) });
        for (const e of page.items) {
          count += 1;
          totalValue += (e.value as AssetRecord).appraisedValue;
        }
        bookmark = page.bookmark;
      } while (bookmark !== undefined);
      const inventory = { fromId, toId, count, totalValue };
      ctx.put(`inventory:${fromId}:${toId}`, inventory);
      return inventory;
    }),
    /** Reads an asset. */
    readAsset: query(Type.Object({ id: Id }, { additionalProperties: false }), (ctx, { id }) => {
      const asset = ctx.get(assetKey(id));
      if (asset === undefined) throw new ContractRefusal(`asset ${id} does not exist`);
      return asset;
    }),
    /** Assets of an owner (rich query over the `owner` index), paginated. */
    assetsByOwner: query(Type.Object({ owner: Type.String({ minLength: 1 }), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), bookmark: Type.Optional(Type.String()) }, { additionalProperties: false }), (ctx, a) => {
      const page = ctx.query({ selector: { owner: a.owner } }, { limit: a.limit ?? 100, ...(a.bookmark === undefined ? {} : { bookmark: a.bookmark }) });
      return { items: page.items.map((e) => e.value), ...(page.bookmark === undefined ? {} : { bookmark: page.bookmark }) };
    }),
    /** An asset's history, oldest or newest first. */
    assetHistory: query(Type.Object({ id: Id, order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), bookmark: Type.Optional(Type.String()) }, { additionalProperties: false }), (ctx, a) => {
      const page = ctx.history(assetKey(a.id), { order: a.order ?? 'asc', limit: a.limit ?? 100, ...(a.bookmark === undefined ? {} : { bookmark: a.bookmark }) });
      return { items: page.items.map((m) => ({ ...m })), ...(page.bookmark === undefined ? {} : { bookmark: page.bookmark }) };
    }),
    /** Benchmark: writes a key without reading it. */
    put: transaction(Type.Object({ key: Type.String({ minLength: 1, maxLength: 256 }), value: Type.String({ maxLength: 65_536 }) }, { additionalProperties: false }), (ctx, { key, value }) => {
      ctx.put(`kv:${key}`, value);
      return null;
    }),
    /** Benchmark: reads a key and writes a new value (read-modify-write). */
    rmw: transaction(Type.Object({ key: Type.String({ minLength: 1, maxLength: 256 }), value: Type.String({ maxLength: 65_536 }) }, { additionalProperties: false }), (ctx, { key, value }) => {
      const old = ctx.get(`kv:${key}`);
      ctx.put(`kv:${key}`, value);
      return old === undefined ? null : typeof old === 'string' ? old.length : 0;
    }),
    /** Reads a benchmark key. */
    get: query(Type.Object({ key: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false }), (ctx, { key }) => ctx.get(`kv:${key}`) ?? null),
  };
}
