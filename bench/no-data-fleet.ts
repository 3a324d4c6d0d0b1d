/**
 * What the no-data rule's fleet term costs (engine.ts, fleetSlowdowns): at the first usualSilence
 * after a read, the engine counts each function's buckets over the last 10 minutes against the
 * hour before, over every series. 2,115 series whose samples come at random 30 s apart (150 min
 * of them, the generator's POP x function shape), a quarter of them silent past NO_DATA_AFTER:
 * that first call against the whole no-data rule of the pass (evaluateNoData over the engine's
 * series, as the detector service calls it), alternating, median of 9 reads each.
 */
import { loadConfig } from '../apps/server/src/config.ts';
import { createDetectorEngine, detectorSettings } from '../apps/server/src/detector/engine.ts';
import { evaluateNoData } from '../apps/server/src/detector/no-data.ts';
import type { SeriesBucket } from '../apps/server/src/stores/metrics-store.ts';
import type { BenchRow } from './lib.ts';

const STEP = 10_000;
const SERIES = 2115;
const ROUNDS = 9;

export async function run(): Promise<BenchRow[]> {
  const settings = detectorSettings(loadConfig({}).detector);
  const t0 = Date.UTC(2026, 0, 1, 12);
  let seed = 3;
  const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const all = new Map<string, SeriesBucket>();
  for (let i = 0; i < SERIES; i++) {
    // Every fourth series stops 5 minutes before the end: the rule has series to ask about.
    const end = i % 4 === 0 ? t0 - 5 * 60_000 : t0;
    for (let t = t0 - 150 * 60_000 + rnd() * 30_000; t < end; t -= 30_000 * Math.log(rnd())) {
      const startMs = Math.floor(t / STEP) * STEP;
      all.set(`${i}/${startMs}`, { popCode: `P${Math.floor(i / 5)}`, functionName: `f${i % 5}`, startMs, samples: 1, mean: 100, p50: 100 });
    }
  }
  const engine = createDetectorEngine(settings);
  engine.readFrom(t0);
  engine.ingest([...all.values()].sort((a, b) => a.startMs - b.startMs), t0);
  const fleet: number[] = [];
  const rule: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // A read with nothing new: the fleet is counted again at the first usualSilence after it.
    engine.ingest([], t0 + (r + 1) * STEP);
    let t = performance.now();
    engine.usualSilence('P0', 'f1');
    fleet.push(performance.now() - t);
    engine.ingest([], t0 + (r + 1) * STEP);
    t = performance.now();
    evaluateNoData(engine.lastSeen(), [], t0 + (r + 1) * STEP, { afterMs: settings.noDataAfterMs, stepMs: STEP, minBuckets: 6 }, (x) => engine.usualSilence(x.popCode, x.functionName));
    rule.push(performance.now() - t);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  return [{
    name: `no-data: the fleet's counts at the first usualSilence of a pass (2,115 series at random 30 s apart, a quarter silent)`,
    value: Math.round(med(fleet) * 100) / 100,
    unit: 'ms',
    anchor: { name: "the whole no-data rule of that pass (evaluateNoData, the fleet's counts included)", value: Math.round(med(rule) * 100) / 100 },
    ratio: Math.round((med(fleet) / med(rule)) * 100) / 100,
  }];
}
