/**
 * Who may sign on a chain: the keys registered through the identity contract (each org's HD
 * function keys, DESIGN §4), and one key's standing now (may it sign, and if not why: retired,
 * compromised, an ancestor compromised, expired…), its certificate and the chain of parent keys
 * that vouch for it, up to the org's configured admin key. An auditor follows a transaction's
 * creator here to see that the key was entitled to sign.
 */
import type { ReactNode } from 'react';
import { getJson, type CertificateLink, type IdentityAnswer, type IdentityRecord, type KeyStanding, type Page } from '../api.js';
import { Hash, Pager, Show, Time, count } from '../components/common.js';
import { href } from '../route.js';
import { useApi } from '../use-api.js';

const e = encodeURIComponent;
const KEYS_PER_PAGE = 50;

/** What each standing means for a reader. */
const STANDING_WORDS: Readonly<Record<KeyStanding, string>> = {
  valid: 'may sign now',
  unknown: 'not known on this chain',
  'not-yet-valid': 'not valid yet (its window has not opened)',
  retired: 'retired by its org: no longer signs',
  compromised: 'revoked as compromised',
  'ancestor-compromised': 'a key that vouches for it was revoked as compromised',
  expired: 'its validity window has closed',
  'broken-chain': 'a key in its certificate chain is missing',
  'root-not-admin': "its certificate chain does not end at its org's admin key",
};

/** A standing as a badge. */
export function Standing({ standing }: { readonly standing: KeyStanding }): ReactNode {
  return <span className={standing === 'valid' ? 'code code-valid' : 'code code-invalid'} title={STANDING_WORDS[standing]}>{standing}</span>;
}

/** The keys registered on a chain, a page at a time. */
export function KeysPage({ chain, bookmark }: { readonly chain: string; readonly bookmark: string | undefined }): ReactNode {
  const query = new URLSearchParams({ limit: String(KEYS_PER_PAGE), ...(bookmark === undefined ? {} : { bookmark }) });
  const loaded = useApi((signal) => getJson<Page<IdentityRecord>>(`/api/chains/${e(chain)}/identities?${query.toString()}`, signal), [chain, bookmark]);
  return (
    <div>
      <p className="crumbs"><a href={href({ page: 'explorer' })}>Chains</a> › <a href={href({ page: 'chain', chain, bookmark: undefined })}>{chain}</a> › keys</p>
      <h1>Keys registered on {chain}</h1>
      <p className="muted">Each org's admin key is in the chain's configuration; the keys below were registered on chain by a parent key of the same org, with a function, an authority level and a validity window.</p>
      <Show loaded={loaded}>
        {(page) => (
          <>
            <table className="keys">
              <thead><tr><th>Key</th><th>Org</th><th>Function</th><th className="num">Level</th><th>Kind</th><th>Status</th><th>Path</th></tr></thead>
              <tbody>
                {page.items.map((k) => (
                  <tr key={k.key}>
                    <td><a href={href({ page: 'key', chain, key: k.key })}><Hash value={k.key} /></a></td>
                    <td>{k.org}</td>
                    <td>{k.function}</td>
                    <td className="num">{k.level}</td>
                    <td>{k.kind}</td>
                    <td>{k.status}</td>
                    <td><code>{k.path}</code></td>
                  </tr>
                ))}
              </tbody>
            </table>
            {page.items.length === 0 && <p className="muted">No key is registered on this chain yet.</p>}
            <Pager at={bookmark} next={page.bookmark} link={(b) => href({ page: 'keys', chain, bookmark: b })} labels={['« First', 'More keys ›']} />
          </>
        )}
      </Show>
    </div>
  );
}

/** The end of a certificate chain: a key of the configuration (a registered link carries the block that registered it). */
function isConfiguredEnd(link: CertificateLink): link is Extract<CertificateLink, { readonly configured: unknown }> {
  return (link as { readonly registeredIn?: unknown }).registeredIn === undefined;
}

function Link({ chain, link }: { readonly chain: string; readonly link: CertificateLink }): ReactNode {
  if (isConfiguredEnd(link)) {
    return <li><Hash value={link.key} />: {link.configured === null ? 'not a key of the configuration: the chain is broken here' : `${link.configured.org}'s ${link.configured.role} key "${link.configured.name}", in the chain's configuration`}</li>;
  }
  return <li><a href={href({ page: 'key', chain, key: link.key })}><Hash value={link.key} /></a>: {link.org} {link.function}@{link.level} {link.kind} key, registered in block {link.registeredIn}, {link.status}</li>;
}

/** One key: its standing now, who it is, and what vouches for it. */
export function KeyPage({ chain, keyHex }: { readonly chain: string; readonly keyHex: string }): ReactNode {
  const loaded = useApi((signal) => getJson<IdentityAnswer>(`/api/chains/${e(chain)}/identities/${e(keyHex)}`, signal), [chain, keyHex]);
  return (
    <div>
      <p className="crumbs"><a href={href({ page: 'explorer' })}>Chains</a> › <a href={href({ page: 'chain', chain, bookmark: undefined })}>{chain}</a> › <a href={href({ page: 'keys', chain, bookmark: undefined })}>keys</a> › key</p>
      <h1>Key <Hash value={keyHex} /></h1>
      <Show loaded={loaded} title="This key could not be looked up">
        {(k) => (
          <>
            <p className="standing" data-standing={k.standing}><Standing standing={k.standing} /> {STANDING_WORDS[k.standing]}</p>
            {'configured' in k
              ? (
                <dl className="facts">
                  <dt>Who</dt><dd>{k.configured.org}'s {k.configured.role} key "{k.configured.name}"</dd>
                  <dt>Where from</dt><dd>the chain's configuration (changed only by a signed configuration transaction)</dd>
                </dl>
              )
              : (
                <>
                  <dl className="facts">
                    <dt>Org</dt><dd>{k.record.org}</dd>
                    <dt>Function and level</dt><dd>{k.record.function}, authority level {k.record.level}</dd>
                    <dt>Kind</dt><dd>{k.record.kind}</dd>
                    <dt>HD path</dt><dd><code>{k.record.path}</code></dd>
                    <dt>Valid</dt><dd><Time ms={k.record.notBefore} /> to <Time ms={k.record.notAfter} /></dd>
                    <dt>Status</dt><dd>{k.record.status}{k.record.replacedBy === undefined ? '' : ', replaced by '}{k.record.replacedBy !== undefined && <a href={href({ page: 'key', chain, key: k.record.replacedBy })}><Hash value={k.record.replacedBy} /></a>}</dd>
                    <dt>Registered</dt><dd>block {count(k.version.block)}, by <a href={href({ page: 'transaction', chain, txId: k.record.registeredTx })}><Hash value={k.record.registeredTx} /></a></dd>
                    {k.record.endedTx !== undefined && <><dt>Ended</dt><dd><a href={href({ page: 'transaction', chain, txId: k.record.endedTx })}><Hash value={k.record.endedTx} /></a></dd></>}
                  </dl>
                  <h2>Certificate chain</h2>
                  <ol className="cert-chain">{k.chain.map((link) => <Link key={link.key} chain={chain} link={link} />)}</ol>
                </>
              )}
          </>
        )}
      </Show>
    </div>
  );
}
