/** Chains, blocks and transactions: what an explorer browses. */
import type { FastifyInstance } from 'fastify';
import { SilkError } from '../../errors.js';
import { receiptToJson } from '../../ledger/receipt.js';
import { describeBlock, describeTransaction, transactionBytes } from '../../peer/block-view.js';
import { VALIDATION_CODES } from '../../errors.js';
import type { ApiBackend } from '../backend.js';
import { sendCompressible } from '../compression.js';
import { BlockParams, ChainParams, ChainQuery, DEFAULT_PAGE_SIZE, PageQuery, TxParams } from '../wire.js';
import { decodeNumberBookmark, encodeNumberBookmark } from './bookmarks.js';

/** Registers the chain, block and transaction read routes. */
export function registerChainRoutes(app: FastifyInstance, backend: ApiBackend): void {
  const { peer } = backend;

  app.get('/api/chains', { schema: { tags: ['chains'], summary: 'Chains this node has joined, with height, members and contracts' } }, () => ({
    items: peer.chains().map((chain) => {
      const config = peer.config(chain);
      return { name: chain, height: peer.height(chain), orgs: Object.keys(config.orgs), contracts: config.contracts };
    }),
  }));

  app.get<{ Params: ChainParams; Querystring: ChainQuery }>(
    '/api/chains/:chain',
    { schema: { tags: ['chains'], summary: "A chain's height and its configuration in force, or the one that governed block `at` (to check an old receipt with the keys of its time), with the blocks it governs (`governs.until` null while in force)", params: ChainParams, querystring: ChainQuery } },
    (req) => {
      const { chain } = req.params;
      const height = peer.height(chain);
      const { at } = req.query;
      if (at !== undefined && at >= height) throw new SilkError('NOT_FOUND', `chain ${chain} has no block ${at} yet (height ${height})`, { block: at });
      // Without `at`: the configuration the next block is validated under, the one in force now.
      const span = peer.configSpanAt(chain, at ?? height);
      return { name: chain, height, ...(at === undefined ? {} : { at }), config: span.config, governs: { from: span.from, until: span.until ?? null } };
    },
  );

  app.get<{ Params: ChainParams; Querystring: PageQuery }>(
    '/api/chains/:chain/blocks',
    { schema: { tags: ['blocks'], summary: 'Blocks, newest first', params: ChainParams, querystring: PageQuery } },
    (req) => {
      const { chain } = req.params;
      const limit = req.query.limit ?? DEFAULT_PAGE_SIZE;
      const height = peer.height(chain);
      const first = req.query.bookmark === undefined ? height - 1 : Math.min(decodeNumberBookmark(req.query.bookmark), height - 1);
      const store = peer.store(chain);
      const items = [];
      for (let n = first; n >= 0 && items.length < limit; n--) {
        const b = store.block(n);
        if (b === undefined) break;
        const valid = b.codes.filter((c) => c === 0).length;
        items.push({ number: n, hash: Buffer.from(b.hash).toString('hex'), timestamp: b.timestamp, transactions: b.codes.length, valid, sizeBytes: b.bytes.length });
      }
      const next = first - items.length;
      return next >= 0 && items.length > 0 ? { items, bookmark: encodeNumberBookmark(next) } : { items };
    },
  );

  app.get<{ Params: BlockParams }>('/api/chains/:chain/blocks/:number', { schema: { tags: ['blocks'], summary: 'A block with its transactions and their validation codes', params: BlockParams } }, (req) => {
    const { chain, number } = req.params;
    const view = describeBlock(peer, chain, number);
    if (view === undefined) throw new SilkError('NOT_FOUND', `chain ${chain} has no block ${number} (height ${peer.height(chain)})`, { block: number });
    return view;
  });

  // The block exactly as ordered, for a peer catching up from another peer: it checks the bytes
  // itself (hash chain, orderer signature, every transaction), so nothing here is trusted.
  app.get<{ Params: BlockParams }>('/api/chains/:chain/blocks/:number/raw', { schema: { tags: ['blocks'], summary: "A block's ordered bytes (canonical CBOR, application/octet-stream), for peers catching up and auditors replaying the chain", params: BlockParams } }, (req, reply) => {
    const { chain, number } = req.params;
    const bytes = peer.blockBytes(chain, number);
    if (bytes === undefined) throw new SilkError('NOT_FOUND', `chain ${chain} has no block ${number} (height ${peer.height(chain)})`, { block: number });
    return sendCompressible(req, reply.type('application/octet-stream'), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });

  app.get<{ Params: TxParams }>('/api/chains/:chain/transactions/:txId', { schema: { tags: ['transactions'], summary: 'A transaction: status, what it read and wrote, and its receipt', params: TxParams } }, (req) => {
    const { chain, txId } = req.params;
    const view = describeTransaction(peer, chain, txId);
    const receipt = peer.receipt(chain, txId);
    if (view === undefined || receipt === undefined) throw new SilkError('NOT_FOUND', `chain ${chain} has no transaction ${txId}`, { txId });
    return { ...view, receipt: receiptToJson(receipt) };
  });

  // The envelope exactly as ordered: its SHA-256 is the receipt's envelope hash, so a client can
  // check what the transaction wrote (e.g. that it recorded an EPCIS event: src/traceability/event-proof.ts).
  app.get<{ Params: TxParams }>('/api/chains/:chain/transactions/:txId/raw', { schema: { tags: ['transactions'], summary: "A transaction's bytes as ordered (canonical CBOR, application/octet-stream); their SHA-256 is its receipt's envelopeHash", params: TxParams } }, (req, reply) => {
    const { chain, txId } = req.params;
    const bytes = transactionBytes(peer, chain, txId);
    if (bytes === undefined) throw new SilkError('NOT_FOUND', `chain ${chain} has no transaction ${txId}`, { txId });
    return sendCompressible(req, reply.type('application/octet-stream'), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });

  app.get('/api/codes', { schema: { tags: ['node'], summary: 'Validation codes in their stored order' } }, () => ({ items: VALIDATION_CODES }));
}
