/**
 * Key-derivation micro-benchmark (`npm run bench -- --keys`): hardened SLIP-0010 child derivations
 * per second on one thread, the BIP39 mnemonic → seed time, a whole function key from a seed, and
 * a signer import, printed next to the machine's P-256 verify limit (docs/keys.md, "Costs").
 */
import { availableParallelism } from 'node:os';
import { DEFAULT_FUNCTIONS, deriveSigningKey } from '../keys/key-tree.js';
import { generateMnemonic, mnemonicToSeed } from '../keys/mnemonic.js';
import { deriveChild, HARDENED, masterKeyFromSeed, signerFromExtendedKey, type ExtendedKey } from '../keys/slip10.js';
import { measureMachineLimit } from './machine-limit.js';

/** What `--keys` measures; times are wall time on the main thread (one core). */
export interface KeyBenchReport {
  readonly bench: 'keys';
  /** Hardened child derivations (HMAC-SHA512 + one point multiplication + fingerprint) per second on one thread. */
  readonly hardened_derivations_per_sec: number;
  readonly hardened_derivation_us: number;
  /** BIP39 mnemonic → 64-byte seed (PBKDF2-HMAC-SHA512, 2048 rounds), median. */
  readonly mnemonic_to_seed_ms: number;
  /** Seed → master → m/7777'/0'/f'/l'/m' (five hardened steps), median. */
  readonly seed_to_function_key_us: number;
  /** signerFromExtendedKey: JWK import into node:crypto, median. */
  readonly signer_import_us: number;
  readonly verifies_per_sec: number;
  readonly verifies_per_sec_per_core: number;
  readonly cores: number;
  readonly warmup_s: number;
  readonly duration_s: number;
}

/** Options of {@link runKeyBench}. */
export interface KeyBenchOptions {
  readonly warmupS: number;
  /** Seconds spent on each measurement. */
  readonly durationS: number;
  readonly log: (line: string) => void;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Runs `op` until `ms` of wall time passed; returns each call's duration in ms. */
function timeEach(ms: number, op: (i: number) => void): number[] {
  const times: number[] = [];
  const end = performance.now() + ms;
  for (let i = 0; performance.now() < end || times.length < 5; i++) {
    const t0 = performance.now();
    op(i);
    times.push(performance.now() - t0);
  }
  return times;
}

/** Derivations per second of hardened children of one parent, in batches of 256. */
function derivationRate(parent: ExtendedKey, ms: number): number {
  let count = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 256; i++) deriveChild(parent, HARDENED + ((count + i) % HARDENED));
    count += 256;
  }
  return (count * 1000) / (performance.now() - t0);
}

/**
 * Measures the key costs and the machine limit.
 * @param o warm-up and per-measurement seconds, progress log
 * @returns the report
 * @example const report = await runKeyBench({ warmupS: 1, durationS: 3, log: console.error });
 */
export async function runKeyBench(o: KeyBenchOptions): Promise<KeyBenchReport> {
  const phrase = generateMnemonic();
  const seed = mnemonicToSeed(phrase);
  const master = masterKeyFromSeed(seed);
  const ms = o.durationS * 1000;
  if (o.warmupS > 0) derivationRate(master, o.warmupS * 1000);
  const rate = derivationRate(master, ms);
  o.log(`hardened derivations: ${rate.toFixed(0)}/s on one thread`);
  const seedMs = median(timeEach(ms, () => mnemonicToSeed(phrase)));
  o.log(`mnemonic → seed: ${seedMs.toFixed(2)} ms`);
  const role = { function: DEFAULT_FUNCTIONS.sales ?? 1, level: 3, member: 0 };
  const functionKeyMs = median(timeEach(ms / 2, (i) => deriveSigningKey(masterKeyFromSeed(seed), { ...role, member: i % HARDENED })));
  const key = deriveSigningKey(master, role);
  const signerMs = median(timeEach(ms / 2, () => signerFromExtendedKey(key)));
  const limit = await measureMachineLimit(o.durationS < 10 ? 1000 : 2000);
  o.log(`machine limit: ${limit.verifiesPerSec.toFixed(0)} P-256 verifies/s on ${limit.workers} workers`);
  return {
    bench: 'keys',
    hardened_derivations_per_sec: Math.round(rate),
    hardened_derivation_us: Math.round(1e7 / rate) / 10,
    mnemonic_to_seed_ms: Math.round(seedMs * 100) / 100,
    seed_to_function_key_us: Math.round(functionKeyMs * 1000),
    signer_import_us: Math.round(signerMs * 1000),
    verifies_per_sec: Math.round(limit.verifiesPerSec),
    verifies_per_sec_per_core: Math.round(limit.verifiesPerSecPerCore),
    cores: availableParallelism(),
    warmup_s: o.warmupS,
    duration_s: o.durationS,
  };
}

const fmt = (v: number, digits = 0): string => v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * The report as a readable list.
 * @example process.stdout.write(formatKeyReport(report))
 */
export function formatKeyReport(r: KeyBenchReport): string {
  return [
    `Key derivation (${r.warmup_s} s warm-up, ${r.duration_s} s per measurement, one thread)`,
    `  hardened derivations   ${fmt(r.hardened_derivations_per_sec)} /s (${fmt(r.hardened_derivation_us, 1)} µs each: HMAC-SHA512 + point multiplication)`,
    `  mnemonic → seed        ${fmt(r.mnemonic_to_seed_ms, 2)} ms (PBKDF2-HMAC-SHA512, 2048 rounds)`,
    `  seed → function key    ${fmt(r.seed_to_function_key_us)} µs (master + 5 hardened steps)`,
    `  signer import          ${fmt(r.signer_import_us)} µs (JWK into node:crypto)`,
    `  machine limit          ${fmt(r.verifies_per_sec)} P-256 verifies/s (${r.cores} cores, ${fmt(r.verifies_per_sec_per_core)} per core)`,
  ].join('\n') + '\n';
}
