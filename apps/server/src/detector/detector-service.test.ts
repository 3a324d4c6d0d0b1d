/**
 * runPass against a real DuckDB metrics store and the real alert service on an
 * embedded alert store (both in memory). Leadership is the port's single-process
 * adapter, or a scripted one where the test needs another replica to lead (the
 * Redis adapter has its own services test).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { ColdStartSample } from '@edgeworker/schema';
import { createAlertService } from '../alerts/alert-service.ts';
import { createSingleLeadership, type Leadership } from '../cluster/leadership.ts';
import { createLocalBus } from '../events.ts';
import type { Notifier } from '../notify/notifier.ts';
import { createDuckDbMetricsStore } from '../stores/duckdb/duckdb-metrics-store.ts';
import { createEmbeddedAlertStore } from '../stores/embedded/embedded-alert-store.ts';
import { createDetectorService } from './detector-service.ts';
import { createDetectorEngine, detectorSettings, MAX_HOLD_STEPS, rederiveSpanMs } from './engine.ts';
import { recordingReads } from '../testing/detector-probes.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const STEP = 10_000;
const settings = detectorSettings({ recentMs: 10 * MIN, baselineMs: 60 * MIN, minChange: 0.2, resolveAfterMs: 10 * MIN });
const noChannels: Notifier = { channels: [], notify: async () => [], close: async () => {} };

/** 70 minutes of FRA/ssr-render (x3 over the last 10) and AMS/ssr-render (steady), every 10 s. */
function samples(): ColdStartSample[] {
  const out: ColdStartSample[] = [];
  for (let t = T0 - 70 * MIN, i = 0; t < T0; t += 10_000, i++) {
    const noise = 1 + 0.05 * Math.sin(i * 1.7);
    for (const [pop, factor] of [['FRA', t >= T0 - 10 * MIN ? 3 : 1], ['AMS', 1]] as const) {
      out.push({ timeNs: BigInt(t) * 1_000_000n, popCode: pop, city: pop, country: 'XX', tier: 'tier1', functionName: 'ssr-render', coldStartTimeMs: 100 * noise * factor, latitude: 0, longitude: 0 });
    }
  }
  return out;
}

/** A real in-memory DuckDB metrics store and the alert service on an embedded alert store, sharing one bus; closed after the test. */
async function stores(t: TestContext) {
  const store = await createDuckDbMetricsStore({ path: ':memory:', now: () => T0 });
  const alertStore = await createEmbeddedAlertStore({ path: ':memory:' });
  const bus = createLocalBus();
  const alerts = createAlertService({ store: alertStore, bus, notifier: noChannels, now: () => T0, log: pino({ level: 'silent' }) });
  t.after(async () => {
    await alerts.close(1000);
    await alertStore.close();
    await store.close().catch(() => undefined);
  });
  return { store, alerts, bus };
}

async function setup(t: TestContext, leadership: Leadership = createSingleLeadership('test')) {
  const { store, alerts } = await stores(t);
  await store.write(samples());
  const passes: string[] = [];
  // Half a minute past T0: the pass evaluates up to T0 (whole buckets only).
  const detector = createDetectorService({ store, alerts, leadership, settings, now: () => T0 + 30_000, log: pino({ level: 'silent' }), onPass: (r, err) => passes.push(err ? 'error' : (r?.skipped ?? 'ok')) });
  return { store, alerts, detector, passes };
}

test('a pass opens one alert for the shifted series; the next pass opens no other (and writes no refresh when nothing visible changed)', async (t) => {
  const { detector, alerts, passes } = await setup(t);
  const first = await detector.runPass();
  assert.equal(first.evaluated, 2);
  assert.deepEqual(first.created.map((a) => [a.popCode, a.severity]), [['FRA', 'critical']]);
  const second = await detector.runPass();
  assert.deepEqual(second.created, []);
  assert.equal(second.refreshed, 0);
  assert.equal(await alerts.countUnresolved(), 1);
  assert.deepEqual(passes, ['ok', 'ok']);
  assert.equal(detector.lastRun()?.ok, true);
  assert.equal(detector.lastRun()?.created, 0);
});

const followerOf = (holder: string | null): Leadership => ({ ...createSingleLeadership('b'), runAsLeader: async () => ({ ran: false, holder }), stillLeader: async () => false });

test('another replica leads: a warm follower reads and evaluates as the leader would and writes nothing; a cold one reads nothing', async (t) => {
  for (const standby of ['warm', 'cold'] as const) {
    const { store, alerts } = await stores(t);
    await store.write(samples());
    const { store: wrapped, reads } = recordingReads(store);
    const engine = createDetectorEngine(settings);
    const detector = createDetectorService({ store: wrapped, alerts, leadership: followerOf('replica-a'), settings, standby, engine, now: () => T0 + 30_000, log: pino({ level: 'silent' }) });
    const r = await detector.runPass();
    assert.equal(r.skipped, 'not_leader');
    assert.deepEqual(r.created, []);
    // FRA is x3 over its last 10 minutes: the follower found it, and left it to the leader.
    assert.equal(engine.evaluate([], T0 + 20_000).raise.length, standby === 'warm' ? 1 : 0);
    assert.equal(await alerts.countUnresolved(), 0);
    // Half a minute past T0, settled: the buckets up to T0 + 20 s.
    assert.equal(engine.readUntil(), standby === 'warm' ? T0 + 20_000 : null, standby);
    assert.equal(reads.length > 0, standby === 'warm', standby);
  }
});

test('a follower that cannot reach the lock (holder unknown: Redis down or cut off) drops its warm state and reads nothing', async (t) => {
  const { store, alerts } = await stores(t);
  await store.write(samples());
  const { store: wrapped, reads } = recordingReads(store);
  const engine = createDetectorEngine(settings);
  let holder: string | null = 'replica-a';
  const leadership: Leadership = { ...createSingleLeadership('b'), runAsLeader: async () => ({ ran: false, holder }), stillLeader: async () => false };
  const detector = createDetectorService({ store: wrapped, alerts, leadership, settings, engine, now: () => T0 + 30_000, log: pino({ level: 'silent' }) });
  await detector.runPass();
  assert.equal(engine.readUntil(), T0 + 20_000);
  holder = null;
  const before = reads.length;
  assert.equal((await detector.runPass()).skipped, 'not_leader');
  assert.equal(engine.readUntil(), null);
  assert.equal(reads.length, before);
});

test('a follower whose passes stopped for longer than the replay span re-derives; behind by less, it reads on', async (t) => {
  const { store, alerts } = await stores(t);
  await store.write(samples());
  const { store: wrapped, reads } = recordingReads(store);
  const clock = { now: 0 };
  const detector = createDetectorService({ store: wrapped, alerts, leadership: followerOf('replica-a'), settings, now: () => clock.now, log: pino({ level: 'silent' }) });
  const passAt = async (endMs: number) => {
    reads.length = 0;
    clock.now = endMs + 2_500;
    await detector.runPass();
    return reads[0]![0];
  };
  const span = rederiveSpanMs(settings);
  assert.equal(await passAt(T0 - 60 * MIN), T0 - 60 * MIN - span, 'the first pass re-derives');
  // From a few steps before where it stopped: a steady read overlaps the last steps (buckets landing in parts, engine.readFrom).
  assert.equal(await passAt(T0 - 40 * MIN), T0 - 60 * MIN - MAX_HOLD_STEPS * STEP, '20 minutes behind: reads on');
  assert.equal(await passAt(T0 - 10 * MIN + 10_000), T0 - 10 * MIN + 10_000 - span, '30 minutes and a bucket behind: re-derives');
});

test('leadership lost during the pass: the findings are not committed', async (t) => {
  const deposed: Leadership = { ...createSingleLeadership('b'), stillLeader: async () => false };
  const { detector, alerts } = await setup(t, deposed);
  const r = await detector.runPass();
  assert.equal(r.skipped, 'lost_leadership');
  assert.equal(r.evaluated, 2);
  assert.equal(await alerts.countUnresolved(), 0);
});

test('passes never overlap: one asked for while another runs waits for it', async (t) => {
  let active = 0;
  let maxActive = 0;
  const single = createSingleLeadership('a');
  const slow: Leadership = {
    ...single,
    async runAsLeader(fn) {
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        await new Promise((r) => setTimeout(r, 50));
        return await single.runAsLeader(fn);
      } finally {
        active--;
      }
    },
  };
  const { detector } = await setup(t, slow);
  const [a, b, c] = await Promise.all([detector.runPass(), detector.runPass(), detector.runPass()]);
  assert.equal(maxActive, 1);
  assert.equal([a, b, c].reduce((n, r) => n + r.created.length, 0), 1, 'the later passes see the first one\'s alert');
});

test('a store failure fails the pass, is recorded for /health, and the next pass still runs', async (t) => {
  const { detector, store, passes } = await setup(t);
  await store.close();
  await assert.rejects(detector.runPass());
  const last = detector.lastRun();
  assert.equal(last?.ok, false);
  assert.ok(last?.error && last.error.length > 0);
  await assert.rejects(detector.runPass()); // not stuck behind the failed one
  assert.deepEqual(passes, ['error', 'error']);
});

test('a backfill landing behind what the engine has read is re-derived at the next pass (with the bus), not left unseen', async (t) => {
  for (const withBus of [true, false]) {
    const { store, alerts, bus } = await stores(t);
    const detector = createDetectorService({ store, alerts, leadership: createSingleLeadership('a'), settings, ...(withBus ? { bus } : {}), now: () => T0 + 30_000, log: pino({ level: 'silent' }) });
    // The first pass finds an empty store: the engine has read up to T0 and holds nothing.
    assert.equal((await detector.runPass()).evaluated, 0);
    // Then 70 minutes of history land through the ingest path's event (as GENERATOR_BACKFILL does).
    const backfill = samples();
    await store.write(backfill);
    bus.publish({ type: 'data_landed', points: backfill.length, latestMs: T0 - 10_000, earliestMs: T0 - 70 * MIN });
    const after = await detector.runPass();
    if (withBus) {
      assert.equal(after.evaluated, 2, 'both series judged from the backfilled history');
      assert.deepEqual(after.created.map((a) => a.popCode), ['FRA']);
    } else {
      assert.equal(after.evaluated, 0, 'without the event the engine reads on from T0 and never sees the backfill');
    }
  }
});

test('samples a few seconds late (delivery jitter) do not make the engine re-derive; four minutes late (past the catch-up) do, once', async (t) => {
  const { store, alerts, bus } = await stores(t);
  await store.write(samples());
  // What each pass reads, oldest first: a re-derive starts hours back, a steady pass where the last
  // one ended; the reads of some POPs only (catching up series behind the last read) apart.
  const readFrom: number[] = [];
  const caughtUp: number[] = [];
  const counted = Object.assign(Object.create(store) as typeof store, {
    seriesBucketColumns: (range: { fromNs: bigint; toNs: bigint }, stepMs: number, opts?: { pops?: readonly string[] }) => {
      (opts?.pops ? caughtUp : readFrom).push(Number(range.fromNs / 1_000_000n));
      return store.seriesBucketColumns!(range, stepMs, opts);
    },
  });
  let now = T0 + 30_000;
  const detector = createDetectorService({ store: counted, alerts, leadership: createSingleLeadership('a'), settings, bus, now: () => now, log: pino({ level: 'silent' }) });
  await detector.runPass();
  const firstRead = Math.min(...readFrom);
  assert.ok(firstRead < T0 - 60 * MIN, 'a fresh engine re-derives');

  readFrom.length = 0;
  now += 10_000;
  bus.publish({ type: 'data_landed', points: 2, latestMs: T0, earliestMs: T0 - 5_000 });
  await detector.runPass();
  assert.deepEqual(readFrom, [T0 + 20_000 - MAX_HOLD_STEPS * STEP], 'five seconds late: read on from where the last pass ended (and its last steps again)');
  // Every series' newest bucket ended at T0, 20 s before the last read's end: the steps read again cover it, no catch-up.
  assert.deepEqual(caughtUp, []);

  readFrom.length = 0;
  now += 10_000;
  bus.publish({ type: 'data_landed', points: 2, latestMs: T0 - 3 * MIN, earliestMs: T0 - 4 * MIN });
  bus.publish({ type: 'data_landed', points: 2, latestMs: T0 - 3 * MIN, earliestMs: T0 - 4 * MIN });
  await detector.runPass();
  assert.ok(Math.min(...readFrom) < T0 - 60 * MIN, 'four minutes late: re-derived');

  readFrom.length = 0;
  now += 10_000;
  await detector.runPass();
  assert.equal(readFrom.length, 1, 'and only once');
  assert.ok(readFrom[0]! >= T0, 'then reads on');
});

test('while data of the past lands (a backfill still running), silence at the edge opens no no_data alert; once it stops landing, it does', async (t) => {
  const { store, alerts, bus } = await stores(t);
  const history = samples(); // up to T0
  await store.write(history);
  let now = T0 + 10 * MIN; // ten minutes after the newest sample: the pipeline looks silent
  const detector = createDetectorService({ store, alerts, leadership: createSingleLeadership('a'), settings: { ...settings, noDataAfterMs: 3 * MIN }, bus, now: () => now, log: pino({ level: 'silent' }) });
  bus.publish({ type: 'data_landed', points: history.length, latestMs: T0 - 10_000, earliestMs: T0 - 70 * MIN });
  const during = await detector.runPass();
  assert.deepEqual(during.created.filter((a) => a.type === 'no_data'), [], 'a backfill is landing: no silence alert');
  now += 3 * MIN + 10_000; // nothing of the past has landed for longer than the no-data threshold
  const after = await detector.runPass();
  assert.deepEqual(after.created.filter((a) => a.type === 'no_data').map((a) => [a.popCode, a.functionName]), [['*', '*']]);
});

test('stop cuts a re-derive in flight short (it leaves the engine fresh, nothing to save) and starts no pass after it; a steady pass in flight finishes', async (t) => {
  const { store, alerts } = await stores(t);
  await store.write(samples());
  // Each read answers 100 ms late (a slow InfluxDB): a re-derive's 15 slices take 1.5 s at least.
  const recorded = recordingReads(store, () => new Promise((resolve) => setTimeout(resolve, 100)));
  const engine = createDetectorEngine(settings);
  let now = T0 + 30_000;
  const detector = createDetectorService({ store: recorded.store, alerts, leadership: createSingleLeadership('a'), settings, engine, now: () => now, log: pino({ level: 'silent' }) });
  const rederive = detector.runPass();
  await new Promise((resolve) => setTimeout(resolve, 250));
  await detector.stop();
  await assert.rejects(rederive, { name: 'DetectorStopping' });
  const slices = Math.ceil(rederiveSpanMs(settings) / (15 * MIN));
  assert.ok(recorded.reads.length < slices, `cut short after ${recorded.reads.length} of ${slices} reads`);
  assert.equal(engine.readUntil(), null, 'no half re-derive is left to be saved or read on from');
  assert.equal(await detector.saveSnapshot(), null);
  await assert.rejects(detector.runPass(), { name: 'DetectorStopping' }, 'no pass starts once stopping');

  // Another service, past its re-derive: the steady pass in flight at the stop completes.
  const steady = createDetectorService({ store: recorded.store, alerts, leadership: createSingleLeadership('b'), settings, now: () => now, log: pino({ level: 'silent' }) });
  await steady.runPass();
  now += 10_000;
  const reads = recorded.reads.length;
  const inFlight = steady.runPass();
  await new Promise((resolve) => setTimeout(resolve, 50)); // its read is answering
  assert.equal(recorded.reads.length, reads + 1);
  await steady.stop();
  assert.equal((await inFlight).evaluated, 2);
});

test('an early look opens the alert on the bucket still filling, a step before the pass after it closes; not while a pass is queued, nor on a follower', async (t) => {
  const { store, alerts } = await stores(t);
  const control = await stores(t);
  // Steady for 70 minutes up to T0, then FRA 3x slower from T0 (one sample every 10 s, at the bucket's start).
  const sample = (tMs: number, pop: string, factor: number): ColdStartSample => ({ timeNs: BigInt(tMs) * 1_000_000n, popCode: pop, city: pop, country: 'XX', tier: 'tier1', functionName: 'ssr-render', coldStartTimeMs: 100 * (1 + 0.05 * Math.sin(tMs / 7_000)) * factor, latitude: 0, longitude: 0 });
  const history: ColdStartSample[] = [];
  for (let tMs = T0 - 70 * MIN; tMs < T0; tMs += STEP) history.push(sample(tMs, 'FRA', 1), sample(tMs, 'AMS', 1));
  await store.write(history);
  let clock = T0 + 2_000;
  const looks: (string | null)[] = [];
  const looking = createDetectorService({ store, alerts, leadership: createSingleLeadership('a'), settings, now: () => clock, log: pino({ level: 'silent' }), onLook: (r) => looks.push(r ? `${r.looked}` : null) });
  // The same store and passes, its own alerts, no looks: when the passes alone open it.
  const passesOnly = createDetectorService({ store, alerts: control.alerts, leadership: createSingleLeadership('b'), settings, now: () => clock, log: pino({ level: 'silent' }) });
  await looking.runPass();
  await passesOnly.runPass();
  let lookOpened: number | undefined;
  let passOpened: number | undefined;
  for (let bucket = T0; bucket < T0 + 5 * MIN && passOpened === undefined; bucket += STEP) {
    await store.write([sample(bucket, 'FRA', 3), sample(bucket, 'AMS', 1)]);
    // Three seconds into the bucket: its sample has landed.
    clock = bucket + 3_000;
    const look = await looking.look();
    assert.ok(look, 'the leader of the last pass looks');
    assert.equal(look.looked, 2, 'both series have their bucket still filling');
    if (look.created.length > 0) {
      assert.equal(lookOpened, undefined, 'opened once');
      assert.deepEqual(look.created.map((a) => [a.popCode, a.functionName, a.type]), [['FRA', 'ssr-render', 'regression']]);
      lookOpened = bucket;
    }
    // Two seconds after the bucket closed: the passes.
    clock = bucket + STEP + 2_000;
    const pass = await looking.runPass();
    if (lookOpened !== undefined) assert.deepEqual(pass.created, [], 'the pass finds it open');
    if ((await passesOnly.runPass()).created.length > 0) passOpened = bucket;
  }
  assert.ok(lookOpened !== undefined && passOpened !== undefined, 'both opened it');
  // The pass after that bucket closed opened it for the other service: the look, as the bucket landed.
  assert.equal(lookOpened, passOpened);
  assert.equal(await alerts.countUnresolved(), 1);
  assert.ok(looks.length > 0 && looks.every((l) => l === '2'), 'each look reported');

  // A pass queued: no look (it would judge what the pass is about to feed).
  const queued = looking.runPass();
  assert.equal(await looking.look(), null);
  await queued;
  // Another replica leads: a follower does not look.
  const follower = createDetectorService({ store, alerts: control.alerts, leadership: followerOf('a'), settings, now: () => clock, log: pino({ level: 'silent' }) });
  await follower.runPass();
  assert.equal(await follower.look(), null);
});
