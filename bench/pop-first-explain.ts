/**
 * What the first request for one POP's 7 d series (1 h steps) and its detail read from the
 * rollups, statement by statement, on a file kept by the week bench (BENCH_WEEK_KEEP=1):
 * DuckDB's profile (wall time and top operators) of each load pop-hours.ts runs for a POP
 * not asked before: its hours over every function (rollup_pop_1h), per function (rollup_1h),
 * and the minutes of a window's edges (rollup_1m).
 *
 *   npx tsx bench/pop-first-explain.ts <dir with metrics.duckdb> [POP …]
 *
 * Opens the file read-only (another process may not hold it).
 */
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { printTopOperators } from './duckdb-profile.ts';
import { HOUR_NS, MINUTE_NS } from '../apps/server/src/stores/duckdb/rollup-sql.ts';
import { selectRuns } from '../apps/server/src/stores/duckdb/period-runs.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: pop-first-explain.ts <dir> [POP …]');
const db = await DuckDBInstance.create(join(dir, 'metrics.duckdb'), { access_mode: 'READ_ONLY' });
const c = await db.connect();
const lastMs = Number((await c.runAndReadAll('SELECT max(time_ns) // 1000000 FROM cold_start_metrics')).getRows()[0]![0]);
const all = (await c.runAndReadAll('SELECT pop_code FROM pops_seen ORDER BY pop_code')).getRows().map((r) => String(r[0]));
const pops = process.argv.length > 3 ? process.argv.slice(3) : [all[101]!, all[503]!, all[877]!];
const HOUR = 3_600_000;
const now = lastMs + 5_000;
const h1 = Math.floor(now / HOUR);
const hours = Array.from({ length: 168 }, (_, i) => h1 - 168 + i);
// The chart's end edge: the closed minutes of the current hour.
const m1 = Math.floor(now / 60_000) - 1;
const endMinutes = Array.from({ length: m1 - h1 * 60 }, (_, i) => h1 * 60 + i);
const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;
const load = (table: string, periods: number[], len: bigint, pop: string) => {
  const key = table === 'rollup_pop_1h' ? 'pop_code' : 'function_name';
  return selectRuns(periods, len, (lo, hi) => `SELECT t_ns // ${len} AS blk, ${key}, n, sum AS s, min AS mn, max AS mx, bins, counts FROM ${table}
      WHERE t_ns >= ${lo} AND t_ns < ${hi} AND pop_code = ${sqlString(pop)}`);
};
console.log(`now ${new Date(now).toISOString()}; ${hours.length} hours, ${endMinutes.length} end-edge minutes`);
for (const pop of pops) {
  // First run of each statement cold for this POP (timed by hand), then DuckDB's profile (warm).
  for (const [what, sql] of [
    ['hours, all functions (rollup_pop_1h)', load('rollup_pop_1h', hours, HOUR_NS, pop)],
    ['hours per function (rollup_1h)', load('rollup_1h', hours, HOUR_NS, pop)],
    ['end-edge minutes per function (rollup_1m)', load('rollup_1m', endMinutes, MINUTE_NS, pop)],
  ] as const) {
    const s = performance.now();
    const r = await c.runAndReadAll(sql);
    console.log(`${pop} ${what}: first ${(performance.now() - s).toFixed(1)} ms, ${r.currentRowCount} rows`);
    await printTopOperators(c, `  ${pop} ${what}`, sql, undefined, 3);
  }
}
c.closeSync();
db.closeSync();
