/**
 * The bench client of `--mode distributed`: it signs proposals with each org's client key (ahead
 * of a phase, with proposal-pool.ts, as the HTTP bench does) and POSTs them to the org's own peer
 * process (`/api/chains/bench/transactions`), rotating over the orgs. A transaction is done when
 * that peer answers: VALID once it committed it (the acknowledgement), or an error code.
 *
 * It presents itself to rounds.ts and max-rate.ts as a {@link BenchNetwork}, so the distributed
 * rounds follow exactly the embedded rules (open-loop rates, the in-flight cap, "sustained").
 * What only an embedded network has (its `net`, verify counters, per-block commit tracking) is
 * not there: the counters read 0, and the figures that need blocks are read from the peers' APIs.
 *
 * The peers' API limits requests per client address; the bench stands for many clients, so its
 * connections come from several loopback source addresses (127.0.0.2 …), as many clients would.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Signer } from '../crypto/p256.js';
import type { EmbeddedNetwork } from '../network/embedded-network.js';
import { createProposal } from '../ledger/proposal.js';
import { toBase64 } from '../api/wire.js';
import type { BenchNetwork } from './bench-network.js';
import type { CommitTracker, TxOutcome } from './commit-tracker.js';
import type { BenchPeer } from './distributed-network.js';
import { errorCodeOf } from './http-load.js';
import { createProposalPool, type ProposalPool, type SubmitBody } from './proposal-pool.js';
import { BENCH_CHAIN, createArgsGenerator, type KvArgs, type Workload } from './workloads.js';

/** Loopback source addresses the client's connections are spread over. */
export const SOURCE_ADDRESSES = 32;
/** Seconds a submit may wait for its answer (the peer waits up to 30 s for the commit). */
const SUBMIT_TIMEOUT_MS = 60_000;
/** Concurrent lookups of the ledger check. */
const CHECK_CONCURRENCY = 24;

const CHAIN_PATH = `/api/chains/${encodeURIComponent(BENCH_CHAIN)}`;

/** The answer of one request. */
interface Answer {
  readonly status: number;
  readonly body: string;
  /** The seconds of a `Retry-After` header (the node shedding load), if any. */
  readonly retryAfterSeconds: number | undefined;
}

/** The seconds a `Retry-After` header gives (the API writes whole seconds), or undefined. */
function retryAfterSecondsOf(header: string | string[] | undefined): number | undefined {
  const seconds = typeof header === 'string' && /^\d{1,6}$/.test(header) ? Number(header) : undefined;
  return seconds;
}

/** What a ledger check found. */
export interface LedgerCheck {
  readonly checked: number;
  /** Transactions VALID at every peer. */
  readonly validAtEveryPeer: number;
  /** What the others were, by code (`NOT_FOUND` when a peer does not have it). */
  readonly otherByCode: Readonly<Record<string, number>>;
}

/** Blocks and their transactions in a height range of the first peer. */
export interface BlockSpan {
  readonly blocks: number;
  readonly txs: number;
}

/** The client. */
export interface DistributedClient {
  /** The client as rounds.ts and max-rate.ts drive it. */
  readonly bench: BenchNetwork;
  readonly peers: readonly BenchPeer[];
  /** Signs bodies for about `txs` submits now (spread over the orgs), replacing any left. */
  presign(txs: number): void;
  /** Bodies signed ahead so far, and signed during a phase because the pool ran dry. */
  presigned(): number;
  signedOnDemand(): number;
  /** Called with each VALID answer's tx id and time (set during the etcd-leader-kill phase). */
  onAck: ((txId: string, at: number) => void) | undefined;
  /** Height of `bench` at a peer (default the first). */
  height(peer?: BenchPeer): Promise<number>;
  /** Blocks and transactions of the first peer's blocks `from` … `to − 1`. */
  blockSpan(from: number, to: number): Promise<BlockSpan>;
  /** Waits until every peer is at the same height as the highest of them. @returns whether they got there */
  waitCaughtUp(timeoutMs: number): Promise<boolean>;
  /** Looks each transaction up at every peer. */
  checkValid(txIds: readonly string[]): Promise<LedgerCheck>;
  close(): void;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/**
 * Creates the client for a workload over the network's peers.
 * @param peers the peer processes (each with its org's client key)
 * @param w the workload (its function and key space)
 * @param seed seed of the key/value draw
 * @throws Error when the chain does not define `basic`
 */
export async function createDistributedClient(peers: readonly BenchPeer[], w: Workload, seed: number): Promise<DistributedClient> {
  // A network with TLS serves https on every peer's port (one alliance CA bundle for all of them).
  const ca = peers.find((p) => p.ca !== undefined)?.ca;
  const agent = ca === undefined ? new HttpAgent({ keepAlive: true, maxSockets: 256 }) : new HttpsAgent({ keepAlive: true, maxSockets: 256, ca, minVersion: 'TLSv1.2' });
  let addressTurn = 0;
  const send = (url: string, method: 'GET' | 'POST', path: string, body?: Buffer): Promise<Answer> => new Promise((done, fail) => {
    const target = new URL(url);
    const localAddress = target.hostname === '127.0.0.1' ? `127.0.0.${2 + (addressTurn++ % SOURCE_ADDRESSES)}` : undefined;
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request({
      agent,
      host: target.hostname,
      port: target.port,
      method,
      path,
      ...(localAddress === undefined ? {} : { localAddress }),
      headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': body.length },
      timeout: SUBMIT_TIMEOUT_MS,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => { done({ status: res.statusCode ?? 0, body: text, retryAfterSeconds: retryAfterSecondsOf(res.headers['retry-after']) }); });
      res.on('error', fail);
    });
    req.on('timeout', () => { req.destroy(new Error('TIMEOUT')); });
    req.on('error', fail);
    req.end(body);
  });
  const getJson = async <T>(peer: BenchPeer, path: string): Promise<T> => {
    const a = await send(peer.url, 'GET', path);
    if (a.status !== 200) throw new Error(`GET ${peer.url}${path}: HTTP ${a.status} ${a.body.slice(0, 200)}`);
    return JSON.parse(a.body) as T;
  };

  const first = peers[0];
  if (first === undefined) throw new RangeError('the distributed client needs at least one peer');
  const chain = await getJson<{ config?: { contracts?: Record<string, { version?: string }> } }>(first, CHAIN_PATH);
  const version = chain.config?.contracts?.basic?.version;
  if (version === undefined) throw new Error(`chain ${BENCH_CHAIN} defines no contract basic`);
  const args = createArgsGenerator(w, seed);
  const poolOf = (signer: Signer, size: number): ProposalPool => createProposalPool({ size, signers: [signer], chain: BENCH_CHAIN, contract: 'basic', version, workload: w, args });
  let pools: ProposalPool[] = peers.map((p) => poolOf(p.signer, 0));
  let presignedBefore = 0;
  let onDemandBefore = 0;
  let rotation = 0;
  let proposals = 0;
  let inFlight = 0;

  const bodyFor = (i: number, peer: BenchPeer, a: KvArgs | undefined): SubmitBody => {
    if (a === undefined) return (pools[i] as ProposalPool).next();
    const p = createProposal({ chain: BENCH_CHAIN, contract: 'basic', version, fn: w.fn, args: a }, peer.signer);
    return { body: Buffer.from(JSON.stringify({ proposal: toBase64(p.bytes), signature: toBase64(p.signature) })), txId: p.txId };
  };

  // The rounds only ask the tracker how many are in flight; blocks are read from the peers.
  const tracker: CommitTracker = {
    track: () => undefined,
    fail: () => undefined,
    pending: () => inFlight,
    blocks: () => 0,
    txsInBlocks: () => 0,
    close: () => undefined,
  };

  const client: DistributedClient = {
    peers,
    onAck: undefined,
    bench: {
      workload: w,
      get net(): EmbeddedNetwork {
        throw new Error('the distributed bench has no embedded network');
      },
      tracker,
      peerCount: peers.length,
      args,
      start(onDone: (o: TxOutcome, startedAt: number) => void, a?: KvArgs) {
        const i = rotation++ % peers.length;
        const peer = peers[i] as BenchPeer;
        const { body, txId } = bodyFor(i, peer, a);
        proposals++;
        inFlight++;
        const startedAt = performance.now();
        const finish = (o: TxOutcome): void => {
          inFlight--;
          if (o.valid) client.onAck?.(txId, o.doneAt);
          onDone(o, startedAt);
        };
        send(peer.url, 'POST', `${CHAIN_PATH}/transactions`, body).then(
          ({ status, body: text, retryAfterSeconds }) => {
            const valid = status >= 200 && status < 300 && text.includes('"code":"VALID"');
            const code = valid ? 'VALID' : (status >= 200 && status < 300 ? 'HTTP_2XX_NOT_VALID' : errorCodeOf(status, text));
            finish({ valid, ordered: valid, doneAt: performance.now(), code, ...(valid || retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) });
          },
          (error: unknown) => {
            finish({ valid: false, ordered: false, doneAt: performance.now(), code: (error as Error).message === 'TIMEOUT' ? 'TIMEOUT' : 'SOCKET_ERROR' });
          },
        );
      },
      proposals: () => proposals,
      sampleProposal() {
        throw new Error('the distributed bench signs in its client; there is no gateway to sample');
      },
      verifyCount: () => Promise.resolve(0),
      close: () => Promise.resolve(),
    },
    presign(txs) {
      for (const p of pools) {
        presignedBefore += p.presigned - p.remaining();
        onDemandBefore += p.signedOnDemand();
      }
      const each = Math.ceil(Math.max(0, txs) / peers.length);
      pools = peers.map((p) => poolOf(p.signer, each));
    },
    presigned: () => presignedBefore + pools.reduce((s, p) => s + p.presigned - p.remaining(), 0),
    signedOnDemand: () => onDemandBefore + pools.reduce((s, p) => s + p.signedOnDemand(), 0),
    async height(peer = first) {
      return (await getJson<{ height: number }>(peer, CHAIN_PATH)).height;
    },
    async blockSpan(from, to) {
      let blocks = 0;
      let txs = 0;
      // Pages of the block list, newest first, from block to − 1 down to from.
      let bookmark: string | undefined;
      let top = to - 1;
      while (top >= from) {
        const page = await getJson<{ items: { number: number; transactions: number }[]; bookmark?: string }>(first, `${CHAIN_PATH}/blocks?limit=100${bookmark === undefined ? '' : `&bookmark=${encodeURIComponent(bookmark)}`}`);
        for (const b of page.items) {
          if (b.number >= from && b.number < to) {
            blocks++;
            txs += b.transactions;
          }
          top = Math.min(top, b.number - 1);
        }
        if (page.bookmark === undefined || page.items.length === 0) break;
        bookmark = page.bookmark;
      }
      return { blocks, txs };
    },
    async waitCaughtUp(timeoutMs) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const heights = await Promise.all(peers.map((p) => client.height(p)));
        if (heights.every((h) => h === heights[0])) return true;
        if (Date.now() > end) return false;
        await sleep(200);
      }
    },
    async checkValid(txIds) {
      const otherByCode: Record<string, number> = {};
      let validAtEveryPeer = 0;
      let next = 0;
      const lookUp = async (txId: string): Promise<void> => {
        const codes = await Promise.all(peers.map(async (p) => {
          const a = await send(p.url, 'GET', `${CHAIN_PATH}/transactions/${encodeURIComponent(txId)}`);
          if (a.status !== 200) return errorCodeOf(a.status, a.body);
          return (JSON.parse(a.body) as { code?: string }).code ?? 'NO_CODE';
        }));
        const other = codes.find((c) => c !== 'VALID');
        if (other === undefined) validAtEveryPeer++;
        else otherByCode[other] = (otherByCode[other] ?? 0) + 1;
      };
      await Promise.all(Array.from({ length: CHECK_CONCURRENCY }, async () => {
        while (next < txIds.length) await lookUp(txIds[next++] as string);
      }));
      return { checked: txIds.length, validAtEveryPeer, otherByCode };
    },
    close() {
      agent.destroy();
    },
  };
  return client;
}
