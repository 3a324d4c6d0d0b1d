/**
 * For the profiling scripts (week-profile.ts, week-heat-profile.ts): one statement's warm
 * wall time and DuckDB's own profile of it (the JSON of `PRAGMA enable_profiling`, the
 * operators EXPLAIN ANALYZE shows), its slowest operators printed.
 */
import { readFileSync, rmSync } from 'node:fs';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';

interface ProfileNode {
  operator_name?: string;
  operator_timing?: number;
  operator_cardinality?: number;
  operator_rows_scanned?: number;
  latency?: number;
  children?: ProfileNode[];
}

export async function printTopOperators(c: DuckDBConnection, what: string, sql: string, params?: Record<string, DuckDBValue>, top = 5): Promise<void> {
  for (let i = 0; i < 2; i++) await c.runAndReadAll(sql, params); // warm
  const s = performance.now();
  await c.runAndReadAll(sql, params);
  const ms = performance.now() - s;
  const out = `/tmp/duckdb-profile-${process.pid}.json`;
  await c.run("PRAGMA enable_profiling = 'json'");
  await c.run(`PRAGMA profiling_output = '${out}'`);
  await c.runAndReadAll(sql, params);
  await c.run('PRAGMA disable_profiling');
  const prof = JSON.parse(readFileSync(out, 'utf8')) as ProfileNode;
  rmSync(out, { force: true });
  const ops: Array<{ name: string; t: number; rows: number; scanned: number }> = [];
  const walk = (n: ProfileNode) => {
    if (n.operator_name) ops.push({ name: n.operator_name.trim(), t: (n.operator_timing ?? 0) * 1000, rows: n.operator_cardinality ?? 0, scanned: n.operator_rows_scanned ?? 0 });
    for (const ch of n.children ?? []) walk(ch);
  };
  walk(prof);
  ops.sort((a, b) => b.t - a.t);
  console.log(`${what}: ${ms.toFixed(1)} ms wall (warm); latency ${((prof.latency ?? 0) * 1000).toFixed(1)} ms; top operators:`);
  for (const o of ops.slice(0, top)) console.log(`  ${o.name.padEnd(20)} ${o.t.toFixed(1).padStart(7)} ms  out ${o.rows}  scanned ${o.scanned}`);
}
