/**
 * The first drill-down into a POP (its caches cold), in-process on a file kept by the week
 * bench (BENCH_WEEK_KEEP=1): the dashboard's three requests at once (the 7 d chart in 1 h
 * steps, the 7 d summary, the functions' table), and the chart alone, for POPs not asked
 * before; wall and CPU time (every thread of the process, DuckDB's too).
 *
 *   npx tsx bench/week-drill-profile.ts <dir with metrics.duckdb>
 *   PROFILE_BASE=<path of another duckdb-metrics-store.ts> PROFILE_ROUNDS=3 …: that build and this one in turn.
 *   PROFILE_WARM=1: the 7 d heatmap's summary is asked first after each open (the map before the click).
 *   PROFILE_BASE_DIR=<another kept dir>: the base build reads that copy of the file (e.g. one still laid out
 *   time-major, while this build reads a copy re-laid POP-major: bench/pop-major-relay.ts); same data, same `now`.
 *
 * Reads only (the store is opened with rollups deferred and closed without writes).
 */
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createDuckDbMetricsStore } from '../apps/server/src/stores/duckdb/duckdb-metrics-store.ts';
import { percentile } from './lib.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: week-drill-profile.ts <dir>');
const path = join(dir, 'metrics.duckdb');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ns = (ms: number) => BigInt(ms) * 1_000_000n;

const db = await DuckDBInstance.create(path);
const c = await db.connect();
const lastMs = Number((await c.runAndReadAll('SELECT max(time_ns) // 1000000 FROM cold_start_metrics')).getRows()[0]![0]);
const pops = (await c.runAndReadAll('SELECT pop_code FROM pops_seen ORDER BY pop_code')).getRows().map((r) => String(r[0]));
c.closeSync();
db.closeSync();
const now = lastMs + 5_000;
const to = Math.ceil(now / HOUR) * HOUR;
const chart = { fromNs: ns(to - 7 * DAY), toNs: ns(now) };
const window = { fromNs: ns(now - 7 * DAY), toNs: ns(now + 1) };

type Open = typeof createDuckDbMetricsStore;
const impls: Array<[string, Open]> = [['this tree', createDuckDbMetricsStore]];
if (process.env.PROFILE_BASE) impls.unshift(['base', ((await import(process.env.PROFILE_BASE)) as { createDuckDbMetricsStore: Open }).createDuckDbMetricsStore]);
const rounds = Number(process.env.PROFILE_ROUNDS ?? 1);
const perRound = Number(process.env.PROFILE_POPS ?? 3);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const results = new Map<string, Map<string, Array<{ wall: number; cpu: number }>>>();
const note = (what: string, impl: string, wall: number, cpu: number) => {
  let m = results.get(what);
  if (!m) results.set(what, (m = new Map()));
  let l = m.get(impl);
  if (!l) m.set(impl, (l = []));
  l.push({ wall, cpu });
};
let next = 0;
for (let round = 0; round < rounds; round++) {
  for (const [impl, open] of impls) {
    const file = impl === 'base' && process.env.PROFILE_BASE_DIR ? join(process.env.PROFILE_BASE_DIR, 'metrics.duckdb') : path;
    // No background re-layout while measuring (popMajorDelayMs: null; a build without it ignores the option).
    const store = await open({ path: file, now: () => now, warmBlocksHours: 0, rollupDelayMs: DAY, memoryLimitBytes: 384 * 2 ** 20, popMajorDelayMs: null });
    try {
      // PROFILE_WARM=1: the 7 d heatmap's summary first, as when a user clicks a POP on the map (its hour pages are then in DuckDB's pool).
      if (process.env.PROFILE_WARM === '1') await store.summarize(window);
      // Different POPs for each round and build, so each one starts cold (the file's pages are warm after the first).
      for (let i = 0; i < perRound; i++) {
        const pop = pops[(next++ * 97) % pops.length]!;
        let s = performance.now();
        let u = cpuMs();
        await Promise.all([store.timeseries(pop, chart, HOUR), store.summarize(window, { popCode: pop }), store.byFunction(pop, window)]);
        note('drill-down, first: chart + summary + functions at once', impl, performance.now() - s, cpuMs() - u);
        s = performance.now();
        u = cpuMs();
        await Promise.all([store.timeseries(pop, chart, HOUR), store.summarize(window, { popCode: pop }), store.byFunction(pop, window)]);
        note('drill-down, again (from memory)', impl, performance.now() - s, cpuMs() - u);
        const other = pops[(next++ * 97) % pops.length]!;
        s = performance.now();
        u = cpuMs();
        await store.timeseries(other, chart, HOUR);
        note('7 d chart alone, first', impl, performance.now() - s, cpuMs() - u);
      }
    } finally {
      await store.close();
    }
  }
}
console.log(`medians over ${rounds} rounds × ${perRound} POPs; wall ms / CPU ms of the whole process`);
for (const [what, m] of results) {
  console.log(`${what.padEnd(56)} ${[...m].map(([impl, l]) => `${impl}: wall ${percentile(l.map((x) => x.wall), 0.5).toFixed(1)} cpu ${percentile(l.map((x) => x.cpu), 0.5).toFixed(1)}`).join(' | ')}`);
}
