/**
 * Which data answers a range on InfluxDB: raw samples for short windows (exact
 * percentiles), else whole hours from the 1 h rollup, whole minutes at the edges
 * from the 1 min rollup and the partial minutes at the very edges, plus anything
 * the keeper has not rolled up yet, from raw samples. Count, sum, min and max stay
 * exact either way; only percentiles come from the sketch (within 1 %).
 */
import type { Resolution, TimeRange } from '../metrics-store.ts';

/** A rollup level: the port's resolutions plus the keeper's internal 10 min level. */
export type Level = Resolution | '10m';

export interface Segment extends TimeRange {
  resolution: Level;
}

/** What the keeper has made complete: rollups are trustworthy on [coveredFromNs, throughNs). */
export interface RollupCoverage {
  coveredFromNs: bigint;
  throughNs: bigint;
  /**
   * Counts the keeper's changes to rollups it had already published (late data, a
   * backfill): readers that keep rollup answers in memory drop them when it moves.
   */
  generation?: number;
}

export interface PlanOptions {
  /** Windows up to this long read raw samples only. */
  rawMaxMs: number;
  /** A mixed plan whose raw parts are longer than this is not worth it: all raw instead. */
  rawEdgeMaxMs: number;
  /** Bucket width for time series; rollups are used only where their periods fit whole buckets. */
  stepMs?: number;
}

const MIN = 60_000_000_000n;
const TEN = 10n * MIN;
const HOUR = 60n * MIN;
const floorTo = (t: bigint, u: bigint) => (t >= 0n ? (t / u) * u : -((-t + u - 1n) / u) * u);
const ceilTo = (t: bigint, u: bigint) => -floorTo(-t, u);
const ms = (n: number) => BigInt(n) * 1_000_000n;

/**
 * Segments, coarsest in the middle: raw | 1m | 10m | 1h … 1h | 10m | 1m | raw. The
 * 10 min level keeps the edges short: a window's two partial hours together are
 * about one hour, which is 60 rows a series at 1 min but about 15 with 10 min.
 */
export function plan(range: TimeRange, coverage: RollupCoverage | null, opts: PlanOptions): Segment[] {
  const allRaw: Segment[] = [{ ...range, resolution: 'raw' }];
  if (!coverage || range.toNs - range.fromNs <= ms(opts.rawMaxMs)) return allRaw;
  const step = opts.stepMs === undefined ? undefined : ms(opts.stepMs);
  const fits = (u: bigint) => step === undefined || step % u === 0n;
  if (!fits(MIN)) return allRaw;
  const lo = range.fromNs > coverage.coveredFromNs ? range.fromNs : coverage.coveredFromNs;
  const hi = range.toNs < coverage.throughNs ? range.toNs : coverage.throughNs;
  const m0 = ceilTo(lo, MIN);
  const m1 = floorTo(hi, MIN);
  if (m1 <= m0) return allRaw;
  const segs: Segment[] = [];
  const push = (resolution: Level, fromNs: bigint, toNs: bigint) => {
    if (toNs > fromNs) segs.push({ resolution, fromNs, toNs });
  };
  /** [a, b) from the coarsest levels that fit whole periods in it. */
  const fill = (a: bigint, b: bigint, levels: Array<[Level, bigint]>) => {
    const [[level, unit], ...finer] = levels as [[Level, bigint], ...Array<[Level, bigint]>];
    const u0 = ceilTo(a, unit);
    const u1 = floorTo(b, unit);
    if (finer.length === 0 || u1 > u0) {
      if (finer.length === 0) return push(level, a, b);
      fill(a, u0, finer);
      push(level, u0, u1);
      fill(u1, b, finer);
    } else {
      fill(a, b, finer);
    }
  };
  const levels: Array<[Level, bigint]> = [];
  if (fits(HOUR)) levels.push(['1h', HOUR]);
  if (fits(TEN)) levels.push(['10m', TEN]);
  levels.push(['1m', MIN]);
  push('raw', range.fromNs, m0);
  fill(m0, m1, levels);
  push('raw', m1, range.toNs);
  let rawNs = 0n;
  for (const s of segs) if (s.resolution === 'raw') rawNs += s.toNs - s.fromNs;
  if (rawNs > ms(opts.rawEdgeMaxMs)) return allRaw;
  return segs;
}

const ORDER: Level[] = ['raw', '1m', '10m', '1h'];

/**
 * The coarsest resolution a plan used: what the answer reports. The port knows raw,
 * 1m and 1h; the internal 10 min level (same sketch, same exact count and mean) reports
 * as 1m.
 */
export function coarsest(segs: readonly Segment[]): Resolution {
  let best = 0;
  for (const s of segs) best = Math.max(best, ORDER.indexOf(s.resolution));
  const level = ORDER[best]!;
  return level === '10m' ? '1m' : level;
}
