/**
 * Follows transactions to commit at every peer: it subscribes to each peer's committed blocks
 * and reports a transaction once all peers committed it (valid only if every peer said VALID),
 * or when it failed before reaching a block.
 */
import type { CommittedBlock, Peer } from '../peer/peer.js';

/** How a transaction ended. */
export interface TxOutcome {
  /** VALID at every peer. */
  readonly valid: boolean;
  /** It reached a block (false: refused at endorsement or ordering). */
  readonly ordered: boolean;
  /** `performance.now()` when the last peer committed it (or it failed). */
  readonly doneAt: number;
  /** The first non-VALID code seen, or the error code of an early failure. */
  readonly code: string;
  /**
   * Seconds the node asked the client to wait before sending it again: set on a refusal that
   * sheds load (`details.retryAfterSeconds`, `Retry-After`; nothing was endorsed or ordered).
   */
  readonly retryAfterSeconds?: number;
}

/** The tracker. */
export interface CommitTracker {
  /** Starts following a tx id. */
  track(txId: string, onDone: (o: TxOutcome) => void): void;
  /** Reports a tx that failed before ordering (ignored if a peer already committed it). */
  fail(txId: string, code: string, retryAfterSeconds?: number): void;
  /** Transactions followed and not yet done. */
  pending(): number;
  /** Blocks committed by the first peer since the tracker started. */
  blocks(): number;
  /** Transactions in those blocks. */
  txsInBlocks(): number;
  close(): void;
}

interface Followed {
  seen: number;
  firstBadCode: string | undefined;
  readonly onDone: (o: TxOutcome) => void;
}

/**
 * Subscribes to every peer's commits of `chain` from its current height.
 * @param peers all committing peers
 */
export function createCommitTracker(peers: readonly Peer[], chain: string): CommitTracker {
  const followed = new Map<string, Followed>();
  const peerCount = peers.length;
  let blocks = 0;
  let txsInBlocks = 0;

  const onBlock = (first: boolean) => (b: CommittedBlock): void => {
    if (first) {
      blocks++;
      txsInBlocks += b.txIds.length;
    }
    const now = performance.now();
    for (let i = 0; i < b.txIds.length; i++) {
      const txId = b.txIds[i];
      if (txId === undefined) continue;
      const f = followed.get(txId);
      if (f === undefined) continue;
      const code = b.codes[i] ?? 'MALFORMED';
      if (code !== 'VALID' && f.firstBadCode === undefined) f.firstBadCode = code;
      f.seen++;
      if (f.seen === peerCount) {
        followed.delete(txId);
        f.onDone({ valid: f.firstBadCode === undefined, ordered: true, doneAt: now, code: f.firstBadCode ?? 'VALID' });
      }
    }
  };
  const unsubscribe = peers.map((p, i) => p.subscribe(chain, p.height(chain), onBlock(i === 0)));

  return {
    track(txId, onDone) {
      followed.set(txId, { seen: 0, firstBadCode: undefined, onDone });
    },
    fail(txId, code, retryAfterSeconds) {
      const f = followed.get(txId);
      if (f === undefined || f.seen > 0) return;
      followed.delete(txId);
      f.onDone({ valid: false, ordered: false, doneAt: performance.now(), code, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) });
    },
    pending: () => followed.size,
    blocks: () => blocks,
    txsInBlocks: () => txsInBlocks,
    close() {
      for (const u of unsubscribe) u();
    },
  };
}
