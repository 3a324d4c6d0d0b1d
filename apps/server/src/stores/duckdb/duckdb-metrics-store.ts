/**
 * Embedded metrics store on DuckDB: one file in DATA_DIR that survives restarts.
 * Samples go in through write-path.ts, one transaction per group of concurrent
 * writes (all or nothing per write, last write wins per point);
 * reads and writes use separate connections so a large ingest does not hold up
 * the dashboard, and each connection runs one statement at a time.
 */
import type { ColdStartSample } from '@edgeworker/schema';
import type { Logger } from 'pino';
import type {
  Bucket,
  FunctionAggregate,
  MetricsStore,
  SeenPop,
  SeriesBucket,
  SeriesBucketsOptions,
  SeriesFilter,
  SeriesMean,
  Summary,
  TimeRange,
  TimeseriesAnswer,
} from '../metrics-store.ts';
import { CREATE_TABLES } from './schema.ts';
import { createGroupCommit } from './group-commit.ts';
import { createWritePath, type OnBatch } from './write-path.ts';
import { createSerialQueue } from './serial.ts';
import { num, STATS_COLUMNS, toStats, type Row } from './rows.ts';
import { openDuckDbFile } from './open.ts';
import { createRollups, type Rollups } from './rollups.ts';
import { createPopMajorLayout, type PopMajorLayout } from './pop-major.ts';
import { blocksOf, createPopBlockCache, summarizeBlocks, type PopBlock, type PopBlockCache } from './pop-blocks.ts';
import { readSeriesBucketColumns } from './series-buckets.ts';
import { bucketsOf, columnsOf, type TypedSeriesBucketColumns } from '../series-bucket-columns.ts';
import { createSeriesBlockCache, type SeriesBlockCache } from './series-blocks.ts';
import { createPopHourCache, mergeHours, MAX_HOURS, MAX_MINUTES, type PopHourCache } from './pop-hours.ts';
import { HOUR_NS, MINUTE_NS } from './rollup-sql.ts';
import { combine, filterParams, planRange, rawSeriesSumsStatement, rawSketchStatement, sketchStatements, type Keys, type KeyedStats, type Plan } from './planner.ts';

export interface DuckDbStoreOptions {
  /** Database file, or ':memory:'. */
  path: string;
  /** Samples older than this are deleted hourly; 0 keeps everything. */
  retentionMs?: number;
  /** rollup_1m rows older than this (and than retentionMs) are deleted hourly; 0 keeps them. Default 7 d. */
  retention1mMs?: number;
  /** rollup_1h rows older than this are deleted hourly; 0 keeps them. Default 90 d. */
  retention1hMs?: number;
  /** Per-POP blocks in memory for the unfiltered heatmap and overview, and one POP's hours for its drill-down (default true; false reads every rollup part in SQL: the bench's before/after). */
  popBlockCache?: boolean;
  /** Hours of per-POP blocks loaded in the background at start (default 24; 0: none). */
  warmBlocksHours?: number;
  /** DuckDB's memory_limit in bytes (its buffer pool; past it, large operators spill to disk); undefined: DuckDB's default, 80 % of RAM. */
  memoryLimitBytes?: number;
  /** Debounce of the rollup step after a commit (default 1 s). */
  rollupDelayMs?: number;
  /**
   * Closed days of the hour rollups re-laid POP-major in the background (pop-major.ts), starting this
   * long after open (default 30 s); null: never (read-only profiles of a kept file, tests that run it by hand).
   */
  popMajorDelayMs?: number | null;
  log?: Logger;
  now?: () => number;
  /** Called inside each write transaction before COMMIT (see write-path.ts); the rollups hook in here. */
  onBatch?: OnBatch;
}

const RETENTION_SWEEP_MS = 60 * 60 * 1000;
const SERIES_ROLLUP_MIN_STEP_MS = 10 * 60_000;
/** A group commit stops taking more requests at this many rows (one larger request still goes alone). */
const MAX_GROUP_ROWS = 200_000;

export interface DuckDbMetricsStore extends MetricsStore {
  /** The rollup machinery: `flush()` rolls up every closed dirty minute now (tests, bench). */
  readonly rollups: Rollups;
  /** Closed days re-laid POP-major (`runOnce()` re-lays every pending day now: tests, bench). */
  readonly popMajor: PopMajorLayout;
  /** Per-POP sketches of closed, clean blocks for the unfiltered heatmap and overview (stats for the bench). */
  readonly popBlocks: PopBlockCache;
  /** One POP's hour sketches for its series and summary over long windows (stats for the bench). */
  readonly popHours: PopHourCache;
  /** One POP's hour sketches per function, for its functions' table over long windows. */
  readonly popFunctionHours: PopHourCache;
  /** One POP's minute sketches per function (the edges of its long windows). */
  readonly popMinutes: PopHourCache;
  /** Per-series counts and sums of closed, clean periods for the POP statuses (stats for tests and the bench). */
  readonly seriesBlocks: SeriesBlockCache;
  seriesBucketColumns(range: TimeRange, stepMs: number, opts?: SeriesBucketsOptions): Promise<TypedSeriesBucketColumns>;
}

export async function createDuckDbMetricsStore(opts: DuckDbStoreOptions): Promise<DuckDbMetricsStore> {
  const instance = await openDuckDbFile(opts.path, 'metrics store', duckDbSettings(opts));
  const writer = await instance.connect();
  const reader = await instance.connect();
  const writeQueue = createSerialQueue();
  const readQueue = createSerialQueue();
  for (const ddl of CREATE_TABLES) await writer.run(ddl);

  let closed = false;
  let closing: Promise<void> | undefined;
  const assertOpen = () => {
    if (closed) throw new Error('the embedded metrics store is closed');
  };
  const read = (sql: string, params?: Record<string, string | number | bigint>) =>
    readQueue(async () => {
      assertOpen();
      return (await reader.runAndReadAll(sql, params)).getRowObjectsJS() as Row[];
    });

  // In-memory mirrors of the small side tables: the hot paths never query them.
  const pops = new Map<string, SeenPop>();
  for (const r of await read('SELECT * FROM pops_seen')) {
    const p = toSeenPop(r);
    pops.set(p.popCode, p);
  }
  const functions = new Set<string>((await read('SELECT function_name FROM functions_seen')).map((r) => String(r.function_name)));

  const retention = opts.retentionMs && opts.retentionMs > 0 ? opts.retentionMs : 0;
  const now = opts.now ?? Date.now;
  // Per-POP blocks read through the reader; the rollup step tells the cache what it recomputed.
  const popBlocks = createPopBlockCache((sql) =>
    readQueue(async () => {
      assertOpen();
      return reader.run(sql);
    }),
  );
  // Per-series counts and sums of whole days and hours (seriesMeans: POP statuses over long windows).
  const seriesBlocks = createSeriesBlockCache((sql, params) =>
    readQueue(async () => {
      assertOpen();
      return reader.run(sql, params);
    }),
  );
  // One POP's hours (its drill-down's series and summary over long windows; per function for its functions' table).
  const readBlocks = (sql: string) =>
    readQueue(async () => {
      assertOpen();
      return reader.run(sql);
    });
  const popHours = createPopHourCache(readBlocks);
  const popFunctionHours = createPopHourCache(readBlocks, { table: 'rollup_1h' });
  const popMinutes = createPopHourCache(readBlocks, { table: 'rollup_1m' });
  const rollups = await createRollups({
    conn: writer, invalidate: (m) => (popBlocks.invalidate(m), seriesBlocks.invalidate(m), popHours.invalidate(m), popFunctionHours.invalidate(m), popMinutes.invalidate(m)), writeQueue, isClosed: () => closed, now, log: opts.log,
    retentionMs: retention, retention1mMs: opts.retention1mMs ?? 7 * 86_400_000, retention1hMs: opts.retention1hMs ?? 90 * 86_400_000,
    ...(opts.rollupDelayMs !== undefined ? { delayMs: opts.rollupDelayMs } : {}),
  });
  rollups.afterCommit(); // minutes left dirty by the last run (or a file from before rollups)
  // One POP's rows of a closed day together, so its first drill-down decodes its own rows, not every POP's.
  const popMajor = await createPopMajorLayout({ conn: writer, writeQueue, isClosed: () => closed, now, dirtyHours: rollups.dirty.hours, log: opts.log, startDelayMs: opts.popMajorDelayMs ?? undefined });
  if (opts.popMajorDelayMs !== null) popMajor.start();
  const sweep = setInterval(() => {
    rollups.sweep().catch((err) => opts.log?.warn({ err }, 'retention sweep failed; old samples stay until the next sweep'));
  }, RETENTION_SWEEP_MS);
  sweep.unref();

  // Concurrent writes share one transaction (group commit); each resolves after its COMMIT.
  // The rollups mark the minutes a transaction touched inside it, so the marks commit or roll back with the rows.
  const onBatch: OnBatch = async (conn, batch) => {
    await rollups.recordDirty(conn, batch);
    if (opts.onBatch) await opts.onBatch(conn, batch);
  };
  const writePath = await createWritePath(writer, { pops, functions }, { onBatch });
  const groupCommit = createGroupCommit<readonly ColdStartSample[]>(
    (batches) =>
      writeQueue(async () => {
        assertOpen();
        await writePath.write(batches);
      }),
    { sizeOf: (b) => b.length, maxGroupSize: MAX_GROUP_ROWS },
  );

  async function write(input: readonly ColdStartSample[]): Promise<void> {
    const samples = rollups.dropExpired(input);
    if (samples.length === 0) return;
    await groupCommit.submit(samples);
    rollups.afterCommit();
  }

  const readColumns = (sql: string, params?: Record<string, string>) =>
    readQueue(async () => {
      assertOpen();
      return (await reader.runAndReadAll(sql, params)).getColumnsObjectJS() as Record<string, unknown[]>;
    });

  /** The two statements of a planned answer in one read transaction, so both see the same snapshot. */
  function readSketch(sql: { stats: string; bins: string }, params?: Record<string, string>) {
    return readQueue(async () => {
      assertOpen();
      await reader.run('BEGIN TRANSACTION');
      try {
        const st = (await reader.runAndReadAll(sql.stats, params)).getColumnsObjectJS() as Record<string, unknown[]>;
        const bb = (await reader.runAndReadAll(sql.bins, params)).getColumnsObjectJS() as Record<string, unknown[]>;
        await reader.run('COMMIT');
        return [st, bb] as const;
      } catch (err) {
        await reader.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  /** A planned answer from rollups (plus raw edges), or null when the plan reads raw rows only. */
  async function fromSketch(plan: Plan, keys: Keys, filter: SeriesFilter | undefined, total = false, keyedBins = true) {
    if (plan.resolution === 'raw') return null;
    const sql = sketchStatements(plan, keys, filter, keyedBins);
    const [stats, bins] = await readSketch(sql, filterParams(filter));
    return combine(stats, bins, keys.map((k) => k.name), total);
  }

  /**
   * One POP (its series, its summary, its functions): the plan's whole hours and clean
   * minutes from the POP's sketches in memory (`hourCache`: merged over functions or per
   * function; minutes per function), only the raw parts (partial edge minutes, dirty
   * minutes) in SQL. `keyOf` maps a period's block to the answer's one key (it must equal
   * what the key's SQL gives for that period's rows).
   */
  async function fromPopPeriods(
    hourCache: PopHourCache, popCode: string, plan: Plan, key: Keys[number], keyOf: (startNs: bigint, block: PopBlock) => unknown, total = false,
  ) {
    if (plan.resolution === 'raw') return null;
    const filter = { popCode };
    const periodsOf = (source: '1h' | '1m', len: bigint, max: number) => {
      const parts = plan.parts.filter((p) => p.source === source);
      let count = 0n;
      for (const p of parts) count += (p.toNs - p.fromNs) / len;
      if (count > BigInt(max)) return null;
      const out: number[] = [];
      for (const p of parts) for (let i = Number(p.fromNs / len); i < Number(p.toNs / len); i++) out.push(i);
      return out;
    };
    const hours = periodsOf('1h', HOUR_NS, MAX_HOURS);
    const minutes = periodsOf('1m', MINUTE_NS, MAX_MINUTES);
    if (opts.popBlockCache === false || !hours || !minutes) return fromSketch(plan, [key], filter, total);
    const hourBlocks = hours.length > 0 ? await hourCache.get(popCode, hours) : new Map<number, PopBlock[]>();
    const minuteBlocks = minutes.length > 0 ? await popMinutes.get(popCode, minutes) : new Map<number, PopBlock[]>();
    const rest = plan.parts.filter((p) => p.source === 'raw');
    // Stats and bins of the raw parts come back together (the same columns serve as both).
    const raw = rest.length > 0 ? await readColumns(rawSketchStatement(rest, key, filter), filterParams(filter)) : null;
    const periods: Array<readonly [bigint, readonly PopBlock[]]> = [];
    for (const [h, list] of hourBlocks) periods.push([BigInt(h) * HOUR_NS, list]);
    for (const [m, list] of minuteBlocks) periods.push([BigInt(m) * MINUTE_NS, list]);
    const merged = mergeHours(periods, keyOf, key.name, raw, raw);
    return combine(merged.stats, merged.bins, [key.name], total);
  }

  /**
   * The unfiltered per-POP answer (heatmap, overview): rolled-up parts from the in-memory
   * per-POP blocks, only the raw parts (partial edge minutes, dirty minutes) from SQL.
   */
  async function fromPopBlocks(plan: Plan, keyedBins: boolean) {
    const refs = blocksOf(plan.parts);
    if (!refs) return fromSketch(plan, [{ name: 'pop_code', sql: 'pop_code' }], undefined, true, keyedBins);
    const rolledUp = await popBlocks.getWindow(refs);
    const rawParts = plan.parts.filter((p) => p.source === 'raw');
    // The raw parts' stats and bins per POP in one statement (one scan, one round trip on the reader instead of
    // BEGIN, two statements, COMMIT); for the total's quantiles only, the POPs' bins are added together.
    const raw = rawParts.length > 0 ? await readColumns(rawSketchStatement(rawParts, { name: 'pop_code', sql: 'pop_code' }, undefined)) : null;
    return summarizeBlocks(raw, [rolledUp], keyedBins);
  }

  // Load the last day's per-POP blocks in the background right after start, so the first
  // 24 h heatmap does not pay for them (~0.4 s for a day at the default rate). Best effort:
  // a failure (or a close meanwhile) only means the first request loads them itself.
  if (opts.popBlockCache !== false && (opts.warmBlocksHours ?? 24) > 0) {
    const warm = setTimeout(() => {
      if (closed) return;
      const toNs = BigInt(now()) * 1_000_000n;
      // Whole seconds: DUCKDB_WARM_WINDOW may be any duration (90m is 1.5 hours).
      const plan = planRange({ fromNs: toNs - BigInt(Math.round((opts.warmBlocksHours ?? 24) * 3600)) * 1_000_000_000n, toNs }, rollups.dirty);
      const refs = plan.resolution === 'raw' ? null : blocksOf(plan.parts);
      if (refs) {
        popBlocks.getWindow(refs)
          .then(() => seriesBlocks.seriesMeans(plan.parts, undefined, null))
          .catch((err) => opts.log?.debug({ err }, 'warming the per-POP blocks failed; the first request loads them'));
      }
    }, 0);
    warm.unref?.();
  }

  function where(range: TimeRange, filter: SeriesFilter | undefined, extra = '') {
    const params: Record<string, string | bigint | number> = { from: range.fromNs, to: range.toNs };
    let sql = 'time_ns >= $from AND time_ns < $to';
    if (filter?.functionName) {
      sql += ' AND function_name = $fn';
      params.fn = filter.functionName;
    }
    if (filter?.popCode) {
      sql += ' AND pop_code = $popFilter';
      params.popFilter = filter.popCode;
    }
    return { sql: sql + extra, params };
  }

  /**
   * seriesBuckets from the rollups: coarse steps over long ranges (a detector looking back a
   * week). Fine steps (the live detector's 10 s over 35 min) read raw rows (null here), exact
   * and cheaper than ~150k keyed sketches.
   */
  async function rolledUpSeriesBuckets(range: TimeRange, stepMs: number, pops?: readonly string[]): Promise<SeriesBucket[] | null> {
    if (stepMs < SERIES_ROLLUP_MIN_STEP_MS) return null;
    const stepNs = BigInt(stepMs) * 1_000_000n;
    const planned = await fromSketch(planRange(range, rollups.dirty, stepMs), [
      { name: 'pop_code', sql: 'pop_code' }, { name: 'function_name', sql: 'function_name' }, { name: 'bucket', sql: `($t // ${stepNs}) * ${stepNs}` },
    ], undefined);
    if (!planned) return null;
    // A POP filter here is applied to the answer (the live detector reads raw rows; only a coarse
    // read over a long range comes this way, and none the detector makes today).
    const wanted = pops ? new Set(pops) : null;
    return planned.rows.filter(({ keys }: KeyedStats) => !wanted || wanted.has(String(keys[0]))).map(({ keys, stats: s }: KeyedStats) => ({
      popCode: String(keys[0]), functionName: String(keys[1]), startMs: Number(BigInt(keys[2] as bigint) / 1_000_000n),
      samples: s.samples, mean: s.mean ?? 0, p50: s.p50 ?? 0,
    }));
  }

  /** Raw rows, read from DuckDB's chunks into typed arrays (series-buckets.ts: row objects cost 5x the query). */
  function rawSeriesBucketColumns(range: TimeRange, stepMs: number, opts?: SeriesBucketsOptions) {
    return readQueue(async () => {
      assertOpen();
      return readSeriesBucketColumns((sql) => reader.stream(sql), range, stepMs, opts);
    });
  }

  return {
    kind: 'duckdb',
    rollups,
    popMajor,
    popBlocks,
    popHours,
    popFunctionHours,
    popMinutes,
    seriesBlocks,
    write,
    async summarize(range, filter, options): Promise<Summary> {
      const plan = planRange(range, rollups.dirty);
      const unfiltered = filter?.functionName === undefined && filter?.popCode === undefined;
      const onePop = filter?.functionName === undefined && filter?.popCode !== undefined;
      const popKey = { name: 'pop_code', sql: 'pop_code' };
      const planned = plan.resolution !== 'raw' && unfiltered && opts.popBlockCache !== false
        ? await fromPopBlocks(plan, options?.popQuantiles !== false)
        : onePop
          ? await fromPopPeriods(popHours, filter.popCode!, plan, popKey, () => filter.popCode, true)
          : await fromSketch(plan, [popKey], filter, true, options?.popQuantiles !== false);
      if (planned) {
        return {
          overall: planned.total!,
          byPop: planned.rows.map((r) => ({ popCode: String(r.keys[0]), ...r.stats })),
          resolution: plan.resolution,
        };
      }
      const w = where(range, filter);
      const rows = await read(
        `SELECT pop_code, ${STATS_COLUMNS} FROM cold_start_metrics WHERE ${w.sql}
         GROUP BY GROUPING SETS ((pop_code), ())`,
        w.params,
      );
      const overallRow = rows.find((r) => r.pop_code === null);
      return {
        overall: overallRow ? toStats(overallRow) : toStats({ n: 0 }),
        byPop: rows.filter((r) => r.pop_code !== null).map((r) => ({ popCode: String(r.pop_code), ...toStats(r) })),
        resolution: 'raw',
      };
    },
    async byFunction(popCode, range): Promise<FunctionAggregate[]> {
      // Whole hours from the POP's per-function hour sketches in memory (the drill-down's table refetches every 10 s).
      const planned = await fromPopPeriods(popFunctionHours, popCode, planRange(range, rollups.dirty), { name: 'function_name', sql: 'function_name' }, (_, b) => b.pop);
      if (planned) {
        return planned.rows
          .map((r) => ({ functionName: String(r.keys[0]), ...r.stats }))
          .sort((a, b) => (a.functionName < b.functionName ? -1 : a.functionName > b.functionName ? 1 : 0));
      }
      const w = where(range, undefined, ' AND pop_code = $pop');
      const rows = await read(
        `SELECT function_name, ${STATS_COLUMNS} FROM cold_start_metrics WHERE ${w.sql}
         GROUP BY function_name ORDER BY function_name`,
        { ...w.params, pop: popCode },
      );
      return rows.map((r) => ({ functionName: String(r.function_name), ...toStats(r) }));
    },
    async timeseries(popCode, range, stepMs, filter): Promise<TimeseriesAnswer> {
      const plan = planRange(range, rollups.dirty, stepMs);
      const stepNs = BigInt(stepMs) * 1_000_000n;
      const bucket = { name: 'bucket', sql: `($t // ${stepNs}) * ${stepNs}` };
      // Over every function (the drill-down's chart): whole hours and clean minutes from the POP's sketches in memory.
      // A period nests in a step whenever the plan has it (planRange allows hours for steps of whole hours, minutes for whole minutes).
      const planned = filter?.functionName === undefined
        ? await fromPopPeriods(popHours, popCode, plan, bucket, (t) => (t / stepNs) * stepNs)
        : await fromSketch(plan, [bucket], { ...filter, popCode });
      if (planned) {
        const buckets = planned.rows
          .map((r) => ({ startMs: Number(BigInt(r.keys[0] as bigint) / 1_000_000n), ...r.stats }))
          .sort((a, b) => a.startMs - b.startMs);
        return { buckets, resolution: plan.resolution };
      }
      const w = where(range, filter, ' AND pop_code = $pop');
      const rows = await read(
        `SELECT (time_ns // $step) * $step AS bucket, ${STATS_COLUMNS} FROM cold_start_metrics WHERE ${w.sql}
         GROUP BY bucket ORDER BY bucket`,
        { ...w.params, pop: popCode, step: BigInt(stepMs) * 1_000_000n },
      );
      const buckets: Bucket[] = rows.map((r) => ({ startMs: Number((r.bucket as bigint) / 1_000_000n), ...toStats(r) }));
      return { buckets, resolution: 'raw' };
    },
    async seriesMeans(range, filter): Promise<SeriesMean[]> {
      // Counts and sums only: exact from the rollups at any span, so even short windows (the heatmap's "recently
      // reporting" 3 minutes, the 5 min statuses) take their closed, clean minutes from the blocks in memory.
      const plan = planRange(range, rollups.dirty, undefined, { rawMaxSpanNs: 2n * MINUTE_NS });
      if (plan.resolution !== 'raw') {
        const seriesKeys = [{ name: 'pop_code', sql: 'pop_code' }, { name: 'function_name', sql: 'function_name' }];
        // Rolled-up parts (days, hours, 10 and 1 minutes) from the per-series blocks in memory; only the raw parts in SQL.
        const rawSql = rawSeriesSumsStatement(plan.parts, filter);
        const fromBlocks = opts.popBlockCache === false ? null : await seriesBlocks.seriesMeans(plan.parts, filter, rawSql === null ? null : { sql: rawSql, params: filterParams(filter) });
        if (fromBlocks) return fromBlocks;
        // Only the stats statement of the plan: counts and sums per series, no bins.
        const { stats } = sketchStatements(plan, seriesKeys, filter, false);
        const rows = await read(stats, filterParams(filter));
        return rows.map((r) => {
          const n = num(r.n) ?? 0;
          return { popCode: String(r.pop_code), functionName: String(r.function_name), samples: n, mean: n > 0 ? (num(r.sum) ?? 0) / n : 0 };
        });
      }
      const w = where(range, filter);
      const rows = await read(
        `SELECT pop_code, function_name, count(*) AS n, avg(cold_start_time_ms) AS mean FROM cold_start_metrics WHERE ${w.sql} GROUP BY ALL`,
        w.params,
      );
      return rows.map((r) => ({ popCode: String(r.pop_code), functionName: String(r.function_name), samples: num(r.n) ?? 0, mean: num(r.mean) ?? 0 }));
    },
    async seriesBuckets(range, stepMs, opts): Promise<SeriesBucket[]> {
      return (await rolledUpSeriesBuckets(range, stepMs, opts?.pops)) ?? bucketsOf(await rawSeriesBucketColumns(range, stepMs, opts));
    },
    async seriesBucketColumns(range, stepMs, opts) {
      const planned = await rolledUpSeriesBuckets(range, stepMs, opts?.pops);
      return planned ? columnsOf(planned) : rawSeriesBucketColumns(range, stepMs, opts);
    },
    async seenPops() {
      return [...pops.values()];
    },
    async seenFunctions() {
      return [...functions].sort();
    },
    async latestSampleNs() {
      assertOpen();
      return writePath.latestNs();
    },
    async ping() {
      await read('SELECT 1 AS ok');
    },
    close() {
      closing ??= (async () => {
        clearInterval(sweep);
        rollups.stop();
        popMajor.stop();
        // Inside both queues, so no statement runs while the connections close, and every
        // job queued after this one finds the store closed (a statement on a closed
        // connection is a use-after-free in the native binding: SIGSEGV, not an error).
        await writeQueue(() =>
          readQueue(async () => {
            await writer.run('CHECKPOINT').catch((err) => opts.log?.warn({ err }, 'checkpoint on close failed; the WAL replays at next start'));
            closed = true;
            writer.closeSync();
            reader.closeSync();
            instance.closeSync();
          }),
        );
      })();
      return closing;
    },
  };
}

/**
 * Settings at open. DuckDB counts memory_limit in its own units; KiB keeps the configured bytes.
 *
 * allocator_background_threads: DuckDB allocates through its own jemalloc (linked into
 * libduckdb; glibc's MALLOC_* variables do nothing to it), and without jemalloc's background
 * threads an arena gives freed pages back to the OS only when that arena allocates again
 * (docs/notes/rss-4.md: after a 20M-row table was aggregated and dropped, RssAnon stayed at
 * 457 MiB; with the threads it fell to 61 MiB within 3 s). The threads purge on jemalloc's
 * decay clock instead. DuckDB's own buffer pool (memory_limit) is not affected by this.
 */
export function duckDbSettings(opts: Pick<DuckDbStoreOptions, 'memoryLimitBytes'>): Record<string, string> {
  return {
    ...(opts.memoryLimitBytes !== undefined ? { memory_limit: `${Math.floor(opts.memoryLimitBytes / 1024)}KiB` } : {}),
    allocator_background_threads: 'true',
  };
}

function toSeenPop(r: Row): SeenPop {
  return {
    popCode: String(r.pop_code),
    city: String(r.city),
    country: String(r.country),
    tier: String(r.tier),
    lat: num(r.latitude) ?? 0,
    lon: num(r.longitude) ?? 0,
    lastSeenNs: typeof r.last_seen_ns === 'bigint' ? r.last_seen_ns : 0n,
  };
}
