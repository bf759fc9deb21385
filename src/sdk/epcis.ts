/**
 * The SDK's EPCIS 2.0 part: capture a document through `POST /api/epcis/capture` (validated and
 * hashed here, signed here, one transaction or atomic parts), query events with the REST
 * binding's parameters through `GET /api/epcis/events` (following `nextPageToken`), and sign
 * sensor data at the source with a device key.
 *
 * Capture goes through the EPCIS route rather than the generic submit route because that route
 * checks that every sensor signature's key is a registered device of the capturing org.
 */
import type { Signer } from '../crypto/p256.js';
import { SilkError } from '../errors.js';
import type { JsonValue } from '../ledger/json-value.js';
import { governingConfigReader, receiptTrust } from '../ledger/receipt.js';
import { toBase64 } from '../api/wire.js';
import { captureDocument, type CaptureDocumentResult, type PrepareCaptureOptions } from '../traceability/epcis-capture.js';
import type { EventQueryListName, EventQueryTimeName } from '../traceability/epcis-ledger-index.js';
import { proveProvenance } from '../traceability/event-proof.js';
import type { SensorThreshold } from '../traceability/provenance.js';
import type { ProvenanceWithProofs } from '../traceability/provenance-proofs.js';
import type { LotRecallStatus } from '../traceability/recall-queries.js';
import { committedBySilentNode, connectionOfClient, outcomeOnLedger, type SilkClient } from './client.js';
import { createHttpTransport, type FetchFunction, type HttpTransport } from './http-transport.js';

export { signDocumentSensorData, signSensorData, SILK_EPCIS_NAMESPACE, type SensorSignature } from '../traceability/epcis-document-sensor-signature.js';
export type { CaptureDocumentResult } from '../traceability/epcis-capture.js';
export type { ContainmentInterval, ItemProvenance, JourneyStop, ProvenanceEvent, SensorLeg, SensorThreshold } from '../traceability/provenance.js';
export type { ProvenanceWithProofs } from '../traceability/provenance-proofs.js';
export type { LotRecallStatus, RecallItemStatus } from '../traceability/recall-queries.js';
export type { CompanyPrefixRecord, ItemRecord, LotRecord, ProductLineRecord, StoredItem } from '../contracts/products/product-contract.js';

/** Options of {@link EpcisClient.capture}. */
export interface EpcisCaptureOptions extends PrepareCaptureOptions {
  readonly chain: string;
  /** The capturing member's key. */
  readonly signer: Signer;
  /** `rollback` (default): one transaction or nothing. `proceed`: atomic parts in order. */
  readonly behaviour?: 'rollback' | 'proceed';
  /** Called after each committed part. */
  readonly onProgress?: (committedEvents: number, totalEvents: number) => void;
}

/**
 * Query parameters of {@link EpcisClient.events}: the EPCIS 2.0 REST binding's names. A list
 * (or a comma-separated string) means any of its values.
 */
export type EpcisEventsParameters = {
  readonly [name in EventQueryListName]?: string | readonly string[];
} & {
  readonly [name in EventQueryTimeName]?: string;
} & {
  readonly EXISTS_errorDeclaration?: boolean;
  readonly perPage?: number;
  readonly nextPageToken?: string;
};

/** One page of {@link EpcisClient.events}. */
export interface EpcisEventsPage {
  /** The `EPCISQueryDocument` the node answered. */
  readonly document: { readonly [field: string]: JsonValue };
  /** Its events, as captured (with their error declarations). */
  readonly events: readonly { readonly [field: string]: JsonValue }[];
  /** Present when more may follow: pass it back as `nextPageToken`. */
  readonly nextPageToken?: string;
}

/** EPCIS capture and query against one node. */
export interface EpcisClient {
  /**
   * Validates, hashes and records a document on `chain` with the `epcis` contract.
   * @throws SilkError `INVALID_ARGUMENT` (with `details.path`) for an invalid document, nothing sent; the node's refusal otherwise
   */
  capture(document: unknown, options: EpcisCaptureOptions): Promise<CaptureDocumentResult>;
  /** One page of events matching the parameters, in event-time order. */
  events(chain: string, parameters?: EpcisEventsParameters): Promise<EpcisEventsPage>;
  /**
   * An item's provenance with a receipt per cited transaction (`GET /api/epcis/provenance`);
   * with `verify`, every receipt is checked against the chain's keys at its block, every
   * event's hash is recomputed from the event as returned, and each event is found among what
   * its transaction recorded ({@link verifyProvenance}).
   * @throws SilkError `BAD_RESPONSE` when `verify` finds a receipt or an event that does not check
   */
  provenance(chain: string, epc: string, options?: ProvenanceRequest): Promise<ProvenanceWithProofs>;
  /** Every item of a lot, where it is now and who holds it (`GET /api/epcis/recall`). */
  recall(chain: string, lot: string, options?: { readonly maxItems?: number }): Promise<LotRecallStatus>;
}

/** Options of {@link EpcisClient.provenance}. */
export interface ProvenanceRequest {
  readonly lineageDepth?: number;
  readonly maxEvents?: number;
  readonly maxLotEvents?: number;
  /** Sensor limits, e.g. `[{ type: 'Temperature', uom: 'CEL', min: 2, max: 8 }]`. */
  readonly thresholds?: readonly SensorThreshold[];
  /** Leave the receipts out. */
  readonly proofs?: boolean;
  /** Check every receipt, event hash and recording transaction before returning ({@link verifyProvenance}). */
  readonly verify?: boolean;
}

function queryValues(chain: string, parameters: EpcisEventsParameters): Record<string, string> {
  const query: Record<string, string> = { chain };
  for (const [name, value] of Object.entries(parameters) as [string, unknown][]) {
    if (value === undefined) continue;
    if (name === 'EXISTS_errorDeclaration') query[name] = value === true ? 'true' : 'false';
    else if (Array.isArray(value)) query[name] = value.join(',');
    else if (typeof value === 'string' || typeof value === 'number') query[name] = String(value);
    else throw new SilkError('INVALID_ARGUMENT', `${name}: expected a string, a list of strings or a number`, { path: name });
  }
  return query;
}

/**
 * Checks a provenance answer: every receipt against the chain's orderer and peer keys at its
 * block; then, for every returned event, that its content (as returned) hashes to its CBV 2.0
 * ID, and that the transaction it names recorded that ID, read from the transaction's own bytes
 * (whose hash is the one its receipt proves) at the block and position the answer gives
 * (src/traceability/event-proof.ts).
 * @throws SilkError `BAD_RESPONSE` naming the first receipt or event that does not check
 */
export async function verifyProvenance(client: SilkClient, answer: ProvenanceWithProofs): Promise<void> {
  // Each configuration the receipts need is read once.
  const configAt = governingConfigReader((chain, block) => client.chain(chain, { at: block }));
  const proof = await proveProvenance(answer, {
    trust: async (chain, block) => receiptTrust((await configAt(chain, block)).config),
    transactionBytes: (chain, txId) => client.transactionBytes(chain, txId),
  });
  if (!proof.ok) throw new SilkError('BAD_RESPONSE', proof.reason, { txId: proof.txId, hash: proof.hash });
}

/**
 * The EPCIS part of a client.
 * @param client - a connected client (its URL is used)
 * @param options - a `fetch` and time limit, as for `connect` (default: the client's own, so a
 *   client connected with `ca` reaches the node with it)
 * @example
 * const epcis = epcisClient(client);
 * await epcis.capture(doc, { chain: 'product', signer });
 * const page = await epcis.events('product', { EQ_bizStep: ['shipping', 'receiving'], perPage: 50 });
 */
export function epcisClient(client: SilkClient, options: { readonly fetch?: FetchFunction; readonly timeoutMs?: number } = {}): EpcisClient {
  const connection = connectionOfClient(client);
  const baseFetch = options.fetch ?? connection?.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 60_000;
  /** A transport to the client's nodes (the one it asks first now, then its fallbacks), fetching with `f`. */
  const transport = (f: FetchFunction): HttpTransport => {
    const [url, ...fallbackUrls] = connection?.nodes ?? [client.url];
    return createHttpTransport({ url: url ?? client.url, fallbackUrls, timeoutMs, fetch: f });
  };
  /** Request options asking for an answer at what the client has seen of `chain`. */
  const seenOn = (chain: string): { headers?: Readonly<Record<string, string>> } => {
    const headers = connection?.atSeen(chain);
    return headers === undefined ? {} : { headers };
  };
  return {
    capture: (document, o) =>
      captureDocument(document, async (p) => {
        const signed = await client.propose(p, o.signer);
        const http = transport(baseFetch);
        try {
          const r = await http.request<{ captureID: string; blockNumber: number }>('POST', '/api/epcis/capture', {
            query: { chain: p.chain },
            ...seenOn(p.chain),
            body: { proposal: toBase64(signed.bytes), signature: toBase64(signed.signature) },
          });
          connection?.noteHeight(p.chain, r.blockNumber + 1);
          return { txId: r.captureID, code: 'VALID', blockNumber: r.blockNumber };
        } catch (e) {
          // A node that gave no answer had committed it after all: the ledger's outcome is the answer.
          if (!committedBySilentNode(e)) throw e;
          const r = outcomeOnLedger(await client.transaction(p.chain, signed.txId));
          return { txId: r.txId, code: 'VALID', blockNumber: r.blockNumber };
        }
      }, o),
    async provenance(chain, epc, o = {}) {
      const http = transport(baseFetch);
      const query: Record<string, string> = { chain, epc };
      if (o.lineageDepth !== undefined) query['lineageDepth'] = String(o.lineageDepth);
      if (o.maxEvents !== undefined) query['maxEvents'] = String(o.maxEvents);
      if (o.maxLotEvents !== undefined) query['maxLotEvents'] = String(o.maxLotEvents);
      if (o.thresholds !== undefined) query['thresholds'] = o.thresholds.map((t) => `${t.type}:${t.uom ?? ''}:${t.min ?? ''}:${t.max ?? ''}`).join(',');
      if (o.proofs === false) query['proofs'] = 'false';
      const answer = await http.request<ProvenanceWithProofs>('GET', '/api/epcis/provenance', { query, ...seenOn(chain) });
      if (o.verify === true) await verifyProvenance(client, answer);
      return answer;
    },
    async recall(chain, lot, o = {}) {
      const http = transport(baseFetch);
      return http.request<LotRecallStatus>('GET', '/api/epcis/recall', { query: { chain, lot, ...(o.maxItems === undefined ? {} : { maxItems: String(o.maxItems) }) }, ...seenOn(chain) });
    },
    async events(chain, parameters = {}) {
      const seen: { link: string | null } = { link: null };
      const recording: FetchFunction = async (input, init) => {
        const res = await baseFetch(input, init);
        seen.link = res.headers.get('link');
        return res;
      };
      const http = transport(recording);
      const document = await http.request<{ [field: string]: JsonValue }>('GET', '/api/epcis/events', { query: queryValues(chain, parameters), ...seenOn(chain) });
      const body = document['epcisBody'] as { queryResults?: { resultsBody?: { eventList?: { [field: string]: JsonValue }[] } } } | undefined;
      const next = /<[^>]*[?&]nextPageToken=([^&>]+)[^>]*>;\s*rel="next"/.exec(seen.link ?? '')?.[1];
      return { document, events: body?.queryResults?.resultsBody?.eventList ?? [], ...(next === undefined ? {} : { nextPageToken: decodeURIComponent(next) }) };
    },
  };
}
