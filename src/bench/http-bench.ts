/**
 * The HTTP API benchmark (`npm run bench -- --http`): what the API adds on top of the ledger.
 *
 * The `rmw` bench network runs in a child process behind the real API server (Fastify, rate
 * limit off, on loopback); this process is the client: autocannon plus local signing. In one
 * run, on that one network:
 *
 * 1. the in-process `rmw` closed loop, in the child (the existing bench's load generator, the
 *    reference figure);
 * 2. POST submits of `rmw`, each a fresh proposal signed ahead of the run, with as many
 *    connections as step 1 keeps transactions in flight;
 * 3. GET of blocks (the blocks step 1 committed, in turn);
 * 4. GET of state keys (uniform over the workload's keys).
 *
 * The goal is HTTP submit tps ≥ 0.8 × in-process tps. docs/benchmarks.md defines the figures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signerFromPem, type Signer } from '../crypto/p256.js';
import { seededRandom } from '../testing/seeded-random.js';
import type { InProcessRound, LedgerCheck, Settled } from './http-child-protocol.js';
import { errorCodeOf, runLoad, type LoadRequest, type LoadResult, type LoadSpec, type ResponseOutcome } from './http-load.js';
import { startHttpServerProcess, type HttpServerProcess } from './http-server-process.js';
import { measureMachineLimit, type MachineLimit } from './machine-limit.js';
import { createProposalPool, type ProposalPool } from './proposal-pool.js';
import { CLOSED_LOOP_CONCURRENCY } from './run-workload.js';
import { round } from './stats.js';
import { BENCH_ORGS, BENCH_USER, createArgsGenerator, findWorkload, type Workload } from './workloads.js';

/** HTTP submit tps ÷ in-process tps the API should reach. */
export const HTTP_GOAL_RATIO = 0.8;
/** Connections of the GET phases. */
export const GET_CONNECTIONS = 16;
/** Connections of the submit phase: as many as the in-process loop keeps in flight. */
export const SUBMIT_CONNECTIONS = CLOSED_LOOP_CONCURRENCY;
/** The network is quiet when no block was cut for this long. */
const QUIET_MS = 500;
/** Pre-signed proposals: this many times the in-process rate, over warm-up and window. */
const POOL_HEADROOM = 1.6;

/** Options of {@link runHttpBench}. */
export interface HttpBenchOptions {
  /** Seconds of each measured phase. */
  readonly durationS: number;
  /** Seconds of warm-up before each phase (not measured). */
  readonly warmupS: number;
  readonly seed: number;
  /** Keys of the workload (default 10,000, as the in-process `rmw`). */
  readonly keys?: number;
  /** Node options of the server process (`--cpu-prof …`). */
  readonly serverExecArgv?: readonly string[];
  readonly log: (line: string) => void;
}

/** The run's one JSON line (docs/benchmarks.md, "The HTTP API"). */
export interface HttpBenchReport {
  readonly bench: 'http';
  readonly workload: string;
  readonly mode: 'embedded';
  readonly get_block_rps: number;
  readonly get_block_p50_ms: number | null;
  readonly get_block_p99_ms: number | null;
  readonly get_block_requests: number;
  readonly get_block_errors_by_code: Readonly<Record<string, number>>;
  readonly get_block_bytes_avg: number;
  readonly get_block_txs_avg: number;
  readonly get_state_rps: number;
  readonly get_state_p50_ms: number | null;
  readonly get_state_p99_ms: number | null;
  readonly get_state_requests: number;
  readonly get_state_errors_by_code: Readonly<Record<string, number>>;
  readonly get_state_bytes_avg: number;
  readonly http_submit_tps: number;
  readonly http_submit_p50_ms: number | null;
  readonly http_submit_p99_ms: number | null;
  readonly http_submit_responses: number;
  readonly http_submit_valid: number;
  readonly http_submit_errors_by_code: Readonly<Record<string, number>>;
  readonly http_submit_socket_errors: number;
  readonly http_submit_timeouts: number;
  readonly http_submit_presigned: number;
  readonly http_submit_signed_on_demand: number;
  /** Submits answered VALID (those after the window too) looked up at every peer. */
  readonly http_submit_ledger_checked: number;
  readonly http_submit_valid_on_ledger: number;
  readonly http_submit_ledger_other: Readonly<Record<string, number>>;
  readonly in_process_tps: number;
  readonly in_process_p50_ms: number | null;
  readonly in_process_p99_ms: number | null;
  readonly in_process_committed: number;
  readonly in_process_failed_by_code: Readonly<Record<string, number>>;
  /** Transactions per block while the in-process loop ran, and while the HTTP submits ran. */
  readonly in_process_block_size_avg: number;
  readonly http_submit_block_size_avg: number;
  readonly ratio: number;
  readonly goal_ratio: number;
  readonly goal_met: boolean;
  readonly server_cpu_us_per_tx_http: number | null;
  readonly server_cpu_us_per_tx_in_process: number | null;
  /** CPU of this (the client) process over each window ÷ the window: cores the load generator used. */
  readonly client_cpu_cores_submit: number;
  readonly client_cpu_cores_get_block: number;
  readonly client_cpu_cores_get_state: number;
  readonly verifies_per_sec: number;
  readonly verifies_per_sec_per_core: number;
  readonly cores: number;
  readonly submit_connections: number;
  readonly get_connections: number;
  readonly keys: number;
  readonly warmup_s: number;
  readonly duration_s: number;
}

/** A run's report, and what failed if something did. */
export interface HttpBenchOutcome {
  readonly report: HttpBenchReport;
  /** Set when a phase got no successful answer or a VALID answer is not VALID on the ledger. */
  readonly failure: string | undefined;
}

const CHAIN_PATH = (chain: string): string => `/api/chains/${encodeURIComponent(chain)}`;

function better(a: MachineLimit, b: MachineLimit): MachineLimit {
  return a.verifiesPerSec >= b.verifiesPerSec ? a : b;
}

function okIf200(status: number, body: string): ResponseOutcome {
  return status === 200 ? { ok: true, code: 'OK' } : { ok: false, code: errorCodeOf(status, body) };
}

/** A phase with its warm-up: the warm-up's figures are dropped. */
async function warmedLoad(spec: LoadSpec, warmupS: number, settle: () => Promise<Settled>): Promise<LoadResult> {
  if (warmupS > 0) {
    await runLoad({ ...spec, label: `${spec.label} (warm-up)`, durationS: warmupS });
    await settle();
  }
  return runLoad(spec);
}

function describeLoad(r: LoadResult, unit: string): string {
  const errors = Object.entries(r.errorsByCode).map(([c, n]) => `${c} ${n}`).join(', ');
  return `${r.label}: ${r.okPerSec.toFixed(1)} ${unit}, p50 ${r.p50Ms?.toFixed(2) ?? '-'} ms, p99 ${r.p99Ms?.toFixed(2) ?? '-'} ms, ${r.responses} answers${errors ? ` (${errors})` : ''}, ${r.socketErrors} socket errors, ${r.timeouts} timeouts, ${r.bytesPerResponse.toFixed(0)} B per answer, client CPU ${(r.clientCpuUs / 1e6).toFixed(1)} s`;
}

function readSigners(keysDir: string): Signer[] {
  return BENCH_ORGS.map((org) => signerFromPem(readFileSync(join(keysDir, org, `${BENCH_USER}.pem`), 'utf8')));
}

async function contractVersion(url: string, chain: string, contract: string): Promise<string> {
  const res = await fetch(`${url}${CHAIN_PATH(chain)}`);
  if (!res.ok) throw new Error(`GET ${CHAIN_PATH(chain)}: HTTP ${res.status}`);
  const body = (await res.json()) as { config?: { contracts?: Record<string, { version?: string }> } };
  const version = body.config?.contracts?.[contract]?.version;
  if (version === undefined) throw new Error(`chain ${chain} defines no contract ${contract}`);
  return version;
}

interface Phases {
  readonly inProcess: InProcessRound;
  readonly getBlock: LoadResult;
  readonly getState: LoadResult;
  readonly submit: LoadResult;
  readonly pool: ProposalPool;
  readonly ledger: LedgerCheck;
  readonly serverCpuUsPerTx: number | null;
  /** Transactions per block over the submit window and its drain. */
  readonly submitBlockSizeAvg: number;
}

async function getPhases(server: HttpServerProcess, o: HttpBenchOptions, inProcess: InProcessRound): Promise<{ getBlock: LoadResult; getState: LoadResult }> {
  const { url, chain, keys, height } = server.ready;
  const settle = (): Promise<Settled> => server.call('settle', { quietMs: QUIET_MS, timeoutMs: 60_000 });
  // The blocks the in-process loop committed: blocks of the size an rmw load makes.
  const from = inProcess.blocksTo > inProcess.blocksFrom ? inProcess.blocksFrom : 1;
  const to = inProcess.blocksTo > inProcess.blocksFrom ? inProcess.blocksTo : Math.max(2, height);
  let nextBlock = 0;
  const getBlock = await warmedLoad({
    label: 'GET block',
    url,
    method: 'GET',
    connections: GET_CONNECTIONS,
    durationS: o.durationS,
    next: (): LoadRequest => ({ path: `${CHAIN_PATH(chain)}/blocks/${from + (nextBlock++ % (to - from))}` }),
    classify: okIf200,
  }, o.warmupS, settle);
  o.log(describeLoad(getBlock, 'req/s'));
  const random = seededRandom(o.seed + 1);
  const getState = await warmedLoad({
    label: 'GET state key',
    url,
    method: 'GET',
    connections: GET_CONNECTIONS,
    durationS: o.durationS,
    next: (): LoadRequest => ({ path: `${CHAIN_PATH(chain)}/contracts/basic/state/${encodeURIComponent(`kv:k${Math.floor(random() * keys)}`)}` }),
    classify: okIf200,
  }, o.warmupS, settle);
  o.log(describeLoad(getState, 'req/s'));
  return { getBlock, getState };
}

async function submitPhase(server: HttpServerProcess, w: Workload, o: HttpBenchOptions, inProcess: InProcessRound): Promise<Pick<Phases, 'submit' | 'pool' | 'ledger' | 'serverCpuUsPerTx' | 'submitBlockSizeAvg'>> {
  const { url, chain, keysDir } = server.ready;
  const settle = (): Promise<Settled> => server.call('settle', { quietMs: QUIET_MS, timeoutMs: 60_000 });
  const size = Math.ceil(Math.max(inProcess.tps, 100) * POOL_HEADROOM * (o.warmupS + o.durationS)) + 2 * SUBMIT_CONNECTIONS;
  const t0 = performance.now();
  const pool = createProposalPool({ size, signers: readSigners(keysDir), chain, contract: 'basic', version: await contractVersion(url, chain, 'basic'), workload: w, args: createArgsGenerator(w, o.seed + 2) });
  o.log(`pre-signed ${size} ${w.fn} proposals with the ${BENCH_USER} keys of ${BENCH_ORGS.join(', ')} in ${((performance.now() - t0) / 1000).toFixed(1)} s (not timed)`);
  let collect: string[] | undefined;
  const validTxIds: string[] = [];
  const spec: LoadSpec = {
    label: `POST submit (${w.name})`,
    url,
    method: 'POST',
    connections: SUBMIT_CONNECTIONS,
    durationS: o.durationS,
    next: (): LoadRequest => {
      const b = pool.next();
      return { path: `${CHAIN_PATH(chain)}/transactions`, body: b.body, tag: b.txId };
    },
    classify: (status, body, tag) => {
      if (status >= 200 && status < 300 && body.includes('"code":"VALID"')) {
        if (tag !== undefined) collect?.push(tag);
        return { ok: true, code: 'VALID' };
      }
      return { ok: false, code: status >= 200 && status < 300 ? 'HTTP_2XX_NOT_VALID' : errorCodeOf(status, body) };
    },
  };
  if (o.warmupS > 0) {
    await runLoad({ ...spec, label: `${spec.label} (warm-up)`, durationS: o.warmupS });
  }
  const before = await settle();
  collect = validTxIds;
  const submit = await runLoad(spec);
  collect = undefined;
  const after = await settle();
  o.log(describeLoad(submit, 'tx/s VALID'));
  if (!after.settled) o.log('the network did not settle within 60 s after the submit phase');
  const txs = after.txsInBlocks - before.txsInBlocks;
  const blocks = after.height - before.height;
  const ledger = await server.call('checkValid', { txIds: validTxIds });
  o.log(`ledger check: ${ledger.validAtEveryPeer} of the ${ledger.checked} submits answered VALID are VALID at every peer${Object.keys(ledger.otherByCode).length > 0 ? ` (others: ${JSON.stringify(ledger.otherByCode)})` : ''}`);
  return { submit, pool, ledger, serverCpuUsPerTx: txs > 0 ? (after.cpuUs - before.cpuUs) / txs : null, submitBlockSizeAvg: blocks > 0 ? txs / blocks : 0 };
}

async function runPhases(server: HttpServerProcess, w: Workload, o: HttpBenchOptions): Promise<Phases> {
  o.log(`in-process ${w.name} closed loop in the server process: ${o.warmupS} s warm-up + ${o.durationS} s, ${SUBMIT_CONNECTIONS} in flight`);
  const inProcess = await server.call('inProcess', { warmupS: o.warmupS, durationS: o.durationS, concurrency: SUBMIT_CONNECTIONS });
  // Submits right after the in-process loop: the machine is shared, and the ratio is fairest
  // between neighbours in time.
  const submit = await submitPhase(server, w, o, inProcess);
  const { getBlock, getState } = await getPhases(server, o, inProcess);
  return { inProcess, getBlock, getState, ...submit };
}

const clientCores = (r: LoadResult): number => round(r.clientCpuUs / (r.durationS * 1e6), 2);
const nullableRound = (v: number | null, digits = 2): number | null => (v === null ? null : round(v, digits));

function buildHttpReport(w: Workload, o: HttpBenchOptions, p: Phases, limit: MachineLimit, keys: number): HttpBenchReport {
  // The goal is judged on the figure the report prints, so the two never disagree.
  const ratio = round(p.inProcess.tps > 0 ? p.submit.okPerSec / p.inProcess.tps : 0, 3);
  return {
    bench: 'http',
    workload: w.name,
    mode: 'embedded',
    get_block_rps: round(p.getBlock.okPerSec, 1),
    get_block_p50_ms: nullableRound(p.getBlock.p50Ms),
    get_block_p99_ms: nullableRound(p.getBlock.p99Ms),
    get_block_requests: p.getBlock.responses,
    get_block_errors_by_code: p.getBlock.errorsByCode,
    get_block_bytes_avg: round(p.getBlock.bytesPerResponse, 0),
    get_block_txs_avg: round(p.inProcess.blockSizeAvg, 1),
    get_state_rps: round(p.getState.okPerSec, 1),
    get_state_p50_ms: nullableRound(p.getState.p50Ms),
    get_state_p99_ms: nullableRound(p.getState.p99Ms),
    get_state_requests: p.getState.responses,
    get_state_errors_by_code: p.getState.errorsByCode,
    get_state_bytes_avg: round(p.getState.bytesPerResponse, 0),
    http_submit_tps: round(p.submit.okPerSec, 1),
    http_submit_p50_ms: nullableRound(p.submit.p50Ms),
    http_submit_p99_ms: nullableRound(p.submit.p99Ms),
    http_submit_responses: p.submit.responses,
    http_submit_valid: p.submit.ok,
    http_submit_errors_by_code: p.submit.errorsByCode,
    http_submit_socket_errors: p.submit.socketErrors,
    http_submit_timeouts: p.submit.timeouts,
    http_submit_presigned: p.pool.presigned,
    http_submit_signed_on_demand: p.pool.signedOnDemand(),
    http_submit_ledger_checked: p.ledger.checked,
    http_submit_valid_on_ledger: p.ledger.validAtEveryPeer,
    http_submit_ledger_other: p.ledger.otherByCode,
    in_process_tps: round(p.inProcess.tps, 1),
    in_process_p50_ms: nullableRound(p.inProcess.p50Ms),
    in_process_p99_ms: nullableRound(p.inProcess.p99Ms),
    in_process_committed: p.inProcess.committed,
    in_process_failed_by_code: p.inProcess.failedByCode,
    in_process_block_size_avg: round(p.inProcess.blockSizeAvg, 1),
    http_submit_block_size_avg: round(p.submitBlockSizeAvg, 1),
    ratio,
    goal_ratio: HTTP_GOAL_RATIO,
    goal_met: ratio >= HTTP_GOAL_RATIO,
    server_cpu_us_per_tx_http: nullableRound(p.serverCpuUsPerTx, 0),
    server_cpu_us_per_tx_in_process: p.inProcess.txsInBlocks > 0 ? round(p.inProcess.cpuUs / p.inProcess.txsInBlocks, 0) : null,
    client_cpu_cores_submit: clientCores(p.submit),
    client_cpu_cores_get_block: clientCores(p.getBlock),
    client_cpu_cores_get_state: clientCores(p.getState),
    verifies_per_sec: round(limit.verifiesPerSec, 0),
    verifies_per_sec_per_core: round(limit.verifiesPerSecPerCore, 0),
    cores: limit.workers,
    submit_connections: SUBMIT_CONNECTIONS,
    get_connections: GET_CONNECTIONS,
    keys,
    warmup_s: o.warmupS,
    duration_s: o.durationS,
  };
}

function failureOf(p: Phases): string | undefined {
  if (p.getBlock.ok === 0) return 'GET block: no successful answer';
  if (p.getState.ok === 0) return 'GET state: no successful answer';
  if (p.submit.ok === 0) return 'POST submit: no VALID answer';
  if (p.ledger.validAtEveryPeer < p.ledger.checked) return `${p.ledger.checked - p.ledger.validAtEveryPeer} submits answered VALID are not VALID at every peer: ${JSON.stringify(p.ledger.otherByCode)}`;
  return undefined;
}

/**
 * Runs the HTTP benchmark: machine limit, server process, the four phases, machine limit again.
 * @param o phase lengths, seed, key count, progress log
 * @returns the report, and what failed (a phase with no success, a VALID answer not VALID on the ledger)
 * @throws Error when the server process fails or a phase cannot run
 * @example const { report } = await runHttpBench({ durationS: 15, warmupS: 2, seed: 1, log: console.error })
 */
export async function runHttpBench(o: HttpBenchOptions): Promise<HttpBenchOutcome> {
  const rmw = findWorkload('rmw');
  if (rmw === undefined) throw new Error('the rmw workload is not defined');
  const w: Workload = { ...rmw, keys: o.keys ?? rmw.keys };
  const limitMs = o.durationS < 10 ? 1000 : 2000;
  const limitBefore = await measureMachineLimit(limitMs);
  o.log(`machine limit before: ${limitBefore.verifiesPerSec.toFixed(0)} P-256 verifies/s on ${limitBefore.workers} workers`);
  const server = await startHttpServerProcess({ seed: o.seed, keys: w.keys }, o.serverExecArgv === undefined ? {} : { execArgv: o.serverExecArgv });
  o.log(`API server process ${server.pid} serves ${server.ready.url} (${server.ready.keys} keys preloaded, height ${server.ready.height})`);
  let phases: Phases;
  try {
    phases = await runPhases(server, w, o);
  } finally {
    await server.close();
  }
  const limitAfter = await measureMachineLimit(limitMs);
  const limit = better(limitBefore, limitAfter);
  o.log(`machine limit after: ${limitAfter.verifiesPerSec.toFixed(0)} verifies/s`);
  return { report: buildHttpReport(w, o, phases, limit, w.keys), failure: failureOf(phases) };
}

const fmt = (v: number | null, digits = 1): string => (v === null ? '-' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const codes = (m: Readonly<Record<string, number>>): string => (Object.keys(m).length === 0 ? 'none' : Object.entries(m).map(([c, n]) => `${c} ${n}`).join(', '));

/**
 * The report as a readable list.
 * @example process.stdout.write(formatHttpReport(report))
 */
export function formatHttpReport(r: HttpBenchReport): string {
  return [
    `HTTP API benchmark: ${r.workload} on the embedded network in its own process (${r.warmup_s} s warm-up + ${r.duration_s} s per phase)`,
    `  machine limit          ${fmt(r.verifies_per_sec, 0)} P-256 verifies/s (${r.cores} cores, ${fmt(r.verifies_per_sec_per_core, 0)} per core)`,
    `  GET block              ${fmt(r.get_block_rps)} req/s, p50 ${fmt(r.get_block_p50_ms, 2)} ms, p99 ${fmt(r.get_block_p99_ms, 2)} ms (${r.get_connections} connections, ${r.get_block_requests} answers, blocks of ${fmt(r.get_block_txs_avg)} txs, ${fmt(r.get_block_bytes_avg, 0)} B each; errors: ${codes(r.get_block_errors_by_code)}; client CPU ${fmt(r.client_cpu_cores_get_block, 2)} cores)`,
    `  GET state key          ${fmt(r.get_state_rps)} req/s, p50 ${fmt(r.get_state_p50_ms, 2)} ms, p99 ${fmt(r.get_state_p99_ms, 2)} ms (${r.get_connections} connections, ${r.get_state_requests} answers, ${fmt(r.get_state_bytes_avg, 0)} B each; errors: ${codes(r.get_state_errors_by_code)}; client CPU ${fmt(r.client_cpu_cores_get_state, 2)} cores)`,
    `  HTTP submit            ${fmt(r.http_submit_tps)} tx/s VALID, p50 ${fmt(r.http_submit_p50_ms)} ms, p99 ${fmt(r.http_submit_p99_ms)} ms (${r.submit_connections} connections, ${r.http_submit_responses} answers, ${r.http_submit_valid} VALID; errors: ${codes(r.http_submit_errors_by_code)}; ${r.http_submit_socket_errors} socket errors, ${r.http_submit_timeouts} timeouts)`,
    `    signing              ${r.http_submit_presigned} proposals pre-signed before the run, ${r.http_submit_signed_on_demand} signed during it; client CPU ${fmt(r.client_cpu_cores_submit, 2)} cores`,
    `    on the ledger        ${r.http_submit_valid_on_ledger} of the ${r.http_submit_ledger_checked} answered VALID (window and after) are VALID at every peer${Object.keys(r.http_submit_ledger_other).length > 0 ? ` (others: ${codes(r.http_submit_ledger_other)})` : ''}`,
    `  in-process rmw         ${fmt(r.in_process_tps)} tx/s, p50 ${fmt(r.in_process_p50_ms)} ms, p99 ${fmt(r.in_process_p99_ms)} ms (${r.submit_connections} in flight, ${r.in_process_committed} valid; failed: ${codes(r.in_process_failed_by_code)})`,
    `  ratio http/in-process  ${fmt(r.ratio, 3)} (goal ≥ ${r.goal_ratio}: ${r.goal_met ? 'met' : 'not met'})`,
    `  server CPU per tx      HTTP ${fmt(r.server_cpu_us_per_tx_http, 0)} µs, in-process ${fmt(r.server_cpu_us_per_tx_in_process, 0)} µs (in-process includes the client's signing)`,
    `  block size             HTTP ${fmt(r.http_submit_block_size_avg)} txs, in-process ${fmt(r.in_process_block_size_avg)} txs`,
  ].join('\n') + '\n';
}
