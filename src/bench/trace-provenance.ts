/**
 * The `provenance` workload: on the cached fixture (src/bench/trace-fixture.ts), random items'
 * provenance with proofs — `itemProvenance(peer.reader(chain, 'epcis'), epc)` and one receipt
 * (`peer.receipt(chain, txId)`) per distinct transaction its answer cites — timed in-process
 * twice: right after opening (the page cache as found) and after the peer's world state has been
 * read once (a serving peer's steady state); then the same over HTTP (`GET
 * /api/epcis/provenance`, {@link measureHttpProvenance}); then the label checks: each answer
 * proven as a client that trusts no node proves it (`proveProvenance`: every receipt against the
 * keys of its block, every event against its transactions' bytes), timed on one core against
 * that core's own verification rate; then the fixture's ledgers re-verified as `silk verify`
 * does, timed.
 */
import { embeddedApiBackend } from '../api/backend.js';
import { createApiServer } from '../api/server.js';
import { receiptTrust } from '../ledger/receipt.js';
import { transactionBytes } from '../peer/block-view.js';
import type { Peer } from '../peer/peer.js';
import { seededRandom } from '../testing/seeded-random.js';
import { itemProvenance, type ProvenanceOptions } from '../traceability/provenance.js';
import { proveProvenance } from '../traceability/event-proof.js';
import { withProofs, type ProvenanceWithProofs } from '../traceability/provenance-proofs.js';
import { measureMachineLimit } from './machine-limit.js';
import { percentile, round } from './stats.js';
import { openTraceFixture, verifyTraceFixture, type TraceFixture } from './trace-fixture.js';
import { SUPPLY_CHAIN } from './trace-network.js';

/** How long the machine's verification rate is measured after the label checks (ms). */
const LIMIT_MS = 2000;

/**
 * The label checks' figures (docs/benchmarks.md): their latency, their rate on one core, and the
 * bound that fits them, that core's verifications per second ÷ the verifications a check needs.
 */
function labelCheckFigures(c: CheckRound, verifiesPerSecPerCore: number, queries: number): Record<string, number | null> {
  const mean = c.latenciesMs.reduce((s, x) => s + x, 0) / Math.max(1, queries);
  const verifiesPerCheck = (2 * c.receipts) / Math.max(1, queries);
  const checksPerSec = mean > 0 ? 1000 / mean : 0;
  const limit = verifiesPerCheck > 0 ? verifiesPerSecPerCore / verifiesPerCheck : 0;
  return {
    check_p50_ms: round(percentile(c.latenciesMs, 0.5) ?? Number.NaN, 3),
    check_p99_ms: round(percentile(c.latenciesMs, 0.99) ?? Number.NaN, 3),
    check_mean_ms: round(mean, 3),
    checks_per_s: round(checksPerSec, 1),
    check_verifies_avg: round(verifiesPerCheck, 1),
    check_events_avg: round(c.events / Math.max(1, queries), 1),
    check_limit_per_s: round(limit, 1),
    check_ratio: limit > 0 ? round(checksPerSec / limit, 3) : null,
    verifies_per_sec_per_core: round(verifiesPerSecPerCore, 0),
    check_failures: c.failures.length,
  };
}

/** The route the HTTP half queries. */
const PROVENANCE_ROUTE = '/api/epcis/provenance';
/** Items queried in the measured round. */
export const PROVENANCE_QUERIES = 1000;
/** Items queried before it, unmeasured (JIT, SQLite page cache). */
const WARMUP_QUERIES = 50;
/** The goals (docs/benchmarks.md): p99 in-process and over HTTP. */
export const PROVENANCE_GOAL_P99_MS = 5;
export const PROVENANCE_HTTP_GOAL_P99_MS = 15;
/** The cold chain's limits, so the answers carry excursions (and the same over HTTP). */
const QUERY_OPTIONS: ProvenanceOptions = { thresholds: [{ type: 'Temperature', uom: 'CEL', min: 2, max: 8 }] };
const HTTP_THRESHOLDS = 'Temperature:CEL:2:8';

/**
 * One item's provenance with proofs, in-process: what `GET /api/epcis/provenance` answers.
 * @param peer - the peer that answers
 * @param epc - the item
 */
export function provenanceWithProofs(peer: Peer, epc: string): ProvenanceWithProofs {
  return withProofs(itemProvenance(peer.reader(SUPPLY_CHAIN, 'epcis'), epc, QUERY_OPTIONS), (txId) => peer.receipt(SUPPLY_CHAIN, txId));
}

/** Options of {@link runProvenance}. */
export interface ProvenanceRunOptions {
  readonly mode: string;
  readonly seed: number;
  /** Events of the fixture. */
  readonly events: number;
  readonly queries?: number;
  /** Folder holding the fixture caches (default `.bench-cache`). */
  readonly cacheRoot?: string;
  readonly progressBar?: boolean;
  readonly log: (line: string) => void;
}

/** The in-process round's figures. */
interface QueryRound {
  readonly latenciesMs: Float64Array;
  readonly bytes: number;
  readonly events: number;
  readonly receipts: number;
  readonly missing: number;
  readonly truncated: number;
}

/** Reads the queried peer's world state once, in key order, as a peer that has served for a while holds it in the page cache. */
function warmState(f: TraceFixture): { readonly seconds: number; readonly keys: number } {
  const t0 = performance.now();
  let keys = 0;
  const rows = f.net.peers[0]!.store(SUPPLY_CHAIN).iterateState();
  for (let r = rows.next(); r.done !== true; r = rows.next()) keys++;
  return { seconds: (performance.now() - t0) / 1000, keys };
}

function queryRound(f: TraceFixture, items: readonly number[]): QueryRound {
  const peer = f.net.peers[0]!;
  const latencies = new Float64Array(items.length);
  let bytes = 0;
  let events = 0;
  let receipts = 0;
  let missing = 0;
  let truncated = 0;
  items.forEach((i, n) => {
    const t0 = performance.now();
    const answer = provenanceWithProofs(peer, f.itemEpc(i));
    latencies[n] = performance.now() - t0;
    events += answer.provenance.events.length;
    receipts += Object.keys(answer.proofs).length;
    missing += answer.missingProofs.length;
    if (answer.provenance.truncated) truncated++;
  });
  // The bytes a client would receive, the answer as JSON, in a second untimed pass: serialising
  // inside the timed loop would leave its garbage to the next query's clock.
  for (const i of items) bytes += Buffer.byteLength(JSON.stringify(provenanceWithProofs(peer, f.itemEpc(i))));
  return { latenciesMs: latencies.sort(), bytes, events, receipts, missing, truncated };
}

/** The label checks' round. */
interface CheckRound {
  readonly latenciesMs: Float64Array;
  /** Receipts proven (two signature verifications each). */
  readonly receipts: number;
  readonly events: number;
  /** What did not prove (none on an intact ledger). */
  readonly failures: readonly string[];
}

/**
 * Label checks: each item's answer proven as a verifying client does (the SDK's
 * `verifyProvenance`, `silk epcis trace`, the web UI's checks). The keys come from the peer's
 * configuration history and the transactions' bytes are read before the clock starts: what is
 * timed is the client's own work (signatures, decoding, hashes), not the reads a client makes
 * over the network.
 */
async function checkRound(f: TraceFixture, items: readonly number[]): Promise<CheckRound> {
  const peer = f.net.peers[0]!;
  const latencies = new Float64Array(items.length);
  let receipts = 0;
  let events = 0;
  const failures: string[] = [];
  for (const [n, i] of items.entries()) {
    const answer = provenanceWithProofs(peer, f.itemEpc(i));
    const bytes = new Map<string, Uint8Array>();
    for (const txId of Object.keys(answer.proofs)) {
      const b = transactionBytes(peer, SUPPLY_CHAIN, txId);
      if (b !== undefined) bytes.set(txId, b);
    }
    const sources = {
      trust: (chain: string, block: number) => receiptTrust(peer.configAt(chain, block)),
      transactionBytes: (_chain: string, txId: string) => bytes.get(txId) ?? new Uint8Array(0),
    };
    const t0 = performance.now();
    const proof = await proveProvenance(answer, sources);
    latencies[n] = performance.now() - t0;
    if (proof.ok) {
      receipts += proof.receipts;
      events += proof.events;
    } else failures.push(`${f.itemEpc(i)}: ${proof.reason}`);
  }
  return { latenciesMs: latencies.sort(), receipts, events, failures };
}

/**
 * Runs the workload: opens (or builds) the fixture, queries random items, verifies the ledgers.
 * @returns the workload's JSON line and whether it failed (ledgers that do not verify, receipts missing)
 */
export async function runProvenance(o: ProvenanceRunOptions): Promise<{ readonly report: Record<string, unknown> & { readonly workload: string; readonly mode: string }; readonly failure: string | undefined }> {
  const f = await openTraceFixture({ events: o.events, seed: o.seed, log: o.log, ...(o.cacheRoot === undefined ? {} : { cacheRoot: o.cacheRoot }), ...(o.progressBar === undefined ? {} : { progressBar: o.progressBar }) });
  const queries = o.queries ?? PROVENANCE_QUERIES;
  const random = seededRandom(o.seed ^ 0x9e0);
  const draw = (n: number): number[] => Array.from({ length: n }, () => Math.floor(random() * f.manifest.items));
  let opened: QueryRound;
  let warm: { readonly seconds: number; readonly keys: number };
  let round_: QueryRound;
  let http: HttpProvenanceRound;
  let checks: CheckRound;
  let perCore: number;
  try {
    queryRound(f, draw(WARMUP_QUERIES));
    o.log(`provenance: ${queries} random items of ${f.manifest.items}, with a receipt per cited transaction, in-process, right after opening`);
    opened = queryRound(f, draw(queries));
    o.log('provenance: reading the peer\'s world state once, as a serving peer\'s page cache holds it');
    warm = warmState(f);
    o.log(`provenance: ${queries} other random items, in-process`);
    round_ = queryRound(f, draw(queries));
    // Over HTTP: the node's API server for the first org's peer, queried one item at a time.
    const api = await createApiServer({ backend: embeddedApiBackend(f.net, { org: f.net.peers[0]!.org }), rateLimitPerMinute: 0 });
    try {
      const url = await api.listen({ port: 0, host: '127.0.0.1' });
      await measureHttpProvenance(url, PROVENANCE_ROUTE, SUPPLY_CHAIN, draw(WARMUP_QUERIES).map((i) => f.itemEpc(i)));
      o.log(`provenance: ${queries} random items over HTTP (GET ${PROVENANCE_ROUTE})`);
      http = await measureHttpProvenance(url, PROVENANCE_ROUTE, SUPPLY_CHAIN, draw(queries).map((i) => f.itemEpc(i)));
    } finally {
      await api.close();
    }
    await checkRound(f, draw(WARMUP_QUERIES));
    o.log(`provenance: ${queries} label checks, each answer proven as a verifying client does, on one core`);
    checks = await checkRound(f, draw(queries));
    perCore = (await measureMachineLimit(LIMIT_MS)).verifiesPerSecPerCore;
  } finally {
    await f.close();
  }
  o.log(`provenance: verifying the fixture's ledgers as silk verify does`);
  const v = await verifyTraceFixture(f.dir);
  const p99 = percentile(round_.latenciesMs, 0.99);
  const mean = round_.latenciesMs.reduce((s, x) => s + x, 0) / Math.max(1, queries);
  const report = {
    workload: 'provenance',
    mode: o.mode,
    events: f.manifest.events,
    items: f.manifest.items,
    queries,
    p50_ms: round(percentile(round_.latenciesMs, 0.5) ?? Number.NaN, 3),
    p99_ms: p99 === null ? null : round(p99, 3),
    mean_ms: round(mean, 3),
    response_bytes_avg: round(round_.bytes / Math.max(1, queries), 0),
    events_per_answer_avg: round(round_.events / Math.max(1, queries), 1),
    receipts_per_answer_avg: round(round_.receipts / Math.max(1, queries), 1),
    missing_receipts: round_.missing,
    truncated_answers: round_.truncated,
    goal_p99_ms: PROVENANCE_GOAL_P99_MS,
    goal_met: p99 !== null && p99 < PROVENANCE_GOAL_P99_MS,
    opened_p50_ms: round(percentile(opened.latenciesMs, 0.5) ?? Number.NaN, 3),
    opened_p99_ms: round(percentile(opened.latenciesMs, 0.99) ?? Number.NaN, 3),
    state_read_s: round(warm.seconds, 1),
    state_keys: warm.keys,
    http_p50_ms: http.p50Ms === null ? null : round(http.p50Ms, 3),
    http_p99_ms: http.p99Ms === null ? null : round(http.p99Ms, 3),
    http_response_bytes_avg: round(http.bytesAvg, 0),
    http_errors: http.errorsByStatus,
    http_goal_p99_ms: PROVENANCE_HTTP_GOAL_P99_MS,
    http_goal_met: http.p99Ms !== null && http.p99Ms < PROVENANCE_HTTP_GOAL_P99_MS,
    ...labelCheckFigures(checks, perCore, queries),
    verify_ok: v.ok,
    verify_s: round(v.seconds, 1),
    verified_ledgers: v.ledgers,
    verified_blocks: v.blocks,
    verified_transactions: v.transactions,
    fixture_reused: f.reused,
    build_s: f.manifest.build_s,
    build_events_per_s: f.manifest.events_per_s,
    seed: o.seed,
  };
  const httpErrors = Object.values(http.errorsByStatus).reduce((a, b) => a + b, 0);
  const failure = !v.ok
    ? `the fixture's ledgers do not verify: ${v.problems.join('; ')}`
    : round_.missing > 0
      ? `${round_.missing} cited transactions had no receipt`
      : httpErrors > 0
        ? `${httpErrors} HTTP answers were not 200: ${JSON.stringify(http.errorsByStatus)}`
        : checks.failures.length > 0
          ? `${checks.failures.length} answers did not prove: ${checks.failures.slice(0, 3).join('; ')}`
          : undefined;
  return { report, failure };
}

/** What {@link measureHttpProvenance} measured. */
export interface HttpProvenanceRound {
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly bytesAvg: number;
  /** Answers other than 200, by status. */
  readonly errorsByStatus: Readonly<Record<string, number>>;
}

/**
 * The HTTP half: one GET per item, one at a time on a kept-alive
 * connection, timed from the request to the whole body read.
 * @param baseUrl - e.g. `http://127.0.0.1:8080`
 * @param routePath - the route, e.g. `/api/epcis/provenance`; it takes `chain` and `epc`
 * @param epcs - the items, in order
 * @example await measureHttpProvenance('http://127.0.0.1:8080', '/api/epcis/provenance', 'supply', epcs)
 */
export async function measureHttpProvenance(baseUrl: string, routePath: string, chain: string, epcs: readonly string[]): Promise<HttpProvenanceRound> {
  const latencies = new Float64Array(epcs.length);
  const errorsByStatus: Record<string, number> = {};
  let bytes = 0;
  let ok = 0;
  for (const [n, epc] of epcs.entries()) {
    const url = `${baseUrl}${routePath}?chain=${encodeURIComponent(chain)}&epc=${encodeURIComponent(epc)}&thresholds=${HTTP_THRESHOLDS}`;
    const t0 = performance.now();
    const res = await fetch(url);
    const body = new Uint8Array(await res.arrayBuffer());
    latencies[n] = performance.now() - t0;
    if (res.status === 200) {
      ok++;
      bytes += body.byteLength;
    } else {
      errorsByStatus[String(res.status)] = (errorsByStatus[String(res.status)] ?? 0) + 1;
    }
  }
  const sorted = latencies.sort();
  return { p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), bytesAvg: ok > 0 ? bytes / ok : 0, errorsByStatus };
}
