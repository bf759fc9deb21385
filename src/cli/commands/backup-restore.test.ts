/**
 * `silk backup` and `silk restore` end to end, through the real command line: an online backup
 * of a network that keeps committing, refusals that leave the data folder untouched, and a
 * restore of a deleted and a corrupted ledger after which the peers catch up and verify.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { sha256, toHex } from '../../crypto/hash.js';
import type { EmbeddedNetwork } from '../../network/embedded-network.js';
import { verifyLedgerFile } from '../../peer/ledger-verifier.js';
import { lockDataFolder } from '../../storage/data-lock.js';
import { openSqliteLedgerStore } from '../../storage/sqlite-ledger-store.js';
import { runCli } from '../../testing/cli-run.js';
import { openTestNetwork, tempDir } from '../../testing/fixtures.js';
import { fileSha256, readBackupManifest, type BackupManifest } from '../backup-manifest.js';

const PEERS = ['peer0.org1', 'peer0.org2', 'peer0.org3'] as const;
const ledger = (dir: string, peer: string): string => join(dir, 'peers', peer, 'trade.sqlite');

/** Submits `put`s as bob until `stop()`; returns the tx ids acknowledged VALID. */
function writeContinuously(net: EmbeddedNetwork): { stop(): Promise<string[]> } {
  const acked: string[] = [];
  let stopping = false;
  let n = 0;
  const loops = [0, 1].map(async (id) => {
    while (!stopping) {
      const r = await net.gateway('Org2').submit({ chain: 'trade', contract: 'basic', fn: 'put', args: { key: `live-${id}-${n++}`, value: 'x'.repeat(2000) } }, net.identity('Org2', 'bob'));
      if (r.code === 'VALID') acked.push(r.txId);
    }
  });
  return {
    async stop() {
      stopping = true;
      await Promise.all(loops);
      return acked;
    },
  };
}

/** Content hashes of the ledgers and ordering log in a data folder (SQLite's -wal/-shm scratch files aside). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (!name.endsWith('-shm') && !(name.endsWith('-wal') && statSync(p).size === 0) && name !== 'LOCK') out[relative(dir, p)] = toHex(sha256(readFileSync(p)));
    }
  };
  walk(join(dir, 'peers'));
  walk(join(dir, 'orderer'));
  return out;
}

/** Polls until every peer holds the orderer's height on trade. */
async function caughtUp(net: EmbeddedNetwork, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (net.peers.some((p) => p.height('trade') < net.orderer.height('trade'))) {
    if (Date.now() > deadline) assert.fail(`peers did not catch up: ${net.peers.map((p) => `${p.name}@${p.height('trade')}`).join(' ')}, orderer ${net.orderer.height('trade')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('silk backup and silk restore', () => {
  const work = tempDir('silk-backup-');
  const dir = join(work.path, 'data');
  const backupDir = join(work.path, 'backup');
  let manifest: BackupManifest;
  let backupRun: Awaited<ReturnType<typeof runCli>>;
  let heightBefore = 0;
  let writtenDuringBackup = 0;
  let acked: string[] = [];

  before(async () => {
    const net = await openTestNetwork({ dataDir: dir });
    try {
      for (let i = 0; i < 20; i++) await net.gateway('Org1').submit({ chain: 'trade', contract: 'basic', fn: 'put', args: { key: `seed-${i}`, value: 'x'.repeat(2000) } }, net.identity('Org1', 'alice'));
      const writer = writeContinuously(net);
      heightBefore = Math.min(...net.peers.map((p) => p.height('trade')));
      backupRun = await runCli(['backup', '--data', dir, '--out', backupDir]);
      const ordered = net.orderer.height('trade');
      acked = await writer.stop();
      writtenDuringBackup = ordered - heightBefore;
      // More blocks after the backup, so a restored peer has something to catch up on.
      for (let i = 0; i < 10; i++) {
        const r = await net.gateway('Org1').submit({ chain: 'trade', contract: 'basic', fn: 'put', args: { key: `after-${i}`, value: 'y' } }, net.identity('Org1', 'alice'));
        acked.push(r.txId);
      }
    } finally {
      await net.close();
    }
    assert.equal(backupRun.code, 0, backupRun.stderr);
    manifest = readBackupManifest(backupDir);
  });
  after(() => {
    work.cleanup();
  });

  it('backs up every peer online while blocks commit, verifies each copy and describes it in the manifest', async () => {
    assert.ok(writtenDuringBackup > 0, 'the network committed blocks while the backup ran');
    assert.match(backupRun.stdout, /backup of 3 ledgers written to/);
    assert.deepEqual(manifest.ledgers.map((e) => [e.peer, e.chain]), PEERS.map((p) => [p, 'trade']));
    for (const e of manifest.ledgers) {
      const copy = join(backupDir, e.file);
      assert.equal(await fileSha256(copy), e.sha256, `${e.file} matches its manifest hash`);
      assert.equal(statSync(copy).size, e.bytes);
      assert.ok(e.height >= heightBefore, `${e.file} holds at least the blocks committed before the backup began`);
      const v = await verifyLedgerFile(copy);
      assert.ok(v.ok, JSON.stringify(v.problems));
      assert.equal(v.blocks, e.height);
      // The copy is a prefix of the live peer's chain: its last block is the peer's block at that height.
      const live = openSqliteLedgerStore(ledger(dir, e.peer), { readonly: true });
      try {
        assert.equal(toHex(live.block(e.height - 1)?.hash ?? new Uint8Array()), e.lastBlockHash);
      } finally {
        await live.close();
      }
      assert.ok(!Number.isNaN(Date.parse(e.time)));
    }
    assert.deepEqual(readdirSync(join(backupDir, 'peer0.org1')), ['trade.sqlite'], 'each copy is one self-contained file');
  });

  it('refuses to write into a folder that already holds a backup', async () => {
    const before = readFileSync(join(backupDir, 'manifest.json'), 'utf8');
    const r = await runCli(['backup', '--data', dir, '--out', backupDir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /already holds a backup/);
    assert.equal(readFileSync(join(backupDir, 'manifest.json'), 'utf8'), before);
  });

  it('refuses to restore while the network runs, and changes nothing', async () => {
    const lock = lockDataFolder(dir);
    try {
      const unchanged = snapshot(dir);
      const r = await runCli(['restore', '--data', dir, '--from', backupDir]);
      assert.equal(r.code, 3);
      assert.match(r.stderr, new RegExp(`refused: the network in .* is running \\(process ${process.pid}\\): stop silk start first`));
      assert.match(r.stderr, /Nothing was changed/);
      assert.deepEqual(snapshot(dir), unchanged);
    } finally {
      lock.release();
    }
  });

  it('refuses a backup of another network (a different genesis block), and changes nothing', async () => {
    const otherData = join(work.path, 'other-data');
    const otherBackup = join(work.path, 'other-backup');
    const other = await openTestNetwork({ dataDir: otherData });
    await other.close();
    const b = await runCli(['backup', '--data', otherData, '--out', otherBackup, '--peer', 'peer0.org2']);
    assert.equal(b.code, 0, b.stderr);
    const unchanged = snapshot(dir);
    const r = await runCli(['restore', '--data', dir, '--from', otherBackup]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /refused: the backup of peer0\.org2\/trade is of a different chain: its genesis block [0-9a-f]{16}… is not this data folder's [0-9a-f]{16}…/);
    assert.deepEqual(snapshot(dir), unchanged);
  });

  it('refuses a corrupt backup, whether the bytes or the ledger inside were altered, and changes nothing', async () => {
    const flipped = join(work.path, 'backup-flipped');
    cpSync(backupDir, flipped, { recursive: true });
    const copy = join(flipped, 'peer0.org2', 'trade.sqlite');
    const bytes = readFileSync(copy);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
    writeFileSync(copy, bytes);
    const unchanged = snapshot(dir);
    const r1 = await runCli(['restore', '--data', dir, '--from', flipped]);
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, /refused: the backup of peer0\.org2\/trade is corrupt: its sha256 [0-9a-f]{64} differs from the manifest's/);
    assert.deepEqual(snapshot(dir), unchanged);

    // A forged state value with a matching manifest hash: only re-verification catches it.
    const forged = join(work.path, 'backup-forged');
    cpSync(backupDir, forged, { recursive: true });
    const forgedCopy = join(forged, 'peer0.org3', 'trade.sqlite');
    const db = new Database(forgedCopy);
    db.prepare("UPDATE state SET value = '\"forged\"' WHERE key = 'kv:seed-3'").run();
    db.close();
    const m = readBackupManifest(forged);
    const sha = await fileSha256(forgedCopy);
    writeFileSync(join(forged, 'manifest.json'), JSON.stringify({ ...m, ledgers: m.ledgers.map((e) => (e.peer === 'peer0.org3' ? { ...e, sha256: sha, bytes: statSync(forgedCopy).size } : e)) }));
    const r2 = await runCli(['restore', '--data', dir, '--from', forged, '--peer', 'peer0.org3']);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /refused: the backup of peer0\.org3\/trade fails verification: state key basic\/kv:seed-3 differs from the replay/);
    assert.deepEqual(snapshot(dir), unchanged);
  });

  it('restores a deleted and a corrupted ledger; on reopening both peers catch up, agree and verify', async () => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${ledger(dir, 'peer0.org2')}${suffix}`, { force: true });
    writeFileSync(ledger(dir, 'peer0.org3'), 'this is not a ledger any more');
    for (const peer of ['peer0.org2', 'peer0.org3']) {
      const r = await runCli(['restore', '--data', dir, '--from', backupDir, '--peer', peer]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`restored ${peer.replace('.', '\\.')}/trade: \\d+ blocks from the backup of .*the peer fetches the \\d+ after its height on the next silk start`));
    }
    assert.ok(!existsSync(`${ledger(dir, 'peer0.org2')}.before-restore`), 'nothing to keep where the ledger was deleted');
    assert.equal(readFileSync(`${ledger(dir, 'peer0.org3')}.before-restore`, 'utf8'), 'this is not a ledger any more', 'the replaced file is kept');
    for (const peer of ['peer0.org2', 'peer0.org3']) assert.equal(await fileSha256(ledger(dir, peer)), manifest.ledgers.find((e) => e.peer === peer)?.sha256, `${peer} now holds its backup`);

    const net = await openTestNetwork({ dataDir: dir });
    try {
      await caughtUp(net);
      const height = net.orderer.height('trade');
      const tips = net.peers.map((p) => p.committedBlock('trade', height - 1)?.commitHash);
      assert.equal(new Set(tips).size, 1, `peers agree on the commit hash of block ${height - 1}`);
      for (const txId of acked) for (const p of net.peers) assert.equal(p.transactionStatus('trade', txId)?.code, 'VALID', `${txId} on ${p.name}`);
    } finally {
      await net.close();
    }
    for (const peer of PEERS) {
      const v = await verifyLedgerFile(ledger(dir, peer));
      assert.ok(v.ok, `${peer}: ${JSON.stringify(v.problems)}`);
    }
  });
});
