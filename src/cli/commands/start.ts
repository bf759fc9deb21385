/**
 * `silk start`: opens (creating and seeding on first run) the demo alliance under the data
 * folder and serves its API. SIGINT/SIGTERM stop it cleanly: the API stops accepting, requests
 * in flight finish, then the ledgers close.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { embeddedApiBackend } from '../../api/backend.js';
import { createApiServer } from '../../api/server.js';
import { BasicContract } from '../../contracts/basic/basic-contract.js';
import { DEMO_SPEC } from '../../network/demo-spec.js';
import { openEmbeddedNetwork } from '../../network/embedded-network.js';
import { dataDir, EXIT, portOf } from '../cli-support.js';

/** The org whose node serves the demo API. */
const API_ORG = 'Platform';

/** Runs `silk start`. */
export async function startCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { data: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } }, strict: true });
  const dir = dataDir(values);
  const port = portOf(values.port ?? process.env.SILK_PORT, 8080);
  const host = values.host ?? process.env.SILK_HOST ?? '127.0.0.1';
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));
  const net = await openEmbeddedNetwork({ dataDir: dir, spec: DEMO_SPEC, contracts: [new BasicContract()], logger });
  let api;
  try {
    if (net.created) {
      const gw = net.gateway('SellerCN');
      const seller = net.identity('SellerCN', 'yiwu-seller');
      const seeds = [
        { id: 'silk-scarf-001', owner: 'yiwu-seller', colour: 'red', size: 1, appraisedValue: 2500 },
        { id: 'tea-set-002', owner: 'yiwu-seller', colour: 'white', size: 6, appraisedValue: 8900 },
        { id: 'lantern-003', owner: 'yiwu-seller', colour: 'gold', size: 2, appraisedValue: 1200 },
      ];
      for (const asset of seeds) await gw.submit({ chain: 'trade', contract: 'basic', fn: 'createAsset', args: asset }, seller);
    }
    const demoIdentities = DEMO_SPEC.orgs.flatMap((o) => (o.users ?? []).map((name) => ({ org: o.name, name })));
    api = await createApiServer({ backend: embeddedApiBackend(net, { org: API_ORG, demoIdentities }), logger, rateLimitPerMinute: Number(process.env.SILK_RATE_LIMIT ?? 6000) });
    const url = await api.listen({ port, host });
    const heights = net.peers.map((p) => `${p.name}@${p.chains().map((c) => `${c}:${p.height(c)}`).join(',')}`);
    console.log(`Silkledger demo alliance ${net.created ? 'created and seeded' : 'reopened'} in ${dir}`);
    console.log(`  api:   ${url}/api/health   (OpenAPI at ${url}/docs)`);
    console.log(`  peers: ${heights.join('  ')}`);
    console.log(`  keys:  ${net.keysDir} (PKCS#8 PEM per org and identity)`);
    console.log('  demo:  this server holds the demo users\' keys (/api/demo/...); real members sign locally');
    console.log(`  check: npx silk verify --data ${dir}`);
    console.log(`  reset: stop this process and delete ${dir}`);
    console.log('Press Ctrl+C to stop.');
    await new Promise<void>((done) => {
      process.once('SIGINT', () => { done(); });
      process.once('SIGTERM', () => { done(); });
    });
    logger.info('stopping: no new requests, draining those in flight');
  } finally {
    await api?.close();
    await net.close();
  }
  console.log('stopped cleanly');
  return EXIT.ok;
}
