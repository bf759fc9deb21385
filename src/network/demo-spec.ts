/** The network `silk start` creates on first run. */
import type { NetworkSpec } from './embedded-network.js';

/** A solo-ordered network of three alliance members running the `basic` contract on chain `trade`. */
export const DEMO_SPEC: NetworkSpec = {
  orgs: [
    { name: 'Platform', users: ['operator'] },
    { name: 'SellerCN', users: ['yiwu-seller'] },
    { name: 'SellerEU', users: ['madrid-seller'] },
  ],
  chains: [
    { name: 'trade', contracts: [{ name: 'basic', policy: "OR('Platform.peer', 'SellerCN.peer', 'SellerEU.peer')" }] },
  ],
};
