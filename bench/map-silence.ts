/**
 * What the map's rule for sparse POPs costs (query/pop-silence.ts): when a POP with data in the
 * window has been quiet for NO_DATA_AFTER, the heatmap reads the quiet POPs' last hour at 1-minute
 * buckets to tell a usual silence from a stop. Measured on the product's DuckDB store with an
 * hour of the generator's fleet (2,115 series every 10 s) and 12 sparse POPs (a sample every
 * ~2 min, quiet for 5 min): that read alone, against the whole uncached 1 h heatmap it is part
 * of, alternating (median of 7 each).
 */
import { encodeBatch } from '@edgeworker/line-protocol';
import { sampleToPoint } from '@edgeworker/generator';
import type { BenchRow } from './lib.ts';
import { preload, startBenchApp } from './start-app.ts';

const QUIET = Array.from({ length: 12 }, (_, i) => `QZ${i}`);
const ROUNDS = 7;

export async function run(): Promise<BenchRow[]> {
  const b = await startBenchApp();
  try {
    await preload(b.base, 60);
    const now = Date.now();
    const samples = QUIET.flatMap((pop, p) => {
      const out = [];
      for (let t = now - 5 * 60_000, i = p; t > now - 60 * 60_000; t -= 60_000 + ((i++ * 37) % 121) * 1000) {
        out.push(sampleToPoint({ timeNs: BigInt(t) * 1_000_000n, popCode: pop, city: 'Nowhere', country: 'ZZ', tier: 'tier3', functionName: 'ssr-render', coldStartTimeMs: 120, latitude: 0, longitude: p }));
      }
      return out;
    });
    const res = await fetch(`${b.base}/write?precision=ns`, { method: 'POST', body: encodeBatch(samples) });
    if (res.status !== 204) throw new Error(`map-silence: write ${res.status}`);
    const { store, query } = b.app.services;
    const read: number[] = [];
    const heat: number[] = [];
    let grey = -1;
    for (let r = 0; r < ROUNDS; r++) {
      let t = performance.now();
      const to = Date.now();
      await store.seriesBuckets({ fromNs: BigInt(to - 60 * 60_000) * 1_000_000n, toNs: BigInt(to) * 1_000_000n }, 60_000, { pops: QUIET });
      read.push(performance.now() - t);
      t = performance.now();
      const h = await query.heatmap(60 * 60_000);
      heat.push(performance.now() - t);
      grey = h.entries.filter((e) => QUIET.includes(e.popCode) && e.status === 'no_data').length;
    }
    const med = (xs: number[]) => [...xs].sort((a, c) => a - c)[xs.length >> 1]!;
    return [{
      name: `map: the quiet POPs' hour read for their usual silence (12 sparse POPs quiet 5 min, 2,115 series; ${grey} of them grey)`,
      value: Math.round(med(read) * 10) / 10,
      unit: 'ms',
      anchor: { name: 'the whole 1 h heatmap, uncached, the read included', value: Math.round(med(heat) * 10) / 10 },
      ratio: Math.round((med(read) / med(heat)) * 100) / 100,
    }];
  } finally {
    await b.stop();
  }
}
