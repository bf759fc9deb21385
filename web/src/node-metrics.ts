/**
 * Reads the node's Prometheus text (`GET /metrics`, src/api/metrics.ts) into the few series the
 * dashboard draws: committed transactions by chain and validation code, and each chain's height
 * at the peer and at the ordering service.
 */
import { ApiError } from './api.js';

/** One sample: a metric's labels and value. */
export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Parses Prometheus text exposition into samples by metric name; comments are skipped.
 * @throws ApiError BAD_ANSWER on a line that is neither a comment nor a sample
 */
export function parsePrometheusText(text: string): Map<string, Sample[]> {
  const metrics = new Map<string, Sample[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (m === null) throw new ApiError('BAD_ANSWER', `the node's /metrics has a line that is not a sample: ${line.slice(0, 80)}`, 200);
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(LABEL)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_x, c: string) => (c === 'n' ? '\n' : c));
    const value = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4]);
    const name = m[1] as string;
    const list = metrics.get(name) ?? [];
    list.push({ labels, value });
    metrics.set(name, list);
  }
  return metrics;
}

/** What the dashboard reads at each tick. */
export interface NodeReading {
  /** When it was read (ms). */
  readonly at: number;
  /** Committed transactions by chain, then by validation code. */
  readonly committed: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly height: ReadonlyMap<string, number>;
  readonly orderedHeight: ReadonlyMap<string, number>;
}

function byChain(samples: readonly Sample[] | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples ?? []) if (s.labels['chain'] !== undefined) out.set(s.labels['chain'], s.value);
  return out;
}

/** Reads the node's metrics now. @throws ApiError when the node cannot be read */
export async function readNode(signal?: AbortSignal): Promise<NodeReading> {
  let response: Response;
  try {
    response = await fetch('/metrics', signal === undefined ? {} : { signal });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError('NETWORK', 'the node could not be reached: is it running?', 0);
  }
  if (!response.ok) throw new ApiError(`HTTP_${response.status}`, `the node's /metrics answered ${response.status}`, response.status);
  const metrics = parsePrometheusText(await response.text());
  const committed = new Map<string, Map<string, number>>();
  for (const s of metrics.get('silk_transactions_committed_total') ?? []) {
    const chain = s.labels['chain'];
    const code = s.labels['code'];
    if (chain === undefined || code === undefined) continue;
    const codes = committed.get(chain) ?? new Map<string, number>();
    codes.set(code, s.value);
    committed.set(chain, codes);
  }
  return { at: Date.now(), committed, height: byChain(metrics.get('silk_chain_height')), orderedHeight: byChain(metrics.get('silk_chain_ordered_height')) };
}

/** All transactions of a reading, every chain and code together. */
export function totalCommitted(reading: NodeReading): number {
  let total = 0;
  for (const codes of reading.committed.values()) for (const n of codes.values()) total += n;
  return total;
}
