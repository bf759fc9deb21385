/**
 * A bounded read cache of a ledger's world state, kept by the ledger's only writer.
 *
 * Every transaction reads state several times on its way through a peer: the endorser's
 * simulation reads it, and each committing peer reads the version of every key in the read set
 * for its MVCC check. Through SQLite each such point read costs several microseconds, more when
 * the block just committed by the writer thread has reset the reading connection's page cache.
 * The store that writes the ledger (the data lock makes it the only one) knows every change it
 * commits, so it can answer repeated reads from memory and stay exact: entries are filled from
 * SQLite on a miss (absent keys included) and updated from each block's writes once the block's
 * SQLite transaction has committed. A read-only store, which cannot see another process's
 * commits, keeps no cache.
 *
 * Bounds: at most {@link MAX_ENTRIES} keys and about {@link MAX_BYTES} of values per ledger;
 * values over {@link MAX_VALUE_CHARS} characters are not cached. When full, the oldest eighth of
 * the entries is dropped (insertion order), which keeps eviction cheap and the hot keys of a
 * busy chain in memory.
 */
import type { StateWrite, StoredState } from './sqlite-ledger-store.js';

/** Keys held per ledger at most. */
export const MAX_ENTRIES = 65_536;
/** Characters of cached values (plus a fixed overhead per entry) per ledger at most. */
export const MAX_BYTES = 8 * 1024 * 1024;
/** Values longer than this are always read from SQLite. */
export const MAX_VALUE_CHARS = 16 * 1024;
/** Bytes counted per entry besides its value: the key, the version and the Map's own cost. */
const ENTRY_OVERHEAD = 96;

/** The world-state cache of one writable ledger store. */
export class StateCache {
  /** `ns \0 key` → the stored state, or null when the key has no value. */
  readonly #entries = new Map<string, StoredState | null>();
  /** The store's point read from SQLite, called on a miss. */
  readonly #read: (ns: string, key: string) => StoredState | undefined;
  #bytes = 0;

  constructor(read: (ns: string, key: string) => StoredState | undefined) {
    this.#read = read;
  }

  /** Entries held now (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  /** What the entries count against {@link MAX_BYTES} now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The state of a key: from memory, else from SQLite, remembered for next time. */
  get(ns: string, key: string): StoredState | undefined {
    const id = cacheKey(ns, key);
    const hit = this.#entries.get(id);
    if (hit !== undefined) return hit ?? undefined;
    const stored = this.#read(ns, key);
    this.#set(id, stored ?? null);
    return stored;
  }

  /**
   * Applies a committed block's writes, in block order (a later write of a key wins). Call only
   * once the block's SQLite transaction has committed.
   * @param block the block's number (the version of the values it writes)
   */
  applyCommitted(block: number, writes: readonly StateWrite[]): void {
    for (const w of writes) {
      const id = cacheKey(w.ns, w.key);
      if (w.value === null) {
        this.#set(id, null);
        continue;
      }
      let policy: string | null;
      if (w.policy !== undefined) policy = w.policy;
      else {
        // The write keeps the key's policy: known only when the key is cached (absent means none).
        const before = this.#entries.get(id);
        if (before === undefined) continue;
        policy = before?.policy ?? null;
      }
      this.#set(id, { value: w.value, block, tx: w.tx, policy });
    }
  }

  /** Forgets everything (the derived data was reset, or a commit's outcome is unknown). */
  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #set(id: string, state: StoredState | null): void {
    this.#forget(id);
    if (state !== null && state.value.length > MAX_VALUE_CHARS) return;
    const cost = entryCost(id, state);
    if (this.#entries.size >= MAX_ENTRIES || this.#bytes + cost > MAX_BYTES) this.#evict();
    this.#entries.set(id, state);
    this.#bytes += cost;
  }

  #forget(id: string): void {
    const old = this.#entries.get(id);
    if (old === undefined) return;
    this.#entries.delete(id);
    this.#bytes -= entryCost(id, old);
  }

  /** Drops the oldest eighth of the entries. */
  #evict(): void {
    let drop = Math.max(1, this.#entries.size >> 3);
    for (const [id, state] of this.#entries) {
      if (drop-- <= 0) break;
      this.#entries.delete(id);
      this.#bytes -= entryCost(id, state);
    }
  }
}

function cacheKey(ns: string, key: string): string {
  return ns + '\u0000' + key;
}

function entryCost(id: string, state: StoredState | null): number {
  return ENTRY_OVERHEAD + id.length + (state === null ? 0 : state.value.length + (state.policy?.length ?? 0));
}
