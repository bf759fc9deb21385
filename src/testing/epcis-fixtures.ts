/** Test fixtures for traceability: a network whose `product` chain runs the `epcis` contract, and the GS1 example documents. */
import { readdirSync, readFileSync } from 'node:fs';
import { BasicContract } from '../contracts/basic/basic-contract.js';
import { EpcisContract } from '../contracts/traceability/epcis-contract.js';
import { toHex } from '../crypto/hash.js';
import type { Signer } from '../crypto/p256.js';
import { signCertificate } from '../identity/identity-certificate.js';
import { DEFAULT_FUNCTIONS } from '../identity/identity-record.js';
import type { EmbeddedNetwork, NetworkSpec } from '../network/embedded-network.js';
import { openTestApi, type TestApi } from './api-fixtures.js';
import { openTestNetwork } from './fixtures.js';

/** Three orgs; chain `product` runs `epcis` (and `basic`), endorsed by any one org's peer. */
export const EPCIS_SPEC: NetworkSpec = {
  orgs: [{ name: 'Org1', users: ['alice'] }, { name: 'Org2', users: ['bob'] }, { name: 'Org3' }],
  chains: [
    {
      name: 'product',
      contracts: [
        { name: 'basic', policy: "OR('Org1.peer', 'Org2.peer', 'Org3.peer')" },
        { name: 'epcis', policy: "OR('Org1.peer', 'Org2.peer', 'Org3.peer')" },
      ],
      batch: { maxTxs: 100, timeoutMs: 10 },
    },
  ],
};

/** Opens {@link EPCIS_SPEC} in a temporary folder. */
export function openEpcisTestNetwork(): Promise<EmbeddedNetwork & { cleanupDir(): void }> {
  return openTestNetwork({ spec: EPCIS_SPEC, contracts: [new BasicContract(), new EpcisContract()] });
}

/** {@link openEpcisTestNetwork} served by a real API server (Org1's node) on 127.0.0.1. */
export function openEpcisTestApi(options: { readonly demoIdentities?: readonly { readonly org: string; readonly name: string }[] } = {}): Promise<TestApi> {
  return openTestApi({ spec: EPCIS_SPEC, contracts: [new BasicContract(), new EpcisContract()], ...options });
}

/** The folder of the GS1 EPCIS 2.0 example documents. */
export const EPCIS_EXAMPLES_DIR = new URL('../../test/vectors/epcis-examples/', import.meta.url);

/** The example that does not conform to the schema (issue 6). */
export const NONCONFORMING_EXAMPLE = 'Example-TransactionEvents-2020_07_03y.jsonld';

/** Every example document that validates, by file name. */
export function conformingEpcisExamples(): { readonly name: string; readonly text: string }[] {
  return readdirSync(EPCIS_EXAMPLES_DIR)
    .filter((f) => f.endsWith('.jsonld') && f !== NONCONFORMING_EXAMPLE)
    .sort()
    .map((name) => ({ name, text: readFileSync(new URL(name, EPCIS_EXAMPLES_DIR), 'utf8') }));
}

/** The vendored GS1 context every fixture document below uses. */
const GS1_CONTEXT = 'https://gs1.github.io/EPCIS/epcis-context-simple.jsonld';

/** An EPCISDocument of `events` (with inline prefixes `extra` when given). */
export function epcisDocument(events: readonly Record<string, unknown>[], extra: Readonly<Record<string, string>> = {}): Record<string, unknown> {
  return {
    '@context': Object.keys(extra).length === 0 ? [GS1_CONTEXT] : [GS1_CONTEXT, extra],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: '2024-01-01T00:00:00Z',
    epcisBody: { eventList: events },
  };
}

/**
 * A lot's story: the commissioning of two items whose ILMD gives lot `lot` (GTIN 04012345123456,
 * company prefix 4012345), and a shipping of a quantity of the lot class. Times start at `year`.
 */
export function lotEvents(lot: string, year: number, lotMember = 'cbvmda:lotNumber'): Record<string, unknown>[] {
  return [
    {
      type: 'ObjectEvent', action: 'ADD', bizStep: 'commissioning', disposition: 'active',
      epcList: [`urn:epc:id:sgtin:4012345.012345.${lot}-1`, `urn:epc:id:sgtin:4012345.012345.${lot}-2`],
      eventTime: `${year}-03-01T08:00:00.000+01:00`, eventTimeZoneOffset: '+01:00',
      readPoint: { id: 'urn:epc:id:sgln:4012345.00001.0' },
      ilmd: { [lotMember]: lot, 'cbvmda:itemExpirationDate': `${year + 1}-03-01` },
    },
    {
      type: 'ObjectEvent', action: 'OBSERVE', bizStep: 'shipping', disposition: 'in_transit',
      epcList: [],
      quantityList: [{ epcClass: `urn:epc:class:lgtin:4012345.012345.${lot}`, quantity: 20, uom: 'KGM' }],
      eventTime: `${year}-03-02T08:00:00.000+01:00`, eventTimeZoneOffset: '+01:00',
    },
  ];
}

/** An inspection with temperature readings (fresh times from `minute`, so each call hashes anew). */
export function sensorEvent(minute: number, celsius = 4.5): Record<string, unknown> {
  const time = `2030-05-01T10:${String(minute % 60).padStart(2, '0')}:00.000+00:00`;
  return {
    type: 'ObjectEvent', action: 'OBSERVE', bizStep: 'inspecting',
    epcList: [`urn:epc:id:sgtin:4012345.011111.${9000 + minute}`],
    eventTime: time, eventTimeZoneOffset: '+00:00',
    sensorElementList: [{ sensorMetadata: { time, deviceID: 'urn:epc:id:giai:4000001.111' }, sensorReport: [{ type: 'Temperature', value: celsius, uom: 'CEL' }] }],
  };
}

/**
 * Registers `key` on `chain` as one of `org`'s keys (default a device: function `device`, kind
 * `device`), certified by the org admin.
 */
export async function registerOrgKey(net: EmbeddedNetwork, chain: string, org: string, key: Signer, fn = 'device', level = 1): Promise<void> {
  const admin = net.identity(org);
  const { bytes, signature } = signCertificate({ v: 1, chain, org, key: key.publicKey, parent: admin.publicKey, function: fn, level, path: `m/7777'/0'/${DEFAULT_FUNCTIONS[fn] ?? 1}'/${level}'/${registered++}'`, kind: fn === 'device' ? 'device' : 'member', notBefore: 0, notAfter: Date.now() + 365 * 86_400_000 }, admin);
  const r = await net.gateway(org).submit({ chain, contract: 'identity', fn: 'register', args: { certificate: toHex(bytes), signature: toHex(signature) }, endorsingOrgs: [org] }, admin);
  if (r.code !== 'VALID') throw new Error(`registering ${toHex(key.publicKey)} committed ${r.code}`);
}
let registered = 0;
