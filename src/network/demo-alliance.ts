/**
 * The demo alliance `silk start` runs: its contracts, the identities a UI may act as, and the
 * demo data it seeds on first start, through real transactions signed by the right users.
 *
 * Until the business contracts arrive, the `basic` asset contract carries the demo data; its
 * fields are used as follows: products keep their colour, size and value; orders and
 * shipments use `colour` for the ISO 4217 currency or the transport mode, `size` for the
 * quantity or parcel count and `appraisedValue` for the amount in minor units. Owners are
 * written `<org>/<user>` or `<org>`.
 */
import { AnchorContract } from '../contracts/anchor/anchor-contract.js';
import { BasicContract } from '../contracts/basic/basic-contract.js';
import { ProductContract } from '../contracts/products/product-contract.js';
import { EpcisContract } from '../contracts/traceability/epcis-contract.js';
import type { Contract } from '../contracts/framework/contract.js';
import { CommitError } from '../errors.js';
import type { JsonValue } from '../ledger/json-value.js';
import { waitForPeerHeight } from '../peer/height-wait.js';
import type { Peer } from '../peer/peer.js';
import { DEMO_SPEC } from './demo-spec.js';
import type { EmbeddedNetwork } from './embedded-network.js';
import { captureDocument } from '../traceability/epcis-capture.js';
import { demoTraceabilitySteps, type TraceabilitySeedStep } from './demo-traceability.js';
import { anchorLatestHeaders, ANCHOR_CHAIN } from './header-anchoring.js';
import { orgUsers } from './org-keyring.js';
import { plannedRegistrations, registerFunctionUsers } from './user-registration.js';

/** The contracts every peer of the demo alliance installs. */
export const DEMO_CONTRACTS: readonly Contract[] = [new BasicContract(), new AnchorContract(), new ProductContract(), new EpcisContract()];

/**
 * The password of every keystore of the demo alliance (orgs' mnemonics, the orderer's key, the
 * users' keys). `silk start` prints it: it protects nothing, it only keeps the keys out of
 * plaintext files so the demo works the way a real deployment does.
 */
export const DEMO_PASSWORD = 'silkledger-demo';

/** The org that anchors the other chains' headers in the demo (it has a peer on every chain). */
export const DEMO_ANCHORING_ORG = 'Platform';

/** An identity of the demo alliance that a UI may offer to act as. */
export interface DemoIdentity {
  readonly org: string;
  /** `admin` or a user name, as `EmbeddedNetwork.identity(org, name)` takes it. */
  readonly name: string;
  /**
   * The role the chains know it by: `admin` for the org admin (a configuration member), `member`
   * for a user (a function key registered through the identity contract).
   */
  readonly role: 'admin' | 'member';
  /** Function in the chains' function registry: `admin` for the org admin. */
  readonly function: string;
  /** Authority level 1..9 (an org admin's is 9). */
  readonly level: number;
  /** Chains its org is a member of, in spec order. */
  readonly chains: readonly string[];
}

function chainsOf(org: string): string[] {
  return DEMO_SPEC.chains.filter((c) => c.orgs === undefined || c.orgs.includes(org)).map((c) => c.name);
}

/** Every org's admin and users in {@link DEMO_SPEC}, in spec order. */
export const DEMO_IDENTITIES: readonly DemoIdentity[] = DEMO_SPEC.orgs.flatMap((o) => [
  { org: o.name, name: 'admin', role: 'admin' as const, function: 'admin', level: 9, chains: chainsOf(o.name) },
  ...orgUsers(o).flatMap((u) => (u.configured ? [] : [{ org: o.name, name: u.name, role: 'member' as const, function: u.function, level: u.level, chains: chainsOf(o.name) }])),
]);

/** What {@link seedDemoAlliance} did. */
export interface SeedSummary {
  /** Users' keys registered through the identity contract, per chain. */
  readonly registrations: Readonly<Record<string, number>>;
  /** Business transactions committed per chain (the anchor run counts on `anchor`). */
  readonly transactions: Readonly<Record<string, number>>;
  /** EPCIS events the traceability story recorded on `product` (demo-traceability.ts). */
  readonly epcisEvents: number;
  /** Block headers the final anchor run recorded. */
  readonly anchoredHeaders: number;
  /** Height of each chain after seeding, at the ordering service. */
  readonly heights: Readonly<Record<string, number>>;
}

/** One seeding transaction: who submits what, where. */
interface SeedStep {
  readonly chain: string;
  readonly org: string;
  readonly user: string;
  readonly fn: string;
  readonly args: JsonValue;
}

const create = (chain: string, org: string, user: string, asset: { id: string; owner: string; colour: string; size: number; appraisedValue: number }): SeedStep =>
  ({ chain, org, user, fn: 'createAsset', args: asset });
const transfer = (chain: string, org: string, user: string, id: string, newOwner: string): SeedStep =>
  ({ chain, org, user, fn: 'transferAsset', args: { id, newOwner } });

/**
 * The seed, in rounds: the steps of a round touch different keys and run concurrently; a
 * round starts when the previous one has committed.
 */
const SEED_ROUNDS: readonly (readonly SeedStep[])[] = [
  [
    // Product lines of the two sellers.
    create('product', 'SellerCN', 'yiwu-seller', { id: 'silk-scarf-001', owner: 'SellerCN/yiwu-seller', colour: 'crimson', size: 1, appraisedValue: 2500 }),
    create('product', 'SellerCN', 'yiwu-seller', { id: 'tea-set-002', owner: 'SellerCN/yiwu-seller', colour: 'celadon', size: 6, appraisedValue: 8900 }),
    create('product', 'SellerCN', 'yiwu-seller', { id: 'lantern-003', owner: 'SellerCN/yiwu-seller', colour: 'gold', size: 2, appraisedValue: 1200 }),
    create('product', 'SellerEU', 'madrid-seller', { id: 'olive-oil-101', owner: 'SellerEU/madrid-seller', colour: 'green', size: 750, appraisedValue: 1450 }),
    create('product', 'SellerEU', 'madrid-seller', { id: 'ceramics-102', owner: 'SellerEU/madrid-seller', colour: 'cobalt', size: 4, appraisedValue: 6200 }),
    // Orders the Platform records; the seller holds the receivable.
    create('trade', 'Platform', 'operator', { id: 'order-0001', owner: 'SellerCN/yiwu-seller', colour: 'EUR', size: 2, appraisedValue: 11_400 }),
    create('trade', 'Platform', 'operator', { id: 'order-0002', owner: 'SellerEU/madrid-seller', colour: 'CNY', size: 3, appraisedValue: 43_500 }),
    create('trade', 'Platform', 'operator', { id: 'order-0003', owner: 'SellerCN/yiwu-seller', colour: 'EUR', size: 4, appraisedValue: 4800 }),
    // Shipments handed to the carrier.
    create('logistics', 'Logistics', 'dispatcher', { id: 'shipment-cn-eu-0001', owner: 'Logistics', colour: 'air', size: 2, appraisedValue: 11_400 }),
    create('logistics', 'Logistics', 'dispatcher', { id: 'shipment-eu-cn-0002', owner: 'Logistics', colour: 'sea', size: 3, appraisedValue: 43_500 }),
  ],
  [
    // Receivables finance: each seller sells an order's receivable to its bank.
    transfer('trade', 'SellerCN', 'yiwu-seller', 'order-0001', 'BankCN'),
    transfer('trade', 'SellerEU', 'madrid-seller', 'order-0002', 'BankEU'),
    // Custody moves to the customs of arrival.
    transfer('logistics', 'CustomsEU', 'officer', 'shipment-cn-eu-0001', 'CustomsEU'),
    transfer('logistics', 'CustomsCN', 'officer', 'shipment-eu-cn-0002', 'CustomsCN'),
  ],
  [
    // Cleared, the first shipment reaches the Madrid warehouse.
    transfer('logistics', 'Warehouse', 'warehouse-keeper', 'shipment-cn-eu-0001', 'Warehouse'),
  ],
];

/** How long the anchoring org's peers may take to commit the last seeded blocks. */
const CATCH_UP_TIMEOUT_MS = 10_000;

/** Resolves when `peer` holds `height` blocks of `chain`. @throws CommitError COMMIT_TIMEOUT */
async function waitForHeight(peer: Peer, chain: string, height: number): Promise<void> {
  if (!(await waitForPeerHeight(peer, chain, height, CATCH_UP_TIMEOUT_MS))) {
    throw new CommitError('COMMIT_TIMEOUT', `peer ${peer.name} did not reach height ${height} on ${chain} within ${CATCH_UP_TIMEOUT_MS} ms`);
  }
}

async function submitStep(net: EmbeddedNetwork, step: SeedStep, contract = 'basic'): Promise<void> {
  const r = await net.gateway(step.org).submit({ chain: step.chain, contract, fn: step.fn, args: step.args }, net.identity(step.org, step.user));
  if (r.code !== 'VALID') throw new CommitError(r.code, `seeding ${step.chain} ${contract}.${step.fn} by ${step.org}/${step.user} committed as ${r.code}`, { txId: r.txId, block: r.blockNumber });
}

/** The chain the traceability story is recorded on. */
const TRACE_CHAIN = 'product';

/** Records one step of the traceability story; @returns the EPCIS events it recorded. */
async function traceabilityStep(net: EmbeddedNetwork, step: TraceabilitySeedStep): Promise<number> {
  if (step.kind === 'products') {
    await submitStep(net, { chain: TRACE_CHAIN, org: step.org, user: step.user, fn: step.fn, args: step.args }, 'products');
    return 0;
  }
  const gateway = net.gateway(step.org);
  const signer = net.identity(step.org, step.user);
  const r = await captureDocument(step.document, (p) => gateway.submit(p, signer), { chain: TRACE_CHAIN });
  return r.hashes.length;
}

/** Resolves when every member peer of every chain holds all the blocks ordered so far. */
async function allPeersCaughtUp(net: EmbeddedNetwork): Promise<void> {
  await Promise.all(net.spec.chains.flatMap((c) => net.peers.filter((p) => p.chains().includes(c.name)).map((p) => waitForHeight(p, c.name, net.orderer.height(c.name)))));
}

/**
 * Seeds the demo alliance: first each org's admin registers its users' keys through the identity
 * contract on each of its chains (certificates signed by the admin key); then the data, through
 * real transactions, each signed by the user whose business it is; then it anchors every
 * chain's latest header once. Call it once, on a network
 * this start created with {@link DEMO_SPEC} and {@link DEMO_CONTRACTS}.
 * @param net the freshly created demo network
 * @param onProgress called after each transaction (registrations included) with (done, total)
 * @returns registrations and transactions per chain, headers anchored and the chains' heights
 * @throws EndorseError CONTRACT_ERROR when the network is already seeded (the assets exist);
 *   the gateway's errors; CommitError when a transaction commits invalid
 * @example const net = await openEmbeddedNetwork({ dataDir, spec: DEMO_SPEC, contracts: DEMO_CONTRACTS, keys: { kind: 'hd', password: DEMO_PASSWORD } }); if (net.created) await seedDemoAlliance(net)
 */
export async function seedDemoAlliance(net: EmbeddedNetwork, onProgress?: (done: number, total: number) => void): Promise<SeedSummary> {
  const registrationCount = plannedRegistrations(net.spec).length;
  const story = demoTraceabilitySteps();
  const total = registrationCount + SEED_ROUNDS.reduce((n, round) => n + round.length, 0) + story.length + 1;
  const registrations = await registerFunctionUsers(net, { onProgress: (n) => onProgress?.(n, total) });
  // A user's first transaction may be endorsed by any member peer: every one must know its key.
  await allPeersCaughtUp(net);
  const transactions: Record<string, number> = Object.fromEntries(net.spec.chains.map((c) => [c.name, 0]));
  let done = registrationCount;
  for (const round of SEED_ROUNDS) {
    await Promise.all(round.map(async (step) => {
      await submitStep(net, step);
      transactions[step.chain] = (transactions[step.chain] ?? 0) + 1;
      done += 1;
      onProgress?.(done, total);
    }));
  }
  // The traceability story: each step relies on the previous ones, so one at a time.
  let epcisEvents = 0;
  for (const step of story) {
    epcisEvents += await traceabilityStep(net, step);
    transactions[TRACE_CHAIN] = (transactions[TRACE_CHAIN] ?? 0) + 1;
    done += 1;
    onProgress?.(done, total);
  }
  // Anchor what every chain holds now: let the anchoring org's peers commit the last blocks first.
  const anchorPeers = net.peers.filter((p) => p.org === DEMO_ANCHORING_ORG);
  await Promise.all(net.spec.chains.flatMap((c) => anchorPeers.filter((p) => p.chains().includes(c.name)).map((p) => waitForHeight(p, c.name, net.orderer.height(c.name)))));
  const run = await anchorLatestHeaders(net, { org: DEMO_ANCHORING_ORG, anchorChain: ANCHOR_CHAIN });
  if (run.txId !== undefined) transactions[ANCHOR_CHAIN] = (transactions[ANCHOR_CHAIN] ?? 0) + 1;
  onProgress?.(total, total);
  const heights = Object.fromEntries(net.spec.chains.map((c) => [c.name, net.orderer.height(c.name)]));
  return { registrations, transactions, epcisEvents, anchoredHeaders: run.headers.length, heights };
}
