/**
 * Keeps the InfluxDB rollups (`…_rollup_1m`, `…_rollup_10m`, `…_rollup_1h`, each
 * per series and per POP: rollup-agg.ts) current, on the leader
 * replica only, from bounded InfluxQL over closed periods. It covers every writer
 * (this server's /write, the standalone generator, Telegraf) because it reads what is
 * in InfluxDB, not what passed through us.
 *
 * One mechanism for new, late and overwritten data: `reconcile` compares, per minute
 * of a bounded chunk, the raw count and sum with the 1 min rollup's, recomputes the
 * minutes that differ from their raw samples, then compares each closed 10 min period's
 * 1 min totals with its 10 min points (and each closed hour's 10 min totals with its
 * 1 h points) and recomputes the periods that differ. Each pass
 *  1. reconciles from the last persisted `through` (minus a recent margin, so samples
 *     that arrive a few minutes late are caught at once) up to the newest closed
 *     minute, then persists `through`;
 *  2. checks the hot span (`hotSpanMs` back from `through`: what the detector re-derives
 *     from) every `hotEveryMs` with one raw count against the 1 min rollups' count, and
 *     reconciles it when they differ;
 *  3. sweeps older chunks, newest first, back to the lookback, within a time budget,
 *     so a backfill with old timestamps reaches the rollups within one sweep cycle.
 * Samples it finds behind what it had already rolled up (late data: a backfill, a replay,
 * written straight into InfluxDB by others) are reported through `onLateData` as they are
 * found, so the composition root can tell the detector as `/write` does (`data_landed`
 * with `earliestMs`).
 * Before its first pass it sets up the rollups' retention policies (rollup-retention.ts);
 * the sweep never goes further back than they keep. When it rewrites a period it had
 * already published (late data), it moves the state's `generation`, which tells readers
 * to drop the rollup answers they keep in memory (rollup-reader.ts).
 * State lives in InfluxDB (the rollups themselves and a `…_rollup_state` point), so
 * a restart or a new leader in the middle of a period redoes what is missing and
 * nothing else. Rollup writes are idempotent: two leaders overlapping for a moment
 * write the same points.
 *
 * Why not continuous queries (1.x) or tasks (2.x): a CQ runs once per interval over
 * the period just closed and never sees points written later into older periods (a
 * backfill, a replay after an outage); InfluxQL has no function that builds our
 * sketch bins; CQs do not exist on 2.x/3.x and tasks not on 1.x/3.x. Reading over the
 * v1 API works on all of them.
 */
import { FIELD, MEASUREMENT, TAG } from '@edgeworker/schema';
import { landedPops } from '../../events.ts';
import type { Logger } from 'pino';
import type { Leadership } from '../../cluster/leadership.ts';
import type { InfluxClient, InfluxSeries } from './influx-client.ts';
import { addRow, addValue, aggLine, emptyAgg, mergeAgg, qi, ROLLUP_10M, ROLLUP_10M_POP, ROLLUP_1H, ROLLUP_1H_POP, ROLLUP_1M, ROLLUP_1M_POP, ROLLUP_FIELDS, ROLLUP_STATE, rollupColumns, rollupFrom, rpOf, type Agg } from './rollup-agg.ts';
import type { RollupCoverage } from './planner.ts';
import { ensureRollupRetention, type RollupRetention } from './rollup-retention.ts';

export interface RollupKeeperOptions {
  client: InfluxClient;
  leadership: Leadership;
  now?: () => number;
  log?: Logger | undefined;
  /** Pause between passes. */
  intervalMs: number;
  /** The sweep goes this far back; older periods are left as they are. */
  lookbackMs: number;
  /** A minute is closed this long after its end (writers' buffering). */
  graceMs?: number;
  /** Re-checked on every pass, for samples that arrive a few minutes late. */
  recentMs?: number;
  /** Size of one reconciled chunk (bounds every query and every answer). */
  chunkMs?: number;
  /** Time a pass may spend sweeping older chunks. */
  sweepBudgetMs?: number;
  /** The database (for its retention policies) and the rollups' retention (rollup-retention.ts), set up before the first pass. */
  db: string;
  retention: RollupRetention;
  /**
   * How far back from `through` the hot check looks (0: no hot check). The composition root
   * passes the detector's re-derive span: late data there changes what the detector judges,
   * and the sweep may take a whole cycle of the lookback to come back to it.
   */
  hotSpanMs?: number;
  /** How often the hot check runs (one raw count over the span: ~0.4 s of influxd for 220 min at 2,115 series). */
  hotEveryMs?: number;
  /** Late samples found (times of the oldest and newest, and how many), reported after each chunk that held some. */
  onLateData?: (late: LateData) => void;
}

/** Samples found behind what the keeper had already rolled up, in one reconciled chunk. */
export interface LateData {
  earliestMs: number;
  latestMs: number;
  points: number;
  /** The distinct POPs of those samples; absent when more than LANDED_POPS_MAX (as `data_landed`'s). */
  pops?: string[];
}

/** LateData while a chunk is read: its POPs as a set. */
type LateFound = Omit<LateData, 'pops'> & { popSet: Set<string> };

export interface PassReport {
  ran: boolean;
  /** Minutes, and coarser periods (10 min and 1 h), recomputed. */
  minutes: number;
  hours: number;
  coverage: RollupCoverage | null;
  /** Work was left for the next pass (catching up, or a sweep that is finding late data): it starts at once. */
  more: boolean;
}

export interface RollupKeeper {
  /** One pass now (the schedule calls it; tests and the bench too). */
  pass(): Promise<PassReport>;
  start(): void;
  stop(): Promise<void>;
  /** The `rollups` component of /health: degraded while the retention policies cannot be set up or the last pass failed. */
  health(): { status: 'ok' | 'degraded'; [detail: string]: unknown };
}

const NS_PER_MS = 1_000_000n;
const MIN = 60_000n * NS_PER_MS;
const HOUR = 60n * MIN;
const LINES_PER_WRITE = 5000;
const floorTo = (t: bigint, u: bigint) => (t / u) * u;
const ceilTo = (t: bigint, u: bigint) => ((t + u - 1n) / u) * u;
const ns = (ms: number) => BigInt(Math.floor(ms)) * NS_PER_MS;

const RAW = qi(MEASUREMENT);
const V = qi(FIELD.coldStartTimeMs);
const SERIES = `${qi(TAG.popCode)}, ${qi(TAG.functionName)}`;
const range = (a: bigint, b: bigint) => `time >= ${a} AND time < ${b}`;

/** Reads the persisted coverage; null when the keeper never ran on this database. */
export async function readCoverage(client: InfluxClient): Promise<RollupCoverage | null> {
  const [res] = await client.query([`SELECT last("through_ms") AS through, last("covered_from_ms") AS covered, last("generation") AS generation FROM ${rollupFrom(ROLLUP_STATE)}`]);
  const s = res?.[0];
  const row = s?.values[0];
  if (!s || !row) return null;
  const through = row[s.columns.indexOf('through')];
  const covered = row[s.columns.indexOf('covered')];
  if (typeof through !== 'number' || typeof covered !== 'number') return null;
  const generation = row[s.columns.indexOf('generation')];
  return { throughNs: ns(through), coveredFromNs: ns(covered), generation: typeof generation === 'number' ? generation : 0 };
}

type Totals = Map<number, { n: number; s: number }>;
function totals(series: InfluxSeries[] | undefined): Totals {
  const out: Totals = new Map();
  const s = series?.[0];
  if (!s) return out;
  const [iN, iS] = [s.columns.indexOf('n'), s.columns.indexOf('s')];
  for (const row of s.values) {
    const n = row[iN];
    if (typeof n === 'number' && n > 0) out.set(Number(row[0]), { n, s: Number(row[iS] ?? 0) });
  }
  return out;
}
const differs = (a: { n: number; s: number }, b: { n: number; s: number } | undefined) =>
  !b || a.n !== b.n || Math.abs(a.s - b.s) > 1e-9 * Math.max(1, Math.abs(a.s));

interface Cell { pop: string; fn: string; t: number; agg: Agg }
/** Cells of 10 min periods rebuilt during one reconcile, by period start (epoch ms). */
interface Fresh { tens: Map<number, Cell[]> }

/** A coarser level and the finer one it is built from, in build order. */
interface CoarseLevel { unit: bigint; from: string; into: string; intoPop: string }
const LEVELS: CoarseLevel[] = [
  { unit: 10n * MIN, from: ROLLUP_1M, into: ROLLUP_10M, intoPop: ROLLUP_10M_POP },
  { unit: HOUR, from: ROLLUP_10M, into: ROLLUP_1H, intoPop: ROLLUP_1H_POP },
];

/**
 * Lines for the per-series measurement and, first, for the per-POP one: if the keeper
 * dies in between, the per-series points are the ones missing, which the next
 * comparison finds, and both are written again.
 */
function withPopLines(series: string, perPop: string, cells: readonly Cell[]): string[] {
  const pops = new Map<string, Cell>();
  for (const c of cells) {
    const key = `${c.pop}\u0000${c.t}`;
    let p = pops.get(key);
    if (!p) pops.set(key, (p = { pop: c.pop, fn: '', t: c.t, agg: emptyAgg() }));
    mergeAgg(p.agg, c.agg);
  }
  return [
    ...[...pops.values()].map((p) => aggLine(perPop, p.pop, null, p.agg, ns(p.t))),
    ...cells.map((c) => aggLine(series, c.pop, c.fn, c.agg, ns(c.t))),
  ];
}

export function createRollupKeeper(opts: RollupKeeperOptions): RollupKeeper {
  const { client } = opts;
  const now = opts.now ?? Date.now;
  const graceNs = ns(opts.graceMs ?? 5000);
  const recentNs = ns(opts.recentMs ?? 10 * 60_000);
  const chunkNs = ns(opts.chunkMs ?? 3_600_000);
  // Each sweep chunk scans an hour of raw samples (about 1 s of influxd at the default rate): a
  // budget of 1 s a pass every 10 s keeps the steady sweep to about a tenth of a core.
  const budgetMs = opts.sweepBudgetMs ?? 1000;
  // Nothing older than a policy keeps may be written into it (InfluxDB refuses the whole
  // write): the sweep stops 5 min inside the shorter of the two.
  const kept = [opts.retention.retention1mMs, opts.retention.retention1hMs].filter((ms) => ms > 0);
  const lookbackMs = Math.min(opts.lookbackMs, ...kept.map((ms) => ms - 5 * 60_000));
  let policies: Record<string, number> | undefined;
  let lastError: { at: string; error: string } | undefined;
  let lastPass: { at: string; minutes: number; hours: number } | undefined;
  let coverage: RollupCoverage | null | undefined; // undefined: not read yet
  /** A period ending at or before this was published: rewriting it moves the generation. */
  const published = () => coverage?.throughNs ?? 0n;
  let changedPublished = false;
  let sweepCursor: bigint | null = null;
  /**
   * The current sweep cycle found late data: it runs to its end and the whole next cycle
   * runs too, without pauses (a backfill still being written lands in hours the cycle has
   * already passed; the next cycle's first hours may be done while later ones are not).
   */
  let cycleFoundWork = false;
  let lastCycleFoundWork = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  const hotSpanNs = ns(opts.hotSpanMs ?? 0);
  const hotEveryMs = opts.hotEveryMs ?? 30_000;
  let lastHotCheckMs = -Infinity;
  /** The raw count of a hot span that reconciling did not bring to the rollups' (nothing to rebuild): not retried until it changes. */
  let hotUnsettled: number | null = null;
  /** Samples of the chunk being reconciled that lie inside what was published (late data), reported when the chunk is done. */
  let late: LateFound | null = null;

  /** Lines of one level (its per-series and per-POP measurements share a retention policy). */
  async function writeLines(measurement: string, lines: string[]) {
    for (let i = 0; i < lines.length; i += LINES_PER_WRITE) await client.writeLines(lines.slice(i, i + LINES_PER_WRITE).join('\n'), rpOf(measurement));
  }

  /**
   * Recomputes the given minutes (epoch ms starts) of the 1 min rollup from raw samples.
   * Runs are cut at 10 min boundaries; a run that recomputed all ten minutes of a period
   * leaves that period's cells in `fresh`, so the 10 min (and 1 h) points are built from
   * memory instead of reading back the 1 min rows just written (that read-back was a
   * quarter of the keeper's time after a backfill).
   */
  async function recomputeMinutes(minutes: number[], fresh: Fresh): Promise<number> {
    const runs: Array<[bigint, bigint]> = [];
    for (const m of minutes.sort((a, b) => a - b)) {
      const t = ns(m);
      const last = runs[runs.length - 1];
      // Contiguous runs cut at 10 min boundaries: one bounded read each (≈ 127k values at the default rate).
      if (last && last[1] === t && t % (10n * MIN) !== 0n) last[1] = t + MIN;
      else runs.push([t, t + MIN]);
    }
    let withData = 0;
    for (const [a, b] of runs) {
      const [raw] = await client.query([`SELECT ${V} AS v FROM ${RAW} WHERE ${range(a, b)} GROUP BY ${SERIES}`]);
      const cells = new Map<string, Cell>();
      const whole = b - a === 10n * MIN ? new Map<string, Cell>() : undefined;
      const t10 = Number(a / NS_PER_MS);
      // Late: inside what the keeper had checked and published. Below `coveredFrom` it is history
      // rolled up for the first time (a new keeper sweeping back), not news.
      const [lateFromMs, lateToMs] = coverage ? [Number(coverage.coveredFromNs / NS_PER_MS), Number(coverage.throughNs / NS_PER_MS)] : [0, 0];
      for (const s of raw ?? []) {
        const pop = s.tags?.[TAG.popCode] ?? '';
        const fn = s.tags?.[TAG.functionName] ?? '';
        const iv = s.columns.indexOf('v');
        let period: Cell | undefined;
        if (whole) whole.set(`${pop}\u0000${fn}`, (period = { pop, fn, t: t10, agg: emptyAgg() }));
        for (const row of s.values) {
          const v = row[iv];
          if (typeof v !== 'number') continue;
          const at = Number(row[0]);
          if (at >= lateFromMs && at < lateToMs) {
            if (!late) late = { earliestMs: at, latestMs: at, points: 0, popSet: new Set() };
            else if (at < late.earliestMs) late.earliestMs = at;
            else if (at > late.latestMs) late.latestMs = at;
            late.points++;
            late.popSet.add(pop);
          }
          const t = Math.floor(at / 60_000) * 60_000;
          const key = `${pop}\u0000${fn}\u0000${t}`;
          let c = cells.get(key);
          if (!c) cells.set(key, (c = { pop, fn, t, agg: emptyAgg() }));
          addValue(c.agg, v);
          if (period) addValue(period.agg, v);
        }
      }
      withData += new Set([...cells.values()].map((c) => c.t)).size;
      if (a < published()) changedPublished = true;
      await writeLines(ROLLUP_1M, withPopLines(ROLLUP_1M, ROLLUP_1M_POP, [...cells.values()]));
      if (whole) fresh.tens.set(t10, [...whole.values()].filter((c) => c.agg.n > 0));
    }
    return withData;
  }

  /** The cells of one period (epoch ns start) of a coarser level: from `fresh` when it holds all of them, else read from the finer level. */
  async function periodCells(level: CoarseLevel, start: bigint, fresh: Fresh): Promise<Cell[]> {
    const t = Number(start / NS_PER_MS);
    if (level.unit === 10n * MIN) {
      const known = fresh.tens.get(t);
      if (known) return known;
    } else {
      const parts: Cell[][] = [];
      for (let p = t; p < t + 3_600_000; p += 600_000) {
        const known = fresh.tens.get(p);
        if (known) parts.push(known);
      }
      if (parts.length === 6) {
        const merged = new Map<string, Cell>();
        for (const c of parts.flat()) {
          const key = `${c.pop}\u0000${c.fn}`;
          let m = merged.get(key);
          if (!m) merged.set(key, (m = { pop: c.pop, fn: c.fn, t, agg: emptyAgg() }));
          mergeAgg(m.agg, c.agg);
        }
        return [...merged.values()];
      }
    }
    const [finer] = await client.query([`SELECT ${ROLLUP_FIELDS} FROM ${rollupFrom(level.from)} WHERE ${range(start, start + level.unit)} GROUP BY ${SERIES}`]);
    const cells: Cell[] = [];
    for (const s of finer ?? []) {
      const agg = emptyAgg();
      const cols = rollupColumns(s.columns);
      for (const row of s.values) addRow(agg, cols, row);
      if (agg.n > 0) cells.push({ pop: s.tags?.[TAG.popCode] ?? '', fn: s.tags?.[TAG.functionName] ?? '', t, agg });
    }
    return cells;
  }

  /** Recomputes one period (epoch ns start) of a coarser level from the finer one. */
  async function recomputePeriod(level: CoarseLevel, start: bigint, fresh: Fresh): Promise<void> {
    const cells = await periodCells(level, start, fresh);
    if (start + level.unit <= published()) changedPublished = true;
    // A 10 min period rebuilt here is what its hour is made of, if the hour is rebuilt next.
    if (level.unit === 10n * MIN) fresh.tens.set(Number(start / NS_PER_MS), cells);
    await writeLines(level.into, withPopLines(level.into, level.intoPop, cells));
  }

  /** Compares the closed periods of a level touching [a, b) with the finer level's totals; recomputes those that differ. */
  async function reconcileLevel(level: CoarseLevel, a: bigint, b: bigint, closedNs: bigint, fresh: Fresh): Promise<number> {
    const p0 = floorTo(a, level.unit);
    const end = floorTo(closedNs, level.unit);
    const c = ceilTo(b, level.unit);
    const p1 = c < end ? c : end;
    if (p1 <= p0) return 0;
    const g = `GROUP BY time(${level.unit / NS_PER_MS}ms) fill(none)`;
    const [fine, coarse] = await client.query([
      `SELECT sum("n") AS n, sum("sum") AS s FROM ${rollupFrom(level.from)} WHERE ${range(p0, p1)} ${g}`,
      `SELECT sum("n") AS n, sum("sum") AS s FROM ${rollupFrom(level.into)} WHERE ${range(p0, p1)} ${g}`,
    ]);
    const have = totals(coarse);
    let n = 0;
    for (const [t, f] of totals(fine)) {
      if (!differs(f, have.get(t))) continue;
      await recomputePeriod(level, ns(t), fresh);
      n++;
    }
    return n;
  }

  /**
   * Makes the rollups of [a, b) (minute-aligned) match the raw samples; 10 min and
   * 1 h periods are checked only when they end by `closedNs`. Returns how many
   * minutes and coarser periods it recomputed.
   */
  async function reconcile(a: bigint, b: bigint, closedNs: bigint): Promise<{ minutes: number; hours: number }> {
    const fresh: Fresh = { tens: new Map() };
    late = null; // what a failed reconcile had seen: its minutes are still dirty, found again here
    const minuteTotals = `GROUP BY time(1m) fill(none)`;
    const [m1] = await client.query([`SELECT sum("n") AS n, sum("sum") AS s FROM ${rollupFrom(ROLLUP_1M)} WHERE ${range(a, b)} ${minuteTotals}`]);
    const rolled = totals(m1);
    let dirty: number[];
    if (rolled.size === 0) {
      // Nothing rolled up here yet (a backfill, a first run, or no data at all): one count says
      // which; with data, every minute is rebuilt from the raw values, which have to be read
      // anyway; their per-minute counts would only say which minutes hold data, which the
      // values say too (a third of the keeper's time after a backfill).
      const [any] = await client.query([`SELECT count(${V}) AS n FROM ${RAW} WHERE ${range(a, b)}`]);
      if (!(Number(any?.[0]?.values[0]?.[1] ?? 0) > 0)) return { minutes: 0, hours: 0 };
      dirty = [];
      for (let t = a; t < b; t += MIN) dirty.push(Number(t / NS_PER_MS));
    } else {
      const [raw] = await client.query([`SELECT count(${V}) AS n, sum(${V}) AS s FROM ${RAW} WHERE ${range(a, b)} ${minuteTotals}`]);
      dirty = [...totals(raw)].filter(([t, r]) => differs(r, rolled.get(t))).map(([t]) => t);
    }
    // Minutes without raw samples are "rebuilt" to nothing: only those holding data count as work.
    const minutes = dirty.length > 0 ? await recomputeMinutes(dirty, fresh) : 0;
    let hours = 0;
    for (const level of LEVELS) hours += await reconcileLevel(level, a, b, closedNs, fresh);
    if (late) {
      // (Set inside recomputeMinutes: TypeScript's narrowing here does not see it.)
      const { popSet, ...counts } = late as LateFound;
      late = null;
      // Its POPs: the detector re-derives only their series (LANDED_POPS_MAX at most, else all).
      const pops = landedPops(popSet);
      const found: LateData = pops ? { ...counts, pops } : counts;
      try {
        opts.onLateData?.(found);
      } catch (err) {
        opts.log?.warn({ err: (err as Error).message }, 'late-data listener failed');
      }
    }
    return { minutes, hours };
  }

  /**
   * The hot check: one raw count over the hot span (minus the recent margin, which every pass
   * reconciles) against the 1 min rollups' count. Counts differ when samples landed there
   * after it was rolled up; then the span is reconciled, newest chunk first, and what is found
   * is reported at once (onLateData). A point overwritten with another value keeps the count:
   * the sweep finds that one.
   */
  async function hotCheck(): Promise<{ minutes: number; hours: number }> {
    const none = { minutes: 0, hours: 0 };
    if (!coverage || hotSpanNs <= 0n || now() - lastHotCheckMs < hotEveryMs) return none;
    lastHotCheckMs = now();
    const top = floorTo(coverage.throughNs - recentNs, MIN);
    const bottom = ceilTo(coverage.throughNs - hotSpanNs > coverage.coveredFromNs ? coverage.throughNs - hotSpanNs : coverage.coveredFromNs, MIN);
    if (top <= bottom) return none;
    const [raw, rolled] = await client.query([
      `SELECT count(${V}) AS n FROM ${RAW} WHERE ${range(bottom, top)}`,
      `SELECT sum("n") AS n FROM ${rollupFrom(ROLLUP_1M)} WHERE ${range(bottom, top)}`,
    ]);
    const count = (r: InfluxSeries[] | undefined) => Number(r?.[0]?.values[0]?.[1] ?? 0);
    const rawN = count(raw);
    if (rawN === count(rolled) || rawN === hotUnsettled) return none;
    let minutes = 0;
    let hours = 0;
    for (let to = top; to > bottom; to -= chunkNs) {
      const r = await reconcile(to - chunkNs > bottom ? to - chunkNs : bottom, to, coverage.throughNs);
      minutes += r.minutes;
      hours += r.hours;
    }
    hotUnsettled = minutes + hours > 0 ? null : rawN;
    if (changedPublished) await persist(coverage);
    return { minutes, hours };
  }

  async function persist(c: RollupCoverage) {
    if (changedPublished) {
      c.generation = (c.generation ?? 0) + 1;
      changedPublished = false;
    }
    await client.writeLines(`${ROLLUP_STATE} through_ms=${c.throughNs / NS_PER_MS}i,covered_from_ms=${c.coveredFromNs / NS_PER_MS}i,generation=${c.generation ?? 0}i ${ns(now())}`, rpOf(ROLLUP_STATE));
  }

  async function leaderPass(): Promise<Omit<PassReport, 'ran'>> {
    policies ??= await ensureRollupRetention(client, opts.db, opts.retention).catch((err: Error) => {
      lastError = { at: new Date(now()).toISOString(), error: err.message };
      throw err;
    });
    const started = now();
    const end = floorTo(ns(now()) - graceNs, MIN);
    if (coverage === undefined) coverage = await readCoverage(client);
    // Catch up from where the last pass (of any replica) stopped, and re-check the recent margin.
    const last = coverage?.throughNs ?? end;
    let cursor = floorTo((last < end ? last : end) - recentNs, MIN);
    const oldest = ceilTo(ns(now()) - ns(lookbackMs), MIN);
    if (cursor < oldest) cursor = oldest; // a keeper back after a long outage: what is past the lookback stays as it is
    let minutes = 0;
    let hours = 0;
    let more = false;
    while (cursor < end) {
      const to = cursor + chunkNs < end ? cursor + chunkNs : end;
      const r = await reconcile(cursor, to, to);
      minutes += r.minutes;
      hours += r.hours;
      const floorNs = ceilTo(ns(now()) - ns(lookbackMs), MIN);
      // First run on this database: rollups are trusted only from what this keeper checked.
      coverage = { throughNs: to, coveredFromNs: coverage && coverage.coveredFromNs < to ? coverage.coveredFromNs : floorTo(end - recentNs, MIN), generation: coverage?.generation ?? 0 };
      if (coverage.coveredFromNs < floorNs) coverage.coveredFromNs = floorNs;
      await persist(coverage);
      cursor = to;
      if (now() - started > budgetMs && cursor < end) {
        more = true; // catch up over the next passes
        break;
      }
    }
    const caughtUpWork = minutes + hours;
    const hot = await hotCheck();
    minutes += hot.minutes;
    hours += hot.hours;
    // The sweep: older chunks, newest first, within the budget; wraps around at the lookback.
    const floorNs = ceilTo(ns(now()) - ns(lookbackMs), HOUR);
    let swept = false;
    while (coverage && now() - started < budgetMs) {
      swept = true;
      const top = ceilTo(coverage.throughNs - recentNs, HOUR);
      if (sweepCursor === null || sweepCursor <= floorNs || sweepCursor > top) sweepCursor = top;
      if (sweepCursor <= floorNs) break;
      const from = sweepCursor - chunkNs > floorNs ? sweepCursor - chunkNs : floorNs;
      const r = await reconcile(from, sweepCursor, coverage.throughNs);
      minutes += r.minutes;
      hours += r.hours;
      // Late data found: keep sweeping without the pause, it is likely a backfill still being
      // written (oldest first, into hours this cycle already passed): after this cycle, one more.
      if (r.minutes + r.hours > 0) cycleFoundWork = true;
      if (cycleFoundWork || lastCycleFoundWork) more = true;
      sweepCursor = from;
      if (from < coverage.coveredFromNs || changedPublished) {
        coverage = { ...coverage, coveredFromNs: from < coverage.coveredFromNs ? from : coverage.coveredFromNs };
        await persist(coverage);
      }
      if (from <= floorNs) {
        sweepCursor = null;
        lastCycleFoundWork = cycleFoundWork;
        cycleFoundWork = false;
        break; // one full cycle per pass at most
      }
    }
    // The catch-up found work and used the whole budget: the sweep had no turn, and after
    // a straight write of hours of data it has the most to do. No pause before the next pass.
    if (!swept && caughtUpWork > 0) more = true;
    return { minutes, hours, coverage: coverage ?? null, more };
  }

  async function pass(): Promise<PassReport> {
    const r = await opts.leadership.runAsLeader(() => leaderPass());
    if (!r.ran) {
      coverage = undefined; // another replica keeps it; read its state when we lead again
      return { ran: false, minutes: 0, hours: 0, coverage: null, more: false };
    }
    lastPass = { at: new Date(now()).toISOString(), minutes: r.value.minutes, hours: r.value.hours };
    lastError = undefined;
    return { ran: true, ...r.value };
  }

  function schedule(delayMs = opts.intervalMs) {
    if (stopped) return;
    timer = setTimeout(() => {
      let next = opts.intervalMs;
      running = pass()
        .then((r) => {
          if (r.minutes + r.hours > 0) opts.log?.debug({ minutes: r.minutes, hours: r.hours }, 'rollups updated');
          if (r.more) next = 0;
        })
        .catch((err) => {
          lastError ??= { at: new Date(now()).toISOString(), error: (err as Error).message };
          opts.log?.warn({ err: (err as Error).message }, 'rollup pass failed; the next pass retries');
        })
        .finally(() => schedule(next));
    }, delayMs);
    timer.unref?.();
  }

  return {
    pass,
    health() {
      return {
        status: lastError ? 'degraded' : 'ok',
        leader: opts.leadership.state().leader,
        retentionPolicies: policies ?? null,
        lookbackMs,
        throughMs: coverage ? Number(coverage.throughNs / NS_PER_MS) : null,
        coveredFromMs: coverage ? Number(coverage.coveredFromNs / NS_PER_MS) : null,
        lastPass: lastPass ?? null,
        ...(lastError ? { error: lastError.error, errorAt: lastError.at } : {}),
      };
    },
    start() {
      stopped = false;
      schedule(Math.min(1000, opts.intervalMs)); // the first pass soon after start
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
