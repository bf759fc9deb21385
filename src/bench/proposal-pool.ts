/**
 * Request bodies for HTTP submits, signed ahead of the timed run. Each is a fresh proposal
 * (random 24-byte nonce, so a unique tx id) of the workload's function on the workload's next
 * key, signed with a client's own key as a real client signs locally; signers rotate like the
 * in-process bench's orgs. Signing ahead keeps signature cost out of the load generator's loop;
 * if the pool runs dry, bodies are signed on demand and counted.
 */
import type { Signer } from '../crypto/p256.js';
import { createProposal } from '../ledger/proposal.js';
import { toBase64 } from '../api/wire.js';
import type { ArgsGenerator, Workload } from './workloads.js';

/** One POST body and the tx id it carries. */
export interface SubmitBody {
  readonly body: Buffer;
  readonly txId: string;
}

/** The pool. */
export interface ProposalPool {
  /** The next body: a pre-signed one while there are any, else one signed now. */
  next(): SubmitBody;
  /** Bodies signed ahead. */
  readonly presigned: number;
  /** Bodies signed on demand because the pool ran dry. */
  signedOnDemand(): number;
  remaining(): number;
}

/** What the pool signs. */
export interface ProposalPoolSpec {
  readonly size: number;
  readonly signers: readonly Signer[];
  readonly chain: string;
  readonly contract: string;
  /** The contract version defined on the chain. */
  readonly version: string;
  readonly workload: Workload;
  readonly args: ArgsGenerator;
}

/**
 * Signs `size` bodies now.
 * @param spec how many, with which keys, for which chain, contract version and workload
 * @returns the pool
 * @throws RangeError when there is no signer
 * @example const pool = createProposalPool({ size: 1000, signers, chain: 'bench', contract: 'basic', version: '1.0', workload: rmw, args: createArgsGenerator(rmw, 1) })
 */
export function createProposalPool(spec: ProposalPoolSpec): ProposalPool {
  if (spec.signers.length === 0) throw new RangeError('a proposal pool needs at least one signer');
  let rotation = 0;
  const sign = (): SubmitBody => {
    const signer = spec.signers[rotation++ % spec.signers.length]!;
    const p = createProposal({ chain: spec.chain, contract: spec.contract, version: spec.version, fn: spec.workload.fn, args: spec.args.next() }, signer);
    return { body: Buffer.from(JSON.stringify({ proposal: toBase64(p.bytes), signature: toBase64(p.signature) })), txId: p.txId };
  };
  const bodies: (SubmitBody | undefined)[] = [];
  for (let i = 0; i < spec.size; i++) bodies.push(sign());
  let taken = 0;
  let onDemand = 0;
  return {
    next() {
      const b = bodies[taken];
      if (b === undefined) {
        onDemand++;
        return sign();
      }
      // Drop the reference: a sent body need not stay in memory.
      bodies[taken++] = undefined;
      return b;
    },
    presigned: spec.size,
    signedOnDemand: () => onDemand,
    remaining: () => spec.size - taken,
  };
}
