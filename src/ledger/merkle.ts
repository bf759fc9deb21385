/**
 * RFC 9162 (Certificate Transparency v2) Merkle trees over SHA-256: leaf and node hashes,
 * tree heads, inclusion proofs and consistency proofs.
 *
 * The RFC defines the tree over n leaves recursively, splitting at the largest power of two
 * smaller than n. Building it bottom-up instead, hashing neighbours in pairs and carrying an
 * unpaired last node up a level unchanged, gives exactly the same tree. So here level `h`
 * holds, at index `i`, the hash of leaves `[i·2^h, min((i+1)·2^h, n))`, and every function
 * is a loop over those levels rather than a recursion over slices.
 *
 * Hashes are 32-byte `Uint8Array`s. Proof paths may share `Uint8Array` instances with each
 * other and with the leaf hashes passed in: treat every hash as immutable.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9162#section-2.1
 */
import { timingSafeEqual } from 'node:crypto';
import { sha256 } from '../crypto/hash.js';
import { SilkError } from '../errors.js';

/** The length in bytes of every hash in the tree (SHA-256). */
export const MERKLE_HASH_LENGTH = 32;

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = 0x01;

// Scratch input for node hashes, 0x01 || left || right. Hashing is synchronous, so one buffer
// serves every call and saves an allocation per node.
const nodeInput = new Uint8Array(1 + 2 * MERKLE_HASH_LENGTH);
nodeInput[0] = NODE_PREFIX;

/** Parameters of {@link verifyInclusionProof}. */
export interface VerifyInclusionProofParameters {
  /** The leaf hash whose inclusion is claimed ({@link merkleLeafHash} of the entry). */
  readonly leafHash: Uint8Array;
  /** The zero-based position of the leaf in the tree. */
  readonly index: number;
  /** The number of leaves in the tree `root` heads; take it from the same trusted source as `root`. */
  readonly treeSize: number;
  /** The inclusion path, as {@link inclusionProof} returns it (nearest sibling first). */
  readonly path: readonly Uint8Array[];
  /** The trusted tree head. */
  readonly root: Uint8Array;
}

/** Parameters of {@link verifyConsistencyProof}. */
export interface VerifyConsistencyProofParameters {
  /** The size of the earlier tree. */
  readonly oldSize: number;
  /** The size of the later tree; at least `oldSize`. */
  readonly newSize: number;
  /** The tree head of the earlier tree. */
  readonly oldRoot: Uint8Array;
  /** The tree head of the later tree. */
  readonly newRoot: Uint8Array;
  /** The consistency proof, as {@link consistencyProof} returns it. */
  readonly proof: readonly Uint8Array[];
}

/**
 * Hashes one entry as a leaf: `SHA-256(0x00 || data)` (RFC 9162 §2.1.1).
 * @param data - The entry's bytes (for a block, the transaction's canonical encoding).
 * @returns The 32-byte leaf hash.
 * @throws {SilkError} `INVALID_ARGUMENT` when `data` is not a `Uint8Array`.
 * @example
 * const leaf = merkleLeafHash(new TextEncoder().encode('tx-1'));
 */
export function merkleLeafHash(data: Uint8Array): Uint8Array {
  assertBytes(data, 'data');
  return sha256(LEAF_PREFIX, data);
}

/**
 * Hashes two child hashes into their parent: `SHA-256(0x01 || left || right)` (RFC 9162 §2.1.1).
 * @param left - The left child's 32-byte hash.
 * @param right - The right child's 32-byte hash.
 * @returns The 32-byte parent hash.
 * @throws {SilkError} `INVALID_ARGUMENT` when either child is not a 32-byte `Uint8Array`.
 * @example
 * const parent = merkleNodeHash(merkleLeafHash(a), merkleLeafHash(b));
 */
export function merkleNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  assertHash(left, 'left');
  assertHash(right, 'right');
  return hashChildren(left, right);
}

/**
 * Computes the tree head (MTH) over leaf hashes. The empty tree's head is `SHA-256("")`.
 * Runs in O(n) hashes with no recursion.
 * @param leafHashes - The leaf hashes in order, each from {@link merkleLeafHash}.
 * @returns The 32-byte root hash (a fresh copy, even for a one-leaf tree).
 * @throws {SilkError} `INVALID_ARGUMENT` when `leafHashes` is not an array of 32-byte `Uint8Array`s.
 * @example
 * const root = merkleRootFromLeafHashes(txs.map((tx) => merkleLeafHash(tx)));
 */
export function merkleRootFromLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  assertHashList(leafHashes, 'leafHashes');
  if (leafHashes.length === 0) return emptyTreeHash();
  let level = leafHashes;
  while (level.length > 1) level = parentLevel(level);
  return item(level, 0).slice();
}

/**
 * Computes the tree head (MTH) over raw entries, hashing each as a leaf first.
 * @param leaves - The entries in order.
 * @returns The 32-byte root hash; `SHA-256("")` for no entries.
 * @throws {SilkError} `INVALID_ARGUMENT` when `leaves` is not an array of `Uint8Array`s.
 * @example
 * const root = merkleRoot([encodeTx(tx1), encodeTx(tx2)]);
 */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  assertList(leaves, 'leaves');
  return merkleRootFromLeafHashes(leaves.map((leaf, i) => {
    assertBytes(leaf, `leaves[${i}]`);
    return merkleLeafHash(leaf);
  }));
}

/**
 * Builds the inclusion path of one leaf (RFC 9162 §2.1.3.1, `PATH(m, D[n])`): the sibling
 * hashes from the leaf up to the root, nearest first.
 * @param leafHashes - Every leaf hash of the tree, in order.
 * @param index - The zero-based position of the leaf.
 * @returns The path; empty for a one-leaf tree.
 * @throws {SilkError} `INVALID_ARGUMENT` when a leaf hash is not 32 bytes or `index` is not an
 * integer in `[0, leafHashes.length)`.
 * @example
 * const path = inclusionProof(leafHashes, 5);
 * verifyInclusionProof({ leafHash: leafHashes[5], index: 5, treeSize: leafHashes.length, path, root });
 */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number): Uint8Array[] {
  assertHashList(leafHashes, 'leafHashes');
  assertIndex(index, leafHashes.length, 'index');
  return pathFromLevels(buildLevels(leafHashes), index);
}

/**
 * Builds the inclusion path of every leaf at once: the tree is hashed once (O(n)) and each
 * path read from it (O(log n)), so O(n log n) in all. Paths share hash instances.
 * @param leafHashes - Every leaf hash of the tree, in order.
 * @returns `proofs[i]` equal to `inclusionProof(leafHashes, i)`; empty for an empty tree.
 * @throws {SilkError} `INVALID_ARGUMENT` when `leafHashes` is not an array of 32-byte `Uint8Array`s.
 * @example
 * const proofs = allInclusionProofs(leafHashes); // stored beside each transaction at commit
 */
export function allInclusionProofs(leafHashes: readonly Uint8Array[]): Uint8Array[][] {
  assertHashList(leafHashes, 'leafHashes');
  const levels = buildLevels(leafHashes);
  return leafHashes.map((_, index) => pathFromLevels(levels, index));
}

/**
 * Hashes the tree once and returns both its head and every leaf's inclusion path: what a peer
 * needs to check a block's data hash and store each transaction's receipt path, in n − 1 node
 * hashes in all.
 * @param leafHashes - Every leaf hash of the tree, in order.
 * @returns `root` as {@link merkleRootFromLeafHashes} and `proofs` as {@link allInclusionProofs}
 * @throws {SilkError} `INVALID_ARGUMENT` when `leafHashes` is not an array of 32-byte `Uint8Array`s.
 * @example
 * const { root, proofs } = merkleRootAndProofs(leafHashes);
 */
export function merkleRootAndProofs(leafHashes: readonly Uint8Array[]): { readonly root: Uint8Array; readonly proofs: Uint8Array[][] } {
  assertHashList(leafHashes, 'leafHashes');
  if (leafHashes.length === 0) return { root: emptyTreeHash(), proofs: [] };
  const levels = buildLevels(leafHashes);
  const top = levels[levels.length - 1] as readonly Uint8Array[];
  return { root: item(top, 0).slice(), proofs: leafHashes.map((_, index) => pathFromLevels(levels, index)) };
}

/**
 * Packs an inclusion path into one byte string: its 32-byte hashes, nearest first, end to end
 * (the form a ledger stores beside each transaction).
 * @param path - The path, as {@link inclusionProof} returns it.
 * @returns `32 × path.length` bytes; empty for an empty path.
 * @throws {SilkError} `INVALID_ARGUMENT` when `path` is not an array of 32-byte `Uint8Array`s.
 * @example
 * const stored = packInclusionPath(inclusionProof(leafHashes, 5));
 */
export function packInclusionPath(path: readonly Uint8Array[]): Uint8Array {
  assertHashList(path, 'path');
  const packed = new Uint8Array(path.length * MERKLE_HASH_LENGTH);
  path.forEach((hash, i) => {
    packed.set(hash, i * MERKLE_HASH_LENGTH);
  });
  return packed;
}

/**
 * Splits a packed inclusion path back into its hashes. The hashes are views of `packed`, not
 * copies: treat them as immutable.
 * @param packed - Bytes from {@link packInclusionPath}.
 * @returns The path, nearest sibling first.
 * @throws {SilkError} `INVALID_ARGUMENT` when `packed` is not a `Uint8Array` whose length is a
 * multiple of 32.
 * @example
 * verifyInclusionProof({ leafHash, index, treeSize, path: unpackInclusionPath(stored), root });
 */
export function unpackInclusionPath(packed: Uint8Array): Uint8Array[] {
  assertBytes(packed, 'packed');
  if (packed.length % MERKLE_HASH_LENGTH !== 0) {
    throw invalid(`packed must be a multiple of ${MERKLE_HASH_LENGTH} bytes long, got ${packed.length}`, 'packed');
  }
  const path: Uint8Array[] = [];
  for (let at = 0; at < packed.length; at += MERKLE_HASH_LENGTH) path.push(packed.subarray(at, at + MERKLE_HASH_LENGTH));
  return path;
}

/**
 * Checks an inclusion proof with the algorithm of RFC 9162 §2.1.3.2, step by step.
 * A proof binds the leaf, its index and the root; it binds the tree size only as far as the
 * shape of the path goes, so take `treeSize` from the same trusted source as `root`.
 * @param parameters - The leaf hash, its index, the tree size, the path and the trusted root.
 * @returns `true` when the path leads from the leaf to `root`; `false` for any wrong proof.
 * @throws {SilkError} `INVALID_ARGUMENT` when a hash is not a 32-byte `Uint8Array`, a size or
 * index is not a non-negative safe integer, or `index >= treeSize`.
 * @example
 * const ok = verifyInclusionProof({ leafHash, index: 5, treeSize: 8, path, root: header.txRoot });
 */
export function verifyInclusionProof(parameters: VerifyInclusionProofParameters): boolean {
  const { leafHash, index, treeSize, path, root } = parameters;
  assertHash(leafHash, 'leafHash');
  assertSize(treeSize, 'treeSize');
  assertIndex(index, treeSize, 'index');
  assertHashList(path, 'path');
  assertHash(root, 'root');

  let fn = index;
  let sn = treeSize - 1;
  let r = leafHash;
  for (const p of path) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = hashChildren(p, r);
      while (fn !== 0 && !isOdd(fn)) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && hashesEqual(r, root);
}

/**
 * Builds the consistency proof between the tree of the first `oldSize` leaves and the whole
 * tree (RFC 9162 §2.1.4.1, `PROOF(m, D[n])`).
 * @param leafHashes - Every leaf hash of the newer tree, in order.
 * @param oldSize - The size of the earlier tree, `0 <= oldSize <= leafHashes.length`.
 * @returns The proof; empty when `oldSize` is 0 or equals the tree size.
 * @throws {SilkError} `INVALID_ARGUMENT` when a leaf hash is not 32 bytes or `oldSize` is not
 * an integer in `[0, leafHashes.length]`.
 * @example
 * const proof = consistencyProof(leafHashes, previousSize);
 */
export function consistencyProof(leafHashes: readonly Uint8Array[], oldSize: number): Uint8Array[] {
  assertHashList(leafHashes, 'leafHashes');
  assertSize(oldSize, 'oldSize');
  const newSize = leafHashes.length;
  if (oldSize > newSize) {
    throw invalid(`oldSize ${oldSize} is out of range: the tree has ${newSize} leaves`, 'oldSize');
  }
  if (oldSize === 0 || oldSize === newSize) return [];

  // SUBPROOF(m, D[start:start+size], b), unrolled. Each step appends one hash after the
  // recursive part, so the hashes are collected root-first and reversed at the end.
  const levels = buildLevels(leafHashes);
  const rootFirst: Uint8Array[] = [];
  let m = oldSize;
  let start = 0;
  let size = newSize;
  let oldRootIsSubtree = true;
  while (m !== size) {
    const k = largestPowerOfTwoBelow(size);
    if (m <= k) {
      rootFirst.push(subtreeHash(levels, start + k, start + size));
      size = k;
    } else {
      rootFirst.push(subtreeHash(levels, start, start + k));
      m -= k;
      start += k;
      size -= k;
      oldRootIsSubtree = false;
    }
  }
  const proof = oldRootIsSubtree ? [] : [subtreeHash(levels, start, start + size)];
  for (let i = rootFirst.length - 1; i >= 0; i--) proof.push(item(rootFirst, i));
  return proof;
}

/**
 * Checks a consistency proof with the algorithm of RFC 9162 §2.1.4.2, step by step. The RFC
 * covers `0 < oldSize < newSize`; for equal sizes the proof must be empty and the roots equal,
 * and for `oldSize` 0 the proof must be empty and `oldRoot` the empty tree's head.
 * @param parameters - Both sizes, both roots and the proof.
 * @returns `true` when the newer tree extends the older one; `false` for any wrong proof.
 * @throws {SilkError} `INVALID_ARGUMENT` when a hash is not a 32-byte `Uint8Array`, a size is
 * not a non-negative safe integer, or `oldSize > newSize`.
 * @example
 * const ok = verifyConsistencyProof({ oldSize: 6, newSize: 8, oldRoot, newRoot, proof });
 */
export function verifyConsistencyProof(parameters: VerifyConsistencyProofParameters): boolean {
  const { oldSize, newSize, oldRoot, newRoot, proof } = parameters;
  assertSize(oldSize, 'oldSize');
  assertSize(newSize, 'newSize');
  if (oldSize > newSize) {
    throw invalid(`oldSize ${oldSize} is out of range: it exceeds newSize ${newSize}`, 'oldSize');
  }
  assertHash(oldRoot, 'oldRoot');
  assertHash(newRoot, 'newRoot');
  assertHashList(proof, 'proof');

  if (oldSize === newSize) return proof.length === 0 && hashesEqual(oldRoot, newRoot);
  if (oldSize === 0) return proof.length === 0 && hashesEqual(oldRoot, emptyTreeHash());

  // Step 1, 2: an empty proof fails; an old tree that is a complete subtree is its own first node.
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  // Step 3, 4.
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5, 6.
  let fr = item(path, 0);
  let sr = fr;
  for (let i = 1; i < path.length; i++) {
    const c = item(path, i);
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (fn !== 0 && !isOdd(fn)) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Step 7.
  return sn === 0 && hashesEqual(fr, oldRoot) && hashesEqual(sr, newRoot);
}

function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + MERKLE_HASH_LENGTH);
  return sha256(nodeInput);
}

function emptyTreeHash(): Uint8Array {
  return sha256(new Uint8Array(0));
}

function hashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The level above `level`: neighbours hashed in pairs, an unpaired last node carried up. */
function parentLevel(level: readonly Uint8Array[]): Uint8Array[] {
  const parents: Uint8Array[] = [];
  const pairedEnd = level.length - (level.length % 2);
  for (let i = 0; i < pairedEnd; i += 2) parents.push(hashChildren(item(level, i), item(level, i + 1)));
  if (pairedEnd < level.length) parents.push(item(level, pairedEnd));
  return parents;
}

/** Every level of the tree, leaves first, root last (a single level for zero or one leaf). */
function buildLevels(leafHashes: readonly Uint8Array[]): (readonly Uint8Array[])[] {
  const levels: (readonly Uint8Array[])[] = [leafHashes];
  let level = leafHashes;
  while (level.length > 1) {
    level = parentLevel(level);
    levels.push(level);
  }
  return levels;
}

/** The sibling at each level below the root; a carried-up node has none at that level. */
function pathFromLevels(levels: readonly (readonly Uint8Array[])[], index: number): Uint8Array[] {
  const path: Uint8Array[] = [];
  let position = index;
  for (let height = 0; height < levels.length - 1; height++) {
    const level = item(levels, height);
    const sibling = isOdd(position) ? position - 1 : position + 1;
    if (sibling < level.length) path.push(item(level, sibling));
    position = half(position);
  }
  return path;
}

/**
 * MTH(D[start:end]) for a node of the tree: `start` is a multiple of the smallest power of two
 * 2^h >= end - start, and the node sits at level h.
 */
function subtreeHash(levels: readonly (readonly Uint8Array[])[], start: number, end: number): Uint8Array {
  let height = 0;
  let width = 1;
  while (width < end - start) {
    width *= 2;
    height++;
  }
  return item(item(levels, height), start / width);
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// Arithmetic rather than bitwise operators: sizes may exceed 2^32 (any safe integer).
function isOdd(n: number): boolean {
  return n % 2 === 1;
}

function half(n: number): number {
  return Math.floor(n / 2);
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

function item<T>(list: readonly T[], index: number): T {
  const value = list[index];
  if (value === undefined) throw new SilkError('INTERNAL', `merkle: no element at index ${index} of ${list.length}`);
  return value;
}

function invalid(message: string, path: string): SilkError {
  return new SilkError('INVALID_ARGUMENT', message, { path });
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  return typeof value;
}

function assertBytes(value: unknown, path: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalid(`${path} must be a Uint8Array, got ${describeValue(value)}`, path);
}

function assertHash(value: unknown, path: string): asserts value is Uint8Array {
  assertBytes(value, path);
  if (value.length !== MERKLE_HASH_LENGTH) {
    throw invalid(`${path} must be ${MERKLE_HASH_LENGTH} bytes long, got ${value.length}`, path);
  }
}

function assertList(value: unknown, path: string): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) throw invalid(`${path} must be an array, got ${describeValue(value)}`, path);
}

function assertHashList(value: unknown, path: string): asserts value is readonly Uint8Array[] {
  assertList(value, path);
  for (let i = 0; i < value.length; i++) assertHash(value[i], `${path}[${i}]`);
}

function assertSize(value: unknown, path: string): asserts value is number {
  if (typeof value !== 'number') throw invalid(`${path} must be a number, got ${describeValue(value)}`, path);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${path} must be a non-negative safe integer, got ${value}`, path);
  }
}

function assertIndex(value: unknown, size: number, path: string): asserts value is number {
  assertSize(value, path);
  if (value >= size) throw invalid(`${path} ${value} is out of range for a tree of ${size} leaves`, path);
}
