/**
 * Simulation of one proposal against a peer's committed state: the transaction context a
 * contract sees, recording the read set (with versions) and the write set.
 */
import type { CreatorIdentity, KeyModification, Page, PageRequest, RichQuery, StateEntry, StateIndex, TransactionContext } from '../contracts/framework/contract.js';
import { fromHex } from '../crypto/hash.js';
import { SilkError } from '../errors.js';
import type { JsonValue } from '../ledger/json-value.js';
import { compileEndorsementPolicy } from '../ledger/endorsement-policy.js';
import { MAX_KEY_LENGTH, MAX_VALUE_BYTES, type ContractEvent, type KeyRead, type KeyWrite, type RangeRead } from '../ledger/transaction.js';
import type { LedgerStore } from '../storage/sqlite-ledger-store.js';
import { compileMangoQuery, nextBookmark } from '../storage/mango-query.js';

/** What one simulation produced. */
export interface SimulationRecord {
  readonly reads: KeyRead[];
  readonly ranges: RangeRead[];
  readonly writes: KeyWrite[];
  readonly events: ContractEvent[];
}

/** Inputs of {@link createSimulationContext}. */
export interface SimulationParameters {
  readonly store: LedgerStore;
  readonly ns: string;
  readonly chain: string;
  readonly txId: string;
  readonly timestamp: number;
  readonly creator: CreatorIdentity;
  readonly indexes: readonly StateIndex[];
  /** Query functions may not write. */
  readonly readonly: boolean;
  /** The chain's identity of a key at the simulation's height and the proposal's time (`ctx.identityOf`). */
  readonly identityOf: (key: Uint8Array) => CreatorIdentity | undefined;
  /**
   * Record what is read (default true): a simulation's read set. Off for a peer's long-lived
   * read-only views (`Peer.reader`), whose reads nobody validates.
   */
  readonly trackReads?: boolean;
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

function pageLimit(page: PageRequest | undefined): number {
  const limit = page?.limit ?? DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new SilkError('INVALID_ARGUMENT', `page limit must be 1..${MAX_PAGE}`);
  return limit;
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) throw new SilkError('INVALID_ARGUMENT', `state keys are 1..${MAX_KEY_LENGTH} characters`);
  if (key.includes('\u0000')) throw new SilkError('INVALID_ARGUMENT', 'state keys may not contain U+0000');
}

function decodeCursor(bookmark: string, what: string): string {
  try {
    return Buffer.from(bookmark, 'base64url').toString('utf8');
  } catch {
    throw new SilkError('INVALID_ARGUMENT', `bad ${what} bookmark`);
  }
}

/**
 * Creates the context for one simulation and the record it fills.
 * @param p the store, namespace, creator and proposal facts
 * @returns the context to hand to the contract, and the record of reads, writes and events
 */
export function createSimulationContext(p: SimulationParameters): { ctx: TransactionContext; record: SimulationRecord } {
  const record: SimulationRecord = { reads: [], ranges: [], writes: [], events: [] };
  const readKeys = new Set<string>();
  const written = new Map<string, KeyWrite>();

  const tracking = p.trackReads !== false;
  const recordRead = (key: string, version: { block: number; tx: number } | null): void => {
    if (!tracking || readKeys.has(key) || written.has(key)) return;
    readKeys.add(key);
    record.reads.push({ key, version });
  };
  const write = (w: KeyWrite): void => {
    if (p.readonly) throw new SilkError('CONTRACT_ERROR', 'a query function may not write state');
    const prev = written.get(w.key);
    const merged: KeyWrite = prev?.policy !== undefined && w.policy === undefined && w.value !== null ? { ...w, policy: prev.policy } : w;
    written.set(w.key, merged);
  };

  const ctx: TransactionContext = {
    chain: p.chain,
    txId: p.txId,
    timestamp: p.timestamp,
    creator: p.creator,
    identityOf(key) {
      if (typeof key !== 'string' || !/^0[23][0-9a-f]{64}$/.test(key)) throw new SilkError('INVALID_ARGUMENT', 'identityOf takes a compressed P-256 public key in lower-case hex (66 digits)');
      return p.identityOf(fromHex(key));
    },
    get(key) {
      checkKey(key);
      const own = written.get(key);
      if (own !== undefined) return own.value === null ? undefined : (JSON.parse(own.value) as JsonValue);
      const s = p.store.state(p.ns, key);
      recordRead(key, s === undefined ? null : { block: s.block, tx: s.tx });
      return s === undefined ? undefined : (JSON.parse(s.value) as JsonValue);
    },
    put(key, value) {
      checkKey(key);
      const text = JSON.stringify(value) as string | undefined;
      if (text === undefined) throw new SilkError('INVALID_ARGUMENT', `value of ${key} is not JSON`);
      if (text.length > MAX_VALUE_BYTES) throw new SilkError('PAYLOAD_TOO_LARGE', `value of ${key} exceeds ${MAX_VALUE_BYTES} bytes`);
      write({ key, value: text });
    },
    delete(key) {
      checkKey(key);
      write({ key, value: null });
    },
    setKeyPolicy(key, policy) {
      checkKey(key);
      compileEndorsementPolicy(policy);
      const own = written.get(key);
      let value: string | null;
      if (own !== undefined) value = own.value;
      else {
        const s = p.store.state(p.ns, key);
        recordRead(key, s === undefined ? null : { block: s.block, tx: s.tx });
        value = s?.value ?? null;
      }
      if (value === null) throw new SilkError('CONTRACT_ERROR', `cannot set a policy on ${key}: it does not exist`);
      write({ key, value, policy });
    },
    range(start, end, page): Page<StateEntry> {
      const limit = pageLimit(page);
      const after = page?.bookmark === undefined ? undefined : decodeCursor(page.bookmark, 'range');
      const rows = p.store.range(p.ns, start, end, limit + 1, after);
      const seen = rows.slice(0, limit);
      const items = seen.map((r) => {
        recordRead(r.key, { block: r.block, tx: r.tx });
        return { key: r.key, value: JSON.parse(r.value) as JsonValue };
      });
      const last = items[items.length - 1];
      // The interval this page covered: from the bookmark (exclusive) or start, to the last key
      // returned (inclusive) when more follow, else to end. '\u0000' makes a bound exclusive/inclusive,
      // since keys never contain it.
      const lo = after !== undefined && after + '\u0000' > start ? after + '\u0000' : start;
      const hi = rows.length > limit && last !== undefined ? last.key + '\u0000' : end;
      if (tracking && lo < hi) record.ranges.push({ start: lo, end: hi, reads: seen.map((r) => ({ key: r.key, version: { block: r.block, tx: r.tx } })) });
      return rows.length > limit && last !== undefined ? { items, bookmark: Buffer.from(last.key).toString('base64url') } : { items };
    },
    query(query: RichQuery, page): Page<StateEntry> {
      const limit = pageLimit(page);
      const compiled = compileMangoQuery(p.ns, query, p.indexes, { limit, ...(page?.bookmark === undefined ? {} : { bookmark: page.bookmark }) });
      const rows = p.store.select(compiled.sql, compiled.params);
      const items = rows.slice(0, limit).map((r) => ({ key: r.key as string, value: JSON.parse(r.value as string) as JsonValue }));
      const lastRow = rows[limit - 1];
      return rows.length > limit && lastRow !== undefined ? { items, bookmark: nextBookmark(lastRow, compiled) } : { items };
    },
    history(key, options): Page<KeyModification> {
      checkKey(key);
      const limit = pageLimit(options);
      const order = options?.order ?? 'asc';
      let after: { block: number; tx: number } | undefined;
      if (options?.bookmark !== undefined) {
        const m = /^(\d+):(\d+)$/.exec(decodeCursor(options.bookmark, 'history'));
        if (m === null) throw new SilkError('INVALID_ARGUMENT', 'bad history bookmark');
        after = { block: Number(m[1]), tx: Number(m[2]) };
      }
      const rows = p.store.history(p.ns, key, order, limit + 1, after);
      const items = rows.slice(0, limit).map((r) => ({ txId: r.txId, block: r.block, tx: r.tx, timestamp: r.timestamp, value: r.value === null ? null : (JSON.parse(r.value) as JsonValue) }));
      const last = items[items.length - 1];
      return rows.length > limit && last !== undefined ? { items, bookmark: Buffer.from(`${last.block}:${last.tx}`).toString('base64url') } : { items };
    },
    emit(name, payload) {
      if (p.readonly) throw new SilkError('CONTRACT_ERROR', 'a query function may not emit events');
      if (typeof name !== 'string' || name.length === 0 || name.length > 128) throw new SilkError('INVALID_ARGUMENT', 'event names are 1..128 characters');
      const text = JSON.stringify(payload);
      if (text.length > MAX_VALUE_BYTES) throw new SilkError('PAYLOAD_TOO_LARGE', `event ${name} payload is too large`);
      record.events.push({ name, payload: text });
    },
  };

  return {
    ctx,
    record: {
      reads: record.reads,
      ranges: record.ranges,
      get writes() {
        return [...written.values()];
      },
      events: record.events,
    },
  };
}
