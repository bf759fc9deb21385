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
import { epcisClient, signDocumentSensorData, type EpcisEventsParameters, type LotRecallStatus, type ProvenanceWithProofs, type SensorThreshold } from '../../sdk/epcis.js';
import { lotRecallEvent } from '../../traceability/recall-queries.js';
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
const TRACE_OPTIONS = { ...CLIENT_OPTIONS, chain: { type: 'string' }, 'lineage-depth': { type: 'string' }, threshold: { type: 'string', multiple: true }, 'no-verify': { type: 'boolean' } } as const;
const RECALL_OPTIONS = { ...CLIENT_OPTIONS, ...SIGNING_OPTIONS, chain: { type: 'string' }, record: { type: 'boolean' }, 'read-point': { type: 'string' }, 'biz-location': { type: 'string' } } as const;
/** Items a recorded recall event names one by one; a larger lot is named by its class only. */
const RECALL_EVENT_MAX_ITEMS = 1000;
const SIGN_OPTIONS = { json: { type: 'boolean' }, 'device-key': { type: 'string' }, out: { type: 'string' } } as const;

const USAGE = `usage: silk epcis import FILE --chain C --key KEY [--parts] [--events-per-tx N] [--url URL] [--json]
       silk epcis events --chain C [--epc EPC] [--biz-step S] [--disposition D] [--read-point R] [--biz-location L]
                         [--lot LOT] [--from TIME] [--to TIME] [--error-declared] [--where NAME=VALUE …]
                         [--per-page N] [--next-page-token T] [--url URL] [--json]
       silk epcis sign-sensors FILE --device-key KEY [--out FILE] [--json]
       silk epcis trace EPC --chain C [--threshold TYPE:UOM:MIN:MAX …] [--lineage-depth N] [--no-verify] [--url URL] [--json]
       silk epcis recall LOT --chain C [--record --key KEY [--read-point R] [--biz-location L]] [--url URL] [--json]

  trace prints an item's history (its own events, its lot's, its containers' while it was
  inside), where it travelled and who held it, and sensor readings per leg; every transaction
  it cites is proven by a receipt, and every event by the transaction's own bytes (the event
  hashes to its ID and the transaction recorded that ID), checked on this machine unless --no-verify.
  recall lists every item of a lot (LGTIN URN, Digital Link or GTIN/LOT), where it is and who holds it;
  --record also records the recall: an ObjectEvent (business step holding, disposition recalled)
  naming the lot class and its items, signed with your key.

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

/** `--threshold Temperature:CEL:2:8` as a sensor limit. */
function thresholdArgument(text: string): SensorThreshold {
  const [type = '', uom = '', min = '', max = ''] = text.split(':');
  const number = (v: string): number | undefined => {
    if (v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new InputError(`--threshold ${text}: ${JSON.stringify(v)} is not a number`);
    return n;
  };
  const lo = number(min);
  const hi = number(max);
  if (type === '' || (lo === undefined && hi === undefined)) throw new InputError(`--threshold ${text}: give TYPE:UOM:MIN:MAX (UOM, MIN or MAX may be empty, not both limits), e.g. Temperature:CEL:2:8`);
  return { type, ...(uom === '' ? {} : { uom }), ...(lo === undefined ? {} : { min: lo }), ...(hi === undefined ? {} : { max: hi }) };
}

const short = (uri: string): string => uri.replace(/^https:\/\/ref\.gs1\.org\/cbv\/(BizStep|Disp)-/, '');

function printSensors(sensors: ProvenanceWithProofs['provenance']['sensors']): void {
  const legs = sensors.filter((l) => l.sensors.length > 0);
  if (legs.length === 0) return;
  console.log('\nSensors');
  for (const l of legs) {
    console.log(`  ${l.leg === 'item' ? 'the item itself' : `in ${l.parent ?? '?'}`}`);
    for (const s of l.sensors) {
      const first = s.excursions[0];
      const excursions = s.excursionCount > 0 ? `, ${s.excursionCount} EXCURSION(S), first at ${first?.time ?? '?'} (${first?.value ?? '?'})` : '';
      console.log(`    ${s.type} ${s.uom ?? ''}: ${s.count} reading(s), min ${s.min}, max ${s.max}, mean ${Math.round(s.mean * 100) / 100}${excursions}`);
    }
  }
}

function printTrace(answer: ProvenanceWithProofs, verified: boolean): void {
  const p = answer.provenance;
  console.log(`Item        ${p.epc}`);
  if (p.lot !== null) console.log(`Lot         ${p.lot.lotNumber} of GTIN ${p.lot.gtin} (${p.lot.events.length} lot event(s)${p.lot.truncated ? ', more with silk epcis events --lot' : ''})`);
  console.log(`Events      ${p.events.length}, in ${Object.keys(answer.proofs).length} transaction(s), ${verified ? 'every receipt, event hash and recording transaction checked here' : 'not checked (--no-verify)'}${p.truncated ? '; TRUNCATED: the item has more than the events read' : ''}`);
  console.log('\nHistory');
  for (const e of p.events) {
    const step = typeof e.event['bizStep'] === 'string' ? short(e.event['bizStep']) : '-';
    const via = e.role === 'container' && e.container !== undefined ? `  (via ${e.container})` : '';
    console.log(`  ${e.eventTime}  ${step.padEnd(16)} ${e.type.padEnd(18)} by ${e.recordedBy}  block ${e.ledger.block}${via}`);
  }
  if (p.containment.length > 0) {
    console.log('\nInside');
    for (const c of p.containment) console.log(`  ${'  '.repeat(c.level - 1)}${c.parent}  from ${c.from.eventTime}  to ${c.to?.eventTime ?? 'now'}`);
  }
  if (p.journey.length > 0) {
    console.log('\nJourney');
    for (const s of p.journey) console.log(`  ${s.arrival}  ${s.place}  held by ${s.custodians.map((c) => c.party).join(', ') || '-'}`);
  }
  printSensors(p.sensors);
  if (p.lineage.length > 0) console.log(`\nMade from   ${p.lineage.flatMap((l) => l.inputs.map((i) => i.epc)).join(', ')}`);
  if (p.declaredErroneous.length > 0) console.log(`\nDeclared erroneous: ${p.declaredErroneous.map((e) => e.hash).join(', ')}`);
}

async function traceCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: TRACE_OPTIONS, allowPositionals: true, strict: true });
  const [epc, ...extra] = positionals;
  if (epc === undefined || extra.length > 0 || values.chain === undefined) throw new UsageError(USAGE);
  const chain = values.chain;
  const json = values.json === true;
  return reportFailures(json, async () => {
    const epcis = epcisClient(nodeClient(values));
    const verify = values['no-verify'] !== true;
    const answer = await epcis.provenance(chain, epc, {
      verify,
      ...(values['lineage-depth'] === undefined ? {} : { lineageDepth: integerArgument(values['lineage-depth'], '--lineage-depth') }),
      ...(values.threshold === undefined ? {} : { thresholds: values.threshold.map(thresholdArgument) }),
    });
    if (json) console.log(JSON.stringify(answer));
    else printTrace(answer, verify);
    return EXIT.ok;
  });
}

type RecallValues = ReturnType<typeof parseArgs<{ args: string[]; options: typeof RECALL_OPTIONS; allowPositionals: true; strict: true }>>['values'];

/** Records the recall event of a lot: its class, and its items one by one when there are few enough. */
async function recordRecall(values: RecallValues, chain: string, status: LotRecallStatus): Promise<{ hash: string; blockNumber: number }> {
  const m = /\/01\/(\d{14})\/10\/([^/?#]+)$/.exec(status.epcClass);
  if (m === null) throw new InputError(`the node answered an unexpected lot ${status.epcClass}`);
  const signer = await keyFile(values, 'epcis recall --record');
  const items = status.items.length <= RECALL_EVENT_MAX_ITEMS && !status.truncated ? status.items.map((i) => i.epc) : [];
  let event;
  try {
    event = lotRecallEvent({
      gtin: m[1] as string,
      lot: decodeURIComponent(m[2] as string),
      eventTime: new Date().toISOString(),
      eventTimeZoneOffset: '+00:00',
      epcs: items,
      ...(values['read-point'] === undefined ? {} : { readPoint: values['read-point'] }),
      ...(values['biz-location'] === undefined ? {} : { bizLocation: values['biz-location'] }),
    });
  } catch (e) {
    if (isSilkError(e) && e.code === 'INVALID_ARGUMENT') throw new InputError(`epcis recall --record: ${e.message}`);
    throw e;
  }
  const document = { '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: new Date().toISOString(), epcisBody: { eventList: [event] } };
  const r = await epcisClient(nodeClient(values)).capture(document, { chain, signer });
  return { hash: r.hashes[0] ?? '', blockNumber: r.transactions[0]?.blockNumber ?? -1 };
}

async function recallCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: RECALL_OPTIONS, allowPositionals: true, strict: true });
  const [lot, ...extra] = positionals;
  if (lot === undefined || extra.length > 0 || values.chain === undefined) throw new UsageError(USAGE);
  const chain = values.chain;
  const json = values.json === true;
  return reportFailures(json, async () => {
    const epcis = epcisClient(nodeClient(values));
    const status = await epcis.recall(chain, lot);
    const recorded = values.record === true ? await recordRecall(values, chain, status) : undefined;
    if (json) {
      console.log(JSON.stringify(recorded === undefined ? status : { ...status, recallEvent: recorded }));
      return EXIT.ok;
    }
    console.log(`Lot ${status.epcClass}: ${status.items.length} item(s)${status.truncated ? ' (more than listed)' : ''}`);
    for (const i of status.items) {
      const inside = i.containers.length > 0 ? `  in ${i.containers.join(' in ')}` : '';
      console.log(`  ${i.epc}  at ${i.place?.id ?? 'unknown'} since ${i.place?.since ?? '-'}  held by ${i.custodian?.party ?? '-'}${i.owner === null ? '' : `  owner ${i.owner}`}${inside}`);
    }
    if (recorded !== undefined) console.log(`Recall recorded: event ${recorded.hash} in block ${recorded.blockNumber}`);
    return EXIT.ok;
  });
}

/**
 * Runs `silk epcis import|events|sign-sensors|trace|recall …`.
 * @returns 0 on success, 2 for bad usage or an invalid document (nothing sent), 4 when the node refused, 5 when unreachable
 */
export async function epcisCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'import') return importCommand(rest);
  if (sub === 'events') return eventsCommand(rest);
  if (sub === 'sign-sensors') return signSensorsCommand(rest);
  if (sub === 'trace') return traceCommand(rest);
  if (sub === 'recall') return recallCommand(rest);
  throw new UsageError(USAGE);
}
