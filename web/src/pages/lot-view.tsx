/**
 * A lot's code on the verify page (`…/01/<gtin>/10/<lot>`, what a label carries when its items
 * have no serial numbers, or an LGTIN URN): whether the lot is registered, by whom, and where
 * each of its items is now (`GET /api/epcis/recall`), drawn as bars by place and holder. The
 * same view serves a regulator or a customs officer tracing a lot for a recall.
 */
import type { ReactNode } from 'react';
import { getJson, getState, traceabilityChain, type LotRecallStatus, type LotRecord, type ProductLineRecord, type RecallItemStatus } from '../api.js';
import { BarChart } from '../components/charts.js';
import { Show } from '../components/common.js';
import { eventTime, partyLabel, placeLabel } from '../epcis-text.js';
import { href } from '../route.js';
import { useApi } from '../use-api.js';

/** What the page learnt about one lot. */
interface LotCheck {
  readonly status: LotRecallStatus;
  readonly gtin: string | undefined;
  readonly lotNumber: string | undefined;
  readonly line: ProductLineRecord | undefined;
  readonly lot: LotRecord | undefined;
}

async function checkLot(code: string, signal: AbortSignal): Promise<LotCheck> {
  const chain = await traceabilityChain(signal);
  const status = await getJson<LotRecallStatus>(`/api/epcis/recall?${new URLSearchParams({ chain, lot: code }).toString()}`, signal);
  // The answer names the lot by its canonical Digital Link, whatever form the code had.
  const m = /\/01\/(\d{14})\/10\/([^/?#]+)$/.exec(status.epcClass);
  const gtin = m?.[1];
  const lotNumber = m?.[2] === undefined ? undefined : decodeURIComponent(m[2]);
  const line = gtin === undefined ? undefined : await getState<ProductLineRecord>(chain, 'products', `line:${gtin}`, signal);
  const lot = gtin === undefined || lotNumber === undefined ? undefined : await getState<LotRecord>(chain, 'products', `lot:${gtin}:${lotNumber}`, signal);
  return { status, gtin, lotNumber, line, lot };
}

/** Where an item is, as one line: its place and holder. */
const whereabouts = (item: RecallItemStatus): string =>
  `${item.place === null ? 'no place recorded' : placeLabel(item.place.id)} · ${item.custodian === null ? 'holder unknown' : partyLabel(item.custodian.party)}`;

function LotVerdict({ c }: { readonly c: LotCheck }): ReactNode {
  if (c.lot === undefined) {
    return (
      <div className="verdict verdict-bad" data-verdict="unknown-lot">
        <h2>Lot not on the ledger</h2>
        {c.line === undefined
          ? <p>No member of the alliance has registered this lot or its product. Treat the goods as suspect and report them to the seller.</p>
          : <p>{c.line.brand} {c.line.name} is a product registered by {c.line.org}, but it never registered lot {c.lotNumber}: the code may be copied or invented.</p>}
      </div>
    );
  }
  return (
    <div className="verdict verdict-good" data-verdict="lot">
      <h2>Genuine lot: registered on the ledger by {c.lot.org}</h2>
      {c.line !== undefined && <p className="product-name">{c.line.brand} {c.line.name} <span className="muted">· made in {c.line.origin} · GTIN {c.line.gtin}</span></p>}
      <p>Lot {c.lot.lot}, produced {c.lot.productionDate}{c.lot.expiryDate === null ? '' : `, best before ${c.lot.expiryDate}`}; {c.status.items.length} item{c.status.items.length === 1 ? '' : 's'} on the ledger{c.status.truncated ? ' (the list is cut)' : ''}.</p>
    </div>
  );
}

function Whereabouts({ c }: { readonly c: LotCheck }): ReactNode {
  if (c.status.items.length === 0) return null;
  const counts = new Map<string, number>();
  for (const item of c.status.items) counts.set(whereabouts(item), (counts.get(whereabouts(item)) ?? 0) + 1);
  const bars = [...counts].sort((a, b) => b[1] - a[1]).map(([label, value]) => ({ label, value }));
  return (
    <section>
      <h3>Where its items are now</h3>
      <BarChart bars={bars} label="items of the lot by place and holder" />
      <table className="lot-items">
        <thead><tr><th>Item</th><th>Place</th><th>Since</th><th>Holder</th><th>Owner</th></tr></thead>
        <tbody>
          {[...c.status.items].sort((a, b) => a.epc.localeCompare(b.epc, 'en', { numeric: true })).map((item) => (
            <tr key={item.epc}>
              <td><a href={href({ page: 'verify', epc: item.epc })}>{item.epc.replace(/^.*\/21\//, 'serial ')}</a></td>
              <td>{item.place === null ? '—' : <code title={item.place.id}>{placeLabel(item.place.id)}</code>}</td>
              <td>{item.place === null ? '' : eventTime(item.place.since)}</td>
              <td>{item.custodian === null ? '—' : partyLabel(item.custodian.party)}</td>
              <td>{item.owner ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The lot view. @param code the lot's Digital Link or LGTIN URN */
export function LotResult({ code }: { readonly code: string }): ReactNode {
  const loaded = useApi((signal) => checkLot(code, signal), [code]);
  return (
    <Show loaded={loaded} title="This lot could not be checked">
      {(c) => (
        <div className="verification">
          <LotVerdict c={c} />
          <Whereabouts c={c} />
        </div>
      )}
    </Show>
  );
}
