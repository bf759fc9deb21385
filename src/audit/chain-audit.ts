/**
 * A chain audited from the outside: every block a node serves is fetched, replayed on the
 * auditor's machine from a genesis block the auditor trusts (block-replay.ts), and what the
 * node's peer signed for each block (validation codes, commit hash) is compared with the replay.
 *
 * Nothing the node says is taken on trust: the blocks are checked in the hash chain from block 0,
 * each against the orderers of the configuration in force at it; the transactions are
 * re-validated and the state rebuilt; the configurations and registered identities are followed
 * as the chain records them. What comes out is the chain's head as the auditor computed it, and
 * the keys a receipt of a later block is checked with, derived from block 0 alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, toHex } from '../crypto/hash.js';
import { createVerifyPool, type SignatureVerifier } from '../crypto/verify-pool.js';
import { SilkError } from '../errors.js';
import { receiptTrust, type ReceiptTrust } from '../ledger/receipt.js';
import { createBlockReplay, type BlockReplay, type ReplayedBlock } from '../peer/block-replay.js';
import type { BlockView } from '../peer/block-view.js';
import { openSqliteLedgerStore } from '../storage/sqlite-ledger-store.js';

/** What the node says its peer signed for one block (the fields of `GET /api/chains/{chain}/blocks/{n}`). */
export interface AuditedCommit {
  /** The validation code of each transaction, in block order. */
  readonly codes: readonly string[];
  /** The commit hash (hex). */
  readonly commitHash: string;
  /** The committing peer's key (hex). */
  readonly peer: string;
  /** Its signature over the block hash, the validation codes and the commit hash (hex). */
  readonly peerSignature: string;
}

/**
 * What a block view (`GET /api/chains/{chain}/blocks/{n}`, `describeBlock`) says the peer signed.
 * @example commit: async (n) => commitOfBlockView(await client.block(chain, n))
 */
export function commitOfBlockView(view: Pick<BlockView, 'transactions' | 'commitHash' | 'peer' | 'peerSignature'>): AuditedCommit {
  return { codes: view.transactions.map((t) => t.code), commitHash: view.commitHash, peer: view.peer, peerSignature: view.peerSignature };
}

/** Where the audited blocks come from: a node's API (the SDK's `blockBytes` and `block`), or anything serving the same. */
export interface AuditSource {
  /** The chain's height as the node reports it. */
  height(): Promise<number>;
  /** Block `n`'s bytes as ordered. */
  blockBytes(n: number): Promise<Uint8Array>;
  /** What the node's peer signed for block `n`. */
  commit(n: number): Promise<AuditedCommit>;
}

/** Options of {@link auditChain}. */
export interface AuditOptions {
  /** The hash of the genesis block the auditor trusts (hex), e.g. from the alliance's published configuration. Without it, block 0 is taken as served and its hash reported. */
  readonly genesisHash?: string;
  /** Audit blocks 0 to `to` (inclusive); default the node's height at the start, less one. */
  readonly to?: number;
  /** Folder for the replay's scratch ledger, deleted when done (default the system's temporary folder). */
  readonly scratchDir?: string;
  /** Blocks fetched ahead of the replay (default 8). */
  readonly prefetch?: number;
  /** Called after each block with (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
  /** Checks the transactions' signatures (default: a pool of one thread per core, closed when done). */
  readonly verifier?: SignatureVerifier;
}

/** A configuration the chain put in force. */
export interface AuditedConfiguration {
  readonly sequence: number;
  /** The block that carries it; it governs the blocks after it (block 0's governs itself too). */
  readonly block: number;
}

/** The verdict of an audit. */
export interface ChainAudit {
  readonly chain: string;
  readonly ok: boolean;
  /** Blocks replayed and matched. */
  readonly blocks: number;
  readonly transactions: number;
  /** The hash of block 0 as replayed (hex). */
  readonly genesisHash: string | undefined;
  /** Whether block 0 was checked against a hash the auditor gave. */
  readonly genesisPinned: boolean;
  /** The last block that matched: its number, hash and commit hash (hex). */
  readonly head: { readonly number: number; readonly hash: string; readonly commitHash: string } | undefined;
  /** The peer keys whose commit signatures were checked (hex). */
  readonly peers: readonly string[];
  readonly configurations: readonly AuditedConfiguration[];
  /** The keys a receipt of a block after the head is checked with, from the configuration in force there. */
  readonly trust: ReceiptTrust | undefined;
  /** The first problem (the audit stops at the first block that does not match). */
  readonly problems: readonly { readonly block: number; readonly message: string }[];
}

const HEX_HASH = /^[0-9a-f]{64}$/;

/** The first difference between a replayed block and what the node's peer signed for it. */
function commitProblem(r: ReplayedBlock, claimed: AuditedCommit): string | undefined {
  const codes = r.validation.codes;
  if (claimed.codes.length !== codes.length) return `the node lists ${claimed.codes.length} validation codes for ${codes.length} transactions`;
  const i = codes.findIndex((code, j) => claimed.codes[j] !== code);
  if (i >= 0) return `the node says tx ${i} is ${String(claimed.codes[i])}; replayed, it is ${String(codes[i])}`;
  if (claimed.commitHash !== toHex(r.commitHash)) return `the node's commit hash ${claimed.commitHash} differs from the replay's ${toHex(r.commitHash)}`;
  return undefined;
}

function hexBytes(value: string, what: string): Uint8Array {
  try {
    return fromHex(value);
  } catch {
    throw new SilkError('MALFORMED', `${what} is not hex: ${JSON.stringify(value).slice(0, 80)}`);
  }
}

/** Block `bytes` checked by the replay and against what the node's peer signed for it; the first problem, or the block ready to commit. */
async function checkAgainstReplay(replay: BlockReplay, bytes: Uint8Array, claimed: AuditedCommit, chain: string, pinnedGenesis: string | undefined): Promise<{ readonly problem: string } | { readonly r: ReplayedBlock; readonly peerSignature: Uint8Array }> {
  const r = await replay.check(bytes);
  if ('problem' in r) return r;
  if (r.block.header.number === 0) {
    if (r.block.header.chain !== chain) return { problem: `it is the genesis block of chain ${r.block.header.chain}, not ${chain}` };
    const hash = toHex(r.hash);
    if (pinnedGenesis !== undefined && hash !== pinnedGenesis) return { problem: `its hash ${hash} is not the genesis hash you trust (${pinnedGenesis})` };
  }
  const differs = commitProblem(r, claimed);
  if (differs !== undefined) return { problem: differs };
  const peerSignature = hexBytes(claimed.peerSignature, "the peer's signature");
  const badSignature = replay.peerSignatureProblem(r, hexBytes(claimed.peer, "the peer's key"), peerSignature, true);
  return badSignature === undefined ? { r, peerSignature } : { problem: badSignature };
}

/**
 * Audits a chain from block 0 to the node's height (or `to`).
 * @param chain the chain's name (block 0 must be its genesis)
 * @param source where the blocks and the peer's commit signatures come from
 * @returns the verdict; `ok` false names the first block that does not match and why
 * @throws SilkError INVALID_ARGUMENT for a malformed genesis hash or `to`; whatever the source throws (UNREACHABLE, NOT_FOUND, …)
 * @example const audit = await auditChain('trade', { height, blockBytes, commit }, { genesisHash: 'fa98…' }) // silk audit reads them through the SDK
 */
export async function auditChain(chain: string, source: AuditSource, options: AuditOptions = {}): Promise<ChainAudit> {
  const pinned = options.genesisHash?.toLowerCase();
  if (pinned !== undefined && !HEX_HASH.test(pinned)) throw new SilkError('INVALID_ARGUMENT', `a genesis hash is 64 hex digits; got ${JSON.stringify(options.genesisHash)}`, { path: 'genesisHash' });
  if (options.to !== undefined && (!Number.isSafeInteger(options.to) || options.to < 0)) throw new SilkError('INVALID_ARGUMENT', `to must be a block number; got ${String(options.to)}`, { path: 'to' });
  const last = options.to ?? (await source.height()) - 1;
  const total = last + 1;
  if (total <= 0) throw new SilkError('NOT_FOUND', `the node serves no block of chain ${chain}`);
  const prefetch = Math.max(1, options.prefetch ?? 8);

  const scratchDir = mkdtempSync(join(options.scratchDir ?? tmpdir(), 'silk-audit-'));
  const scratch = openSqliteLedgerStore(join(scratchDir, 'replay.sqlite'), { scratch: true });
  const verifier = options.verifier ?? createVerifyPool();
  const replay = createBlockReplay(scratch, verifier);
  const problems: { block: number; message: string }[] = [];
  const configurations: AuditedConfiguration[] = [];
  const peers = new Set<string>();
  let transactions = 0;
  let genesisHash: string | undefined;
  let head: ChainAudit['head'];
  const fetched = new Map<number, Promise<[Uint8Array, AuditedCommit]>>();
  const fetchBlock = (n: number): Promise<[Uint8Array, AuditedCommit]> => Promise.all([source.blockBytes(n), source.commit(n)]);
  try {
    for (let n = 0; n <= last; n++) {
      for (let k = n; k <= Math.min(last, n + prefetch - 1); k++) {
        if (!fetched.has(k)) {
          const p = fetchBlock(k);
          p.catch(() => undefined); // awaited in turn below
          fetched.set(k, p);
        }
      }
      const [bytes, claimed] = await (fetched.get(n) as Promise<[Uint8Array, AuditedCommit]>);
      fetched.delete(n);
      const checked = await checkAgainstReplay(replay, bytes, claimed, chain, pinned);
      if ('problem' in checked) {
        problems.push({ block: n, message: `block ${n}: ${checked.problem}` });
        break;
      }
      const { r, peerSignature } = checked;
      if (n === 0) genesisHash = toHex(r.hash);
      replay.commit(r, peerSignature);
      peers.add(claimed.peer);
      const config = r.validation.config;
      if (config !== undefined) configurations.push({ sequence: config.sequence, block: n });
      transactions += r.block.txs.length;
      head = { number: n, hash: toHex(r.hash), commitHash: toHex(r.commitHash) };
      options.onProgress?.(n + 1, total);
    }
  } finally {
    if (options.verifier === undefined) await verifier.close();
    await scratch.close();
    rmSync(scratchDir, { recursive: true, force: true });
  }
  return {
    chain,
    ok: problems.length === 0 && head !== undefined,
    blocks: replay.height,
    transactions,
    genesisHash,
    genesisPinned: pinned !== undefined,
    head,
    peers: [...peers],
    configurations,
    trust: head === undefined ? undefined : receiptTrust(replay.resolver.configAt(head.number + 1)),
    problems,
  };
}
