/**
 * The Silkledger benchmark: `npm run bench -- [--json] [--workload NAME] [--mode embedded|distributed]
 * [--warmup S] [--duration S] [--rate TPS] [--txs N]`, the HTTP API benchmark with `--http`, or
 * the key-derivation micro-benchmark with `--keys`.
 * Progress goes to stderr; with `--json` each workload's figures (or the HTTP run's) go to
 * stdout as one JSON object per line (docs/benchmarks.md).
 *
 * Exit codes: 0 done; 1 a run failed; 2 usage error or a mode not built; 3 fewer signature
 * verifications per transaction were counted than the design needs.
 */
import { formatHttpReport, runHttpBench } from './http-bench.js';
import { formatKeyReport, runKeyBench } from './key-costs.js';
import { measureMachineLimit } from './machine-limit.js';
import { parseBenchOptions, UsageError, USAGE, type BenchOptions } from './options.js';
import type { WorkloadReport } from './report.js';
import { planFor, runRssFlatness, runWorkload, type WorkloadOutcome } from './run-workload.js';
import { findWorkload, WORKLOADS, type Workload } from './workloads.js';

const started = performance.now();
const log = (line: string): void => {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
};

function selectWorkloads(o: BenchOptions): Workload[] {
  if (o.workload === undefined) return o.txs === undefined ? [...WORKLOADS] : [findWorkload('rmw')!];
  const w = findWorkload(o.workload);
  if (w === undefined) throw new UsageError(`unknown workload ${o.workload}; choose one of ${WORKLOADS.map((x) => x.name).join(', ')}`);
  return [w];
}

function printHuman(r: WorkloadReport): void {
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

async function runKeys(o: BenchOptions): Promise<number> {
  const report = await runKeyBench({ warmupS: o.warmupS, durationS: o.durationS, log });
  process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : formatKeyReport(report));
  log('done');
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  let o: BenchOptions;
  let workloads: Workload[];
  try {
    o = parseBenchOptions(argv);
    if (o.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    workloads = selectWorkloads(o);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`bench: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  if (o.mode === 'distributed') {
    process.stderr.write('bench: --mode distributed is not built yet (it needs the etcd-backed orderer and per-process peers); run --mode embedded\n');
    return 2;
  }
  if (o.http) return runHttp(o);
  if (o.keys) return runKeys(o);
  const plan = planFor(o);
  let limit = await measureMachineLimit(plan.limitMs);
  log(`machine limit before: ${limit.verifiesPerSec.toFixed(0)} P-256 verifies/s on ${limit.workers} workers (${limit.verifiesPerSecPerCore.toFixed(0)} per core)`);
  for (const w of workloads) {
    const outcome: WorkloadOutcome = o.txs === undefined ? await runWorkload(w, o, limit, log) : await runRssFlatness(w, o.txs, o, limit, log);
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
