/**
 * One rollup cell: count, sum, min and max (exact) and the sketch's bin counts, as
 * the InfluxDB rollup measurements keep them: numeric fields `n`, `sum`, `min`,
 * `max` and one string field `s` with the non-empty bins ("352:4,360:1").
 *
 * Why a string and not one integer field per bin, merged server-side with
 * `sum(/^b/)`: InfluxDB 1.6 does accept that, but it opens an iterator per field and
 * series, and a sketch has a few hundred bins: `sum(/^b/)` over three hours of 1 h
 * rollups for 500 series took 14 s, against 18 ms for `sum("n")` (bench/influx.ts
 * notes). Reading the rows and merging the bins here costs milliseconds.
 */
import { MEASUREMENT, TAG } from '@edgeworker/schema';
import { add, merge, quantiles, type Sketch } from '@edgeworker/sketch';
import type { AggregateStats } from '../metrics-store.ts';
import { quoteIdent } from './influx-client.ts';

export const ROLLUP_1M = `${MEASUREMENT}_rollup_1m`;
export const ROLLUP_10M = `${MEASUREMENT}_rollup_10m`;
export const ROLLUP_1H = `${MEASUREMENT}_rollup_1h`;
/**
 * The same per POP over all functions: what the heatmap and overview read when no
 * function is picked, five times fewer rows than the per-series measurements.
 */
export const ROLLUP_1M_POP = `${MEASUREMENT}_rollup_1m_pop`;
export const ROLLUP_10M_POP = `${MEASUREMENT}_rollup_10m_pop`;
export const ROLLUP_1H_POP = `${MEASUREMENT}_rollup_1h_pop`;
/** One point per keeper pass: how far the rollups are complete (see rollup-keeper.ts). */
export const ROLLUP_STATE = `${MEASUREMENT}_rollup_state`;

/**
 * The retention policies the rollups live in (rollup-retention.ts creates them with
 * RETENTION_1M and RETENTION_1H): the 1 min and 10 min levels and the keeper's state in
 * one, the 1 h level in the other. The state is beside the minutes, so rollups lost with
 * their policy (dropped, or another layout before) take the keeper's progress with them
 * and are rebuilt, never trusted.
 */
export const RP_1M = 'rollup_1m';
export const RP_1H = 'rollup_1h';
export const rpOf = (measurement: string) => (measurement === ROLLUP_1H || measurement === ROLLUP_1H_POP ? RP_1H : RP_1M);
/** A rollup measurement as InfluxQL names it: `"policy"."measurement"`. */
export const rollupFrom = (measurement: string) => `${quoteIdent(rpOf(measurement))}.${quoteIdent(measurement)}`;

export interface Agg {
  n: number;
  sum: number;
  min: number;
  max: number;
  bins: Sketch;
}

export const emptyAgg = (): Agg => ({ n: 0, sum: 0, min: Infinity, max: -Infinity, bins: new Map() });

export function addValue(a: Agg, v: number): void {
  a.n++;
  a.sum += v;
  if (v < a.min) a.min = v;
  if (v > a.max) a.max = v;
  add(a.bins, v);
}

export function mergeAgg(into: Agg, from: Agg): Agg {
  into.n += from.n;
  into.sum += from.sum;
  if (from.min < into.min) into.min = from.min;
  if (from.max > into.max) into.max = from.max;
  merge(into.bins, from.bins);
  return into;
}

const QS = [0.5, 0.95, 0.99] as const;

/** The port's statistics of a cell: mean exact, percentiles within the sketch's 1 %. */
export function statsOf(a: Agg): AggregateStats {
  if (a.n === 0) return { samples: 0, mean: null, p50: null, p95: null, p99: null };
  const [p50, p95, p99] = quantiles(a.bins, QS);
  return { samples: a.n, mean: a.sum / a.n, p50: p50 ?? null, p95: p95 ?? null, p99: p99 ?? null };
}

/** The fields every rollup read selects (raw rows; the bins merge here). */
export const ROLLUP_FIELDS = '"n", "sum", "min", "max", "s"';

export function encodeBins(bins: Sketch): string {
  const parts: string[] = [];
  for (const [b, c] of bins) if (c > 0) parts.push(`${b}:${c}`);
  return parts.join(',');
}

export function decodeBinsInto(into: Sketch, text: string): void {
  if (!text) return;
  for (const part of text.split(',')) {
    const i = part.indexOf(':');
    const b = Number(part.slice(0, i));
    const c = Number(part.slice(i + 1));
    if (Number.isInteger(b) && c > 0) into.set(b, (into.get(b) ?? 0) + c);
  }
}

/** Column positions of a ROLLUP_FIELDS answer. */
export function rollupColumns(columns: readonly string[]) {
  return { n: columns.indexOf('n'), sum: columns.indexOf('sum'), min: columns.indexOf('min'), max: columns.indexOf('max'), s: columns.indexOf('s') };
}

/** Adds one rollup row into a cell. */
export function addRow(into: Agg, cols: ReturnType<typeof rollupColumns>, row: readonly unknown[]): void {
  const n = row[cols.n];
  if (typeof n !== 'number' || n <= 0) return;
  into.n += n;
  into.sum += Number(row[cols.sum] ?? 0);
  const mi = Number(row[cols.min]);
  const ma = Number(row[cols.max]);
  if (mi < into.min) into.min = mi;
  if (ma > into.max) into.max = ma;
  const s = row[cols.s];
  if (typeof s === 'string') decodeBinsInto(into.bins, s);
}

/** Line-protocol tag value escaping (commas, spaces, equals signs). */
const tagValue = (v: string) => v.replace(/[,= \\]/g, (c) => `\\${c}`);

/** One rollup point in line protocol. */
/**
 * One rollup point in line protocol; written again, it replaces every field (the bins
 * are one field). `functionName` null: a POP's all-function point (the `_pop` measurements).
 */
export function aggLine(measurement: string, popCode: string, functionName: string | null, a: Agg, timeNs: bigint): string {
  const fn = functionName === null ? '' : `,${TAG.functionName}=${tagValue(functionName)}`;
  return `${measurement},${TAG.popCode}=${tagValue(popCode)}${fn} n=${a.n}i,sum=${a.sum},min=${a.min},max=${a.max},s="${encodeBins(a.bins)}" ${timeNs}`;
}

export const qi = quoteIdent;
