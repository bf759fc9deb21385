/**
 * The ordering service interface: the solo orderer (embedded mode) and the etcd-backed orderer
 * (distributed mode) both implement it.
 */

/** Where a broadcast envelope was ordered. */
export interface OrderedPosition {
  readonly chain: string;
  readonly block: number;
  readonly index: number;
}

/** Orders envelopes into signed blocks and delivers them in order. */
export interface Orderer {
  /**
   * Creates a chain from its genesis configuration transaction.
   * @returns the genesis block's bytes
   */
  createChain(configEnvelope: Uint8Array): Promise<Uint8Array>;
  /**
   * Hands an envelope to ordering. Resolves once the block holding it is durably stored by the
   * ordering service (the acknowledgement means "durably ordered", not "committed").
   * @throws SubmitError MALFORMED, BAD_SIGNATURE, UNKNOWN_CHAIN, UNKNOWN_CREATOR, PAYLOAD_TOO_LARGE, ORDERING_UNAVAILABLE
   */
  broadcast(chain: string, envelope: Uint8Array): Promise<OrderedPosition>;
  /** Delivers blocks from `fromBlock` on, in order: stored ones first, then new ones. */
  deliver(chain: string, fromBlock: number, onBlock: (bytes: Uint8Array, number: number) => void): () => void;
  /** One ordered block's bytes, if the ordering service still holds it. */
  block(chain: string, number: number): Uint8Array | undefined;
  /** Number of blocks ordered on a chain. */
  height(chain: string): number;
  chains(): string[];
  close(): Promise<void>;
}
