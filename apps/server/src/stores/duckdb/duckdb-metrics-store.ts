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
  SeriesFilter,
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

export interface DuckDbStoreOptions {
  /** Database file, or ':memory:'. */
  path: string;
  /** Samples older than this are deleted hourly; 0 keeps everything. */
  retentionMs?: number;
  log?: Logger;
  now?: () => number;
  /** Called inside each write transaction before COMMIT (see write-path.ts); the rollups hook in here. */
  onBatch?: OnBatch;
}

const RETENTION_SWEEP_MS = 60 * 60 * 1000;
/** A group commit stops taking more requests at this many rows (one larger request still goes alone). */
const MAX_GROUP_ROWS = 200_000;

export async function createDuckDbMetricsStore(opts: DuckDbStoreOptions): Promise<MetricsStore> {
  const instance = await openDuckDbFile(opts.path, 'metrics store');
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
  const sweep = retention
    ? setInterval(() => {
        const cutNs = BigInt(now() - retention) * 1_000_000n;
        writeQueue(async () => {
          assertOpen();
          await writer.run('DELETE FROM cold_start_metrics WHERE time_ns < $cut', { cut: cutNs });
        }).catch((err) =>
          opts.log?.warn({ err }, 'retention sweep failed; old samples stay until the next sweep'),
        );
      }, RETENTION_SWEEP_MS)
    : undefined;
  sweep?.unref();

  // Concurrent writes share one transaction (group commit); each resolves after its COMMIT.
  const writePath = await createWritePath(writer, { pops, functions }, { onBatch: opts.onBatch });
  const groupCommit = createGroupCommit<readonly ColdStartSample[]>(
    (batches) =>
      writeQueue(async () => {
        assertOpen();
        await writePath.write(batches);
      }),
    { sizeOf: (b) => b.length, maxGroupSize: MAX_GROUP_ROWS },
  );

  async function write(samples: readonly ColdStartSample[]): Promise<void> {
    if (samples.length === 0) return;
    await groupCommit.submit(samples);
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

  return {
    kind: 'duckdb',
    write,
    async summarize(range, filter): Promise<Summary> {
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
      const w = where(range, undefined, ' AND pop_code = $pop');
      const rows = await read(
        `SELECT function_name, ${STATS_COLUMNS} FROM cold_start_metrics WHERE ${w.sql}
         GROUP BY function_name ORDER BY function_name`,
        { ...w.params, pop: popCode },
      );
      return rows.map((r) => ({ functionName: String(r.function_name), ...toStats(r) }));
    },
    async timeseries(popCode, range, stepMs, filter): Promise<TimeseriesAnswer> {
      const w = where(range, filter, ' AND pop_code = $pop');
      const rows = await read(
        `SELECT (time_ns // $step) * $step AS bucket, ${STATS_COLUMNS} FROM cold_start_metrics WHERE ${w.sql}
         GROUP BY bucket ORDER BY bucket`,
        { ...w.params, pop: popCode, step: BigInt(stepMs) * 1_000_000n },
      );
      const buckets: Bucket[] = rows.map((r) => ({ startMs: Number((r.bucket as bigint) / 1_000_000n), ...toStats(r) }));
      return { buckets, resolution: 'raw' };
    },
    async seriesBuckets(range, stepMs): Promise<SeriesBucket[]> {
      const w = where(range, undefined);
      const rows = await read(
        `SELECT pop_code, function_name, (time_ns // $step) * $step AS bucket, count(*) AS n,
           avg(cold_start_time_ms) AS mean, quantile_cont(cold_start_time_ms, 0.5) AS p50
         FROM cold_start_metrics WHERE ${w.sql} GROUP BY ALL`,
        { ...w.params, step: BigInt(stepMs) * 1_000_000n },
      );
      return rows.map((r) => ({
        popCode: String(r.pop_code),
        functionName: String(r.function_name),
        startMs: Number((r.bucket as bigint) / 1_000_000n),
        samples: num(r.n) ?? 0,
        mean: num(r.mean) ?? 0,
        p50: num(r.p50) ?? 0,
      }));
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
        if (sweep) clearInterval(sweep);
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
