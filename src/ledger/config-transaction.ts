/**
 * Configuration transactions: chain creation (block 0) and later changes of members,
 * contracts and policies. The creator is an admin; the chain's admins sign the new
 * configuration as endorsements, and peers check them against the admin policy in force.
 */
import { sha256, toHex } from '../crypto/hash.js';
import { verifyP256, type Signer } from '../crypto/p256.js';
import { CONFIG_KEY, CONFIG_NAMESPACE, validateChainConfig, type ChainConfig } from './chain-config.js';
import { compileEndorsementPolicy } from './endorsement-policy.js';
import { createProposal } from './proposal.js';
import { encodeEnvelope, encodeTxResult, TX_FORMAT_VERSION, type DecodedTransaction } from './transaction.js';

/**
 * Builds a configuration transaction envelope.
 * @param config the complete new configuration (sequence = current + 1; 0 for a new chain)
 * @param creator the admin submitting it
 * @param admins the admins endorsing it (must satisfy the admin policy in force)
 * @param ts proposal time (ms); defaults to now
 * @throws SilkError CONFIG_INVALID when the configuration itself is invalid
 * @example const genesis = createConfigTransaction(config, admin1, [admin1, admin2])
 */
export function createConfigTransaction(config: ChainConfig, creator: Signer, admins: readonly Signer[], ts?: number): Uint8Array {
  validateChainConfig(config);
  const signed = createProposal({ chain: config.chain, contract: CONFIG_NAMESPACE, version: '1', fn: 'update', args: config, ...(ts === undefined ? {} : { ts }) }, creator);
  const result = encodeTxResult({
    v: TX_FORMAT_VERSION,
    proposalHash: sha256(signed.bytes),
    contract: CONFIG_NAMESPACE,
    version: '1',
    reads: [],
    writes: [{ key: CONFIG_KEY, value: JSON.stringify(config) }],
    hashedWrites: [],
    events: [],
    response: '',
  });
  return encodeEnvelope({ v: TX_FORMAT_VERSION, proposal: signed.bytes, signature: signed.signature, result, endorsements: admins.map((a) => ({ endorser: a.publicKey, signature: a.sign(result) })) });
}

/** Why a configuration transaction would not take effect. */
export interface ConfigUpdateProblem {
  readonly code: 'CONFIG_INVALID' | 'BAD_SIGNATURE' | 'ENDORSEMENT_POLICY_FAILURE' | 'EXPIRED';
  readonly message: string;
}

/**
 * Whether a configuration transaction would take effect on a chain whose configuration in force
 * is `current`, judged from the configuration alone: a well-formed update of this chain to the
 * next sequence, created by an admin of the configuration in force, its signatures valid,
 * endorsed by admins satisfying the admin policy, its timestamp within the window of `at`.
 * Orderers ask it before acting on an update; peers' validation (`src/peer/block-validator.ts`)
 * applies it to every update and then checks the tx id against their ledger.
 * @param current the configuration in force
 * @param d the decoded transaction
 * @param at the block's (or, before it is cut, the orderer's) time in ms
 * @returns undefined when it would take effect, else why not
 * @example if (configUpdateProblem(cutter.config, d, Date.now()) === undefined) apply(configOfTransaction(d))
 */
export function configUpdateProblem(current: ChainConfig, d: DecodedTransaction, at: number): ConfigUpdateProblem | undefined {
  const invalid = (message: string): ConfigUpdateProblem => ({ code: 'CONFIG_INVALID', message });
  const w = d.result.writes[0];
  if (d.proposal.contract !== CONFIG_NAMESPACE || d.proposal.fn !== 'update' || d.result.reads.length > 0 || d.result.writes.length !== 1 || w?.key !== CONFIG_KEY || w.value === null) return invalid('not a configuration update');
  let next: ChainConfig;
  try {
    next = validateChainConfig(JSON.parse(w.value));
  } catch (e) {
    return invalid((e as Error).message);
  }
  if (next.chain !== current.chain) return invalid(`it configures chain ${next.chain}, not ${current.chain}`);
  if (next.sequence !== current.sequence + 1) return invalid(`its sequence is ${next.sequence}; the next is ${current.sequence + 1}`);
  const admins = new Map<string, string>();
  for (const [org, { members }] of Object.entries(current.orgs)) for (const m of members) if (m.role === 'admin') admins.set(m.key, org);
  if (!admins.has(toHex(d.proposal.creator))) return invalid('its creator is not an admin of the configuration in force');
  if (!verifyP256(d.proposal.creator, d.envelope.proposal, d.envelope.signature)) return { code: 'BAD_SIGNATURE', message: 'the creator\'s signature does not verify' };
  const signers: { org: string; role: string }[] = [];
  for (const e of d.envelope.endorsements) {
    const org = admins.get(toHex(e.endorser));
    if (org === undefined) return invalid('an endorser is not an admin of the configuration in force');
    if (!verifyP256(e.endorser, d.envelope.result, e.signature)) return { code: 'BAD_SIGNATURE', message: 'an endorsement signature does not verify' };
    signers.push({ org, role: 'admin' });
  }
  if (!compileEndorsementPolicy(current.adminPolicy).isSatisfiedBy(signers)) return { code: 'ENDORSEMENT_POLICY_FAILURE', message: `the admins' endorsements do not satisfy the admin policy ${current.adminPolicy}` };
  if (Math.abs(d.proposal.ts - at) > current.txWindowMs) return { code: 'EXPIRED', message: `its timestamp is more than ${current.txWindowMs} ms from ${new Date(at).toISOString()}` };
  return undefined;
}
