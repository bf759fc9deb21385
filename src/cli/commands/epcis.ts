/**
 * `silk epcis import FILE` validates an EPCIS 2.0 document on this machine (the first problem is
 * printed with its JSON path, nothing is sent), signs it with your key and records it in one
 * transaction through the node's EPCIS capture route, all or nothing; `--parts` instead records a
 * document too big for one transaction in atomic parts, with progress. `silk epcis events` lists
 * recorded events with the EPCIS 2.0 REST binding's query names. `silk epcis sign-sensors FILE`
 * signs the document's sensor data with a device key, as a reader or device does at the source.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isSilkError } from '../../errors.js';
import { epcisClient, signDocumentSensorData, type EpcisEventsParameters } from '../../sdk/epcis.js';
import { MAX_EVENTS_PER_CAPTURE } from '../../traceability/epcis-capture.js';
import { EVENT_QUERY_NAMES } from '../../traceability/epcis-ledger-index.js';
import { EXIT, UsageError } from '../cli-support.js';
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
  lot: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  'error-declared': { type: 'boolean' },
  where: { type: 'string', multiple: true },
  'per-page': { type: 'string' },
  'next-page-token': { type: 'string' },
} as const;
const SIGN_OPTIONS = { json: { type: 'boolean' }, 'device-key': { type: 'string' }, out: { type: 'string' } } as const;

const USAGE = `usage: silk epcis import FILE --chain C --key KEY [--parts] [--events-per-tx N] [--url URL] [--json]
       silk epcis events --chain C [--epc EPC] [--biz-step S] [--disposition D] [--read-point R] [--biz-location L]
                         [--lot LOT] [--from TIME] [--to TIME] [--error-declared] [--where NAME=VALUE …]
                         [--per-page N] [--next-page-token T] [--url URL] [--json]
       silk epcis sign-sensors FILE --device-key KEY [--out FILE] [--json]

  events options are shorthands of the EPCIS 2.0 REST binding's query names: --epc MATCH_anyEPC,
  --biz-step EQ_bizStep, --disposition EQ_disposition, --read-point EQ_readPoint, --biz-location
  EQ_bizLocation, --from GE_eventTime, --to LT_eventTime, --error-declared EXISTS_errorDeclaration;
  --where NAME=VALUE gives any of them (e.g. --where MATCH_epcClass=urn:epc:class:lgtin:…).
  Comma-separated values mean any of them (--biz-step shipping,receiving).`;

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
    const epcis = epcisClient(nodeClient(values));
    const progress = createProgressBar('capturing', !json && process.stderr.isTTY);
    let result;
    try {
      result = await epcis.capture(document, {
        chain,
        signer,
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

type EventsValues = ReturnType<typeof parseArgs<{ args: string[]; options: typeof EVENTS_OPTIONS; allowPositionals: true; strict: true }>>['values'];

/** The REST binding's parameters the options give. */
function eventsParameters(values: EventsValues): EpcisEventsParameters {
  const params: Record<string, string | number | boolean> = {};
  const set = (name: string, value: string | number | boolean, option: string): void => {
    if (params[name] !== undefined) throw new InputError(`${option}: ${name} is given twice`);
    params[name] = value;
  };
  const shorthands: [keyof EventsValues, string][] = [['epc', 'MATCH_anyEPC'], ['biz-step', 'EQ_bizStep'], ['disposition', 'EQ_disposition'], ['read-point', 'EQ_readPoint'], ['biz-location', 'EQ_bizLocation'], ['lot', 'lot'], ['from', 'GE_eventTime'], ['to', 'LT_eventTime'], ['next-page-token', 'nextPageToken']];
  for (const [option, name] of shorthands) {
    const v = values[option];
    if (typeof v === 'string') set(name, v, `--${option}`);
  }
  if (values['error-declared'] === true) set('EXISTS_errorDeclaration', true, '--error-declared');
  if (values['per-page'] !== undefined) set('perPage', integerArgument(values['per-page'], '--per-page'), '--per-page');
  for (const w of values.where ?? []) {
    const eq = w.indexOf('=');
    const name = eq < 0 ? w : w.slice(0, eq);
    if (!EVENT_QUERY_NAMES.includes(name)) throw new InputError(`--where ${name}: not a query name; known: ${EVENT_QUERY_NAMES.join(', ')}`);
    if (name === 'EXISTS_errorDeclaration') set(name, eq < 0 || w.slice(eq + 1) !== 'false', '--where');
    else if (name === 'perPage') set(name, integerArgument(w.slice(eq + 1), '--where perPage'), '--where');
    else if (eq < 0) throw new InputError(`--where ${name}: give NAME=VALUE`);
    else set(name, w.slice(eq + 1), '--where');
  }
  return params;
}

async function eventsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: EVENTS_OPTIONS, allowPositionals: true, strict: true });
  if (positionals.length > 0 || values.chain === undefined) throw new UsageError(USAGE);
  const chain = values.chain;
  const json = values.json === true;
  return reportFailures(json, async () => {
    const epcis = epcisClient(nodeClient(values));
    const page = await epcis.events(chain, eventsParameters(values));
    if (json) {
      console.log(JSON.stringify(page.nextPageToken === undefined ? page.document : { ...page.document, nextPageToken: page.nextPageToken }));
      return EXIT.ok;
    }
    for (const e of page.events) {
      const declared = e['errorDeclaration'] === undefined ? '' : '  (declared erroneous)';
      console.log([e['eventTime'], e['type'], e['bizStep'] ?? '-', e['eventID']].map((v) => (typeof v === 'string' ? v : '-')).join('  ') + declared);
    }
    if (page.nextPageToken !== undefined) console.log(`more: --next-page-token ${page.nextPageToken}`);
    return EXIT.ok;
  });
}

async function signSensorsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: SIGN_OPTIONS, allowPositionals: true, strict: true });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError(USAGE);
  const json = values.json === true;
  return reportFailures(json, async () => {
    if (values['device-key'] === undefined) throw new InputError('epcis sign-sensors signs with the device\'s key: give --device-key FILE (PEM or keystore)');
    const document = readDocument(file);
    const device = await keyFile({ key: values['device-key'] }, 'epcis sign-sensors');
    let signed;
    try {
      signed = signDocumentSensorData(document, device);
    } catch (e) {
      if (isSilkError(e) && e.code === 'INVALID_ARGUMENT') throw new InputError(`${file}: ${e.message}`);
      throw e;
    }
    if (signed.signed === 0) throw new InputError(`${file}: no event has a sensorElementList to sign`);
    const text = `${JSON.stringify(signed.document, null, 2)}\n`;
    if (values.out === undefined) process.stdout.write(text);
    else {
      writeFileSync(values.out, text);
      const summary = { signed: signed.signed, out: values.out, device: Buffer.from(device.publicKey).toString('hex') };
      console.log(json ? JSON.stringify(summary) : `signed the sensor data of ${summary.signed} event(s) with device ${summary.device}: ${summary.out}`);
    }
    return EXIT.ok;
  });
}

/**
 * Runs `silk epcis import|events|sign-sensors …`.
 * @returns 0 on success, 2 for bad usage or an invalid document (nothing sent), 4 when the node refused, 5 when unreachable
 */
export async function epcisCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'import') return importCommand(rest);
  if (sub === 'events') return eventsCommand(rest);
  if (sub === 'sign-sensors') return signSensorsCommand(rest);
  throw new UsageError(USAGE);
}
