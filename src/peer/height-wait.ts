/**
 * Waiting until a peer holds a given height of a chain: the gateway's freshness wait before
 * endorsing, the peer-to-peer height route's long poll, the demo seeding's catch-up.
 */
import type { CommittedBlock } from './peer.js';

/** What the wait reads of a peer. */
export interface HeightSource {
  height(chain: string): number;
  subscribe(chain: string, fromBlock: number, listener: (b: CommittedBlock) => void): () => void;
}

/**
 * Resolves once `peer` holds `height` blocks of `chain`, or when `timeoutMs` has passed.
 * @returns true when the height was reached, false on the timeout
 * @example if (!(await waitForPeerHeight(peer, 'trade', 12, 5_000))) console.warn('still behind')
 */
export function waitForPeerHeight(peer: HeightSource, chain: string, height: number, timeoutMs: number): Promise<boolean> {
  if (peer.height(chain) >= height) return Promise.resolve(true);
  if (timeoutMs <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const state = { done: false, unsubscribe: undefined as (() => void) | undefined };
    const finish = (reached: boolean): void => {
      if (state.done) return;
      state.done = true;
      clearTimeout(timer);
      state.unsubscribe?.();
      resolve(reached);
    };
    const timer = setTimeout(() => { finish(false); }, timeoutMs);
    // subscribe() replays stored blocks first, so `finish` may already have run when it returns.
    const unsubscribe = peer.subscribe(chain, height - 1, () => { finish(true); });
    if (state.done) unsubscribe();
    else state.unsubscribe = unsubscribe;
  });
}
