/**
 * Header anchoring: the information anchoring model at work. An org periodically reads the
 * latest committed block header of every other chain from its own peers and records those
 * that moved since the last anchor in ONE `anchorHeaders` transaction on the anchor chain.
 *
 * What is already anchored is read from the anchor chain itself (`latestAnchors`) before each
 * run, so a restarted process, or a second anchoring org, never re-anchors a block number the
 * contract would refuse.
 */
import type { Logger } from 'pino';
import type { AnchoredHeader } from '../contracts/anchor/anchor-contract.js';
import { toHex } from '../crypto/hash.js';
import { CommitError, SilkError } from '../errors.js';
import { blockHash, decodeBlock } from '../ledger/block.js';
import type { Peer } from '../peer/peer.js';
import type { EmbeddedNetwork } from './embedded-network.js';

/** The chain that holds the `anchor` contract in the demo alliance. */
export const ANCHOR_CHAIN = 'anchor';

/** One block header as `anchorHeaders` takes it. */
export interface HeaderToAnchor {
  readonly chain: string;
  readonly number: number;
  /** Block hash (hex): SHA-256 of the header's canonical bytes. */
  readonly hash: string;
  /** The header's Merkle root over the block's transactions (hex). */
  readonly dataHash: string;
  /** The header's orderer timestamp (ms). */
  readonly timestamp: number;
}

/** Parameters of {@link anchorLatestHeaders}. */
export interface AnchorLatestHeadersParameters {
  /** The org that reads headers from its peers and signs the anchor transaction with its admin key. */
  readonly org: string;
  /** The chain holding the `anchor` contract. Default {@link ANCHOR_CHAIN}. */
  readonly anchorChain?: string;
}

/** What one anchoring run did. */
export interface AnchorRun {
  /** Headers anchored (empty when no chain moved since its last anchor: then no transaction was sent). */
  readonly headers: readonly HeaderToAnchor[];
  /** The anchor transaction's id and block, when one was sent. */
  readonly txId?: string;
  readonly blockNumber?: number;
}

/** Options of {@link startHeaderAnchoring}. */
export interface HeaderAnchoringOptions extends AnchorLatestHeadersParameters {
  /** Pause between the end of one run and the start of the next (ms, a positive integer). */
  readonly intervalMs: number;
  /** Receives what each run anchored and the errors of failed runs. */
  readonly logger?: Logger;
}

/** A running anchoring loop. */
export interface HeaderAnchoring {
  /**
   * Runs once now (after any run in flight) and returns how many headers it anchored.
   * @throws SilkError SHUTTING_DOWN after stop(); the errors of {@link anchorLatestHeaders}
   */
  anchorNow(): Promise<number>;
  /** Stops the loop; resolves once a run in flight has finished. Call it before closing the network. */
  stop(): Promise<void>;
}

/** How many latest anchors one query page returns. */
const LATEST_PAGE = 1000;

/** The latest anchored block number of each chain, as the org's peer on the anchor chain sees it. */
function anchoredNumbers(net: EmbeddedNetwork, org: string, anchorChain: string): Map<string, number> {
  const gateway = net.gateway(org);
  const admin = net.identity(org, 'admin');
  const numbers = new Map<string, number>();
  let bookmark: string | undefined;
  do {
    const page = gateway.evaluate({ chain: anchorChain, contract: 'anchor', fn: 'latestAnchors', args: { limit: LATEST_PAGE, ...(bookmark === undefined ? {} : { bookmark }) } }, admin) as { items: AnchoredHeader[]; bookmark?: string };
    for (const a of page.items) numbers.set(a.chain, a.number);
    bookmark = page.bookmark;
  } while (bookmark !== undefined);
  return numbers;
}

/**
 * The latest committed block header of a chain at a peer.
 * @returns undefined when the peer has no block of the chain yet
 * @throws SilkError LEDGER_CORRUPT when the peer's height names a block it does not hold
 */
function latestHeader(peer: Peer, chain: string): HeaderToAnchor | undefined {
  const height = peer.height(chain);
  if (height === 0) return undefined;
  const bytes = peer.blockBytes(chain, height - 1);
  if (bytes === undefined) throw new SilkError('LEDGER_CORRUPT', `peer ${peer.name} reports height ${height} on ${chain} but holds no block ${height - 1}`, { block: height - 1 });
  const { header } = decodeBlock(bytes);
  return { chain, number: header.number, hash: toHex(blockHash(header)), dataHash: toHex(header.dataHash), timestamp: header.timestamp };
}

/**
 * Anchors, in one transaction, the latest committed header of every chain (other than the
 * anchor chain) whose height moved since its last anchor. Headers come from a peer of `org`
 * that has joined the chain; chains the org has no peer on are skipped.
 * @param net the running network
 * @param params the anchoring org and the anchor chain
 * @returns the headers anchored and the transaction, or no headers when nothing moved
 * @throws SilkError INVALID_ARGUMENT when `org` has no peer on the anchor chain; the gateway's
 *   EndorseError, SubmitError or CommitError; CommitError with the validation code when the
 *   anchor transaction committed invalid
 * @example const run = await anchorLatestHeaders(net, { org: 'Platform' }); console.log(run.headers.length)
 */
export async function anchorLatestHeaders(net: EmbeddedNetwork, params: AnchorLatestHeadersParameters): Promise<AnchorRun> {
  const anchorChain = params.anchorChain ?? ANCHOR_CHAIN;
  const orgPeers = net.peers.filter((p) => p.org === params.org);
  if (!orgPeers.some((p) => p.chains().includes(anchorChain))) throw new SilkError('INVALID_ARGUMENT', `org ${params.org} has no peer on chain ${anchorChain}`);
  const anchored = anchoredNumbers(net, params.org, anchorChain);
  const headers: HeaderToAnchor[] = [];
  for (const { name: chain } of net.spec.chains) {
    if (chain === anchorChain) continue;
    const peer = orgPeers.find((p) => p.chains().includes(chain));
    if (peer === undefined) continue;
    const header = latestHeader(peer, chain);
    const last = anchored.get(chain);
    if (header !== undefined && (last === undefined || header.number > last)) headers.push(header);
  }
  if (headers.length === 0) return { headers };
  const result = await net.gateway(params.org).submit({ chain: anchorChain, contract: 'anchor', fn: 'anchorHeaders', args: { headers: headers.map((h) => ({ ...h })) } }, net.identity(params.org, 'admin'));
  if (result.code !== 'VALID') {
    throw new CommitError(result.code, `the anchor transaction ${result.txId} committed as ${result.code}`, { txId: result.txId, block: result.blockNumber });
  }
  return { headers, txId: result.txId, blockNumber: result.blockNumber };
}

/**
 * Starts anchoring the other chains' headers every `intervalMs`. A run that finds no chain
 * moved sends no transaction; a failed run is logged and the next one tries again, so the
 * loop never throws into the process.
 * @param net the running network (stop the loop before closing it)
 * @param options the anchoring org, the interval and a logger
 * @returns the loop: `anchorNow()` to run at once, `stop()` to end it
 * @throws RangeError when `intervalMs` is not a positive integer
 * @example const anchoring = startHeaderAnchoring(net, { org: 'Platform', intervalMs: 5000, logger }); … await anchoring.stop()
 */
export function startHeaderAnchoring(net: EmbeddedNetwork, options: HeaderAnchoringOptions): HeaderAnchoring {
  if (!Number.isSafeInteger(options.intervalMs) || options.intervalMs <= 0) throw new RangeError(`intervalMs must be a positive integer, got ${options.intervalMs}`);
  const { logger } = options;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  /** The run in flight (or the last one), never rejecting: runs are strictly one after another. */
  let inFlight: Promise<unknown> = Promise.resolve();

  const runExclusive = (): Promise<AnchorRun> => {
    const run = inFlight.then(() => anchorLatestHeaders(net, options));
    inFlight = run.catch(() => undefined);
    return run;
  };

  const tick = async (): Promise<void> => {
    timer = undefined;
    try {
      const run = await runExclusive();
      if (run.headers.length === 0) logger?.debug('no chain moved since its last anchor');
      else logger?.info({ txId: run.txId, block: run.blockNumber, headers: run.headers.map((h) => `${h.chain}#${h.number}`) }, 'block headers anchored');
    } catch (e) {
      logger?.error({ err: e }, 'header anchoring failed; retrying at the next interval');
    }
    if (!stopped) schedule();
  };

  const schedule = (): void => {
    timer = setTimeout(() => { void tick(); }, options.intervalMs);
    // The loop alone does not keep the process alive.
    timer.unref();
  };

  schedule();
  return {
    async anchorNow() {
      if (stopped) throw new SilkError('SHUTTING_DOWN', 'header anchoring has stopped');
      return (await runExclusive()).headers.length;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await inFlight;
    },
  };
}
