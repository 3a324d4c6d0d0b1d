/**
 * One rollup cell: count, sum, min and max (exact) and the sketch's bin counts, as
 * the InfluxDB rollup measurements keep them. Bins are integer fields named after
 * their index (`b352`, `bm4` for −4) so InfluxQL merges them server-side with
 * `sum(/^b/)` (supported by InfluxDB 1.x: the answer has one `sum_<field>` column per
 * bin field present in the shards read).
 */
import { MEASUREMENT, TAG } from '@edgeworker/schema';
import { add, merge, quantiles, type Sketch } from '@edgeworker/sketch';
import type { AggregateStats } from '../metrics-store.ts';
import { quoteIdent } from './influx-client.ts';

export const ROLLUP_1M = `${MEASUREMENT}_rollup_1m`;
export const ROLLUP_1H = `${MEASUREMENT}_rollup_1h`;
/** One point per keeper pass: how far the rollups are complete (see rollup-keeper.ts). */
export const ROLLUP_STATE = `${MEASUREMENT}_rollup_state`;

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

export const binField = (bin: number) => (bin < 0 ? `bm${-bin}` : `b${bin}`);

/** The bin of a field or `sum_<field>` column name; null for other columns. */
export function binOfField(name: string): number | null {
  const m = /^(?:sum_)?b(m?)(\d+)$/.exec(name);
  if (!m) return null;
  const v = Number(m[2]);
  return m[1] ? -v : v;
}

/** The aggregate columns every rollup read selects; `sum(/^b/)` adds one `sum_b…` column per bin. */
export const ROLLUP_SELECT = 'sum("n") AS "n", sum("sum") AS "sum", min("min") AS "min", max("max") AS "max", sum(/^b/)';

/** One row of a ROLLUP_SELECT answer as a cell. */
export function aggFromRow(columns: readonly string[], row: readonly unknown[]): Agg {
  const a = emptyAgg();
  for (let i = 0; i < columns.length; i++) {
    const v = row[i];
    if (typeof v !== 'number') continue;
    const c = columns[i]!;
    if (c === 'n') a.n = v;
    else if (c === 'sum') a.sum = v;
    else if (c === 'min') a.min = v;
    else if (c === 'max') a.max = v;
    else {
      const b = binOfField(c);
      if (b !== null && v > 0) a.bins.set(b, v);
    }
  }
  return a;
}

/** Line-protocol tag value escaping (commas, spaces, equals signs). */
const tagValue = (v: string) => v.replace(/[,= \\]/g, (c) => `\\${c}`);

/** One rollup point in line protocol. */
/**
 * `staleBins`: bins the point held before. InfluxDB merges the fields of a point
 * written again at the same series and time, so a bin the new version lacks must be
 * written as 0 or it would keep its old count.
 */
export function aggLine(measurement: string, popCode: string, functionName: string, a: Agg, timeNs: bigint, staleBins?: Iterable<number>): string {
  const fields = [`n=${a.n}i`, `sum=${a.sum}`, `min=${a.min}`, `max=${a.max}`];
  for (const [b, c] of a.bins) if (c > 0) fields.push(`${binField(b)}=${c}i`);
  for (const b of staleBins ?? []) if (!((a.bins.get(b) ?? 0) > 0)) fields.push(`${binField(b)}=0i`);
  return `${measurement},${TAG.popCode}=${tagValue(popCode)},${TAG.functionName}=${tagValue(functionName)} ${fields.join(',')} ${timeNs}`;
}

export const qi = quoteIdent;
