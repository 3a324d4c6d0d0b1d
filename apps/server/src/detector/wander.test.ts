/**
 * The wander estimate (wander.ts) and what the engine does with it: on independent noise it is
 * nothing, on a level that wanders it raises the CUSUMs' k, and a re-derived, restored or
 * partly re-derived engine counts the same wander a long-running one does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { SeriesBucket } from '../stores/metrics-store.ts';
import { createDetectorMetrics } from './metrics.ts';
import { createDetectorEngine, detectorSettings, type DetectorEngine } from './engine.ts';
import { WANDER_BLOCK_MS, blocksOf, excessVariance, linearResidualVariance, shortRangeFactor } from './wander.ts';

const MIN = 60_000;
const STEP = 10_000;
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

/** A seeded uniform and normal source (Park-Miller, Box-Muller). */
function random(seed: number) {
  let a = seed % 2147483647 || 1;
  const u = () => (a = (a * 16807) % 2147483647) / 2147483647;
  return { u, z: () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()) };
}

interface Shape {
  /** Noise on the log scale. */
  sigma?: number;
  /** AR(1) wander of the level: phi per bucket, stationary standard deviation. */
  phi?: number;
  wander?: number;
  /** Rise of the log level per hour. */
  slopePerHour?: number;
  /** Share of buckets x5. */
  spikes?: number;
}

/** One series' log values, one per 10 s bucket, n of them. */
function logSeries(seed: number, n: number, shape: Shape): Float32Array {
  const { u, z } = random(seed);
  const { sigma = 0.25, phi = 0, wander = 0, slopePerHour = 0, spikes = 0 } = shape;
  const x = new Float32Array(n);
  let w = wander * z();
  for (let i = 0; i < n; i++) {
    w = phi * w + Math.sqrt(1 - phi * phi) * wander * z();
    const spike = u() < spikes ? Math.log(5) : 0;
    x[i] = Math.log(100) + (slopePerHour * i * STEP) / 3_600_000 + w + sigma * z() + spike;
  }
  return x;
}

/** The estimate over 140 minutes of one series (blocks rebuilt from its buckets, as an import does). */
function estimate(seed: number, shape: Shape): number | null {
  const n = (150 * MIN) / STEP;
  const x = logSeries(seed, n, shape);
  const t = Int32Array.from({ length: n }, (_, i) => i * STEP);
  const blocks = blocksOf(t, x, n, T0, STEP);
  return excessVariance(blocks, T0, T0 + 140 * MIN);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[(s.length >> 1) - 1]! + s[s.length >> 1]!) / 2;
};
const medianOver = (count: number, shape: Shape) => median(Array.from({ length: count }, (_, i) => estimate(1000 + i, shape)!));

test('a straight line through the block levels: its residual variance is 0 on a line, and what is left around it otherwise', () => {
  const u = [0, 1, 2, 3, 4, 5];
  assert.ok(Math.abs(linearResidualVariance(u, u.map((v) => 3 - 0.5 * v), 0, u.length)) < 1e-15);
  // Residuals +1, -1, -1, +1 around the line y = 1 (its least-squares line): SSR 4 over 2 degrees of freedom.
  assert.ok(Math.abs(linearResidualVariance([0, 1, 2, 3], [2, 0, 0, 2], 0, 4) - 2) < 1e-12);
});

test('on independent noise the estimate is noise around 0; a drift, a daily swing and spikes do not make it wander', () => {
  const scale = ((Math.PI / 2) * 0.25 ** 2) / 30; // a block median's own variance: 3.3e-3
  for (const [name, shape] of [
    ['noise', {}],
    ['+10 %/h', { slopePerHour: Math.log(1.1) }],
    ['a daily swing at its steepest (+-20 %: 0.047 per hour)', { slopePerHour: 0.047 }],
    ['1 % of buckets x5', { spikes: 0.01 }],
  ] as const) {
    const m = medianOver(200, shape);
    assert.ok(Math.abs(m) < 0.06 * scale, `${name}: median ${m.toExponential(2)} against the noise's ${scale.toExponential(2)}`);
  }
});

test('a level that wanders gives an estimate that grows with the wander', () => {
  const small = medianOver(200, { phi: 0.9, wander: 0.03 });
  const large = medianOver(200, { phi: 0.9, wander: 0.06 });
  assert.ok(small > 2e-4, `3 %: ${small.toExponential(2)}`);
  assert.ok(large > 3 * small, `6 %: ${large.toExponential(2)} against 3 %: ${small.toExponential(2)}`);
  // Less than the wander's variance: blocks average part of it away (the engine scales it up).
  assert.ok(large < 0.06 ** 2, `6 %: ${large.toExponential(2)}`);
});

test('blocks with less than 60 % of their buckets are left out, and fewer than 12 blocks give no estimate', () => {
  const n = (150 * MIN) / STEP;
  const x = logSeries(5, n, {});
  // Every other bucket of the first hour (50 %): those 12 blocks are left out, 18 remain.
  const keep = Array.from({ length: n }, (_, i) => i * STEP >= 60 * MIN || i % 2 === 0);
  const idx = keep.flatMap((k, i) => (k ? [i] : []));
  const t = Int32Array.from(idx, (i) => i * STEP);
  const xs = Float32Array.from(idx, (i) => x[i]!);
  const blocks = blocksOf(t, xs, t.length, T0, STEP);
  assert.equal(blocks.startMs[0], T0 + 60 * MIN);
  // The last block (still open: no bucket after it) is not closed.
  assert.equal(blocks.startMs.length, (150 - 60) / 5 - 1);
  assert.notEqual(excessVariance(blocks, T0, T0 + 140 * MIN), null);
  assert.equal(excessVariance(blocks, T0 + 60 * MIN, T0 + 60 * MIN + 11 * WANDER_BLOCK_MS), null);
});

const settings = detectorSettings({ recentMs: 10 * MIN, baselineMs: 60 * MIN, minChange: 0.1, resolveAfterMs: 5 * MIN });
const POPS = Array.from({ length: 40 }, (_, i) => `P${String(i).padStart(2, '0')}`);

/** Buckets of 40 POPs x two functions in [fromMs, toMs): `calm` on independent noise, `wavy` with a wandering level. */
function fleet(fromMs: number, toMs: number, wavy: Shape): SeriesBucket[] {
  const n = (toMs - fromMs) / STEP;
  const out: SeriesBucket[] = [];
  POPS.forEach((pop, i) => {
    for (const [fn, shape, seed] of [['calm', {}, 10 + i], ['wavy', wavy, 500 + i]] as const) {
      const x = logSeries(seed, n, shape);
      for (let j = 0; j < n; j++) {
        const v = Math.exp(x[j]!);
        out.push({ popCode: pop, functionName: fn, startMs: fromMs + j * STEP, samples: 1, mean: v, p50: v });
      }
    }
  });
  return out.sort((a, b) => a.startMs - b.startMs);
}

/** Feeds `all` every minute from `fromMs` to `toMs` (a long-running engine); returns the alerts it raised. */
function run(engine: DetectorEngine, all: SeriesBucket[], fromMs: number, toMs: number): string[] {
  const raised: string[] = [];
  let i = 0;
  for (let end = fromMs; end <= toMs; end += MIN) {
    const from = engine.readFrom(end);
    while (i < all.length && all[i]!.startMs < from) i++;
    let j = i;
    while (j < all.length && all[j]!.startMs < end) j++;
    engine.ingest(all.slice(i, j), end);
    i = j;
    for (const f of engine.evaluate([], end).raise) raised.push(`${end - T0} ${f.popCode} ${f.functionName}`);
  }
  return raised;
}

const wavy: Shape = { phi: 0.9, wander: 0.1 };

test('samples that move together over seconds (bursts) give a short-range factor above 1; independent ones, with spikes or a drift, about 1', () => {
  const factor = (shape: Shape) => median(Array.from({ length: 200 }, (_, i) => {
    const n = (150 * MIN) / STEP;
    const x = logSeries(2000 + i, n, shape);
    const t = Int32Array.from({ length: n }, (_, j) => j * STEP);
    return shortRangeFactor(blocksOf(t, x, n, T0, STEP), T0, T0 + 140 * MIN)!;
  }));
  // A series' factor is a ratio of sums of 28 blocks' squares: its median sits a little below 1
  // (0.95 on 400 series of independent noise; its mean 0.98), and the engine pools the median.
  for (const shape of [{}, { spikes: 0.01 }, { slopePerHour: 0.1 }]) {
    const f = factor(shape);
    assert.ok(f > 0.88 && f < 1.03, `${JSON.stringify(shape)}: ${f.toFixed(3)}`);
  }
  // An AR(1) of ~14 s at 10 % on sigma 0.25: neighbours correlate 0.07, a 2.5-minute mean varies ~1.25x.
  const bursts = factor({ phi: 0.5, wander: 0.1 });
  assert.ok(bursts > 1.12 && bursts < 1.4, `bursts: ${bursts.toFixed(3)}`);
});

test('a function whose level wanders is counted as wandering, one on independent noise is not, and its CUSUMs raise fewer false alerts', () => {
  const data = fleet(T0 - 200 * MIN, T0 + 240 * MIN, wavy);
  const engine = createDetectorEngine(settings);
  const raised = run(engine, data, T0 - 10 * MIN, T0 + 240 * MIN);
  const calm = engine.functionWander('calm', T0 + 240 * MIN);
  const wandering = engine.functionWander('wavy', T0 + 240 * MIN);
  assert.deepEqual(calm, { level: 0, burst: 1 });
  assert.ok(wandering.level > 0.02 ** 2, `wavy: ${Math.sqrt(wandering.level).toFixed(3)} on the log scale`);
  assert.deepEqual([...engine.wanderAt(T0 + 240 * MIN)].sort(), [['calm', calm], ['wavy', wandering]]);
  const off = createDetectorEngine({ ...settings, wanderK: 0 });
  const raisedOff = run(off, data, T0 - 10 * MIN, T0 + 240 * MIN);
  assert.deepEqual(off.functionWander('wavy', T0 + 240 * MIN), wandering, 'measured either way');
  const wavyAlerts = (xs: string[]) => xs.filter((r) => r.endsWith(' wavy')).length;
  assert.ok(wavyAlerts(raisedOff) >= 4, `without it the wander alerts: ${wavyAlerts(raisedOff)}`);
  assert.ok(wavyAlerts(raised) <= wavyAlerts(raisedOff) / 2, `with it ${wavyAlerts(raised)} against ${wavyAlerts(raisedOff)}`);
  assert.deepEqual(raised.filter((r) => r.endsWith(' calm')), raisedOff.filter((r) => r.endsWith(' calm')), 'the calm function is judged as before');
});

test('a fresh engine (a re-derive), a restored one and a few POPs re-derived count the wander the long-running engine counts', () => {
  const end = T0 + 60 * MIN;
  const data = fleet(end - 260 * MIN, end + 10 * MIN, wavy);
  const long = createDetectorEngine(settings);
  run(long, data, end - 250 * MIN, end);
  // A fresh engine at the same end: reads the re-derive span at once.
  const fresh = createDetectorEngine(settings);
  const from = fresh.readFrom(end);
  fresh.ingest(data.filter((b) => b.startMs >= from && b.startMs < end), end);
  const restored = createDetectorEngine(settings);
  restored.importState(long.exportState()!);
  for (const at of [end, end + 10 * MIN]) {
    for (const fn of ['calm', 'wavy']) {
      const expected = long.functionWander(fn, at);
      assert.deepEqual(fresh.functionWander(fn, at), expected, `${fn} at +${(at - end) / MIN} min, re-derived`);
      assert.deepEqual(restored.functionWander(fn, at), expected, `${fn} at +${(at - end) / MIN} min, restored`);
    }
  }
  assert.ok(long.functionWander('wavy', end).level > 0);
  // A few POPs re-derived by an engine of their own: it takes the main engine's wander, not its
  // own three series' (too few for a median).
  const pops = new Set(POPS.slice(0, 3));
  const few = data.filter((b) => pops.has(b.popCode));
  const own = createDetectorEngine(settings);
  const given = createDetectorEngine(settings, { wanderFrom: long });
  for (const e of [own, given]) {
    const f = e.readFrom(end);
    e.ingest(few.filter((b) => b.startMs >= f && b.startMs < end), end);
  }
  assert.deepEqual(own.functionWander('wavy', end + 10 * MIN), { level: 0, burst: 1 }, 'three series of a function are too few to pool');
  const a = long.exportState()!.series.filter((s) => pops.has(s.popCode));
  const b = given.exportState()!.series;
  assert.deepEqual(b.map((s) => s.runs.map((r) => r.s)), a.map((s) => s.runs.map((r) => r.s)), 'the same CUSUMs as the long-running engine');
});

test('the metrics show each function\'s wander as a pass counted it', async () => {
  const registry = new Registry();
  const onPass = createDetectorMetrics(registry);
  onPass({ evaluated: 80, created: [], resolved: [], refreshed: 0, wander: { calm: { level: 0, burst: 1 }, wavy: { level: 0.0831, burst: 1.172 } }, durationMs: 12 }, null);
  const text = await registry.metrics();
  assert.match(text, /edgeworker_detector_function_wander\{function="calm"\} 0\n/);
  assert.match(text, /edgeworker_detector_function_wander\{function="wavy"\} 0\.0831\n/);
  assert.match(text, /edgeworker_detector_function_burst\{function="calm"\} 1\n/);
  assert.match(text, /edgeworker_detector_function_burst\{function="wavy"\} 1\.172\n/);
  // The next pass measures only one of them (the other has too few series now): the other's line goes.
  onPass({ evaluated: 80, created: [], resolved: [], refreshed: 0, wander: { wavy: { level: 0.05, burst: 1.1 } }, durationMs: 12 }, null);
  const next = await registry.metrics();
  assert.doesNotMatch(next, /function="calm"/);
  assert.match(next, /edgeworker_detector_function_wander\{function="wavy"\} 0\.05\n/);
  // A pass that failed tells nothing new: the last measured values stay.
  onPass(null, new Error('store down'));
  assert.match(await registry.metrics(), /edgeworker_detector_function_burst\{function="wavy"\} 1\.1\n/);
  // A cold standby's skipped pass measures nothing: no value is left to read as current.
  onPass({ evaluated: 0, created: [], resolved: [], refreshed: 0, skipped: 'not_leader', durationMs: 1 }, null);
  assert.doesNotMatch(await registry.metrics(), /function="wavy"/);
});
