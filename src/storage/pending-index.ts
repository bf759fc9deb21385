/**
 * The key history and tx index rows of a ledger's most recent blocks, held in memory until they
 * are written to their tables in one batch (sqlite-ledger-store.ts). Pending rows are always
 * exactly those of the blocks after the ledger's `index_savepoint`; each of those blocks has its
 * `block_writes` record on disk, so the rows can be rebuilt after a restart.
 */
import type { IndexedTx } from './block-writes.js';
import type { HistoryRow, TxLocation } from './sqlite-ledger-store.js';

/** One history row to write: the primary key of `history`. */
export type IndexHistoryRow = readonly [ns: string, key: string, block: number, tx: number];
/** One tx index row to write, the id in hex (the writer stores its 32 bytes). */
export type IndexTxRow = readonly [txId: string, block: number, tx: number, code: number];

/** Index rows a commit writes to their tables, sorted, and the block they are complete up to. */
export interface IndexFlush {
  /** Sorted by (ns, key, block, tx). */
  readonly history: readonly IndexHistoryRow[];
  /** Sorted by tx id. */
  readonly txs: readonly IndexTxRow[];
  /** The new `index_savepoint`: every block up to it has its index rows in the tables. */
  readonly savepoint: number;
}

/** A pending write, with what its history row returns. */
export interface PendingWrite {
  readonly ns: string;
  readonly key: string;
  readonly value: string | null;
  readonly tx: number;
  readonly txId: string;
}

/** One block's pending index material. */
export interface PendingBlock {
  readonly number: number;
  readonly timestamp: number;
  /** The tx index entries the block adds (ids it is the first to claim). */
  readonly txs: readonly IndexedTx[];
  readonly writes: readonly PendingWrite[];
}

/** The rows a block contributes: one per tx index entry and one per written key and transaction. */
export function pendingRowCount(b: PendingBlock, keepHistory: boolean): number {
  return b.txs.length + (keepHistory ? b.writes.length : 0);
}

function historyKey(ns: string, key: string): string {
  return `${ns}\u0000${key}`;
}

function compareHistoryRows(a: IndexHistoryRow, b: IndexHistoryRow): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[2] - b[2] || a[3] - b[3];
}

/** The pending index rows of one ledger. */
export class PendingIndex {
  readonly #keepHistory: boolean;
  /** Ascending block numbers. */
  #blocks: PendingBlock[] = [];
  /** `ns \0 key` → its pending history rows, oldest first. */
  readonly #history = new Map<string, HistoryRow[]>();
  readonly #txs = new Map<string, TxLocation>();
  #rows = 0;

  /** @param keepHistory false keeps no history rows (a scratch replay's store) */
  constructor(keepHistory: boolean) {
    this.#keepHistory = keepHistory;
  }

  /** Blocks pending. */
  get blocks(): number {
    return this.#blocks.length;
  }

  /** Rows pending (history and tx index). */
  get rows(): number {
    return this.#rows;
  }

  /** The pending blocks, oldest first. */
  get pendingBlocks(): readonly PendingBlock[] {
    return this.#blocks;
  }

  /** The newest pending block, or undefined when none is. */
  get last(): number | undefined {
    return this.#blocks[this.#blocks.length - 1]?.number;
  }

  /** Adds a block's rows; a block already pending (a replay of it) is replaced, with any after it. */
  add(b: PendingBlock): void {
    const last = this.last;
    if (last !== undefined && b.number <= last) {
      const kept = this.#blocks.filter((x) => x.number < b.number);
      this.clear();
      for (const x of kept) this.#index(x);
    }
    this.#index(b);
  }

  #index(b: PendingBlock): void {
    this.#blocks.push(b);
    this.#rows += pendingRowCount(b, this.#keepHistory);
    for (const t of b.txs) if (!this.#txs.has(t.txId)) this.#txs.set(t.txId, { block: b.number, tx: t.tx, code: t.code });
    if (!this.#keepHistory) return;
    for (const w of b.writes) {
      const k = historyKey(w.ns, w.key);
      let rows = this.#history.get(k);
      if (rows === undefined) this.#history.set(k, (rows = []));
      const row: HistoryRow = { block: b.number, tx: w.tx, txId: w.txId, value: w.value, timestamp: b.timestamp };
      const prev = rows[rows.length - 1];
      // A key written twice by one transaction has one history row: the last write.
      if (prev !== undefined && prev.block === b.number && prev.tx === w.tx) rows[rows.length - 1] = row;
      else rows.push(row);
    }
  }

  /** The pending location of a tx id. */
  tx(txId: string): TxLocation | undefined {
    return this.#txs.get(txId);
  }

  /** A key's pending history rows, oldest first. */
  history(ns: string, key: string): readonly HistoryRow[] {
    return this.#history.get(historyKey(ns, key)) ?? [];
  }

  /**
   * Every pending row plus those of `also`, sorted for insertion.
   * @param also a block committed with the flush
   */
  flush(also: PendingBlock | undefined, savepoint: number): IndexFlush {
    const blocks = also === undefined ? this.#blocks : [...this.#blocks.filter((b) => b.number < also.number), also];
    const history: IndexHistoryRow[] = [];
    const txs: IndexTxRow[] = [];
    const seen = new Set<string>();
    for (const b of blocks) {
      for (const t of b.txs) {
        if (seen.has(t.txId)) continue;
        seen.add(t.txId);
        txs.push([t.txId, b.number, t.tx, t.code]);
      }
      if (this.#keepHistory) for (const w of b.writes) history.push([w.ns, w.key, b.number, w.tx]);
    }
    history.sort(compareHistoryRows);
    txs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return { history, txs, savepoint };
  }

  /** Forgets every pending row. */
  clear(): void {
    this.#blocks = [];
    this.#history.clear();
    this.#txs.clear();
    this.#rows = 0;
  }
}
