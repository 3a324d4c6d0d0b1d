/**
 * A fresh engine's replay (issue 13's first pass, the engine's part) from synthetic columns in
 * the service's 15-min slices, this engine against main's frozen one (bench/detector-main-engine),
 * alternating in one process, CPU time (process.cpuUsage) and wall; and each engine's evaluation
 * must agree (same findings, same counts). No store: the read is measured in bench/detector.ts.
 *   SERIES=10000 ROUNDS=3 node --import tsx bench/replay-ab.ts
 */
import { createDetectorEngine } from '../apps/server/src/detector/engine.ts';
import { createDetectorEngine as createMainEngine } from './detector-main-engine/engine.ts';
import { endMs, s, syntheticSlices } from './replay-slices.ts';

const n = Number(process.env.SERIES ?? 2115);
const rounds = Number(process.env.ROUNDS ?? 3);
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
