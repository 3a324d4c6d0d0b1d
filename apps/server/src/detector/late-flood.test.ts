/**
 * Late data of many POPs, and late data that keeps coming (late-rederives.ts), through the real
 * service on real DuckDB files:
 *   (a) late data naming more than 64 POPs (fewer than PARTIAL_MAX_SHARE of those held) re-derives
 *       only their series, bit for bit where a full re-derive puts them, the others untouched;
 *   (b) a flood of late announcements every pass for 20 minutes costs the budget's full re-derives
 *       (2, then one per 8 minutes), not one a minute, and warns once per wait, not every pass;
 *   (c) POPs owed while the budget defers their re-derive are not lost: their late data shows in
 *       the state once it runs, exactly as a full re-derive has it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { FUNCTIONS, POPS } from '@edgeworker/pops';
import { createLatencyModel, type Injection } from '@edgeworker/generator';
import type { ColdStartSample } from '@edgeworker/schema';
import { createSingleLeadership } from '../cluster/leadership.ts';
import { createLocalBus, type Bus } from '../events.ts';
import type { MetricsStore } from '../stores/metrics-store.ts';
import { createDuckDbMetricsStore } from '../stores/duckdb/duckdb-metrics-store.ts';
import { createDetectorService } from './detector-service.ts';
import { createDetectorEngine, rederiveSpanMs, type DetectorEngine, type SeriesStateExport } from './engine.ts';
import { BUDGET_REFILL_MS } from './late-rederives.ts';
import { historyFile, MIN, samples, settings, STEP, T0 } from '../testing/detector-history.ts';
import { capturedLog, recordingReads } from '../testing/detector-probes.ts';
import { tempDir } from '../stores/duckdb/test-store.ts';
import { memoryAlerts } from '../testing/detector-alerts.ts';

/** One detector over the store, with its own engine (to compare states), alert store and clock. */
async function replica(t: TestContext, store: MetricsStore, opts: { bus?: Bus; log?: Logger } = {}) {
  const clock = { now: T0 };
  const alerts = await memoryAlerts(t, () => clock.now);
  const recorded = recordingReads(store);
  const engine = createDetectorEngine(settings);
  const detector = createDetectorService({ store: recorded.store, alerts, leadership: createSingleLeadership('test'), settings, engine, now: () => clock.now, log: opts.log ?? pino({ level: 'silent' }), ...(opts.bus ? { bus: opts.bus } : {}) });
  /** A pass whose end is `endMs` (the service settles 2 s). */
  const passAt = (endMs: number) => {
    clock.now = endMs + 2_500;
    return detector.runPass();
  };
  return { detector, engine, reads: recorded.reads, passAt };
}

function stateOf(engine: DetectorEngine): Array<[string, SeriesStateExport]> {
  return engine.exportState()!.series.map((s) => [`${s.popCode}/${s.functionName}`, s]);
}
const ofPops = (state: Array<[string, SeriesStateExport]>, pops: ReadonlySet<string>, keep = true) => state.filter(([k]) => pops.has(k.split('/')[0]!) === keep);

/** `pops` catalogue POPs x 2 functions, one sample per 10 s from the generator's model; `slow` of them 2.5x slower over `slowFor`. */
function manyPopSamples(pops: number, fromMs: number, toMs: number, slow: { codes: ReadonlySet<string>; fromMs: number; toMs: number } | null, seed: number): ColdStartSample[] {
  const fns = FUNCTIONS.slice(0, 2);
  const injections: Injection[] = slow ? [{ pops: [...slow.codes], functions: fns.map((f) => f.name), factor: 2.5, startMs: slow.fromMs, durationMs: slow.toMs - slow.fromMs }] : [];
  const model = createLatencyModel({ seed, injections, spikeProbability: 0.002 });
  const out: ColdStartSample[] = [];
  for (let t = fromMs; t < toMs; t += STEP) {
    for (const pop of POPS.slice(0, pops)) {
      if (slow && !slow.codes.has(pop.code)) continue;
      for (const fn of fns) out.push({ timeNs: BigInt(t) * 1_000_000n, popCode: pop.code, city: pop.city, country: pop.country, tier: pop.tier, functionName: fn.name, coldStartTimeMs: model.sample(pop, fn, t), latitude: pop.lat, longitude: pop.lon });
    }
  }
  return out;
}

test('late data naming more than 64 POPs re-derives only theirs, bit for bit as a full re-derive leaves them; the others keep their long-running state', async (t) => {
  const HELD = 120;
  const store = await createDuckDbMetricsStore({ path: join(tempDir(t, 'ewm-late-flood-'), 'metrics.duckdb'), now: () => T0 });
  t.after(() => store.close().catch(() => undefined));
  await store.write(manyPopSamples(HELD, T0 - 230 * MIN, T0 + 5 * MIN, null, 7));
  const bus = createLocalBus();
  const a = await replica(t, store, { bus });
  const untold = await replica(t, store);
  for (let end = T0 - 10 * MIN; end <= T0; end += STEP) for (const r of [a, untold]) await r.passAt(end);

  // 70 of the 120 POPs (0.58 of them) replayed by their agents, 2.5x slower 25-5 min back.
  const late = new Set(POPS.slice(0, HELD).filter((_, i) => i % 12 < 7).map((p) => p.code));
  assert.equal(late.size, 70);
  await store.write(manyPopSamples(HELD, T0 - 25 * MIN, T0 - 5 * MIN, { codes: late, fromMs: T0 - 25 * MIN, toMs: T0 - 5 * MIN }, 9));
  // In two announcements (two batches), as an ingest of per-region batches would make them.
  const codes = [...late];
  for (const part of [codes.slice(0, 40), codes.slice(40)]) bus.publish({ type: 'data_landed', points: 1, earliestMs: T0 - 25 * MIN, latestMs: T0 - 5 * MIN - STEP, pops: part });
  const end = T0 + STEP;
  const before = a.reads.length;
  const r = await a.passAt(end);
  await untold.passAt(end);
  const full = await replica(t, store);
  assert.equal((await full.passAt(end)).rederived, 'all');

  assert.deepEqual(r.rederived, { pops: [...late].sort() }, 'their series only, not every series');
  assert.equal(a.reads.filter(([from]) => from === end - rederiveSpanMs(settings)).length, 1, 'the span read once (one engine for the 70 POPs), not once per group');
  assert.ok(a.reads.length - before > 2);
  const sa = stateOf(a.engine);
  assert.equal(sa.length, HELD * 2);
  assert.equal(ofPops(sa, late).length, 140);
  assert.deepEqual(ofPops(sa, late), ofPops(stateOf(full.engine), late), 'the 70 POPs: exactly the full re-derive');
  assert.notDeepEqual(ofPops(sa, late), ofPops(stateOf(untold.engine), late), 'the late data is in them');
  assert.deepEqual(ofPops(sa, late, false), ofPops(stateOf(untold.engine), late, false), 'the other 50: their long-running state');
  assert.deepEqual(sa.map(([k]) => k), stateOf(untold.engine).map(([k]) => k), 'the evaluation order kept');
});

test('late data every pass for 20 minutes costs the budget\'s full re-derives (two, then one per 8 minutes), and one warning per wait', async (t) => {
  const store = await historyFile(t, tempDir(t, 'ewm-late-flood-'));
  const bus = createLocalBus();
  const logged = capturedLog();
  const a = await replica(t, store, { bus, log: logged.log });
  await a.passAt(T0);
  const spanFrom = (end: number) => end - rederiveSpanMs(settings);
  const fulls: number[] = [];
  const deferred: number[] = [];
  for (let end = T0 + STEP; end <= T0 + 20 * MIN; end += STEP) {
    // A client sending old timestamps of POPs it does not name (or too many): every pass.
    bus.publish({ type: 'data_landed', points: 1, earliestMs: T0 - 30 * MIN, latestMs: T0 - 20 * MIN });
    const before = a.reads.length;
    const r = await a.passAt(end);
    const full = a.reads.slice(before).some(([from]) => from === spanFrom(end));
    assert.equal(full, r.rederived === 'all', `${(end - T0) / STEP}: the reads say what the answer says`);
    if (full) fulls.push((end - T0) / MIN);
    if (r.rederiveDeferred) deferred.push(end);
    assert.equal(a.detector.lastRun()?.ok, true);
  }
  // Once a minute before (20 of them); now the burst of two, then whenever the budget holds one (8 minutes).
  assert.deepEqual(fulls, [STEP / MIN, 1 + STEP / MIN, 8 + STEP / MIN, 16 + STEP / MIN], `full re-derives at minutes ${fulls.map((m) => m.toFixed(2))}`);
  assert.equal(BUDGET_REFILL_MS, 8 * MIN);
  // Deferred at every pass of the waits past the minute since the last one, and the detector kept passing.
  assert.ok(deferred.length > 70, `${deferred.length} deferred passes`);
  const warnings = logged.lines.filter((l) => l.startsWith('late data keeps landing behind the detector'));
  assert.equal(warnings.length, 3, 'one warning per wait, not one per deferred pass');
  assert.equal(logged.lines.filter((l) => l.startsWith('the late-data re-derive the budget deferred runs now')).length, 2);
  const state = a.detector.lateRederive();
  assert.equal(state.owed, 'all');
  assert.ok(state.deferredUntilMs !== null && state.deferredUntilMs > T0 + 20 * MIN);
});

test('POPs owed while the budget defers their re-derive are kept: their late data shows once it runs, as a full re-derive has it', async (t) => {
  const store = await historyFile(t, tempDir(t, 'ewm-late-flood-'));
  const bus = createLocalBus();
  const a = await replica(t, store, { bus });
  // Told of the same backfills, never of FRA's late data: where a would be without it.
  const twinBus = createLocalBus();
  const untold = await replica(t, store, { bus: twinBus });
  for (let end = T0 - 20 * MIN; end <= T0; end += STEP) for (const r of [a, untold]) await r.passAt(end);
  const backfill = { type: 'data_landed' as const, points: 1, earliestMs: T0 - 30 * MIN, latestMs: T0 - 20 * MIN };
  // Two announcements without a list a minute apart spend the burst.
  bus.publish(backfill);
  twinBus.publish(backfill);
  assert.equal((await a.passAt(T0 + STEP)).rederived, 'all');
  assert.equal((await untold.passAt(T0 + STEP)).rederived, 'all');
  let end = T0 + 2 * STEP;
  for (; end < T0 + MIN + STEP; end += STEP) for (const r of [a, untold]) await r.passAt(end);
  bus.publish(backfill);
  twinBus.publish(backfill);
  assert.equal((await a.passAt(end)).rederived, 'all');
  assert.equal((await untold.passAt(end)).rederived, 'all');

  // FRA replayed 2.5x slower 25-5 min back, announced with AMS (half of the 4 POPs held: 0.5 of a full re-derive).
  const late = samples(T0 - 25 * MIN, T0 - 5 * MIN, [{ pops: ['FRA'], functions: FUNCTIONS.map((f) => f.name), factor: 2.5, startMs: T0 - 25 * MIN, durationMs: 20 * MIN }], 9).filter((s) => s.popCode === 'FRA');
  await store.write(late);
  bus.publish({ ...backfill, earliestMs: T0 - 25 * MIN, latestMs: T0 - 5 * MIN - STEP, pops: ['FRA', 'AMS'] });
  const owed = new Set(['FRA', 'AMS']);
  let deferredPasses = 0;
  let ran: number | null = null;
  for (end += STEP; end <= T0 + 10 * MIN && ran === null; end += STEP) {
    const r = await a.passAt(end);
    await untold.passAt(end);
    if (r.rederiveDeferred) {
      deferredPasses++;
      assert.deepEqual(r.rederiveDeferred.owed, 2);
      // Meanwhile the detector evaluates on what it has: FRA without its late data, as the twin never told of it.
      assert.deepEqual(stateOf(a.engine), stateOf(untold.engine));
    }
    if (r.rederived) {
      assert.deepEqual(r.rederived, { pops: ['AMS', 'FRA'] });
      ran = end;
    }
  }
  assert.ok(deferredPasses >= 12, `deferred ${deferredPasses} passes`);
  assert.ok(ran !== null, 'the owed re-derive ran once the budget held it');
  // Budget 0.125 after the second full re-derive, 0.5 charged: 3 minutes of refill after it.
  assert.equal(ran, T0 + MIN + STEP + 3 * MIN);
  const full = await replica(t, store);
  await full.passAt(ran);
  assert.deepEqual(ofPops(stateOf(a.engine), owed), ofPops(stateOf(full.engine), owed), 'FRA and AMS: exactly the full re-derive, the late data in');
  assert.notDeepEqual(ofPops(stateOf(a.engine), owed), ofPops(stateOf(untold.engine), owed));
  assert.equal(a.detector.lateRederive().owed, null);
});
