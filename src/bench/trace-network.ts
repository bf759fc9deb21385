/**
 * The network of the traceability benchmarks: four orgs of a supply chain (brand owner,
 * packer/warehouse, carrier, retailer), one peer and one capturing user each, and one chain
 * `supply` running the `epcis` contract endorsed by any one org's peer. Each org captures its
 * own steps with its own key, so every recorded event says which org recorded it.
 */
import { EpcisContract } from '../contracts/traceability/epcis-contract.js';
import type { Signer } from '../crypto/p256.js';
import type { SignedProposal } from '../ledger/proposal.js';
import { openEmbeddedNetwork, type EmbeddedNetwork, type NetworkSpec } from '../network/embedded-network.js';
import { prepareCapture } from '../traceability/epcis-capture.js';
import { captureDocumentOf, SUPPLY_ORGS, type CaptureBatch, type SupplyOrg } from './trace-events.js';

/** The chain the supply network records events on. */
export const SUPPLY_CHAIN = 'supply';
/** The user of each org that captures its events. */
export const SUPPLY_USER = 'capture';

/** The supply network: four orgs, one peer each; `supply` runs `epcis` with an any-one-org policy. */
export const SUPPLY_NETWORK_SPEC: NetworkSpec = {
  orgs: SUPPLY_ORGS.map((name) => ({ name, peers: 1, users: [SUPPLY_USER] })),
  chains: [{ name: SUPPLY_CHAIN, contracts: [{ name: 'epcis', policy: `OR(${SUPPLY_ORGS.map((o) => `'${o}.peer'`).join(', ')})` }] }],
};

/**
 * Opens (or creates) the supply network in `dataDir`, signatures checked on the worker pool.
 * @throws SilkError DATA_FOLDER_LOCKED when another process runs it
 */
export function openSupplyNetwork(dataDir: string): Promise<EmbeddedNetwork> {
  return openEmbeddedNetwork({ dataDir, spec: SUPPLY_NETWORK_SPEC, contracts: [new EpcisContract()], parallelVerify: true, commitTimeoutMs: 300_000 });
}

/** A capture transaction signed by its org, ready to submit. */
export interface SignedCapture {
  readonly org: SupplyOrg;
  readonly signed: SignedProposal;
  readonly events: number;
}

/**
 * What a client does before it submits a batch: builds the EPCIS document, validates it and
 * computes its event hashes (`prepareCapture`), and signs one `captureEvents` proposal per part
 * (one unless the batch is too large for one transaction) with the org's key.
 * @throws SilkError INVALID_ARGUMENT when a generated event does not validate
 */
export function signCaptures(net: EmbeddedNetwork, batch: CaptureBatch, signers: ReadonlyMap<SupplyOrg, Signer>): SignedCapture[] {
  const prepared = prepareCapture(captureDocumentOf(batch));
  const signer = signers.get(batch.org);
  if (signer === undefined) throw new RangeError(`no signer for org ${batch.org}`);
  // A batch whose transaction would be too large is split as any client's capture is (prepareCapture's parts).
  return prepared.parts.map((args) => ({ org: batch.org, signed: net.gateway(batch.org).propose({ chain: SUPPLY_CHAIN, contract: 'epcis', fn: 'captureEvents', args }, signer), events: args.events.length }));
}

/** Each org's capturing key. */
export function supplySigners(net: EmbeddedNetwork): Map<SupplyOrg, Signer> {
  return new Map(SUPPLY_ORGS.map((org) => [org, net.identity(org, SUPPLY_USER)]));
}
