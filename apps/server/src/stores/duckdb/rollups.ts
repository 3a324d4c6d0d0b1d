/**
 * Keeps the embedded store's rollups current (docs/design/write-path-and-rollups.md,
 * "Embedded store" 3-4):
 * - `recordDirty` runs inside the write transaction and marks the minutes a batch
 *   touched in rollup_dirty, so the marks commit or roll back with the samples;
 * - a rollup step, queued on the writer after commits (debounced, never inside a
 *   request), recomputes the closed dirty minutes of rollup_1m from the raw rows and
 *   their hours of rollup_1h from rollup_1m, and clears the marks, in one transaction;
 * - retention per resolution, and points older than the raw retention are not stored.
 *
 * Because minutes are recomputed from raw rows, late data and replaced points reach
 * the rollups; because the marks live in the database, a restart in the middle of a
 * period loses nothing (the next start finds them and the step carries on).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColdStartSample } from '@edgeworker/schema';
import type { BatchInfo } from './write-path.ts';
import type { Logger } from 'pino';
import { clearDirty, CREATE_ROLLUP_TABLES, insertDirty, MINUTE_NS, recomputeHours, recomputeMinutes, recomputePopHours } from './rollup-sql.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** While writes keep coming, a step is followed by at least this many times its own duration without one. */
const DUTY_GAP = 4;

export interface RollupOptions {
  /** The writer connection; every statement here runs through `writeQueue`. */
  conn: DuckDBConnection;
  writeQueue: <T>(job: () => Promise<T>) => Promise<T>;
  isClosed: () => boolean;
  now: () => number;
  /** Raw samples (RETENTION); 0 keeps everything. */
  retentionMs: number;
  /** rollup_1m (RETENTION_1M), kept at least as long as raw samples so a late point can rebuild its hour; 0 keeps everything. */
  retention1mMs: number;
  /** rollup_1h (RETENTION_1H); 0 keeps everything. */
  retention1hMs: number;
  /** Debounce after a commit before the step runs. */
  delayMs?: number;
  /** A minute is rolled up once it ended this long ago (later samples of it are still welcome: they dirty it again). */
  graceMs?: number;
  /** Most minutes per step transaction, so writes never wait long behind a backfill's rollup. */
  batchMinutes?: number;
  log?: Logger;
  /** Called synchronously after the step commits, with the epoch minutes it recomputed (null: retention deleted rows). */
  invalidate?: (minutes: readonly number[] | null) => void;
}

export interface RollupStats {
  dirtyMinutes: number;
  droppedBeyondRetention: number;
  steps: number;
  lastStepMs: number | null;
  lastError: string | null;
}

export type Rollups = Awaited<ReturnType<typeof createRollups>>;

export async function createRollups(opts: RollupOptions) {
  const { conn } = opts;
  const delayMs = opts.delayMs ?? 1000;
  const graceMs = opts.graceMs ?? 5000;
  const batchMinutes = opts.batchMinutes ?? 240;
  const existed = await tableExists(conn, 'rollup_dirty');
  for (const ddl of CREATE_ROLLUP_TABLES) await conn.run(ddl);
  if (!existed) {
    // A file from before rollups: every minute with samples needs rolling up once.
    await conn.run(`INSERT INTO rollup_dirty SELECT DISTINCT time_ns // ${MINUTE_NS} FROM cold_start_metrics ON CONFLICT DO NOTHING`);
  }

  /** Mirror of rollup_dirty for the planner; a superset of it while a write is in flight. */
  const dirty = new Set<number>();
  const dirtyHours = new Map<number, number>();
  const addDirty = (m: number) => {
    if (dirty.has(m)) return;
    dirty.add(m);
    const h = Math.floor(m / 60);
    dirtyHours.set(h, (dirtyHours.get(h) ?? 0) + 1);
  };
  async function reloadDirty() {
    const rows = (await conn.runAndReadAll('SELECT minute FROM rollup_dirty')).getRows();
    dirty.clear();
    dirtyHours.clear();
    for (const [m] of rows) addDirty(Number(m));
  }
  await reloadDirty();

  const stats: RollupStats = { dirtyMinutes: dirty.size, droppedBeyondRetention: 0, steps: 0, lastStepMs: null, lastError: null };
  let lastDropLog = 0;

  function rawCutMs() {
    return opts.retentionMs > 0 ? opts.now() - opts.retentionMs : -Infinity;
  }

  /** Points older than the raw retention are not stored (counted), as InfluxDB drops points beyond its retention policy. */
  function dropExpired(samples: readonly ColdStartSample[]): readonly ColdStartSample[] {
    const cut = rawCutMs();
    if (cut === -Infinity) return samples;
    const cutNs = BigInt(Math.floor(cut)) * 1_000_000n;
    let keep: ColdStartSample[] | undefined;
    for (let i = 0; i < samples.length; i++) {
      if (samples[i]!.timeNs < cutNs) {
        keep ??= samples.slice(0, i);
      } else if (keep) keep.push(samples[i]!);
    }
    if (!keep) return samples;
    const dropped = samples.length - keep.length;
    stats.droppedBeyondRetention += dropped;
    if (opts.now() - lastDropLog > 60_000) {
      lastDropLog = opts.now();
      opts.log?.warn({ dropped, total: stats.droppedBeyondRetention }, 'points older than RETENTION were not stored');
    }
    return keep;
  }

  /**
   * Inside the caller's write transaction (the write path's onBatch hook): marks the minutes
   * the batch touched dirty. A live batch spans one or two minutes; the times are mostly in
   * order, so one BigInt division per minute change, not per point.
   */
  async function recordDirty(tx: DuckDBConnection, batch: Pick<BatchInfo, 'points' | 'minTimeNs' | 'maxTimeNs' | 'timesNs'>) {
    if (batch.points === 0) return;
    const list = minutesOf(batch);
    for (let i = 0; i < list.length; i += 5000) await tx.run(insertDirty(list.slice(i, i + 5000)));
    // Before COMMIT: a reader that plans meanwhile reads these minutes raw, which is always right.
    for (const m of list) addDirty(m);
  }

  // Minutes per step. A backlog's step (a backfill) that does not fit in DuckDB's memory_limit
  // fails with "Out of Memory" every time: retried as it was, it never rolled anything up (a
  // 24 h backfill at the default 192 MB left 17 h of minutes dirty, so 24 h and 7 d answers read
  // raw, 4-24 s each, and every retry held the writer for seconds). Each such failure halves
  // the step for the rest of the run, down to one minute; the size matters only for a backlog.
  let batch = batchMinutes;
  const outOfMemory = (err: unknown) => err instanceof Error && /out of memory/i.test(err.message);

  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  // Duty cycle while writes stream in: the next step waits at least DUTY_GAP × the last
  // step's duration, so during a burst (a backfill, a bench) the step takes at most ~1/5 of
  // the writer and recomputes a minute once for many writes, not once per second. Measured
  // (bench/ingest.ts, CPU per point): 6.6 µs with a step every second vs 3.3-4 µs without.
  // Idle, it runs as before. Rollups then lag; the planner reads dirty minutes raw meanwhile.
  let notBefore = 0;
  let writesSinceStep = 0;
  function schedule(wanted: number) {
    if (stopped || timer) return;
    const ms = writesSinceStep > 0 ? Math.max(wanted, notBefore - performance.now()) : wanted;
    timer = setTimeout(() => {
      timer = undefined;
      const tried = batch;
      void step().then((n) => {
        if (n === batch) schedule(0); // a backfill: carry on, letting writes in between
        else if (dirty.size > 0) {
          // Wake up when the oldest open minute has closed (bounded: at most a minute and the grace away).
          const open = Math.min(...[...dirty].filter((m) => (m + 1) * MINUTE_MS + graceMs > opts.now()));
          if (Number.isFinite(open)) schedule(Math.max(delayMs, (open + 1) * MINUTE_MS + graceMs - opts.now()));
        }
      }, (err) => {
        stats.lastError = (err as Error).message;
        opts.log?.warn({ err }, 'rollup step failed; the minutes stay dirty (read raw) and the step retries');
        // out of memory: the next, smaller step goes at once; anything else waits a little
        schedule(batch < tried ? delayMs : Math.max(delayMs, 5000));
      });
    }, ms);
    timer.unref?.();
  }

  /** After a write committed: roll up soon. */
  function afterCommit() {
    writesSinceStep++;
    schedule(delayMs);
  }

  /** One step: rolls up to `batchMinutes` closed dirty minutes. Resolves with how many it did. */
  function step(): Promise<number> {
    return opts.writeQueue(async () => {
      if (opts.isClosed()) return 0;
      const t0 = performance.now();
      writesSinceStep = 0;
      const closedBefore = Math.floor((opts.now() - graceMs) / MINUTE_MS);
      const rows = (await conn.runAndReadAll(
        `SELECT minute FROM rollup_dirty WHERE minute < ${closedBefore} ORDER BY minute LIMIT ${batch}`,
      )).getRows();
      const minutes = rows.map(([m]) => Number(m));
      if (minutes.length === 0) return 0;
      // Minutes older than the raw retention lost (some of) their rows to the sweep: their rollups stay as they were.
      const cut = rawCutMs();
      const live = minutes.filter((m) => (m + 1) * MINUTE_MS > cut);
      const hours = [...new Set(live.map((m) => Math.floor(m / 60)))];
      await conn.run('BEGIN TRANSACTION');
      try {
        if (live.length > 0) {
          for (const sql of recomputeMinutes(live)) await conn.run(sql);
          for (const sql of recomputeHours(hours)) await conn.run(sql);
          for (const sql of recomputePopHours(hours)) await conn.run(sql);
        }
        await conn.run(clearDirty(minutes));
        await conn.run('COMMIT');
      } catch (err) {
        await conn.run('ROLLBACK').catch(() => undefined);
        if (outOfMemory(err) && minutes.length > 1) {
          batch = Math.max(1, Math.floor(minutes.length / 2));
          opts.log?.warn({ minutes: batch }, 'rollup step ran out of DuckDB memory (DUCKDB_MEMORY_LIMIT); steps now take at most this many minutes');
        }
        throw err;
      }
      // Before the marks clear (reloadDirty), so no reader plans these minutes clean while a cache holds their old rollups.
      opts.invalidate?.(live);
      await reloadDirty();
      stats.steps++;
      stats.lastStepMs = performance.now() - t0;
      notBefore = performance.now() + DUTY_GAP * stats.lastStepMs;
      stats.lastError = null;
      return minutes.length;
    });
  }

  /** Rolls up every closed dirty minute now (tests, bench, shutdown). */
  async function flush(): Promise<void> {
    for (let i = 0; i < 100_000; i++) {
      const tried = batch;
      try {
        if ((await step()) < batch) return;
      } catch (err) {
        if (batch < tried) continue; // out of memory: again, on fewer minutes
        throw err;
      }
    }
  }

  /** Hourly retention per resolution, on the writer. Cuts are hour-aligned so no kept minute loses some of its rows. */
  function sweep(): Promise<void> {
    return opts.writeQueue(async () => {
      if (opts.isClosed()) return;
      const now = opts.now();
      const cutNs = (ms: number) => BigInt(Math.floor((now - ms) / HOUR_MS) * HOUR_MS) * 1_000_000n;
      if (opts.retentionMs > 0) {
        const raw = cutNs(opts.retentionMs);
        await conn.run(`DELETE FROM cold_start_metrics WHERE time_ns < ${raw}`);
        await conn.run(`DELETE FROM rollup_dirty WHERE minute < ${raw / MINUTE_NS}`);
        if (opts.retention1mMs > 0) await conn.run(`DELETE FROM rollup_1m WHERE t_ns < ${cutNs(Math.max(opts.retention1mMs, opts.retentionMs))}`);
      }
      if (opts.retention1hMs > 0) {
        for (const table of ['rollup_1h', 'rollup_pop_1h']) await conn.run(`DELETE FROM ${table} WHERE t_ns < ${cutNs(opts.retention1hMs)}`);
      }
      opts.invalidate?.(null);
      await reloadDirty();
    });
  }

  return {
    dropExpired,
    recordDirty,
    afterCommit,
    step,
    flush,
    sweep,
    /** Dirty minutes (epoch minutes) and, per epoch hour, how many of its minutes are dirty. */
    dirty: { minutes: dirty as ReadonlySet<number>, hours: dirtyHours as ReadonlyMap<number, number> },
    stats: (): RollupStats => ({ ...stats, dirtyMinutes: dirty.size }),
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** The distinct epoch minutes of a batch's points (floor division, so times before 1970 land right too). */
export function minutesOf(batch: Pick<BatchInfo, 'minTimeNs' | 'maxTimeNs' | 'timesNs'>): number[] {
  const floorMinute = (t: bigint) => t / MINUTE_NS - (t < 0n && t % MINUTE_NS !== 0n ? 1n : 0n);
  const lo = floorMinute(batch.minTimeNs);
  const hi = floorMinute(batch.maxTimeNs);
  if (hi - lo <= 1n) {
    // Every point is in these one or two minutes; only a two-minute batch needs to look at which.
    if (hi === lo) return [Number(lo)];
    const edge = hi * MINUTE_NS;
    let below = false;
    let above = false;
    for (const t of batch.timesNs) {
      if (t < edge) below = true;
      else above = true;
      if (below && above) break;
    }
    return [...(below ? [Number(lo)] : []), ...(above ? [Number(hi)] : [])];
  }
  const minutes = new Set<number>();
  let curLo = 1n;
  let curHi = 0n; // empty: the first point computes its minute
  for (const t of batch.timesNs) {
    if (t >= curLo && t < curHi) continue;
    const m = floorMinute(t);
    minutes.add(Number(m));
    curLo = m * MINUTE_NS;
    curHi = curLo + MINUTE_NS;
  }
  return [...minutes];
}

async function tableExists(conn: DuckDBConnection, name: string): Promise<boolean> {
  const rows = (await conn.runAndReadAll(`SELECT 1 FROM information_schema.tables WHERE table_name = '${name}'`)).getRows();
  return rows.length > 0;
}
