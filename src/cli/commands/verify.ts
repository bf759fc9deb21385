/** `silk verify`: re-verifies peers' ledger files offline. */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { verifyLedgerFile } from '../../peer/ledger-verifier.js';
import { dataDir, EXIT, UsageError } from '../cli-support.js';
import { peerLedgers } from '../peer-ledgers.js';
import { createProgressBar } from '../progress.js';

/** Runs `silk verify`. */
export async function verifyCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { data: { type: 'string' }, peer: { type: 'string' }, chain: { type: 'string' }, scratch: { type: 'string' }, json: { type: 'boolean' } }, strict: true });
  if (values.scratch !== undefined && !existsSync(values.scratch)) throw new UsageError(`--scratch ${values.scratch}: no such folder`);
  const files = peerLedgers(dataDir(values), values.peer, values.chain).map((l) => l.file);
  let allOk = true;
  const results = [];
  for (const file of files) {
    const bar = createProgressBar(`verifying ${file}`, values.json !== true && process.stderr.isTTY);
    const v = await verifyLedgerFile(file, { onProgress: (d, t) => { bar.update(d, t); }, ...(values.scratch === undefined ? {} : { scratchDir: values.scratch }) });
    bar.finish();
    results.push(v);
    allOk &&= v.ok;
    if (values.json !== true) {
      if (v.ok) console.log(`ok    ${file}: ${v.blocks} blocks, ${v.transactions} transactions, ${v.stateKeys} state keys`);
      else for (const p of v.problems) console.log(`FAIL  ${file}: ${p.message}`);
    }
  }
  if (values.json === true) console.log(JSON.stringify({ ok: allOk, ledgers: results }));
  return allOk ? EXIT.ok : EXIT.verifyFailed;
}
