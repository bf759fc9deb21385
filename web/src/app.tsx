/** The UI's frame: the navigation bar and the page the address names. */
import type { ReactNode } from 'react';
import { DashboardPage } from './pages/dashboard-page.js';
import { BlockPage, ChainPage, ExplorerPage, TransactionPage } from './pages/explorer-pages.js';
import { KeyPage, KeysPage } from './pages/key-pages.js';
import { VerifyPage } from './pages/verify-page.js';
import { href, useRoute, type Route } from './route.js';

function Page({ route }: { readonly route: Route }): ReactNode {
  switch (route.page) {
    case 'verify': return <VerifyPage key={route.epc ?? ''} epc={route.epc} />;
    case 'explorer': return <ExplorerPage />;
    case 'chain': return <ChainPage chain={route.chain} bookmark={route.bookmark} />;
    case 'block': return <BlockPage chain={route.chain} number={route.number} />;
    case 'transaction': return <TransactionPage chain={route.chain} txId={route.txId} />;
    case 'keys': return <KeysPage chain={route.chain} bookmark={route.bookmark} />;
    case 'key': return <KeyPage chain={route.chain} keyHex={route.key} />;
    case 'dashboard': return <DashboardPage />;
    case 'not-found': return <div className="error-box" role="alert"><strong>No such page</strong><div>#{route.hash} is not an address of this UI.</div></div>;
  }
}

const SECTIONS = [
  { title: 'Check a product', route: { page: 'verify', epc: undefined }, pages: ['verify'] },
  { title: 'Explorer', route: { page: 'explorer' }, pages: ['explorer', 'chain', 'block', 'transaction', 'keys', 'key'] },
  { title: 'Dashboard', route: { page: 'dashboard' }, pages: ['dashboard'] },
] as const satisfies readonly { title: string; route: Route; pages: readonly Route['page'][] }[];

/** The whole UI. */
export function App(): ReactNode {
  const route = useRoute();
  return (
    <>
      <header className="top">
        <a className="brand" href={href({ page: 'verify', epc: undefined })}>Silkledger</a>
        <nav>
          {SECTIONS.map((s) => (
            <a key={s.title} href={href(s.route)} aria-current={(s.pages as readonly string[]).includes(route.page) ? 'page' : undefined}>{s.title}</a>
          ))}
        </nav>
        <a className="docs" href="/docs">API</a>
      </header>
      <main>
        <Page route={route} />
      </main>
    </>
  );
}
