/**
 * Cardinality (issue 15, H1): the embedded server holding 10,000 POPs. Measures what
 * the review found broken at 100,000: the process's memory, the heatmap's latency and
 * size, how long it blocks the event loop (and what /health waits meanwhile), the
 * cached path, and the cache after 350 requests with distinct windows (601 s, 602 s…).
 * Bounded: one ingest pass of at most INGEST_BUDGET_MS, fixed request counts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { POPS } from '@edgeworker/pops';
import { buildApp } from '../apps/server/src/app.ts';
import { loadConfig } from '../apps/server/src/config.ts';
import type { MemoryCache } from '../apps/server/src/cache/memory-cache.ts';
import { percentile, runAlone, type BenchRow } from './lib.ts';

const TOTAL_POPS = 10_000;
const LINES_PER_BODY = 2000;
const INGEST_BUDGET_MS = 240_000;
const MB = 1024 * 1024;

/**
 * An HTTP client on its own thread: reading 1.5 MB answers (and collecting their garbage)
 * must not count as the server blocking its event loop.
 */
function startClient() {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.on('message', async (url) => {
       const t = performance.now();
       const r = await fetch(url);
       const bytes = (await r.arrayBuffer()).byteLength;
       parentPort.postMessage({ ms: performance.now() - t, bytes, status: r.status });
     });`,
    { eval: true },
  );
  return {
    get(url: string): Promise<{ ms: number; bytes: number; status: number }> {
      return new Promise((resolve) => worker.once('message', resolve).postMessage(url));
    },
    close: () => worker.terminate(),
  };
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'ewm-bench-card-'));
  const client = startClient();
  const app = await buildApp(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', WEB_DIST_DIR: join(dataDir, 'none'), DETECTOR: 'off' }));
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const rssBefore = process.memoryUsage().rss;
    const computedHeatmap = async (n: number) => {
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < n; i++) {
        await app.services.cache.bumpDataVersion();
        const r = await client.get(`${base}/api/heatmap?window=5m`);
        if (r.status !== 200) throw new Error(`heatmap: ${r.status}`);
        bytes = r.bytes;
        times.push(r.ms);
      }
      return { p95: percentile(times, 0.95), bytes };
    };
    const healthAlone: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await (await fetch(`${base}/health`)).arrayBuffer();
      healthAlone.push(performance.now() - t);
    }
    // The anchor: the same heatmap over the catalog's POPs only, before the new ones arrive.
    const small = await computedHeatmap(10);

    // New POPs (with coordinates) up to TOTAL_POPS known ones, two samples each in the last minute.
    const newPops = TOTAL_POPS - POPS.length;
    const now = Date.now();
    const lines: string[] = [];
    for (let i = 0; i < newPops; i++) {
      const code = `Z${String(i).padStart(5, '0')}`;
      const lat = ((i * 37) % 170) - 85;
      const lon = ((i * 91) % 360) - 180;
      for (let k = 0; k < 2; k++) {
        lines.push(`cold_start_metrics,pop_code=${code},city=City\\ ${i},country=ZZ,tier=tier3,function_name=ssr-render cold_start_time_ms=${100 + (i % 300) + k},latitude=${lat},longitude=${lon} ${now - 30_000 - k * 1000}`);
      }
    }
    const t0 = performance.now();
    let written = 0;
    for (let i = 0; i < lines.length && performance.now() - t0 < INGEST_BUDGET_MS; i += LINES_PER_BODY) {
      const body = lines.slice(i, i + LINES_PER_BODY).join('\n');
      const r = await fetch(`${base}/write?precision=ms`, { method: 'POST', body });
      if (r.status !== 204) throw new Error(`write failed: ${r.status} ${await r.text()}`);
      written += Math.min(LINES_PER_BODY, lines.length - i);
    }
    const ingestS = (performance.now() - t0) / 1000;
    const pops = (await (await fetch(`${base}/api/pops`)).json()) as unknown[];
    rows.push({ name: `cardinality: ${written / 2} new POPs ingested (${LINES_PER_BODY}-line bodies)`, value: Math.round((written / 2) / ingestS), unit: 'POPs/s' });
    rows.push({ name: 'cardinality: known POPs', value: pops.length, unit: 'POPs', goal: `= ${TOTAL_POPS}`, ok: pops.length === TOTAL_POPS });

    // The heatmap as if new data had just landed (computed, not from the cache), with the event loop watched.
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const { p95: heatP95, bytes } = await computedHeatmap(10);
    loop.disable();
    const scale = heatP95 / small.p95;
    rows.push({
      name: `cardinality: heatmap at ${pops.length} POPs, computed, p95`, value: Math.round(heatP95), unit: 'ms',
      anchor: { name: `at ${POPS.length} POPs`, value: Math.round(small.p95 * 10) / 10 }, ratio: scale,
      // Linear in POPs would be ~24x; the fixed costs of a request make it less.
      goal: `ratio <= ${Math.ceil(TOTAL_POPS / POPS.length)}`, ok: scale <= TOTAL_POPS / POPS.length,
    });
    rows.push({ name: 'cardinality: heatmap body', value: Math.round((bytes / MB) * 100) / 100, unit: 'MB' });
    const blockMs = loop.max / 1e6;
    rows.push({ name: 'cardinality: longest event-loop block during those', value: Math.round(blockMs), unit: 'ms', goal: '<= 250', ok: blockMs <= 250 });

    // /health while a computed heatmap is in flight: what every other client waits.
    const health: number[] = [];
    for (let i = 0; i < 5; i++) {
      await app.services.cache.bumpDataVersion();
      const heat = client.get(`${base}/api/heatmap?window=5m`);
      const t = performance.now();
      await (await fetch(`${base}/health`)).arrayBuffer();
      health.push(performance.now() - t);
      await heat;
    }
    const healthMax = Math.max(...health);
    rows.push({
      name: 'cardinality: /health beside a computed heatmap, max', value: Math.round(healthMax), unit: 'ms',
      anchor: { name: '/health alone', value: Math.round(Math.max(...healthAlone) * 10) / 10 },
      ratio: healthMax / Math.max(...healthAlone), goal: '<= 500 ms', ok: healthMax <= 500,
    });

    const cachedTimes: number[] = [];
    await client.get(`${base}/api/heatmap?window=5m`);
    for (let i = 0; i < 20; i++) cachedTimes.push((await client.get(`${base}/api/heatmap?window=5m`)).ms);
    const cachedP95 = percentile(cachedTimes, 0.95);
    // The anchor: a bare node:http server in this process sending the same bytes.
    const same = Buffer.from(await (await fetch(`${base}/api/heatmap?window=5m`)).arrayBuffer());
    const bare = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(same));
    await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
    const bareTimes: number[] = [];
    try {
      for (let i = 0; i < 20; i++) bareTimes.push((await client.get(`http://127.0.0.1:${(bare.address() as { port: number }).port}/`)).ms);
    } finally {
      await new Promise((r) => bare.close(r));
    }
    const bareP95 = percentile(bareTimes, 0.95);
    rows.push({
      name: 'cardinality: heatmap from the query cache, p95', value: Math.round(cachedP95 * 10) / 10, unit: 'ms',
      anchor: { name: 'bare node:http, same bytes', value: Math.round(bareP95 * 10) / 10 }, ratio: cachedP95 / bareP95,
      goal: 'ratio <= 2', ok: cachedP95 / bareP95 <= 2,
    });

    // 350 distinct windows: snapped to a few canonical ones, the cache stays small.
    const cache = app.services.cache as MemoryCache;
    for (let s = 601; s < 951; s++) await (await fetch(`${base}/api/heatmap?window=${s}s`)).arrayBuffer();
    rows.push({ name: `cardinality: query cache after 350 distinct windows (${cache.size()} entries)`, value: Math.round((cache.bytes() / MB) * 10) / 10, unit: 'MB', goal: '<= 64', ok: cache.bytes() <= 64 * MB });
    const rssAfter = process.memoryUsage().rss;
    rows.push({ name: 'cardinality: process RSS growth (ingest + queries)', value: Math.round((rssAfter - rssBefore) / MB), unit: 'MB', goal: '<= 400', ok: rssAfter - rssBefore <= 400 * MB });
  } finally {
    await client.close();
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return rows;
}

await runAlone({ run }, import.meta.url);
