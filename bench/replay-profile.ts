/** Profiling aid: a fresh engine's replay of the whole span from synthetic columns (no store). */
import { createDetectorEngine, detectorSettings, rederiveSpanMs } from '../apps/server/src/detector/engine.ts';
import type { SeriesBucketColumns } from '../apps/server/src/stores/metrics-store.ts';

const n = Number(process.env.SERIES ?? 2115);
const s = detectorSettings({ recentMs: 600_000, baselineMs: 3_600_000, minChange: 0.1, resolveAfterMs: 600_000 });
const span = rederiveSpanMs(s);
const endMs = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);
let seed = 1;
const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
const slices: SeriesBucketColumns[] = [];
for (let from = endMs - span; from < endMs; from += 300_000) {
  const steps = 30;
  const len = steps * n;
  const c: SeriesBucketColumns = { pops: [], functions: [], series: new Int32Array(len), startMs: new Float64Array(len), samples: new Float64Array(len).fill(1), mean: new Float64Array(len), p50: new Float64Array(len) };
  for (let i = 0; i < n; i++) { c.pops.push(`P${i}`); c.functions.push('f'); }
  let k = 0;
  for (let j = 0; j < steps; j++) for (let i = 0; i < n; i++) {
    (c.series as Int32Array)[k] = i; (c.startMs as Float64Array)[k] = from + j * 10_000;
    const v = 100 * Math.exp(0.25 * (rnd() + rnd() + rnd() - 1.5));
    (c.p50 as Float64Array)[k] = v; (c.mean as Float64Array)[k] = v; k++;
  }
  slices.push(c);
}
const e = createDetectorEngine(s);
const t0 = performance.now();
e.readFrom(endMs);
for (let i = 0; i < slices.length; i++) e.ingestColumns(slices[i]!, Math.min(endMs, endMs - span + (i + 1) * 300_000));
const t1 = performance.now();
const ev = e.evaluate([], endMs);
console.log(JSON.stringify({ series: n, spanMin: span / 60_000, replayMs: Math.round(t1 - t0), evaluateMs: Math.round(performance.now() - t1), evaluated: ev.evaluated, raised: ev.raise.length }));
