/**
 * Closed days of the hour rollups re-laid POP-major: each closed UTC day's rows of
 * rollup_pop_1h and rollup_1h are rewritten ordered by (POP, [function,] hour), so one POP's
 * rows of a day lie together instead of one row among every POP's in each hour.
 *
 * Why: the first request for one POP's 7 d series (the drill-down's chart) reads its 168 hours
 * with `pop_code = …` over a week of rows. DuckDB evaluates that filter per vector of 2,048 rows
 * and decodes the other columns (the bin lists, nearly all of the bytes) only in vectors where
 * a row matched; rows go in time-major (1,000 POPs per hour), so every vector of the week held
 * one of the POP's rows and every POP's bin lists were decoded (EXPLAIN ANALYZE: the scan was
 * most of the 0.1–0.3 s; without the list columns the same scan took ~1 ms). After the rewrite
 * a POP's day is one run of 24 rows (240 per function table), in one or two vectors.
 *
 * The rewrite copies rows as they are (no value changes), so no cache is invalidated and an
 * answer never depends on it: it only changes where rows lie. It runs on the writer queue in
 * chunks of POPs (a transaction each, ~CHUNK_ROWS rows) with a gap after each, newest day first,
 * and records each finished day in rollup_pop_major, so a restart carries on and a file from
 * before this layout (every day time-major) is migrated in the background the same way.
 * A day is taken once it ended more than the grace ago and has no dirty minute; a late point
 * recomputed afterwards re-inserts its hour time-major at the table's end (a few rows, left so).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from 'pino';
import { HOUR_NS } from './rollup-sql.ts';

export const DAY_NS = 24n * HOUR_NS;
const DAY_MS = 86_400_000;

/** The tables re-laid, with the order of a day's rows (a POP's rows together). */
export const POP_MAJOR_TABLES = {
  rollup_pop_1h: 'pop_code, t_ns',
  rollup_1h: 'pop_code, function_name, t_ns',
} as const;
export type PopMajorTable = keyof typeof POP_MAJOR_TABLES;

export const CREATE_POP_MAJOR_TABLE = `CREATE TABLE IF NOT EXISTS rollup_pop_major (table_name VARCHAR NOT NULL, day BIGINT NOT NULL, PRIMARY KEY (table_name, day))`;

/** Rows per rewrite transaction (writes wait behind one; ~0.1–0.3 s here). */
const CHUNK_ROWS = 40_000;
/** After a chunk, the writer is left alone at least this many times the chunk's duration. */
const DUTY_GAP = 4;

export interface PopMajorOptions {
  conn: DuckDBConnection;
  writeQueue: <T>(job: () => Promise<T>) => Promise<T>;
  isClosed: () => boolean;
  now: () => number;
  /** Epoch hour → its dirty minutes (the rollups' mirror): a day with any is left for later. */
  dirtyHours: ReadonlyMap<number, number>;
  /** A day is closed once it ended this long ago (the rollup step's grace and a margin). */
  graceMs?: number;
  /** Before the first chunk after open (default 30 s: after the start-up warming). */
  startDelayMs?: number;
  /** When nothing is left, look again this often (a day closes every 24 h). */
  idleMs?: number;
  /** Rows per rewrite transaction (default CHUNK_ROWS). */
  chunkRows?: number;
  log?: Logger;
}

export interface PopMajorStats {
  daysDone: number;
  chunks: number;
  lastChunkMs: number | null;
  lastError: string | null;
}

export async function createPopMajorLayout(opts: PopMajorOptions) {
  const { conn } = opts;
  const graceMs = opts.graceMs ?? 10 * 60_000;
  const idleMs = opts.idleMs ?? 15 * 60_000;
  const chunkRows = opts.chunkRows ?? CHUNK_ROWS;
  await conn.run(CREATE_POP_MAJOR_TABLE);
  const done = new Set<string>();
  for (const [t, d] of (await conn.runAndReadAll('SELECT table_name, day FROM rollup_pop_major')).getRows()) done.add(`${String(t)}:${String(d)}`);
  const stats: PopMajorStats = { daysDone: 0, chunks: 0, lastChunkMs: null, lastError: null };
  /** Days with rows, newest first, per table (read once, then the days closing since are added). */
  let todo: Array<{ table: PopMajorTable; day: number }> | null = null;
  let lastDayListed = -Infinity;

  const isDirty = (day: number) => {
    for (let h = day * 24; h < day * 24 + 24; h++) if (opts.dirtyHours.has(h)) return true;
    return false;
  };
  const lastClosedDay = () => Math.floor((opts.now() - graceMs) / DAY_MS) - 1;

  async function listDays(): Promise<void> {
    const upTo = lastClosedDay();
    const out: Array<{ table: PopMajorTable; day: number }> = [];
    for (const table of Object.keys(POP_MAJOR_TABLES) as PopMajorTable[]) {
      // Only the t_ns column: cheap next to the lists (once at start, then only days past the last listed).
      const from = Number.isFinite(lastDayListed) ? `WHERE t_ns >= ${BigInt(lastDayListed + 1) * DAY_NS}` : '';
      const rows = (await conn.runAndReadAll(`SELECT DISTINCT t_ns // ${DAY_NS} AS day FROM ${table} ${from}`)).getRows();
      for (const [d] of rows) {
        const day = Number(d);
        if (day <= upTo && !done.has(`${table}:${day}`)) out.push({ table, day });
      }
    }
    lastDayListed = upTo;
    todo = [...(todo ?? []), ...out].sort((a, b) => b.day - a.day || (a.table < b.table ? -1 : 1));
  }

  /** The POP boundaries of a day's chunks: each chunk [from, to) of pop_code holds ≤ ~chunkRows rows (or one POP's). */
  async function chunksOf(table: PopMajorTable, day: number): Promise<Array<[string | null, string | null]>> {
    const lo = BigInt(day) * DAY_NS;
    const rows = (await conn.runAndReadAll(
      `SELECT pop_code, count(*) AS n FROM ${table} WHERE t_ns >= ${lo} AND t_ns < ${lo + DAY_NS} GROUP BY pop_code ORDER BY pop_code`,
    )).getRows();
    const chunks: Array<[string | null, string | null]> = [];
    let start: string | null = null;
    let n = 0;
    for (const [pop, count] of rows) {
      if (n > 0 && n + Number(count) > chunkRows) {
        chunks.push([start, String(pop)]);
        start = String(pop);
        n = 0;
      }
      n += Number(count);
    }
    chunks.push([start, null]);
    return chunks;
  }

  const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

  /** Rewrites one chunk of POPs of a day in POP-major order (a transaction); the last chunk records the day. */
  async function rewriteChunk(table: PopMajorTable, day: number, [from, to]: [string | null, string | null], last: boolean) {
    const lo = BigInt(day) * DAY_NS;
    let where = `t_ns >= ${lo} AND t_ns < ${lo + DAY_NS}`;
    if (from !== null) where += ` AND pop_code >= ${sqlString(from)}`;
    if (to !== null) where += ` AND pop_code < ${sqlString(to)}`;
    await conn.run('BEGIN TRANSACTION');
    try {
      await conn.run(`CREATE OR REPLACE TEMP TABLE pop_major_chunk AS SELECT * FROM ${table} WHERE ${where} ORDER BY ${POP_MAJOR_TABLES[table]}`);
      await conn.run(`DELETE FROM ${table} WHERE ${where}`);
      // A plain scan of the temporary table keeps its order (DuckDB preserves insertion order by default).
      await conn.run(`INSERT INTO ${table} SELECT * FROM pop_major_chunk`);
      await conn.run('DROP TABLE pop_major_chunk');
      if (last) await conn.run(`INSERT INTO rollup_pop_major VALUES ('${table}', ${day}) ON CONFLICT DO NOTHING`);
      await conn.run('COMMIT');
    } catch (err) {
      await conn.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** Re-lays one day of one table now, chunk after chunk (each its own job on the writer). False: skipped (dirty, closed store). */
  async function relayDay(table: PopMajorTable, day: number, gapMs: (chunkMs: number) => number = () => 0): Promise<boolean> {
    const chunks = await opts.writeQueue(() => (opts.isClosed() || isDirty(day) ? Promise.resolve(null) : chunksOf(table, day)));
    if (!chunks) return false;
    for (let i = 0; i < chunks.length; i++) {
      const ms = await opts.writeQueue(async () => {
        if (stopped || opts.isClosed() || isDirty(day)) return null;
        const t0 = performance.now();
        await rewriteChunk(table, day, chunks[i]!, i === chunks.length - 1);
        return performance.now() - t0;
      });
      if (ms === null) return false;
      stats.chunks++;
      stats.lastChunkMs = ms;
      const wait = gapMs(ms);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait).unref?.());
    }
    done.add(`${table}:${day}`);
    stats.daysDone++;
    return true;
  }

  /** Every closed, clean day not yet re-laid, newest first (tests, and the background loop). Resolves with the days done. */
  async function runOnce(gapMs?: (chunkMs: number) => number): Promise<number> {
    if (todo === null || lastClosedDay() > lastDayListed) await opts.writeQueue(() => listDays());
    let n = 0;
    const left: Array<{ table: PopMajorTable; day: number }> = [];
    for (const d of todo ?? []) {
      if (stopped || opts.isClosed()) {
        left.push(d);
        continue;
      }
      if (done.has(`${d.table}:${d.day}`)) continue;
      if (await relayDay(d.table, d.day, gapMs)) n++;
      else left.push(d);
    }
    todo = left;
    return n;
  }

  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  function schedule(ms: number) {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      runOnce((chunkMs) => DUTY_GAP * chunkMs).then(
        () => schedule(idleMs),
        (err) => {
          stats.lastError = (err as Error).message;
          opts.log?.warn({ err }, 're-laying a closed day POP-major failed; it stays as it was (answers are unaffected) and is tried again');
          schedule(idleMs);
        },
      );
    }, ms);
    timer.unref?.();
  }

  return {
    /** Starts the background loop (after startDelayMs). */
    start() {
      schedule(opts.startDelayMs ?? 30_000);
    },
    runOnce,
    relayDay,
    stats: (): PopMajorStats => ({ ...stats }),
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

export type PopMajorLayout = Awaited<ReturnType<typeof createPopMajorLayout>>;
