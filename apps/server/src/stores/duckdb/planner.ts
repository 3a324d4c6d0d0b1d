/**
 * The embedded store's query planner (docs/design/write-path-and-rollups.md,
 * "Embedded store" 5). Windows up to about an hour read raw rows (exact percentiles,
 * as before rollups). Longer windows read whole clean hours from rollup_1h, whole
 * clean minutes at the edges (and in hours with a dirty minute) from rollup_1m, and
 * the partial minutes at the very edges plus every dirty minute from raw rows. The
 * parts never overlap, so count, sum, min and max stay exact; percentiles come from
 * the merged sketch bins (within 1 %), clamped to the exact min and max.
 */
import { BIN_SQL, binValue } from '@edgeworker/sketch';
import type { AggregateStats, Resolution, SeriesFilter, TimeRange } from '../metrics-store.ts';
import { HOUR_NS, MINUTE_NS, SAMPLE_BIN } from './rollup-sql.ts';

export type Source = 'raw' | '1m' | '1h';
export interface Part {
  source: Source;
  fromNs: bigint;
  toNs: bigint;
}
export interface Plan {
  resolution: Resolution;
  parts: Part[];
}

/** Windows up to this read raw rows only (an hour, plus the slack of "the last hour" ending a millisecond after now). */
export const RAW_MAX_SPAN_NS = HOUR_NS + MINUTE_NS;
/** More parts than this (a backfill still being rolled up leaves holes everywhere): read raw rows, exact and correct. */
const MAX_PARTS = 48;

export interface DirtyView {
  minutes: ReadonlySet<number>;
  hours: ReadonlyMap<number, number>;
}

const ceilDiv = (a: bigint, b: bigint) => (a >= 0n ? (a + b - 1n) / b : -((-a) / b));
const floorDiv = (a: bigint, b: bigint) => (a >= 0n ? a / b : -((-a + b - 1n) / b));

/**
 * Which source answers which part of [fromNs, toNs). `stepMs`, for bucketed answers,
 * limits rollups to those whose buckets nest in the step. `rawMaxSpanNs`: windows up to
 * this read raw rows only (default RAW_MAX_SPAN_NS, for exact percentiles; counts and sums
 * are exact from the rollups at any span).
 */
export function planRange(range: TimeRange, dirty: DirtyView, stepMs?: number, opts: { rawMaxSpanNs?: bigint } = {}): Plan {
  const raw: Plan = { resolution: 'raw', parts: [{ source: 'raw', fromNs: range.fromNs, toNs: range.toNs }] };
  if (range.toNs - range.fromNs <= (opts.rawMaxSpanNs ?? RAW_MAX_SPAN_NS)) return raw;
  const allow1m = stepMs === undefined || stepMs % 60_000 === 0;
  const allow1h = stepMs === undefined || stepMs % 3_600_000 === 0;
  if (!allow1m) return raw;
  const m0 = Number(ceilDiv(range.fromNs, MINUTE_NS));
  const m1 = Number(floorDiv(range.toNs, MINUTE_NS));
  if (m1 <= m0) return raw;

  const parts: Part[] = [];
  const push = (source: Source, fromNs: bigint, toNs: bigint) => {
    if (toNs <= fromNs) return;
    const last = parts[parts.length - 1];
    if (last && last.source === source && last.toNs === fromNs) last.toNs = toNs;
    else parts.push({ source, fromNs, toNs });
  };
  const minute = (m: number) => push(dirty.minutes.has(m) ? 'raw' : '1m', BigInt(m) * MINUTE_NS, BigInt(m + 1) * MINUTE_NS);

  push('raw', range.fromNs, BigInt(m0) * MINUTE_NS);
  const h0 = Math.ceil(m0 / 60);
  const h1 = Math.floor(m1 / 60);
  if (allow1h && h1 > h0) {
    for (let m = m0; m < h0 * 60; m++) minute(m);
    for (let h = h0; h < h1; h++) {
      if (dirty.hours.has(h)) for (let m = h * 60; m < (h + 1) * 60; m++) minute(m);
      else push('1h', BigInt(h) * HOUR_NS, BigInt(h + 1) * HOUR_NS);
      if (parts.length > MAX_PARTS) return raw;
    }
    for (let m = h1 * 60; m < m1; m++) minute(m);
  } else {
    for (let m = m0; m < m1; m++) {
      minute(m);
      if (parts.length > MAX_PARTS) return raw;
    }
  }
  push('raw', BigInt(m1) * MINUTE_NS, range.toNs);
  if (parts.length > MAX_PARTS) return raw;
  const resolution: Resolution = parts.some((p) => p.source === '1h') ? '1h' : parts.some((p) => p.source === '1m') ? '1m' : 'raw';
  return { resolution, parts };
}

/** What a sketch query groups by: output names and their SQL, where `$t` stands for the part's time column. */
export type Keys = Array<{ name: string; sql: string }>;

const TABLE: Record<Source, { table: string; time: string }> = {
  raw: { table: 'cold_start_metrics', time: 'time_ns' },
  '1m': { table: 'rollup_1m', time: 't_ns' },
  '1h': { table: 'rollup_1h', time: 't_ns' },
};

function filterSql(filter: SeriesFilter | undefined): string {
  let sql = '';
  if (filter?.functionName !== undefined) sql += ' AND function_name = $fn';
  if (filter?.popCode !== undefined) sql += ' AND pop_code = $pop';
  return sql;
}

export function filterParams(filter: SeriesFilter | undefined): Record<string, string> {
  const p: Record<string, string> = {};
  if (filter?.functionName !== undefined) p.fn = filter.functionName;
  if (filter?.popCode !== undefined) p.pop = filter.popCode;
  return p;
}

/**
 * The two statements that answer a plan with rollups (run in one read transaction):
 * `stats` gives exact n/sum/min/max per key; `bins` gives the merged sketch per key
 * as (key…, b, c) rows. Quantiles are read from the bins in JS (`combine`): EXPLAIN
 * ANALYZE showed a window function (cumulative sums per key) and GROUPING SETS for the
 * total costing more than the unnest and the merge themselves.
 */
export function sketchStatements(plan: Plan, keys: Keys, filter: SeriesFilter | undefined, keyedBins = true): { stats: string; bins: string } {
  const where = filterSql(filter);
  const keySel = (time: string) => keys.map((k) => `${k.sql.replaceAll('$t', time)} AS ${k.name}, `).join('');
  // Over every function (no function filter, no function key): whole hours come from the per-POP table
  // (one POP's series and detail too: half the bin-list entries of its per-function hours).
  const perPop = filter?.functionName === undefined && keys.every((k) => !k.sql.includes('function_name'));
  const statsParts: string[] = [];
  const binParts: string[] = [];
  for (const p of plan.parts) {
    const { table: perFunction, time } = TABLE[p.source];
    const table = perPop && p.source === '1h' ? 'rollup_pop_1h' : perFunction;
    const w = `${time} >= ${p.fromNs} AND ${time} < ${p.toNs}${where}`;
    const binKeys = keyedBins ? keySel(time) : '';
    if (p.source === 'raw') {
      statsParts.push(`SELECT ${keySel(time)}1::BIGINT AS n, cold_start_time_ms AS s, cold_start_time_ms AS mn, cold_start_time_ms AS mx FROM ${table} WHERE ${w}`);
      binParts.push(`SELECT ${binKeys}${SAMPLE_BIN} AS b, 1 AS c FROM ${table} WHERE ${w}`);
    } else {
      statsParts.push(`SELECT ${keySel(time)}n, sum AS s, min AS mn, max AS mx FROM ${table} WHERE ${w}`);
      binParts.push(`SELECT ${binKeys}unnest(bins) AS b, unnest(counts) AS c FROM ${table} WHERE ${w}`);
    }
  }
  const k = keys.map((x) => x.name).join(', ');
  const stats = `SELECT ${k}, sum(n)::DOUBLE AS n, sum(s) AS sum, min(mn) AS mn, max(mx) AS mx FROM (${statsParts.join('\n UNION ALL ')}) GROUP BY ${k}`;
  if (!keyedBins) {
    // Only the total's quantiles: one small hash table keyed by the bin alone instead of one entry per (key, bin).
    return {
      stats,
      bins: `SELECT list(b) AS bs, list(c) AS cs FROM (
          SELECT b, sum(c)::DOUBLE AS c FROM (${binParts.join('\n UNION ALL ')}) GROUP BY b
        )`,
    };
  }
  return {
    stats,
    // One row per key with its merged bins as two lists: far fewer values to hand to JS than a row per (key, bin).
    // Unordered: an ordered aggregate sorts per group and cost seconds with tens of thousands of keys; JS sorts instead.
    bins: `SELECT ${k}, list(b) AS bs, list(c) AS cs FROM (
        SELECT ${k}, b, sum(c)::DOUBLE AS c FROM (${binParts.join('\n UNION ALL ')}) GROUP BY ${k}, b
      ) GROUP BY ${k}`,
  };
}

/**
 * Raw parts only (one POP's partial edge minutes and dirty minutes), in one statement: per
 * key, exact n/sum/min/max and the merged bins as lists. One round trip on the reader
 * instead of a transaction of two statements: for a few hundred rows the round trips, not
 * the scan, were the cost (the drill-down's series from memory spent 60 % of its time there).
 */
export function rawSketchStatement(parts: readonly Part[], key: Keys[number], filter: SeriesFilter | undefined): string {
  const where = filterSql(filter);
  const rows = parts.map((p) => `SELECT ${key.sql.replaceAll('$t', 'time_ns')} AS ${key.name}, cold_start_time_ms AS v
      FROM cold_start_metrics WHERE time_ns >= ${p.fromNs} AND time_ns < ${p.toNs}${where}`);
  return `SELECT ${key.name}, sum(c)::DOUBLE AS n, sum(s) AS sum, min(mn) AS mn, max(mx) AS mx, list(b) AS bs, list(c::DOUBLE) AS cs FROM (
      SELECT ${key.name}, LEAST(${BIN_SQL('v')}, 32767)::SMALLINT AS b, count(*) AS c, sum(v) AS s, min(v) AS mn, max(v) AS mx
      FROM (${rows.join('\n UNION ALL ')}) GROUP BY ALL
    ) GROUP BY ${key.name}`;
}

/**
 * Per series, count and sum of the plan's raw parts (partial edge minutes, dirty minutes), as
 * rows of (blk, pop_code, function_name, n, s) for series-blocks.ts; null when it has none.
 */
export function rawSeriesSumsStatement(parts: readonly Part[], filter: SeriesFilter | undefined): string | null {
  const raw = parts.filter((p) => p.source === 'raw');
  if (raw.length === 0) return null;
  const where = filterSql(filter);
  // One SELECT per part (UNION ALL): each keeps its time range for the zone maps, which an OR of ranges may not.
  const rows = raw.map((p) => `SELECT pop_code, function_name, cold_start_time_ms AS v FROM cold_start_metrics
      WHERE time_ns >= ${p.fromNs} AND time_ns < ${p.toNs}${where}`);
  return `SELECT 0 AS blk, pop_code, function_name, count(*)::DOUBLE AS n, sum(v) AS s FROM (${rows.join('\n UNION ALL ')}) GROUP BY pop_code, function_name`;
}

export interface KeyedStats {
  keys: unknown[];
  stats: AggregateStats;
}

/**
 * Joins the two results by key: statistics per key, quantiles from its merged bins
 * (the bin holding rank q·(n−1), as packages/sketch reads them) clamped to the exact
 * min and max; with `total`, the same over every key.
 */
export function combine(
  stats: Record<string, unknown[]>,
  bins: Record<string, unknown[]>,
  keyNames: string[],
  total = false,
): { rows: KeyedStats[]; total: AggregateStats | null } {
  const keyOf = (cols: Record<string, unknown[]>, i: number) => keyNames.map((k) => String(cols[k]![i])).join('\u0000');
  const perKey = new Map<string, number>();
  const bs = (bins.bs ?? []) as number[][];
  const cs = (bins.cs ?? []) as number[][];
  // Bins of the total only (sketchStatements with keyedBins false): one row, no key columns.
  // Per-key percentiles are then null, as SummarizeOptions.popQuantiles documents.
  const totalOnly = !(keyNames[0]! in bins);
  // The total's bins, dense: bins run from ZERO_BIN (-1000) to 32767.
  const all = total ? new Float64Array(33_768 + 1000) : null;
  for (let i = 0; i < bs.length; i++) {
    if (all) {
      const b = bs[i]!;
      const c = cs[i]!;
      for (let j = 0; j < b.length; j++) all[b[j]! + 1000]! += c[j]!;
    }
    if (!totalOnly) perKey.set(keyOf(bins, i), i);
  }
  const rows: KeyedStats[] = [];
  const n = stats.n ?? [];
  let tn = 0;
  let tsum = 0;
  let tmin = Infinity;
  let tmax = -Infinity;
  for (let i = 0; i < n.length; i++) {
    const st = { n: Number(n[i]), sum: Number(stats.sum![i]), mn: Number(stats.mn![i]), mx: Number(stats.mx![i]) };
    tn += st.n;
    tsum += st.sum;
    tmin = Math.min(tmin, st.mn);
    tmax = Math.max(tmax, st.mx);
    rows.push({ keys: keyNames.map((k) => stats[k]![i]), stats: quantiled(st, perKey.get(keyOf(stats, i))) });
  }
  function quantiled(st: { n: number; sum: number; mn: number; mx: number }, i: number | undefined) {
    if (i === undefined) return toStats(st, [], []);
    const [b, c] = sortedBins(bs[i]!, cs[i]!);
    return toStats(st, b, c);
  }
  let totalStats: AggregateStats | null = null;
  if (all) {
    const b: number[] = [];
    const c: number[] = [];
    for (let j = 0; j < all.length; j++) if (all[j]! > 0) (b.push(j - 1000), c.push(all[j]!));
    totalStats = toStats({ n: tn, sum: tsum, mn: tmin, mx: tmax }, b, c);
  }
  return { rows, total: totalStats };
}

const QS = [0.5, 0.95, 0.99] as const;

/** Bins ascending with their counts (the lists come unordered from SQL): a counting pass over the bins' range, no comparison sort. */
function sortedBins(bins: number[], counts: number[]): [number[], number[]] {
  let lo = Infinity;
  let hi = -Infinity;
  let sorted = true;
  for (let j = 0; j < bins.length; j++) {
    const b = bins[j]!;
    if (b < lo) lo = b;
    if (b > hi) hi = b;
    if (j > 0 && bins[j - 1]! >= b) sorted = false;
  }
  if (sorted) return [bins, counts];
  const dense = new Float64Array(hi - lo + 1);
  for (let j = 0; j < bins.length; j++) dense[bins[j]! - lo]! += counts[j]!;
  const b: number[] = [];
  const c: number[] = [];
  for (let j = 0; j < dense.length; j++) if (dense[j]! > 0) (b.push(j + lo), c.push(dense[j]!));
  return [b, c];
}

/** `bins` ascending, `counts` beside them. */
function toStats(st: { n: number; sum: number; mn: number; mx: number }, bins: readonly number[], counts: readonly number[]): AggregateStats {
  if (!(st.n > 0)) return { samples: 0, mean: null, p50: null, p95: null, p99: null };
  let count = 0;
  for (const c of counts) count += c;
  const out: (number | null)[] = [];
  let seen = 0;
  let j = 0;
  for (const q of QS) {
    const rank = q * (count - 1);
    while (j < bins.length && seen + counts[j]! <= rank) seen += counts[j++]!;
    const bin = bins[Math.min(j, bins.length - 1)];
    out.push(bin === undefined ? null : Math.min(st.mx, Math.max(st.mn, binValue(bin))));
  }
  return { samples: st.n, mean: st.sum / st.n, p50: out[0]!, p95: out[1]!, p99: out[2]! };
}
