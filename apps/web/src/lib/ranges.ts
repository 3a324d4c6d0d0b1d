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
  // 1 h steps: the server answers them from its hourly rollups (168 points).
  { id: '7d', label: '7 d', rangeMs: 7 * 1440 * MIN, step: '1h', stepMs: 3_600_000 },
];

export const DEFAULT_RANGE_ID = '1h';

export function isRangeId(id: string): boolean {
  return CHART_RANGES.some((r) => r.id === id);
}

export function rangeById(id: string): ChartRange {
  return CHART_RANGES.find((r) => r.id === id) ?? CHART_RANGES[1]!;
}

/** The window the WebSocket's overview covers: the default of the window selector. */
export const LIVE_WINDOW = '5m';

/** Windows offered for the map, the cards, the POP table and the drill-down's numbers (`?window=`). */
export const WINDOWS: readonly { id: string; label: string }[] = [
  { id: '5m', label: '5 min' },
  { id: '1h', label: '1 h' },
  { id: '24h', label: '24 h' },
  { id: '7d', label: '7 d' },
];

export function isWindowId(id: string): boolean {
  return WINDOWS.some((w) => w.id === id);
}

export function windowLabel(id: string): string {
  return WINDOWS.find((w) => w.id === id)?.label ?? id;
}
