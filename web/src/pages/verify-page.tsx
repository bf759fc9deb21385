/**
 * The consumer's page: scan or type the code on a label (a GS1 Digital Link such as
 * `https://id.gs1.org/01/06901234000016/21/7`, or an SGTIN URN) and see whether the item is on
 * the ledger, who made it, where it has been, and whether it was already sold. Everything shown
 * is read from committed state through the API; each event links to the block that holds it.
 */
import { useState, type ReactNode, type SyntheticEvent } from 'react';
import { getJson, getState, textOf, traceabilityChain, type ItemProvenance, type LotRecord, type ProductLineRecord, type ProvenanceEvent, type ProvenanceWithProofs, type StoredItem } from '../api.js';
import { Hash, Show } from '../components/common.js';
import { eventTime, lotCode, partyLabel, placeLabel, words } from '../epcis-text.js';
import { proveSteps, type StepProof } from '../provenance-check.js';
import { LotResult } from './lot-view.js';
import { href } from '../route.js';
import { useApi, type Loaded } from '../use-api.js';

/** What the page learnt about one code. */
interface Verification {
  readonly chain: string;
  readonly provenance: ItemProvenance;
  readonly item: StoredItem | undefined;
  readonly line: ProductLineRecord | undefined;
  readonly lot: LotRecord | undefined;
  /** The receipts the node gave, by transaction id: proven in this browser after the page shows (`Verified`). */
  readonly receipts: ProvenanceWithProofs['proofs'];
  /** Cited transactions the node gave no receipt for. */
  readonly missingProofs: readonly string[];
}

/** Each step's proof by event hash, while it is being checked, or why it could not be. */
type Proofs = Loaded<ReadonlyMap<string, StepProof>>;

async function verify(epc: string, signal: AbortSignal): Promise<Verification> {
  const chain = await traceabilityChain(signal);
  const query = new URLSearchParams({ chain, epc });
  const { provenance, proofs, missingProofs } = await getJson<ProvenanceWithProofs>(`/api/epcis/provenance?${query.toString()}`, signal);
  const gtin = /\/01\/(\d{14})/.exec(provenance.epc)?.[1];
  const [item, line] = await Promise.all([
    getState<StoredItem>(chain, 'products', provenance.epc, signal),
    gtin === undefined ? undefined : getState<ProductLineRecord>(chain, 'products', `line:${gtin}`, signal),
  ]);
  const lot = item?.lot == null ? undefined : await getState<LotRecord>(chain, 'products', `lot:${item.gtin}:${item.lot}`, signal);
  return { chain, provenance, item, line, lot, receipts: proofs, missingProofs };
}

function latest(events: readonly ProvenanceEvent[]): ProvenanceEvent | undefined {
  return [...events].sort((a, b) => Date.parse(a.eventTime) - Date.parse(b.eventTime)).at(-1);
}

/** The verdict at the top: genuine, unknown, or registered but with a warning. */
function Verdict({ v }: { readonly v: Verification }): ReactNode {
  const last = latest(v.provenance.events);
  const sold = v.provenance.events.filter((e) => e.role === 'item' && textOf(e.event['disposition']) === 'retail_sold');
  if (v.item === undefined && v.provenance.events.length === 0) {
    return (
      <div className="verdict verdict-bad" data-verdict="unknown">
        <h2>Not on the ledger</h2>
        {v.line === undefined
          ? <p>No member of the alliance has registered or recorded this code. A genuine label's code is always on the ledger: treat this item as suspect and report it to the seller.</p>
          : <p>{v.line.brand} {v.line.name} is a product registered by {v.line.org}, but this serial number was never issued by its maker: the code may be copied or invented. Treat this item as suspect and report it to the seller.</p>}
      </div>
    );
  }
  if (v.item === undefined) {
    return (
      <div className="verdict verdict-warn" data-verdict="unregistered">
        <h2>Recorded, but never registered</h2>
        <p>Trace events name this code, but no manufacturer commissioned it in the product registry.</p>
      </div>
    );
  }
  const soldEvent = sold.at(-1);
  return (
    <div className={soldEvent === undefined ? 'verdict verdict-good' : 'verdict verdict-warn'} data-verdict={soldEvent === undefined ? 'genuine' : 'sold'}>
      <h2>Genuine: registered on the ledger by {v.line?.org ?? v.item.owner}</h2>
      {v.line !== undefined && <p className="product-name">{v.line.brand} {v.line.name} <span className="muted">· made in {v.line.origin} · GTIN {v.line.gtin}</span></p>}
      {soldEvent !== undefined && (
        <p><strong>Already sold</strong> on {eventTime(soldEvent.eventTime)} (recorded by {soldEvent.recordedBy}). If this item is offered to you as new, ask the seller why.</p>
      )}
      {soldEvent === undefined && last !== undefined && <p>Last seen: {words(textOf(last.event['bizStep']))} ({words(textOf(last.event['disposition']))}), {eventTime(last.eventTime)}.</p>}
      {v.provenance.declaredErroneous.length > 0 && <p className="warn">{v.provenance.declaredErroneous.length} recorded event(s) were later declared erroneous by their recorder.</p>}
    </div>
  );
}

function Facts({ v }: { readonly v: Verification }): ReactNode {
  return (
    <dl className="facts">
      <dt>Item</dt><dd><code>{v.provenance.epc}</code></dd>
      {v.item !== undefined && <><dt>Serial</dt><dd>{v.item.serial}</dd></>}
      {v.lot !== undefined && <><dt>Lot</dt><dd>{v.lot.lot} · produced {v.lot.productionDate}{v.lot.expiryDate === null ? '' : ` · best before ${v.lot.expiryDate}`}</dd></>}
      {v.line !== undefined && <><dt>Category</dt><dd>{v.line.category}</dd></>}
      {v.item !== undefined && <><dt>Owner on the ledger</dt><dd>{v.item.owner}</dd></>}
      <dt>Events read</dt><dd>{v.provenance.eventsRead}{v.provenance.truncated ? ' (more exist: the list is cut)' : ''}</dd>
    </dl>
  );
}

function Journey({ v }: { readonly v: Verification }): ReactNode {
  if (v.provenance.journey.length === 0) return null;
  return (
    <section>
      <h3>Journey</h3>
      <ol className="journey">
        {v.provenance.journey.map((stop, i) => (
          <li key={`${stop.place}-${i}`}>
            <span className="stop-time">{eventTime(stop.arrival)}</span>
            <span className="stop-place"><code title={stop.place}>{placeLabel(stop.place)}</code></span>
            <span className="stop-who">{stop.custodians.map((c) => partyLabel(c.party)).join(', ')}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** One step's proof: checked here against its transaction, or why not. */
function ProofMark({ proofs, hash }: { readonly proofs: Proofs; readonly hash: string }): ReactNode {
  if (proofs.state === 'loading') return <span className="proof proof-checking">… checking</span>;
  const proof = proofs.state === 'done' ? proofs.value.get(hash) : undefined;
  if (proof === undefined) return <span className="proof proof-bad">✗ not checked</span>;
  if (!proof.ok) return <span className="proof proof-bad" title={proof.reason}>✗ {proof.reason}</span>;
  const r = proof.receipt;
  return <span className="proof proof-ok" title={`its transaction is leaf ${r.leaf + 1} of ${r.leaves} in block ${r.block}, signed by the chain's orderer and by a peer${r.peerOrg === undefined ? '' : ` of ${r.peerOrg}`}; the transaction recorded this event, and the event as shown hashes to its ID`}>✓ proven</span>;
}

/** Whether every step the page shows is proven in this browser. */
function ProofSummary({ v, proofs }: { readonly v: Verification; readonly proofs: Proofs }): ReactNode {
  const steps = v.provenance.events;
  if (steps.length === 0) return null;
  const txIds = new Set(steps.map((e) => e.txId));
  if (proofs.state === 'loading') {
    return <p className="proof-summary proof-checking" data-proofs="checking" aria-busy="true">Checking the proofs of {steps.length} steps in this browser: the receipts and the bytes of their {txIds.size} transactions…</p>;
  }
  if (proofs.state === 'failed') {
    return (
      <div className="verdict verdict-bad" data-proofs="failed" role="alert">
        <h2>Do not trust this answer</h2>
        <p>Its proofs could not be checked: {proofs.error.message}</p>
      </div>
    );
  }
  const failed = steps.filter((e) => proofs.value.get(e.hash)?.ok !== true);
  if (failed.length === 0) {
    return (
      <p className="proof-summary proof-ok" data-proofs="all">
        ✓ All {steps.length} steps proven in this browser: each step, as shown, is an event its transaction recorded, and the receipt of each of their {txIds.size} transactions was checked against the keys of the chain's orderers and peers.
      </p>
    );
  }
  return (
    <div className="verdict verdict-bad" data-proofs="failed" role="alert">
      <h2>Do not trust this answer</h2>
      <p>{failed.length} of the {steps.length} steps could not be proven{v.missingProofs.length > 0 ? ` (${v.missingProofs.length} transaction(s) without a receipt)` : ''}: the node answering may not be showing the ledger as it is.</p>
    </div>
  );
}

function Events({ v, proofs }: { readonly v: Verification; readonly proofs: Proofs }): ReactNode {
  if (v.provenance.events.length === 0) return null;
  return (
    <section>
      <h3>Every recorded step</h3>
      <table className="events">
        <thead><tr><th>When</th><th>What</th><th>Status</th><th>Applies to</th><th>Recorded by</th><th>On the ledger</th><th>Proof</th></tr></thead>
        <tbody>
          {v.provenance.events.map((e) => (
            <tr key={e.hash}>
              <td>{eventTime(e.eventTime)}</td>
              <td>{words(textOf(e.event['bizStep'])) || e.type}</td>
              <td>{words(textOf(e.event['disposition']))}</td>
              <td>{e.role}</td>
              <td>{e.recordedBy}</td>
              <td><a href={href({ page: 'block', chain: v.chain, number: e.ledger.block })}>block {e.ledger.block}</a><span className="tx-hash"> · <a href={href({ page: 'transaction', chain: v.chain, txId: e.txId })}><Hash value={e.txId} length={6} /></a></span></td>
              <td><ProofMark proofs={proofs} hash={e.hash} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The answer, shown at once; its steps' proofs are checked after, and fill in as they finish. */
function Verified({ v }: { readonly v: Verification }): ReactNode {
  const proofs = useApi((signal) => proveSteps(v.provenance.events, v.receipts, signal), [v]);
  return (
    <div className="verification">
      <Verdict v={v} />
      <ProofSummary v={v} proofs={proofs} />
      <Facts v={v} />
      <Journey v={v} />
      <Events v={v} proofs={proofs} />
    </div>
  );
}

function Result({ epc }: { readonly epc: string }): ReactNode {
  const loaded = useApi((signal) => verify(epc, signal), [epc]);
  return (
    <Show loaded={loaded} title="This code could not be checked">
      {(v) => <Verified v={v} />}
    </Show>
  );
}

/** The page. @param epc the code to check, from the address (a scanned link lands here with it) */
export function VerifyPage({ epc }: { readonly epc: string | undefined }): ReactNode {
  const [text, setText] = useState(epc ?? '');
  const submit = (e: SyntheticEvent<HTMLFormElement>): void => {
    e.preventDefault();
    const code = text.trim();
    if (code !== '') window.location.hash = href({ page: 'verify', epc: code });
  };
  return (
    <div>
      <h1>Check a product</h1>
      <p className="muted">Type or paste the link under the QR code on the label (for example https://id.gs1.org/01/06901234000016/21/7), or scan the code with your phone's camera.</p>
      <form className="verify-form" onSubmit={submit}>
        <label htmlFor="epc">Product code</label>
        <input id="epc" name="epc" value={text} onChange={(e) => { setText(e.target.value); }} placeholder="https://id.gs1.org/01/…/21/…" autoComplete="off" spellCheck={false} />
        <button type="submit">Check</button>
      </form>
      {epc !== undefined && (lotCode(epc) ? <LotResult key={epc} code={epc} /> : <Result key={epc} epc={epc} />)}
    </div>
  );
}
