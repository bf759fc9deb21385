/**
 * Test fixture of distributed mode's PKI: a two-org loopback description with real admin keys, the
 * chain configuration built from them (as the embedded network builds it), every certificate
 * written under a temporary data folder, and the membership a TLS endpoint checks against.
 */
import { toHex } from '../crypto/hash.js';
import { generateSigner, type Signer } from '../crypto/p256.js';
import type { ChainConfig } from '../ledger/chain-config.js';
import { chainConfigFromSpec, type ChainSpec, type NetworkSpec } from '../network/embedded-network.js';
import { tempDir } from '../testing/fixtures.js';
import { localNetworkDescription, type NetworkDescription } from './network-description.js';
import { adminKeysOfChains, tlsMembershipOfNetwork, writeNetworkCertificates, type NetworkCertificateFiles, type TlsMembership } from './tls-pki.js';

/** What {@link openTlsFixture} sets up. */
export interface TlsFixture {
  readonly description: NetworkDescription;
  readonly admins: Readonly<Record<string, Signer>>;
  readonly config: ChainConfig;
  readonly files: NetworkCertificateFiles;
  readonly membership: TlsMembership;
  cleanup(): void;
}

const CHAIN: ChainSpec = { name: 'trade', contracts: [{ name: 'basic', policy: "OR('Org1.peer', 'Org2.peer')" }] };

/** Two orgs (Org1, Org2), one chain, certificates written; `basePort` only names addresses. */
export async function openTlsFixture(basePort = 21_000): Promise<TlsFixture> {
  const dir = tempDir('silk-tls-');
  const admins: Record<string, Signer> = { Org1: generateSigner(), Org2: generateSigner() };
  const spec: NetworkSpec = { orgs: [{ name: 'Org1' }, { name: 'Org2' }], chains: [CHAIN] };
  const others = new Map<string, Signer>();
  const keyOf = (org: string, name: string): Signer => {
    if (name === 'admin') return admins[org] as Signer;
    let s = others.get(`${org}/${name}`);
    if (s === undefined) others.set(`${org}/${name}`, (s = generateSigner()));
    return s;
  };
  const config = chainConfigFromSpec(spec, CHAIN, keyOf, [generateSigner().publicKey]);
  const description = localNetworkDescription({
    orgs: Object.entries(admins).map(([name, s]) => ({ name, adminKey: toHex(s.publicKey) })),
    chains: [CHAIN], basePort, dataDir: dir.path,
  });
  const files = await writeNetworkCertificates(description, admins);
  const membership = tlsMembershipOfNetwork(description, adminKeysOfChains([config]));
  return { description, admins, config, files, membership, cleanup: () => { dir.cleanup(); } };
}
