/**
 * Writes and contract queries. A client signs its proposal locally (SDK, CLI) and the server
 * never sees its key; a write that needs co-signers is endorsed, co-signed by them locally and
 * then ordered as an envelope (docs/api.md, "Co-signing"); the demo alliance also offers `/api/demo/…` routes that sign for its demo
 * users with server-held keys, and every response of such a server says so in a header.
 */
import type { FastifyInstance } from 'fastify';
import type { Signer } from '../../crypto/p256.js';
import { CommitError, SilkError } from '../../errors.js';
import type { SubmitResult } from '../../gateway/gateway.js';
import type { JsonValue } from '../../ledger/json-value.js';
import { receiptToJson } from '../../ledger/receipt.js';
import type { SignedProposalBytes } from '../../peer/peer.js';
import type { ApiBackend } from '../backend.js';
import { ChainParams, DemoCallBody, EnvelopeBody, fromBase64, SignedProposalBody, toBase64 } from '../wire.js';

function signedFrom(body: SignedProposalBody): SignedProposalBytes {
  return { bytes: fromBase64(body.proposal), signature: fromBase64(body.signature) };
}

/** The response of a committed transaction; an invalid commit is an error with its receipt. */
function committed(result: SubmitResult): object {
  const body = { txId: result.txId, code: result.code, blockNumber: result.blockNumber, txIndex: result.txIndex, response: result.response ?? null, receipt: receiptToJson(result.receipt) };
  if (result.code !== 'VALID') {
    throw new CommitError(result.code, `transaction ${result.txId} was committed in block ${result.blockNumber} as ${result.code}: its writes were not applied`, { txId: result.txId, block: result.blockNumber, txIndex: result.txIndex, receipt: body.receipt });
  }
  return body;
}

/** Registers evaluate and submit, and the demo-signed variants when the backend has demo keys. */
export function registerTransactionRoutes(app: FastifyInstance, backend: ApiBackend): void {
  const { gateway } = backend;
  const orgsOption = (orgs: readonly string[] | undefined): { endorsingOrgs?: readonly string[] } => (orgs === undefined ? {} : { endorsingOrgs: orgs });

  app.post<{ Params: ChainParams; Body: SignedProposalBody }>(
    '/api/chains/:chain/evaluate',
    { schema: { tags: ['transactions'], summary: 'Runs a query function of a contract with a signed proposal; nothing is ordered', params: ChainParams, body: SignedProposalBody } },
    (req) => ({ result: gateway.evaluateSigned(signedFrom(req.body), { expect: { chain: req.params.chain } }) ?? null }),
  );

  app.post<{ Params: ChainParams; Body: SignedProposalBody }>(
    '/api/chains/:chain/transactions',
    {
      schema: {
        tags: ['transactions'],
        summary: 'Submits a signed proposal: endorse, order, wait for the commit; returns the receipt',
        description: 'A replayed proposal is refused with DUPLICATE_TXID and one signed outside the chain window with EXPIRED, before any peer runs it.',
        params: ChainParams,
        body: SignedProposalBody,
      },
    },
    async (req) => committed(await gateway.submitSigned(signedFrom(req.body), { ...orgsOption(req.body.endorsingOrgs), expect: { chain: req.params.chain } })),
  );

  app.post<{ Params: ChainParams; Body: SignedProposalBody }>(
    '/api/chains/:chain/endorsements',
    {
      schema: {
        tags: ['transactions'],
        summary: 'Endorses a signed proposal without ordering it: the envelope for co-signers, and the policy left to them',
        description: 'Endorsed by the peers the contract and the written keys ask for. `unmet` names the first policy only a co-signer can meet (null when none): each co-signer adds an endorsement over `result` (cosignEnvelope), then POST the envelope to /envelopes.',
        params: ChainParams,
        body: SignedProposalBody,
      },
    },
    async (req) => {
      const e = await gateway.endorseSigned(signedFrom(req.body), { ...orgsOption(req.body.endorsingOrgs), expect: { chain: req.params.chain } });
      return { txId: e.txId, envelope: toBase64(e.envelope), result: toBase64(e.result), response: e.response ?? null, unmet: e.unmet === undefined ? null : { policy: e.unmet.policy, key: e.unmet.key ?? null, keyLevel: e.unmet.keyLevel } };
    },
  );

  app.post<{ Params: ChainParams; Body: EnvelopeBody }>(
    '/api/chains/:chain/envelopes',
    {
      schema: {
        tags: ['transactions'],
        summary: 'Orders an endorsed (and co-signed) envelope and waits for the commit; returns the receipt',
        description: 'The answer of a transaction already on the ledger is its outcome there; nothing commits twice.',
        params: ChainParams,
        body: EnvelopeBody,
      },
    },
    async (req) => committed(await gateway.submitEnvelope(req.params.chain, fromBase64(req.body.envelope), { expect: { chain: req.params.chain } })),
  );

  const demo = backend.demoIdentities;
  if (demo === undefined) return;
  const demoSigner = (as: { org: string; name: string }): Signer => {
    const signer = demo.get(`${as.org}/${as.name}`);
    if (signer === undefined) throw new SilkError('INVALID_ARGUMENT', `${as.org}/${as.name} is not a demo identity; GET /api/demo/identities lists them`, { path: 'body.as' });
    return signer;
  };

  app.get('/api/demo/identities', { schema: { tags: ['demo'], summary: 'Demo users the server holds keys for (demo alliance only)' } }, () => ({
    items: [...demo.keys()].map((id) => {
      const [org, name] = id.split('/');
      return { org, name };
    }),
  }));

  app.post<{ Params: ChainParams; Body: DemoCallBody }>(
    '/api/demo/chains/:chain/evaluate',
    { schema: { tags: ['demo'], summary: 'Evaluate as a demo user, signed with the server-held key (demo alliance only)', params: ChainParams, body: DemoCallBody } },
    (req) => {
      const b = req.body;
      return { result: gateway.evaluate({ chain: req.params.chain, contract: b.contract, fn: b.fn, args: b.args as JsonValue }, demoSigner(b.as)) ?? null };
    },
  );

  app.post<{ Params: ChainParams; Body: DemoCallBody }>(
    '/api/demo/chains/:chain/transactions',
    { schema: { tags: ['demo'], summary: 'Submit as a demo user, signed with the server-held key (demo alliance only)', params: ChainParams, body: DemoCallBody } },
    async (req) => {
      const b = req.body;
      return committed(await gateway.submit({ chain: req.params.chain, contract: b.contract, fn: b.fn, args: b.args as JsonValue, ...orgsOption(b.endorsingOrgs) }, demoSigner(b.as)));
    },
  );
}
