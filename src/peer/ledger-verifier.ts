/**
 * Re-verifies a peer's whole ledger for one chain: the hash chain, Merkle roots, orderer
 * signatures, every transaction's signatures and policies (by re-validating each block from
 * scratch), the stored validation codes, commit hashes and peer signatures, the stored receipt
 * material (headers, inclusion paths, leaf and envelope hashes) against the blocks, each block's
 * index record (`block_writes`) against the one the replay writes and the key history and tx
 * index rows against those records, and finally the stored world state against the state
 * replayed from the blocks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesEqual, fromHex } from '../crypto/hash.js';
import { createInlineVerifier, type SignatureVerifier } from '../crypto/verify-pool.js';
import type { BlockProofs } from '../ledger/receipt.js';
import { isSilkError, VALIDATION_CODES } from '../errors.js';
import { LEDGER_SCHEMA_VERSION } from '../storage/receipt-migration.js';
import { openSqliteLedgerStore, type IndexRowsCheck, type IndexTotals, type LedgerStore, type StoredBlock, type StoredProofs } from '../storage/sqlite-ledger-store.js';
import { createBlockReplay } from './block-replay.js';

/** One problem found. */
export interface LedgerProblem {
  readonly block?: number;
  readonly ns?: string;
  readonly key?: string;
  readonly message: string;
}

/** The verdict on one ledger file. */
export interface LedgerVerification {
  readonly path: string;
  readonly chain: string | undefined;
  readonly blocks: number;
  readonly transactions: number;
  readonly stateKeys: number;
  readonly ok: boolean;
  /** The first problems found (verification stops at the first broken block). */
  readonly problems: readonly LedgerProblem[];
}

/** Options of {@link verifyLedgerFile}. */
export interface VerifyLedgerOptions {
  /** Called after each block with (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
  readonly verifier?: SignatureVerifier;
  /**
   * Folder for the replay's scratch file, deleted when done (default: the system's temporary
   * folder, `TMPDIR`). It grows to about the ledger's world state and blocks: half the ledger file.
   */
  readonly scratchDir?: string;
}

/**
 * Verifies one peer ledger file, opened read-only.
 * @param path the peer's SQLite file for a chain
 * @returns the verdict; `ok` is false with the first broken block or key named
 * @example const v = await verifyLedgerFile('./data/peers/peer0.org1/trade.sqlite'); if (!v.ok) console.error(v.problems[0])
 */
export async function verifyLedgerFile(path: string, options: VerifyLedgerOptions = {}): Promise<LedgerVerification> {
  const stored = openSqliteLedgerStore(path, { readonly: true });
  // The replay goes to a scratch file, not memory: a ledger of millions of events replays in
  // SQLite's page cache, not in RAM the size of the ledger.
  const scratch = mkdtempSync(join(options.scratchDir ?? tmpdir(), 'silk-verify-'));
  try {
    const replay = openSqliteLedgerStore(join(scratch, 'replay.sqlite'), { scratch: true });
    try {
      return await verifyStores(stored, replay, options);
    } finally {
      await replay.close();
    }
  } finally {
    await stored.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

type StateRow = { ns: string; key: string; value: string; block: number; tx: number; policy: string | null };

/** Walks stored and replayed state in (ns, key) order; returns the first difference. */
function compareState(stored: LedgerStore, replay: LedgerStore): { problem?: LedgerProblem; keys: number } {
  const a = stored.iterateState();
  const b = replay.iterateState();
  let keys = 0;
  try {
    for (;;) {
      const x = a.next();
      const y = b.next();
      if (x.done === true && y.done === true) return { keys };
      keys++;
      const s: StateRow | undefined = x.done === true ? undefined : x.value;
      const r: StateRow | undefined = y.done === true ? undefined : y.value;
      if (s === undefined || r === undefined || s.ns !== r.ns || s.key !== r.key) {
        const storedFirst = r === undefined || (s !== undefined && (s.ns < r.ns || (s.ns === r.ns && s.key < r.key)));
        const extra = (storedFirst ? s : r) as StateRow;
        const where = storedFirst ? 'is in the stored state but not produced by the replay' : 'is produced by the replay but missing from the stored state';
        return { keys, problem: { ns: extra.ns, key: extra.key, message: `state key ${extra.ns}/${extra.key} ${where}` } };
      }
      if (s.value !== r.value || s.block !== r.block || s.tx !== r.tx || s.policy !== r.policy) {
        return { keys, problem: { ns: s.ns, key: s.key, message: `state key ${s.ns}/${s.key} differs from the replay (stored version ${s.block}:${s.tx})` } };
      }
    }
  } finally {
    a.return?.();
    b.return?.();
  }
}

/**
 * Compares a block's stored receipt material with the one computed from the block.
 * @param required whether the ledger's schema promises the rows (an older ledger, read-only, may lack them)
 * @returns the first difference, or undefined
 */
function receiptProblem(stored: StoredProofs | undefined, expected: BlockProofs, row: StoredBlock, required: boolean): string | undefined {
  if (stored === undefined) return required ? 'its receipt row is missing' : undefined;
  if (!bytesEqual(stored.header, expected.header)) return 'stored receipt header differs from the block header';
  if (!bytesEqual(stored.ordererSignature, expected.ordererSignature)) return "stored receipt orderer signature differs from the block's";
  if (!bytesEqual(stored.codes, row.codes) || !bytesEqual(stored.commitHash, row.commitHash) || !bytesEqual(stored.peerSignature, row.peerSignature)) {
    return 'stored receipt commit statement (codes, commit hash or peer signature) differs from the block row';
  }
  if (stored.txs.length !== expected.txs.length) return `stored receipt material covers ${stored.txs.length} transactions; the block has ${expected.txs.length}`;
  // The hashes first: a stored path is derived from every leaf, so one wrong leaf changes many.
  for (let i = 0; i < expected.txs.length; i++) {
    const s = stored.txs[i];
    const e = expected.txs[i];
    if (s === undefined || e === undefined) break;
    if (!bytesEqual(s.leafHash, e.leafHash)) return `stored leaf hash of tx ${i} differs from its envelope`;
    if (!bytesEqual(s.envelopeHash, e.envelopeHash)) return `stored envelope hash of tx ${i} differs from its envelope`;
  }
  for (let i = 0; i < expected.txs.length; i++) {
    const s = stored.txs[i];
    const e = expected.txs[i];
    if (s === undefined || e === undefined) break;
    if (!bytesEqual(s.path, e.path)) return `stored inclusion path of tx ${i} differs from the block's Merkle tree`;
  }
  return undefined;
}

/** {@link receiptProblem} of block `n`'s stored material, or the reason it cannot be read. */
function storedReceiptProblem(stored: LedgerStore, n: number, expected: BlockProofs, row: StoredBlock, required: boolean): string | undefined {
  try {
    return receiptProblem(stored.proofs(n), expected, row, required);
  } catch (e) {
    if (!isSilkError(e, 'LEDGER_CORRUPT')) throw e;
    return e.message;
  }
}

/** The checks of the index records and rows, block by block and then in total. */
interface IndexTally {
  /** Checks a block once the replay committed it; returns the problem. */
  block(n: number): string | undefined;
  /** Checks the row counts of the index tables once every block passed; returns the problem. */
  totals(height: number): string | undefined;
}

/**
 * Each block's stored index record must equal the one the replay wrote, and its key history and
 * tx index rows be in their tables once due there (up to the index savepoint); the tables must
 * then hold no other rows. Ledgers older than schema version 3 (opened read-only, not
 * migrated) have no records: nothing to check.
 */
function createIndexTally(stored: LedgerStore, replay: LedgerStore): IndexTally {
  const required = Number(stored.meta('schema_version') ?? 1) >= LEDGER_SCHEMA_VERSION;
  let historyRows = 0;
  let txRows = 0;
  const check = (n: number): IndexRowsCheck => {
    const record = stored.blockWrites(n);
    if (record === undefined) return { problem: 'its block_writes record is missing', historyRows: 0, txRows: 0 };
    const expected = replay.blockWrites(n);
    if (expected === undefined || !bytesEqual(record, expected)) return { problem: 'stored block_writes record differs from the replay (its tx ids, codes or state writes)', historyRows: 0, txRows: 0 };
    return stored.checkIndexRows(n);
  };
  return {
    block(n) {
      if (!required) return undefined;
      const rows = check(n);
      historyRows += rows.historyRows;
      txRows += rows.txRows;
      return rows.problem;
    },
    totals(height) {
      if (!required) return undefined;
      const t: IndexTotals = stored.indexTotals();
      if (t.indexSavepoint < -1 || t.indexSavepoint > height - 1) return `index savepoint ${t.indexSavepoint} is beyond the block store height ${height}`;
      if (t.historyRows !== historyRows) return `the key history holds ${t.historyRows} rows; the block_writes records up to block ${t.indexSavepoint} call for ${historyRows}`;
      if (t.txRows !== txRows) return `the tx index holds ${t.txRows} rows; the block_writes records up to block ${t.indexSavepoint} call for ${txRows}`;
      return undefined;
    },
  };
}

/** The checks after every block passed: the index tables' totals, then the world state. Returns the state keys compared. */
function finalChecks(stored: LedgerStore, replay: LedgerStore, index: IndexTally, height: number, problems: LedgerProblem[]): number {
  const badIndex = index.totals(height);
  if (badIndex !== undefined) {
    problems.push({ message: badIndex });
    return 0;
  }
  const compared = compareState(stored, replay);
  if (compared.problem !== undefined) problems.push(compared.problem);
  return compared.keys;
}

async function verifyStores(stored: LedgerStore, scratch: LedgerStore, options: VerifyLedgerOptions): Promise<LedgerVerification> {
  const replay = createBlockReplay(scratch, options.verifier ?? createInlineVerifier());
  const height = stored.height();
  const peerKeyHex = stored.meta('peer_key');
  const problems: LedgerProblem[] = [];
  let transactions = 0;
  const fail = (n: number, message: string): void => {
    problems.push({ block: n, message: `block ${n}: ${message}` });
  };

  const receiptsRequired = Number(stored.meta('schema_version') ?? 1) >= 2;
  const index = createIndexTally(stored, scratch);
  if (stored.savepoint() !== height - 1) problems.push({ message: `savepoint ${stored.savepoint()} does not match the block store height ${height}` });

  for (let n = 0; n < height && problems.length === 0; n++) {
    const row = stored.block(n);
    if (row === undefined) {
      fail(n, 'missing');
      break;
    }
    const r = await replay.check(row.bytes);
    if ('problem' in r) {
      fail(n, r.problem);
      break;
    }
    if (!bytesEqual(r.hash, row.hash)) {
      fail(n, 'stored block hash differs from the header hash');
      break;
    }
    if (!bytesEqual(r.codes, row.codes)) {
      const i = r.codes.findIndex((c, j) => c !== row.codes[j]);
      fail(n, `validation code of tx ${i} is stored as ${VALIDATION_CODES[row.codes[i] ?? 255] ?? 'nothing'} but re-validates as ${r.validation.codes[i] ?? 'nothing'}`);
      break;
    }
    if (!bytesEqual(r.commitHash, row.commitHash)) {
      fail(n, 'stored commit hash differs from the replay');
      break;
    }
    const badSignature = peerKeyHex === undefined ? undefined : replay.peerSignatureProblem(r, fromHex(peerKeyHex), row.peerSignature, false);
    if (badSignature !== undefined) {
      fail(n, badSignature);
      break;
    }
    // Checked once the block row itself holds: a difference is then the receipt row's own.
    const badReceipt = storedReceiptProblem(stored, n, r.proofs, row, receiptsRequired);
    if (badReceipt !== undefined) {
      fail(n, badReceipt);
      break;
    }
    replay.commit(r, row.peerSignature);
    const badIndex = index.block(n);
    if (badIndex !== undefined) {
      fail(n, badIndex);
      break;
    }
    transactions += r.block.txs.length;
    options.onProgress?.(n + 1, height);
  }

  const stateKeys = problems.length === 0 ? finalChecks(stored, scratch, index, height, problems) : 0;
  return { path: stored.path, chain: replay.chain, blocks: height, transactions, stateKeys, ok: problems.length === 0, problems };
}
