/**
 * Checks a transaction's receipt in the browser with the ledger's own code (`silkledger/receipt`:
 * the same `verifyReceipt` the SDK and `silk tx` run): the inclusion proof leads to the block
 * header's Merkle root, an orderer the chain lists signed the header, a peer of the chain signed
 * the block's validation codes and commit hash, and the transaction's code is the one signed.
 * The keys are those of the chain's configuration at the receipt's block, read from the node.
 */
import { governingConfigReader, receiptFromJson, receiptTrust, verifyReceipt, type Receipt } from 'silkledger/receipt';
import { getJson, type ChainInfo, type ReceiptJson } from './api.js';

/** What the check found: the facts it vouches for, or the first check that failed. */
export type ReceiptCheck =
  | { readonly ok: true; readonly block: number; readonly leaf: number; readonly leaves: number; readonly peer: string; readonly peerOrg: string | undefined; readonly code: string }
  | { readonly ok: false; readonly reason: string };

/** The org of a peer key under a configuration. */
function orgOfPeer(config: ChainInfo['config'], key: string): string | undefined {
  return Object.entries(config.orgs).find(([, o]) => o.members.some((m) => m.key === key && m.role === 'peer'))?.[0];
}

/** A chain's configuration at a block; checking several receipts reads each configuration once. */
export type ConfigAt = (chain: string, block: number) => Promise<ChainInfo>;

/** Reads configurations for receipt checks, each once (its answer says which blocks it governs). */
export function configReader(signal: AbortSignal | undefined): ConfigAt {
  return governingConfigReader((chain, block) => getJson<ChainInfo>(`/api/chains/${encodeURIComponent(chain)}?at=${block}`, signal));
}

/**
 * Checks `json` against the keys of its chain at its block.
 * @throws ApiError when the chain's configuration cannot be read
 */
export async function checkReceipt(json: ReceiptJson, signal?: AbortSignal): Promise<ReceiptCheck> {
  let receipt: Receipt;
  try {
    receipt = receiptFromJson(json);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  const { config } = await configReader(signal)(receipt.chain, receipt.blockNumber);
  const verdict = verifyReceipt(receipt, receiptTrust(config));
  return verdict.ok ? verifiedFacts(json, receipt, config) : verdict;
}

/** What a verified receipt (`json`, parsed as `receipt`) vouches for, with its peer's org under `config`. */
export function verifiedFacts(json: ReceiptJson, receipt: Receipt, config: ChainInfo['config']): Extract<ReceiptCheck, { ok: true }> {
  return { ok: true, block: receipt.blockNumber, leaf: receipt.txIndex, leaves: receipt.treeSize, peer: json.peer, peerOrg: orgOfPeer(config, json.peer), code: receipt.code };
}
