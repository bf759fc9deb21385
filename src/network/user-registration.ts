/**
 * Puts an embedded network's function users on chain (docs/identity.md): for each user of the
 * spec with a function and level, its org's admin signs an identity certificate for the user's
 * key and registers it through the identity contract on every chain the org is a member of.
 * Users so registered are not configuration members; their keys resolve from the registry.
 */
import { toHex } from '../crypto/hash.js';
import { CommitError } from '../errors.js';
import { signCertificate } from '../identity/identity-certificate.js';
import { IDENTITY_CONTRACT } from '../identity/identity-record.js';
import type { EmbeddedNetwork, NetworkSpec } from './embedded-network.js';
import { orgUsers, type OrgUser } from './org-keyring.js';

/** Parameters of {@link registerFunctionUsers}. */
export interface RegisterFunctionUsersParameters {
  /** First millisecond the keys are valid (default: a minute ago, to allow for clock skew). */
  readonly notBefore?: number;
  /** Last millisecond the keys are valid (default: ten years after `notBefore`). */
  readonly notAfter?: number;
  /** Called after each registration commits, with (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What {@link registerFunctionUsers} did: registrations committed per chain. */
export type RegisterFunctionUsersResult = Readonly<Record<string, number>>;

/** One registration: a function user of `org` on `chain`. */
export interface PlannedRegistration {
  readonly org: string;
  readonly chain: string;
  readonly user: Extract<OrgUser, { configured: false }>;
}

/**
 * The registrations {@link registerFunctionUsers} submits for a spec: each function user on each
 * chain of its org, in spec order.
 * @throws SilkError CONFIG_INVALID for a bad user (see `orgUsers`)
 */
export function plannedRegistrations(spec: NetworkSpec): PlannedRegistration[] {
  return spec.orgs.flatMap((org) => {
    const chains = spec.chains.filter((c) => c.orgs === undefined || c.orgs.includes(org.name)).map((c) => c.name);
    return orgUsers(org).flatMap((user) => (user.configured ? [] : chains.map((chain) => ({ org: org.name, user, chain }))));
  });
}

const MINUTE_MS = 60_000;
const TEN_YEARS_MS = 10 * 365 * 24 * 3_600_000;

/**
 * Registers every function user of the network's spec on each chain of its org, concurrently.
 * Call it once, on a network this start created (a registered key cannot be registered again).
 * @param net the network
 * @returns registrations per chain
 * @throws CommitError when a registration commits invalid; the gateway's errors (EndorseError
 *   CONTRACT_ERROR when a key is already registered)
 * @example if (net.created) await registerFunctionUsers(net)
 */
export async function registerFunctionUsers(net: EmbeddedNetwork, params: RegisterFunctionUsersParameters = {}): Promise<RegisterFunctionUsersResult> {
  const notBefore = params.notBefore ?? Date.now() - MINUTE_MS;
  const notAfter = params.notAfter ?? notBefore + TEN_YEARS_MS;
  const jobs = plannedRegistrations(net.spec);
  const perChain: Record<string, number> = Object.fromEntries(net.spec.chains.map((c) => [c.name, 0]));
  let done = 0;
  await Promise.all(jobs.map(async ({ org, user, chain }) => {
    const admin = net.identity(org, 'admin');
    const { bytes, signature } = signCertificate({
      v: 1, chain, org, key: net.identity(org, user.name).publicKey, parent: admin.publicKey,
      function: user.function, level: user.level, path: user.path, kind: 'member', notBefore, notAfter,
    }, admin);
    const r = await net.gateway(org).submit({ chain, contract: IDENTITY_CONTRACT, fn: 'register', args: { certificate: toHex(bytes), signature: toHex(signature) } }, admin);
    if (r.code !== 'VALID') throw new CommitError(r.code, `registering ${org}/${user.name} on ${chain} committed as ${r.code}`, { txId: r.txId, block: r.blockNumber });
    perChain[chain] = (perChain[chain] ?? 0) + 1;
    done += 1;
    params.onProgress?.(done, jobs.length);
  }));
  return perChain;
}
