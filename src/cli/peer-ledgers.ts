/**
 * Where a data folder keeps its peers' ledgers: an embedded node's (`silk start`) at
 * `peers/<peer>/<chain>.sqlite`, and a distributed network's (`silk network up`), whose peer
 * processes keep theirs at `peers/<peer>/ledger/<chain>.sqlite`. Either way the peer's folder,
 * `peers/<peer>`, is the one a running peer process locks.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from './cli-support.js';

/** One ledger file of a data folder. */
export interface PeerLedger {
  readonly peer: string;
  /** The peer's folder (`peers/<peer>`), which a running peer process locks. */
  readonly peerDir: string;
  readonly chain: string;
  readonly file: string;
}

/**
 * The ledgers under a data folder, optionally one peer's or one chain's, in peer and chain order.
 * @throws UsageError when the folder has no peers, or nothing matches
 * @example peerLedgers('./data', 'peer0.org1') // [{ peer: 'peer0.org1', chain: 'trade', file: './data/peers/peer0.org1/trade.sqlite', … }]
 */
export function peerLedgers(dir: string, peer?: string, chain?: string): PeerLedger[] {
  const peersDir = join(dir, 'peers');
  if (!existsSync(peersDir)) throw new UsageError(`no peers under ${dir}: is it a Silkledger data folder or network folder?`);
  const found: PeerLedger[] = [];
  for (const p of readdirSync(peersDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
    if (peer !== undefined && p !== peer) continue;
    const peerDir = join(peersDir, p);
    for (const folder of [peerDir, join(peerDir, 'ledger')]) {
      if (!existsSync(folder)) continue;
      for (const f of readdirSync(folder).sort()) {
        if (!f.endsWith('.sqlite')) continue;
        const c = f.slice(0, -'.sqlite'.length);
        if (chain !== undefined && c !== chain) continue;
        found.push({ peer: p, peerDir, chain: c, file: join(folder, f) });
      }
    }
  }
  if (found.length === 0) throw new UsageError('no ledger matches the given --peer/--chain');
  return found;
}

/**
 * The ledger files of an embedded node's data folder (`peers/<peer>/<chain>.sqlite`): what
 * `silk backup` copies and `silk restore` puts back.
 * @throws UsageError when the folder has no peers, or no such ledger matches
 */
export function ledgerFiles(dir: string, peer?: string, chain?: string): string[] {
  const files = peerLedgers(dir, peer, chain).filter((l) => dirname(l.file) === l.peerDir).map((l) => l.file);
  if (files.length === 0) throw new UsageError(`no ledger of a silk start data folder matches the given --peer/--chain under ${dir} (silk backup and silk restore work on a silk start data folder)`);
  return files;
}
