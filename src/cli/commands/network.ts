/**
 * `silk network up | down | status | etcd-snapshot | etcd add|remove | orderer add|remove`: a
 * distributed network (etcd ordering log, orderer processes, one peer process per org) on this
 * machine, from `<dir>/network.yaml` (docs/distributed.md), and changes of its membership
 * (docs/operations.md, "Changing the membership").
 */
import { parseArgs } from 'node:util';
import { isSilkError } from '../../errors.js';
import { sameEtcdMembers } from '../../distributed/etcd-members-followed.js';
import { etcdSnapshot, networkDown, networkStatus, networkUp, type NetworkStatus, type UpProgress } from '../../distributed/network-launcher.js';
import { addEtcdMember, addNetworkOrderer, removeEtcdMember, removeNetworkOrderer, type EtcdMembershipChange, type OrdererMembershipChange } from '../../distributed/network-membership.js';
import type { NetworkKeysOptions } from '../../network/org-keyring.js';
import { EXIT, UsageError } from '../cli-support.js';
import { table } from '../human-format.js';
import { createProgressBar } from '../progress.js';
import { PASSWORD_ENV, writeCost } from './keys.js';

/** The network folder: `--dir`, else `$SILK_NETWORK_DIR`, else `./network`. */
function networkDir(values: { dir?: string | undefined }): string {
  return values.dir ?? process.env.SILK_NETWORK_DIR ?? './network';
}

function wholeNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} takes a whole number, got '${text}'`);
  return Number(text);
}

/** Org keys in keystores when a password is given in the environment, else PEM files. */
function keysOption(): NetworkKeysOptions | undefined {
  const password = process.env[PASSWORD_ENV];
  if (password === undefined || password === '') return undefined;
  return { kind: 'hd', password, scrypt: writeCost() };
}

function progressLine(p: UpProgress): string | undefined {
  if (p.stage === 'bootstrap') return 'bootstrapping: keys, genesis configurations, TLS certificates';
  if (p.stage === 'started') return `started  ${p.kind ?? ''} ${p.name} (pid ${p.pid ?? '?'})`;
  return `ready    ${p.kind ?? ''} ${p.name} [${p.done}/${p.total}]`;
}

async function up(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { dir: { type: 'string' }, orgs: { type: 'string' }, demo: { type: 'boolean' }, 'base-port': { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (positionals.length > 0) throw new UsageError(`network up takes no arguments, got '${positionals.join(' ')}'`);
  if (values.orgs !== undefined && values.demo === true) throw new UsageError('give --orgs N or --demo, not both');
  const orgs = wholeNumber('--orgs', values.orgs);
  const basePort = wholeNumber('--base-port', values['base-port']);
  const json = values.json === true;
  const bar = createProgressBar('starting the network', !json && process.stderr.isTTY);
  const keys = keysOption();
  const result = await networkUp({
    dir: networkDir(values),
    ...(orgs === undefined ? {} : { orgs }),
    ...(values.demo === true ? { demo: true } : {}),
    ...(basePort === undefined ? {} : { basePort }),
    ...(keys === undefined ? {} : { keys }),
    onProgress: (p) => {
      if (json) return;
      if (process.stderr.isTTY) bar.update(p.done, p.total);
      else {
        const line = progressLine(p);
        if (line !== undefined) process.stderr.write(`${line}\n`);
      }
    },
  });
  bar.finish();
  if (json) {
    console.log(JSON.stringify({ description: result.descriptionFile, api: result.apiUrl, ...(result.apiCa === undefined ? {} : { apiCa: result.apiCa }), peers: result.peerUrls, processes: result.processes }));
    return EXIT.ok;
  }
  console.log(`Silkledger network running (${result.describedNow ? 'described and bootstrapped now' : 'from its existing description'}): ${result.descriptionFile}`);
  console.log(`  ui:     ${result.apiUrl}/   (check a product, explorer, dashboard)`);
  console.log(`  api:    ${result.apiUrl}/api/health   (OpenAPI at ${result.apiUrl}/docs)`);
  if (result.apiCa !== undefined) console.log(`  ca:     ${result.apiCa} (the alliance's CA bundle, for the API and the peers: silk --ca ${result.apiCa}, or $SILK_CA; the SDK's connect({ ca }))`);
  console.log(`  peers:  ${Object.entries(result.peerUrls).map(([name, url]) => `${name} ${url}`).join(', ')}`);
  console.log(`  keys:   ${result.bootstrap.keysDir} (each org's admin key signs: --key ${result.bootstrap.keysDir}/<org>/admin.pem)`);
  console.log(`  status: silk network status --dir ${networkDir(values)}`);
  console.log(`  stop:   silk network down --dir ${networkDir(values)}`);
  return EXIT.ok;
}

async function down(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { dir: { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (positionals.length > 0) throw new UsageError(`network down takes no arguments, got '${positionals.join(' ')}'`);
  const stopped = await networkDown(networkDir(values));
  if (values.json === true) console.log(JSON.stringify({ stopped }));
  else console.log(stopped.length === 0 ? 'no network process was running' : `stopped ${stopped.join(', ')}; every port is free`);
  return EXIT.ok;
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

/** A note on an orderer or peer that does not (yet) call the etcd members there are now: while it runs it follows the description once a second and the cluster's member list every 5 s. */
function etcdLag(p: NetworkStatus['processes'][number], members: readonly string[]): string {
  if (p.etcdMembers === undefined || sameEtcdMembers(p.etcdMembers, members)) return '';
  return `etcd: calls ${p.etcdMembers.join(', ')}, not ${members.join(', ')} yet`;
}

function printStatus(s: NetworkStatus): void {
  const members = s.processes.filter((p) => p.kind === 'etcd').map((p) => p.name);
  console.log(`Network ${s.dir}: ${s.ready ? 'running and ready' : s.started ? 'NOT ready' : 'not started'}; etcd ${s.etcd.healthy ? `healthy (leader ${s.etcd.leader ?? '?'})` : 'NOT healthy'}; api ${s.apiUrl ?? '?'}${s.apiCa === undefined ? '' : `, CA bundle ${s.apiCa} (silk --ca)`}`);
  console.log('');
  console.log(table(['PROCESS', 'KIND', 'PID', 'ALIVE', 'READY', 'DETAIL'], s.processes.map((p) => [
    p.name,
    p.kind,
    p.pid === undefined ? '-' : String(p.pid),
    yesNo(p.alive),
    yesNo(p.ready),
    [
      p.chains !== undefined
        ? Object.entries(p.chains).map(([c, h]) => `${c} ${h.height}/${h.ordered}${h.commitHash === undefined ? '' : ` ${h.commitHash.slice(0, 12)}`}`).join(', ')
        : p.kind === 'etcd' ? (p.isLeader === true ? 'raft leader' : (p.error ?? '')) : (p.error ?? ''),
      etcdLag(p, members),
    ].filter((d) => d !== '').join('; '),
  ])));
  console.log('');
  console.log(table(['CHAIN', 'ORDERED', 'LEADER'], s.chains.map((c) => [c.name, c.ordered === undefined ? '?' : String(c.ordered), c.leader ?? (c.error ?? 'none')])));
}

async function status(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { dir: { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (positionals.length > 0) throw new UsageError(`network status takes no arguments, got '${positionals.join(' ')}'`);
  const s = await networkStatus(networkDir(values));
  if (values.json === true) console.log(JSON.stringify(s));
  else printStatus(s);
  return s.ready ? EXIT.ok : EXIT.failure;
}

async function etcdSnapshotCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { dir: { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError('usage: silk network etcd-snapshot FILE [--dir DIR] [--json]');
  const r = await etcdSnapshot(networkDir(values), file);
  if (values.json === true) console.log(JSON.stringify(r));
  else console.log(`etcd snapshot of the ordering log from ${r.member}: ${r.file} (revision ${r.revision}, ${r.totalKeys} keys, ${r.totalSize} bytes, hash ${r.hash}); restore it with etcdctl snapshot restore`);
  return EXIT.ok;
}

function printEtcdChange(what: 'added' | 'removed', r: EtcdMembershipChange): void {
  const detail = what === 'added' ? ` (${r.clientUrl ?? 'client URL unknown'}), a healthy voting member` : r.wasLeader === true ? ' (it was the Raft leader: the others elected a new one)' : '';
  console.log(`etcd member ${r.member} ${what}${detail}; members now: ${r.members.join(', ')}`);
  for (const w of r.warnings) console.log(`  note: ${w}`);
}

async function etcdMembership(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { dir: { type: 'string' }, json: { type: 'boolean' }, force: { type: 'boolean' } }, allowPositionals: true, strict: true });
  const [action, name, ...extra] = positionals;
  const keys = keysOption();
  let result: EtcdMembershipChange;
  if (action === 'add' && name === undefined) {
    if (values.force === true) throw new UsageError('--force goes with network etcd remove');
    result = await addEtcdMember(networkDir(values), keys === undefined ? {} : { keys });
  } else if (action === 'remove' && name !== undefined && extra.length === 0) {
    result = await removeEtcdMember(networkDir(values), name, { force: values.force === true });
  } else {
    throw new UsageError('usage: silk network etcd add [--dir DIR] [--json] | silk network etcd remove NAME [--force] [--dir DIR] [--json]');
  }
  if (values.json === true) console.log(JSON.stringify(result));
  else printEtcdChange(action === 'add' ? 'added' : 'removed', result);
  return EXIT.ok;
}

function printOrdererChange(what: 'added' | 'removed', r: OrdererMembershipChange): void {
  const chains = r.chains.length === 0 ? 'no chain needed a change' : r.chains.map((c) => `${c.chain} (configuration ${c.sequence}, block ${c.block})`).join(', ');
  console.log(`orderer ${r.orderer} of ${r.org} ${what}${r.url === undefined ? '' : ` at ${r.url}`}; its key ${r.key.slice(0, 16)}… ${what === 'added' ? 'is now listed on' : 'is no longer listed on'}: ${chains}`);
  if ((r.ledChains ?? []).length > 0) console.log(`  it led ${(r.ledChains ?? []).join(', ')}: another orderer leads now`);
  if (what === 'removed') console.log(`  its process ${r.stopped === true ? 'was stopped' : 'was not running'}; its folder (key, log) stays on disk`);
  console.log(`  orderers now: ${r.orderers.join(', ')}`);
}

async function ordererMembership(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { dir: { type: 'string' }, json: { type: 'boolean' }, org: { type: 'string' } }, allowPositionals: true, strict: true });
  const [action, name, ...extra] = positionals;
  const keys = keysOption();
  let result: OrdererMembershipChange;
  if (action === 'add' && name === undefined) {
    result = await addNetworkOrderer(networkDir(values), { ...(values.org === undefined ? {} : { org: values.org }), ...(keys === undefined ? {} : { keys }) });
  } else if (action === 'remove' && name !== undefined && extra.length === 0) {
    if (values.org !== undefined) throw new UsageError('--org goes with network orderer add');
    result = await removeNetworkOrderer(networkDir(values), name, keys === undefined ? {} : { keys });
  } else {
    throw new UsageError('usage: silk network orderer add [--org ORG] [--dir DIR] [--json] | silk network orderer remove NAME [--dir DIR] [--json]');
  }
  if (values.json === true) console.log(JSON.stringify(result));
  else printOrdererChange(action === 'add' ? 'added' : 'removed', result);
  return EXIT.ok;
}

const SUBCOMMANDS: Readonly<Record<string, (argv: string[]) => Promise<number>>> = { up, down, status, 'etcd-snapshot': etcdSnapshotCommand, etcd: etcdMembership, orderer: ordererMembership };

/**
 * Runs `silk network up|down|status|etcd-snapshot|etcd add|etcd remove|orderer add|orderer remove`.
 * @returns 0 on success (status: every process alive and ready), 2 bad usage, 3 a failure (status: not ready)
 */
export async function networkCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const run = sub !== undefined && Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
  if (run === undefined) throw new UsageError(sub === undefined ? 'network needs up, down, status, etcd-snapshot, etcd or orderer' : `unknown network subcommand '${sub}' (up, down, status, etcd-snapshot, etcd add|remove, orderer add|remove)`);
  try {
    return await run(rest);
  } catch (error) {
    if (!isSilkError(error) || !rest.includes('--json')) throw error;
    console.log(JSON.stringify({ error: { code: error.code, message: error.message } }));
    return EXIT.failure;
  }
}
