import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { toHex } from '../crypto/hash.js';
import { generateSigner } from '../crypto/p256.js';
import { isSilkError } from '../errors.js';
import { tempDir } from '../testing/fixtures.js';
import { describedPath, localNetworkDescription } from './network-description.js';
import { apiAddress, caFileFetch, networkFetch, peerApiUrl, readCaBundleFile } from './peer-api-address.js';
import { openTlsFixture, type TlsFixture } from './tls-fixtures.js';
import { allianceCaBundleFile } from './tls-pki.js';

describe("a network's addresses and what clients trust there", () => {
  let fx: TlsFixture;
  before(async () => {
    fx = await openTlsFixture(23_000);
  });
  after(() => {
    fx.cleanup();
  });

  it('names each peer and the API over https when their certificates exist, with the alliance bundle to trust', () => {
    const d = fx.description;
    for (const peer of d.peers) assert.equal(peerApiUrl(d, peer), `https://${peer.host}:${peer.port}`);
    assert.deepEqual(apiAddress(d), { apiUrl: `https://${d.api.host}:${d.api.port}`, apiCa: allianceCaBundleFile(d) });
  });

  it('names them over plain http on a network bootstrapped without TLS, and fetches with the global fetch', () => {
    const dir = tempDir('silk-plain-');
    try {
      const d = localNetworkDescription({ orgs: [{ name: 'Org1', adminKey: toHex(generateSigner().publicKey) }], chains: [{ name: 'trade', contracts: [{ name: 'basic', policy: "OR('Org1.peer')" }] }], basePort: 23_100, dataDir: dir.path });
      const peer = d.peers[0];
      assert.ok(peer !== undefined);
      assert.equal(peerApiUrl(d, peer), `http://127.0.0.1:${peer.port}`);
      assert.deepEqual(apiAddress(d), { apiUrl: `http://127.0.0.1:${d.api.port}` });
      assert.equal(networkFetch(d), globalThis.fetch);
    } finally {
      dir.cleanup();
    }
  });

  it('refuses a peer whose TLS files are only half there, naming the folder', () => {
    const peer = fx.description.peers[1];
    assert.ok(peer !== undefined);
    const key = join(describedPath(fx.description, peer.dataDir), 'tls', 'peer.key');
    const kept = readFileSync(key);
    rmSync(key);
    try {
      assert.throws(() => peerApiUrl(fx.description, peer), (e: unknown) => isSilkError(e, 'CONFIG_INVALID') && e.message.includes(join(describedPath(fx.description, peer.dataDir), 'tls')));
    } finally {
      writeFileSync(key, kept, { mode: 0o600 });
    }
  });

  it('reads the bundle once per text: its certificates only, one fetch (one connection pool) for the same bundle', () => {
    const file = allianceCaBundleFile(fx.description);
    const pem = readCaBundleFile(file);
    assert.match(pem, /^-----BEGIN CERTIFICATE-----/);
    assert.equal(pem.match(/BEGIN CERTIFICATE/g)?.length, fx.description.orgs.length);
    const copy = join(describedPath(fx.description, '.'), 'copy-of-bundle.crt');
    writeFileSync(copy, `a comment line\n${readFileSync(file, 'utf8')}`);
    assert.equal(caFileFetch(copy), caFileFetch(file), 'the same certificates, the same fetch');
    assert.equal(networkFetch(fx.description), caFileFetch(file));
  });

  it('says which bundle file could not be read, and refuses one that holds no certificate', () => {
    const missing = join(describedPath(fx.description, '.'), 'no-such-bundle.crt');
    assert.throws(() => readCaBundleFile(missing), (e: unknown) => isSilkError(e, 'CONFIG_INVALID') && e.message.includes(missing) && e.details['file'] === missing);
    assert.throws(() => caFileFetch(missing), (e: unknown) => isSilkError(e, 'CONFIG_INVALID'));
    const empty = join(describedPath(fx.description, '.'), 'empty-bundle.crt');
    writeFileSync(empty, 'not a certificate\n');
    assert.throws(() => readCaBundleFile(empty), (e: unknown) => isSilkError(e, 'INVALID_ARGUMENT'));
  });
});
