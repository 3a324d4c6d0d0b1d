/**
 * A/B of the detector engine's steady pass cost: this tree's engine against another tree's
 * (ENGINE_B=/path/to/another/checkout/apps/server/src/detector/engine.ts, e.g. main's worktree),
 * alternating in one process on the same data (diurnal model, no regression), so the machine's
 * load hits both alike: `ENGINE_B=… npx tsx bench/engine-cost-ab.ts`. Steady passes, and the
 * first pass (the re-derive of the span at once) by its CPU, outside the steady figure.
 */
import { createLatencyModel } from '@edgeworker/generator';
import { FUNCTIONS, POPS } from '@edgeworker/pops';
import * as A from '../apps/server/src/detector/engine.ts';
import type { SeriesBucket } from '../apps/server/src/stores/metrics-store.ts';

if (!process.env.ENGINE_B) throw new Error('set ENGINE_B to the other engine.ts (e.g. a worktree of main)');
const B: typeof A = await import(process.env.ENGINE_B);
const N = Number(process.env.AB_SERIES ?? 300);
const MIN = 60_000;
const STEP = 10_000;
const cfg = { recentMs: 10 * MIN, baselineMs: 60 * MIN, minChange: 0.1, resolveAfterMs: 5 * MIN };
const model = createLatencyModel({ seed: 3 });
const t0 = Date.UTC(2026, 0, 1, 6);
const passMin = Number(process.env.AB_MINUTES ?? 150);
const span = A.rederiveSpanMs(A.detectorSettings(cfg)) + 10 * MIN;
const pairs = Array.from({ length: N }, (_, i) => ({ pop: POPS[i % POPS.length]!, fn: FUNCTIONS[i % FUNCTIONS.length]!, id: i }));
const byTime: SeriesBucket[][] = [];
for (let t = t0 - span; t < t0 + passMin * MIN; t += STEP) {
  byTime.push(pairs.map((p) => {
    const v = model.sample(p.pop, p.fn, t);
    return { popCode: `${p.pop.code}#${p.id}`, functionName: p.fn.name, startMs: t, samples: 1, mean: v, p50: v };
  }));
}
function run(E: typeof A): { steady: number; firstCpuMs: number } {
  // AB_SETTINGS='{"trendFall":false}' overrides settings of this tree's engine (A) only.
  const overrides = E === A && process.env.AB_SETTINGS ? JSON.parse(process.env.AB_SETTINGS) : {};
  const engine = E.createDetectorEngine({ ...E.detectorSettings(cfg), ...overrides });
  // The first pass (re-derive): its CPU, the buckets picked out before.
  let end = t0;
  const from0 = engine.readFrom(end);
  const first = byTime.flat().filter((b) => b.startMs >= from0 && b.startMs < end);
  const cpu0 = process.cpuUsage();
  engine.ingest(first, end);
  engine.evaluate([], end);
  const cpu = process.cpuUsage(cpu0);
  const firstCpuMs = (cpu.user + cpu.system) / 1000;
  let ms = 0;
  for (end = t0 + STEP; end <= t0 + passMin * MIN; end += STEP) {
    const from = engine.readFrom(end);
    const fresh = byTime[(from - (t0 - span)) / STEP]!;
    const t = performance.now();
    engine.ingest(fresh, end);
    engine.evaluate([], end);
    ms += performance.now() - t;
  }
  return { steady: (ms / ((passMin * MIN) / STEP) / N) * 1000, firstCpuMs };
}
const a: Array<ReturnType<typeof run>> = [];
const b: Array<ReturnType<typeof run>> = [];
const rounds = Number(process.env.AB_ROUNDS ?? 4);
for (let i = 0; i < rounds; i++) {
  a.push(run(A));
  b.push(run(B));
}
const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
const line = (what: string, pick: (r: ReturnType<typeof run>) => number, digits: number) => {
  const [xa, xb] = [a.map(pick), b.map(pick)];
  console.log(`${what} (${N} series, ${rounds} alternating runs): this tree ${xa.map((x) => x.toFixed(digits)).join(' ')} (median ${med(xa).toFixed(digits)}); B ${xb.map((x) => x.toFixed(digits)).join(' ')} (median ${med(xb).toFixed(digits)}); ratio ${(med(xa) / med(xb)).toFixed(2)}`);
};
line(`steady pass, µs per series per pass over ${passMin} min of passes`, (r) => r.steady, 2);
line('first pass (re-derive of the span), CPU ms', (r) => r.firstCpuMs, 0);
