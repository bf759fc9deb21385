/**
 * The etcd key layout of distributed mode, in one place: every key of a chain lives under
 * `/silk/<chain>/` (height, blocks, configuration checkpoints, leader).
 */
import { SilkError } from '../errors.js';

/** Chain names usable in etcd keys: lower-case letters, digits, `-` and `_`, 1–64 characters. */
const CHAIN_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** The prefix every key of distributed mode lives under (every chain's keys): what etcd's roles grant. */
export const SILK_KEY_ROOT = '/silk/';

/** Digits of a block number in its key, so keys sort as numbers do (every safe integer fits). */
export const BLOCK_NUMBER_DIGITS = 16;

/**
 * The key prefix of a chain, `/silk/<chain>/`.
 * @throws SilkError INVALID_ARGUMENT for a chain name that cannot be a key segment
 */
export function chainPrefix(chain: string): string {
  if (!CHAIN_PATTERN.test(chain)) {
    throw new SilkError('INVALID_ARGUMENT', `chain name must be 1 to 64 lower-case letters, digits, '-' or '_' (starting with a letter or digit); got ${JSON.stringify(chain)}`);
  }
  return `${SILK_KEY_ROOT}${chain}/`;
}

/** The key of block `number` under a chain's prefix. */
export function blockKey(prefix: string, number: number): string {
  return `${prefix}blocks/${String(number).padStart(BLOCK_NUMBER_DIGITS, '0')}`;
}

/**
 * The key of the configuration checkpoint of block `number` under a chain's prefix: a copy of a
 * configuration block (or the genesis), which compaction leaves in place.
 */
export function configurationKey(prefix: string, number: number): string {
  return `${prefix}configs/${String(number).padStart(BLOCK_NUMBER_DIGITS, '0')}`;
}

/** The block number of a block key, or undefined when the key is not one. */
export function blockNumberOfKey(prefix: string, key: string, folder: 'blocks' | 'configs' = 'blocks'): number | undefined {
  const head = `${prefix}${folder}/`;
  if (!key.startsWith(head)) return undefined;
  const digits = key.slice(head.length);
  if (!/^\d{16}$/.test(digits)) return undefined;
  const number = Number(digits);
  return Number.isSafeInteger(number) ? number : undefined;
}
