/**
 * Bench-only prototype (docs/notes/rederive.md): a fresh engine's replay of synthetic 15-min
 * slices on the JS thread alone, against the same series split in two, one half replayed on the
 * JS thread and the other in a worker_threads worker (bench/replay-worker.ts), each slice's half
 * posted to it as the slice "arrives". Wall time and the JS thread's CPU, alternating; the two
 * ways' findings must be the same. Says what a second thread could take off the JS thread's part
 * of a first pass, on this machine under its load; the server does not do this.
 *   SERIES=10000 ROUNDS=3 node --import tsx bench/replay-split-ab.ts
 */
import { createDetectorEngine } from '../apps/server/src/detector/engine.ts';
import { Worker } from 'node:worker_threads';
import type { SeriesBucketColumns } from '../apps/server/src/stores/metrics-store.ts';
import { jsThreadCpuMs } from './lib.ts';
import { endMs, s, syntheticSlices } from './replay-slices.ts';

const n = Number(process.env.SERIES ?? 2115);
const rounds = Number(process.env.ROUNDS ?? 3);
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
  const j = jsThreadCpuMs();
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
  res[way].js.push(jsThreadCpuMs() - j);
  if (r === 0) (globalThis as { first?: string }).first = got;
  else same &&= got === (globalThis as { first?: string }).first;
}
await worker.terminate();
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(JSON.stringify({ series: n, rounds, oneThreadWallMs: Math.round(med(res.one.wall)), splitWallMs: Math.round(med(res.split.wall)), ratioWall: +(med(res.split.wall) / med(res.one.wall)).toFixed(2), oneThreadJsCpuMs: Math.round(med(res.one.js)), splitJsCpuMs: Math.round(med(res.split.js)), sameFindings: same }));
