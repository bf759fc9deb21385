/**
 * `silkledger/sdk`: the TypeScript client of a running Silkledger node (docs/sdk.md).
 * Factories and types only, plus the error classes a caller tells failures apart with.
 * @example
 * import { connect, signerFromPem } from 'silkledger/sdk';
 * const client = connect({ url: 'http://127.0.0.1:8080', signer: signerFromPem(pem) });
 */
export { connect, DEFAULT_BUSY_RETRIES, MAX_BUSY_WAIT_MS, type SilkClient, type ConnectOptions, type ProposalParameters, type SubmitParameters, type SignedProposalInput, type PageOptions, type RangeOptions, type HistoryOptions, type WaitForCommitOptions } from './client.js';
export type { SubscribeOptions, Subscription, SubscriptionEventType } from './block-subscription.js';
export { DEFAULT_LIVENESS_CHECK_MS, NODE_SILENT_REASON, type FetchFunction } from './http-transport.js';
export type { HealthReport, Readiness, ChainSummary, ChainInfo, ContractDefinition, BlockSummary, TransactionDetails, SubmitResult, EndorsedEnvelope, UnmetPolicy, BlockEvent, ContractEvent, IdentityAnswer, CertificateLink, ConfiguredMember } from './responses.js';
export type { IdentityRecord, IdentityStatus } from '../identity/identity-record.js';
export type { KeyStanding } from '../identity/registry-identity-resolver.js';
export { cosignEnvelope, summarizeEnvelope, type EnvelopeSummary, type EnvelopeWrite } from './cosign.js';
export { signerFromPem, generateSigner, type Signer } from '../crypto/p256.js';
export { SilkError, CommitError, isSilkError, ERROR_CODES, type ErrorCode, type ValidationCode, type SilkErrorDetails } from '../errors.js';
export type { SignedProposal, Proposal } from '../ledger/proposal.js';
export type { Receipt, ReceiptJson, ReceiptTrust, ReceiptVerification } from '../ledger/receipt.js';
export type { BlockView, TransactionView, TransactionSummary, SignerView } from '../peer/block-view.js';
export type { VersionedValue } from '../peer/peer.js';
export type { Page, StateEntry, KeyModification, RichQuery } from '../contracts/framework/contract.js';
export type { ChainConfig, MemberConfig } from '../ledger/chain-config.js';
export type { JsonValue } from '../ledger/json-value.js';
export { MAX_PAGE_SIZE } from '../api/wire.js';
