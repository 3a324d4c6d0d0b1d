/**
 * Late data announced while this replica's bus subscription was cut off (real redis-server, real
 * DuckDB file): the announcement is lost, so when the subscription comes back the detector
 * treats it as "anything may have landed" and its next pass re-derives, ending where a detector
 * that heard the announcement ends. Without that, it would read on incrementally and never take
 * the late samples into its baselines.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { FUNCTIONS } from '@edgeworker/pops';
import { createAlertService } from '../alerts/alert-service.ts';
import { createSingleLeadership } from '../cluster/leadership.ts';
import { createRedisBus } from '../cluster/redis-bus.ts';
import { createLocalBus, type Bus } from '../events.ts';
import type { MetricsStore } from '../stores/metrics-store.ts';
import { createEmbeddedAlertStore } from '../stores/embedded/embedded-alert-store.ts';
import { startRedisServer, waitFor } from '../testing/redis-server.ts';
import { historyFile, MIN, outcome, samples, settings, STEP, T0 } from '../testing/detector-history.ts';
import { capturedLog, recordingReads } from '../testing/detector-probes.ts';
import { createDetectorService } from './detector-service.ts';
import { rederiveSpanMs } from './engine.ts';

const silent = pino({ level: 'silent' });
const noChannels = { channels: [], notify: async () => [], close: async () => {} };

/** A leading detector on the shared metrics file and its own alert store; its bucket reads and log messages recorded. */
async function detector(t: TestContext, metrics: MetricsStore, bus: Bus, clock: { now: number }) {
  const { store, reads } = recordingReads(metrics);
  const alertStore = await createEmbeddedAlertStore({ path: ':memory:' });
  t.after(() => alertStore.close());
  const alerts = createAlertService({ store: alertStore, bus: createLocalBus(), notifier: noChannels, now: () => clock.now, log: silent });
  t.after(() => alerts.close(1000));
  const { log, lines } = capturedLog();
  const d = createDetectorService({ store, alerts, leadership: createSingleLeadership('p'), settings, now: () => clock.now, log, bus });
  const passAt = (endMs: number) => {
    clock.now = endMs + 2_500;
    reads.length = 0;
    return d.runPass();
  };
  return { passAt, reads, lines };
}

test('late data announced while the bus subscription was cut off: once it is back, the next pass re-derives and ends where a detector that heard it ends', async (t) => {
  const redis = await startRedisServer(t);
  const redisBus = (id: string) => {
    const b = createRedisBus({ url: redis.url, replicaId: id, log: silent, maxReconnectDelayMs: 200 });
    t.after(() => b.close());
    return b;
  };
  const busA = redisBus('replica-a');
  const busB = redisBus('replica-b');
  await waitFor(() => busA.health().status === 'ok' && busB.health().status === 'ok', 5000, 'both buses to subscribe');
  const dir = mkdtempSync(join(tmpdir(), 'ewm-bus-gap-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const metrics = await historyFile(t, dir);
  const clock = { now: T0 };
  const a = await detector(t, metrics, busA, clock);
  // The reference hears every announcement (an in-process bus).
  const busRef = createLocalBus();
  const ref = await detector(t, metrics, busRef, clock);
  for (let end = T0 - 20 * MIN; end <= T0; end += STEP) {
    assert.deepEqual(outcome(await a.passAt(end)), outcome(await ref.passAt(end)));
  }

  // a's subscription is cut; while it is, late samples land through replica b and b announces them.
  const raw = new Redis(redis.url);
  t.after(() => raw.disconnect());
  let resumed = false;
  busA.subscribe((e) => void (e.type === 'bus_resumed' && (resumed = true)));
  let heardByA = false;
  busA.subscribe((e) => void (e.type === 'data_landed' && (heardByA = true)));
  assert.ok(Number(await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub')) >= 1);
  const cdg = { pops: ['CDG'], functions: FUNCTIONS.map((f) => f.name), factor: 4, startMs: T0 - 20 * MIN, durationMs: 40 * MIN };
  const late = samples(T0 - 20 * MIN, T0 + 10 * MIN, [cdg], 9);
  await metrics.write(late);
  const landed = { type: 'data_landed' as const, points: late.length, latestMs: T0 + 10 * MIN - STEP, earliestMs: T0 - 20 * MIN };
  busB.publish(landed);
  busRef.publish(landed);
  await waitFor(() => resumed, 5000, "a's subscription to come back");
  assert.equal(heardByA, false, 'a never heard the announcement');

  // The next pass: a re-derives, as the reference does for the announcement it heard.
  const [x, r] = [await a.passAt(T0 + STEP), await ref.passAt(T0 + STEP)];
  assert.equal(a.reads[0]![0], T0 + STEP - rederiveSpanMs(settings), 'a re-derived');
  assert.equal(x.rederived, 'all', 'every series: which POPs the lost announcement named, a cannot know');
  assert.equal(ref.reads[0]![0], T0 + STEP - rederiveSpanMs(settings), 'the reference re-derived');
  assert.ok(a.lines.includes('the bus that announces late data was cut off; the next pass re-derives the detector state from the store'), a.lines.join('\n'));
  assert.deepEqual(outcome(x), outcome(r));
  const after: Array<ReturnType<typeof outcome>> = [outcome(x)];
  for (let end = T0 + 2 * STEP; end <= T0 + 6 * MIN; end += STEP) {
    const o = outcome(await a.passAt(end));
    assert.deepEqual(o, outcome(await ref.passAt(end)));
    after.push(o);
  }
  assert.ok(after.some((o) => o.created.some((c) => c[1] === 'CDG')), 'the late samples open an alert');
});
