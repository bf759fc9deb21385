/**
 * `silk guardians …` against a running node: guardians publish their keys, the org sets up 2 of 3
 * with a short delay, a new key requests recovery; the delay, k−1 shares and a cancellation each
 * stop it with their own message; k shares recover the secret.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { embeddedApiBackend } from '../../api/backend.js';
import { createApiServer, type ApiServer } from '../../api/server.js';
import { toHex } from '../../crypto/hash.js';
import { BasicContract } from '../../contracts/basic/basic-contract.js';
import { RecallContract } from '../../contracts/recall/recall-contract.js';
import { generateMnemonic, mnemonicToSeed } from '../../keys/mnemonic.js';
import { masterKeyFromSeed, masterSecret } from '../../keys/slip10.js';
import { openEmbeddedNetwork, type EmbeddedNetwork, type NetworkSpec } from '../../network/embedded-network.js';
import { runCli, type CliRun } from '../../testing/cli-run.js';
import { tempDir } from '../../testing/fixtures.js';
import { parseDelay } from './guardians.js';

const ORGS = ['SellerCN', 'BankHK', 'CustomsDE', 'ShipperSG'];
const SPEC: NetworkSpec = {
  orgs: [{ name: 'SellerCN', users: ['clerk'] }, { name: 'BankHK' }, { name: 'CustomsDE' }, { name: 'ShipperSG' }],
  chains: [{ name: 'identity', contracts: [{ name: 'recall', policy: "OR('SellerCN.peer', 'BankHK.peer', 'CustomsDE.peer', 'ShipperSG.peer')" }], batch: { timeoutMs: 5 } }],
};
// Long enough that the "too early" release below is early even on a loaded machine (each CLI run
// starts a node process), short enough to keep the test quick.
const DELAY_MS = 8000;

describe('silk guardians', () => {
  let net: EmbeddedNetwork;
  let api: ApiServer;
  let url: string[];
  const dir = tempDir('silk-guardians-net-');
  const scratch = tempDir('silk-guardians-');
  const mnemonics = new Map(ORGS.map((o) => [o, generateMnemonic()]));
  const mnemonicFile = (org: string): string => join(scratch.path, `${org}.mnemonic`);
  const key = (org: string, name = 'admin'): string => join(net.keysDir, org, `${name}.pem`);
  const chainOrg = ['--chain', 'identity', '--org', 'SellerCN'];

  const ok = (r: CliRun): CliRun => {
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    return r;
  };
  const newRequest = async (name: string): Promise<{ file: string; id: string; requestedAt: number }> => {
    const file = join(scratch.path, `${name}.json`);
    const r = ok(await runCli(['guardians', 'request', ...chainOrg, '--key', key('SellerCN', 'clerk'), '--out', file, '--json', ...url]));
    const out = JSON.parse(r.stdout) as { requestId: string; releasableFrom: number };
    return { file, id: out.requestId, requestedAt: out.releasableFrom - DELAY_MS };
  };
  const release = (guardian: string, id: string): Promise<CliRun> =>
    runCli(['guardians', 'release', ...chainOrg, '--request', id, '--guardian', guardian, '--mnemonic-file', mnemonicFile(guardian), '--key', key(guardian), ...url]);
  const recover = (file: string, out: string): Promise<CliRun> => runCli(['guardians', 'recover', '--request-file', file, '--out', join(scratch.path, out), ...url]);

  let first: { file: string; id: string; requestedAt: number };
  let second: { file: string; id: string; requestedAt: number };
  let third: { file: string; id: string; requestedAt: number };

  before(async () => {
    net = await openEmbeddedNetwork({ dataDir: dir.path, spec: SPEC, contracts: [new BasicContract(), new RecallContract()], parallelVerify: false, commitTimeoutMs: 10_000 });
    api = await createApiServer({ backend: embeddedApiBackend(net, { org: 'SellerCN' }), rateLimitPerMinute: 0 });
    url = ['--url', await api.listen({ port: 0 })];
    for (const [org, m] of mnemonics) writeFileSync(mnemonicFile(org), m, { mode: 0o600 });
  });
  after(async () => {
    await api.close();
    await net.close();
    dir.cleanup();
    scratch.cleanup();
  });

  it('parses delays', () => {
    assert.equal(parseDelay('72h'), 72 * 3600 * 1000);
    assert.equal(parseDelay('1500ms'), 1500);
    assert.throws(() => parseDelay('3 weeks'), /--delay is a number and a unit/);
  });

  it('guardians publish keys; the org sets up 2 of 3 with a delay; new keys request recovery', async () => {
    await Promise.all(['BankHK', 'CustomsDE', 'ShipperSG'].map(async (g) => ok(await runCli(['guardians', 'publish-key', '--chain', 'identity', '--org', g, '--mnemonic-file', mnemonicFile(g), '--key', key(g), ...url]))));
    const setup = ok(await runCli(['guardians', 'setup', ...chainOrg, '--mnemonic-file', mnemonicFile('SellerCN'), '--key', key('SellerCN'), '--guardians', 'BankHK,CustomsDE,ShipperSG', '--threshold', '2', '--delay', `${DELAY_MS}ms`, ...url]));
    assert.match(setup.stdout, /^Guardians of SellerCN on identity: any 2 of BankHK, CustomsDE, ShipperSG, after a delay of 8000 ms$/m);
    [first, second, third] = await Promise.all([newRequest('first'), newRequest('second'), newRequest('third')]);
  });

  it('the delay is enforced: a release before it is refused', async () => {
    const early = await release('BankHK', first.id);
    assert.equal(early.code, 2, early.stderr);
    assert.match(early.stderr, /not released: delay not over: shares may be released from/);
  });

  it('the old admin cancels a request during the delay: it cannot complete', async () => {
    ok(await runCli(['guardians', 'cancel', ...chainOrg, '--request', third.id, '--key', key('SellerCN'), ...url]));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, third.requestedAt + DELAY_MS - Date.now() + 50)));
    const refused = await release('BankHK', third.id);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /not released: request cancelled/);
    const r = await recover(third.file, 'third-secret.json');
    assert.equal(r.code, 3);
    assert.match(r.stderr, /guardian recovery failed: request cancelled/);
  });

  it('k−1 shares: insufficient shares; k shares: the master secret, in a file of its own', async () => {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, first.requestedAt + DELAY_MS - Date.now() + 50)));
    ok(await release('BankHK', second.id));
    const short = await recover(second.file, 'second-secret.json');
    assert.equal(short.code, 3);
    assert.match(short.stderr, /guardian recovery failed: insufficient shares: 1 valid of the 2 needed/);

    ok(await release('BankHK', first.id));
    ok(await release('ShipperSG', first.id));
    const t0 = performance.now();
    const r = ok(await recover(first.file, 'first-secret.json'));
    console.log(`# guardian recover (CLI, 2 of 3): ${/Took\s+(\d+) ms/.exec(r.stdout)?.[1] ?? '?'} ms in the library, ${Math.round(performance.now() - t0)} ms for the whole command`);
    assert.match(r.stdout, /^Recovered the master key of SellerCN from guardians 1, 3$/m);
    const file = JSON.parse(readFileSync(join(scratch.path, 'first-secret.json'), 'utf8')) as { secret: string };
    assert.equal(file.secret, toHex(masterSecret(masterKeyFromSeed(mnemonicToSeed(mnemonics.get('SellerCN')!)))));
  });
});
