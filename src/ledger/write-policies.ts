/**
 * Which endorsement policies a transaction's writes must satisfy. One rule, used twice: every
 * peer applies it when it validates a block (src/peer/block-validator.ts), and the gateway plans
 * its endorsers by it before it orders a transaction (src/gateway/gateway.ts), so a transaction
 * the gateway sends to ordering has the endorsements validation will ask for.
 *
 * The rule (as Fabric's state-based endorsement): a written key that carries a key-level policy
 * needs that policy; the contract's policy is needed when some written key carries none, or when
 * the transaction writes nothing. A key's policy is the one in force before the transaction: a
 * policy the transaction itself sets governs only later writes.
 */

/** A policy a transaction's writes need and its endorsers do not meet. */
export interface UnmetWritePolicy {
  /** The policy's text. */
  readonly policy: string;
  /** The first written key that needs it; undefined for the contract policy of a transaction that writes nothing. */
  readonly key: string | undefined;
  /** True for a key-level policy, false for the contract's. */
  readonly keyLevel: boolean;
}

/**
 * The first policy the writes need that `met` says is not met, or undefined when all are. Key
 * policies are asked in write order; the contract's policy last, once.
 * @example firstUnmetWritePolicy(def.policy, result.writes, (k) => store.state(ns, k)?.policy ?? null, (p) => compileEndorsementPolicy(p).isSatisfiedBy(signers))
 */
export function firstUnmetWritePolicy(
  contractPolicy: string,
  writes: readonly { readonly key: string }[],
  keyPolicyOf: (key: string) => string | null,
  met: (policy: string) => boolean,
): UnmetWritePolicy | undefined {
  let needContractPolicy = writes.length === 0;
  let contractKey: string | undefined;
  for (const w of writes) {
    const keyPolicy = keyPolicyOf(w.key);
    if (keyPolicy === null) {
      if (!needContractPolicy) contractKey = w.key;
      needContractPolicy = true;
    } else if (!met(keyPolicy)) {
      return { policy: keyPolicy, key: w.key, keyLevel: true };
    }
  }
  return needContractPolicy && !met(contractPolicy) ? { policy: contractPolicy, key: contractKey, keyLevel: false } : undefined;
}
