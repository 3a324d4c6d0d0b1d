/**
 * One POP's rolled-up sketches, kept in memory for its drill-down: hours with all functions
 * merged (rollup_pop_1h) for its series in 1 h (or 1 d) steps and its summary over a long
 * window, hours per function (rollup_1h) for its functions' table, and the minutes at a
 * window's edges per function (rollup_1m) for all three.
 *
 * Why: the 7 d drill-down reads 168 rows of rollup_pop_1h for its POP, but DuckDB's scan
 * decodes the bin lists of every POP's rows in the range to find them (rows go in
 * time-major; the POP filter is pushed down but an ART index was never chosen, see
 * docs/notes/week.md; EXPLAIN ANALYZE: 98 of 130 ms in that scan, 25 in the bins' hash
 * aggregate): 80–125 ms over HTTP for a week at 423 POPs. (Closed days of the hour tables are
 * now re-laid POP-major, pop-major.ts, so that first load decodes little more than the POP's rows.) Its functions' table reads
 * rollup_1h the same way at 5–10× the entries, and the minute edges rollup_1m at every
 * series' rows. The dashboard refetches the same POP every 10–60 s and closed periods do not
 * change once rolled up (a late point dirties them; the rollup step recomputes them and
 * invalidates them here), so each is read once and added in JS afterwards; a request then
 * reads from SQL only its partial edge minutes and dirty minutes (raw rows).
 *
 * Memory: ~150–250 bins per POP-hour (10 bytes each), ~0.3 MB per POP for a week (per
 * function: ~5× that); LRU by POP on bin entries (default 2M entries ≈ 20 MB per cache: a
 * week of ~70 POPs merged, or 90 days of ~6). A POP's periods older than its latest request
 * are dropped once it holds twice what that request asked for (a window sliding for hours).
 *
 * Consistency as in pop-blocks.ts: `invalidate` runs synchronously after the rollup step's
 * COMMIT; a load in flight across an invalidation of one of its periods is used for its own
 * answer but not cached.
 */
import type { DuckDBMaterializedResult } from '@duckdb/node-api';
import { readBlockRows, type PopBlock } from './pop-blocks.ts';
import { HOUR_NS, MINUTE_NS } from './rollup-sql.ts';
import { createInvalidationClock } from './invalidation-clock.ts';
import { selectRuns } from './period-runs.ts';
import { addBins, BIN_OFFSET, BIN_SPAN, untouched } from './dense-bins.ts';

/**
 * Which table: hours with every function merged (one block per hour), or hours or minutes per
 * function (one block per function and period, `pop` holding the function's name).
 */
export type PeriodTable = 'rollup_pop_1h' | 'rollup_1h' | 'rollup_1m';

/** Most hours one request takes from memory (120 days); a longer window reads its rollups in SQL instead. */
export const MAX_HOURS = 120 * 24;
/** Most minutes one request takes from memory (two days: a 24 h chart in minute steps); more read SQL instead. */
export const MAX_MINUTES = 2 * 24 * 60;

const DEFAULT_MAX_ENTRIES = 2_000_000;

type Columns = Record<string, unknown[]>;

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

export function createPopHourCache(
  read: (sql: string) => Promise<DuckDBMaterializedResult>,
  opts: { table?: PeriodTable; maxEntries?: number } = {},
) {
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const table = opts.table ?? 'rollup_pop_1h';
  /** Periods are epoch hours, or epoch minutes for rollup_1m. */
  const minutesPer = table === 'rollup_1m' ? 1 : 60;
  const len = table === 'rollup_1m' ? MINUTE_NS : HOUR_NS;
  /** POP → period → its blocks (none: the POP has no row in that period). Map order is the LRU order of POPs. */
  const byPop = new Map<string, Map<number, PopBlock[]>>();
  const sizes = new Map<string, number>();
  let entries = 0;
  /** Periods (epoch hours or minutes) invalidated while a load was in flight. */
  const clock = createInvalidationClock<number>();
  let loadsInFlight = 0;
  const stats = { hits: 0, loads: 0 };

  function drop(pop: string) {
    entries -= sizes.get(pop) ?? 0;
    byPop.delete(pop);
    sizes.delete(pop);
  }

  const sizeOf = (list: readonly PopBlock[] | undefined) => {
    let n = 0;
    for (const b of list ?? []) n += b.bins.length;
    return n;
  };

  function put(pop: string, periods: Map<number, PopBlock[]>, asked: readonly number[]) {
    let own = byPop.get(pop);
    if (!own) byPop.set(pop, (own = new Map()));
    let added = 0;
    for (const [h, list] of periods) {
      added += sizeOf(list) - sizeOf(own.get(h));
      own.set(h, list);
    }
    if (own.size > 2 * asked.length + 60) {
      // A window sliding for hours: forget what lies before this request.
      let first = Infinity;
      for (const h of asked) first = Math.min(first, h);
      for (const [h, list] of own) {
        if (h >= first) continue;
        added -= sizeOf(list);
        own.delete(h);
      }
    }
    sizes.set(pop, (sizes.get(pop) ?? 0) + added);
    entries += added;
    for (const p of byPop.keys()) {
      if (entries <= maxEntries || p === pop) break;
      drop(p);
    }
  }

  async function load(pop: string, hours: number[]): Promise<Map<number, PopBlock[]>> {
    stats.loads += hours.length;
    const wanted = new Set(hours);
    // The time ranges (one per run of periods: a window's minute edges are a week apart) prune row groups by
    // their zone maps; periods in them that were not asked for (dirty ones) are skipped.
    const key = table === 'rollup_pop_1h' ? 'pop_code' : 'function_name';
    const result = await read(selectRuns(hours, len, (lo, hi) => `SELECT t_ns // ${len} AS blk, ${key}, n, sum AS s, min AS mn, max AS mx, bins, counts FROM ${table}
      WHERE t_ns >= ${lo} AND t_ns < ${hi} AND pop_code = ${sqlString(pop)}`));
    const out = new Map<number, PopBlock[]>(hours.map((h) => [h, []]));
    readBlockRows(result, (h, block) => {
      if (wanted.has(h)) out.get(h)!.push(block);
    });
    return out;
  }

  /**
   * Loads in flight per POP, with the periods they read and the epoch they started in. The
   * drill-down asks for the same POP's periods several times at once (its chart, its summary
   * and its functions' table come together, the last two with the same minute edges); a
   * request whose periods another one is loading waits for that load instead of running the
   * same scan of every POP's rows behind it on the reader. Not shared once an invalidation
   * touched the period: the load may hold the old rollup.
   */
  const pending = new Map<string, Array<{ periods: ReadonlySet<number>; epoch: number; promise: Promise<Map<number, PopBlock[]>> }>>();

  /** The POP's blocks of these periods (each a closed, clean hour or minute of the plan), from memory or loaded in one statement. */
  async function get(pop: string, hours: readonly number[]): Promise<Map<number, PopBlock[]>> {
    const own = byPop.get(pop);
    const out = new Map<number, PopBlock[]>();
    const missing: number[] = [];
    const waits = new Map<Promise<Map<number, PopBlock[]>>, number[]>();
    const inFlight = pending.get(pop) ?? [];
    for (const h of hours) {
      const hit = own?.get(h);
      if (hit !== undefined) {
        out.set(h, hit);
        stats.hits++;
        continue;
      }
      const sharing = inFlight.find((l) => l.periods.has(h) && !clock.changedSince(h, l.epoch));
      if (sharing) {
        let list = waits.get(sharing.promise);
        if (!list) waits.set(sharing.promise, (list = []));
        list.push(h);
      } else missing.push(h);
    }
    if (own) {
      // LRU: the POP moves to the end.
      byPop.delete(pop);
      byPop.set(pop, own);
    }
    if (missing.length === 0 && waits.size === 0) return out;
    const startEpoch = clock.now();
    loadsInFlight++;
    let loaded: Map<number, PopBlock[]>;
    const entry = missing.length > 0 ? { periods: new Set(missing), epoch: startEpoch, promise: load(pop, missing) } : null;
    if (entry) {
      entry.promise.catch(() => undefined); // seen below (and by any waiter through its own await), even if a wait above throws first
      pending.set(pop, [...inFlight, entry]);
    }
    try {
      for (const [promise, list] of waits) {
        const got = await promise;
        for (const h of list) out.set(h, got.get(h) ?? []);
      }
      loaded = entry ? await entry.promise : new Map();
    } finally {
      loadsInFlight--;
      if (entry) {
        const rest = (pending.get(pop) ?? []).filter((l) => l !== entry);
        if (rest.length > 0) pending.set(pop, rest);
        else pending.delete(pop);
      }
    }
    const keep = new Map<number, PopBlock[]>();
    for (const [h, b] of loaded) {
      out.set(h, b);
      if (!clock.changedSince(h, startEpoch)) keep.set(h, b);
    }
    put(pop, keep, hours);
    if (loadsInFlight === 0) clock.forget();
    return out;
  }

  return {
    get,
    /** After the rollup step committed: forget every POP's periods holding one of these epoch minutes (null: everything). */
    invalidate(minutes: readonly number[] | null) {
      if (minutes === null) {
        clock.invalidate(null, loadsInFlight > 0);
        byPop.clear();
        sizes.clear();
        entries = 0;
        return;
      }
      const hours = new Set(minutes.map((m) => Math.floor(m / minutesPer)));
      clock.invalidate(hours, loadsInFlight > 0);
      for (const [pop, own] of byPop) {
        let removed = 0;
        for (const h of hours) {
          removed += sizeOf(own.get(h));
          own.delete(h);
        }
        sizes.set(pop, (sizes.get(pop) ?? 0) - removed);
        entries -= removed;
      }
    },
    stats: () => ({ ...stats, pops: byPop.size, entries }),
  };
}

export type PopHourCache = ReturnType<typeof createPopHourCache>;

/**
 * Adds blocks (grouped by their period's start, ns) and the SQL answer for the other parts
 * (same key column, its bins as lists per key) into the columns `combine` reads, keyed by
 * `keyOf(startNs, block)`: the step bucket of a series, one key for a whole-window summary,
 * or the block's function. Bins go through one dense array per
 * key, no maps and no sorting (as summarizeBlocks in pop-blocks.ts).
 */
export function mergeHours(
  periods: Iterable<readonly [bigint, readonly PopBlock[]]>,
  keyOf: (startNs: bigint, block: PopBlock) => unknown,
  keyName: string,
  sqlStats: Columns | null,
  sqlBins: Columns | null,
): { stats: Columns; bins: Columns } {
  interface Acc { key: unknown; n: number; sum: number; mn: number; mx: number; parts: Array<[ArrayLike<number>, ArrayLike<number>]> }
  const accs = new Map<string, Acc>();
  const acc = (key: unknown) => {
    const k = String(key);
    let a = accs.get(k);
    if (!a) accs.set(k, (a = { key, n: 0, sum: 0, mn: Infinity, mx: -Infinity, parts: [] }));
    return a;
  };
  for (const [t, list] of periods) {
    for (const b of list) {
      if (b.n === 0) continue;
      const a = acc(keyOf(t, b));
      a.n += b.n;
      a.sum += b.sum;
      if (b.mn < a.mn) a.mn = b.mn;
      if (b.mx > a.mx) a.mx = b.mx;
      a.parts.push([b.bins, b.counts]);
    }
  }
  if (sqlStats) {
    const keys = sqlStats[keyName] ?? [];
    for (let i = 0; i < keys.length; i++) {
      const a = acc(keys[i]);
      a.n += Number(sqlStats.n![i]);
      a.sum += Number(sqlStats.sum![i]);
      a.mn = Math.min(a.mn, Number(sqlStats.mn![i]));
      a.mx = Math.max(a.mx, Number(sqlStats.mx![i]));
    }
  }
  if (sqlBins) {
    const keys = sqlBins[keyName] ?? [];
    for (let i = 0; i < keys.length; i++) acc(keys[i]).parts.push([sqlBins.bs![i] as number[], sqlBins.cs![i] as number[]]);
  }
  const dense = new Float64Array(BIN_SPAN);
  const stats: Columns = { [keyName]: [], n: [], sum: [], mn: [], mx: [] };
  const bins: Columns = { [keyName]: [], bs: [], cs: [] };
  for (const a of accs.values()) {
    if (a.n === 0) continue;
    stats[keyName]!.push(a.key);
    stats.n!.push(a.n);
    stats.sum!.push(a.sum);
    stats.mn!.push(a.mn);
    stats.mx!.push(a.mx);
    const range = untouched();
    for (const [bs, cs] of a.parts) addBins(dense, bs, cs, range);
    const { lo, hi } = range;
    const b: number[] = [];
    const c: number[] = [];
    for (let x = lo; x <= hi; x++) {
      if (dense[x]! > 0) {
        b.push(x - BIN_OFFSET);
        c.push(dense[x]!);
        dense[x] = 0;
      }
    }
    bins[keyName]!.push(a.key);
    bins.bs!.push(b);
    bins.cs!.push(c);
  }
  return { stats, bins };
}

