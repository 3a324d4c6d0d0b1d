/**
 * The port's SeriesBucketColumns as typed arrays, and the helpers both adapters build them
 * with: a counting sort into time order (bucket starts are multiples of the step, so the
 * bucket index is a small integer: linear, not n log n), and conversions to and from the
 * port's row objects.
 */
import type { SeriesBucket, SeriesBucketColumns } from './metrics-store.ts';

/** The port's columns, as typed arrays. */
export interface TypedSeriesBucketColumns extends SeriesBucketColumns {
  series: Int32Array;
  startMs: Float64Array;
  samples: Int32Array;
  mean: Float64Array;
  p50: Float64Array;
}

/** The earliest and latest of the first k times (Infinity, -Infinity when k is 0). */
function timeSpan(t: Float64Array, k: number): [number, number] {
  let minT = Infinity;
  let maxT = -Infinity;
  for (let i = 0; i < k; i++) {
    if (t[i]! < minT) minT = t[i]!;
    if (t[i]! > maxT) maxT = t[i]!;
  }
  return [minT, maxT];
}

/** Unsorted buckets (the first k entries of each array) as columns in ascending startMs. */
export function timeOrdered(
  pops: string[], functions: string[], k: number, stepMs: number,
  sid: Int32Array, t: Float64Array, n: Int32Array, mean: Float64Array, p50: Float64Array,
): TypedSeriesBucketColumns {
  const [minT, maxT] = timeSpan(t, k);
  const out: TypedSeriesBucketColumns = { pops, functions, series: new Int32Array(k), startMs: new Float64Array(k), samples: new Int32Array(k), mean: new Float64Array(k), p50: new Float64Array(k) };
  if (k === 0) return out;
  // Counting sort on the bucket index: starts are multiples of stepMs, so (t - minT) / stepMs is a small integer.
  const slots = Math.round((maxT - minT) / stepMs) + 1;
  const at = new Int32Array(slots + 1);
  for (let i = 0; i < k; i++) at[Math.round((t[i]! - minT) / stepMs) + 1]!++;
  for (let j = 1; j <= slots; j++) at[j]! += at[j - 1]!;
  for (let i = 0; i < k; i++) {
    const j = at[Math.round((t[i]! - minT) / stepMs)]!++;
    out.series[j] = sid[i]!;
    out.startMs[j] = t[i]!;
    out.samples[j] = n[i]!;
    out.mean[j] = mean[i]!;
    out.p50[j] = p50[i]!;
  }
  return out;
}

/** The port's row shape, in the columns' (time) order. */
export function bucketsOf(c: TypedSeriesBucketColumns): SeriesBucket[] {
  const out: SeriesBucket[] = new Array(c.startMs.length);
  for (let i = 0; i < c.startMs.length; i++) {
    const s = c.series[i]!;
    out[i] = { popCode: c.pops[s]!, functionName: c.functions[s]!, startMs: c.startMs[i]!, samples: c.samples[i]!, mean: c.mean[i]!, p50: c.p50[i]! };
  }
  return out;
}

/** Columns from bucket objects (the rollup-planned answer for coarse steps), sorted by time. */
export function columnsOf(buckets: readonly SeriesBucket[]): TypedSeriesBucketColumns {
  const sorted = [...buckets].sort((a, b) => a.startMs - b.startMs);
  const ids = new Map<string, number>();
  const out: TypedSeriesBucketColumns = { pops: [], functions: [], series: new Int32Array(sorted.length), startMs: new Float64Array(sorted.length), samples: new Int32Array(sorted.length), mean: new Float64Array(sorted.length), p50: new Float64Array(sorted.length) };
  sorted.forEach((b, i) => {
    const key = `${b.popCode}\u0000${b.functionName}`;
    let id = ids.get(key);
    if (id === undefined) {
      ids.set(key, (id = ids.size));
      out.pops.push(b.popCode);
      out.functions.push(b.functionName);
    }
    out.series[i] = id;
    out.startMs[i] = b.startMs;
    out.samples[i] = b.samples;
    out.mean[i] = b.mean;
    out.p50[i] = b.p50;
  });
  return out;
}

/**
 * Raw samples (the first k entries: series id, bucket start already aligned to stepMs, value,
 * in the order the store scanned them) as bucket columns in ascending startMs: count, mean and
 * median per (series, bucket), the numbers DuckDB's count / avg / quantile_cont(0.5) give:
 *   - mean: the samples summed in scan order, divided by the count (avg's order: a window's
 *     samples are adjacent in the scan; the counting sort below is stable);
 *   - median: the middle sample, or (lo + hi) / 2 of the middle two (quantile_cont's answer,
 *     bit for bit: series-buckets.test.ts).
 * Linear: a counting sort on the bucket index, then one pass that merges a series' samples
 * within a bucket; only windows of several samples keep their values (for the median).
 */
export function bucketSamples(
  pops: string[], functions: string[], k: number, stepMs: number,
  sid: Int32Array, t: Float64Array, v: Float64Array,
): TypedSeriesBucketColumns {
  const [minT, maxT] = timeSpan(t, k);
  if (k === 0) return { pops, functions, series: new Int32Array(0), startMs: new Float64Array(0), samples: new Int32Array(0), mean: new Float64Array(0), p50: new Float64Array(0) };
  const slots = Math.round((maxT - minT) / stepMs) + 1;
  const slot = new Int32Array(k);
  const at = new Int32Array(slots + 1);
  for (let i = 0; i < k; i++) at[(slot[i] = Math.round((t[i]! - minT) / stepMs)) + 1]!++;
  for (let j = 1; j <= slots; j++) at[j]! += at[j - 1]!;
  const order = new Int32Array(k);
  for (let i = 0; i < k; i++) order[at[slot[i]!]!++] = i;
  // The window a series has open in the current bucket: its output index, and which bucket (+1; 0: none).
  const openAt = new Int32Array(pops.length);
  const openSlot = new Int32Array(pops.length);
  const series = new Int32Array(k);
  const startMs = new Float64Array(k);
  const samples = new Int32Array(k);
  const mean = new Float64Array(k);
  const p50 = new Float64Array(k);
  const several = new Map<number, number[]>();
  let m = 0;
  for (let j = 0; j < k; j++) {
    const i = order[j]!;
    const s = sid[i]!;
    const b = slot[i]! + 1;
    if (openSlot[s] === b) {
      const o = openAt[s]!;
      if (samples[o] === 1) several.set(o, [p50[o]!]);
      several.get(o)!.push(v[i]!);
      samples[o]!++;
      mean[o]! += v[i]!; // the sum, divided below
    } else {
      openSlot[s] = b;
      openAt[s] = m;
      series[m] = s;
      startMs[m] = t[i]!;
      samples[m] = 1;
      mean[m] = v[i]!;
      p50[m] = v[i]!;
      m++;
    }
  }
  for (const [o, values] of several) {
    mean[o] = mean[o]! / values.length;
    values.sort((a, b) => a - b);
    const h = values.length >> 1;
    p50[o] = values.length % 2 === 1 ? values[h]! : (values[h - 1]! + values[h]!) / 2;
  }
  return { pops, functions, series: series.subarray(0, m), startMs: startMs.subarray(0, m), samples: samples.subarray(0, m), mean: mean.subarray(0, m), p50: p50.subarray(0, m) };
}

/**
 * The buckets of columns in ascending startMs (the port's order) that start in [fromMs, toMs):
 * views of the same arrays where they are typed (no copy), the names shared.
 */
export function columnsIn(c: SeriesBucketColumns, fromMs: number, toMs: number): SeriesBucketColumns {
  const lo = firstAtOrAfter(c.startMs, fromMs);
  const hi = Math.max(lo, firstAtOrAfter(c.startMs, toMs));
  const cut = (a: ArrayLike<number>): ArrayLike<number> => (ArrayBuffer.isView(a) ? (a as unknown as Float64Array).subarray(lo, hi) : Array.prototype.slice.call(a, lo, hi));
  return { pops: c.pops, functions: c.functions, series: cut(c.series), startMs: cut(c.startMs), samples: cut(c.samples), mean: cut(c.mean), p50: cut(c.p50) };
}

/** The first index whose value is >= x, in ascending values (binary search). */
function firstAtOrAfter(xs: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
