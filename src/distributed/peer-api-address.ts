/**
 * Where clients reach the API of a described peer, and the description's `api` address, and what
 * they trust there. A peer with its TLS certificate (the bootstrap writes `tls/peer.crt` under its
 * data folder) serves its API over HTTPS on its own port, with that certificate (issued by its
 * org's CA, naming its host); the `api` address serves HTTPS with the `api` certificate. Clients
 * trust the alliance's CA bundle, `<dataDir>/tls/alliance-ca.crt`. A network bootstrapped without
 * TLS serves plain HTTP. The launcher, the membership commands, the ledger check, the load client,
 * the soak and the bench reach the network's addresses, and read the bundle, through this module.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SilkError } from '../errors.js';
import { caBundle, caFetch } from '../sdk/ca-fetch.js';
import type { FetchFunction } from '../sdk/http-transport.js';
import { describedPath, urlHost, type DescribedPeer, type NetworkDescription } from './network-description.js';
import { allianceCaBundleFile, processTlsFiles } from './tls-pki.js';

/**
 * The base URL of a described peer's API: `https://host:port` when the peer has its TLS
 * certificate, else `http://host:port`.
 * @throws SilkError CONFIG_INVALID when only some of the peer's TLS files exist
 * @example await fetch(`${peerApiUrl(description, peer)}/api/ready`)
 */
export function peerApiUrl(description: NetworkDescription, peer: Pick<DescribedPeer, 'host' | 'port' | 'dataDir'>): string {
  const tls = processTlsFiles(describedPath(description, peer.dataDir), 'peer') !== undefined;
  return `${tls ? 'https' : 'http'}://${urlHost(peer.host)}:${peer.port}`;
}

/**
 * The API's address as its serving peer serves it: HTTPS with the `api` certificate when the
 * bootstrap wrote it (then with the alliance's CA bundle that clients trust), else plain HTTP.
 * @throws SilkError CONFIG_INVALID when only some of the API's TLS files exist
 */
export function apiAddress(d: NetworkDescription): { apiUrl: string; apiCa?: string } {
  const https = processTlsFiles(describedPath(d, d.api.dataDir), 'api') !== undefined;
  const apiUrl = `${https ? 'https' : 'http'}://${urlHost(d.api.host)}:${d.api.port}`;
  return https ? { apiUrl, apiCa: allianceCaBundleFile(d) } : { apiUrl };
}

/** One fetch (and so one pool of kept-alive connections) per CA bundle text. */
const fetches = new Map<string, FetchFunction>();

/**
 * The `fetch` for a network's https addresses (its peers' ports and the API address): trusting
 * only the alliance's CA bundle when the network has one, else the global `fetch`.
 * @throws SilkError CONFIG_INVALID when the bundle cannot be read; INVALID_ARGUMENT when it holds no certificate
 * @example const fetch = networkFetch(description); await fetch(`${peerApiUrl(description, peer)}/api/health`)
 */
export function networkFetch(description: NetworkDescription): FetchFunction {
  const file = allianceCaBundleFile(description);
  return existsSync(file) ? caFileFetch(file) : globalThis.fetch;
}

/**
 * The CA bundle in `file` (`networkUp`'s `apiCa`, the alliance's bundle), as the SDK's `connect({ ca })`
 * and {@link caFetch} take it: its certificates only, checked.
 * @throws SilkError CONFIG_INVALID when the file cannot be read; INVALID_ARGUMENT when it holds no certificate
 * @example connect({ url, ca: readCaBundleFile(up.apiCa) })
 */
export function readCaBundleFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new SilkError('CONFIG_INVALID', `cannot read the alliance's CA bundle ${file}: ${(cause as Error).message}`, { file }, { cause });
  }
  return caBundle(text);
}

/**
 * A `fetch` trusting only the CA bundle in `file` for https URLs, one per bundle (so one pool of
 * kept-alive connections).
 * @throws SilkError CONFIG_INVALID when the file cannot be read; INVALID_ARGUMENT when it holds no certificate
 */
export function caFileFetch(file: string): FetchFunction {
  const pem = readCaBundleFile(file);
  let fetch = fetches.get(pem);
  if (fetch === undefined) {
    fetch = caFetch(pem);
    fetches.set(pem, fetch);
  }
  return fetch;
}
