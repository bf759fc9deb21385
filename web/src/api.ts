/**
 * The UI's one door to the node: typed reads of the Silkledger HTTP API (docs/api.md) on the
 * origin that served the page. Every failure becomes an {@link ApiError} carrying the API's
 * error code and message, so each page can say exactly what went wrong.
 */

/** A failed request: the API's error code (docs/errors.md) and its message, or a network failure. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(readonly code: string, message: string, readonly status: number) {
    super(message);
  }
}

// The answers' shapes are the SDK's own types, so the UI reads the API exactly as a client
// program does; type imports only: nothing of the SDK's code reaches the browser.
export type { BlockSummary, BlockView, CertificateLink, ChainInfo, ChainSummary, IdentityAnswer, IdentityRecord, KeyStanding, Page, ReceiptJson, SignerView, TransactionDetails, TransactionSummary, JsonValue, VersionedValue } from 'silkledger/sdk';
export type { ItemProvenance, JourneyStop, LotRecord, ProductLineRecord, ProvenanceEvent, ProvenanceWithProofs, StoredItem } from 'silkledger/sdk/epcis';
export type { LotRecallStatus, RecallItemStatus } from 'silkledger/sdk/epcis';
import type { ChainSummary, JsonValue, VersionedValue } from 'silkledger/sdk';

/** A JSON value when it is a string (an event's `bizStep`, `disposition`, …), else undefined. */
export const textOf = (value: JsonValue | undefined): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * Reads a JSON answer of the API.
 * @param path the path and query, e.g. `/api/chains`
 * @returns the parsed body
 * @throws ApiError with the API's code, or `NETWORK` when the node could not be reached
 */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await send(path, 'application/json', signal);
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new ApiError('BAD_ANSWER', `the node answered ${response.status} with something that is not JSON`, response.status);
  }
  if (!response.ok) throw errorOf(response.status, body);
  return body as T;
}

/**
 * GETs bytes (`application/octet-stream`) from the node's API.
 * @throws ApiError with the API's error code and message, or NETWORK when the node cannot be reached
 */
export async function getBytes(path: string, signal?: AbortSignal): Promise<Uint8Array> {
  const response = await send(path, 'application/octet-stream, application/json', signal);
  if (response.ok) return new Uint8Array(await response.arrayBuffer());
  let body: unknown;
  try {
    body = JSON.parse(await response.text());
  } catch {
    body = undefined;
  }
  throw errorOf(response.status, body);
}

async function send(path: string, accept: string, signal: AbortSignal | undefined): Promise<Response> {
  try {
    return await fetch(path, { headers: { accept }, ...(signal === undefined ? {} : { signal }) });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError('NETWORK', 'the node could not be reached: is it running?', 0);
  }
}

function errorOf(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  return new ApiError(error?.code ?? `HTTP_${status}`, error?.message ?? `the node answered ${status}`, status);
}

/**
 * The chain that records trace events: the first of the node's chains running the `epcis` contract.
 * @throws ApiError NOT_FOUND when none does
 */
export async function traceabilityChain(signal?: AbortSignal): Promise<string> {
  const { items } = await getJson<{ items: ChainSummary[] }>('/api/chains', signal);
  const chain = items.find((c) => 'epcis' in c.contracts);
  if (chain === undefined) throw new ApiError('NOT_FOUND', 'no chain of this node records trace events (none runs the epcis contract)', 404);
  return chain.name;
}

/** A state value of a contract, or `undefined` when the key does not exist. */
export async function getState<T>(chain: string, contract: string, key: string, signal?: AbortSignal): Promise<T | undefined> {
  try {
    const answer = await getJson<VersionedValue & { value: T }>(`/api/chains/${encodeURIComponent(chain)}/contracts/${encodeURIComponent(contract)}/state/${encodeURIComponent(key)}`, signal);
    return answer.value;
  } catch (e) {
    if (e instanceof ApiError && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
}
