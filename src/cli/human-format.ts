/**
 * How `silk` shows ledger data to people: aligned tables and label/value blocks, times in UTC,
 * sizes in KB, JSON on one line (or indented when it is the whole answer).
 */
import type { JsonValue, SignerView } from '../sdk/index.js';

/**
 * Aligns rows under headers, two spaces between columns; the last column is not padded.
 * @param indent spaces before each line
 * @example table(['CHAIN', 'HEIGHT'], [['trade', '12']])
 */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], indent = 0): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const pad = ' '.repeat(indent);
  const line = (cells: readonly string[]): string => pad + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/**
 * Aligns `label  value` pairs; a value with several lines continues under the first.
 * @param indent spaces before each label
 * @example fields([['Hash', 'ab12'], ['Size', '3.3 KB']], 2)
 */
export function fields(pairs: readonly (readonly [string, string])[], indent = 0): string {
  const width = Math.max(0, ...pairs.map(([label]) => label.length));
  const pad = ' '.repeat(indent);
  return pairs
    .map(([label, value]) => {
      const [first = '', ...rest] = value.split('\n');
      return [`${pad}${label.padEnd(width)}  ${first}`.trimEnd(), ...rest.map((l) => `${pad}${' '.repeat(width)}  ${l}`)].join('\n');
    })
    .join('\n');
}

/** A ledger timestamp (ms since the epoch) as `YYYY-MM-DD HH:MM:SS UTC`. */
export function utc(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

/** A byte count as B or KB or MB. */
export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** A JSON value on one line. */
export function compact(value: JsonValue | undefined): string {
  return value === undefined ? '' : JSON.stringify(value);
}

/** A JSON value indented for reading. */
export function pretty(value: JsonValue | undefined): string {
  return value === undefined ? '' : JSON.stringify(value, null, 2);
}

/** `N thing` or `N things`. */
export function count(n: number, thing: string): string {
  return `${n} ${thing}${n === 1 ? '' : 's'}`;
}

/** `alice (Org1)`, or the start of the key of a signer the chain does not list. */
export function signerName(s: SignerView | undefined): string {
  if (s === undefined) return '-';
  return s.name === undefined ? `unknown key ${s.key.slice(0, 16)}...` : `${s.name} (${s.org ?? '?'})`;
}
