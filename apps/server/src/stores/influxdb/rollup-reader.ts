/**
 * Answers a planned range (planner.ts): one statement per segment, rollup rows and raw edge values merged into the same cells here
 * (see rollup-agg.ts for why the bins are not merged server-side). Cells are keyed by one tag (or none) and
 * by bucket start when a step is given.
 */
import { FIELD, MEASUREMENT, TAG } from '@edgeworker/schema';
import type { SeriesFilter } from '../metrics-store.ts';
import type { InfluxClient, InfluxSeries } from './influx-client.ts';
import { tagConditions, whereClause } from './influxql.ts';
import type { Segment } from './planner.ts';
import { addRow, addValue, emptyAgg, mergeAgg, qi, rollupFrom, ROLLUP_10M, ROLLUP_10M_POP, ROLLUP_1H, ROLLUP_1H_POP, ROLLUP_1M, ROLLUP_1M_POP, ROLLUP_FIELDS, rollupColumns, type Agg } from './rollup-agg.ts';

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

/**
 * A raw segment's values per series, whatever the answer groups by: the same statement
 * for the summary and for the per-series means, so one read in flight serves both.
 */
function rawStatement(seg: Segment, filter: SeriesFilter | undefined): string {
  return `SELECT ${qi(FIELD.coldStartTimeMs)} AS v FROM ${qi(MEASUREMENT)} WHERE ${whereClause(seg, filter)} GROUP BY ${qi(TAG.popCode)}, ${qi(TAG.functionName)}`;
}

export function statementFor(seg: Segment, read: PlannedRead): string {
  const where = whereClause(seg, read.filter);
  const group = read.groupBy ? ` GROUP BY ${qi(read.groupBy)}` : '';
  if (seg.resolution === 'raw') return rawStatement(seg, read.filter);
  // No function asked for or grouped by: the per-POP points answer with a fifth of the rows.
  const perPop = !read.filter?.functionName && read.groupBy !== TAG.functionName;
  return `SELECT ${ROLLUP_FIELDS} FROM ${rollupFrom((perPop ? POP_TABLE : TABLE)[seg.resolution])} WHERE ${where}${group}`;
}

/**
 * Answers of rollup segments kept in memory, by statement (which names the level, the
 * range and the shape). A rollup segment lies inside what the keeper had completed, so its
 * answer only changes when the keeper rewrites published periods, which moves the
 * coverage's generation: then everything goes (sync). A sliding window asks for the same
 * whole-hour and 10 min segments for minutes on end; only its raw edges and the 1 min
 * segments at the edges are read again. Bounded by entry count (least recently used go).
 */
export interface SegmentCache {
  /** Drops everything when the keeper's generation moved. */
  sync(generation: number): void;
  get<T>(key: string, compute: () => Promise<T>): Promise<T>;
  /**
   * Raw reads are never kept, but one read in flight answers everyone who asks for the
   * same statement meanwhile: the heatmap's summary and its POP statuses read the same
   * raw edges at the same moment, and each such read costs influxd per series.
   */
  shared<T>(key: string, compute: () => Promise<T>): Promise<T>;
  readonly size: number;
  /** The clock (epoch ms): an open-ended tail read is only for ranges that end about now. */
  now(): number;
}

export function createSegmentCache(maxEntries = 128, now: () => number = Date.now): SegmentCache {
  const entries = new Map<string, Promise<unknown>>();
  const inflight = new Map<string, Promise<unknown>>();
  let generation: number | undefined;
  return {
    sync(g) {
      if (g !== generation) entries.clear();
      generation = g;
    },
    get<T>(key: string, compute: () => Promise<T>): Promise<T> {
      const hit = entries.get(key) as Promise<T> | undefined;
      if (hit) {
        entries.delete(key); // most recently used last
        entries.set(key, hit);
        return hit;
      }
      const p = compute();
      entries.set(key, p);
      // A failed read is not kept; one that was cleared meanwhile (generation moved) is not put back.
      p.catch(() => {
        if (entries.get(key) === p) entries.delete(key);
      });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      return p;
    },
    shared<T>(key: string, compute: () => Promise<T>): Promise<T> {
      const running = inflight.get(key) as Promise<T> | undefined;
      if (running) return running;
      const p = compute();
      inflight.set(key, p);
      const done = () => void (inflight.get(key) === p && inflight.delete(key));
      p.then(done, done);
      return p;
    },
    get size() {
      return entries.size;
    },
    now,
  };
}

const MIN_NS = 60_000_000_000n;
const MS_NS = 1_000_000n;

/** The series with only the rows in [fromMs, toMs) (answers are in epoch ms; the bounds are whole ms, so this is exact). */
function within(series: InfluxSeries[] | undefined, fromMs: number, toMs: number): InfluxSeries[] {
  return (series ?? []).map((s) => ({ ...s, values: s.values.filter((r) => Number(r[0]) >= fromMs && Number(r[0]) < toMs) }));
}

/**
 * A mixed plan's raw edge, values per series. Two reads serve many answers:
 * - the head, a part of one closed minute: that whole minute is read and kept like a
 *   rollup segment (it changes only with the keeper's generation), each answer takes its part;
 * - the tail, from the last rolled-up minute on: read open-ended (no upper bound) once for
 *   everyone asking at the same moment (the heatmap's summary, its per-series means, the
 *   POPs reporting lately), each answer takes the rows before its own end.
 * Anything else (bounds not on whole ms, a longer head) is one plain read, shared in flight.
 */
function rawValues(client: InfluxClient, seg: Segment, filter: SeriesFilter | undefined, cache: SegmentCache): Promise<InfluxSeries[]> {
  const read = (statement: string) => async () => (await client.query([statement]))[0] ?? [];
  const wholeMs = seg.fromNs % MS_NS === 0n && seg.toNs % MS_NS === 0n;
  const [fromMs, toMs] = [Number(seg.fromNs / MS_NS), Number(seg.toNs / MS_NS)];
  const minute = (seg.fromNs / MIN_NS) * MIN_NS;
  if (wholeMs && seg.toNs % MIN_NS === 0n && seg.toNs - minute === MIN_NS) {
    const statement = rawStatement({ fromNs: minute, toNs: seg.toNs, resolution: 'raw' }, filter);
    return cache.get(statement, read(statement)).then((series) => within(series, fromMs, toMs));
  }
  // Only a range ending about now: an open-ended read of a window in the past would read everything since.
  if (wholeMs && seg.fromNs % MIN_NS === 0n && toMs >= cache.now() - 60_000) {
    const where = [`time >= ${seg.fromNs}`, ...tagConditions(filter)].join(' AND ');
    const statement = `SELECT ${qi(FIELD.coldStartTimeMs)} AS v FROM ${qi(MEASUREMENT)} WHERE ${where} GROUP BY ${qi(TAG.popCode)}, ${qi(TAG.functionName)}`;
    return cache.shared(statement, read(statement)).then((series) => within(series, fromMs, toMs));
  }
  const statement = rawStatement(seg, filter);
  return cache.shared(statement, read(statement));
}

/** One segment's answer merged into cells (key and bucket), not yet merged with the other segments. */
function segmentCells(seg: Segment, series: InfluxSeries[] | undefined, read: PlannedRead): Map<string, Cell> {
  const cells = new Map<string, Cell>();
  const cell = (key: string, startMs: number) => {
    const id = `${key}\u0000${startMs}`;
    let c = cells.get(id);
    if (!c) cells.set(id, (c = { key, startMs, agg: emptyAgg() }));
    return c;
  };
  const step = read.stepMs;
  for (const s of series ?? []) {
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
  return cells;
}

export async function readPlanned(client: InfluxClient, segs: readonly Segment[], read: PlannedRead, cache?: SegmentCache): Promise<Cell[]> {
  // One request per segment, in parallel: influxd runs the statements of one request one
  // after the other, but separate requests side by side (measured: about half the wall time).
  const perSeg = await Promise.all(
    segs.map((seg) => {
      const statement = statementFor(seg, read);
      if (seg.resolution === 'raw' && cache) return rawValues(client, seg, read.filter, cache).then((series) => segmentCells(seg, series, read));
      const compute = async () => segmentCells(seg, (await client.query([statement]))[0], read);
      return cache ? cache.get(`${statement}|${read.stepMs ?? 0}`, compute) : compute();
    }),
  );
  // Cached cells are shared between answers: merged into new ones, never changed.
  const cells = new Map<string, Cell>();
  for (const part of perSeg) {
    for (const [id, c] of part) {
      let into = cells.get(id);
      if (!into) cells.set(id, (into = { key: c.key, startMs: c.startMs, agg: emptyAgg() }));
      mergeAgg(into.agg, c.agg);
    }
  }
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

interface SeriesSum { popCode: string; functionName: string; n: number; sum: number }

function sumsOfValues(series: InfluxSeries[] | undefined): SeriesSum[] {
  const out: SeriesSum[] = [];
  for (const s of series ?? []) {
    const iv = s.columns.indexOf('v');
    let n = 0;
    let sum = 0;
    for (const row of s.values) {
      const v = row[iv];
      if (typeof v !== 'number') continue;
      n++;
      sum += v;
    }
    if (n > 0) out.push({ popCode: s.tags?.[TAG.popCode] ?? '', functionName: s.tags?.[TAG.functionName] ?? '', n, sum });
  }
  return out;
}

function segmentSums(series: InfluxSeries[] | undefined): SeriesSum[] {
  const out: SeriesSum[] = [];
  for (const s of series ?? []) {
    const row = s.values[0];
    const n = Number(row?.[s.columns.indexOf('n')] ?? 0);
    if (!row || !(n > 0)) continue;
    out.push({ popCode: s.tags?.[TAG.popCode] ?? '', functionName: s.tags?.[TAG.functionName] ?? '', n, sum: Number(row[s.columns.indexOf('s')] ?? 0) });
  }
  return out;
}

/** Every series' count and mean over the planned segments (POP statuses): one small row per series and segment. */
export async function readMeans(client: InfluxClient, segs: readonly Segment[], filter: SeriesFilter | undefined, cache?: SegmentCache) {
  const results = await Promise.all(
    segs.map((seg) => {
      if (seg.resolution === 'raw' && cache && segs.length > 1) {
        // A mixed plan's raw edges (a minute or so): the values the summary of the same range
        // reads at the same moment, one read for both. A plan that is all raw (a short window)
        // has InfluxDB count and sum, which leaves it far fewer rows to send.
        return rawValues(client, seg, filter, cache).then(sumsOfValues);
      }
      const statement = meansStatementFor(seg, filter);
      const compute = async () => segmentSums((await client.query([statement]))[0]);
      return seg.resolution === 'raw' || !cache ? compute() : cache.get(statement, compute);
    }),
  );
  const acc = new Map<string, SeriesSum>();
  for (const part of results) {
    for (const x of part) {
      const id = `${x.popCode}\u0000${x.functionName}`;
      const a = acc.get(id) ?? { popCode: x.popCode, functionName: x.functionName, n: 0, sum: 0 };
      a.n += x.n;
      a.sum += x.sum;
      acc.set(id, a);
    }
  }
  return [...acc.values()].map((a) => ({ popCode: a.popCode, functionName: a.functionName, samples: a.n, mean: a.sum / a.n }));
}
