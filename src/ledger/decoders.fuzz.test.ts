/**
 * Fuzzing of every decoder that reads untrusted bytes (proposal, result, envelope, block header,
 * block), then of a live peer fed blocks that carry fuzzed envelopes and fuzzed block bytes.
 *
 * The contract under test: a decoder either returns a value whose canonical re-encoding is the
 * input, byte for byte, or throws a SilkError MALFORMED / PAYLOAD_TOO_LARGE with a message;
 * never a TypeError, a RangeError or a crash. A peer turns any undecodable transaction into a
 * MALFORMED code without disturbing the valid ones, and refuses any bad block with BAD_BLOCK.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeCanonical, encodeCanonical, type CanonicalValue } from '../codec/canonical-cbor.js';
import { sha256, toHex } from '../crypto/hash.js';
import { generateSigner, type Signer } from '../crypto/p256.js';
import { createInlineVerifier } from '../crypto/verify-pool.js';
import { BasicContract } from '../contracts/basic/basic-contract.js';
import { SilkError, type ValidationCode } from '../errors.js';
import { createPeer, type Peer } from '../peer/peer.js';
import { tempDir } from '../testing/fixtures.js';
import { blockHash, createBlock, decodeBlock, decodeBlockHeader, encodeBlock, encodeBlockHeader, GENESIS_PREVIOUS_HASH, MAX_BLOCK_BYTES, type Block } from './block.js';
import type { ChainConfig } from './chain-config.js';
import { createConfigTransaction } from './config-transaction.js';
import type { JsonValue } from './json-value.js';
import { createProposal, decodeProposal, decodeProposalIdentity, MAX_PROPOSAL_BYTES, type SignedProposal } from './proposal.js';
import { decodeTransaction, decodeTxResult, decodeWrittenKeys, encodeEnvelope, encodeTxResult, MAX_ENVELOPE_BYTES, MAX_VALUE_BYTES, TX_FORMAT_VERSION, type DecodedTransaction, type TxResult, type WrittenKeys } from './transaction.js';

const CHAIN = 'fuzz';
const T0 = 1_700_000_000_000;
const hex = (b: Uint8Array): string => toHex(b);
const bytesOf = (n: number, fill = 1): Uint8Array => new Uint8Array(n).fill(fill);

const admin = generateSigner();
const peerSigner = generateSigner();
const client = generateSigner();
const orderer = generateSigner();
const stranger = generateSigner();

const config: ChainConfig = {
  v: 1,
  chain: CHAIN,
  sequence: 0,
  orgs: {
    Org1: {
      members: [
        { name: 'admin', key: hex(admin.publicKey), role: 'admin' },
        { name: 'peer0.org1', key: hex(peerSigner.publicKey), role: 'peer' },
        { name: 'client', key: hex(client.publicKey), role: 'client' },
      ],
    },
  },
  orderers: [hex(orderer.publicKey)],
  adminPolicy: "MAJORITY('Org1.admin')",
  contracts: { basic: { version: '1.0', policy: "OR('Org1.peer')" } },
  txWindowMs: 86_400_000,
  batch: { maxTxs: 1000, maxBytes: 4 * 1024 * 1024, timeoutMs: 50 },
};
const genesis = createBlock({ chain: CHAIN, number: 0, previousHash: GENESIS_PREVIOUS_HASH, timestamp: T0, txs: [createConfigTransaction(config, admin, [admin], T0)] }, orderer);

let nonceCounter = 0;
function nextNonce(): Uint8Array {
  const n = new Uint8Array(24);
  new DataView(n.buffer).setUint32(0, ++nonceCounter);
  n.set([0x66, 0x75, 0x7a, 0x7a], 4);
  return n;
}

function propose(fn: string, args: JsonValue, signer: Signer = client, chain = CHAIN): SignedProposal {
  return createProposal({ chain, contract: 'basic', version: '1.0', fn, args, ts: T0 + 1, nonce: nextNonce() }, signer);
}

/** An envelope whose result we build and endorse ourselves (the decoders do not care who computed it). */
function handEnvelope(result: Partial<TxResult> = {}, endorser: Signer = peerSigner): { proposal: SignedProposal; result: Uint8Array; envelope: Uint8Array } {
  const p = propose('put', { key: 'k', value: 'v' });
  const r = encodeTxResult({
    v: TX_FORMAT_VERSION,
    proposalHash: sha256(p.bytes),
    contract: 'basic',
    version: '1.0',
    reads: [{ key: 'kv:a', version: null }, { key: 'kv:b', version: { block: 3, tx: 1 } }],
    writes: [{ key: 'kv:a', value: '"x"' }, { key: 'kv:c', value: null }, { key: 'kv:d', value: '1', policy: "OR('Org1.peer')" }],
    hashedWrites: [{ collection: 'c', keyHash: bytesOf(32, 7), valueHash: null }, { collection: 'c', keyHash: bytesOf(32, 8), valueHash: bytesOf(32, 9) }],
    events: [{ name: 'E', payload: '{"a":1}' }],
    response: 'null',
    ...result,
  });
  const envelope = encodeEnvelope({ v: TX_FORMAT_VERSION, proposal: p.bytes, signature: p.signature, result: r, endorsements: [{ endorser: endorser.publicKey, signature: endorser.sign(r) }] });
  return { proposal: p, result: r, envelope };
}

// ---------------------------------------------------------------------------------------------
// The decoders and their samples.

type DecoderName = 'proposal' | 'result' | 'transaction' | 'header' | 'block';

interface DecoderCase {
  readonly name: DecoderName;
  readonly maxBytes: number;
  decode(bytes: Uint8Array): unknown;
  reencode(value: unknown): Uint8Array;
  readonly samples: readonly Uint8Array[];
}

const richProposal = createProposal({
  chain: CHAIN, contract: 'basic', version: '1.0', fn: 'createAsset',
  args: { id: 'a1', owner: 'ünïcode 水 𐅑', colour: '', size: 0, appraisedValue: 9_007_199_254_740_991, list: [1.5, -2, null, true, false, { nested: [] }] },
  ts: T0, nonce: bytesOf(16, 3),
}, client);
const hand = handEnvelope();
const bare = handEnvelope({ reads: [], writes: [], hashedWrites: [], events: [], response: '' });
const sampleBlock = createBlock({ chain: CHAIN, number: 1, previousHash: blockHash(genesis.header), timestamp: T0 + 10, txs: [hand.envelope, bare.envelope] }, orderer);
const emptyBlock = createBlock({ chain: CHAIN, number: 7, previousHash: bytesOf(32, 5), timestamp: 0, txs: [] }, orderer);

const DECODERS: readonly DecoderCase[] = [
  { name: 'proposal', maxBytes: MAX_PROPOSAL_BYTES, decode: decodeProposal, reencode: (v) => encodeCanonical(v as CanonicalValue), samples: [hand.proposal.bytes, richProposal.bytes] },
  { name: 'result', maxBytes: MAX_ENVELOPE_BYTES, decode: decodeTxResult, reencode: (v) => encodeTxResult(v as TxResult), samples: [hand.result, bare.result] },
  { name: 'transaction', maxBytes: MAX_ENVELOPE_BYTES, decode: decodeTransaction, reencode: (v) => encodeEnvelope((v as DecodedTransaction).envelope), samples: [hand.envelope, bare.envelope] },
  { name: 'header', maxBytes: 4096, decode: decodeBlockHeader, reencode: (v) => encodeBlockHeader(v as Block['header']), samples: [encodeBlockHeader(sampleBlock.header), encodeBlockHeader(emptyBlock.header)] },
  { name: 'block', maxBytes: MAX_BLOCK_BYTES, decode: decodeBlock, reencode: (v) => encodeBlock(v as Block), samples: [encodeBlock(sampleBlock), encodeBlock(emptyBlock), encodeBlock(genesis)] },
];

function describeError(e: unknown): string {
  if (e instanceof SilkError) return `SilkError ${e.code}: ${e.message}`;
  if (e instanceof Error) return `${e.name}: ${e.message}\n${e.stack ?? ''}`;
  return `non-error ${String(e)}`;
}

/**
 * Decodes untrusted bytes and checks the contract: a refusal is a SilkError MALFORMED or
 * PAYLOAD_TOO_LARGE with a message; a success re-encodes to the input. Returns whether they decoded.
 */
function check(c: DecoderCase, bytes: Uint8Array, what: string): boolean {
  let value: unknown;
  try {
    value = c.decode(bytes);
  } catch (e) {
    if (!(e instanceof SilkError) || (e.code !== 'MALFORMED' && e.code !== 'PAYLOAD_TOO_LARGE') || e.message.length === 0) {
      assert.fail(`${c.name} decoder on ${what} (${hex(bytes.subarray(0, 64))}${bytes.length > 64 ? '…' : ''}, ${bytes.length} bytes) failed with ${describeError(e)}`);
    }
    return false;
  }
  const again = c.reencode(value);
  assert.equal(hex(again), hex(bytes), `${c.name} decoder on ${what}: decoded value re-encodes to different bytes`);
  return true;
}

function mustRefuse(c: DecoderCase, bytes: Uint8Array, what: string, code: 'MALFORMED' | 'PAYLOAD_TOO_LARGE' = 'MALFORMED'): void {
  assert.throws(() => c.decode(bytes), (e: unknown) => {
    assert.ok(e instanceof SilkError, `${c.name} on ${what}: ${describeError(e)}`);
    assert.equal(e.code, code, `${c.name} on ${what}: ${e.message}`);
    assert.ok(e.message.length > 0);
    return true;
  }, `${c.name} must refuse ${what}`);
}

const byName = (n: DecoderName): DecoderCase => DECODERS.find((d) => d.name === n) as DecoderCase;

// ---------------------------------------------------------------------------------------------
// Mutations.

type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly mask: number }
  | { readonly kind: 'set'; readonly at: number; readonly byte: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'extend'; readonly tail: Uint8Array }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.constantFrom(0x00, 0x17, 0x18, 0x1b, 0x40, 0x60, 0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xf4, 0xf6, 0xf7, 0xfb, 0xff) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), tail: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
);

function mutate(input: Uint8Array, muts: readonly Mutation[]): Uint8Array {
  let b = Array.from(input);
  const at = (n: number): number => (b.length === 0 ? 0 : n % b.length);
  for (const m of muts) {
    switch (m.kind) {
      case 'flip':
        if (b.length > 0) b[at(m.at)] = (b[at(m.at)] as number) ^ m.mask;
        break;
      case 'set':
        if (b.length > 0) b[at(m.at)] = m.byte;
        break;
      case 'truncate':
        b = b.slice(0, at(m.at));
        break;
      case 'extend':
        b.push(...m.tail);
        break;
      case 'insert':
        b.splice(at(m.at), 0, ...m.bytes);
        break;
      case 'delete':
        b.splice(at(m.at), m.count);
        break;
    }
  }
  return Uint8Array.from(b);
}

const differs = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) !== 0;

// ---------------------------------------------------------------------------------------------
// Structural fuzz: canonical maps with the right field names and wrong contents.

type Kind = 'null' | 'bool' | 'uint' | 'nint' | 'float' | 'big' | 'text' | 'bytes' | 'array' | 'map';
const POOL: readonly [Kind, CanonicalValue][] = [
  ['null', null], ['bool', true], ['bool', false], ['uint', 0], ['uint', 7], ['uint', 2 ** 40], ['nint', -1], ['float', 1.5], ['big', 2n ** 60n], ['big', -(2n ** 63n)],
  ['text', ''], ['text', 'x'], ['bytes', new Uint8Array(0)], ['bytes', bytesOf(32)], ['bytes', bytesOf(33, 2)], ['bytes', bytesOf(64, 3)],
  ['array', []], ['array', [1]], ['map', {}], ['map', { v: 1 }],
];
const JSON_KINDS: readonly Kind[] = ['null', 'bool', 'uint', 'nint', 'float', 'text', 'array', 'map'];

/** The field kinds each decoder accepts at the top level. */
const FIELDS: Readonly<Record<DecoderName, Readonly<Record<string, readonly Kind[]>>>> = {
  proposal: { v: ['uint'], chain: ['text'], contract: ['text'], version: ['text'], fn: ['text'], args: JSON_KINDS, creator: ['bytes'], nonce: ['bytes'], ts: ['uint'] },
  result: { v: ['uint'], proposalHash: ['bytes'], contract: ['text'], version: ['text'], reads: ['array'], writes: ['array'], hashedWrites: ['array'], events: ['array'], response: ['text'] },
  transaction: { v: ['uint'], proposal: ['bytes'], signature: ['bytes'], result: ['bytes'], endorsements: ['array'] },
  header: { v: ['uint'], chain: ['text'], number: ['uint'], previousHash: ['bytes'], dataHash: ['bytes'], timestamp: ['uint'], orderer: ['bytes'] },
  block: { header: ['bytes'], signature: ['bytes'], txs: ['array'] },
};

function asMap(bytes: Uint8Array): Record<string, CanonicalValue> {
  return { ...(decodeCanonical(bytes) as Record<string, CanonicalValue>) };
}

/** Explicit bad values of single fields: oversize, undersize, wrong nested shapes. */
const BAD_FIELDS: Readonly<Record<DecoderName, readonly [string, CanonicalValue][]>> = {
  proposal: [
    ['v', 2], ['v', 1001], ['chain', 'a'.repeat(65)], ['chain', ''], ['chain', 'bad name'], ['chain', '.dot'], ['contract', 'c'.repeat(65)], ['contract', 'x/y'],
    ['version', 'v'.repeat(33)], ['version', ''], ['fn', ''], ['fn', 'f'.repeat(65)], ['creator', bytesOf(32, 2)], ['creator', bytesOf(34, 2)],
    ['nonce', bytesOf(15)], ['nonce', bytesOf(65)], ['nonce', new Uint8Array(0)], ['ts', -1], ['ts', 1.5], ['ts', 2n ** 53n], ['ts', 2n ** 64n - 1n],
    ['args', { a: [bytesOf(2)] }], ['args', [2n ** 60n]], ['args', { deep: nest(40) }],
  ],
  result: [
    ['v', 0], ['v', 2], ['proposalHash', bytesOf(31)], ['proposalHash', bytesOf(33)], ['contract', 'c'.repeat(65)], ['contract', ''], ['version', 'v'.repeat(33)],
    ['response', 'r'.repeat(MAX_VALUE_BYTES + 1)],
    ...[[], [1], ['k', 1], ['k', 1, 2, 3], ['k', -1, 0], ['k', 0, 1.5], ['', 1, 2], ['k'.repeat(1025)], ['k', null, null], ['k', 2n ** 60n, 0]].map((r): [string, CanonicalValue] => ['reads', [r]]),
    ['reads', ['k']], ['reads', [{}]], ['reads', [null]],
    ...[[], ['k'], ['k', 1], ['k', 'v', ''], ['k', 'v', 'p', 'x'], ['', 'v'], [1, 'v'], ['k', bytesOf(1)], ['k', 'v', 1], ['k', 'v'.repeat(MAX_VALUE_BYTES + 1)], ['k', 'v', 'p'.repeat(4097)]].map((w): [string, CanonicalValue] => ['writes', [w]]),
    ...[{}, { collection: 'c', keyHash: bytesOf(32) }, { collection: '', keyHash: bytesOf(32), valueHash: null }, { collection: 'c', keyHash: bytesOf(31), valueHash: null },
      { collection: 'c', keyHash: bytesOf(32), valueHash: bytesOf(33) }, { collection: 'c', keyHash: bytesOf(32), valueHash: 'h' }, { collection: 'c', keyHash: bytesOf(32), valueHash: null, extra: 1 },
      { collection: 'c'.repeat(65), keyHash: bytesOf(32), valueHash: null }, [], 'c'].map((h): [string, CanonicalValue] => ['hashedWrites', [h]]),
    ...[[], ['n'], ['n', 1], ['', 'p'], ['n'.repeat(129), 'p'], ['n', 'p', 'x'], [1, 'p'], 'n', {}].map((e): [string, CanonicalValue] => ['events', [e]]),
    ['events', Array.from({ length: 1001 }, () => ['n', 'p'])],
    ['reads', Array.from({ length: 100_001 }, () => ['k'])],
  ],
  transaction: [
    // Envelope signatures decode up to 72 bytes (so a DER signature gets BAD_SIGNATURE, not MALFORMED); 73 is too long.
    ['v', 2], ['signature', bytesOf(73)], ['signature', 'not bytes'], ['proposal', bytesOf(10)], ['proposal', encodeCanonical({})], ['result', bytesOf(10)],
    ['result', bare.result], ['proposal', bare.proposal.bytes],
    ['endorsements', Array.from({ length: 33 }, () => [peerSigner.publicKey, bytesOf(64)])],
    ...[[], [bytesOf(33, 2)], [bytesOf(32, 2), bytesOf(64)], [bytesOf(33, 2), bytesOf(73)], [bytesOf(33, 2), bytesOf(64), 1], 'e', {}, [null, null]].map((e): [string, CanonicalValue] => ['endorsements', [e]]),
    ['result', encodeTxResult({ ...decodeTxResult(hand.result), contract: 'other' })],
    ['result', encodeTxResult({ ...decodeTxResult(hand.result), proposalHash: bytesOf(32) })],
  ],
  header: [
    ['v', 2], ['chain', 'c'.repeat(65)], ['chain', ''], ['number', -1], ['number', 1.5], ['number', 2n ** 53n], ['previousHash', bytesOf(31)], ['dataHash', bytesOf(33)],
    ['timestamp', 2n ** 60n], ['timestamp', -5], ['orderer', bytesOf(32)], ['orderer', bytesOf(34)],
  ],
  block: [
    ['header', bytesOf(4097)], ['header', bytesOf(40)], ['header', encodeCanonical({ ...asMap(encodeBlockHeader(sampleBlock.header)), extra: 1 })], ['signature', bytesOf(63)], ['signature', bytesOf(65)],
    ['txs', [1]], ['txs', ['t']], ['txs', [[]]], ['txs', [bytesOf(MAX_ENVELOPE_BYTES + 1)]], ['txs', Array.from({ length: 100_001 }, () => new Uint8Array(0))],
  ],
};

function without(m: Record<string, CanonicalValue>, field: string): Record<string, CanonicalValue> {
  return Object.fromEntries(Object.entries(m).filter(([k]) => k !== field));
}

function nest(depth: number): CanonicalValue {
  let v: CanonicalValue = 0;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

// ---------------------------------------------------------------------------------------------

describe('decoders: fuzzing', () => {
  it('the samples decode and re-encode to themselves', () => {
    for (const c of DECODERS) for (const [i, s] of c.samples.entries()) assert.equal(check(c, s, `sample ${i}`), true, `${c.name} sample ${i} decodes`);
  });

  for (const c of DECODERS) {
    describe(`${c.name} decoder`, () => {
      it('(a) random bytes', () => {
        fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (b) => {
          check(c, b, 'random bytes');
        }), { numRuns: 3000 });
        // Random bytes behind a map head get past the first byte more often.
        fc.assert(fc.property(fc.integer({ min: 0xa0, max: 0xbb }), fc.uint8Array({ maxLength: 256 }), (head, b) => {
          check(c, Uint8Array.from([head, ...b]), 'map head + random bytes');
        }), { numRuns: 2000 });
      });

      it('(b) every single-byte flip and truncation of the samples, and random mutations', () => {
        for (const [si, s] of c.samples.entries()) {
          for (let i = 0; i < s.length; i++) {
            for (const mask of [0x01, 0x20, 0x80, 0xff]) {
              const b = s.slice();
              b[i] = (b[i] as number) ^ mask;
              check(c, b, `sample ${si} with byte ${i} ^ ${mask}`);
            }
            const cut = s.subarray(0, i);
            assert.equal(check(c, cut, `sample ${si} cut to ${i} bytes`), false, `${c.name}: a strict prefix of a valid encoding must not decode`);
          }
          for (const tail of [[0x00], [0xf6], [0x60], [0x80, 0x80], [0xff]]) {
            mustRefuse(c, Uint8Array.from([...s, ...tail]), `sample ${si} extended by ${hex(Uint8Array.from(tail))}`);
          }
        }
        fc.assert(fc.property(fc.nat(c.samples.length - 1), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (si, muts) => {
          const s = c.samples[si] as Uint8Array;
          const b = mutate(s, muts);
          check(c, b, `sample ${si} mutated by ${JSON.stringify(muts, (_k, v: unknown) => (v instanceof Uint8Array ? hex(v) : v))}`);
        }), { numRuns: 3000 });
      });

      it('(c) canonical maps with missing, extra, mistyped and oversize fields', () => {
        const fields = FIELDS[c.name];
        const base = asMap(c.samples[0] as Uint8Array);
        assert.deepEqual(Object.keys(base).sort(), Object.keys(fields).sort(), 'the field table matches the sample');
        for (const f of Object.keys(fields)) {
          mustRefuse(c, encodeCanonical(without(base, f)), `missing field ${f}`);
          for (const [kind, value] of POOL) {
            const bytes = encodeCanonical({ ...base, [f]: value });
            if ((fields[f] as readonly Kind[]).includes(kind)) check(c, bytes, `${f} = ${kind}`);
            else mustRefuse(c, bytes, `${f} of the wrong type ${kind}`);
          }
        }
        for (const extra of ['extra', 'V', '', 'v2', '__proto_']) mustRefuse(c, encodeCanonical({ ...base, [extra]: 1 }), `extra field '${extra}'`);
        for (const [f, value] of BAD_FIELDS[c.name]) mustRefuse(c, encodeCanonical({ ...base, [f]: value }), `bad ${f}`);
        for (const notMap of [null, 1, 'x', bytesOf(3), [], [base]]) mustRefuse(c, encodeCanonical(notMap), `a ${Array.isArray(notMap) ? 'array' : typeof notMap} instead of a map`);
        // Random maps over the decoder's field names (and a stray one), with random small values.
        const small = fc.oneof(...POOL.map(([, v]) => fc.constant(v)), fc.string({ maxLength: 4 }), fc.uint8Array({ maxLength: 40 }), fc.nat());
        fc.assert(fc.property(fc.dictionary(fc.constantFrom(...Object.keys(fields), 'zz'), small, { maxKeys: 10 }), fc.boolean(), (m, keepRest) => {
          check(c, encodeCanonical(keepRest ? { ...base, ...m } : m), 'random field map');
        }), { numRuns: 1000 });
      });

      it('(d) oversize input is PAYLOAD_TOO_LARGE, whatever it holds', () => {
        mustRefuse(c, new Uint8Array(c.maxBytes + 1), `${c.maxBytes + 1} zero bytes`, 'PAYLOAD_TOO_LARGE');
        const sample = c.samples[0] as Uint8Array;
        const padded = new Uint8Array(c.maxBytes + 1);
        padded.set(sample);
        mustRefuse(c, padded, 'a valid encoding padded past the limit', 'PAYLOAD_TOO_LARGE');
        check(c, new Uint8Array(c.maxBytes), 'exactly the limit, all zeros');
      });
    });
  }

  it('(d) structurally valid values just past a size limit are refused', () => {
    const big = encodeCanonical({ ...asMap(hand.proposal.bytes), args: { blob: 'x'.repeat(MAX_PROPOSAL_BYTES) } });
    mustRefuse(byName('proposal'), big, 'a proposal over 1 MiB', 'PAYLOAD_TOO_LARGE');
    const bigEnvelope = encodeCanonical({ ...asMap(hand.envelope), proposal: bytesOf(MAX_PROPOSAL_BYTES + 1) });
    mustRefuse(byName('transaction'), bigEnvelope, 'an envelope whose proposal is over 1 MiB');
    const hugeEnvelope = encodeCanonical({ ...asMap(hand.envelope), result: bytesOf(MAX_ENVELOPE_BYTES) });
    mustRefuse(byName('transaction'), hugeEnvelope, 'an envelope over 2 MiB', 'PAYLOAD_TOO_LARGE');
  });
});

// ---------------------------------------------------------------------------------------------
// End to end: a peer fed fuzzed envelopes and fuzzed blocks.

interface Settled { readonly kind: 'resolved' | 'rejected' | 'threw'; readonly value?: unknown; readonly error?: unknown }

/** Runs `fn` and reports how it ended: resolved, rejected, or threw synchronously. */
async function settle(fn: () => Promise<unknown>): Promise<Settled> {
  let p: Promise<unknown>;
  try {
    p = fn();
  } catch (error) {
    return { kind: 'threw', error };
  }
  try {
    return { kind: 'resolved', value: await p };
  } catch (error) {
    return { kind: 'rejected', error };
  }
}

type EnvelopeFuzz =
  | { readonly kind: 'mutate'; readonly muts: readonly Mutation[] }
  | { readonly kind: 'random'; readonly bytes: Uint8Array }
  | { readonly kind: 'field'; readonly field: string; readonly value: number }
  | { readonly kind: 'drop'; readonly field: string }
  | { readonly kind: 'extra' }
  | { readonly kind: 'semantic'; readonly which: 'stranger-creator' | 'stranger-endorser' | 'no-endorsement' | 'wrong-chain' | 'wrong-version' | 'swapped-result' | 'unsigned' };

const ENVELOPE_FIELDS = Object.keys(FIELDS.transaction);
const envelopeFuzzArb: fc.Arbitrary<EnvelopeFuzz> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('mutate' as const), muts: fc.array(mutationArb, { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 300 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('field' as const), field: fc.constantFrom(...ENVELOPE_FIELDS), value: fc.nat(POOL.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), field: fc.constantFrom(...ENVELOPE_FIELDS) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'extra' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('semantic' as const), which: fc.constantFrom('stranger-creator', 'stranger-endorser', 'no-endorsement', 'wrong-chain', 'wrong-version', 'swapped-result', 'unsigned') }) },
);

describe('decoders: the written keys of a transaction (arguments and values left undecoded)', () => {
  const agree = (bytes: Uint8Array, what: string): void => {
    let full: DecodedTransaction | undefined;
    try {
      full = decodeTransaction(bytes);
    } catch {
      full = undefined;
    }
    let lean: WrittenKeys | undefined;
    try {
      lean = decodeWrittenKeys(bytes);
    } catch (e) {
      assert.ok(e instanceof SilkError && (e.code === 'MALFORMED' || e.code === 'PAYLOAD_TOO_LARGE'), `${what}: ${describeError(e)}`);
      assert.equal(full, undefined, `${what}: the whole decoder read what the keys decoder refused (${(e as Error).message})`);
      return;
    }
    if (full === undefined) return; // a wrong argument or value type: only the whole decoder looks
    const all = full.result.writes.map((w) => ({ key: w.key, deleted: w.value === null }));
    assert.deepEqual(lean, { txId: full.txId, contract: full.result.contract, writes: all }, what);
    // Asked for the keys under a prefix: exactly those, the others passed undecoded.
    for (const prefix of [all[0]?.key.slice(0, 2) ?? 'a', 'é', 'zz']) {
      assert.deepEqual(decodeWrittenKeys(bytes, { prefix }).writes, all.filter((w) => w.key.startsWith(prefix)), `${what}, prefix ${prefix}`);
    }
  };

  it('agrees with the whole decoder on every sample, flip, truncation and random mutation, and never fails otherwise than MALFORMED', () => {
    for (const [si, s] of [hand.envelope, bare.envelope].entries()) {
      agree(s, `sample ${si}`);
      assert.ok(decodeWrittenKeys(s).writes.length > 0 || si === 1);
      for (let i = 0; i < s.length; i++) {
        for (const mask of [0x01, 0x20, 0x80, 0xff]) {
          const b = s.slice();
          b[i] = (b[i] as number) ^ mask;
          agree(b, `sample ${si} with byte ${i} ^ ${mask}`);
        }
        assert.throws(() => decodeWrittenKeys(s.subarray(0, i)), { code: 'MALFORMED' }, `sample ${si} cut to ${i} bytes`);
      }
    }
    fc.assert(fc.property(fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (muts) => {
      agree(mutate(hand.envelope, muts), 'mutated');
    }), { numRuns: 3000 });
  });

  it("refuses a result that is not the proposal's, arguments out of canonical order, and a write that is not [key, value] or [key, value, policy]", () => {
    const swapped = encodeEnvelope({ ...decodeTransaction(hand.envelope).envelope, result: bare.result });
    assert.throws(() => decodeWrittenKeys(swapped), { code: 'MALFORMED', message: /proposalHash does not match the proposal/ });
    // Arguments are skipped, not trusted: a map inside them with keys out of canonical order is refused.
    const p = decodeCanonical(hand.proposal.bytes) as Record<string, CanonicalValue>;
    const twoKeys = encodeCanonical({ ...p, args: { a: 1, b: 2 } });
    assert.deepEqual(decodeProposalIdentity(twoKeys).creator, hand.proposal.proposal.creator);
    const argsAt = Buffer.from(twoKeys).indexOf(Buffer.from([0x64, 0x61, 0x72, 0x67, 0x73, 0xa2])); // "args": {2 entries}
    assert.ok(argsAt > 0);
    const swappedKeys = Uint8Array.from(twoKeys);
    swappedKeys.set([0x61, 0x62, 0x02, 0x61, 0x61, 0x01], argsAt + 6); // {"b": 2, "a": 1}
    assert.throws(() => decodeProposal(swappedKeys), { code: 'MALFORMED', message: /canonical order/ });
    assert.throws(() => decodeProposalIdentity(swappedKeys), { code: 'MALFORMED', message: /canonical order/ });
    for (const write of [['k'], ['k', 'v', 'p', 'x'], [1, 'v'], [new Uint8Array(2), 'v']]) {
      const result = encodeCanonical({ ...(decodeCanonical(hand.result) as Record<string, CanonicalValue>), writes: [write] });
      const envelope = encodeEnvelope({ ...decodeTransaction(hand.envelope).envelope, result });
      assert.throws(() => decodeWrittenKeys(envelope), { code: 'MALFORMED' }, JSON.stringify(write));
      assert.throws(() => decodeWrittenKeys(envelope, { prefix: 'zz' }), { code: 'MALFORMED' }, `${JSON.stringify(write)} under a prefix no key has`);
    }
  });
});

describe('peer: blocks carrying fuzzed envelopes, and fuzzed blocks', () => {
  let peer: Peer;
  let dir: { path: string; cleanup(): void };
  let lastHeader: Block['header'] = genesis.header;

  before(async () => {
    dir = tempDir('silk-fuzz-');
    peer = createPeer({ name: 'peer0.org1', org: 'Org1', signer: peerSigner, dataDir: dir.path, contracts: [new BasicContract()], verifier: createInlineVerifier() });
    await peer.joinChain(encodeBlock(genesis));
  });
  after(async () => {
    await peer.close();
    dir.cleanup();
  });

  /** A put endorsed by the peer, as the gateway would assemble it. */
  const endorsedPut = (key: string, value: string, signer: Signer = client, chain = CHAIN): { envelope: Uint8Array; proposal: SignedProposal; result: Uint8Array } => {
    const proposal = propose('put', { key, value }, signer, chain);
    const r = peer.endorse({ bytes: proposal.bytes, signature: proposal.signature });
    return { proposal, result: r.result, envelope: encodeEnvelope({ v: TX_FORMAT_VERSION, proposal: proposal.bytes, signature: proposal.signature, result: r.result, endorsements: [r.endorsement] }) };
  };

  const nextBlock = (txs: readonly Uint8Array[], tweak: Partial<{ number: number; previousHash: Uint8Array; timestamp: number; chain: string }> = {}, signer: Signer = orderer): Block =>
    createBlock({ chain: tweak.chain ?? CHAIN, number: tweak.number ?? lastHeader.number + 1, previousHash: tweak.previousHash ?? blockHash(lastHeader), timestamp: tweak.timestamp ?? lastHeader.timestamp + 1, txs }, signer);

  const deliverOk = async (b: Block): Promise<ValidationCode[]> => {
    const committed = await peer.deliver(encodeBlock(b));
    lastHeader = b.header;
    return [...committed.codes];
  };

  let fuzzSerial = 0;
  function fuzzEnvelope(f: EnvelopeFuzz): Uint8Array {
    const key = `fz${++fuzzSerial}`;
    const src = endorsedPut(key, 'fuzz');
    switch (f.kind) {
      case 'mutate': {
        // Mutations that cancel out would resubmit the valid source envelope: append a byte then.
        const b = mutate(src.envelope, f.muts);
        return differs(b, src.envelope) ? b : Uint8Array.from([...b, 0]);
      }
      case 'random':
        return f.bytes;
      case 'field':
        return encodeCanonical({ ...asMap(src.envelope), [f.field]: (POOL[f.value] as [Kind, CanonicalValue])[1] });
      case 'drop':
        return encodeCanonical(without(asMap(src.envelope), f.field));
      case 'extra':
        return encodeCanonical({ ...asMap(src.envelope), extra: 0 });
      case 'semantic':
        return semanticFuzz(f.which, key, src);
    }
  }

  function semanticFuzz(which: Extract<EnvelopeFuzz, { kind: 'semantic' }>['which'], key: string, src: { envelope: Uint8Array; proposal: SignedProposal; result: Uint8Array }): Uint8Array {
    const env = (proposal: SignedProposal, result: Uint8Array, endorsers: readonly Signer[]): Uint8Array =>
      encodeEnvelope({ v: TX_FORMAT_VERSION, proposal: proposal.bytes, signature: proposal.signature, result, endorsements: endorsers.map((s) => ({ endorser: s.publicKey, signature: s.sign(result) })) });
    const resultFor = (p: SignedProposal, patch: Partial<TxResult> = {}): Uint8Array =>
      encodeTxResult({ ...decodeTxResult(src.result), proposalHash: sha256(p.bytes), ...patch });
    switch (which) {
      case 'stranger-creator': {
        const p = propose('put', { key, value: 'x' }, stranger);
        return env(p, resultFor(p), [peerSigner]);
      }
      case 'stranger-endorser':
        return env(src.proposal, src.result, [stranger]);
      case 'no-endorsement':
        return env(src.proposal, src.result, []);
      case 'wrong-chain': {
        const p = propose('put', { key, value: 'x' }, client, 'elsewhere');
        return env(p, resultFor(p), [peerSigner]);
      }
      case 'wrong-version':
        return env(src.proposal, resultFor(src.proposal, { version: '9.9' }), [peerSigner]);
      case 'swapped-result':
        return env(src.proposal, endorsedPut(`${key}b`, 'other').result, [peerSigner]);
      case 'unsigned':
        return encodeEnvelope({ ...decodeTransaction(src.envelope).envelope, signature: bytesOf(64, 0) });
    }
  }

  it('a block mixing valid and fuzzed envelopes commits the valid ones and marks every fuzzed one invalid', async () => {
    let okSerial = 0;
    await fc.assert(fc.asyncProperty(fc.array(fc.oneof(fc.constant(null), envelopeFuzzArb), { minLength: 1, maxLength: 8 }), async (plan) => {
      const entries = plan.map((f) => {
        if (f === null) {
          const key = `ok${++okSerial}`;
          return { valid: true, key, bytes: endorsedPut(key, `value-${key}`).envelope };
        }
        return { valid: false, key: '', bytes: fuzzEnvelope(f) };
      });
      const codes = await deliverOk(nextBlock(entries.map((e) => e.bytes)));
      assert.equal(codes.length, entries.length);
      entries.forEach((e, i) => {
        const code = codes[i];
        if (e.valid) {
          assert.equal(code, 'VALID', `valid tx ${i} of the block`);
          assert.equal(peer.store(CHAIN).state('basic', `kv:${e.key}`)?.value, JSON.stringify(`value-${e.key}`));
          return;
        }
        assert.notEqual(code, 'VALID', `fuzzed tx ${i} (${hex(e.bytes.subarray(0, 32))}…) must not be VALID`);
        let decodes = true;
        try {
          decodeTransaction(e.bytes);
        } catch {
          decodes = false;
        }
        if (!decodes) assert.equal(code, 'MALFORMED', `undecodable tx ${i} gets MALFORMED`);
      });
      // Nothing but the valid puts ever reached the state.
      const keys = [...peer.store(CHAIN).iterateState()].filter((r) => r.ns === 'basic').map((r) => r.key);
      assert.ok(keys.every((k) => k.startsWith('kv:ok')), `fuzzed writes leaked into the state: ${keys.filter((k) => !k.startsWith('kv:ok')).join(', ')}`);
      assert.equal(keys.length, okSerial);
    }), { numRuns: 100 });
    assert.equal(peer.height(CHAIN), lastHeader.number + 1);
  });

  it('fuzzed block bytes are refused with BAD_BLOCK and leave the height unchanged', async () => {
    const good = nextBlock([endorsedPut(`blk${++fuzzSerial}`, 'b').envelope]);
    const bytes = encodeBlock(good);
    const height = peer.height(CHAIN);
    const failures: string[] = [];
    const tryBad = async (b: Uint8Array, what: string): Promise<void> => {
      const r = await settle(() => peer.deliver(b));
      const h = peer.height(CHAIN);
      if (h !== height) failures.push(`${what}: height moved to ${h}`);
      if (r.kind === 'resolved') failures.push(`${what}: committed`);
      else if (r.kind === 'threw') failures.push(`${what}: threw synchronously instead of rejecting: ${describeError(r.error)}`);
      else if (!(r.error instanceof SilkError) || r.error.code !== 'BAD_BLOCK' || r.error.message.length === 0) failures.push(`${what}: rejected with ${describeError(r.error)}`);
    };
    // Every single-byte flip and every truncation of the real next block.
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes.slice();
      b[i] = (b[i] as number) ^ 0x01;
      await tryBad(b, `byte ${i} ^ 0x01`);
      await tryBad(bytes.subarray(0, i), `cut to ${i} bytes`);
    }
    await tryBad(Uint8Array.from([...bytes, 0]), 'extended by one byte');
    // Random bytes and random mutations.
    await fc.assert(fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 400 }), fc.array(mutationArb, { minLength: 1, maxLength: 4 }).map((m) => mutate(bytes, m)).filter((b) => differs(b, bytes))), async (b) => {
      await tryBad(b, `fuzzed ${hex(b.subarray(0, 24))}…`);
    }), { numRuns: 300 });
    // Well-formed blocks that break the chain rules.
    const txs = good.txs;
    await tryBad(encodeBlock(nextBlock(txs, { number: good.header.number + 1 })), 'a block from the future');
    await tryBad(encodeBlock(nextBlock(txs, { number: good.header.number - 1 })), 'a block number already taken');
    await tryBad(encodeBlock(nextBlock(txs, { previousHash: bytesOf(32, 9) })), 'a broken hash chain');
    await tryBad(encodeBlock(nextBlock(txs, { timestamp: lastHeader.timestamp - 1 })), 'a timestamp going backwards');
    await tryBad(encodeBlock(nextBlock(txs, {}, stranger)), 'cut by an unknown orderer');
    await tryBad(encodeBlock({ ...good, txs: [...txs, txs[0] as Uint8Array] }), 'txs not matching the data hash');
    await tryBad(encodeBlock({ ...good, signature: nextBlock([]).signature }), 'a signature over another header');
    await tryBad(encodeBlock({ ...good, header: { ...good.header, orderer: stranger.publicKey } }), 'the orderer key swapped');
    await tryBad(encodeBlock(nextBlock(txs, { chain: 'fuzy' })), 'a block of a chain the peer has not joined');
    // The peer is still alive and commits the real block.
    const codes = await deliverOk(good);
    assert.deepEqual(codes, ['VALID']);
    assert.equal(peer.height(CHAIN), height + 1);
    assert.deepEqual(failures.slice(0, 12), [], `${failures.length} fuzzed blocks were not refused with BAD_BLOCK`);
  });

  it('a block for a chain the peer has not joined is a rejected promise, not a synchronous throw', async () => {
    const bytes = encodeBlock(nextBlock([], { chain: 'fuzy' }));
    const r = await settle(() => peer.deliver(bytes));
    assert.equal(r.kind, 'rejected', `deliver ${r.kind}: ${describeError(r.error)}`);
    assert.ok(r.error instanceof SilkError && r.error.code === 'BAD_BLOCK', describeError(r.error));
  });

  it('an endorsed write carrying a key policy that does not parse cannot wedge the chain', async () => {
    // A Byzantine (or buggy) endorser signs a result whose write sets an unparseable key policy.
    const p = propose('put', { key: 'wedge', value: 'x' });
    const result = encodeTxResult({ v: TX_FORMAT_VERSION, proposalHash: sha256(p.bytes), contract: 'basic', version: '1.0', reads: [], writes: [{ key: 'kv:wedge', value: '"x"', policy: 'NOT A POLICY((' }], hashedWrites: [], events: [], response: '' });
    const envelope = encodeEnvelope({ v: TX_FORMAT_VERSION, proposal: p.bytes, signature: p.signature, result, endorsements: [{ endorser: peerSigner.publicKey, signature: peerSigner.sign(result) }] });
    const first = await deliverOk(nextBlock([envelope]));
    // Any later write of the key must still validate (the block commits, whatever the tx code).
    const later = nextBlock([endorsedPut('wedge', 'y').envelope]);
    const r = await settle(() => peer.deliver(encodeBlock(later)));
    if (r.kind === 'resolved') lastHeader = later.header;
    assert.equal(r.kind, 'resolved', `the block after the bad policy could not be committed: ${describeError(r.error)}`);
    assert.notEqual(first[0], 'VALID', 'a write whose key policy does not parse must not be VALID');
  });
});
