/**
 * Keystore files: round trips, and every way a file can be wrong (wrong password, altered
 * header or ciphertext, truncated, oversized scrypt parameters, unknown version) fails with a
 * clear message and leaves existing files as they were.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { toHex } from '../crypto/hash.js';
import { tempDir } from '../testing/fixtures.js';
import { DEFAULT_KEYSTORE_SCRYPT, isKeystoreError, keystoreInfo, publicKeyOfScalar, readKeystore, writeKeystore, type KeystoreFailure, type KeystoreSecret } from './keystore.js';
import { generateMnemonic, mnemonicToSeed } from './mnemonic.js';
import { masterKeyFromSeed } from './slip10.js';

/** Cheap parameters for tests; the CLI's default is asserted separately. */
const FAST = { N: 1024, r: 8, p: 1 } as const;
const PASSWORD = 'correct horse battery staple';
const PATH = "m/7777'/0'/1'/3'/0'";

function privateKeySecret(): KeystoreSecret & { kind: 'private-key' } {
  for (;;) {
    const bytes = new Uint8Array(randomBytes(32));
    try {
      return { kind: 'private-key', bytes, pubkey: publicKeyOfScalar(bytes), path: PATH };
    } catch {
      // A scalar ≥ n: astronomically rare; draw again.
    }
  }
}

async function rejectsWith(p: Promise<unknown> | (() => unknown), reason: KeystoreFailure, message: RegExp): Promise<void> {
  await assert.rejects(typeof p === 'function' ? () => Promise.resolve().then(p) : p, (e: unknown) => {
    assert.ok(isKeystoreError(e, reason), `expected reason ${reason}, got ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
}

function edit(file: string, change: (m: Record<string, unknown>) => void): void {
  const m = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  change(m);
  writeFileSync(file, JSON.stringify(m, null, 2));
}

describe('keystore files', () => {
  const dir = tempDir('silk-keystore-');
  after(() => {
    dir.cleanup();
  });
  let n = 0;
  const fresh = (): string => join(dir.path, `ks-${n++}.json`);

  it('the default scrypt cost is N=2^17, r=8, p=1', () => {
    assert.deepEqual(DEFAULT_KEYSTORE_SCRYPT, { N: 131072, r: 8, p: 1 });
  });

  it('round-trips a private key with its public key and path; the header reads without a password', async () => {
    const file = fresh();
    const secret = privateKeySecret();
    const created = new Date('2026-01-02T03:04:05.000Z');
    const header = await writeKeystore(file, secret, PASSWORD, { scrypt: FAST, created });
    assert.equal(header.created, created.toISOString());
    const info = keystoreInfo(file);
    assert.deepEqual(info, header);
    assert.equal(info.kind, 'private-key');
    assert.equal(info.pubkey, toHex(secret.pubkey));
    assert.equal(info.path, PATH);
    assert.deepEqual([info.N, info.r, info.p], [FAST.N, FAST.r, FAST.p]);
    const ks = await readKeystore(file, PASSWORD);
    assert.equal(ks.kind, 'private-key');
    assert.deepEqual(ks.secret, secret.bytes);
    assert.deepEqual(ks.pubkey, secret.pubkey);
    assert.equal(ks.path, PATH);
    if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir.path).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left behind');
    // The secret is not in the file in any plain form.
    assert.ok(!readFileSync(file, 'utf8').includes(toHex(secret.bytes)));
  });

  it('round-trips a mnemonic under its master public key; the password is NFKC-normalised', async () => {
    const file = fresh();
    const mnemonic = generateMnemonic();
    const pubkey = masterKeyFromSeed(mnemonicToSeed(mnemonic)).publicKey;
    await writeKeystore(file, { kind: 'mnemonic', mnemonic, pubkey, path: null }, 'Å', { scrypt: FAST });
    const ks = await readKeystore(file, 'A\u030a');
    assert.equal(ks.kind, 'mnemonic');
    assert.equal(ks.secret, mnemonic);
    assert.deepEqual(ks.pubkey, pubkey);
    assert.equal(ks.path, null);
    assert.ok(!readFileSync(file, 'utf8').includes(mnemonic.split(' ')[0] ?? '?'), 'no word of the mnemonic in the file');
  });

  it('refuses a public key that does not belong to the secret, an empty password and a bad path', async () => {
    const other = privateKeySecret();
    await rejectsWith(writeKeystore(fresh(), { ...privateKeySecret(), pubkey: other.pubkey }, PASSWORD, { scrypt: FAST }), 'invalid-secret', /does not belong to this private key/);
    const mnemonic = generateMnemonic();
    await rejectsWith(writeKeystore(fresh(), { kind: 'mnemonic', mnemonic, pubkey: other.pubkey, path: null }, PASSWORD, { scrypt: FAST }), 'invalid-secret', /not the master public key/);
    await rejectsWith(writeKeystore(fresh(), privateKeySecret(), '', { scrypt: FAST }), 'invalid-secret', /empty password/);
    await rejectsWith(writeKeystore(fresh(), { ...privateKeySecret(), path: "m/7777'/0/1'" }, PASSWORD, { scrypt: FAST }), 'invalid-secret', /not a hardened derivation path/);
  });

  it('a wrong password fails with "wrong password or altered file"', async () => {
    const file = fresh();
    await writeKeystore(file, privateKeySecret(), PASSWORD, { scrypt: FAST });
    await rejectsWith(readKeystore(file, 'Correct horse battery staple'), 'wrong-password', /wrong password or altered file \(AES-GCM cannot tell the two apart\)/);
  });

  it('any altered header field or ciphertext fails the same way (the header is the AAD)', async () => {
    const secret = privateKeySecret();
    const other = privateKeySecret();
    const changes: Record<string, (m: Record<string, unknown>) => void> = {
      pubkey: (m) => { m.pubkey = toHex(other.pubkey); },
      path: (m) => { m.path = "m/7777'/0'/1'/9'/0'"; },
      'path to null': (m) => { m.path = null; },
      created: (m) => { m.created = '2020-01-01T00:00:00.000Z'; },
      N: (m) => { m.N = 2048; },
      r: (m) => { m.r = 4; },
      ct: (m) => { const ct = m.ct as string; m.ct = `${ct.slice(0, 10)}${ct[10] === '0' ? '1' : '0'}${ct.slice(11)}`; },
    };
    for (const [what, change] of Object.entries(changes)) {
      const file = fresh();
      await writeKeystore(file, secret, PASSWORD, { scrypt: FAST });
      edit(file, change);
      await rejectsWith(readKeystore(file, PASSWORD), 'wrong-password', /wrong password or altered file/);
      assert.ok(what.length > 0);
    }
  });

  it('a truncated or non-JSON file is "not a keystore"', async () => {
    const file = fresh();
    await writeKeystore(file, privateKeySecret(), PASSWORD, { scrypt: FAST });
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, text.length >> 1));
    await rejectsWith(() => keystoreInfo(file), 'malformed', /not a keystore: not valid JSON \(truncated or damaged\?\)/);
    await rejectsWith(readKeystore(file, PASSWORD), 'malformed', /not valid JSON/);
    writeFileSync(file, '');
    await rejectsWith(() => keystoreInfo(file), 'malformed', /not valid JSON/);
    writeFileSync(file, '[1,2]');
    await rejectsWith(() => keystoreInfo(file), 'malformed', /expected a JSON object/);
    writeFileSync(file, ' '.repeat(100_000));
    await rejectsWith(() => keystoreInfo(file), 'malformed', /100000 bytes, a keystore is under/);
  });

  it('refuses scrypt parameters above the caps before allocating anything', async () => {
    const caps: [string, (m: Record<string, unknown>) => void, RegExp][] = [
      ['N', (m) => { m.N = 2 ** 21; }, /refusing scrypt N=2097152 above the cap 1048576/],
      ['huge N', (m) => { m.N = 2 ** 60; }, /refusing scrypt N=1152921504606847000 above the cap/],
      ['r', (m) => { m.r = 17; }, /refusing scrypt r=17 above the cap 16/],
      ['p', (m) => { m.p = 5; }, /refusing scrypt p=5 above the cap 4/],
      ['memory', (m) => { m.N = 2 ** 20; m.r = 16; }, /refusing scrypt N=1048576, r=16: it needs 2048 MiB, above the cap 1024 MiB/],
    ];
    for (const [, change, message] of caps) {
      const file = fresh();
      await writeKeystore(file, privateKeySecret(), PASSWORD, { scrypt: FAST });
      edit(file, change);
      const started = performance.now();
      await rejectsWith(() => keystoreInfo(file), 'scrypt-cap', message);
      await rejectsWith(readKeystore(file, PASSWORD), 'scrypt-cap', message);
      assert.ok(performance.now() - started < 500, 'refused without running scrypt');
    }
    await rejectsWith(writeKeystore(fresh(), privateKeySecret(), PASSWORD, { scrypt: { N: 2 ** 21, r: 8, p: 1 } }), 'scrypt-cap', /refusing scrypt N=2097152/);
    const file = fresh();
    await writeKeystore(file, privateKeySecret(), PASSWORD, { scrypt: FAST });
    edit(file, (m) => { m.N = 1000; });
    await rejectsWith(() => keystoreInfo(file), 'malformed', /N must be a power of two/);
    edit(file, (m) => { m.N = '1024'; });
    await rejectsWith(() => keystoreInfo(file), 'malformed', /field 'N' must be an integer/);
  });

  it('refuses an unknown version, unknown or missing fields and wrong sizes', async () => {
    const cases: [(m: Record<string, unknown>) => void, KeystoreFailure, RegExp][] = [
      [(m) => { m.v = 2; }, 'version', /unsupported keystore version 2 \(this build reads version 1\)/],
      [(m) => { delete m.v; }, 'version', /unsupported keystore version missing/],
      [(m) => { m.extra = 1; }, 'malformed', /unknown field 'extra'/],
      [(m) => { delete m.salt; }, 'malformed', /missing field 'salt'/],
      [(m) => { m.kind = 'seed'; }, 'malformed', /unknown kind "seed"/],
      [(m) => { m.kdf = 'pbkdf2'; }, 'malformed', /unsupported kdf "pbkdf2"/],
      [(m) => { m.nonce = '00'; }, 'malformed', /'nonce' must be lower-case hex of 12 bytes/],
      [(m) => { m.ct = (m.ct as string).slice(2); }, 'malformed', /'ct' must be lower-case hex of 48 bytes/],
      [(m) => { m.pubkey = `04${(m.pubkey as string).slice(2)}`; }, 'malformed', /compressed P-256 point/],
      [(m) => { m.path = 'm/1/2'; }, 'malformed', /hardened path/],
    ];
    for (const [change, reason, message] of cases) {
      const file = fresh();
      await writeKeystore(file, privateKeySecret(), PASSWORD, { scrypt: FAST });
      edit(file, change);
      await rejectsWith(() => keystoreInfo(file), reason, message);
    }
    await rejectsWith(() => keystoreInfo(join(dir.path, 'missing.json')), 'unreadable', /cannot read keystore .*: no such file/);
  });

  it('never overwrites an existing file unless forced; a refused write leaves it byte for byte', async () => {
    const file = fresh();
    await writeKeystore(file, privateKeySecret(), PASSWORD, { scrypt: FAST });
    const before = readFileSync(file);
    await rejectsWith(writeKeystore(file, privateKeySecret(), PASSWORD, { scrypt: FAST }), 'exists', /already exists; it was left as it was/);
    assert.deepEqual(readFileSync(file), before);
    writeFileSync(join(dir.path, 'plain.txt'), 'not a keystore');
    await rejectsWith(writeKeystore(join(dir.path, 'plain.txt'), privateKeySecret(), PASSWORD, { scrypt: FAST }), 'exists', /already exists/);
    assert.equal(readFileSync(join(dir.path, 'plain.txt'), 'utf8'), 'not a keystore');
    const replacement = privateKeySecret();
    await writeKeystore(file, replacement, PASSWORD, { scrypt: FAST, force: true });
    assert.deepEqual((await readKeystore(file, PASSWORD)).pubkey, replacement.pubkey);
    if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir.path).filter((f) => f.endsWith('.tmp')), []);
  });
});
