import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { signerFromPem } from '../crypto/p256.js';
import { connect } from '../sdk/index.js';
import { runCli } from '../testing/cli-run.js';
import { tempDir, waitUntil } from '../testing/fixtures.js';
import { findFreePortRange, portIsFree } from './loopback-ports.js';
import { X509Certificate } from 'node:crypto';
import { isSilkError } from '../errors.js';
import { openEtcdBlockLog } from './etcd-block-log.js';
import { openEtcdConnection } from './etcd-client.js';
import { requireEtcd } from './etcd-test-support.js';
import { describedEtcdAccess } from './etcd-host-main.js';
import { processTlsFiles } from './tls-pki.js';
import { readNetworkDescription } from './network-description.js';
import { isLaunchedAlive, NETWORK_FILE, networkDown, PIDS_FILE, type NetworkStatus, type PidsFile } from './network-launcher.js';
import { get as httpsGet } from 'node:https';
import { missingNodeFlags } from '../node-flags.js';

/** GET over https; resolves with the status and body, or the handshake or connection error's message. */
function tlsGet(url: string, tls: { ca: string; cert?: string; key?: string }): Promise<{ status?: number; body: string; error?: string }> {
  return new Promise((done) => {
    const req = httpsGet(url, { ...tls, timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      res.on('end', () => { done({ ...(res.statusCode === undefined ? {} : { status: res.statusCode }), body }); });
    });
    req.on('timeout', () => { req.destroy(new Error('timed out')); });
    req.on('error', (error) => { done({ body: '', error: error.message }); });
  });
}

/** Ports `2 × 3 etcd + 2 orderers + 2 peers + 1 API` = 11 consecutive free loopback ports. */
const PORTS = 11;

/** A process that still runs (a zombie awaiting its reaper has no command line and does not count). */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== '';
  } catch {
    return false;
  }
}

describe('silk network up | status | down', { timeout: 240_000 }, () => {
  const dir = tempDir('silk-network-');
  let pids: PidsFile | undefined;

  after(async () => {
    // Whatever happened, nothing of the network outlives the test.
    if (existsSync(join(dir.path, PIDS_FILE))) await networkDown(dir.path).catch(() => undefined);
    for (const p of pids?.processes ?? []) if (isLaunchedAlive(p)) process.kill(p.pid, 'SIGKILL');
    dir.cleanup();
  });

  it('runs 3 etcd members, 2 orderers and a peer per org; both orgs submit; every peer ends at one height and commit hash; down frees everything', async () => {
    requireEtcd();
    const base = await findFreePortRange(PORTS);
    const up = await runCli(['network', 'up', '--dir', dir.path, '--orgs', '2', '--base-port', String(base), '--json'], 200_000);
    assert.equal(up.code, 0, `network up failed:\n${up.stdout}\n${up.stderr.slice(-3000)}`);
    const started = JSON.parse(up.stdout) as { api: string; apiCa?: string; peers: Record<string, string> };
    pids = JSON.parse(readFileSync(join(dir.path, PIDS_FILE), 'utf8')) as PidsFile;
    assert.deepEqual(pids.processes.map((p) => p.kind).sort(), ['etcd', 'orderer', 'orderer', 'peer', 'peer']);
    for (const p of pids.processes) {
      const argv = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
      assert.deepEqual(missingNodeFlags(argv, ''), [], `${p.name} runs with the Node.js flags of src/node-flags.ts: ${argv.join(' ')}`);
    }
    assert.equal(started.api, `https://127.0.0.1:${base + 10}`, 'the API address comes last in the layout, over HTTPS');
    assert.equal(started.apiCa, join(dir.path, 'tls', 'alliance-ca.crt'));

    // The API address serves HTTPS with the api certificate to a client trusting the alliance's
    // bundle (the peer process read the certificate the bootstrap wrote), and nothing without it.
    const apiHealth = await tlsGet(`${started.api}/api/health`, { ca: readFileSync(started.apiCa, 'utf8') });
    assert.equal(apiHealth.status, 200, JSON.stringify(apiHealth));
    // The same address serves the web UI, and the script its page names.
    const ui = await tlsGet(`${started.api}/`, { ca: readFileSync(started.apiCa, 'utf8') });
    assert.equal(ui.status, 200, JSON.stringify(ui));
    const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)">/.exec(ui.body)?.[1];
    assert.ok(script !== undefined, `the UI page names its script: ${ui.body.slice(0, 500)}`);
    assert.equal((await tlsGet(`${started.api}${script}`, { ca: readFileSync(started.apiCa, 'utf8') })).status, 200);
    const apiUntrusted = await runCli(['status', '--url', started.api], 30_000, { SILK_CA: undefined });
    assert.equal(apiUntrusted.code, 5, apiUntrusted.stderr);
    assert.match(apiUntrusted.stderr, /the node's TLS certificate is not trusted .*; pass the network's CA bundle with --ca FILE/);
    const apiTrusted = await runCli(['status', '--url', started.api, '--ca', started.apiCa, '--json'], 30_000);
    assert.equal(apiTrusted.code, 0, apiTrusted.stderr);
    assert.equal((JSON.parse(apiTrusted.stdout) as { url: string }).url, started.api);

    // Each peer's own port serves its API over HTTPS too, with its peer certificate. Plain HTTP
    // there, or at the API address, is answered HTTPS_REQUIRED with the https URL to use.
    for (const url of [...Object.values(started.peers), started.api]) {
      assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const plain = await fetch(`${url.replace('https://', 'http://')}/api/health`, { signal: AbortSignal.timeout(5_000) });
      assert.equal(plain.status, 400);
      const refused = (await plain.json()) as { error: { code: string; url?: string } };
      assert.deepEqual([refused.error.code, refused.error.url], ['HTTPS_REQUIRED', `${url}/api/health`]);
    }
    // silk says so in one line and exits 4 (the node refused the request).
    const peerUrl = started.peers['peer0.org1'] ?? '';
    const plainCli = await runCli(['status', '--url', peerUrl.replace('https://', 'http://')], 30_000, { SILK_CA: undefined });
    assert.equal(plainCli.code, 4, plainCli.stderr);
    assert.match(plainCli.stderr, new RegExp(`^silk: HTTPS_REQUIRED: this address serves HTTPS only: send it to ${peerUrl.replaceAll('.', '\\.')}/api/health`));
    // Over https with the bundle, the peer's own port answers (as every client of a peer does).
    const peerTrusted = await runCli(['status', '--url', peerUrl, '--ca', started.apiCa, '--json'], 30_000);
    assert.equal(peerTrusted.code, 0, peerTrusted.stderr);

    // Each org submits through its own peer's API with its admin key, written by the bootstrap,
    // trusting the alliance's CA bundle.
    const allianceCa = readFileSync(started.apiCa, 'utf8');
    for (const [org, peer] of [['Org1', 'peer0.org1'], ['Org2', 'peer0.org2']] as const) {
      const url = started.peers[peer];
      assert.ok(url !== undefined);
      const signer = signerFromPem(readFileSync(join(dir.path, 'keys', org, 'admin.pem'), 'utf8'));
      const client = connect({ url, signer, ca: allianceCa });
      for (let i = 0; i < 2; i++) {
        const r = await client.submit({ chain: 'trade', contract: 'basic', fn: 'createAsset', args: { id: `${org}-${i}`, owner: org, colour: 'red', size: 1, appraisedValue: 100 } });
        assert.equal(r.code, 'VALID');
      }
    }

    // status --json: every process alive and ready, both peers at the ordered height with one commit hash.
    let latest: { code: number | null; status?: NetworkStatus } = { code: null };
    const polling = { on: true };
    const poll = (async () => {
      while (polling.on) {
        const r = await runCli(['network', 'status', '--dir', dir.path, '--json'], 30_000);
        latest = { code: r.code, status: JSON.parse(r.stdout) as NetworkStatus };
        await new Promise((done) => setTimeout(done, 300));
      }
    })();
    const converged = (): boolean => {
      const peers = latest.status?.processes.filter((p) => p.kind === 'peer') ?? [];
      const views = peers.map((p) => p.chains?.trade);
      return latest.code === 0 && views.length === 2 && views.every((v) => v !== undefined && v.height === views[0]?.height && v.commitHash === views[0].commitHash && v.height === v.ordered);
    };
    try {
      await waitUntil(converged, 60_000, 'every peer at one height and commit hash in silk network status');
    } finally {
      polling.on = false;
      await poll;
    }
    const status = latest.status;
    assert.ok(status !== undefined);
    assert.equal(status.ready, true);
    assert.deepEqual([status.apiUrl, status.apiCa], [started.api, started.apiCa]);
    assert.equal(status.etcd.healthy, true);
    assert.deepEqual(status.processes.filter((p) => p.kind === 'etcd').map((p) => p.name), ['etcd-1', 'etcd-2', 'etcd-3']);
    assert.ok(status.processes.every((p) => p.alive && p.ready));
    const trade = status.chains.find((c) => c.name === 'trade');
    assert.ok(trade?.leader !== undefined && ['orderer0', 'orderer1'].includes(trade.leader), `a leading orderer is named, got ${JSON.stringify(trade)}`);
    const heights = status.processes.filter((p) => p.kind === 'peer').map((p) => p.chains?.trade?.height);
    assert.ok((heights[0] ?? 0) >= 2, 'the four transactions are on the ledger (block 0 is the genesis)');
    assert.equal(trade.ordered, heights[0]);

    // etcd runs mutual TLS: a member serves a client certificate from an org CA, refuses plain
    // HTTP and a TLS client without a certificate.
    const access = describedEtcdAccess(readNetworkDescription(join(dir.path, NETWORK_FILE)));
    assert.ok(access.tls?.certFile !== undefined && access.tls.keyFile !== undefined, 'the bootstrap wrote the etcd certificates');
    const member = access.endpoints[0] ?? '';
    assert.match(member, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(access.tls.caFile, 'utf8');
    const served = await tlsGet(`${member}/version`, { ca, cert: readFileSync(access.tls.certFile, 'utf8'), key: readFileSync(access.tls.keyFile, 'utf8') });
    assert.equal(served.status, 200, JSON.stringify(served));
    assert.match(served.body, /etcdserver/);
    const plain = await fetch(`${member.replace('https://', 'http://')}/version`, { signal: AbortSignal.timeout(5_000) }).then(async (r) => ({ ok: r.ok, body: await r.text() }), (error: unknown) => ({ ok: false, body: String(error) }));
    assert.ok(!plain.ok && !plain.body.includes('etcdserver'), `plain HTTP to an etcd member was served: ${plain.body}`);
    const anonymous = await tlsGet(`${member}/version`, { ca });
    assert.ok(anonymous.status === undefined && anonymous.error !== undefined, `a client without a certificate was served: ${JSON.stringify(anonymous)}`);

    // etcd's access control is on: the operator tools present the administrator certificate (CN
    // root); a peer's certificate reads the ordering log but may not write it.
    assert.match(new X509Certificate(readFileSync(access.tls.certFile)).subject, /^CN=root$/m);
    const peerTls = processTlsFiles(join(dir.path, 'peers', 'peer0.org1'), 'etcd-client');
    assert.ok(peerTls !== undefined);
    const peerEtcd = openEtcdConnection({ endpoints: access.endpoints, tls: peerTls });
    try {
      assert.equal(await openEtcdBlockLog(peerEtcd, { chain: 'trade' }).height(), trade.ordered);
      await assert.rejects(peerEtcd.call('write the height', () => peerEtcd.client.put('/silk/trade/height').value('0').exec()), (error: unknown) => isSilkError(error, 'ORDERING_UNAVAILABLE') && error.details.reason === 'permission-denied' && error.details.user === 'peer0.org1');
    } finally {
      peerEtcd.close();
    }

    // A backup of the ordering log, read back before it is kept.
    const snapshotFile = join(dir.path, 'ordering-log.db');
    const snap = await runCli(['network', 'etcd-snapshot', snapshotFile, '--dir', dir.path, '--json'], 120_000);
    assert.equal(snap.code, 0, `network etcd-snapshot failed:\n${snap.stdout}\n${snap.stderr}`);
    const taken = JSON.parse(snap.stdout) as { file: string; revision: number; totalKeys: number; totalSize: number };
    assert.equal(taken.file, snapshotFile);
    assert.ok(taken.revision > 0 && taken.totalKeys > 0 && taken.totalSize > 0 && statSync(snapshotFile).size >= taken.totalSize, JSON.stringify(taken));
    const again = await runCli(['network', 'etcd-snapshot', snapshotFile, '--dir', dir.path], 60_000);
    assert.equal(again.code, 3);
    assert.match(again.stderr, /exists: the snapshot goes to a new file/);

    const down = await runCli(['network', 'down', '--dir', dir.path], 120_000);
    assert.equal(down.code, 0, `network down failed:\n${down.stdout}\n${down.stderr}`);
    for (const p of pids.processes) assert.equal(isLaunchedAlive(p), false, `${p.name} (pid ${p.pid}) is gone`);
    for (const p of status.processes) if (p.pid !== undefined) assert.equal(alive(p.pid), false, `${p.name} (pid ${p.pid}) is gone`);
    for (let port = base; port < base + PORTS; port++) assert.equal(await portIsFree('127.0.0.1', port), true, `port ${port} is free`);
    assert.equal(existsSync(join(dir.path, PIDS_FILE)), false);
    const after = await runCli(['network', 'status', '--dir', dir.path, '--json'], 30_000);
    assert.equal(after.code, 3, 'status of a stopped network says it is not ready');
  });
});
