/** Identities on chain: registered keys of a chain, one key's certificate chain and its standing now. */
import type { FastifyInstance } from 'fastify';
import { SilkError } from '../../errors.js';
import { IDENTITY_CONTRACT, IDENTITY_KEY_PREFIX, identityStateKey } from '../../identity/identity-record.js';
import type { JsonValue } from '../../ledger/json-value.js';
import type { ApiBackend } from '../backend.js';
import { DEFAULT_PAGE_SIZE, IdentitiesQuery, IdentityParams, ChainParams } from '../wire.js';

/** Deepest certificate chain shown. */
const MAX_CHAIN = 16;

/** Registers the identity read routes. */
export function registerIdentityRoutes(app: FastifyInstance, backend: ApiBackend): void {
  const { peer } = backend;

  app.get<{ Params: ChainParams; Querystring: IdentitiesQuery }>(
    '/api/chains/:chain/identities',
    { schema: { tags: ['identities'], summary: 'Keys registered through the identity contract (of one org with `org`), with their status', params: ChainParams, querystring: IdentitiesQuery } },
    (req) => {
      const { chain } = req.params;
      const { org, limit = DEFAULT_PAGE_SIZE, bookmark } = req.query;
      const reader = peer.reader(chain, IDENTITY_CONTRACT);
      const page = { limit, ...(bookmark === undefined ? {} : { bookmark }) };
      // A range bookmark is the last key listed (base64url): one outside the records is not one this list returned.
      if (org === undefined && bookmark !== undefined && !Buffer.from(bookmark, 'base64url').toString('utf8').startsWith(IDENTITY_KEY_PREFIX)) {
        throw new SilkError('INVALID_ARGUMENT', 'bookmark is not one this list returned', { path: 'querystring.bookmark' });
      }
      const found = org === undefined ? reader.range(IDENTITY_KEY_PREFIX, 'id;', page) : reader.query({ selector: { org } }, page);
      return { items: found.items.map((e) => e.value), ...(found.bookmark === undefined ? {} : { bookmark: found.bookmark }) };
    },
  );

  app.get<{ Params: IdentityParams }>(
    '/api/chains/:chain/identities/:key',
    { schema: { tags: ['identities'], summary: "A key: who it is, whether it may sign now (and why not), and its certificate chain up to the org's configured admin key", params: IdentityParams } },
    (req) => {
      const { chain, key } = req.params;
      const reader = peer.reader(chain, IDENTITY_CONTRACT);
      const height = peer.height(chain);
      const standing = peer.identities(chain).standing(chain, key, height, Date.now());
      const record = reader.entry(identityStateKey(key));
      if (record === undefined) {
        const member = Object.entries(peer.config(chain).orgs).flatMap(([org, o]) => o.members.filter((m) => m.key === key).map((m) => ({ org, ...m })))[0];
        if (member === undefined) throw new SilkError('NOT_FOUND', `key ${key} is neither registered nor configured on chain ${chain}`, { path: 'params.key' });
        return { key, standing, configured: member, chain: [] };
      }
      const ancestors: JsonValue[] = [];
      let parent = (record.value as { parent?: string }).parent;
      while (parent !== undefined && ancestors.length < MAX_CHAIN) {
        const p = reader.entry(identityStateKey(parent));
        if (p === undefined) {
          const root = Object.entries(peer.config(chain).orgs).flatMap(([org, o]) => o.members.filter((m) => m.key === parent).map((m) => ({ org, ...m })))[0];
          ancestors.push({ key: parent, configured: root ?? null });
          break;
        }
        ancestors.push({ ...(p.value as Record<string, JsonValue>), registeredIn: p.version.block });
        parent = (p.value as { parent?: string }).parent;
      }
      return { key, standing, record: record.value, version: record.version, chain: ancestors };
    },
  );
}
