/**
 * Warm standby (DETECTOR_STANDBY=warm): two replicas' detectors on one real DuckDB metrics file
 * and one alert store, leading by the real Redis lock (redis-server). The follower keeps its engine
 * fed and writes nothing; when the leader goes, the follower's first pass as leader reads only the
 * buckets closed since its last pass (no re-derive), and from then on it opens and resolves exactly
 * what a detector re-derived from the store at the takeover does, pass after pass. The reference
 * detectors run on their own alert stores through the same passes (as detector-snapshot.test.ts).
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
import { createSingleLeadership, type Leadership } from '../cluster/leadership.ts';
import { createRedisBus } from '../cluster/redis-bus.ts';
import { createRedisLeadership, type RedisLeadership } from '../cluster/redis-leadership.ts';
import { createLocalBus, type Bus } from '../events.ts';
import type { AlertStore } from '../stores/alert-store.ts';
import type { MetricsStore } from '../stores/metrics-store.ts';
import { createEmbeddedAlertStore } from '../stores/embedded/embedded-alert-store.ts';
import { startRedisServer, waitFor } from '../testing/redis-server.ts';
import { createDetectorService, type PassResult } from './detector-service.ts';
import { MAX_HOLD_STEPS, rederiveSpanMs } from './engine.ts';
import { historyFile, MIN, outcome, samples, settings, STEP, T0 } from '../testing/detector-history.ts';
import { capturedLog, recordingReads } from '../testing/detector-probes.ts';

/** What a steady read reads again before where the last one ended (buckets that land in parts). */
const AGAIN = MAX_HOLD_STEPS * STEP;

const TTL = 5000; // long: the lock changes hands when the test says so, never by a slow machine
const silent = pino({ level: 'silent' });
const noChannels = { channels: [], notify: async () => [], close: async () => {} };

/** The shared history file, in a directory of its own. */
async function metricsFile(t: TestContext): Promise<MetricsStore> {
  const dir = mkdtempSync(join(tmpdir(), 'ewm-standby-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return historyFile(t, dir);
}

async function alertStore(t: TestContext) {
  const store = await createEmbeddedAlertStore({ path: ':memory:' });
  t.after(() => store.close());
  return store;
}

async function redisLeadership(t: TestContext, url: string, replicaId: string): Promise<RedisLeadership> {
  const l = createRedisLeadership({ url, replicaId, ttlMs: TTL, log: silent, maxReconnectDelayMs: 200 });
  t.after(() => l.close());
  await waitFor(() => l.state().holder !== null, 5000, `${replicaId} to reach Redis`);
  return l;
}

/**
 * One replica's detector: its own view of the shared stores (the metrics store's bucket reads
 * recorded; the alert store's writes counted), on the shared clock.
 */
async function replica(t: TestContext, o: { clock: { now: number }; metrics: MetricsStore; alerts: AlertStore; leadership: Leadership; bus?: Bus; beforeRead?: () => Promise<void> }) {
  const { store, reads } = recordingReads(o.metrics, o.beforeRead);
  let writes = 0;
  const counted: AlertStore = Object.assign(Object.create(o.alerts) as AlertStore, {
    create: (a: Parameters<AlertStore['create']>[0]) => (writes++, o.alerts.create(a)),
    update: (a: Parameters<AlertStore['update']>[0], at: string) => (writes++, o.alerts.update(a, at)),
    addNotifications: (id: string, n: Parameters<AlertStore['addNotifications']>[1]) => (writes++, o.alerts.addNotifications(id, n)),
  });
  const alerts = createAlertService({ store: counted, bus: createLocalBus(), notifier: noChannels, now: () => o.clock.now, log: silent });
  t.after(() => alerts.close(1000));
  const { log, lines } = capturedLog();
  const detector = createDetectorService({ store, alerts, leadership: o.leadership, settings, now: () => o.clock.now, log, ...(o.bus ? { bus: o.bus } : {}) });
  /** A pass whose end is `endMs` (the service settles 2 s); `reads` then holds only its reads. */
  const passAt = (endMs: number) => {
    o.clock.now = endMs + 2_500;
    reads.length = 0;
    return detector.runPass();
  };
  return { detector, passAt, reads, lines, writes: () => writes };
}

/**
 * Which alerts a pass opened (type, POP, function, severity) and resolved. A detector re-derived
 * at the failover is not bit for bit a long-running one: its baselines' windows are rebuilt, not
 * slid, and it has no cached confirmation (reused for 60 s), so an alert's baseline and current
 * value can differ in the third digit (26.822 vs 26.859 ms) and a refresh can come a pass earlier.
 */
const opened = (rs: Array<ReturnType<typeof outcome>>) => rs.map((r) => ({ created: r.created.map((c) => c.slice(0, 4)), resolved: r.resolved, skipped: r.skipped }));

/**
 * Two replicas a (leading) and b on one Redis, one metrics file, one alert store; and a reference
 * detector on its own alert store (single process) that goes through the same passes as the leader.
 */
async function cluster(t: TestContext, opts: { busA?: Bus; busB?: Bus; busRef?: Bus; beforeReadA?: () => Promise<void> } = {}) {
  const redis = await startRedisServer(t);
  const raw = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  t.after(() => raw.disconnect());
  const la = await redisLeadership(t, redis.url, 'replica-a');
  assert.ok((await la.runAsLeader(async () => 0)).ran, 'a leads');
  const lb = await redisLeadership(t, redis.url, 'replica-b');
  const metrics = await metricsFile(t);
  const shared = await alertStore(t);
  const clock = { now: T0 };
  const a = await replica(t, { clock, metrics, alerts: shared, leadership: la, ...(opts.busA ? { bus: opts.busA } : {}), ...(opts.beforeReadA ? { beforeRead: opts.beforeReadA } : {}) });
  const b = await replica(t, { clock, metrics, alerts: shared, leadership: lb, ...(opts.busB ? { bus: opts.busB } : {}) });
  const ref = await replica(t, { clock, metrics, alerts: await alertStore(t), leadership: createSingleLeadership('ref'), ...(opts.busRef ? { bus: opts.busRef } : {}) });
  // The same again, whose alert store the re-derived detector takes over.
  const ref2Alerts = await alertStore(t);
  const ref2 = await replica(t, { clock, metrics, alerts: ref2Alerts, leadership: createSingleLeadership('ref2'), ...(opts.busRef ? { bus: opts.busRef } : {}) });
  /** A detector re-derived from the store at its first pass, on ref2's alert store (ref2 stops). */
  const fresh = () => replica(t, { clock, metrics, alerts: ref2Alerts, leadership: createSingleLeadership('fresh') });
  return { raw, la, lb, a, b, ref, ref2, fresh, metrics };
}

type Replica = Awaited<ReturnType<typeof replica>>;

/** Passes every 10 s over [fromMs, toMs] on each replica in turn; the outcomes per replica. */
async function passes(fromMs: number, toMs: number, ...rs: Replica[]) {
  const out = rs.map(() => [] as Array<ReturnType<typeof outcome>>);
  for (let end = fromMs; end <= toMs; end += STEP) {
    for (let i = 0; i < rs.length; i++) out[i]!.push(outcome(await rs[i]!.passAt(end)));
  }
  return out;
}

const notLeader = (rs: Array<ReturnType<typeof outcome>>) => rs.every((r) => r.skipped === 'not_leader');

/**
 * After a failover: the new leader's outcomes from its first pass on are exactly those of the
 * reference that kept leading (`ref`, what the old leader would have done), and open and resolve
 * exactly what a detector re-derived from the store at that pass does.
 */
async function after(fromMs: number, toMs: number, leader: Replica, ref: Replica, fresh: Replica) {
  const [x, r, f] = await passes(fromMs, toMs, leader, ref, fresh);
  assert.deepEqual(x, r, 'what the old leader would have done');
  assert.deepEqual(opened(x!), opened(f!), 'what a re-derive opens and resolves');
  return x!;
}

test('the leader stops; the warm follower takes over, its first pass reads only the new bucket, and it opens and resolves what a re-derived detector does, pass after pass', async (t) => {
  const c = await cluster(t);
  const [ra, rb, rr, rr2] = await passes(T0 - 30 * MIN, T0, c.a, c.b, c.ref, c.ref2);
  assert.deepEqual(ra, rr);
  assert.deepEqual(ra, rr2);
  assert.ok(ra!.some((r) => r.created.length > 0), 'the leader opened alerts');
  assert.ok(notLeader(rb!), 'b followed');
  assert.equal(c.b.writes(), 0, 'the follower wrote no alert');
  // The follower kept up: its last pass read only the bucket that closed since the one before (and the last steps again: buckets that land in parts).
  assert.deepEqual(c.b.reads, [[T0 - STEP - AGAIN, T0]]);

  // a stops (a graceful close releases the lock); b leads at its next pass.
  await c.la.close();
  const fresh = await c.fresh();
  const first = await c.b.passAt(T0 + STEP);
  assert.equal(first.skipped, undefined, 'b leads');
  assert.deepEqual(c.b.reads, [[T0 - AGAIN, T0 + STEP]], 'an incremental pass (the new bucket, and the last steps again), not a re-derive');
  assert.deepEqual(outcome(first), outcome(await c.ref.passAt(T0 + STEP)));
  assert.deepEqual(opened([outcome(first)]), opened([outcome(await fresh.passAt(T0 + STEP))]));
  assert.equal(fresh.reads[0]![0], T0 + STEP - rederiveSpanMs(settings), 'the reference re-derived');
  const x = await after(T0 + 2 * STEP, T0 + 38 * MIN, c.b, c.ref, fresh);
  assert.ok(x.some((r) => r.created.length > 0), 'opened after the failover');
  assert.ok(x.some((r) => r.resolved.length > 0), 'resolved after the failover');
  assert.ok(c.b.writes() > 0, 'the new leader writes');
});

test('a leader deposed mid-pass keeps its state as a follower, and leading again its first pass is incremental and what a re-derive gives', async (t) => {
  let depose = false;
  let c: Awaited<ReturnType<typeof cluster>> | undefined;
  c = await cluster(t, {
    beforeReadA: async () => {
      if (!depose) return;
      depose = false;
      // b takes the lock while a reads (a paused longer than the TTL).
      await c!.raw.del('ewm:leader:detector');
      assert.ok((await c!.lb.runAsLeader(async () => 0)).ran, 'b took the lock');
    },
  });
  const [ra, , rr, rr2] = await passes(T0 - 30 * MIN, T0 - 10 * MIN, c.a, c.b, c.ref, c.ref2);
  assert.deepEqual(ra, rr);
  assert.deepEqual(ra, rr2);
  depose = true;
  assert.equal((await c.a.passAt(T0 - 10 * MIN + STEP)).skipped, 'lost_leadership');
  await waitFor(() => !c.la.state().leader, TTL, 'a to step down (its renewal fails)');
  // b leads for ten minutes, a follows; the references go through the leader's passes.
  const [rb, ra2, rr3, rr4] = await passes(T0 - 10 * MIN + STEP, T0, c.b, c.a, c.ref, c.ref2);
  assert.ok(rb!.every((r) => r.skipped === undefined), 'b led');
  assert.deepEqual(rb, rr3);
  assert.deepEqual(rb, rr4);
  assert.ok(notLeader(ra2!), 'a followed');
  // b stops; a leads again.
  await c.lb.close();
  const fresh = await c.fresh();
  const first = await c.a.passAt(T0 + STEP);
  assert.equal(first.skipped, undefined, 'a leads again');
  assert.deepEqual(c.a.reads, [[T0 - AGAIN, T0 + STEP]], 'an incremental pass (the new bucket, and the last steps again), not a re-derive');
  assert.deepEqual(outcome(first), outcome(await c.ref.passAt(T0 + STEP)));
  assert.deepEqual(opened([outcome(first)]), opened([outcome(await fresh.passAt(T0 + STEP))]));
  const x = await after(T0 + 2 * STEP, T0 + 38 * MIN, c.a, c.ref, fresh);
  assert.ok(x.some((r) => r.created.length > 0) && x.some((r) => r.resolved.length > 0), 'opened and resolved after');
});

test('late data announced on the Redis bus makes the follower re-derive at its next pass; leading after it, its first pass is incremental and what a re-derive gives', async (t) => {
  const redisForBus = await startRedisServer(t);
  const bus = async (id: string) => {
    const b = createRedisBus({ url: redisForBus.url, replicaId: id, log: silent, maxReconnectDelayMs: 200 });
    t.after(() => b.close());
    await waitFor(() => b.health().status === 'ok', 5000, `bus ${id}`);
    return b;
  };
  const busA = await bus('replica-a');
  const busB = await bus('replica-b');
  const busRef = createLocalBus();
  const c = await cluster(t, { busA, busB, busRef });
  const [ra, rb, rr, rr2] = await passes(T0 - 30 * MIN, T0, c.a, c.b, c.ref, c.ref2);
  assert.deepEqual(ra, rr);
  assert.deepEqual(ra, rr2);
  assert.ok(notLeader(rb!));
  // A buffered writer's replay lands through replica a: 20 minutes behind the edge, CDG much slower.
  const cdg = { pops: ['CDG'], functions: FUNCTIONS.map((f) => f.name), factor: 4, startMs: T0 - 20 * MIN, durationMs: 40 * MIN };
  const late = samples(T0 - 20 * MIN, T0 + 10 * MIN, [cdg], 9);
  await c.metrics.write(late);
  let heard = false;
  busB.subscribe((e) => void (e.type === 'data_landed' && (heard = true)));
  const landed = { type: 'data_landed' as const, points: late.length, latestMs: T0 + 10 * MIN - STEP, earliestMs: T0 - 20 * MIN };
  busA.publish(landed);
  busRef.publish(landed);
  await waitFor(() => heard, 5000, 'b to hear of the late data');
  // The next pass: the leader re-derives, and so does the follower.
  const [ra2, rb2, rr3, rr4] = await passes(T0 + STEP, T0 + STEP, c.a, c.b, c.ref, c.ref2);
  assert.deepEqual(ra2, rr3);
  assert.deepEqual(ra2, rr4);
  assert.ok(notLeader(rb2!));
  assert.equal(c.b.reads[0]![0], T0 + STEP - rederiveSpanMs(settings), 'the follower re-derived');
  assert.ok(c.b.lines.includes('samples landed behind what the detector had read (a backfill or a replay); re-deriving its state from the store'), c.b.lines.join('\n'));
  await c.la.close();
  const fresh = await c.fresh();
  const first = await c.b.passAt(T0 + 2 * STEP);
  assert.equal(first.skipped, undefined, 'b leads');
  assert.deepEqual(c.b.reads, [[T0 + STEP - AGAIN, T0 + 2 * STEP]], 'an incremental pass: the follower had re-derived already');
  assert.deepEqual(outcome(first), outcome(await c.ref.passAt(T0 + 2 * STEP)));
  assert.deepEqual(opened([outcome(first)]), opened([outcome(await fresh.passAt(T0 + 2 * STEP))]));
  const x = await after(T0 + 3 * STEP, T0 + 8 * MIN, c.b, c.ref, fresh);
  assert.ok([...ra2!, outcome(first), ...x].some((r) => r.created.some((a) => a[1] === 'CDG')), 'the late data opens an alert');
});
