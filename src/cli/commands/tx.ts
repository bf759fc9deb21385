/**
 * `silk tx`: one transaction, what it did and how it ended, with its receipt checked against
 * the chain's orderer and peer keys.
 */
import { parseArgs } from 'node:util';
import type { ReceiptVerification, TransactionDetails } from '../../sdk/index.js';
import { EXIT, UsageError } from '../cli-support.js';
import { compact, fields, signerName, utc } from '../human-format.js';
import { CLIENT_OPTIONS, InputError, nodeClient, reportFailures } from '../node-client.js';

function list(lines: readonly string[]): string {
  return lines.length === 0 ? '-' : lines.join('\n');
}

function receiptLine(v: ReceiptVerification): string {
  return v.ok ? 'verified: in a block the orderer signed, outcome signed by a peer of the chain' : `DOES NOT VERIFY: ${v.reason}`;
}

function describe(tx: TransactionDetails, v: ReceiptVerification): string {
  const status = tx.code === 'VALID' ? 'VALID' : `INVALID (${tx.code}): its writes were not applied`;
  const c = tx.creator;
  const creator = c?.name === undefined ? signerName(c) : `${c.name} (${c.org ?? '?'}, ${c.role ?? '?'})`;
  return `Transaction ${tx.txId}\n${fields(
    [
      ['Status', status],
      ['Chain', `${tx.chain}, block ${tx.block}, position ${tx.index}`],
      ['Function', `${tx.contract ?? '?'}.${tx.fn ?? '?'} (contract version ${tx.contractVersion})`],
      ['Signed by', `${creator}${tx.timestamp === undefined ? '' : ` at ${utc(tx.timestamp)}`}`],
      ['Endorsed by', list(tx.endorsers.map(signerName))],
      ['Arguments', compact(tx.args)],
      ['Response', compact(tx.response)],
      ['Read', list(tx.reads.map((r) => `${r.key} ${r.version === null ? '(absent)' : `(as of block ${r.version.block}, tx ${r.version.tx})`}`))],
      ['Wrote', list(tx.writes.map((w) => `${w.value === null ? `${w.key} deleted` : `${w.key} = ${compact(w.value)}`}${w.policy === undefined ? '' : `  [sets policy ${w.policy}]`}`))],
      ['Events', list(tx.events.map((e) => `${e.name} ${compact(e.payload)}`))],
      ['Receipt', receiptLine(v)],
    ],
    2,
  )}`;
}

/**
 * Runs `silk tx CHAIN TXID [--url URL] [--json]`.
 * @returns 0 for a VALID transaction whose receipt verifies, 4 for an invalid or unknown one, 1 when the receipt does not verify
 */
export async function txCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: CLIENT_OPTIONS, allowPositionals: true, strict: true });
  const [chain, txId, ...extra] = positionals;
  if (chain === undefined || txId === undefined || extra.length > 0) throw new UsageError('usage: silk tx CHAIN TXID');
  const json = values.json === true;
  return reportFailures(json, async () => {
    if (!/^[0-9a-f]{64}$/.test(txId)) throw new InputError(`a transaction id is 64 lowercase hex digits, got '${txId}'`);
    const client = nodeClient(values);
    const tx = await client.transaction(chain, txId);
    const verification = await client.verifyReceipt(tx.receipt);
    console.log(json ? JSON.stringify({ ...tx, receiptVerification: verification }) : describe(tx, verification));
    if (!verification.ok) return EXIT.verifyFailed;
    return tx.code === 'VALID' ? EXIT.ok : EXIT.refused;
  });
}
