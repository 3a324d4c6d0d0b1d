/**
 * DDL and the rollup step's SQL for the embedded store's rollups
 * (docs/design/write-path-and-rollups.md, "Embedded store" 3-5).
 *
 * rollup_1m and rollup_1h hold one row per (bucket, POP, function): n, sum, min, max
 * (exact) and the quantile sketch of packages/sketch as two parallel LIST columns,
 * `bins` (SMALLINT, the log bin) and `counts`. Lists rather than a normalised
 * (bucket, POP, function, bin) table because most reads filter rows first (one POP,
 * one function, a time range) and only then unnest: a normalised table would scan
 * ~70 bin rows per rollup row before it could drop them (see docs/notes/rollup.md for the
 * EXPLAIN ANALYZE figures).
 *
 * rollup_dirty holds the minutes (epoch minutes) whose raw rows changed since they
 * were last rolled up. It is written in the same transaction as the samples, so a
 * crash or restart can never lose a minute that still needs rolling up.
 */
import { BIN_SQL } from '@edgeworker/sketch';

export const MINUTE_NS = 60_000_000_000n;
export const HOUR_NS = 3_600_000_000_000n;

/** The sketch bin of a sample in SQL, clamped to SMALLINT (bins past 32767 mean values beyond 1e280 ms). */
export const SAMPLE_BIN = `LEAST(${BIN_SQL('cold_start_time_ms')}, 32767)::SMALLINT`;

export const ROLLUP_TABLES = ['rollup_1m', 'rollup_1h'] as const;
export type RollupTable = (typeof ROLLUP_TABLES)[number];

/** A rollup table: one row per period and POP (and function, unless merged over all of them). */
const rollupTable = (name: RollupTable | 'rollup_pop_1h', perFunction = true) => `CREATE TABLE IF NOT EXISTS ${name} (
     t_ns BIGINT NOT NULL,
     pop_code VARCHAR NOT NULL,${perFunction ? '\n     function_name VARCHAR NOT NULL,' : ''}
     n BIGINT NOT NULL,
     sum DOUBLE NOT NULL,
     min DOUBLE NOT NULL,
     max DOUBLE NOT NULL,
     bins SMALLINT[] NOT NULL,
     counts INTEGER[] NOT NULL
   )`;

export const CREATE_ROLLUP_TABLES = [
  rollupTable('rollup_1m'),
  rollupTable('rollup_1h'),
  // Per POP, all functions merged: the unfiltered heatmap and overview read ~150 bins per POP-hour here instead of 5 × ~55.
  rollupTable('rollup_pop_1h', false),
  `CREATE TABLE IF NOT EXISTS rollup_dirty (minute BIGINT PRIMARY KEY)`,
];

/*
 * Rows go in time-major (ORDER BY t_ns, …) so the zone maps of t_ns prune the scans of a
 * window's edges (closed days of the hour tables are re-laid POP-major afterwards: pop-major.ts); bin lists are stored unordered (an ordered list aggregate sorts per
 * group, which cost minutes over a day of 1-minute groups) and sorted where they are read.
 */

/** Minutes are epoch minutes; the literal list is built from numbers we computed, never from input. */
const minuteList = (minutes: readonly number[]) => minutes.map((m) => String(m)).join(',');

/** Marks minutes dirty (inside the caller's write transaction). */
export const insertDirty = (minutes: readonly number[]) =>
  `INSERT INTO rollup_dirty SELECT unnest([${minuteList(minutes)}]::BIGINT[]) ON CONFLICT DO NOTHING`;

/**
 * Recomputes rollup_1m for a set of minutes from the raw rows: delete, then insert
 * what the raw rows say now (a minute whose rows all went leaves no row).
 */
export function recomputeMinutes(minutes: readonly number[]): string[] {
  const lo = BigInt(Math.min(...minutes)) * MINUTE_NS;
  const hi = (BigInt(Math.max(...minutes)) + 1n) * MINUTE_NS;
  const list = minuteList(minutes);
  return [
    `DELETE FROM rollup_1m WHERE t_ns >= ${lo} AND t_ns < ${hi} AND t_ns // ${MINUTE_NS} IN (${list})`,
    `INSERT INTO rollup_1m
     SELECT t_ns, pop_code, function_name, sum(c)::BIGINT, sum(s), min(mn), max(mx), list(b), list(c)
     FROM (
       SELECT (time_ns // ${MINUTE_NS}) * ${MINUTE_NS} AS t_ns, pop_code, function_name, ${SAMPLE_BIN} AS b,
              count(*)::INTEGER AS c, sum(cold_start_time_ms) AS s, min(cold_start_time_ms) AS mn, max(cold_start_time_ms) AS mx
       FROM cold_start_metrics
       WHERE time_ns >= ${lo} AND time_ns < ${hi} AND time_ns // ${MINUTE_NS} IN (${list})
       GROUP BY ALL
     )
     GROUP BY t_ns, pop_code, function_name
     ORDER BY t_ns, pop_code, function_name`,
  ];
}

/** Recomputes rollup_1h for a set of hours (epoch hours) from rollup_1m. */
export function recomputeHours(hours: readonly number[]): string[] {
  const lo = BigInt(Math.min(...hours)) * HOUR_NS;
  const hi = (BigInt(Math.max(...hours)) + 1n) * HOUR_NS;
  const list = minuteList(hours);
  const inHours = `t_ns >= ${lo} AND t_ns < ${hi} AND t_ns // ${HOUR_NS} IN (${list})`;
  return [
    `DELETE FROM rollup_1h WHERE ${inHours}`,
    `INSERT INTO rollup_1h
     WITH m AS (SELECT * FROM rollup_1m WHERE ${inHours}),
     st AS (
       SELECT (t_ns // ${HOUR_NS}) * ${HOUR_NS} AS h, pop_code, function_name, sum(n)::BIGINT AS n, sum(sum) AS s, min(min) AS mn, max(max) AS mx
       FROM m GROUP BY ALL
     ),
     bb AS (
       SELECT h, pop_code, function_name, b, sum(c)::INTEGER AS c
       FROM (SELECT (t_ns // ${HOUR_NS}) * ${HOUR_NS} AS h, pop_code, function_name, unnest(bins) AS b, unnest(counts) AS c FROM m)
       GROUP BY ALL
     ),
     bl AS (
       SELECT h, pop_code, function_name, list(b) AS bins, list(c) AS counts FROM bb GROUP BY ALL
     )
     SELECT st.h, st.pop_code, st.function_name, st.n, st.s, st.mn, st.mx, bl.bins, bl.counts
     FROM st JOIN bl USING (h, pop_code, function_name)
     ORDER BY st.h, st.pop_code, st.function_name`,
  ];
}

/** Recomputes rollup_pop_1h for a set of hours from rollup_1h (after recomputeHours, in the same transaction). */
export function recomputePopHours(hours: readonly number[]): string[] {
  const lo = BigInt(Math.min(...hours)) * HOUR_NS;
  const hi = (BigInt(Math.max(...hours)) + 1n) * HOUR_NS;
  const inHours = `t_ns >= ${lo} AND t_ns < ${hi} AND t_ns // ${HOUR_NS} IN (${minuteList(hours)})`;
  return [
    `DELETE FROM rollup_pop_1h WHERE ${inHours}`,
    `INSERT INTO rollup_pop_1h
     WITH h AS (SELECT * FROM rollup_1h WHERE ${inHours}),
     st AS (SELECT t_ns, pop_code, sum(n)::BIGINT AS n, sum(sum) AS s, min(min) AS mn, max(max) AS mx FROM h GROUP BY ALL),
     bb AS (
       SELECT t_ns, pop_code, b, sum(c)::INTEGER AS c
       FROM (SELECT t_ns, pop_code, unnest(bins) AS b, unnest(counts) AS c FROM h)
       GROUP BY ALL
     ),
     bl AS (SELECT t_ns, pop_code, list(b) AS bins, list(c) AS counts FROM bb GROUP BY ALL)
     SELECT st.t_ns, st.pop_code, st.n, st.s, st.mn, st.mx, bl.bins, bl.counts
     FROM st JOIN bl USING (t_ns, pop_code)
     ORDER BY st.t_ns, st.pop_code`,
  ];
}

export const clearDirty = (minutes: readonly number[]) => `DELETE FROM rollup_dirty WHERE minute IN (${minuteList(minutes)})`;
