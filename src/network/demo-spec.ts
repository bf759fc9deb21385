/**
 * The network `silk start` creates on first run: the demo alliance of DESIGN §4.
 *
 * Data is grouped into chains by who needs it (paper §3.2): product data is shared by those
 * who make, move, store and clear goods; money by those who sell, pay, insure and rate;
 * shipments by those who move, store, clear and insure them. The Regulator sits on every
 * chain as an observer (it endorses nothing), and the `anchor` chain, which records the
 * other chains' block headers, has every org.
 */
import type { NetworkSpec } from './embedded-network.js';

const PRODUCT_ORGS = ['Platform', 'SellerCN', 'SellerEU', 'Logistics', 'Warehouse', 'CustomsCN', 'CustomsEU', 'Regulator'];
const TRADE_ORGS = ['Platform', 'SellerCN', 'SellerEU', 'BankCN', 'BankEU', 'Insurer', 'CreditBureau', 'Regulator'];
const LOGISTICS_ORGS = ['Platform', 'SellerCN', 'SellerEU', 'Logistics', 'Warehouse', 'CustomsCN', 'CustomsEU', 'Insurer', 'Regulator'];

/**
 * The orgs and their users. Each user is a function key of its org's tree at the level its work
 * needs (docs/keys.md), registered on chain by its org's admin when the alliance is seeded.
 */
const ORGS: NetworkSpec['orgs'] = [
  { name: 'Platform', users: [{ name: 'operator', function: 'sales', level: 5 }, { name: 'consumer', function: 'sales', level: 1 }] },
  { name: 'SellerCN', users: [{ name: 'yiwu-seller', function: 'sales', level: 3 }, { name: 'packing-line', function: 'logistics', level: 2 }] },
  { name: 'SellerEU', users: [{ name: 'madrid-seller', function: 'sales', level: 3 }] },
  { name: 'Logistics', users: [{ name: 'dispatcher', function: 'logistics', level: 3 }] },
  { name: 'Warehouse', users: [{ name: 'warehouse-keeper', function: 'logistics', level: 2 }] },
  { name: 'CustomsCN', users: [{ name: 'officer', function: 'customs', level: 3 }] },
  { name: 'CustomsEU', users: [{ name: 'officer', function: 'customs', level: 3 }] },
  { name: 'BankCN', users: [{ name: 'clerk', function: 'finance', level: 5 }] },
  { name: 'BankEU', users: [{ name: 'clerk', function: 'finance', level: 5 }] },
  { name: 'Insurer', users: [{ name: 'underwriter', function: 'finance', level: 4 }, { name: 'claims-adjuster', function: 'finance', level: 3 }] },
  { name: 'CreditBureau', users: [{ name: 'analyst', function: 'audit', level: 3 }] },
  { name: 'Regulator', users: [{ name: 'auditor', function: 'audit', level: 2 }] },
];

/** `'A.peer', 'B.peer', …` for the orgs given. */
function peersOf(orgs: readonly string[]): string {
  return orgs.map((o) => `'${o}.peer'`).join(', ');
}

/** Orgs of a chain that endorse: everyone but the Regulator, which only observes. */
function endorsers(orgs: readonly string[]): string[] {
  return orgs.filter((o) => o !== 'Regulator');
}

/**
 * The demo alliance: twelve orgs with one peer each and four chains. Every user is a function
 * key (sales, logistics, customs, finance, audit) registered on chain, not a configuration member.
 *
 * | chain | members | contract and endorsement policy |
 * |---|---|---|
 * | `product` | Platform, sellers, Logistics, Warehouse, customs, Regulator | `basic`: any one member's peer except the Regulator |
 * | `trade` | Platform, sellers, banks, Insurer, CreditBureau, Regulator | `basic`: two of the Platform's, sellers' and banks' peers (money needs two parties) |
 * | `logistics` | Platform, sellers, Logistics, Warehouse, customs, Insurer, Regulator | `basic`: any one member's peer except the Regulator |
 * | `anchor` | all twelve | `anchor`: any two orgs' peers |
 *
 * `basic` stands in on the business chains until their own contracts arrive.
 */
export const DEMO_SPEC: NetworkSpec = {
  orgs: ORGS,
  chains: [
    {
      name: 'product',
      orgs: PRODUCT_ORGS,
      contracts: [
        { name: 'basic', policy: `OR(${peersOf(endorsers(PRODUCT_ORGS))})` },
        { name: 'products', policy: `OR(${peersOf(endorsers(PRODUCT_ORGS))})` },
        { name: 'epcis', policy: `OR(${peersOf(endorsers(PRODUCT_ORGS))})` },
      ],
    },
    { name: 'trade', orgs: TRADE_ORGS, contracts: [{ name: 'basic', policy: `OutOf(2, ${peersOf(['Platform', 'SellerCN', 'SellerEU', 'BankCN', 'BankEU'])})` }] },
    { name: 'logistics', orgs: LOGISTICS_ORGS, contracts: [{ name: 'basic', policy: `OR(${peersOf(endorsers(LOGISTICS_ORGS))})` }] },
    { name: 'anchor', contracts: [{ name: 'anchor', policy: `OutOf(2, ${peersOf(ORGS.map((o) => o.name))})` }] },
  ],
};
