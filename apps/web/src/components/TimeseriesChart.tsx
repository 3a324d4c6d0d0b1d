import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Timeseries } from '@edgeworker/schema';
import { useElementWidth } from '../hooks/useElementWidth';

interface Thresholds {
  warnMs: number;
  critMs: number;
}

interface Props {
  data: Timeseries | null;
  thresholds: Thresholds | null;
  /** The applied theme: the chart is rebuilt with the theme's colours when it changes. */
  theme: 'dark' | 'light';
  height?: number;
}

/** Series drawn, with a dash pattern each so they differ by more than colour. */
const SERIES = [
  { key: 'mean', label: 'mean', colorVar: '--chart-mean', width: 2, dash: undefined },
  { key: 'p50', label: 'p50', colorVar: '--chart-p50', width: 1.5, dash: [6, 3] },
  { key: 'p95', label: 'p95', colorVar: '--chart-p95', width: 1.5, dash: [2, 3] },
  { key: 'p99', label: 'p99', colorVar: '--chart-p99', width: 1.5, dash: [10, 3, 2, 3] },
] as const;

function toAligned(ts: Timeseries | null): uPlot.AlignedData {
  const pts = ts?.points ?? [];
  return [
    pts.map((p) => p.t / 1000),
    pts.map((p) => p.mean),
    pts.map((p) => p.p50),
    pts.map((p) => p.p95),
    pts.map((p) => p.p99),
  ];
}

/** Indices of values whose neighbours are both empty: the only ones uPlot should draw a dot for. */
function isolatedPoints(u: uPlot, seriesIdx: number): number[] {
  const ys = u.data[seriesIdx] ?? [];
  const out: number[] = [];
  for (let i = 0; i < ys.length; i++) {
    if (ys[i] == null) continue;
    if (ys[i - 1] == null && ys[i + 1] == null) out.push(i);
  }
  return out;
}

function axisMs(v: number): string {
  return v >= 1000 ? `${+(v / 1000).toFixed(2)} s` : `${v} ms`;
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

function makeOptions(width: number, height: number, thresholds: { current: Thresholds | null }): uPlot.Options {
  const axisColor = cssVar('--text-muted', '#94a3b8');
  const gridColor = cssVar('--grid', 'rgba(148,163,184,0.15)');
  const warnColor = cssVar('--warning', '#f59e0b');
  const critColor = cssVar('--critical', '#ef4444');
  const axis: uPlot.Axis = {
    stroke: axisColor,
    grid: { stroke: gridColor, width: 1 },
    ticks: { stroke: gridColor, width: 1 },
  };

  // dashed horizontal lines at the status thresholds, when they fall inside the y range
  const drawThresholds = (u: uPlot) => {
    const t = thresholds.current;
    if (!t) return;
    const { ctx, bbox } = u;
    ctx.save();
    ctx.lineWidth = Math.max(1, devicePixelRatio);
    ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
    for (const [ms, color] of [
      [t.warnMs, warnColor],
      [t.critMs, critColor],
    ] as const) {
      const y = u.valToPos(ms, 'y', true);
      if (!Number.isFinite(y) || y < bbox.top || y > bbox.top + bbox.height) continue;
      ctx.strokeStyle = color;
      ctx.beginPath();
      ctx.moveTo(bbox.left, y);
      ctx.lineTo(bbox.left + bbox.width, y);
      ctx.stroke();
    }
    ctx.restore();
  };

  return {
    width,
    height,
    scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(10, (max ?? 0) * 1.1, min ?? 0)] } },
    axes: [axis, { ...axis, size: 64, values: (_u, splits) => splits.map(axisMs) }],
    series: [
      {},
      ...SERIES.map((s) => ({
        label: s.label,
        stroke: cssVar(s.colorVar, '#38bdf8'),
        width: s.width,
        dash: s.dash ? [...s.dash] : undefined,
        spanGaps: false,
        // a lone value between empty buckets draws no line, so it gets a dot
        points: { show: true, size: 5, filter: isolatedPoints },
        value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '–' : `${v.toFixed(1)} ms`),
      })),
    ],
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    hooks: { draw: [drawThresholds] },
  };
}

/** mean/p50/p95/p99 over time with uPlot; resizes with its container and follows the colour scheme. */
export function TimeseriesChart({ data, thresholds, theme, height = 220 }: Props) {
  const hostRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | null>(null);
  const width = useElementWidth(hostRef);
  const aligned = useMemo(() => toAligned(data), [data]);
  const alignedRef = useRef(aligned);
  const thresholdsRef = useRef(thresholds);

  // first, so the creation effect below sees the current values
  useEffect(() => {
    alignedRef.current = aligned;
    thresholdsRef.current = thresholds;
  });

  const ready = width > 0;
  useEffect(() => {
    const host = hostRef.current;
    if (!host || !ready) return;
    const plot = new uPlot(
      makeOptions(Math.floor(host.clientWidth), height, thresholdsRef),
      alignedRef.current,
      host,
    );
    plotRef.current = plot;
    return () => {
      plot.destroy();
      plotRef.current = null;
    };
  }, [ready, theme, height]);

  useEffect(() => {
    if (width > 0) plotRef.current?.setSize({ width: Math.floor(width), height });
  }, [width, height]);

  useEffect(() => {
    plotRef.current?.setData(aligned);
  }, [aligned]);

  useEffect(() => {
    plotRef.current?.redraw(false, false);
  }, [thresholds?.warnMs, thresholds?.critMs]);

  const empty = data !== null && data.points.every((p) => p.samples === 0);
  return (
    <div className="chart">
      <div
        className="chart-host"
        ref={hostRef}
        data-testid="timeseries-chart"
        data-loaded={data !== null}
        data-points-with-samples={data?.points.filter((p) => p.samples > 0).length ?? 0}
        data-thresholds={thresholds ? `${thresholds.warnMs}/${thresholds.critMs}` : ''}
      />
      {empty && <div className="chart-empty">No samples in this range.</div>}
    </div>
  );
}
