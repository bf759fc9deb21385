/**
 * Re-verifies a peer's whole ledger for one chain: the hash chain, Merkle roots, orderer
 * signatures, every transaction's signatures and policies (by re-validating each block from
 * scratch), the stored validation codes, commit hashes and peer signatures, and finally the
 * stored world state against the state replayed from the blocks.
 */
import { bytesEqual, fromHex } from '../crypto/hash.js';
import { verifyP256 } from '../crypto/p256.js';
import { createInlineVerifier, type SignatureVerifier } from '../crypto/verify-pool.js';
import { createRegistryIdentityResolver } from '../identity/registry-identity-resolver.js';
import { feedIdentityWrites } from './identity-feed.js';
import { blockHash, decodeBlock, GENESIS_PREVIOUS_HASH, type Block } from '../ledger/block.js';
import { encodeCommitStatement } from '../ledger/receipt.js';
import { VALIDATION_CODES } from '../errors.js';
import { openSqliteLedgerStore, type LedgerStore } from '../storage/sqlite-ledger-store.js';
import { validateBlock } from './block-validator.js';
import { checkBlock } from './block-checks.js';
import { computeCommitHash, encodeValidationCodes } from '../ledger/commit-hash.js';

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
}

/**
 * Verifies one peer ledger file, opened read-only.
 * @param path the peer's SQLite file for a chain
 * @returns the verdict; `ok` is false with the first broken block or key named
 * @example const v = await verifyLedgerFile('./data/peers/peer0.org1/trade.sqlite'); if (!v.ok) console.error(v.problems[0])
 */
export async function verifyLedgerFile(path: string, options: VerifyLedgerOptions = {}): Promise<LedgerVerification> {
  const stored = openSqliteLedgerStore(path, { readonly: true });
  const replay = openSqliteLedgerStore(':memory:');
  try {
    return await verifyStores(stored, replay, options);
  } finally {
    await stored.close();
    await replay.close();
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

async function verifyStores(stored: LedgerStore, replay: LedgerStore, options: VerifyLedgerOptions): Promise<LedgerVerification> {
  const verifier = options.verifier ?? createInlineVerifier();
  const resolver = createRegistryIdentityResolver();
  const height = stored.height();
  const peerKeyHex = stored.meta('peer_key');
  const problems: LedgerProblem[] = [];
  let chain: string | undefined;
  let prevHash: Uint8Array = GENESIS_PREVIOUS_HASH;
  let prevTs = 0;
  let prevCommit: Uint8Array = new Uint8Array(32);
  let transactions = 0;
  const fail = (n: number, message: string): void => {
    problems.push({ block: n, message: `block ${n}: ${message}` });
  };

  if (stored.savepoint() !== height - 1) problems.push({ message: `savepoint ${stored.savepoint()} does not match the block store height ${height}` });

  for (let n = 0; n < height && problems.length === 0; n++) {
    const row = stored.block(n);
    if (row === undefined) {
      fail(n, 'missing');
      break;
    }
    let block: Block;
    try {
      block = decodeBlock(row.bytes);
    } catch (e) {
      fail(n, `does not decode: ${(e as Error).message}`);
      break;
    }
    chain ??= block.header.chain;
    const checked = checkBlock(block, { chain, number: n, previousHash: prevHash, previousTimestamp: prevTs }, resolver);
    const problem = checked.problem ?? (bytesEqual(blockHash(block.header), row.hash) ? undefined : 'stored block hash differs from the header hash');
    if (problem !== undefined) {
      fail(n, problem);
      break;
    }
    const v = await validateBlock({ block, store: replay, resolver, verifier });
    if (n === 0 && v.config === undefined) {
      fail(n, 'genesis block carries no valid configuration');
      break;
    }
    const codes = encodeValidationCodes(v.codes);
    if (!bytesEqual(codes, row.codes)) {
      const i = codes.findIndex((c, j) => c !== row.codes[j]);
      fail(n, `validation code of tx ${i} is stored as ${VALIDATION_CODES[row.codes[i] ?? 255] ?? 'nothing'} but re-validates as ${v.codes[i] ?? 'nothing'}`);
      break;
    }
    const commitHash = computeCommitHash(prevCommit, n, codes, v.writes);
    if (!bytesEqual(commitHash, row.commitHash)) {
      fail(n, 'stored commit hash differs from the replay');
      break;
    }
    const statement = encodeCommitStatement({ chain, number: n, blockHash: row.hash, codes, commitHash });
    if (peerKeyHex !== undefined && !verifyP256(fromHex(peerKeyHex), statement, row.peerSignature)) {
      fail(n, "peer's commit signature does not verify");
      break;
    }
    replay.commit({ ...row, txIndex: v.txIndex, writes: v.writes });
    if (v.config !== undefined) resolver.addConfig(n, v.config);
    feedIdentityWrites(resolver, n, v.writes);
    prevHash = row.hash;
    prevTs = block.header.timestamp;
    prevCommit = commitHash;
    transactions += block.txs.length;
    options.onProgress?.(n + 1, height);
  }

  let stateKeys = 0;
  if (problems.length === 0) {
    const compared = compareState(stored, replay);
    stateKeys = compared.keys;
    if (compared.problem !== undefined) problems.push(compared.problem);
  }
  return { path: stored.path, chain, blocks: height, transactions, stateKeys, ok: problems.length === 0, problems };
}
