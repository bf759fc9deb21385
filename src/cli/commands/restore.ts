/**
 * `silk restore`: puts backed-up ledgers back into a stopped data folder. It holds the data
 * folder's lock throughout (so `silk start` cannot run meanwhile), checks every copy before
 * touching anything — its sha256 against the manifest, a full re-verification, and that it is
 * a prefix of this data folder's chain as the ordering log holds it — then swaps each ledger
 * in, keeping the replaced one as `<file>.before-restore`. On the next start the peer asks the
 * ordering service for the blocks after its height and catches up.
 */
import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { toHex } from '../../crypto/hash.js';
import { generateSigner } from '../../crypto/p256.js';
import { isSilkError, SilkError } from '../../errors.js';
import { blockHash, decodeBlock } from '../../ledger/block.js';
import type { Orderer } from '../../ordering/orderer.js';
import { createSoloOrderer } from '../../ordering/solo-orderer.js';
import { verifyLedgerFile } from '../../peer/ledger-verifier.js';
import { lockDataFolder, type DataLock } from '../../storage/data-lock.js';
import { fileSha256, readBackupManifest, summarizeLedger, type BackupEntry } from '../backup-manifest.js';
import { dataDir, EXIT, UsageError } from '../cli-support.js';
import { createProgressBar } from '../progress.js';

/** Why a restore was refused, with the exit code to end with. */
class RestoreRefused extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.failure) {
    super(message);
  }
}

/** A ledger checked and ready to swap in. */
interface CheckedLedger {
  readonly entry: BackupEntry;
  readonly copy: string;
  readonly target: string;
  readonly orderedHeight: number;
}

function orderedBlockHash(orderer: Orderer, chain: string, n: number): string | undefined {
  const bytes = orderer.block(chain, n);
  return bytes === undefined ? undefined : toHex(blockHash(decodeBlock(bytes).header));
}

/** The key of the peer owning `peerDir`, from any of its ledgers that opens. */
async function peerKeyOf(peerDir: string): Promise<string | undefined> {
  for (const f of readdirSync(peerDir).filter((n) => n.endsWith('.sqlite')).sort()) {
    try {
      const key = (await summarizeLedger(join(peerDir, f))).peerKey;
      if (key !== undefined) return key;
    } catch {
      /* a damaged or empty ledger says nothing about its peer */
    }
  }
  return undefined;
}

/** Checks one backed-up ledger against the manifest, itself and this data folder's chain. */
async function checkLedger(entry: BackupEntry, from: string, dir: string, orderer: Orderer, progress: boolean): Promise<CheckedLedger> {
  const copy = join(from, entry.file);
  const name = `${entry.peer}/${entry.chain}`;
  if (!existsSync(copy)) throw new RestoreRefused(`the backup of ${name} is missing: ${copy}`);
  const sha = await fileSha256(copy);
  if (sha !== entry.sha256) throw new RestoreRefused(`the backup of ${name} is corrupt: its sha256 ${sha} differs from the manifest's ${entry.sha256}`, EXIT.verifyFailed);
  const bar = createProgressBar(`verifying the backup of ${name}`, progress);
  const v = await verifyLedgerFile(copy, { onProgress: (d, t) => { bar.update(d, t); } });
  bar.finish();
  if (!v.ok) throw new RestoreRefused(`the backup of ${name} fails verification: ${v.problems[0]?.message ?? 'unknown problem'}`, EXIT.verifyFailed);
  if (v.chain !== entry.chain) throw new RestoreRefused(`the backup file ${copy} holds chain ${v.chain ?? 'nothing'}, but the manifest says ${entry.chain}`, EXIT.verifyFailed);
  const summary = await summarizeLedger(copy);

  const peerDir = join(dir, 'peers', entry.peer);
  if (!existsSync(peerDir)) throw new RestoreRefused(`this data folder has no peer ${entry.peer}`);
  if (!orderer.chains().includes(entry.chain)) throw new RestoreRefused(`this data folder has no chain ${entry.chain}: the backup is of another network`);
  const genesis = orderedBlockHash(orderer, entry.chain, 0);
  if (genesis !== summary.genesisHash) {
    throw new RestoreRefused(`the backup of ${name} is of a different chain: its genesis block ${summary.genesisHash.slice(0, 16)}… is not this data folder's ${(genesis ?? 'none').slice(0, 16)}… (another network, or the chain was created again)`);
  }
  const orderedHeight = orderer.height(entry.chain);
  if (summary.height > orderedHeight) throw new RestoreRefused(`the backup of ${name} holds ${summary.height} blocks but this data folder's ordering log only ${orderedHeight}: it is not a copy of this network`);
  if (orderedBlockHash(orderer, entry.chain, summary.height - 1) !== summary.lastBlockHash) {
    throw new RestoreRefused(`block ${summary.height - 1} of the backup of ${name} differs from the ordering log's: it is not a copy of this chain`);
  }
  const key = await peerKeyOf(peerDir);
  if (key !== undefined && summary.peerKey !== undefined && key !== summary.peerKey) {
    throw new RestoreRefused(`the backup of ${name} was signed by another peer's key than ${entry.peer}'s ledgers here`);
  }
  return { entry, copy, target: join(peerDir, `${entry.chain}.sqlite`), orderedHeight };
}

/**
 * Swaps a checked copy in. The replaced ledger and its write-ahead log are kept beside it; a
 * stale `-wal` must never meet the restored file, or SQLite would replay it into the copy.
 * @returns the path the replaced ledger was kept at, if there was one
 */
async function swapIn(c: CheckedLedger): Promise<string | undefined> {
  const kept = `${c.target}.before-restore`;
  const incoming = `${c.target}.restoring`;
  copyFileSync(c.copy, incoming);
  const fd = openSync(incoming, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (await fileSha256(incoming) !== c.entry.sha256) {
    rmSync(incoming, { force: true });
    throw new SilkError('INTERNAL', `copying ${c.copy} to ${incoming} changed its bytes; nothing was replaced`);
  }
  const hadLedger = existsSync(c.target);
  if (hadLedger) {
    rmSync(`${kept}-wal`, { force: true });
    renameSync(c.target, kept);
  }
  const wal = `${c.target}-wal`;
  if (existsSync(wal)) {
    if (statSync(wal).size === 0) rmSync(wal);
    else renameSync(wal, `${kept}-wal`);
  }
  rmSync(`${c.target}-shm`, { force: true });
  renameSync(incoming, c.target);
  return hadLedger ? kept : undefined;
}

function takeLock(dir: string): DataLock {
  try {
    return lockDataFolder(dir);
  } catch (e) {
    if (isSilkError(e, 'DATA_FOLDER_LOCKED')) {
      const pid = typeof e.details.pid === 'number' ? ` (process ${e.details.pid})` : '';
      throw new RestoreRefused(`the network in ${dir} is running${pid}: stop silk start first; a running peer's ledger cannot be replaced`);
    }
    throw e;
  }
}

/** Runs `silk restore`. */
export async function restoreCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { data: { type: 'string' }, from: { type: 'string' }, peer: { type: 'string' }, chain: { type: 'string' }, json: { type: 'boolean' } }, strict: true });
  if (values.from === undefined) throw new UsageError('silk restore needs --from DIR, a folder written by silk backup');
  const dir = dataDir(values);
  const from = resolve(values.from);
  const json = values.json === true;
  const entries = readBackupManifest(from).ledgers.filter((e) => (values.peer === undefined || e.peer === values.peer) && (values.chain === undefined || e.chain === values.chain));
  if (entries.length === 0) throw new UsageError(`the backup in ${from} holds no ledger matching the given --peer/--chain`);
  const orderingLog = join(dir, 'orderer', 'log.sqlite');
  if (!existsSync(join(dir, 'peers')) || !existsSync(orderingLog)) throw new UsageError(`${dir} is not a Silkledger data folder (no peers/ or orderer/log.sqlite)`);

  try {
    const lock = takeLock(dir);
    try {
      // Read only: this signer would sign blocks this process cuts, and a restore cuts none.
      const orderer = createSoloOrderer({ signer: generateSigner(), path: orderingLog });
      const checked: CheckedLedger[] = [];
      try {
        for (const entry of entries) checked.push(await checkLedger(entry, from, dir, orderer, !json && process.stderr.isTTY));
      } finally {
        await orderer.close();
      }
      const restored = [];
      for (const c of checked) {
        const kept = await swapIn(c);
        const { peer, chain, height, time } = c.entry;
        restored.push({ peer, chain, height, orderedHeight: c.orderedHeight, backupTime: time, keptAs: kept ?? null });
        if (!json) {
          console.log(`restored ${peer}/${chain}: ${height} blocks from the backup of ${time}; the ordering service holds ${c.orderedHeight}, and the peer fetches the ${c.orderedHeight - height} after its height on the next silk start`);
          console.log(kept === undefined ? '         (there was no ledger to replace)' : `         the replaced ledger is kept as ${kept}`);
        }
      }
      if (json) console.log(JSON.stringify({ ok: true, restored }));
    } finally {
      lock.release();
    }
  } catch (e) {
    if (!(e instanceof RestoreRefused)) throw e;
    if (json) console.log(JSON.stringify({ ok: false, refused: e.message }));
    console.error(`silk restore: refused: ${e.message}. Nothing was changed.`);
    return e.exitCode;
  }
  return EXIT.ok;
}
