/** Opaque bookmarks of the API's own paginated lists (contract queries bring theirs). */
import { SilkError } from '../../errors.js';

/** Encodes the next block number to list. */
export function encodeNumberBookmark(n: number): string {
  return Buffer.from(`n:${n}`).toString('base64url');
}

/**
 * Decodes a block-list bookmark.
 * @throws SilkError INVALID_ARGUMENT when it is not one this API issued
 */
export function decodeNumberBookmark(bookmark: string): number {
  const m = /^n:(\d{1,15})$/.exec(Buffer.from(bookmark, 'base64url').toString('utf8'));
  if (m === null) throw new SilkError('INVALID_ARGUMENT', 'bookmark is not one this list returned', { path: 'querystring.bookmark' });
  return Number(m[1]);
}
