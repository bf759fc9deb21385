/**
 * The explorer: the node's chains, each chain's blocks (newest first, a page at a time), a
 * block's header and transactions with their validation codes, and a transaction's reads,
 * writes, events and receipt. An auditor follows a record from a chain down to the signed block.
 */
import { useState, type ReactNode, type SyntheticEvent } from 'react';
import { getJson, type BlockSummary, type BlockView, type ChainSummary, type Page, type ReceiptJson, type SignerView, type TransactionDetails } from '../api.js';
import { Code, Hash, Pager, Show, Time, count } from '../components/common.js';
import { checkReceipt } from '../receipt-check.js';
import { href, type Route } from '../route.js';
import { useApi } from '../use-api.js';

const e = encodeURIComponent;
const BLOCKS_PER_PAGE = 20;

/** Every chain of the node: its height, members and contracts. */
export function ExplorerPage(): ReactNode {
  const loaded = useApi((signal) => getJson<{ items: ChainSummary[] }>('/api/chains', signal), [], 5000);
  return (
    <div>
      <h1>Chains</h1>
      <Show loaded={loaded}>
        {({ items }) => (
          <table className="chains">
            <thead><tr><th>Chain</th><th className="num">Blocks</th><th>Members</th><th>Contracts</th></tr></thead>
            <tbody>
              {items.map((c) => (
                <tr key={c.name}>
                  <td><a href={href({ page: 'chain', chain: c.name, bookmark: undefined })}>{c.name}</a></td>
                  <td className="num">{count(c.height)}</td>
                  <td>{c.orgs.join(', ')}</td>
                  <td>{Object.entries(c.contracts).map(([name, { version }]) => `${name} ${version}`).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Show>
    </div>
  );
}

/** Where a search of a chain leads: a block number or a transaction id. */
export function searchTarget(chain: string, text: string): Route | string {
  const q = text.trim().toLowerCase();
  if (/^\d{1,15}$/.test(q)) return { page: 'block', chain, number: Number(q) };
  if (/^[0-9a-f]{64}$/.test(q)) return { page: 'transaction', chain, txId: q };
  return 'give a block number, or a transaction id (64 hexadecimal characters)';
}

/** Jumps to a block or a transaction of the chain. */
function ChainSearch({ chain }: { readonly chain: string }): ReactNode {
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const submit = (e: SyntheticEvent<HTMLFormElement>): void => {
    e.preventDefault();
    const target = searchTarget(chain, text);
    if (typeof target === 'string') setProblem(target);
    else window.location.hash = href(target);
  };
  return (
    <form className="chain-search" onSubmit={submit}>
      <label htmlFor="chain-search">Find</label>
      <input id="chain-search" value={text} onChange={(e) => { setText(e.target.value); setProblem(undefined); }} placeholder="block number or transaction id" autoComplete="off" spellCheck={false} />
      <button type="submit">Go</button>
      {problem !== undefined && <span className="field-error" role="alert">{problem}</span>}
    </form>
  );
}

/** A chain's blocks, newest first. @param bookmark where the page starts (from the previous page) */
export function ChainPage({ chain, bookmark }: { readonly chain: string; readonly bookmark: string | undefined }): ReactNode {
  const query = new URLSearchParams({ limit: String(BLOCKS_PER_PAGE), ...(bookmark === undefined ? {} : { bookmark }) });
  const loaded = useApi((signal) => getJson<Page<BlockSummary>>(`/api/chains/${e(chain)}/blocks?${query.toString()}`, signal), [chain, bookmark], bookmark === undefined ? 5000 : undefined);
  return (
    <div>
      <p className="crumbs"><a href={href({ page: 'explorer' })}>Chains</a> › {chain}</p>
      <h1>Blocks of {chain}</h1>
      <p><a href={href({ page: 'keys', chain, bookmark: undefined })}>Keys registered on {chain}</a></p>
      <ChainSearch chain={chain} />
      <Show loaded={loaded}>
        {(page) => (
          <>
            <table className="blocks">
              <thead><tr><th className="num">Block</th><th>Ordered</th><th className="num">Transactions</th><th className="num">Valid</th><th className="num">Bytes</th><th>Hash</th></tr></thead>
              <tbody>
                {page.items.map((b) => (
                  <tr key={b.number}>
                    <td className="num"><a href={href({ page: 'block', chain, number: b.number })}>{b.number}</a></td>
                    <td><Time ms={b.timestamp} /></td>
                    <td className="num">{count(b.transactions)}</td>
                    <td className={b.valid === b.transactions ? 'num' : 'num warn'}>{count(b.valid)}</td>
                    <td className="num">{count(b.sizeBytes)}</td>
                    <td><Hash value={b.hash} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager at={bookmark} next={page.bookmark} link={(b) => href({ page: 'chain', chain, bookmark: b })} labels={['« Newest', 'Older blocks ›']} />
          </>
        )}
      </Show>
    </div>
  );
}

const who = (s: SignerView | undefined): string => (s === undefined ? 'unknown' : s.org === undefined ? `key ${s.key.slice(0, 12)}…` : `${s.org}${s.name === undefined ? '' : ` / ${s.name}`}${s.role === undefined ? '' : ` (${s.role})`}`);

/** A signer, linked to its key's page (who it is, whether it may sign, what vouches for it). */
function Who({ chain, signer }: { readonly chain: string; readonly signer: SignerView | undefined }): ReactNode {
  if (signer === undefined) return 'unknown';
  return <a href={href({ page: 'key', chain, key: signer.key })}>{who(signer)}</a>;
}

/** A block: its header, the hashes that chain it, and its transactions with their codes. */
export function BlockPage({ chain, number }: { readonly chain: string; readonly number: number }): ReactNode {
  const loaded = useApi((signal) => getJson<BlockView>(`/api/chains/${e(chain)}/blocks/${number}`, signal), [chain, number]);
  return (
    <div>
      <p className="crumbs"><a href={href({ page: 'explorer' })}>Chains</a> › <a href={href({ page: 'chain', chain, bookmark: undefined })}>{chain}</a> › block {number}</p>
      <h1>Block {number} of {chain}</h1>
      <Show loaded={loaded}>
        {(b) => (
          <>
            <dl className="facts">
              <dt>Ordered</dt><dd><Time ms={b.timestamp} /></dd>
              <dt>Hash</dt><dd><code className="wrap">{b.hash}</code></dd>
              <dt>Previous</dt><dd>{number === 0 ? <code className="wrap">{b.previousHash}</code> : <a href={href({ page: 'block', chain, number: number - 1 })}><code className="wrap">{b.previousHash}</code></a>}</dd>
              <dt>Merkle root</dt><dd><code className="wrap">{b.dataHash}</code></dd>
              <dt>Commit hash</dt><dd><code className="wrap">{b.commitHash}</code></dd>
              <dt>Signed by orderer</dt><dd><Hash value={b.orderer} /></dd>
              <dt>Size</dt><dd>{count(b.sizeBytes)} bytes</dd>
            </dl>
            <h2>{b.transactions.length} transaction{b.transactions.length === 1 ? '' : 's'}</h2>
            <table className="transactions">
              <thead><tr><th className="num">#</th><th>Transaction</th><th>Code</th><th>Call</th><th>Creator</th></tr></thead>
              <tbody>
                {b.transactions.map((t) => (
                  <tr key={t.index}>
                    <td className="num">{t.index}</td>
                    <td>{t.txId === undefined ? '(malformed)' : <a href={href({ page: 'transaction', chain, txId: t.txId })}><Hash value={t.txId} /></a>}</td>
                    <td><Code code={t.code} /></td>
                    <td>{t.contract === undefined ? '' : `${t.contract}.${t.fn ?? ''}`}</td>
                    <td><Who chain={chain} signer={t.creator} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </Show>
    </div>
  );
}

/** JSON, indented, in a scrollable block. */
function Json({ value }: { readonly value: unknown }): ReactNode {
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

/** The receipt, checked in this browser with the ledger's own code against the chain's keys. */
function ReceiptPanel({ receipt }: { readonly receipt: ReceiptJson }): ReactNode {
  const loaded = useApi((signal) => checkReceipt(receipt, signal), [receipt]);
  return (
    <Show loaded={loaded} title="The receipt could not be checked">
      {(check) => check.ok
        ? (
          <div className="receipt-check receipt-ok" data-receipt="verified">
            <strong>✓ Receipt verified in this browser</strong>
            <ul>
              <li>the transaction is leaf {check.leaf + 1} of {check.leaves} under block {check.block}'s Merkle root (RFC 9162 inclusion proof);</li>
              <li>the block header is signed by an orderer the chain's configuration lists at that block;</li>
              <li>peer <Hash value={check.peer} />{check.peerOrg === undefined ? '' : ` of ${check.peerOrg}`} signed the block's validation codes and commit hash, and they give this transaction <Code code={check.code} />.</li>
            </ul>
          </div>
        )
        : (
          <div className="receipt-check receipt-bad" data-receipt="failed" role="alert">
            <strong>✗ This receipt does not verify</strong>
            <div>{check.reason}</div>
          </div>
        )}
    </Show>
  );
}

/** Rows shown before "show all": a transaction may write thousands of keys. */
const ROWS_SHOWN = 20;

/** A table of many rows: the first {@link ROWS_SHOWN}, and a button for the rest. */
function Rows({ head, rows }: { readonly head: ReactNode; readonly rows: readonly ReactNode[] }): ReactNode {
  const [all, setAll] = useState(false);
  if (rows.length === 0) return null;
  return (
    <>
      <table className="rw">
        <thead>{head}</thead>
        <tbody>{all ? rows : rows.slice(0, ROWS_SHOWN)}</tbody>
      </table>
      {!all && rows.length > ROWS_SHOWN && <button type="button" className="more" onClick={() => { setAll(true); }}>Show all {count(rows.length)}</button>}
    </>
  );
}

/** A transaction: outcome, call, endorsers, what it read and wrote, its events and receipt. */
export function TransactionPage({ chain, txId }: { readonly chain: string; readonly txId: string }): ReactNode {
  const loaded = useApi((signal) => getJson<TransactionDetails>(`/api/chains/${e(chain)}/transactions/${e(txId)}`, signal), [chain, txId]);
  return (
    <div>
      <p className="crumbs"><a href={href({ page: 'explorer' })}>Chains</a> › <a href={href({ page: 'chain', chain, bookmark: undefined })}>{chain}</a> › transaction</p>
      <h1>Transaction <Hash value={txId} /></h1>
      <Show loaded={loaded}>
        {(t) => (
          <>
            <dl className="facts">
              <dt>Outcome</dt><dd><Code code={t.code} /> in <a href={href({ page: 'block', chain, number: t.block })}>block {t.block}</a>, position {t.index}</dd>
              <dt>Call</dt><dd>{t.contract}.{t.fn} (contract version {t.contractVersion})</dd>
              <dt>Creator</dt><dd><Who chain={chain} signer={t.creator} /></dd>
              <dt>Endorsed by</dt><dd>{t.endorsers.length === 0 ? 'none' : t.endorsers.map((s, i) => <span key={s.key}>{i > 0 && '; '}<Who chain={chain} signer={s} /></span>)}</dd>
              {t.timestamp !== undefined && <><dt>Proposed</dt><dd><Time ms={t.timestamp} /></dd></>}
            </dl>
            <h2>Arguments</h2>
            <Json value={t.args} />
            <h2>Read {t.reads.length} key{t.reads.length === 1 ? '' : 's'}, wrote {t.writes.length}</h2>
            <Rows
              head={<tr><th>Key read</th><th>At version</th></tr>}
              rows={t.reads.map((r) => <tr key={`r-${r.key}`}><td><code className="wrap">{r.key}</code></td><td>{r.version === null ? 'absent' : `block ${r.version.block}, tx ${r.version.tx}`}</td></tr>)}
            />
            <Rows
              head={<tr><th>Key written</th><th>Value</th></tr>}
              rows={t.writes.map((w) => <tr key={`w-${w.key}`}><td><code className="wrap">{w.key}</code></td><td>{w.value === null ? <em>deleted</em> : <Json value={w.value} />}</td></tr>)}
            />
            {t.events.length > 0 && <><h2>Events</h2><Json value={t.events} /></>}
            <h2>Receipt</h2>
            <ReceiptPanel receipt={t.receipt} />
            <p className="muted">The receipt itself: <code>silk tx {chain} {txId}</code> or the SDK's <code>verifyReceipt</code> check it the same way, anywhere.</p>
            <Json value={t.receipt} />
          </>
        )}
      </Show>
    </div>
  );
}
