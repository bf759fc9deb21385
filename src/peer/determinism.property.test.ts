/**
 * Determinism of execute → order → validate, as a property: three peers of three orgs endorse
 * random read-modify-writes and blind writes over five keys at whatever height each happens to
 * be, the transactions are cut into blocks of random sizes, and every block reaches every peer
 * in order but with the peers lagging each other arbitrarily. After every commit each peer's
 * commit hash, validation codes and state must equal a sequential reference model written here.
 * The last tests plant nondeterminism and check that the property catches it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import fc from 'fast-check';
import { BasicContract } from '../contracts/basic/basic-contract.js';
import { transaction, type Contract } from '../contracts/framework/contract.js';
import { toHex } from '../crypto/hash.js';
import { generateSigner, type Signer } from '../crypto/p256.js';
import { createInlineVerifier, type SignatureVerifier } from '../crypto/verify-pool.js';
import { VALIDATION_CODES, type ValidationCode } from '../errors.js';
import { blockHash, createBlock, encodeBlock, GENESIS_PREVIOUS_HASH, type BlockHeader } from '../ledger/block.js';
import type { ChainConfig } from '../ledger/chain-config.js';
import { createConfigTransaction } from '../ledger/config-transaction.js';
import { createProposal } from '../ledger/proposal.js';
import { decodeTxResult, encodeEnvelope, TX_FORMAT_VERSION, type KeyRead } from '../ledger/transaction.js';
import { tempDir } from '../testing/fixtures.js';
import { computeCommitHash } from '../ledger/commit-hash.js';
import { createPeer, type CommittedBlock, type Peer } from './peer.js';

const CHAIN = 'det';
const T0 = 1_700_000_000_000;
const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4'];
const ORGS = ['Org1', 'Org2', 'Org3'] as const;
const PEER_COUNT = ORGS.length;

const orderer = generateSigner();
const admins = ORGS.map(() => generateSigner());
const peerSigners = ORGS.map(() => generateSigner());
const client = generateSigner();

const config: ChainConfig = {
  v: 1,
  chain: CHAIN,
  sequence: 0,
  orgs: Object.fromEntries(ORGS.map((org, i) => [org, {
    members: [
      { name: 'admin', key: toHex((admins[i] as Signer).publicKey), role: 'admin' },
      { name: `peer0.${org.toLowerCase()}`, key: toHex((peerSigners[i] as Signer).publicKey), role: 'peer' },
      ...(i === 0 ? [{ name: 'client', key: toHex(client.publicKey), role: 'client' }] : []),
    ],
  }])),
  orderers: [toHex(orderer.publicKey)],
  adminPolicy: `MAJORITY(${ORGS.map((o) => `'${o}.admin'`).join(', ')})`,
  contracts: { basic: { version: '1.0', policy: `OR(${ORGS.map((o) => `'${o}.peer'`).join(', ')})` } },
  txWindowMs: 300_000,
  batch: { maxTxs: 100, maxBytes: 1024 * 1024, timeoutMs: 50 },
};
const genesisTx = createConfigTransaction(config, admins[0] as Signer, admins, T0);
const genesis = createBlock({ chain: CHAIN, number: 0, previousHash: GENESIS_PREVIOUS_HASH, timestamp: T0, txs: [genesisTx] }, orderer);
const genesisBytes = encodeBlock(genesis);

// ---------------------------------------------------------------------------------------------
// Scenarios.

interface TxPlan {
  readonly fn: 'rmw' | 'put';
  readonly key: number;
  /** Which peer endorses. */
  readonly endorser: number;
  /** How many of the blocks that peer has not yet received it gets just before endorsing. */
  readonly catchUp: number;
}

interface StepPlan {
  readonly txs: readonly TxPlan[];
  /** Sizes of the blocks this step's transactions are cut into (0 = an empty block); the rest go in one last block. */
  readonly cuts: readonly number[];
  /** Then these peers receive their next block (all their missing blocks at once, unawaited, when `burst`). */
  readonly deliveries: readonly { readonly peer: number; readonly burst: boolean }[];
}

interface Scenario {
  readonly steps: readonly StepPlan[];
  /** The order in which peers catch up at the end (each entry delivers one block), before everyone gets the rest. */
  readonly finale: readonly number[];
}

const peerArb = fc.nat(PEER_COUNT - 1);
const txArb: fc.Arbitrary<TxPlan> = fc.record({ fn: fc.constantFrom('rmw' as const, 'rmw' as const, 'put' as const), key: fc.nat(KEYS.length - 1), endorser: peerArb, catchUp: fc.constantFrom(0, 0, 1, 3) });
const stepArb: fc.Arbitrary<StepPlan> = fc.record({
  txs: fc.array(txArb, { minLength: 1, maxLength: 6 }),
  cuts: fc.array(fc.nat(4), { maxLength: 4 }),
  deliveries: fc.array(fc.record({ peer: peerArb, burst: fc.boolean() }), { maxLength: 8 }),
});
const scenarioArb: fc.Arbitrary<Scenario> = fc.record({ steps: fc.array(stepArb, { minLength: 1, maxLength: 5 }), finale: fc.array(peerArb, { maxLength: 24 }) });

// ---------------------------------------------------------------------------------------------
// The reference model: sequential MVCC over a map of key → value and version.

interface Versioned {
  readonly value: string;
  readonly version: { readonly block: number; readonly tx: number };
}
type ModelState = ReadonlyMap<string, Versioned>;

interface ModelTx {
  readonly reads: readonly KeyRead[];
  readonly writes: readonly { readonly key: string; readonly value: string }[];
}

class Model {
  /** states[h] = state at height h (after blocks 0..h-1). */
  readonly states: ModelState[] = [new Map(), new Map()];
  readonly codes: ValidationCode[][] = [['VALID']];
  readonly commitHashes: string[];

  constructor() {
    const genesisWrites = [{ ns: '_config', key: 'config', value: JSON.stringify(config) }];
    this.commitHashes = [toHex(computeCommitHash(new Uint8Array(32), 0, Uint8Array.from([0]), genesisWrites))];
  }

  /** Applies block `n`: a tx is VALID iff every key it read still has the version it read and no earlier VALID tx of the block wrote it. */
  apply(n: number, txs: readonly ModelTx[]): void {
    assert.equal(n, this.states.length - 1);
    const state = new Map(this.states[n]);
    const writtenInBlock = new Set<string>();
    const validWrites: { ns: string; key: string; value: string }[] = [];
    const codes = txs.map((t, i): ValidationCode => {
      const fresh = t.reads.every((r) => {
        const now = state.get(r.key)?.version ?? null;
        const seen = r.version;
        return !writtenInBlock.has(r.key) && (now === null || seen === null ? now === seen : now.block === seen.block && now.tx === seen.tx);
      });
      if (!fresh) return 'MVCC_READ_CONFLICT';
      for (const w of t.writes) {
        state.set(w.key, { value: w.value, version: { block: n, tx: i } });
        writtenInBlock.add(w.key);
        validWrites.push({ ns: 'basic', key: w.key, value: w.value });
      }
      return 'VALID';
    });
    this.states.push(state);
    this.codes.push(codes);
    const codeBytes = Uint8Array.from(codes.map((c) => VALIDATION_CODES.indexOf(c)));
    this.commitHashes.push(toHex(computeCommitHash(Buffer.from(this.commitHashes[n - 1] as string, 'hex'), n, codeBytes, validWrites)));
  }
}

// ---------------------------------------------------------------------------------------------
// A cluster of three peers built directly with createPeer, and the orderer's chain of blocks.

interface ClusterOptions {
  /** Contracts installed on peer `p` (default: the real `basic`). */
  readonly contractsFor?: (p: number) => readonly Contract[];
  /** Signature verifier of peer `p` (default: inline). */
  readonly verifierFor?: (p: number) => SignatureVerifier;
}

interface Pending extends ModelTx {
  readonly envelope: Uint8Array;
}

let serial = 0;

class Cluster {
  readonly peers: Peer[] = [];
  readonly blocks: Uint8Array[] = [genesisBytes];
  readonly delivered: number[] = [];
  readonly model = new Model();
  private lastHeader: BlockHeader = genesis.header;

  private constructor(private readonly dir: { path: string; cleanup(): void }) {}

  static async open(options: ClusterOptions): Promise<Cluster> {
    const c = new Cluster(tempDir('silk-det-'));
    for (let p = 0; p < PEER_COUNT; p++) {
      const org = ORGS[p] as string;
      const peer = createPeer({
        name: `peer0.${org.toLowerCase()}`, org, signer: peerSigners[p] as Signer, dataDir: `${c.dir.path}/p${p}`,
        contracts: options.contractsFor?.(p) ?? [new BasicContract()], verifier: options.verifierFor?.(p) ?? createInlineVerifier(),
      });
      c.peers.push(peer);
      await peer.joinChain(genesisBytes);
      c.delivered.push(1);
      c.checkCommitted(p, 0, peer.committedBlock(CHAIN, 0));
    }
    return c;
  }

  async close(): Promise<void> {
    await Promise.all(this.peers.map((p) => p.close()));
    this.dir.cleanup();
  }

  private peer(p: number): Peer {
    return this.peers[p] as Peer;
  }

  /** Checks one commit against the model: commit hash first, then codes, then the state. */
  checkCommitted(p: number, n: number, c: CommittedBlock | undefined): void {
    assert.ok(c !== undefined, `peer ${p} has no block ${n}`);
    assert.equal(c.number, n);
    assert.equal(c.commitHash, this.model.commitHashes[n], `peer ${p} commit hash at height ${n} differs from the reference (codes ${c.codes.join(',')}; model ${(this.model.codes[n] ?? []).join(',')})`);
    assert.deepEqual(c.codes, this.model.codes[n], `peer ${p} codes of block ${n}`);
  }

  checkState(p: number): void {
    const h = this.delivered[p] as number;
    const expected = this.model.states[h] as ModelState;
    const store = this.peer(p).store(CHAIN);
    assert.equal(store.height(), h);
    for (const k of KEYS) {
      const key = `kv:${k}`;
      const s = store.state('basic', key);
      const m = expected.get(key);
      assert.deepEqual(s === undefined ? undefined : { value: s.value, version: { block: s.block, tx: s.tx } }, m === undefined ? undefined : { value: m.value, version: { ...m.version } }, `peer ${p} state of ${key} at height ${h}`);
    }
  }

  /** Delivers peer p's next block, if there is one. */
  async deliverNext(p: number): Promise<void> {
    const n = this.delivered[p] as number;
    if (n >= this.blocks.length) return;
    const c = await this.peer(p).deliver(this.blocks[n] as Uint8Array);
    this.delivered[p] = n + 1;
    this.checkCommitted(p, n, c);
    this.checkState(p);
  }

  /** Hands peer p every block it misses at once, without waiting in between (the peer queues them). */
  async burst(p: number): Promise<void> {
    const from = this.delivered[p] as number;
    const pending = this.blocks.slice(from).map((b) => this.peer(p).deliver(b));
    const committed = await Promise.all(pending);
    this.delivered[p] = from + committed.length;
    committed.forEach((c, i) => {
      this.checkCommitted(p, from + i, c);
    });
    this.checkState(p);
  }

  /** Endorses one planned transaction at its peer, at that peer's current height, and checks the result against the model. */
  async endorse(t: TxPlan): Promise<Pending> {
    for (let i = 0; i < t.catchUp; i++) await this.deliverNext(t.endorser);
    const peer = this.peer(t.endorser);
    const h = this.delivered[t.endorser] as number;
    assert.equal(peer.height(CHAIN), h);
    const id = ++serial;
    const value = `v${id}${'.'.repeat(id % 5)}`;
    const nonce = new Uint8Array(16);
    new DataView(nonce.buffer).setUint32(12, id);
    const proposal = createProposal({ chain: CHAIN, contract: 'basic', version: '1.0', fn: t.fn, args: { key: KEYS[t.key] as string, value }, ts: T0 + 1000 * h, nonce }, client);
    const r = peer.endorse({ bytes: proposal.bytes, signature: proposal.signature });
    const key = `kv:${KEYS[t.key] as string}`;
    const seen = (this.model.states[h] as ModelState).get(key);
    const expected: ModelTx = { reads: t.fn === 'rmw' ? [{ key, version: seen === undefined ? null : { ...seen.version } }] : [], writes: [{ key, value: JSON.stringify(value) }] };
    const got = decodeTxResult(r.result);
    const response = t.fn === 'put' || seen === undefined ? 'null' : String((JSON.parse(seen.value) as string).length);
    assert.deepEqual({ reads: got.reads.map((x) => ({ ...x, version: x.version && { ...x.version } })), writes: got.writes.map((w) => ({ ...w })), response: got.response }, { ...expected, response },
      `endorsement of ${t.fn}(${key}) by peer ${t.endorser} at height ${h} diverges from the model`);
    const envelope = encodeEnvelope({ v: TX_FORMAT_VERSION, proposal: proposal.bytes, signature: proposal.signature, result: r.result, endorsements: [r.endorsement] });
    return { ...expected, envelope };
  }

  /** The orderer cuts a block. */
  cut(txs: readonly Pending[]): void {
    const n = this.blocks.length;
    const block = createBlock({ chain: CHAIN, number: n, previousHash: blockHash(this.lastHeader), timestamp: T0 + 1000 * n, txs: txs.map((t) => t.envelope) }, orderer);
    this.lastHeader = block.header;
    this.blocks.push(encodeBlock(block));
    this.model.apply(n, txs);
  }

  async runStep(step: StepPlan): Promise<void> {
    const pending: Pending[] = [];
    for (const t of step.txs) pending.push(await this.endorse(t));
    let rest = pending;
    for (const size of step.cuts) {
      if (rest.length === 0) break;
      this.cut(rest.slice(0, size));
      rest = rest.slice(size);
    }
    if (rest.length > 0) this.cut(rest);
    for (const d of step.deliveries) {
      if (d.burst) await this.burst(d.peer);
      else await this.deliverNext(d.peer);
    }
  }

  async finish(finale: readonly number[]): Promise<void> {
    for (const p of finale) await this.deliverNext(p);
    for (let p = 0; p < PEER_COUNT; p++) while ((this.delivered[p] as number) < this.blocks.length) await this.deliverNext(p);
    // Every peer holds the same commit hash at every height, and the state the model predicts.
    for (let n = 0; n < this.blocks.length; n++) {
      const hashes = this.peers.map((peer) => peer.committedBlock(CHAIN, n)?.commitHash);
      assert.equal(new Set(hashes).size, 1, `commit hashes at height ${n} differ between peers: ${hashes.join(' ')}`);
      assert.equal(hashes[0], this.model.commitHashes[n]);
    }
    const final = this.model.states[this.blocks.length] as ModelState;
    for (let p = 0; p < PEER_COUNT; p++) {
      this.checkState(p);
      const keys = [...this.peer(p).store(CHAIN).iterateState()].filter((r) => r.ns === 'basic').map((r) => r.key).sort();
      assert.deepEqual(keys, [...final.keys()].sort(), `peer ${p} holds exactly the model's keys`);
    }
  }
}

function determinismProperty(options: ClusterOptions = {}): fc.IAsyncPropertyWithHooks<[Scenario]> {
  return fc.asyncProperty(scenarioArb, async (scenario) => {
    const cluster = await Cluster.open(options);
    try {
      for (const step of scenario.steps) await cluster.runStep(step);
      await cluster.finish(scenario.finale);
    } finally {
      await cluster.close();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Planted nondeterminism.

const KvArgs = Type.Object({ key: Type.String({ minLength: 1, maxLength: 256 }), value: Type.String({ maxLength: 65_536 }) }, { additionalProperties: false });

/** `basic` 1.0 as one rogue peer runs it: its writes carry a counter private to that peer. */
class DriftingBasic implements Contract {
  readonly name = 'basic';
  readonly version = '1.0';
  readonly indexes = new BasicContract().indexes;
  private counter = 0;
  readonly functions: Contract['functions'] = {
    ...new BasicContract().functions,
    put: transaction(KvArgs, (ctx, { key, value }) => {
      ctx.put(`kv:${key}`, `${value}#${++this.counter}`);
      return null;
    }),
    rmw: transaction(KvArgs, (ctx, { key, value }) => {
      const old = ctx.get(`kv:${key}`);
      ctx.put(`kv:${key}`, `${value}#${++this.counter}`);
      return old === undefined ? null : typeof old === 'string' ? old.length : 0;
    }),
  };
}

/** A verifier that is honest for the genesis block and then rejects the first signature of every batch. */
function flakyVerifier(): SignatureVerifier {
  const inner = createInlineVerifier();
  let batches = 0;
  return {
    async verifyBatch(checks) {
      const ok = await inner.verifyBatch(checks);
      return batches++ === 0 ? ok : ok.map((v, i) => i !== 0 && v);
    },
    verifyCount: () => inner.verifyCount(),
    close: () => inner.close(),
  };
}

describe('determinism: endorse at any height, commit in any interleaving', () => {
  it('every peer agrees with the sequential model after every block', async () => {
    await fc.assert(determinismProperty(), { numRuns: 50, includeErrorInReport: true });
  });

  it('can fail: a peer running a contract with peer-specific writes is caught', async () => {
    const run = await fc.check(determinismProperty({ contractsFor: (p) => [p === 2 ? new DriftingBasic() : new BasicContract()] }), { numRuns: 50, endOnFailure: true });
    assert.equal(run.failed, true, 'the property must be violated');
    assert.match(String((run.errorInstance as Error | null)?.message), /endorsement of .* by peer 2 .* diverges from the model/);
  });

  it('can fail: a peer whose validation disagrees is caught by its commit hash', async () => {
    const run = await fc.check(determinismProperty({ verifierFor: (p) => (p === 1 ? flakyVerifier() : createInlineVerifier()) }), { numRuns: 50, endOnFailure: true });
    assert.equal(run.failed, true, 'the property must be violated');
    assert.match(String((run.errorInstance as Error | null)?.message), /peer 1 commit hash at height \d+ differs/);
  });
});
