/**
 * Profiling aid for a fresh engine's first pass on a real DuckDB file (issue 13): builds (or
 * reuses) a file of SERIES series, one sample per 10 s over the re-derive span, then times the
 * store's read (slice by slice) and the engine's replay apart. Run under `node --cpu-prof`.
 *   FILE=/tmp/x.duckdb SERIES=2115 node --import tsx bench/first-pass-profile.ts
 * MODE=service runs the real DetectorService ROUNDS times and reports wall, CPU (every thread, and
 * the JS thread's alone from /proc: how much of the pass could run beside it),
 * the longest event-loop stall during the pass (monitorEventLoopDelay) and, for the first round,
 * the growth of peak RSS (getrusage maxRSS) and of the JS heap + array buffers kept after it;
 * ENGINE=main runs main's frozen engine (bench/detector-main-engine) in the same service.
 */
import { existsSync } from 'node:fs';
import { jsThreadCpuMs } from './lib.ts';
import { writeBenchHistory } from './detector-history.ts';
import { loadConfig } from '../apps/server/src/config.ts';
import { createDetectorEngine, detectorSettings, rederiveSpanMs } from '../apps/server/src/detector/engine.ts';
import { createDuckDbMetricsStore } from '../apps/server/src/stores/duckdb/duckdb-metrics-store.ts';
import type { SeriesBucketColumns } from '../apps/server/src/stores/metrics-store.ts';

const STEP = 10_000;
const SLICE = Number(process.env.SLICE_MIN ?? 15) * 60_000;
const n = Number(process.env.SERIES ?? 2115);
const file = process.env.FILE ?? `/tmp/first-pass-3-prof/m${n}.duckdb`;
const ms = (t: number) => BigInt(t) * 1_000_000n;
// A fixed clock so a reused file has its history where the pass reads.
const t0 = Number(process.env.T0 ?? 1_764_000_000_000);
const settings = detectorSettings(loadConfig({}).detector);
const span = rederiveSpanMs(settings);
const fresh = !existsSync(file);
const store = await createDuckDbMetricsStore({ path: file, now: () => t0 });
if (fresh) {
  await writeBenchHistory(store, n, t0 - span - 60_000, t0, STEP);
}
const endMs = Math.floor((t0 + 500) / STEP) * STEP;
if (process.env.MODE === 'service') {
  // The whole first pass as the service runs it (reads overlapped with the replay), ROUNDS times.
  const { pino } = await import('pino');
  const { createSingleLeadership } = await import('../apps/server/src/cluster/leadership.ts');
  const { createDetectorService } = await import('../apps/server/src/detector/detector-service.ts');
  const { monitorEventLoopDelay, PerformanceObserver } = await import('node:perf_hooks');
  // The garbage collector's pauses, apart: a stall of the event loop may be one of them.
  let gcPauses: number[] = [];
  new PerformanceObserver((list) => { for (const e of list.getEntries()) gcPauses.push(e.duration); }).observe({ entryTypes: ['gc'] });
  // Where a long stall was: the longest synchronous stretch between two turns of a 1 ms timer, and what was running then.
  let phase = 'idle';
  let lastTick = performance.now();
  let worst = { ms: 0, phase: '' };
  const ticker = setInterval(() => { const t = performance.now(); if (t - lastTick > worst.ms) worst = { ms: t - lastTick, phase }; lastTick = t; }, 1);
  ticker.unref();
  const { mainEngine } = await import('./detector-main-engine/adapter.ts');
  const alerts = { listUnresolved: async () => [], raise: async () => ({ alert: {}, created: true }), raiseNoData: async () => ({ alert: {}, created: true }), resolve: async () => ({}) } as never;
  const gc = (globalThis as { gc?: () => void }).gc;
  // The worker as the server runs it (the bundle), unless WORKER_SOURCE=1 (the sources under tsx: a slower start).
  const built = new URL('../apps/server/dist/detector-rederive-worker.mjs', import.meta.url);
  const workerOpts = process.env.WORKER_SOURCE === '1' || !existsSync(built) ? {} : { url: built };
  // What the store holds after opening (its caches) is not the pass's: one read of a slice first.
  await store.seriesBucketColumns!({ fromNs: ms(endMs - SLICE), toNs: ms(endMs) }, STEP);
  for (let r = 0; r < Number(process.env.ROUNDS ?? 3); r++) {
    const engine = process.env.ENGINE === 'main' ? mainEngine(settings) : undefined;
    // WORKER=off|on|ab: the re-derive on the JS thread alone, split with a worker thread, or alternating (on first).
    const worker = process.env.WORKER === 'ab' ? r % 2 === 0 : process.env.WORKER !== 'off' && !engine;
    const d = createDetectorService({ store, alerts, leadership: createSingleLeadership('p'), settings, now: () => endMs + 2500, log: pino({ level: 'silent' }), rederiveWorker: worker ? workerOpts : false, ...(engine ? { engine } : {}) });
    gc?.();
    const mem0 = process.memoryUsage();
    const rss0 = mem0.rss;
    gcPauses = [];
    worst = { ms: 0, phase: '' };
    lastTick = performance.now();
    const stall = monitorEventLoopDelay({ resolution: 5 });
    stall.enable();
    const js0 = jsThreadCpuMs();
    const c = process.cpuUsage();
    const a = performance.now();
    const res = await d.runPass();
    const wall = performance.now() - a;
    const u = process.cpuUsage(c);
    const jsCpuMs = jsThreadCpuMs() - js0;
    stall.disable();
    const peakRss = process.resourceUsage().maxRSS * 1024;
    gc?.();
    const mem1 = process.memoryUsage();
    const mib = (b: number) => Math.round(b / 2 ** 20);
    console.log(JSON.stringify({
      series: n, engine: process.env.ENGINE ?? 'now', worker, firstPassMs: Math.round(wall), cpuMs: Math.round((u.user + u.system) / 1000), jsThreadCpuMs: Math.round(jsCpuMs), evaluated: res.evaluated,
      longestStallMs: Math.round(stall.max / 1e6), stallP99Ms: Math.round(stall.percentile(99) / 1e6), longestGcMs: Math.round(Math.max(0, ...gcPauses)), gcMs: Math.round(gcPauses.reduce((a, b) => a + b, 0)),
      ...(r === 0 ? { peakRssGrowthMiB: mib(peakRss - rss0), keptHeapMiB: mib(mem1.heapUsed - mem0.heapUsed), keptArrayBuffersMiB: mib(mem1.arrayBuffers - mem0.arrayBuffers), rssAfterMiB: mib(mem1.rss) } : {}),
    }));
  }
  await store.close();
  process.exit(0);
}
for (let r = 0; r < Number(process.env.ROUNDS ?? 3); r++) {
  const got: Array<[number, SeriesBucketColumns]> = [];
  const c0 = process.cpuUsage();
  const a = performance.now();
  for (let from = endMs - span; from < endMs; from += SLICE) {
    const to = Math.min(endMs, from + SLICE);
    got.push([to, await store.seriesBucketColumns!({ fromNs: ms(from), toNs: ms(to) }, STEP)]);
  }
  const b = performance.now();
  const cpu = process.cpuUsage(c0);
  const engine = createDetectorEngine(settings);
  engine.readFrom(endMs);
  for (const [to, c] of got) engine.ingestColumns(c, to);
  const c = performance.now();
  const buckets = got.reduce((s, [, c]) => s + c.startMs.length, 0);
  console.log(JSON.stringify({ series: n, buckets, readMs: Math.round(b - a), readCpuMs: Math.round((cpu.user + cpu.system) / 1000), replayMs: Math.round(c - b), size: engine.size() }));
}
await store.close();
