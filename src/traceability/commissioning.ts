/**
 * Bulk commissioning of serialized items: splits a list of serials into `commissionItems`
 * transactions of the `products` contract that fit the per-transaction limits, submits them one
 * after another and reports progress. Works with anything that submits like a gateway: the
 * in-process `Gateway` or the SDK's `SilkClient`.
 */
import type { Signer } from '../crypto/p256.js';
import { SilkError } from '../errors.js';
import type { JsonValue } from '../ledger/json-value.js';
import { MAX_ITEMS_PER_COMMISSION } from '../contracts/products/product-contract.js';

/** Serials per transaction unless told otherwise: the contract's maximum. */
export const DEFAULT_COMMISSION_BATCH = MAX_ITEMS_PER_COMMISSION;

/** What commissioning needs of a gateway or SDK client. */
export interface TransactionSubmitter {
  submit(
    params: { readonly chain: string; readonly contract: string; readonly fn: string; readonly args: JsonValue },
    signer: Signer,
  ): Promise<{ readonly txId: string; readonly code: string; readonly blockNumber: number }>;
}

/** Parameters of {@link commissionSerials}. */
export interface CommissionSerialsParameters {
  readonly submitter: TransactionSubmitter;
  readonly signer: Signer;
  /** The chain running the `products` contract. */
  readonly chain: string;
  readonly gtin: string;
  readonly lot?: string;
  readonly serials: readonly string[];
  /** Owner org of the new items (default: the signer's org). */
  readonly owner?: string;
  /** Serials per transaction, 1..{@link MAX_ITEMS_PER_COMMISSION} (default {@link DEFAULT_COMMISSION_BATCH}). */
  readonly batchSize?: number;
  /** Called after each committed batch with the items committed so far and the total. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** The outcome of {@link commissionSerials}. */
export interface CommissionSerialsResult {
  readonly commissioned: number;
  /** One committed transaction per batch, in order. */
  readonly transactions: readonly { readonly txId: string; readonly blockNumber: number; readonly count: number }[];
}

/**
 * Commissions `serials` in batches, in order. Each batch is all or nothing; on a failure the
 * batches before it stay committed and the error carries how many items were (`details.committed`),
 * so a caller can resume from there.
 * @returns the number commissioned and the transactions
 * @throws RangeError for a batch size outside 1..MAX_ITEMS_PER_COMMISSION; the submitter's
 *   SilkError (e.g. `CONTRACT_ERROR` for a duplicate serial) with `details.committed` added;
 *   SilkError `CONTRACT_ERROR` when a batch commits with a code other than VALID
 * @example
 * await commissionSerials({ submitter: net.gateway('Org1'), signer, chain: 'product', gtin, lot: 'L1', serials, onProgress: (d, t) => bar.update(d, t) });
 */
export async function commissionSerials(p: CommissionSerialsParameters): Promise<CommissionSerialsResult> {
  const size = p.batchSize ?? DEFAULT_COMMISSION_BATCH;
  if (!Number.isInteger(size) || size < 1 || size > MAX_ITEMS_PER_COMMISSION) throw new RangeError(`batchSize must be an integer from 1 to ${MAX_ITEMS_PER_COMMISSION}, got ${size}`);
  const transactions: { txId: string; blockNumber: number; count: number }[] = [];
  let done = 0;
  p.onProgress?.(0, p.serials.length);
  for (let start = 0; start < p.serials.length; start += size) {
    const serials = p.serials.slice(start, start + size);
    const args = { gtin: p.gtin, serials, ...(p.lot === undefined ? {} : { lot: p.lot }), ...(p.owner === undefined ? {} : { owner: p.owner }) };
    let r;
    try {
      r = await p.submitter.submit({ chain: p.chain, contract: 'products', fn: 'commissionItems', args }, p.signer);
    } catch (e) {
      if (e instanceof SilkError) throw new SilkError(e.code, `${e.message} (after ${done} of ${p.serials.length} items were commissioned)`, { ...e.details, committed: done }, { cause: e });
      throw e;
    }
    if (r.code !== 'VALID') {
      throw new SilkError('CONTRACT_ERROR', `batch of serials ${start}..${start + serials.length - 1} committed ${r.code} (after ${done} of ${p.serials.length} items were commissioned)`, { txId: r.txId, committed: done });
    }
    done += serials.length;
    transactions.push({ txId: r.txId, blockNumber: r.blockNumber, count: serials.length });
    p.onProgress?.(done, p.serials.length);
  }
  return { commissioned: done, transactions };
}

/**
 * Sequential numeric serials: `count` serials from `start`, zero-padded to `width` digits.
 * @throws RangeError when a serial would exceed 20 characters or the arguments are not safe integers
 * @example sequentialSerials(3, 98, 4); // ['0098', '0099', '0100']
 */
export function sequentialSerials(count: number, start = 1, width = 0): string[] {
  if (!Number.isSafeInteger(count) || count < 0 || !Number.isSafeInteger(start) || start < 0) throw new RangeError('count and start must be non-negative safe integers');
  if (String(start + count).length > 20 || width > 20) throw new RangeError('a serial is at most 20 characters (GS1 AI 21)');
  return Array.from({ length: count }, (_, i) => String(start + i).padStart(width, '0'));
}
