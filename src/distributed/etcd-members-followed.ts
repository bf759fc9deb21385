/**
 * The etcd members a running orderer or peer calls. The process follows its network description
 * (`silk network etcd add | remove` rewrite it) and the cluster's own member list (asked every
 * few seconds, so a change made from another host reaches it although its copy of the description
 * is older): its etcd client calls those members without a restart (etcd-client.ts applies them).
 * The members it calls are published in its data folder, `etcd-members.json`, so the membership
 * commands can tell which members every running process uses without asking it over the network
 * (a paused process does not take a change until it runs again, and its file says so).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { EtcdConnectionOptions, EtcdEndpointsEvent } from './etcd-client.js';
import { urlHost, type NetworkDescription, type NetworkDescriptionWatch } from './network-description.js';

/** The file in a process's data folder naming the etcd members it calls. */
export const ETCD_MEMBERS_FILE = 'etcd-members.json';

/** The contents of {@link ETCD_MEMBERS_FILE}. */
export interface EtcdMembersRecord {
  /**
   * Names of the members the process's etcd client calls (as the description names them), in the
   * description's order, then members it does not list yet by name.
   */
  readonly members: readonly string[];
  /** Their client URLs, in the same order. */
  readonly endpoints: readonly string[];
  /** When the process took this list (ISO 8601). */
  readonly since: string;
}

/**
 * Client URLs of the described etcd members: `https://` when `tls`, else `http://`.
 * @example describedEtcdEndpoints(description, true) // ['https://127.0.0.1:2379', …]
 */
export function describedEtcdEndpoints(description: NetworkDescription, tls: boolean): string[] {
  return description.etcd.map((e) => `${tls ? 'https' : 'http'}://${urlHost(e.host)}:${e.clientPort}`);
}

/** Parameters of {@link followDescribedEtcdMembers}. */
export interface FollowedEtcdMembers {
  /** Whether the process calls etcd over TLS (then every endpoint is https). */
  readonly tls: boolean;
  /** The process's data folder, where {@link ETCD_MEMBERS_FILE} is written. */
  readonly dataDir: string;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
}

/**
 * The `endpoints` and `onEndpoints` of an etcd connection that follows the description's members
 * and publishes them; the record of the members it starts with is written now.
 * @example openEtcdConnection({ ...followDescribedEtcdMembers(watch, { tls: true, dataDir, logger }), tls: files })
 */
export function followDescribedEtcdMembers(watch: NetworkDescriptionWatch, params: FollowedEtcdMembers): { endpoints: () => readonly string[]; onEndpoints: NonNullable<EtcdConnectionOptions['onEndpoints']> } {
  const lists = new WeakMap<NetworkDescription, string[]>();
  const endpoints = (): string[] => {
    const d = watch.current();
    let list = lists.get(d);
    if (list === undefined) {
      list = describedEtcdEndpoints(d, params.tls);
      lists.set(d, list);
    }
    return list;
  };
  const publish = (urls: readonly string[], names: Readonly<Record<string, string>> = {}): void => {
    const d = watch.current();
    const urlsNow = describedEtcdEndpoints(d, params.tls);
    const byUrl = new Map(d.etcd.map((e, i) => [urlsNow[i] ?? '', e.name]));
    // In the description's order (the cluster answers in its own, by member id), members it does
    // not list yet after them by name, so a list reads the same wherever it comes from.
    const rank = new Map(d.etcd.map((e, i) => [e.name, i]));
    const pairs = urls.map((url) => ({ url, name: names[url] ?? byUrl.get(url) ?? url }));
    pairs.sort((a, b) => (rank.get(a.name) ?? d.etcd.length) - (rank.get(b.name) ?? d.etcd.length) || a.name.localeCompare(b.name, 'en', { numeric: true }));
    const record: EtcdMembersRecord = { members: pairs.map((p) => p.name), endpoints: pairs.map((p) => p.url), since: new Date().toISOString() };
    const file = join(params.dataDir, ETCD_MEMBERS_FILE);
    try {
      writeFileSync(`${file}.tmp`, `${JSON.stringify(record)}\n`);
      renameSync(`${file}.tmp`, file);
    } catch (error) {
      params.logger.warn({ err: error, file }, 'cannot record the etcd members this process calls');
    }
  };
  publish(endpoints());
  const onEndpoints = (event: EtcdEndpointsEvent): void => {
    if (event.kind === 'unsynced') {
      params.logger.warn({ reason: event.reason, endpoints: event.endpoints }, 'cannot ask the etcd cluster for its members: this process keeps calling the ones it has');
      return;
    }
    const from = event.source === 'cluster' ? 'the etcd cluster' : 'the network description';
    if (event.kind === 'refused') {
      params.logger.warn({ reason: event.reason, endpoints: event.endpoints }, `${from} lists etcd members this process cannot call: it keeps the ones it has`);
      return;
    }
    params.logger.info({ endpoints: event.endpoints, added: event.added, removed: event.removed }, `etcd members changed: calling the ones ${from} lists now`);
    publish(event.endpoints, event.names);
  };
  return { endpoints, onEndpoints };
}

/** Whether two lists name the same etcd members, in any order. */
export function sameEtcdMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

/**
 * The etcd members a process in `dataDir` last recorded, undefined when it recorded none (a
 * process of an earlier release, or one that could not write its folder).
 */
export function readEtcdMembersRecord(dataDir: string): EtcdMembersRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(join(dataDir, ETCD_MEMBERS_FILE), 'utf8')) as Partial<EtcdMembersRecord>;
    if (!Array.isArray(record.members) || !record.members.every((m) => typeof m === 'string')) return undefined;
    return { members: record.members, endpoints: Array.isArray(record.endpoints) ? record.endpoints : [], since: typeof record.since === 'string' ? record.since : '' };
  } catch {
    return undefined;
  }
}
