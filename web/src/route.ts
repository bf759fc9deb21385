/**
 * The UI's routes, kept in the URL's hash so every view has an address to bookmark or share:
 * `#/verify?epc=…`, `#/explorer`, `#/chains/<chain>`, `#/chains/<chain>/blocks/<n>`,
 * `#/chains/<chain>/tx/<txId>`, `#/chains/<chain>/keys[/<key>]`, `#/dashboard`. A page served at a GS1 Digital Link path
 * (`/01/<gtin>/21/<serial>`, what a label's QR code holds) opens the verify page for that item.
 */
import { useEffect, useState } from 'react';
import { DIGITAL_LINK_ITEM_OR_LOT_PATH } from 'silkledger/epc-identifiers';

/** Where the UI is. */
export type Route =
  | { readonly page: 'verify'; readonly epc: string | undefined }
  | { readonly page: 'explorer' }
  | { readonly page: 'chain'; readonly chain: string; readonly bookmark: string | undefined }
  | { readonly page: 'block'; readonly chain: string; readonly number: number }
  | { readonly page: 'transaction'; readonly chain: string; readonly txId: string }
  | { readonly page: 'keys'; readonly chain: string; readonly bookmark: string | undefined }
  | { readonly page: 'key'; readonly chain: string; readonly key: string }
  | { readonly page: 'dashboard' }
  | { readonly page: 'not-found'; readonly hash: string };


/**
 * Parses a location into a route.
 * @param pathname the location's path (a Digital Link path opens the verify page)
 * @param hash the location's hash, with or without its `#`
 */
export function parseRoute(pathname: string, hash: string): Route {
  const text = hash.replace(/^#/, '');
  if (text === '' || text === '/') {
    if (DIGITAL_LINK_ITEM_OR_LOT_PATH.test(pathname)) return { page: 'verify', epc: `${window.location.origin}${pathname}` };
    return { page: 'verify', epc: undefined };
  }
  const [path = '', query = ''] = text.split('?', 2);
  let parts: string[];
  try {
    parts = path.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p));
  } catch {
    // A malformed %-escape names no page.
    return { page: 'not-found', hash: text };
  }
  const params = new URLSearchParams(query);
  const [first, chain, kind, id] = parts;
  if (first === 'verify' && parts.length === 1) return { page: 'verify', epc: params.get('epc') ?? undefined };
  if (first === 'explorer' && parts.length === 1) return { page: 'explorer' };
  if (first === 'dashboard' && parts.length === 1) return { page: 'dashboard' };
  if (first === 'chains' && chain !== undefined) return chainRoute(chain, kind, id, parts.length, params) ?? { page: 'not-found', hash: text };
  return { page: 'not-found', hash: text };
}

/** A route under `#/chains/<chain>`, or undefined when the rest names none. */
function chainRoute(chain: string, kind: string | undefined, id: string | undefined, parts: number, params: URLSearchParams): Route | undefined {
  const from = params.get('from') ?? undefined;
  if (parts === 2) return { page: 'chain', chain, bookmark: from };
  if (kind === 'keys' && parts === 3) return { page: 'keys', chain, bookmark: from };
  if (id === undefined || parts !== 4) return undefined;
  if (kind === 'blocks' && /^\d+$/.test(id)) return { page: 'block', chain, number: Number(id) };
  if (kind === 'tx') return { page: 'transaction', chain, txId: id };
  if (kind === 'keys') return { page: 'key', chain, key: id };
  return undefined;
}

/** The hash of a route, for links. */
export function href(route: Route): string {
  const e = encodeURIComponent;
  switch (route.page) {
    case 'verify': return route.epc === undefined ? '#/verify' : `#/verify?epc=${e(route.epc)}`;
    case 'explorer': return '#/explorer';
    case 'dashboard': return '#/dashboard';
    case 'chain': return `#/chains/${e(route.chain)}${route.bookmark === undefined ? '' : `?from=${e(route.bookmark)}`}`;
    case 'block': return `#/chains/${e(route.chain)}/blocks/${route.number}`;
    case 'transaction': return `#/chains/${e(route.chain)}/tx/${e(route.txId)}`;
    case 'keys': return `#/chains/${e(route.chain)}/keys${route.bookmark === undefined ? '' : `?from=${e(route.bookmark)}`}`;
    case 'key': return `#/chains/${e(route.chain)}/keys/${e(route.key)}`;
    case 'not-found': return `#${route.hash}`;
  }
}

/** The current route, following the location as it changes. */
export function useRoute(): Route {
  const read = (): Route => parseRoute(window.location.pathname, window.location.hash);
  const [route, setRoute] = useState<Route>(read);
  useEffect(() => {
    const onChange = (): void => { setRoute(read()); };
    window.addEventListener('hashchange', onChange);
    window.addEventListener('popstate', onChange);
    return () => {
      window.removeEventListener('hashchange', onChange);
      window.removeEventListener('popstate', onChange);
    };
  }, []);
  return route;
}
