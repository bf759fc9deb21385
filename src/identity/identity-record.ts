/**
 * What the identity contract keeps in state, shared by the contract that writes it and the
 * peers' registry that reads its committed writes: the contract's name, the state key layout,
 * the record of one registered key and the default function registry.
 */

/** Name (and state namespace) of the identity contract installed on every chain. */
export const IDENTITY_CONTRACT = 'identity';
/** State key prefix of a registered key's record: `id:<hex key>`. */
export const IDENTITY_KEY_PREFIX = 'id:';
/** State key prefix of a function registry entry: `fn:<name>`. */
export const FUNCTION_KEY_PREFIX = 'fn:';
/** The function an org's configured admin key has. */
export const ADMIN_FUNCTION = 'admin';

/** The functions every chain starts with (name → index in the derivation path). */
export const DEFAULT_FUNCTIONS: Readonly<Record<string, number>> = Object.freeze({ admin: 0, sales: 1, finance: 2, logistics: 3, customs: 4, audit: 5, device: 6 });

/**
 * A registered key's status: `active`; `retired` (a planned rotation or retirement: the key
 * stops signing, its descendants stay valid); `compromised` (the key and all its descendants
 * stop being valid).
 */
export type IdentityStatus = 'active' | 'retired' | 'compromised';

/** The state value of `id:<hex key>`. The certificate bytes are the authority; the other fields are for reading. */
export interface IdentityRecord {
  readonly key: string;
  readonly org: string;
  readonly function: string;
  readonly level: number;
  readonly path: string;
  readonly kind: 'member' | 'device';
  readonly parent: string;
  readonly notBefore: number;
  readonly notAfter: number;
  /** Hex of the canonical certificate bytes. */
  readonly certificate: string;
  /** Hex of the parent's signature over them. */
  readonly signature: string;
  readonly status: IdentityStatus;
  /** The key this one replaced (planned rotation). */
  readonly replaces?: string;
  /** The key that replaced this one. */
  readonly replacedBy?: string;
  /** The tx id that registered the key. */
  readonly registeredTx: string;
  /** The tx id that retired or revoked it. */
  readonly endedTx?: string;
  readonly [field: string]: string | number | undefined;
}

/** The state key of a registered key's record. */
export function identityStateKey(keyHex: string): string {
  return `${IDENTITY_KEY_PREFIX}${keyHex}`;
}
