/**
 * Charts drawn as plain SVG, sized by their container: a line chart of series over time and a
 * horizontal bar chart of counts. No chart library: what they draw fits in a page of code.
 */
import type { ReactNode } from 'react';

/** One point of a series. */
export interface Point {
  readonly t: number;
  readonly v: number;
}

const W = 640;
const H = 180;
const PAD = { left: 48, right: 12, top: 12, bottom: 24 };

/** A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten. */
function niceMax(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (max <= m * p) return m * p;
  return 10 * p;
}

/** One named series of a line chart. */
export interface Series {
  readonly label: string;
  readonly points: readonly Point[];
}

/**
 * A line chart of one or more series over time (the latest point at the right edge), with a
 * legend when there are several.
 * @param label what the chart shows, read out by screen readers
 * @param unit what the values count, shown on the axis
 */
export function LineChart({ series, label, unit }: { readonly series: readonly Series[]; readonly label: string; readonly unit: string }): ReactNode {
  const all = series.flatMap((s) => s.points);
  if (all.length < 2) return <div className="chart-empty">Collecting data for “{label}”…</div>;
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t));
  const top = niceMax(Math.max(...all.map((p) => p.v)));
  const span = Math.max(1, t1 - t0);
  const x = (t: number): number => PAD.left + ((t - t0) / span) * (W - PAD.left - PAD.right);
  const y = (v: number): number => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);
  const path = (points: readonly Point[]): string => points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
  const latest = series.map((s) => `${s.label} ${s.points.at(-1)?.v.toFixed(1) ?? '—'}`).join(', ');
  return (
    <figure className="chart-figure">
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${label}: latest ${latest} ${unit}`}>
        {[0, top / 2, top].map((v) => (
          <g key={v}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} className="grid" />
            <text x={PAD.left - 6} y={y(v) + 4} textAnchor="end" className="axis">{v >= 10 ? Math.round(v) : v.toFixed(1)}</text>
          </g>
        ))}
        <text x={PAD.left} y={H - 6} className="axis">{Math.round(span / 1000)} s ago</text>
        <text x={W - PAD.right} y={H - 6} textAnchor="end" className="axis">now · {unit}</text>
        {series.map((s, i) => <path key={s.label} d={path(s.points)} className={`line line-${i}`} />)}
      </svg>
      {series.length > 1 && (
        <figcaption className="legend">
          {series.map((s, i) => <span key={s.label} className={`legend-${i}`}>{s.label}</span>)}
        </figcaption>
      )}
    </figure>
  );
}

/** One bar. */
export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly tone?: 'good' | 'bad';
}

/** Horizontal bars, longest = the largest value. */
export function BarChart({ bars, label }: { readonly bars: readonly Bar[]; readonly label: string }): ReactNode {
  if (bars.length === 0) return <div className="chart-empty">Nothing to show yet for “{label}”.</div>;
  const max = Math.max(1, ...bars.map((b) => b.value));
  return (
    <div className="bars" role="list" aria-label={label}>
      {bars.map((b) => (
        <div className="bar-row" role="listitem" key={b.label}>
          <span className="bar-label">{b.label}</span>
          <span className="bar-track"><span className={`bar bar-${b.tone ?? 'good'}`} style={{ width: `${(100 * b.value) / max}%` }} /></span>
          <span className="bar-value">{b.value.toLocaleString('en-US')}</span>
        </div>
      ))}
    </div>
  );
}
