/** Command-line options of the benchmark (`npm run bench -- …`). */
import { parseArgs } from 'node:util';

/** How the alliance under test runs. */
export type BenchMode = 'embedded' | 'distributed';

/** Parsed benchmark options. */
export interface BenchOptions {
  /** Print one JSON object per workload on stdout. */
  readonly json: boolean;
  /** Run only this workload (default: all). */
  readonly workload: string | undefined;
  readonly mode: BenchMode;
  /** Seconds of warm-up at the measured rate before the measured round. */
  readonly warmupS: number;
  /** Seconds of the measured round. */
  readonly durationS: number;
  /** Run one fixed-rate round at this rate instead of searching for the maximum rate. */
  readonly rate: number | undefined;
  /** RSS-flatness run: commit this many transactions at full speed. */
  readonly txs: number | undefined;
  /** Seed of the key and value generator. */
  readonly seed: number;
  /** The HTTP API benchmark instead of the workloads (docs/benchmarks.md, "The HTTP API"). */
  readonly http: boolean;
  /** The key-derivation micro-benchmark instead of the workloads (docs/keys.md, "Costs"). */
  readonly keys: boolean;
  /** Events of the provenance fixture (`--workload trace-fixture|provenance`); undefined: the default. */
  readonly traceEvents: number | undefined;
  readonly help: boolean;
}

/** Workloads on the traceability fixture, which is built once and cached (docs/benchmarks.md, "Traceability"). */
export const FIXTURE_WORKLOADS: readonly string[] = ['trace-fixture', 'provenance'];
/** Events of the provenance fixture unless `--trace-events` says otherwise. */
export const DEFAULT_TRACE_EVENTS = 1_000_000;

/** A command-line mistake: main prints it with the usage and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The usage text. */
export const USAGE = `usage: npm run bench -- [--json] [--workload NAME] [--mode embedded|distributed]
                       [--warmup S] [--duration S] [--rate TPS] [--txs N] [--seed N]
       npm run bench -- --workload trace-fixture|provenance [--trace-events N] [--json] [--seed N]
       npm run bench -- --http [--json] [--warmup S] [--duration S] [--seed N]
       npm run bench -- --keys [--json] [--warmup S] [--duration S]

  --json        one JSON object per workload as the last lines of stdout
  --workload    blind-write | rmw | rmw-2of3 | trace-capture (default: these four)
                | trace-fixture | provenance (on the cached fixture; only when named)
  --trace-events N  events of the provenance fixture (default 1,000,000; CI size 20,000),
                built once through the commit path and cached in .bench-cache/
  --mode        embedded (default) | distributed: blind-write and rmw against a whole loopback
                network (3 etcd members, 2 orderers, a peer process per org) over the peers'
                HTTP APIs, the embedded rmw of the same run for the ratio, and an rmw phase
                that kills the etcd leader (rmw-2of3 is reported as not run)
  --warmup S    warm-up seconds at the measured rate (default 10)
  --duration S  measured seconds (default 60)
  --rate TPS    one fixed-rate round at TPS instead of the maximum-rate search
  --txs N       RSS-flatness run: commit N transactions at full speed (rmw unless --workload)
  --seed N      seed of the key/value generator (default 1)
  --http        the HTTP API benchmark: GET block, GET state, POST submit of rmw against the
                API server in its own process, and the in-process rmw loop for the ratio
                (warm-up 2 s and 15 s per phase unless given; about 1.5 min in all)
  --keys        key derivation: hardened derivations/s, mnemonic → seed time, next to the
                P-256 verify limit (warm-up 1 s and 3 s per measurement unless given)
Figures are defined in docs/benchmarks.md.`;

/** Warm-up and measured seconds of the workload rounds, and of each phase of `--http`. */
const RUN_DEFAULTS = { warmupS: 10, durationS: 60 } as const;
const HTTP_DEFAULTS = { warmupS: 2, durationS: 15 } as const;
const KEYS_DEFAULTS = { warmupS: 1, durationS: 3 } as const;

function positiveNumber(name: string, text: string | undefined, fallback: number | undefined, allowZero = false): number | undefined {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw new UsageError(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${text}`);
  return v;
}

/** `--trace-events` and the limits of the trace workloads. */
function traceEventsOption(text: string | undefined, workload: string | undefined, rate: string | undefined, txs: number | undefined): number | undefined {
  const traceEvents = positiveNumber('trace-events', text, undefined);
  if (traceEvents !== undefined && (!Number.isSafeInteger(traceEvents) || traceEvents < 1000)) throw new UsageError(`--trace-events must be a whole number of at least 1000, got ${text ?? ''}`);
  if (traceEvents !== undefined && !FIXTURE_WORKLOADS.includes(workload ?? '')) throw new UsageError('--trace-events sizes the provenance fixture: it needs --workload trace-fixture or provenance');
  if (workload !== undefined && (FIXTURE_WORKLOADS.includes(workload) || workload === 'trace-capture') && (rate !== undefined || txs !== undefined)) {
    throw new UsageError(`--workload ${workload} takes no --rate or --txs`);
  }
  return traceEvents;
}

/** What `--mode distributed` runs: the `basic` workloads only. */
function distributedOptions(workload: string | undefined, http: boolean, keys: boolean, txs: number | undefined): void {
  if (http || keys || txs !== undefined) throw new UsageError('--mode distributed runs the basic workloads: it takes no --http, --keys or --txs');
  if (workload !== undefined && (FIXTURE_WORKLOADS.includes(workload) || workload === 'trace-capture')) {
    throw new UsageError(`--mode distributed runs blind-write, rmw and rmw-2of3; --workload ${workload} runs on the embedded network only`);
  }
}

/**
 * Parses the benchmark's arguments.
 * @param argv arguments after the script name
 * @throws UsageError on an unknown flag or a bad value
 */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        json: { type: 'boolean', default: false },
        workload: { type: 'string' },
        mode: { type: 'string', default: 'embedded' },
        warmup: { type: 'string' },
        duration: { type: 'string' },
        rate: { type: 'string' },
        txs: { type: 'string' },
        seed: { type: 'string' },
        http: { type: 'boolean', default: false },
        keys: { type: 'boolean', default: false },
        'trace-events': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  const mode = v.mode;
  if (mode !== 'embedded' && mode !== 'distributed') throw new UsageError(`--mode must be embedded or distributed, got ${mode}`);
  const txs = positiveNumber('txs', v.txs, undefined);
  if (txs !== undefined && !Number.isSafeInteger(txs)) throw new UsageError(`--txs must be a whole number, got ${v.txs ?? ''}`);
  const seed = positiveNumber('seed', v.seed, 1, true) ?? 1;
  if (v.http && (v.rate !== undefined || txs !== undefined || (v.workload !== undefined && v.workload !== 'rmw'))) {
    throw new UsageError('--http runs the rmw workload with its own phases: it takes no --rate, --txs or other --workload');
  }
  if (v.keys && (v.http || v.rate !== undefined || txs !== undefined || v.workload !== undefined)) {
    throw new UsageError('--keys measures key derivation alone: it takes no --http, --rate, --txs or --workload');
  }
  if (mode === 'distributed') distributedOptions(v.workload, v.http, v.keys, txs);
  const traceEvents = traceEventsOption(v['trace-events'], v.workload, v.rate, txs);
  const defaults = v.keys ? KEYS_DEFAULTS : v.http ? HTTP_DEFAULTS : RUN_DEFAULTS;
  return {
    json: v.json,
    workload: v.workload,
    mode,
    warmupS: positiveNumber('warmup', v.warmup, defaults.warmupS, true) ?? defaults.warmupS,
    durationS: positiveNumber('duration', v.duration, defaults.durationS) ?? defaults.durationS,
    rate: positiveNumber('rate', v.rate, undefined),
    txs,
    seed: Math.floor(seed),
    http: v.http,
    keys: v.keys,
    traceEvents,
    help: v.help,
  };
}
