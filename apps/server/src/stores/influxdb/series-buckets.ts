/**
 * `seriesBuckets` on InfluxDB for short ranges (the detector's re-derive: 35 min of 10 s
 * buckets): the raw values of every series, bucketed here, instead of
 * `GROUP BY time(10s), pop_code, function_name` with count/mean/median on the server.
 *
 * Why: measured at 2,115 series, one sample per series per 10 s (444k points), the grouped
 * statement took 8-11 s in influxd (444k windows, a median each), the raw values 2-3 s (10.6 MB
 * of JSON, 0.2 s to parse): when the step is about the sample cadence, most windows hold one
 * sample, and the server's per-window machinery is the cost, not the reading.
 *
 * The answer is the same numbers InfluxDB computes (influxql's reducers, query/functions.go):
 *   - count: the samples of the window;
 *   - mean: their sum, added in time order (the order a shard's cursor hands them to
 *     FloatMeanReducer), divided by the count;
 *   - median (FloatMedianReduceSlice): the values sorted; the middle one, or for an even count
 *     lo + (hi - lo) / 2 (not (lo + hi) / 2: the last bit can differ).
 * Windows are aligned to the epoch like GROUP BY time(). A window never straddles two shards
 * when the step divides the shard duration (10 s into 7 days does); otherwise InfluxDB merges
 * per-shard means and the mean's last bit may differ from this one.
 */
import { FIELD, MEASUREMENT, TAG } from '@edgeworker/schema';
import type { SeriesBucketsOptions, TimeRange } from '../metrics-store.ts';
import { timeOrdered, type TypedSeriesBucketColumns } from '../series-bucket-columns.ts';
import { quoteIdent, type InfluxClient } from './influx-client.ts';
import { popCondition, whereClause } from './influxql.ts';

/** Ranges up to this long read raw values; longer ones (a week at 10 min) let InfluxDB aggregate. */
export const RAW_SERIES_BUCKETS_MAX_MS = 2 * 3_600_000;

export function rawValuesQuery(range: TimeRange, pops?: readonly string[]): string {
  return `SELECT ${quoteIdent(FIELD.coldStartTimeMs)} FROM ${quoteIdent(MEASUREMENT)} WHERE ${whereClause(range)}${popCondition(pops)} ` +
    `GROUP BY ${quoteIdent(TAG.popCode)}, ${quoteIdent(TAG.functionName)}`;
}

/** Every (POP, function) series bucketed by stepMs over range (of `pops` only, when given), from its raw values, as columns in time order. */
export async function readRawSeriesBucketColumns(client: InfluxClient, range: TimeRange, stepMs: number, opts: SeriesBucketsOptions = {}): Promise<TypedSeriesBucketColumns> {
  if (!Number.isInteger(stepMs) || stepMs <= 0) throw new Error(`seriesBuckets: the step must be a whole number of ms > 0, got ${stepMs}`);
  const [res] = opts.pops?.length === 0 ? [[]] : await client.query([rawValuesQuery(range, opts.pops)]);
  const seriesList = res ?? [];
  let total = 0;
  for (const s of seriesList) total += s.values.length;
  const pops: string[] = [];
  const functions: string[] = [];
  const sid = new Int32Array(total);
  const t = new Float64Array(total);
  const n = new Int32Array(total);
  const mean = new Float64Array(total);
  const p50 = new Float64Array(total);
  let k = 0;
  let window: number[] = [];
  for (const s of seriesList) {
    const id = pops.length;
    pops.push(s.tags?.[TAG.popCode] ?? '');
    functions.push(s.tags?.[TAG.functionName] ?? '');
    const iv = s.columns.indexOf(FIELD.coldStartTimeMs);
    const rows = s.values;
    // InfluxDB answers a series in ascending time; sorted again only if it ever did not.
    let ordered = true;
    for (let i = 1; i < rows.length && ordered; i++) ordered = (rows[i - 1]![0] as number) <= (rows[i]![0] as number);
    const points = ordered ? rows : [...rows].sort((a, b) => (a[0] as number) - (b[0] as number));
    for (let i = 0; i < points.length; ) {
      const start = Math.floor((points[i]![0] as number) / stepMs) * stepMs;
      const end = start + stepMs;
      let sum = 0;
      window = [];
      for (; i < points.length && (points[i]![0] as number) < end; i++) {
        const v = points[i]![iv];
        if (typeof v !== 'number') continue; // a point without this field
        sum += v;
        window.push(v);
      }
      if (window.length === 0) continue;
      sid[k] = id;
      t[k] = start;
      n[k] = window.length;
      mean[k] = sum / window.length;
      p50[k] = medianLikeInflux(window);
      k++;
    }
  }
  return timeOrdered(pops, functions, k, stepMs, sid, t, n, mean, p50);
}

/** FloatMedianReduceSlice: sorted; the middle value, or lo + (hi - lo) / 2 of the middle two. */
function medianLikeInflux(values: number[]): number {
  if (values.length === 1) return values[0]!;
  values.sort((a, b) => a - b);
  const h = values.length >> 1;
  if (values.length % 2 === 1) return values[h]!;
  const lo = values[h - 1]!;
  const hi = values[h]!;
  return lo + (hi - lo) / 2;
}
