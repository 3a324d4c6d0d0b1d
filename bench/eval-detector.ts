/**
 * `npm run eval:detector`: how good is the regression detector, measured.
 *
 * Labelled scenarios are generated with the generator's own latency model (one sample
 * per series every 10 s, as `npm start` does), bucketed as the store would, and the
 * production evaluate() runs pass by pass (every minute) over simulated time with the
 * alert lifecycle applied between passes (open once per pair, refresh, resolve).
 *
 *   shift 1.2x / 1.5x / 2x / 3x : full model (diurnal, rare spikes) + an injection of
 *                                 30 min from a random minute; recall = alert within it
 *   noise only                  : log-normal noise, no diurnal swing, no spikes
 *   single spikes               : noise + 1 % of samples x3..x8 (5x the model's rate)
 *   diurnal                     : the full model (+-20 % daily swing on local time)
 *   slow drift / fast drift     : noise x (1 + 3 % or 10 % per hour), for 8 hours
 *
 * Seeded (EVAL_SEED, default 1) and repeatable; bounded (about 30 s on 2 cores).
 * EVAL_SERIES (default 200) sets the series per scenario, EVAL_MIN_CHANGE overrides
 * DETECTOR_MIN_CHANGE's default, EVAL_SWEEP=0 skips the minChange sweep.
 */
import { FUNCTIONS, POPS, type FunctionSpec, type PopInfo } from '@edgeworker/pops';
import { createLatencyModel, diurnalFactor, type Injection } from '@edgeworker/generator';
import { detectorSettings, evaluate, median, quantile, type DetectorSettings } from '../apps/server/src/detector/evaluate.ts';
import type { SeriesBucket } from '../apps/server/src/stores/metrics-store.ts';
import { loadConfig } from '../apps/server/src/config.ts';

const SEED = Number(process.env.EVAL_SEED ?? 1);
const SERIES = Number(process.env.EVAL_SERIES ?? 200);
const SAMPLE_MS = 10_000;
const PASS_MS = 60_000;
const MIN = 60_000;
const HOUR = 3_600_000;
const SHIFT_MS = 30 * MIN;
const AFTER_SHIFT_MS = 40 * MIN;
const QUIET_HOURS = 8;

interface Pair { pop: PopInfo; fn: FunctionSpec }
type Sampler = (pair: Pair, tMs: number) => number;

/** Small seeded PRNG for choosing series and start times (the model has its own streams). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pickSeries(n: number, random: () => number): Pair[] {
  const out: Pair[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ pop: POPS[Math.floor(random() * POPS.length)]!, fn: FUNCTIONS[Math.floor(random() * FUNCTIONS.length)]! });
  }
  return out;
}

/** Buckets of one series from startMs for durationMs, each the median of its samples (what the store returns). */
function bucketize(pair: Pair, id: number, sample: Sampler, startMs: number, durationMs: number, stepMs: number): SeriesBucket[] {
  const out: SeriesBucket[] = [];
  for (let b = startMs; b < startMs + durationMs; b += stepMs) {
    const values: number[] = [];
    for (let t = b; t < b + stepMs; t += SAMPLE_MS) values.push(sample(pair, t));
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    // Series are told apart by index: two picks of the same (POP, function) are two series here.
    out.push({ popCode: `${pair.pop.code}#${id}`, functionName: pair.fn.name, startMs: b, samples: values.length, mean, p50: median(values) });
  }
  return out;
}

interface SeriesTimeline { opened: number[]; resolved: number[] }

/** CPU time of evaluate() itself, to size a pass over the whole fleet. */
const evalCost = { ms: 0, seriesPasses: 0 };

/** Runs evaluate() every PASS_MS from firstPassMs to endMs with the alert lifecycle; returns each series' events. */
function simulate(buckets: SeriesBucket[][], settings: DetectorSettings, firstPassMs: number, endMs: number): SeriesTimeline[] {
  const stepsPerWindow = Math.ceil(Math.max(settings.recentMs + settings.baselineMs, settings.resolveAfterMs) / settings.stepMs);
  const origin = buckets[0]![0]!.startMs;
  const timelines: SeriesTimeline[] = buckets.map(() => ({ opened: [], resolved: [] }));
  const index = new Map(buckets.map((bs, i) => [`${bs[0]!.popCode}\u0000${bs[0]!.functionName}`, i]));
  const open = new Map<string, { id: string; popCode: string; functionName: string; baselineMs: number }>();
  let nextId = 1;
  for (let end = firstPassMs; end <= endMs; end += PASS_MS) {
    const aligned = Math.floor(end / settings.stepMs) * settings.stepMs;
    const hi = Math.floor((aligned - origin) / settings.stepMs);
    const lo = Math.max(0, hi - stepsPerWindow);
    const window: SeriesBucket[] = [];
    for (const bs of buckets) for (let i = lo; i < hi; i++) window.push(bs[i]!);
    const t = performance.now();
    const ev = evaluate({ buckets: window, unresolved: [...open.values()], settings, endMs: aligned });
    evalCost.ms += performance.now() - t;
    evalCost.seriesPasses += buckets.length;
    for (const f of ev.raise) {
      const k = `${f.popCode}\u0000${f.functionName}`;
      if (open.has(k)) continue;
      open.set(k, { id: String(nextId++), popCode: f.popCode, functionName: f.functionName, baselineMs: f.baselineMs });
      timelines[index.get(k)!]!.opened.push(end);
    }
    for (const id of ev.resolve) {
      for (const [k, a] of open) {
        if (a.id !== id) continue;
        open.delete(k);
        timelines[index.get(k)!]!.resolved.push(end);
      }
    }
  }
  return timelines;
}

const warmupMs = (s: DetectorSettings) => s.recentMs + s.baselineMs;

interface ShiftResult { factor: number; recall: number; delays: number[]; resolvedShare: number; resolveDelays: number[]; extraAlerts: number }

function runShift(factor: number, settings: DetectorSettings, scenarioSeed: number, series: number): ShiftResult {
  const random = rng(scenarioSeed);
  const pairs = pickSeries(series, random);
  const startMs = Date.UTC(2026, 0, 1) + Math.floor(random() * 24) * HOUR;
  const total = warmupMs(settings) + 10 * MIN + SHIFT_MS + AFTER_SHIFT_MS;
  const shiftStarts = pairs.map(() => startMs + warmupMs(settings) + Math.floor(random() * 10 * MIN));
  const buckets = pairs.map((pair, i) => {
    const inj: Injection = { pops: [pair.pop.code], functions: [pair.fn.name], factor, startMs: shiftStarts[i]!, durationMs: SHIFT_MS };
    const model = createLatencyModel({ seed: scenarioSeed, injections: [inj] });
    return bucketize(pair, i, (p, t) => model.sample(p.pop, p.fn, t), startMs, total, settings.stepMs);
  });
  const timelines = simulate(buckets, settings, startMs + warmupMs(settings), startMs + total);
  let hits = 0;
  let resolvedCount = 0;
  let extraAlerts = 0;
  const delays: number[] = [];
  const resolveDelays: number[] = [];
  timelines.forEach((tl, i) => {
    const t0 = shiftStarts[i]!;
    const during = tl.opened.filter((t) => t >= t0 && t < t0 + SHIFT_MS);
    extraAlerts += tl.opened.length - Math.min(1, during.length);
    if (during.length === 0) return;
    hits++;
    delays.push(during[0]! - t0);
    // Closed by the end of the run (at 1.2x an alert may even close during the shift: it is within the band).
    if (tl.resolved.length >= tl.opened.length) resolvedCount++;
    const end = t0 + SHIFT_MS;
    const openAtEnd = tl.opened.filter((t) => t < end).length > tl.resolved.filter((t) => t < end).length;
    const res = tl.resolved.find((t) => t >= end);
    if (openAtEnd && res !== undefined) resolveDelays.push(res - end);
  });
  return { factor, recall: hits / pairs.length, delays, resolvedShare: hits ? resolvedCount / hits : 0, resolveDelays, extraAlerts };
}

interface QuietResult { name: string; alerts: number; seriesHours: number }

function runQuiet(name: string, sample: (model: ReturnType<typeof createLatencyModel>) => Sampler, spikeProbability: number, settings: DetectorSettings, scenarioSeed: number, series: number): QuietResult {
  const random = rng(scenarioSeed);
  const pairs = pickSeries(series, random);
  const startMs = Date.UTC(2026, 0, 1) + Math.floor(random() * 24) * HOUR;
  const total = warmupMs(settings) + QUIET_HOURS * HOUR;
  const model = createLatencyModel({ seed: scenarioSeed, spikeProbability });
  const s = sample(model);
  const buckets = pairs.map((pair, i) => bucketize(pair, i, s, startMs, total, settings.stepMs));
  const timelines = simulate(buckets, settings, startMs + warmupMs(settings), startMs + total);
  const alerts = timelines.reduce((n, tl) => n + tl.opened.length, 0);
  return { name, alerts, seriesHours: pairs.length * QUIET_HOURS };
}

// Sampler shapes: the model's value with parts of it removed or added.
const full = (m: ReturnType<typeof createLatencyModel>): Sampler => (p, t) => m.sample(p.pop, p.fn, t);
const flat = (m: ReturnType<typeof createLatencyModel>): Sampler => (p, t) => m.sample(p.pop, p.fn, t) / diurnalFactor(p.pop.lon, t);
const drifting = (perHour: number) => (m: ReturnType<typeof createLatencyModel>): Sampler => {
  let t0: number | undefined;
  return (p, t) => {
    t0 ??= t;
    return flat(m)(p, t) * (1 + (perHour * (t - t0)) / HOUR);
  };
};

function fmtMin(ms: number | undefined) {
  return ms === undefined || Number.isNaN(ms) ? '–' : `${(ms / MIN).toFixed(1)} min`;
}

function evaluateSettings(settings: DetectorSettings, verbose: boolean, series = SERIES) {
  const shifts = [1.2, 1.5, 2, 3].map((f, i) => runShift(f, settings, SEED * 100 + i, series));
  const quiet = [
    runQuiet('noise only', flat, 0, settings, SEED * 100 + 10, series),
    runQuiet('single spikes (1 % of samples x3..x8)', flat, 0.01, settings, SEED * 100 + 11, series),
    runQuiet('diurnal (+-20 %, full model)', full, 0.002, settings, SEED * 100 + 12, series),
    runQuiet('slow drift (+3 %/h for 8 h, +24 % in all)', drifting(0.03), 0, settings, SEED * 100 + 13, series),
    runQuiet('fast drift (+10 %/h for 8 h, +80 % in all)', drifting(0.1), 0, settings, SEED * 100 + 14, series),
  ];
  const allDelays = shifts.filter((r) => r.factor >= 1.5).flatMap((r) => r.delays);
  if (verbose) {
    console.log(`\nRecall (alert within the 30 min shift; ${series} series per size)\n`);
    console.log('| shift | recall | median delay | p95 delay | closed by the end (40 min after the shift) | median time to resolve after the shift ends |');
    console.log('|---|---|---|---|---|---|');
    for (const r of shifts) {
      console.log(
        `| ${r.factor}x | ${(r.recall * 100).toFixed(1)} % | ${fmtMin(median(r.delays))} | ${fmtMin(quantile(r.delays, 0.95))} | ${(r.resolvedShare * 100).toFixed(0)} % | ${fmtMin(median(r.resolveDelays))} |`,
      );
    }
    console.log(`\nFalse alerts (${series} series x ${QUIET_HOURS} h each, a pass every minute)\n`);
    console.log('| scenario | alerts | per 1000 series-hours |');
    console.log('|---|---|---|');
    for (const q of quiet) console.log(`| ${q.name} | ${q.alerts} | ${((q.alerts / q.seriesHours) * 1000).toFixed(2)} |`);
    console.log(`\nDetection delay over shifts >= 1.5x: median ${fmtMin(median(allDelays))}, p95 ${fmtMin(quantile(allDelays, 0.95))}`);
  }
  // The sweep's false-alert figure leaves out the fast drift, which is a shift in slow motion rather than noise.
  const calm = quiet.filter((q) => !q.name.startsWith('fast'));
  const falsePer1000 = (calm.reduce((n, q) => n + q.alerts, 0) / calm.reduce((n, q) => n + q.seriesHours, 0)) * 1000;
  return { shifts, quiet, falsePer1000, allDelays };
}

const started = performance.now();
// The product's defaults (config.ts), so the figures describe what `npm start` runs.
const configured = loadConfig({}).detector;
const defaults = detectorSettings({ ...configured, minChange: Number(process.env.EVAL_MIN_CHANGE ?? configured.minChange) });
console.log(`Detector evaluation (seed ${SEED}): recent ${defaults.recentMs / MIN} min vs baseline ${defaults.baselineMs / MIN} min, ${defaults.stepMs / 1000} s buckets, minChange ${defaults.minChange}, alpha ${defaults.alpha}, resolveAfter ${defaults.resolveAfterMs / MIN} min`);
evaluateSettings(defaults, true);

if (process.env.EVAL_SWEEP !== '0') {
  const sweepSeries = Math.max(20, Math.floor(SERIES / 3));
  console.log(`\nSensitivity: minChange (other settings as above; ${sweepSeries} series per scenario)\n`);
  console.log('| minChange | recall 1.2x | recall 1.5x | recall 2x | false alerts / 1000 series-h (noise, spikes, diurnal, slow drift) | fast drift |');
  console.log('|---|---|---|---|---|---|');
  for (const minChange of [0.15, 0.2, 0.25, 0.3]) {
    const r = evaluateSettings({ ...defaults, minChange }, false, sweepSeries);
    const rec = (f: number) => `${((r.shifts.find((s) => s.factor === f)?.recall ?? 0) * 100).toFixed(1)} %`;
    const fast = r.quiet.find((q) => q.name.startsWith('fast'))!;
    console.log(`| ${minChange} | ${rec(1.2)} | ${rec(1.5)} | ${rec(2)} | ${r.falsePer1000.toFixed(2)} | ${((fast.alerts / fast.seriesHours) * 1000).toFixed(2)} |`);
  }
}
const perSeriesMs = evalCost.ms / evalCost.seriesPasses;
console.log(`\nevaluate() cost: ${(perSeriesMs * 1000).toFixed(1)} µs per series per pass, so ~${(perSeriesMs * POPS.length * FUNCTIONS.length).toFixed(0)} ms for all ${POPS.length * FUNCTIONS.length} series of the built-in generator (plus one store query)`);
console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
