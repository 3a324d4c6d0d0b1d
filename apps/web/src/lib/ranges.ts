/** Time ranges offered by the drill-down chart, each with a step that keeps the point count ≤ ~400. */
export interface ChartRange {
  id: string;
  label: string;
  rangeMs: number;
  step: string;
  stepMs: number;
}

const MIN = 60_000;

export const CHART_RANGES: readonly ChartRange[] = [
  { id: '15m', label: '15 min', rangeMs: 15 * MIN, step: '15s', stepMs: 15_000 }, // 60 points
  { id: '1h', label: '1 h', rangeMs: 60 * MIN, step: '30s', stepMs: 30_000 }, // 120 points
  { id: '6h', label: '6 h', rangeMs: 360 * MIN, step: '1m', stepMs: 60_000 }, // 360 points
  { id: '24h', label: '24 h', rangeMs: 1440 * MIN, step: '5m', stepMs: 300_000 }, // 288 points
  { id: '7d', label: '7 d', rangeMs: 7 * 1440 * MIN, step: '30m', stepMs: 1_800_000 }, // 336 points
];

export const DEFAULT_RANGE_ID = '1h';

export function isRangeId(id: string): boolean {
  return CHART_RANGES.some((r) => r.id === id);
}

export function rangeById(id: string): ChartRange {
  return CHART_RANGES.find((r) => r.id === id) ?? CHART_RANGES[1]!;
}

/** The window used for the live aggregates (overview, heatmap, POP detail). */
export const LIVE_WINDOW = '5m';
