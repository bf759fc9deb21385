import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { isSilkError } from '../errors.js';
import {
  MERKLE_HASH_LENGTH,
  allInclusionProofs,
  merkleRootAndProofs,
  consistencyProof,
  inclusionProof,
  merkleLeafHash,
  merkleNodeHash,
  merkleRoot,
  merkleRootFromLeafHashes,
  packInclusionPath,
  unpackInclusionPath,
  verifyConsistencyProof,
  verifyInclusionProof,
} from './merkle.js';

interface Rfc9162Vectors {
  readonly source: string;
  readonly leaves: readonly string[];
  readonly leafHashes: readonly string[];
  readonly roots: readonly string[];
  readonly inclusion: readonly { readonly index: number; readonly treeSize: number; readonly path: readonly string[] }[];
  readonly consistency: readonly { readonly oldSize: number; readonly newSize: number; readonly proof: readonly string[] }[];
}

const VECTORS_PATH = 'test/vectors/rfc9162-merkle.json';

/**
 * From dist/ledger/ (the real build) the project root is two levels up; a build into some
 * other folder falls back to the working directory, which `npm test` sets to the project root.
 */
function loadVectors(): Rfc9162Vectors {
  const candidates = [
    new URL(`../../${VECTORS_PATH}`, import.meta.url),
    new URL(VECTORS_PATH, pathToFileURL(`${process.cwd()}/`)),
  ];
  const file = candidates.find((candidate) => existsSync(candidate));
  assert.ok(file, `cannot find ${VECTORS_PATH} (looked at ${candidates.map(String).join(', ')})`);
  return JSON.parse(readFileSync(file, 'utf8')) as Rfc9162Vectors;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
const hexes = (list: readonly Uint8Array[]): string[] => list.map(hex);

function isInvalidArgument(error: unknown): boolean {
  return isSilkError(error, 'INVALID_ARGUMENT');
}

/** A copy of `hash` with one byte changed. */
function flipped(hash: Uint8Array, at: number): Uint8Array {
  const copy = hash.slice();
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return copy;
}

/** Entries of varied length (0 to 32 bytes), the same on every run. */
function entries(count: number, seed: string): Uint8Array[] {
  return Array.from({ length: count }, (_, i) =>
    createHash('sha256').update(`${seed}:${i}`).digest().subarray(0, i % 33));
}

// Reference implementations: RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1 written as the recursive
// definitions, for cross-checking the iterative code.
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function refMth(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return new Uint8Array(createHash('sha256').digest());
  if (hashes.length === 1) return hashes[0]!;
  const k = splitPoint(hashes.length);
  return merkleNodeHash(refMth(hashes.slice(0, k)), refMth(hashes.slice(k)));
}

function refPath(m: number, hashes: readonly Uint8Array[]): Uint8Array[] {
  if (hashes.length <= 1) return [];
  const k = splitPoint(hashes.length);
  return m < k
    ? [...refPath(m, hashes.slice(0, k)), refMth(hashes.slice(k))]
    : [...refPath(m - k, hashes.slice(k)), refMth(hashes.slice(0, k))];
}

function refSubproof(m: number, hashes: readonly Uint8Array[], complete: boolean): Uint8Array[] {
  if (m === hashes.length) return complete ? [] : [refMth(hashes)];
  const k = splitPoint(hashes.length);
  return m <= k
    ? [...refSubproof(m, hashes.slice(0, k), complete), refMth(hashes.slice(k))]
    : [...refSubproof(m - k, hashes.slice(k), false), refMth(hashes.slice(0, k))];
}

function refProof(m: number, hashes: readonly Uint8Array[]): Uint8Array[] {
  return m === 0 ? [] : refSubproof(m, hashes, true);
}

// The shape of a proof: which side each hash joins on, per the recursive definitions. A
// verifier only sees the hashes, so the same proof checks out for any (index, size) pair of
// the same shape, and (short of a hash collision) for no other.
function inclusionShape(m: number, n: number): string {
  if (n <= 1) return '';
  const k = splitPoint(n);
  return m < k ? `${inclusionShape(m, k)}R` : `${inclusionShape(m - k, n - k)}L`;
}

function subproofShape(m: number, n: number, complete: boolean): string {
  if (m === n) return complete ? '' : 'T';
  const k = splitPoint(n);
  return m <= k ? `${subproofShape(m, k, complete)}R` : `${subproofShape(m - k, n - k, false)}L`;
}

void describe('RFC 9162 Merkle tree vectors (transparency-dev/merkle)', () => {
  const vectors = loadVectors();
  const leaves = vectors.leaves.map(fromHex);
  const leafHashes = vectors.leafHashes.map(fromHex);

  void it('names its source', () => {
    assert.match(vectors.source, /transparency-dev\/merkle/);
    assert.equal(leaves.length, 8);
  });

  void it('hashes each leaf', () => {
    assert.deepEqual(hexes(leaves.map((leaf) => merkleLeafHash(leaf))), vectors.leafHashes);
  });

  void it('computes the root of every prefix, including the empty tree', () => {
    vectors.roots.forEach((root, size) => {
      assert.equal(hex(merkleRoot(leaves.slice(0, size))), root, `merkleRoot of ${size} leaves`);
      assert.equal(hex(merkleRootFromLeafHashes(leafHashes.slice(0, size))), root, `root of ${size} leaf hashes`);
    });
  });

  for (const vector of vectors.inclusion) {
    void it(`proves inclusion of leaf ${vector.index} in a tree of ${vector.treeSize}`, () => {
      const tree = leafHashes.slice(0, vector.treeSize);
      assert.deepEqual(hexes(inclusionProof(tree, vector.index)), vector.path);
      assert.deepEqual(hexes(allInclusionProofs(tree)[vector.index] ?? []), vector.path);
      const root = fromHex(vectors.roots[vector.treeSize]!);
      const leafHash = leafHashes[vector.index]!;
      const path = vector.path.map(fromHex);
      assert.equal(verifyInclusionProof({ leafHash, index: vector.index, treeSize: vector.treeSize, path, root }), true);
      // The corruptions of transparency-dev/merkle's verify_test.go that stay well-formed here.
      const probe = { leafHash, index: vector.index, treeSize: vector.treeSize, path, root };
      const wrong: [string, Partial<typeof probe>][] = [
        ['wrong leaf', { leafHash: merkleLeafHash(new TextEncoder().encode('WrongLeaf')) }],
        ['empty root', { root: fromHex(vectors.roots[0]!) }],
        ['random root', { root: fromHex('abacaba000000000000000000000000000000000000000000060061e00123456') }],
        ['trailing root', { path: [...path, root] }],
        ['preceding root', { path: [root, ...path] }],
        ['inserted component', { path: [...path.slice(0, 1), leafHash, ...path.slice(1)] }],
      ];
      if (path.length > 0) wrong.push(['removed component', { path: path.slice(0, -1) }]);
      for (const [name, change] of wrong) assert.equal(verifyInclusionProof({ ...probe, ...change }), false, name);
    });
  }

  for (const vector of vectors.consistency) {
    void it(`proves the tree of ${vector.oldSize} consistent with the tree of ${vector.newSize}`, () => {
      const tree = leafHashes.slice(0, vector.newSize);
      assert.deepEqual(hexes(consistencyProof(tree, vector.oldSize)), vector.proof);
      const oldRoot = fromHex(vectors.roots[vector.oldSize]!);
      const newRoot = fromHex(vectors.roots[vector.newSize]!);
      const proof = vector.proof.map(fromHex);
      const parameters = { oldSize: vector.oldSize, newSize: vector.newSize, oldRoot, newRoot, proof };
      assert.equal(verifyConsistencyProof(parameters), true);
      if (proof.length === 0) return;
      const wrong = [
        { oldRoot: newRoot, newRoot: oldRoot },
        { proof: [] },
        { proof: [...proof, oldRoot] },
        { proof: [...proof, newRoot] },
        { proof: [oldRoot, ...proof] },
        { proof: [newRoot, ...proof] },
        { proof: [proof[0]!, ...proof] },
        { proof: proof.slice(0, -1) },
      ];
      for (const change of wrong) {
        assert.equal(verifyConsistencyProof({ ...parameters, ...change }), false, JSON.stringify(Object.keys(change)));
      }
    });
  }
});

void describe('merkleLeafHash and merkleNodeHash', () => {
  void it('separate leaves from nodes (second-preimage resistance)', () => {
    const a = merkleLeafHash(Uint8Array.of(1));
    const b = merkleLeafHash(Uint8Array.of(2));
    const node = merkleNodeHash(a, b);
    const concatenated = new Uint8Array([...a, ...b]);
    assert.notEqual(hex(merkleLeafHash(concatenated)), hex(node));
    assert.equal(hex(node), createHash('sha256').update(Uint8Array.of(1)).update(a).update(b).digest('hex'));
  });

  void it('return plain 32-byte Uint8Arrays', () => {
    for (const hash of [merkleLeafHash(new Uint8Array(0)), merkleRoot([]), merkleRoot([Uint8Array.of(7)])]) {
      assert.equal(Object.getPrototypeOf(hash), Uint8Array.prototype);
      assert.equal(hash.length, MERKLE_HASH_LENGTH);
    }
  });

  void it('reject bad input with INVALID_ARGUMENT', () => {
    const hash = new Uint8Array(32);
    assert.throws(() => merkleLeafHash('abc' as unknown as Uint8Array), isInvalidArgument);
    assert.throws(() => merkleNodeHash(new Uint8Array(31), hash), isInvalidArgument);
    assert.throws(() => merkleNodeHash(hash, new Uint8Array(33)), isInvalidArgument);
    assert.throws(() => merkleNodeHash(hash, [...hash] as unknown as Uint8Array), isInvalidArgument);
    assert.throws(() => merkleRoot([Uint8Array.of(1), 'x' as unknown as Uint8Array]), (error: unknown) =>
      isInvalidArgument(error) && /leaves\[1\]/.test((error as Error).message));
    assert.throws(() => merkleRootFromLeafHashes([hash, new Uint8Array(16)]), isInvalidArgument);
    assert.throws(() => merkleRootFromLeafHashes(hash as unknown as Uint8Array[]), isInvalidArgument);
  });
});

void describe('merkleRootFromLeafHashes', () => {
  void it('matches the recursive definition for 0..70 leaves and a few large trees', () => {
    for (const size of [...Array.from({ length: 71 }, (_, i) => i), 127, 128, 129, 1000, 1024, 1025, 4097]) {
      const hashes = entries(size, 'root').map((entry) => merkleLeafHash(entry));
      assert.equal(hex(merkleRootFromLeafHashes(hashes)), hex(refMth(hashes)), `size ${size}`);
    }
  });

  void it('does not hand back or change the caller\'s hashes', () => {
    const hashes = [merkleLeafHash(Uint8Array.of(1))];
    const root = merkleRootFromLeafHashes(hashes);
    assert.notEqual(root, hashes[0]);
    root.fill(0);
    assert.equal(hex(hashes[0]!), hex(merkleLeafHash(Uint8Array.of(1))));
  });
});

void describe('inclusion proofs over trees of 1..70 leaves', () => {
  for (let size = 1; size <= 70; size++) {
    void it(`size ${size}`, () => {
      const hashes = entries(size, `inclusion-${size}`).map((entry) => merkleLeafHash(entry));
      const before = hexes(hashes);
      const root = merkleRootFromLeafHashes(hashes);
      const all = allInclusionProofs(hashes);
      assert.equal(all.length, size);
      // One pass gives the same root and paths.
      const tree = merkleRootAndProofs(hashes);
      assert.deepEqual(hexes([tree.root]), hexes([root]));
      assert.deepEqual(tree.proofs.map(hexes), all.map(hexes));
      for (let index = 0; index < size; index++) {
        const path = inclusionProof(hashes, index);
        assert.deepEqual(hexes(all[index]!), hexes(path), `allInclusionProofs[${index}]`);
        assert.deepEqual(hexes(path), hexes(refPath(index, hashes)), `PATH(${index})`);
        const leafHash = hashes[index]!;
        const good = { leafHash, index, treeSize: size, path, root };
        assert.equal(verifyInclusionProof(good), true, `leaf ${index}`);
        checkTamperedInclusion(good);
      }
      assert.deepEqual(hexes(hashes), before, 'leaf hashes unchanged');
    });
  }
});

function checkTamperedInclusion(good: Parameters<typeof verifyInclusionProof>[0]): void {
  const { leafHash, index, treeSize: size, path, root } = good;
  // Every byte position of every hash in small trees; in larger ones four positions per leaf,
  // rotating so each tree still covers all 32.
  const positions = size <= 16
    ? Array.from({ length: MERKLE_HASH_LENGTH }, (_, at) => at)
    : [0, 8, 16, 24].map((offset) => (index + offset) % MERKLE_HASH_LENGTH);
  for (const at of positions) {
    assert.equal(verifyInclusionProof({ ...good, leafHash: flipped(leafHash, at) }), false);
    assert.equal(verifyInclusionProof({ ...good, root: flipped(root, at) }), false);
    path.forEach((hash, i) => {
      const changed = path.map((h, j) => (j === i ? flipped(hash, at) : h));
      assert.equal(verifyInclusionProof({ ...good, path: changed }), false, `path[${i}] byte ${at}`);
    });
  }
  assert.equal(verifyInclusionProof({ ...good, path: [...path, root] }), false, 'trailing hash');
  assert.equal(verifyInclusionProof({ ...good, path: [leafHash, ...path] }), false, 'preceding hash');
  if (path.length > 0) assert.equal(verifyInclusionProof({ ...good, path: path.slice(0, -1) }), false, 'removed hash');
  if (path.length > 1) assert.equal(verifyInclusionProof({ ...good, path: [...path].reverse() }), false, 'reversed path');

  // A wrong index never verifies; a wrong size verifies exactly when the path has the same shape.
  const otherIndexes = size <= 16
    ? Array.from({ length: size }, (_, other) => other)
    : [0, index - 2, index - 1, index + 1, index + 2, index ^ 1, index ^ 2, index ^ 4, index ^ 16, size - 1];
  for (const other of otherIndexes) {
    if (other === index || other < 0 || other >= size) continue;
    assert.equal(verifyInclusionProof({ ...good, index: other }), false, `index ${other}`);
  }
  const shape = inclusionShape(index, size);
  for (const otherSize of [size - 1, size + 1, size + 2, size * 2, Math.floor(size / 2), size + 64]) {
    if (otherSize === size || otherSize <= index) continue;
    const expected = inclusionShape(index, otherSize) === shape;
    assert.equal(verifyInclusionProof({ ...good, treeSize: otherSize }), expected, `size ${otherSize}`);
  }
}

void describe('inclusion proof inputs', () => {
  const hashes = entries(5, 'inputs').map((entry) => merkleLeafHash(entry));
  const root = merkleRootFromLeafHashes(hashes);
  const good = { leafHash: hashes[2]!, index: 2, treeSize: 5, path: inclusionProof(hashes, 2), root };

  void it('reject an index outside the tree', () => {
    assert.throws(() => inclusionProof(hashes, 5), isInvalidArgument);
    assert.throws(() => inclusionProof(hashes, -1), isInvalidArgument);
    assert.throws(() => inclusionProof(hashes, 1.5), isInvalidArgument);
    assert.throws(() => inclusionProof([], 0), isInvalidArgument);
    assert.throws(() => verifyInclusionProof({ ...good, index: 5 }), isInvalidArgument);
    assert.throws(() => verifyInclusionProof({ ...good, index: 0, treeSize: 0 }), isInvalidArgument);
    assert.throws(() => verifyInclusionProof({ ...good, treeSize: Number.MAX_SAFE_INTEGER + 1 }), isInvalidArgument);
    assert.throws(() => verifyInclusionProof({ ...good, index: '2' as unknown as number }), isInvalidArgument);
  });

  void it('reject hashes that are not 32 bytes', () => {
    assert.throws(() => verifyInclusionProof({ ...good, leafHash: new Uint8Array(31) }), isInvalidArgument);
    assert.throws(() => verifyInclusionProof({ ...good, root: new Uint8Array(0) }), isInvalidArgument);
    assert.throws(() => verifyInclusionProof({ ...good, path: [...good.path, new Uint8Array(0)] }), isInvalidArgument);
    assert.throws(() => verifyInclusionProof({ ...good, path: [new Uint8Array(33), ...good.path] }), isInvalidArgument);
    assert.throws(() => allInclusionProofs([...hashes, new Uint8Array(1)]), isInvalidArgument);
  });

  void it('give an empty path for a one-leaf tree and none for an empty one', () => {
    assert.deepEqual(inclusionProof(hashes.slice(0, 1), 0), []);
    assert.deepEqual(allInclusionProofs([]), []);
    assert.equal(verifyInclusionProof({ leafHash: hashes[0]!, index: 0, treeSize: 1, path: [], root: hashes[0]! }), true);
  });

  void it('handle sizes beyond 2^32 without overflow', () => {
    // The last leaf of a tree of 2^33 + 1 leaves: its only sibling is the left 2^33 subtree.
    const left = merkleLeafHash(Uint8Array.of(1));
    const leafHash = merkleLeafHash(Uint8Array.of(2));
    const treeSize = 2 ** 33 + 1;
    const parameters = { leafHash, index: treeSize - 1, treeSize, path: [left], root: merkleNodeHash(left, leafHash) };
    assert.equal(verifyInclusionProof(parameters), true);
    assert.equal(verifyInclusionProof({ ...parameters, index: treeSize - 2 }), false);
  });
});

void describe('packed inclusion paths', () => {
  void it('round-trip every path of a 70-leaf tree and still verify', () => {
    const hashes = entries(70, 'packed').map((entry) => merkleLeafHash(entry));
    const root = merkleRootFromLeafHashes(hashes);
    allInclusionProofs(hashes).forEach((path, index) => {
      const packed = packInclusionPath(path);
      assert.equal(packed.length, path.length * MERKLE_HASH_LENGTH);
      const unpacked = unpackInclusionPath(packed);
      assert.deepEqual(hexes(unpacked), hexes(path), `path ${index}`);
      assert.equal(verifyInclusionProof({ leafHash: hashes[index]!, index, treeSize: 70, path: unpacked, root }), true);
    });
  });

  void it('pack an empty path to no bytes and back', () => {
    assert.equal(packInclusionPath([]).length, 0);
    assert.deepEqual(unpackInclusionPath(new Uint8Array(0)), []);
  });

  void it('refuse bytes that are not whole hashes', () => {
    assert.throws(() => unpackInclusionPath(new Uint8Array(33)), isInvalidArgument);
    assert.throws(() => unpackInclusionPath('00' as unknown as Uint8Array), isInvalidArgument);
    assert.throws(() => packInclusionPath([new Uint8Array(31)]), isInvalidArgument);
  });
});

void describe('consistency proofs for every 0 <= m <= n <= 40', () => {
  const hashes = entries(40, 'consistency').map((entry) => merkleLeafHash(entry));
  const roots = Array.from({ length: 41 }, (_, size) => merkleRootFromLeafHashes(hashes.slice(0, size)));

  for (let newSize = 0; newSize <= 40; newSize++) {
    void it(`newSize ${newSize}`, () => {
      const tree = hashes.slice(0, newSize);
      for (let oldSize = 0; oldSize <= newSize; oldSize++) {
        const proof = consistencyProof(tree, oldSize);
        assert.deepEqual(hexes(proof), hexes(refProof(oldSize, tree)), `PROOF(${oldSize}, D[${newSize}])`);
        const good = { oldSize, newSize, oldRoot: roots[oldSize]!, newRoot: roots[newSize]!, proof };
        assert.equal(verifyConsistencyProof(good), true, `${oldSize} -> ${newSize}`);
        checkTamperedConsistency(good, roots);
      }
    });
  }

  void it('reject bad sizes and malformed hashes with INVALID_ARGUMENT', () => {
    const good = { oldSize: 3, newSize: 7, oldRoot: roots[3]!, newRoot: roots[7]!, proof: consistencyProof(hashes.slice(0, 7), 3) };
    assert.throws(() => consistencyProof(hashes.slice(0, 7), 8), isInvalidArgument);
    assert.throws(() => consistencyProof(hashes.slice(0, 7), -1), isInvalidArgument);
    assert.throws(() => verifyConsistencyProof({ ...good, oldSize: 8 }), isInvalidArgument);
    assert.throws(() => verifyConsistencyProof({ ...good, newSize: 2.5 }), isInvalidArgument);
    assert.throws(() => verifyConsistencyProof({ ...good, oldRoot: new Uint8Array(31) }), isInvalidArgument);
    assert.throws(() => verifyConsistencyProof({ ...good, newRoot: 'root' as unknown as Uint8Array }), isInvalidArgument);
    assert.throws(() => verifyConsistencyProof({ ...good, proof: [...good.proof, new Uint8Array(0)] }), isInvalidArgument);
  });

  void it('treat the empty tree as consistent with every tree, given its real root', () => {
    const proof: Uint8Array[] = [];
    assert.equal(verifyConsistencyProof({ oldSize: 0, newSize: 9, oldRoot: roots[0]!, newRoot: roots[9]!, proof }), true);
    assert.equal(verifyConsistencyProof({ oldSize: 0, newSize: 9, oldRoot: roots[9]!, newRoot: roots[9]!, proof }), false);
    assert.equal(verifyConsistencyProof({ oldSize: 0, newSize: 9, oldRoot: roots[0]!, newRoot: roots[9]!, proof: [roots[0]!] }), false);
  });
});

function checkTamperedConsistency(good: Parameters<typeof verifyConsistencyProof>[0], roots: readonly Uint8Array[]): void {
  const { oldSize, newSize, oldRoot, newRoot, proof } = good;
  const verify = (change: Partial<typeof good>): boolean => verifyConsistencyProof({ ...good, ...change });
  const positions = [0, (oldSize * 7 + newSize) % MERKLE_HASH_LENGTH, MERKLE_HASH_LENGTH - 1];
  for (const at of positions) {
    proof.forEach((hash, i) => {
      assert.equal(verify({ proof: proof.map((h, j) => (j === i ? flipped(hash, at) : h)) }), false, `proof[${i}] byte ${at}`);
    });
    assert.equal(verify({ oldRoot: flipped(oldRoot, at) }), false, `oldRoot byte ${at}`);
    // The empty tree is consistent with every tree, so then newRoot is not checked.
    if (oldSize > 0) assert.equal(verify({ newRoot: flipped(newRoot, at) }), false, `newRoot byte ${at}`);
  }
  if (hex(oldRoot) !== hex(newRoot)) assert.equal(verify({ oldRoot: newRoot, newRoot: oldRoot }), false, 'swapped roots');
  // Past here only proper proofs (0 < oldSize < newSize); the degenerate sizes have own tests.
  if (proof.length === 0) return;
  assert.equal(verify({ proof: [] }), false, 'empty proof');
  assert.equal(verify({ proof: proof.slice(0, -1) }), false, 'truncated');
  assert.equal(verify({ proof: [...proof, newRoot] }), false, 'trailing newRoot');
  assert.equal(verify({ proof: [oldRoot, ...proof] }), false, 'preceding oldRoot');
  assert.equal(verify({ proof: [proof[0]!, ...proof] }), false, 'preceding proof[0]');

  // Other sizes verify exactly when the proof has the same shape (e.g. 1 -> 3 and 1 -> 4);
  // sizes that call for an empty proof never accept this one.
  const shape = subproofShape(oldSize, newSize, true);
  const sizes = [-1, 1, 2].flatMap((dm) => [-1, 0, 1, 2].map((dn) => [oldSize + dm, newSize + dn] as const));
  for (const [otherOld, otherNew] of [...sizes, [oldSize, newSize * 2] as const]) {
    if ((otherOld === oldSize && otherNew === newSize) || otherOld < 0 || otherOld > otherNew) continue;
    const expected = otherOld > 0 && otherOld < otherNew && subproofShape(otherOld, otherNew, true) === shape;
    assert.equal(verify({ oldSize: otherOld, newSize: otherNew }), expected, `sizes ${otherOld} -> ${otherNew}`);
  }
  // The right proof with another tree's root fails (roots of other sizes of the same log).
  for (const other of [oldSize - 1, oldSize + 1]) {
    const otherRoot = roots[other];
    if (otherRoot !== undefined && other <= newSize && hex(otherRoot) !== hex(oldRoot)) {
      assert.equal(verify({ oldRoot: otherRoot }), false, `root of ${other} as oldRoot`);
    }
  }
}
