/**
 * MetricsStore on InfluxDB through the v1 HTTP API: line protocol on /write (the
 * generator's sink, the same code path the standalone generator uses) and InfluxQL on
 * /query. Works on InfluxDB 1.x, on 2.x through a DBRP mapping, and on 3.x Core.
 *
 * InfluxDB keeps one point per (series, timestamp): writing the same sample twice
 * overwrites it, which is what makes replays after an outage exactly-once.
 */
import { createInfluxHttpSink } from '@edgeworker/generator';
import type { ColdStartSample } from '@edgeworker/schema';
import type { Logger } from 'pino';
import type { AggregateStats, FunctionAggregate, MetricsStore, SeenPop, SeriesBucket, SeriesMean, Summary, TimeRange, TimeseriesAnswer } from '../metrics-store.ts';
import { createInfluxClient, InfluxError, type InfluxSeries } from './influx-client.ts';
import { q } from './influxql.ts';
import { coarsest, plan, type RollupCoverage, type Segment } from './planner.ts';
import { readCoverage } from './rollup-keeper.ts';
import { createSegmentCache, readMeans, readPlanned, type PlannedRead } from './rollup-reader.ts';
import { emptyAgg, mergeAgg, statsOf } from './rollup-agg.ts';
import { TAG } from '@edgeworker/schema';
import { createSeenPops } from './seen-pops.ts';
import { RAW_SERIES_BUCKETS_MAX_MS, readRawSeriesBucketColumns } from './series-buckets.ts';
import { bucketsOf, columnsOf } from '../series-bucket-columns.ts';

export interface InfluxStoreOptions {
  url: string;
  db: string;
  token?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  timeoutMs: number;
  log?: Logger;
  now?: () => number;
  /** How long the POP / function lists are reused before asking InfluxDB again. */
  metadataTtlMs?: number;
  /** Longest a request waits for the seen-POPs catalog before it answers with what is known (seen-pops.ts). */
  seenPopsWaitMs?: number;
  /** A full read of the seen POPs this often, in the background. */
  seenPopsReloadMs?: number;
  /**
   * Read long windows from the rollups the keeper (rollup-keeper.ts) maintains.
   * Absent: every answer from raw samples.
   */
  rollups?: {
    /** Windows up to this long read raw samples (exact percentiles). */
    rawMaxMs: number;
    /** Longest raw part a mixed plan may have; longer ones answer all raw. */
    rawEdgeMaxMs?: number;
    /** How long the keeper's coverage is reused before reading it again. */
    coverageTtlMs?: number;
  };
}

const EMPTY: AggregateStats = { samples: 0, mean: null, p50: null, p95: null, p99: null };
/** Background reads (the full seen-POPs read) may take longer than an API answer. */
const SLOW_READ_TIMEOUT_MS = 120_000;
/** The watermark first looks this far back, so the common case scans recent shards only. */
const RECENT_NS = 3_600_000_000_000n;
/**
 * Per-series means of windows up to this long read the 1 min rollups in one statement
 * (seriesMeans): the 2 h window with room to spare (the query service asks for [now - 2 h, now + 1 ms)).
 */
const MEANS_1M_MAX_MS = 150 * 60_000;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Maps one row of `STATS` columns to the port's stats. */
function stats(series: InfluxSeries, row: unknown[]): AggregateStats {
  const col = (name: string) => row[series.columns.indexOf(name)];
  const samples = num(col('n')) ?? 0;
  if (samples === 0) return EMPTY;
  return { samples, mean: num(col('mean')), p50: num(col('p50')), p95: num(col('p95')), p99: num(col('p99')) };
}

export async function createInfluxDbMetricsStore(opts: InfluxStoreOptions): Promise<MetricsStore> {
  const now = opts.now ?? Date.now;
  const ttl = opts.metadataTtlMs ?? 5000;
  const client = createInfluxClient(opts);
  const sink = createInfluxHttpSink({
    url: opts.url,
    db: opts.db,
    token: opts.token,
    username: opts.username,
    password: opts.password,
    precision: 'ns',
    gzip: true,
    timeoutMs: opts.timeoutMs,
  });
  let closed = false;
  const assertOpen = () => {
    if (closed) throw new Error('the InfluxDB metrics store is closed');
  };

  // Start-up must not depend on InfluxDB being up: the server starts degraded and
  // the resilient wrapper reconnects. Creating the database is retried on first write.
  let dbReady: Promise<void> | undefined;
  const ensureDb = () => {
    dbReady ??= client.createDatabase().catch((err) => {
      dbReady = undefined;
      throw err;
    });
    return dbReady;
  };
  await ensureDb().catch((err) => opts.log?.warn({ err: (err as Error).message }, 'InfluxDB not ready at start; will retry'));

  // POP and function lists change rarely and are asked for on every overview; keep them briefly.
  const seen = createSeenPops({
    client: createInfluxClient({ ...opts, timeoutMs: Math.max(opts.timeoutMs, SLOW_READ_TIMEOUT_MS) }),
    now,
    waitMs: opts.seenPopsWaitMs ?? Math.min(opts.timeoutMs, 1000),
    fullReloadMs: opts.seenPopsReloadMs ?? 3_600_000,
    log: opts.log,
  });
  let fnCache: { at: number; value: string[] } | undefined;
  let watermark: bigint | null = null;
  const invalidate = () => {
    fnCache = undefined;
  };

  // What the keeper has made complete; read from InfluxDB, so every replica plans alike.
  let coverageCache: { at: number; value: RollupCoverage | null } | undefined;
  const segments = createSegmentCache(128, now);
  async function coverage(): Promise<RollupCoverage | null> {
    if (!opts.rollups) return null;
    if (coverageCache && now() - coverageCache.at < (opts.rollups.coverageTtlMs ?? 2000)) return coverageCache.value;
    // Without it the answer is raw and exact, only slower: a failure here is no outage.
    const value = await readCoverage(client).catch(() => null);
    coverageCache = { at: now(), value };
    segments.sync(value?.generation ?? -1);
    return value;
  }
  async function planFor(range: TimeRange, stepMs?: number, rawMaxMs = opts.rollups?.rawMaxMs ?? 0): Promise<Segment[] | null> {
    if (!opts.rollups) return null;
    const segs = plan(range, await coverage(), { rawMaxMs, rawEdgeMaxMs: opts.rollups.rawEdgeMaxMs ?? 15 * 60_000, stepMs });
    return segs.length === 1 && segs[0]!.resolution === 'raw' ? null : segs;
  }
  const planned = (segs: Segment[], read: PlannedRead) => readPlanned(client, segs, read, segments);

  async function write(samples: readonly ColdStartSample[]) {
    assertOpen();
    if (samples.length === 0) return;
    await ensureDb();
    try {
      await sink([...samples]);
    } catch (err) {
      throw new InfluxError('server', `writing ${samples.length} samples to InfluxDB failed: ${(err as Error).message}`, { cause: err });
    }
    // A new POP or function must show at once, not after the metadata TTL.
    seen.noteWritten(samples);
    invalidate();
  }

  const store: MetricsStore = {
    kind: 'influxdb',
    write,
    async summarize(range, filter): Promise<Summary> {
      assertOpen();
      const segs = await planFor(range);
      if (segs) {
        const cells = await planned(segs, { filter, groupBy: TAG.popCode });
        const overall = emptyAgg();
        for (const c of cells) mergeAgg(overall, c.agg);
        return {
          overall: statsOf(overall),
          byPop: cells.filter((c) => c.agg.n > 0).map((c) => ({ popCode: c.key, ...statsOf(c.agg) })),
          resolution: coarsest(segs),
        };
      }
      const [overall, byPop] = await client.query([q.overall(range, filter), q.byPop(range, filter)]);
      const o = overall?.[0];
      return {
        overall: o?.values[0] ? stats(o, o.values[0]) : EMPTY,
        byPop: (byPop ?? [])
          .filter((s) => s.values[0])
          .map((s) => ({ popCode: s.tags?.pop_code ?? '', ...stats(s, s.values[0]!) }))
          .filter((p) => p.samples > 0),
        resolution: 'raw',
      };
    },
    async byFunction(popCode, range): Promise<FunctionAggregate[]> {
      assertOpen();
      const segs = await planFor(range);
      if (segs) {
        const cells = await planned(segs, { filter: { popCode }, groupBy: TAG.functionName });
        return cells
          .filter((c) => c.agg.n > 0)
          .map((c) => ({ functionName: c.key, ...statsOf(c.agg) }))
          .sort((a, b) => a.functionName.localeCompare(b.functionName));
      }
      const [res] = await client.query([q.byFunction(popCode, range)]);
      return (res ?? [])
        .filter((s) => s.values[0])
        .map((s) => ({ functionName: s.tags?.function_name ?? '', ...stats(s, s.values[0]!) }))
        .filter((f) => f.samples > 0)
        .sort((a, b) => a.functionName.localeCompare(b.functionName));
    },
    async timeseries(popCode, range, stepMs, filter): Promise<TimeseriesAnswer> {
      assertOpen();
      const segs = await planFor(range, stepMs);
      if (segs) {
        const cells = await planned(segs, { filter: { ...filter, popCode }, stepMs });
        return {
          buckets: cells.filter((c) => c.agg.n > 0).map((c) => ({ startMs: c.startMs, ...statsOf(c.agg) })).sort((a, b) => a.startMs - b.startMs),
          resolution: coarsest(segs),
        };
      }
      const [res] = await client.query([q.timeseries(popCode, range, stepMs, filter)]);
      const s = res?.[0];
      if (!s) return { buckets: [], resolution: 'raw' };
      return { buckets: s.values.map((row) => ({ startMs: Number(row[0]), ...stats(s, row) })).filter((b) => b.samples > 0), resolution: 'raw' };
    },
    async seriesMeans(range, filter): Promise<SeriesMean[]> {
      assertOpen();
      // Planned like summarize, but InfluxDB sums counts and sums itself: no sketch and no raw
      // point of a rolled-up period leaves the server. Counts and means are exact from rollups,
      // so short windows use them too (raw windows are for exact percentiles): the POPs
      // reporting in the last few minutes then read the same raw tail as the heatmap beside them.
      // Up to 2.5 h, the whole rolled-up part from the 1 min level in one statement (a 60 s step
      // leaves the planner only 1 min periods). At 2,115 series a statement costs influxd about
      // 110 ms whatever its range and the rows of 2 h only ~55 ms more, so a new server's first
      // answer reads one statement instead of the five of a 1 h / 10 min / 1 min plan; a refresh
      // re-reads it once a minute, where the plan re-reads its two 1 min edges (docs/notes/influx-3.md).
      // Longer windows keep the plan: their 1 min rows would outweigh the statements saved.
      const oneStatement = range.toNs - range.fromNs <= BigInt(MEANS_1M_MAX_MS) * 1_000_000n;
      const segs = (await planFor(range, oneStatement ? 60_000 : undefined, 0)) ?? [{ ...range, resolution: 'raw' as const }];
      return readMeans(client, segs, filter, segments);
    },
    async seriesBuckets(range, stepMs, opts): Promise<SeriesBucket[]> {
      assertOpen();
      // Short ranges (the detector's): raw values bucketed here, ~4x faster than the server's windows (series-buckets.ts).
      if (range.toNs - range.fromNs <= BigInt(RAW_SERIES_BUCKETS_MAX_MS) * 1_000_000n) return bucketsOf(await readRawSeriesBucketColumns(client, range, stepMs, opts));
      if (opts?.pops?.length === 0) return [];
      const [res] = await client.query([q.seriesBuckets(range, stepMs, opts?.pops)]);
      const out: SeriesBucket[] = [];
      for (const s of res ?? []) {
        const [iN, iMean, iP50] = ['n', 'mean', 'p50'].map((c) => s.columns.indexOf(c)) as [number, number, number];
        for (const row of s.values) {
          const samples = num(row[iN]) ?? 0;
          if (samples === 0) continue;
          out.push({
            popCode: s.tags?.pop_code ?? '',
            functionName: s.tags?.function_name ?? '',
            startMs: Number(row[0]),
            samples,
            mean: num(row[iMean]) ?? 0,
            p50: num(row[iP50]) ?? 0,
          });
        }
      }
      return out;
    },
    async seriesBucketColumns(range, stepMs, opts) {
      assertOpen();
      if (range.toNs - range.fromNs <= BigInt(RAW_SERIES_BUCKETS_MAX_MS) * 1_000_000n) return readRawSeriesBucketColumns(client, range, stepMs, opts);
      return columnsOf(await this.seriesBuckets(range, stepMs, opts));
    },
    async seenPops(): Promise<SeenPop[]> {
      assertOpen();
      return seen.list();
    },
    async seenFunctions(): Promise<string[]> {
      assertOpen();
      if (fnCache && now() - fnCache.at < ttl) return fnCache.value;
      const [res] = await client.query([q.functions()]);
      const names = new Set<string>();
      for (const s of res ?? []) for (const row of s.values) if (typeof row[1] === 'string') names.add(row[1]);
      const value = [...names].sort();
      fnCache = { at: now(), value };
      return value;
    },
    async latestSampleNs(): Promise<bigint | null> {
      assertOpen();
      const recent = BigInt(now()) * 1_000_000n - RECENT_NS;
      let [res] = await client.query([q.latest(recent)]);
      if (!res?.[0]?.values[0]) {
        // Nothing in the last hour (ingest stopped): the newest sample is the one found before,
        // so the all-time query (every shard) runs once, not at every poll and /health for as
        // long as the silence lasts. A point written since with an older timestamp is a backfill,
        // which the watermark does not announce anyway (README, Known limits).
        if (watermark !== null && watermark < recent) return watermark;
        [res] = await client.query([q.latest()]);
      }
      const t = res?.[0]?.values[0]?.[0];
      const latest = typeof t === 'number' ? BigInt(t) * 1_000_000n : null;
      // Someone else wrote (the watermark moved without our own write): their new POP or
      // function must show at once too.
      if (latest !== null && (watermark === null || latest > watermark)) {
        invalidate();
        seen.markDirty();
      }
      watermark = latest;
      return latest;
    },
    async ping() {
      assertOpen();
      await client.ping();
    },
    async close() {
      closed = true;
    },
  };
  return store;
}
