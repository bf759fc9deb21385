import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { toHex } from '../crypto/hash.js';
import { generateSigner } from '../crypto/p256.js';
import { isSilkError } from '../errors.js';
import { asyncSignerFromSigner } from '../keys/async-signer.js';
import { openTlsFixture, type TlsFixture } from './tls-fixtures.js';
import {
  certificatePublicKey, createTlsMembership, identifyPeerCertificate, issueOrgCa, issueProcessCertificate, registeredProcesses, writeNetworkCertificates,
  type OrgCa,
} from './tls-pki.js';

const DAY = 86_400_000;

function refusedFor(reason: string): (e: unknown) => boolean {
  return (e) => {
    assert.ok(isSilkError(e, 'UNTRUSTED_CERTIFICATE'), `expected UNTRUSTED_CERTIFICATE, got ${String(e)}`);
    assert.equal(e.details.reason, reason, e.message);
    return true;
  };
}

describe('TLS PKI', () => {
  let fx: TlsFixture;
  let org1Ca: OrgCa;
  before(async () => {
    fx = await openTlsFixture();
    const pem = readFileSync(fx.files.orgCaFiles.Org1 as string, 'utf8');
    org1Ca = { org: 'Org1', certificatePem: pem, certificate: new X509Certificate(pem), signer: fx.admins.Org1 as OrgCa['signer'] };
  });
  after(() => { fx.cleanup(); });

  it('makes each org CA a self-signed certificate keyed by the org admin key of the chain configuration', () => {
    for (const org of ['Org1', 'Org2']) {
      const ca = new X509Certificate(readFileSync(fx.files.orgCaFiles[org] as string));
      assert.ok(ca.ca);
      assert.equal(ca.publicKey.export({ format: 'der', type: 'spki' }).length, 91, 'an uncompressed point: Go (etcd) refuses compressed ones');
      assert.ok(ca.checkIssued(ca) && ca.verify(ca.publicKey));
      const admin = fx.config.orgs[org]?.members.find((m) => m.role === 'admin')?.key;
      assert.equal(toHex(certificatePublicKey(ca) as Uint8Array), admin);
      assert.match(ca.subject, new RegExp(`^O=${org}$`, 'm'));
    }
  });

  it('issues per-process certificates that node:crypto parses and verifies against their org CA, with SANs, EKUs, O/OU/CN', async () => {
    const peer = fx.files.processes['peer0.org1'];
    assert.ok(peer?.etcdClient !== undefined);
    const cert = new X509Certificate(readFileSync(peer.tls.certFile));
    const ca = new X509Certificate(readFileSync(fx.files.orgCaFiles.Org1 as string));
    assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey));
    assert.ok(!cert.verify(new X509Certificate(readFileSync(fx.files.orgCaFiles.Org2 as string)).publicKey));
    assert.equal(cert.ca, false);
    assert.equal(cert.subject, 'O=Org1\nOU=peer\nCN=peer0.org1');
    assert.equal(cert.subjectAltName, 'IP Address:127.0.0.1');
    assert.deepEqual([...cert.keyUsage].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    assert.ok(new Date(cert.validTo).getTime() > Date.now() + 300 * DAY);
    assert.ok(cert.checkPrivateKey(createPrivateKey(readFileSync(peer.tls.keyFile, 'utf8'))));
    assert.equal(new X509Certificate(readFileSync(peer.etcdClient.certFile)).subject, 'O=Org1\nOU=etcd-client\nCN=peer0.org1');
    const dns = await issueProcessCertificate({ ca: org1Ca, process: 'peer0.org1', role: 'peer', hosts: ['peer0.org1.example.com'] });
    assert.equal(dns.certificate.subjectAltName, 'DNS:peer0.org1.example.com');
  });

  it('writes private keys 0600, the alliance bundle and each process’s CA bundle with every org CA', () => {
    const bundle = readFileSync(fx.files.caBundleFile, 'utf8');
    assert.equal(bundle.match(/BEGIN CERTIFICATE/g)?.length, 2);
    for (const [name, p] of Object.entries(fx.files.processes)) {
      assert.equal(statSync(p.tls.keyFile).mode & 0o777, 0o600, name);
      if (p.etcdClient) assert.equal(statSync(p.etcdClient.keyFile).mode & 0o777, 0o600, name);
      assert.equal(readFileSync(p.tls.caFile, 'utf8'), bundle);
    }
    assert.deepEqual(Object.keys(fx.files.processes).sort(), ['api', 'etcd-1', 'etcd-2', 'etcd-3', 'orderer0', 'orderer1', 'peer0.org1', 'peer0.org2']);
    assert.equal(fx.files.processes['etcd-2']?.role, 'etcd');
  });

  it('keeps a valid org CA on a second run, and refuses a signer that is not the listed admin key', async () => {
    const before = readFileSync(fx.files.orgCaFiles.Org1 as string, 'utf8');
    const again = await writeNetworkCertificates(fx.description, { Org1: asyncSignerFromSigner(fx.admins.Org1 as never), Org2: fx.admins.Org2 as never });
    assert.equal(readFileSync(again.orgCaFiles.Org1 as string, 'utf8'), before);
    await assert.rejects(writeNetworkCertificates(fx.description, { Org1: generateSigner(), Org2: fx.admins.Org2 as never }), (e) => isSilkError(e, 'CONFIG_INVALID') && /not its admin key/.test(e.message));
    await assert.rejects(writeNetworkCertificates(fx.description, { Org1: fx.admins.Org1 as never }), (e) => isSilkError(e, 'INVALID_ARGUMENT') && /Org2/.test(e.message));
  });

  it('identifies a registered process by org, name and role', () => {
    const cert = readFileSync(fx.files.processes['orderer1']?.tls.certFile as string, 'utf8');
    assert.deepEqual(identifyPeerCertificate(cert, fx.membership), { org: 'Org2', process: 'orderer1', role: 'orderer' });
    const client = readFileSync(fx.files.processes['orderer1']?.etcdClient?.certFile as string, 'utf8');
    assert.deepEqual(identifyPeerCertificate(client, fx.membership, { roles: ['etcd-client'], usage: 'client' }), { org: 'Org2', process: 'orderer1', role: 'etcd-client' });
  });

  it('refuses a certificate from a non-member CA, a CA not keyed by the org admin, an expired one, another role, an unregistered process', async () => {
    const outsider = await issueOrgCa({ org: 'Org3', signer: generateSigner() });
    const fromOutsider = await issueProcessCertificate({ ca: outsider, process: 'peer0.org1', role: 'peer', hosts: ['127.0.0.1'] });
    assert.throws(() => identifyPeerCertificate(fromOutsider.certificatePem, fx.membership), refusedFor('unknown-issuer'));

    // A CA named for Org1, listed as Org1's CA, but whose key is not Org1's admin key.
    const impostor = await issueOrgCa({ org: 'Org1', signer: generateSigner() });
    const tampered = createTlsMembership({
      caCertificates: { Org1: impostor.certificatePem, Org2: readFileSync(fx.files.orgCaFiles.Org2 as string, 'utf8') },
      adminKeys: { Org1: [toHex(fx.admins.Org1!.publicKey)], Org2: [toHex(fx.admins.Org2!.publicKey)] },
      processes: registeredProcesses(fx.description),
    });
    const fromImpostor = await issueProcessCertificate({ ca: impostor, process: 'peer0.org1', role: 'peer', hosts: ['127.0.0.1'] });
    assert.throws(() => identifyPeerCertificate(fromImpostor.certificatePem, tampered), refusedFor('ca-not-admin-key'));

    const expired = await issueProcessCertificate({ ca: org1Ca, process: 'peer0.org1', role: 'peer', hosts: ['127.0.0.1'], notBefore: new Date(Date.now() - 3 * DAY), notAfter: new Date(Date.now() - DAY) });
    assert.throws(() => identifyPeerCertificate(expired.certificatePem, fx.membership), refusedFor('expired'));
    const fresh = await issueProcessCertificate({ ca: org1Ca, process: 'peer0.org1', role: 'peer', hosts: ['127.0.0.1'] });
    assert.throws(() => identifyPeerCertificate(fresh.certificatePem, fx.membership, { now: new Date(Date.now() + 400 * DAY) }), refusedFor('expired'));

    const asOrderer = await issueProcessCertificate({ ca: org1Ca, process: 'peer0.org1', role: 'orderer', hosts: ['127.0.0.1'] });
    assert.throws(() => identifyPeerCertificate(asOrderer.certificatePem, fx.membership), refusedFor('wrong-role'));
    assert.throws(() => identifyPeerCertificate(fresh.certificatePem, fx.membership, { roles: ['orderer'] }), refusedFor('wrong-role'));
    const stranger = await issueProcessCertificate({ ca: org1Ca, process: 'peer7.org1', role: 'peer', hosts: ['127.0.0.1'] });
    assert.throws(() => identifyPeerCertificate(stranger.certificatePem, fx.membership), refusedFor('unregistered'));
    // Org1's CA cannot vouch for Org2's processes.
    const crossOrg = await issueProcessCertificate({ ca: org1Ca, process: 'peer0.org2', role: 'peer', hosts: ['127.0.0.1'] });
    assert.throws(() => identifyPeerCertificate(crossOrg.certificatePem, fx.membership), refusedFor('unregistered'));
    assert.throws(() => identifyPeerCertificate('not a certificate', fx.membership), refusedFor('malformed'));
  });

  it('checks its inputs', async () => {
    await assert.rejects(issueOrgCa({ org: 'bad org', signer: generateSigner() }), (e) => isSilkError(e, 'INVALID_ARGUMENT'));
    await assert.rejects(issueProcessCertificate({ ca: org1Ca, process: 'p', role: 'admin' as never, hosts: ['127.0.0.1'] }), (e) => isSilkError(e, 'INVALID_ARGUMENT') && /role/.test(e.message));
    await assert.rejects(issueProcessCertificate({ ca: org1Ca, process: 'p', role: 'peer', hosts: [] }), (e) => isSilkError(e, 'INVALID_ARGUMENT'));
    await assert.rejects(issueProcessCertificate({ ca: org1Ca, process: 'p', role: 'peer', hosts: ['bad host'] }), (e) => isSilkError(e, 'INVALID_ARGUMENT'));
    await assert.rejects(issueOrgCa({ org: 'Org1', signer: generateSigner(), notBefore: new Date(2030, 0, 1), notAfter: new Date(2029, 0, 1) }), (e) => isSilkError(e, 'INVALID_ARGUMENT'));
  });
});
