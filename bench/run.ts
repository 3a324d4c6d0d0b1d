/**
 * `npm run bench`: throughput and latency figures of the hot paths, printed as a
 * table. Timing goals live here, not in tests. Every loop is bounded; the server
 * runs on loopback with a temporary DATA_DIR.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeBatch, parseLineProtocol } from '@edgeworker/line-protocol';
import { FUNCTIONS, POPS } from '@edgeworker/pops';
import type { ColdStartSample } from '@edgeworker/schema';
import { createGenerator, createLatencyModel, sampleToPoint } from '@edgeworker/generator';
import { buildApp } from '../apps/server/src/app.ts';
import { loadConfig } from '../apps/server/src/config.ts';

import { percentile, printTable, type BenchModule, type BenchRow } from './lib.ts';

const rows: BenchRow[] = [];

// Topic modules, run after the basics below, in this order (one line each).
const MODULES: Array<() => Promise<BenchModule>> = [
  () => import('./rollups.ts'),
  () => import('./week.ts'),
  () => import('./ingest.ts'),
  () => import('./cardinality.ts'),
  () => import('./tracing.ts'),
  () => import('./detector.ts'),
  () => import('./influx.ts'),
  () => import('./freshness.ts'),
  () => import('./ws-fanout.ts'),
  () => import('./cached-overview.ts'),
  () => import('./map-silence.ts'),
  () => import('./no-data-fleet.ts'),
  () => import('./generator-cpu.ts'),
  () => import('./scroll.ts'),
];

function batches(count: number, startMs: number, intervalMs: number): ColdStartSample[][] {
  let t = startMs;
  const gen = createGenerator({ pops: POPS, functions: FUNCTIONS, intervalMs, model: createLatencyModel({ seed: 7 }), now: () => t, onBatch: () => {} });
  const out: ColdStartSample[][] = [];
  for (let i = 0; i < count; i++) {
    out.push(gen.tick());
    t += intervalMs;
  }
  return out;
}

const toLines = (samples: ColdStartSample[]) => encodeBatch(samples.map(sampleToPoint));

// 1. Line protocol codec.
{
  const sample = batches(20, Date.now() - 3_600_000, 10_000).flat();
  let t0 = performance.now();
  const text = toLines(sample);
  const encodeMs = performance.now() - t0;
  t0 = performance.now();
  const parsed = parseLineProtocol(text, { defaultTimeNs: 0n });
  const parseMs = performance.now() - t0;
  rows.push({ name: 'line protocol encode', value: Math.round(sample.length / (encodeMs / 1000)), unit: 'lines/s' });
  rows.push({ name: 'line protocol parse', value: Math.round(parsed.length / (parseMs / 1000)), unit: 'lines/s', goal: '>= 150000', ok: parsed.length / (parseMs / 1000) >= 150_000 });
}

// 2. Ingest over HTTP into DuckDB, then queries on what was ingested.
const dataDir = mkdtempSync(join(tmpdir(), 'ewm-bench-'));
const app = await buildApp(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', WEB_DIST_DIR: join(dataDir, 'none') }));
try {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const base = `http://127.0.0.1:${port}`;

  // One hour of data at a 10 s interval for every POP and function (360 batches).
  const hour = batches(360, Date.now() - 3_600_000, 10_000);
  const bodies = [];
  for (let i = 0; i < hour.length; i += 20) bodies.push(gzipSync(toLines(hour.slice(i, i + 20).flat())));
  const points = hour.reduce((n, b) => n + b.length, 0);
  const t0 = performance.now();
  for (const body of bodies) {
    const r = await fetch(`${base}/write?precision=ns`, { method: 'POST', body, headers: { 'content-encoding': 'gzip' } });
    if (r.status !== 204) throw new Error(`write failed: ${r.status} ${await r.text()}`);
  }
  const ingestRate = points / ((performance.now() - t0) / 1000);
  rows.push({ name: `ingest (gzip, ${bodies.length} bodies of ${Math.round(points / bodies.length)} points)`, value: Math.round(ingestRate), unit: 'points/s', goal: '>= 50000', ok: ingestRate >= 50_000 });

  // Each request as if new data had just landed, so it is computed by the store, not
  // answered from the query cache (the cached path is measured once, below).
  async function latency(name: string, path: string, goalMs: number, opts: { cached?: boolean } = {}) {
    const times: number[] = [];
    for (let i = 0; i < 30; i++) {
      if (!opts.cached) await app.services.cache.bumpDataVersion();
      const t = performance.now();
      const r = await fetch(base + path);
      if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
      await r.arrayBuffer();
      times.push(performance.now() - t);
    }
    const p95 = percentile(times, 0.95);
    rows.push({ name: `${name} p95`, value: Math.round(p95 * 10) / 10, unit: 'ms', goal: `<= ${goalMs}`, ok: p95 <= goalMs });
  }
  await latency('overview 5m', '/api/dashboard/overview?window=5m', 100);
  await latency('overview 1h', '/api/dashboard/overview?window=1h', 300);
  await latency('heatmap 5m', '/api/heatmap?window=5m', 100);
  await latency('pop detail 1h', '/api/pops/FRA?window=1h', 100);
  await latency('timeseries 1h/10s', '/api/pops/FRA/timeseries?step=10s', 100);
  await latency('heatmap 5m, from the query cache', '/api/heatmap?window=5m', 20, { cached: true });
  rows.push({ name: 'samples in store', value: points, unit: 'points' });
} finally {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
}

for (const load of MODULES) rows.push(...(await (await load()).run()));

printTable(rows);
