/**
 * The Silkledger benchmark: `npm run bench -- [--json] [--workload NAME] [--mode embedded|distributed]
 * [--warmup S] [--duration S] [--rate TPS] [--txs N]`, the HTTP API benchmark with `--http`, the
 * key-derivation micro-benchmark with `--keys`, or the provenance fixture with
 * `--workload trace-fixture [--trace-events N]`.
 * Progress goes to stderr; with `--json` each workload's figures (or the HTTP run's) go to
 * stdout as one JSON object per line (docs/benchmarks.md).
 *
 * With `--mode distributed` the workloads run against a whole loopback distributed network.
 *
 * Exit codes: 0 done; 1 a run failed; 2 usage error; 3 fewer signature
 * verifications per transaction were counted than the design needs.
 */
import { runDistributedBench } from './distributed-bench.js';
import { formatHttpReport, runHttpBench } from './http-bench.js';
import { formatKeyReport, runKeyBench } from './key-costs.js';
import { measureMachineLimit } from './machine-limit.js';
import { DEFAULT_TRACE_EVENTS, parseBenchOptions, UsageError, USAGE, type BenchOptions } from './options.js';
import { planFor, runRssFlatness, runWorkload, type WorkloadOutcome } from './run-workload.js';
import { runTraceCapture, TRACE_CAPTURE } from './trace-capture.js';
import { openTraceFixture, traceFixtureReport, verifyTraceFixture } from './trace-fixture.js';
import { runProvenance } from './trace-provenance.js';
import { findWorkload, WORKLOADS, type Workload } from './workloads.js';
import { missingNodeFlags } from '../node-flags.js';

const started = performance.now();
const log = (line: string): void => {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
};

/** What a run runs: workloads on `basic`, then `trace-capture`; or one workload on the trace fixture. */
interface Selection {
  readonly basic: Workload[];
  readonly traceCapture: boolean;
  readonly fixture: 'trace-fixture' | 'provenance' | undefined;
}

const WORKLOAD_NAMES = [...WORKLOADS.map((x) => x.name), TRACE_CAPTURE, 'trace-fixture', 'provenance'];

/** The default run takes the `basic` workloads and `trace-capture`, never a fixture workload. */
function selectWorkloads(o: BenchOptions): Selection {
  if (o.workload === undefined) return o.txs === undefined ? { basic: [...WORKLOADS], traceCapture: true, fixture: undefined } : { basic: [findWorkload('rmw')!], traceCapture: false, fixture: undefined };
  if (o.workload === TRACE_CAPTURE) return { basic: [], traceCapture: true, fixture: undefined };
  if (o.workload === 'trace-fixture' || o.workload === 'provenance') return { basic: [], traceCapture: false, fixture: o.workload };
  const w = findWorkload(o.workload);
  if (w === undefined) throw new UsageError(`unknown workload ${o.workload}; choose one of ${WORKLOAD_NAMES.join(', ')}`);
  return { basic: [w], traceCapture: false, fixture: undefined };
}

function printHuman(r: Readonly<Record<string, unknown>> & { readonly workload: string; readonly mode: string }): void {
  const lines = Object.entries(r).map(([k, v]) => `  ${k.padEnd(26)} ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`);
  process.stdout.write(`${r.workload} (${r.mode})\n${lines.join('\n')}\n`);
}

/** `SILK_BENCH_SERVER_EXEC_ARGV`: node options of the HTTP bench's server process, e.g. `--cpu-prof`. */
function serverExecArgv(): string[] | undefined {
  const text = process.env.SILK_BENCH_SERVER_EXEC_ARGV;
  return text === undefined || text.trim() === '' ? undefined : text.trim().split(/\s+/);
}

async function runHttp(o: BenchOptions): Promise<number> {
  const argv = serverExecArgv();
  const { report, failure } = await runHttpBench({ durationS: o.durationS, warmupS: o.warmupS, seed: o.seed, log, ...(argv === undefined ? {} : { serverExecArgv: argv }) });
  process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : formatHttpReport(report));
  if (failure !== undefined) {
    process.stderr.write(`bench: FAILED: ${failure}\n`);
    return 1;
  }
  log('done');
  return 0;
}

/** `--mode distributed`: the workloads against a loopback distributed network (docs/benchmarks.md, "Distributed mode"). */
async function runDistributed(o: BenchOptions, workloads: readonly Workload[]): Promise<number> {
  const { failure } = await runDistributedBench(workloads, o, (line) => {
    if (o.json) process.stdout.write(`${JSON.stringify(line)}\n`);
    else printHuman({ ...line });
  }, log);
  if (failure !== undefined) {
    process.stderr.write(`bench: FAILED: ${failure}\n`);
    return 1;
  }
  log('done');
  return 0;
}

async function runKeys(o: BenchOptions): Promise<number> {
  const report = await runKeyBench({ warmupS: o.warmupS, durationS: o.durationS, log });
  process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : formatKeyReport(report));
  log('done');
  return 0;
}

/** `--workload trace-fixture`: builds the fixture (or checks the cached one) and verifies its ledgers. */
async function runTraceFixture(o: BenchOptions): Promise<number> {
  const events = o.traceEvents ?? DEFAULT_TRACE_EVENTS;
  const fixture = await openTraceFixture({ events, seed: o.seed, log });
  await fixture.close();
  log(`verifying the fixture's ledgers as silk verify does (${fixture.net.peers.length} peers)`);
  const verification = await verifyTraceFixture(fixture.dir);
  const report = traceFixtureReport(o.mode, fixture, verification);
  if (o.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else printHuman(report);
  if (!verification.ok) {
    process.stderr.write(`bench: FAILED: the fixture's ledgers do not verify: ${verification.problems.join('; ')}\n`);
    return 1;
  }
  log('done');
  return 0;
}

/** `--workload provenance`: random items' provenance with proofs on the fixture, and its verification. */
async function runProvenanceWorkload(o: BenchOptions): Promise<number> {
  const { report, failure } = await runProvenance({ mode: o.mode, seed: o.seed, events: o.traceEvents ?? DEFAULT_TRACE_EVENTS, log });
  if (o.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else printHuman(report);
  if (failure !== undefined) {
    process.stderr.write(`bench: FAILED: ${failure}\n`);
    return 1;
  }
  log('done');
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  let o: BenchOptions;
  let selection: Selection;
  try {
    o = parseBenchOptions(argv);
    if (o.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    selection = selectWorkloads(o);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`bench: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  const missing = missingNodeFlags();
  if (missing.length > 0) log(`started without ${missing.join(' ')} (npm run bench passes it; see src/node-flags.ts): the in-process figures will be lower`);
  if (o.mode === 'distributed') return runDistributed(o, o.workload === undefined ? [...WORKLOADS] : selection.basic);
  if (o.http) return runHttp(o);
  if (o.keys) return runKeys(o);
  if (selection.fixture === 'trace-fixture') return runTraceFixture(o);
  if (selection.fixture === 'provenance') return runProvenanceWorkload(o);
  const plan = planFor(o);
  let limit = await measureMachineLimit(plan.limitMs);
  log(`machine limit before: ${limit.verifiesPerSec.toFixed(0)} P-256 verifies/s on ${limit.workers} workers (${limit.verifiesPerSecPerCore.toFixed(0)} per core)`);
  const runs: ((limitBefore: typeof limit) => Promise<WorkloadOutcome>)[] = selection.basic.map((w) => (l) => (o.txs === undefined ? runWorkload(w, o, l, log) : runRssFlatness(w, o.txs, o, l, log)));
  if (selection.traceCapture) runs.push((l) => runTraceCapture({ mode: o.mode, seed: o.seed, warmupS: o.warmupS, durationS: o.durationS, limitMs: plan.limitMs, limitBefore: l, log }));
  for (const run of runs) {
    const outcome = await run(limit);
    limit = outcome.limitAfter;
    if (o.json) process.stdout.write(`${JSON.stringify(outcome.report)}\n`);
    else printHuman(outcome.report);
    if (outcome.verifyShortfall !== undefined) {
      process.stderr.write(`bench: FAILED: ${outcome.verifyShortfall}\n`);
      return 3;
    }
  }
  log('done');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    process.stderr.write(`bench: failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
