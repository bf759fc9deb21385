/** A test network served by a real API server on a free loopback port. */
import assert from 'node:assert/strict';
import { embeddedApiBackend, type ApiBackend } from '../api/backend.js';
import { createApiServer, type ApiServer, type ApiServerOptions } from '../api/server.js';
import type { AdmissionOptions } from '../gateway/admission.js';
import type { EmbeddedNetwork, NetworkSpec } from '../network/embedded-network.js';
import type { Contract } from '../contracts/framework/contract.js';
import { SilkError } from '../errors.js';
import { openTestNetwork } from './fixtures.js';

/** A running test API. */
export interface TestApi {
  readonly net: EmbeddedNetwork;
  readonly api: ApiServer;
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  close(): Promise<void>;
}

/** Options of {@link openTestApi}. */
export interface TestApiOptions {
  readonly spec?: NetworkSpec;
  /** Contracts installed (default `basic`). */
  readonly contracts?: readonly Contract[];
  /** The org whose peer and gateway the API uses (default Org1). */
  readonly org?: string;
  /** Serve demo routes for these identities (default: none, as a production node). */
  readonly demoIdentities?: readonly { readonly org: string; readonly name: string }[];
  /** The gateways' admission control (default: the defaults). */
  readonly admission?: AdmissionOptions;
  /** Server options, or a function of the backend giving them (for plugins that need it, like metrics). */
  readonly server?: Omit<ApiServerOptions, 'backend'> | ((backend: ApiBackend) => Omit<ApiServerOptions, 'backend'>);
}

/**
 * Opens the three-org test network (or `spec`) and serves its API on 127.0.0.1, port 0.
 * @example const t = await openTestApi(); try { await fetch(`${t.url}/api/health`) } finally { await t.close() }
 */
export async function openTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const net = await openTestNetwork(options);
  const backend = embeddedApiBackend(net, { org: options.org ?? 'Org1', ...(options.demoIdentities === undefined ? {} : { demoIdentities: options.demoIdentities }) });
  const server = typeof options.server === 'function' ? options.server(backend) : options.server;
  const api = await createApiServer({ backend, rateLimitPerMinute: 0, ...server });
  const url = await api.listen({ port: 0 });
  return {
    net,
    api,
    url,
    async close() {
      await api.close();
      await net.close();
      net.cleanupDir();
    },
  };
}

/**
 * Asserts `promise` rejects with a SilkError of `code` (the error a client of the API gets) and returns it.
 * @example const e = await rejectsWith(client.submit(params), 'DUPLICATE_TXID')
 */
export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<SilkError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof SilkError, `expected a SilkError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}
