/**
 * Late data that names its POPs (`data_landed` with `pops`: an agent of one POP replaying after an
 * outage) re-derives only those POPs' series, through the real service on a real DuckDB file:
 *   (a) the next pass reads the re-derive span of that POP alone (and the 10 s that closed, for the rest);
 *   (b) that POP's series end in exactly the state a full re-derive to the same end gives;
 *   (c) every other series keeps its long-running state, as if no late data had landed;
 *   (d) an announcement without a list, or more POPs than are worth re-deriving one by one, still re-derives all;
 * and a warm follower does the same as the leader.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { FUNCTIONS } from '@edgeworker/pops';
import { createSingleLeadership, type Leadership } from '../cluster/leadership.ts';
import { createLocalBus, LANDED_POPS_MAX, type Bus } from '../events.ts';
import { wrapMetricsStore, type MetricsStore, type SeriesBucketsOptions, type TimeRange } from '../stores/metrics-store.ts';
import { createDetectorService } from './detector-service.ts';
import { createDetectorEngine, MAX_HOLD_STEPS, rederiveSpanMs, type DetectorEngine, type SeriesStateExport } from './engine.ts';
import { historyFile, MIN, samples, settings, STEP, T0 } from '../testing/detector-history.ts';
import { tempDir } from '../stores/duckdb/test-store.ts';
import { memoryAlerts } from '../testing/detector-alerts.ts';

const LATE = 'FRA';

/** One replica's detector over the shared file, with its own engine (to compare states), alert store and clock. */
async function replica(t: TestContext, store: MetricsStore, opts: { bus?: Bus; leadership?: Leadership } = {}) {
  const clock = { now: T0 };
  const alerts = await memoryAlerts(t, () => clock.now);
  // Every read the detector makes, with its POP filter.
  const reads: Array<{ range: TimeRange; pops?: readonly string[] }> = [];
  const recorded = wrapMetricsStore(store, (call, fn) => async (...args) => {
    if (call === 'seriesBucketColumns' || call === 'seriesBuckets') reads.push({ range: args[0] as TimeRange, pops: (args[2] as SeriesBucketsOptions | undefined)?.pops });
    return fn(...args);
  });
  const engine = createDetectorEngine(settings);
  const detector = createDetectorService({ store: recorded, alerts, leadership: opts.leadership ?? createSingleLeadership('test'), settings, engine, now: () => clock.now, log: pino({ level: 'silent' }), ...(opts.bus ? { bus: opts.bus } : {}) });
  /** A pass whose end is `endMs` (the service settles 2 s). */
  const passAt = (endMs: number) => {
    clock.now = endMs + 2_500;
    return detector.runPass();
  };
  return { detector, engine, reads, passAt };
}

/** Series state by series, in the engine's order. */
function stateOf(engine: DetectorEngine): Array<[string, SeriesStateExport]> {
  return engine.exportState()!.series.map((s) => [`${s.popCode}/${s.functionName}`, s]);
}
const of = (state: Array<[string, SeriesStateExport]>, pop: string, keep = true) => state.filter(([k]) => k.startsWith(`${pop}/`) === keep);

/** FRA written again over [T0 - 25 min, T0 - 5 min), 2.5x slower: an agent's replay, behind what the detector read. */
async function writeLate(store: MetricsStore) {
  const late = samples(T0 - 25 * MIN, T0 - 5 * MIN, [{ pops: [LATE], functions: FUNCTIONS.map((f) => f.name), factor: 2.5, startMs: T0 - 25 * MIN, durationMs: 20 * MIN }], 9).filter((s) => s.popCode === LATE);
  await store.write(late);
  return { type: 'data_landed' as const, points: late.length, latestMs: T0 - 5 * MIN - STEP, earliestMs: T0 - 25 * MIN };
}

/** Passes every 10 s over [fromMs, toMs], each replica in turn. */
async function passes(rs: Array<{ passAt: (end: number) => Promise<unknown> }>, fromMs: number, toMs: number) {
  for (let end = fromMs; end <= toMs; end += STEP) for (const r of rs) await r.passAt(end);
}

test('late data naming one POP re-derives only its series: they end as a full re-derive leaves them, the others keep their long-running state', async (t) => {
  const store = await historyFile(t, tempDir(t, 'ewm-late-pops-'));
  const busA = createLocalBus();
  const busF = createLocalBus();
  const a = await replica(t, store, { bus: busA });
  // A warm follower told of the same late data (the Redis bus carries it to every replica).
  const follower: Leadership = { ...createSingleLeadership('f'), runAsLeader: async () => ({ ran: false, holder: 'a' }), stillLeader: async () => false };
  const f = await replica(t, store, { bus: busF, leadership: follower });
  // Running as long, never told: where every series would be without the late data.
  const untold = await replica(t, store);
  await passes([a, f, untold], T0 - 30 * MIN, T0);

  const landed = await writeLate(store);
  busA.publish({ ...landed, pops: [LATE] });
  busF.publish({ ...landed, pops: [LATE] });
  const end = T0 + STEP;
  const readsBefore = a.reads.length;
  const ra = await a.passAt(end);
  const rf = await f.passAt(end);
  await untold.passAt(end);
  // A fresh engine's first pass to the same end: the full re-derive, the reference for the late POP.
  const full = await replica(t, store);
  assert.equal((await full.passAt(end)).rederived, 'all');

  // (a) Only that POP re-derived: its span read alone, the rest read on from the previous pass.
  assert.deepEqual(ra.rederived, { pops: [LATE] });
  const reads = a.reads.slice(readsBefore);
  const span = BigInt(end - rederiveSpanMs(settings)) * 1_000_000n;
  assert.deepEqual(reads.filter((r) => !r.pops).map((r) => [r.range.fromNs, r.range.toNs]), [[BigInt(T0 - MAX_HOLD_STEPS * STEP) * 1_000_000n, BigInt(end) * 1_000_000n]], 'the other series: the 10 s that closed (and the last steps, read again)');
  const filtered = reads.filter((r) => r.pops);
  assert.ok(filtered.every((r) => r.pops!.length === 1 && r.pops![0] === LATE));
  assert.equal(filtered[0]!.range.fromNs, span, 'the late POP: the whole re-derive span');
  assert.equal(filtered.at(-1)!.range.toNs, BigInt(end) * 1_000_000n);

  const sa = stateOf(a.engine);
  const sFull = stateOf(full.engine);
  const sUntold = stateOf(untold.engine);
  // (b) The late POP's series, bit for bit what the full re-derive holds (and not what they held: the late data is in them).
  assert.equal(of(sa, LATE).length, 3);
  assert.deepEqual(of(sa, LATE), of(sFull, LATE));
  assert.notDeepEqual(of(sa, LATE), of(sUntold, LATE), 'the late data changed them');
  // (c) Every other series exactly as the replica never told holds it (a full re-derive would not: it forgets their long runs).
  assert.deepEqual(of(sa, LATE, false), of(sUntold, LATE, false));
  assert.notDeepEqual(of(sa, LATE, false), of(sFull, LATE, false), 'a full re-derive would have moved them');
  // The order the series are judged in is kept.
  assert.deepEqual(sa.map(([k]) => k), sUntold.map(([k]) => k));

  // The warm follower did the same.
  assert.equal(rf.skipped, 'not_leader');
  assert.deepEqual(rf.rederived, { pops: [LATE] });
  assert.deepEqual(stateOf(f.engine), sa);

  // And reads on from there: the next pass re-derives nothing.
  const next = await a.passAt(end + STEP);
  assert.equal(next.rederived, undefined);
  assert.equal(a.detector.lastRun()?.rederived, undefined);
});

test('late data without a POP list, or naming more POPs than LANDED_POPS_MAX together, still re-derives every series', async (t) => {
  const store = await historyFile(t, tempDir(t, 'ewm-late-pops-'));
  const bus = createLocalBus();
  const a = await replica(t, store, { bus });
  await passes([a], T0 - 20 * MIN, T0);
  const landed = await writeLate(store);

  // (d) No list: another producer, an older replica.
  bus.publish(landed);
  const before = a.reads.length;
  const r1 = await a.passAt(T0 + STEP);
  assert.equal(r1.rederived, 'all');
  assert.ok(a.reads.slice(before).every((r) => !r.pops), 'no POP-filtered read');
  assert.equal(a.reads[before]!.range.fromNs, BigInt(T0 + STEP - rederiveSpanMs(settings)) * 1_000_000n, 'the whole span, every series');
  assert.deepEqual(a.detector.lastRun()?.rederived, 'all');

  // Named, but more POPs than the cap over two announcements (a minute later: one re-derive a minute).
  await passes([a], T0 + 2 * STEP, T0 + MIN + STEP);
  bus.publish({ ...landed, pops: [LATE] });
  bus.publish({ ...landed, pops: Array.from({ length: LANDED_POPS_MAX }, (_, i) => `X${i}`) });
  assert.equal((await a.passAt(T0 + MIN + 2 * STEP)).rederived, 'all');

  // Within the cap: those POPs only (a few minutes on: two full re-derives took the budget's burst, late-flood.test.ts).
  await passes([a], T0 + MIN + 3 * STEP, T0 + 5 * MIN + 2 * STEP);
  bus.publish({ ...landed, pops: [LATE] });
  bus.publish({ ...landed, pops: ['AMS', LATE] });
  assert.deepEqual((await a.passAt(T0 + 5 * MIN + 3 * STEP)).rederived, { pops: ['AMS', LATE] });
});

test('late data naming more POPs than one read takes (read slice by slice) also leaves their series as a full re-derive does', async (t) => {
  const store = await historyFile(t, tempDir(t, 'ewm-late-pops-'));
  const bus = createLocalBus();
  const a = await replica(t, store, { bus });
  await passes([a], T0 - 20 * MIN, T0);
  const landed = await writeLate(store);
  // FRA and AMS among POPs the store has never seen (announced anyway: a list names what a batch held).
  const pops = [LATE, 'AMS', ...Array.from({ length: 10 }, (_, i) => `X${i}`)];
  bus.publish({ ...landed, pops });
  const before = a.reads.length;
  const end = T0 + STEP;
  assert.deepEqual((await a.passAt(end)).rederived, { pops: [...pops].sort() });
  assert.ok(a.reads.slice(before).filter((r) => r.pops).length > 1, 'read in slices');
  const full = await replica(t, store);
  await full.passAt(end);
  for (const pop of [LATE, 'AMS']) assert.deepEqual(of(stateOf(a.engine), pop), of(stateOf(full.engine), pop), pop);
  assert.equal(stateOf(a.engine).length, 12, 'no series for the POPs without data');
});
