/**
 * Per-series counts and sums of closed, clean UTC days and hours (from rollup_1h) and of
 * 10-minute and 1-minute blocks (from rollup_1m), kept in memory for `seriesMeans` (the POP
 * statuses of every heatmap and overview).
 *
 * Why: at 1,000 POPs × 10 functions the stats statement of a 7 d plan reads 1.68M rows of
 * rollup_1h and took 210 ms in-process (45 ms at 423 × 5), most of the 7 d heatmap's and
 * overview's time over HTTP (docs/notes/week.md). With the hours in memory, the up to 59
 * whole minutes at each edge of the window (rollup_1m: ~1.2M rows at 10,000 series) were
 * the next cost: a 44 ms hash aggregate in SQL plus 10,000 row objects (docs/notes/week-3.md).
 * Those periods do not change once rolled up (a late point dirties them, the step
 * recomputes them and invalidates them here), so they are summed per series once per
 * block (the block split of pop-blocks.ts); a request then reads from SQL only its raw
 * parts (partial edge minutes, dirty minutes). Memory: per block, one id, count and sum
 * per series (20 bytes; ~16 MB for a 7 d window at 10,000 series), series names interned
 * once; LRU on blocks and entries.
 *
 * Consistency as in pop-blocks.ts: `invalidate` runs synchronously after the rollup step's
 * COMMIT; a load in flight across an invalidation of its block is used for its own answer,
 * not cached.
 */
import type { DuckDBMaterializedResult } from '@duckdb/node-api';
import type { SeriesFilter, SeriesMean } from '../metrics-store.ts';
import type { Part } from './planner.ts';
import { blocksOf, type BlockRef, type Level } from './pop-blocks.ts';
import { HOUR_NS, MINUTE_NS } from './rollup-sql.ts';
import { createInvalidationClock } from './invalidation-clock.ts';
import { selectRuns } from './period-runs.ts';

interface SeriesBlock {
  ids: Int32Array;
  n: Float64Array;
  sum: Float64Array;
}

/** Most blocks kept: a week of days and hours at both ends, the minute edges of several windows, and room to slide. */
const MAX_BLOCKS = 256;
/** And at most this many (series, block) entries (20 bytes each: ~30 MB; a 7 d window at 10,000 series holds ~0.8M), so sliding minute edges cannot fill 256 blocks of 10,000 series. */
const MAX_ENTRIES = 1_500_000;

export function createSeriesBlockCache(read: (sql: string, params?: Record<string, string>) => Promise<DuckDBMaterializedResult>) {
  const names: Array<{ pop: string; fn: string }> = [];
  const idOf = new Map<string, number>();
  const blocks = new Map<string, SeriesBlock>();
  let entries = 0;
  // Per block key, as pop-blocks.ts: live, the step invalidates the minute that just closed every minute, and a
  // whole-cache epoch then kept nothing loaded across it (the loads of the next request paid again).
  const clock = createInvalidationClock<string>();
  let loadsInFlight = 0;
  const stats = { hits: 0, loads: 0 };
  const keyOf = (r: BlockRef) => `${r.level}:${r.index}`;

  function seriesId(pop: string, fn: string) {
    const k = `${pop}\u0000${fn}`;
    let id = idOf.get(k);
    if (id === undefined) {
      id = names.length;
      names.push({ pop, fn });
      idOf.set(k, id);
    }
    return id;
  }

  /**
   * Rows of (block, pop_code, function_name, n, s) straight from the data chunks, one series id each
   * (row objects cost ~1 µs a row in conversion: 10,000 series a request).
   */
  function readSums(result: DuckDBMaterializedResult, onRow: (blk: number, id: number, n: number, sum: number) => void) {
    for (let ci = 0; ci < result.chunkCount; ci++) {
      const chunk = result.getChunk(ci);
      const [blk, pop, fn, n, s] = [0, 1, 2, 3, 4].map((c) => chunk.getColumnVector(c));
      for (let i = 0; i < chunk.rowCount; i++) {
        onRow(Number(blk!.getItem(i)), seriesId(String(pop!.getItem(i)), String(fn!.getItem(i))), Number(n!.getItem(i)), Number(s!.getItem(i)));
      }
    }
  }

  /** One statement for the missing blocks of one level, summed per series: days and hours from rollup_1h, 10 and 1 minutes from rollup_1m. */
  async function load(level: Level, indexes: number[]): Promise<Map<number, SeriesBlock>> {
    stats.loads += indexes.length;
    const len = level === 1440 ? 24n * HOUR_NS : level === 60 ? HOUR_NS : BigInt(level) * MINUTE_NS;
    const table = level >= 60 ? 'rollup_1h' : 'rollup_1m';
    // One range per run of blocks (period-runs.ts): the window's two minute edges are a week apart.
    const selected = selectRuns(indexes, len, (lo, hi) => `SELECT t_ns // ${len} AS blk, pop_code, function_name, n, sum FROM ${table}
      WHERE t_ns >= ${lo} AND t_ns < ${hi} AND t_ns // ${len} IN (${indexes.join(',')})`);
    const result = await read(`SELECT blk, pop_code, function_name, sum(n)::DOUBLE AS n, sum(sum) AS s FROM (${selected}) GROUP BY ALL`);
    const rows = new Map<number, { ids: number[]; n: number[]; sum: number[] }>(indexes.map((i) => [i, { ids: [], n: [], sum: [] }]));
    readSums(result, (blk, id, n, sum) => {
      const r = rows.get(blk);
      if (!r) return;
      r.ids.push(id);
      r.n.push(n);
      r.sum.push(sum);
    });
    const out = new Map<number, SeriesBlock>();
    for (const [i, r] of rows) out.set(i, { ids: Int32Array.from(r.ids), n: Float64Array.from(r.n), sum: Float64Array.from(r.sum) });
    return out;
  }

  function put(key: string, b: SeriesBlock) {
    drop(key);
    blocks.set(key, b);
    entries += b.ids.length;
    for (const k of blocks.keys()) {
      if ((blocks.size <= MAX_BLOCKS && entries <= MAX_ENTRIES) || k === key) break;
      drop(k);
    }
  }
  function drop(key: string) {
    const b = blocks.get(key);
    if (!b) return;
    entries -= b.ids.length;
    blocks.delete(key);
  }

  /**
   * Counts and sums per series over the plan's rolled-up parts (whole days and hours, and
   * 10- and 1-minute blocks of its clean minutes), from memory or loaded; null when those
   * parts are too many blocks (a window from 1970): the caller reads them in SQL as before.
   */
  async function sums(parts: readonly Part[]): Promise<SeriesBlock[] | null> {
    const refs = blocksOf(parts.filter((p) => p.source !== 'raw'));
    if (!refs) return null;
    const got: SeriesBlock[] = [];
    const missing = new Map<Level, number[]>();
    for (const r of refs) {
      const hit = blocks.get(keyOf(r));
      if (hit) {
        blocks.delete(keyOf(r)); // LRU: to the end
        blocks.set(keyOf(r), hit);
        got.push(hit);
        stats.hits++;
      } else {
        let l = missing.get(r.level);
        if (!l) missing.set(r.level, (l = []));
        l.push(r.index);
      }
    }
    const startEpoch = clock.now();
    loadsInFlight++;
    try {
      for (const [level, indexes] of missing) {
        for (const [index, b] of await load(level, indexes)) {
          got.push(b);
          const key = keyOf({ level, index });
          if (!clock.changedSince(key, startEpoch)) put(key, b);
        }
      }
    } finally {
      if (--loadsInFlight === 0) clock.forget();
    }
    return got;
  }

  return {
    /**
     * Every series' count and mean: the rolled-up parts from the blocks, plus what `rest`
     * (the plan's raw parts: partial edge minutes and dirty minutes; null when none) gives
     * as rows of (any, pop_code, function_name, n, s).
     */
    async seriesMeans(parts: readonly Part[], filter: SeriesFilter | undefined, rest: { sql: string; params: Record<string, string> } | null): Promise<SeriesMean[] | null> {
      const got = await sums(parts);
      if (!got) return null;
      const restIds: number[] = [];
      const restN: number[] = [];
      const restSum: number[] = [];
      if (rest !== null) {
        readSums(await read(rest.sql, rest.params), (_, id, n, sum) => (restIds.push(id), restN.push(n), restSum.push(sum)));
      }
      // Dense by series id (new series got theirs above): typed arrays, no per-series objects until the answer.
      const n = new Float64Array(names.length);
      const sum = new Float64Array(names.length);
      for (const b of got) {
        const { ids, n: bn, sum: bs } = b;
        for (let j = 0; j < ids.length; j++) {
          n[ids[j]!]! += bn[j]!;
          sum[ids[j]!]! += bs[j]!;
        }
      }
      for (let j = 0; j < restIds.length; j++) {
        n[restIds[j]!]! += restN[j]!;
        sum[restIds[j]!]! += restSum[j]!;
      }
      const out: SeriesMean[] = [];
      for (let id = 0; id < n.length; id++) {
        if (!(n[id]! > 0)) continue;
        const { pop, fn } = names[id]!;
        if (filter?.functionName !== undefined && fn !== filter.functionName) continue;
        if (filter?.popCode !== undefined && pop !== filter.popCode) continue;
        out.push({ popCode: pop, functionName: fn, samples: n[id]!, mean: sum[id]! / n[id]! });
      }
      return out;
    },
    /** After the rollup step committed: forget the blocks holding these epoch minutes (null: everything). */
    invalidate(minutes: readonly number[] | null) {
      if (minutes === null) {
        clock.invalidate(null, loadsInFlight > 0);
        blocks.clear();
        entries = 0;
        return;
      }
      const keys = minutes.flatMap((m) => [`1:${m}`, `10:${Math.floor(m / 10)}`, `60:${Math.floor(m / 60)}`, `1440:${Math.floor(m / 1440)}`]);
      for (const k of keys) drop(k);
      clock.invalidate(keys, loadsInFlight > 0);
    },
    stats: () => ({ ...stats, blocks: blocks.size, entries }),
  };
}

export type SeriesBlockCache = ReturnType<typeof createSeriesBlockCache>;
