/**
 * The ledger consistency check of a distributed network, read only through each peer's API
 * (`/api/ready`, `/api/chains/{chain}`, `/api/chains/{chain}/blocks/{n}`,
 * `/api/chains/{chain}/transactions/{txId}`), as an auditor outside the alliance would:
 *
 * - every peer reaches the ordered height, and all end at the same height;
 * - blocks are numbered 0…height−1 and each names the previous block's hash (no gap, no fork);
 * - every peer has the same block hash and the same commit hash at every height it was checked;
 * - no tx id is VALID twice;
 * - every acknowledged tx id is in every peer's ledger, VALID, in the block the client was told.
 *
 * The checker keeps what it verified (per peer, the height and last block hash), so repeated
 * checks during a long run read only the new blocks; a peer added later is read from block 0.
 */
import { SilkError } from '../errors.js';
import type { BlockView, TransactionView } from '../peer/block-view.js';
import type { FetchFunction } from '../sdk/http-transport.js';
import type { Acknowledged } from './load-client.js';
import { caFileFetch } from './peer-api-address.js';

/** A peer to check: a name for the report, its API base URL and how to reach it. */
export interface CheckedPeer {
  readonly name: string;
  readonly url: string;
  /** The `fetch` for its URL (default the global one; an https peer needs one trusting the alliance's CA bundle, `networkFetch`). */
  readonly fetch?: FetchFunction;
}

/**
 * The peers of a network as `silk network up` reports them (`networkUp`'s `peerUrls`, and `apiCa`,
 * the alliance's CA bundle file, when its addresses are https), to check.
 * @throws SilkError CONFIG_INVALID when the bundle cannot be read; INVALID_ARGUMENT when it holds no certificate
 */
export function checkedPeers(network: { readonly peerUrls: Readonly<Record<string, string>>; readonly apiCa?: string }): CheckedPeer[] {
  const fetch = network.apiCa === undefined ? undefined : caFileFetch(network.apiCa);
  return Object.entries(network.peerUrls).map(([name, url]) => ({ name, url, ...(fetch === undefined ? {} : { fetch }) }));
}

/** What one check found. */
export interface ConsistencyReport {
  /** The common height of every peer. */
  readonly height: number;
  /** The commit hash of block height−1 (every peer's). */
  readonly commitHash: string;
  readonly peers: readonly string[];
  /** Acknowledged tx ids checked (all of them, at every peer). */
  readonly acknowledgedChecked: number;
  /** Of them, also read one by one through the transactions route at every peer. */
  readonly readByTxId: number;
  /** VALID transactions on the chain. */
  readonly validTransactions: number;
  /** Acknowledged tx ids missing, not VALID or in another block (empty when all is well). */
  readonly lost: readonly string[];
  /** Tx ids VALID more than once. */
  readonly duplicates: readonly string[];
  /** Everything that is wrong; empty when the ledgers agree. */
  readonly violations: readonly string[];
}

/** Options of {@link createLedgerChecker}. */
export interface LedgerCheckerOptions {
  readonly chain: string;
  /** Time limit of one HTTP request (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** Acknowledged tx ids also read through the transactions route per check, newest first (default 25). */
  readonly txIdSample?: number;
}

/** A checker of one chain, remembering what it has verified. */
export interface LedgerChecker {
  /**
   * Waits until every peer is at the ordered height (all equal), then checks the ledgers.
   * @throws SilkError COMMIT_TIMEOUT when the peers do not converge within `timeoutMs`
   */
  check(peers: readonly CheckedPeer[], acknowledged: readonly Acknowledged[], timeoutMs?: number): Promise<ConsistencyReport>;
}

interface PeerProgress {
  height: number;
  lastHash: string;
}

interface BlockFacts {
  readonly hash: string;
  readonly commitHash: string;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/**
 * A ledger checker for `options.chain`.
 * @throws SilkError INVALID_ARGUMENT for a missing chain name or bad limits
 * @example
 * const checker = createLedgerChecker({ chain: 'trade' });
 * const report = await checker.check(peers, (await load.stop()).acknowledged);
 * assert.deepEqual(report.violations, []);
 */
export function createLedgerChecker(options: LedgerCheckerOptions): LedgerChecker {
  if (typeof options.chain !== 'string' || options.chain === '') throw new SilkError('INVALID_ARGUMENT', 'chain must be a non-empty string');
  const timeout = options.requestTimeoutMs ?? 10_000;
  const sample = options.txIdSample ?? 25;
  if (!Number.isSafeInteger(sample) || sample < 0) throw new SilkError('INVALID_ARGUMENT', `txIdSample must be a whole number ≥ 0; got ${String(sample)}`);
  const chain = encodeURIComponent(options.chain);
  const progress = new Map<string, PeerProgress>();
  /** Block facts of the first peer that committed each height; every other peer must agree. */
  const reference: BlockFacts[] = [];
  /** Where each VALID tx id is, as the reference peer stored it: `block` for the first, more means a duplicate. */
  const validAt = new Map<string, number[]>();
  /** Per peer, where it stored each tx id it committed as VALID (only the new blocks of a check are read). */
  const peerValid = new Map<string, Map<string, number>>();

  const get = async <T>(peer: CheckedPeer, path: string): Promise<T> => {
    const url = `${peer.url}${path}`;
    const response = await (peer.fetch ?? fetch)(url, { signal: AbortSignal.timeout(timeout) });
    const text = await response.text();
    if (!response.ok) throw new SilkError('BAD_RESPONSE', `GET ${url} answered HTTP ${response.status}: ${text.slice(0, 200)}`, { httpStatus: response.status });
    return JSON.parse(text) as T;
  };

  const heights = async (peers: readonly CheckedPeer[]): Promise<{ height: number; ordered: number }[]> => Promise.all(peers.map(async (p) => {
    try {
      const response = await (p.fetch ?? fetch)(`${p.url}/api/ready`, { signal: AbortSignal.timeout(timeout) });
      const body = (await response.json()) as { chains?: Record<string, { height: number; ordered: number }> };
      return body.chains?.[options.chain] ?? { height: -1, ordered: 0 };
    } catch {
      return { height: -1, ordered: 0 };
    }
  }));

  const converge = async (peers: readonly CheckedPeer[], timeoutMs: number): Promise<number> => {
    const deadline = Date.now() + timeoutMs;
    let last: { height: number; ordered: number }[] = [];
    for (;;) {
      last = await heights(peers);
      const ordered = Math.max(...last.map((h) => h.ordered));
      const first = last[0]?.height ?? -1;
      if (first >= ordered && first > 0 && last.every((h) => h.height === first)) return first;
      if (Date.now() > deadline) {
        throw new SilkError('COMMIT_TIMEOUT', `peers did not reach one height at the ordered height ${ordered} within ${timeoutMs} ms: ${peers.map((p, i) => `${p.name} at ${String(last[i]?.height)}`).join(', ')}`);
      }
      await sleep(250);
    }
  };

  /** Reads a peer's blocks it has not had checked yet, up to `height`. */
  const readNewBlocks = async (peer: CheckedPeer, height: number, violations: string[]): Promise<void> => {
    const done = progress.get(peer.name) ?? { height: 0, lastHash: '' };
    const valid = peerValid.get(peer.name) ?? new Map<string, number>();
    peerValid.set(peer.name, valid);
    for (let n = done.height; n < height; n++) {
      const block = await get<BlockView>(peer, `/api/chains/${chain}/blocks/${n}`);
      if (block.number !== n) violations.push(`${peer.name}: asked for block ${n}, got block ${block.number}`);
      if (n > 0 && block.previousHash !== done.lastHash) violations.push(`${peer.name}: block ${n} names previous hash ${block.previousHash.slice(0, 16)}…, block ${n - 1} has ${done.lastHash.slice(0, 16)}… (fork)`);
      const known = reference[n];
      if (known === undefined) {
        reference[n] = { hash: block.hash, commitHash: block.commitHash };
        for (const tx of block.transactions) {
          if (tx.code !== 'VALID' || tx.txId === undefined) continue;
          const at = validAt.get(tx.txId) ?? [];
          at.push(n);
          validAt.set(tx.txId, at);
        }
      } else {
        if (known.hash !== block.hash) violations.push(`${peer.name}: block ${n} has hash ${block.hash.slice(0, 16)}…, other peers ${known.hash.slice(0, 16)}… (fork)`);
        if (known.commitHash !== block.commitHash) violations.push(`${peer.name}: commit hash at block ${n} is ${block.commitHash.slice(0, 16)}…, other peers ${known.commitHash.slice(0, 16)}…`);
      }
      for (const tx of block.transactions) {
        if (tx.code !== 'VALID' || tx.txId === undefined) continue;
        if (valid.has(tx.txId)) violations.push(`${peer.name}: tx ${tx.txId} VALID in blocks ${String(valid.get(tx.txId))} and ${n}`);
        else valid.set(tx.txId, n);
      }
      done.height = n + 1;
      done.lastHash = block.hash;
      progress.set(peer.name, done);
    }
  };

  return {
    async check(peers, acknowledged, timeoutMs = 60_000) {
      if (peers.length === 0) throw new SilkError('INVALID_ARGUMENT', 'a consistency check needs at least one peer');
      const height = await converge(peers, timeoutMs);
      const violations: string[] = [];
      for (const peer of peers) {
        const info = await get<{ height: number }>(peer, `/api/chains/${chain}`);
        if (info.height < height) violations.push(`${peer.name}: /api/chains/${options.chain} reports height ${info.height} below ${height}`);
        await readNewBlocks(peer, height, violations);
      }
      const duplicates = [...validAt.entries()].filter(([, at]) => at.length > 1).map(([txId]) => txId);
      for (const txId of duplicates) violations.push(`tx ${txId} is VALID in blocks ${String(validAt.get(txId))}`);
      const lost: string[] = [];
      for (const ack of acknowledged) {
        for (const peer of peers) {
          const at = peerValid.get(peer.name)?.get(ack.txId);
          if (at !== ack.block) {
            lost.push(ack.txId);
            violations.push(`${peer.name}: acknowledged tx ${ack.txId} (block ${ack.block}) is ${at === undefined ? 'not VALID in the ledger' : `VALID in block ${at}`}`);
          }
        }
      }
      // The same facts through the transactions route, for the newest acknowledgements.
      const sampled = [...acknowledged].sort((a, b) => b.at - a.at).slice(0, sample);
      for (const ack of sampled) {
        for (const peer of peers) {
          try {
            const tx = await get<TransactionView>(peer, `/api/chains/${chain}/transactions/${ack.txId}`);
            if (tx.code !== 'VALID' || tx.block !== ack.block) violations.push(`${peer.name}: /transactions/${ack.txId} says ${tx.code} in block ${tx.block}; the client was told VALID in block ${ack.block}`);
          } catch (error) {
            violations.push(`${peer.name}: /transactions/${ack.txId}: ${(error as Error).message}`);
          }
        }
      }
      const top = reference[height - 1];
      return {
        height,
        commitHash: top?.commitHash ?? '',
        peers: peers.map((p) => p.name),
        acknowledgedChecked: acknowledged.length,
        readByTxId: sampled.length,
        validTransactions: validAt.size,
        lost: [...new Set(lost)],
        duplicates,
        violations,
      };
    },
  };
}
