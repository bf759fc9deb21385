/** `silk block`: one block of a chain, with each transaction's outcome. */
import { parseArgs } from 'node:util';
import type { BlockView } from '../../sdk/index.js';
import { EXIT, UsageError } from '../cli-support.js';
import { fields, signerName, size, table, utc } from '../human-format.js';
import { CLIENT_OPTIONS, integerArgument, nodeClient, reportFailures } from '../node-client.js';

function describe(b: BlockView): string {
  const valid = b.transactions.filter((t) => t.code === 'VALID').length;
  const invalid = b.transactions.length - valid;
  const header = fields(
    [
      ['Cut at', utc(b.timestamp)],
      ['Hash', b.hash],
      ['Previous', b.previousHash],
      ['Data hash', b.dataHash],
      ['Commit hash', b.commitHash],
      ['Orderer', b.orderer],
      ['Size', size(b.sizeBytes)],
      ['Transactions', `${b.transactions.length} (${valid} valid${invalid === 0 ? '' : `, ${invalid} invalid`})`],
    ],
    2,
  );
  const rows = b.transactions.map((t) => [String(t.index), t.code, t.contract === undefined ? '-' : `${t.contract}.${t.fn ?? '?'}`, signerName(t.creator), t.txId ?? '(does not decode)']);
  const txs = rows.length === 0 ? '' : `\n\n${table(['#', 'STATUS', 'FUNCTION', 'SIGNED BY', 'TRANSACTION ID'], rows, 2)}`;
  return `Block ${b.number} of chain ${b.chain}\n${header}${txs}`;
}

/** Runs `silk block CHAIN [N|latest] [--url URL] [--json]`. */
export async function blockCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: CLIENT_OPTIONS, allowPositionals: true, strict: true });
  const [chain, which = 'latest', ...extra] = positionals;
  if (chain === undefined || extra.length > 0) throw new UsageError('usage: silk block CHAIN [N|latest]');
  const json = values.json === true;
  return reportFailures(json, async () => {
    const n = which === 'latest' ? 'latest' : integerArgument(which, 'the block number');
    const block = await nodeClient(values).block(chain, n);
    console.log(json ? JSON.stringify(block) : describe(block));
    return EXIT.ok;
  });
}
