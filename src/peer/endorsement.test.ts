/**
 * Endorsement and evaluation at the peer (every refusal a client can meet before ordering), the
 * gateway's submit/resubmit path with receipts and tx-id de-duplication, and the paginated
 * queries a contract offers: key history both ways, range queries and a Mango rich query.
 * Runs on an embedded three-org network with `basic` and a small probe contract.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { BasicContract } from '../contracts/basic/basic-contract.js';
import { ContractRefusal, query, transaction, type Contract, type StateIndex } from '../contracts/framework/contract.js';
import { fromHex, toHex } from '../crypto/hash.js';
import { generateSigner, P256_N, verifyP256, type Signer } from '../crypto/p256.js';
import { EndorseError, isSilkError, SubmitError, type ErrorCode } from '../errors.js';
import type { Gateway } from '../gateway/gateway.js';
import type { JsonValue } from '../ledger/json-value.js';
import { createProposal, type SignedProposal } from '../ledger/proposal.js';
import { verifyReceipt, type ReceiptTrust } from '../ledger/receipt.js';
import { decodeTransaction, decodeTxResult, encodeEnvelope } from '../ledger/transaction.js';
import { openEmbeddedNetwork, type EmbeddedNetwork, type NetworkSpec } from '../network/embedded-network.js';
import { tempDir, THREE_ORG_SPEC } from '../testing/fixtures.js';
import type { Peer } from './peer.js';
import { toDer } from '../testing/signature-forms.js';

const CHAIN = 'trade';

const Key = Type.String({ minLength: 1, maxLength: 256 });

/** A probe contract: blind puts, a range query, and query functions that try to change state. */
class ProbeContract implements Contract {
  readonly name = 'probe';
  readonly version = '1.0';
  readonly indexes: readonly StateIndex[] = [];
  readonly functions = {
    put: transaction(Type.Object({ key: Key, value: Type.String() }, { additionalProperties: false }), (ctx, { key, value }) => {
      ctx.put(key, value);
      return null;
    }),
    range: query(Type.Object({ start: Type.String(), end: Type.String(), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), bookmark: Type.Optional(Type.String()) }, { additionalProperties: false }), (ctx, a) => {
      const page = ctx.range(a.start, a.end, { limit: a.limit ?? 100, ...(a.bookmark === undefined ? {} : { bookmark: a.bookmark }) });
      return { keys: page.items.map((e) => e.key), values: page.items.map((e) => e.value), ...(page.bookmark === undefined ? {} : { bookmark: page.bookmark }) };
    }),
    writeInQuery: query(Type.Object({}), (ctx) => {
      ctx.put('sneaky', 1);
      return null;
    }),
    deleteInQuery: query(Type.Object({ key: Key }), (ctx, { key }) => {
      ctx.delete(key);
      return null;
    }),
    policyInQuery: query(Type.Object({ key: Key }), (ctx, { key }) => {
      ctx.setKeyPolicy(key, "OR('Org1.peer')");
      return null;
    }),
    emitInQuery: query(Type.Object({}), (ctx) => {
      ctx.emit('Sneaky', {});
      return null;
    }),
    adminOnly: transaction(Type.Object({}), (ctx) => {
      ctx.put('admin-was-here', true);
      return null;
    }, { roles: ['admin'] }),
    refuse: transaction(Type.Object({}), () => {
      throw new ContractRefusal('not today');
    }),
    crash: transaction(Type.Object({}), () => {
      throw new Error('boom');
    }),
  };
}

const SPEC: NetworkSpec = {
  orgs: THREE_ORG_SPEC.orgs,
  chains: [{
    name: CHAIN,
    contracts: [{ name: 'basic', policy: "OR('Org1.peer', 'Org2.peer', 'Org3.peer')" }, { name: 'probe', policy: "OR('Org1.peer', 'Org2.peer', 'Org3.peer')" }],
    batch: { maxTxs: 100, timeoutMs: 10 },
  }],
};

/** A JSON value as plain objects (decoded arguments come back as objects that inherit nothing). */
const plain = (v: JsonValue | undefined): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('endorsement, submission and queries', () => {
  let net: EmbeddedNetwork;
  let dir: { path: string; cleanup(): void };
  let alice: Signer;
  let bob: Signer;
  let gw: Gateway;
  let peer1: Peer;

  before(async () => {
    dir = tempDir('silk-endorse-');
    net = await openEmbeddedNetwork({ dataDir: dir.path, spec: SPEC, contracts: [new BasicContract(), new ProbeContract()], parallelVerify: false, commitTimeoutMs: 10_000 });
    alice = net.identity('Org1', 'alice');
    bob = net.identity('Org2', 'bob');
    gw = net.gateway('Org1');
    peer1 = net.peer('peer0.org1');
  });
  after(async () => {
    await net.close();
    dir.cleanup();
  });

  const propose = (signer: Signer, fn: string, args: JsonValue, opts: { contract?: string; version?: string } = {}): SignedProposal =>
    createProposal({ chain: CHAIN, contract: opts.contract ?? 'basic', version: opts.version ?? '1.0', fn, args }, signer);

  /** `run` throws an EndorseError with `code` (and a message matching `message`). */
  const refused = (run: () => unknown, code: ErrorCode, message?: RegExp): void => {
    assert.throws(run, (e: unknown) => {
      assert.ok(e instanceof EndorseError, `expected an EndorseError, got ${String(e)}`);
      assert.equal(e.code, code, e.message);
      if (message !== undefined) assert.match(e.message, message);
      return true;
    });
  };

  /** Waits until every peer has committed every block the orderer cut. */
  const allCommitted = async (): Promise<void> => {
    const target = net.orderer.height(CHAIN);
    for (let i = 0; net.peers.some((p) => p.height(CHAIN) < target); i++) {
      assert.ok(i < 1000, 'peers did not catch up with the orderer');
      await sleep(5);
    }
  };

  const trust = (): ReceiptTrust => ({ orderers: peer1.config(CHAIN).orderers, peers: net.peers.map((p) => toHex(p.publicKey)) });

  const asset = (id: string, owner = 'alice'): { [k: string]: JsonValue } => ({ id, owner, colour: 'red', size: 5, appraisedValue: 1000 });

  describe('peer endorse() and evaluate() refusals', () => {
    before(async () => {
      const r = await gw.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('e1') }, alice);
      assert.equal(r.code, 'VALID');
      await allCommitted();
    });

    it('a proposal signature that does not verify: wrong key, altered byte, high-S, DER', () => {
      const p = propose(alice, 'readAsset', { id: 'e1' });
      const s = BigInt(`0x${toHex(p.signature.subarray(32))}`);
      const high = p.signature.slice();
      high.set(fromHex((P256_N - s).toString(16).padStart(64, '0')), 32);
      const altered = p.signature.slice();
      altered[3] = (altered[3] ?? 0) ^ 0x80;
      const der = toDer(p.signature);
      for (const signature of [bob.sign(p.bytes), altered, high, der]) {
        refused(() => peer1.endorse({ bytes: p.bytes, signature }), 'BAD_SIGNATURE');
        refused(() => peer1.evaluate({ bytes: p.bytes, signature }), 'BAD_SIGNATURE');
      }
      // The untouched proposal evaluates.
      assert.deepEqual(peer1.evaluate(p), asset('e1'));
    });

    it('a creator the chain does not list', () => {
      const stranger = generateSigner();
      refused(() => peer1.endorse(propose(stranger, 'createAsset', asset('e-stranger'))), 'UNKNOWN_CREATOR');
      refused(() => peer1.evaluate(propose(stranger, 'readAsset', { id: 'e1' })), 'UNKNOWN_CREATOR');
    });

    it('a contract the chain does not define, or another version of it', () => {
      refused(() => peer1.endorse(propose(alice, 'createAsset', asset('e-ghost'), { contract: 'ghost' })), 'UNKNOWN_CONTRACT', /ghost/);
      refused(() => peer1.evaluate(propose(alice, 'readAsset', { id: 'e1' }, { contract: 'ghost' })), 'UNKNOWN_CONTRACT');
      refused(() => peer1.endorse(propose(alice, 'createAsset', asset('e-old'), { version: '0.9' })), 'UNKNOWN_CONTRACT_VERSION', /0\.9/);
    });

    it('a function the contract does not have, including names inherited from Object.prototype', () => {
      for (const fn of ['nope', 'constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
        refused(() => peer1.endorse(propose(alice, fn, {})), 'UNKNOWN_FUNCTION', new RegExp(`no function ${fn}`));
        refused(() => peer1.evaluate(propose(alice, fn, {})), 'UNKNOWN_FUNCTION');
      }
    });

    it('arguments the schema refuses, with the failing path in the message and details', () => {
      const cases: [JsonValue, string][] = [
        [{ ...asset('e-neg'), size: -1 }, '/size'],
        [{ id: 'e-missing', colour: 'red', size: 1, appraisedValue: 1 }, '/owner'],
        [{ ...asset('e-extra'), extra: true }, '/extra'],
        [{ ...asset('e bad id') }, '/id'],
        ['not an object', ''],
      ];
      for (const [args, path] of cases) {
        assert.throws(() => peer1.endorse(propose(alice, 'createAsset', args)), (e: unknown) => {
          assert.ok(e instanceof EndorseError);
          assert.equal(e.code, 'INVALID_ARGUMENT');
          assert.equal(e.details.path, path);
          assert.ok(e.message.startsWith(`args${path.replaceAll('/', '.')}: `), e.message);
          return true;
        });
      }
      refused(() => peer1.evaluate(propose(alice, 'assetHistory', { id: 'e1', order: 'sideways' })), 'INVALID_ARGUMENT', /^args\.order: /);
      refused(() => peer1.evaluate(propose(alice, 'assetsByOwner', { owner: 'alice', limit: 0 })), 'INVALID_ARGUMENT', /^args\.limit: /);
    });

    it("the contract's own refusals, with the tx id", () => {
      const dup = propose(alice, 'createAsset', asset('e1'));
      assert.throws(() => peer1.endorse(dup), (e: unknown) => isSilkError(e, 'CONTRACT_ERROR') && /already exists/.test(e.message) && e.details.txId === dup.txId);
      refused(() => peer1.endorse(propose(alice, 'transferAsset', { id: 'e-none', newOwner: 'bob' })), 'CONTRACT_ERROR', /does not exist/);
      refused(() => peer1.evaluate(propose(alice, 'readAsset', { id: 'e-none' })), 'CONTRACT_ERROR', /does not exist/);
      refused(() => peer1.endorse(propose(alice, 'refuse', {}, { contract: 'probe' })), 'CONTRACT_ERROR', /^not today$/);
      refused(() => peer1.endorse(propose(alice, 'crash', {}, { contract: 'probe' })), 'CONTRACT_ERROR', /boom/);
      refused(() => peer1.endorse(propose(alice, 'adminOnly', {}, { contract: 'probe' })), 'CONTRACT_ERROR', /needs role admin/);
      const byAdmin = peer1.endorse(propose(net.identity('Org1', 'admin'), 'adminOnly', {}, { contract: 'probe' }));
      assert.equal(decodeTxResult(byAdmin.result).writes.length, 1);
    });

    it('a query function submitted as a transaction is refused, at the peer and through the gateway', async () => {
      refused(() => peer1.endorse(propose(alice, 'readAsset', { id: 'e1' })), 'INVALID_ARGUMENT', /is a query/);
      const height = net.orderer.height(CHAIN);
      await assert.rejects(gw.submit({ chain: CHAIN, contract: 'basic', fn: 'readAsset', args: { id: 'e1' } }, alice), (e: unknown) => e instanceof EndorseError && e.code === 'INVALID_ARGUMENT');
      await assert.rejects(gw.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: { ...asset('e-gw'), size: -5 } }, alice), (e: unknown) => e instanceof EndorseError && e.code === 'INVALID_ARGUMENT');
      assert.equal(net.orderer.height(CHAIN), height, 'nothing was ordered');
    });

    it('a query function may not write, delete, set a key policy or emit; evaluating a writing transaction is refused too', () => {
      refused(() => peer1.evaluate(propose(alice, 'writeInQuery', {}, { contract: 'probe' })), 'CONTRACT_ERROR', /may not write/);
      refused(() => peer1.evaluate(propose(alice, 'deleteInQuery', { key: 'k' }, { contract: 'probe' })), 'CONTRACT_ERROR', /may not write/);
      refused(() => peer1.evaluate(propose(alice, 'emitInQuery', {}, { contract: 'probe' })), 'CONTRACT_ERROR', /may not emit/);
      refused(() => peer1.evaluate(propose(alice, 'createAsset', asset('e-eval'))), 'CONTRACT_ERROR', /may not write/);
      assert.equal(peer1.store(CHAIN).state('probe', 'sneaky'), undefined);
      assert.equal(peer1.store(CHAIN).state('basic', 'asset:e-eval'), undefined);
    });

    it('a query that tries to set a key policy is refused', async () => {
      await gw.submit({ chain: CHAIN, contract: 'probe', fn: 'put', args: { key: 'guarded', value: 'v' } }, alice);
      refused(() => peer1.evaluate(propose(alice, 'policyInQuery', { key: 'guarded' }, { contract: 'probe' })), 'CONTRACT_ERROR', /may not write/);
      assert.equal(peer1.store(CHAIN).state('probe', 'guarded')?.policy, null);
    });

    it('endorsing changes nothing and signs exactly the result it returns', () => {
      const p = propose(alice, 'createAsset', asset('e-dry'));
      const a = peer1.endorse(p);
      const b = net.peer('peer0.org2').endorse(p);
      assert.equal(a.txId, p.txId);
      assert.deepEqual(a.result, b.result, 'two peers on the same state compute the same result');
      assert.ok(verifyP256(peer1.publicKey, a.result, a.endorsement.signature));
      assert.deepEqual(plain(a.response), asset('e-dry'));
      assert.equal(peer1.store(CHAIN).state('basic', 'asset:e-dry'), undefined);
      assert.equal(peer1.transactionStatus(CHAIN, p.txId), undefined);
    });
  });

  describe('gateway submit, resubmit and duplicates', () => {
    it('a valid submit returns VALID with a receipt that verifies', async () => {
      const r = await gw.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('g1') }, alice);
      assert.equal(r.code, 'VALID');
      assert.deepEqual(plain(r.response), asset('g1'));
      assert.deepEqual(verifyReceipt(r.receipt, trust()), { ok: true });
      assert.deepEqual({ block: r.receipt.blockNumber, index: r.receipt.txIndex, code: r.receipt.code }, { block: r.blockNumber, index: r.txIndex, code: 'VALID' });
      assert.equal(verifyReceipt({ ...r.receipt, code: 'MVCC_READ_CONFLICT' }, trust()).ok, false);
      assert.equal(verifyReceipt(r.receipt, { ...trust(), peers: [] }).ok, false);
    });

    it('resubmitting an envelope returns the first outcome, and a second ordering of it is DUPLICATE_TXID', async () => {
      const signed = gw.propose({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('g2') }, alice);
      const { envelope, txId } = gw.endorse(signed);
      assert.equal(txId, signed.txId);
      assert.equal(decodeTransaction(envelope).txId, txId);
      const first = await gw.submitEnvelope(CHAIN, envelope);
      assert.equal(first.code, 'VALID');
      assert.deepEqual(verifyReceipt(first.receipt, trust(), envelope), { ok: true });
      const otherEnvelope = gw.endorse(gw.propose({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('g2-other') }, alice)).envelope;
      assert.deepEqual(verifyReceipt(first.receipt, trust(), otherEnvelope), { ok: false, reason: 'envelope does not match the receipt' });

      const again = await gw.submitEnvelope(CHAIN, envelope);
      assert.deepEqual({ code: again.code, block: again.blockNumber, index: again.txIndex, txId: again.txId }, { code: 'VALID', block: first.blockNumber, index: first.txIndex, txId });
      await allCommitted();
      const viaOrg2 = await net.gateway('Org2').submitEnvelope(CHAIN, envelope);
      assert.deepEqual([viaOrg2.blockNumber, viaOrg2.txIndex, viaOrg2.code], [first.blockNumber, first.txIndex, 'VALID']);
      assert.deepEqual(viaOrg2.receipt.peer, net.peer('peer0.org2').publicKey);
      assert.deepEqual(verifyReceipt(viaOrg2.receipt, trust(), envelope), { ok: true });

      // Ordered a second time behind the gateway's back: it lands in a later block, refused there.
      const position = await net.orderer.broadcast(CHAIN, envelope);
      assert.ok(position.block > first.blockNumber);
      await allCommitted();
      for (const p of net.peers) {
        assert.equal(p.committedBlock(CHAIN, position.block)?.codes[position.index], 'DUPLICATE_TXID', p.name);
        assert.deepEqual(p.transactionStatus(CHAIN, txId), { txId, block: first.blockNumber, tx: first.txIndex, code: 'VALID' });
        assert.equal(p.receipt(CHAIN, txId)?.blockNumber, first.blockNumber);
        assert.equal(p.store(CHAIN).history('basic', 'asset:g2', 'asc', 10).length, 1, 'the transaction committed once');
      }
      const third = await gw.submitEnvelope(CHAIN, envelope);
      assert.deepEqual([third.blockNumber, third.txIndex, third.code], [first.blockNumber, first.txIndex, 'VALID']);
    });

    it('two concurrent submissions of one envelope are ordered once and both see its outcome', async () => {
      const { envelope, txId } = gw.endorse(gw.propose({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('g3') }, alice));
      const [a, b] = await Promise.all([gw.submitEnvelope(CHAIN, envelope), gw.submitEnvelope(CHAIN, envelope)]);
      assert.deepEqual([a.code, b.code], ['VALID', 'VALID']);
      assert.deepEqual([a.blockNumber, a.txIndex], [b.blockNumber, b.txIndex]);
      await allCommitted();
      const block = peer1.committedBlock(CHAIN, a.blockNumber)!;
      assert.equal(block.txIds.filter((t) => t === txId).length, 1);
    });

    it('envelopes the orderer refuses at broadcast never reach a block', async () => {
      const height = net.orderer.height(CHAIN);
      await assert.rejects(net.orderer.broadcast(CHAIN, Uint8Array.of(1, 2, 3)), (e: unknown) => e instanceof SubmitError && e.code === 'MALFORMED');
      const signed = gw.propose({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('g4') }, alice);
      const { envelope } = gw.endorse(signed);
      const d = decodeTransaction(envelope);
      const forged = encodeEnvelope({ ...d.envelope, signature: bob.sign(signed.bytes) });
      await assert.rejects(gw.submitEnvelope(CHAIN, forged), (e: unknown) => e instanceof SubmitError && e.code === 'BAD_SIGNATURE');
      const stranger = generateSigner();
      const strangerProposal = createProposal({ chain: CHAIN, contract: 'basic', version: '1.0', fn: 'createAsset', args: asset('g5') }, stranger);
      await assert.rejects(gw.submitSigned(strangerProposal), (e: unknown) => e instanceof EndorseError && e.code === 'UNKNOWN_CREATOR');
      assert.equal(net.orderer.height(CHAIN), height);
      assert.equal(gw.status(CHAIN, signed.txId), undefined);
    });
  });

  describe('queries: key history, range and rich query with bookmarks', () => {
    const owners = ['o0', 'o1', 'o2', 'o3', 'o4'];
    const historyTxIds: string[] = [];

    before(async () => {
      const created = await gw.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args: asset('h1', 'o0') }, alice);
      historyTxIds.push(created.txId);
      for (const owner of owners.slice(1)) {
        const r = await gw.submit({ chain: CHAIN, contract: 'basic', fn: 'transferAsset', args: { id: 'h1', newOwner: owner } }, alice);
        assert.equal(r.code, 'VALID');
        historyTxIds.push(r.txId);
      }
      const deleted = await gw.submit({ chain: CHAIN, contract: 'basic', fn: 'deleteAsset', args: { id: 'h1' } }, bob);
      assert.equal(deleted.code, 'VALID');
      historyTxIds.push(deleted.txId);
    });

    type HistoryPage = { items: { txId: string; block: number; tx: number; timestamp: number; value: JsonValue }[]; bookmark?: string };
    const history = (args: { [k: string]: JsonValue }): HistoryPage => gw.evaluate({ chain: CHAIN, contract: 'basic', fn: 'assetHistory', args: { id: 'h1', ...args } }, alice) as unknown as HistoryPage;

    /** Follows bookmarks to the end; returns the pages. */
    const allPages = <P extends { bookmark?: string }>(fetch: (bookmark: string | undefined) => P): P[] => {
      const pages: P[] = [];
      let bookmark: string | undefined;
      do {
        const page = fetch(bookmark);
        pages.push(page);
        bookmark = page.bookmark;
        assert.ok(pages.length < 50, 'pagination does not end');
      } while (bookmark !== undefined);
      return pages;
    };

    const ownerOf = (v: JsonValue): JsonValue => (v === null ? null : (v as { owner: JsonValue }).owner);

    it('key history, oldest first, in pages of 2 with bookmarks, ending with the delete', () => {
      const pages = allPages((bookmark) => history({ order: 'asc', limit: 2, ...(bookmark === undefined ? {} : { bookmark }) }));
      assert.deepEqual(pages.map((p) => p.items.length), [2, 2, 2]);
      const items = pages.flatMap((p) => p.items);
      assert.deepEqual(items.map((i) => i.txId), historyTxIds);
      assert.deepEqual(items.map((i) => ownerOf(i.value)), [...owners, null]);
      for (let i = 1; i < items.length; i++) {
        const [a, b] = [items[i - 1]!, items[i]!];
        assert.ok(a.block < b.block || (a.block === b.block && a.tx < b.tx), 'ascending order');
        assert.ok(a.timestamp <= b.timestamp);
      }
    });

    it('key history, newest first, in pages of 4 and of 1', () => {
      const pages = allPages((bookmark) => history({ order: 'desc', limit: 4, ...(bookmark === undefined ? {} : { bookmark }) }));
      assert.deepEqual(pages.map((p) => p.items.length), [4, 2]);
      assert.deepEqual(pages.flatMap((p) => p.items).map((i) => i.txId), [...historyTxIds].reverse());
      const ones = allPages((bookmark) => history({ order: 'desc', limit: 1, ...(bookmark === undefined ? {} : { bookmark }) }));
      assert.deepEqual(ones.flatMap((p) => p.items).map((i) => ownerOf(i.value)), [null, ...[...owners].reverse()]);
      // A page that ends exactly at the last entry carries no bookmark.
      const exact = history({ order: 'asc', limit: historyTxIds.length });
      assert.equal(exact.items.length, historyTxIds.length);
      assert.equal(exact.bookmark, undefined);
      refused(() => history({ bookmark: '!!' }), 'INVALID_ARGUMENT', /bookmark/);
    });

    type RangePage = { keys: string[]; values: JsonValue[]; bookmark?: string };
    const range = (start: string, end: string, limit: number, bookmark?: string): RangePage =>
      gw.evaluate({ chain: CHAIN, contract: 'probe', fn: 'range', args: { start, end, limit, ...(bookmark === undefined ? {} : { bookmark }) } }, alice) as unknown as RangePage;

    it('range queries over [start, end) in key order, paginated', async () => {
      const keys = ['r:01', 'r:02', 'r:03', 'r:04', 'r:05', 'r:06', 'r:07'];
      const results = await Promise.all([...keys, 'q:99', 'r;', 's:00'].map((key) => gw.submit({ chain: CHAIN, contract: 'probe', fn: 'put', args: { key, value: `v-${key}` } }, alice)));
      assert.ok(results.every((r) => r.code === 'VALID'));
      const pages = allPages((b) => range('r:', 'r;', 3, b));
      assert.deepEqual(pages.map((p) => p.keys), [['r:01', 'r:02', 'r:03'], ['r:04', 'r:05', 'r:06'], ['r:07']]);
      assert.deepEqual(pages.flatMap((p) => p.values), keys.map((k) => `v-${k}`));
      assert.deepEqual(allPages((b) => range('r:', 'r;', 7, b)).map((p) => p.keys), [keys]);
      assert.deepEqual(allPages((b) => range('r:', 'r;', 6, b)).map((p) => p.keys.length), [6, 1]);
      assert.deepEqual(range('r:02', 'r:05', 100).keys, ['r:02', 'r:03', 'r:04'], 'end is exclusive');
      assert.deepEqual(range('r:99', 'r;', 100).keys, []);
    });

    type OwnerPage = { items: { id: string; owner: string }[]; bookmark?: string };
    const byOwner = (owner: string, limit: number, bookmark?: string): OwnerPage =>
      gw.evaluate({ chain: CHAIN, contract: 'basic', fn: 'assetsByOwner', args: { owner, limit, ...(bookmark === undefined ? {} : { bookmark }) } }, alice) as unknown as OwnerPage;

    it('a rich query (assetsByOwner) paginated with bookmarks', async () => {
      const mine = ['z1', 'z2', 'z3', 'z4', 'z5'];
      const results = await Promise.all([...mine.map((id) => asset(id, 'zed')), asset('y1', 'yan'), asset('y2', 'yan')].map((args) => gw.submit({ chain: CHAIN, contract: 'basic', fn: 'createAsset', args }, alice)));
      assert.ok(results.every((r) => r.code === 'VALID'));
      const pages = allPages((b) => byOwner('zed', 2, b));
      assert.deepEqual(pages.map((p) => p.items.length), [2, 2, 1]);
      assert.deepEqual(pages.flatMap((p) => p.items.map((i) => i.id)), mine);
      assert.ok(pages.every((p) => p.items.every((i) => i.owner === 'zed')));
      assert.deepEqual(allPages((b) => byOwner('zed', 5, b)).map((p) => p.items.length), [5]);
      assert.deepEqual(byOwner('yan', 100).items.map((i) => i.id), ['y1', 'y2']);
      // The largest page a contract may ask for is served, not refused by the index layer.
      assert.deepEqual(byOwner('yan', 1000).items.map((i) => i.id), ['y1', 'y2']);
      assert.deepEqual(byOwner('nobody', 10), { items: [] });
    });
  });
});
