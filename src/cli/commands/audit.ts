/** `silk audit`: replays a node's chain from a trusted genesis block and checks what its peer signed. */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { auditChain, commitOfBlockView, type AuditSource, type ChainAudit } from '../../audit/chain-audit.js';
import type { SilkClient } from '../../sdk/index.js';
import { EXIT, UsageError } from '../cli-support.js';
import { fields } from '../human-format.js';
import { CLIENT_OPTIONS, InputError, integerArgument, nodeClient, reportFailures } from '../node-client.js';
import { createProgressBar } from '../progress.js';

const USAGE = 'usage: silk audit CHAIN [--genesis HASH] [--to N] [--scratch DIR] [--url URL] [--json]';

/** The node's blocks and its peer's commit signatures, read through the SDK. */
function clientSource(client: SilkClient, chain: string): AuditSource {
  return {
    height: async () => (await client.chain(chain)).height,
    blockBytes: (n) => client.blockBytes(chain, n),
    commit: async (n) => commitOfBlockView(await client.block(chain, n)),
  };
}

function describe(a: ChainAudit, url: string): string {
  if (!a.ok) {
    const problem = a.problems[0]?.message ?? 'no block was checked';
    return `FAIL  chain ${a.chain} at ${url}: ${problem}${a.head === undefined ? '' : `\n      blocks 0 to ${a.head.number} matched`}`;
  }
  const head = a.head as NonNullable<ChainAudit['head']>;
  const lines = fields(
    [
      ['Blocks', `0 to ${head.number}, ${a.transactions} transactions re-validated`],
      ['Genesis', `${a.genesisHash ?? '?'} ${a.genesisPinned ? '(the hash you gave)' : '(as served: compare it with the one your alliance publishes, then pass it with --genesis)'}`],
      ['Head hash', head.hash],
      ['Commit hash', head.commitHash],
      ['Signed by', a.peers.join('\n')],
      ['Configurations', a.configurations.map((c) => `sequence ${c.sequence} in block ${c.block}`).join('\n')],
      ['Orderer keys', (a.trust?.orderers ?? []).join('\n')],
      ['Peer keys', (a.trust?.peers ?? []).join('\n')],
    ],
    2,
  );
  return `ok    chain ${a.chain} at ${url}: every block replayed from genesis; each validation code and commit hash is the one the node's peer signed\n${lines}`;
}

/** Runs `silk audit CHAIN [--genesis HASH] [--to N] [--scratch DIR] [--url URL] [--json]`. */
export async function auditCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...CLIENT_OPTIONS, genesis: { type: 'string' }, to: { type: 'string' }, scratch: { type: 'string' } }, allowPositionals: true, strict: true });
  const [chain, ...extra] = positionals;
  if (chain === undefined || extra.length > 0) throw new UsageError(USAGE);
  const json = values.json === true;
  return reportFailures(json, async () => {
    if (values.scratch !== undefined && !existsSync(values.scratch)) throw new InputError(`--scratch ${values.scratch}: no such folder`);
    if (values.genesis !== undefined && !/^[0-9a-fA-F]{64}$/.test(values.genesis)) throw new InputError(`--genesis takes the genesis block's hash, 64 hex digits; got ${JSON.stringify(values.genesis)}`);
    const to = values.to === undefined ? undefined : integerArgument(values.to, 'the last block to audit');
    const client = nodeClient(values);
    const bar = createProgressBar(`auditing chain ${chain}`, !json && process.stderr.isTTY);
    const audit = await auditChain(chain, clientSource(client, chain), {
      ...(values.genesis === undefined ? {} : { genesisHash: values.genesis }),
      ...(to === undefined ? {} : { to }),
      ...(values.scratch === undefined ? {} : { scratchDir: values.scratch }),
      onProgress: (done, total) => { bar.update(done, total); },
    });
    bar.finish();
    console.log(json ? JSON.stringify(audit) : describe(audit, client.url));
    return audit.ok ? EXIT.ok : EXIT.verifyFailed;
  });
}
