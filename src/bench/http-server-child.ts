/**
 * The server side of the HTTP benchmark, run as its own node process (forked by
 * http-server-process.ts) so the load generator's work never lands on the server's event loop:
 * it opens the `rmw` bench network, preloads its keys, serves the API over it on loopback as
 * Org1's node (rate limit off), announces itself, and answers the parent's calls (the in-process
 * closed loop on the same network, settling, ledger look-ups, close).
 *
 * Arguments: `--seed N --keys N`. Progress goes to stderr.
 */
import { parseArgs } from 'node:util';
import { embeddedApiBackend } from '../api/backend.js';
import { createApiServer, type ApiServer } from '../api/server.js';
import { openBenchNetwork, type BenchNetwork } from './bench-network.js';
import type { HttpChildArgs, HttpChildCall, HttpChildCalls, HttpChildMessage, HttpChildRequest, InProcessRound, LedgerCheck, Settled } from './http-child-protocol.js';
import { runClosedLoop, settle } from './rounds.js';
import { preload } from './run-workload.js';
import { BENCH_CHAIN, BENCH_ORGS, findWorkload, type Workload } from './workloads.js';

const started = performance.now();
const log = (line: string): void => {
  process.stderr.write(`[http-server ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
};

function send(m: HttpChildMessage): void {
  process.send?.(m);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function cpuUs(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}

async function inProcess(bn: BenchNetwork, p: HttpChildCalls['inProcess']['params']): Promise<InProcessRound> {
  if (p.warmupS > 0) await runClosedLoop(bn, { concurrency: p.concurrency, durationS: p.warmupS });
  const peer = bn.net.peers[0]!;
  const blocksFrom = peer.height(BENCH_CHAIN);
  const r = await runClosedLoop(bn, { concurrency: p.concurrency, durationS: p.durationS });
  const blocksTo = peer.height(BENCH_CHAIN);
  log(`in-process closed loop (${p.concurrency} in flight, ${p.durationS} s): ${r.tps.toFixed(1)} tx/s, p50 ${r.p50Ms?.toFixed(1) ?? '-'} ms, p99 ${r.p99Ms?.toFixed(1) ?? '-'} ms, ${r.committed} valid, ${r.failed} failed ${JSON.stringify(r.failedByCode)}`);
  return {
    concurrency: p.concurrency,
    durationS: p.durationS,
    started: r.started,
    committed: r.committed,
    failed: r.failed,
    failedByCode: r.failedByCode,
    tps: r.tps,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    blocksFrom,
    blocksTo,
    blockSizeAvg: r.cost.blocks > 0 ? r.cost.txsInBlocks / r.cost.blocks : 0,
    cpuUs: r.cost.cpuUs,
    txsInBlocks: r.cost.txsInBlocks,
  };
}

/** Quiet: every peer at the orderer's height, and that height unchanged for `quietMs`. */
async function settleNetwork(bn: BenchNetwork, p: HttpChildCalls['settle']['params']): Promise<Settled> {
  const { orderer, peers } = bn.net;
  const end = performance.now() + p.timeoutMs;
  let last = -1;
  let since = performance.now();
  let settled = false;
  await settle(bn, p.timeoutMs);
  while (performance.now() < end) {
    const h = orderer.height(BENCH_CHAIN);
    const caughtUp = peers.every((x) => x.height(BENCH_CHAIN) === h);
    if (h !== last || !caughtUp) {
      last = h;
      since = performance.now();
    } else if (performance.now() - since >= p.quietMs) {
      settled = true;
      break;
    }
    await sleep(25);
  }
  return { settled, height: orderer.height(BENCH_CHAIN), cpuUs: cpuUs(), txsInBlocks: bn.tracker.txsInBlocks() };
}

function checkValid(bn: BenchNetwork, txIds: readonly string[]): LedgerCheck {
  const otherByCode: Record<string, number> = {};
  let validAtEveryPeer = 0;
  for (const txId of txIds) {
    let code = 'VALID';
    for (const peer of bn.net.peers) {
      const s = peer.transactionStatus(BENCH_CHAIN, txId);
      if (s === undefined) code = 'MISSING';
      else if (s.code !== 'VALID' && code === 'VALID') code = s.code;
    }
    if (code === 'VALID') validAtEveryPeer++;
    else otherByCode[code] = (otherByCode[code] ?? 0) + 1;
  }
  return { checked: txIds.length, validAtEveryPeer, otherByCode };
}

type Handlers = { readonly [K in HttpChildCall]: (params: HttpChildCalls[K]['params']) => Promise<HttpChildCalls[K]['result']> };

function handlers(bn: BenchNetwork, api: ApiServer, closeAll: () => Promise<void>): Handlers {
  return {
    inProcess: (p) => inProcess(bn, p),
    settle: (p) => settleNetwork(bn, p),
    checkValid: (p) => Promise.resolve(checkValid(bn, p.txIds)),
    close: async () => {
      await api.close();
      await closeAll();
      return null;
    },
  };
}

function workloadOf(keys: number): Workload {
  const rmw = findWorkload('rmw');
  if (rmw === undefined) throw new Error('the rmw workload is not defined');
  return { ...rmw, keys };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { seed: { type: 'string', default: '1' }, keys: { type: 'string', default: '10000' } }, strict: true });
  const args: HttpChildArgs = { seed: Number(values.seed), keys: Number(values.keys) };
  if (!Number.isSafeInteger(args.seed) || !Number.isSafeInteger(args.keys) || args.keys < 1) throw new RangeError(`--seed and --keys must be whole numbers (keys ≥ 1), got ${values.seed} and ${values.keys}`);
  const w = workloadOf(args.keys);
  const bn = await openBenchNetwork(w, args.seed);
  let closed = false;
  const closeAll = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await bn.close();
  };
  let api: ApiServer;
  try {
    await preload(bn, log);
    api = await createApiServer({ backend: embeddedApiBackend(bn.net, { org: BENCH_ORGS[0] }), rateLimitPerMinute: 0 });
  } catch (e) {
    await closeAll();
    throw e;
  }
  const url = await api.listen({ port: 0, host: '127.0.0.1' });
  const table = handlers(bn, api, closeAll);
  process.on('message', (m: HttpChildRequest) => {
    const handle = table[m.call] as ((p: unknown) => Promise<unknown>) | undefined;
    if (handle === undefined) {
      send({ kind: 'reply', id: m.id, ok: false, error: `unknown call ${m.call}` });
      return;
    }
    handle(m.params).then(
      (value) => {
        send({ kind: 'reply', id: m.id, ok: true, value });
        if (m.call === 'close' && process.connected) process.disconnect();
      },
      (e: unknown) => { send({ kind: 'reply', id: m.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }); },
    );
  });
  // The parent went away without closing: do not leave a server and a network behind.
  process.on('disconnect', () => {
    if (closed) return;
    void api.close().finally(() => closeAll()).finally(() => process.exit(1));
  });
  log(`serving the ${w.name} network (${w.keys} keys preloaded) at ${url} as ${BENCH_ORGS[0]}'s node, pid ${process.pid}`);
  send({ kind: 'ready', url, keysDir: bn.net.keysDir, chain: BENCH_CHAIN, keys: w.keys, height: bn.net.peers[0]!.height(BENCH_CHAIN) });
}

main().catch((e: unknown) => {
  process.stderr.write(`http-server: failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
  if (process.connected) process.disconnect();
});
