/**
 * `silk query`: asks without changing anything. Either runs a contract's query function with
 * a proposal signed by your key (evaluate), or reads committed state directly: one key, a key
 * range, or a key's history.
 */
import { parseArgs } from 'node:util';
import { MAX_PAGE_SIZE, type JsonValue, type KeyModification, type Page, type SilkClient, type StateEntry, type VersionedValue } from '../../sdk/index.js';
import { EXIT, UsageError } from '../cli-support.js';
import { compact, count, fields, pretty, table, utc } from '../human-format.js';
import { CLIENT_OPTIONS, InputError, integerArgument, jsonArgument, keyFile, nodeClient, reportFailures, SIGNING_OPTIONS } from '../node-client.js';

const OPTIONS = {
  ...CLIENT_OPTIONS,
  ...SIGNING_OPTIONS,
  state: { type: 'string' },
  range: { type: 'string' },
  history: { type: 'string' },
  limit: { type: 'string' },
  bookmark: { type: 'string' },
  order: { type: 'string' },
} as const;

const USAGE = 'usage: silk query CHAIN CONTRACT FN [ARGS-JSON] --key PEM | silk query CHAIN CONTRACT --state KEY | --range START [END] | --history KEY';

interface Values {
  readonly limit?: string | undefined;
  readonly bookmark?: string | undefined;
  readonly order?: string | undefined;
}

function page(values: Values): { limit?: number; bookmark?: string } {
  const limit = values.limit === undefined ? undefined : integerArgument(values.limit, '--limit');
  if (limit !== undefined && (limit < 1 || limit > MAX_PAGE_SIZE)) throw new InputError(`--limit must be 1..${MAX_PAGE_SIZE}, got ${limit}`);
  return { ...(limit === undefined ? {} : { limit }), ...(values.bookmark === undefined ? {} : { bookmark: values.bookmark }) };
}

function order(values: Values): { order?: 'asc' | 'desc' } {
  if (values.order === undefined) return {};
  if (values.order !== 'asc' && values.order !== 'desc') throw new InputError(`--order must be asc (oldest first) or desc (newest first), got '${values.order}'`);
  return { order: values.order };
}

function more(p: Page<unknown>, what: string): string {
  const n = count(p.items.length, what);
  return p.bookmark === undefined ? n : `${n}; more: run again with --bookmark ${p.bookmark}`;
}

function showEntry(e: VersionedValue): string {
  return fields([['Key', e.key], ['Written', `block ${e.version.block}, transaction ${e.version.tx}`], ['Value', pretty(e.value)]]);
}

function showRange(p: Page<StateEntry>): string {
  const rows = p.items.map((e) => [e.key, compact(e.value)]);
  return `${rows.length === 0 ? 'No key in this range.' : table(['KEY', 'VALUE'], rows)}\n\n${more(p, 'key')}`;
}

function showHistory(p: Page<KeyModification>): string {
  const rows = p.items.map((m) => [`${m.block}.${m.tx}`, utc(m.timestamp), m.txId, m.value === null ? '(deleted)' : compact(m.value)]);
  return `${rows.length === 0 ? 'This key was never written.' : table(['BLOCK.TX', 'TIME', 'TRANSACTION ID', 'VALUE'], rows)}\n\n${more(p, 'change')}`;
}

type Read = { readonly kind: 'state'; readonly key: string } | { readonly kind: 'range'; readonly start: string; readonly end: string | undefined } | { readonly kind: 'history'; readonly key: string };

/** Which read the flags ask for, if any. @throws UsageError when they ask for several, or mix a read with a function */
function readMode(values: { state?: string | undefined; range?: string | undefined; history?: string | undefined }, rest: readonly string[]): Read | undefined {
  const modes = [values.state, values.range, values.history].filter((v) => v !== undefined).length;
  if (modes === 0) return undefined;
  if (modes > 1) throw new UsageError('give one of --state, --range, --history');
  if (values.range !== undefined) {
    if (rest.length > 1) throw new UsageError(USAGE);
    return { kind: 'range', start: values.range, end: rest[0] };
  }
  if (rest.length > 0) throw new UsageError(`a function name cannot go with --state or --history; ${USAGE}`);
  return values.state !== undefined ? { kind: 'state', key: values.state } : { kind: 'history', key: values.history ?? '' };
}

async function runRead(client: SilkClient, chain: string, contract: string, read: Read, values: Values, json: boolean): Promise<void> {
  if (read.kind === 'state') {
    const entry = await client.state(chain, contract, read.key);
    console.log(json ? JSON.stringify(entry) : showEntry(entry));
  } else if (read.kind === 'range') {
    const p = await client.range(chain, contract, { start: read.start, ...(read.end === undefined ? {} : { end: read.end }), ...page(values) });
    console.log(json ? JSON.stringify(p) : showRange(p));
  } else {
    const p = await client.history(chain, contract, read.key, { ...order(values), ...page(values) });
    console.log(json ? JSON.stringify(p) : showHistory(p));
  }
}

/** Runs `silk query …` (see {@link USAGE}). */
export async function queryCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [chain, contract, ...rest] = positionals;
  if (chain === undefined || contract === undefined) throw new UsageError(USAGE);
  const read = readMode(values, rest);
  const [fn, argsText, ...extra] = rest;
  if (read === undefined && (fn === undefined || extra.length > 0)) throw new UsageError(USAGE);
  const json = values.json === true;
  return reportFailures(json, async () => {
    if (read !== undefined) {
      await runRead(nodeClient(values), chain, contract, read, values, json);
      return EXIT.ok;
    }
    const args: JsonValue = argsText === undefined ? {} : jsonArgument(argsText, 'ARGS-JSON');
    const signer = await keyFile(values, 'query');
    const result = await nodeClient(values).evaluate({ chain, contract, fn: fn ?? '', args }, signer);
    console.log(json ? JSON.stringify(result) : pretty(result));
    return EXIT.ok;
  });
}
