/**
 * The InfluxQL statements the InfluxDB store runs. Every statement names its
 * measurement, field and an explicit half-open time range, so each API call is one
 * bounded query (the seed's "simplify queries" promise).
 *
 * Percentiles: MEDIAN() is exact (the mean of the two middle values, as DuckDB's
 * quantile_cont at 0.5); PERCENTILE(f, N) is nearest-rank, so p95 and p99 can differ
 * from the continuous definition by up to the gap between two neighbouring samples.
 */
import { FIELD, MEASUREMENT, TAG } from '@edgeworker/schema';
import type { SeriesFilter, TimeRange } from '../metrics-store.ts';
import { quoteIdent, quoteString } from './influx-client.ts';

/**
 * Relative tolerance of p95/p99 against the continuous definition (DuckDB's) that
 * the contract and comparison tests allow: nearest-rank lands on a neighbouring sample.
 */
export const INFLUX_PERCENTILE_TOLERANCE = 0.05;

const M = quoteIdent(MEASUREMENT);
const V = quoteIdent(FIELD.coldStartTimeMs);
export const STATS = `count(${V}) AS n, mean(${V}) AS mean, median(${V}) AS p50, percentile(${V}, 95) AS p95, percentile(${V}, 99) AS p99`;

export function whereClause(range: TimeRange, filter?: SeriesFilter): string {
  return [`time >= ${range.fromNs}`, `time < ${range.toNs}`, ...tagConditions(filter)].join(' AND ');
}

/** The filter's tag conditions, to AND with a time condition. */
export function tagConditions(filter?: SeriesFilter): string[] {
  const parts: string[] = [];
  if (filter?.functionName) parts.push(`${quoteIdent(TAG.functionName)} = ${quoteString(filter.functionName)}`);
  if (filter?.popCode) parts.push(`${quoteIdent(TAG.popCode)} = ${quoteString(filter.popCode)}`);
  return parts;
}

/** ` AND (pop_code = 'A' OR ...)` for a POP filter (empty without one): one quoted equality per POP (the codes come from clients). */
export function popCondition(pops?: readonly string[]): string {
  if (!pops) return '';
  return ` AND (${pops.map((p) => `${quoteIdent(TAG.popCode)} = ${quoteString(p)}`).join(' OR ')})`;
}

export const q = {
  overall: (range: TimeRange, filter?: SeriesFilter) => `SELECT ${STATS} FROM ${M} WHERE ${whereClause(range, filter)}`,
  byPop: (range: TimeRange, filter?: SeriesFilter) =>
    `SELECT ${STATS} FROM ${M} WHERE ${whereClause(range, filter)} GROUP BY ${quoteIdent(TAG.popCode)}`,
  byFunction: (popCode: string, range: TimeRange) =>
    `SELECT ${STATS} FROM ${M} WHERE ${whereClause(range, { popCode })} GROUP BY ${quoteIdent(TAG.functionName)}`,
  // GROUP BY time() buckets are aligned to the epoch, like the port asks.
  timeseries: (popCode: string, range: TimeRange, stepMs: number, filter?: SeriesFilter) =>
    `SELECT ${STATS} FROM ${M} WHERE ${whereClause(range, { ...filter, popCode })} GROUP BY time(${stepMs}ms) fill(none)`,
  seriesBuckets: (range: TimeRange, stepMs: number, pops?: readonly string[]) =>
    `SELECT count(${V}) AS n, mean(${V}) AS mean, median(${V}) AS p50 FROM ${M} WHERE ${whereClause(range)}${popCondition(pops)} ` +
    `GROUP BY time(${stepMs}ms), ${quoteIdent(TAG.popCode)}, ${quoteIdent(TAG.functionName)} fill(none)`,
  functions: () => `SHOW TAG VALUES FROM ${M} WITH KEY = ${quoteIdent(TAG.functionName)}`,
  /** The newest sample; `sinceNs` bounds the scan to recent shards when set. */
  latest: (sinceNs?: bigint) => `SELECT last(${V}) FROM ${M}${sinceNs === undefined ? '' : ` WHERE time >= ${sinceNs}`}`,
};
