/**
 * The gateway: one call takes a transaction from proposal to commit. It signs the proposal with
 * the client's key (or takes one the client signed), collects endorsements from peers that
 * satisfy the contract's policy and the key-level policies of what the proposal writes, checks
 * they agree, hands the envelope to ordering and waits for the commit at its peer, returning
 * the validation code, block number and a receipt.
 */
import type { Signer } from '../crypto/p256.js';
import { CommitError, EndorseError, isSilkError, SilkError, SubmitError, type ValidationCode } from '../errors.js';
import { compileEndorsementPolicy, principalAccepts, type PolicySigner } from '../ledger/endorsement-policy.js';
import type { JsonValue } from '../ledger/json-value.js';
import { computeTxId, createProposal, decodeProposal, type Proposal, type SignedProposal } from '../ledger/proposal.js';
import type { Receipt } from '../ledger/receipt.js';
import { decodeTransaction, decodeTxResult, encodeEnvelope, TX_FORMAT_VERSION, type Endorsement, type KeyWrite } from '../ledger/transaction.js';
import { firstUnmetWritePolicy, type UnmetWritePolicy } from '../ledger/write-policies.js';
import type { Orderer } from '../ordering/orderer.js';
import type { CommittedBlock, EndorsementResponse, Peer, SignedProposalBytes, TransactionStatus } from '../peer/peer.js';
import { waitForPeerHeight } from '../peer/height-wait.js';
import { createAdmission, type Admission, type AdmissionOptions, type AdmissionOutcome, type AdmissionStats } from './admission.js';

/** What to run. */
export interface ProposalParameters {
  readonly chain: string;
  readonly contract: string;
  readonly fn: string;
  readonly args: JsonValue;
  /** Defaults to the version defined on the chain. */
  readonly version?: string;
  /** Endorse with peers of these orgs (exactly) instead of the cheapest set satisfying the contract's and the written keys' policies. */
  readonly endorsingOrgs?: readonly string[];
}

/** The outcome of a submitted transaction. */
export interface SubmitResult {
  readonly txId: string;
  readonly code: ValidationCode;
  readonly blockNumber: number;
  readonly txIndex: number;
  /** The contract's return value as endorsed. */
  readonly response: JsonValue | undefined;
  readonly receipt: Receipt;
}

/**
 * What the gateway needs of a peer it asks for endorsements: a `Peer` of this process is one; a
 * peer of another process is reached through an adapter (`createRemotePeer`, distributed mode)
 * whose `endorse` answers a promise.
 */
export interface EndorsingPeer {
  readonly name: string;
  readonly org: string;
  /** The key its endorsements are signed with: its role is looked up in the chain configuration. */
  readonly publicKey: Uint8Array;
  /**
   * True for a peer of another process: it is asked only when the gateway's own peers cannot
   * satisfy the policy (or the caller names its org), so an endorsement stays in-process when it can.
   */
  readonly remote?: boolean;
  /** Chains the peer serves. */
  chains(): readonly string[];
  /** Its height of a chain as the gateway can see it without waiting (a remote peer: the last it reported). */
  height(chain: string): number;
  /** Endorses a proposal: at once (a peer of this process) or later (a remote one). @throws EndorseError */
  endorse(signed: SignedProposalBytes): EndorsementResponse | Promise<EndorsementResponse>;
  /** Resolves once the peer has `height` blocks of `chain`, or after `timeoutMs`; never rejects (a remote peer). */
  waitForHeight?(chain: string, height: number, timeoutMs: number): Promise<void>;
  /** Committed blocks from `fromBlock` on (a peer of this process): how the gateway waits for it to catch up. */
  subscribe?(chain: string, fromBlock: number, listener: (b: CommittedBlock) => void): () => void;
}

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** Peers the gateway may ask for endorsements. */
  readonly peers: readonly EndorsingPeer[];
  /** The peer whose commits the gateway waits for (normally one of its own org). */
  readonly commitPeer: Peer;
  readonly orderer: Orderer;
  /** How long to wait for a commit after ordering. Default 30 s. */
  readonly commitTimeoutMs?: number;
  /** Admission control of each chain's submissions (admission.ts); the defaults suit a LAN alliance. */
  readonly admission?: AdmissionOptions;
}

/** An envelope endorsed and not yet ordered ({@link Gateway.endorseSigned}). */
export interface EndorsedProposal {
  readonly envelope: Uint8Array;
  readonly txId: string;
  /** The contract's return value as endorsed. */
  readonly response: JsonValue | undefined;
  /** The encoded result every endorsement signs, a co-signer's included. */
  readonly result: Uint8Array;
  /** The first policy the peers' endorsements leave unmet: only co-signers can meet it. */
  readonly unmet?: UnmetWritePolicy;
}

/**
 * What a caller (an API route) requires of a client-signed proposal: its chain (an unknown one is
 * UNKNOWN_CHAIN, another one WRONG_CHAIN) and optionally its contract and function.
 */
export interface ExpectedProposal {
  readonly chain: string;
  readonly contract?: string;
  readonly fn?: string;
}

/** Checks a decoded proposal against what the caller expects. */
function checkExpected(peer: Peer, proposal: Proposal, expect: ExpectedProposal | undefined): void {
  if (expect === undefined) return;
  peer.height(expect.chain); // UNKNOWN_CHAIN before anything is said about the proposal
  if (proposal.chain !== expect.chain) throw new SubmitError('WRONG_CHAIN', `the proposal is for chain ${proposal.chain}, posted to ${expect.chain}`, { path: 'body.proposal' });
  if ((expect.contract !== undefined && proposal.contract !== expect.contract) || (expect.fn !== undefined && proposal.fn !== expect.fn)) {
    throw new SubmitError('INVALID_ARGUMENT', `this call takes a proposal for ${expect.contract ?? proposal.contract}.${expect.fn ?? proposal.fn}, not ${proposal.contract}.${proposal.fn}`, { path: 'body.proposal' });
  }
}

/** The gateway. */
export interface Gateway {
  /** Signs with `signer`, endorses, orders and waits for the commit. @throws EndorseError, SubmitError, CommitError (timeout) */
  submit(params: ProposalParameters, signer: Signer): Promise<SubmitResult>;
  /** Like submit, for a proposal the client signed itself. @throws also WRONG_CHAIN / INVALID_ARGUMENT when it is not what `expect` names */
  submitSigned(signed: SignedProposalBytes, options?: { endorsingOrgs?: readonly string[]; expect?: ExpectedProposal }): Promise<SubmitResult>;
  /**
   * Endorses a client-signed proposal like a submit does (remote peers included, the written
   * keys' policies planned for) and returns the envelope without ordering it: for co-signers to
   * add their endorsements (`cosignEnvelope`) before {@link Gateway.submitEnvelope}. A policy only
   * co-signers can meet is not an error here: `unmet` names the first one.
   * @throws EndorseError, SubmitError (DUPLICATE_TXID, EXPIRED), as a submit before ordering
   */
  endorseSigned(signed: SignedProposalBytes, options?: { endorsingOrgs?: readonly string[]; expect?: ExpectedProposal }): Promise<EndorsedProposal>;
  /**
   * Orders an endorsed (and perhaps co-signed) envelope and waits for its commit; returns its
   * existing outcome if it was already committed.
   * @throws SilkError MALFORMED when the envelope does not decode; WRONG_CHAIN when it is not for what `expect` names
   */
  submitEnvelope(chain: string, envelope: Uint8Array, options?: { expect?: ExpectedProposal }): Promise<SubmitResult>;
  /**
   * Endorses a proposal with peers of this process and returns the envelope without ordering it
   * (remote peers are asked by the submit calls only).
   */
  endorse(signed: SignedProposalBytes, options?: { endorsingOrgs?: readonly string[] }): { envelope: Uint8Array; txId: string; response: JsonValue | undefined };
  /** Runs a query function on the commit peer. */
  evaluate(params: ProposalParameters, signer: Signer): JsonValue | undefined;
  evaluateSigned(signed: SignedProposalBytes, options?: { expect?: ExpectedProposal }): JsonValue | undefined;
  /** Builds and signs a proposal for the chain's current contract version. */
  propose(params: ProposalParameters, signer: Signer): SignedProposal;
  status(chain: string, txId: string): TransactionStatus | undefined;
  /** The admission control of each chain this gateway has submitted to: its limit, in flight, waiting and refused. */
  admissionStats(): ReadonlyMap<string, AdmissionStats>;
  /** Stops following commits; submissions waiting for admission are refused with SHUTTING_DOWN. */
  close(): void;
}

/** How long a submit waits for a lagging endorser to reach the gateway peer's height. */
const CATCH_UP_WAIT_MS = 2000;
/** How often a submit endorses again when its endorsers returned different results. */
const MISMATCH_ATTEMPTS = 4;
/** How often a submit endorses again with the endorsers its writes' policies ask for (each time they changed under it). */
const MAX_PLAN_ROUNDS = 3;
/**
 * Blocks the commit peer may be behind the ordering service before the gateway's admission takes
 * its latency for a queue (admission.ts `behind`). Blocks arrive a few at a time: a lag of up to
 * four is the normal pace of a busy network.
 */
export const ADMISSION_BEHIND_BLOCKS = 4;

/** The error of a transaction whose writes need a policy the reachable peers cannot meet. */
function unmetPolicyError(contract: string, unmet: UnmetWritePolicy, txId: string): EndorseError {
  const what = unmet.key === undefined ? `${contract}'s policy` : `key ${unmet.key} of ${contract}, whose ${unmet.keyLevel ? 'key-level' : 'contract'} policy is`;
  return new EndorseError(
    'ENDORSEMENT_POLICY_FAILURE',
    `this transaction writes ${what} ${unmet.policy}, which the reachable peers cannot satisfy: a peer of each org it needs must be reachable, and a principal with a function or level (such as 'Org1.finance@3') needs a co-signature: endorse it without ordering (silk endorse, POST /api/chains/{chain}/endorsements), have it co-signed (silk cosign), then order the envelope (silk submit-envelope, POST …/envelopes)`,
    { txId, policy: unmet.policy, ...(unmet.key === undefined ? {} : { key: unmet.key }) },
  );
}

function rotate<T>(items: readonly T[], start: number): T[] {
  if (items.length === 0) return [];
  const k = start % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** Resolves when `peer` has `height` blocks on `chain`, or after `timeoutMs` (it then endorses as it is). */
function waitForHeight(peer: EndorsingPeer, chain: string, height: number, timeoutMs: number): Promise<void> {
  if (peer.height(chain) >= height) return Promise.resolve();
  if (peer.waitForHeight !== undefined) return peer.waitForHeight(chain, height, timeoutMs);
  const subscribe = peer.subscribe?.bind(peer);
  if (subscribe === undefined) return Promise.resolve();
  return waitForPeerHeight({ height: (c) => peer.height(c), subscribe }, chain, height, timeoutMs).then(() => undefined);
}

function resultFrom(receipt: Receipt, response: JsonValue | undefined): SubmitResult {
  return { txId: receipt.txId, code: receipt.code, blockNumber: receipt.blockNumber, txIndex: receipt.txIndex, response, receipt };
}

interface Waiter {
  resolve(b: { block: CommittedBlock; index: number }): void;
}

/** An endorsed proposal: the envelope to order, its tx id and the contract's response. */
interface Endorsed {
  readonly envelope: Uint8Array;
  readonly txId: string;
  readonly response: JsonValue | undefined;
  /** The result the endorsers agreed on (encoded `TxResult`). */
  readonly result: Uint8Array;
  /** Its writes, when a peer of this process endorsed (else decoded from `result` when needed). */
  readonly writes: readonly KeyWrite[] | undefined;
}

/** A proposal the gateway admitted: its tx id, and the commit peer's height when the tx id was last found not on the ledger. */
interface Admitted {
  readonly txId: string;
  checkedAtHeight: number;
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return value instanceof Promise;
}

/** The peer an ENDORSER_UNAVAILABLE error names, among those asked. */
function unavailablePeer(error: unknown, asked: readonly EndorsingPeer[]): EndorsingPeer | undefined {
  if (!isSilkError(error, 'ENDORSER_UNAVAILABLE')) return undefined;
  return asked.find((p) => p.name === error.details.peer);
}

/**
 * Creates a gateway.
 * @example const gw = createGateway({ peers, commitPeer: peers[0], orderer }); const r = await gw.submit({ chain: 'trade', contract: 'basic', fn: 'rmw', args: { key: 'k1', value: 'v' } }, signer)
 */
export function createGateway(options: GatewayOptions): Gateway {
  const timeoutMs = options.commitTimeoutMs ?? 30_000;
  const waiters = new Map<string, Waiter[]>();
  const subscriptions = new Map<string, () => void>();
  let rotation = 0;
  const inFlight = new Set<string>();
  const admissions = new Map<string, Admission>();
  const admissionOf = (chain: string): Admission => {
    let a = admissions.get(chain);
    if (a === undefined) {
      // Blocks ordered that the commit peer has not committed: a queue, whatever else is slow.
      const behind = (): boolean => options.orderer.height(chain) - options.commitPeer.height(chain) > ADMISSION_BEHIND_BLOCKS;
      a = createAdmission({ behind, ...options.admission });
      admissions.set(chain, a);
    }
    return a;
  };

  const ensureSubscribed = (chain: string): void => {
    if (subscriptions.has(chain)) return;
    const unsubscribe = options.commitPeer.subscribe(chain, options.commitPeer.height(chain), (block) => {
      block.txIds.forEach((txId, index) => {
        if (txId === undefined) return;
        const list = waiters.get(txId);
        if (list === undefined) return;
        waiters.delete(txId);
        for (const w of list) w.resolve({ block, index });
      });
    });
    subscriptions.set(chain, unsubscribe);
  };

  const peerRole = (chain: string, peer: EndorsingPeer): PolicySigner | undefined => options.commitPeer.identity(chain, peer.publicKey);
  const allPeers = options.peers;
  const inProcessPeers = options.peers.filter((p) => p.remote !== true);

  /**
   * The height every endorser should reach before simulating: the highest any known peer has
   * committed. A client whose previous transaction committed at any peer (through this gateway
   * or another one) then reads its own writes, and endorsers of one proposal agree.
   */
  const knownHeight = (chain: string, joined: readonly EndorsingPeer[]): number => Math.max(options.commitPeer.height(chain), ...joined.map((p) => p.height(chain)));

  /**
   * Peers of `among` that may endorse on `chain` (not in `excluded`, found unavailable): those
   * that have reached the known height, then the others.
   */
  const candidatesFor = (chain: string, among: readonly EndorsingPeer[], excluded: ReadonlySet<EndorsingPeer> | undefined): { target: number; current: EndorsingPeer[]; laggards: EndorsingPeer[] } => {
    const joined = among.filter((p) => p.chains().includes(chain) && excluded?.has(p) !== true);
    const target = knownHeight(chain, joined);
    return { target, current: joined.filter((p) => p.height(chain) >= target), laggards: joined.filter((p) => p.height(chain) < target) };
  };

  /**
   * The candidates best first for the next endorsement: caught-up peers before lagging ones,
   * this process's before remote ones, each group rotated so endorsements spread over the peers
   * (with no remote peer this is the plain rotation).
   */
  const inRotation = ({ current, laggards }: { current: EndorsingPeer[]; laggards: EndorsingPeer[] }): EndorsingPeer[] => {
    const start = rotation++;
    const local = (p: EndorsingPeer): boolean => p.remote !== true;
    return current.every(local) && laggards.every(local)
      ? [...rotate(current, start), ...laggards]
      : [...rotate(current.filter(local), start), ...laggards.filter(local), ...rotate(current.filter((p) => !local(p)), start), ...laggards.filter((p) => !local(p))];
  };

  /** The policy roles of `peers` on `chain` (a peer the chain does not know has none). */
  const rolesOf = (chain: string, peers: readonly EndorsingPeer[]): PolicySigner[] => peers.map((p) => peerRole(chain, p)).filter((r): r is PolicySigner => r !== undefined);

  /**
   * Adds peers of `ordered` to `chosen` until `policyText` is met, one per org, only peers some
   * principal of the policy accepts. Peers have no function or level, so authority principals
   * ('Org1.finance@3') are left to co-signers (docs/identity.md): such a policy stays unmet.
   */
  const addEndorsersFor = (chain: string, policyText: string, chosen: readonly EndorsingPeer[], ordered: readonly EndorsingPeer[]): { peers: EndorsingPeer[]; satisfied: boolean } => {
    const policy = compileEndorsementPolicy(policyText);
    const peers = [...chosen];
    const roles = rolesOf(chain, chosen);
    if (policy.isSatisfiedBy(roles)) return { peers, satisfied: true };
    const principals = policy.principals();
    for (const p of ordered) {
      if (peers.includes(p)) continue;
      const r = peerRole(chain, p);
      if (r === undefined || !principals.some((x) => principalAccepts(x, r)) || roles.some((x) => x.org === r.org)) continue;
      peers.push(p);
      roles.push(r);
      if (policy.isSatisfiedBy(roles)) return { peers, satisfied: true };
    }
    return { peers, satisfied: false };
  };

  /**
   * Endorsers for a proposal: the peers of `orgs` when the caller names them, else the cheapest
   * set satisfying the contract's policy. Key-level policies of what the proposal writes are
   * known only once it was simulated: {@link planForWrites} adds their endorsers then.
   */
  const chooseEndorsers = (chain: string, contract: string, orgs: readonly string[] | undefined, among: readonly EndorsingPeer[], excluded?: ReadonlySet<EndorsingPeer>): EndorsingPeer[] => {
    const found = candidatesFor(chain, among, excluded);
    const { target } = found;
    const candidates = [...found.current, ...found.laggards];
    if (orgs !== undefined) {
      const chosen = orgs.map((org) => {
        const ofOrg = candidates.filter((p) => p.org === org);
        const upToDate = ofOrg.filter((p) => p.height(chain) >= target);
        const pool = upToDate.length > 0 ? upToDate : ofOrg;
        const p = pool[rotation++ % Math.max(1, pool.length)];
        if (p === undefined) throw new EndorseError('INVALID_ARGUMENT', `no reachable peer of org ${org} on chain ${chain}`);
        return p;
      });
      return chosen;
    }
    const def = options.commitPeer.config(chain).contracts[contract];
    if (def === undefined) throw new EndorseError('UNKNOWN_CONTRACT', `contract ${contract} is not defined on chain ${chain}`);
    const { peers, satisfied } = addEndorsersFor(chain, def.policy, [], inRotation(found));
    if (!satisfied) throw new EndorseError('ENDORSEMENT_POLICY_FAILURE', `the reachable peers cannot satisfy ${contract}'s policy ${def.policy}`);
    return peers;
  };

  /**
   * The endorsement plan for what a simulation wrote (Fabric's state-based endorsement): when a
   * written key's key-level policy (or the contract's) is not met by `peers`, the peers that
   * meet it are added. Answers undefined when `peers` already meet every policy the writes need,
   * else the larger set to endorse with again and, when even that set falls short (only a
   * co-signer can meet it, or no reachable peer of a needed org is left), the policy it misses.
   */
  const planForWrites = (chain: string, contract: string, endorsed: Endorsed, peers: readonly EndorsingPeer[], among: readonly EndorsingPeer[], excluded: ReadonlySet<EndorsingPeer> | undefined): { peers: EndorsingPeer[]; unmet: UnmetWritePolicy | undefined } | undefined => {
    const def = options.commitPeer.config(chain).contracts[contract];
    if (def === undefined) return undefined;
    const store = options.commitPeer.store(chain);
    const keyPolicyOf = (key: string): string | null => store.state(contract, key)?.policy ?? null;
    const writes = endorsed.writes ?? decodeTxResult(endorsed.result).writes;
    const unmetWith = (endorsers: readonly EndorsingPeer[]): UnmetWritePolicy | undefined => {
      const roles = rolesOf(chain, endorsers);
      return firstUnmetWritePolicy(def.policy, writes, keyPolicyOf, (policy) => compileEndorsementPolicy(policy).isSatisfiedBy(roles));
    };
    const first = unmetWith(peers);
    if (first === undefined) return undefined;
    const ordered = inRotation(candidatesFor(chain, among, excluded));
    // Each unmet policy adds its endorsers; the next one is looked for against the grown set.
    let grown = [...peers];
    for (let unmet: UnmetWritePolicy | undefined = first; unmet !== undefined; unmet = unmetWith(grown)) {
      const added = addEndorsersFor(chain, unmet.policy, grown, ordered);
      if (!added.satisfied) return { peers: added.peers, unmet };
      grown = added.peers;
    }
    // A peer the grown set no longer needs (the contract policy's first pick, when a key's policy
    // brought in a peer that meets both) is left out: one signature less to make, and one less
    // for every peer to check.
    const needed = [...grown];
    for (const peer of grown) {
      const without = needed.filter((p) => p !== peer);
      if (without.length > 0 && unmetWith(without) === undefined) needed.splice(needed.indexOf(peer), 1);
    }
    return { peers: needed, unmet: undefined };
  };

  /** The error of a peer in `down` that some principal of `policyText` accepts, if any. */
  const downPeerFor = (chain: string, policyText: string, down: ReadonlyMap<EndorsingPeer, SilkError>): SilkError | undefined => {
    const principals = compileEndorsementPolicy(policyText).principals();
    for (const [peer, error] of down) {
      const r = peerRole(chain, peer);
      if (r !== undefined && principals.some((x) => principalAccepts(x, r))) return error;
    }
    return undefined;
  };

  /** Checks the endorsements of `peers` agree and assembles the envelope. */
  const assemble = (signed: SignedProposalBytes, peers: readonly EndorsingPeer[], answers: readonly EndorsementResponse[]): Endorsed => {
    let result: Uint8Array | undefined;
    let response: JsonValue | undefined;
    let writes: readonly KeyWrite[] | undefined;
    let txId = '';
    const endorsements: Endorsement[] = [];
    for (const [i, peer] of peers.entries()) {
      const r = answers[i] as EndorsementResponse;
      if (result !== undefined && Buffer.compare(result, r.result) !== 0) {
        throw new EndorseError('ENDORSEMENT_MISMATCH', `peer ${peer.name} computed a different result`, { txId: r.txId });
      }
      result = r.result;
      response = r.response;
      // Every result is the same bytes, so any in-process peer's writes are theirs.
      writes ??= r.writes;
      txId = r.txId;
      endorsements.push(r.endorsement);
    }
    if (result === undefined) throw new EndorseError('ENDORSEMENT_POLICY_FAILURE', 'no endorsing peer');
    const envelope = encodeEnvelope({ v: TX_FORMAT_VERSION, proposal: signed.bytes, signature: signed.signature, result, endorsements });
    return { envelope, txId, response, result, writes };
  };

  /**
   * Collects the endorsements of `peers` and assembles the envelope: at once when every peer
   * answered at once (peers of this process), else once the remote ones answered. Remote peers
   * are asked first, so they work while this process's peers simulate.
   */
  const endorseWith = (signed: SignedProposalBytes, peers: readonly EndorsingPeer[]): Endorsed | Promise<Endorsed> => {
    const answers: (EndorsementResponse | Promise<EndorsementResponse>)[] = new Array<EndorsementResponse>(peers.length);
    let pending = false;
    try {
      for (const [i, peer] of peers.entries()) {
        if (peer.remote !== true) continue;
        answers[i] = peer.endorse(signed);
        pending = true;
      }
      for (const [i, peer] of peers.entries()) {
        if (peer.remote === true) continue;
        const a = peer.endorse(signed);
        answers[i] = a;
        pending ||= isPromise(a);
      }
    } catch (error) {
      // A peer of this process refused: the remote answers still on their way are dropped.
      for (const a of answers) if (isPromise(a)) a.catch(() => undefined);
      throw error;
    }
    if (!pending) return assemble(signed, peers, answers as EndorsementResponse[]);
    return Promise.allSettled(answers.map(async (a) => a)).then((settled) => {
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      return assemble(signed, peers, settled.map((s) => (s as PromiseFulfilledResult<EndorsementResponse>).value));
    });
  };

  const waitForCommit = (chain: string, txId: string): { promise: Promise<{ block: CommittedBlock; index: number }>; cancel(): void } => {
    ensureSubscribed(chain);
    let timer: NodeJS.Timeout | undefined;
    let entry: Waiter | undefined;
    const promise = new Promise<{ block: CommittedBlock; index: number }>((resolve, reject) => {
      entry = { resolve: (b) => {
        clearTimeout(timer);
        resolve(b);
      } };
      const list = waiters.get(txId) ?? [];
      list.push(entry);
      waiters.set(txId, list);
      timer = setTimeout(() => {
        const l = waiters.get(txId);
        if (l !== undefined) {
          const rest = l.filter((w) => w !== entry);
          if (rest.length === 0) waiters.delete(txId);
          else waiters.set(txId, rest);
        }
        reject(new CommitError('COMMIT_TIMEOUT', `transaction ${txId} was not committed within ${timeoutMs} ms; query its status`, { txId }));
      }, timeoutMs);
    });
    return {
      promise,
      cancel() {
        clearTimeout(timer);
        const l = waiters.get(txId)?.filter((w) => w !== entry) ?? [];
        if (l.length === 0) waiters.delete(txId);
        else waiters.set(txId, l);
      },
    };
  };

  const outcome = (chain: string, txId: string, response: JsonValue | undefined): SubmitResult => {
    const receipt = options.commitPeer.receipt(chain, txId);
    if (receipt === undefined) throw new CommitError('NOT_FOUND', `transaction ${txId} is not indexed on ${options.commitPeer.name}`, { txId });
    return resultFrom(receipt, response);
  };

  const order = async (chain: string, envelope: Uint8Array, txId: string, response: JsonValue | undefined): Promise<SubmitResult> => {
    const wait = waitForCommit(chain, txId);
    try {
      await options.orderer.broadcast(chain, envelope);
    } catch (e) {
      wait.cancel();
      if (e instanceof SilkError) throw e instanceof SubmitError ? e : new SubmitError(e.code, e.message, { ...e.details, txId }, { cause: e });
      throw new SubmitError('ORDERING_UNAVAILABLE', `ordering failed: ${(e as Error).message}`, { txId }, { cause: e });
    }
    const { block, index } = await wait.promise;
    const code = block.codes[index] ?? 'MALFORMED';
    // The receipt comes from the tx index, so a duplicate reports its first occurrence.
    const receipt = options.commitPeer.receipt(chain, txId);
    if (receipt === undefined) {
      // Never indexed (e.g. a signature the peers refused): report the code this block gave it.
      throw new CommitError(code === 'VALID' ? 'INTERNAL' : code, `transaction ${txId} was refused in block ${block.number}: ${code}`, { txId, block: block.number });
    }
    return resultFrom(receipt, response);
  };

  /**
   * Endorses with `peers` once they caught up, retrying differing results a few times. `admitted`
   * is the proposal as admitted: its tx id and the commit peer's height when it was found not yet
   * on the ledger.
   */
  const endorseAgreeing = async (signed: SignedProposalBytes, chain: string, peers: readonly EndorsingPeer[], admitted: Admitted): Promise<Endorsed> => {
    // Endorsers behind the gateway's peer, or behind each other, get a moment to catch up
    // before they simulate, so they read the same state and return the same result.
    const target = knownHeight(chain, allPeers.filter((p) => p.chains().includes(chain)));
    await Promise.all(peers.map((p) => waitForHeight(p, chain, target, CATCH_UP_WAIT_MS)));
    // Peers converge within moments (a commit is visible to reads slightly before the peer
    // reports its new height), so differing results are retried a few times before failing.
    for (let attempt = 1; ; attempt++) {
      // Blocks committed while it waited may hold it (a resubmit of a proposal another node
      // ordered): its outcome there is the answer, not what simulating it again would say.
      refuseIfCommittedSince(chain, admitted);
      try {
        const e = endorseWith(signed, peers);
        return isPromise(e) ? await e : e;
      } catch (err) {
        if (attempt >= MISMATCH_ATTEMPTS || !(err instanceof EndorseError) || err.code !== 'ENDORSEMENT_MISMATCH') throw err;
        // Usually one endorser had committed a block the other had not yet: under load the gap
        // lasts longer than a fixed pause, so the next attempt waits until each endorser has
        // reached the highest height any of them reports (and a moment more for its reads).
        const highest = Math.max(...peers.map((p) => p.height(chain)));
        await Promise.all(peers.map((p) => waitForHeight(p, chain, highest, CATCH_UP_WAIT_MS)));
        await new Promise((resolve) => setTimeout(resolve, 2 * attempt));
      }
    }
  };

  /**
   * Endorses with the peers the contract's policy and the written keys' policies ask for (or the
   * peers of `orgs`, exactly). A policy no reachable peer can meet is an error, unless
   * `leaveToCosigners`: then the envelope comes back with the first such policy in `unmet`, for
   * co-signers to meet before it is ordered.
   */
  const endorsePlanned = async (signed: SignedProposalBytes, proposal: Proposal, admitted: Admitted, orgs: readonly string[] | undefined, leaveToCosigners: boolean): Promise<{ endorsed: Endorsed; unmet: UnmetWritePolicy | undefined }> => {
    const { chain, contract } = proposal;
    let peers = chooseEndorsers(chain, contract, orgs, allPeers);
    // A peer that cannot be reached is left out and the policy satisfied without it when other
    // peers can; otherwise its error, naming it, is the answer.
    const down = new Map<EndorsingPeer, SilkError>();
    let planned = 0;
    for (;;) {
      let e: Endorsed;
      try {
        e = await endorseAgreeing(signed, chain, peers, admitted);
      } catch (err) {
        const unavailable = unavailablePeer(err, peers);
        if (unavailable === undefined || down.has(unavailable)) throw err;
        down.set(unavailable, err as SilkError);
        try {
          peers = chooseEndorsers(chain, contract, orgs, allPeers, new Set(down.keys()));
        } catch {
          throw err;
        }
        continue;
      }
      const plan = orgs === undefined ? planForWrites(chain, contract, e, peers, allPeers, new Set(down.keys())) : undefined;
      if (plan === undefined) return { endorsed: e, unmet: undefined };
      if (plan.unmet !== undefined) {
        // A peer found down that the policy would take: its error, naming it, is the answer.
        const downError = downPeerFor(chain, plan.unmet.policy, down);
        if (downError !== undefined) throw downError;
        if (!leaveToCosigners) throw unmetPolicyError(contract, plan.unmet, e.txId);
        // The peers that help are asked too; what is left is the co-signers'.
        if (plan.peers.length === peers.length) return { endorsed: e, unmet: plan.unmet };
      }
      if (++planned > MAX_PLAN_ROUNDS) throw new EndorseError('ENDORSEMENT_POLICY_FAILURE', `transaction ${e.txId} wrote keys whose policies changed ${MAX_PLAN_ROUNDS} times while it was endorsed; submit it again`, { txId: e.txId });
      peers = plan.peers;
    }
  };

  /** Refuses a transaction already on the ledger with DUPLICATE_TXID and its block. */
  const refuseIfCommitted = (chain: string, txId: string): void => {
    const committed = options.commitPeer.transactionStatus(chain, txId);
    if (committed !== undefined) throw new SubmitError('DUPLICATE_TXID', `transaction ${txId} is already on the ledger (block ${committed.block}, ${committed.code})`, { txId, block: committed.block });
  };

  /** {@link refuseIfCommitted} again when the commit peer committed blocks since the proposal was last checked (none: nothing to look up). */
  const refuseIfCommittedSince = (chain: string, admitted: Admitted): void => {
    const height = options.commitPeer.height(chain);
    if (height === admitted.checkedAtHeight) return;
    refuseIfCommitted(chain, admitted.txId);
    admitted.checkedAtHeight = height;
  };

  /** The checks of a client-signed proposal before any peer runs it: expected chain, replay, time window, already in flight. */
  const admitSigned = (signed: SignedProposalBytes, expect: ExpectedProposal | undefined): { proposal: Proposal; admitted: Admitted } => {
    const proposal = decodeProposal(signed.bytes);
    checkExpected(options.commitPeer, proposal, expect);
    // A replayed proposal is refused here, before any peer or the orderer spends work on it.
    const txId = computeTxId(proposal.nonce, proposal.creator);
    const checkedAtHeight = options.commitPeer.height(proposal.chain);
    refuseIfCommitted(proposal.chain, txId);
    const windowMs = options.commitPeer.config(proposal.chain).txWindowMs;
    if (Math.abs(Date.now() - proposal.ts) > windowMs) throw new SubmitError('EXPIRED', `the proposal was signed at ${new Date(proposal.ts).toISOString()}, outside the chain's ${windowMs / 1000} s window: sign a new one`, { txId });
    if (inFlight.has(txId)) throw new SubmitError('DUPLICATE_TXID', `transaction ${txId} is already being submitted`, { txId });
    return { proposal, admitted: { txId, checkedAtHeight } };
  };

  const gateway: Gateway = {
    propose(params, signer) {
      const version = params.version ?? options.commitPeer.config(params.chain).contracts[params.contract]?.version;
      if (version === undefined) throw new EndorseError('UNKNOWN_CONTRACT', `contract ${params.contract} is not defined on chain ${params.chain}`);
      return createProposal({ chain: params.chain, contract: params.contract, version, fn: params.fn, args: params.args }, signer);
    },
    async submit(params, signer) {
      return gateway.submitSigned(gateway.propose(params, signer), params.endorsingOrgs ? { endorsingOrgs: params.endorsingOrgs } : {});
    },
    async submitSigned(signed, opts) {
      const { proposal, admitted } = admitSigned(signed, opts?.expect);
      const { txId } = admitted;
      inFlight.add(txId);
      try {
        // Beyond the chain's admission limit a proposal waits here, before any peer reads state for it.
        const entered = admissionOf(proposal.chain).enter();
        const ticket = isPromise(entered) ? await entered : entered;
        let outcome: AdmissionOutcome = 'failed';
        try {
          const { endorsed: e } = await endorsePlanned(signed, proposal, admitted, opts?.endorsingOrgs, false);
          const result = await order(proposal.chain, e.envelope, e.txId, e.response);
          outcome = 'committed';
          return result;
        } catch (error) {
          // Refused in a block: it went all the way through the pipeline too.
          if (error instanceof CommitError && error.code !== 'COMMIT_TIMEOUT') outcome = 'committed';
          throw error;
        } finally {
          ticket.leave(outcome);
        }
      } finally {
        inFlight.delete(txId);
      }
    },
    async endorseSigned(signed, opts) {
      const { proposal, admitted } = admitSigned(signed, opts?.expect);
      const { txId } = admitted;
      inFlight.add(txId);
      try {
        const { endorsed: e, unmet } = await endorsePlanned(signed, proposal, admitted, opts?.endorsingOrgs, true);
        return { envelope: e.envelope, txId: e.txId, response: e.response, result: e.result, ...(unmet === undefined ? {} : { unmet }) };
      } finally {
        inFlight.delete(txId);
      }
    },
    async submitEnvelope(chain, envelope, opts) {
      const d = decodeTransaction(envelope);
      checkExpected(options.commitPeer, d.proposal, opts?.expect);
      const response = d.result.response === '' ? undefined : (JSON.parse(d.result.response) as JsonValue);
      if (options.commitPeer.transactionStatus(chain, d.txId) !== undefined) return outcome(chain, d.txId, response);
      return order(chain, envelope, d.txId, response);
    },
    endorse(signed, opts) {
      const { chain, contract } = decodeProposal(signed.bytes);
      const endorseNow = (peers: readonly EndorsingPeer[]): Endorsed => {
        const e = endorseWith(signed, peers);
        if (isPromise(e)) {
          e.catch(() => undefined);
          throw new EndorseError('INVALID_ARGUMENT', 'endorse() answers at once, with peers of this process; a peer answered later: submit instead');
        }
        return e;
      };
      let peers = chooseEndorsers(chain, contract, opts?.endorsingOrgs, inProcessPeers);
      let e = endorseNow(peers);
      // The peers the writes' policies ask for are added; what only a co-signer can meet is left
      // to the caller's co-signature (cosignEnvelope) before submitEnvelope.
      for (let round = 0; opts?.endorsingOrgs === undefined && round < MAX_PLAN_ROUNDS; round++) {
        const plan = planForWrites(chain, contract, e, peers, inProcessPeers, undefined);
        if (plan === undefined || plan.peers.length === peers.length) break;
        peers = plan.peers;
        e = endorseNow(peers);
      }
      return { envelope: e.envelope, txId: e.txId, response: e.response };
    },
    evaluate(params, signer) {
      return options.commitPeer.evaluate(gateway.propose(params, signer));
    },
    evaluateSigned(signed, opts) {
      if (opts?.expect !== undefined) checkExpected(options.commitPeer, decodeProposal(signed.bytes), opts.expect);
      return options.commitPeer.evaluate(signed);
    },
    status: (chain, txId) => options.commitPeer.transactionStatus(chain, txId),
    admissionStats: () => new Map([...admissions].map(([chain, a]) => [chain, a.stats()])),
    close() {
      for (const u of subscriptions.values()) u();
      subscriptions.clear();
      for (const a of admissions.values()) a.close(new SubmitError('SHUTTING_DOWN', 'the gateway is closing; the transaction was not endorsed'));
    },
  };
  return gateway;
}
