/**
 * The process that keeps a local network's etcd members running for `silk network up`:
 * `node --max-semi-space-size=64 dist/distributed/etcd-host-main.js --description FILE`. It starts the description's
 * members with `createEtcdCluster` (their folders `<dataDir>/etcd/etcd-<i>`, their logs
 * `etcd-<i>/etcd.log`), and on SIGTERM or SIGINT stops each member gracefully and exits. The
 * members die with it even if it is killed (parent-death signal), so no etcd member is left
 * behind by a crashed launcher.
 *
 * Its control channel, for operators and failure tests, is HTTP on the Unix socket
 * `<dataDir>/etcd/etcd-host.sock` (mode 0600): `POST /members/<name>/<action>` with `kill`
 * (SIGKILL), `stop` (SIGTERM), `restart` (start again after a kill or stop, without waiting for
 * health), `pause` (SIGSTOP), `resume` (SIGCONT) or `remove` (take it out of the cluster and stop
 * it), `POST /members` with `{ name, clientPort, peerPort, timeoutMs? }` (add a member: a learner
 * promoted once it caught up; answered once it is a healthy voting member), and `GET /status`
 * (the cluster's status). `silk network etcd add | remove` use the last two and then rewrite the
 * network description, so a restarted host runs the members it has now.
 *
 * When the network's certificates exist (the bootstrap writes them: each member's
 * `etcd/etcd-<i>/tls/etcd.crt`, `etcd.key` and `ca-bundle.crt`), the members run mutual TLS on
 * every client and member link (https URLs, client certificates required), and etcd's access
 * control is on (etcd-access.ts): once the cluster is up, the host creates (or brings in line with
 * the description) the `root` user, the roles `orderer` and `peer` and one user per orderer and
 * peer, then enables auth. The host's own administrative calls, and the operator tools
 * ({@link describedEtcdAccess}), present etcd's administrator certificate (`tls/etcd-root.crt`, CN `root`).
 */
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { isSilkError, SilkError } from '../errors.js';
import { addEtcdUser, etcdUsersOfNetwork, removeEtcdUser, setUpEtcdAccessControl, type EtcdAccessSetup, type EtcdAccessUser } from './etcd-access.js';
import { openEtcdConnection, type EtcdClientTlsFiles, type EtcdConnection } from './etcd-client.js';
import { describedEtcdEndpoints } from './etcd-members-followed.js';
import { createEtcdCluster, type EtcdCluster, type EtcdMemberTlsFiles } from './etcd-cluster.js';
import { describedPath, readNetworkDescription, type NetworkDescription } from './network-description.js';
import { etcdRootTlsFiles, processTlsFiles } from './tls-pki.js';

/** Hosts a local cluster may listen on (etcd-cluster.ts runs members on 127.0.0.1). */
const LOOPBACK = new Set(['127.0.0.1', 'localhost']);

/** Names of the loopback layout's members: `etcd-<n>`. */
const LOCAL_MEMBER_NAME = /^etcd-[1-9][0-9]{0,3}$/;

/**
 * Checks that a description's etcd members are the loopback layout `createEtcdCluster` runs:
 * members named `etcd-<n>` (`etcd-1…etcd-3` at first; after members were added and removed, any
 * numbers, e.g. `etcd-1, etcd-3, etcd-4`), on 127.0.0.1, each with data folder `etcd/<name>`.
 * @throws SilkError CONFIG_INVALID naming the member that does not fit
 */
export function checkLocalEtcdLayout(description: NetworkDescription): void {
  description.etcd.forEach((member, i) => {
    const folder = describedPath(description, `etcd/${member.name}`);
    if (!LOCAL_MEMBER_NAME.test(member.name) || !LOOPBACK.has(member.host) || describedPath(description, member.dataDir) !== folder) {
      throw new SilkError('CONFIG_INVALID', `etcd[${i}]: silk network up runs etcd members named etcd-<n> on 127.0.0.1 with data folder etcd/<name> (got ${member.name} on ${member.host} in ${member.dataDir}); start members of other layouts on their hosts (docs/distributed.md)`, { path: `etcd[${i}]` });
    }
  });
}

/**
 * The described etcd members' TLS files, when every member has its certificate; undefined when
 * none has (the members then run plain HTTP).
 * @throws SilkError CONFIG_INVALID when some members have certificates and others not
 */
export function describedEtcdMemberTls(description: NetworkDescription): EtcdMemberTlsFiles[] | undefined {
  const files = description.etcd.map((e) => processTlsFiles(describedPath(description, e.dataDir), 'etcd'));
  const present = files.filter((f) => f !== undefined);
  if (present.length === 0) return undefined;
  if (present.length < files.length) throw new SilkError('CONFIG_INVALID', `only ${present.length} of ${files.length} etcd members have TLS certificates: run the bootstrap again (silk network up) so every member has one`);
  return present.map((f) => ({ certFile: f.certFile, keyFile: f.keyFile, trustedCaFile: f.caFile }));
}


/**
 * etcd's administrator certificate of a description whose members run TLS ({@link etcdRootTlsFiles}).
 * @throws SilkError CONFIG_INVALID when it is missing
 */
function describedEtcdRootTls(description: NetworkDescription): EtcdClientTlsFiles {
  const root = etcdRootTlsFiles(description);
  if (!existsSync(root.certFile) || !existsSync(root.keyFile)) throw new SilkError('CONFIG_INVALID', `etcd's administrator certificate ${root.certFile} (or its key) is missing: run the bootstrap again (silk network up) to issue it`, { file: root.certFile });
  return root;
}

/**
 * How tools running beside the members (the launcher's status and chain views, snapshots,
 * membership changes, failure tests) reach them: the endpoints, and with TLS etcd's administrator
 * certificate (CN `root`) as client certificate.
 * @throws SilkError CONFIG_INVALID when the members' TLS files or the administrator certificate are missing
 * @example const etcd = openEtcdConnection(describedEtcdAccess(description))
 */
export function describedEtcdAccess(description: NetworkDescription): { endpoints: string[]; tls?: EtcdClientTlsFiles } {
  if (describedEtcdMemberTls(description) === undefined) return { endpoints: describedEtcdEndpoints(description, false) };
  return { endpoints: describedEtcdEndpoints(description, true), tls: describedEtcdRootTls(description) };
}

/**
 * Runs `change` on a connection to the description's etcd presenting the administrator
 * certificate; nothing (undefined) when the members run without TLS, as etcd then has no access
 * control to change.
 */
async function asEtcdRoot<T>(description: NetworkDescription, change: (conn: EtcdConnection) => Promise<T>): Promise<T | undefined> {
  const access = describedEtcdAccess(description);
  if (access.tls === undefined) return undefined;
  const conn = openEtcdConnection(access);
  try {
    return await change(conn);
  } finally {
    conn.close();
  }
}

/**
 * Adds the etcd user of an orderer or peer joining the description's running network, so etcd
 * admits its certificate with its role's permissions (does nothing on a network without TLS).
 * @throws SilkError INVALID_ARGUMENT (bad name, `root`); CONFIG_INVALID (certificates missing); ORDERING_UNAVAILABLE (etcd unreachable or refusing)
 * @example await grantDescribedEtcdUser(description, { name: 'orderer3', role: 'orderer' })
 */
export async function grantDescribedEtcdUser(description: NetworkDescription, user: EtcdAccessUser): Promise<void> {
  await asEtcdRoot(description, (conn) => addEtcdUser(conn, user));
}

/**
 * Deletes the etcd user of an orderer or peer leaving the description's running network: etcd
 * then refuses its certificate (does nothing on a network without TLS).
 * @returns true when the user existed
 * @throws SilkError INVALID_ARGUMENT (bad name, `root`); CONFIG_INVALID (certificates missing); ORDERING_UNAVAILABLE (etcd unreachable or refusing)
 * @example await revokeDescribedEtcdUser(description, 'orderer1')
 */
export async function revokeDescribedEtcdUser(description: NetworkDescription, name: string): Promise<boolean> {
  return (await asEtcdRoot(description, (conn) => removeEtcdUser(conn, name))) === true;
}

/**
 * Sets up etcd's access control for a description's network (its users as the description lists
 * them now); nothing (undefined) without TLS.
 * @throws SilkError CONFIG_INVALID (a process named `root`, certificates missing); ORDERING_UNAVAILABLE
 */
export async function setUpDescribedEtcdAccess(description: NetworkDescription): Promise<EtcdAccessSetup | undefined> {
  const users = etcdUsersOfNetwork(description);
  return asEtcdRoot(description, (conn) => setUpEtcdAccessControl(conn, users));
}

/**
 * The description's etcd cluster (not started), with mutual TLS when its members' certificates exist.
 * @throws SilkError CONFIG_INVALID for a layout other than the loopback one or incomplete TLS files; ORDERING_UNAVAILABLE when etcd is not installed
 */
export async function describedEtcdCluster(description: NetworkDescription): Promise<EtcdCluster> {
  checkLocalEtcdLayout(description);
  const members = describedEtcdMemberTls(description);
  return createEtcdCluster({
    dataDir: describedPath(description, 'etcd'),
    ports: description.etcd.map((e) => ({ client: e.clientPort, peer: e.peerPort })),
    names: description.etcd.map((e) => e.name),
    ...(members === undefined ? {} : { tls: { members, client: describedEtcdRootTls(description) } }),
  });
}

/** The control socket of a description's etcd host process. */
export function etcdControlSocket(description: NetworkDescription): string {
  return describedPath(description, 'etcd/etcd-host.sock');
}

/** What the control channel can do to one member. */
export type EtcdMemberAction = 'kill' | 'stop' | 'restart' | 'pause' | 'resume';

const MEMBER_ACTIONS: Readonly<Record<EtcdMemberAction, (cluster: EtcdCluster, name: string) => Promise<void> | void>> = {
  kill: (c, name) => c.killMember(name),
  stop: (c, name) => c.stopMember(name),
  restart: (c, name) => c.restartMember(name),
  pause: (c, name) => { c.pauseMember(name); },
  resume: (c, name) => { c.resumeMember(name); },
};

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function replyError(response: ServerResponse, error: unknown): void {
  const code = isSilkError(error) ? error.code : 'INTERNAL';
  const status = code === 'INVALID_ARGUMENT' || code === 'CONFIG_INVALID' ? 400 : 500;
  reply(response, status, { error: { code, message: (error as Error).message } });
}

/** Largest body of a control request (an add names a member and two ports). */
const MAX_CONTROL_BODY = 4_096;

async function readBody(request: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of request) {
    text += (chunk as Buffer).toString('utf8');
    if (text.length > MAX_CONTROL_BODY) throw new SilkError('INVALID_ARGUMENT', `a control request body is at most ${MAX_CONTROL_BODY} bytes`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new SilkError('INVALID_ARGUMENT', 'the body of POST /members is JSON: { name, clientPort, peerPort, timeoutMs? }', {}, { cause });
  }
}

function integerField(body: Record<string, unknown>, field: string, optional = false): number | undefined {
  const value = body[field];
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new SilkError('INVALID_ARGUMENT', `POST /members needs ${field} as a whole number; got ${JSON.stringify(value)}`);
  return value;
}

/**
 * `POST /members`: adds the member the body names, with the TLS files the bootstrap wrote under
 * `<etcd folder>/<name>/tls/` when the cluster runs TLS.
 */
async function addMember(cluster: EtcdCluster, etcdDir: string, request: IncomingMessage): Promise<unknown> {
  const body = await readBody(request);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new SilkError('INVALID_ARGUMENT', 'the body of POST /members is a JSON object: { name, clientPort, peerPort, timeoutMs? }');
  const fields = body as Record<string, unknown>;
  const name = fields.name;
  if (typeof name !== 'string' || !LOCAL_MEMBER_NAME.test(name)) throw new SilkError('INVALID_ARGUMENT', `POST /members needs a name etcd-<n>; got ${JSON.stringify(name)}`);
  const ports = { client: integerField(fields, 'clientPort') ?? 0, peer: integerField(fields, 'peerPort') ?? 0 };
  const timeoutMs = integerField(fields, 'timeoutMs', true);
  let tls: EtcdMemberTlsFiles | undefined;
  if (cluster.clientTls !== undefined) {
    const files = processTlsFiles(join(etcdDir, name), 'etcd');
    if (files === undefined) throw new SilkError('INVALID_ARGUMENT', `the cluster runs mutual TLS but ${join(etcdDir, name, 'tls')} holds no etcd.crt and etcd.key: issue the member's certificate first (silk network etcd add does)`);
    tls = { certFile: files.certFile, keyFile: files.keyFile, trustedCaFile: files.caFile };
  }
  const info = await cluster.addMember({ name, ports, ...(tls === undefined ? {} : { tls }), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  process.stderr.write(`etcd member ${name}: added (${info.clientUrl})\n`);
  return { member: info.name, clientUrl: info.clientUrl, peerUrl: info.peerUrl, members: cluster.members.map((m) => m.name) };
}

async function memberAction(cluster: EtcdCluster, name: string, action: string): Promise<unknown> {
  if (action === 'remove') {
    await cluster.removeMember(name);
    process.stderr.write(`etcd member ${name}: removed\n`);
    return { member: name, action, running: false, members: cluster.members.map((m) => m.name) };
  }
  await MEMBER_ACTIONS[action as EtcdMemberAction](cluster, name);
  process.stderr.write(`etcd member ${name}: ${action} done\n`);
  return { member: name, action, running: cluster.isRunning(name) };
}

async function control(cluster: EtcdCluster, etcdDir: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = request.url ?? '';
  if (request.method === 'POST' && url === '/members') {
    try {
      reply(response, 200, await addMember(cluster, etcdDir, request));
    } catch (error) {
      replyError(response, error);
    }
    return;
  }
  request.resume();
  if (request.method === 'GET' && url === '/status') { reply(response, 200, await cluster.status()); return; }
  const match = /^\/members\/([A-Za-z0-9_.-]{1,64})\/([a-z]+)$/.exec(url);
  const action = match?.[2];
  if (request.method !== 'POST' || match?.[1] === undefined || action === undefined || (action !== 'remove' && !Object.hasOwn(MEMBER_ACTIONS, action))) {
    reply(response, 404, { error: { code: 'NOT_FOUND', message: `unknown control request ${request.method ?? ''} ${url}: POST /members/<name>/(${[...Object.keys(MEMBER_ACTIONS), 'remove'].join('|')}), POST /members or GET /status` } });
    return;
  }
  try {
    reply(response, 200, await memberAction(cluster, match[1], action));
  } catch (error) {
    replyError(response, error);
  }
}

/** Serves the control channel on `socket` (a stale socket file from a killed host is replaced). */
async function serveControl(cluster: EtcdCluster, etcdDir: string, socket: string): Promise<Server> {
  rmSync(socket, { force: true });
  const server = createServer((request, response) => {
    control(cluster, etcdDir, request, response).catch((error: unknown) => { reply(response, 500, { error: { code: 'INTERNAL', message: String(error) } }); });
  });
  await new Promise<void>((done, fail) => { server.once('error', fail); server.listen(socket, done); });
  chmodSync(socket, 0o600);
  return server;
}

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { description: { type: 'string' } }, strict: true });
  if (values.description === undefined) throw new SilkError('INVALID_ARGUMENT', 'usage: etcd-host-main --description FILE');
  const stop = new Promise<void>((done) => {
    process.once('SIGTERM', () => { done(); });
    process.once('SIGINT', () => { done(); });
  });
  const description = readNetworkDescription(resolve(values.description));
  const cluster = await describedEtcdCluster(description);
  const socket = etcdControlSocket(description);
  let server: Server | undefined;
  try {
    await cluster.start();
    process.stderr.write(`etcd members ${cluster.members.map((m) => m.name).join(', ')} running: ${cluster.clientUrls.join(', ')}\n`);
    const access = await setUpDescribedEtcdAccess(description);
    if (access !== undefined) process.stderr.write(`etcd access control on: users root and ${etcdUsersOfNetwork(description).map((u) => `${u.name} (${u.role})`).join(', ')}${access.added.length > 0 ? `; added ${access.added.join(', ')}` : ''}${access.removed.length > 0 ? `; deleted ${access.removed.join(', ')}` : ''}\n`);
    // A socket path longer than the system's limit (about 107 bytes) leaves the host without its control channel.
    if (socket.length < 100) server = await serveControl(cluster, describedPath(description, 'etcd'), socket);
    else process.stderr.write(`no control channel: the socket path ${socket} is too long\n`);
    await stop;
    server?.close();
    for (const member of cluster.members) await cluster.stopMember(member.name);
  } finally {
    server?.close();
    if (server !== undefined) rmSync(socket, { force: true });
    await cluster.close();
  }
  process.stderr.write('etcd members stopped\n');
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (error: unknown) => {
      process.stderr.write(`etcd-host-main: ${isSilkError(error) ? `${error.code}: ${error.message}` : ((error as Error).stack ?? String(error))}\n`);
      process.exitCode = 1;
    },
  );
}
