/**
 * Bench-only prototype (docs/notes/rederive.md): a fresh engine's replay of synthetic 15-min
 * slices on the JS thread alone, against the same series split in two, one half replayed on the
 * JS thread and the other in a worker_threads worker (bench/replay-worker.ts), each slice's half
 * posted to it as the slice "arrives". Wall time and the JS thread's CPU, alternating; the two
 * ways' findings must be the same. Says what a second thread could take off the JS thread's part
 * of a first pass, on this machine under its load; the server does not do this.
 *   SERIES=10000 ROUNDS=3 node --import tsx bench/replay-split-ab.ts
 */
import { createDetectorEngine, detectorSettings, rederiveSpanMs } from '../apps/server/src/detector/engine.ts';
import { Worker } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
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
/** The rows of c whose series id has the given parity (ids index the shared pops/functions). */
function half(c: SeriesBucketColumns, parity: number): SeriesBucketColumns {
  let m = 0;
  for (let i = 0; i < c.series.length; i++) if (c.series[i]! % 2 === parity) m++;
  const out = { pops: c.pops, functions: c.functions, series: new Int32Array(m), startMs: new Float64Array(m), samples: new Float64Array(m), mean: new Float64Array(m), p50: new Float64Array(m) };
  let k = 0;
  for (let i = 0; i < c.series.length; i++) {
    if (c.series[i]! % 2 !== parity) continue;
    out.series[k] = c.series[i]!; out.startMs[k] = c.startMs[i]!; out.samples[k] = c.samples[i]!; out.mean[k] = c.mean[i]!; out.p50[k] = c.p50[i]!; k++;
  }
  return out;
}
const halves = slices.map(([to, c]) => [to, half(c, 0), half(c, 1)] as const);
/** CPU of this (the JS) thread alone, from /proc, in ms (USER_HZ 100). */
function jsCpu(): number {
  const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(x[11]) + Number(x[12])) * 10;
}
// The worker loads TypeScript as the main thread does: tsx's hooks are per thread, so it
// registers them before importing its module (a .ts entry is rejected before any hook applies).
const workerUrl = new URL('./replay-worker.ts', import.meta.url).href;
const worker = new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(workerUrl)}); })`, { eval: true });
const findings = (ev: ReturnType<ReturnType<typeof createDetectorEngine>['evaluate']>) => JSON.stringify(ev.raise.map((f) => `${f.popCode}/${f.changePct}`).sort());
const res = { one: { wall: [] as number[], js: [] as number[] }, split: { wall: [] as number[], js: [] as number[] } };
let same = true;
for (let r = 0; r < 2 * rounds; r++) {
  const way = r % 2 === 0 ? 'one' : 'split';
  const e = createDetectorEngine(s);
  e.readFrom(endMs);
  const j = jsCpu();
  const t = performance.now();
  let got: string;
  if (way === 'one') {
    for (const [to, c] of slices) e.ingestColumns(c, to);
    got = findings(e.evaluate([], endMs));
  } else {
    worker.postMessage({ type: 'start', settings: s, endMs });
    for (const [to, mine, theirs] of halves) {
      worker.postMessage({ type: 'slice', to, cols: theirs });
      e.ingestColumns(mine, to);
    }
    const theirEval = await new Promise<ReturnType<typeof e.evaluate>>((resolve) => {
      worker.once('message', resolve);
      worker.postMessage({ type: 'end', endMs });
    });
    const mineEval = e.evaluate([], endMs);
    got = findings({ ...mineEval, raise: [...mineEval.raise, ...theirEval.raise] });
  }
  res[way].wall.push(performance.now() - t);
  res[way].js.push(jsCpu() - j);
  if (r === 0) (globalThis as { first?: string }).first = got;
  else same &&= got === (globalThis as { first?: string }).first;
}
await worker.terminate();
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(JSON.stringify({ series: n, rounds, oneThreadWallMs: Math.round(med(res.one.wall)), splitWallMs: Math.round(med(res.split.wall)), ratioWall: +(med(res.split.wall) / med(res.one.wall)).toFixed(2), oneThreadJsCpuMs: Math.round(med(res.one.js)), splitJsCpuMs: Math.round(med(res.split.js)), sameFindings: same }));
