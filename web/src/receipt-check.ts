/**
 * Checks a transaction's receipt in the browser with the ledger's own code (`silkledger/receipt`:
 * the same `verifyReceipt` the SDK and `silk tx` run): the inclusion proof leads to the block
 * header's Merkle root, an orderer the chain lists signed the header, a peer of the chain signed
 * the block's validation codes and commit hash, and the transaction's code is the one signed.
 * The keys are those of the chain's configuration at the receipt's block, read from the node.
 */
import { governingConfigReader, receiptFromJson, receiptTrust, verifyReceipt } from 'silkledger/receipt';
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
type ConfigAt = (chain: string, block: number) => Promise<ChainInfo>;

function configReader(signal: AbortSignal | undefined): ConfigAt {
  return governingConfigReader((chain, block) => getJson<ChainInfo>(`/api/chains/${encodeURIComponent(chain)}?at=${block}`, signal));
}

/**
 * Checks `json` against the keys of its chain at its block.
 * @throws ApiError when the chain's configuration cannot be read
 */
export function checkReceipt(json: ReceiptJson, signal?: AbortSignal): Promise<ReceiptCheck> {
  return checkWith(json, configReader(signal));
}

/**
 * Checks receipts by transaction id (a provenance answer's `proofs`), each against the keys of
 * its chain at its block (each configuration read once, with the blocks it governs).
 * @returns each transaction's check
 * @throws ApiError when a configuration cannot be read
 */
export async function checkReceipts(receipts: Readonly<Record<string, ReceiptJson>>, signal?: AbortSignal): Promise<Map<string, ReceiptCheck>> {
  const configAt = configReader(signal);
  const checks = await Promise.all(Object.entries(receipts).map(async ([txId, json]) => [txId, await checkWith(json, configAt)] as const));
  return new Map(checks);
}

async function checkWith(json: ReceiptJson, configAt: ConfigAt): Promise<ReceiptCheck> {
  let receipt;
  try {
    receipt = receiptFromJson(json);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  const { config } = await configAt(receipt.chain, receipt.blockNumber);
  const verdict = verifyReceipt(receipt, receiptTrust(config));
  if (!verdict.ok) return verdict;
  return { ok: true, block: receipt.blockNumber, leaf: receipt.txIndex, leaves: receipt.treeSize, peer: json.peer, peerOrg: orgOfPeer(config, json.peer), code: receipt.code };
}
