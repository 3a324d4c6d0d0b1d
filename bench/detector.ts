/**
 * Detector pass cost on a real DuckDB file: 2,115 series (the built-in generator's 423 POPs x
 * 5 functions) and 10,000 series, one sample per series every 10 s over the history span.
 *
 * Rows per size:
 *   - first pass: a fresh engine (start-up, a new leader) reads the whole span and replays it;
 *   - steady pass: the pass every 10 s after that, reading the 10 s that closed since (median of 6);
 * anchored on the store's seriesBuckets over the same range alone, measured in the same run.
 * Goals (issue 13): one pass over 2,115 series <= 1 s, over 10,000 <= 5 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { FUNCTIONS } from '@edgeworker/pops';
import type { ColdStartSample } from '@edgeworker/schema';
import { createLatencyModel } from '@edgeworker/generator';
import { createAlertService } from '../apps/server/src/alerts/alert-service.ts';
import { createSingleLeadership } from '../apps/server/src/cluster/leadership.ts';
import { loadConfig } from '../apps/server/src/config.ts';
import { createDetectorService } from '../apps/server/src/detector/detector-service.ts';
import { detectorSettings, historySpanMs } from '../apps/server/src/detector/engine.ts';
import { createLocalBus } from '../apps/server/src/events.ts';
import { createDuckDbMetricsStore } from '../apps/server/src/stores/duckdb/duckdb-metrics-store.ts';
import { createEmbeddedAlertStore } from '../apps/server/src/stores/embedded/embedded-alert-store.ts';
import { percentile, runAlone, type BenchRow } from './lib.ts';

const STEP = 10_000;

async function measure(seriesCount: number): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ewm-bench-detector-'));
  const settings = detectorSettings(loadConfig({}).detector);
  const span = historySpanMs(settings);
  const t0 = Math.floor(Date.now() / 60_000) * 60_000;
  const clock = { now: t0 };
  const store = await createDuckDbMetricsStore({ path: join(dir, 'metrics.duckdb'), now: () => clock.now });
  const alertStore = await createEmbeddedAlertStore({ path: ':memory:' });
  const log = pino({ level: 'silent' });
  const alerts = createAlertService({ store: alertStore, bus: createLocalBus(), notifier: { channels: [], notify: async () => [], close: async () => {} }, now: () => clock.now, log });
  try {
    const pops = Math.ceil(seriesCount / FUNCTIONS.length);
    const model = createLatencyModel({ seed: 3 });
    const popInfo = Array.from({ length: pops }, (_, i) => ({ code: `B${String(i).padStart(5, '0')}`, city: 'Bench', country: 'XX', tier: 'tier2' as const, lat: (i % 160) - 80, lon: (i % 360) - 180 }));
    const sampleAt = (t: number): ColdStartSample[] => {
      const out: ColdStartSample[] = [];
      for (let p = 0; p < pops; p++) {
        for (const fn of FUNCTIONS) {
          if (out.length >= seriesCount) break;
          const pop = popInfo[p]!;
          out.push({ timeNs: BigInt(t) * 1_000_000n, popCode: pop.code, city: pop.city, country: pop.country, tier: pop.tier, functionName: fn.name, coldStartTimeMs: model.sample(pop, fn, t), latitude: pop.lat, longitude: pop.lon });
        }
      }
      return out;
    };
    // History: the whole span, written in batches of a minute.
    for (let t = t0 - span - 60_000; t < t0; t += 60_000) {
      const batch: ColdStartSample[] = [];
      for (let s = t; s < t + 60_000; s += STEP) batch.push(...sampleAt(s));
      await store.write(batch);
    }
    const detector = createDetectorService({ store, alerts, leadership: createSingleLeadership('bench'), settings, now: () => clock.now + 2500, log });

    // The store query alone, over the first pass's range (the anchor).
    const q0 = performance.now();
    await store.seriesBuckets({ fromNs: BigInt(t0 - span) * 1_000_000n, toNs: BigInt(t0) * 1_000_000n }, STEP);
    const queryFull = performance.now() - q0;

    // Wall time (the service's own durationMs runs on the pinned clock).
    const timed = async () => {
      const t = performance.now();
      await detector.runPass();
      return performance.now() - t;
    };
    const firstMs = await timed();
    const steady: number[] = [];
    const queryStep: number[] = [];
    for (let i = 0; i < 6; i++) {
      await store.write(sampleAt(clock.now));
      clock.now += STEP;
      const q = performance.now();
      await store.seriesBuckets({ fromNs: BigInt(clock.now - STEP) * 1_000_000n, toNs: BigInt(clock.now) * 1_000_000n }, STEP);
      queryStep.push(performance.now() - q);
      steady.push(await timed());
    }
    const label = seriesCount.toLocaleString('en');
    const goal = seriesCount <= 2115 ? 1000 : 5000;
    const steadyMs = Math.round(percentile(steady, 0.5));
    return [
      { name: `detector first pass (re-derive ${span / 60_000} min), ${label} series`, value: Math.round(firstMs), unit: 'ms', anchor: { name: 'seriesBuckets alone', value: Math.round(queryFull) }, ratio: firstMs / queryFull, goal: `<= ${goal} ms`, ok: firstMs <= goal },
      { name: `detector steady pass (every 10 s), ${label} series`, value: steadyMs, unit: 'ms', anchor: { name: 'seriesBuckets alone', value: Math.round(percentile(queryStep, 0.5)) }, ratio: steadyMs / Math.max(1, percentile(queryStep, 0.5)), goal: `<= ${goal} ms`, ok: steadyMs <= goal },
    ];
  } finally {
    await alerts.close(1000);
    await alertStore.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchRow[]> {
  const sizes = (process.env.BENCH_DETECTOR_SERIES ?? '2115,10000').split(',').map(Number);
  const rows: BenchRow[] = [];
  for (const n of sizes) rows.push(...(await measure(n)));
  return rows;
}

await runAlone({ run }, import.meta.url);
