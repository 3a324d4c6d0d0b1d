/**
 * A fresh engine's replay (issue 13's first pass, the engine's part) from synthetic columns in
 * the service's 15-min slices, this engine against main's frozen one (bench/detector-main-engine),
 * alternating in one process, CPU time (process.cpuUsage) and wall; and each engine's evaluation
 * must agree (same findings, same counts). No store: the read is measured in bench/detector.ts.
 *   SERIES=10000 ROUNDS=3 node --import tsx bench/replay-ab.ts
 */
import { createDetectorEngine, detectorSettings, rederiveSpanMs } from '../apps/server/src/detector/engine.ts';
import { createDetectorEngine as createMainEngine } from './detector-main-engine/engine.ts';
import type { SeriesBucketColumns } from '../apps/server/src/stores/metrics-store.ts';

const n = Number(process.env.SERIES ?? 2115);
const rounds = Number(process.env.ROUNDS ?? 3);
const SLICE = 15 * 60_000;
const s = detectorSettings({ recentMs: 600_000, baselineMs: 3_600_000, minChange: 0.1, resolveAfterMs: 300_000 });
const span = rederiveSpanMs(s);
const endMs = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);

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

const slices = syntheticSlices(n);
const ways = { now: () => createDetectorEngine(s), main: () => createMainEngine(s) } as const;
const res = { now: { cpu: [] as number[], wall: [] as number[] }, main: { cpu: [] as number[], wall: [] as number[] } };
const evals: Record<string, string> = {};
for (let r = 0; r < 2 * rounds; r++) {
  const way = r % 2 === 0 ? 'now' : 'main';
  const e = ways[way]();
  const c = process.cpuUsage();
  const t = performance.now();
  e.readFrom(endMs);
  for (const [to, cols] of slices) e.ingestColumns(cols, to);
  const wall = performance.now() - t;
  const u = process.cpuUsage(c);
  res[way].wall.push(wall);
  res[way].cpu.push((u.user + u.system) / 1000);
  evals[way] = JSON.stringify(e.evaluate([], endMs));
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(JSON.stringify({
  series: n, rounds,
  nowCpuMs: Math.round(med(res.now.cpu)), mainCpuMs: Math.round(med(res.main.cpu)), ratioCpu: +(med(res.now.cpu) / med(res.main.cpu)).toFixed(2),
  nowWallMs: Math.round(med(res.now.wall)), mainWallMs: Math.round(med(res.main.wall)),
  sameEvaluation: evals.now === evals.main, raised: JSON.parse(evals.now!).raise.length,
}));
