/**
 * Per-POP sketches of closed, clean blocks of time (1 minute, 10 minutes, 1 hour), kept
 * in memory for the unfiltered heatmap and overview.
 *
 * Why: EXPLAIN ANALYZE of the 24 h heatmap showed nearly all of its time in unnesting
 * and hash-aggregating bin lists by (POP, bin): ~1.5M entries for the 23 whole hours of
 * rollup_pop_1h and ~0.7M for the up to 60 whole minutes of rollup_1m at the two edges,
 * against 63k raw rows for the 5 min window. Those blocks do not change once rolled up
 * (until a late point dirties them, and then the rollup step recomputes them and tells
 * us), so they are merged once per block in SQL and afterwards added in JS from typed
 * arrays. A request then reads from SQL only the partial minutes at its very edges and
 * any dirty minute.
 *
 * Edges use 10-minute blocks where whole ones fit, so a window's edges are at most 9
 * minute blocks + 5 ten-minute blocks per side. Memory is bounded (LRU on bin entries).
 *
 * Consistency: `invalidate` runs synchronously after the rollup step's COMMIT; a load
 * that was in flight across an invalidation is used for its own answer but not cached.
 */
import type { DuckDBListVector, DuckDBMaterializedResult } from '@duckdb/node-api';
import { HOUR_NS, MINUTE_NS } from './rollup-sql.ts';
import { createInvalidationClock } from './invalidation-clock.ts';
import { selectRuns } from './period-runs.ts';
import { addBins, BIN_OFFSET, BIN_SPAN, untouched } from './dense-bins.ts';
import { binValue } from '@edgeworker/sketch';
import type { AggregateStats } from '../metrics-store.ts';
import type { KeyedStats } from './planner.ts';

/** Block length in minutes: 1 and 10 from rollup_1m, 60 and 1440 (a UTC day) from rollup_pop_1h. */
export type Level = 1 | 10 | 60 | 1440;

const DAY_NS = 24n * HOUR_NS;

export interface PopBlock {
  pop: string;
  n: number;
  sum: number;
  mn: number;
  mx: number;
  bins: Int16Array;
  counts: Float64Array;
}

export interface BlockRef {
  level: Level;
  /** Epoch minute / level. */
  index: number;
}

type Columns = Record<string, unknown[]>;

/**
 * Most blocks one answer takes from memory (90 days of hours and the edges); a longer
 * window (say from 1970, mostly empty hours) reads its rollups in SQL instead.
 */
export const MAX_BLOCKS = 90 * 24 + 40;

/** Merged runs of hours kept (a few windows: 24 h, 7 d, …). */
const MAX_SPANS = 16;

/** Default bound: ~8M bin entries (≈ 80 MB with their counts), a week of per-POP hours at 423 POPs plus edges. */
const DEFAULT_MAX_ENTRIES = 8_000_000;

/**
 * Default bound of the merged spans: ~3M bin entries (≈ 30 MB), the middle of a 7 d and a 24 h window at
 * 1,000 POPs with room for the next hour's; a sliding window leaves one old span behind every hour.
 */
const DEFAULT_MAX_SPAN_ENTRIES = 3_000_000;

/** Whole windows merged per POP kept (getWindow): the 7 d, 24 h, … windows of the current minute. */
const MAX_WINDOWS = 4;

/** The hours a block covers, [first, end), or undefined for a minute-level block. */
function hoursOf(r: BlockRef): [number, number] | undefined {
  if (r.level === 60) return [r.index, r.index + 1];
  if (r.level === 1440) return [r.index * 24, r.index * 24 + 24];
  return undefined;
}

export function createPopBlockCache(read: (sql: string) => Promise<DuckDBMaterializedResult>, opts: { maxEntries?: number; maxSpanEntries?: number } = {}) {
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const maxSpanEntries = opts.maxSpanEntries ?? DEFAULT_MAX_SPAN_ENTRIES;
  const blocks = new Map<string, PopBlock[]>();
  /** Runs of whole hours and days merged per POP, keyed `span:<first hour>:<end hour>`. */
  const spans = new Map<string, PopBlock[]>();
  let spanEntries = 0;
  /** Whole windows' rolled-up parts merged per POP (getWindow), keyed by their blocks, with the minutes they span. */
  const windows = new Map<string, { from: number; to: number; value: PopBlock[]; size: number }>();
  let windowEntries = 0;
  const entriesOf = (list: readonly PopBlock[]) => {
    let n = 0;
    for (const p of list) n += p.bins.length;
    return n;
  };
  function putSpan(key: string, value: PopBlock[]) {
    dropSpan(key);
    spans.set(key, value);
    spanEntries += entriesOf(value);
    for (const k of spans.keys()) {
      if ((spans.size <= MAX_SPANS && spanEntries <= maxSpanEntries) || k === key) break;
      dropSpan(k);
    }
  }
  function dropSpan(key: string) {
    const v = spans.get(key);
    if (!v) return;
    spanEntries -= entriesOf(v);
    spans.delete(key);
  }
  const sizes = new Map<string, number>();
  let entries = 0;
  /**
   * Which blocks an invalidation touched, and when: a load in flight across an invalidation
   * is still cached (and shared) when the invalidation touched none of its blocks (the week
   * bench's first 7 d heatmap loaded everything again when any step landed during the warm-up).
   */
  const clock = createInvalidationClock<string>();
  let loadsInFlight = 0;
  const changedSince = clock.changedSince;
  const stats = { hits: 0, loads: 0, windowHits: 0 };

  const keyOf = (b: BlockRef) => `${b.level}:${b.index}`;

  function put(key: string, value: PopBlock[]) {
    let size = 0;
    for (const p of value) size += p.bins.length;
    if (blocks.has(key)) drop(key);
    blocks.set(key, value);
    sizes.set(key, size);
    entries += size;
    for (const k of blocks.keys()) {
      if (entries <= maxEntries || k === key) break;
      drop(k);
    }
  }
  function drop(key: string) {
    entries -= sizes.get(key) ?? 0;
    blocks.delete(key);
    sizes.delete(key);
  }

  /** SQL for the missing blocks of one level: one row per (block, POP). */
  function loadSql(level: Level, indexes: number[]): string {
    const list = indexes.join(',');
    // One range per run of blocks (period-runs.ts): the window's two edges are a week apart.
    if (level === 60) {
      return selectRuns(indexes, HOUR_NS, (lo, hi) => `SELECT t_ns // ${HOUR_NS} AS blk, pop_code, n, sum AS s, min AS mn, max AS mx, bins, counts
        FROM rollup_pop_1h WHERE t_ns >= ${lo} AND t_ns < ${hi} AND t_ns // ${HOUR_NS} IN (${list})`);
    }
    // 10 minutes from rollup_1m, a day from rollup_pop_1h: merged per POP in SQL, so JS reads one sketch per POP and block.
    const len = level === 1440 ? DAY_NS : BigInt(level) * MINUTE_NS;
    const source = level === 1440 ? 'rollup_pop_1h' : 'rollup_1m';
    return `WITH m AS (
        ${selectRuns(indexes, len, (lo, hi) => `SELECT t_ns // ${len} AS blk, pop_code, n, sum, min, max, bins, counts FROM ${source}
        WHERE t_ns >= ${lo} AND t_ns < ${hi} AND t_ns // ${len} IN (${list})`)}
      ),
      st AS (SELECT blk, pop_code, sum(n) AS n, sum(sum) AS s, min(min) AS mn, max(max) AS mx FROM m GROUP BY ALL),
      bb AS (
        SELECT blk, pop_code, b, sum(c)::DOUBLE AS c
        FROM (SELECT blk, pop_code, unnest(bins) AS b, unnest(counts) AS c FROM m) GROUP BY ALL
      ),
      bl AS (SELECT blk, pop_code, list(b) AS bins, list(c) AS counts FROM bb GROUP BY ALL)
      SELECT st.blk, st.pop_code, st.n, st.s, st.mn, st.mx, bl.bins, bl.counts FROM st JOIN bl USING (blk, pop_code)`;
  }

  /**
   * Loads in flight, per block key, with the epoch they started in: a request arriving while
   * the start-up warming (or another request) loads its blocks waits for that load instead of
   * running the same statement again behind it on the reader (the week bench's first 7 d
   * heatmap paid for both). A load is not shared once an invalidation touched its block: it
   * may hold the old rollups.
   */
  const pending = new Map<string, { epoch: number; promise: Promise<PopBlock[]> }>();
  const forgetTouched = () => {
    if (loadsInFlight === 0 && pending.size === 0) clock.forget();
  };

  /** The blocks asked for, from memory or loaded (one statement per level with missing blocks). */

  async function get(refs: readonly BlockRef[]): Promise<PopBlock[][]> {
    const out = new Map<string, PopBlock[]>();
    const missing = new Map<Level, number[]>();
    const waits: Array<Promise<void>> = [];
    for (const r of refs) {
      const key = keyOf(r);
      const hit = blocks.get(key);
      const inFlight = pending.get(key);
      if (hit) {
        // LRU: touched blocks move to the end.
        blocks.delete(key);
        blocks.set(key, hit);
        out.set(key, hit);
        stats.hits++;
      } else if (inFlight && !changedSince(key, inFlight.epoch)) {
        waits.push(inFlight.promise.then((v) => void out.set(key, v)));
      } else {
        let l = missing.get(r.level);
        if (!l) missing.set(r.level, (l = []));
        l.push(r.index);
      }
    }
    const startEpoch = clock.now();
    for (const [level, indexes] of missing) {
      const load = loadLevel(level, indexes, startEpoch);
      for (const index of indexes) {
        const key = keyOf({ level, index });
        const entry = { epoch: startEpoch, promise: load.then((m) => m.get(index) ?? []) };
        entry.promise.catch(() => undefined); // the caller below sees the error; a waiter sees it through its own await
        pending.set(key, entry);
        void load.finally(() => {
          if (pending.get(key) === entry) pending.delete(key);
          forgetTouched();
        }).catch(() => undefined);
        waits.push(entry.promise.then((v) => void out.set(key, v)));
      }
    }
    await Promise.all(waits);
    return refs.map((r) => out.get(keyOf(r)) ?? []);
  }

  /** One statement for the missing blocks of one level; cached unless an invalidation came in between. */
  async function loadLevel(level: Level, indexes: number[], startEpoch: number): Promise<Map<number, PopBlock[]>> {
    stats.loads += indexes.length;
    loadsInFlight++;
    try {
      return await loadLevelNow(level, indexes, startEpoch);
    } finally {
      loadsInFlight--;
      forgetTouched();
    }
  }

  async function loadLevelNow(level: Level, indexes: number[], startEpoch: number): Promise<Map<number, PopBlock[]>> {
    const result = await read(loadSql(level, indexes));
    const loaded = new Map<number, PopBlock[]>(indexes.map((i) => [i, []]));
    readBlockRows(result, (blk, block) => loaded.get(blk)?.push(block));
    for (const [index, value] of loaded) {
      const key = keyOf({ level, index });
      if (!changedSince(key, startEpoch)) put(key, value);
    }
    return loaded;
  }

  /**
   * Like `get`, but every run of consecutive whole hours and days comes back as one block
   * list, merged per POP once and kept: the same window asked again within the hour (the
   * dashboard refetches every 10 s) then adds one list per POP for its middle instead of
   * ~6 days and up to 46 hours (a week at 1,000 POPs: the adding was most of the 7 d
   * heatmap's JS time; docs/notes/week-3.md). The window slides by an hour every hour, so
   * the middle is merged again then (once, from the blocks in memory).
   */
  async function getMerged(refs: readonly BlockRef[]): Promise<PopBlock[][]> {
    // Segments: a run of ≥ 2 consecutive hour or day blocks (a span: a week's whole middle, days and the hours
    // around them, is one list per POP), or one block.
    const segments: Array<{ span?: string; from: number; to: number }> = [];
    for (let i = 0; i < refs.length;) {
      let j = i;
      while (hoursOf(refs[i]!) && j + 1 < refs.length && hoursOf(refs[j + 1]!)?.[0] === hoursOf(refs[j]!)![1]) j++;
      segments.push(j > i ? { span: `span:${hoursOf(refs[i]!)![0]}:${hoursOf(refs[j]!)![1]}`, from: i, to: j + 1 } : { from: i, to: i + 1 });
      i = j + 1;
    }
    // Everything not already merged, in one `get` (one statement per level for the missing blocks).
    // Hits are taken now, before any await: an invalidation meanwhile must not change what was asked for.
    const hits = new Map<string, PopBlock[]>();
    const needed: BlockRef[] = [];
    for (const g of segments) {
      const hit = g.span ? spans.get(g.span) : undefined;
      if (hit) hits.set(g.span!, hit);
      else needed.push(...refs.slice(g.from, g.to));
    }
    const startEpoch = clock.now();
    // In flight until the spans are checked below: the marks of an invalidation meanwhile are kept that long
    // (forgetting them first, once the loads were done, let a span merged from blocks the step had replaced be kept).
    loadsInFlight++;
    try {
      const got = await get(needed);
      const out: PopBlock[][] = [];
      let k = 0;
      for (const g of segments) {
        const hit = g.span ? hits.get(g.span) : undefined;
        if (hit) {
          if (spans.get(g.span!) === hit) {
            spans.delete(g.span!); // LRU: to the end
            spans.set(g.span!, hit);
          }
          out.push(hit);
          continue;
        }
        const lists = got.slice(k, k + (g.to - g.from));
        k += g.to - g.from;
        if (!g.span) {
          out.push(lists[0]!);
          continue;
        }
        const merged = mergePerPop(lists);
        const [, from, to] = g.span.split(':').map(Number) as [string, number, number];
        let changed = false;
        for (let h = from; h < to && !changed; h++) changed = changedSince(`60:${h}`, startEpoch);
        if (!changed) putSpan(g.span, merged);
        out.push(merged);
      }
      return out;
    } finally {
      loadsInFlight--;
      forgetTouched();
    }
  }

  /**
   * A window's whole rolled-up part (every block of `refs`) merged per POP, keyed by those
   * blocks. Why: with the middle as one span, the 7 d heatmap still added ~30 edge blocks
   * (10- and 1-minute) per POP on every request (mergeBlocks was most of its JS time), and a
   * window's blocks are the same for every request within its minute (the dashboard
   * refetches every 10 s; a write in the open minute only adds to its raw part). The first
   * request of each minute merges them (from spans and blocks in memory), later ones add
   * one list per POP to their raw part.
   */
  async function getWindow(refs: readonly BlockRef[]): Promise<PopBlock[]> {
    const key = refs.map(keyOf).join(',');
    const hit = windows.get(key);
    if (hit) {
      windows.delete(key); // LRU: to the end
      windows.set(key, hit);
      stats.windowHits++;
      return hit.value;
    }
    const startEpoch = clock.now();
    loadsInFlight++; // until the check below (see getMerged)
    let lists: PopBlock[][];
    let changed: boolean;
    try {
      lists = await getMerged(refs);
      changed = refs.some((r) => changedSince(keyOf(r), startEpoch));
    } finally {
      loadsInFlight--;
      forgetTouched();
    }
    const value = lists.length === 1 ? lists[0]! : mergePerPop(lists);
    if (!changed) {
      let from = Infinity;
      let to = -Infinity;
      for (const r of refs) (from = Math.min(from, r.index * r.level)), (to = Math.max(to, (r.index + 1) * r.level));
      dropWindow(key);
      windows.set(key, { from, to, value, size: entriesOf(value) });
      windowEntries += windows.get(key)!.size;
      for (const k of windows.keys()) {
        if ((windows.size <= MAX_WINDOWS && windowEntries <= maxSpanEntries) || k === key) break;
        dropWindow(k);
      }
    }
    return value;
  }
  function dropWindow(key: string) {
    const w = windows.get(key);
    if (!w) return;
    windowEntries -= w.size;
    windows.delete(key);
  }

  return {
    get,
    getMerged,
    getWindow,
    /** After the rollup step committed: forget every block holding one of these epoch minutes (null: everything). */
    invalidate(minutes: readonly number[] | null) {
      if (minutes === null) {
        clock.invalidate(null, loadsInFlight > 0);
        spans.clear();
        spanEntries = 0;
        windows.clear();
        windowEntries = 0;
        blocks.clear();
        sizes.clear();
        entries = 0;
        return;
      }
      const hours = new Set(minutes.map((m) => Math.floor(m / 60)));
      for (const k of [...spans.keys()]) {
        const [, from, to] = k.split(':').map(Number) as [string, number, number];
        for (const h of hours) if (h >= from && h < to) dropSpan(k);
      }
      for (const [k, w] of [...windows]) if (minutes.some((m) => m >= w.from && m < w.to)) dropWindow(k);
      const keys = minutes.flatMap((m) => [`1:${m}`, `10:${Math.floor(m / 10)}`, `60:${Math.floor(m / 60)}`, `1440:${Math.floor(m / 1440)}`]);
      for (const key of keys) drop(key);
      clock.invalidate(keys, loadsInFlight > 0);
    },
    stats: () => ({ ...stats, blocks: blocks.size, spans: spans.size, entries, spanEntries, windows: windows.size, windowEntries }),
  };
}

export type PopBlockCache = ReturnType<typeof createPopBlockCache>;

/**
 * Rows of (block index, POP, n, sum, min, max, bins, counts) → one PopBlock each, straight
 * from the data chunks: the bin lists are read from their flat child vectors into typed
 * arrays (converting them to JS arrays first cost ~0.4 µs per bin).
 */
export function readBlockRows(result: DuckDBMaterializedResult, onBlock: (index: number, block: PopBlock) => void) {
  for (let ci = 0; ci < result.chunkCount; ci++) {
    const chunk = result.getChunk(ci);
    const [blk, pop, n, sum, mn, mx] = [0, 1, 2, 3, 4, 5].map((c) => chunk.getColumnVector(c));
    const binsV = chunk.getColumnVector(6) as DuckDBListVector;
    const countsV = chunk.getColumnVector(7) as DuckDBListVector;
    const binsChild = binsV.childVector;
    const countsChild = countsV.childVector;
    for (let i = 0; i < chunk.rowCount; i++) {
      const len = binsV.getEntryLength(i);
      const bo = binsV.getEntryOffset(i);
      const co = countsV.getEntryOffset(i);
      const bins = new Int16Array(len);
      const counts = new Float64Array(len);
      for (let j = 0; j < len; j++) {
        bins[j] = binsChild.getItem(bo + j) as number;
        counts[j] = Number(countsChild.getItem(co + j));
      }
      onBlock(Number(blk!.getItem(i)), {
        pop: String(pop!.getItem(i)),
        n: Number(n!.getItem(i)),
        sum: Number(sum!.getItem(i)),
        mn: Number(mn!.getItem(i)),
        mx: Number(mx!.getItem(i)),
        bins,
        counts,
      });
    }
  }
}

/**
 * Splits a plan's rollup parts into blocks: whole UTC days, else whole hours ('1h' parts) and, inside the
 * clean-minute ('1m') parts, 10-minute blocks where whole ones fit, else minutes.
 */
export function blocksOf(parts: ReadonlyArray<{ source: string; fromNs: bigint; toNs: bigint }>, max = MAX_BLOCKS): BlockRef[] | null {
  const refs: BlockRef[] = [];
  for (const p of parts) {
    if (p.source === '1h' && (p.toNs - p.fromNs) / HOUR_NS > BigInt(max)) return null;
    if (p.source === '1h') {
      // Whole UTC days as one block each: a week is then ~7 day blocks and ≤ 23 hours at each end, not 168 hours.
      const end = Number(p.toNs / HOUR_NS);
      for (let h = Number(p.fromNs / HOUR_NS); h < end;) {
        if (h % 24 === 0 && h + 24 <= end) {
          refs.push({ level: 1440, index: h / 24 });
          h += 24;
        } else refs.push({ level: 60, index: h++ });
      }
    } else if (p.source === '1m') {
      const end = Number(p.toNs / MINUTE_NS);
      for (let m = Number(p.fromNs / MINUTE_NS); m < end;) {
        if (m % 10 === 0 && m + 10 <= end) {
          refs.push({ level: 10, index: m / 10 });
          m += 10;
        } else {
          refs.push({ level: 1, index: m });
          m++;
        }
      }
    }
  }
  return refs.length > max ? null : refs;
}

/** One block per POP: the given blocks added (a run of hours merged once). */
export function mergePerPop(lists: readonly PopBlock[][]): PopBlock[] {
  const byPop = new Map<string, PopBlock[]>();
  for (const list of lists) for (const b of list) {
    let l = byPop.get(b.pop);
    if (!l) byPop.set(b.pop, (l = []));
    l.push(b);
  }
  const dense = new Float64Array(BIN_SPAN);
  const out: PopBlock[] = [];
  for (const [pop, list] of byPop) {
    const range = untouched();
    const m: PopBlock = { pop, n: 0, sum: 0, mn: Infinity, mx: -Infinity, bins: new Int16Array(0), counts: new Float64Array(0) };
    for (const b of list) {
      m.n += b.n;
      m.sum += b.sum;
      if (b.mn < m.mn) m.mn = b.mn;
      if (b.mx > m.mx) m.mx = b.mx;
      addBins(dense, b.bins, b.counts, range);
    }
    const { lo, hi } = range;
    let k = 0;
    for (let x = lo; x <= hi; x++) if (dense[x]! > 0) k++;
    m.bins = new Int16Array(k);
    m.counts = new Float64Array(k);
    k = 0;
    for (let x = lo; x <= hi; x++) {
      if (dense[x]! > 0) {
        m.bins[k] = x - BIN_OFFSET;
        m.counts[k++] = dense[x]!;
        dense[x] = 0;
      }
    }
    out.push(m);
  }
  return out;
}

/**
 * The per-POP answer (heatmap, overview) from blocks and the SQL answer for the raw parts
 * (rawSketchStatement's columns per POP: pop_code, n, sum, mn, mx, bs, cs): per POP its
 * count, mean and (with `keyedBins`) percentiles, and the total over every POP, as
 * `combine` gives them (the same merged bins, the same rank rule, clamped to the exact min
 * and max). Bins are added into one dense array per POP and read from it in the same pass
 * that adds them into the total's: no per-POP bin lists, key strings or sorting in between
 * (building those for `combine` was half of the 7 d heatmap's JS time at 1,000 POPs).
 */
export function summarizeBlocks(
  raw: Columns | null,
  blockLists: readonly PopBlock[][],
  keyedBins: boolean,
): { rows: KeyedStats[]; total: AggregateStats } {
  // Typed arrays only, so the adding loop below stays monomorphic (mixing JS arrays in made it ~3x slower).
  interface Acc { n: number; sum: number; mn: number; mx: number; parts: Array<[Int16Array, Float64Array]> }
  const accs = new Map<string, Acc>();
  const acc = (pop: string) => {
    let a = accs.get(pop);
    if (!a) accs.set(pop, (a = { n: 0, sum: 0, mn: Infinity, mx: -Infinity, parts: [] }));
    return a;
  };
  for (const list of blockLists) {
    for (const b of list) {
      const a = acc(b.pop);
      a.n += b.n;
      a.sum += b.sum;
      if (b.mn < a.mn) a.mn = b.mn;
      if (b.mx > a.mx) a.mx = b.mx;
      a.parts.push([b.bins, b.counts]);
    }
  }
  if (raw) {
    const pops = raw.pop_code ?? [];
    for (let i = 0; i < pops.length; i++) {
      const a = acc(String(pops[i]));
      a.n += Number(raw.n![i]);
      a.sum += Number(raw.sum![i]);
      a.mn = Math.min(a.mn, Number(raw.mn![i]));
      a.mx = Math.max(a.mx, Number(raw.mx![i]));
      a.parts.push([Int16Array.from(raw.bs![i] as number[]), Float64Array.from(raw.cs![i] as number[])]);
    }
  }
  const dense = new Float64Array(BIN_SPAN);
  const all = new Float64Array(BIN_SPAN);
  let allLo = BIN_SPAN;
  let allHi = -1;
  const rows: KeyedStats[] = [];
  let tn = 0;
  let tsum = 0;
  let tmin = Infinity;
  let tmax = -Infinity;
  for (const [pop, a] of accs) {
    if (a.n === 0) continue;
    const range = untouched();
    for (const [bs, cs] of a.parts) addBins(dense, bs, cs, range);
    const { lo, hi } = range;
    const st = { n: a.n, sum: a.sum, mn: a.mn, mx: a.mx };
    tn += a.n;
    tsum += a.sum;
    if (a.mn < tmin) tmin = a.mn;
    if (a.mx > tmax) tmax = a.mx;
    rows.push({ keys: [pop], stats: keyedBins ? statsOf(st, dense, lo, hi) : statsOf(st, dense, 0, -1) });
    // Into the total's bins, and cleared for the next POP.
    for (let x = lo; x <= hi; x++) {
      const c = dense[x]!;
      if (c === 0) continue;
      all[x]! += c;
      dense[x] = 0;
    }
    if (lo < allLo) allLo = lo;
    if (hi > allHi) allHi = hi;
  }
  return { rows, total: statsOf({ n: tn, sum: tsum, mn: tmin, mx: tmax }, all, allLo, allHi) };
}

const QS = [0.5, 0.95, 0.99] as const;

/**
 * Count, mean and the percentiles of the dense bins in [lo, hi] (none when the range is
 * empty), as planner.ts's `combine` reads them: the bin holding rank q·(n−1), its value
 * clamped to the exact min and max.
 */
function statsOf(st: { n: number; sum: number; mn: number; mx: number }, dense: Float64Array, lo: number, hi: number): AggregateStats {
  if (!(st.n > 0)) return { samples: 0, mean: null, p50: null, p95: null, p99: null };
  let count = 0;
  for (let x = lo; x <= hi; x++) count += dense[x]!;
  const out: Array<number | null> = [null, null, null];
  let q = 0;
  let seen = 0;
  let last = -1;
  for (let x = lo; x <= hi && q < QS.length; x++) {
    const c = dense[x]!;
    if (c === 0) continue;
    last = x;
    while (q < QS.length && seen + c > QS[q]! * (count - 1)) out[q++] = x;
    seen += c;
  }
  // Ranks past every bin (float sums): the last bin, as combine's reading does.
  for (; q < QS.length && last >= 0; q++) out[q] = last;
  const value = (x: number | null) => (x === null ? null : Math.min(st.mx, Math.max(st.mn, binValue(x - BIN_OFFSET))));
  return { samples: st.n, mean: st.sum / st.n, p50: value(out[0]!), p95: value(out[1]!), p99: value(out[2]!) };
}
