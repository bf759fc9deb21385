/**
 * The one error registry of Silkledger. Every failure the system reports carries a stable
 * string code from {@link ERROR_CODES}; the HTTP layer maps codes to statuses from here and
 * `docs/errors.md` lists the same table.
 */

/** Where an error belongs, so callers can tell a bad request from a broken ledger. */
export type ErrorStage = 'input' | 'endorse' | 'order' | 'validate' | 'commit' | 'storage' | 'query' | 'config' | 'internal' | 'transport';

interface ErrorCodeInfo {
  readonly http: number;
  readonly stage: ErrorStage;
  readonly description: string;
}

/** Stable error codes, with the HTTP status they map to and a one-line meaning. */
export const ERROR_CODES = {
  // Transaction validation codes (also stored per transaction in each block).
  MALFORMED: { http: 400, stage: 'validate', description: 'The transaction or message cannot be decoded or breaks the format rules.' },
  WRONG_CHAIN: { http: 400, stage: 'validate', description: 'The transaction names a different chain than the block that carries it.' },
  BAD_SIGNATURE: { http: 401, stage: 'validate', description: "The creator's signature does not verify (wrong key, altered bytes, DER or high-S encoding)." },
  BAD_ENDORSEMENT_SIGNATURE: { http: 401, stage: 'validate', description: "An endorser's signature does not verify." },
  UNKNOWN_CREATOR: { http: 403, stage: 'validate', description: 'The creator is not a member of the chain, or its key is not valid at this height.' },
  UNKNOWN_ENDORSER: { http: 403, stage: 'validate', description: 'An endorser is not a member of the chain, or its key is not valid at this height.' },
  ENDORSEMENT_POLICY_FAILURE: { http: 403, stage: 'validate', description: "The endorsements do not satisfy the contract's (or a written key's) endorsement policy." },
  UNKNOWN_CONTRACT_VERSION: { http: 409, stage: 'validate', description: 'The contract or the version the endorsement carries is not the one defined on the chain.' },
  DUPLICATE_TXID: { http: 409, stage: 'validate', description: 'A transaction with this id is already on the ledger (or earlier in the same block).' },
  EXPIRED: { http: 408, stage: 'validate', description: "The proposal timestamp is outside the chain's window around the block timestamp." },
  MVCC_READ_CONFLICT: { http: 409, stage: 'validate', description: 'A key the transaction read changed between endorsement and commit.' },
  PHANTOM_READ_CONFLICT: { http: 409, stage: 'validate', description: 'A key range the transaction read gained a key (a phantom) between endorsement and commit; keys it returned are checked as reads (MVCC_READ_CONFLICT).' },
  CONFIG_INVALID: { http: 400, stage: 'validate', description: 'A configuration transaction is not signed by enough admins or describes an invalid chain.' },
  // Errors raised to callers (never stored as validation codes).
  INVALID_ARGUMENT: { http: 400, stage: 'input', description: 'An argument is missing, of the wrong type, or out of range.' },
  PAYLOAD_TOO_LARGE: { http: 413, stage: 'input', description: 'The message exceeds a size limit.' },
  UNSUPPORTED_MEDIA_TYPE: { http: 415, stage: 'input', description: 'The request body is not of a content type the route accepts (JSON; application/octet-stream for broadcast batches to an orderer).' },
  RATE_LIMITED: { http: 429, stage: 'input', description: 'Too many requests from this client; retry after the time the Retry-After header gives.' },
  UNTRUSTED_CERTIFICATE: { http: 403, stage: 'input', description: "A TLS certificate presented in distributed mode is not a registered process's certificate from a member org's CA keyed by the org's admin key (or it expired, or names another role); details.reason says which." },
  HTTPS_REQUIRED: { http: 400, stage: 'input', description: "A plain HTTP request reached an address that serves HTTPS only (the API address or a peer's port of a network with TLS): send it to https:// at the same host and port, trusting the alliance's CA bundle (tls/alliance-ca.crt)." },
  UNKNOWN_CHAIN: { http: 404, stage: 'input', description: 'No chain of that name exists on this node.' },
  UNKNOWN_CONTRACT: { http: 404, stage: 'endorse', description: 'No contract of that name is installed on the chain.' },
  UNKNOWN_FUNCTION: { http: 404, stage: 'endorse', description: 'The contract has no transaction function of that name.' },
  CONTRACT_ERROR: { http: 422, stage: 'endorse', description: 'The contract rejected the proposal (its message says why).' },
  ENDORSEMENT_MISMATCH: { http: 502, stage: 'endorse', description: 'Endorsing peers returned different results for the same proposal.' },
  ENDORSER_UNAVAILABLE: { http: 503, stage: 'endorse', description: "A peer of another process asked to endorse could not be reached, refused the link or did not answer in time; details.peer names it. Nothing was ordered: submit again once it is back." },
  RECOVERY_FAILED: { http: 422, stage: 'input', description: 'A key recall or guardian recovery check failed; details.reason names which (record-altered, facts-differ, wrong-word, master-key-differs, insufficient-shares, request-cancelled, …).' },
  BEHIND: { http: 503, stage: 'query', description: 'The node has not committed the blocks the request asks to be answered at (its Silk-Min-Height header) within its wait; details.height and details.minHeight say how far it is. Another node has them: ask it, or this one again shortly.' },
  NOT_FOUND: { http: 404, stage: 'query', description: 'The block, transaction or key does not exist.' },
  QUERY_NOT_INDEXED: { http: 400, stage: 'query', description: 'A rich query uses no index the contract declares.' },
  INVALID_QUERY: { http: 400, stage: 'query', description: 'A rich query uses an operator or form outside the supported Mango subset.' },
  GATEWAY_BUSY: { http: 503, stage: 'endorse', description: "The gateway is at capacity: as many of the chain's transactions as it admits are between endorsement and commit, and this one waited too long for room (or too many wait already). Nothing was endorsed or ordered: retry after the Retry-After seconds (details.retryAfterSeconds)." },
  ORDERING_UNAVAILABLE: { http: 503, stage: 'order', description: 'The ordering service cannot accept transactions now.' },
  COMMIT_TIMEOUT: { http: 504, stage: 'commit', description: 'The transaction was ordered but its commit was not seen in time; query its status by id.' },
  BAD_BLOCK: { http: 500, stage: 'commit', description: 'A delivered block breaks the hash chain, its Merkle root or its orderer signature; the peer refuses it.' },
  LEDGER_CORRUPT: { http: 500, stage: 'storage', description: 'Stored blocks, state or commit hashes do not match a replay of the chain.' },
  DATA_FOLDER_LOCKED: { http: 500, stage: 'storage', description: 'Another live process holds the data folder.' },
  STORAGE_FULL: { http: 507, stage: 'storage', description: 'The disk is full; the block was not committed and the ledger is unchanged.' },
  SHUTTING_DOWN: { http: 503, stage: 'internal', description: 'The node is stopping and accepts no new work.' },
  INTERNAL: { http: 500, stage: 'internal', description: 'An unexpected failure; the ledger is unchanged.' },
  // Raised by clients (the SDK, the CLI) about their link to a node; a node never sends them.
  UNREACHABLE: { http: 503, stage: 'transport', description: 'The node could not be reached or did not answer in time (connection refused, DNS, TLS, timeout, dropped stream); a submitted transaction may still commit: check its status by id.' },
  BAD_RESPONSE: { http: 502, stage: 'transport', description: "The node's answer is not a Silkledger API response (not JSON, an unknown error code, a proxy's error page)." },
} as const satisfies Record<string, ErrorCodeInfo>;

/** A stable error code from the registry. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes that a peer may store for a transaction inside a block, besides `VALID`. */
export type ValidationCode =
  | 'VALID'
  | 'MALFORMED'
  | 'WRONG_CHAIN'
  | 'BAD_SIGNATURE'
  | 'BAD_ENDORSEMENT_SIGNATURE'
  | 'UNKNOWN_CREATOR'
  | 'UNKNOWN_ENDORSER'
  | 'ENDORSEMENT_POLICY_FAILURE'
  | 'UNKNOWN_CONTRACT_VERSION'
  | 'DUPLICATE_TXID'
  | 'EXPIRED'
  | 'MVCC_READ_CONFLICT'
  | 'CONFIG_INVALID'
  | 'PHANTOM_READ_CONFLICT';

/** Validation codes in their stored order: a block stores each transaction's code as this index. */
export const VALIDATION_CODES: readonly ValidationCode[] = [
  'VALID', 'MALFORMED', 'WRONG_CHAIN', 'BAD_SIGNATURE', 'BAD_ENDORSEMENT_SIGNATURE', 'UNKNOWN_CREATOR',
  'UNKNOWN_ENDORSER', 'ENDORSEMENT_POLICY_FAILURE', 'UNKNOWN_CONTRACT_VERSION', 'DUPLICATE_TXID', 'EXPIRED',
  'MVCC_READ_CONFLICT', 'CONFIG_INVALID', 'PHANTOM_READ_CONFLICT',
];

/** Extra facts attached to an error (tx id, block number, offending path, …). */
export interface SilkErrorDetails {
  readonly txId?: string;
  readonly block?: number;
  readonly path?: string;
  readonly [key: string]: unknown;
}

/**
 * The base of every error Silkledger raises on purpose.
 * @example
 * throw new SilkError('NOT_FOUND', `no block ${n} on chain ${chain}`, { block: n });
 */
export class SilkError extends Error {
  readonly code: ErrorCode;
  readonly details: SilkErrorDetails;

  constructor(code: ErrorCode, message: string, details: SilkErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SilkError';
    this.code = code;
    this.details = details;
  }

  /** The HTTP status this error maps to. */
  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  /** A JSON body for an API response: `{ error: { code, message, ...details } }`. */
  toJSON(): { error: { code: ErrorCode; message: string } & SilkErrorDetails } {
    return { error: { ...this.details, code: this.code, message: this.message } };
  }
}

/** Raised while endorsing (simulating) a proposal. */
export class EndorseError extends SilkError {}
/** Raised while handing a transaction to the ordering service. */
export class SubmitError extends SilkError {}
/** Raised when a transaction was ordered but did not commit as VALID. */
export class CommitError extends SilkError {}

/** True when `value` is a {@link SilkError} with the given code (or any code when omitted). */
export function isSilkError(value: unknown, code?: ErrorCode): value is SilkError {
  return value instanceof SilkError && (code === undefined || value.code === code);
}
