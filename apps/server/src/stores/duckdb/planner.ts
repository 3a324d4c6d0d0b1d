/**
 * The embedded store's query planner (docs/design/write-path-and-rollups.md,
 * "Embedded store" 5). Windows up to about an hour read raw rows (exact percentiles,
 * as before rollups). Longer windows read whole clean hours from rollup_1h, whole
 * clean minutes at the edges (and in hours with a dirty minute) from rollup_1m, and
 * the partial minutes at the very edges plus every dirty minute from raw rows. The
 * parts never overlap, so count, sum, min and max stay exact; percentiles come from
 * the merged sketch bins (within 1 %), clamped to the exact min and max.
 */
import { binValue } from '@edgeworker/sketch';
import type { AggregateStats, Resolution, SeriesFilter, TimeRange } from '../metrics-store.ts';
import { HOUR_NS, MINUTE_NS, SAMPLE_BIN } from './rollup-sql.ts';
import { num, type Row } from './rows.ts';

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
 * limits rollups to those whose buckets nest in the step.
 */
export function planRange(range: TimeRange, dirty: DirtyView, stepMs?: number): Plan {
  const raw: Plan = { resolution: 'raw', parts: [{ source: 'raw', fromNs: range.fromNs, toNs: range.toNs }] };
  if (range.toNs - range.fromNs <= RAW_MAX_SPAN_NS) return raw;
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

/** What a sketch query groups by: SQL over the time column `t` (a bucket expression or a plain column). */
export interface Grouping {
  /** Output names and their SQL; `$t` stands for the part's time column. */
  keys: Array<{ name: string; sql: string }>;
  /** Adds the all-keys-null total row (GROUPING SETS ((keys), ())). */
  total?: boolean;
}

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
 * One statement that answers a plan with rollups: exact n/sum/min/max per key and the
 * sketch quantile bins (p50, p95, p99) per key, read in the same snapshot. Columns:
 * the keys, n, sum, mn, mx, b50, b95, b99.
 */
export function sketchQuery(plan: Plan, grouping: Grouping, filter: SeriesFilter | undefined): string {
  const where = filterSql(filter);
  const keySel = (time: string) => grouping.keys.map((k) => `${k.sql.replaceAll('$t', time)} AS ${k.name}`).join(', ');
  const statsParts: string[] = [];
  const binParts: string[] = [];
  for (const p of plan.parts) {
    const { table, time } = TABLE[p.source];
    const w = `${time} >= ${p.fromNs} AND ${time} < ${p.toNs}${where}`;
    if (p.source === 'raw') {
      statsParts.push(`SELECT ${keySel(time)}, 1::BIGINT AS n, cold_start_time_ms AS s, cold_start_time_ms AS mn, cold_start_time_ms AS mx FROM ${table} WHERE ${w}`);
      binParts.push(`SELECT ${keySel(time)}, ${SAMPLE_BIN} AS b, 1 AS c FROM ${table} WHERE ${w}`);
    } else {
      statsParts.push(`SELECT ${keySel(time)}, n, sum AS s, min AS mn, max AS mx FROM ${table} WHERE ${w}`);
      binParts.push(`SELECT ${keySel(time)}, unnest(bins) AS b, unnest(counts) AS c FROM ${table} WHERE ${w}`);
    }
  }
  const keys = grouping.keys.map((k) => k.name);
  const k = keys.join(', ');
  const sets = grouping.total ? `GROUPING SETS ((${k}), ())` : k;
  const binSets = grouping.total ? `GROUPING SETS ((${k}, b), (b))` : `${k}, b`;
  const join = keys.map((n) => `st.${n} IS NOT DISTINCT FROM q.${n}`).join(' AND ');
  return `WITH st AS (
      SELECT ${k}, sum(n)::BIGINT AS n, sum(s) AS sum, min(mn) AS mn, max(mx) AS mx
      FROM (${statsParts.join('\n UNION ALL ')}) GROUP BY ${sets}
    ),
    bb AS (
      SELECT ${k}, b, sum(c) AS c FROM (${binParts.join('\n UNION ALL ')}) GROUP BY ${binSets}
    ),
    cu AS (
      SELECT ${k}, b, sum(c) OVER (PARTITION BY ${k} ORDER BY b ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum,
             sum(c) OVER (PARTITION BY ${k}) AS total
      FROM bb
    ),
    q AS (
      SELECT ${k},
        min(b) FILTER (WHERE cum > 0.5 * (total - 1)) AS b50,
        min(b) FILTER (WHERE cum > 0.95 * (total - 1)) AS b95,
        min(b) FILTER (WHERE cum > 0.99 * (total - 1)) AS b99
      FROM cu GROUP BY ${k}
    )
    SELECT st.*, q.b50, q.b95, q.b99 FROM st LEFT JOIN q ON ${join}`;
}

/** A sketch row (n, sum, mn, mx, b50, b95, b99) as the port's statistics; quantiles clamped to the exact min and max. */
export function sketchStats(r: Row): AggregateStats {
  const samples = num(r.n) ?? 0;
  if (samples === 0) return { samples: 0, mean: null, p50: null, p95: null, p99: null };
  const mn = num(r.mn) ?? -Infinity;
  const mx = num(r.mx) ?? Infinity;
  const q = (b: unknown) => {
    const bin = num(b);
    return bin === null ? null : Math.min(mx, Math.max(mn, binValue(bin)));
  };
  return { samples, mean: (num(r.sum) ?? 0) / samples, p50: q(r.b50), p95: q(r.b95), p99: q(r.b99) };
}
