/**
 * The raw-row read of `seriesBuckets` (the detector's per-series buckets), read straight
 * from DuckDB's data chunks into typed arrays.
 *
 * Why: profiled on a re-derive (35 min of 10 s buckets, 2,115 series = 444k buckets) the
 * SQL itself took ~135 ms and turning its 444k rows into row objects (`getRowObjectsJS`,
 * two strings and a bigint per row) ~630 ms, plus the garbage collector behind it. Here the
 * answers are the same numbers as that statement's (count, avg, quantile_cont per (POP,
 * function, bucket); the median is skipped where it is trivial, see `sql`), but:
 *   - the bucket start leaves DuckDB as a DOUBLE of epoch ms, the count as an INTEGER, so no
 *     bigint is made per row;
 *   - the two strings of a series leave it once per series, not once per bucket: each series
 *     gets a small integer id, its names come as one extra row with a NULL bucket (a NULL
 *     VARCHAR costs a validity check, no decode).
 * The buckets come back in time order (a counting sort on the aligned bucket start), which
 * is what the detector's engine.ingestColumns takes.
 */
import type { DuckDBMaterializedResult } from '@duckdb/node-api';
import type { TimeRange } from '../metrics-store.ts';
import { timeOrdered, type TypedSeriesBucketColumns } from '../series-bucket-columns.ts';

/** Runs one statement on the store's reader connection (inside its read queue). */
export type RunStatement = (sql: string) => Promise<DuckDBMaterializedResult>;


/**
 * Literal bounds, not $parameters: measured ~2x slower with parameters (the range filter is
 * planned without its values).
 *
 * The median is computed only where it takes work: a window of one sample is its median,
 * one of two is their midpoint (what quantile_cont answers for two values, checked bit for
 * bit over 1M pairs: (lo + hi) / 2), and quantile_cont (which keeps every value of every
 * window in its state) runs only on the windows of three samples or more. With the step at
 * the sample cadence those are few, and the aggregate without a median state per window
 * measured ~20 % cheaper (issue 13 notes).
 */
const sql = (range: TimeRange, stepMs: number) => `
  WITH raw AS (
    SELECT pop_code, function_name, time_ns // ${BigInt(stepMs) * 1_000_000n} AS b, cold_start_time_ms AS v
    FROM cold_start_metrics WHERE time_ns >= ${BigInt(range.fromNs)} AND time_ns < ${BigInt(range.toNs)}
  ),
  g0 AS (SELECT pop_code, function_name, b, count(*)::INTEGER AS n, avg(v) AS mean, min(v) AS mn, max(v) AS mx FROM raw GROUP BY ALL),
  many AS (
    SELECT pop_code, function_name, b, quantile_cont(v, 0.5) AS p50
    FROM raw SEMI JOIN (SELECT pop_code, function_name, b FROM g0 WHERE n > 2) k USING (pop_code, function_name, b) GROUP BY ALL
  ),
  g AS (
    SELECT pop_code, function_name, b, n, mean, CASE WHEN n = 1 THEN mn WHEN n = 2 THEN (mn + mx) / 2 ELSE many.p50 END AS p50
    FROM g0 LEFT JOIN many USING (pop_code, function_name, b)
  ),
  s AS (SELECT pop_code, function_name, (row_number() OVER () - 1)::INTEGER AS sid FROM (SELECT DISTINCT pop_code, function_name FROM g))
  SELECT sid, pop_code, function_name, NULL::DOUBLE AS t, NULL::INTEGER AS n, NULL::DOUBLE AS mean, NULL::DOUBLE AS p50 FROM s
  UNION ALL
  SELECT s.sid, NULL, NULL, (g.b * ${stepMs})::DOUBLE, g.n, g.mean, g.p50 FROM g JOIN s USING (pop_code, function_name)`;

/** Every (POP, function) series bucketed by stepMs over range, from raw rows, as columns. */
export async function readSeriesBucketColumns(run: RunStatement, range: TimeRange, stepMs: number): Promise<TypedSeriesBucketColumns> {
  if (!Number.isInteger(stepMs) || stepMs <= 0) throw new Error(`seriesBuckets: the step must be a whole number of ms > 0, got ${stepMs}`);
  const result = await run(sql(range, stepMs));
  const total = result.rowCount;
  const pops: string[] = [];
  const functions: string[] = [];
  // Unsorted first, then one counting sort by bucket start.
  const sid = new Int32Array(total);
  const t = new Float64Array(total);
  const n = new Int32Array(total);
  const mean = new Float64Array(total);
  const p50 = new Float64Array(total);
  let k = 0;
  for (let ci = 0; ci < result.chunkCount; ci++) {
    const chunk = result.getChunk(ci);
    const cSid = chunk.getColumnVector(0);
    const cPop = chunk.getColumnVector(1);
    const cFn = chunk.getColumnVector(2);
    const cT = chunk.getColumnVector(3);
    const cN = chunk.getColumnVector(4);
    const cMean = chunk.getColumnVector(5);
    const cP50 = chunk.getColumnVector(6);
    const rows = chunk.rowCount; // a native call: once per chunk, not per row (profiled: ~7 % of the read)
    for (let i = 0; i < rows; i++) {
      const s = cSid.getItem(i) as number;
      const ti = cT.getItem(i) as number | null;
      if (ti === null) {
        pops[s] = cPop.getItem(i) as string;
        functions[s] = cFn.getItem(i) as string;
        continue;
      }
      sid[k] = s;
      t[k] = ti;
      n[k] = cN.getItem(i) as number;
      mean[k] = cMean.getItem(i) as number;
      p50[k] = cP50.getItem(i) as number;
      k++;
    }
  }
  return timeOrdered(pops, functions, k, stepMs, sid, t, n, mean, p50);
}
