/**
 * A re-derive split between the JS thread and a worker thread, by function (rederive-split.ts),
 * leaves exactly the engine one thread builds: the same series, state and order, the same wander,
 * the same findings after it. Run with a real worker thread (the sources' bootstrap) and, for the
 * service, a real DuckDB file. A worker that fails costs the split, not the re-derive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { wrapMetricsStore, type SeriesBucketColumns } from '../stores/metrics-store.ts';
import { createSingleLeadership } from '../cluster/leadership.ts';
import { tempDir } from '../stores/duckdb/test-store.ts';
import { historyFile, MIN, settings as historySettings, STEP, T0, outcome } from '../testing/detector-history.ts';
import { memoryAlerts } from '../testing/detector-alerts.ts';
import { createDetectorService } from './detector-service.ts';
import { createDetectorEngine, createSeriesOrder, detectorSettings, rederiveSpanMs, type DetectorEngine } from './engine.ts';
import { startRederiveSplit } from './rederive-split.ts';

const settings = detectorSettings({ recentMs: 10 * MIN, baselineMs: 60 * MIN, minChange: 0.1, resolveAfterMs: 5 * MIN });
const SLICE = 15 * MIN;

/** A seeded normal source (Park-Miller, Box-Muller). */
function normal(seed: number) {
  let a = seed % 2147483647 || 1;
  const u = () => (a = (a * 16807) % 2147483647) / 2147483647;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

interface Series {
  pop: string;
  fn: string;
  /** Reports in [from, to) only (ms offsets from the re-derive's start), when given. */
  speaks?: (offsetMs: number) => boolean;
  /** Slower by this factor from this offset on. */
  shift?: { atMs: number; factor: number };
}

/**
 * A re-derive's span as 15-minute column slices: every series one bucket per 10 s, whose level
 * wanders (an AR(1) of 3 %, so the functions' wander is measured and not 0) under noise of 0.25.
 */
function slicesOf(series: Series[], endMs: number): Array<{ columns: SeriesBucketColumns; endMs: number }> {
  const fromMs = endMs - rederiveSpanMs(settings);
  const z = series.map((_, i) => normal(1000 + i));
  const level = series.map(() => 0);
  const out: Array<{ columns: SeriesBucketColumns; endMs: number }> = [];
  for (let from = fromMs; from < endMs; from += SLICE) {
    const to = Math.min(endMs, from + SLICE);
    // Ids in another order than the series' (as a store's statement numbers them), and one series named by no bucket.
    const ids = series.map((_, i) => (i * 7) % series.length);
    const c = { pops: [] as string[], functions: [] as string[], series: [] as number[], startMs: [] as number[], samples: [] as number[], mean: [] as number[], p50: [] as number[] };
    series.forEach((s, i) => {
      c.pops[ids[i]!] = s.pop;
      c.functions[ids[i]!] = s.fn;
    });
    for (let t = from; t < to; t += STEP) {
      series.forEach((s, i) => {
        level[i] = 0.99 * level[i]! + Math.sqrt(1 - 0.99 ** 2) * 0.03 * z[i]!();
        const noise = 0.25 * z[i]!();
        if (s.speaks && !s.speaks(t - fromMs)) return;
        const factor = s.shift && t - fromMs >= s.shift.atMs ? s.shift.factor : 1;
        const v = 120 * factor * Math.exp(level[i]! + noise);
        c.series.push(ids[i]!);
        c.startMs.push(t);
        c.samples.push(1);
        c.mean.push(v);
        c.p50.push(v);
      });
    }
    out.push({ columns: { ...c, series: Int32Array.from(c.series), startMs: Float64Array.from(c.startMs), samples: Int32Array.from(c.samples), mean: Float64Array.from(c.mean), p50: Float64Array.from(c.p50) }, endMs: to });
  }
  return out;
}

/** The slices' columns again (take may post the worker's part away: each run gets its own copies). */
const copy = (c: SeriesBucketColumns): SeriesBucketColumns => ({ pops: [...c.pops], functions: [...c.functions], series: Int32Array.from(c.series), startMs: Float64Array.from(c.startMs), samples: Int32Array.from(c.samples), mean: Float64Array.from(c.mean), p50: Float64Array.from(c.p50) });

function single(slices: ReturnType<typeof slicesOf>, endMs: number): DetectorEngine {
  const e = createDetectorEngine(settings);
  e.readFrom(endMs);
  for (const s of slices) e.ingestColumns(copy(s.columns), s.endMs);
  return e;
}

async function split(slices: ReturnType<typeof slicesOf>, endMs: number) {
  const e = createDetectorEngine(settings);
  e.readFrom(endMs);
  const sp = startRederiveSplit(settings, endMs, { minSeries: 0, seriesPerMessage: 5 });
  for (const s of slices) e.ingestColumns(sp.take(copy(s.columns), s.endMs), s.endMs);
  const counts = await sp.finish(e);
  return { engine: e, ...counts };
}

const END = T0 + 3 * STEP;
const FNS = ['ssr-render', 'auth-check', 'image-resize'];
const fleet: Series[] = [
  ...FNS.flatMap((fn, f) => Array.from({ length: 6 }, (_, p) => ({ pop: `P${p}`, fn, ...(f === 1 && p === 2 ? { shift: { atMs: rederiveSpanMs(settings) - 12 * MIN, factor: 2 } } : {}) }))),
  // Speaks in the span's first 20 minutes only: forgotten at a slice once silent for the whole history span.
  { pop: 'GONE', fn: 'auth-check', speaks: (o) => o < 20 * MIN },
  // A function that first reports in the third slice: dealt out when it appears.
  ...Array.from({ length: 3 }, (_, p) => ({ pop: `P${p}`, fn: 'late-fn', speaks: (o: number) => o >= 35 * MIN })),
];

test('a re-derive split with a worker thread by function builds the engine one thread builds: state, order, wander, findings', async () => {
  const slices = slicesOf(fleet, END);
  const one = single(slices, END);
  const two = await split(slices, END);
  // It was split: each thread fed some functions' series.
  assert.ok(two.workerSeries >= 6 && two.jsSeries >= 6, `worker ${two.workerSeries}, JS thread ${two.jsSeries}`);
  assert.equal(two.engine.size(), one.size());
  assert.equal(one.size(), 6 * FNS.length + 3, 'the silent series is forgotten, the late function held');
  // Bit for bit, in the same order (exportState lists the engine's series in its order).
  assert.deepStrictEqual(two.engine.exportState(), one.exportState());
  // Each function's wander as one engine measures it over all of its series (none of it lost in the merge).
  const wander = [...one.wanderAt(END)];
  assert.ok(wander.some(([, w]) => w.level > 0), 'the fleet wanders, so some function has a measured wander');
  assert.deepStrictEqual([...two.engine.wanderAt(END)].sort(), wander.sort());
  // And every pass after it decides the same.
  for (let end = END; end < END + 6 * MIN; end += STEP) {
    const buckets = fleet.filter((s) => !s.speaks).map((s, i) => ({ popCode: s.pop, functionName: s.fn, startMs: end, samples: 1, mean: 100 + i, p50: (100 + i) * (s.shift ? 2 : 1) }));
    one.ingest(buckets, end + STEP);
    two.engine.ingest(buckets, end + STEP);
    assert.deepStrictEqual(two.engine.evaluate([], end + STEP), one.evaluate([], end + STEP));
  }
  assert.ok(one.evaluate([], END + 6 * MIN).raise.some((f) => f.popCode === 'P2' && f.functionName === 'auth-check'), 'the shifted series is found');
});

test('the worker as the server is built (apps/server/dist) builds the same engine', async () => {
  // The build is skipped when up to date; the server's own start builds it the same way.
  const built = spawnSync(process.execPath, [fileURLToPath(new URL('../../../../scripts/build-server.mjs', import.meta.url))], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  const url = new URL('../../dist/detector-rederive-worker.mjs', import.meta.url);
  const slices = slicesOf(fleet.slice(0, 12), END);
  const e = createDetectorEngine(settings);
  e.readFrom(END);
  const sp = startRederiveSplit(settings, END, { minSeries: 0, url });
  for (const s of slices) e.ingestColumns(sp.take(copy(s.columns), s.endMs), s.endMs);
  assert.ok((await sp.finish(e)).workerSeries > 0);
  assert.deepStrictEqual(e.exportState(), single(slices, END).exportState());
});

test('few series, or one function, are re-derived by the JS thread alone', async () => {
  const oneFunction = fleet.filter((s) => s.fn === 'ssr-render');
  const slices = slicesOf(oneFunction, END);
  const two = await split(slices, END);
  assert.equal(two.workerSeries, 0);
  assert.deepStrictEqual(two.engine.exportState(), single(slices, END).exportState());

  const e = createDetectorEngine(settings);
  e.readFrom(END);
  const sp = startRederiveSplit(settings, END, { minSeries: 100 });
  for (const s of slicesOf(fleet, END)) e.ingestColumns(sp.take(copy(s.columns), s.endMs), s.endMs);
  assert.deepStrictEqual(await sp.finish(e), { workerSeries: 0, jsSeries: e.size() });
});

test('the series order follows the engine across slices: a series forgotten and back comes in again at the end', () => {
  const slices = slicesOf([{ pop: 'A', fn: 'f' }, { pop: 'B', fn: 'f', speaks: (o) => o < 5 * MIN || o > rederiveSpanMs(settings) - 10 * MIN }, { pop: 'C', fn: 'f' }], END);
  const order = createSeriesOrder(settings);
  const e = single([], END);
  for (const s of slices) {
    order.observe(s.columns, s.endMs);
    e.ingestColumns(copy(s.columns), s.endMs);
  }
  const held = e.exportState()!.series.map((s) => `${s.popCode}\u0000${s.functionName}`);
  assert.deepStrictEqual([...order.keys()], held);
  assert.deepStrictEqual(held.map((k) => k.split('\u0000')[0]), ['A', 'C', 'B']);
});

test('takeOver refuses an engine fed to another end, and a series both engines hold', () => {
  const slices = slicesOf(fleet.slice(0, 12), END);
  const a = single(slices, END);
  const b = single(slices, END);
  assert.throws(() => a.takeOver(b.handOver()!, []), /held by both engines/);
  const c = single(slicesOf(fleet.slice(0, 12), END + STEP), END + STEP);
  assert.throws(() => a.takeOver(c.handOver()!, []), /engine handover: fed to/);
});

/** A logger whose lines the test reads. */
function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug' }, new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } }));
  return { log, lines };
}

test('the service re-derives with a worker thread on a real DuckDB file and decides what one thread decides; a worker that fails costs the split only', async (t) => {
  const store = await historyFile(t, tempDir(t, 'ewm-rederive-split-'));
  const replica = async (rederiveWorker: Parameters<typeof createDetectorService>[0]['rederiveWorker']) => {
    const clock = { now: T0 };
    const alerts = await memoryAlerts(t, () => clock.now);
    const engine = createDetectorEngine(historySettings);
    const { log, lines } = capture();
    const detector = createDetectorService({ store, alerts, leadership: createSingleLeadership('test'), settings: historySettings, engine, now: () => clock.now, log, rederiveWorker });
    const passAt = (endMs: number) => {
      clock.now = endMs + 2_500;
      return detector.runPass();
    };
    return { engine, lines, passAt };
  };
  const alone = await replica(false);
  const split = await replica({ minSeries: 0 });
  const broken = await replica({ minSeries: 0, url: new URL('./no-such-worker.mjs', import.meta.url) });
  for (let end = T0; end <= T0 + 25 * MIN; end += STEP) {
    const [a, s, b] = [await alone.passAt(end), await split.passAt(end), await broken.passAt(end)];
    assert.deepStrictEqual(outcome(s), outcome(a), `pass at +${(end - T0) / 1000} s`);
    assert.deepStrictEqual(outcome(b), outcome(a), `pass at +${(end - T0) / 1000} s (failed worker)`);
    if (end === T0) {
      assert.equal(a.rederived, 'all');
      assert.deepStrictEqual(split.engine.exportState(), alone.engine.exportState());
      assert.deepStrictEqual(broken.engine.exportState(), alone.engine.exportState());
    }
  }
  // The history's shifts were found and resolved alike (outcome above); it was split, and the broken one fell back once.
  const threads = split.lines.find((l) => l.msg === 'detector state re-derived in two threads');
  assert.ok(threads && (threads.workerSeries as number) > 0 && (threads.jsSeries as number) > 0, JSON.stringify(threads));
  assert.equal(broken.lines.filter((l) => String(l.msg).startsWith('the re-derive worker thread failed')).length, 1);
  assert.ok(!broken.lines.some((l) => l.msg === 'detector state re-derived in two threads'));
});

test('a store read that fails in the middle of a split re-derive leaves no half engine: the next pass re-derives, and decides what one thread decides', async (t) => {
  const raw = await historyFile(t, tempDir(t, 'ewm-rederive-split-fail-'));
  // The third read of the split replica's first pass fails (the store went away for a moment).
  let reads = 0;
  const failing = wrapMetricsStore(raw, (name, f) => async (...args) => {
    if (name === 'seriesBucketColumns' && ++reads === 3) throw new Error('store unavailable');
    return f(...args);
  });
  const replica = async (store: typeof raw, rederiveWorker: Parameters<typeof createDetectorService>[0]['rederiveWorker']) => {
    const clock = { now: T0 };
    const alerts = await memoryAlerts(t, () => clock.now);
    const engine = createDetectorEngine(historySettings);
    const detector = createDetectorService({ store, alerts, leadership: createSingleLeadership('test'), settings: historySettings, engine, now: () => clock.now, log: capture().log, rederiveWorker });
    const passAt = (endMs: number) => {
      clock.now = endMs + 2_500;
      return detector.runPass();
    };
    return { engine, passAt };
  };
  // One thread, its first pass 10 s later: where the split replica must be after its failed pass.
  const alone = await replica(raw, false);
  const split = await replica(failing, { minSeries: 0 });
  await assert.rejects(split.passAt(T0), /store unavailable/);
  // Half the functions' series were the worker's: what is left must not be read on from.
  assert.equal(split.engine.readUntil(), null, 'the failed split re-derive left its engine fresh');
  for (let end = T0 + STEP; end <= T0 + 5 * MIN; end += STEP) {
    const [a, s] = [await alone.passAt(end), await split.passAt(end)];
    if (end === T0 + STEP) {
      assert.equal(s.rederived, 'all');
      assert.deepStrictEqual(split.engine.exportState(), alone.engine.exportState());
    }
    assert.deepStrictEqual(outcome(s), outcome(a), `pass at +${(end - T0) / 1000} s`);
  }
});
