/**
 * What the API serves from: one peer's ledger for reads, a gateway for writes, the ordering
 * service's heights for readiness and, in the demo alliance only, the demo users' keys.
 */
import type { Signer } from '../crypto/p256.js';
import type { Gateway } from '../gateway/gateway.js';
import type { EmbeddedNetwork } from '../network/embedded-network.js';
import type { Peer } from '../peer/peer.js';
import { SilkError } from '../errors.js';

/** The parts of a node the API uses. */
export interface ApiBackend {
  /** The peer whose ledger reads come from (and whose commits submits wait for). */
  readonly peer: Peer;
  readonly gateway: Gateway;
  /** Blocks the ordering service has cut on a chain. */
  orderedHeight(chain: string): number;
  /** Demo users' signers by `org/name`: only the demo alliance has them. */
  readonly demoIdentities?: ReadonlyMap<string, Signer>;
}

/** Options of {@link embeddedApiBackend}. */
export interface EmbeddedApiBackendOptions {
  /** The org whose peer and gateway the API uses. */
  readonly org: string;
  /** Demo identities (`{org, name}`) whose server-held keys the demo mode may use. */
  readonly demoIdentities?: readonly { readonly org: string; readonly name: string }[];
}

/**
 * The backend of an embedded network, as the given org's node.
 * @throws SilkError INVALID_ARGUMENT when the org has no peer
 * @example const backend = embeddedApiBackend(net, { org: 'Platform' })
 */
export function embeddedApiBackend(net: EmbeddedNetwork, options: EmbeddedApiBackendOptions): ApiBackend {
  const peer = net.peers.find((p) => p.org === options.org);
  if (peer === undefined) throw new SilkError('INVALID_ARGUMENT', `org ${options.org} has no peer in this network`);
  const demo = options.demoIdentities === undefined ? undefined : new Map(options.demoIdentities.map((d) => [`${d.org}/${d.name}`, net.identity(d.org, d.name)]));
  return {
    peer,
    gateway: net.gateway(options.org),
    orderedHeight: (chain) => net.orderer.height(chain),
    ...(demo === undefined ? {} : { demoIdentities: demo }),
  };
}
