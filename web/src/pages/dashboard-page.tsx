/**
 * The operator's dashboard: committed transactions per second and the latency of submits through
 * this node's API (charts of the last five minutes), each chain's height at this peer against the
 * ordering service, and validation codes since the node started. Read from the node's `/metrics`
 * every two seconds.
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError, getJson, type BlockSummary, type ChainSummary, type Page } from '../api.js';
import { BarChart, LineChart, type Point } from '../components/charts.js';
import { ErrorBox, Hash, Show, Time, count } from '../components/common.js';
import { quantileBetween, readNode, totalCommitted, type NodeReading } from '../node-metrics.js';
import { href } from '../route.js';
import { useApi } from '../use-api.js';

const TICK_MS = 2000;
/** Points kept: five minutes of ticks. */
const WINDOW_POINTS = 150;

/** What the page has collected. */
interface Collected {
  readonly latest: NodeReading | undefined;
  readonly rate: readonly Point[];
  /** Submit latency between ticks, ms: the median and the 99th percentile (ticks with submits only). */
  readonly p50: readonly Point[];
  readonly p99: readonly Point[];
  readonly error: ApiError | undefined;
}

/** Reads the node every tick and keeps the rate series. */
function useNodeReadings(): Collected {
  const [collected, setCollected] = useState<Collected>({ latest: undefined, rate: [], p50: [], p99: [], error: undefined });
  const previous = useRef<NodeReading | undefined>(undefined);
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async (): Promise<void> => {
      try {
        const reading = await readNode(controller.signal);
        const before = previous.current;
        previous.current = reading;
        setCollected((c) => {
          if (before === undefined) return { ...c, latest: reading, error: undefined };
          const rate = { t: reading.at, v: Math.max(0, totalCommitted(reading) - totalCommitted(before)) / ((reading.at - before.at) / 1000) };
          const latency = (q: number): Point[] => {
            const seconds = quantileBetween(before.submitBuckets, reading.submitBuckets, q);
            return seconds === undefined ? [] : [{ t: reading.at, v: seconds * 1000 }];
          };
          const keep = (points: readonly Point[], more: readonly Point[]): Point[] => [...points, ...more].filter((p) => p.t > reading.at - WINDOW_POINTS * TICK_MS);
          return { latest: reading, rate: keep(c.rate, [rate]), p50: keep(c.p50, latency(0.5)), p99: keep(c.p99, latency(0.99)), error: undefined };
        });
      } catch (e) {
        if (controller.signal.aborted) return;
        setCollected((c) => ({ ...c, error: e instanceof ApiError ? e : new ApiError('UI_ERROR', (e as Error).message, 0) }));
      }
      if (!controller.signal.aborted) timer = setTimeout(() => { void tick(); }, TICK_MS);
    };
    void tick();
    return () => {
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, []);
  return collected;
}

function Heights({ reading }: { readonly reading: NodeReading }): ReactNode {
  return (
    <table className="heights">
      <thead><tr><th>Chain</th><th className="num">Blocks at this peer</th><th className="num">Ordered</th><th>State</th></tr></thead>
      <tbody>
        {[...reading.height].map(([chain, height]) => {
          const ordered = reading.orderedHeight.get(chain);
          const behind = ordered === undefined ? 0 : Math.max(0, ordered - height);
          return (
            <tr key={chain}>
              <td><a href={href({ page: 'chain', chain, bookmark: undefined })}>{chain}</a></td>
              <td className="num">{count(height)}</td>
              <td className="num">{ordered === undefined ? '—' : count(ordered)}</td>
              <td className={behind > 0 ? 'warn' : ''}>{behind > 0 ? `${count(behind)} block${behind === 1 ? '' : 's'} behind` : 'caught up'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function codeBars(reading: NodeReading): { label: string; value: number; tone: 'good' | 'bad' }[] {
  const totals = new Map<string, number>();
  for (const codes of reading.committed.values()) for (const [code, n] of codes) totals.set(code, (totals.get(code) ?? 0) + n);
  return [...totals].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).map(([code, n]) => ({ label: code, value: n, tone: code === 'VALID' ? 'good' : 'bad' }));
}

/** Blocks of each chain shown in "latest blocks". */
const LATEST_PER_CHAIN = 5;

/** One of the latest blocks, with its chain. */
interface LatestBlock extends BlockSummary {
  readonly chain: string;
}

async function latestBlocks(signal: AbortSignal): Promise<LatestBlock[]> {
  const { items: chains } = await getJson<{ items: ChainSummary[] }>('/api/chains', signal);
  const pages = await Promise.all(chains.map(async (c) => {
    const page = await getJson<Page<BlockSummary>>(`/api/chains/${encodeURIComponent(c.name)}/blocks?limit=${LATEST_PER_CHAIN}`, signal);
    return page.items.map((b) => ({ ...b, chain: c.name }));
  }));
  return pages.flat().sort((a, b) => b.timestamp - a.timestamp);
}

/** The newest blocks of every chain, from the ledger itself (they survive a restart, the counters do not). */
function LatestBlocks(): ReactNode {
  const loaded = useApi(latestBlocks, [], TICK_MS * 2);
  return (
    <Show loaded={loaded}>
      {(blocks) => (
        <table className="latest">
          <thead><tr><th>Chain</th><th className="num">Block</th><th>Ordered</th><th className="num">Transactions</th><th className="num">Valid</th><th>Hash</th></tr></thead>
          <tbody>
            {blocks.map((b) => (
              <tr key={`${b.chain}-${b.number}`}>
                <td>{b.chain}</td>
                <td className="num"><a href={href({ page: 'block', chain: b.chain, number: b.number })}>{b.number}</a></td>
                <td><Time ms={b.timestamp} /></td>
                <td className="num">{count(b.transactions)}</td>
                <td className={b.valid === b.transactions ? 'num' : 'num warn'}>{count(b.valid)}</td>
                <td><Hash value={b.hash} length={8} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Show>
  );
}

/** The page. */
export function DashboardPage(): ReactNode {
  const { latest, rate, p50, p99, error } = useNodeReadings();
  const now = rate.at(-1)?.v;
  const p99now = p99.at(-1);
  return (
    <div>
      <h1>Network dashboard</h1>
      {error !== undefined && <ErrorBox error={error} title="The node did not answer the last reading" />}
      <section className="panel">
        <h2>Committed transactions per second {now === undefined ? '' : <span className="figure" data-testid="tx-rate">{now.toFixed(1)}</span>}</h2>
        <LineChart series={[{ label: 'tx/s', points: rate }]} label="committed transactions per second" unit="tx/s" />
      </section>
      <section className="panel">
        <h2>Submit latency through this node's API {p99now === undefined ? '' : <span className="figure">p99 <span data-testid="latency-p99">{p99now.v.toFixed(0)}</span> ms</span>}</h2>
        {p99.length === 0
          ? <div className="chart-empty">No submit through this node's API in the last five minutes.</div>
          : <LineChart series={[{ label: 'median', points: p50 }, { label: '99th percentile', points: p99 }]} label="submit latency, from arrival to answer" unit="ms" />}
      </section>
      {latest !== undefined && (
        <div className="columns">
          <section className="panel">
            <h2>Chains</h2>
            <Heights reading={latest} />
          </section>
          <section className="panel">
            <h2>Validation codes since this node started</h2>
            <BarChart bars={codeBars(latest)} label="transactions by validation code" />
          </section>
        </div>
      )}
      <section className="panel">
        <h2>Latest blocks</h2>
        <LatestBlocks />
      </section>
    </div>
  );
}
