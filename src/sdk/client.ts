/**
 * The client of a running Silkledger node: reads (chains, blocks, transactions, state, rich
 * queries), evaluate and submit with proposals signed locally (the key never leaves the
 * process), receipts checked against the chain's keys, and block/contract-event
 * subscriptions that survive dropped connections. Every failure is a {@link SilkError} with
 * a code from the registry (docs/errors.md).
 */
import type { Signer } from '../crypto/p256.js';
import { CommitError, ERROR_CODES, isSilkError, SilkError } from '../errors.js';
import type { Page, RichQuery, StateEntry, KeyModification } from '../contracts/framework/contract.js';
import type { JsonValue } from '../ledger/json-value.js';
import { computeTxId, createProposal, decodeProposal, type SignedProposal } from '../ledger/proposal.js';
import { receiptFromJson, receiptTrust, verifyReceipt as verifyReceiptProofs, type Receipt, type ReceiptJson, type ReceiptTrust, type ReceiptVerification } from '../ledger/receipt.js';
import type { BlockView } from '../peer/block-view.js';
import type { VersionedValue } from '../peer/peer.js';
import { fromBase64, MAX_PAGE_SIZE, MIN_HEIGHT_HEADER, toBase64 } from '../api/wire.js';
import { subscribeToChain, type SubscribeOptions, type Subscription } from './block-subscription.js';
import { createHttpTransport, type FetchFunction, type HttpTransport, type RequestOptions } from './http-transport.js';
import type { IdentityRecord } from '../identity/identity-record.js';
import type { BlockSummary, ChainInfo, ChainSummary, EndorsedEnvelope, HealthReport, IdentityAnswer, Readiness, SubmitResult, TransactionDetails, UnmetPolicy } from './responses.js';

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** The node's base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /**
   * Other nodes of the alliance (other peers' APIs, e.g. your org's second peer), asked in this
   * order when the node before cannot be reached, is shutting down or is behind what this client
   * has seen (`BEHIND`, see `readYourWrites`). A call goes on to the next
   * node at once, and the node that answered is asked first from then on. Safe for a submit: the
   * same signed proposal is sent, which cannot commit twice; when the node that could not be
   * reached had committed it after all, the outcome on the ledger is the answer.
   */
  readonly fallbackUrls?: readonly string[];
  /** Signs evaluate and submit calls that do not bring their own signer. */
  readonly signer?: Signer;
  /** A `fetch` to use instead of the global one (proxies, custom TLS, instrumentation). */
  readonly fetch?: FetchFunction;
  /**
   * For an `https://` URL: the CA certificates to trust, as PEM text (a string or a Buffer), e.g. a
   * distributed network's alliance bundle `tls/alliance-ca.crt`. Only these are trusted then;
   * without it, the default trust store. Not with `fetch`.
   */
  readonly ca?: string | Uint8Array;
  /**
   * With `ca`: how long a new connection to a node may take, TLS handshake included, in ms
   * (default 10 000, as Node's own `fetch` allows for `http://` URLs). A node whose host drops
   * packets fails `UNREACHABLE` (`details.reason` `connect-timeout`) after it, instead of after
   * `timeoutMs`, and the call goes on to the next of `fallbackUrls`.
   */
  readonly connectTimeoutMs?: number;
  /** Time limit of each request in ms (default 60 000: a submit waits for its commit). */
  readonly timeoutMs?: number;
  /**
   * With `fallbackUrls`: while a call waits for its answer, how often (ms) the client checks that
   * the node is alive (`GET /api/health`, answered within the same time). A node that accepted
   * the call and answers nothing, not even the check (its process stopped, its host cut off),
   * fails `UNREACHABLE` (`details.reason` `node-silent`) after one to two periods, and the call
   * goes on to the next node. Default 2 000; 0: no checks (a silent node costs `timeoutMs`).
   */
  readonly livenessCheckMs?: number;
  /**
   * Reads your writes across nodes (default true): each call on a chain asks its node to answer
   * at no fewer blocks of the chain than this client has already seen there (from its commits
   * and its reads; the `Silk-Min-Height` header). A node behind waits for them a moment, or
   * answers `BEHIND` and the call goes to the next of `fallbackUrls`.
   */
  readonly readYourWrites?: boolean;
  /**
   * How many times a submit the node turned away with a time to retry after (`Retry-After`: it
   * sheds load, as `GATEWAY_BUSY` and `RATE_LIMITED` do) is sent again, after those seconds
   * (0–10, default 2; 0: the refusal is thrown at once). Nothing was endorsed or ordered then, and
   * the same signed proposal is sent, so a resend cannot commit twice. A node asking for more
   * than {@link MAX_BUSY_WAIT_MS} gets its refusal passed on instead.
   */
  readonly busyRetries?: number;
}

/** Default of {@link ConnectOptions.busyRetries}. */
export const DEFAULT_BUSY_RETRIES = 2;
/** The longest wait before resending a refused submit: a node asking for more is passed on. */
export const MAX_BUSY_WAIT_MS = 10_000;
/**
 * How long to wait before resending after `e`, or undefined when it is not a refusal to resend
 * after. A node's error that says when to retry (`retryAfterSeconds`, from `Retry-After`) is the
 * node shedding load, a refusal with nothing done (src/api/error-reply.ts); the SDK's own
 * transport errors (UNREACHABLE, BAD_RESPONSE) never are.
 */
function busyWaitMs(e: unknown): number | undefined {
  if (!(e instanceof SilkError) || ERROR_CODES[e.code].stage === 'transport') return undefined;
  const seconds = e.details.retryAfterSeconds;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return undefined;
  return seconds * 1000 <= MAX_BUSY_WAIT_MS ? seconds * 1000 : undefined;
}

/** What to run: a contract function and its JSON arguments. */
export interface ProposalParameters {
  readonly chain: string;
  readonly contract: string;
  readonly fn: string;
  readonly args: JsonValue;
}

/** What to submit: a proposal, optionally endorsed by chosen orgs. */
export interface SubmitParameters extends ProposalParameters {
  /** Endorse with peers of these orgs instead of the cheapest set the policy allows. */
  readonly endorsingOrgs?: readonly string[];
}

/** A proposal signed elsewhere: its canonical bytes and the creator's P1363 signature. */
export interface SignedProposalInput {
  readonly bytes: Uint8Array;
  readonly signature: Uint8Array;
}

/** A page request. */
export interface PageOptions {
  /** 1..{@link MAX_PAGE_SIZE} (the node's default is 20). */
  readonly limit?: number;
  /** The bookmark the previous page returned. */
  readonly bookmark?: string;
}

/** A key range request: `start` inclusive, `end` exclusive. */
export interface RangeOptions extends PageOptions {
  readonly start?: string;
  readonly end?: string;
}

/** A key history request. */
export interface HistoryOptions extends PageOptions {
  /** Newest first by default. */
  readonly order?: 'asc' | 'desc';
}

/** Options of {@link SilkClient.waitForCommit}. */
export interface WaitForCommitOptions {
  /** Give up after this long (default 30 000 ms). */
  readonly timeoutMs?: number;
  /** Time between two looks (default 200 ms). */
  readonly intervalMs?: number;
}

/** A client of a node (and of the nodes to turn to when it cannot be reached). */
export interface SilkClient {
  /** The base URL of the node the client asks first now: `url`, or the fallback that last answered. */
  readonly url: string;
  /** Liveness and each chain's height. */
  health(): Promise<HealthReport>;
  /** Readiness; `catching-up` (HTTP 503) is a result, not an error. */
  ready(): Promise<Readiness>;
  /** Chains the node has joined. */
  chains(): Promise<readonly ChainSummary[]>;
  /**
   * A chain's configuration in force and its height (also refreshes the cached contract
   * versions); with `at`, the configuration that governed that block (the keys its receipts are
   * checked with). Either comes with the blocks it governs (`governs`).
   * @throws SilkError UNKNOWN_CHAIN; NOT_FOUND for a block the node does not hold yet
   */
  chain(name: string, options?: { readonly at?: number }): Promise<ChainInfo>;
  /** A block by number, or the newest with `'latest'`. @throws SilkError NOT_FOUND, UNKNOWN_CHAIN */
  block(chain: string, n: number | 'latest'): Promise<BlockView>;
  /** A block's bytes as ordered (what `silk audit` replays). @throws SilkError NOT_FOUND, UNKNOWN_CHAIN */
  blockBytes(chain: string, n: number): Promise<Uint8Array>;
  /** Blocks, newest first. */
  blocks(chain: string, page?: PageOptions): Promise<Page<BlockSummary>>;
  /** A committed transaction and its receipt. @throws SilkError NOT_FOUND */
  transaction(chain: string, txId: string): Promise<TransactionDetails>;
  /** A committed transaction's bytes as ordered: their SHA-256 is its receipt's `envelopeHash` (what `verifyProvenance` reads events from). */
  transactionBytes(chain: string, txId: string): Promise<Uint8Array>;
  /** One key of a contract's state. @throws SilkError NOT_FOUND, UNKNOWN_CONTRACT */
  state(chain: string, contract: string, key: string): Promise<VersionedValue>;
  /** Keys in key order from `start` (inclusive) to `end` (exclusive). */
  range(chain: string, contract: string, options?: RangeOptions): Promise<Page<StateEntry>>;
  /** Every committed change of a key. */
  history(chain: string, contract: string, key: string, options?: HistoryOptions): Promise<Page<KeyModification>>;
  /** A Mango rich query over the contract's indexed state (docs/rich-queries.md). */
  query(chain: string, contract: string, query: RichQuery, page?: PageOptions): Promise<Page<StateEntry>>;
  /** Signs a proposal for the contract version the chain runs, without sending it. */
  propose(params: ProposalParameters, signer?: Signer): Promise<SignedProposal>;
  /** Runs a query function; nothing is ordered. @returns its result (`null` when it returned nothing) */
  evaluate(params: ProposalParameters, signer?: Signer): Promise<JsonValue>;
  /** Runs a query function with a proposal signed elsewhere. */
  evaluateSigned(signed: SignedProposalInput): Promise<JsonValue>;
  /** Signs, endorses, orders and waits for the commit. @throws CommitError when it committed but not as VALID */
  submit(params: SubmitParameters, signer?: Signer): Promise<SubmitResult>;
  /** Submits a proposal signed elsewhere (or earlier with {@link SilkClient.propose}). */
  submitSigned(signed: SignedProposalInput, options?: { readonly endorsingOrgs?: readonly string[] }): Promise<SubmitResult>;
  /**
   * Signs and endorses, without ordering: the envelope for co-signers, with the policy left to
   * them in `unmet` (docs/sdk.md, "Co-signing"). @throws SilkError as a submit before ordering
   */
  endorse(params: SubmitParameters, signer?: Signer): Promise<EndorsedEnvelope>;
  /** Endorses a proposal signed elsewhere, without ordering it. */
  endorseSigned(signed: SignedProposalInput, options?: { readonly endorsingOrgs?: readonly string[] }): Promise<EndorsedEnvelope>;
  /**
   * Orders an endorsed (and co-signed, `cosignEnvelope`) envelope and waits for the commit; an
   * envelope already on the ledger answers its outcome there. @throws CommitError when it committed but not as VALID
   */
  submitEnvelope(chain: string, envelope: Uint8Array): Promise<SubmitResult>;
  /** Waits until a transaction is on the ledger (VALID or not: check `code`). @throws CommitError COMMIT_TIMEOUT */
  waitForCommit(chain: string, txId: string, options?: WaitForCommitOptions): Promise<TransactionDetails>;
  /**
   * Checks a receipt: inclusion proof, orderer signature, peer signature and code. Without
   * `trust`, the keys are the chain's orderers and peers as this node reports them now.
   */
  verifyReceipt(receipt: ReceiptJson | Receipt, trust?: ReceiptTrust): Promise<ReceiptVerification>;
  /** Keys registered through the identity contract (of one org with `org`), in key order. */
  identities(chain: string, options?: PageOptions & { readonly org?: string }): Promise<Page<IdentityRecord>>;
  /** One key: its record, whether it may sign now (`standing`) and its certificate chain. @throws SilkError NOT_FOUND */
  identity(chain: string, key: string): Promise<IdentityAnswer>;
  /** Delivers committed blocks and contract events, reconnecting after drops. */
  subscribe(chain: string, options: SubscribeOptions): Subscription;
}

const TX_ID = /^[0-9a-f]{64}$/;

function checkTxId(txId: string): void {
  if (!TX_ID.test(txId)) throw new SilkError('INVALID_ARGUMENT', `a transaction id is 64 lowercase hex digits, got '${txId}'`, { path: 'txId' });
}

const seg = encodeURIComponent;

function checkName(value: string, what: string): void {
  if (typeof value !== 'string' || value === '') throw new SilkError('INVALID_ARGUMENT', `${what} must be a non-empty string`, { path: what });
}

function checkPage(page: PageOptions | undefined): void {
  const limit = page?.limit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE)) {
    throw new SilkError('INVALID_ARGUMENT', `limit must be 1..${MAX_PAGE_SIZE}, got ${String(limit)}`, { path: 'limit' });
  }
}

/** Runs `fn`, turning a synchronous throw (a bad argument) into a rejection, as callers of a promise API expect. */
function settle<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

/**
 * A transport failure of a submit, with the transaction's id added: the request may have
 * reached the node, so the caller needs the id to look for the transaction.
 */
function withTxId(error: unknown, txId: string): unknown {
  if (!isSilkError(error) || ERROR_CODES[error.code].stage !== 'transport' || error.details.txId !== undefined) return error;
  return new SilkError(error.code, `${error.message}; transaction ${txId} may still commit`, { ...error.details, txId }, { cause: error.cause });
}

/**
 * Whether `e`, the answer to a signed proposal that went on to another node, says a node that
 * gave no answer had committed it: `DUPLICATE_TXID` with its block, after a silent node
 * (`details.unansweredNodes`, set by the transport). Then its outcome is on the ledger
 * ({@link outcomeOnLedger}).
 */
export function committedBySilentNode(e: unknown): boolean {
  return isSilkError(e, 'DUPLICATE_TXID') && typeof e.details.block === 'number' && Array.isArray(e.details.unansweredNodes);
}

/**
 * A committed transaction's outcome as a submit answers it (the API's route answers the same):
 * the result when it is VALID.
 * @throws CommitError with its code and receipt when it committed as invalid
 */
export function outcomeOnLedger(t: TransactionDetails): SubmitResult {
  if (t.code !== 'VALID') {
    throw new CommitError(t.code, `transaction ${t.txId} was committed in block ${t.block} as ${t.code}: its writes were not applied`, { txId: t.txId, block: t.block, txIndex: t.index, receipt: t.receipt });
  }
  return { txId: t.txId, code: 'VALID', blockNumber: t.block, txIndex: t.index, response: t.response, receipt: t.receipt };
}

/** How a client reaches its nodes. */
export interface ClientConnection {
  readonly fetch: FetchFunction;
  /** Every node's base URL, the one the client asks first now at the head. */
  readonly nodes: readonly string[];
  /** The headers asking a node to answer at what the client has seen of `chain` (`readYourWrites`), if any. */
  atSeen(chain: string): Readonly<Record<string, string>> | undefined;
  /** Records that `chain` has at least `height` blocks (a commit the client was told of). */
  noteHeight(chain: string, height: number): void;
}

/** How each client of {@link connect} reaches its nodes. */
const clientConnections = new WeakMap<SilkClient, ClientConnection>();

/**
 * How a client makes its requests, so other parts of the SDK (EPCIS) reach the nodes the same
 * way (with the client's `ca`, its fallback nodes and the heights it has seen); undefined for a
 * client not made by {@link connect}.
 */
export function connectionOfClient(client: SilkClient): ClientConnection | undefined {
  return clientConnections.get(client);
}

/**
 * Connects to a node (lazily: no request is made until the first call).
 * @param options the node's URL, a default signer, a fetch and a time limit
 * @returns the client
 * @throws SilkError INVALID_ARGUMENT when the URL is not http(s), or `ca` is not a PEM CA bundle
 * @example
 * const client = connect({ url: 'http://127.0.0.1:8080', signer: signerFromPem(readFileSync('alice.pem', 'utf8')) });
 * const r = await client.submit({ chain: 'trade', contract: 'basic', fn: 'createAsset', args: { id: 'a1', owner: 'alice', colour: 'red', size: 1, appraisedValue: 100 } });
 */
export function connect(options: ConnectOptions): SilkClient {
  const busyRetries = options.busyRetries ?? DEFAULT_BUSY_RETRIES;
  if (!Number.isInteger(busyRetries) || busyRetries < 0 || busyRetries > 10) throw new SilkError('INVALID_ARGUMENT', `busyRetries must be an integer from 0 to 10, not ${String(busyRetries)}`, { path: 'busyRetries' });
  const http: HttpTransport = createHttpTransport({ url: options.url, ...(options.fallbackUrls === undefined ? {} : { fallbackUrls: options.fallbackUrls }), timeoutMs: options.timeoutMs ?? 60_000, ...(options.fetch === undefined ? {} : { fetch: options.fetch }), ...(options.ca === undefined ? {} : { ca: options.ca }), ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }), ...(options.livenessCheckMs === undefined ? {} : { livenessCheckMs: options.livenessCheckMs }) });
  /** Blocks of each chain this client has seen (its commits, blocks and transactions it read, heights it was told). */
  const seen = new Map<string, number>();
  const noteHeight = (chain: string, height: number): void => {
    if (height > (seen.get(chain) ?? 0)) seen.set(chain, height);
  };
  /** The request header asking the node to answer at what this client has seen of `chain`. */
  const atSeen = (chain: string): Readonly<Record<string, string>> | undefined => {
    const height = options.readYourWrites === false ? undefined : seen.get(chain);
    return height === undefined ? undefined : { [MIN_HEIGHT_HEADER]: String(height) };
  };
  /** A request about `chain`, answered at what this client has seen of it. */
  const onChain = <T>(chain: string, method: 'GET' | 'POST', path: string, opts: RequestOptions = {}): Promise<T> => {
    const headers = atSeen(chain);
    return http.request<T>(method, path, headers === undefined ? opts : { ...opts, headers });
  };
  /** Chain configurations by name, for contract versions; refreshed by chain() and on UNKNOWN_CONTRACT_VERSION. */
  const configs = new Map<string, Promise<ChainInfo>>();

  const getChain = (name: string): Promise<ChainInfo> => {
    const info = settle(() => {
      checkName(name, 'chain');
      return onChain<ChainInfo>(name, 'GET', `/api/chains/${seg(name)}`);
    });
    configs.set(name, info);
    info.then((i) => { noteHeight(name, i.height); }, () => undefined);
    info.catch(() => {
      if (configs.get(name) === info) configs.delete(name);
    });
    return info;
  };

  const chainAt = (name: string, at: number): Promise<ChainInfo> =>
    settle(() => {
      checkName(name, 'chain');
      if (!Number.isSafeInteger(at) || at < 0) throw new SilkError('INVALID_ARGUMENT', `at must be a block number, got ${String(at)}`, { path: 'at' });
      return http.request<ChainInfo>('GET', `/api/chains/${seg(name)}`, { query: { at } });
    });

  const contractVersion = async (chain: string, contract: string, refresh = false): Promise<string> => {
    const cached = refresh ? undefined : configs.get(chain);
    let version = (await (cached ?? getChain(chain))).config.contracts[contract]?.version;
    // A contract defined after the cached configuration was read.
    if (version === undefined && cached !== undefined) version = (await getChain(chain)).config.contracts[contract]?.version;
    if (version === undefined) throw new SilkError('UNKNOWN_CONTRACT', `contract ${contract} is not defined on chain ${chain}`, { path: 'contract' });
    return version;
  };

  const signerOf = (signer: Signer | undefined): Signer => {
    const s = signer ?? options.signer;
    if (s === undefined) throw new SilkError('INVALID_ARGUMENT', 'no signer: pass one to connect({ signer }) or to this call', { path: 'signer' });
    return s;
  };

  const propose = async (params: ProposalParameters, signer: Signer | undefined, refresh = false): Promise<SignedProposal> => {
    const s = signerOf(signer);
    checkName(params.contract, 'contract');
    const version = await contractVersion(params.chain, params.contract, refresh);
    return createProposal({ chain: params.chain, contract: params.contract, version, fn: params.fn, args: params.args }, s);
  };

  /** Runs `send` with a fresh proposal; after UNKNOWN_CONTRACT_VERSION, once more for the version the chain now runs. */
  const withCurrentVersion = async <T>(params: ProposalParameters, signer: Signer | undefined, send: (signed: SignedProposal) => Promise<T>): Promise<T> => {
    const first = await propose(params, signer);
    try {
      return await send(first);
    } catch (e) {
      if (!isSilkError(e, 'UNKNOWN_CONTRACT_VERSION')) throw e;
      const retry = await propose(params, signer, true);
      if (retry.proposal.version === first.proposal.version) throw e;
      return send(retry);
    }
  };

  const body = (signed: SignedProposalInput, endorsingOrgs?: readonly string[]): object => ({
    proposal: toBase64(signed.bytes),
    signature: toBase64(signed.signature),
    ...(endorsingOrgs === undefined ? {} : { endorsingOrgs }),
  });

  const evaluateSigned = async (signed: SignedProposalInput): Promise<JsonValue> => {
    const { chain } = decodeProposal(signed.bytes);
    const r = await onChain<{ result: JsonValue }>(chain, 'POST', `/api/chains/${seg(chain)}/evaluate`, { body: body(signed) });
    return r.result;
  };

  const submitSigned = async (signed: SignedProposalInput, opts?: { readonly endorsingOrgs?: readonly string[] }): Promise<SubmitResult> => {
    const proposal = decodeProposal(signed.bytes);
    const txId = computeTxId(proposal.nonce, proposal.creator);
    for (let resent = 0; ; resent++) {
      try {
        const r = await onChain<SubmitResult>(proposal.chain, 'POST', `/api/chains/${seg(proposal.chain)}/transactions`, { body: body(signed, opts?.endorsingOrgs) });
        noteHeight(proposal.chain, r.blockNumber + 1);
        return r;
      } catch (e) {
        if (committedBySilentNode(e)) return committedOutcome(proposal.chain, txId);
        const waitMs = resent < busyRetries ? busyWaitMs(e) : undefined;
        if (waitMs === undefined) throw withTxId(e, txId);
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  };

  const committedOutcome = async (chain: string, txId: string): Promise<SubmitResult> => outcomeOnLedger(await transaction(chain, txId));

  const endorseSigned = async (signed: SignedProposalInput, opts?: { readonly endorsingOrgs?: readonly string[] }): Promise<EndorsedEnvelope> => {
    const proposal = decodeProposal(signed.bytes);
    const r = await onChain<{ txId: string; envelope: string; result: string; response: JsonValue | null; unmet: UnmetPolicy | null }>(proposal.chain, 'POST', `/api/chains/${seg(proposal.chain)}/endorsements`, { body: body(signed, opts?.endorsingOrgs) });
    return { chain: proposal.chain, txId: r.txId, envelope: fromBase64(r.envelope), result: fromBase64(r.result), response: r.response, unmet: r.unmet };
  };

  const submitEnvelope = (chain: string, envelope: Uint8Array): Promise<SubmitResult> =>
    settle(async () => {
      checkName(chain, 'chain');
      const r = await onChain<SubmitResult>(chain, 'POST', `/api/chains/${seg(chain)}/envelopes`, { body: { envelope: toBase64(envelope) } });
      noteHeight(chain, r.blockNumber + 1);
      return r;
    });

  const transaction = (chain: string, txId: string): Promise<TransactionDetails> =>
    settle(async () => {
      checkName(chain, 'chain');
      checkTxId(txId);
      const t = await onChain<TransactionDetails>(chain, 'GET', `/api/chains/${seg(chain)}/transactions/${txId}`);
      noteHeight(chain, t.block + 1);
      return t;
    });

  const checkBlockNumber = (n: number): void => {
    if (!Number.isSafeInteger(n) || n < 0) throw new SilkError('INVALID_ARGUMENT', `a block number is a non-negative integer, got ${String(n)}`, { path: 'n' });
  };

  const blockBytes = (chain: string, n: number): Promise<Uint8Array> =>
    settle(() => {
      checkName(chain, 'chain');
      checkBlockNumber(n);
      return onChain<Uint8Array>(chain, 'GET', `/api/chains/${seg(chain)}/blocks/${n}/raw`, { binary: true });
    });

  const transactionBytes = (chain: string, txId: string): Promise<Uint8Array> =>
    settle(() => {
      checkName(chain, 'chain');
      checkTxId(txId);
      return onChain<Uint8Array>(chain, 'GET', `/api/chains/${seg(chain)}/transactions/${txId}/raw`, { binary: true });
    });

  const stateBase = (chain: string, contract: string): string => {
    checkName(chain, 'chain');
    checkName(contract, 'contract');
    return `/api/chains/${seg(chain)}/contracts/${seg(contract)}`;
  };

  const client: SilkClient = {
    get url() {
      return http.baseUrl;
    },
    health: () => http.request<HealthReport>('GET', '/api/health'),
    ready: () => http.request<Readiness>('GET', '/api/ready', { accept: (status, json) => status === 503 && typeof (json as Partial<Readiness> | null)?.chains === 'object' }),
    chains: async () => (await http.request<{ items: ChainSummary[] }>('GET', '/api/chains')).items,
    chain: (name, options) => (options?.at === undefined ? getChain(name) : chainAt(name, options.at)),
    async block(chain, n) {
      checkName(chain, 'chain');
      let number = n;
      if (number === 'latest') {
        const newest = (await client.blocks(chain, { limit: 1 })).items[0];
        if (newest === undefined) throw new SilkError('NOT_FOUND', `chain ${chain} has no block yet`);
        number = newest.number;
      }
      checkBlockNumber(number);
      const b = await onChain<BlockView>(chain, 'GET', `/api/chains/${seg(chain)}/blocks/${number}`);
      noteHeight(chain, b.number + 1);
      return b;
    },
    blocks: (chain, page) =>
      settle(() => {
        checkName(chain, 'chain');
        checkPage(page);
        return onChain<Page<BlockSummary>>(chain, 'GET', `/api/chains/${seg(chain)}/blocks`, { query: { limit: page?.limit, bookmark: page?.bookmark } });
      }),
    transaction,
    transactionBytes,
    blockBytes,
    state: (chain, contract, key) =>
      settle(() => {
        checkName(key, 'key');
        return onChain<VersionedValue>(chain, 'GET', `${stateBase(chain, contract)}/state/${seg(key)}`);
      }),
    range: (chain, contract, o) =>
      settle(() => {
        checkPage(o);
        return onChain<Page<StateEntry>>(chain, 'GET', `${stateBase(chain, contract)}/state`, { query: { start: o?.start, end: o?.end, limit: o?.limit, bookmark: o?.bookmark } });
      }),
    identities: (chain, o) =>
      settle(() => {
        checkName(chain, 'chain');
        checkPage(o);
        return onChain<Page<IdentityRecord>>(chain, 'GET', `/api/chains/${seg(chain)}/identities`, { query: { org: o?.org, limit: o?.limit, bookmark: o?.bookmark } });
      }),
    identity: (chain, key) =>
      settle(() => {
        checkName(chain, 'chain');
        checkName(key, 'key');
        return onChain<IdentityAnswer>(chain, 'GET', `/api/chains/${seg(chain)}/identities/${seg(key)}`);
      }),
    history: (chain, contract, key, o) =>
      settle(() => {
        checkName(key, 'key');
        checkPage(o);
        return onChain<Page<KeyModification>>(chain, 'GET', `${stateBase(chain, contract)}/state/${seg(key)}/history`, { query: { order: o?.order, limit: o?.limit, bookmark: o?.bookmark } });
      }),
    query: (chain, contract, q, page) =>
      settle(() => {
        checkPage(page);
        return onChain<Page<StateEntry>>(chain, 'POST', `${stateBase(chain, contract)}/query`, { body: { ...q, ...(page?.limit === undefined ? {} : { limit: page.limit }), ...(page?.bookmark === undefined ? {} : { bookmark: page.bookmark }) } });
      }),
    propose: (params, signer) => propose(params, signer),
    evaluate: (params, signer) => withCurrentVersion(params, signer, evaluateSigned),
    evaluateSigned,
    submit: (params, signer) => withCurrentVersion(params, signer, (signed) => submitSigned(signed, params.endorsingOrgs === undefined ? {} : { endorsingOrgs: params.endorsingOrgs })),
    submitSigned,
    endorse: (params, signer) => withCurrentVersion(params, signer, (signed) => endorseSigned(signed, params.endorsingOrgs === undefined ? {} : { endorsingOrgs: params.endorsingOrgs })),
    endorseSigned,
    submitEnvelope,
    async waitForCommit(chain, txId, o) {
      const timeoutMs = o?.timeoutMs ?? 30_000;
      const intervalMs = o?.intervalMs ?? 200;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          return await transaction(chain, txId);
        } catch (e) {
          if (!isSilkError(e, 'NOT_FOUND')) throw e;
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new CommitError('COMMIT_TIMEOUT', `transaction ${txId} is not on chain ${chain} after ${timeoutMs} ms`, { txId });
        await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, left)));
      }
    },
    async verifyReceipt(receipt, trust) {
      let parsed: Receipt;
      try {
        parsed = typeof receipt.header === 'string' ? receiptFromJson(receipt) : (receipt as Receipt);
      } catch (e) {
        return { ok: false, reason: (e as Error).message };
      }
      // The keys of the receipt's own block: a key rotated out since then still vouches for it.
      return verifyReceiptProofs(parsed, trust ?? receiptTrust((await chainAt(parsed.chain, parsed.blockNumber)).config));
    },
    subscribe(chain, o) {
      checkName(chain, 'chain');
      return subscribeToChain(http, chain, o);
    },
  };
  clientConnections.set(client, {
    fetch: http.fetch,
    get nodes() {
      return http.nodes;
    },
    atSeen,
    noteHeight,
  });
  return client;
}

