/**
 * A detector leader that loses the lock in the middle of a pass commits nothing more:
 * the Redis fencing token is checked before the pass commits and again before every
 * alert write. Real redis-server, real leadership on both replicas, real DuckDB metrics
 * store and embedded alert store; the tests only choose the moment the lock is lost.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { ColdStartSample } from '@edgeworker/schema';
import { createAlertService } from '../alerts/alert-service.ts';
import { createRedisLeadership, type RedisLeadership } from '../cluster/redis-leadership.ts';
import { createLocalBus } from '../events.ts';
import type { Notifier } from '../notify/notifier.ts';
import type { AlertStore } from '../stores/alert-store.ts';
import { createDuckDbMetricsStore } from '../stores/duckdb/duckdb-metrics-store.ts';
import { createEmbeddedAlertStore } from '../stores/embedded/embedded-alert-store.ts';
import { wrapMetricsStore } from '../stores/metrics-store.ts';
import { startRedisServer, waitFor } from '../testing/redis-server.ts';
import { createDetectorService } from './detector-service.ts';
import { detectorSettings } from './engine.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const TTL = 5000; // long: the lock is lost when the test takes it, never by a slow machine
const settings = detectorSettings({ recentMs: 10 * MIN, baselineMs: 60 * MIN, minChange: 0.2, resolveAfterMs: 10 * MIN });
const noChannels: Notifier = { channels: [], notify: async () => [], close: async () => {} };
const log = pino({ level: 'silent' });

/** 70 minutes of three POPs' ssr-render, each x3 over the last 10: three findings. */
function samples(): ColdStartSample[] {
  const out: ColdStartSample[] = [];
  for (let t = T0 - 70 * MIN, i = 0; t < T0; t += 10_000, i++) {
    const noise = 1 + 0.05 * Math.sin(i * 1.7);
    for (const pop of ['FRA', 'AMS', 'LHR']) {
      out.push({ timeNs: BigInt(t) * 1_000_000n, popCode: pop, city: pop, country: 'XX', tier: 'tier1', functionName: 'ssr-render', coldStartTimeMs: 100 * noise * (t >= T0 - 10 * MIN ? 3 : 1), latitude: 0, longitude: 0 });
    }
  }
  return out;
}

async function leadership(t: TestContext, url: string, replicaId: string): Promise<RedisLeadership> {
  const l = createRedisLeadership({ url, replicaId, ttlMs: TTL, log, maxReconnectDelayMs: 200 });
  t.after(() => l.close());
  await waitFor(() => l.state().holder !== null, 5000, `${replicaId} to reach Redis`);
  return l;
}

/** Replica b takes the lock from a, as after a pause of a longer than the TTL. */
async function takeOver(raw: Redis, b: RedisLeadership): Promise<number> {
  await raw.del('ewm:leader:detector');
  const r = await b.runAsLeader(async (f) => f);
  assert.ok(r.ran, 'b took the lock');
  return r.value;
}

async function setup(t: TestContext, hooks: { beforeRead?: () => Promise<void>; afterCreate?: (n: number) => Promise<void> }, snapshotDir?: string) {
  const redis = await startRedisServer(t);
  const raw = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  t.after(() => raw.disconnect());
  const a = await leadership(t, redis.url, 'replica-a');
  assert.ok((await a.runAsLeader(async () => 0)).ran, 'a leads');
  const b = await leadership(t, redis.url, 'replica-b');

  const inner = await createDuckDbMetricsStore({ path: ':memory:', now: () => T0 });
  await inner.write(samples());
  // The real store; the wrapper only lets the test act at the moment a pass reads.
  const store = wrapMetricsStore(inner, (name, fn) => async (...args) => {
    if (name === 'seriesBuckets' || name === 'seriesBucketColumns') await hooks.beforeRead?.();
    return fn(...args);
  });
  const embedded = await createEmbeddedAlertStore({ path: ':memory:' });
  let creates = 0;
  const alertStore: AlertStore = Object.assign(Object.create(embedded) as AlertStore, {
    async create(alert: Parameters<AlertStore['create']>[0]) {
      await embedded.create(alert);
      await hooks.afterCreate?.(++creates);
    },
  });
  const alerts = createAlertService({ store: alertStore, bus: createLocalBus(), notifier: noChannels, now: () => T0, log });
  t.after(async () => {
    await alerts.close(1000);
    await embedded.close();
    await inner.close();
  });
  const snapshot = (name: string) => (snapshotDir ? { snapshot: { path: join(snapshotDir, name), taken: null } } : {});
  const detector = createDetectorService({ store, alerts, leadership: a, settings, now: () => T0 + 30_000, log, ...snapshot('a.bin') });
  // Replica b's detector on the same stores (its own snapshot file).
  const detectorB = createDetectorService({ store, alerts, leadership: b, settings, now: () => T0 + 30_000, log, ...snapshot('b.bin') });
  return { raw, a, b, alerts, detector, detectorB };
}

test('lock lost while the pass reads: nothing is committed', async (t) => {
  let ctx: Awaited<ReturnType<typeof setup>> | undefined;
  ctx = await setup(t, { beforeRead: async () => void (await takeOver(ctx!.raw, ctx!.b)) });
  const r = await ctx.detector.runPass();
  assert.equal(r.skipped, 'lost_leadership');
  assert.equal(r.evaluated, 3);
  assert.deepEqual(r.created, []);
  assert.equal(await ctx.alerts.countUnresolved(), 0);
});

test('lock lost between two alert writes: the deposed leader writes nothing more', async (t) => {
  let ctx: Awaited<ReturnType<typeof setup>> | undefined;
  ctx = await setup(t, {
    afterCreate: async (n) => {
      if (n === 1) await takeOver(ctx!.raw, ctx!.b);
    },
  });
  const r = await ctx.detector.runPass();
  assert.equal(r.skipped, 'lost_leadership');
  // The one written while it still led stays (the new leader refreshes it); nothing after.
  assert.equal(r.created.length, 1);
  assert.equal(await ctx.alerts.countUnresolved(), 1);
});

test('with Redis, only the leader writes its snapshot, under its fence: not the other replica, not a leader deposed since its last pass', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ewm-fence-snapshot-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ctx = await setup(t, {}, dir);
  assert.equal((await ctx.detector.runPass()).skipped, undefined);
  assert.equal((await ctx.detectorB.runPass()).skipped, 'not_leader');
  assert.equal(await ctx.detectorB.saveSnapshot(), null, 'b does not lead: nothing to write');
  assert.equal(existsSync(join(dir, 'b.bin')), false);
  assert.ok(await ctx.detector.saveSnapshot(), 'a leads: written');
  rmSync(join(dir, 'a.bin'));
  // b takes the lock (a paused longer than the TTL); a stops without another pass.
  await takeOver(ctx.raw, ctx.b);
  assert.equal(await ctx.detector.saveSnapshot(), null, 'a was deposed: its fence no longer holds');
  assert.equal(existsSync(join(dir, 'a.bin')), false);
});
