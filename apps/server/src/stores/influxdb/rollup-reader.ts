/**
 * Answers a planned range (planner.ts) in one request to InfluxDB: one statement
 * per segment, rollup segments merged server-side (`sum(/^b/)`), raw edges read as
 * values and added to the same cells here. Cells are keyed by one tag (or none) and
 * by bucket start when a step is given.
 */
import { FIELD, MEASUREMENT, TAG } from '@edgeworker/schema';
import type { SeriesFilter } from '../metrics-store.ts';
import type { InfluxClient } from './influx-client.ts';
import { whereClause } from './influxql.ts';
import type { Segment } from './planner.ts';
import { addValue, aggFromRow, emptyAgg, mergeAgg, qi, ROLLUP_1H, ROLLUP_1M, ROLLUP_SELECT, type Agg } from './rollup-agg.ts';

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

const TABLE = { '1m': ROLLUP_1M, '1h': ROLLUP_1H } as const;

export function statementFor(seg: Segment, read: PlannedRead): string {
  const where = whereClause(seg, read.filter);
  const groups = [...(read.stepMs ? [`time(${read.stepMs}ms)`] : []), ...(read.groupBy ? [qi(read.groupBy)] : [])];
  if (seg.resolution === 'raw') {
    return `SELECT ${qi(FIELD.coldStartTimeMs)} AS v FROM ${qi(MEASUREMENT)} WHERE ${where}${read.groupBy ? ` GROUP BY ${qi(read.groupBy)}` : ''}`;
  }
  return `SELECT ${ROLLUP_SELECT} FROM ${qi(TABLE[seg.resolution])} WHERE ${where}${groups.length ? ` GROUP BY ${groups.join(', ')}` : ''}${read.stepMs ? ' fill(none)' : ''}`;
}

export async function readPlanned(client: InfluxClient, segs: readonly Segment[], read: PlannedRead): Promise<Cell[]> {
  const results = await client.query(segs.map((s) => statementFor(s, read)));
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
      if (seg.resolution === 'raw') {
        const iv = s.columns.indexOf('v');
        for (const row of s.values) {
          const v = row[iv];
          if (typeof v !== 'number') continue;
          const t = Number(row[0]);
          addValue(cell(key, step ? Math.floor(t / step) * step : 0).agg, v);
        }
      } else {
        for (const row of s.values) {
          const a = aggFromRow(s.columns, row);
          if (a.n > 0) mergeAgg(cell(key, step ? Number(row[0]) : 0).agg, a);
        }
      }
    }
  });
  return [...cells.values()];
}
