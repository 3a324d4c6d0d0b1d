/**
 * Recent history of the overview numbers, kept from the live stream (no extra request),
 * and the sparkline geometry drawn from it.
 */

export interface TrendPoint {
  /** Client clock, epoch ms. */
  t: number;
  values: Record<string, number | null>;
}

export const TREND_LENGTH = 60;

/** A new buffer with `p` appended and at most `max` points (oldest dropped). */
export function pushTrend(buf: readonly TrendPoint[], p: TrendPoint, max = TREND_LENGTH): TrendPoint[] {
  const next = [...buf, p];
  return next.length > max ? next.slice(next.length - max) : next;
}

export function series(buf: readonly TrendPoint[], key: string): (number | null)[] {
  return buf.map((p) => {
    const v = p.values[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  });
}

/**
 * SVG path through the values, scaled into a `width` × `height` box (y grows downward);
 * missing values break the line. Empty string when fewer than two values exist.
 */
export function sparklinePath(values: readonly (number | null)[], width: number, height: number, pad = 1): string {
  const nums = values.filter((v): v is number => v !== null);
  if (nums.length < 2) return '';
  const min = Math.min(...nums);
  const max = Math.max(...nums);
  const span = max - min || 1;
  const stepX = values.length > 1 ? width / (values.length - 1) : 0;
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    const x = i * stepX;
    // a flat series is drawn in the middle rather than on the floor
    const y = max === min ? height / 2 : pad + (1 - (v - min) / span) * (height - 2 * pad);
    d += `${pen ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
    pen = true;
  });
  return d;
}

/** Change from the first to the last value of the buffer, as direction and percent. */
export function trendChange(values: readonly (number | null)[]): { dir: 'up' | 'down' | 'flat'; pct: number } | null {
  const nums = values.filter((v): v is number => v !== null);
  if (nums.length < 2) return null;
  const first = nums[0]!;
  const last = nums[nums.length - 1]!;
  const pct = first === 0 ? (last === 0 ? 0 : 100) : ((last - first) / Math.abs(first)) * 100;
  const dir = Math.abs(pct) < 0.5 ? 'flat' : pct > 0 ? 'up' : 'down';
  return { dir, pct };
}
