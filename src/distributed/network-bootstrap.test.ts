import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BasicContract } from '../contracts/basic/basic-contract.js';
import { toHex } from '../crypto/hash.js';
import { generateSigner, signerFromPem, verifyP256 } from '../crypto/p256.js';
import type { ChainConfig } from '../ledger/chain-config.js';
import { decodeTransaction } from '../ledger/transaction.js';
import { tempDir } from '../testing/fixtures.js';
import { bootstrapNetwork, genesisFile, ordererKeyFile, peerKeyFile } from './network-bootstrap.js';
import { describedPath, localNetworkDescription, type NetworkDescription } from './network-description.js';
import { tlsMembershipOfNetwork, identifyPeerCertificate } from './tls-pki.js';

function twoOrgs(dataDir: string): NetworkDescription {
  return localNetworkDescription({
    orgs: [{ name: 'Org1' }, { name: 'Org2' }],
    chains: [{ name: 'trade', contracts: [{ name: 'basic', policy: "OR('Org1.peer', 'Org2.peer')" }] }],
    basePort: 31_000,
    dataDir,
  });
}

/** Every file under a folder with its bytes, for comparing two states of a folder. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.set(path, `${statSync(path).mtimeMs}:${readFileSync(path, 'base64')}`);
    }
  };
  walk(dir);
  return files;
}

describe('bootstrapNetwork', () => {
  const dir = tempDir('silk-bootstrap-');
  after(() => { dir.cleanup(); });
  // PEM org keys, created by the bootstrap (the description points at where they live).
  const description: NetworkDescription = { ...twoOrgs(dir.path), orgs: twoOrgs(dir.path).orgs.map((o) => ({ name: o.name, adminKeystore: `keys/${o.name}/admin.pem`, tlsCa: o.tlsCa })) };

  it('writes process keys, genesis envelopes listing every orderer signed by every member admin, and the TLS files', async () => {
    const result = await bootstrapNetwork(description, { contracts: [new BasicContract()], keys: { kind: 'pem' } });
    assert.equal(result.created, true);
    for (const p of description.peers) {
      const file = peerKeyFile(description, p);
      assert.equal(statSync(file).mode & 0o777, 0o600, `${file} is private`);
      assert.equal(toHex(signerFromPem(readFileSync(file, 'utf8')).publicKey), result.peerKeys[p.name]);
    }
    const ordererKeys = description.orderers.map((o) => toHex(signerFromPem(readFileSync(ordererKeyFile(description, o), 'utf8')).publicKey));
    assert.equal(ordererKeys.length, 2);
    assert.equal(statSync(ordererKeyFile(description, description.orderers[0]!)).mode & 0o777, 0o600);

    const envelope = readFileSync(genesisFile(description, 'trade'));
    const tx = decodeTransaction(envelope);
    const config = tx.proposal.args as unknown as ChainConfig;
    assert.deepEqual([...config.orderers].sort(), [...ordererKeys].sort(), 'the genesis configuration lists every orderer');
    assert.deepEqual(Object.keys(config.orgs).sort(), ['Org1', 'Org2']);
    const peerMembers = Object.values(config.orgs).flatMap((o) => o.members.filter((m) => m.role === 'peer').map((m) => m.key));
    assert.deepEqual(peerMembers.sort(), Object.values(result.peerKeys).sort(), "each peer's own key is its configured key");
    assert.equal(config.contracts.basic?.version, new BasicContract().version);
    assert.ok(config.contracts.identity !== undefined, 'the identity contract is on every chain');
    const admins = Object.values(config.orgs).map((o) => o.members.find((m) => m.role === 'admin')?.key);
    assert.equal(tx.envelope.endorsements.length, 2);
    for (const e of tx.envelope.endorsements) {
      assert.ok(admins.includes(toHex(e.endorser)), 'signed by a member admin');
      assert.ok(verifyP256(e.endorser, tx.envelope.result, e.signature));
    }

    // The TLS certificates chain to CAs keyed by the admin keys of the configuration.
    const adminKeys = Object.fromEntries(Object.entries(config.orgs).map(([org, o]) => [org, o.members.filter((m) => m.role === 'admin').map((m) => m.key)]));
    const membership = tlsMembershipOfNetwork(description, adminKeys);
    const peer = description.peers[0]!;
    const cert = readFileSync(join(describedPath(description, peer.dataDir), 'tls', 'peer.crt'), 'utf8');
    assert.deepEqual(identifyPeerCertificate(cert, membership), { org: peer.org, process: peer.name, role: 'peer' });
  });

  it('finds a second call done and changes nothing', async () => {
    const before = snapshot(dir.path);
    const again = await bootstrapNetwork(description, { contracts: [new BasicContract()], keys: { kind: 'pem' } });
    assert.equal(again.created, false);
    assert.deepEqual(snapshot(dir.path), before);
  });

  it('refuses an admin key that is not the one the description lists, and a chain contract not installed', async () => {
    const other = tempDir('silk-bootstrap-');
    try {
      const wrongKey = { ...twoOrgs(other.path), orgs: twoOrgs(other.path).orgs.map((o) => ({ name: o.name, adminKey: toHex(generateSigner().publicKey), tlsCa: o.tlsCa })) };
      await assert.rejects(bootstrapNetwork(wrongKey, { contracts: [new BasicContract()], keys: { kind: 'pem' } }), (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID');
      const noBasic = { ...twoOrgs(other.path), orgs: twoOrgs(other.path).orgs.map((o) => ({ name: o.name, adminKeystore: 'x', tlsCa: o.tlsCa })) };
      await assert.rejects(bootstrapNetwork(noBasic, { contracts: [], keys: { kind: 'pem' } }), (e: Error & { code?: string }) => e.code === 'UNKNOWN_CONTRACT' && /basic/.test(e.message));
      assert.equal(existsSync(genesisFile(noBasic, 'trade')), false);
    } finally {
      other.cleanup();
    }
  });
});
