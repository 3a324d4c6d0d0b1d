/**
 * The embedded store's write transaction (docs/design/write-path-and-rollups.md,
 * "Embedded store" 1-2): one transaction per group of batches, last write wins on
 * (pop_code, function_name, time_ns) as InfluxDB keeps one point per series and time.
 *
 * Why it looks like this (each step measured, see docs/notes/ingest.md):
 * - A raw row is (time, POP, function, value). A POP's city, country, tier and
 *   coordinates are its metadata (newest wins, in pops_seen), not repeated on every
 *   row: with them DuckDB's insert and commit did 2-2.5x the work.
 * - Fast path: when every point is newer than anything stored for its (POP, function),
 *   nothing can be replaced: the rows go straight into the table as DuckDB data chunks
 *   (numbers copied in bulk from typed arrays). The check is exact and costs one
 *   comparison per row against an in-memory upper bound per series (loaded at start
 *   from the last hour; the start boundary for series not seen since).
 * - Otherwise the rows are staged as numbers (time, series id, value) beside a small
 *   temporary table of series names; the stored rows the batch replaces are deleted
 *   within the batch's [min, max] time range (zone maps keep the scan to a few row
 *   groups) and the staged rows inserted, in statements DuckDB runs off the JS thread.
 * - Duplicates inside the batch (a point repeated, or sent twice by requests that share
 *   the transaction): the last one wins, by staging order.
 * - New POPs, changed POP metadata and new functions are upserted with one statement each
 *   per transaction, from temporary tables, so a body of 20,000 new POPs costs like any
 *   other 20,000 rows.
 */
import { BIGINT, DOUBLE, DuckDBDataChunk, INTEGER, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import type { ColdStartSample } from '@edgeworker/schema';
import type { SeenPop } from '../metrics-store.ts';

/** What the rollup step (or anything else that must follow the raw rows) gets inside the write transaction. */
export interface BatchInfo {
  /** Points in the transaction, duplicates inside it included. */
  points: number;
  minTimeNs: bigint;
  maxTimeNs: bigint;
  /** True when stored rows may have been replaced (the batch was not newer than everything stored for its series). */
  replaced: boolean;
  /** Every point's time, in the order written (a point repeated inside the batch appears once per copy). */
  timesNs: BigInt64Array;
}

/**
 * Called inside the write transaction after the rows are in place (readable in
 * cold_start_metrics) and before COMMIT, on the writer connection: a failure rolls the
 * whole transaction back. E.g. record the minutes this batch touched (from timesNs).
 */
export type OnBatch = (conn: DuckDBConnection, batch: BatchInfo) => Promise<void>;

export interface SeenCatalog {
  pops: Map<string, SeenPop>;
  functions: Set<string>;
}

const STAGE = 'ingest_stage';
const SERIES = 'ingest_series';
const BATCH = 'ingest_batch';
const NEW_POPS = 'ingest_new_pops';
const NEW_FUNCTIONS = 'ingest_new_functions';
/** How far back the per-series newest times are loaded at start; older series use the boundary as their bound. */
const LOOKBACK_NS = 3_600_000_000_000n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const NEVER = INT64_MIN;
const CHUNK = 2048;

const TEMP_TABLES = [
  `CREATE OR REPLACE TEMP TABLE ${STAGE} (time_ns BIGINT, series_id INTEGER, value DOUBLE, seq INTEGER)`,
  `CREATE OR REPLACE TEMP TABLE ${SERIES} (series_id INTEGER, pop_code VARCHAR, function_name VARCHAR)`,
  `CREATE OR REPLACE TEMP VIEW ${BATCH} AS
     SELECT s.time_ns, k.pop_code, k.function_name, s.value AS cold_start_time_ms, s.seq
     FROM ${STAGE} s JOIN ${SERIES} k ON k.series_id = s.series_id`,
  `CREATE OR REPLACE TEMP TABLE ${NEW_POPS} AS SELECT * FROM pops_seen LIMIT 0`,
  `CREATE OR REPLACE TEMP TABLE ${NEW_FUNCTIONS} AS SELECT * FROM functions_seen LIMIT 0`,
];

const DROPPED_COLUMNS = ['city', 'country', 'tier', 'latitude', 'longitude'];
const COLUMNS = 'time_ns, pop_code, function_name, cold_start_time_ms';
const INSERT_ALL = `INSERT INTO cold_start_metrics (${COLUMNS}) SELECT ${COLUMNS} FROM ${BATCH}`;
const INSERT_LAST = `${INSERT_ALL} QUALIFY row_number() OVER (PARTITION BY time_ns, pop_code, function_name ORDER BY seq DESC) = 1`;
/** min and max are bigints formatted here (a multi-statement call takes no parameters). */
const deleteReplaced = (min: bigint, max: bigint) => `DELETE FROM cold_start_metrics m
  USING (SELECT DISTINCT time_ns, pop_code, function_name FROM ${BATCH}) b
  WHERE m.time_ns >= ${min} AND m.time_ns <= ${max}
    AND m.time_ns = b.time_ns AND m.pop_code = b.pop_code AND m.function_name = b.function_name`;
const UPSERT_POPS = `INSERT INTO pops_seen SELECT * FROM ${NEW_POPS}
  ON CONFLICT (pop_code) DO UPDATE SET city = excluded.city, country = excluded.country, tier = excluded.tier,
    latitude = excluded.latitude, longitude = excluded.longitude, last_seen_ns = excluded.last_seen_ns`;
const INSERT_FUNCTIONS = `INSERT INTO functions_seen SELECT * FROM ${NEW_FUNCTIONS} ON CONFLICT DO NOTHING`;

/** Per (POP, function) series. */
interface KeyState {
  pop: string;
  fn: string;
  /** Its id in the series table, or -1 until written there (only the replace path needs it). */
  id: number;
  /** No stored point of this series is newer (an upper bound, exact once written here). */
  storedMaxNs: bigint;
  /** The transaction that last touched it, and its newest point there. */
  stamp: number;
  batchMaxNs: bigint;
}

export interface WritePath {
  /** Writes the batches in one transaction (a later batch wins over an earlier one on the same point); resolves after COMMIT. */
  write(batches: readonly (readonly ColdStartSample[])[]): Promise<void>;
  /** Newest stored time, or null when empty. */
  latestNs(): bigint | null;
}

export async function createWritePath(
  conn: DuckDBConnection,
  catalog: SeenCatalog,
  opts: { onBatch?: OnBatch | undefined } = {},
): Promise<WritePath> {
  // Files from before raw rows lost their per-row POP metadata: drop those columns once.
  const columns = (await conn.runAndReadAll(
    `SELECT column_name FROM duckdb_columns() WHERE table_name = 'cold_start_metrics' AND schema_name = 'main' AND database_name = current_database()`,
  )).getRowObjectsJS().map((r) => String(r.column_name));
  for (const c of DROPPED_COLUMNS) if (columns.includes(c)) await conn.run(`ALTER TABLE cold_start_metrics DROP COLUMN ${c}`);
  for (const ddl of TEMP_TABLES) await conn.run(ddl);

  const maxRow = (await conn.runAndReadAll('SELECT max(time_ns) AS t FROM cold_start_metrics')).getRowObjectsJS()[0];
  let latest: bigint | null = typeof maxRow?.t === 'bigint' ? maxRow.t : null;
  // Series without a point in the last hour before start have none newer than this.
  const boundary = latest === null || latest - LOOKBACK_NS < INT64_MIN ? NEVER : latest - LOOKBACK_NS;
  const keys = new Map<string, Map<string, KeyState>>();
  const keyState = (pop: string, fn: string): KeyState => {
    let byFn = keys.get(pop);
    if (!byFn) keys.set(pop, (byFn = new Map()));
    let k = byFn.get(fn);
    if (!k) byFn.set(fn, (k = { pop, fn, id: -1, storedMaxNs: boundary, stamp: 0, batchMaxNs: NEVER }));
    return k;
  };
  if (latest !== null) {
    const recent = await conn.runAndReadAll(
      'SELECT pop_code, function_name, max(time_ns) AS t FROM cold_start_metrics WHERE time_ns > $from GROUP BY ALL',
      { from: boundary },
    );
    for (const r of recent.getRowObjectsJS()) keyState(String(r.pop_code), String(r.function_name)).storedMaxNs = r.t as bigint;
  }

  let nextId = 0;
  let stamp = 0;

  async function write(batches: readonly (readonly ColdStartSample[])[]): Promise<void> {
    let total = 0;
    for (const b of batches) total += b.length;
    if (total === 0) return;
    stamp++;

    // One pass: columns, fast or replace path, POP and function catalog changes.
    const times = new BigInt64Array(total);
    const series: KeyState[] = new Array(total);
    const values = new Float64Array(total);
    const touched: KeyState[] = [];
    const changedPops = new Map<string, SeenPop>();
    const newFunctions = new Set<string>();
    let minNs = 0n;
    let maxNs = 0n;
    let replaces = false;
    let repeats = false;
    let n = 0;
    for (const batch of batches) {
      for (const s of batch) {
        const t = s.timeNs;
        const k = keyState(s.popCode, s.functionName);
        if (k.stamp !== stamp) {
          k.stamp = stamp;
          k.batchMaxNs = t;
          touched.push(k);
        } else if (t <= k.batchMaxNs) {
          repeats = true; // not strictly increasing within the series: it may repeat a point
        } else {
          k.batchMaxNs = t;
        }
        if (t <= k.storedMaxNs) replaces = true;
        if (n === 0 || t < minNs) minNs = t;
        if (n === 0 || t > maxNs) maxNs = t;
        times[n] = t;
        series[n] = k;
        values[n] = s.coldStartTimeMs;
        n++;

        // A POP's metadata is its newest sample's; an older sample does not overwrite it.
        const cur = changedPops.get(s.popCode) ?? catalog.pops.get(s.popCode);
        if (!cur || (t >= cur.lastSeenNs && (cur.city !== s.city || cur.country !== s.country || cur.tier !== s.tier || cur.lat !== s.latitude || cur.lon !== s.longitude))) {
          changedPops.set(s.popCode, { popCode: s.popCode, city: s.city, country: s.country, tier: s.tier, lat: s.latitude, lon: s.longitude, lastSeenNs: t });
        }
        if (!catalog.functions.has(s.functionName)) newFunctions.add(s.functionName);
      }
    }
    const slow = replaces || repeats;

    try {
      // A typed array would wrap a time beyond BIGINT silently.
      if (minNs < INT64_MIN || maxNs > INT64_MAX) throw new RangeError(`a timestamp is outside the BIGINT range (${minNs} .. ${maxNs})`);
      // The series table is a cache outside the transaction: it only ever gains rows the map knows.
      if (slow) await addToSeriesTable(touched.filter((k) => k.id < 0));
    } catch (err) {
      for (const k of touched) k.stamp = 0;
      throw err;
    }

    await conn.run('BEGIN TRANSACTION');
    try {
      if (slow) {
        await appendChunks(conn, STAGE, [BIGINT, INTEGER, DOUBLE, INTEGER], total, (v, i, j) => {
          v[0]!.setItem(j, times[i]!);
          v[1]!.setItem(j, series[i]!.id);
          v[2]!.setItem(j, values[i]!);
          v[3]!.setItem(j, i);
        });
        const replace = replaces ? `${deleteReplaced(minNs, maxNs)};\n` : '';
        await conn.run(`${replace}${repeats ? INSERT_LAST : INSERT_ALL};\nDELETE FROM ${STAGE}`);
      } else {
        await appendChunks(conn, 'cold_start_metrics', [BIGINT, VARCHAR, VARCHAR, DOUBLE], total, (v, i, j) => {
          const k = series[i]!;
          v[0]!.setItem(j, times[i]!);
          v[1]!.setItem(j, k.pop);
          v[2]!.setItem(j, k.fn);
          v[3]!.setItem(j, values[i]!);
        });
      }
      const tail: string[] = [];
      if (changedPops.size > 0) {
        await appendRows(conn, NEW_POPS, [...changedPops.values()], (a, p) => {
          a.appendVarchar(p.popCode);
          a.appendVarchar(p.city);
          a.appendVarchar(p.country);
          a.appendVarchar(p.tier);
          a.appendDouble(p.lat);
          a.appendDouble(p.lon);
          a.appendBigInt(p.lastSeenNs);
        });
        tail.push(UPSERT_POPS, `DELETE FROM ${NEW_POPS}`);
      }
      if (newFunctions.size > 0) {
        await appendRows(conn, NEW_FUNCTIONS, [...newFunctions], (a, f) => a.appendVarchar(f));
        tail.push(INSERT_FUNCTIONS, `DELETE FROM ${NEW_FUNCTIONS}`);
      }
      // Each statement call is a round trip through the thread pool: the rest goes in one.
      if (opts.onBatch) {
        if (tail.length > 0) await conn.run(tail.join(';\n'));
        await opts.onBatch(conn, { points: total, minTimeNs: minNs, maxTimeNs: maxNs, replaced: replaces, timesNs: times });
        await conn.run('COMMIT');
      } else {
        await conn.run([...tail, 'COMMIT'].join(';\n'));
      }
    } catch (err) {
      await conn.run('ROLLBACK').catch(() => undefined);
      // Staged rows are inside the transaction, so the rollback emptied the stage too.
      for (const k of touched) k.stamp = 0; // the batch maxima of a rolled-back transaction mean nothing
      throw err;
    }

    for (const k of touched) if (k.batchMaxNs > k.storedMaxNs) k.storedMaxNs = k.batchMaxNs;
    for (const p of changedPops.values()) catalog.pops.set(p.popCode, p);
    for (const f of newFunctions) catalog.functions.add(f);
    if (latest === null || maxNs > latest) latest = maxNs;
  }

  async function addToSeriesTable(fresh: KeyState[]) {
    if (fresh.length === 0) return;
    let id = nextId;
    await appendRows(conn, SERIES, fresh, (a, k) => {
      a.appendInteger(id++);
      a.appendVarchar(k.pop);
      a.appendVarchar(k.fn);
    });
    const first = nextId;
    fresh.forEach((k, i) => (k.id = first + i));
    nextId += fresh.length;
  }

  return { write, latestNs: () => latest };
}

type Vector = ReturnType<DuckDBDataChunk['getColumnVector']>;

/**
 * Appends `rows` rows as data chunks: `put(vectors, row, rowInChunk)` sets one row.
 * Numeric columns are copied into DuckDB in bulk; strings cost one call each.
 */
async function appendChunks(conn: DuckDBConnection, table: string, types: Parameters<typeof DuckDBDataChunk.create>[0], rows: number, put: (v: Vector[], i: number, j: number) => void) {
  const appender = await conn.createAppender(table);
  try {
    for (let from = 0; from < rows; from += CHUNK) {
      const size = Math.min(CHUNK, rows - from);
      const chunk = DuckDBDataChunk.create(types, size);
      const vectors = types.map((_, c) => chunk.getColumnVector(c));
      for (let j = 0; j < size; j++) put(vectors, from + j, j);
      for (const v of vectors) v.flush();
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

type Appender = Awaited<ReturnType<DuckDBConnection['createAppender']>>;

async function appendRows<T>(conn: DuckDBConnection, table: string, rows: readonly T[], put: (a: Appender, row: T) => void) {
  const appender = await conn.createAppender(table);
  try {
    for (const r of rows) {
      put(appender, r);
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}
