/**
 * Feeds a chain's identity resolver from the ledger: the identity contract's valid writes of
 * each committed block (live and in `silk verify`'s replay), and the whole registry from state
 * and key history when a peer reopens its ledger.
 */
import { IDENTITY_CONTRACT, IDENTITY_KEY_PREFIX } from '../identity/identity-record.js';
import type { IdentityWrite, RegistryIdentityResolver } from '../identity/registry-identity-resolver.js';
import type { LedgerStore, StateWrite } from '../storage/sqlite-ledger-store.js';

/** Past every `id:` key (':' + 1). */
const IDENTITY_KEYS_END = 'id;';
const PAGE = 1000;

/**
 * Hands the resolver a committed block's identity writes (nothing when it has none: the common case costs one scan of the write list).
 * @param block the block the writes were committed in
 * @param writes the block's valid writes, in order
 */
export function feedIdentityWrites(resolver: RegistryIdentityResolver, block: number, writes: readonly StateWrite[]): void {
  let identity: IdentityWrite[] | undefined;
  for (const w of writes) {
    if (w.ns === IDENTITY_CONTRACT) (identity ??= []).push({ key: w.key, value: w.value });
  }
  if (identity !== undefined) resolver.applyIdentityWrites(block, identity);
}

/**
 * Rebuilds the registry on open: every registered key's history, oldest first, up to `upTo`.
 * Blocks are replayed per key; each key's events only depend on its own history.
 */
export function rebuildIdentityRegistry(resolver: RegistryIdentityResolver, store: LedgerStore, upTo: number): void {
  let after: string | undefined;
  for (;;) {
    const rows = store.range(IDENTITY_CONTRACT, IDENTITY_KEY_PREFIX, IDENTITY_KEYS_END, PAGE, after);
    for (const row of rows) {
      for (const h of store.history(IDENTITY_CONTRACT, row.key, 'asc', 1_000_000)) {
        if (h.block <= upTo) resolver.applyIdentityWrites(h.block, [{ key: row.key, value: h.value }]);
      }
    }
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]?.key;
  }
}
