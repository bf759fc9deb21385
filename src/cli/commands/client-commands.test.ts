import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPrivateKey } from 'node:crypto';
import { toHex } from '../../crypto/hash.js';
import { generatePrivateKeyPem, signerFromPem } from '../../crypto/p256.js';
import { writeKeystore } from '../../keys/keystore.js';
import { openTestApi, type TestApi } from '../../testing/api-fixtures.js';
import { runCli } from '../../testing/cli-run.js';
import { tempDir } from '../../testing/fixtures.js';
import { freePort } from '../../distributed/loopback-ports.js';


interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `silk ARGS…` as a user would, without blocking the test's own node (no node or key from the tester's environment). */
function silk(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<Run> {
  return runCli(args, 30_000, { SILK_URL: undefined, SILK_KEY: undefined, SILK_CA: undefined, ...env });
}


function assertOneLine(r: Run, pattern: RegExp): void {
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line expected, got:\n${r.stderr}`);
  assert.match(r.stderr.trimEnd(), pattern);
}

const asset = (id: string): string => JSON.stringify({ id, owner: 'yiwu-seller', colour: 'red', size: 1, appraisedValue: 2500 });

describe('silk client commands against a running node', () => {
  let t: TestApi;
  let url: string[];
  let aliceKey: string;
  let bobKey: string;
  const scratch = tempDir('silk-cli-');

  before(async () => {
    t = await openTestApi();
    url = ['--url', t.url];
    aliceKey = join(t.net.keysDir, 'Org1', 'alice.pem');
    bobKey = join(t.net.keysDir, 'Org2', 'bob.pem');
  });
  after(async () => {
    await t.close();
    scratch.cleanup();
  });

  it('status: the node, its readiness and its chains, for people and for scripts ($SILK_URL)', async () => {
    const human = await silk(['status'], { SILK_URL: t.url });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^Node\s+http:\/\/127\.0\.0\.1:\d+$/m);
    assert.match(human.stdout, /^Ready\s+yes/m);
    assert.match(human.stdout, /^CHAIN\s+HEIGHT\s+ORDERED\s+ORGS\s+CONTRACTS$/m);
    assert.match(human.stdout, /^trade\s+\d+\s+\d+\s+3\s+basic 1\.0, identity 1\.0$/m);
    const json = await silk(['status', '--json', ...url]);
    assert.equal(json.code, 0);
    const report = JSON.parse(json.stdout) as { health: { status: string }; ready: { status: string }; chains: { name: string; height: number }[] };
    assert.equal(report.health.status, 'ok');
    assert.equal(report.ready.status, 'ready');
    assert.deepEqual(report.chains.map((c) => c.name), ['trade']);
    assert.equal(report.chains[0]?.height, t.net.peers[0]!.height('trade'));
  });

  it('submit, then tx, block and query show what was committed', async () => {
    const created = await silk(['submit', 'trade', 'basic', 'createAsset', asset('scarf-1'), '--key', aliceKey, '--json', ...url]);
    assert.equal(created.code, 0, created.stderr);
    const r = JSON.parse(created.stdout) as { txId: string; code: string; blockNumber: number };
    assert.equal(r.code, 'VALID');

    const moved = await silk(['submit', 'trade', 'basic', 'transferAsset', '{"id":"scarf-1","newOwner":"berlin-shop"}', '--endorsing-orgs', 'Org2,Org3', ...url], { SILK_KEY: bobKey });
    assert.equal(moved.code, 0, moved.stderr);
    const block = /^VALID: committed in block (\d+) of chain trade$/m.exec(moved.stdout);
    assert.ok(block !== null, moved.stdout);
    const txId = /^\s+Transaction\s+([0-9a-f]{64})$/m.exec(moved.stdout)?.[1];
    assert.ok(txId !== undefined, moved.stdout);

    const tx = await silk(['tx', 'trade', txId, ...url]);
    assert.equal(tx.code, 0, tx.stderr);
    assert.match(tx.stdout, /^\s+Status\s+VALID$/m);
    assert.match(tx.stdout, /^\s+Signed by\s+bob \(Org2, client\) at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/m);
    assert.match(tx.stdout, /^\s+Endorsed by\s+peer0\.org2 \(Org2\)\n\s+peer0\.org3 \(Org3\)$/m);
    assert.match(tx.stdout, /^\s+Events\s+AssetTransferred \{"id":"scarf-1","from":"yiwu-seller","to":"berlin-shop"\}$/m);
    assert.match(tx.stdout, /^\s+Receipt\s+verified/m);
    const txJson = JSON.parse((await silk(['tx', 'trade', txId, '--json', ...url])).stdout) as { block: number; receiptVerification: { ok: boolean } };
    assert.equal(txJson.block, Number(block[1]));
    assert.deepEqual(txJson.receiptVerification, { ok: true });

    const latest = await silk(['block', 'trade', 'latest', ...url]);
    assert.equal(latest.code, 0, latest.stderr);
    assert.match(latest.stdout, new RegExp(`^Block ${block[1]} of chain trade$`, 'm'));
    assert.match(latest.stdout, new RegExp(`^\\s+0\\s+VALID\\s+basic\\.transferAsset\\s+bob \\(Org2\\)\\s+${txId}$`, 'm'));
    const first = JSON.parse((await silk(['block', 'trade', String(r.blockNumber), '--json', ...url])).stdout) as { number: number; transactions: { txId: string }[] };
    assert.equal(first.number, r.blockNumber);
    assert.equal(first.transactions[0]?.txId, r.txId);

    const evaluated = await silk(['query', 'trade', 'basic', 'readAsset', '{"id":"scarf-1"}', '--key', aliceKey, ...url]);
    assert.equal(evaluated.code, 0, evaluated.stderr);
    assert.deepEqual(JSON.parse(evaluated.stdout), { ...JSON.parse(asset('scarf-1')) as object, owner: 'berlin-shop' });

    const state = await silk(['query', 'trade', 'basic', '--state', 'asset:scarf-1', ...url]);
    assert.equal(state.code, 0, state.stderr);
    assert.match(state.stdout, new RegExp(`^Written\\s+block ${block[1]}, transaction 0$`, 'm'));
    assert.match(state.stdout, /"owner": "berlin-shop"/);

    const history = await silk(['query', 'trade', 'basic', '--history', 'asset:scarf-1', '--order', 'asc', ...url]);
    assert.equal(history.code, 0, history.stderr);
    const rows = history.stdout.split('\n').filter((l) => /^\d+\.\d+\s/.test(l));
    assert.deepEqual(rows.map((l) => /"owner":"([^"]+)"/.exec(l)?.[1]), ['yiwu-seller', 'berlin-shop']);
    assert.match(history.stdout, /^2 changes$/m);
  });

  it('pages a key range with --limit and the bookmark it prints', async () => {
    for (const id of ['lamp-1', 'lamp-2', 'lamp-3']) {
      const r = await silk(['submit', 'trade', 'basic', 'createAsset', asset(id), '--key', aliceKey, ...url]);
      assert.equal(r.code, 0, r.stderr);
    }
    const range = ['query', 'trade', 'basic', '--range', 'asset:lamp-', 'asset:lamp.', ...url];
    const page1 = await silk([...range, '--limit', '2']);
    assert.equal(page1.code, 0, page1.stderr);
    assert.deepEqual(page1.stdout.split('\n').filter((l) => l.startsWith('asset:')).map((l) => l.split(/\s+/)[0]), ['asset:lamp-1', 'asset:lamp-2']);
    const bookmark = /more: run again with --bookmark (\S+)$/m.exec(page1.stdout)?.[1];
    assert.ok(bookmark !== undefined, page1.stdout);
    const page2 = await silk([...range, '--limit', '2', '--bookmark', bookmark]);
    assert.deepEqual(page2.stdout.split('\n').filter((l) => l.startsWith('asset:')).map((l) => l.split(/\s+/)[0]), ['asset:lamp-3']);
    assert.match(page2.stdout, /^1 key$/m);
    const json = JSON.parse((await silk([...range, '--json'])).stdout) as { items: { key: string }[] };
    assert.equal(json.items.length, 3);
  });

  it('tx shows a transaction committed as invalid and exits 4', async () => {
    // Endorse a read-modify-write, let another change the key first, then order the stale one.
    const gw = t.net.gateway('Org1');
    const alice = t.net.identity('Org1', 'alice');
    await gw.submit({ chain: 'trade', contract: 'basic', fn: 'put', args: { key: 'stale', value: 'a' } }, alice);
    const stale = gw.endorse(gw.propose({ chain: 'trade', contract: 'basic', fn: 'rmw', args: { key: 'stale', value: 'b' } }, alice));
    await gw.submit({ chain: 'trade', contract: 'basic', fn: 'rmw', args: { key: 'stale', value: 'c' } }, alice);
    const invalid = await gw.submitEnvelope('trade', stale.envelope);
    assert.equal(invalid.code, 'MVCC_READ_CONFLICT');
    const r = await silk(['tx', 'trade', invalid.txId, ...url]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stdout, /^\s+Status\s+INVALID \(MVCC_READ_CONFLICT\): its writes were not applied$/m);
    assert.match(r.stdout, /^\s+Receipt\s+verified/m, 'the receipt proves the invalid outcome too');
  });

  it('audit replays the chain from the genesis block you trust and says where it stops matching', async () => {
    const peer = t.net.peers[0]!;
    const height = peer.height('trade');
    assert.ok(height > 2, 'the tests before committed blocks');
    const genesis = peer.committedBlock('trade', 0)!.hash;
    const ok = await silk(['audit', 'trade', '--genesis', genesis, ...url]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^ok {4}chain trade at http:\/\/127\.0\.0\.1:\d+: every block replayed from genesis/);
    assert.match(ok.stdout, new RegExp(`^\\s+Genesis\\s+${genesis} \\(the hash you gave\\)$`, 'm'));
    assert.match(ok.stdout, new RegExp(`^\\s+Blocks\\s+0 to ${height - 1}, \\d+ transactions re-validated$`, 'm'));
    assert.match(ok.stdout, new RegExp(`^\\s+Signed by\\s+${toHex(peer.publicKey)}$`, 'm'));
    const json = await silk(['audit', 'trade', '--to', '1', '--json', ...url]);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { ok: boolean; blocks: number; genesisHash: string; genesisPinned: boolean };
    assert.deepEqual([report.ok, report.blocks, report.genesisHash, report.genesisPinned], [true, 2, genesis, false]);
    const wrong = await silk(['audit', 'trade', '--genesis', 'ab'.repeat(32), ...url]);
    assert.equal(wrong.code, 1, wrong.stderr);
    assert.match(wrong.stdout, /^FAIL {2}chain trade at .*: block 0: its hash [0-9a-f]{64} is not the genesis hash you trust/);
  });

  it("maps the node's refusals to exit 4 with the code on one line, and --json adds the error body", async () => {
    const duplicate = await silk(['submit', 'trade', 'basic', 'createAsset', asset('dup-1'), '--key', aliceKey, ...url]);
    assert.equal(duplicate.code, 0, duplicate.stderr);
    const again = await silk(['submit', 'trade', 'basic', 'createAsset', asset('dup-1'), '--key', aliceKey, ...url]);
    assert.equal(again.code, 4);
    assertOneLine(again, /^silk: CONTRACT_ERROR: asset dup-1 already exists$/);
    assert.equal(again.stdout, '');
    const json = await silk(['submit', 'trade', 'basic', 'createAsset', asset('dup-1'), '--key', aliceKey, '--json', ...url]);
    assert.equal(json.code, 4);
    assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'CONTRACT_ERROR');

    const outsider = join(scratch.path, 'outsider.pem');
    writeFileSync(outsider, generatePrivateKeyPem());
    const notMember = await silk(['submit', 'trade', 'basic', 'createAsset', asset('dup-2'), '--key', outsider, ...url]);
    assert.equal(notMember.code, 4);
    assert.match(notMember.stderr, /^silk: UNKNOWN_CREATOR: /);
    assert.match(notMember.stderr, /not a member of this chain/);

    const [chain, block, tx] = await Promise.all([
      silk(['block', 'nochain', ...url]),
      silk(['block', 'trade', '999999', ...url]),
      silk(['tx', 'trade', 'ab'.repeat(32), ...url]),
    ]);
    assert.equal(chain.code, 4);
    assertOneLine(chain, /^silk: UNKNOWN_CHAIN: /);
    assert.equal(block.code, 4);
    assertOneLine(block, /^silk: NOT_FOUND: chain trade has no block 999999/);
    assert.equal(tx.code, 4);
    assertOneLine(tx, /^silk: NOT_FOUND: /);
  });

  it('signs with a keystore given as --key, its password from $SILK_KEYSTORE_PASSWORD; a wrong or missing password is one line, exit 2', async () => {
    // Alice's key, sealed in a private-key keystore (cheap scrypt: a test).
    const pem = readFileSync(aliceKey, 'utf8');
    const d = createPrivateKey(pem).export({ format: 'jwk' }).d;
    assert.ok(d !== undefined);
    const keystore = join(scratch.path, 'alice.keystore.json');
    await writeKeystore(keystore, { kind: 'private-key', bytes: new Uint8Array(Buffer.from(d, 'base64url')), pubkey: signerFromPem(pem).publicKey, path: null }, 'alice-password', { scrypt: { N: 1024, r: 8, p: 1 } });

    const ok = await silk(['submit', 'trade', 'basic', 'createAsset', asset('ks-1'), '--key', keystore, '--json', ...url], { SILK_KEYSTORE_PASSWORD: 'alice-password' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { code: string }).code, 'VALID');
    const read = await silk(['query', 'trade', 'basic', 'readAsset', '{"id":"ks-1"}', ...url], { SILK_KEY: keystore, SILK_KEYSTORE_PASSWORD: 'alice-password' });
    assert.equal(read.code, 0, read.stderr);
    assert.match(read.stdout, /ks-1/);

    const wrong = await silk(['submit', 'trade', 'basic', 'createAsset', asset('ks-2'), '--key', keystore, ...url], { SILK_KEYSTORE_PASSWORD: 'not-it' });
    assert.equal(wrong.code, 2);
    assertOneLine(wrong, /^silk: .*alice\.keystore\.json.*wrong password/);
    const none = await silk(['submit', 'trade', 'basic', 'createAsset', asset('ks-3'), '--key', keystore, ...url], { SILK_KEYSTORE_PASSWORD: '' });
    assert.equal(none.code, 2);
    assertOneLine(none, /^silk: .*alice\.keystore\.json is a keystore: set \$SILK_KEYSTORE_PASSWORD/);
  });

  it('endorse, cosign and submit-envelope: a change only an approver may make goes through with its co-signature', async () => {
    const adminKey = join(t.net.keysDir, 'Org1', 'admin.pem');
    assert.equal((await silk(['submit', 'trade', 'basic', 'createAsset', asset('vase-1'), '--key', aliceKey, ...url])).code, 0);
    // Only with an Org1 peer and an Org1 finance officer of level 3 (or the org's admin) approving.
    const guard = await silk(['submit', 'trade', 'basic', 'protectAsset', JSON.stringify({ id: 'vase-1', policy: "AND('Org1.peer', 'Org1.finance@3')" }), '--key', aliceKey, ...url]);
    assert.equal(guard.code, 0, guard.stderr);
    // What the protecting transaction changed is the key's policy, and silk tx shows it.
    const guardTx = /^\s+Transaction\s+([0-9a-f]{64})$/m.exec(guard.stdout)?.[1] ?? '';
    const shown = await silk(['tx', 'trade', guardTx, ...url]);
    assert.match(shown.stdout, /^\s+Wrote\s+asset:vase-1 = \{.*\} {2}\[sets policy AND\('Org1\.peer', 'Org1\.finance@3'\)\]$/m);
    const move = JSON.stringify({ id: 'vase-1', newOwner: 'madrid-shop' });
    const plain = await silk(['submit', 'trade', 'basic', 'transferAsset', move, '--key', aliceKey, ...url]);
    assert.equal(plain.code, 4);
    assert.match(plain.stderr, /ENDORSEMENT_POLICY_FAILURE: .*asset:vase-1.*co-signature/);

    const file = join(scratch.path, 'vase-1.envelope.json');
    const endorsed = await silk(['endorse', 'trade', 'basic', 'transferAsset', move, '--key', aliceKey, '--out', file, ...url]);
    assert.equal(endorsed.code, 0, endorsed.stderr);
    assert.match(endorsed.stdout, /^Needs a co-signature: key asset:vase-1 requires AND\('Org1\.peer', 'Org1\.finance@3'\)$/m);
    assert.match(endorsed.stdout, /^\s*Writes\s+asset:vase-1 = \{.*"owner":"madrid-shop".*\}$/m);

    assert.match(endorsed.stdout, /^Proposed by\s+[0-9a-f]{66} {2}alice \(Org1, client\)$/m);

    // With --url the node names the keys, and a key that may not sign is refused before it signs.
    const strangerKey = join(scratch.path, 'stranger.pem');
    writeFileSync(strangerKey, generatePrivateKeyPem());
    const stranger = await silk(['cosign', file, '--key', strangerKey, ...url]);
    assert.equal(stranger.code, 4, stranger.stderr);
    assert.match(stranger.stderr, /^silk: UNKNOWN_CREATOR: .*the signing key [0-9a-f]{66} is not a member of this chain on chain trade; nothing was signed$/m);

    // The approver needs no node: no --url, and SILK_URL points nowhere.
    const cosigned = await silk(['cosign', file, '--key', adminKey], { SILK_URL: 'http://127.0.0.1:9' });
    assert.equal(cosigned.code, 0, cosigned.stderr);
    assert.match(cosigned.stdout, /^Co-signed \S+$/m);
    assert.match(cosigned.stdout, /^\s*Call\s+basic 1\.0 transferAsset \{"id":"vase-1","newOwner":"madrid-shop"\}$/m);
    assert.equal((/Endorsed by\s+((?:[0-9a-f]{66}\s*)+)/.exec(cosigned.stdout)?.[1] ?? '').trim().split(/\s+/).length, 2, cosigned.stdout);
    assertOneLine(await silk(['cosign', file, '--key', adminKey, ...url]), /^silk: .*vase-1\.envelope\.json: this key has already endorsed the envelope$/);

    const committed = await silk(['submit-envelope', file, ...url]);
    assert.equal(committed.code, 0, committed.stderr);
    assert.match(committed.stdout, /^VALID: committed in block \d+ of chain trade$/m);
    const state = JSON.parse((await silk(['query', 'trade', 'basic', '--state', 'asset:vase-1', '--json', ...url])).stdout) as { value: { owner: string } };
    assert.equal(state.value.owner, 'madrid-shop');

    // Files that are not envelopes, or were altered, are refused on one line.
    const notJson = join(scratch.path, 'not-an-envelope.json');
    writeFileSync(notJson, 'hello');
    assertOneLine(await silk(['cosign', notJson, '--key', adminKey]), /^silk: .*not-an-envelope\.json is not an envelope file \(not JSON\)/);
    const altered = join(scratch.path, 'altered.envelope.json');
    writeFileSync(altered, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')) as object, chain: 'market' }));
    assertOneLine(await silk(['submit-envelope', altered, ...url]), /^silk: .*altered\.envelope\.json: the file names chain market and transaction [0-9a-f]{64}, but its envelope is transaction [0-9a-f]{64} of chain trade$/);
  });

  it('says in one line what is wrong with what was typed, and exits 2', async () => {
    const notPem = join(scratch.path, 'not-a-key.pem');
    writeFileSync(notPem, 'hello');
    const brokenPem = join(scratch.path, 'broken.crt');
    writeFileSync(brokenPem, '-----BEGIN CERTIFICATE-----\nMIIBnot+a+certificate==\n-----END CERTIFICATE-----\n');
    const cases: [readonly string[], RegExp][] = [
      [['submit', 'trade', 'basic', 'createAsset', '{id: 1}', '--key', aliceKey], /^silk: ARGS-JSON is not valid JSON \(.+\): \{id: 1\}; quote it/],
      [['query', 'trade', 'basic', 'readAsset', '{"id":', '--key', aliceKey], /^silk: ARGS-JSON is not valid JSON/],
      [['submit', 'trade', 'basic', 'createAsset', asset('k'), '--key', join(scratch.path, 'missing.pem')], /^silk: cannot read key file .*missing\.pem: no such file$/],
      [['submit', 'trade', 'basic', 'createAsset', asset('k'), '--key', notPem], /^silk: key file .*not-a-key\.pem does not hold a PEM private key/],
      [['submit', 'trade', 'basic', 'createAsset', asset('k')], /^silk: submit signs with your key: give --key FILE/],
      [['block', 'trade', 'seven'], /^silk: the block number must be a whole number, got 'seven'$/],
      [['tx', 'trade', 'xyz'], /^silk: a transaction id is 64 lowercase hex digits/],
      [['audit', 'trade', '--genesis', 'abc'], /^silk: --genesis takes the genesis block's hash, 64 hex digits; got "abc"$/],
      [['query', 'trade', 'basic', '--range', 'a', '--limit', '500'], /^silk: --limit must be 1\.\.100, got 500$/],
      [['status', '--url', 'ftp://example.org'], /^silk: --url: .* is not an http or https URL$/],
      [['status', '--ca', join(scratch.path, 'missing-ca.crt')], /^silk: cannot read the CA bundle .*missing-ca\.crt \(--ca or \$SILK_CA\): no such file$/],
      [['block', 'trade', '1', '--ca', scratch.path], /^silk: cannot read the CA bundle .* \(--ca or \$SILK_CA\): it is a folder$/],
      [['status', '--ca', notPem], /^silk: the CA bundle .*not-a-key\.pem \(--ca or \$SILK_CA\) is not usable: ca holds no PEM certificate/],
      [['status', '--ca', brokenPem], /^silk: the CA bundle .*broken\.crt \(--ca or \$SILK_CA\) is not usable: certificate 1 of ca does not parse/],
    ];
    const runs = await Promise.all(cases.map(([args]) => silk([...args, ...(args.includes('--url') ? [] : url)])));
    runs.forEach((r, i) => {
      assert.equal(r.code, 2, `${cases[i]![0].join(' ')}: ${r.stderr}`);
      assertOneLine(r, cases[i]![1]);
    });
    // $SILK_CA is read as --ca is, by every client command.
    const fromEnv = await silk(['tx', 'trade', 'a'.repeat(64), ...url], { SILK_CA: join(scratch.path, 'gone.crt') });
    assert.equal(fromEnv.code, 2, fromEnv.stderr);
    assertOneLine(fromEnv, /^silk: cannot read the CA bundle .*gone\.crt \(--ca or \$SILK_CA\): no such file$/);
    const unknownFlag = await silk(['status', '--colour', ...url]);
    assert.equal(unknownFlag.code, 2);
    assert.match(unknownFlag.stderr, /Unknown option '--colour'/);
  });

  it('exits 5 when the node cannot be reached', async () => {
    const port = await freePort();
    const r = await silk(['status'], { SILK_URL: `http://127.0.0.1:${port}` });
    assert.equal(r.code, 5);
    assert.match(r.stderr, /^silk: UNREACHABLE: GET http:\/\/127\.0\.0\.1:\d+\/api\/\w+: cannot reach the node \(ECONNREFUSED\)/);
    assert.match(r.stderr, /--url or \$SILK_URL/);
  });

  it('turns to the next node of a --url list when the first cannot be reached', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const r = await silk(['status', '--json', '--url', `${dead},${t.url}`]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { url: string; chains: { name: string }[] };
    assert.equal(report.url, t.url, 'the node that answered');
    assert.deepEqual(report.chains.map((c) => c.name), ['trade']);
    const none = await silk(['status', '--url', `${dead}, ${dead.replace(/\d+$/, String(await freePort()))}`]);
    assert.equal(none.code, 5);
    assert.match(none.stderr, /^silk: UNREACHABLE: no node could answer: /);
  });

  it('lists the client commands and their exit codes in the help', async () => {
    const r = await silk(['--help']);
    assert.equal(r.code, 0);
    for (const command of ['status', 'audit CHAIN', 'block CHAIN', 'tx CHAIN TXID', 'query CHAIN CONTRACT FN', 'submit CHAIN CONTRACT FN ARGS-JSON']) assert.ok(r.stdout.includes(`silk ${command}`), command);
    assert.match(r.stdout, /4 the node refused the request/);
    assert.match(r.stdout, /5 the node could not be reached/);
    assert.match(r.stdout, /--ca FILE .*CA bundle/);
  });
});
