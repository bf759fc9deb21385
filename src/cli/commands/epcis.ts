/**
 * `silk epcis import FILE` validates an EPCIS 2.0 document on this machine (the first problem is
 * printed with its JSON path, nothing is sent), signs it with your key and records it in one
 * transaction, all or nothing; `--parts` instead records a document too big for one transaction
 * in atomic parts, with progress. `silk epcis events` lists recorded events.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isSilkError } from '../../errors.js';
import { captureDocument, MAX_EVENTS_PER_CAPTURE } from '../../traceability/epcis-capture.js';
import { apiUrl, EXIT, UsageError } from '../cli-support.js';
import { CLIENT_OPTIONS, InputError, integerArgument, keyFile, nodeClient, reportFailures, SIGNING_OPTIONS } from '../node-client.js';
import { createProgressBar } from '../progress.js';

const IMPORT_OPTIONS = { ...CLIENT_OPTIONS, ...SIGNING_OPTIONS, chain: { type: 'string' }, parts: { type: 'boolean' }, 'events-per-tx': { type: 'string' } } as const;
const EVENTS_OPTIONS = {
  ...CLIENT_OPTIONS,
  chain: { type: 'string' },
  epc: { type: 'string' },
  'biz-step': { type: 'string' },
  disposition: { type: 'string' },
  'read-point': { type: 'string' },
  'biz-location': { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  limit: { type: 'string' },
  bookmark: { type: 'string' },
} as const;

const USAGE = `usage: silk epcis import FILE --chain C --key KEY [--parts] [--events-per-tx N] [--url URL] [--json]
       silk epcis events --chain C [--epc EPC] [--biz-step S] [--disposition D] [--read-point R] [--biz-location L]
                         [--from TIME] [--to TIME] [--limit N] [--bookmark B] [--url URL] [--json]`;

function readDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read ${file}: ${(e as { code?: string }).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new InputError(`${file} is not JSON: ${(e as Error).message}`);
  }
}

async function importCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: IMPORT_OPTIONS, allowPositionals: true, strict: true });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0 || values.chain === undefined) throw new UsageError(USAGE);
  const chain = values.chain;
  const json = values.json === true;
  return reportFailures(json, async () => {
    const document = readDocument(file);
    const perTx = values['events-per-tx'] === undefined ? MAX_EVENTS_PER_CAPTURE : integerArgument(values['events-per-tx'], '--events-per-tx');
    if (perTx < 1 || perTx > MAX_EVENTS_PER_CAPTURE) throw new InputError(`--events-per-tx must be 1..${MAX_EVENTS_PER_CAPTURE}`);
    const signer = await keyFile(values, 'epcis import');
    const client = nodeClient(values);
    const progress = createProgressBar('capturing', !json && process.stderr.isTTY);
    let result;
    try {
      result = await captureDocument(document, (p) => client.submit(p, signer), {
        chain,
        behaviour: values.parts === true ? 'proceed' : 'rollback',
        maxEventsPerTransaction: perTx,
        onProgress: (done, total) => { progress.update(done, total); },
      });
    } catch (e) {
      // A local validation failure names its path and nothing was sent: a mistake in the input.
      if (isSilkError(e) && e.code === 'INVALID_ARGUMENT' && typeof e.details.path === 'string') throw new InputError(`${file}: ${e.message}`);
      throw e;
    } finally {
      progress.finish();
    }
    if (json) {
      console.log(JSON.stringify(result));
    } else {
      console.log(`recorded ${result.hashes.length} events on ${chain} in ${result.transactions.length} transaction(s): ${result.transactions.map((t) => t.txId).join(', ')}`);
      result.hashes.forEach((h, i) => { console.log(result.eventIDs[i] === h ? h : `${h}  eventID ${result.eventIDs[i] ?? ''}`); });
    }
    return EXIT.ok;
  });
}

async function eventsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: EVENTS_OPTIONS, allowPositionals: true, strict: true });
  if (positionals.length > 0 || values.chain === undefined) throw new UsageError(USAGE);
  const json = values.json === true;
  return reportFailures(json, async () => {
    nodeClient(values); // checks --url
    const params = new URLSearchParams({ chain: values.chain ?? '' });
    const names: [keyof typeof values, string][] = [['epc', 'epc'], ['biz-step', 'bizStep'], ['disposition', 'disposition'], ['read-point', 'readPoint'], ['biz-location', 'bizLocation'], ['from', 'GE_eventTime'], ['to', 'LT_eventTime'], ['limit', 'limit'], ['bookmark', 'bookmark']];
    for (const [option, name] of names) {
      const v = values[option];
      if (typeof v === 'string') params.set(name, v);
    }
    const url = `${apiUrl(values)}/api/epcis/events?${params.toString()}`;
    let response: Response;
    try {
      response = await fetch(url);
    } catch (e) {
      console.error(`silk: UNREACHABLE: ${(e as Error).message}\n      (is the node running? Give its address with --url or $SILK_URL)`);
      return EXIT.unreachable;
    }
    const body = (await response.json()) as { error?: { code: string; message: string }; bookmark?: string; epcisBody?: { queryResults?: { resultsBody?: { eventList?: Record<string, unknown>[] } } } };
    if (!response.ok || body.error !== undefined) {
      console.error(`silk: ${body.error?.code ?? String(response.status)}: ${body.error?.message ?? ''}`);
      if (json) console.log(JSON.stringify(body));
      return response.status < 500 ? EXIT.refused : EXIT.failure;
    }
    if (json) {
      console.log(JSON.stringify(body));
      return EXIT.ok;
    }
    for (const e of body.epcisBody?.queryResults?.resultsBody?.eventList ?? []) {
      console.log([e['eventTime'], e['type'], e['bizStep'] ?? '-', e['eventID']].map((v) => (typeof v === 'string' ? v : '-')).join('  '));
    }
    if (body.bookmark !== undefined) console.log(`more: --bookmark ${body.bookmark}`);
    return EXIT.ok;
  });
}

/**
 * Runs `silk epcis import|events …`.
 * @returns 0 on success, 2 for bad usage or an invalid document (nothing sent), 4 when the node refused, 5 when unreachable
 */
export async function epcisCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'import') return importCommand(rest);
  if (sub === 'events') return eventsCommand(rest);
  throw new UsageError(USAGE);
}
