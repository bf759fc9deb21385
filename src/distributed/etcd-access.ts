/**
 * etcd's own access control over the ordering log. Every client presents a certificate of a member
 * org's CA, and with auth enabled etcd takes the certificate's Common Name as the user name (no
 * password, no token). So each registered orderer and peer is an etcd user named after its process
 * (`orderer0`, `peer0.org1`: the CN of its `etcd-client` certificate) holding one role:
 *
 * | role | may | why |
 * |---|---|---|
 * | `orderer` | read and write keys under `/silk/` | append blocks (CAS on the height), campaign for and resign a chain's leadership, delete compacted blocks |
 * | `peer` | read keys under `/silk/` | read and watch blocks and the height, find the leader to send transactions to |
 * | `root` (user `root`) | everything, incl. users, roles, membership, defragmentation, snapshots | the etcd host and operator tools, presenting the root certificate (`<dataDir>/tls/etcd-root.crt`) |
 *
 * What etcd 3.4 checks, as tried against the `etcd-server` binary: Range, Put, DeleteRange, Txn
 * and Watch need key permissions; LeaseGrant and keep-alives need none (a LeaseRevoke needs write
 * on the keys the lease holds); Defragment, Snapshot, HashKV, member add/remove and the auth calls
 * need `root`; Status, Alarm (list and disarm) and Compaction need no permission at all, so any
 * certificate of a member CA can still ask a member's status, disarm an alarm or compact revision
 * history (history only: no key's current value, and the block log re-reads after a compaction).
 * A certificate whose CN is no user (a process removed from the network, an unregistered name) is
 * refused every key operation with `permission denied`.
 */
import { SilkError } from '../errors.js';
import type { EtcdConnection } from './etcd-client.js';
import { SILK_KEY_ROOT } from './etcd-keys.js';
import type { NetworkDescription } from './network-description.js';

/** The etcd user with every permission; etcd requires it before auth is enabled. Its certificate's CN. */
export const ETCD_ROOT_USER = 'root';

/** The roles of registered processes. */
export type EtcdProcessRole = 'orderer' | 'peer';

/** An etcd user of a registered process. */
export interface EtcdAccessUser {
  /** The process name, the CN of its etcd client certificate. */
  readonly name: string;
  readonly role: EtcdProcessRole;
}

/** What {@link setUpEtcdAccessControl} did. */
export interface EtcdAccessSetup {
  /** Users created. */
  readonly added: readonly string[];
  /** Users deleted (processes the description no longer lists). */
  readonly removed: readonly string[];
}

/** The first key after every key under `prefix` (its last byte plus one). */
function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  end[end.length - 1] = (end[end.length - 1] ?? 0) + 1;
  return end;
}

/** Each role's one permission: the whole `/silk/` prefix, read-write or read-only. */
const ROLE_PERMISSIONS: Readonly<Record<EtcdProcessRole, 'Readwrite' | 'Read'>> = { orderer: 'Readwrite', peer: 'Read' };

const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** @throws SilkError INVALID_ARGUMENT for a name that is no process name, or `root` */
function checkUserName(name: string): void {
  if (typeof name !== 'string' || !USER_NAME.test(name)) throw new SilkError('INVALID_ARGUMENT', `an etcd user is a process name (1-64 letters, digits, '_', '.' or '-'); got ${JSON.stringify(name)}`);
  if (name === ETCD_ROOT_USER) throw new SilkError('INVALID_ARGUMENT', `'${ETCD_ROOT_USER}' is etcd's administrator: no orderer or peer may be named so`);
}

/** @throws SilkError INVALID_ARGUMENT for a user that is not a process name with a known role */
function checkUser(user: EtcdAccessUser): void {
  checkUserName(user.name);
  if (!Object.hasOwn(ROLE_PERMISSIONS, user.role)) throw new SilkError('INVALID_ARGUMENT', `an etcd user's role is orderer or peer; got ${JSON.stringify(user.role)}`);
}

/**
 * The etcd users of a description: one per orderer (role `orderer`) and one per peer (role `peer`).
 * @throws SilkError CONFIG_INVALID when a process is named `root` (the administrator's name)
 * @example await setUpEtcdAccessControl(connection, etcdUsersOfNetwork(description))
 */
export function etcdUsersOfNetwork(description: NetworkDescription): EtcdAccessUser[] {
  const users = [
    ...description.orderers.map((o): EtcdAccessUser => ({ name: o.name, role: 'orderer' })),
    ...description.peers.map((p): EtcdAccessUser => ({ name: p.name, role: 'peer' })),
  ];
  const root = users.find((u) => u.name === ETCD_ROOT_USER);
  if (root !== undefined) throw new SilkError('CONFIG_INVALID', `${root.role} '${ETCD_ROOT_USER}': that name is etcd's administrator; rename the process`, { path: root.role === 'orderer' ? 'orderers' : 'peers' });
  return users;
}

/** True when `error` (or what it wraps) is etcd saying the user or role exists already. */
function isExists(error: unknown): boolean {
  return /already exists/.test(messages(error));
}

/** True when `error` (or what it wraps) is etcd saying the user or role does not exist. */
function isNotFound(error: unknown): boolean {
  return /not found/.test(messages(error));
}

function messages(error: unknown): string {
  const out: string[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) out.push(e.message);
  return out.join(' | ');
}

async function ignoring<T>(operation: () => Promise<T>, ignore: (error: unknown) => boolean): Promise<boolean> {
  try {
    await operation();
    return true;
  } catch (error) {
    if (ignore(error)) return false;
    throw error;
  }
}

/** Adds a certificate user (no password) holding `role`; true when it was new. */
async function putUser(conn: EtcdConnection, name: string, role: string): Promise<boolean> {
  const auth = conn.client.auth;
  const added = await ignoring(() => conn.call(`add etcd user ${name}`, () => auth.userAdd({ name, options: { no_password: true } })), isExists);
  await conn.call(`grant etcd role ${role} to ${name}`, () => auth.userGrantRole({ user: name, role }));
  return added;
}

async function putRoles(conn: EtcdConnection): Promise<void> {
  const auth = conn.client.auth;
  for (const [role, permType] of Object.entries(ROLE_PERMISSIONS)) {
    await ignoring(() => conn.call(`add etcd role ${role}`, () => auth.roleAdd({ name: role })), isExists);
    await conn.call(`grant ${permType} on ${SILK_KEY_ROOT} to etcd role ${role}`, () => auth.roleGrantPermission({ name: role, perm: { permType, key: Buffer.from(SILK_KEY_ROOT), range_end: prefixEnd(SILK_KEY_ROOT) } }));
  }
}

/**
 * Sets up etcd's access control, or brings it in line with `users`: the `root` user (certificate,
 * no password) with etcd's `root` role, the roles `orderer` and `peer`, a user per entry of
 * `users`, any other user but `root` deleted, then auth enabled (if it is not on). Idempotent: run it
 * at every start of the etcd host. `conn` must present the root certificate once auth is on.
 * @returns the users added and deleted
 * @throws SilkError INVALID_ARGUMENT for a bad user; ORDERING_UNAVAILABLE when etcd cannot be
 *   reached or refuses (reason `permission-denied`: `conn` does not present the root certificate)
 * @example await setUpEtcdAccessControl(openEtcdConnection({ endpoints, tls: rootTls }), etcdUsersOfNetwork(d))
 */
export async function setUpEtcdAccessControl(conn: EtcdConnection, users: readonly EtcdAccessUser[]): Promise<EtcdAccessSetup> {
  users.forEach(checkUser);
  const auth = conn.client.auth;
  await putUser(conn, ETCD_ROOT_USER, 'root');
  await putRoles(conn);
  const added: string[] = [];
  for (const user of users) if (await putUser(conn, user.name, user.role)) added.push(user.name);
  const wanted = new Set([ETCD_ROOT_USER, ...users.map((u) => u.name)]);
  const existing = (await conn.call('list etcd users', () => auth.userList())).users;
  const removed: string[] = [];
  for (const name of existing.filter((n) => !wanted.has(n))) {
    await ignoring(() => conn.call(`delete etcd user ${name}`, () => auth.userDelete({ name })), isNotFound);
    removed.push(name);
  }
  // etcd 3.4 has no AuthStatus call; enabling auth that is on already is accepted and changes nothing.
  await conn.call('enable etcd auth', () => auth.authEnable());
  return { added, removed };
}

/**
 * Adds the etcd user of a process joining the network (an existing one keeps its name and gets
 * the role): its certificate is then admitted with the role's permissions.
 * @throws SilkError INVALID_ARGUMENT for a bad user; ORDERING_UNAVAILABLE when etcd cannot be reached or refuses
 * @example await addEtcdUser(rootConnection, { name: 'orderer3', role: 'orderer' })
 */
export async function addEtcdUser(conn: EtcdConnection, user: EtcdAccessUser): Promise<void> {
  checkUser(user);
  await putUser(conn, user.name, user.role);
}

/**
 * Deletes the etcd user of a process leaving the network: from then on etcd refuses its
 * certificate every key operation (`permission denied`), even if the process still runs or is
 * restarted with its old certificate. A user that does not exist is not an error.
 * @returns true when the user existed
 * @throws SilkError INVALID_ARGUMENT for a bad name or `root`; ORDERING_UNAVAILABLE when etcd cannot be reached or refuses
 * @example await removeEtcdUser(rootConnection, 'orderer1')
 */
export async function removeEtcdUser(conn: EtcdConnection, name: string): Promise<boolean> {
  checkUserName(name);
  return ignoring(() => conn.call(`delete etcd user ${name}`, () => conn.client.auth.userDelete({ name })), isNotFound);
}
