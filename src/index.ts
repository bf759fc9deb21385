/**
 * Silkledger's public API for programs that embed a node: factories and types only. Clients
 * of a running node use `silkledger/sdk` instead.
 */
export { createApiServer, type ApiServer, type ApiServerOptions } from './api/server.js';
export { embeddedApiBackend, type ApiBackend, type EmbeddedApiBackendOptions } from './api/backend.js';
export { openEmbeddedNetwork, type EmbeddedNetwork, type EmbeddedNetworkOptions, type NetworkSpec, type OrgSpec, type ChainSpec } from './network/embedded-network.js';
export { createGateway, type Gateway, type EndorsingPeer, type GatewayOptions, type ProposalParameters, type SubmitResult } from './gateway/gateway.js';
export { createPeer, type Peer, type PeerOptions, type CommittedBlock, type LedgerReader } from './peer/peer.js';
export { createProposal, decodeProposal, type Proposal, type SignedProposal } from './ledger/proposal.js';
export { verifyReceipt, receiptToJson, receiptFromJson, receiptTrust, governingConfigReader, type GoverningConfig, type Receipt, type ReceiptJson, type ReceiptTrust } from './ledger/receipt.js';
export { generateSigner, signerFromPem, type Signer } from './crypto/p256.js';
export { transaction, query, ContractRefusal, type Contract, type TransactionContext } from './contracts/framework/contract.js';
export { BasicContract } from './contracts/basic/basic-contract.js';
export { SilkError, EndorseError, SubmitError, CommitError, ERROR_CODES, VALIDATION_CODES, isSilkError, type ErrorCode, type ValidationCode } from './errors.js';
