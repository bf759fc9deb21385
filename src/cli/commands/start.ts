/**
 * `silk start`: opens (creating and seeding on first run) the demo alliance under the data
 * folder and serves its API. SIGINT/SIGTERM stop it cleanly: the server stops listening, a
 * request arriving on a connection already open is refused with SHUTTING_DOWN, requests in
 * flight finish (their connections then close), and only then the ledgers close. A signal that
 * comes while the network opens or seeds takes effect once it is up, so seeding is never cut
 * short.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { embeddedApiBackend } from '../../api/backend.js';
import { createNodeMetrics } from '../../api/metrics.js';
import { createApiServer } from '../../api/server.js';
import { DEMO_ANCHORING_ORG, DEMO_CONTRACTS, DEMO_IDENTITIES, DEMO_PASSWORD, seedDemoAlliance } from '../../network/demo-alliance.js';
import { DEMO_SPEC } from '../../network/demo-spec.js';
import { openEmbeddedNetwork } from '../../network/embedded-network.js';
import { startHeaderAnchoring, type HeaderAnchoring } from '../../network/header-anchoring.js';
import { apiPort, dataDir, EXIT } from '../cli-support.js';
import { createProgressBar } from '../progress.js';
import { PASSWORD_ENV, writeCost } from './keys.js';
import { missingNodeFlags } from '../../node-flags.js';

/** The org whose node serves the demo API. */
const API_ORG = 'Platform';
/** How often the anchor chain records the other chains' latest headers. */
const ANCHOR_INTERVAL_MS = 5000;

/** Runs `silk start`. */
export async function startCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { data: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } }, strict: true });
  const dir = dataDir(values);
  const port = apiPort(values);
  const host = values.host ?? process.env.SILK_HOST ?? '127.0.0.1';
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));
  const missing = missingNodeFlags();
  if (missing.length > 0) logger.warn({ missing }, `running without ${missing.join(' ')}: npm start passes it, or set NODE_OPTIONS (docs/operations.md, Node.js flags)`);
  const stopRequested = new Promise<void>((done) => {
    process.once('SIGINT', () => { done(); });
    process.once('SIGTERM', () => { done(); });
  });
  // Every org's key tree lives in keystores under the demo password; $SILK_KEYSTORE_SCRYPT_N
  // lowers their scrypt cost for tests, with a warning (as for silk keys).
  const opening = Date.now();
  const net = await openEmbeddedNetwork({ dataDir: dir, spec: DEMO_SPEC, contracts: DEMO_CONTRACTS, logger, keys: { kind: 'hd', password: DEMO_PASSWORD, scrypt: writeCost() } });
  logger.info({ ms: Date.now() - opening, created: net.created }, 'keystores unlocked, network open');
  let api;
  let metrics;
  let anchoring: HeaderAnchoring | undefined;
  try {
    if (net.created) {
      const bar = createProgressBar('seeding the demo alliance', process.stderr.isTTY);
      await seedDemoAlliance(net, (done, total) => { bar.update(done, total); });
      bar.finish();
    }
    anchoring = startHeaderAnchoring(net, { org: DEMO_ANCHORING_ORG, intervalMs: ANCHOR_INTERVAL_MS, logger });
    const demoIdentities = DEMO_IDENTITIES.filter((d) => d.role !== 'admin');
    const backend = embeddedApiBackend(net, { org: API_ORG, demoIdentities });
    metrics = createNodeMetrics(backend);
    api = await createApiServer({ backend, logger, rateLimitPerMinute: Number(process.env.SILK_RATE_LIMIT ?? 6000), plugins: [metrics.plugin] });
    const url = await api.listen({ port, host });
    const apiPeer = net.peers.find((p) => p.org === API_ORG);
    const chains = (apiPeer?.chains() ?? []).map((c) => `${c} (${apiPeer?.height(c) ?? 0} blocks, ${Object.keys(apiPeer?.config(c).orgs ?? {}).length} orgs)`);
    console.log(`Silkledger demo alliance ${net.created ? 'created and seeded' : 'reopened'} in ${dir}`);
    console.log(`  ui:    ${url}/   (check a product, explorer, dashboard)`);
    console.log(`  api:   ${url}/api/health   (OpenAPI at ${url}/docs)`);
    console.log(`  orgs:  ${DEMO_SPEC.orgs.map((o) => o.name).join(', ')}: one peer each, solo orderer`);
    console.log(`  chains: ${chains.join(', ')}`);
    console.log(`  metrics: ${url}/metrics (Prometheus)`);
    console.log(`  keys:  ${net.keysDir}: each org's mnemonic in <org>/mnemonic.keystore.json, each user's key in <org>/<user>.keystore.json`);
    console.log(`  password: ${DEMO_PASSWORD} (a demo password, printed for everyone: never use it for real keys)`);
    console.log(`  sign:  ${PASSWORD_ENV}=${DEMO_PASSWORD} npx silk submit … --key ${net.keysDir}/SellerCN/yiwu-seller.keystore.json`);
    console.log('  demo:  this server holds the demo users\' keys (/api/demo/...); real members sign locally');
    console.log(`  check: npx silk verify --data ${dir}`);
    console.log(`  reset: stop this process and delete ${dir}`);
    console.log('Press Ctrl+C to stop.');
    await stopRequested;
    logger.info('stopping: refusing new requests, draining those in flight');
  } finally {
    await api?.close();
    metrics?.close();
    await anchoring?.stop();
    await net.close();
  }
  console.log('stopped cleanly');
  return EXIT.ok;
}
