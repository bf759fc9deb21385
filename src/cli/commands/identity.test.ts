import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { toHex } from '../../crypto/hash.js';
import { generatePrivateKeyPem } from '../../crypto/p256.js';
import { signerFromPem } from '../../sdk/index.js';
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
function silk(args: readonly string[]): Promise<Run> {
  return runCli(args, 30_000, { SILK_URL: undefined, SILK_KEY: undefined });
}


interface ListedIdentity {
  readonly key: string;
  readonly org: string;
  readonly function: string;
  readonly level: number;
  readonly kind: string;
  readonly status: string;
}

describe('silk identity against a running node', () => {
  let t: TestApi;
  let url: string[];
  let adminPem: string;
  const scratch = tempDir('silk-identity-cli-');
  /** A fresh key in a PEM file, and the hex of its public key. */
  const newKey = (name: string): { file: string; hex: string } => {
    const pem = generatePrivateKeyPem();
    const file = join(scratch.path, `${name}.pem`);
    writeFileSync(file, pem);
    return { file, hex: toHex(signerFromPem(pem).publicKey) };
  };
  const manager = newKey('manager');
  const clerk = newKey('clerk');
  const successor = newKey('successor');
  const scanner = newKey('scanner');
  const certOptions = (level: number, n: number): string[] => ['--org', 'Org1', '--function', 'finance', '--level', String(level), '--path', `m/7777'/0'/2'/${level}'/${n}'`];
  const list = async (...extra: string[]): Promise<ListedIdentity[]> => {
    const r = await silk(['identity', 'list', 'trade', '--json', ...extra, ...url]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { items: ListedIdentity[] }).items;
  };

  before(async () => {
    t = await openTestApi();
    url = ['--url', t.url];
    adminPem = join(t.net.keysDir, 'Org1', 'admin.pem');
  });
  after(async () => {
    await t.close();
    scratch.cleanup();
  });

  it('register: the admin certifies a key (--json), which then certifies its own child with the default window', async () => {
    const r = await silk(['identity', 'register', 'trade', '--key-file', manager.file, ...certOptions(3, 0), '--parent-key', adminPem, '--json', ...url]);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { code: string; blockNumber: number; txId: string };
    assert.equal(result.code, 'VALID');
    assert.match(result.txId, /^[0-9a-f]{64}$/);
    // Without --valid-days the child's window ends with its parent's (a year from a moment earlier).
    const child = await silk(['identity', 'register', 'trade', '--pubkey', clerk.hex, ...certOptions(2, 1), '--parent-key', manager.file, ...url]);
    assert.equal(child.code, 0, child.stderr);
    assert.match(child.stdout, /^VALID: register committed in block \d+ of chain trade \(transaction [0-9a-f]{64}\)$/m);
    const device = await silk(['identity', 'register', 'trade', '--pubkey', scanner.hex, '--org', 'Org1', '--function', 'device', '--level', '1', '--path', "m/7777'/0'/6'/1'/0'", '--device', '--parent-key', adminPem, ...url]);
    assert.equal(device.code, 0, device.stderr);
    const items = await list();
    assert.deepEqual(items.map((i) => [i.key, i.function, i.level, i.kind, i.status]).sort(), [
      [manager.hex, 'finance', 3, 'member', 'active'],
      [clerk.hex, 'finance', 2, 'member', 'active'],
      [scanner.hex, 'device', 1, 'device', 'active'],
    ].sort());
  });

  it('register: the node refuses a child above its parent (exit 4); bad options are usage errors (exit 2)', async () => {
    const above = await silk(['identity', 'register', 'trade', '--pubkey', newKey('above').hex, ...certOptions(4, 2), '--parent-key', manager.file, ...url]);
    assert.equal(above.code, 4, above.stderr);
    assert.match(above.stderr, /CONTRACT_ERROR: .*exceeds the parent's level 3/);
    const aboveJson = await silk(['identity', 'register', 'trade', '--pubkey', newKey('above2').hex, ...certOptions(4, 3), '--parent-key', manager.file, '--json', ...url]);
    assert.equal(aboveJson.code, 4);
    assert.equal((JSON.parse(aboveJson.stdout) as { error: { code: string } }).error.code, 'CONTRACT_ERROR');
    const usage: [string[], RegExp][] = [
      [['identity'], /usage:/],
      [['identity', 'enrol', 'trade'], /usage:/],
      [['identity', 'register', 'trade', '--pubkey', clerk.hex, '--parent-key', adminPem], /give --org, --function, --level and --path/],
      [['identity', 'register', 'trade', ...certOptions(3, 4), '--parent-key', adminPem], /--key-file PEM or --pubkey HEX/],
      [['identity', 'register', 'trade', '--pubkey', 'abc', ...certOptions(3, 4), '--parent-key', adminPem], /--pubkey is the hex of a compressed P-256 public key/],
      [['identity', 'register', 'trade', '--pubkey', clerk.hex, ...certOptions(3, 4)], /--parent-key PEM-FILE/],
      [['identity', 'register', 'trade', '--pubkey', clerk.hex, ...certOptions(3, 4), '--kind', 'robot', '--parent-key', adminPem], /--kind is member or device/],
      [['identity', 'register', 'trade', '--pubkey', clerk.hex, ...certOptions(3, 4), '--member', '--device', '--parent-key', adminPem], /give one kind/],
      [['identity', 'register', 'trade', '--pubkey', clerk.hex, ...certOptions(3, 4), '--level', 'x', '--parent-key', adminPem], /--level must be a whole number/],
      [['identity', 'revoke', 'trade', '--key', clerk.hex, '--reason', 'lost', '--admin-key', adminPem], /--reason is compromise or retired/],
      [['identity', 'list', 'trade', '--limit', 'ten'], /--limit must be a whole number/],
    ];
    for (const [args, pattern] of usage) {
      const r = await silk([...args, ...url]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern, args.join(' '));
    }
  });

  it('list: pages with --limit and prints the bookmark; --org filters', async () => {
    const first = await silk(['identity', 'list', 'trade', '--org', 'Org1', '--limit', '2', ...url]);
    assert.equal(first.code, 0, first.stderr);
    const rows = first.stdout.split('\n').filter((l) => /^0[23][0-9a-f]{64}\s/.test(l));
    assert.equal(rows.length, 2);
    assert.match(rows[0] ?? '', /^0[23][0-9a-f]{64} {2}Org1 {2}(finance|device)@\d {2}(member|device) {2}active {2}m\/7777'/);
    const bookmark = /^2 identities; more: run again with --bookmark (\S+)$/m.exec(first.stdout)?.[1];
    assert.ok(bookmark !== undefined, first.stdout);
    const rest = await silk(['identity', 'list', 'trade', '--org', 'Org1', '--limit', '2', '--bookmark', bookmark, ...url]);
    assert.equal(rest.code, 0, rest.stderr);
    assert.match(rest.stdout, /^1 identity$/m);
    assert.deepEqual(await list('--org', 'Org2'), []);
  });

  it('rotate: the parent replaces a key; the old one is retired with replacedBy', async () => {
    const r = await silk(['identity', 'rotate', 'trade', '--old-key', clerk.hex, '--key-file', successor.file, ...certOptions(2, 5), '--parent-key', manager.file, '--json', ...url]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { code: string }).code, 'VALID');
    const items = await list();
    assert.equal(items.find((i) => i.key === clerk.hex)?.status, 'retired');
    assert.equal(items.find((i) => i.key === successor.hex)?.status, 'active');
    const old = t.net.gateway('Org1').evaluate({ chain: 'trade', contract: 'identity', fn: 'identityOf', args: { key: clerk.hex } }, t.net.identity('Org1', 'admin')) as { record: { replacedBy: string } };
    assert.equal(old.record.replacedBy, successor.hex);
  });

  it('revoke: a compromise stops the key and its descendants; an unknown key is refused (exit 4); no node is exit 5', async () => {
    const r = await silk(['identity', 'revoke', 'trade', '--key', manager.hex, '--reason', 'compromise', '--admin-key', adminPem, ...url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^VALID: revoke committed in block \d+ of chain trade/m);
    const standing = async (hex: string): Promise<string> => ((await (await fetch(`${t.url}/api/chains/trade/identities/${hex}`)).json()) as { standing: string }).standing;
    assert.equal(await standing(manager.hex), 'compromised');
    assert.equal(await standing(successor.hex), 'ancestor-compromised');
    assert.equal(await standing(scanner.hex), 'valid');
    const unknown = await silk(['identity', 'revoke', 'trade', '--key', newKey('nobody').hex, '--reason', 'retired', '--admin-key', adminPem, '--json', ...url]);
    assert.equal(unknown.code, 4, unknown.stderr);
    assert.equal((JSON.parse(unknown.stdout) as { error: { code: string } }).error.code, 'NOT_FOUND');
    const down = await silk(['identity', 'list', 'trade', '--url', `http://127.0.0.1:${await freePort()}`]);
    assert.equal(down.code, 5, down.stderr);
  });
});
