/**
 * `silk submit`: signs a transaction with your key on this machine (the key never leaves
 * it), has the node endorse, order and commit it, and says how it ended.
 */
import { parseArgs } from 'node:util';
import type { SubmitResult } from '../../sdk/index.js';
import { EXIT, UsageError } from '../cli-support.js';
import { compact, fields } from '../human-format.js';
import { CLIENT_OPTIONS, InputError, jsonArgument, keyFile, nodeClient, reportFailures, SIGNING_OPTIONS } from '../node-client.js';

const OPTIONS = { ...CLIENT_OPTIONS, ...SIGNING_OPTIONS, 'endorsing-orgs': { type: 'string' } } as const;

/** The `--endorsing-orgs A,B` option. @throws InputError for an empty name in the list */
export function endorsingOrgs(text: string | undefined): { endorsingOrgs?: string[] } {
  if (text === undefined) return {};
  const orgs = text.split(',').map((o) => o.trim());
  if (orgs.some((o) => o === '')) throw new InputError(`--endorsing-orgs is a comma list of org names, e.g. Org1,Org2; got '${text}'`);
  return { endorsingOrgs: orgs };
}

/** A committed VALID transaction, for people. */
export function describeCommitted(chain: string, r: SubmitResult): string {
  return `VALID: committed in block ${r.blockNumber} of chain ${chain}\n${fields(
    [
      ['Transaction', r.txId],
      ['Response', compact(r.response)],
      ['Check', `silk tx ${chain} ${r.txId}`],
    ],
    2,
  )}`;
}

/**
 * Runs `silk submit CHAIN CONTRACT FN ARGS-JSON --key PEM [--endorsing-orgs A,B] [--url URL] [--json]`.
 * @returns 0 when committed as VALID, 4 when refused or committed invalid, 5 when the node is unreachable
 */
export async function submitCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [chain, contract, fn, argsText, ...extra] = positionals;
  if (chain === undefined || contract === undefined || fn === undefined || argsText === undefined || extra.length > 0) {
    throw new UsageError('usage: silk submit CHAIN CONTRACT FN ARGS-JSON --key PEM [--endorsing-orgs A,B]');
  }
  const json = values.json === true;
  return reportFailures(json, async () => {
    const args = jsonArgument(argsText, 'ARGS-JSON');
    const orgs = endorsingOrgs(values['endorsing-orgs']);
    const signer = await keyFile(values, 'submit');
    const result = await nodeClient(values).submit({ chain, contract, fn, args, ...orgs }, signer);
    console.log(json ? JSON.stringify(result) : describeCommitted(chain, result));
    return EXIT.ok;
  });
}
