/**
 * `silk keys` through the real command line: new → derive → show → export-public, the CLI's
 * default scrypt cost, and every refusal (wrong password, truncated, altered or oversized
 * files, an existing file without --force) with its exit code and nothing overwritten.
 */
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { toHex } from '../../crypto/hash.js';
import { openKeystoreSigner } from '../../keys/async-signer.js';
import { adminKeyPath, deriveSigningKey, signingKeyPath } from '../../keys/key-tree.js';
import { readKeystore } from '../../keys/keystore.js';
import { mnemonicToSeed } from '../../keys/mnemonic.js';
import { derivePath, masterKeyFromSeed } from '../../keys/slip10.js';
import { runCli } from '../../testing/cli-run.js';
import { tempDir } from '../../testing/fixtures.js';

const PASSWORD = 'silk road 1877';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `silk ARGS…` with stdin closed (no terminal: passwords only from the environment).
 * Small scrypt parameters unless `env` says otherwise (`SILK_KEYSTORE_SCRYPT_N: ''` = the default).
 */
function silk(args: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): Promise<Run> {
  const keystoreVars = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('SILK_KEYSTORE_')).map((k) => [k, undefined]));
  return runCli(['keys', ...args], 30_000, { ...keystoreVars, SILK_KEYSTORE_PASSWORD: PASSWORD, SILK_KEYSTORE_SCRYPT_N: '1024', ...env });
}

function json(r: Run): Record<string, unknown> {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

function failsWith(r: Run, code: number, message: RegExp): void {
  assert.equal(r.code, code, `exit ${String(r.code)}\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, message);
}

function edit(file: string, change: (m: Record<string, unknown>) => void): void {
  const m = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  change(m);
  writeFileSync(file, JSON.stringify(m, null, 2));
}

describe('silk keys', () => {
  const dir = tempDir('silk-keys-cli-');
  const org = join(dir.path, 'org.json');
  const sales = join(dir.path, 'sales.json');
  let mnemonic = '';
  after(() => {
    dir.cleanup();
  });

  before(async () => {
    const created = json(await silk(['new', '--out', org, '--json']));
    mnemonic = String(created.mnemonic);
  });

  it('keys new seals a 24-word mnemonic under its master public key and shows the words once', async () => {
    assert.equal(mnemonic.split(' ').length, 24);
    const ks = await readKeystore(org, PASSWORD);
    assert.equal(ks.kind, 'mnemonic');
    assert.equal(ks.secret, mnemonic);
    assert.deepEqual(ks.pubkey, masterKeyFromSeed(mnemonicToSeed(mnemonic)).publicKey);
    const shown = json(await silk(['show', org, '--json']));
    assert.equal(shown.kind, 'mnemonic');
    assert.equal(shown.pubkey, toHex(ks.pubkey));
    assert.equal(shown.path, null);
    assert.ok(!readFileSync(org, 'utf8').includes(mnemonic.split(' ')[0] ?? '?'));

    const human = await silk(['new', '--out', join(dir.path, 'human.json')]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stderr, /WRITE THESE 24 WORDS DOWN/);
    assert.match(human.stderr, /sealing the mnemonic in .* \(scrypt N=2\^10, r=8, p=1/);
    assert.match(human.stdout, / 1\. [a-z]+ .*\n[\s\S]*24\. [a-z]+/);
    const hidden = await silk(['new', '--out', join(dir.path, 'hidden.json'), '--no-show']);
    assert.equal(hidden.code, 0, hidden.stderr);
    assert.doesNotMatch(hidden.stdout, /24\. /);
    assert.match(hidden.stderr, /not shown: .* and its password are now its only copy/);
  });

  it("the CLI's default scrypt cost is N=2^17, r=8, p=1", async () => {
    const file = join(dir.path, 'default-cost.json');
    const r = await silk(['new', '--out', file, '--no-show', '--json'], { SILK_KEYSTORE_SCRYPT_N: undefined });
    const created = json(r);
    assert.deepEqual([created.N, created.r, created.p], [2 ** 17, 8, 1]);
    const m = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.deepEqual([m.kdf, m.N, m.r, m.p], ['scrypt', 131072, 8, 1]);
    const shown = await silk(['show', file]);
    assert.match(shown.stdout, /KDF\s+scrypt N=2\^17, r=8, p=1, 128 MiB/);
    assert.doesNotMatch(r.stderr, /for tests only/);
  });

  it('keys derive seals the hardened signing key, and export-public matches it', async () => {
    const derived = json(await silk(['derive', '--from', org, '--function', 'sales', '--level', '3', '--member', '0', '--out', sales, '--json']));
    const master = masterKeyFromSeed(mnemonicToSeed(mnemonic));
    const role = { function: 1, level: 3, member: 0 };
    const key = deriveSigningKey(master, role);
    assert.equal(derived.path, signingKeyPath(role));
    assert.equal(derived.pubkey, toHex(key.publicKey));
    const ks = await readKeystore(sales, PASSWORD);
    assert.equal(ks.kind, 'private-key');
    assert.deepEqual(ks.secret, key.privateKey);
    assert.equal(ks.path, "m/7777'/0'/1'/3'/0'");

    const exported = json(await silk(['export-public', sales, '--json']));
    assert.equal(exported.pubkey, toHex(key.publicKey));
    assert.equal(exported.path, signingKeyPath(role));
    assert.deepEqual(Object.keys(exported).sort(), ['file', 'kind', 'path', 'pem', 'pubkey'], 'no chain code, no xpub');
    const pem = String(exported.pem);
    assert.match(pem, /^-----BEGIN PUBLIC KEY-----\n/);
    // The PEM verifies what the keystore's key signs.
    const signer = await openKeystoreSigner(sales, PASSWORD);
    const message = new TextEncoder().encode('customs declaration 0042');
    const sig = await signer.sign(message);
    assert.ok(verify('sha256', message, { key: createPublicKey(pem), dsaEncoding: 'ieee-p1363' }, sig));
    const human = await silk(['export-public', sales]);
    assert.equal(human.code, 0, human.stderr);
    assert.ok(human.stdout.includes(pem.trimEnd()));
    assert.doesNotMatch(human.stdout + human.stderr, /chain ?code|xpub/i);

    const byIndex = json(await silk(['derive', '--from', org, '--function', '4', '--level', '9', '--member', '12', '--out', join(dir.path, 'customs.json'), '--json']));
    assert.equal(byIndex.pubkey, toHex(deriveSigningKey(master, { function: 4, level: 9, member: 12 }).publicKey));
    const admin = json(await silk(['derive', '--from', org, '--admin', '--out', join(dir.path, 'admin.json'), '--json']));
    assert.equal(admin.path, adminKeyPath());
    assert.equal(admin.pubkey, toHex(derivePath(master, adminKeyPath()).publicKey));
  });

  it('derive can seal the key under its own password', async () => {
    const out = join(dir.path, 'own-password.json');
    json(await silk(['derive', '--from', org, '--function', 'audit', '--level', '1', '--out', out, '--json'], { SILK_KEYSTORE_NEW_PASSWORD: 'another one' }));
    assert.equal((await readKeystore(out, 'another one')).kind, 'private-key');
    await assert.rejects(readKeystore(out, PASSWORD), /wrong password or altered file/);
  });

  it('a wrong password fails with exit 2 and says it cannot tell a wrong password from an altered file', async () => {
    failsWith(await silk(['export-public', org], { SILK_KEYSTORE_PASSWORD: 'silk road 1878' }), 2, /cannot unlock .*org\.json: wrong password or altered file \(AES-GCM cannot tell the two apart\)/);
    failsWith(await silk(['derive', '--from', org, '--function', 'sales', '--level', '1', '--out', join(dir.path, 'never.json')], { SILK_KEYSTORE_PASSWORD: 'nope' }), 2, /wrong password or altered file/);
  });

  it('refuses an empty password, and asks for one when none is given and there is no terminal', async () => {
    failsWith(await silk(['new', '--out', join(dir.path, 'empty.json')], { SILK_KEYSTORE_PASSWORD: '' }), 2, /SILK_KEYSTORE_PASSWORD is empty: refusing an empty password/);
    failsWith(await silk(['new', '--out', join(dir.path, 'none.json')], { SILK_KEYSTORE_PASSWORD: undefined }), 2, /no password for .*: set \$SILK_KEYSTORE_PASSWORD or run silk keys on a terminal/);
  });

  it('a truncated file: exit 2, "not valid JSON"', async () => {
    const file = join(dir.path, 'truncated.json');
    const text = readFileSync(sales, 'utf8');
    writeFileSync(file, text.slice(0, 100));
    failsWith(await silk(['show', file]), 2, /is not a keystore: not valid JSON \(truncated or damaged\?\)/);
    failsWith(await silk(['export-public', file]), 2, /not valid JSON/);
  });

  it('an altered header: show reads it, export-public refuses it as "wrong password or altered file"', async () => {
    const file = join(dir.path, 'altered.json');
    writeFileSync(file, readFileSync(sales));
    edit(file, (m) => { m.path = "m/7777'/0'/1'/9'/0'"; });
    assert.equal((await silk(['show', file])).code, 0);
    failsWith(await silk(['export-public', file]), 2, /wrong password or altered file/);
    writeFileSync(file, readFileSync(sales));
    edit(file, (m) => { m.pubkey = toHex(masterKeyFromSeed(mnemonicToSeed(mnemonic)).publicKey); });
    failsWith(await silk(['export-public', file]), 2, /wrong password or altered file/);
  });

  it('oversized scrypt parameters are refused before any work: exit 2', async () => {
    const file = join(dir.path, 'oversized.json');
    writeFileSync(file, readFileSync(sales));
    edit(file, (m) => { m.N = 2 ** 24; });
    const started = Date.now();
    failsWith(await silk(['export-public', file]), 2, /refusing scrypt N=16777216 above the cap 1048576/);
    failsWith(await silk(['show', file]), 2, /refusing scrypt N=16777216 above the cap/);
    assert.ok(Date.now() - started < 10_000);
  });

  it('an unknown version: exit 2', async () => {
    const file = join(dir.path, 'v2.json');
    writeFileSync(file, readFileSync(sales));
    edit(file, (m) => { m.v = 2; });
    failsWith(await silk(['show', file]), 2, /unsupported keystore version 2/);
  });

  it('never overwrites an existing file without --force; the file stays byte for byte', async () => {
    const orgBefore = readFileSync(org);
    const salesBefore = readFileSync(sales);
    failsWith(await silk(['new', '--out', org]), 2, /already exists; it was left as it was \(pass --force to replace it\)/);
    failsWith(await silk(['derive', '--from', org, '--function', 'finance', '--level', '2', '--out', sales]), 2, /already exists/);
    assert.deepEqual(readFileSync(org), orgBefore);
    assert.deepEqual(readFileSync(sales), salesBefore);
    const forced = join(dir.path, 'forced.json');
    writeFileSync(forced, readFileSync(sales));
    const replaced = json(await silk(['derive', '--from', org, '--function', 'finance', '--level', '2', '--out', forced, '--force', '--json']));
    assert.equal(replaced.path, "m/7777'/0'/2'/2'/0'");
    assert.equal(keyPath(forced), "m/7777'/0'/2'/2'/0'");
  });

  it('bad usage: exit 2', async () => {
    failsWith(await silk(['derive', '--from', sales, '--function', 'sales', '--level', '1', '--out', join(dir.path, 'x.json')]), 2, /holds one private key, not a mnemonic/);
    failsWith(await silk(['derive', '--from', org, '--function', 'smuggling', '--level', '1', '--out', join(dir.path, 'x.json')]), 2, /--function must be one of admin, sales/);
    failsWith(await silk(['derive', '--from', org, '--function', 'sales', '--level', '10', '--out', join(dir.path, 'x.json')]), 2, /--level must be a whole number from 1 to 9/);
    failsWith(await silk(['new', '--out', join(dir.path, 'x.json'), '--words', '12']), 2, /only 24 words/);
    failsWith(await silk(['new', '--out', join(dir.path, 'x.json')], { SILK_KEYSTORE_SCRYPT_N: '1000' }), 2, /SILK_KEYSTORE_SCRYPT_N must be a power of two/);
    failsWith(await silk(['show', join(dir.path, 'missing.json')]), 2, /no such file/);
    failsWith(await silk(['rotate']), 2, /unknown subcommand 'keys rotate'/);
    failsWith(await silk(['new']), 2, /needs --out FILE/);
  });
});

function keyPath(file: string): unknown {
  return (JSON.parse(readFileSync(file, 'utf8')) as { path: unknown }).path;
}
