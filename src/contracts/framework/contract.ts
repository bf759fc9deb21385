/**
 * The contract framework: what a contract is, and the transaction context it sees.
 *
 * A contract is a class whose `functions` table maps names to typed, validated transaction
 * functions. It runs only against a {@link TransactionContext}: state, queries, history,
 * events, the creator and the proposal's time and id. It has no clock, no randomness and no
 * I/O (lint refuses them under `src/contracts/`), so every endorser computes the same result.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { JsonValue } from '../../ledger/json-value.js';

/** The identity of the proposal's creator, as the chain knows it. */
export interface CreatorIdentity {
  readonly org: string;
  readonly role: string;
  readonly name: string;
  /** Hex of the compressed public key. */
  readonly key: string;
  /** The function from the chain's registry (`admin` for a configured admin; absent for other configured members). */
  readonly function?: string;
  /** Authority level 1..9 (9 for a configured admin; absent for other configured members). */
  readonly level?: number;
}

/**
 * What a function demands of its creator's authority: at least `minLevel`, and when `function`
 * is given, that function (an org admin, function `admin` at level 9, satisfies any function).
 */
export interface AuthorityRequirement {
  readonly function?: string;
  readonly minLevel: number;
}

/**
 * True when a creator meets an authority requirement. Configured members other than admins
 * have no level, so they meet none.
 * @example hasAuthority({ org: 'Org1', role: 'member', name: 'x', key, function: 'finance', level: 3 }, { function: 'finance', minLevel: 3 }) // true
 */
export function hasAuthority(creator: CreatorIdentity, required: AuthorityRequirement): boolean {
  if (creator.level === undefined || creator.level < required.minLevel) return false;
  return required.function === undefined || creator.function === required.function || creator.function === 'admin';
}

/** A page request: `limit` items after `bookmark`. */
export interface PageRequest {
  readonly limit?: number;
  readonly bookmark?: string;
}

/** A page of results and the bookmark of the next page (absent on the last page). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly bookmark?: string;
}

/** A state entry returned by range and rich queries. */
export interface StateEntry {
  readonly key: string;
  readonly value: JsonValue;
}

/** One change of a key, as key history returns it. */
export interface KeyModification {
  readonly txId: string;
  readonly block: number;
  readonly tx: number;
  readonly timestamp: number;
  /** `null` when the transaction deleted the key. */
  readonly value: JsonValue | null;
}

/** A Mango rich query (documented subset; see docs/rich-queries.md). */
export interface RichQuery {
  readonly selector: Record<string, unknown>;
  readonly sort?: readonly (string | Record<string, 'asc' | 'desc'>)[];
}

/** What a transaction function can do. Reads see committed state plus this transaction's own writes. */
export interface TransactionContext {
  readonly chain: string;
  readonly txId: string;
  /** The proposal's timestamp (ms), checked against the block's by every peer. */
  readonly timestamp: number;
  readonly creator: CreatorIdentity;
  /**
   * Who a public key (hex, compressed P-256) is on this chain when the transaction is simulated:
   * a configured member, or a key registered through the identity contract and valid at the
   * proposal's time; undefined otherwise. Like a rich query, the answer is not re-validated at
   * commit: a key revoked between endorsement and commit is not noticed.
   */
  identityOf(key: string): CreatorIdentity | undefined;
  /** Reads a key (recorded in the read set). */
  get(key: string): JsonValue | undefined;
  /** Writes a key. */
  put(key: string, value: JsonValue): void;
  /** Deletes a key. */
  delete(key: string): void;
  /** Sets the key-level endorsement policy that future writes of `key` must satisfy. */
  setKeyPolicy(key: string, policy: string): void;
  /** Keys in [start, end) in key order (each returned key is recorded in the read set). */
  range(start: string, end: string, page?: PageRequest): Page<StateEntry>;
  /** A rich query over this contract's indexed state (not re-validated at commit: phantom reads are possible). */
  query(query: RichQuery, page?: PageRequest): Page<StateEntry>;
  /** The history of a key, oldest or newest first. */
  history(key: string, options?: PageRequest & { readonly order?: 'asc' | 'desc' }): Page<KeyModification>;
  /** Emits a contract event, delivered to subscribers when the transaction commits VALID. */
  emit(name: string, payload: JsonValue): void;
}

/** A transaction function with its argument schema. */
export interface TransactionFunction<S extends TSchema = TSchema> {
  readonly schema: S;
  readonly check: TypeCheck<S>;
  /** `true` for functions that only read (evaluate); they are refused as submitted transactions. */
  readonly readonly: boolean;
  /** Minimum role required of the creator, if any (e.g. 'admin'). */
  readonly roles?: readonly string[];
  /** Function and minimum level required of the creator, if any; checked by the endorsing peer like `roles`. */
  readonly authority?: AuthorityRequirement;
  run(ctx: TransactionContext, args: Static<S>): JsonValue | undefined;
}

/** A state index a contract declares for rich queries. */
export interface StateIndex {
  readonly name: string;
  readonly fields: readonly string[];
}

/** A contract: a name, a version, its functions and the indexes its queries use. */
export interface Contract {
  readonly name: string;
  readonly version: string;
  readonly indexes: readonly StateIndex[];
  readonly functions: Readonly<Record<string, TransactionFunction>>;
}

/** Options of a transaction function. */
export interface FunctionOptions {
  readonly roles?: readonly string[];
  /** Function and minimum level the creator needs, e.g. `{ function: 'finance', minLevel: 3 }`. */
  readonly authority?: AuthorityRequirement;
}

function accessOf(options: FunctionOptions): { roles?: readonly string[]; authority?: AuthorityRequirement } {
  return { ...(options.roles ? { roles: options.roles } : {}), ...(options.authority ? { authority: options.authority } : {}) };
}

/**
 * Declares a state-changing transaction function.
 * @param schema TypeBox schema of the argument object
 * @param run the function body
 * @example transaction(Type.Object({ id: Type.String() }), (ctx, { id }) => ctx.delete(id))
 */
export function transaction<S extends TSchema>(schema: S, run: (ctx: TransactionContext, args: Static<S>) => JsonValue | undefined, options: FunctionOptions = {}): TransactionFunction<S> {
  return { schema, check: TypeCompiler.Compile(schema), readonly: false, run, ...accessOf(options) };
}

/**
 * Declares a read-only (evaluate) function.
 * @example query(Type.Object({ id: Type.String() }), (ctx, { id }) => ctx.get(id) ?? null)
 */
export function query<S extends TSchema>(schema: S, run: (ctx: TransactionContext, args: Static<S>) => JsonValue | undefined, options: FunctionOptions = {}): TransactionFunction<S> {
  return { schema, check: TypeCompiler.Compile(schema), readonly: true, run, ...accessOf(options) };
}

/** The error a contract throws to refuse a proposal; its message reaches the client. */
export class ContractRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractRefusal';
  }
}
