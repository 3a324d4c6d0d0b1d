/**
 * The synthetic input of the replay benches (bench/replay-ab.ts, bench/replay-split-ab.ts): the
 * detector settings they replay with, the end of the replay, and a re-derive's span of columns
 * in the service's 15-min slices.
 */
import { detectorSettings, rederiveSpanMs } from '../apps/server/src/detector/engine.ts';
import type { SeriesBucketColumns } from '../apps/server/src/stores/metrics-store.ts';

const SLICE = 15 * 60_000;
export const s = detectorSettings({ recentMs: 600_000, baselineMs: 3_600_000, minChange: 0.1, resolveAfterMs: 300_000 });
const span = rederiveSpanMs(s);
export const endMs = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);

/** Synthetic columns: one bucket per series per 10 s, log-normal around a per-series level, a few shifted series. */
export function syntheticSlices(series: number, seed = 1): Array<[number, SeriesBucketColumns]> {
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const out: Array<[number, SeriesBucketColumns]> = [];
  const pops = Array.from({ length: series }, (_, i) => `P${i}`);
  const fns = Array.from({ length: series }, () => 'f');
  for (let from = endMs - span; from < endMs; from += SLICE) {
    const to = Math.min(endMs, from + SLICE);
    const steps = (to - from) / 10_000;
    const len = steps * series;
    const c = { pops, functions: fns, series: new Int32Array(len), startMs: new Float64Array(len), samples: new Int32Array(len).fill(1), mean: new Float64Array(len), p50: new Float64Array(len) };
    let k = 0;
    for (let j = 0; j < steps; j++) {
      const t = from + j * 10_000;
      for (let i = 0; i < series; i++) {
        // Every 50th series doubles 20 minutes before the end: the replay must find it.
        const shift = i % 50 === 0 && t >= endMs - 20 * 60_000 ? 2 : 1;
        const v = (50 + (i % 97)) * shift * Math.exp(0.25 * (rnd() + rnd() + rnd() - 1.5));
        c.series[k] = i; c.startMs[k] = t; c.p50[k] = v; c.mean[k] = v; k++;
      }
    }
    out.push([to, c]);
  }
  return out;
}
