/**
 * What the node's API answers, as the SDK returns it. Shapes that the server builds from a
 * named type reuse that type (`BlockView`, `TransactionView`, `ReceiptJson`, `ChainConfig`,
 * `Page`); the rest are written down here from the routes (src/api/routes/).
 */
import type { ValidationCode } from '../errors.js';
import type { IdentityRecord } from '../identity/identity-record.js';
import type { KeyStanding } from '../identity/registry-identity-resolver.js';
import type { ChainConfig, MemberConfig } from '../ledger/chain-config.js';
import type { JsonValue } from '../ledger/json-value.js';
import type { ReceiptJson } from '../ledger/receipt.js';
import type { TransactionView } from '../peer/block-view.js';

/** `GET /api/health`: the node answers; its blocks, all chains together and each chain's. */
export interface HealthReport {
  readonly status: 'ok';
  /** The blocks of all the node's chains together: grows with every block any chain commits. */
  readonly height: number;
  /** Each chain's height. */
  readonly chains: Readonly<Record<string, number>>;
}

/** `GET /api/ready`: whether the node's peer has committed every block the ordering service cut. */
export interface Readiness {
  readonly status: 'ready' | 'catching-up';
  readonly chains: Readonly<Record<string, { readonly height: number; readonly ordered: number }>>;
}

/** A contract as a chain defines it. */
export interface ContractDefinition {
  readonly version: string;
  /** Its endorsement policy, e.g. `OR('Org1.peer', 'Org2.peer')`. */
  readonly policy: string;
}

/** One chain of `GET /api/chains`. */
export interface ChainSummary {
  readonly name: string;
  readonly height: number;
  readonly orgs: readonly string[];
  readonly contracts: Readonly<Record<string, ContractDefinition>>;
}

/** `GET /api/chains/:chain`: the configuration in force and the height. */
export interface ChainInfo {
  readonly name: string;
  readonly height: number;
  /** The block asked about (`chain(name, { at })`). */
  readonly at?: number;
  readonly config: ChainConfig;
  /** The blocks `config` governs: from `from` up to `until` (exclusive), `until` null while it is in force. */
  readonly governs: { readonly from: number; readonly until: number | null };
}

/** One block of `GET /api/chains/:chain/blocks`. */
export interface BlockSummary {
  readonly number: number;
  readonly hash: string;
  /** Milliseconds since the Unix epoch, from the block header. */
  readonly timestamp: number;
  /** How many transactions the block carries. */
  readonly transactions: number;
  /** How many of them are VALID. */
  readonly valid: number;
  readonly sizeBytes: number;
}

/** A committed transaction with its receipt. */
export type TransactionDetails = TransactionView & { readonly receipt: ReceiptJson };

/** A transaction committed as VALID. */
export interface SubmitResult {
  readonly txId: string;
  readonly code: 'VALID';
  readonly blockNumber: number;
  readonly txIndex: number;
  /** The contract function's return value, as endorsed (`null` when it returned nothing). */
  readonly response: JsonValue | null;
  /** Proof of the commit; check it with `client.verifyReceipt()`. */
  readonly receipt: ReceiptJson;
}

/** A policy an endorsement leaves to co-signers. */
export interface UnmetPolicy {
  readonly policy: string;
  /** The written key whose policy it is; `null` for the contract policy of a transaction that writes nothing. */
  readonly key: string | null;
  /** True for a key-level policy, false for the contract's. */
  readonly keyLevel: boolean;
}

/** A proposal endorsed and not yet ordered (`client.endorse`): for co-signers. */
export interface EndorsedEnvelope {
  readonly chain: string;
  readonly txId: string;
  /** The envelope: proposal, result and endorsements. */
  readonly envelope: Uint8Array;
  /** The encoded result each endorsement signs. */
  readonly result: Uint8Array;
  /** The contract function's return value, as endorsed. */
  readonly response: JsonValue | null;
  /** The first policy the peers' endorsements leave to co-signers; `null` when none. */
  readonly unmet: UnmetPolicy | null;
}

/** A committed block, as a subscription delivers it. */
export interface BlockEvent {
  readonly chain: string;
  readonly number: number;
  readonly hash: string;
  readonly timestamp: number;
  readonly commitHash: string;
  /** Every transaction with its validation code; `txId` is null for one that does not decode. */
  readonly transactions: readonly { readonly txId: string | null; readonly code: ValidationCode }[];
}

/** An event a contract emitted in a VALID transaction, as a subscription delivers it. */
export interface ContractEvent {
  readonly chain: string;
  /** The block that committed it. */
  readonly block: number;
  readonly txId: string;
  /** The transaction's index in the block. */
  readonly tx: number;
  readonly contract: string;
  readonly name: string;
  readonly payload: JsonValue;
}

/** A member of a chain's configuration, with its org. */
export type ConfiguredMember = MemberConfig & { readonly org: string };

/** One link of a key's certificate chain: a registered key (and the block that registered it), or the configured key it ends at. */
export type CertificateLink =
  | (IdentityRecord & { readonly registeredIn: number })
  | { readonly key: string; readonly configured: ConfiguredMember | null };

/**
 * `GET /api/chains/:chain/identities/:key`: whether the key may sign now (`standing`), and either
 * its registered record with its certificate chain up to the org's configured admin key, or the
 * configuration's member it is.
 */
export type IdentityAnswer =
  | { readonly key: string; readonly standing: KeyStanding; readonly record: IdentityRecord; readonly version: { readonly block: number; readonly tx: number }; readonly chain: readonly CertificateLink[] }
  | { readonly key: string; readonly standing: KeyStanding; readonly configured: ConfiguredMember; readonly chain: readonly [] };
