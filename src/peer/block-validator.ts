/**
 * Validation of one block's transactions at a peer: decode, chain id, creator and endorser
 * identities and signatures, contract version, endorsement policy (contract or key level),
 * duplicate tx id, timestamp window and MVCC read versions. It reads no clock: time comes from
 * the orderer's block timestamp. Invalid transactions keep their place with a reason code.
 */
import { toHex } from '../crypto/hash.js';
import type { SignatureCheck, SignatureVerifier } from '../crypto/verify-pool.js';
import type { ValidationCode } from '../errors.js';
import type { Block } from '../ledger/block.js';
import { CONFIG_KEY, CONFIG_NAMESPACE, validateChainConfig, type ChainConfig } from '../ledger/chain-config.js';
import { configUpdateProblem } from '../ledger/config-transaction.js';
import { compileEndorsementPolicy } from '../ledger/endorsement-policy.js';
import { firstUnmetWritePolicy } from '../ledger/write-policies.js';
import type { DecodedTransaction } from '../ledger/transaction.js';
import { validationCodeIndex } from '../ledger/commit-hash.js';
import { decodeTransactionShared } from './shared-decoding.js';
import type { RangeRead } from '../ledger/transaction.js';
import { indexMembers, type IdentityResolver, type ResolvedIdentity } from '../identity/identity-resolver.js';
import type { LedgerStore, StateWrite, StoredState } from '../storage/sqlite-ledger-store.js';

/** What validation reads from committed state (which does not change while a block is validated). */
type StateView = Pick<LedgerStore, 'state' | 'tx' | 'range'>;

/** A view of the store that reads each committed key once per block (MVCC and policy checks share it). */
function cachingView(store: LedgerStore): StateView {
  const cache = new Map<string, StoredState | undefined>();
  return {
    state(ns, key) {
      const k = `${ns}\u0000${key}`;
      if (cache.has(k)) return cache.get(k);
      const v = store.state(ns, key);
      cache.set(k, v);
      return v;
    },
    tx: (txId) => store.tx(txId),
    range: (ns, start, end, limit, after) => store.range(ns, start, end, limit, after),
  };
}

/** A valid transaction's contract events, for delivery after commit. */
export interface CommittedEvents {
  readonly txId: string;
  readonly tx: number;
  readonly contract: string;
  readonly events: readonly { name: string; payload: string }[];
}

/** The outcome of validating a block. */
export interface BlockValidation {
  readonly codes: ValidationCode[];
  readonly writes: StateWrite[];
  readonly txIndex: { txId: string; tx: number; code: number }[];
  readonly events: CommittedEvents[];
  readonly txIds: (string | undefined)[];
  /** A configuration committed by this block, if any. */
  readonly config?: ChainConfig;
}

/** What validation needs from the peer. */
export interface ValidationInputs {
  readonly block: Block;
  readonly store: LedgerStore;
  readonly resolver: IdentityResolver;
  readonly verifier: SignatureVerifier;
}

const UNAUTHENTICATED = new Set<ValidationCode>(['MALFORMED', 'WRONG_CHAIN', 'UNKNOWN_CREATOR', 'BAD_SIGNATURE', 'BAD_ENDORSEMENT_SIGNATURE', 'UNKNOWN_ENDORSER']);
interface Candidate {
  decoded?: DecodedTransaction;
  code?: ValidationCode;
  creator?: ResolvedIdentity;
  endorsers: (ResolvedIdentity | undefined)[];
  sigFrom: number;
}

/** For block 0 the configuration inside the block governs its own validation. */
function indexGenesis(c: Candidate): Map<string, ResolvedIdentity> | undefined {
  const config = genesisConfig(c);
  return config === undefined ? undefined : indexMembers(config);
}

function genesisConfig(c: Candidate): ChainConfig | undefined {
  const d = c.decoded;
  if (d?.proposal.contract !== CONFIG_NAMESPACE) return undefined;
  const w = d.result.writes[0];
  if (w?.value == null) return undefined;
  try {
    return validateChainConfig(JSON.parse(w.value));
  } catch {
    return undefined;
  }
}


/**
 * Validates every transaction of a block against committed state.
 * @param inputs the block, the peer's store, the identity resolver and the signature verifier
 * @returns codes, the writes to apply and the tx index rows
 */
export async function validateBlock(inputs: ValidationInputs): Promise<BlockValidation> {
  const { block, resolver } = inputs;
  const store = cachingView(inputs.store);
  const height = block.header.number;
  const chain = block.header.chain;
  const candidates: Candidate[] = [];
  const checks: SignatureCheck[] = [];

  // Pass 1: decode, resolve identities, collect signature checks.
  for (const bytes of block.txs) {
    const c: Candidate = { endorsers: [], sigFrom: checks.length };
    candidates.push(c);
    try {
      c.decoded = decodeTransactionShared(bytes);
    } catch {
      c.code = 'MALFORMED';
      continue;
    }
    const { proposal, envelope } = c.decoded;
    if (proposal.chain !== chain) {
      c.code = 'WRONG_CHAIN';
      continue;
    }
    const genesisMembers = height === 0 ? indexGenesis(c) : undefined;
    const resolve = (key: Uint8Array): ResolvedIdentity | undefined => (height === 0 ? genesisMembers?.get(toHex(key)) : resolver.resolve(chain, key, height, block.header.timestamp));
    c.creator = resolve(proposal.creator);
    if (c.creator === undefined) {
      c.code = 'UNKNOWN_CREATOR';
      continue;
    }
    checks.push({ key: proposal.creator, message: envelope.proposal, signature: envelope.signature });
    for (const e of envelope.endorsements) {
      c.endorsers.push(resolve(e.endorser));
      checks.push({ key: e.endorser, message: envelope.result, signature: e.signature });
    }
  }

  const sigOk = await inputs.verifier.verifyBatch(checks);

  // Pass 2: sequential checks in block order, with an overlay of this block's valid writes.
  const config = height === 0 ? undefined : resolver.configAt(height);
  const writtenInBlock = new Map<string, { policy: string | null }>();
  const txIdsInBlock = new Set<string>();
  const out: BlockValidation = { codes: [], writes: [], txIndex: [], events: [], txIds: [] };
  let newConfig: ChainConfig | undefined;

  candidates.forEach((c, i) => {
    const d = c.decoded;
    out.txIds.push(d?.txId);
    let code: ValidationCode = c.code ?? 'VALID';
    if (code === 'VALID' && d !== undefined) {
      code = checkTransaction({ c, d, sigOk, config, block, store, writtenInBlock, txIdsInBlock, onlyTx: candidates.length === 1 });
      if (code === 'VALID' && d.proposal.contract === CONFIG_NAMESPACE) {
        newConfig = validateChainConfig(JSON.parse(d.result.writes[0]?.value ?? 'null'));
      }
    }
    out.codes.push(code);
    // Only fully authenticated transactions claim their tx id, so nobody can burn another's id
    // by attaching bogus endorsements to a proposal they intercepted.
    if (d !== undefined && !UNAUTHENTICATED.has(code)) {
      if (!txIdsInBlock.has(d.txId)) out.txIndex.push({ txId: d.txId, tx: i, code: validationCodeIndex(code) });
      txIdsInBlock.add(d.txId);
    }
    if (code !== 'VALID' || d === undefined) return;
    const ns = d.proposal.contract;
    for (const w of d.result.writes) {
      const k = `${ns}\u0000${w.key}`;
      const prior = writtenInBlock.get(k);
      const policy = w.value === null ? null : (w.policy ?? (prior !== undefined ? prior.policy : (store.state(ns, w.key)?.policy ?? null)));
      writtenInBlock.set(k, { policy });
      out.writes.push({ ns, key: w.key, value: w.value, ...(w.value !== null && policy !== null ? { policy } : {}), tx: i, txId: d.txId });
    }
    if (d.result.events.length > 0) out.events.push({ txId: d.txId, tx: i, contract: ns, events: d.result.events });
  });
  return newConfig === undefined ? out : { ...out, config: newConfig };
}

interface CheckInputs {
  readonly c: Candidate;
  readonly d: DecodedTransaction;
  readonly sigOk: readonly boolean[];
  readonly config: ChainConfig | undefined;
  readonly block: Block;
  readonly store: StateView;
  readonly writtenInBlock: Map<string, { policy: string | null }>;
  readonly txIdsInBlock: Set<string>;
  readonly onlyTx: boolean;
}

function checkTransaction(x: CheckInputs): ValidationCode {
  const { c, d, sigOk, block, store } = x;
  if (sigOk[c.sigFrom] !== true) return 'BAD_SIGNATURE';
  for (let j = 0; j < c.endorsers.length; j++) {
    if (sigOk[c.sigFrom + 1 + j] !== true) return 'BAD_ENDORSEMENT_SIGNATURE';
  }
  if (c.endorsers.some((e) => e === undefined)) return 'UNKNOWN_ENDORSER';
  const signers = c.endorsers as ResolvedIdentity[];
  const distinct = new Set(signers.map((s) => s.key));
  if (distinct.size !== signers.length) return 'ENDORSEMENT_POLICY_FAILURE';
  const ns = d.proposal.contract;

  if (ns === CONFIG_NAMESPACE) return checkConfigTransaction(x, signers);

  const def = x.config?.contracts[ns];
  if (def === undefined || def.version !== d.proposal.version || def.version !== d.result.version) return 'UNKNOWN_CONTRACT_VERSION';
  if (!policiesSatisfied(ns, def.policy, d, signers, store, x.writtenInBlock)) return 'ENDORSEMENT_POLICY_FAILURE';
  if (x.txIdsInBlock.has(d.txId) || store.tx(d.txId) !== undefined) return 'DUPLICATE_TXID';
  const window = x.config?.txWindowMs ?? 0;
  if (Math.abs(d.proposal.ts - block.header.timestamp) > window) return 'EXPIRED';
  return readConflict(ns, d, store, x.writtenInBlock);
}

/** MVCC: every key read still has the version read, and every range read is unchanged. */
function readConflict(ns: string, d: DecodedTransaction, store: StateView, overlay: Map<string, unknown>): ValidationCode {
  for (const r of d.result.reads) {
    if (overlay.has(`${ns}\u0000${r.key}`)) return 'MVCC_READ_CONFLICT';
    const s = store.state(ns, r.key);
    if (r.version === null ? s !== undefined : s === undefined || s.block !== r.version.block || s.tx !== r.version.tx) return 'MVCC_READ_CONFLICT';
  }
  for (const g of d.result.ranges ?? []) if (!rangeUnchanged(ns, g, store, overlay)) return 'PHANTOM_READ_CONFLICT';
  return 'VALID';
}

/** A range read is unchanged when committed state holds exactly the keys and versions read, and no earlier transaction of the block wrote inside it. */
function rangeUnchanged(ns: string, g: RangeRead, store: StateView, overlay: Map<string, unknown>): boolean {
  const prefix = `${ns}\u0000`;
  for (const k of overlay.keys()) {
    if (!k.startsWith(prefix)) continue;
    const key = k.slice(prefix.length);
    if (key >= g.start && key < g.end) return false;
  }
  const rows = store.range(ns, g.start, g.end, g.reads.length + 1);
  if (rows.length !== g.reads.length) return false;
  return rows.every((row, i) => {
    const r = g.reads[i];
    return r !== undefined && row.key === r.key && row.block === r.version.block && row.tx === r.version.tx;
  });
}

function policiesSatisfied(ns: string, contractPolicy: string, d: DecodedTransaction, signers: readonly ResolvedIdentity[], store: StateView, overlay: Map<string, { policy: string | null }>): boolean {
  const keyPolicyOf = (key: string): string | null => {
    const inBlock = overlay.get(`${ns}\u0000${key}`);
    return inBlock !== undefined ? inBlock.policy : (store.state(ns, key)?.policy ?? null);
  };
  return firstUnmetWritePolicy(contractPolicy, d.result.writes, keyPolicyOf, (policy) => compileEndorsementPolicy(policy).isSatisfiedBy(signers)) === undefined;
}

function checkConfigTransaction(x: CheckInputs, signers: readonly ResolvedIdentity[]): ValidationCode {
  const { d, block } = x;
  if (!x.onlyTx) return 'CONFIG_INVALID';
  if (x.config !== undefined) {
    // An update: the rules the orderers apply before acting on one (one home), then the ledger's part.
    const problem = configUpdateProblem(x.config, d, block.header.timestamp);
    if (problem !== undefined) return problem.code;
    return x.txIdsInBlock.has(d.txId) || x.store.tx(d.txId) !== undefined ? 'DUPLICATE_TXID' : 'VALID';
  }
  // The genesis configuration governs itself.
  if (d.proposal.fn !== 'update' || d.result.reads.length > 0 || d.result.writes.length !== 1) return 'CONFIG_INVALID';
  const w = d.result.writes[0];
  if (w?.key !== CONFIG_KEY || w.value === null) return 'CONFIG_INVALID';
  let next: ChainConfig;
  try {
    next = validateChainConfig(JSON.parse(w.value));
  } catch {
    return 'CONFIG_INVALID';
  }
  if (next.chain !== block.header.chain || next.sequence !== 0) return 'CONFIG_INVALID';
  if (x.c.creator?.role !== 'admin' || !signers.every((s) => s.role === 'admin')) return 'CONFIG_INVALID';
  if (!compileEndorsementPolicy(next.adminPolicy).isSatisfiedBy(signers)) return 'ENDORSEMENT_POLICY_FAILURE';
  if (x.txIdsInBlock.has(d.txId) || x.store.tx(d.txId) !== undefined) return 'DUPLICATE_TXID';
  if (Math.abs(d.proposal.ts - block.header.timestamp) > next.txWindowMs) return 'EXPIRED';
  if (!next.orderers.includes(toHex(block.header.orderer))) return 'CONFIG_INVALID';
  return 'VALID';
}
