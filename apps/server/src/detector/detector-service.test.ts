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
import { detectorSettings } from './engine.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
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

async function setup(t: TestContext, leadership: Leadership = createSingleLeadership('test')) {
  const store = await createDuckDbMetricsStore({ path: ':memory:', now: () => T0 });
  const alertStore = await createEmbeddedAlertStore({ path: ':memory:' });
  const alerts = createAlertService({ store: alertStore, bus: createLocalBus(), notifier: noChannels, now: () => T0, log: pino({ level: 'silent' }) });
  t.after(async () => {
    await alerts.close(1000);
    await alertStore.close();
    await store.close().catch(() => undefined);
  });
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

test('another replica leads: nothing is read or written', async (t) => {
  const follower: Leadership = {
    ...createSingleLeadership('b'),
    async runAsLeader() {
      return { ran: false, holder: 'replica-a' };
    },
  };
  const { detector, alerts } = await setup(t, follower);
  const r = await detector.runPass();
  assert.equal(r.skipped, 'not_leader');
  assert.equal(await alerts.countUnresolved(), 0);
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
