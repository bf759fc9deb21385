/**
 * Every validation code a peer stores, produced by real blocks: a test-built network of three
 * peers (one per org) whose orderer key and block timestamps the test controls, so it can put
 * envelopes the solo orderer would refuse at broadcast (bad creator signature, unknown creator,
 * undecodable bytes) into signed blocks. Each crafted transaction shares its block with valid
 * ones; the tests check the crafted code, the neighbours' VALID, the resulting state, and that
 * all three peers agree on codes, block hash and commit hash.
 */
import assert from 'node:assert/strict';
import { verify as nodeVerify } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { encodeCanonical } from '../codec/canonical-cbor.js';
import { BasicContract } from '../contracts/basic/basic-contract.js';
import { fromHex, sha256, toHex } from '../crypto/hash.js';
import { generateSigner, publicKeyObject, type Signer } from '../crypto/p256.js';
import { createInlineVerifier, type SignatureVerifier } from '../crypto/verify-pool.js';
import { isSilkError, VALIDATION_CODES, type ValidationCode } from '../errors.js';
import { createBlock, encodeBlock, GENESIS_PREVIOUS_HASH, type Block } from '../ledger/block.js';
import type { ChainConfig } from '../ledger/chain-config.js';
import { createConfigTransaction } from '../ledger/config-transaction.js';
import type { JsonValue } from '../ledger/json-value.js';
import { createProposal, type SignedProposal } from '../ledger/proposal.js';
import { encodeEnvelope, encodeTxResult, TX_FORMAT_VERSION, type Endorsement, type KeyRead, type KeyWrite } from '../ledger/transaction.js';
import { tempDir } from '../testing/fixtures.js';
import { createPeer, type CommittedBlock, type Peer } from './peer.js';
import { highS, toDer } from '../testing/signature-forms.js';

const CHAIN = 'trade';
const ORGS = ['Org1', 'Org2', 'Org3'] as const;
type OrgName = (typeof ORGS)[number];
/** Two of the three orgs' peers must endorse a `basic` transaction. */
const CONTRACT_POLICY = "OutOf(2, 'Org1.peer', 'Org2.peer', 'Org3.peer')";
const ADMIN_POLICY = "MAJORITY('Org1.admin', 'Org2.admin', 'Org3.admin')";
const TX_WINDOW_MS = 60_000;
/** Genesis time; every later block is one second after the previous one unless a test says otherwise. */
const T0 = 1_750_000_000_000;

interface OrgKeys {
  readonly admin: Signer;
  readonly peer: Signer;
  readonly user: Signer;
}

interface TestNet {
  readonly orderer: Signer;
  readonly orgs: Readonly<Record<OrgName, OrgKeys>>;
  /** One peer per org, in the order of {@link ORGS}. */
  readonly peers: readonly Peer[];
  readonly genesisConfig: ChainConfig;
  /** Timestamp of the next block (and the default proposal time). */
  now: number;
  /** Counter for unique filler keys. */
  serial: number;
  close(): Promise<void>;
}

/** Every code some delivered block stored, to check at the end that all of them were produced. */
const codesSeen = new Set<ValidationCode>();

async function openNet(): Promise<TestNet> {
  const dir = tempDir('silk-vc-');
  const orderer = generateSigner();
  const orgs = Object.fromEntries(ORGS.map((o) => [o, { admin: generateSigner(), peer: generateSigner(), user: generateSigner() }])) as Record<OrgName, OrgKeys>;
  const genesisConfig: ChainConfig = {
    v: 1,
    chain: CHAIN,
    sequence: 0,
    orgs: Object.fromEntries(ORGS.map((o) => [o, { members: [
      { name: 'admin', key: toHex(orgs[o].admin.publicKey), role: 'admin' },
      { name: `peer0.${o.toLowerCase()}`, key: toHex(orgs[o].peer.publicKey), role: 'peer' },
      { name: 'user', key: toHex(orgs[o].user.publicKey), role: 'client' },
    ] }])),
    orderers: [toHex(orderer.publicKey)],
    adminPolicy: ADMIN_POLICY,
    contracts: { basic: { version: '1.0', policy: CONTRACT_POLICY } },
    txWindowMs: TX_WINDOW_MS,
    batch: { maxTxs: 100, maxBytes: 1024 * 1024, timeoutMs: 10 },
  };
  const admins = ORGS.map((o) => orgs[o].admin);
  const genesisTx = createConfigTransaction(genesisConfig, orgs.Org1.admin, admins, T0);
  const genesis = encodeBlock(createBlock({ chain: CHAIN, number: 0, previousHash: GENESIS_PREVIOUS_HASH, timestamp: T0, txs: [genesisTx] }, orderer));
  const verifier: SignatureVerifier = createInlineVerifier();
  const peers = ORGS.map((o) => {
    const name = `peer0.${o.toLowerCase()}`;
    return createPeer({ name, org: o, signer: orgs[o].peer, dataDir: join(dir.path, name), contracts: [new BasicContract()], verifier });
  });
  for (const p of peers) await p.joinChain(genesis);
  return {
    orderer,
    orgs,
    peers,
    genesisConfig,
    now: T0 + 1000,
    serial: 0,
    async close() {
      await Promise.all(peers.map((p) => p.close()));
      await verifier.close();
      dir.cleanup();
    },
  };
}

const peerOf = (net: TestNet, org: OrgName): Peer => net.peers[ORGS.indexOf(org)]!;

/** The signed, encoded next block on top of what the peers hold. */
function nextBlock(net: TestNet, txs: readonly Uint8Array[], overrides: { timestamp?: number; number?: number; previousHash?: Uint8Array; orderer?: Signer } = {}): Block {
  const p0 = net.peers[0]!;
  const height = p0.height(CHAIN);
  const previousHash = overrides.previousHash ?? fromHex(p0.committedBlock(CHAIN, height - 1)!.hash);
  return createBlock({ chain: CHAIN, number: overrides.number ?? height, previousHash, timestamp: overrides.timestamp ?? net.now, txs }, overrides.orderer ?? net.orderer);
}

/** Every peer holds the same world state. */
function assertSameState(net: TestNet): void {
  const states = net.peers.map((p) => JSON.stringify([...p.store(CHAIN).iterateState()]));
  for (const s of states) assert.equal(s, states[0], 'peers hold different world states');
}

/**
 * Cuts a block of `txs`, delivers it to all three peers and checks they agree on its hash,
 * codes and commit hash (both as delivered and as stored).
 */
async function cut(net: TestNet, txs: readonly Uint8Array[], timestamp = net.now): Promise<CommittedBlock> {
  const block = nextBlock(net, txs, { timestamp });
  const committed = await Promise.all(net.peers.map((p) => p.deliver(encodeBlock(block))));
  net.now = Math.max(net.now, timestamp) + 1000;
  const first = committed[0]!;
  assert.equal(first.codes.length, txs.length);
  for (const [i, c] of committed.entries()) {
    const peer = net.peers[i]!;
    assert.deepEqual(c.codes, first.codes, `${peer.name} disagrees on codes`);
    assert.equal(c.hash, first.hash, `${peer.name} disagrees on the block hash`);
    assert.equal(c.commitHash, first.commitHash, `${peer.name} disagrees on the commit hash`);
    const stored = peer.committedBlock(CHAIN, first.number)!;
    assert.deepEqual(stored.codes, first.codes);
    assert.equal(stored.commitHash, first.commitHash);
    assert.equal(peer.height(CHAIN), first.number + 1);
  }
  assertSameState(net);
  for (const code of first.codes) codesSeen.add(code);
  return first;
}

/** Cuts a block and checks its codes are exactly `codes`. */
async function expectCodes(net: TestNet, txs: readonly Uint8Array[], codes: readonly ValidationCode[], timestamp?: number): Promise<CommittedBlock> {
  const b = await cut(net, txs, timestamp);
  assert.deepEqual(b.codes, codes);
  return b;
}

/** A proposal from `creator` (defaults: chain `trade`, contract `basic` 1.0, ts = next block time). */
function propose(net: TestNet, creator: Signer, fn: string, args: JsonValue, opts: { ts?: number; version?: string; chain?: string; contract?: string; nonce?: Uint8Array } = {}): SignedProposal {
  return createProposal({
    chain: opts.chain ?? CHAIN,
    contract: opts.contract ?? 'basic',
    version: opts.version ?? '1.0',
    fn,
    args,
    ts: opts.ts ?? net.now,
    ...(opts.nonce === undefined ? {} : { nonce: opts.nonce }),
  }, creator);
}

function envelopeOf(signed: { bytes: Uint8Array; signature: Uint8Array }, result: Uint8Array, endorsements: readonly Endorsement[]): Uint8Array {
  return encodeEnvelope({ v: TX_FORMAT_VERSION, proposal: signed.bytes, signature: signed.signature, result, endorsements });
}

/** Endorses through the real peers of `orgs` (simulation against their committed state). */
function endorse(net: TestNet, signed: SignedProposal, orgs: readonly OrgName[] = ['Org1', 'Org2']): { envelope: Uint8Array; result: Uint8Array; endorsements: Endorsement[] } {
  let result: Uint8Array | undefined;
  const endorsements: Endorsement[] = [];
  for (const org of orgs) {
    const r = peerOf(net, org).endorse({ bytes: signed.bytes, signature: signed.signature });
    if (result !== undefined) assert.deepEqual(r.result, result, 'endorsers computed different results');
    result = r.result;
    endorsements.push(r.endorsement);
  }
  assert.ok(result !== undefined);
  return { envelope: envelopeOf(signed, result, endorsements), result, endorsements };
}

/** A result built by hand: what a peer signs, without the checks a peer makes before simulating. */
function handResult(proposalBytes: Uint8Array, parts: { reads?: KeyRead[]; writes?: KeyWrite[]; version?: string; contract?: string } = {}): Uint8Array {
  return encodeTxResult({
    v: TX_FORMAT_VERSION,
    proposalHash: sha256(proposalBytes),
    contract: parts.contract ?? 'basic',
    version: parts.version ?? '1.0',
    reads: parts.reads ?? [],
    writes: parts.writes ?? [],
    hashedWrites: [],
    events: [],
    response: '',
  });
}

function signedBy(result: Uint8Array, signers: readonly Signer[]): Endorsement[] {
  return signers.map((s) => ({ endorser: s.publicKey, signature: s.sign(result) }));
}

/** The peers' keys of `orgs`. */
const peerKeys = (net: TestNet, orgs: readonly OrgName[]): Signer[] => orgs.map((o) => net.orgs[o].peer);

/** A valid blind write of a fresh key, to sit next to crafted transactions. */
function filler(net: TestNet): { envelope: Uint8Array; key: string; txId: string } {
  const key = `fill-${++net.serial}`;
  const signed = propose(net, net.orgs.Org1.user, 'put', { key, value: key });
  return { envelope: endorse(net, signed).envelope, key, txId: signed.txId };
}

/** A `basic.put` envelope signed by `creator` whose result is built by hand and signed by `endorsers`. */
function handPut(net: TestNet, creator: Signer, key: string, endorsers: readonly Signer[], opts: { chain?: string; version?: string; resultVersion?: string; contract?: string; ts?: number } = {}): { envelope: Uint8Array; signed: SignedProposal } {
  const signed = propose(net, creator, 'put', { key, value: 'crafted' }, opts);
  const version = opts.resultVersion ?? opts.version;
  const result = handResult(signed.bytes, { writes: [{ key: `kv:${key}`, value: JSON.stringify('crafted') }], ...(version === undefined ? {} : { version }), ...(opts.contract === undefined ? {} : { contract: opts.contract }) });
  return { envelope: envelopeOf(signed, result, signedBy(result, endorsers)), signed };
}

/** The value of a `basic` key as every peer holds it (they must agree). */
function stateOf(net: TestNet, key: string): JsonValue | undefined {
  const values = net.peers.map((p) => p.store(CHAIN).state('basic', key)?.value);
  for (const v of values) assert.equal(v, values[0]);
  const v = values[0];
  return v === undefined ? undefined : (JSON.parse(v) as JsonValue);
}

/** Checks the fillers' writes landed and the crafted key did not. */
function assertOnlyValidWrites(net: TestNet, fillers: readonly { key: string }[], craftedKeys: readonly string[]): void {
  for (const f of fillers) assert.equal(stateOf(net, `kv:${f.key}`), f.key);
  for (const k of craftedKeys) {
    assert.equal(stateOf(net, k), undefined, `${k} must not be written`);
    for (const p of net.peers) assert.equal(p.store(CHAIN).history('basic', k, 'asc', 10).length, 0);
  }
}

/** Copy of `bytes` with one byte flipped. */
function flipByte(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return copy;
}

function statusOf(net: TestNet, txId: string): { block: number; tx: number; code: ValidationCode } | undefined {
  const all = net.peers.map((p) => p.transactionStatus(CHAIN, txId));
  for (const s of all) assert.deepEqual(s, all[0]);
  const s = all[0];
  return s === undefined ? undefined : { block: s.block, tx: s.tx, code: s.code };
}

describe('validation codes on real blocks', () => {
  let net: TestNet;
  beforeEach(async () => {
    net = await openNet();
  });
  afterEach(async () => {
    await net.close();
  });

  it('VALID: endorsed transactions commit at every peer with the same commit hash', async () => {
    const a = filler(net);
    const b = filler(net);
    const block = await expectCodes(net, [a.envelope, b.envelope], ['VALID', 'VALID']);
    assertOnlyValidWrites(net, [a, b], []);
    assert.deepEqual(statusOf(net, a.txId), { block: block.number, tx: 0, code: 'VALID' });
    assert.deepEqual(statusOf(net, b.txId), { block: block.number, tx: 1, code: 'VALID' });
  });

  it('MALFORMED: undecodable bytes, unknown envelope fields and a result of another proposal', async () => {
    const f1 = filler(net);
    const f2 = filler(net);
    const garbage = Uint8Array.from([0xde, 0xad, 0xbe, 0xef]);
    const good = propose(net, net.orgs.Org1.user, 'put', { key: 'malformed-1', value: 'x' });
    const goodResult = endorse(net, good);
    const extraField = encodeCanonical({ v: TX_FORMAT_VERSION, proposal: good.bytes, signature: good.signature, result: goodResult.result, endorsements: goodResult.endorsements.map((e) => [e.endorser, e.signature]), note: 'smuggled' });
    // The result (and its endorsements) belong to `good`, the proposal is another one.
    const other = propose(net, net.orgs.Org1.user, 'put', { key: 'malformed-2', value: 'x' });
    const mismatched = envelopeOf(other, goodResult.result, goodResult.endorsements);
    // A result naming another contract than its proposal.
    const p3 = propose(net, net.orgs.Org1.user, 'put', { key: 'malformed-3', value: 'x' });
    const r3 = handResult(p3.bytes, { contract: 'other', writes: [{ key: 'kv:malformed-3', value: '"x"' }] });
    const otherContract = envelopeOf(p3, r3, signedBy(r3, peerKeys(net, ['Org1', 'Org2'])));

    await expectCodes(net, [f1.envelope, garbage, extraField, mismatched, otherContract, f2.envelope], ['VALID', 'MALFORMED', 'MALFORMED', 'MALFORMED', 'MALFORMED', 'VALID']);
    assertOnlyValidWrites(net, [f1, f2], ['kv:malformed-1', 'kv:malformed-2', 'kv:malformed-3']);
    // A malformed transaction is not indexed: its id stays free.
    assert.equal(statusOf(net, good.txId), undefined);
    assert.equal(statusOf(net, other.txId), undefined);
  });

  it('WRONG_CHAIN: a proposal for another chain, correctly signed and endorsed', async () => {
    const f1 = filler(net);
    const f2 = filler(net);
    const { envelope, signed } = handPut(net, net.orgs.Org1.user, 'wrong-chain', peerKeys(net, ['Org1', 'Org2']), { chain: 'other' });
    await expectCodes(net, [f1.envelope, envelope, f2.envelope], ['VALID', 'WRONG_CHAIN', 'VALID']);
    assertOnlyValidWrites(net, [f1, f2], ['kv:wrong-chain']);
    assert.equal(statusOf(net, signed.txId), undefined);
  });

  it('BAD_SIGNATURE: wrong key, altered signature and a high-S signature of a valid proposal', async () => {
    const f1 = filler(net);
    const f2 = filler(net);
    const user = net.orgs.Org1.user;
    const make = (key: string): { signed: SignedProposal; envelope: Uint8Array; result: Uint8Array; endorsements: Endorsement[] } => {
      const signed = propose(net, user, 'put', { key, value: 'x' });
      return { signed, ...endorse(net, signed) };
    };
    const wrongKey = make('badsig-1');
    const flipped = make('badsig-2');
    const malleated = make('badsig-3');
    const high = highS(malleated.signed.signature);
    // (r, n − s) is a valid ECDSA signature to OpenSSL: only the low-S rule refuses it.
    assert.ok(nodeVerify('sha256', malleated.signed.bytes, { key: publicKeyObject(user.publicKey), dsaEncoding: 'ieee-p1363' }, high));
    const txs = [
      f1.envelope,
      envelopeOf({ bytes: wrongKey.signed.bytes, signature: net.orgs.Org2.user.sign(wrongKey.signed.bytes) }, wrongKey.result, wrongKey.endorsements),
      envelopeOf({ bytes: flipped.signed.bytes, signature: flipByte(flipped.signed.signature, 10) }, flipped.result, flipped.endorsements),
      envelopeOf({ bytes: malleated.signed.bytes, signature: high }, malleated.result, malleated.endorsements),
      f2.envelope,
    ];
    await expectCodes(net, txs, ['VALID', 'BAD_SIGNATURE', 'BAD_SIGNATURE', 'BAD_SIGNATURE', 'VALID']);
    assertOnlyValidWrites(net, [f1, f2], ['kv:badsig-1', 'kv:badsig-2', 'kv:badsig-3']);
    // A forged signature burns nothing: the id is not indexed, and the genuine envelope commits later.
    assert.equal(statusOf(net, malleated.signed.txId), undefined);
    const later = await expectCodes(net, [malleated.envelope], ['VALID']);
    assert.deepEqual(statusOf(net, malleated.signed.txId), { block: later.number, tx: 0, code: 'VALID' });
    assert.equal(stateOf(net, 'kv:badsig-3'), 'x');
  });

  it('BAD_SIGNATURE: a DER-encoded creator signature (the ERROR_CODES registry lists DER under BAD_SIGNATURE)', async () => {
    const f1 = filler(net);
    const f2 = filler(net);
    const signed = propose(net, net.orgs.Org1.user, 'put', { key: 'badsig-der', value: 'x' });
    const { result, endorsements } = endorse(net, signed);
    const der = toDer(signed.signature);
    // The DER form verifies under OpenSSL's default encoding: the same signature, other bytes.
    assert.ok(nodeVerify('sha256', signed.bytes, publicKeyObject(net.orgs.Org1.user.publicKey), der));
    const block = await cut(net, [f1.envelope, envelopeOf({ bytes: signed.bytes, signature: der }, result, endorsements), f2.envelope]);
    assertOnlyValidWrites(net, [f1, f2], ['kv:badsig-der']);
    assert.equal(statusOf(net, signed.txId), undefined);
    assert.deepEqual(block.codes, ['VALID', 'BAD_SIGNATURE', 'VALID']);
  });

  it('BAD_ENDORSEMENT_SIGNATURE: a flipped byte in an endorsement signature, and a signature over another result', async () => {
    const f1 = filler(net);
    const f2 = filler(net);
    const a = propose(net, net.orgs.Org1.user, 'put', { key: 'badendo-1', value: 'x' });
    const ea = endorse(net, a);
    const flipped = ea.endorsements.map((e, i) => (i === 1 ? { endorser: e.endorser, signature: flipByte(e.signature, 40) } : e));
    const b = propose(net, net.orgs.Org1.user, 'put', { key: 'badendo-2', value: 'x' });
    const eb = endorse(net, b);
    // Org2's peer signed the result of `a`; the envelope of `b` carries that signature.
    const swapped = [eb.endorsements[0]!, { endorser: net.orgs.Org2.peer.publicKey, signature: ea.endorsements[1]!.signature }];
    const block = await expectCodes(net, [f1.envelope, envelopeOf(a, ea.result, flipped), envelopeOf(b, eb.result, swapped), f2.envelope], ['VALID', 'BAD_ENDORSEMENT_SIGNATURE', 'BAD_ENDORSEMENT_SIGNATURE', 'VALID']);
    assertOnlyValidWrites(net, [f1, f2], ['kv:badendo-1', 'kv:badendo-2']);
    // Bogus endorsements claim nothing: the id stays free and the genuine envelope commits later.
    assert.equal(block.codes[1], 'BAD_ENDORSEMENT_SIGNATURE');
    assert.equal(statusOf(net, a.txId), undefined);
    const later = await expectCodes(net, [ea.envelope], ['VALID']);
    assert.deepEqual(statusOf(net, a.txId), { block: later.number, tx: 0, code: 'VALID' });
  });

  it('UNKNOWN_CREATOR: a correctly signed proposal by a key the chain does not list', async () => {
    const f1 = filler(net);
    const f2 = filler(net);
    const stranger = generateSigner();
    assert.throws(() => peerOf(net, 'Org1').endorse(propose(net, stranger, 'put', { key: 'x', value: 'x' })), (e) => isSilkError(e, 'UNKNOWN_CREATOR'));
    const { envelope, signed } = handPut(net, stranger, 'stranger', peerKeys(net, ['Org1', 'Org2']));
    await expectCodes(net, [f1.envelope, envelope, f2.envelope], ['VALID', 'UNKNOWN_CREATOR', 'VALID']);
    assertOnlyValidWrites(net, [f1, f2], ['kv:stranger']);
    assert.equal(statusOf(net, signed.txId), undefined);
  });

  it('UNKNOWN_ENDORSER: a correct endorsement signature by a key the chain does not list', async () => {
    const f1 = filler(net);
    const f2 = filler(net);
    const outsider = generateSigner();
    const only = handPut(net, net.orgs.Org1.user, 'unknown-endorser-1', [outsider]);
    // Enough known endorsers for the policy, plus one unknown: still refused.
    const p = propose(net, net.orgs.Org1.user, 'put', { key: 'unknown-endorser-2', value: 'x' });
    const e = endorse(net, p, ['Org1', 'Org2']);
    const plusOutsider = envelopeOf(p, e.result, [...e.endorsements, ...signedBy(e.result, [outsider])]);
    await expectCodes(net, [f1.envelope, only.envelope, plusOutsider, f2.envelope], ['VALID', 'UNKNOWN_ENDORSER', 'UNKNOWN_ENDORSER', 'VALID']);
    assertOnlyValidWrites(net, [f1, f2], ['kv:unknown-endorser-1', 'kv:unknown-endorser-2']);
  });

  it('ENDORSEMENT_POLICY_FAILURE: one org where two are needed, one endorser twice, admins where peers are named', async () => {
    const f1 = filler(net);
    const f2 = filler(net);
    const one = endorse(net, propose(net, net.orgs.Org1.user, 'put', { key: 'epf-1', value: 'x' }), ['Org1']);
    const twice = propose(net, net.orgs.Org1.user, 'put', { key: 'epf-2', value: 'x' });
    const t = endorse(net, twice, ['Org1']);
    const twiceEnv = envelopeOf(twice, t.result, [t.endorsements[0]!, t.endorsements[0]!]);
    const admins = handPut(net, net.orgs.Org1.user, 'epf-3', [net.orgs.Org1.admin, net.orgs.Org2.admin]);
    await expectCodes(net, [f1.envelope, one.envelope, twiceEnv, admins.envelope, f2.envelope], ['VALID', 'ENDORSEMENT_POLICY_FAILURE', 'ENDORSEMENT_POLICY_FAILURE', 'ENDORSEMENT_POLICY_FAILURE', 'VALID']);
    assertOnlyValidWrites(net, [f1, f2], ['kv:epf-1', 'kv:epf-2', 'kv:epf-3']);
  });

  it('ENDORSEMENT_POLICY_FAILURE: a key-level policy (protectAsset requiring Org2) replaces the contract policy for that key', async () => {
    const user = net.orgs.Org1.user;
    const asset = { id: 'gem', owner: 'alice', colour: 'green', size: 1, appraisedValue: 100 };
    await expectCodes(net, [endorse(net, propose(net, user, 'createAsset', asset)).envelope], ['VALID']);
    await expectCodes(net, [endorse(net, propose(net, user, 'protectAsset', { id: 'gem', policy: "OR('Org2.peer')" })).envelope], ['VALID']);
    for (const p of net.peers) assert.equal(p.store(CHAIN).state('basic', 'asset:gem')?.policy, "OR('Org2.peer')");

    const f1 = filler(net);
    const f2 = filler(net);
    const byOrg1 = endorse(net, propose(net, user, 'transferAsset', { id: 'gem', newOwner: 'mallory' }), ['Org1']);
    // Org1 + Org3 satisfy the contract policy, but not the key's.
    const byOrg1And3 = endorse(net, propose(net, user, 'transferAsset', { id: 'gem', newOwner: 'trent' }), ['Org1', 'Org3']);
    // Org2 alone satisfies the key policy, which is all a write of this key needs.
    const byOrg2 = endorse(net, propose(net, user, 'transferAsset', { id: 'gem', newOwner: 'bob' }), ['Org2']);
    await expectCodes(net, [f1.envelope, byOrg1.envelope, byOrg1And3.envelope, byOrg2.envelope, f2.envelope], ['VALID', 'ENDORSEMENT_POLICY_FAILURE', 'ENDORSEMENT_POLICY_FAILURE', 'VALID', 'VALID']);
    assertOnlyValidWrites(net, [f1, f2], []);
    assert.deepEqual(stateOf(net, 'asset:gem'), { ...asset, owner: 'bob' });
    // The key keeps its policy through the transfer.
    for (const p of net.peers) assert.equal(p.store(CHAIN).state('basic', 'asset:gem')?.policy, "OR('Org2.peer')");

    // A transaction writing the protected key and an unprotected one needs both policies.
    const gem = net.peers[0]!.store(CHAIN).state('basic', 'asset:gem')!;
    const both = (endorsers: readonly OrgName[], n: string): Uint8Array => {
      const s = propose(net, user, 'transferAsset', { id: 'gem', newOwner: n });
      const r = handResult(s.bytes, { reads: [{ key: 'asset:gem', version: { block: gem.block, tx: gem.tx } }], writes: [{ key: 'asset:gem', value: JSON.stringify({ ...asset, owner: n }) }, { key: `kv:both-${n}`, value: '"x"' }] });
      return envelopeOf(s, r, signedBy(r, peerKeys(net, endorsers)));
    };
    await expectCodes(net, [both(['Org2'], 'carol'), both(['Org2', 'Org3'], 'dave')], ['ENDORSEMENT_POLICY_FAILURE', 'VALID']);
    assert.equal(stateOf(net, 'kv:both-carol'), undefined);
    assert.equal(stateOf(net, 'kv:both-dave'), 'x');
    assert.deepEqual(stateOf(net, 'asset:gem'), { ...asset, owner: 'dave' });
  });

  it('a key deleted and re-created in one block loses its key-level policy, as it does across two blocks', async () => {
    const user = net.orgs.Org1.user;
    const assetOf = (id: string): { [k: string]: JsonValue } => ({ id, owner: 'alice', colour: 'blue', size: 2, appraisedValue: 50 });
    for (const id of ['vase', 'urn']) {
      await expectCodes(net, [endorse(net, propose(net, user, 'createAsset', assetOf(id))).envelope], ['VALID']);
      await expectCodes(net, [endorse(net, propose(net, user, 'protectAsset', { id, policy: "OR('Org2.peer')" })).envelope], ['VALID']);
    }
    // A blind delete (endorsed to satisfy the key policy) and a blind re-create (no policy is left,
    // so the contract policy applies): for `urn` in two blocks, for `vase` in one.
    const delete_ = (id: string): Uint8Array => {
      const s = propose(net, user, 'deleteAsset', { id });
      const r = handResult(s.bytes, { writes: [{ key: `asset:${id}`, value: null }] });
      return envelopeOf(s, r, signedBy(r, peerKeys(net, ['Org2'])));
    };
    const recreate = (id: string): Uint8Array => {
      const s = propose(net, user, 'createAsset', assetOf(id));
      const r = handResult(s.bytes, { writes: [{ key: `asset:${id}`, value: JSON.stringify(assetOf(id)) }] });
      return envelopeOf(s, r, signedBy(r, peerKeys(net, ['Org1', 'Org3'])));
    };
    await expectCodes(net, [delete_('urn')], ['VALID']);
    await expectCodes(net, [recreate('urn')], ['VALID']);
    await expectCodes(net, [delete_('vase'), recreate('vase')], ['VALID', 'VALID']);
    assert.deepEqual(stateOf(net, 'asset:urn'), assetOf('urn'));
    assert.deepEqual(stateOf(net, 'asset:vase'), assetOf('vase'));
    for (const p of net.peers) assert.equal(p.store(CHAIN).state('basic', 'asset:urn')?.policy, null);
    for (const p of net.peers) assert.equal(p.store(CHAIN).state('basic', 'asset:vase')?.policy, null, `${p.name}: the re-created key must not inherit the deleted key's policy`);
    // So a transfer under the contract policy is VALID for both.
    const t = (id: string): Uint8Array => endorse(net, propose(net, user, 'transferAsset', { id, newOwner: 'bob' }), ['Org1', 'Org3']).envelope;
    await expectCodes(net, [t('urn'), t('vase')], ['VALID', 'VALID']);
  });

  it('UNKNOWN_CONTRACT_VERSION: version 0.9 in proposal and result, in the result only, and a contract the chain does not define', async () => {
    const f1 = filler(net);
    const f2 = filler(net);
    const endorsers = peerKeys(net, ['Org1', 'Org2']);
    assert.throws(() => peerOf(net, 'Org1').endorse(propose(net, net.orgs.Org1.user, 'put', { key: 'v', value: 'v' }, { version: '0.9' })), (e) => isSilkError(e, 'UNKNOWN_CONTRACT_VERSION'));
    const old = handPut(net, net.orgs.Org1.user, 'ucv-1', endorsers, { version: '0.9' });
    const resultOnly = handPut(net, net.orgs.Org1.user, 'ucv-2', endorsers, { resultVersion: '0.9' });
    const ghost = handPut(net, net.orgs.Org1.user, 'ucv-3', endorsers, { contract: 'ghost' });
    await expectCodes(net, [f1.envelope, old.envelope, resultOnly.envelope, ghost.envelope, f2.envelope], ['VALID', 'UNKNOWN_CONTRACT_VERSION', 'UNKNOWN_CONTRACT_VERSION', 'UNKNOWN_CONTRACT_VERSION', 'VALID']);
    assertOnlyValidWrites(net, [f1, f2], ['kv:ucv-1', 'kv:ucv-2', 'kv:ucv-3']);
    for (const p of net.peers) assert.equal(p.store(CHAIN).state('ghost', 'kv:ucv-3'), undefined);
  });

  it('DUPLICATE_TXID: the same envelope twice in a block and again later; another proposal reusing the tx id', async () => {
    const user = net.orgs.Org1.user;
    const dup = propose(net, user, 'put', { key: 'dup', value: 'first' });
    const env = endorse(net, dup).envelope;
    const f1 = filler(net);
    const first = await expectCodes(net, [env, f1.envelope, env], ['VALID', 'VALID', 'DUPLICATE_TXID']);
    const f2 = filler(net);
    // Same nonce and creator, so the same tx id, but other arguments.
    const reuse = propose(net, user, 'put', { key: 'dup-reuse', value: 'second' }, { nonce: dup.proposal.nonce });
    assert.equal(reuse.txId, dup.txId);
    const f3 = filler(net);
    await expectCodes(net, [f2.envelope, env, endorse(net, reuse).envelope, f3.envelope], ['VALID', 'DUPLICATE_TXID', 'DUPLICATE_TXID', 'VALID']);
    assertOnlyValidWrites(net, [f1, f2, f3], ['kv:dup-reuse']);
    assert.equal(stateOf(net, 'kv:dup'), 'first');
    for (const p of net.peers) assert.equal(p.store(CHAIN).history('basic', 'kv:dup', 'asc', 10).length, 1, 'the write is applied once');
    assert.deepEqual(statusOf(net, dup.txId), { block: first.number, tx: 0, code: 'VALID' });
  });

  it('EXPIRED: proposal times outside the window around the block time, either side; the window edges are VALID', async () => {
    const blockTs = net.now;
    const user = net.orgs.Org1.user;
    const at = (key: string, ts: number): Uint8Array => endorse(net, propose(net, user, 'put', { key, value: key }, { ts })).envelope;
    const txs = [
      at('edge-past', blockTs - TX_WINDOW_MS),
      at('stale', blockTs - TX_WINDOW_MS - 1),
      at('far-past', blockTs - 24 * 3600 * 1000),
      at('future', blockTs + TX_WINDOW_MS + 1),
      at('edge-future', blockTs + TX_WINDOW_MS),
    ];
    await expectCodes(net, txs, ['VALID', 'EXPIRED', 'EXPIRED', 'EXPIRED', 'VALID'], blockTs);
    assertOnlyValidWrites(net, [{ key: 'edge-past' }, { key: 'edge-future' }], ['kv:stale', 'kv:far-past', 'kv:future']);
  });

  it('MVCC_READ_CONFLICT: two read-modify-writes of one key endorsed on the same state, in one block and across blocks', async () => {
    const user = net.orgs.Org1.user;
    const f1 = filler(net);
    const f2 = filler(net);
    const a = endorse(net, propose(net, user, 'rmw', { key: 'hot', value: 'a' })).envelope;
    const b = endorse(net, propose(net, user, 'rmw', { key: 'hot', value: 'b' })).envelope;
    await expectCodes(net, [f1.envelope, a, b, f2.envelope], ['VALID', 'VALID', 'MVCC_READ_CONFLICT', 'VALID']);
    assertOnlyValidWrites(net, [f1, f2], []);
    assert.equal(stateOf(net, 'kv:hot'), 'a');

    // Both endorsed against the state after block n; c commits in n+1, d arrives in n+2.
    const c = endorse(net, propose(net, user, 'rmw', { key: 'hot', value: 'c' })).envelope;
    const d = endorse(net, propose(net, user, 'rmw', { key: 'hot', value: 'd' })).envelope;
    await expectCodes(net, [c], ['VALID']);
    const f3 = filler(net);
    await expectCodes(net, [d, f3.envelope], ['MVCC_READ_CONFLICT', 'VALID']);
    assert.equal(stateOf(net, 'kv:hot'), 'c');
    assertOnlyValidWrites(net, [f3], []);
  });

  it('PHANTOM_READ_CONFLICT: a range read whose interval gained a key, in one block and across blocks', async () => {
    const user = net.orgs.Org1.user;
    const asset = (id: string, value: number): JsonValue => ({ id, owner: 'alice', colour: 'red', size: 1, appraisedValue: value });
    await expectCodes(net, [endorse(net, propose(net, user, 'createAsset', asset('ph-b', 10))).envelope, endorse(net, propose(net, user, 'createAsset', asset('ph-d', 20))).envelope], ['VALID', 'VALID']);
    const inventory = (): Uint8Array => endorse(net, propose(net, user, 'recordInventory', { fromId: 'ph-a', toId: 'ph-z' })).envelope;

    // Unchanged range: VALID, and the inventory is what was read.
    await expectCodes(net, [inventory()], ['VALID']);
    assert.deepEqual(stateOf(net, 'inventory:ph-a:ph-z'), { fromId: 'ph-a', toId: 'ph-z', count: 2, totalValue: 30 });

    // An insertion earlier in the same block (no key the inventory read was touched).
    const f1 = filler(net);
    const insert = endorse(net, propose(net, user, 'createAsset', asset('ph-c', 5))).envelope;
    await expectCodes(net, [f1.envelope, insert, inventory(), filler(net).envelope], ['VALID', 'VALID', 'PHANTOM_READ_CONFLICT', 'VALID']);

    // Across blocks: endorsed, then an insertion commits, then the inventory arrives.
    const stale = inventory();
    await expectCodes(net, [endorse(net, propose(net, user, 'createAsset', asset('ph-e', 7))).envelope], ['VALID']);
    await expectCodes(net, [stale], ['PHANTOM_READ_CONFLICT']);

    // A deletion inside the range: the deleted key was itself read, so the key check catches it first.
    const beforeDelete = inventory();
    await expectCodes(net, [endorse(net, propose(net, user, 'deleteAsset', { id: 'ph-b' })).envelope], ['VALID']);
    await expectCodes(net, [beforeDelete], ['MVCC_READ_CONFLICT']);
    // A write just outside the range does not conflict.
    const beforeOutside = inventory();
    await expectCodes(net, [endorse(net, propose(net, user, 'createAsset', asset('pi-a', 99))).envelope], ['VALID']);
    await expectCodes(net, [beforeOutside], ['VALID']);
    assert.deepEqual(stateOf(net, 'inventory:ph-a:ph-z'), { fromId: 'ph-a', toId: 'ph-z', count: 3, totalValue: 32 });
  });

  it('a valid config update (sequence + 1, majority of admins) admits a user whose earlier transaction was UNKNOWN_CREATOR', async () => {
    const carol = generateSigner();
    const early = handPut(net, carol, 'carol', peerKeys(net, ['Org1', 'Org2']));
    const f1 = filler(net);
    const f2 = filler(net);
    await expectCodes(net, [f1.envelope, early.envelope, f2.envelope], ['VALID', 'UNKNOWN_CREATOR', 'VALID']);
    assert.equal(stateOf(net, 'kv:carol'), undefined);

    const next = structuredClone(net.genesisConfig);
    next.sequence = 1;
    next.orgs.Org3!.members.push({ name: 'carol', key: toHex(carol.publicKey), role: 'client' });
    const update = createConfigTransaction(next, net.orgs.Org1.admin, [net.orgs.Org1.admin, net.orgs.Org2.admin], net.now);
    await expectCodes(net, [update], ['VALID']);
    for (const p of net.peers) {
      assert.equal(p.config(CHAIN).sequence, 1);
      assert.ok(p.config(CHAIN).orgs.Org3!.members.some((m) => m.name === 'carol'));
    }

    // The same envelope, refused before, is now VALID; so is a fresh one the peers endorse.
    const fresh = endorse(net, propose(net, carol, 'put', { key: 'carol-2', value: 'carol-2' }), ['Org2', 'Org3']);
    const b = await expectCodes(net, [early.envelope, fresh.envelope], ['VALID', 'VALID']);
    assert.equal(stateOf(net, 'kv:carol'), 'crafted');
    assert.equal(stateOf(net, 'kv:carol-2'), 'carol-2');
    assert.deepEqual(statusOf(net, early.signed.txId), { block: b.number, tx: 0, code: 'VALID' });
  });

  it('CONFIG_INVALID: wrong sequence, non-admin endorsers, sharing a block; one admin of three fails the admin policy', async () => {
    const { Org1, Org2 } = net.orgs;
    const withSequence = (sequence: number): ChainConfig => ({ ...net.genesisConfig, sequence, txWindowMs: 120_000 });
    const assertUnchanged = (): void => {
      for (const p of net.peers) assert.deepEqual(p.config(CHAIN), net.genesisConfig);
    };
    await expectCodes(net, [createConfigTransaction(withSequence(2), Org1.admin, [Org1.admin, Org2.admin], net.now)], ['CONFIG_INVALID']);
    assertUnchanged();
    await expectCodes(net, [createConfigTransaction(withSequence(0), Org1.admin, [Org1.admin, Org2.admin], net.now)], ['CONFIG_INVALID']);
    assertUnchanged();
    await expectCodes(net, [createConfigTransaction(withSequence(1), Org1.admin, [Org1.peer, Org2.peer], net.now)], ['CONFIG_INVALID']);
    assertUnchanged();
    await expectCodes(net, [createConfigTransaction(withSequence(1), Org1.admin, [Org1.admin], net.now)], ['ENDORSEMENT_POLICY_FAILURE']);
    assertUnchanged();
    const f1 = filler(net);
    const f2 = filler(net);
    await expectCodes(net, [f1.envelope, createConfigTransaction(withSequence(1), Org1.admin, [Org1.admin, Org2.admin], net.now), f2.envelope], ['VALID', 'CONFIG_INVALID', 'VALID']);
    assertOnlyValidWrites(net, [f1, f2], []);
    assertUnchanged();
    // The same update alone in its block is accepted: the refusals above were for the stated reasons.
    await expectCodes(net, [createConfigTransaction(withSequence(1), Org1.admin, [Org1.admin, Org2.admin], net.now)], ['VALID']);
    for (const p of net.peers) assert.equal(p.config(CHAIN).txWindowMs, 120_000);
  });
});

describe('blocks the peer refuses (BAD_BLOCK)', () => {
  let net: TestNet;
  beforeEach(async () => {
    net = await openNet();
    await cut(net, [filler(net).envelope]);
  });
  afterEach(async () => {
    await net.close();
  });

  const refusedEverywhere = async (bytes: Uint8Array, why: RegExp): Promise<void> => {
    const heights = net.peers.map((p) => p.height(CHAIN));
    const hashes = net.peers.map((p) => p.committedBlock(CHAIN, p.height(CHAIN) - 1)!.commitHash);
    for (const p of net.peers) {
      await assert.rejects(p.deliver(bytes), (e: unknown) => isSilkError(e, 'BAD_BLOCK') && why.test(e.message));
    }
    assert.deepEqual(net.peers.map((p) => p.height(CHAIN)), heights, 'nothing is committed');
    assert.deepEqual(net.peers.map((p) => p.committedBlock(CHAIN, p.height(CHAIN) - 1)!.commitHash), hashes);
  };

  it('refuses a bad orderer signature, an unlisted orderer, a wrong previous hash, data hash or number, and a backwards timestamp; then takes the right block', async () => {
    const f = filler(net);
    const good = nextBlock(net, [f.envelope]);
    const height = good.header.number;
    await refusedEverywhere(encodeBlock({ ...good, signature: flipByte(good.signature, 5) }), /orderer signature/);
    await refusedEverywhere(encodeBlock(nextBlock(net, [f.envelope], { orderer: generateSigner() })), /orderer the chain does not list/);
    await refusedEverywhere(encodeBlock(nextBlock(net, [f.envelope], { previousHash: sha256(Uint8Array.of(1)) })), /previous hash/);
    await refusedEverywhere(encodeBlock({ ...good, txs: [filler(net).envelope] }), /data hash/);
    await refusedEverywhere(encodeBlock({ ...good, txs: [] }), /data hash/);
    await refusedEverywhere(encodeBlock(nextBlock(net, [f.envelope], { number: height + 1 })), /expected block/);
    await refusedEverywhere(encodeBlock(nextBlock(net, [f.envelope], { number: height - 1 })), /expected block/);
    await refusedEverywhere(encodeBlock(nextBlock(net, [f.envelope], { timestamp: T0 - 1 })), /backwards/);
    await refusedEverywhere(Uint8Array.of(1, 2, 3), /decode/);
    assert.equal(stateOf(net, `kv:${f.key}`), undefined);

    const committed = await Promise.all(net.peers.map((p) => p.deliver(encodeBlock(good))));
    for (const c of committed) {
      assert.equal(c.number, height);
      assert.deepEqual(c.codes, ['VALID']);
      assert.equal(c.commitHash, committed[0]!.commitHash);
    }
    assert.equal(stateOf(net, `kv:${f.key}`), f.key);
  });

  it('a refused block queued before a good one does not hold the good one back', async () => {
    const f = filler(net);
    const good = encodeBlock(nextBlock(net, [f.envelope]));
    const bad = encodeBlock(nextBlock(net, [f.envelope], { previousHash: sha256(Uint8Array.of(2)) }));
    for (const p of net.peers) {
      const [refused, accepted] = await Promise.allSettled([p.deliver(bad), p.deliver(good)]);
      assert.equal(refused.status, 'rejected');
      assert.equal(accepted.status, 'fulfilled');
    }
    assert.equal(stateOf(net, `kv:${f.key}`), f.key);
  });

  it('a block of a chain the peer has not joined is refused through the returned promise', async () => {
    const other = createBlock({ chain: 'other', number: 1, previousHash: sha256(Uint8Array.of(3)), timestamp: net.now, txs: [] }, net.orderer);
    const peer = net.peers[0]!;
    let outcome: { promise: Promise<CommittedBlock> } | { thrown: unknown };
    try {
      outcome = { promise: peer.deliver(encodeBlock(other)) };
    } catch (e) {
      outcome = { thrown: e };
    }
    assert.ok('promise' in outcome, `deliver threw synchronously instead of rejecting: ${'thrown' in outcome ? String(outcome.thrown) : ''}`);
    await assert.rejects(outcome.promise, (e: unknown) => isSilkError(e));
    assert.equal(peer.height(CHAIN), 2);
  });
});

describe('coverage', () => {
  it('every validation code was stored by some block above', () => {
    const missing = VALIDATION_CODES.filter((c) => !codesSeen.has(c));
    assert.deepEqual(missing, [], `no block stored these codes: ${missing.join(', ')}`);
  });
});
