/**
 * Closed days of the hour rollups re-laid POP-major: each closed UTC day's rows of
 * rollup_pop_1h and rollup_1h are rewritten ordered by (POP, [function,] hour), so one POP's
 * rows of a day lie together instead of one row among every POP's in each hour. The open
 * day's closed quarters (6 hours) are re-laid the same way meanwhile, and again with their
 * day once it closes.
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
 * and records each finished block in rollup_pop_major, so a restart carries on and a file from
 * before this layout (every day time-major) is migrated in the background the same way.
 * A block is taken once it ended more than the grace ago and has no dirty minute; a late point
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

/** Re-laid blocks of hours: a closed day (24 hours from its midnight) or a closed quarter of the open day (6). */
export const CREATE_POP_MAJOR_TABLE = `CREATE TABLE IF NOT EXISTS rollup_pop_major (
     table_name VARCHAR NOT NULL, from_hour BIGINT NOT NULL, hours INTEGER NOT NULL, PRIMARY KEY (table_name, from_hour, hours)
   )`;

/** Rows per rewrite transaction: writes wait behind one (1,000 × 10 week, the 10 newest blocks: median 50 ms, p90 0.66 s, max 2 s; with 40,000 rows 276 ms, 2.2 s, 2.7 s). */
const CHUNK_ROWS = 10_000;
/** After a chunk, the writer is left alone at least this many times the chunk's duration. */
const DUTY_GAP = 4;
/**
 * The open day is re-laid in closed quarters meanwhile (its rows are re-laid again, as one day,
 * once it closes): otherwise up to a day of hours, 1/7 of a week, would stay time-major.
 */
const QUARTER_HOURS = 6;

export interface PopMajorOptions {
  conn: DuckDBConnection;
  writeQueue: <T>(job: () => Promise<T>) => Promise<T>;
  isClosed: () => boolean;
  now: () => number;
  /** Epoch hour → its dirty minutes (the rollups' mirror): a block with any is left for later. */
  dirtyHours: ReadonlyMap<number, number>;
  /** A block is closed once it ended this long ago (the rollup step's grace and a margin). */
  graceMs?: number;
  /** Before the first chunk after open (default 30 s: after the start-up warming). */
  startDelayMs?: number;
  /** When nothing is left, look again this often (a quarter closes every 6 h). */
  idleMs?: number;
  /** Rows per rewrite transaction (default CHUNK_ROWS). */
  chunkRows?: number;
  log?: Logger;
}

export interface PopMajorStats {
  /** Blocks (a table's day or quarter) re-laid since open. */
  blocksDone: number;
  chunks: number;
  lastChunkMs: number | null;
  lastError: string | null;
}

/** A block of one table: `hours` hours from epoch hour `from`. */
export interface LayoutBlock {
  table: PopMajorTable;
  from: number;
  hours: number;
}

export async function createPopMajorLayout(opts: PopMajorOptions) {
  const { conn } = opts;
  const graceMs = opts.graceMs ?? 10 * 60_000;
  const idleMs = opts.idleMs ?? 15 * 60_000;
  const chunkRows = opts.chunkRows ?? CHUNK_ROWS;
  await conn.run(CREATE_POP_MAJOR_TABLE);
  const keyOf = (b: LayoutBlock) => `${b.table}:${b.from}:${b.hours}`;
  const done = new Set<string>();
  for (const [t, from, hours] of (await conn.runAndReadAll('SELECT table_name, from_hour, hours FROM rollup_pop_major')).getRows()) {
    done.add(`${String(t)}:${String(from)}:${String(hours)}`);
  }
  const stats: PopMajorStats = { blocksDone: 0, chunks: 0, lastChunkMs: null, lastError: null };
  /** Closed days with rows not yet re-laid (read once, then the days closing since are added). */
  let days: LayoutBlock[] | null = null;
  let lastDayListed = -Infinity;
  const tables = Object.keys(POP_MAJOR_TABLES) as PopMajorTable[];

  const isDirty = (b: LayoutBlock) => {
    for (let h = b.from; h < b.from + b.hours; h++) if (opts.dirtyHours.has(h)) return true;
    return false;
  };
  const lastClosedDay = () => Math.floor((opts.now() - graceMs) / DAY_MS) - 1;

  async function listDays(): Promise<void> {
    const upTo = lastClosedDay();
    const out: LayoutBlock[] = [];
    for (const table of tables) {
      // Records of blocks the retention sweep has emptied since go (a few rows a day otherwise kept for ever).
      const [[first]] = (await conn.runAndReadAll(`SELECT min(t_ns) // ${HOUR_NS} FROM ${table}`)).getRows() as [[bigint | null]];
      await conn.run(`DELETE FROM rollup_pop_major WHERE table_name = '${table}'${first === null ? '' : ` AND from_hour + hours <= ${first}`}`);
      for (const key of [...done]) {
        const [t, from, hours] = key.split(':');
        if (t === table && (first === null || Number(from) + Number(hours) <= Number(first))) done.delete(key);
      }
      // Only the t_ns column: cheap next to the lists (once at start, then only days past the last listed).
      const from = Number.isFinite(lastDayListed) ? `WHERE t_ns >= ${BigInt(lastDayListed + 1) * DAY_NS}` : '';
      const rows = (await conn.runAndReadAll(`SELECT DISTINCT t_ns // ${DAY_NS} AS day FROM ${table} ${from}`)).getRows();
      for (const [d] of rows) {
        const day = Number(d);
        if (day <= upTo) out.push({ table, from: day * 24, hours: 24 });
      }
    }
    lastDayListed = upTo;
    days = [...(days ?? []), ...out];
  }

  /** The open day's closed quarters (its day is re-laid whole once closed). */
  function quarters(): LayoutBlock[] {
    const closedHour = Math.floor((opts.now() - graceMs) / 3_600_000); // hours before this one are closed
    const day = Math.floor(closedHour / 24);
    if (day <= lastClosedDay()) return [];
    const out: LayoutBlock[] = [];
    for (let from = day * 24; from + QUARTER_HOURS <= closedHour; from += QUARTER_HOURS) {
      for (const table of tables) out.push({ table, from, hours: QUARTER_HOURS });
    }
    return out;
  }

  /** The POP boundaries of a block's chunks: each chunk [from, to) of pop_code holds ≤ ~chunkRows rows (or one POP's). */
  async function chunksOf(b: LayoutBlock): Promise<Array<[string | null, string | null]>> {
    const lo = BigInt(b.from) * HOUR_NS;
    const rows = (await conn.runAndReadAll(
      `SELECT pop_code, count(*) AS n FROM ${b.table} WHERE t_ns >= ${lo} AND t_ns < ${lo + BigInt(b.hours) * HOUR_NS} GROUP BY pop_code ORDER BY pop_code`,
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

  /** Rewrites one chunk of POPs of a block in POP-major order (a transaction); the last chunk records the block. */
  async function rewriteChunk(b: LayoutBlock, [from, to]: [string | null, string | null], last: boolean) {
    const lo = BigInt(b.from) * HOUR_NS;
    let where = `t_ns >= ${lo} AND t_ns < ${lo + BigInt(b.hours) * HOUR_NS}`;
    if (from !== null) where += ` AND pop_code >= ${sqlString(from)}`;
    if (to !== null) where += ` AND pop_code < ${sqlString(to)}`;
    await conn.run('BEGIN TRANSACTION');
    try {
      await conn.run(`CREATE OR REPLACE TEMP TABLE pop_major_chunk AS SELECT * FROM ${b.table} WHERE ${where} ORDER BY ${POP_MAJOR_TABLES[b.table]}`);
      await conn.run(`DELETE FROM ${b.table} WHERE ${where}`);
      // A plain scan of the temporary table keeps its order (DuckDB preserves insertion order by default).
      await conn.run(`INSERT INTO ${b.table} SELECT * FROM pop_major_chunk`);
      await conn.run('DROP TABLE pop_major_chunk');
      if (last) await conn.run(`INSERT INTO rollup_pop_major VALUES ('${b.table}', ${b.from}, ${b.hours}) ON CONFLICT DO NOTHING`);
      await conn.run('COMMIT');
    } catch (err) {
      await conn.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** Re-lays one block now, chunk after chunk (each its own job on the writer). False: skipped (dirty, closed store). */
  async function relay(b: LayoutBlock, gapMs: (chunkMs: number) => number = () => 0): Promise<boolean> {
    const chunks = await opts.writeQueue(() => (stopped || opts.isClosed() || isDirty(b) ? Promise.resolve(null) : chunksOf(b)));
    if (!chunks) return false;
    for (let i = 0; i < chunks.length; i++) {
      const ms = await opts.writeQueue(async () => {
        if (stopped || opts.isClosed() || isDirty(b)) return null;
        const t0 = performance.now();
        await rewriteChunk(b, chunks[i]!, i === chunks.length - 1);
        return performance.now() - t0;
      });
      if (ms === null) return false;
      stats.chunks++;
      stats.lastChunkMs = ms;
      const wait = gapMs(ms);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait).unref?.());
    }
    done.add(keyOf(b));
    stats.blocksDone++;
    return true;
  }

  /**
   * Every closed, clean block not yet re-laid, newest first (tests, and the background loop):
   * the open day's closed quarters and every closed day. Resolves with the blocks done.
   */
  async function runOnce(gapMs?: (chunkMs: number) => number): Promise<number> {
    if (days === null || lastClosedDay() > lastDayListed) await opts.writeQueue(() => listDays());
    const isDone = (b: LayoutBlock) => done.has(keyOf(b)) || (b.hours < 24 && done.has(`${b.table}:${b.from - (b.from % 24)}:24`));
    const todo = [...quarters(), ...(days ?? [])].filter((b) => !isDone(b));
    // Newest first (the windows asked most end now), a table's day after its quarters.
    todo.sort((a, b) => b.from + b.hours - (a.from + a.hours) || a.hours - b.hours || (a.table < b.table ? -1 : 1));
    let n = 0;
    for (const b of todo) {
      if (stopped || opts.isClosed()) break;
      if (await relay(b, gapMs)) n++;
    }
    days = (days ?? []).filter((b) => !isDone(b));
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
    relay,
    stats: (): PopMajorStats => ({ ...stats }),
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

export type PopMajorLayout = Awaited<ReturnType<typeof createPopMajorLayout>>;
