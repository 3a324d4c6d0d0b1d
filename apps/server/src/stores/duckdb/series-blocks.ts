/**
 * Per-series counts and sums of closed, clean UTC days and hours, kept in memory for
 * `seriesMeans` (the POP statuses of every heatmap and overview).
 *
 * Why: at 1,000 POPs × 10 functions the stats statement of a 7 d plan reads 1.68M rows of
 * rollup_1h and took 210 ms in-process (45 ms at 423 × 5), most of the 7 d heatmap's and
 * overview's time over HTTP (docs/notes/week.md). Those hours do not change once rolled up
 * (a late point dirties them, the step recomputes them and invalidates them here), so they
 * are summed per series once per day or hour; a request then reads from SQL only its
 * minute edges, raw parts and dirty minutes. Memory: per block, one id, count and sum per
 * series (20 bytes; ~11 MB for a week at 10,000 series), series names interned once.
 *
 * Consistency as in pop-blocks.ts: `invalidate` runs synchronously after the rollup step's
 * COMMIT; a load in flight across an invalidation is used for its own answer, not cached.
 */
import type { DuckDBMaterializedResult } from '@duckdb/node-api';
import type { SeriesFilter, SeriesMean } from '../metrics-store.ts';
import type { Part } from './planner.ts';
import { blocksOf, type BlockRef } from './pop-blocks.ts';
import { HOUR_NS } from './rollup-sql.ts';

interface SeriesBlock {
  ids: Int32Array;
  n: Float64Array;
  sum: Float64Array;
}

/** Most blocks kept: a week of days and hours at both ends, several windows, and room to slide. */
const MAX_BLOCKS = 256;

export function createSeriesBlockCache(read: (sql: string) => Promise<DuckDBMaterializedResult>) {
  const names: Array<{ pop: string; fn: string }> = [];
  const idOf = new Map<string, number>();
  const blocks = new Map<string, SeriesBlock>();
  let epoch = 0;
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

  /** One statement for the missing blocks of one level (hours or days), summed per series from rollup_1h. */
  async function load(level: 60 | 1440, indexes: number[]): Promise<Map<number, SeriesBlock>> {
    stats.loads += indexes.length;
    const len = level === 60 ? HOUR_NS : 24n * HOUR_NS;
    let first = indexes[0]!;
    let last = first;
    for (const i of indexes) (first = Math.min(first, i)), (last = Math.max(last, i));
    const result = await read(`SELECT t_ns // ${len} AS blk, pop_code, function_name, sum(n)::DOUBLE AS n, sum(sum) AS s FROM rollup_1h
      WHERE t_ns >= ${BigInt(first) * len} AND t_ns < ${(BigInt(last) + 1n) * len} AND t_ns // ${len} IN (${indexes.join(',')})
      GROUP BY ALL`);
    const rows = new Map<number, { ids: number[]; n: number[]; sum: number[] }>(indexes.map((i) => [i, { ids: [], n: [], sum: [] }]));
    for (let ci = 0; ci < result.chunkCount; ci++) {
      const chunk = result.getChunk(ci);
      const [blk, pop, fn, n, s] = [0, 1, 2, 3, 4].map((c) => chunk.getColumnVector(c));
      for (let i = 0; i < chunk.rowCount; i++) {
        const r = rows.get(Number(blk!.getItem(i)));
        if (!r) continue;
        r.ids.push(seriesId(String(pop!.getItem(i)), String(fn!.getItem(i))));
        r.n.push(Number(n!.getItem(i)));
        r.sum.push(Number(s!.getItem(i)));
      }
    }
    const out = new Map<number, SeriesBlock>();
    for (const [i, r] of rows) out.set(i, { ids: Int32Array.from(r.ids), n: Float64Array.from(r.n), sum: Float64Array.from(r.sum) });
    return out;
  }

  /**
   * Counts and sums per series over the plan's whole-hour ('1h') parts, from memory or
   * loaded; null when those parts are too many blocks (a window from 1970): the caller
   * reads them in SQL as before.
   */
  async function sums(parts: readonly Part[]): Promise<SeriesBlock[] | null> {
    const refs = blocksOf(parts.filter((p) => p.source === '1h'));
    if (!refs) return null;
    const got: SeriesBlock[] = [];
    const missing = new Map<60 | 1440, number[]>();
    for (const r of refs) {
      const hit = blocks.get(keyOf(r));
      if (hit) {
        blocks.delete(keyOf(r)); // LRU: to the end
        blocks.set(keyOf(r), hit);
        got.push(hit);
        stats.hits++;
      } else {
        const level = r.level as 60 | 1440;
        let l = missing.get(level);
        if (!l) missing.set(level, (l = []));
        l.push(r.index);
      }
    }
    const startEpoch = epoch;
    for (const [level, indexes] of missing) {
      for (const [index, b] of await load(level, indexes)) {
        got.push(b);
        if (epoch === startEpoch) {
          blocks.set(keyOf({ level, index }), b);
          for (const k of blocks.keys()) if (blocks.size > MAX_BLOCKS) blocks.delete(k);
        }
      }
    }
    return got;
  }

  return {
    /**
     * Every series' count and mean: whole hours from the blocks, the other parts' rows (the
     * plan's SQL answer without its '1h' parts: pop_code, function_name, n, sum) added.
     */
    async seriesMeans(parts: readonly Part[], filter: SeriesFilter | undefined, rest: () => Promise<Array<{ pop: string; fn: string; n: number; sum: number }>>): Promise<SeriesMean[] | null> {
      const got = await sums(parts);
      if (!got) return null;
      const restRows = await rest();
      for (const r of restRows) seriesId(r.pop, r.fn); // new series get their ids before the arrays are sized
      // Dense by series id: typed arrays, no per-series objects until the answer.
      const n = new Float64Array(names.length);
      const sum = new Float64Array(names.length);
      for (const b of got) {
        const { ids, n: bn, sum: bs } = b;
        for (let j = 0; j < ids.length; j++) {
          n[ids[j]!]! += bn[j]!;
          sum[ids[j]!]! += bs[j]!;
        }
      }
      for (const r of restRows) {
        const id = seriesId(r.pop, r.fn);
        n[id]! += r.n;
        sum[id]! += r.sum;
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
    /** After the rollup step committed: forget the hours and days holding these epoch minutes (null: everything). */
    invalidate(minutes: readonly number[] | null) {
      epoch++;
      if (minutes === null) return void blocks.clear();
      for (const m of minutes) {
        blocks.delete(`60:${Math.floor(m / 60)}`);
        blocks.delete(`1440:${Math.floor(m / 1440)}`);
      }
    },
    stats: () => ({ ...stats, blocks: blocks.size }),
  };
}

export type SeriesBlockCache = ReturnType<typeof createSeriesBlockCache>;
