/**
 * The provenance fixture: a supply-chain event history (src/bench/trace-events.ts) of a requested
 * size, recorded through the normal commit path — each org signs its own `captureEvents`
 * proposals, its gateway endorses, orders and waits for the commit, and every peer validates and
 * commits — on an embedded supply network (src/bench/trace-network.ts). Built once and cached in
 * `.bench-cache/trace-<events>-v<format>/` (the network's data folder and `manifest.json`); a
 * later run opens the network on the folder and checks every peer's height against the
 * manifest before it reuses it.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ledgerFiles } from '../cli/peer-ledgers.js';
import { createProgressBar } from '../cli/progress.js';
import { verifyLedgerFile } from '../peer/ledger-verifier.js';
import { SilkError } from '../errors.js';
import type { EmbeddedNetwork } from '../network/embedded-network.js';
import { round } from './stats.js';
import { captureBatches, CASES_PER_PALLET, ITEMS_PER_CASE, PALLETS_PER_CONTAINER, planSupplyChain, supplyChainEvents, supplyIdentifiers, SUPPLY_ORGS, type BatchSizes } from './trace-events.js';
import { openSupplyNetwork, signCaptures, SUPPLY_CHAIN, supplySigners } from './trace-network.js';

/** Version of the fixture's layout and history; a change makes earlier caches unused. */
export const TRACE_FIXTURE_FORMAT = 1;
/** Events of the full provenance fixture. */
export const FULL_TRACE_EVENTS = 1_000_000;
/** Events of the CI-size fixture. */
export const CI_TRACE_EVENTS = 20_000;
/** The smallest fixture `--trace-events` accepts. */
export const MIN_TRACE_EVENTS = 1000;
/** Events per capture transaction while building. */
export const FIXTURE_BATCH_SIZES: BatchSizes = { min: 100, max: 500 };
/** Capture transactions in flight while building: enough to fill blocks. */
const BUILD_IN_FLIGHT = 24;

/** What `manifest.json` holds. */
export interface TraceFixtureManifest {
  readonly format: number;
  readonly parameters: {
    readonly events: number;
    readonly seed: number;
    readonly itemsPerCase: number;
    readonly casesPerPallet: number;
    readonly palletsPerContainer: number;
    readonly batchMin: number;
    readonly batchMax: number;
    readonly orgs: readonly string[];
    readonly chain: string;
  };
  readonly seed: number;
  readonly events: number;
  readonly items: number;
  readonly cases: number;
  readonly pallets: number;
  readonly containers: number;
  readonly transactions: number;
  /** Blocks on the `supply` chain at every peer (genesis included). */
  readonly chainHeight: number;
  readonly build_s: number;
  readonly events_per_s: number;
}

/** An open fixture. */
export interface TraceFixture {
  /** The cache folder. */
  readonly dir: string;
  readonly manifest: TraceFixtureManifest;
  /** The supply network, open on the cached data folder. */
  readonly net: EmbeddedNetwork;
  /** True when the cache was reused, false when this call built it. */
  readonly reused: boolean;
  /** The SGTIN (EPC URN) of item `i`, 0 ≤ i < `manifest.items`. */
  itemEpc(i: number): string;
  close(): Promise<void>;
}

/** Options of {@link openTraceFixture}. */
export interface OpenTraceFixtureOptions {
  /** Events of the history, at least {@link MIN_TRACE_EVENTS}. */
  readonly events: number;
  readonly seed: number;
  /** Folder holding the caches (default `.bench-cache` in the working folder). */
  readonly cacheRoot?: string;
  readonly log?: (line: string) => void;
  /** Draw a progress bar on stderr while building (default: when stderr is a terminal). */
  readonly progressBar?: boolean;
}

/** The cache folder of a fixture. */
export function traceFixtureDir(events: number, cacheRoot = '.bench-cache'): string {
  return resolve(cacheRoot, `trace-${events}-v${TRACE_FIXTURE_FORMAT}`);
}

/**
 * Opens the fixture of `events` events, building it first when it is not cached.
 * @returns the fixture with its network open; close it when done
 * @throws RangeError when `events` is below {@link MIN_TRACE_EVENTS} or not a whole number;
 *   SilkError INVALID_ARGUMENT when the cache was built with another seed; LEDGER_CORRUPT when a
 *   peer's height differs from the manifest's (remove the folder to rebuild); the capture's error
 *   when a transaction does not commit VALID while building
 * @example const f = await openTraceFixture({ events: 20_000, seed: 1 }); …; await f.close()
 */
export async function openTraceFixture(o: OpenTraceFixtureOptions): Promise<TraceFixture> {
  if (!Number.isSafeInteger(o.events) || o.events < MIN_TRACE_EVENTS) throw new RangeError(`a trace fixture has at least ${MIN_TRACE_EVENTS} events, got ${o.events}`);
  const log = o.log ?? ((): void => undefined);
  const dir = traceFixtureDir(o.events, o.cacheRoot);
  const manifestFile = join(dir, 'manifest.json');
  const ids = supplyIdentifiers(o.seed);
  const fixture = (net: EmbeddedNetwork, manifest: TraceFixtureManifest, reused: boolean): TraceFixture => ({
    dir, manifest, net, reused, itemEpc: (i) => ids.item(i), close: () => net.close(),
  });
  if (existsSync(manifestFile)) {
    const manifest = readManifest(manifestFile);
    if (manifest.seed !== o.seed) throw new SilkError('INVALID_ARGUMENT', `the cached fixture ${dir} was built with seed ${manifest.seed}, not ${o.seed}: run with --seed ${manifest.seed}, or remove the folder to rebuild it`);
    const net = await openSupplyNetwork(join(dir, 'network'));
    try {
      checkHeights(net, manifest, dir);
    } catch (e) {
      await net.close();
      throw e;
    }
    log(`trace fixture: reusing ${dir} (${manifest.events} events, height ${manifest.chainHeight} at every peer)`);
    return fixture(net, manifest, true);
  }
  if (existsSync(dir)) {
    log(`trace fixture: ${dir} has no manifest (an interrupted build): removing it`);
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  const net = await openSupplyNetwork(join(dir, 'network'));
  try {
    const manifest = await buildHistory(net, o, log);
    writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    return fixture(net, manifest, false);
  } catch (e) {
    await net.close();
    throw e;
  }
}

function readManifest(file: string): TraceFixtureManifest {
  let m: Partial<TraceFixtureManifest>;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as Partial<TraceFixtureManifest>;
  } catch (e) {
    throw new SilkError('LEDGER_CORRUPT', `${file} is not readable JSON (${(e as Error).message}): remove its folder to rebuild the fixture`);
  }
  if (m.format !== TRACE_FIXTURE_FORMAT || typeof m.chainHeight !== 'number' || typeof m.events !== 'number' || typeof m.seed !== 'number' || typeof m.items !== 'number') {
    throw new SilkError('LEDGER_CORRUPT', `${file} is not a format ${TRACE_FIXTURE_FORMAT} fixture manifest: remove its folder to rebuild the fixture`);
  }
  return m as TraceFixtureManifest;
}

function checkHeights(net: EmbeddedNetwork, manifest: TraceFixtureManifest, dir: string): void {
  const heights = [...net.peers.map((p) => `${p.name} ${p.height(SUPPLY_CHAIN)}`), `orderer ${net.orderer.height(SUPPLY_CHAIN)}`];
  const wrong = [...net.peers.map((p) => p.height(SUPPLY_CHAIN)), net.orderer.height(SUPPLY_CHAIN)].some((h) => h !== manifest.chainHeight);
  if (wrong) throw new SilkError('LEDGER_CORRUPT', `the cached fixture ${dir} should be at height ${manifest.chainHeight} everywhere but is at ${heights.join(', ')}: remove the folder to rebuild it`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function buildHistory(net: EmbeddedNetwork, o: OpenTraceFixtureOptions, log: (line: string) => void): Promise<TraceFixtureManifest> {
  const plan = planSupplyChain(o.events);
  log(`trace fixture: building ${plan.events} events (${plan.items} items, ${plan.cases} cases, ${plan.pallets} pallets, ${plan.containers} containers) through the commit path`);
  const bar = createProgressBar(`trace fixture ${plan.events} events`, o.progressBar ?? process.stderr.isTTY);
  const signers = supplySigners(net);
  const t0 = performance.now();
  const inFlight = new Set<Promise<void>>();
  const state = { done: 0, transactions: 0, failure: undefined as Error | undefined, nextLog: 0.1 };
  for (const batch of captureBatches(supplyChainEvents({ seed: o.seed, events: o.events }), FIXTURE_BATCH_SIZES, o.seed)) {
    while (inFlight.size >= BUILD_IN_FLIGHT) await Promise.race(inFlight);
    if (state.failure !== undefined) break;
    for (const capture of signCaptures(net, batch, signers)) {
    const p: Promise<void> = net.gateway(capture.org).submitSigned(capture.signed).then((r) => {
      if (r.code !== 'VALID') throw new SilkError('CONTRACT_ERROR', `fixture capture ${r.txId} committed as ${r.code}`, { txId: r.txId });
      state.done += capture.events;
      state.transactions++;
      bar.update(state.done, plan.events);
      if (state.done >= state.nextLog * plan.events) {
        log(`trace fixture: ${state.done}/${plan.events} events, ${((state.done * 1000) / (performance.now() - t0)).toFixed(0)} events/s`);
        while (state.done >= state.nextLog * plan.events) state.nextLog += 0.1;
      }
    }).catch((e: unknown) => { state.failure ??= e instanceof Error ? e : new Error('a fixture capture failed', { cause: e }); }).finally(() => { inFlight.delete(p); });
    inFlight.add(p);
    }
  }
  await Promise.all(inFlight);
  bar.finish();
  if (state.failure !== undefined) throw state.failure;
  const height = net.orderer.height(SUPPLY_CHAIN);
  while (net.peers.some((p) => p.height(SUPPLY_CHAIN) < height)) await sleep(20);
  const buildS = (performance.now() - t0) / 1000;
  return {
    format: TRACE_FIXTURE_FORMAT,
    parameters: {
      events: o.events, seed: o.seed, itemsPerCase: ITEMS_PER_CASE, casesPerPallet: CASES_PER_PALLET, palletsPerContainer: PALLETS_PER_CONTAINER,
      batchMin: FIXTURE_BATCH_SIZES.min, batchMax: FIXTURE_BATCH_SIZES.max, orgs: [...SUPPLY_ORGS], chain: SUPPLY_CHAIN,
    },
    seed: o.seed,
    events: state.done,
    items: plan.items,
    cases: plan.cases,
    pallets: plan.pallets,
    containers: plan.containers,
    transactions: state.transactions,
    chainHeight: height,
    build_s: round(buildS, 1),
    events_per_s: round(state.done / buildS, 1),
  };
}

/** What {@link verifyTraceFixture} found. */
export interface TraceFixtureVerification {
  readonly ok: boolean;
  /** Wall seconds for every ledger, one after the other. */
  readonly seconds: number;
  readonly ledgers: number;
  readonly blocks: number;
  readonly transactions: number;
  readonly stateKeys: number;
  /** The first problem of each failing ledger. */
  readonly problems: readonly string[];
}

/**
 * Re-verifies every peer's ledger of the fixture's chain as `silk verify` does
 * (`verifyLedgerFile`: hash chain, Merkle roots, every signature and policy by re-validating each
 * block, codes, commit hashes, peer signatures, and the state against a replay). Run it with the
 * fixture's network closed.
 * @param dir the fixture's cache folder
 */
export async function verifyTraceFixture(dir: string): Promise<TraceFixtureVerification> {
  const t0 = performance.now();
  const files = ledgerFiles(join(dir, 'network'), undefined, SUPPLY_CHAIN);
  const problems: string[] = [];
  let blocks = 0;
  let transactions = 0;
  let stateKeys = 0;
  for (const file of files) {
    const v = await verifyLedgerFile(file);
    blocks += v.blocks;
    transactions += v.transactions;
    stateKeys += v.stateKeys;
    const first = v.problems[0];
    if (first !== undefined) problems.push(`${file}: ${first.message}`);
  }
  return { ok: problems.length === 0, seconds: (performance.now() - t0) / 1000, ledgers: files.length, blocks, transactions, stateKeys, problems };
}

/** The `trace-fixture` workload's line: the fixture's figures and its verification. */
export function traceFixtureReport(mode: string, f: Pick<TraceFixture, 'dir' | 'manifest' | 'reused'>, v: TraceFixtureVerification): Record<string, unknown> & { readonly workload: string; readonly mode: string } {
  const m = f.manifest;
  return {
    workload: 'trace-fixture',
    mode,
    events: m.events,
    items: m.items,
    cases: m.cases,
    pallets: m.pallets,
    containers: m.containers,
    transactions: m.transactions,
    chain_height: m.chainHeight,
    build_s: m.build_s,
    events_per_s: m.events_per_s,
    reused: f.reused,
    seed: m.seed,
    cache_dir: f.dir,
    verify_ok: v.ok,
    verify_s: round(v.seconds, 1),
    verified_ledgers: v.ledgers,
    verified_blocks: v.blocks,
    verified_transactions: v.transactions,
    verified_state_keys: v.stateKeys,
    verify_problems: v.problems,
  };
}
