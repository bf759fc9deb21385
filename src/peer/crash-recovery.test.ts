/**
 * Crash recovery: a peer process (the embedded network: orderer and three peers in one process,
 * `src/testing/crash-child.ts`) is killed with SIGKILL again and again — at the storage layer's
 * named kill points (around the block insert, inside the open write transaction, right after
 * COMMIT, at a WAL checkpoint) and at random moments by the parent. After every kill each peer's
 * ledger must re-verify from scratch (stored state = replay of its block store), every
 * acknowledged transaction must be on the ledger with the acknowledged code, and reopening the
 * network must bring all peers to the orderer's height with equal commit hashes.
 *
 * Set SILK_CRASH_SEED to replay a run's random choices (the seed is printed); SILK_CRASH_VERBOSE=1
 * prints one line per run.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { BasicContract } from '../contracts/basic/basic-contract.js';
import { bytesEqual } from '../crypto/hash.js';
import { VALIDATION_CODES, type ValidationCode } from '../errors.js';
import { openEmbeddedNetwork, type EmbeddedNetwork, type NetworkSpec } from '../network/embedded-network.js';
import type { KillPoint } from '../storage/kill-points.js';
import { openSqliteLedgerStore } from '../storage/sqlite-ledger-store.js';
import { tempDir, THREE_ORG_SPEC, waitUntil } from '../testing/fixtures.js';
import { verifyLedgerFile } from './ledger-verifier.js';
import { seededRandom } from '../testing/seeded-random.js';

const CHILD = fileURLToPath(new URL('../testing/crash-child.js', import.meta.url));
const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const CHAIN = 'trade';
const PEERS = ['peer0.org1', 'peer0.org2', 'peer0.org3'] as const;

/** The child's spec (it is stored in the data folder on creation, so both sides agree). */
const CRASH_SPEC: NetworkSpec = {
  ...THREE_ORG_SPEC,
  chains: THREE_ORG_SPEC.chains.map((c) => ({ ...c, batch: { maxTxs: 20, timeoutMs: 5 } })),
};

const IN_TX_POINTS: readonly KillPoint[] = ['before-block-insert', 'after-block-insert', 'after-state-writes', 'before-commit'];
type Mode = KillPoint | 'external';
/** One cycle of the rotation: 4 of 7 runs die inside the open write transaction. */
const MODES: readonly Mode[] = [...IN_TX_POINTS, 'after-commit', 'during-checkpoint', 'external'];

const RUNS = 56;
/** A fresh data folder every this many runs keeps each full re-verification short. */
const RUNS_PER_FOLDER = 8;
/** Check a full reopen (catch-up, equal commit hashes) every this many runs and at each folder's end. */
const REOPEN_EVERY = 10;
const CLIENTS = 8;
const CHECKPOINT_EVERY_MS = 20;

interface Ack {
  readonly txId: string;
  readonly block: number;
  readonly code: ValidationCode;
}

interface ChildRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when this process sent the SIGKILL (the external mode, or the safety timeout). */
  readonly killedByParent: boolean;
  readonly acks: readonly Ack[];
  readonly stdoutTail: string;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * Runs the load child once until it dies.
 * @param killPoint the kill point to arm, with `killAfter` hits; undefined for a parent kill
 * @param externalDelayMs for a parent kill: SIGKILL this long after the spawn (some land during startup and catch-up)
 */
function runChild(dir: string, killPoint: KillPoint | undefined, killAfter: number, externalDelayMs: number): Promise<ChildRun> {
  const started = Date.now();
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.SILK_KILL_POINT;
  delete env.SILK_KILL_AFTER;
  if (killPoint !== undefined) {
    env.SILK_KILL_POINT = killPoint;
    env.SILK_KILL_AFTER = String(killAfter);
  }
  const child = spawn(process.execPath, [CHILD, dir, String(CLIENTS), '20000', String(CHECKPOINT_EVERY_MS)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const acks: Ack[] = [];
  let pending = '';
  let stdoutTail = '';
  let stderr = '';
  let killedByParent = false;
  const kill = (): void => {
    killedByParent = true;
    child.kill('SIGKILL');
  };
  const safety = setTimeout(kill, 30_000);
  const externalTimer = killPoint === undefined ? setTimeout(kill, externalDelayMs) : undefined;
  const onLine = (line: string): void => {
    const parts = line.split(' ');
    if (parts[0] === 'ack' && parts.length === 4) {
      const code = parts[3] as ValidationCode;
      assert.ok(VALIDATION_CODES.includes(code), `bad ack line: ${line}`);
      acks.push({ txId: parts[1] as string, block: Number(parts[2]), code });
    }
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    pending += chunk;
    stdoutTail = (stdoutTail + chunk).slice(-400);
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      onLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(safety);
      clearTimeout(externalTimer);
      // A partial last line was cut by the kill: it was never fully printed, so it is no ack.
      resolve({ code, signal, killedByParent, acks, stdoutTail, stderr, ms: Date.now() - started });
    });
  });
}

function ledgerPath(dir: string, peer: string): string {
  return join(dir, 'peers', peer, `${CHAIN}.sqlite`);
}

/** Blocks in the orderer's log, read straight from its SQLite file. */
function ordererBlocks(dir: string): { height: number; block(n: number): Uint8Array | undefined; close(): void } {
  const db = new Database(join(dir, 'orderer', 'log.sqlite'), { readonly: true, fileMustExist: true });
  const max = db.prepare<[string], { n: number | null }>('SELECT MAX(number) AS n FROM blocks WHERE chain = ?').get(CHAIN)?.n ?? null;
  const select = db.prepare<[string, number], { bytes: Buffer }>('SELECT bytes FROM blocks WHERE chain = ? AND number = ?');
  return { height: max === null ? 0 : max + 1, block: (n) => select.get(CHAIN, n)?.bytes, close: () => db.close() };
}

/**
 * What must hold of a data folder the crash left: every peer ledger re-verifies (the stored state
 * equals the replay of its blocks), no peer is ahead of the orderer or holds a block the orderer
 * did not cut, and every acknowledged tx is on the peers that have reached its block — always on
 * the one that acknowledged it.
 * @returns how many peers lag behind the orderer (blocks the reopen must deliver)
 */
async function checkCrashedFolder(dir: string, acks: ReadonlyMap<string, Ack>, runAcks: readonly Ack[], label: string): Promise<number> {
  const orderer = ordererBlocks(dir);
  let lagging = 0;
  try {
    const heights: number[] = [];
    for (const peer of PEERS) {
      const v = await verifyLedgerFile(ledgerPath(dir, peer));
      assert.ok(v.ok, `${label}: ${peer} fails verification: ${JSON.stringify(v.problems)}`);
      const store = openSqliteLedgerStore(ledgerPath(dir, peer), { readonly: true });
      try {
        const h = store.height();
        heights.push(h);
        assert.equal(store.savepoint(), h - 1, `${label}: ${peer} savepoint`);
        assert.ok(h <= orderer.height, `${label}: ${peer} at height ${h} is ahead of the orderer (${orderer.height})`);
        const top = store.block(h - 1);
        const cut = orderer.block(h - 1);
        assert.ok(top !== undefined && cut !== undefined && bytesEqual(top.bytes, cut), `${label}: ${peer} block ${h - 1} differs from the orderer's`);
        if (h < orderer.height) lagging++;
        for (const a of acks.values()) {
          if (a.block >= h) continue;
          const t = store.tx(a.txId);
          assert.ok(t !== undefined, `${label}: acknowledged tx ${a.txId} (block ${a.block}) is missing on ${peer} at height ${h}`);
          assert.deepEqual({ block: t.block, code: VALIDATION_CODES[t.code] }, { block: a.block, code: a.code }, `${label}: tx ${a.txId} on ${peer}`);
        }
      } finally {
        store.close();
      }
    }
    // The acknowledging peer committed the block before the ack, so at least one peer holds it.
    const highest = Math.max(...heights);
    for (const a of runAcks) assert.ok(a.block < highest, `${label}: acknowledged block ${a.block} is on no peer (heights ${heights.join(',')})`);
  } finally {
    orderer.close();
  }
  return lagging;
}

/** Peers' commit hash at every height, after all reached the orderer's height. */
function commitHashes(net: EmbeddedNetwork): string[][] {
  const height = net.orderer.height(CHAIN);
  return net.peers.map((p) => Array.from({ length: height }, (_, n) => p.committedBlock(CHAIN, n)?.commitHash ?? 'missing'));
}

/**
 * Reopens the network in this process: peers must catch up to the orderer's height with equal
 * commit hashes and hold every acknowledged tx; the ledgers verify after the clean close.
 */
async function reopenAndCheck(dir: string, acks: ReadonlyMap<string, Ack>, label: string): Promise<number> {
  const net = await openEmbeddedNetwork({ dataDir: dir, spec: CRASH_SPEC, contracts: [new BasicContract()], parallelVerify: false });
  let height: number;
  try {
    height = net.orderer.height(CHAIN);
    await waitUntil(() => net.peers.every((p) => p.height(CHAIN) === height), 10_000, `${label}: peers to reach the orderer's height ${height}`);
    const hashes = commitHashes(net);
    const first = hashes[0] as string[];
    assert.ok(!first.includes('missing'), `${label}: a block summary is missing`);
    for (let i = 1; i < hashes.length; i++) assert.deepEqual(hashes[i], first, `${label}: ${net.peers[i]?.name} commit hashes differ from ${net.peers[0]?.name}`);
    for (const a of acks.values()) {
      for (const p of net.peers) {
        const s = p.transactionStatus(CHAIN, a.txId);
        assert.deepEqual({ block: s?.block, code: s?.code }, { block: a.block, code: a.code }, `${label}: acknowledged tx ${a.txId} on ${p.name} after reopen`);
      }
    }
  } finally {
    await net.close();
  }
  for (const peer of PEERS) {
    const v = await verifyLedgerFile(ledgerPath(dir, peer));
    assert.ok(v.ok, `${label}: ${peer} fails verification after reopen: ${JSON.stringify(v.problems)}`);
    assert.equal(v.blocks, height, `${label}: ${peer} height after reopen`);
  }
  return height;
}

function runCliVerify(dir: string): void {
  const r = spawnSync(process.execPath, [CLI, 'verify', '--data', dir], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `silk verify --data ${dir} exited ${r.status} (${r.signal}):\n${r.stdout}\n${r.stderr}`);
  assert.equal(r.stdout.trim().split('\n').filter((l) => l.startsWith('ok ')).length, PEERS.length, r.stdout);
}

async function createNetwork(dir: string): Promise<void> {
  const net = await openEmbeddedNetwork({ dataDir: dir, spec: CRASH_SPEC, contracts: [new BasicContract()], parallelVerify: false });
  await net.close();
}

describe('crash recovery', () => {
  it(`survives ${RUNS} SIGKILLs of the peer process at named kill points and random moments`, { timeout: 240_000 }, async () => {
    const seed = Number(process.env.SILK_CRASH_SEED ?? String(Date.now() % 2 ** 31));
    const random = seededRandom(seed);
    const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
    console.log(`crash test seed ${seed} (SILK_CRASH_SEED=${seed} replays it)`);
    const started = Date.now();
    const cpuStart = process.cpuUsage();
    let kills = 0;
    let inTxKills = 0;
    let laggingPeers = 0;
    let totalAcks = 0;
    let childMs = 0;
    const byMode = new Map<Mode, number>();
    let folder: { path: string; cleanup(): void } | undefined;
    let acks = new Map<string, Ack>();
    try {
      for (let run = 0; run < RUNS; run++) {
        if (run % RUNS_PER_FOLDER === 0) {
          folder = tempDir('silk-crash-');
          acks = new Map();
          await createNetwork(folder.path);
        }
        const dir = (folder as { path: string }).path;
        const mode = MODES[run % MODES.length] as Mode;
        // Block-commit points are hit 3 times per block (once per peer); checkpoints every 20 ms.
        const killAfter = mode === 'during-checkpoint' ? int(1, 12) : int(1, 60);
        const delay = int(50, 600);
        const label = `run ${run} (${mode}${mode === 'external' ? ` after ${delay} ms` : ` #${killAfter}`})`;
        const r = await runChild(dir, mode === 'external' ? undefined : mode, killAfter, delay);
        childMs += r.ms;
        assert.equal(r.signal, 'SIGKILL', `${label}: the child was not SIGKILLed (exit ${r.code}):\n${r.stdoutTail}\n${r.stderr}`);
        // A kill-point run must die by its own kill point: that proves the point was reached.
        assert.equal(r.killedByParent, mode === 'external', `${label}: killed by the ${r.killedByParent ? 'parent' : 'child'}`);
        kills++;
        if (IN_TX_POINTS.includes(mode as KillPoint)) inTxKills++;
        byMode.set(mode, (byMode.get(mode) ?? 0) + 1);
        for (const a of r.acks) acks.set(a.txId, a);
        totalAcks += r.acks.length;
        const t0 = Date.now();
        const lagging = await checkCrashedFolder(dir, acks, r.acks, label);
        laggingPeers += lagging;
        // Killed inside the write transaction of a block the orderer had stored: that block was rolled back.
        if (IN_TX_POINTS.includes(mode as KillPoint)) assert.ok(lagging >= 1, `${label}: no peer is behind the orderer after a kill inside a commit`);
        if (process.env.SILK_CRASH_VERBOSE !== undefined) console.log(`${label}: child ${r.ms} ms, ${r.acks.length} acks, checks ${Date.now() - t0} ms`);
        const lastOfFolder = run % RUNS_PER_FOLDER === RUNS_PER_FOLDER - 1 || run === RUNS - 1;
        if ((run + 1) % REOPEN_EVERY === 0 || lastOfFolder) await reopenAndCheck(dir, acks, `${label} reopen`);
        if (lastOfFolder) {
          runCliVerify(dir);
          (folder as { cleanup(): void }).cleanup();
          folder = undefined;
        }
      }
    } finally {
      folder?.cleanup();
    }
    const elapsed = Date.now() - started;
    const cpu = process.cpuUsage(cpuStart);
    console.log(`crash test: ${kills} SIGKILLs (${inTxKills} inside the write transaction; ${[...byMode].map(([m, n]) => `${m} ${n}`).join(', ')}), ${totalAcks} acks, ${laggingPeers} peer(s) left behind the orderer, ${elapsed} ms (waiting for children ${childMs} ms, checks ${Math.round((cpu.user + cpu.system) / 1000)} ms CPU)`);
    assert.ok(kills >= 50, `only ${kills} kills`);
    assert.ok(inTxKills >= 25, `only ${inTxKills} kills inside the write transaction`);
  });

  it('replays a block store whose savepoint is behind its blocks and ends with the same commit hashes', { timeout: 60_000 }, async () => {
    const dir = tempDir('silk-replay-');
    try {
      let net = await openEmbeddedNetwork({ dataDir: dir.path, spec: CRASH_SPEC, contracts: [new BasicContract()], parallelVerify: false });
      const txCodes = new Map<string, ValidationCode>();
      try {
        const alice = net.identity('Org1', 'alice');
        const results = await Promise.all(Array.from({ length: 40 }, (_, i) => net.gateway('Org1').submit({ chain: CHAIN, contract: 'basic', fn: i % 2 === 0 ? 'put' : 'rmw', args: { key: `k${i % 7}`, value: `v${i}` } }, alice)));
        for (const r of results) txCodes.set(r.txId, r.code);
        assert.ok(results.some((r) => r.code === 'VALID'));
        const height = net.orderer.height(CHAIN);
        await waitUntil(() => net.peers.every((p) => p.height(CHAIN) === height), 10_000, 'peers to catch up');
      } finally {
        await net.close();
      }
      // Before: hashes and statuses as committed live.
      const before = PEERS.map((peer) => {
        const s = openSqliteLedgerStore(ledgerPath(dir.path, peer), { readonly: true });
        try {
          return { height: s.height(), hashes: Array.from({ length: s.height() }, (_, n) => Buffer.from(s.block(n)?.commitHash ?? []).toString('hex')), state: [...s.iterateState()] };
        } finally {
          s.close();
        }
      });
      assert.ok((before[0]?.height ?? 0) > 2);
      // Drop the derived data of two peers: their savepoint falls behind all their blocks.
      for (const peer of [PEERS[0], PEERS[2]]) {
        const s = openSqliteLedgerStore(ledgerPath(dir.path, peer));
        s.resetDerivedData();
        assert.equal(s.savepoint(), -1);
        assert.equal(s.height(), before[0]?.height);
        s.close();
        const v = await verifyLedgerFile(ledgerPath(dir.path, peer));
        assert.equal(v.ok, false, `${peer}: a ledger with a savepoint behind its blocks must not verify`);
      }
      net = await openEmbeddedNetwork({ dataDir: dir.path, spec: CRASH_SPEC, contracts: [new BasicContract()], parallelVerify: false });
      try {
        const height = net.orderer.height(CHAIN);
        assert.deepEqual(net.peers.map((p) => p.height(CHAIN)), PEERS.map(() => height));
        const hashes = commitHashes(net);
        for (const [i, h] of hashes.entries()) assert.deepEqual(h, before[i]?.hashes, `${PEERS[i]} commit hashes after replay`);
        for (const [i, p] of net.peers.entries()) {
          assert.deepEqual([...p.store(CHAIN).iterateState()], before[i]?.state, `${p.name}: replayed state`);
          for (const [txId, code] of txCodes) assert.equal(p.transactionStatus(CHAIN, txId)?.code, code, `${p.name} ${txId}`);
        }
        // The replayed peers endorse and commit new work like the others.
        const r = await net.gateway('Org3').submit({ chain: CHAIN, contract: 'basic', fn: 'rmw', args: { key: 'k1', value: 'after-replay' } }, net.identity('Org3'));
        assert.equal(r.code, 'VALID');
        const h2 = net.orderer.height(CHAIN);
        await waitUntil(() => net.peers.every((p) => p.height(CHAIN) === h2), 10_000, 'peers to commit the new block');
        const tops = net.peers.map((p) => p.committedBlock(CHAIN, h2 - 1)?.commitHash);
        assert.equal(new Set(tops).size, 1, `commit hashes after the new block: ${tops.join(' ')}`);
      } finally {
        await net.close();
      }
      for (const peer of PEERS) {
        const v = await verifyLedgerFile(ledgerPath(dir.path, peer));
        assert.ok(v.ok, `${peer}: ${JSON.stringify(v.problems)}`);
      }
      runCliVerify(dir.path);
    } finally {
      dir.cleanup();
    }
  });
});
