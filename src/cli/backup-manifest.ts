/**
 * The manifest of a `silk backup` folder (`manifest.json`) and what `silk backup` and
 * `silk restore` both read from a ledger file: its chain, height, first and last block hashes
 * and the key of the peer that signed its commits. A backup folder holds
 * `<peer>/<chain>.sqlite` for each ledger and the manifest describing them.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { toHex } from '../crypto/hash.js';
import { SilkError } from '../errors.js';
import { openSqliteLedgerStore } from '../storage/sqlite-ledger-store.js';

/** File name of the manifest inside a backup folder. */
export const MANIFEST_FILE = 'manifest.json';
/** Format tag of the manifest. */
export const MANIFEST_FORMAT = 'silkledger-backup/1';

const Hex32 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Name = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.-]+$' });

/** One backed-up ledger. */
export const BackupEntry = Type.Object({
  peer: Name,
  chain: Name,
  /** Path of the copy, relative to the backup folder. */
  file: Type.String({ pattern: '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+\\.sqlite$' }),
  /** Blocks in the copy (the next block number). */
  height: Type.Integer({ minimum: 1 }),
  lastBlockHash: Hex32,
  genesisHash: Hex32,
  /** Public key (hex) of the peer that signed the copy's commit statements, when recorded. */
  peerKey: Type.Optional(Type.String({ pattern: '^[0-9a-f]+$' })),
  sha256: Hex32,
  bytes: Type.Integer({ minimum: 0 }),
  /** When the copy was taken (ISO 8601). */
  time: Type.String(),
}, { additionalProperties: false });
export type BackupEntry = Static<typeof BackupEntry>;

/** The manifest of a backup folder. */
export const BackupManifest = Type.Object({
  format: Type.Literal(MANIFEST_FORMAT),
  /** The data folder the ledgers were copied from. */
  source: Type.String(),
  created: Type.String(),
  ledgers: Type.Array(BackupEntry, { minItems: 1 }),
}, { additionalProperties: false });
export type BackupManifest = Static<typeof BackupManifest>;
const manifestCheck = TypeCompiler.Compile(BackupManifest);

/**
 * Reads and checks a backup folder's manifest.
 * @throws SilkError NOT_FOUND without a manifest, MALFORMED when it is not a valid one
 */
export function readBackupManifest(dir: string): BackupManifest {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) throw new SilkError('NOT_FOUND', `${dir} holds no ${MANIFEST_FILE}: is it a folder written by silk backup?`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SilkError('MALFORMED', `${path} is not JSON: ${(e as Error).message}`);
  }
  if (!manifestCheck.Check(parsed)) {
    const first = manifestCheck.Errors(parsed).First();
    throw new SilkError('MALFORMED', `${path} is not a ${MANIFEST_FORMAT} manifest: ${first?.path ?? ''} ${first?.message ?? ''}`.trim());
  }
  return parsed;
}

/**
 * SHA-256 of a file, streamed.
 * @returns lower-case hex
 */
export async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** What identifies a ledger file's chain and position. */
export interface LedgerSummary {
  readonly height: number;
  readonly genesisHash: string;
  readonly lastBlockHash: string;
  readonly peerKey: string | undefined;
}

/**
 * Reads a ledger file's height, genesis and last block hashes and peer key, read-only.
 * @throws SilkError LEDGER_CORRUPT when the file holds no blocks
 */
export async function summarizeLedger(path: string): Promise<LedgerSummary> {
  const store = openSqliteLedgerStore(path, { readonly: true });
  try {
    const height = store.height();
    const genesis = store.block(0);
    const last = store.block(height - 1);
    if (genesis === undefined || last === undefined) throw new SilkError('LEDGER_CORRUPT', `${path} holds no blocks`);
    return { height, genesisHash: toHex(genesis.hash), lastBlockHash: toHex(last.hash), peerKey: store.meta('peer_key') };
  } finally {
    await store.close();
  }
}
