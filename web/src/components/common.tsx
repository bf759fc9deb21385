/** Small pieces every page uses: loading and error states, hashes, times, validation codes. */
import type { ReactNode } from 'react';
import type { ApiError } from '../api.js';
import type { Loaded } from '../use-api.js';

/** Says what failed, with the API's code, in words a user acts on. */
export function ErrorBox({ error, title }: { readonly error: ApiError; readonly title?: string }): ReactNode {
  return (
    <div className="error-box" role="alert">
      <strong>{title ?? 'Could not load this'}</strong>
      <div>{error.message}</div>
      <code>{error.code}</code>
    </div>
  );
}

/** Renders a load: a placeholder while loading, the error if it failed, else `children(value)`. */
export function Show<T>({ loaded, children, title }: { readonly loaded: Loaded<T>; readonly children: (value: T) => ReactNode; readonly title?: string }): ReactNode {
  if (loaded.state === 'loading') return <div className="loading" aria-busy="true">Loading…</div>;
  if (loaded.state === 'failed') return <ErrorBox error={loaded.error} {...(title === undefined ? {} : { title })} />;
  return children(loaded.value);
}

/** A hash or key shortened to its ends, whole in its tooltip and in the clipboard. */
export function Hash({ value, length = 10 }: { readonly value: string; readonly length?: number }): ReactNode {
  const short = value.length <= length * 2 + 1 ? value : `${value.slice(0, length)}…${value.slice(-6)}`;
  return <code className="hash" title={value}>{short}</code>;
}

/** A time stamp in milliseconds, in the reader's locale and zone. */
export function Time({ ms }: { readonly ms: number }): ReactNode {
  const date = new Date(ms);
  return <time dateTime={date.toISOString()}>{date.toLocaleString()}</time>;
}

/** A validation code, green when VALID and red otherwise. */
export function Code({ code }: { readonly code: string }): ReactNode {
  return <span className={code === 'VALID' ? 'code code-valid' : 'code code-invalid'}>{code}</span>;
}

/**
 * A list's page links: back to the first page when this is not it, on to the next when there is one.
 * @param at this page's bookmark (undefined on the first page)
 * @param next the bookmark of the page after it, as the API answered (undefined on the last)
 * @param link the address of the page at a bookmark
 * @param labels the two links' words, e.g. `['« Newest', 'Older blocks ›']`
 */
export function Pager({ at, next, link, labels }: { readonly at: string | undefined; readonly next: string | undefined; readonly link: (bookmark: string | undefined) => string; readonly labels: readonly [string, string] }): ReactNode {
  return (
    <p className="pager">
      {at !== undefined && <a href={link(undefined)}>{labels[0]}</a>}
      {next !== undefined && <a href={link(next)}>{labels[1]}</a>}
    </p>
  );
}

/** Thousands separators for counts. */
export const count = (n: number): string => n.toLocaleString('en-US');
