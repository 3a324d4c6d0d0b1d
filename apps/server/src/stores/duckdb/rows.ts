/** Converts DuckDB result rows (BIGINT as bigint, quantile lists as arrays) to the port's types. */
import type { AggregateStats } from '../metrics-store.ts';

export type Row = Record<string, unknown>;

export function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'bigint' ? Number(v) : Number(v);
  return Number.isFinite(n) ? n : null;
}

/** Expects columns n (count), mean, q ([p50, p95, p99]). */
export function toStats(row: Row): AggregateStats {
  const samples = num(row.n) ?? 0;
  const q = Array.isArray(row.q) ? row.q : [];
  if (samples === 0) return { samples: 0, mean: null, p50: null, p95: null, p99: null };
  return { samples, mean: num(row.mean), p50: num(q[0]), p95: num(q[1]), p99: num(q[2]) };
}

export const STATS_COLUMNS = `count(*) AS n, avg(cold_start_time_ms) AS mean,
  quantile_cont(cold_start_time_ms, [0.5, 0.95, 0.99]) AS q`;
