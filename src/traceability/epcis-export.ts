/**
 * Export of recorded events as an EPCIS 2.0 `EPCISQueryDocument`: each event exactly as
 * captured (its `eventID` and `eventTime` string kept, so its hash is the same), with the
 * JSON-LD prefixes its document declared. Events may come from many captured documents: their
 * prefixes go into the document's context when they agree, and onto the event otherwise.
 *
 * An event declared erroneous after capture comes back with its `errorDeclaration` (as EPCIS query
 * results carry it): the captured declaration's members, without the ledger's `declaredBy` and
 * `txId`. The CBV 2.0 hash ignores `errorDeclaration`, so the exported event hashes the same.
 */
import type { JsonValue } from '../ledger/json-value.js';
import type { RecordedEpcisEvent } from './epcis-ledger-index.js';

/** The EPCIS 2.0 context URL exported documents use (vendored; never fetched). */
export const EPCIS_CONTEXT_URL = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';

/** Options of {@link epcisQueryDocument}. */
export interface EpcisQueryDocumentOptions {
  /** RFC 3339 time the document was made (passed in: this module reads no clock). */
  readonly creationDate: string;
  /** Default `SimpleEventQuery`. */
  readonly queryName?: string;
}

/**
 * A recorded event as EPCIS query results give it: as captured, plus its error declaration if one
 * was recorded later.
 * @param record - as the `epcis` contract returns it
 * @returns the event object
 * @example exportedEvent(record).errorDeclaration // { declarationTime: '…', reason: 'incorrect_data' }
 */
export function exportedEvent(r: RecordedEpcisEvent): { readonly [field: string]: JsonValue } {
  if (r.errorDeclaration === undefined) return r.event;
  const { declaredBy: _by, txId: _tx, ...declaration } = r.errorDeclaration;
  return { ...r.event, errorDeclaration: declaration };
}

/**
 * An `EPCISQueryDocument` of recorded events, in the given order.
 * @param records - events as the `epcis` contract returns them
 * @param options - creation date and query name
 * @returns the document, ready to serialise
 * @example epcisQueryDocument(page.items, { creationDate: new Date().toISOString() })
 */
export function epcisQueryDocument(records: readonly RecordedEpcisEvent[], options: EpcisQueryDocumentOptions): { readonly [field: string]: JsonValue } {
  const shared: Record<string, string> = {};
  const conflicting = new Set<string>();
  for (const r of records) {
    for (const [prefix, iri] of Object.entries(r.namespaces)) {
      if (shared[prefix] !== undefined && shared[prefix] !== iri) conflicting.add(prefix);
      shared[prefix] ??= iri;
    }
  }
  for (const prefix of conflicting) Reflect.deleteProperty(shared, prefix);
  const eventList = records.map((r) => {
    const own = Object.fromEntries(Object.entries(r.namespaces).filter(([prefix]) => conflicting.has(prefix)));
    const event = exportedEvent(r);
    return Object.keys(own).length === 0 ? event : { '@context': [own], ...event };
  });
  return {
    '@context': Object.keys(shared).length === 0 ? [EPCIS_CONTEXT_URL] : [EPCIS_CONTEXT_URL, shared],
    type: 'EPCISQueryDocument',
    schemaVersion: '2.0',
    creationDate: options.creationDate,
    epcisBody: { queryResults: { queryName: options.queryName ?? 'SimpleEventQuery', resultsBody: { eventList } } },
  };
}
