/**
 * The detector's restart from a snapshot, through the real service on a real DuckDB file: a
 * restarted leader that starts from the snapshot opens and resolves exactly what a fresh
 * re-derive would, and falls back to the re-derive whenever the snapshot is not safe to use
 * (too old, late data behind it, not written by the leader). Then the app's own wiring: the
 * file written at close, taken at the next start, a damaged one refused with a warning.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { FUNCTIONS } from '@edgeworker/pops';
import { createAlertService } from '../alerts/alert-service.ts';
import { buildApp } from '../app.ts';
import { createSingleLeadership, type Leadership } from '../cluster/leadership.ts';
import { loadConfig } from '../config.ts';
import { createLocalBus, type Bus } from '../events.ts';
import type { MetricsStore } from '../stores/metrics-store.ts';
import { createDetectorService, snapshotMaxAgeMs, type PassResult } from './detector-service.ts';
import { takeEngineSnapshot } from './engine-snapshot.ts';
import { historyFile, MIN, outcome, samples, SERIES, settings, STEP, T0 } from '../testing/detector-history.ts';
import { capturedLog } from '../testing/detector-probes.ts';
import { tempDir } from '../stores/duckdb/test-store.ts';
import { memoryAlerts } from '../testing/detector-alerts.ts';

/** One process's alert store, and a detector service over the shared metrics file with a clock it drives. */
async function process_(t: TestContext, store: MetricsStore, opts: { snapshot?: Parameters<typeof createDetectorService>[0]['snapshot']; bus?: Bus; leadership?: Leadership; alerts?: ReturnType<typeof createAlertService> } = {}) {
  const clock = { now: T0 };
  const alerts = opts.alerts ?? (await memoryAlerts(t, () => clock.now));
  const { log, lines } = capturedLog();
  const detector = createDetectorService({ store, alerts, leadership: opts.leadership ?? createSingleLeadership('test'), settings, now: () => clock.now, log, ...(opts.bus ? { bus: opts.bus } : {}), ...(opts.snapshot ? { snapshot: opts.snapshot } : {}) });
  /** A pass whose end is `endMs` (the service settles 2 s). */
  const passAt = (endMs: number) => {
    clock.now = endMs + 2_500;
    return detector.runPass();
  };
  return { detector, alerts, lines, passAt, clock };
}

/** Passes every 10 s over [fromMs, toMs]. */
async function passes(p: { passAt: (end: number) => Promise<PassResult> }, fromMs: number, toMs: number) {
  const out: Array<ReturnType<typeof outcome>> = [];
  for (let end = fromMs; end <= toMs; end += STEP) out.push(outcome(await p.passAt(end)));
  return out;
}

/**
 * The life before the restart, twice over (each into its own alert store, so the two processes
 * after it start from the same alerts): 30 minutes of passes up to T0. The first saves its snapshot.
 */
async function before(t: TestContext, store: MetricsStore, path: string) {
  const a = await process_(t, store, { snapshot: { path, taken: null } });
  const b = await process_(t, store);
  const ra = await passes(a, T0 - 30 * MIN, T0);
  const rb = await passes(b, T0 - 30 * MIN, T0);
  assert.deepEqual(ra, rb);
  const written = await a.detector.saveSnapshot();
  assert.ok(written && written.series === SERIES.length && existsSync(path));
  return { withSnapshot: a.alerts, fresh: b.alerts, opened: ra.flatMap((r) => r.created) };
}

test('restarted from its snapshot, the detector opens and resolves exactly what a fresh re-derive does, pass after pass', async (t) => {
  const dir = tempDir(t, 'ewm-detector-snapshot-');
  const store = await historyFile(t, dir);
  const path = join(dir, 'detector-snapshot.bin');
  const { withSnapshot, fresh, opened } = await before(t, store, path);
  assert.ok(opened.length > 0, 'an alert open at the restart');
  // Down for 3 minutes. The new process takes the file at start.
  const taken = await takeEngineSnapshot(path, settings);
  assert.ok(taken?.ok);
  const restored = await process_(t, store, { snapshot: { path, taken }, alerts: withSnapshot });
  const rederived = await process_(t, store, { alerts: fresh });
  const a = await passes(restored, T0 + 3 * MIN, T0 + 38 * MIN);
  const b = await passes(rederived, T0 + 3 * MIN, T0 + 38 * MIN);
  assert.ok(restored.lines.includes('detector state restored from its snapshot; reading on from where it stopped'), restored.lines.join('\n'));
  assert.deepEqual(a, b);
  assert.ok(a.some((r) => r.created.length > 0), 'opened after the restart');
  assert.ok(a.some((r) => r.resolved.length > 0), 'resolved after the restart');
});

test('down for longer than the replay span (35 min), still within the catch-up limit: it reads on from the snapshot, and opens and resolves what a fresh re-derive does', async (t) => {
  const dir = tempDir(t, 'ewm-detector-snapshot-');
  const store = await historyFile(t, dir);
  const path = join(dir, 'detector-snapshot.bin');
  const { withSnapshot, fresh } = await before(t, store, path);
  // While it is down, CDG slows down (what others write into a shared store meanwhile).
  const cdg = { pops: ['CDG'], functions: FUNCTIONS.map((f) => f.name), factor: 4, startMs: T0 + 20 * MIN, durationMs: 20 * MIN };
  await store.write(samples(T0 + 20 * MIN, T0 + 40 * MIN, [cdg], 9));
  const taken = await takeEngineSnapshot(path, settings);
  assert.ok(35 * MIN > settings.replayMs && 35 * MIN <= snapshotMaxAgeMs(settings));
  const restored = await process_(t, store, { snapshot: { path, taken }, alerts: withSnapshot });
  const rederived = await process_(t, store, { alerts: fresh });
  // The history file ends at T0 + 40 min.
  const a = await passes(restored, T0 + 35 * MIN, T0 + 40 * MIN);
  const b = await passes(rederived, T0 + 35 * MIN, T0 + 40 * MIN);
  assert.ok(restored.lines.includes('detector state restored from its snapshot; reading on from where it stopped'), restored.lines.join('\n'));
  assert.deepEqual(a, b);
  assert.ok(a[0]!.created.some((c) => c[1] === 'CDG'), 'what happened while it was down is found at the first pass');
});

test('a snapshot older than its catch-up limit (61 min) is not used: the first pass re-derives', async (t) => {
  const dir = tempDir(t, 'ewm-detector-snapshot-');
  const store = await historyFile(t, dir);
  const path = join(dir, 'detector-snapshot.bin');
  const { withSnapshot, fresh } = await before(t, store, path);
  const taken = await takeEngineSnapshot(path, settings);
  // Down for 61 minutes: the snapshot's fedUntil (T0) is more than snapshotMaxAgeMs (60 min) behind the pass.
  const restored = await process_(t, store, { snapshot: { path, taken }, alerts: withSnapshot });
  const rederived = await process_(t, store, { alerts: fresh });
  const end = T0 + 61 * MIN;
  assert.deepEqual(outcome(await restored.passAt(end)), outcome(await rederived.passAt(end)));
  assert.ok(restored.lines.some((l) => l.startsWith('detector snapshot not used: older than its catch-up limit')), restored.lines.join('\n'));
  assert.ok(!restored.lines.some((l) => l.startsWith('detector state restored')));
});

test('late data landing behind the snapshot before the first pass (a backfill at start, the InfluxDB keeper) makes that pass re-derive', async (t) => {
  const dir = tempDir(t, 'ewm-detector-snapshot-');
  const store = await historyFile(t, dir);
  const path = join(dir, 'detector-snapshot.bin');
  const { withSnapshot, fresh } = await before(t, store, path);
  const taken = await takeEngineSnapshot(path, settings);
  const bus = createLocalBus();
  const restored = await process_(t, store, { snapshot: { path, taken }, alerts: withSnapshot, bus });
  const rederived = await process_(t, store, { alerts: fresh });
  // While it was down, 20 minutes behind its fedUntil were written again, slower: a writer's replay.
  const late = samples(T0 - 25 * MIN, T0 - 5 * MIN, [{ pops: ['CDG'], functions: FUNCTIONS.map((f) => f.name), factor: 2.5, startMs: T0 - 25 * MIN, durationMs: 20 * MIN }], 9);
  await store.write(late);
  bus.publish({ type: 'data_landed', points: late.length, latestMs: T0 - 5 * MIN - STEP, earliestMs: T0 - 25 * MIN });
  const a = await passes(restored, T0 + 2 * MIN, T0 + 6 * MIN);
  const b = await passes(rederived, T0 + 2 * MIN, T0 + 6 * MIN);
  assert.ok(restored.lines.some((l) => l.startsWith('samples landed behind what the detector had read')), restored.lines.join('\n'));
  assert.deepEqual(a, b);
});

test('only the leader writes a snapshot: not a replica that does not lead, not one deposed since its last pass', async (t) => {
  const dir = tempDir(t, 'ewm-detector-snapshot-');
  const store = await historyFile(t, dir);
  const path = join(dir, 'detector-snapshot.bin');
  const follower: Leadership = { ...createSingleLeadership('b'), runAsLeader: async () => ({ ran: false, holder: 'a' }), stillLeader: async () => false };
  const f = await process_(t, store, { snapshot: { path, taken: null }, leadership: follower });
  assert.equal((await f.passAt(T0)).skipped, 'not_leader');
  assert.equal(await f.detector.saveSnapshot(), null);
  assert.equal(existsSync(path), false);
  // Led for its passes, then lost the lock (expired, another replica took it) before stopping.
  let leading = true;
  const deposed: Leadership = { ...createSingleLeadership('c'), stillLeader: async () => leading };
  const d = await process_(t, store, { snapshot: { path, taken: null }, leadership: deposed });
  await d.passAt(T0);
  leading = false;
  assert.equal(await d.detector.saveSnapshot(), null);
  assert.equal(existsSync(path), false);
  assert.ok(d.lines.includes('not the detector leader any more: no snapshot written'));
  leading = true;
  assert.ok(await d.detector.saveSnapshot());
  assert.ok(existsSync(path));
});

test('the app writes the snapshot at close, the next start takes it and starts from it; a damaged one is refused with a warning, not a crash', async (t) => {
  const dir = tempDir(t, 'ewm-detector-snapshot-');
  const path = join(dir, 'detector-snapshot.bin');
  writeFileSync(path, 'not a snapshot');
  const start = async (env: Record<string, string> = {}) => {
    const lines: Array<{ msg: string; level: number }> = [];
    const dest = new Writable({ write(chunk, _e, done) {
      for (const l of String(chunk).trim().split('\n')) lines.push(JSON.parse(l));
      done();
    } });
    const config = loadConfig({ DATA_DIR: dir, GENERATOR: 'off', LOG_LEVEL: 'info', DETECTOR_SCHEDULE: '0 0 1 1 *', DETECTOR_EARLY: 'off', WEB_DIST_DIR: join(dir, 'no-web'), ...env });
    const app = await buildApp(config, { now: () => T0 + 2_500, logDestination: dest });
    return { app, lines };
  };
  const first = await start();
  assert.ok(first.lines.some((l) => l.level === 40 && l.msg.startsWith('detector snapshot not used')), 'warned');
  assert.equal(existsSync(path), false, 'the damaged file is gone');
  await first.app.services.store.write(samples(T0 - 100 * MIN, T0));
  const pass = await first.app.services.detector!.runPass();
  assert.equal(pass.evaluated, SERIES.length);
  await first.app.close();
  assert.ok(first.lines.some((l) => l.msg === 'detector snapshot written'));
  assert.ok(existsSync(path));

  const second = await start();
  assert.equal(existsSync(path), false, 'taken at start: used once');
  assert.ok(second.lines.some((l) => l.msg.startsWith('detector snapshot taken')));
  assert.equal((await second.app.services.detector!.runPass()).evaluated, SERIES.length);
  assert.ok(second.lines.some((l) => l.msg.startsWith('detector state restored')));
  await second.app.close();

  // A start with the snapshot off deletes it: what it writes would make it stale.
  assert.ok(existsSync(path));
  const third = await start({ DETECTOR_SNAPSHOT: 'off' });
  assert.equal(existsSync(path), false);
  await third.app.close();
  assert.equal(existsSync(path), false, 'nothing written with DETECTOR_SNAPSHOT=off');
});

test('a leader saving every 5 minutes that crashes restarts from its last periodic snapshot: every outcome equal to a fresh re-derive', async (t) => {
  const dir = tempDir(t, 'ewm-detector-snapshot-');
  const store = await historyFile(t, dir);
  const path = join(dir, 'detector-snapshot.bin');
  const a = await process_(t, store, { snapshot: { path, taken: null, everyMs: 5 * MIN } });
  const b = await process_(t, store);
  const ra = await passes(a, T0 - 30 * MIN, T0 + 3 * MIN);
  const rb = await passes(b, T0 - 30 * MIN, T0 + 3 * MIN);
  assert.deepEqual(ra, rb);
  await a.detector.idle();
  // Killed at T0 + 3 min (no saveSnapshot): the file is the periodic save after the pass ending at T0.
  const taken = await takeEngineSnapshot(path, settings);
  assert.ok(taken?.ok);
  assert.equal(taken.savedAtMs, T0 + 2_500);
  assert.ok(taken.state.fedUntil <= T0);
  const restored = await process_(t, store, { snapshot: { path, taken, everyMs: 5 * MIN }, alerts: a.alerts });
  const rederived = await process_(t, store, { alerts: b.alerts });
  const x = await passes(restored, T0 + 4 * MIN, T0 + 38 * MIN);
  const y = await passes(rederived, T0 + 4 * MIN, T0 + 38 * MIN);
  assert.ok(restored.lines.includes('detector state restored from its snapshot; reading on from where it stopped'), restored.lines.join('\n'));
  assert.deepEqual(x, y);
  assert.ok(x.some((r) => r.created.length > 0), 'opened after the restart');
  assert.ok(x.some((r) => r.resolved.length > 0), 'resolved after the restart');
  // The restarted leader saves on its own schedule: a crash now would restart from its state.
  await restored.detector.idle();
  const again = await takeEngineSnapshot(path, settings);
  assert.ok(again?.ok && again.state.fedUntil > T0 + 30 * MIN);
  await again.close();
});

test('late data behind a periodic snapshot deletes it at once: a crash before the next save restarts with a full re-derive, not from a state that lacks the data', async (t) => {
  const dir = tempDir(t, 'ewm-detector-snapshot-');
  const store = await historyFile(t, dir);
  const path = join(dir, 'detector-snapshot.bin');
  const bus = createLocalBus();
  const a = await process_(t, store, { snapshot: { path, taken: null, everyMs: 5 * MIN }, bus });
  const b = await process_(t, store);
  assert.deepEqual(await passes(a, T0 - 30 * MIN, T0), await passes(b, T0 - 30 * MIN, T0));
  await a.detector.idle();
  assert.ok(existsSync(path), 'a periodic snapshot of the pass ending at T0');
  // A buffered writer's replay lands, from 20 minutes behind it on, much slower in CDG: on
  // embedded DuckDB the next process would find it in the store with no event to tell it so.
  const cdg = { pops: ['CDG'], functions: FUNCTIONS.map((f) => f.name), factor: 4, startMs: T0 - 20 * MIN, durationMs: 40 * MIN };
  const late = samples(T0 - 20 * MIN, T0 + 10 * MIN, [cdg], 9);
  await store.write(late);
  bus.publish({ type: 'data_landed', points: late.length, latestMs: T0 + 10 * MIN - STEP, earliestMs: T0 - 20 * MIN });
  assert.equal(existsSync(path), false, 'deleted as the late data is announced');
  assert.ok(a.lines.some((l) => l.startsWith('detector snapshot deleted: samples landed behind it')), a.lines.join('\n'));
  // No save either until the re-derive has run.
  assert.equal(await a.detector.saveSnapshot(), null);
  assert.equal(existsSync(path), false);
  // Killed now. The next process finds no snapshot and re-derives, with the late data.
  const taken = await takeEngineSnapshot(path, settings);
  const restarted = await process_(t, store, { snapshot: { path, taken }, alerts: a.alerts });
  const rederived = await process_(t, store, { alerts: b.alerts });
  const x = await passes(restarted, T0 + 2 * MIN, T0 + 8 * MIN);
  const y = await passes(rederived, T0 + 2 * MIN, T0 + 8 * MIN);
  assert.deepEqual(x, y);
  assert.ok(y.some((r) => r.created.some((c) => c[1] === 'CDG')), 'the late data opens an alert');
  assert.ok(!restarted.lines.some((l) => l.startsWith('detector state restored')), restarted.lines.join('\n'));
});

test('periodic saves only while leading: a follower writes none, and a leader that finds another replica leading deletes its own', async (t) => {
  const dir = tempDir(t, 'ewm-detector-snapshot-');
  const store = await historyFile(t, dir);
  const path = join(dir, 'detector-snapshot.bin');
  const follower: Leadership = { ...createSingleLeadership('b'), runAsLeader: async () => ({ ran: false, holder: 'a' }), stillLeader: async () => false };
  const fl = await process_(t, store, { snapshot: { path: join(dir, 'follower.bin'), taken: null, everyMs: MIN }, leadership: follower });
  await passes(fl, T0 - 5 * MIN, T0);
  await fl.detector.idle();
  assert.equal(existsSync(join(dir, 'follower.bin')), false);
  // Leads, saves every minute; then another replica takes the lock: its state and its file are dropped.
  let leading = true;
  const flips: Leadership = { ...createSingleLeadership('c'), runAsLeader: (fn) => (leading ? createSingleLeadership('c').runAsLeader(fn) : Promise.resolve({ ran: false, holder: 'd' })) };
  const l = await process_(t, store, { snapshot: { path, taken: null, everyMs: MIN }, leadership: flips });
  await passes(l, T0 - 5 * MIN, T0);
  await l.detector.idle();
  assert.ok(existsSync(path), 'saved while leading');
  leading = false;
  assert.equal((await l.passAt(T0 + STEP)).skipped, 'not_leader');
  assert.equal(existsSync(path), false, 'deleted once another replica leads');
  assert.ok(l.lines.includes('detector snapshot deleted: another replica leads'));
});
