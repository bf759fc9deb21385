/** Test fixtures for traceability: a network whose `product` chain runs the `epcis` contract, and the GS1 example documents. */
import { readdirSync, readFileSync } from 'node:fs';
import { BasicContract } from '../contracts/basic/basic-contract.js';
import { EpcisContract } from '../contracts/traceability/epcis-contract.js';
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
  return openTestNetwork(EPCIS_SPEC, undefined, [new BasicContract(), new EpcisContract()]);
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
