/**
 * The orderer process of distributed mode:
 *
 *     node --max-semi-space-size=64 dist/distributed/orderer-main.js --description network.yaml --name orderer0
 *
 * It reads the network description, its block-signing key `<orderer dataDir>/keys/orderer.pem`,
 * each chain's genesis configuration transaction `<dataDir>/genesis/<chain>.envelope` (written by
 * the network bootstrap) and, when present, its TLS files `<orderer dataDir>/tls/` (then its port
 * is mutual TLS and admits only the network's orderers, peers and API; with its etcd client
 * certificate `tls/etcd-client.crt` it reaches etcd over mutual TLS). Logs go to stdout as JSON
 * lines. SIGTERM or SIGINT stops it gracefully: no new broadcasts, in-flight appends finish, every
 * leadership is resigned. Bad input exits with status 2 and one readable line on stderr.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino, type Logger } from 'pino';
import { signerFromPem, type Signer } from '../crypto/p256.js';
import { SilkError, isSilkError } from '../errors.js';
import type { ChainConfig } from '../ledger/chain-config.js';
import { decodeTransaction } from '../ledger/transaction.js';
import { configOfTransaction } from '../ordering/block-cutter.js';
import { followDescribedEtcdMembers } from './etcd-members-followed.js';
import { describedPath, watchNetworkDescription, type NetworkDescription, type NetworkDescriptionWatch } from './network-description.js';
import { readTlsCredentials } from './mtls.js';
import { startOrdererService, type OrdererServiceOptions, type OrdererTlsOptions } from './orderer-service.js';
import { adminKeysOfChains, liveTlsMembership, processTlsFiles } from './tls-pki.js';

const USAGE = 'usage: node --max-semi-space-size=64 dist/distributed/orderer-main.js --description FILE --name NAME [--broadcast-timeout-ms MS] [--etcd-deadline-ms MS]';

interface Arguments {
  readonly description: string;
  readonly name: string;
  readonly broadcastTimeoutMs?: number;
  readonly etcdDeadlineMs?: number;
}

function parseInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value)) throw new SilkError('INVALID_ARGUMENT', `--${flag} must be a whole number of milliseconds; got ${JSON.stringify(value)}`);
  return Number(value);
}

function parseArguments(argv: readonly string[]): Arguments {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { description: { type: 'string' }, name: { type: 'string' }, 'broadcast-timeout-ms': { type: 'string' }, 'etcd-deadline-ms': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (cause) {
    throw new SilkError('INVALID_ARGUMENT', `${(cause as Error).message}\n${USAGE}`, {}, { cause });
  }
  if (values.description === undefined || values.name === undefined) throw new SilkError('INVALID_ARGUMENT', `--description and --name are required\n${USAGE}`);
  const broadcastTimeoutMs = parseInteger('broadcast-timeout-ms', values['broadcast-timeout-ms']);
  const etcdDeadlineMs = parseInteger('etcd-deadline-ms', values['etcd-deadline-ms']);
  return {
    description: values.description, name: values.name,
    ...(broadcastTimeoutMs === undefined ? {} : { broadcastTimeoutMs }),
    ...(etcdDeadlineMs === undefined ? {} : { etcdDeadlineMs }),
  };
}

function readFile(file: string, what: string, hint: string): Buffer {
  try {
    return readFileSync(file);
  } catch (cause) {
    throw new SilkError('CONFIG_INVALID', `cannot read ${what} at ${file}: ${(cause as Error).message} (${hint})`, {}, { cause });
  }
}

function readSigner(dataDir: string): Signer {
  const file = join(dataDir, 'keys', 'orderer.pem');
  const pem = readFile(file, 'the orderer signing key', 'the network bootstrap writes it').toString('utf8');
  try {
    return signerFromPem(pem);
  } catch (cause) {
    throw new SilkError('CONFIG_INVALID', `${file} is not a PEM P-256 private key`, {}, { cause });
  }
}

function readGenesis(description: NetworkDescription): { envelopes: Uint8Array[]; configs: ChainConfig[] } {
  const envelopes: Uint8Array[] = [];
  const configs: ChainConfig[] = [];
  for (const chain of description.chains) {
    const file = join(description.dataDir, 'genesis', `${chain.name}.envelope`);
    const envelope = new Uint8Array(readFile(file, `the genesis configuration of chain ${chain.name}`, 'the network bootstrap writes it'));
    try {
      configs.push(configOfTransaction(decodeTransaction(envelope)));
    } catch (cause) {
      throw new SilkError('CONFIG_INVALID', `${file} is not a configuration transaction: ${(cause as Error).message}`, {}, { cause });
    }
    envelopes.push(envelope);
  }
  return { envelopes, configs };
}

/**
 * TLS when the orderer's files exist (all of them), else plain HTTP. The membership follows the
 * description file, so an orderer or peer added to the running network is admitted (and one
 * removed refused) without a restart.
 */
function readTls(watch: NetworkDescriptionWatch, dataDir: string, configs: readonly ChainConfig[]): OrdererTlsOptions | undefined {
  const files = { certFile: join(dataDir, 'tls', 'orderer.crt'), keyFile: join(dataDir, 'tls', 'orderer.key'), caFile: join(dataDir, 'tls', 'ca-bundle.crt') };
  const present = Object.values(files).filter((f) => existsSync(f));
  if (present.length === 0) return undefined;
  if (present.length < 3) throw new SilkError('CONFIG_INVALID', `TLS files are incomplete under ${join(dataDir, 'tls')}: need orderer.crt, orderer.key and ca-bundle.crt (silk network up writes them when it bootstraps a network)`);
  return { credentials: readTlsCredentials(files), membership: liveTlsMembership((fresh) => watch.current(fresh), adminKeysOfChains(configs)) };
}

/** Builds the service options from the command line and the files it names. */
function ordererOptionsFromFiles(argv: readonly string[], logger: Logger): OrdererServiceOptions {
  const args = parseArguments(argv);
  const watch = watchNetworkDescription(args.description);
  const description = watch.current();
  const entry = description.orderers.find((o) => o.name === args.name);
  if (entry === undefined) throw new SilkError('CONFIG_INVALID', `${args.description} lists no orderer named ${args.name} (orderers: ${description.orderers.map((o) => o.name).join(', ')})`);
  const dataDir = describedPath(description, entry.dataDir);
  const signer = readSigner(dataDir);
  const { envelopes, configs } = readGenesis(description);
  const tls = readTls(watch, dataDir, configs);
  const etcdTls = processTlsFiles(dataDir, 'etcd-client');
  return {
    name: entry.name,
    org: entry.org,
    signer,
    etcd: {
      // The members the description lists now: an etcd member added or removed is followed without a restart.
      ...followDescribedEtcdMembers(watch, { tls: etcdTls !== undefined, dataDir, logger }),
      ...(etcdTls === undefined ? {} : { tls: etcdTls }),
      ...(args.etcdDeadlineMs === undefined ? {} : { deadlineMs: args.etcdDeadlineMs }),
    },
    chains: envelopes,
    listen: { host: entry.host, port: entry.port },
    ...(tls === undefined ? {} : { tls }),
    ...(args.broadcastTimeoutMs === undefined ? {} : { broadcastTimeoutMs: args.broadcastTimeoutMs }),
  };
}

async function main(): Promise<void> {
  const logger = pino({ name: 'silk-orderer' });
  let options: OrdererServiceOptions;
  try {
    options = ordererOptionsFromFiles(process.argv.slice(2), logger);
  } catch (error) {
    process.stderr.write(`orderer: ${isSilkError(error) ? error.message : String(error)}\n`);
    process.exit(2);
  }
  let service;
  try {
    service = await startOrdererService({ ...options, logger });
  } catch (error) {
    process.stderr.write(`orderer ${options.name}: ${isSilkError(error) ? error.message : String(error)}\n`);
    process.exit(isSilkError(error) && (error.code === 'INVALID_ARGUMENT' || error.code === 'CONFIG_INVALID') ? 2 : 1);
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    service.close().then(() => { process.exit(0); }, (error: unknown) => {
      logger.error({ err: error }, 'stopping failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => { stop('SIGTERM'); });
  process.on('SIGINT', () => { stop('SIGINT'); });
}

await main();
