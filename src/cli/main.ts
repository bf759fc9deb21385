#!/usr/bin/env node
/**
 * `silk`: the Silkledger command line.
 * Exit codes: 0 success, 1 the ledger failed verification, 2 bad usage, 3 any other failure.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { BasicContract } from '../contracts/basic/basic-contract.js';
import { isSilkError } from '../errors.js';
import { DEMO_SPEC } from '../network/demo-spec.js';
import { openEmbeddedNetwork } from '../network/embedded-network.js';
import { verifyLedgerFile } from '../peer/ledger-verifier.js';
import { createProgressBar } from './progress.js';

const HELP = `silk — Silkledger command line

Usage:
  silk start [--data DIR]                 run the embedded network (solo orderer, one peer per org)
  silk verify [--data DIR] [--peer NAME] [--chain NAME] [--json]
                                          re-verify every block, signature, policy, commit hash and
                                          the world state of the peers' ledgers
  silk --help

Options:
  --data DIR   data folder (default ./data, or $SILK_DATA)
  --json       machine-readable output

Exit codes: 0 ok, 1 ledger failed verification, 2 bad usage, 3 other failure.`;

class UsageError extends Error {}

function dataDir(values: { data?: string | undefined }): string {
  return resolve(values.data ?? process.env.SILK_DATA ?? './data');
}

async function start(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { data: { type: 'string' } }, strict: true });
  const dir = dataDir(values);
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));
  const net = await openEmbeddedNetwork({ dataDir: dir, spec: DEMO_SPEC, contracts: [new BasicContract()], logger });
  if (net.created) {
    const gw = net.gateway('SellerCN');
    const seller = net.identity('SellerCN', 'yiwu-seller');
    const seeds = [
      { id: 'silk-scarf-001', owner: 'yiwu-seller', colour: 'red', size: 1, appraisedValue: 2500 },
      { id: 'tea-set-002', owner: 'yiwu-seller', colour: 'white', size: 6, appraisedValue: 8900 },
      { id: 'lantern-003', owner: 'yiwu-seller', colour: 'gold', size: 2, appraisedValue: 1200 },
    ];
    for (const asset of seeds) await gw.submit({ chain: 'trade', contract: 'basic', fn: 'createAsset', args: asset }, seller);
    await net.gateway('SellerEU').submit({ chain: 'trade', contract: 'basic', fn: 'transferAsset', args: { id: 'tea-set-002', newOwner: 'madrid-seller' } }, net.identity('SellerEU', 'madrid-seller'));
  }
  const heights = net.peers.map((p) => `${p.name}@${p.chains().map((c) => `${c}:${p.height(c)}`).join(',')}`);
  console.log(`Silkledger embedded network ${net.created ? 'created and seeded' : 'reopened'} in ${dir}`);
  console.log(`  peers: ${heights.join('  ')}`);
  console.log(`  keys:  ${net.keysDir} (PKCS#8 PEM per org and identity)`);
  console.log(`  check: npx silk verify --data ${dir}`);
  console.log(`  reset: stop this process and delete ${dir}`);
  console.log('Press Ctrl+C to stop.');
  await new Promise<void>((done) => {
    const stop = (): void => {
      done();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await net.close();
  console.log('stopped cleanly');
  return 0;
}

function ledgerFiles(dir: string, peer?: string, chain?: string): string[] {
  const peersDir = join(dir, 'peers');
  if (!existsSync(peersDir)) throw new UsageError(`no peers under ${dir}: is it a Silkledger data folder?`);
  const files: string[] = [];
  for (const p of readdirSync(peersDir).sort()) {
    if (peer !== undefined && p !== peer) continue;
    for (const f of readdirSync(join(peersDir, p)).sort()) {
      if (!f.endsWith('.sqlite')) continue;
      if (chain !== undefined && f !== `${chain}.sqlite`) continue;
      files.push(join(peersDir, p, f));
    }
  }
  if (files.length === 0) throw new UsageError('no ledger matches the given --peer/--chain');
  return files;
}

async function verify(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { data: { type: 'string' }, peer: { type: 'string' }, chain: { type: 'string' }, json: { type: 'boolean' } }, strict: true });
  const files = ledgerFiles(dataDir(values), values.peer, values.chain);
  let allOk = true;
  const results = [];
  for (const file of files) {
    const bar = createProgressBar(`verifying ${file}`, values.json !== true && process.stderr.isTTY);
    const v = await verifyLedgerFile(file, { onProgress: (d, t) => { bar.update(d, t); } });
    bar.finish();
    results.push(v);
    allOk &&= v.ok;
    if (values.json !== true) {
      if (v.ok) console.log(`ok    ${file}: ${v.blocks} blocks, ${v.transactions} transactions, ${v.stateKeys} state keys`);
      else for (const p of v.problems) console.log(`FAIL  ${file}: ${p.message}`);
    }
  }
  if (values.json === true) console.log(JSON.stringify({ ok: allOk, ledgers: results }));
  return allOk ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest);
    case 'verify':
      return verify(rest);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      console.log(HELP);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError || (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true)) {
      console.error(`silk: ${e.message}\n\n${HELP}`);
      process.exitCode = 2;
    } else if (isSilkError(e)) {
      console.error(`silk: ${e.code}: ${e.message}`);
      process.exitCode = 3;
    } else {
      console.error(`silk: ${(e as Error).stack ?? String(e)}`);
      process.exitCode = 3;
    }
  },
);
