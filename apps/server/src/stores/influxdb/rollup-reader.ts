/**
 * Answers a planned range (planner.ts): one statement per segment, rollup rows and raw edge values merged into the same cells here
 * (see rollup-agg.ts for why the bins are not merged server-side). Cells are keyed by one tag (or none) and
 * by bucket start when a step is given.
 */
import { FIELD, MEASUREMENT, TAG } from '@edgeworker/schema';
import type { SeriesFilter } from '../metrics-store.ts';
import type { InfluxClient } from './influx-client.ts';
import { whereClause } from './influxql.ts';
import type { Segment } from './planner.ts';
import { addRow, addValue, emptyAgg, qi, rollupFrom, ROLLUP_10M, ROLLUP_10M_POP, ROLLUP_1H, ROLLUP_1H_POP, ROLLUP_1M, ROLLUP_1M_POP, ROLLUP_FIELDS, rollupColumns, type Agg } from './rollup-agg.ts';

export interface Cell {
  /** The grouped tag's value ('' without grouping). */
  key: string;
  /** Bucket start in epoch ms (0 without a step). */
  startMs: number;
  agg: Agg;
}

export interface PlannedRead {
  filter?: SeriesFilter | undefined;
  /** Tag to group by, or none for one cell (per bucket). */
  groupBy?: typeof TAG.popCode | typeof TAG.functionName | undefined;
  stepMs?: number | undefined;
}

const TABLE = { '1m': ROLLUP_1M, '10m': ROLLUP_10M, '1h': ROLLUP_1H } as const;
const POP_TABLE = { '1m': ROLLUP_1M_POP, '10m': ROLLUP_10M_POP, '1h': ROLLUP_1H_POP } as const;

export function statementFor(seg: Segment, read: PlannedRead): string {
  const where = whereClause(seg, read.filter);
  const group = read.groupBy ? ` GROUP BY ${qi(read.groupBy)}` : '';
  if (seg.resolution === 'raw') return `SELECT ${qi(FIELD.coldStartTimeMs)} AS v FROM ${qi(MEASUREMENT)} WHERE ${where}${group}`;
  // No function asked for or grouped by: the per-POP points answer with a fifth of the rows.
  const perPop = !read.filter?.functionName && read.groupBy !== TAG.functionName;
  return `SELECT ${ROLLUP_FIELDS} FROM ${rollupFrom((perPop ? POP_TABLE : TABLE)[seg.resolution])} WHERE ${where}${group}`;
}

export async function readPlanned(client: InfluxClient, segs: readonly Segment[], read: PlannedRead): Promise<Cell[]> {
  // One request per segment, in parallel: influxd runs the statements of one request one
  // after the other, but separate requests side by side (measured: about half the wall time).
  const results = await Promise.all(segs.map(async (s) => (await client.query([statementFor(s, read)]))[0]));
  const cells = new Map<string, Cell>();
  const cell = (key: string, startMs: number) => {
    const id = `${key}\u0000${startMs}`;
    let c = cells.get(id);
    if (!c) cells.set(id, (c = { key, startMs, agg: emptyAgg() }));
    return c;
  };
  const step = read.stepMs;
  segs.forEach((seg, i) => {
    for (const s of results[i] ?? []) {
      const key = read.groupBy ? (s.tags?.[read.groupBy] ?? '') : '';
      // Without a step, one cell per key: look it up once, not per row.
      const only = step ? undefined : cell(key, 0).agg;
      const at = (t: number) => only ?? cell(key, Math.floor(t / step!) * step!).agg;
      if (seg.resolution === 'raw') {
        const iv = s.columns.indexOf('v');
        for (const row of s.values) {
          const v = row[iv];
          if (typeof v === 'number') addValue(at(Number(row[0])), v);
        }
      } else {
        const cols = rollupColumns(s.columns);
        // A rollup period never straddles a bucket: the planner uses 1 min / 1 h only for steps that are multiples.
        for (const row of s.values) addRow(at(Number(row[0])), cols, row);
      }
    }
  });
  return [...cells.values()];
}

/** Count and sum per (POP, function) of one segment, summed by InfluxDB itself: no sketch leaves the server. */
export function meansStatementFor(seg: Segment, filter: SeriesFilter | undefined): string {
  const where = whereClause(seg, filter);
  const group = ` GROUP BY ${qi(TAG.popCode)}, ${qi(TAG.functionName)}`;
  if (seg.resolution === 'raw') {
    return `SELECT count(${qi(FIELD.coldStartTimeMs)}) AS n, sum(${qi(FIELD.coldStartTimeMs)}) AS s FROM ${qi(MEASUREMENT)} WHERE ${where}${group}`;
  }
  return `SELECT sum("n") AS n, sum("sum") AS s FROM ${rollupFrom(TABLE[seg.resolution])} WHERE ${where}${group}`;
}

/** Every series' count and mean over the planned segments (POP statuses): one small row per series and segment. */
export async function readMeans(client: InfluxClient, segs: readonly Segment[], filter: SeriesFilter | undefined) {
  const results = await Promise.all(segs.map(async (s) => (await client.query([meansStatementFor(s, filter)]))[0]));
  const acc = new Map<string, { popCode: string; functionName: string; n: number; sum: number }>();
  for (const series of results) {
    for (const s of series ?? []) {
      const row = s.values[0];
      const n = Number(row?.[s.columns.indexOf('n')] ?? 0);
      if (!row || !(n > 0)) continue;
      const popCode = s.tags?.[TAG.popCode] ?? '';
      const functionName = s.tags?.[TAG.functionName] ?? '';
      const id = `${popCode}\u0000${functionName}`;
      const a = acc.get(id) ?? { popCode, functionName, n: 0, sum: 0 };
      a.n += n;
      a.sum += Number(row[s.columns.indexOf('s')] ?? 0);
      acc.set(id, a);
    }
  }
  return [...acc.values()].map((a) => ({ popCode: a.popCode, functionName: a.functionName, samples: a.n, mean: a.sum / a.n }));
}
