/**
 * The detector benches' history: `seriesCount` series (POPs B00000… × the catalog's functions),
 * one sample per series every step, from the generator's latency model with seed 3. Shared by
 * bench/detector.ts and the profile scripts, so they measure the same data.
 */
import { FUNCTIONS } from '@edgeworker/pops';
import type { ColdStartSample } from '@edgeworker/schema';
import { createLatencyModel } from '@edgeworker/generator';
import type { MetricsStore } from '../apps/server/src/stores/metrics-store.ts';

const ms = (t: number) => BigInt(t) * 1_000_000n;

/** The samples of every series at time t (ms), in a fixed order. */
export function benchHistory(seriesCount: number): (t: number) => ColdStartSample[] {
  const pops = Math.ceil(seriesCount / FUNCTIONS.length);
  const model = createLatencyModel({ seed: 3 });
  const popInfo = Array.from({ length: pops }, (_, i) => ({ code: `B${String(i).padStart(5, '0')}`, city: 'Bench', country: 'XX', tier: 'tier2' as const, lat: (i % 160) - 80, lon: (i % 360) - 180 }));
  return (t: number): ColdStartSample[] => {
    const out: ColdStartSample[] = [];
    for (let p = 0; p < pops; p++) {
      for (const fn of FUNCTIONS) {
        if (out.length >= seriesCount) break;
        const pop = popInfo[p]!;
        out.push({ timeNs: ms(t), popCode: pop.code, city: pop.city, country: pop.country, tier: pop.tier, functionName: fn.name, coldStartTimeMs: model.sample(pop, fn, t), latitude: pop.lat, longitude: pop.lon });
      }
    }
    return out;
  };
}

/** Writes [fromMs, toMs) of that history into the store, a minute per write. */
export async function writeBenchHistory(store: Pick<MetricsStore, 'write'>, seriesCount: number, fromMs: number, toMs: number, stepMs: number): Promise<void> {
  const sampleAt = benchHistory(seriesCount);
  for (let t = fromMs; t < toMs; t += 60_000) {
    const batch: ColdStartSample[] = [];
    for (let s = t; s < t + 60_000; s += stepMs) batch.push(...sampleAt(s));
    await store.write(batch);
  }
}
