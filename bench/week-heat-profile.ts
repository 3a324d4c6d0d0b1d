/**
 * Where the 7 d heatmap and overview spend their time, in-process on a file kept by the week
 * bench (BENCH_WEEK_KEEP=1): the store calls each answer makes (query-service.ts: the
 * summary with or without per-POP percentiles, every series' mean over the window, every
 * series' mean over the last NO_DATA_AFTER for "recently reporting"), each timed alone
 * (medians of PROFILE_RUNS after a first, loading call), then together as the routes make
 * them, beside the same for the 5 min window (the anchor); then EXPLAIN ANALYZE of the SQL
 * statements the 7 d calls still run.
 *
 *   npx tsx bench/week-heat-profile.ts <dir with metrics.duckdb>
 *   PROFILE_BASE=<path of another duckdb-metrics-store.ts> PROFILE_ROUNDS=3 …: that build and this one in turn.
 *
 * Reads only (the store is opened with rollups deferred and closed without writes).
 * Add `node --cpu-prof` (NODE_OPTIONS) to see the JS side.
 */
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createDuckDbMetricsStore } from '../apps/server/src/stores/duckdb/duckdb-metrics-store.ts';
import { planRange, rawSeriesSumsStatement, rawSketchStatement, sketchStatements } from '../apps/server/src/stores/duckdb/planner.ts';
import { percentile } from './lib.ts';
import { printTopOperators } from './duckdb-profile.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: week-heat-profile.ts <dir>');
const runs = Number(process.env.PROFILE_RUNS ?? 9);
const path = join(dir, 'metrics.duckdb');
const DAY = 86_400_000;
const NO_DATA_AFTER = 3 * 60_000;

async function lastMs(): Promise<number> {
  const db = await DuckDBInstance.create(path);
  const c = await db.connect();
  const v = Number((await c.runAndReadAll('SELECT max(time_ns) // 1000000 FROM cold_start_metrics')).getRows()[0]![0]);
  c.closeSync();
  db.closeSync();
  return v;
}

// As of a few seconds after the last sample (so the window's end looks live: a partial minute read raw).
const now = (await lastMs()) + 5_000 + Number(process.env.PROFILE_SHIFT_MS ?? 0);
const ns = (ms: number) => BigInt(ms) * 1_000_000n;
const last = (ms: number) => ({ fromNs: ns(now - ms), toNs: ns(now + 1) });
const days = Number(process.env.PROFILE_DAYS ?? 7);
const week = last(days * DAY);

type Open = typeof createDuckDbMetricsStore;
// PROFILE_BASE=<module path>: another build of the store (e.g. main's, copied beside this one) measured in turn
// with this one, PROFILE_ROUNDS times, so both see the same load (the machine is shared).
const impls: Array<[string, Open]> = [['this tree', createDuckDbMetricsStore]];
if (process.env.PROFILE_BASE) impls.unshift(['base', ((await import(process.env.PROFILE_BASE)) as { createDuckDbMetricsStore: Open }).createDuckDbMetricsStore]);
const rounds = Number(process.env.PROFILE_ROUNDS ?? 1);
/** what → impl → medians per round: wall ms and CPU ms (every thread of the process: DuckDB's too). */
const results = new Map<string, Map<string, Array<{ wall: number; cpu: number; first: number }>>>();
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
for (let round = 0; round < rounds; round++) {
  for (const [impl, open] of impls) {
    const store = await open({ path, now: () => now, warmBlocksHours: 0, rollupDelayMs: DAY, memoryLimitBytes: 384 * 2 ** 20 });
    const time = async (what: string, call: () => Promise<unknown>) => {
      const walls: number[] = [];
      const cpus: number[] = [];
      for (let i = 0; i < runs + 1; i++) {
        const s = performance.now();
        const c = cpuMs();
        await call();
        cpus.push(cpuMs() - c);
        walls.push(performance.now() - s);
      }
      let byImpl = results.get(what);
      if (!byImpl) results.set(what, (byImpl = new Map()));
      let list = byImpl.get(impl);
      if (!list) byImpl.set(impl, (list = []));
      list.push({ wall: percentile(walls.slice(1), 0.5), cpu: percentile(cpus.slice(1), 0.5), first: walls[0]! });
    };
    try {
      if (round === 0 && impl === impls[impls.length - 1]![0]) {
        const plan = planRange(week, store.rollups.dirty);
        console.log(`plan ${days} d: ${plan.parts.map((p) => `${p.source}×${Number((p.toNs - p.fromNs) / 1_000_000_000n)}s`).join(' ')}`);
      }
      for (const [label, ms] of [['5m', 5 * 60_000], [`${days}d`, days * DAY]] as const) {
        const r = last(ms);
        await time(`${label} summarize (heatmap: per-POP quantiles)`, () => store.summarize(r, {}));
        await time(`${label} summarize (overview: total quantiles)`, () => store.summarize(r, {}, { popQuantiles: false }));
        await time(`${label} seriesMeans (statuses)`, () => store.seriesMeans(r));
        await time(`${label} heatmap's calls together`, () => Promise.all([store.summarize(r, {}), store.seriesMeans(r), store.seriesMeans(last(NO_DATA_AFTER))]));
        await time(`${label} overview's calls together`, () => Promise.all([store.summarize(r, {}, { popQuantiles: false }), store.seriesMeans(r), store.seriesMeans(last(NO_DATA_AFTER))]));
        await time(`${label} POP detail's calls together (FRA)`, () => Promise.all([store.summarize(r, { popCode: 'FRA' }), store.byFunction('FRA', r), store.seriesMeans(last(NO_DATA_AFTER))]));
      }
      await time(`seriesMeans last 3 min (recently reporting)`, () => store.seriesMeans(last(NO_DATA_AFTER)));
    } finally {
      await store.close();
    }
  }
}
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join('/');
console.log(`medians of ${runs} after a first (loading) call; per round, wall ms / CPU ms of the whole process; rounds ${rounds}`);
for (const [what, byImpl] of results) {
  const cells = [...byImpl].map(([impl, l]) => `${impl}: wall ${fmt(l.map((x) => x.wall))} cpu ${fmt(l.map((x) => x.cpu))} (first ${fmt(l.map((x) => x.first))})`);
  console.log(`${what.padEnd(44)} ${cells.join(' | ')}`);
}

if (process.env.PROFILE_EXPLAIN !== '0') {
  // The SQL the 7 d calls still run: the raw parts (summary), the non-hour parts per series (statuses), the last 3 min.
  const plan = planRange(week, { minutes: new Set(), hours: new Map() });
  const raw = { resolution: 'raw' as const, parts: plan.parts.filter((p) => p.source === 'raw') };
  const pop = [{ name: 'pop_code', sql: 'pop_code' }];
  const series = [...pop, { name: 'function_name', sql: 'function_name' }];
  const statements: Record<string, string> = {
    'raw parts: stats (before: two statements)': sketchStatements(raw, pop, undefined).stats,
    'raw parts: keyed bins (before)': sketchStatements(raw, pop, undefined).bins,
    'raw parts: stats and bins in one statement (now)': rawSketchStatement(raw.parts, pop[0]!, undefined),
    'series means: non-hour parts (before)': sketchStatements({ resolution: plan.resolution, parts: plan.parts.filter((p) => p.source !== '1h') }, series, undefined, false).stats,
    'series means: raw parts only (now)': rawSeriesSumsStatement(plan.parts, undefined) ?? 'SELECT 1',
    'recently reporting (3 min raw)': `SELECT pop_code, function_name, count(*) AS n, avg(cold_start_time_ms) AS mean FROM cold_start_metrics
      WHERE time_ns >= ${ns(now - NO_DATA_AFTER)} AND time_ns < ${ns(now + 1)} GROUP BY ALL`,
  };
  const db = await DuckDBInstance.create(path, { memory_limit: '384MB' });
  const c = await db.connect();
  for (const [what, sql] of Object.entries(statements)) await printTopOperators(c, what, sql, undefined, 4);
  c.closeSync();
  db.closeSync();
}
