/**
 * Which data answers a range on InfluxDB: raw samples for short windows (exact
 * percentiles), else whole hours from the 1 h rollup, whole minutes at the edges
 * from the 1 min rollup and the partial minutes at the very edges, plus anything
 * the keeper has not rolled up yet, from raw samples. Count, sum, min and max stay
 * exact either way; only percentiles come from the sketch (within 1 %).
 */
import type { Resolution, TimeRange } from '../metrics-store.ts';

export interface Segment extends TimeRange {
  resolution: Resolution;
}

/** What the keeper has made complete: rollups are trustworthy on [coveredFromNs, throughNs). */
export interface RollupCoverage {
  coveredFromNs: bigint;
  throughNs: bigint;
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
const HOUR = 60n * MIN;
const floorTo = (t: bigint, u: bigint) => (t >= 0n ? (t / u) * u : -((-t + u - 1n) / u) * u);
const ceilTo = (t: bigint, u: bigint) => -floorTo(-t, u);
const ms = (n: number) => BigInt(n) * 1_000_000n;

export function plan(range: TimeRange, coverage: RollupCoverage | null, opts: PlanOptions): Segment[] {
  const allRaw: Segment[] = [{ ...range, resolution: 'raw' }];
  if (!coverage || range.toNs - range.fromNs <= ms(opts.rawMaxMs)) return allRaw;
  const step = opts.stepMs === undefined ? undefined : ms(opts.stepMs);
  const use1m = step === undefined || step % MIN === 0n;
  const use1h = step === undefined || step % HOUR === 0n;
  if (!use1m) return allRaw;
  const lo = range.fromNs > coverage.coveredFromNs ? range.fromNs : coverage.coveredFromNs;
  const hi = range.toNs < coverage.throughNs ? range.toNs : coverage.throughNs;
  const m0 = ceilTo(lo, MIN);
  const m1 = floorTo(hi, MIN);
  if (m1 <= m0) return allRaw;
  const segs: Segment[] = [];
  const push = (resolution: Resolution, fromNs: bigint, toNs: bigint) => {
    if (toNs > fromNs) segs.push({ resolution, fromNs, toNs });
  };
  push('raw', range.fromNs, m0);
  const h0 = ceilTo(m0, HOUR);
  const h1 = floorTo(m1, HOUR);
  if (use1h && h1 > h0) {
    push('1m', m0, h0);
    push('1h', h0, h1);
    push('1m', h1, m1);
  } else {
    push('1m', m0, m1);
  }
  push('raw', m1, range.toNs);
  let rawNs = 0n;
  for (const s of segs) if (s.resolution === 'raw') rawNs += s.toNs - s.fromNs;
  if (rawNs > ms(opts.rawEdgeMaxMs)) return allRaw;
  return segs;
}

const ORDER: Resolution[] = ['raw', '1m', '1h'];

/** The coarsest resolution a plan used: what the answer reports. */
export function coarsest(segs: readonly Segment[]): Resolution {
  let best = 0;
  for (const s of segs) best = Math.max(best, ORDER.indexOf(s.resolution));
  return ORDER[best]!;
}
