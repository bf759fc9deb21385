/**
 * `silk backup`: copies peers' ledgers while the network runs. Each ledger is read through its
 * own read-only connection with SQLite's online backup, so `silk start` keeps committing (a copy
 * that a commit interrupts starts over, in larger steps); each copy is then re-verified from
 * scratch, and only then described in the backup folder's manifest.
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { verifyLedgerFile } from '../../peer/ledger-verifier.js';
import { fileSha256, MANIFEST_FILE, MANIFEST_FORMAT, summarizeLedger, type BackupEntry, type BackupManifest } from '../backup-manifest.js';
import { dataDir, EXIT, UsageError } from '../cli-support.js';
import { createProgressBar, type ProgressBar } from '../progress.js';
import { ledgerFiles } from '../peer-ledgers.js';

/** Pages copied per step at first: about 50 steps per file, at least 1 MiB of 4 KiB pages. */
function firstStep(totalPages: number): number {
  return Math.max(256, Math.ceil(totalPages / 50));
}

/**
 * Copies a live ledger file with SQLite's online backup. A commit by the running peer restarts
 * the copy; the step then doubles, so the copy ends up taking one consistent snapshot.
 */
async function copyOnline(source: string, destination: string, bar: ProgressBar): Promise<void> {
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    let step = 0;
    let lastRemaining = Number.POSITIVE_INFINITY;
    await db.backup(destination, {
      progress: ({ totalPages, remainingPages }) => {
        step = step === 0 ? firstStep(totalPages) : remainingPages > lastRemaining ? step * 2 : step;
        lastRemaining = remainingPages;
        bar.update(totalPages - remainingPages, totalPages);
        return step;
      },
    });
  } finally {
    db.close();
  }
  // A single self-contained file: read-only opens of a rollback-journal database leave no -wal
  // or -shm beside it. The peer switches it back to WAL when it opens a restored copy.
  const copy = new Database(destination);
  try {
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
}

/** Backs up one ledger into `outDir/<peer>/<chain>.sqlite`; returns its manifest entry, or why the copy is unusable. */
async function backupLedger(file: string, outDir: string, progress: boolean): Promise<BackupEntry | { failure: string }> {
  const peer = basename(dirname(file));
  const chain = basename(file, '.sqlite');
  const relative = `${peer}/${chain}.sqlite`;
  const destination = join(outDir, peer, `${chain}.sqlite`);
  const partial = `${destination}.partial`;
  mkdirSync(dirname(destination), { recursive: true });
  rmSync(partial, { force: true });
  const time = new Date().toISOString();
  try {
    const copyBar = createProgressBar(`backing up ${relative}`, progress);
    await copyOnline(file, partial, copyBar);
    copyBar.finish();
    const verifyBar = createProgressBar(`verifying the copy of ${relative}`, progress);
    const v = await verifyLedgerFile(partial, { onProgress: (d, t) => { verifyBar.update(d, t); } });
    verifyBar.finish();
    if (!v.ok) return { failure: `the copy of ${relative} fails verification: ${v.problems[0]?.message ?? 'unknown problem'} (run silk verify on the peer's ledger)` };
    if (v.chain !== chain) return { failure: `${file} holds chain ${v.chain ?? 'nothing'}, not ${chain}` };
    const summary = await summarizeLedger(partial);
    renameSync(partial, destination);
    return {
      peer,
      chain,
      file: relative,
      height: summary.height,
      lastBlockHash: summary.lastBlockHash,
      genesisHash: summary.genesisHash,
      ...(summary.peerKey === undefined ? {} : { peerKey: summary.peerKey }),
      sha256: await fileSha256(destination),
      bytes: statSync(destination).size,
      time,
    };
  } finally {
    rmSync(partial, { force: true });
  }
}

function formatBytes(n: number): string {
  return n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Runs `silk backup`. */
export async function backupCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { data: { type: 'string' }, peer: { type: 'string' }, chain: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } }, strict: true });
  if (values.out === undefined) throw new UsageError('silk backup needs --out DIR, a new folder for the copies');
  const dir = dataDir(values);
  const out = resolve(values.out);
  const files = ledgerFiles(dir, values.peer, values.chain);
  if (existsSync(join(out, MANIFEST_FILE))) {
    console.error(`silk backup: ${out} already holds a backup (${MANIFEST_FILE}); choose a new folder`);
    return EXIT.usage;
  }
  const json = values.json === true;
  const progress = !json && process.stderr.isTTY;
  const ledgers: BackupEntry[] = [];
  for (const file of files) {
    const entry = await backupLedger(file, out, progress);
    if ('failure' in entry) {
      console.error(`silk backup: ${entry.failure}; no manifest was written, so ${out} is not a usable backup`);
      return EXIT.verifyFailed;
    }
    ledgers.push(entry);
    if (!json) console.log(`ok    ${entry.file}: ${entry.height} blocks up to ${entry.lastBlockHash.slice(0, 16)}…, ${formatBytes(entry.bytes)}, verified, sha256 ${entry.sha256.slice(0, 16)}…`);
  }
  const manifest: BackupManifest = { format: MANIFEST_FORMAT, source: dir, created: new Date().toISOString(), ledgers };
  const manifestPath = join(out, MANIFEST_FILE);
  writeFileSync(`${manifestPath}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${manifestPath}.tmp`, manifestPath);
  if (json) console.log(JSON.stringify(manifest));
  else console.log(`backup of ${ledgers.length} ledger${ledgers.length === 1 ? '' : 's'} written to ${out} (${MANIFEST_FILE}); restore with: silk restore --data ${dir} --from ${out}`);
  return EXIT.ok;
}
