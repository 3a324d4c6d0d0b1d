/**
 * The whole server on a real InfluxDB (influxd spawned on a free port):
 * - the same data set in DuckDB and InfluxDB gives the same overview, heatmap and
 *   time series (means to rounding, percentiles within the documented tolerance);
 * - data another client writes straight into InfluxDB reaches WebSocket clients;
 * - influxd stopped while a generator writes and clients read: stale answers, 503 on
 *   /health, buffered samples; influxd back: every sample stored exactly once.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { FUNCTIONS, POPS } from '@edgeworker/pops';
import { createBufferedWriter, createGenerator, createInfluxHttpSink, createLatencyModel, sampleToPoint } from '@edgeworker/generator';
import { encodeBatch } from '@edgeworker/line-protocol';
import type { ColdStartSample } from '@edgeworker/schema';
import { getJson, startTestApp, write } from '../../testing/start-app.ts';
import { useInfluxdForFile } from '../../testing/influxd.ts';
import { waitFor } from '../../testing/wait.ts';
import { INFLUX_PERCENTILE_TOLERANCE } from './influxql.ts';
import { exactQuantile } from '../metrics-store.contract.ts';

/** InfluxDB 1.x PERCENTILE(): the element at floor(n * p / 100 + 0.5) - 1 of the sorted values. */
function nearestRank(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.max(0, Math.floor((sorted.length * p) / 100 + 0.5) - 1)]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let dbs = 0;
const influxd = useInfluxdForFile();

function influxEnv(db: string, extra: Record<string, string> = {}) {
  return { METRICS_STORE: 'influxdb', INFLUX_URL: influxd().url, INFLUX_DB: db, INFLUX_TIMEOUT_MS: '2000', INFLUX_POLL_INTERVAL_MS: '200', DETECTOR: 'off', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', ...extra };
}


/** A seeded data set ending a little before now: 40 POPs x 5 functions x 24 ticks of 10 s. */
function dataSet(endMs: number): ColdStartSample[] {
  let clock = endMs - 24 * 10_000;
  const out: ColdStartSample[] = [];
  const gen = createGenerator({ pops: POPS.slice(0, 40), functions: FUNCTIONS, intervalMs: 10_000, model: createLatencyModel({ seed: 7 }), now: () => clock, onBatch: (b) => out.push(...b) });
  for (let i = 0; i < 24; i++) {
    gen.tick();
    clock += 10_000;
  }
  return out;
}

const close = (a: number | null, b: number | null, rel: number, what: string) => {
  assert.ok(a !== null && b !== null, `${what}: ${a} vs ${b}`);
  assert.ok(Math.abs(a - b) <= Math.abs(b) * rel + 1e-9, `${what}: influx ${a} vs duckdb ${b}`);
};

describe('the server on InfluxDB', () => {
  it('answers like the embedded store for the same data', async (t) => {
    const end = Date.now() - 5000;
    const samples = dataSet(end);
    const body = encodeBatch(samples.map(sampleToPoint));
    const duck = await startTestApp(t, { DETECTOR: 'off' });
    const inf = await startTestApp(t, influxEnv(`cmp_${++dbs}`));
    assert.equal((await write(duck.url, body, { precision: 'ns' })).status, 204);
    assert.equal((await write(inf.url, body, { precision: 'ns' })).status, 204);

    const [od, oi] = [(await getJson(`${duck.url}/api/dashboard/overview?window=15m`)).body, (await getJson(`${inf.url}/api/dashboard/overview?window=15m`)).body];
    assert.equal(oi.samples, samples.length);
    assert.equal(oi.samples, od.samples);
    for (const k of ['totalPops', 'healthyPops', 'warningPops', 'criticalPops', 'noDataPops']) assert.equal(oi[k], od[k], k);
    close(oi.averageColdStart, od.averageColdStart, 1e-9, 'overview mean');
    close(oi.p50, od.p50, 1e-9, 'overview p50 (MEDIAN is exact)');
    close(oi.p95, od.p95, INFLUX_PERCENTILE_TOLERANCE, 'overview p95');
    close(oi.p99, od.p99, INFLUX_PERCENTILE_TOLERANCE, 'overview p99');

    const hd = new Map<string, any>((await getJson<any[]>(`${duck.url}/api/heatmap?window=15m`)).body.map((e) => [e.popCode, e]));
    const hi = (await getJson<any[]>(`${inf.url}/api/heatmap?window=15m`)).body;
    assert.equal(hi.length, hd.size);
    let compared = 0;
    for (const e of hi) {
      const d = hd.get(e.popCode);
      assert.equal(e.samples, d.samples, e.popCode);
      assert.equal(e.status, d.status, e.popCode);
      if (e.samples === 0) continue;
      compared++;
      close(e.coldStartTime, d.coldStartTime, 1e-9, `${e.popCode} mean`);
      close(e.p95, d.p95, INFLUX_PERCENTILE_TOLERANCE, `${e.popCode} p95`);
    }
    assert.equal(compared, 40);

    const pop = POPS[3]!.code;
    const range = `from=${end - 300_000}&to=${end + 1}&step=1m`;
    const td = (await getJson(`${duck.url}/api/pops/${pop}/timeseries?${range}`)).body;
    const ti = (await getJson(`${inf.url}/api/pops/${pop}/timeseries?${range}`)).body;
    assert.equal(ti.points.length, td.points.length);
    for (let i = 0; i < ti.points.length; i++) {
      const [a, b] = [ti.points[i], td.points[i]];
      assert.equal(a.t, b.t);
      assert.equal(a.samples, b.samples, `bucket ${i} samples`);
      if (a.samples === 0) continue;
      close(a.mean, b.mean, 1e-9, `bucket ${i} mean`);
      close(a.p50, b.p50, 1e-9, `bucket ${i} p50`);
      // Few samples per bucket: the engines' methods differ most here, so each is checked
      // against its own definition: DuckDB continuous, InfluxDB nearest-rank (1.x rounding).
      const values = samples.filter((s) => s.popCode === pop && Number(s.timeNs / 1_000_000n) >= a.t && Number(s.timeNs / 1_000_000n) < a.t + 60_000).map((s) => s.coldStartTimeMs);
      assert.equal(values.length, a.samples);
      close(a.p99, nearestRank(values, 99), 1e-9, `bucket ${i} influx p99`);
      close(b.p99, exactQuantile(values, 0.99), 1e-9, `bucket ${i} duckdb p99`);
    }
  });

  it('pushes data that another client wrote straight into InfluxDB right after start to WebSocket clients and the caches', async (t) => {
    const db = `live_${++dbs}`;
    await influxd().createDatabase(db);
    // The poller's first tick comes 3 s after start; everything below happens before it.
    const { url } = await startTestApp(t, influxEnv(db, { INFLUX_POLL_INTERVAL_MS: '3000' }));
    // At once: the empty overview is cached now.
    const empty = (await getJson(`${url}/api/dashboard/overview`)).body;
    assert.equal(empty.samples, 0);
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
    t.after(() => ws.terminate());
    const messages: any[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(String(d))));
    // "Telegraf": the generator's own sink, straight to influxd, not through the server.
    const sink = createInfluxHttpSink({ url: influxd().url, db, precision: 'ms' });
    await sink([{ timeNs: BigInt(Date.now()) * 1_000_000n, popCode: 'XQZ', city: 'Elsewhere', country: 'PT', tier: 'tier3', functionName: 'auth-check', coldStartTimeMs: 321, latitude: 38.7, longitude: -9.1 }]);
    const update = await waitFor(() => messages.find((m) => m.type === 'metrics_update' && m.data.samples > 0), 15_000, 'a metrics_update with the new sample');
    assert.equal(update.data.samples, 1);
    assert.equal(update.data.averageColdStart, 321);
    // The first request after the announcement: no stale-while-revalidate of the empty overview.
    const overview = (await getJson(`${url}/api/dashboard/overview`)).body;
    assert.equal(overview.samples, 1);
    const heat = (await getJson<any[]>(`${url}/api/heatmap`)).body;
    assert.equal(heat.find((e) => e.popCode === 'XQZ')?.coldStartTime, 321, 'a new POP written by anyone shows on the map');
  });

  it('keeps answering while influxd is down, buffers the generator, and stores every sample exactly once', async (t) => {
    const db = `fault_${++dbs}`;
    const { url, app } = await startTestApp(t, influxEnv(db));
    const pops = POPS.slice(0, 20);
    const generated: ColdStartSample[] = [];
    // The standalone generator's path: buffered writer -> HTTP sink -> the server's /write.
    const writer = createBufferedWriter({ send: createInfluxHttpSink({ url: `${url}/write`, precision: 'ns', timeoutMs: 3000 }), backoff: { initialMs: 100, maxMs: 500 } });
    t.after(() => writer.close());
    const gen = createGenerator({ pops, functions: FUNCTIONS, intervalMs: 200, model: createLatencyModel({ seed: 11 }), onBatch: (b) => { generated.push(...b); writer.enqueue(b); } });
    const ticks = async (n: number) => {
      for (let i = 0; i < n; i++) {
        gen.tick();
        await sleep(150);
      }
    };

    await ticks(5);
    assert.equal(await writer.flush(10_000), true);
    const before = (await getJson(`${url}/api/dashboard/overview`)).body;
    assert.equal(before.samples, 500);
    assert.equal(before.stale, undefined);
    assert.equal((await getJson(`${url}/api/heatmap`)).status, 200); // a last good heatmap exists
    const ok = await getJson(`${url}/health`);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));

    await influxd().stop();
    await ticks(5); // written while influxd is down
    const health = await waitFor(async () => {
      const h = await getJson(`${url}/health`);
      return h.status === 503 ? h.body : undefined;
    }, 15_000, '/health 503');
    assert.equal(health.components.metricsStore.status, 'down');
    assert.match(health.components.metricsStore.error, /InfluxDB|unreachable/);
    assert.ok(writer.stats().bufferedPoints > 0, 'the generator buffers while the store is down');
    assert.equal(writer.stats().droppedPoints, 0);
    await waitFor(async () => {
      const cacheBump = await getJson(`${url}/api/dashboard/overview`);
      return cacheBump.status === 200 && cacheBump.body.stale === true ? cacheBump.body : undefined;
    }, 15_000, 'stale answers');
    const stale = (await getJson(`${url}/api/dashboard/overview`)).body;
    assert.equal(stale.samples, 500, 'the last good answer');
    assert.ok(stale.staleAgeMs >= 0);
    // The heatmap was computed seconds ago: once a refresh has failed it is marked stale.
    const heat = await waitFor(async () => {
      const r = await fetch(`${url}/api/heatmap`);
      await r.arrayBuffer();
      return r.headers.get('x-data-stale') ? r : undefined;
    }, 15_000, 'a stale heatmap');
    assert.equal(heat.status, 200);
    assert.equal(heat.headers.get('x-data-stale'), 'true');
    assert.match(heat.headers.get('age') ?? '', /^\d+$/);
    // A question never answered before has nothing to fall back on: a 503 that says so.
    const none = await getJson(`${url}/api/heatmap?window=1h&function=auth-check`);
    assert.equal(none.status, 503);
    assert.equal(none.body.code, 'store_unavailable');

    await influxd().start();
    await ticks(5); // written after
    assert.equal(await writer.flush(30_000), true, 'the buffer drains once InfluxDB is back');
    await waitFor(async () => (await getJson(`${url}/health`)).status === 200, 15_000, '/health 200');
    assert.equal(app.services.store.breaker().state, 'closed');

    // Exactly once: per series, the same count and the same timestamps as generated.
    const res = await influxd().query(db, 'SELECT count(cold_start_time_ms) FROM cold_start_metrics GROUP BY pop_code, function_name');
    const stored = new Map<string, number>(res.results[0].series.map((s: any) => [`${s.tags.pop_code}/${s.tags.function_name}`, s.values[0][1]]));
    const expected = new Map<string, number>();
    for (const s of generated) expected.set(`${s.popCode}/${s.functionName}`, (expected.get(`${s.popCode}/${s.functionName}`) ?? 0) + 1);
    assert.equal(generated.length, 1500);
    assert.deepEqual(stored, expected);
    const fresh = await waitFor(async () => {
      const o = (await getJson(`${url}/api/dashboard/overview?window=15m`)).body;
      return o.stale === undefined && o.samples === 1500 ? o : undefined;
    }, 15_000, 'a fresh overview');
    assert.equal(fresh.samples, 1500);
  });
});
