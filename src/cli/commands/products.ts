/**
 * `silk products`: a brand owner's company prefixes, product lines, lots, and the commissioning
 * of serialized items in bulk (batched transactions, with a progress bar) on the `products`
 * contract. See docs/products.md.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { commissionSerials, sequentialSerials } from '../../traceability/commissioning.js';
import type { JsonValue } from '../../ledger/json-value.js';
import { EXIT, UsageError } from '../cli-support.js';
import { compact, fields } from '../human-format.js';
import { CLIENT_OPTIONS, InputError, integerArgument, keyFile, nodeClient, reportFailures, SIGNING_OPTIONS } from '../node-client.js';
import { createProgressBar } from '../progress.js';

const USAGE = `usage:
  silk products register-prefix --prefix DIGITS --key K [--chain product]
  silk products register-line --gtin GTIN14 --brand B --name N --category C --hs-code HS --origin CC --key K
  silk products register-lot --gtin GTIN14 --lot LOT --production-date YYYY-MM-DD [--expiry-date YYYY-MM-DD] --site GLN --key K
  silk products commission --gtin GTIN14 [--lot LOT] (--serials-file F | --count N [--start S] [--width W])
                           [--owner ORG] [--batch-size N] --key K
common options: [--chain NAME (default product)] [--url URL] [--ca FILE] [--json]`;

const OPTIONS = {
  ...CLIENT_OPTIONS,
  ...SIGNING_OPTIONS,
  chain: { type: 'string' },
  prefix: { type: 'string' },
  gtin: { type: 'string' },
  brand: { type: 'string' },
  name: { type: 'string' },
  category: { type: 'string' },
  'hs-code': { type: 'string' },
  origin: { type: 'string' },
  lot: { type: 'string' },
  'production-date': { type: 'string' },
  'expiry-date': { type: 'string' },
  site: { type: 'string' },
  'serials-file': { type: 'string' },
  count: { type: 'string' },
  start: { type: 'string' },
  width: { type: 'string' },
  owner: { type: 'string' },
  'batch-size': { type: 'string' },
} as const;

type Values = Partial<Record<keyof typeof OPTIONS, string | boolean>>;

function required(values: Values, name: keyof typeof OPTIONS): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new InputError(`--${name} is required`);
  return v;
}

function optional(values: Values, name: keyof typeof OPTIONS, field: string): Record<string, string> {
  const v = values[name];
  return typeof v === 'string' ? { [field]: v } : {};
}

/** The arguments of each single-transaction subcommand. */
const SINGLE: Readonly<Record<string, { fn: string; args: (v: Values) => JsonValue }>> = {
  'register-prefix': { fn: 'registerCompanyPrefix', args: (v) => ({ prefix: required(v, 'prefix') }) },
  'register-line': {
    fn: 'registerProductLine',
    args: (v) => ({ gtin: required(v, 'gtin'), brand: required(v, 'brand'), name: required(v, 'name'), category: required(v, 'category'), hsCode: required(v, 'hs-code'), origin: required(v, 'origin') }),
  },
  'register-lot': {
    fn: 'registerLot',
    args: (v) => ({ gtin: required(v, 'gtin'), lot: required(v, 'lot'), productionDate: required(v, 'production-date'), ...optional(v, 'expiry-date', 'expiryDate'), site: required(v, 'site') }),
  },
};

/** Serials from `--serials-file` (one a line, blank lines skipped) or `--count N [--start S] [--width W]`. */
function serialsOf(values: Values): string[] {
  const file = values['serials-file'];
  const count = values.count;
  if ((typeof file === 'string') === (typeof count === 'string')) throw new InputError('give either --serials-file F or --count N');
  if (typeof file === 'string') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new InputError(`cannot read serials file ${file}: ${(e as Error).message}`);
    }
    const serials = text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== '');
    if (serials.length === 0) throw new InputError(`serials file ${file} holds no serials`);
    return serials;
  }
  const n = integerArgument(count as string, '--count');
  const start = typeof values.start === 'string' ? integerArgument(values.start, '--start') : 1;
  const width = typeof values.width === 'string' ? integerArgument(values.width, '--width') : 0;
  if (n < 1) throw new InputError('--count must be at least 1');
  try {
    return sequentialSerials(n, start, width);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
}

async function commission(values: Values, chain: string, json: boolean): Promise<number> {
  const gtin = required(values, 'gtin');
  const serials = serialsOf(values);
  const batchSize = typeof values['batch-size'] === 'string' ? integerArgument(values['batch-size'], '--batch-size') : undefined;
  const signer = await keyFile(values as { key?: string }, 'products commission');
  const bar = createProgressBar('commissioning', !json && process.stderr.isTTY);
  const started = Date.now();
  const lot = values.lot;
  const owner = values.owner;
  try {
    const result = await commissionSerials({
      submitter: nodeClient(values as { url?: string; ca?: string }),
      signer,
      chain,
      gtin,
      serials,
      ...(typeof lot === 'string' ? { lot } : {}),
      ...(typeof owner === 'string' ? { owner } : {}),
      ...(batchSize === undefined ? {} : { batchSize }),
      onProgress: (done, total) => { bar.update(done, total); },
    });
    bar.finish();
    const seconds = (Date.now() - started) / 1000;
    if (json) console.log(JSON.stringify({ ...result, seconds }));
    else {
      console.log(`commissioned ${result.commissioned} items of ${gtin}${typeof lot === 'string' ? ` lot ${lot}` : ''} in ${result.transactions.length} transactions`);
      console.log(fields([['Chain', chain], ['Time', `${seconds.toFixed(1)} s (${Math.round(result.commissioned / Math.max(seconds, 0.001))} items/s)`], ['Last tx', result.transactions.at(-1)?.txId ?? '']], 2));
    }
    return EXIT.ok;
  } catch (e) {
    bar.finish();
    throw e;
  }
}

/**
 * Runs `silk products register-prefix|register-line|register-lot|commission …`.
 * @returns 0 when committed, 2 for bad input, 4 when refused, 5 when the node is unreachable
 */
export async function productsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || (sub !== 'commission' && !Object.hasOwn(SINGLE, sub))) throw new UsageError(USAGE);
  const { values } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: false, strict: true });
  const json = values.json === true;
  const chain = values.chain ?? 'product';
  return reportFailures(json, async () => {
    if (sub === 'commission') return commission(values, chain, json);
    const single = SINGLE[sub] as { fn: string; args: (v: Values) => JsonValue };
    const args = single.args(values);
    const signer = await keyFile(values, `products ${sub}`);
    const r = await nodeClient(values).submit({ chain, contract: 'products', fn: single.fn, args }, signer);
    console.log(json ? JSON.stringify(r) : `VALID: committed in block ${r.blockNumber} of chain ${chain}\n${fields([['Transaction', r.txId], ['Response', compact(r.response)]], 2)}`);
    return EXIT.ok;
  });
}
