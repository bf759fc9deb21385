/**
 * One configured connection to an etcd cluster, shared by the block log and the leader election:
 * every unary call carries a deadline (the etcd3 client sets none by default) and every failure
 * becomes a {@link SilkError} `ORDERING_UNAVAILABLE` that names the endpoints it could not reach.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import { Etcd3, EtcdPermissionDeniedError, EtcdUserNotFoundError, isRecoverableError, type IOptions } from 'etcd3';
import { Host } from 'etcd3/lib/connection-pool.js';
import { SilkError, isSilkError } from '../errors.js';

/**
 * Deadline of one etcd operation (all of the client's retries across members included). Long
 * enough for a Raft leader election on a loaded machine (election timeout 1.2 s, randomized up to
 * twice that, see `etcd-cluster.ts`), short enough that a caller learns within seconds that the
 * cluster has no quorum.
 */
export const ETCD_CALL_DEADLINE_MS = 5_000;

/**
 * Pause before the client re-opens a broken watch stream. The etcd3 default grows to 30 s, which
 * would leave a peer blind for that long after a member restart.
 */
export const WATCH_RECONNECT_MS = 250;

/**
 * How long the client leaves a member alone after {@link HOST_BREAKER_FAILURES} failed calls in a
 * row before trying it again. The etcd3 default is 5 s: during a leader election the members that
 * are alive fail calls too (no leader, deadline exceeded), so every member's breaker could open and
 * the client would refuse all calls for 5 s after the cluster had recovered, which is longer than
 * the election itself. A quarter of a second keeps a dead member from being hammered and costs at
 * most that much once a new leader is elected. The price: a member cut off without refusing
 * connections (paused, partitioned) holds one trial call for its 1 s attempt every 1.25 s before
 * that call moves on to another member. A pause that doubles up to 1 s was tried: it let a second
 * etcd election (a loaded machine, the killed member rejoining) stretch the bench's longest gap
 * to 3.1 s in one run of five.
 */
export const HOST_BREAKER_MS = 250;

/** Consecutive failed calls to one member that open its breaker (the etcd3 default). */
const HOST_BREAKER_FAILURES = 3;

/**
 * TLS files for the client connection (mutual TLS with certificates issued by each org, as
 * `writeNetworkCertificates` writes them: an orderer's or peer's `tls/etcd-client.crt` and
 * `.key`, and `tls/ca-bundle.crt`).
 */
export interface EtcdClientTlsFiles {
  /** PEM of the CAs that signed the members' server certificates (the alliance's CA bundle): the only trust anchors. */
  readonly caFile: string;
  /** PEM of this client's certificate, for mutual TLS (members started with `--client-cert-auth` require it). */
  readonly certFile?: string;
  /** PEM of this client's private key; given together with `certFile`. */
  readonly keyFile?: string;
}

/** How often a connection following its endpoints ({@link EtcdConnectionOptions.endpoints} as a function) asks for them. */
export const ENDPOINTS_CHECK_MS = 1_000;

/**
 * How often a connection asks the cluster for its members by default, when it follows its
 * endpoints ({@link EtcdConnectionOptions.syncMembersMs}).
 */
export const MEMBERS_SYNC_MS = 5_000;

/**
 * Where a connection's new member list came from: `given` by the caller's function (the network
 * description), or listed by the `cluster` itself.
 */
export type EtcdEndpointsSource = 'given' | 'cluster';

/** What a connection following its endpoints did with a list it was given or the cluster listed. */
export type EtcdEndpointsEvent =
  /**
   * The client's members are now `endpoints`: `added` ones are used from the next call, `removed`
   * ones no more. From the cluster, `names` gives each endpoint's member name.
   */
  | { readonly kind: 'changed'; readonly source: EtcdEndpointsSource; readonly endpoints: readonly string[]; readonly added: readonly string[]; readonly removed: readonly string[]; readonly names?: Readonly<Record<string, string>> }
  /** The list was not valid (`reason`); the client keeps `endpoints`. */
  | { readonly kind: 'refused'; readonly source: EtcdEndpointsSource; readonly endpoints: readonly string[]; readonly reason: string }
  /**
   * The cluster could not be asked for its members (`reason`: no member answered, the cluster had
   * no quorum, or etcd refused the user); told once until an answer comes again. The client keeps
   * `endpoints`.
   */
  | { readonly kind: 'unsynced'; readonly endpoints: readonly string[]; readonly reason: string };

/** Options of {@link openEtcdConnection}. */
export interface EtcdConnectionOptions {
  /**
   * Client URLs of the members, e.g. `http://127.0.0.1:2379` (`https://` with {@link tls}); or a
   * function giving them as they are now (a process following its network description): it is
   * asked every {@link ENDPOINTS_CHECK_MS}, and the client then calls the members it names.
   */
  readonly endpoints: readonly string[] | (() => readonly string[]);
  /**
   * How often to ask the cluster which members it has and call those, as etcd's own clients'
   * auto-sync does, so a process follows members added and removed on other hosts too: the voting
   * members that have started (their advertised client URLs of this connection's scheme). While a
   * member is being added (not started yet, or still a learner) an answer only adds members, never
   * removes one. A change of the function's list is applied as soon as it is seen; the cluster's
   * next answer then has the last word. 0: never. Default {@link MEMBERS_SYNC_MS} when `endpoints`
   * is a function, 0 for a list.
   */
  readonly syncMembersMs?: number;
  /** Told when a followed list (given or the cluster's) changed the client's members, was refused, or could not be had. */
  readonly onEndpoints?: (event: EtcdEndpointsEvent) => void;
  /** Deadline of each operation in milliseconds (default {@link ETCD_CALL_DEADLINE_MS}). */
  readonly deadlineMs?: number;
  /** TLS to the members (then every endpoint is `https://`); without it every endpoint is `http://`. */
  readonly tls?: EtcdClientTlsFiles;
}

/** A client for one etcd cluster with deadlines and error mapping. */
export interface EtcdConnection {
  /** The underlying etcd3 client (its unary calls carry the deadline by default). */
  readonly client: Etcd3;
  /** The members' client URLs the client calls now. */
  readonly endpoints: readonly string[];
  /** Whether {@link close} was called: the only reason for a caller to stop retrying. */
  readonly closed: boolean;
  readonly deadlineMs: number;
  /**
   * The etcd user this connection acts as: the Common Name of its client certificate, which etcd
   * takes as the user name once auth is enabled (etcd-access.ts); undefined without a certificate.
   */
  readonly user: string | undefined;
  /**
   * The deadline of one attempt starting now (1 s, or the operation's deadline if shorter), so
   * an attempt stuck on a dead member leaves time to retry on another. Unary calls get it by
   * default; pass it explicitly only to calls that open a stream.
   */
  deadline(): number;
  /**
   * Runs `operation` and maps any failure to `ORDERING_UNAVAILABLE` naming `what` and the
   * endpoints; a {@link SilkError} thrown inside passes through unchanged. A JavaScript timer
   * bounds the whole operation by the deadline even if the client keeps retrying.
   */
  call<T>(what: string, operation: () => Promise<T>): Promise<T>;
  /**
   * Makes the client call these members from now on (an etcd member added to or removed from the
   * cluster): a member kept keeps its connections and breaker; an added one is called from the
   * next call on (watches and leases move to it when their stream is next opened); a removed
   * one's connections are closed. Calls in flight are unaffected unless they ran on a removed member.
   * @returns whether the list changed
   * @throws SilkError INVALID_ARGUMENT when the list is empty, has a malformed URL, or mixes schemes with the connection's TLS
   */
  setEndpoints(endpoints: readonly string[]): boolean;
  close(): void;
}

/**
 * Deadline of one attempt within an operation of `deadlineMs`: 1 s, so a call stuck on a dead
 * member or waiting out a leader election is retried on another member soon after a new leader
 * is elected (election timeout 1.2 s), while the operation as a whole keeps its deadline.
 * Retrying is safe: an append repeated with the same bytes succeeds (etcd-block-log.ts).
 */
function attemptMs(deadlineMs: number): number {
  return Math.min(deadlineMs, ATTEMPT_MS);
}

/** See {@link attemptMs}. */
const ATTEMPT_MS = 1_000;

const URL_PATTERN = /^https?:\/\/[^\s/]+(:\d+)?\/?$/;

const IP_SERVERNAME_WARNING = 'DEP0123';
let ipServerNameWarningDropped = false;

/**
 * grpc-js names a member's address as the TLS server name (SNI), and Node warns once per process
 * (DEP0123) that RFC 6066 does not allow an IP address there. Nothing depends on it: the member's
 * certificate is still checked against that address (its IP SAN, tls-pki.ts), and a process
 * cannot choose another name, so the warning would only put a deprecation notice in every
 * operator's log and terminal. Exactly that warning is dropped; every other one passes.
 */
function dropIpServerNameWarning(): void {
  if (ipServerNameWarningDropped) return;
  ipServerNameWarningDropped = true;
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  const filtered = (...args: unknown[]): void => {
    const [, typeOrOptions, code] = args;
    const warningCode = typeof typeOrOptions === 'object' && typeOrOptions !== null ? (typeOrOptions as { code?: unknown }).code : code;
    if (warningCode === IP_SERVERNAME_WARNING) return;
    emit(...args);
  };
  process.emitWarning = filtered;
}

/**
 * Opens a client to the etcd cluster at `endpoints`.
 * @throws SilkError INVALID_ARGUMENT when the endpoints, the deadline or the TLS options are not
 *   valid (an endpoint's scheme must match: https with TLS, http without); CONFIG_INVALID when a TLS file cannot be read
 * @example
 * const etcd = openEtcdConnection({ endpoints: cluster.clientUrls, tls: { caFile, certFile, keyFile } });
 */
export function openEtcdConnection(options: EtcdConnectionOptions): EtcdConnection {
  const follow = typeof options.endpoints === 'function' ? options.endpoints : undefined;
  const endpoints = checkEndpoints(follow === undefined ? options.endpoints as readonly string[] : follow(), options.tls !== undefined);
  const deadlineMs = options.deadlineMs ?? ETCD_CALL_DEADLINE_MS;
  if (!Number.isSafeInteger(deadlineMs) || deadlineMs < 100 || deadlineMs > 120_000) {
    throw new SilkError('INVALID_ARGUMENT', `etcd deadline must be an integer between 100 and 120000 ms; got ${String(deadlineMs)}`);
  }
  const watchBackoff = { duration: WATCH_RECONNECT_MS, next() { return watchBackoff; } };
  const clientOptions: IOptions = {
    hosts: endpoints,
    dialTimeout: deadlineMs,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + attemptMs(deadlineMs) }),
    faultHandling: {
      watchBackoff,
      host: hostPolicy,
    },
    ...(options.tls === undefined ? {} : { credentials: etcdCredentials(options.tls) }),
  };
  const syncMs = options.syncMembersMs ?? (follow === undefined ? 0 : MEMBERS_SYNC_MS);
  if (!Number.isSafeInteger(syncMs) || syncMs < 0 || (syncMs > 0 && syncMs < 100)) {
    throw new SilkError('INVALID_ARGUMENT', `syncMembersMs must be 0 (never) or an integer of at least 100 ms; got ${String(syncMs)}`);
  }
  const user = options.tls?.certFile === undefined ? undefined : certificateUser(options.tls.certFile);
  const client = new Etcd3(clientOptions);
  const connection = new EtcdConnectionImpl(client, endpoints, deadlineMs, user, options.tls !== undefined);
  if (follow !== undefined || syncMs > 0) {
    try {
      connection.follow(follow, syncMs, options.onEndpoints);
    } catch (error) {
      connection.close();
      throw error;
    }
  }
  return connection;
}

/**
 * Checks a list of endpoints for a connection with or without TLS.
 * @throws SilkError INVALID_ARGUMENT naming what is wrong
 */
function checkEndpoints(list: readonly string[], tls: boolean): string[] {
  const endpoints = [...list];
  if (endpoints.length === 0 || endpoints.some((url) => !URL_PATTERN.test(url))) {
    throw new SilkError('INVALID_ARGUMENT', `etcd endpoints must be one or more URLs like http://127.0.0.1:2379 (https:// with TLS); got ${JSON.stringify(endpoints)}`);
  }
  const scheme = tls ? 'https://' : 'http://';
  const mismatched = endpoints.find((url) => !url.startsWith(scheme));
  if (mismatched !== undefined) {
    throw new SilkError('INVALID_ARGUMENT', tls
      ? `etcd endpoint ${mismatched} is not https: with TLS files every endpoint must be https://host:port`
      : `etcd endpoint ${mismatched} is https: give the client's TLS files (tls option) to connect over TLS`);
  }
  return endpoints;
}

/** Each member's fault handling: a breaker that leaves it alone for {@link HOST_BREAKER_MS} after {@link HOST_BREAKER_FAILURES} failures in a row. */
const hostPolicy = (): CircuitBreakerPolicy =>
  circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: HOST_BREAKER_MS, breaker: new ConsecutiveBreaker(HOST_BREAKER_FAILURES) });

/** A member as the etcd3 client's pool holds it (its address without the scheme is private to it). */
interface PooledHost {
  readonly host: string;
  readonly channelCredentials: unknown;
  readonly channelOptions?: unknown;
  /** Drops its connections now; a later call reconnects (the member-list change closes it later). */
  resetAllServices(): void;
  close(): void;
}

/**
 * The etcd3 client's own list of members, which its API does not expose (etcd3 1.1: the pool's
 * `hosts`, one `Host` per member, called in a shuffled order that is drawn anew for each call).
 * @throws SilkError INTERNAL when the installed etcd3 keeps its members otherwise
 */
function pooledHosts(client: Etcd3): PooledHost[] {
  const hosts = (client as unknown as { pool?: { hosts?: unknown } }).pool?.hosts;
  if (!Array.isArray(hosts) || hosts.length === 0 || !hosts.every((h) => h instanceof Host && typeof (h as unknown as PooledHost).host === 'string')) {
    throw new SilkError('INTERNAL', 'the etcd3 client keeps its members in a way this release does not know (etcd3 1.1 expected): its endpoints cannot change without a restart');
  }
  return hosts as PooledHost[];
}

/**
 * How long a removed member's client object stays open. An operation that began before the
 * removal may still try it among its retries (each operation draws its order of members once);
 * closed, it would answer with the client's "already closed" error, which callers take for the
 * whole connection closing. Its connections are dropped at once; after this, no operation can
 * still be running (each has a deadline of seconds), and it is closed.
 */
const REMOVED_HOST_CLOSE_MS = 60_000;

/** An endpoint as the pool names its member: without the scheme. */
const hostKey = (url: string): string => url.replace(/^https?:\/\//, '');

/** A list of endpoints as a set of members, for comparing lists in any order. */
const listKey = (list: readonly string[]): string => list.map(hostKey).sort().join(' ');

/** The Common Name of a PEM certificate file (the etcd user it acts as), undefined when it has none. */
function certificateUser(file: string): string | undefined {
  try {
    const subject = new X509Certificate(readFileSync(file)).subject;
    return /^CN=(.*)$/m.exec(subject)?.[1];
  } catch (cause) {
    throw new SilkError('CONFIG_INVALID', `etcd client certificate ${file} is not a readable PEM certificate: ${(cause as Error).message}`, { file }, { cause });
  }
}

/**
 * The etcd3 client's TLS credentials from PEM files. Every TLS client of etcd (the connections of
 * {@link openEtcdConnection} and the cluster launcher's own) builds its credentials here, so this is
 * also where the process stops printing the IP-server-name notice ({@link dropIpServerNameWarning}).
 * @throws SilkError INVALID_ARGUMENT when only one of certFile and keyFile is given; CONFIG_INVALID naming a file that cannot be read
 * @example new Etcd3({ hosts: 'https://127.0.0.1:2379', credentials: etcdCredentials({ caFile, certFile, keyFile }) })
 */
export function etcdCredentials(tls: EtcdClientTlsFiles): { rootCertificate: Buffer; certChain?: Buffer; privateKey?: Buffer } {
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new SilkError('INVALID_ARGUMENT', 'etcd client TLS needs both certFile and keyFile (mutual TLS), or neither');
  }
  dropIpServerNameWarning();
  const read = (file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (cause) {
      throw new SilkError('CONFIG_INVALID', `cannot read etcd client TLS file ${file}: ${(cause as Error).message} (silk network up writes them when it bootstraps a network)`, { file }, { cause });
    }
  };
  const rootCertificate = read(tls.caFile);
  if (tls.certFile === undefined || tls.keyFile === undefined) return { rootCertificate };
  return { rootCertificate, certChain: read(tls.certFile), privateKey: read(tls.keyFile) };
}

class EtcdConnectionImpl implements EtcdConnection {
  #endpoints: readonly string[];
  #followTimer: NodeJS.Timeout | undefined;
  #syncTimer: NodeJS.Timeout | undefined;
  /** Whether a member list is being asked for now. */
  #syncing = false;
  /** Why the last request for the member list failed; undefined once one was answered. */
  #unsynced: string | undefined;
  #closed = false;
  /** Members removed from the list, each closed after {@link REMOVED_HOST_CLOSE_MS}. */
  readonly #removed = new Map<PooledHost, NodeJS.Timeout>();

  constructor(readonly client: Etcd3, endpoints: readonly string[], readonly deadlineMs: number, readonly user: string | undefined, private readonly tls: boolean) {
    this.#endpoints = endpoints;
  }

  get endpoints(): readonly string[] {
    return this.#endpoints;
  }

  get closed(): boolean {
    return this.#closed;
  }

  setEndpoints(list: readonly string[]): boolean {
    const next = checkEndpoints(list, this.tls);
    const keys = new Set(next.map(hostKey));
    const before = new Set(this.#endpoints.map(hostKey));
    if (keys.size === before.size && [...keys].every((k) => before.has(k))) {
      this.#endpoints = next;
      return false;
    }
    const hosts = pooledHosts(this.client);
    const template = hosts[0] as PooledHost;
    const kept = new Map(hosts.map((h) => [h.host, h]));
    const chosen = [...keys].map((key) => kept.get(key) ?? new Host(key, template.channelCredentials as never, template.channelOptions as never, hostPolicy()) as unknown as PooledHost);
    const dropped = hosts.filter((h) => !keys.has(h.host));
    hosts.splice(0, hosts.length, ...chosen);
    for (const h of dropped) {
      h.resetAllServices();
      const timer = setTimeout(() => {
        this.#removed.delete(h);
        h.close();
      }, REMOVED_HOST_CLOSE_MS);
      timer.unref();
      this.#removed.set(h, timer);
    }
    this.#endpoints = next;
    return true;
  }

  /**
   * Applies the lists of `endpoints` (asked every {@link ENDPOINTS_CHECK_MS}, taken when it
   * changes) and of the cluster (asked every `syncMs`), telling `onEvent` what changed.
   */
  follow(endpoints: (() => readonly string[]) | undefined, syncMs: number, onEvent: ((event: EtcdEndpointsEvent) => void) | undefined): void {
    // A client whose member list cannot change fails now, not at the first change.
    pooledHosts(this.client);
    if (endpoints !== undefined) {
      let given = listKey(this.#endpoints);
      this.#followTimer = setInterval(() => {
        let list: readonly string[];
        try {
          list = endpoints();
        } catch (error) {
          const reason = `the list could not be had: ${(error as Error).message}`;
          if (given !== reason) onEvent?.({ kind: 'refused', source: 'given', endpoints: this.#endpoints, reason });
          given = reason;
          return;
        }
        const key = listKey(list);
        if (key === given) return;
        given = key;
        this.#apply(list, 'given', undefined, onEvent);
      }, ENDPOINTS_CHECK_MS);
      this.#followTimer.unref();
    }
    if (syncMs > 0) {
      this.#syncTimer = setInterval(() => { void this.#syncFromCluster(onEvent); }, syncMs);
      this.#syncTimer.unref();
    }
  }

  /** Makes the client call `list`, telling `onEvent` what changed or why the list was refused. */
  #apply(list: readonly string[], source: EtcdEndpointsSource, names: Readonly<Record<string, string>> | undefined, onEvent: ((event: EtcdEndpointsEvent) => void) | undefined): void {
    const before = this.#endpoints;
    try {
      if (!this.setEndpoints(list)) return;
    } catch (error) {
      onEvent?.({ kind: 'refused', source, endpoints: this.#endpoints, reason: (error as Error).message });
      return;
    }
    const now = new Set(this.#endpoints.map(hostKey));
    const was = new Set(before.map(hostKey));
    onEvent?.({
      kind: 'changed',
      source,
      endpoints: this.#endpoints,
      added: this.#endpoints.filter((u) => !was.has(hostKey(u))),
      removed: before.filter((u) => !now.has(hostKey(u))),
      ...(names === undefined ? {} : { names }),
    });
  }

  /**
   * Asks the cluster for its members and calls the voting ones that have started; while one is
   * being added (a learner, or not started), only adds. Nothing changes when no member answers.
   */
  async #syncFromCluster(onEvent: ((event: EtcdEndpointsEvent) => void) | undefined): Promise<void> {
    // close() stops the timer; an answer arriving after it is dropped below.
    if (this.#syncing) return;
    this.#syncing = true;
    try {
      const { members } = await this.call('list the cluster members', () => this.client.cluster.memberList({}));
      this.#unsynced = undefined;
      if (this.#closed) return;
      const scheme = this.tls ? 'https://' : 'http://';
      const names: Record<string, string> = {};
      let changing = false;
      for (const m of members) {
        const urls = m.clientURLs.map((u) => u.replace(/\/+$/, '')).filter((u) => u.startsWith(scheme));
        if (m.isLearner || urls.length === 0) changing = true;
        else for (const u of urls) names[u] = m.name;
      }
      const listed = Object.keys(names);
      if (listed.length === 0) return;
      const next = changing ? [...this.#endpoints, ...listed.filter((u) => !this.#endpoints.some((e) => hostKey(e) === hostKey(u)))] : listed;
      this.#apply(next, 'cluster', names, onEvent);
    } catch (error) {
      if (this.#closed || this.#unsynced !== undefined) return;
      this.#unsynced = (error as Error).message;
      onEvent?.({ kind: 'unsynced', endpoints: this.#endpoints, reason: this.#unsynced });
    } finally {
      this.#syncing = false;
    }
  }

  deadline(): number {
    return Date.now() + attemptMs(this.deadlineMs);
  }

  async call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`no answer within ${this.deadlineMs} ms`));
      }, this.deadlineMs + 250);
    });
    try {
      return await Promise.race([operation(), timeout]);
    } catch (error) {
      throw orderingUnavailable(what, this.endpoints, error, this.user);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#followTimer);
    clearInterval(this.#syncTimer);
    for (const [h, timer] of this.#removed) {
      clearTimeout(timer);
      h.close();
    }
    this.#removed.clear();
    this.client.close();
  }
}

/** True when etcd refused the call for lack of permission (or because the certificate's CN is no user). */
export function isPermissionDenied(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof EtcdPermissionDeniedError || e instanceof EtcdUserNotFoundError) return true;
    if (isSilkError(e) && e.details.reason === 'permission-denied') return true;
    if (/(etcdserver|auth): (permission denied|user name not found|user not found)/.test(e.message)) return true;
  }
  return false;
}

/**
 * Maps a client failure to `ORDERING_UNAVAILABLE` (a {@link SilkError} passes through): reason
 * `permission-denied` when etcd refused the user (`user`: the certificate's CN), else `unreachable`.
 */
export function orderingUnavailable(what: string, endpoints: readonly string[], error: unknown, user?: string): SilkError {
  if (isSilkError(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  if (isPermissionDenied(error)) {
    const who = user === undefined ? 'this client' : `etcd user '${user}'`;
    return new SilkError(
      'ORDERING_UNAVAILABLE',
      `etcd at ${endpoints.join(', ')} refused ${who} permission to ${what} (${reason}): only registered orderers may write the ordering log and registered peers read it; a process removed from the network is refused`,
      { endpoints: [...endpoints], reason: 'permission-denied', ...(user === undefined ? {} : { user }) },
      { cause: error },
    );
  }
  return new SilkError(
    'ORDERING_UNAVAILABLE',
    `etcd cluster at ${endpoints.join(', ')} unreachable or without quorum while trying to ${what}: ${reason}`,
    { endpoints: [...endpoints], reason: 'unreachable' },
    { cause: error },
  );
}

