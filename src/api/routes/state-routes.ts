/** World state: one key, key ranges, key history and rich queries, per contract. */
import type { FastifyInstance } from 'fastify';
import { SilkError } from '../../errors.js';
import type { ApiBackend } from '../backend.js';
import { ContractParams, DEFAULT_PAGE_SIZE, HistoryQuery, KeyParams, RangeQuery, RichQueryBody } from '../wire.js';

/** Past every key: keys are at most 1024 characters and never contain U+FFFF in practice. */
const END_OF_KEYS = '\uffff';

/** Registers the state read routes. */
export function registerStateRoutes(app: FastifyInstance, backend: ApiBackend): void {
  const { peer } = backend;

  app.get<{ Params: ContractParams; Querystring: RangeQuery }>(
    '/api/chains/:chain/contracts/:contract/state',
    { schema: { tags: ['state'], summary: "Keys of a contract's state in key order, from start (inclusive) to end (exclusive)", params: ContractParams, querystring: RangeQuery } },
    (req) => {
      const { chain, contract } = req.params;
      const q = req.query;
      return peer.reader(chain, contract).range(q.start ?? '', q.end ?? END_OF_KEYS, { limit: q.limit ?? DEFAULT_PAGE_SIZE, ...(q.bookmark === undefined ? {} : { bookmark: q.bookmark }) });
    },
  );

  app.get<{ Params: KeyParams }>('/api/chains/:chain/contracts/:contract/state/:key', { schema: { tags: ['state'], summary: 'One key: its value and the version (block, tx) that wrote it', params: KeyParams } }, (req) => {
    const { chain, contract, key } = req.params;
    const entry = peer.reader(chain, contract).entry(key);
    if (entry === undefined) throw new SilkError('NOT_FOUND', `${contract} has no key ${key} on ${chain}`, { path: 'params.key' });
    return entry;
  });

  app.get<{ Params: KeyParams; Querystring: HistoryQuery }>(
    '/api/chains/:chain/contracts/:contract/state/:key/history',
    { schema: { tags: ['state'], summary: 'Every committed change of a key (newest first by default)', params: KeyParams, querystring: HistoryQuery } },
    (req) => {
      const { chain, contract, key } = req.params;
      const q = req.query;
      return peer.reader(chain, contract).history(key, { order: q.order ?? 'desc', limit: q.limit ?? DEFAULT_PAGE_SIZE, ...(q.bookmark === undefined ? {} : { bookmark: q.bookmark }) });
    },
  );

  app.post<{ Params: ContractParams; Body: RichQueryBody }>(
    '/api/chains/:chain/contracts/:contract/query',
    { schema: { tags: ['state'], summary: "A Mango rich query over the contract's indexed state (docs/rich-queries.md)", params: ContractParams, body: RichQueryBody } },
    (req) => {
      const { chain, contract } = req.params;
      const { selector, sort, limit, bookmark } = req.body;
      return peer.reader(chain, contract).query({ selector, ...(sort === undefined ? {} : { sort }) }, { limit: limit ?? DEFAULT_PAGE_SIZE, ...(bookmark === undefined ? {} : { bookmark }) });
    },
  );
}
