/** `silk status`: is the node up, has it caught up, and which chains does it serve at what height. */
import { parseArgs } from 'node:util';
import type { ChainSummary, Readiness } from '../../sdk/index.js';
import { EXIT, UsageError } from '../cli-support.js';
import { fields, table } from '../human-format.js';
import { CLIENT_OPTIONS, nodeClient, reportFailures } from '../node-client.js';

function readinessLine(ready: Readiness): string {
  if (ready.status === 'ready') return 'yes: every block ordered so far is committed';
  const behind = Object.entries(ready.chains)
    .filter(([, c]) => c.height < c.ordered)
    .map(([name, c]) => `${name} ${c.height} of ${c.ordered} blocks`);
  return `no, catching up (${behind.join(', ')})`;
}

function chainRows(chains: readonly ChainSummary[], ready: Readiness): string[][] {
  return chains.map((c) => [
    c.name,
    String(c.height),
    String(ready.chains[c.name]?.ordered ?? '?'),
    String(c.orgs.length),
    Object.entries(c.contracts).map(([name, d]) => `${name} ${d.version}`).join(', '),
  ]);
}

/**
 * Runs `silk status [--url URL] [--json]`.
 * @returns 0 when the node is up and ready, 3 when it is still catching up, 5 when unreachable
 */
export async function statusCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: CLIENT_OPTIONS, allowPositionals: true, strict: true });
  if (positionals.length > 0) throw new UsageError(`status takes no arguments, got '${positionals.join(' ')}'`);
  const json = values.json === true;
  return reportFailures(json, async () => {
    const client = nodeClient(values);
    const [health, ready, chains] = await Promise.all([client.health(), client.ready(), client.chains()]);
    const code = ready.status === 'ready' ? EXIT.ok : EXIT.failure;
    if (json) {
      console.log(JSON.stringify({ url: client.url, health, ready, chains }));
      return code;
    }
    console.log(fields([['Node', client.url], ['Health', health.status], ['Ready', readinessLine(ready)]]));
    console.log('');
    console.log(chains.length === 0 ? 'This node has joined no chain.' : table(['CHAIN', 'HEIGHT', 'ORDERED', 'ORGS', 'CONTRACTS'], chainRows(chains, ready)));
    return code;
  });
}
