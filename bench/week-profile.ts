/**
 * Where one POP's 7 d series (the drill-down's chart: hour-aligned start, 1 h steps) spends
 * its time, in-process on a file kept by the week bench (BENCH_WEEK_KEEP=1):
 *   - store.timeseries with every rollup part in SQL (popBlockCache false: the path before
 *     pop-hours.ts) and with the POP's hours in memory, medians of PROFILE_RUNS each;
 *   - EXPLAIN ANALYZE of the SQL path's two statements (stats, bins), operator timings.
 *
 *   npx tsx bench/week-profile.ts <dir with metrics.duckdb> [POP]
 *
 * Reads only (the stores are opened with rollups deferred and closed without writes).
 */
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createDuckDbMetricsStore } from '../apps/server/src/stores/duckdb/duckdb-metrics-store.ts';
import { planRange, sketchStatements } from '../apps/server/src/stores/duckdb/planner.ts';
import { percentile } from './lib.ts';
import { printTopOperators } from './duckdb-profile.ts';

const HOUR = 3_600_000;
const dir = process.argv[2];
if (!dir) throw new Error('usage: week-profile.ts <dir> [POP]');
const pop = process.argv[3] ?? 'FRA';
const runs = Number(process.env.PROFILE_RUNS ?? 11);
const path = join(dir, 'metrics.duckdb');

async function lastMs(): Promise<number> {
  const db = await DuckDBInstance.create(path);
  const c = await db.connect();
  const v = Number((await c.runAndReadAll('SELECT max(time_ns) // 1000000 FROM cold_start_metrics')).getRows()[0]![0]);
  c.closeSync();
  db.closeSync();
  return v;
}

// The dashboard's request, as of just after the last sample (so the file's edges look live).
const now = (await lastMs()) + 5_000;
const to = Math.ceil(now / HOUR) * HOUR;
const range = { fromNs: BigInt(to - 7 * 24 * HOUR) * 1_000_000n, toNs: BigInt(now) * 1_000_000n };

let statements: { stats: string; bins: string } | undefined;
for (const popBlockCache of [false, true]) {
  const store = await createDuckDbMetricsStore({ path, now: () => now, warmBlocksHours: 0, rollupDelayMs: 86_400_000, popBlockCache, memoryLimitBytes: 384 * 2 ** 20 });
  try {
    const plan = planRange(range, store.rollups.dirty, HOUR);
    statements ??= sketchStatements(plan, [{ name: 'bucket', sql: `($t // ${BigInt(HOUR) * 1_000_000n}) * ${BigInt(HOUR) * 1_000_000n}` }], { popCode: pop });
    const times: number[] = [];
    let buckets = 0;
    for (let i = 0; i < runs; i++) {
      const s = performance.now();
      buckets = (await store.timeseries(pop, range, HOUR)).buckets.length;
      times.push(performance.now() - s);
    }
    console.log(`${popBlockCache ? 'POP hours in memory' : 'every part in SQL  '}: first ${times[0]!.toFixed(1)} ms, median ${percentile(times, 0.5).toFixed(1)} ms (${buckets} buckets; plan ${plan.parts.map((p) => `${p.source}×${(p.toNs - p.fromNs) / 60_000_000_000n}m`).join(' ')})`);
    if (popBlockCache) console.log('  pop-hours', JSON.stringify(store.popHours.stats()));
    // The drill-down's other request, the POP's detail over 7 d: its summary and its functions.
    const window = { fromNs: range.toNs - 7n * 86_400_000_000_000n, toNs: range.toNs };
    for (const [what, call] of [
      ['summary', () => store.summarize(window, { popCode: pop })],
      ['byFunction', () => store.byFunction(pop, window)],
    ] as const) {
      const ts: number[] = [];
      for (let i = 0; i < runs; i++) {
        const s = performance.now();
        await call();
        ts.push(performance.now() - s);
      }
      console.log(`  detail's ${what}: first ${ts[0]!.toFixed(1)} ms, median ${percentile(ts, 0.5).toFixed(1)} ms`);
    }
  } finally {
    await store.close();
  }
}

const db = await DuckDBInstance.create(path, { memory_limit: '384MB' });
const c = await db.connect();
for (const [what, sql] of Object.entries(statements!)) await printTopOperators(c, what, sql, { pop });
c.closeSync();
db.closeSync();
