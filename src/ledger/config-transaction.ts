/**
 * Configuration transactions: chain creation (block 0) and later changes of members,
 * contracts and policies. The creator is an admin; the chain's admins sign the new
 * configuration as endorsements, and peers check them against the admin policy in force.
 */
import { sha256 } from '../crypto/hash.js';
import type { Signer } from '../crypto/p256.js';
import { CONFIG_KEY, CONFIG_NAMESPACE, validateChainConfig, type ChainConfig } from './chain-config.js';
import { createProposal } from './proposal.js';
import { encodeEnvelope, encodeTxResult, TX_FORMAT_VERSION } from './transaction.js';

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
