/**
 * The raw-row read of `seriesBuckets` (the detector's per-series buckets), read straight
 * from DuckDB's data chunks into typed arrays and bucketed here.
 *
 * Why: profiled on a re-derive (2,115 series, 10 s buckets) turning the rows into row objects
 * (`getRowObjectsJS`, two strings and a bigint per row) was most of the read (issue 13,
 * docs/notes/detector-read.md), and then DuckDB's hash aggregate over one window per (POP,
 * function, 10 s) (docs/notes/first-pass-2.md). Here the answers are the same numbers as
 * count, avg and quantile_cont(0.5) per (POP, function, bucket) (bucketSamples), but:
 *   - DuckDB returns the samples themselves (with the step at the sample cadence a window
 *     holds about one), each with its bucket start as a DOUBLE of epoch ms (no bigint per row);
 *   - the two strings of a series leave it once per series, not once per sample: each series
 *     gets a small integer id, its names come as one extra row with a NULL time (a NULL
 *     VARCHAR costs a validity check, no decode).
 * The buckets come back in time order (a counting sort on the aligned bucket start), which
 * is what the detector's engine.ingestColumns takes.
 */
import { DuckDBMaterializedResult, type DuckDBResult } from '@duckdb/node-api';
import type { SeriesBucketsOptions, TimeRange } from '../metrics-store.ts';
import { bucketSamples, type TypedSeriesBucketColumns } from '../series-bucket-columns.ts';

/** Runs one statement on the store's reader connection (inside its read queue). */
export type RunStatement = (sql: string) => Promise<DuckDBResult>;


/**
 * A POP code as an SQL string expression: the codes come from clients (line protocol tags, the
 * bus), so any character may be in one. A quote is doubled (DuckDB's strings have no other
 * escape); a NUL would end the statement's text early, so it goes in as chr(0).
 */
export function sqlString(s: string): string {
  return s.split('\0').map((part) => `'${part.replaceAll("'", "''")}'`).join(' || chr(0) || ');
}

/**
 * Literal bounds, not $parameters: measured ~2x slower with parameters (the range filter is
 * planned without its values).
 *
 * Raw samples, not windows: with the step at the sample cadence nearly every window holds one
 * sample, and DuckDB's hash aggregate over as many groups as rows (count, avg, min, max and a
 * median per window, keyed by two strings) was ~80 % of the statement (EXPLAIN ANALYZE, a
 * 5-min slice at 2,115 series: 55 ms, against 12 ms for the same samples with an integer
 * series id; issue 13, docs/notes/first-pass-2.md). The samples are bucketed here (bucketSamples).
 * Each series gets a small integer id from the distinct names of the range (a hash join
 * against 2,115 rows, cheap); its names come as one extra row with a NULL time (a NULL
 * VARCHAR costs a validity check, no decode). The bucket start leaves DuckDB as a DOUBLE of
 * epoch ms: `time_ns // step` floors like the statement it replaced.
 */
export const seriesBucketsSql = (range: TimeRange, stepMs: number, pops?: readonly string[]) => {
  const inRange = `time_ns >= ${BigInt(range.fromNs)} AND time_ns < ${BigInt(range.toNs)}${pops ? ` AND pop_code IN (${pops.map(sqlString).join(', ')})` : ''}`;
  return `
  WITH s AS (
    SELECT pop_code, function_name, (row_number() OVER () - 1)::INTEGER AS sid
    FROM (SELECT DISTINCT pop_code, function_name FROM cold_start_metrics WHERE ${inRange})
  )
  SELECT sid, pop_code, function_name, NULL::DOUBLE AS t, NULL::DOUBLE AS v FROM s
  UNION ALL
  SELECT sid, NULL, NULL, ((time_ns // ${BigInt(stepMs) * 1_000_000n}) * ${stepMs})::DOUBLE, cold_start_time_ms
  FROM cold_start_metrics JOIN s USING (pop_code, function_name) WHERE ${inRange}`;
};

/**
 * Every (POP, function) series bucketed by stepMs over range, from raw rows, as columns.
 *
 * `run` may return a streaming result (the store's does): its chunks are fetched one at a
 * time and each is garbage once decoded. A materialized result keeps every chunk in native
 * memory, outside DuckDB's memory_limit and unseen by V8, until V8 happens to collect its
 * wrapper; a re-derive's slices (~0.9M rows each at 10,000 series) piled up as hundreds of
 * MiB of RSS until the next full GC (docs/notes/rss-4.md).
 */
export async function readSeriesBucketColumns(run: RunStatement, range: TimeRange, stepMs: number, opts: SeriesBucketsOptions = {}): Promise<TypedSeriesBucketColumns> {
  if (!Number.isInteger(stepMs) || stepMs <= 0) throw new Error(`seriesBuckets: the step must be a whole number of ms > 0, got ${stepMs}`);
  if (opts.pops?.length === 0) return bucketSamples([], [], 0, stepMs, new Int32Array(0), new Float64Array(0), new Float64Array(0));
  const result = await run(seriesBucketsSql(range, stepMs, opts.pops));
  const pops: string[] = [];
  const functions: string[] = [];
  // Sized by the row count when the result knows it (materialized), else grown by doubling.
  let cap = result instanceof DuckDBMaterializedResult ? result.rowCount : 1 << 16;
  let sid = new Int32Array(cap);
  let t = new Float64Array(cap);
  let v = new Float64Array(cap);
  let k = 0;
  // Each chunk is awaited, so the event loop gets a turn between chunks (2,048 rows): a
  // re-derive's slice at 10,000 series is ~900k rows, 0.1-0.3 s of decoding on the JS thread,
  // which HTTP waited behind when the chunks were decoded in one block.
  for (let chunk = await result.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    const cSid = chunk.getColumnVector(0);
    const cPop = chunk.getColumnVector(1);
    const cFn = chunk.getColumnVector(2);
    const cT = chunk.getColumnVector(3);
    const cV = chunk.getColumnVector(4);
    const rows = chunk.rowCount; // a native call: once per chunk, not per row (profiled: ~7 % of the read)
    if (k + rows > cap) {
      cap = Math.max(2 * cap, k + rows);
      sid = grow(sid, new Int32Array(cap), k);
      t = grow(t, new Float64Array(cap), k);
      v = grow(v, new Float64Array(cap), k);
    }
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
      v[k] = cV.getItem(i) as number;
      k++;
    }
  }
  return bucketSamples(pops, functions, k, stepMs, sid, t, v);
}

function grow<A extends Int32Array | Float64Array>(from: A, to: A, n: number): A {
  to.set(from.subarray(0, n));
  return to;
}
