/**
 * Late data written straight into a real influxd (a backfill by the standalone generator or
 * Telegraf: it never passes through /write) reaches a running detector: the rollup keeper
 * finds it (the hot check over the detector's span, or the recent margin) and announces it
 * on the bus as /write does, so the detector's next pass re-derives and judges those series,
 * and no_data alerts wait while past data lands. Wired as app.ts wires it.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { MEASUREMENT } from '@edgeworker/schema';
import { createAlertService } from '../../alerts/alert-service.ts';
import { createSingleLeadership } from '../../cluster/leadership.ts';
import { detectorSettings, rederiveSpanMs } from '../../detector/engine.ts';
import { createDetectorService } from '../../detector/detector-service.ts';
import { createLocalBus, type BusEvent } from '../../events.ts';
import type { Notifier } from '../../notify/notifier.ts';
import { createEmbeddedAlertStore } from '../embedded/embedded-alert-store.ts';
import { useInfluxdForFile } from '../../testing/influxd.ts';
import { startTestApp } from '../../testing/start-app.ts';
import { waitFor } from '../../testing/wait.ts';
import { createInfluxClient } from './influx-client.ts';
import { createInfluxDbMetricsStore } from './influxdb-metrics-store.ts';
import { createRollupKeeper } from './rollup-keeper.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { takeEngineSnapshot } from '../../detector/engine-snapshot.ts';

const influxd = useInfluxdForFile();
const MIN = 60_000;
const H = 60 * MIN;
// A clock in the past, 30 s into a minute: the rollups are kept for ever (no retention policy refuses it).
const T0 = Date.UTC(2026, 0, 1, 6, 0, 30);
const settings = detectorSettings({ recentMs: 10 * MIN, baselineMs: 60 * MIN, minChange: 0.2, resolveAfterMs: 10 * MIN });
const noChannels: Notifier = { channels: [], notify: async () => [], close: async () => {} };
let dbs = 0;

/** Lines of one series every 10 s in [fromMs, toMs); x3 from `shiftFromMs` on, a little noise. */
function lines(pop: string, fn: string, fromMs: number, toMs: number, shiftFromMs = Infinity): string[] {
  const out: string[] = [];
  for (let t = fromMs, i = 0; t < toMs; t += 10_000, i++) {
    const v = 100 * (1 + 0.05 * Math.sin(i * 1.7)) * (t >= shiftFromMs ? 3 : 1);
    out.push(`${MEASUREMENT},pop_code=${pop},city=X,country=DE,tier=tier1,function_name=${fn} cold_start_time_ms=${v},latitude=50,longitude=8 ${BigInt(t) * 1_000_000n}`);
  }
  return out;
}

async function setup(t: TestContext, noDataAfterMs = settings.noDataAfterMs) {
  const db = `late_${++dbs}`;
  await influxd().createDatabase(db);
  let nowMs = T0;
  const now = () => nowMs;
  const client = createInfluxClient({ url: influxd().url, db, timeoutMs: 10_000 });
  const write = async (ls: string[]) => {
    for (let i = 0; i < ls.length; i += 5000) await client.writeLines(ls.slice(i, i + 5000).join('\n'));
  };
  const store = await createInfluxDbMetricsStore({ url: influxd().url, db, timeoutMs: 10_000, now });
  const alertStore = await createEmbeddedAlertStore({ path: ':memory:' });
  const bus = createLocalBus();
  const events: BusEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const log = pino({ level: 'silent' });
  const alerts = createAlertService({ store: alertStore, bus, notifier: noChannels, now, log });
  const leadership = createSingleLeadership('a');
  const s = { ...settings, noDataAfterMs };
  // As app.ts wires them: the keeper's late data on the bus, the detector listening to it.
  // `sweepMs`: the sweep's budget a pass; 0 stands for a sweep busy far back in its 7 d cycle.
  const keeper = (sweepMs: number) =>
    createRollupKeeper({
      client, leadership, now, log, intervalMs: 10_000, lookbackMs: 24 * H, sweepBudgetMs: sweepMs, db, retention: { retention1mMs: 0, retention1hMs: 0 },
      hotSpanMs: rederiveSpanMs(s),
      onLateData: (l) => bus.publish({ type: 'data_landed', points: l.points, latestMs: l.latestMs, earliestMs: l.earliestMs, ...(l.pops ? { pops: l.pops } : {}) }),
    });
  const detector = createDetectorService({ store, alerts, leadership, settings: s, bus, now, log });
  t.after(async () => {
    await alerts.close(1000);
    await alertStore.close();
    await store.close();
  });
  // Another process's detector on the same stores (a restart), from a snapshot at path.
  const restarted = (snapshot: NonNullable<Parameters<typeof createDetectorService>[0]['snapshot']>) => createDetectorService({ store, alerts, leadership, settings: s, bus, now, log, snapshot });
  return { write, keeper, detector, events, setNow: (ms: number) => (nowMs = ms), restarted, settings: s };
}

describe('late data written straight into InfluxDB reaches the running detector', () => {
  it('in the app (buildApp): the keeper announces a straight backfill on the bus and the next pass judges it', async (t) => {
    const db = `late_app_${++dbs}`;
    await influxd().createDatabase(db);
    const client = createInfluxClient({ url: influxd().url, db, timeoutMs: 10_000 });
    const now = Math.floor(Date.now() / 10_000) * 10_000;
    await client.writeLines(lines('NRT', 'api', now - 30 * MIN, now).join('\n'));
    const { app, url } = await startTestApp(t, {
      METRICS_STORE: 'influxdb', INFLUX_URL: influxd().url, INFLUX_DB: db, INFLUX_TIMEOUT_MS: '5000', INFLUX_ROLLUP_INTERVAL: '1s',
      // Passes only when asked for (POST /api/detector/run), so the test decides when.
      DETECTOR_SCHEDULE: '0 0 1 1 *', DETECTOR_EARLY: 'off',
    });
    const run = async () => ((await (await fetch(`${url}/api/detector/run`, { method: 'POST' })).json()) as { evaluated: number });
    // The keeper has rolled up what is there (its first pass, then its sweep back).
    await waitFor(async () => {
      const h = (await (await fetch(`${url}/health`)).json()) as { components: { rollups: { coveredFromMs: number | null } } };
      return (h.components.rollups.coveredFromMs ?? Infinity) <= now - 30 * MIN;
    }, 30_000, 'the keeper covering the live data');
    assert.equal((await run()).evaluated, 1);
    const announced: number[] = [];
    app.services.bus.subscribe((e) => {
      if (e.type === 'data_landed' && e.earliestMs !== undefined) announced.push(e.earliestMs);
    });
    // Another writer backfills two series, 40 minutes up to now, straight into influxd.
    await client.writeLines([...lines('FRA', 'ssr', now - 40 * MIN, now), ...lines('AMS', 'ssr', now - 40 * MIN, now)].join('\n'));
    await waitFor(() => announced.some((ms) => ms < now - 5 * MIN), 45_000, 'the keeper announcing the backfill');
    assert.equal((await run()).evaluated, 3, 'the pass after the announcement re-derived and judged the backfilled series');
  });


  it('a backfill behind the detector makes its next pass re-derive and judge those series', async (t) => {
    const { write, keeper, detector, events, setNow } = await setup(t);
    // Live data of one series for the last 30 min; the keeper has rolled up the lookback (its
    // state is in InfluxDB) and the detector is running.
    await write(lines('NRT', 'api', T0 - 30 * MIN, T0));
    assert.equal((await keeper(120_000).pass()).ran, true);
    assert.equal(events.length, 0, 'history rolled up for the first time is not late data');
    const first = await detector.runPass();
    assert.equal(first.evaluated, 1, 'only NRT/api so far');

    // Another writer backfills FRA and AMS, 70 minutes up to now (FRA x3 over the last 10),
    // all of it behind what the detector has read. The keeper now has a sweep busy elsewhere
    // (budget 0): what is older than its recent margin (10 min) only the hot check finds.
    setNow(T0 + 40_000);
    await write([...lines('FRA', 'ssr', T0 - 70 * MIN, T0, T0 - 10 * MIN), ...lines('AMS', 'ssr', T0 - 70 * MIN, T0)]);
    const steady = await detector.runPass();
    assert.equal(steady.evaluated, 1, 'the running detector reads on from where it stopped: the backfill is unseen');
    assert.deepEqual(steady.created, []);

    const before = events.length;
    await write(lines('NRT', 'api', T0, T0 + 40_000));
    await keeper(0).pass();
    const landed = events.slice(before).filter((e): e is Extract<BusEvent, { type: 'data_landed' }> => e.type === 'data_landed');
    assert.ok(landed.length > 0, 'the keeper announced the late data');
    assert.equal(Math.min(...landed.map((e) => e.earliestMs!)), T0 - 70 * MIN, 'from its oldest sample (older than the recent margin)');
    assert.ok(Math.max(...landed.map((e) => e.latestMs)) < T0, 'to its newest, behind what was published');
    // Naming the POPs of what it reported (NRT's new minute may share the chunk: it is inside what the keeper covers).
    const named = [...new Set(landed.flatMap((e) => e.pops!))].sort();
    assert.ok(named.includes('AMS') && named.includes('FRA'), `naming the POPs of the late samples: ${named.join(',')}`);

    setNow(T0 + 50_000);
    const after = await detector.runPass();
    assert.deepEqual(after.rederived, { pops: named }, 'only their series re-derived');
    assert.equal(after.evaluated, 3, 'the re-derive read the backfilled series');
    assert.deepEqual(after.created.map((a) => [a.type, a.popCode]), [['regression', 'FRA']]);
  });

  for (const order of ['before', 'after'] as const) {
    it(`written while the server was down, behind its detector snapshot: the restarted detector re-derives (the keeper's announcement ${order} its first pass)`, async (t) => {
      const { write, keeper, restarted, setNow, settings: s } = await setup(t);
      const dir = mkdtempSync(join(tmpdir(), 'ewm-late-snapshot-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const path = join(dir, 'detector-snapshot.bin');
      await write(lines('NRT', 'api', T0 - 30 * MIN, T0));
      await keeper(120_000).pass();
      // The process that stops: its detector ran, then wrote its snapshot at a graceful stop.
      const old = restarted({ path, taken: null });
      assert.equal((await old.runPass()).evaluated, 1);
      assert.ok(await old.saveSnapshot());
      // While no server runs, another writer backfills FRA (x3 over its last 10 min) and AMS behind it.
      setNow(T0 + 60_000);
      await write([...lines('FRA', 'ssr', T0 - 70 * MIN, T0, T0 - 10 * MIN), ...lines('AMS', 'ssr', T0 - 70 * MIN, T0)]);
      await write(lines('NRT', 'api', T0, T0 + 60_000));
      // The restart: the snapshot taken, the keeper restarted (its state is in InfluxDB).
      const taken = await takeEngineSnapshot(path, s);
      assert.ok(taken?.ok);
      const fresh = restarted({ path, taken });
      if (order === 'before') {
        await keeper(0).pass();
        const first = await fresh.runPass();
        assert.equal(first.evaluated, 3, 'its first pass re-derived instead of starting from the snapshot');
        assert.deepEqual(first.created.map((a) => [a.type, a.popCode]), [['regression', 'FRA']]);
      } else {
        const first = await fresh.runPass();
        assert.equal(first.evaluated, 1, 'started from the snapshot: the backfill is not seen yet');
        await keeper(0).pass();
        setNow(T0 + 70_000);
        const next = await fresh.runPass();
        assert.equal(next.evaluated, 3, 'the announcement made the next pass re-derive');
        assert.deepEqual(next.created.map((a) => [a.type, a.popCode]), [['regression', 'FRA']]);
      }
    });
  }

  it('no_data alerts wait while data of the past lands straight into InfluxDB', async (t) => {
    const { write, keeper, detector, setNow } = await setup(t, 3 * MIN);
    // Two series reported until 2 minutes ago (silence not yet past the 3 min threshold).
    await write([...lines('FRA', 'ssr', T0 - 60 * MIN, T0 - 2 * MIN), ...lines('AMS', 'ssr', T0 - 60 * MIN, T0 - 2 * MIN)]);
    await keeper(120_000).pass();
    assert.deepEqual((await detector.runPass()).created, []);
    // The pipeline stays silent at the edge while a replay lands older samples of a third series
    // straight into InfluxDB (a buffered writer catching up after an outage).
    setNow(T0 + 90_000);
    await write(lines('NRT', 'api', T0 - 60 * MIN, T0 - 20 * MIN));
    const k = keeper(0);
    await k.pass();
    const during = await detector.runPass();
    assert.deepEqual(during.created.filter((a) => a.type === 'no_data'), [], 'data of the past is landing: no silence alert yet');
    // Nothing of the past has landed for longer than the no-data threshold: the silence is real.
    setNow(T0 + 90_000 + 3 * MIN + 10_000);
    await k.pass();
    const later = await detector.runPass();
    assert.deepEqual(later.created.filter((a) => a.type === 'no_data').map((a) => [a.popCode, a.functionName]), [['*', '*']]);
  });
});
