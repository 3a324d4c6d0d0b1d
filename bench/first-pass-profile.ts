/**
 * Profiling aid for a fresh engine's first pass on a real DuckDB file (issue 13): builds (or
 * reuses) a file of SERIES series, one sample per 10 s over the re-derive span, then times the
 * store's read (slice by slice) and the engine's replay apart. Run under `node --cpu-prof`.
 *   FILE=/tmp/x.duckdb SERIES=2115 node --import tsx bench/first-pass-profile.ts
 */
import { existsSync } from 'node:fs';
import { FUNCTIONS } from '@edgeworker/pops';
import type { ColdStartSample } from '@edgeworker/schema';
import { createLatencyModel } from '@edgeworker/generator';
import { loadConfig } from '../apps/server/src/config.ts';
import { createDetectorEngine, detectorSettings, rederiveSpanMs } from '../apps/server/src/detector/engine.ts';
import { createDuckDbMetricsStore } from '../apps/server/src/stores/duckdb/duckdb-metrics-store.ts';
import type { SeriesBucketColumns } from '../apps/server/src/stores/metrics-store.ts';

const STEP = 10_000;
const SLICE = Number(process.env.SLICE_MIN ?? 15) * 60_000;
const n = Number(process.env.SERIES ?? 2115);
const file = process.env.FILE ?? `/tmp/first-pass-2-prof/m${n}.duckdb`;
const ms = (t: number) => BigInt(t) * 1_000_000n;
// A fixed clock so a reused file has its history where the pass reads.
const t0 = Number(process.env.T0 ?? 1_764_000_000_000);
const settings = detectorSettings(loadConfig({}).detector);
const span = rederiveSpanMs(settings);
const fresh = !existsSync(file);
const store = await createDuckDbMetricsStore({ path: file, now: () => t0 });
if (fresh) {
  const pops = Math.ceil(n / FUNCTIONS.length);
  const model = createLatencyModel({ seed: 3 });
  const popInfo = Array.from({ length: pops }, (_, i) => ({ code: `B${String(i).padStart(5, '0')}`, city: 'Bench', country: 'XX', tier: 'tier2' as const, lat: (i % 160) - 80, lon: (i % 360) - 180 }));
  for (let t = t0 - span - 60_000; t < t0; t += 60_000) {
    const batch: ColdStartSample[] = [];
    for (let s = t; s < t + 60_000; s += STEP) {
      let k = 0;
      for (let p = 0; p < pops; p++) for (const fn of FUNCTIONS) {
        if (k++ >= n) break;
        const pop = popInfo[p]!;
        batch.push({ timeNs: ms(s), popCode: pop.code, city: pop.city, country: pop.country, tier: pop.tier, functionName: fn.name, coldStartTimeMs: model.sample(pop, fn, s), latitude: pop.lat, longitude: pop.lon });
      }
    }
    await store.write(batch);
  }
}
const endMs = Math.floor((t0 + 500) / STEP) * STEP;
if (process.env.MODE === 'service') {
  // The whole first pass as the service runs it (reads overlapped with the replay), ROUNDS times.
  const { pino } = await import('pino');
  const { createSingleLeadership } = await import('../apps/server/src/cluster/leadership.ts');
  const { createDetectorService } = await import('../apps/server/src/detector/detector-service.ts');
  const alerts = { listUnresolved: async () => [], raise: async () => ({ alert: {}, created: true }), raiseNoData: async () => ({ alert: {}, created: true }), resolve: async () => ({}) } as never;
  for (let r = 0; r < Number(process.env.ROUNDS ?? 3); r++) {
    const d = createDetectorService({ store, alerts, leadership: createSingleLeadership('p'), settings, now: () => endMs + 2500, log: pino({ level: 'silent' }) });
    const c = process.cpuUsage();
    const a = performance.now();
    const res = await d.runPass();
    const u = process.cpuUsage(c);
    console.log(JSON.stringify({ series: n, firstPassMs: Math.round(performance.now() - a), cpuMs: Math.round((u.user + u.system) / 1000), evaluated: res.evaluated }));
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
