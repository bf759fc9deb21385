/**
 * One leader per chain among orderer processes, by a lease and a transaction on etcd: the leader
 * key `/silk/<chain>/leader` is created only when absent and is bound to the candidate's lease.
 * The key's create revision is the leadership term; the block log's append compares it, so an
 * orderer whose lease expired (paused, cut off) cannot append even before it notices.
 */
import { EtcdLeaseInvalidError, type Lease, type Watcher } from 'etcd3';
import { SilkError } from '../errors.js';
import { isPermissionDenied, type EtcdConnection } from './etcd-client.js';
import { chainPrefix } from './etcd-keys.js';

/**
 * Lease TTL of a candidacy: 3 s (the etcd3 client's election default is 60 s, which would leave
 * a chain without a working orderer for a minute after its leader dies). Keep-alives go every
 * TTL / 3; leadership is dropped locally as soon as TTL has passed since the last acknowledged
 * keep-alive was sent, which is never later than etcd itself expires the lease.
 */
export const ELECTION_TTL_SECONDS = 3;
/** While not leading, how often the candidate retries even without a watch event. */
const RETRY_MS = 500;
/**
 * After a keep-alive that failed (etcd electing a leader of its own, a member down), the next one
 * goes this soon instead of a third of the TTL later: the lease is still valid on etcd's side (a new
 * etcd leader renews every lease), so the first keep-alive that gets through once etcd has a leader
 * again keeps the orderer leading, and the chain needs no new election of its own.
 */
const KEEPALIVE_RETRY_MS = 200;

/** Proof of leadership, passed to the block log's `append()`. */
export interface ChainLeadership {
  readonly chain: string;
  readonly candidate: string;
  /** The leader key. */
  readonly key: string;
  /** Create revision of the leader key: unique per term, compared by every append. */
  readonly term: string;
  /** When this candidate became leader (its own clock). */
  readonly since: Date;
  /** False once the lease is known or presumed lost; appends then fail anyway. */
  isValid(): boolean;
}

/** Who leads a chain, as stored in etcd (for metrics and operators). */
export interface ChainLeaderInfo {
  readonly candidate: string;
  readonly since: Date;
  readonly term: string;
}

/** Options of {@link openChainElection}. */
export interface ChainElectionOptions {
  readonly chain: string;
  /** This orderer's name, shown as the leader (1–128 printable characters). */
  readonly candidate: string;
  /** Lease TTL in whole seconds, 1 to 60 (default {@link ELECTION_TTL_SECONDS}). */
  readonly ttlSeconds?: number;
}

/** Why leadership ended. */
export type LeadershipLossReason = 'lease-expired' | 'lease-unconfirmed' | 'resigned' | 'closed';

/** A candidacy for leading one chain. */
export interface ChainElection {
  readonly chain: string;
  readonly candidate: string;
  /**
   * Campaigns until this candidate leads and resolves with the leadership (at once if it
   * already leads). Keeps its lease alive while it waits.
   * @throws SilkError SHUTTING_DOWN when the election is closed while waiting
   */
  campaign(): Promise<ChainLeadership>;
  /** The current leadership of this candidate, if still valid. */
  current(): ChainLeadership | undefined;
  /** Called once each time this candidate's leadership ends, with the reason. */
  onLost(listener: (leadership: ChainLeadership, reason: LeadershipLossReason) => void): () => void;
  /**
   * Who leads the chain now according to etcd.
   * @throws SilkError ORDERING_UNAVAILABLE when etcd cannot be read
   */
  leader(): Promise<ChainLeaderInfo | undefined>;
  /** Gives up leadership (deletes the key by revoking the lease); a later `campaign()` runs again. */
  resign(): Promise<void>;
  /** Resigns and stops. */
  close(): Promise<void>;
}

const CANDIDATE_PATTERN = /^[\x21-\x7e][\x20-\x7e]{0,127}$/;

/**
 * Opens a candidacy for leading `options.chain`; nothing is written until `campaign()`.
 * @throws SilkError INVALID_ARGUMENT for a bad chain, candidate or TTL
 * @example
 * const election = openChainElection(etcd, { chain: 'trade', candidate: 'orderer-1' });
 * const leadership = await election.campaign();
 * await log.append(height, block, leadership);
 */
export function openChainElection(connection: EtcdConnection, options: ChainElectionOptions): ChainElection {
  const prefix = chainPrefix(options.chain);
  if (!CANDIDATE_PATTERN.test(options.candidate)) {
    throw new SilkError('INVALID_ARGUMENT', `candidate name must be 1 to 128 printable ASCII characters; got ${JSON.stringify(options.candidate)}`);
  }
  const ttl = options.ttlSeconds ?? ELECTION_TTL_SECONDS;
  if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > 60) {
    throw new SilkError('INVALID_ARGUMENT', `election TTL must be a whole number of seconds from 1 to 60; got ${String(ttl)}`);
  }
  return new EtcdChainElection(connection, options.chain, options.candidate, `${prefix}leader`, ttl);
}

interface LeaseState {
  readonly lease: Lease;
  readonly id: string;
  /** Local time until which etcd certainly still holds the lease. */
  validUntil: number;
  lost: boolean;
  timer?: NodeJS.Timeout;
}

class EtcdChainElection implements ChainElection {
  readonly #conn: EtcdConnection;
  readonly #key: string;
  readonly #ttl: number;
  #lease: LeaseState | undefined;
  /**
   * A lease given up because no keep-alive was answered in time (etcd without quorum, cut off):
   * etcd still holds it, and with it this candidate's old leader key, until it expires (a new etcd
   * leader even extends every lease by its TTL). It is revoked before the next campaign, so the
   * chain gets a leader as soon as etcd answers again instead of a TTL later.
   */
  #unconfirmed: LeaseState | undefined;
  #leadership: (ChainLeadership & { lost: boolean }) | undefined;
  #closed = false;
  #campaigning: Promise<ChainLeadership> | undefined;
  readonly #listeners = new Set<(leadership: ChainLeadership, reason: LeadershipLossReason) => void>();

  constructor(conn: EtcdConnection, readonly chain: string, readonly candidate: string, key: string, ttl: number) {
    this.#conn = conn;
    this.#key = key;
    this.#ttl = ttl;
  }

  /** Read through a method: `close()` flips it while the campaign loop awaits. */
  #isClosed(): boolean { return this.#closed; }

  current(): ChainLeadership | undefined {
    const leadership = this.#leadership;
    return leadership?.isValid() === true ? leadership : undefined;
  }

  onLost(listener: (leadership: ChainLeadership, reason: LeadershipLossReason) => void): () => void {
    this.#listeners.add(listener);
    return () => { this.#listeners.delete(listener); };
  }

  #lose(reason: LeadershipLossReason): void {
    const leadership = this.#leadership;
    if (leadership === undefined || leadership.lost) return;
    leadership.lost = true;
    this.#leadership = undefined;
    for (const listener of this.#listeners) listener(leadership, reason);
  }

  async #grantLease(): Promise<LeaseState> {
    const lease = this.#conn.client.lease(this.#ttl, { autoKeepAlive: false, deadline: this.#conn.deadline() });
    const sentAt = Date.now();
    const id = await this.#conn.call(`grant a ${this.#ttl} s lease for the leader of chain ${this.chain}`, () => lease.grant());
    const state: LeaseState = { lease, id, validUntil: sentAt + this.#ttl * 1000, lost: false };
    this.#lease = state;
    this.#scheduleKeepAlive(state);
    return state;
  }

  #scheduleKeepAlive(state: LeaseState, delayMs = (this.#ttl * 1000) / 3): void {
    state.timer = setTimeout(() => { void this.#keepAlive(state); }, delayMs);
  }

  /** Read through a method: a loss may be recorded while a keep-alive awaits. */
  #isCurrentLease(state: LeaseState): boolean { return !state.lost && this.#lease === state; }

  async #keepAlive(state: LeaseState): Promise<void> {
    if (state.lost || this.#lease !== state) return;
    const sentAt = Date.now();
    try {
      // One attempt's deadline (1 s), not the operation's: a keep-alive stuck on a dead member gives
      // way to the next one, on another member, while the lease is still valid.
      const response = await state.lease.keepaliveOnce({ deadline: Math.min(this.#conn.deadline(), state.validUntil) });
      if (Number(response.TTL) <= 0) { this.#leaseLost(state, 'lease-expired'); return; }
      state.validUntil = Math.max(state.validUntil, sentAt + Number(response.TTL) * 1000);
    } catch (error) {
      if (error instanceof EtcdLeaseInvalidError) { this.#leaseLost(state, 'lease-expired'); return; }
      if (Date.now() >= state.validUntil) { this.#leaseLost(state, 'lease-unconfirmed'); return; }
      if (this.#isCurrentLease(state)) this.#scheduleKeepAlive(state, KEEPALIVE_RETRY_MS);
      return;
    }
    if (this.#isCurrentLease(state)) this.#scheduleKeepAlive(state);
  }

  #leaseLost(state: LeaseState, reason: LeadershipLossReason): void {
    state.lost = true;
    clearTimeout(state.timer);
    state.lease.release();
    if (reason === 'lease-unconfirmed') this.#unconfirmed = state;
    if (this.#lease === state) this.#lease = undefined;
    this.#lose(reason);
  }

  campaign(): Promise<ChainLeadership> {
    const current = this.current();
    if (current !== undefined) return Promise.resolve(current);
    this.#campaigning ??= this.#campaignLoop().finally(() => { this.#campaigning = undefined; });
    return this.#campaigning;
  }

  async #campaignLoop(): Promise<ChainLeadership> {
    for (;;) {
      if (this.#isClosed()) throw new SilkError('SHUTTING_DOWN', `election for chain ${this.chain} closed while campaigning`);
      try {
        await this.#revokeUnconfirmed();
        const state = this.#lease !== undefined && !this.#lease.lost ? this.#lease : await this.#grantLease();
        const won = await this.#tryAcquire(state);
        if (won !== undefined) return won;
      } catch (error) {
        if (error instanceof SilkError && error.code === 'SHUTTING_DOWN') throw error;
        if (this.#conn.closed) throw new SilkError('SHUTTING_DOWN', `etcd connection closed while campaigning for chain ${this.chain}`, {}, { cause: error });
        // etcd unreachable: keep campaigning; the lease state tells whether the next try needs a new lease.
      }
      await this.#waitForVacancy();
    }
  }

  /**
   * Revokes the {@link #unconfirmed} lease, deleting the leader key it may still bind (only this
   * candidate's own: another leader's key is bound to that leader's lease). A lease gone already
   * counts as revoked; one etcd refuses to revoke is left to expire.
   * @throws SilkError ORDERING_UNAVAILABLE while etcd cannot be reached (the campaign waits and tries again)
   */
  async #revokeUnconfirmed(): Promise<void> {
    const stale = this.#unconfirmed;
    if (stale === undefined) return;
    const client = this.#conn.client;
    try {
      await this.#conn.call(`revoke the unconfirmed leader lease of chain ${this.chain}`, () => client.leaseClient.leaseRevoke({ ID: stale.id }, { deadline: this.#conn.deadline() }));
    } catch (error) {
      const gone = error instanceof SilkError && error.cause instanceof EtcdLeaseInvalidError;
      if (!gone && !isPermissionDenied(error)) throw error;
    }
    if (this.#unconfirmed === stale) this.#unconfirmed = undefined;
  }

  async #tryAcquire(state: LeaseState): Promise<ChainLeadership | undefined> {
    const since = new Date();
    const value = JSON.stringify({ candidate: this.candidate, since: since.toISOString() });
    const client = this.#conn.client;
    const result = await this.#conn.call(`campaign for the leader of chain ${this.chain}`, () => client
      .if(this.#key, 'Create', '==', 0)
      .then(client.put(this.#key).value(value).lease(state.id))
      .else(client.get(this.#key))
      .commit());
    if (!result.succeeded) {
      const kv = result.responses[0]?.response_range.kvs[0];
      // Our own key from an earlier term whose answer was lost: the lease still binds it, so it is ours.
      if (kv?.lease !== state.id) return undefined;
      return this.#becomeLeader(state, kv.create_revision, since);
    }
    return this.#becomeLeader(state, result.header.revision, since);
  }

  #becomeLeader(state: LeaseState, term: string, since: Date): ChainLeadership {
    const leadership = {
      chain: this.chain, candidate: this.candidate, key: this.#key, term, since, lost: false,
      isValid: () => !leadership.lost && !state.lost && Date.now() < state.validUntil,
    };
    this.#leadership = leadership;
    return leadership;
  }

  /** Waits until the leader key is deleted, or {@link RETRY_MS} at most (a watch may miss while etcd is down). */
  async #waitForVacancy(): Promise<void> {
    let done = false;
    let watcher: Watcher | undefined;
    let timer: NodeJS.Timeout | undefined;
    const vacated = this.#conn.client.watch().key(this.#key).only('delete').create().then((w) => {
      if (done) { void w.cancel().catch(() => undefined); return new Promise<void>(() => undefined); }
      watcher = w;
      return new Promise<void>((resolve) => { w.once('delete', () => { resolve(); }); });
    }, () => new Promise<void>(() => undefined));
    await Promise.race([new Promise<void>((resolve) => { timer = setTimeout(resolve, RETRY_MS); }), vacated]);
    done = true;
    clearTimeout(timer);
    const w: Watcher | undefined = watcher;
    if (w !== undefined) void w.cancel().catch(() => undefined);
  }

  async leader(): Promise<ChainLeaderInfo | undefined> {
    const client = this.#conn.client;
    const response = await this.#conn.call(`read the leader of chain ${this.chain}`, () => client.get(this.#key).exec());
    const kv = response.kvs[0];
    if (kv === undefined) return undefined;
    try {
      const parsed = JSON.parse(kv.value.toString('utf8')) as { candidate?: unknown; since?: unknown };
      if (typeof parsed.candidate !== 'string' || typeof parsed.since !== 'string') throw new Error('fields missing');
      return { candidate: parsed.candidate, since: new Date(parsed.since), term: kv.create_revision };
    } catch {
      throw new SilkError('ORDERING_UNAVAILABLE', `leader key ${this.#key} holds ${JSON.stringify(kv.value.toString('utf8').slice(0, 200))}, not a Silkledger leader record`, { reason: 'bad-leader-record' });
    }
  }

  async resign(): Promise<void> {
    const state = this.#lease;
    this.#lose('resigned');
    if (state === undefined) return;
    state.lost = true;
    clearTimeout(state.timer);
    if (this.#lease === state) this.#lease = undefined;
    await this.#conn.call(`revoke the leader lease of chain ${this.chain}`, () => state.lease.revoke({ deadline: this.#conn.deadline() }));
  }

  /**
   * Resigns and stops, revoking a lease that went unconfirmed too (its leader key would otherwise
   * keep the chain leaderless for a TTL after etcd's quorum returned); if etcd cannot be reached,
   * the leases simply expire within their TTL.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#lose('closed');
    await Promise.all([this.resign().catch(() => undefined), this.#revokeUnconfirmed().catch(() => undefined)]);
  }
}
