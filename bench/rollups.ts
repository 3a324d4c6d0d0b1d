/**
 * Rollups on the embedded store: a day at the default rate (423 POPs × 5 functions every
 * 10 s = 18.3M points, generated with the generator's model straight into the store in
 * big batches), rolled up, then the 24 h heatmap and overview over HTTP against their
 * 5 min versions (goal ≤ 4×), with count/mean within 1 % and p95 within 2 % of exact
 * values computed from the raw rows in the same run.
 *
 * BENCH_ROLLUP_HOURS (default 24) shortens or lengthens the loaded history; rows are
 * labelled with what was loaded. Every loop is bounded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { FUNCTIONS, POPS } from '@edgeworker/pops';
import type { ColdStartSample } from '@edgeworker/schema';
import { createGenerator, createLatencyModel } from '@edgeworker/generator';
import { buildApp } from '../apps/server/src/app.ts';
import { loadConfig } from '../apps/server/src/config.ts';
import { createDuckDbMetricsStore } from '../apps/server/src/stores/duckdb/duckdb-metrics-store.ts';
import { percentile, runAlone, type BenchRow } from './lib.ts';

const HOUR = 3_600_000;
const INTERVAL = 10_000;

export async function run(): Promise<BenchRow[]> {
  const hours = Number(process.env.BENCH_ROLLUP_HOURS ?? 24);
  const label = hours === 24 ? '1 day' : `${hours} h`;
  const rows: BenchRow[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ewm-bench-rollups-'));
  const path = join(dir, 'metrics.duckdb');
  const end = Math.floor(Date.now() / INTERVAL) * INTERVAL;
  const now = end + 3_000;
  try {
    // 1. Load: the generator's model, ticked over the history, written in batches of 100 ticks.
    const store = await createDuckDbMetricsStore({ path, now: () => now, rollupDelayMs: 24 * HOUR });
    let t = end - hours * HOUR + INTERVAL;
    const gen = createGenerator({ pops: POPS, functions: FUNCTIONS, intervalMs: INTERVAL, model: createLatencyModel({ seed: 11 }), now: () => t, onBatch: () => {} });
    let points = 0;
    const t0 = performance.now();
    while (t <= end) {
      const batch: ColdStartSample[] = [];
      for (let i = 0; i < 100 && t <= end; i++, t += INTERVAL) batch.push(...gen.tick());
      await store.write(batch);
      points += batch.length;
    }
    const loadS = (performance.now() - t0) / 1000;
    rows.push({ name: `rollups: load ${label} via store.write (${(points / 1e6).toFixed(1)}M points)`, value: Math.round(points / loadS), unit: 'points/s' });
    const t1 = performance.now();
    await store.rollups.flush();
    rows.push({ name: `rollups: roll up ${label} (1m and 1h, from raw)`, value: Math.round((performance.now() - t1) / 100) / 10, unit: 's' });
    await store.close();

    // 2. Exact values over the same 24 h window, from the raw rows.
    const windowMs = hours * HOUR;
    const fromNs = BigInt(now - windowMs) * 1_000_000n;
    const toNs = BigInt(now + 1) * 1_000_000n;
    const db = await DuckDBInstance.create(path);
    const c = await db.connect();
    const exactRows = (await c.runAndReadAll(
      `SELECT pop_code, count(*) AS n, avg(cold_start_time_ms) AS mean, quantile_cont(cold_start_time_ms, 0.95) AS p95
       FROM cold_start_metrics WHERE time_ns >= ${fromNs} AND time_ns < ${toNs} GROUP BY GROUPING SETS ((pop_code), ())`,
    )).getRowObjectsJS() as Array<{ pop_code: string | null; n: bigint; mean: number; p95: number }>;
    c.closeSync();
    db.closeSync();
    const exact = new Map(exactRows.map((r) => [r.pop_code, r]));

    // 3. Store level, same file and windows: every rollup part in SQL (the previous planner) vs per-POP blocks in memory.
    const ns = (ms: number) => BigInt(ms) * 1_000_000n;
    for (const cache of [false, true]) {
      const st = await createDuckDbMetricsStore({ path, now: () => now, rollupDelayMs: 24 * HOUR, popBlockCache: cache, warmBlocksHours: 0 });
      try {
        for (const [what, popQuantiles] of [['heatmap', true], ['overview', false]] as const) {
          const med = async (ms: number) => {
            const times: number[] = [];
            for (let i = 0; i < 11; i++) {
              const s = performance.now();
              await st.summarize({ fromNs: ns(now - ms), toNs: ns(now + 1) }, undefined, { popQuantiles });
              times.push(performance.now() - s);
            }
            return { first: times[0]!, median: percentile(times, 0.5) };
          };
          const short = await med(5 * 60_000);
          const long = await med(windowMs);
          const ratio = long.median / short.median;
          const how = cache ? 'per-POP blocks in memory' : 'all rollup parts in SQL';
          rows.push({
            name: `rollups: store.summarize (${what}) ${hours}h vs 5m, ${how}`, value: Math.round(long.median * 10) / 10, unit: 'ms',
            anchor: { name: '5m', value: Math.round(short.median * 10) / 10 }, ratio, goal: '<= 4x', ok: ratio <= 4,
          });
          if (cache) rows.push({ name: `rollups: store.summarize (${what}) ${hours}h, first call after start, no warming (blocks loaded by it)`, value: Math.round(long.first), unit: 'ms' });
        }
      } finally {
        await st.close();
      }
    }

    // 4. The server on that file, clock pinned to the end of the data, nothing else running.
    const app = await buildApp(
      loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', GENERATOR: 'off', DETECTOR: 'off', RETENTION: '0d', WEB_DIST_DIR: join(dir, 'none') }),
      { now: () => now },
    );
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as { port: number };
      const base = `http://127.0.0.1:${port}`;
      const wl = `${hours}h`;
      async function timed(path: string, n = 15): Promise<{ ms: number; first: number; body: any; resolution: string | null }> {
        const times: number[] = [];
        let body: any;
        let resolution: string | null = null;
        for (let i = 0; i < n; i++) {
          await app.services.cache.bumpDataVersion(); // computed by the store, not the query cache
          const s = performance.now();
          const r = await fetch(base + path);
          if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
          body = await r.json();
          times.push(performance.now() - s);
          resolution = r.headers.get('x-resolution') ?? body.resolution ?? null;
        }
        return { ms: percentile(times, 0.5), first: times[0]!, body, resolution };
      }
      for (const what of ['heatmap', 'overview'] as const) {
        const p = what === 'heatmap' ? '/api/heatmap?window=' : '/api/dashboard/overview?window=';
        const short = await timed(`${p}5m`);
        const long = await timed(`${p}${wl}`);
        const ratio = long.ms / short.ms;
        rows.push({ name: `rollups: ${what} 5m median (${short.resolution})`, value: Math.round(short.ms * 10) / 10, unit: 'ms' });
        rows.push({
          name: `rollups: ${what} ${wl} median (${long.resolution}), ${label} loaded`,
          value: Math.round(long.ms * 10) / 10, unit: 'ms',
          anchor: { name: `${what} 5m`, value: Math.round(short.ms * 10) / 10 }, ratio, goal: '<= 4x', ok: ratio <= 4,
        });
        rows.push({ name: `rollups: ${what} ${wl}, first request after start (server warms the last 24 h of blocks at start)`, value: Math.round(long.first), unit: 'ms' });
        // Accuracy against the raw rows.
        let countErr = 0;
        let meanErr = 0;
        let p95Err = 0;
        const check = (got: { n: number; mean: number | null; p95: number | null }, want: { n: bigint; mean: number; p95: number } | undefined) => {
          if (!want) return;
          countErr = Math.max(countErr, Math.abs(got.n - Number(want.n)) / Number(want.n));
          meanErr = Math.max(meanErr, Math.abs((got.mean ?? 0) - want.mean) / want.mean);
          p95Err = Math.max(p95Err, Math.abs((got.p95 ?? 0) - want.p95) / want.p95);
        };
        if (what === 'heatmap') {
          for (const e of long.body as Array<{ popCode: string; samples: number; coldStartTime: number | null; p95: number | null }>) {
            check({ n: e.samples, mean: e.coldStartTime, p95: e.p95 }, exact.get(e.popCode));
          }
        } else {
          check({ n: long.body.samples, mean: long.body.averageColdStart, p95: long.body.p95 }, exact.get(null));
        }
        const scope = what === 'heatmap' ? 'worst POP' : 'overall';
        rows.push({ name: `rollups: ${what} ${wl} count error, ${scope}`, value: Math.round(countErr * 1e4) / 100, unit: '%', goal: '<= 1', ok: countErr <= 0.01 });
        rows.push({ name: `rollups: ${what} ${wl} mean error, ${scope}`, value: Math.round(meanErr * 1e4) / 100, unit: '%', goal: '<= 1', ok: meanErr <= 0.01 });
        rows.push({ name: `rollups: ${what} ${wl} p95 error, ${scope}`, value: Math.round(p95Err * 1e4) / 100, unit: '%', goal: '<= 2', ok: p95Err <= 0.02 });
      }
      const ts = await timed(`/api/pops/FRA/timeseries?from=${now - windowMs}&to=${now}&step=1h`);
      rows.push({ name: `rollups: one POP's ${wl} time series, 1 h steps (${ts.resolution})`, value: Math.round(ts.ms * 10) / 10, unit: 'ms' });
      const det = performance.now();
      await app.services.store.seriesBuckets({ fromNs, toNs }, HOUR);
      rows.push({ name: `rollups: detector read, every series over ${wl} in 1 h buckets`, value: Math.round(performance.now() - det), unit: 'ms' });
      rows.push({ name: `rollups: bench process RSS after ${label}`, value: Math.round(process.memoryUsage().rss / 2 ** 20), unit: 'MiB' });
    } finally {
      await app.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

await runAlone({ run }, import.meta.url);
