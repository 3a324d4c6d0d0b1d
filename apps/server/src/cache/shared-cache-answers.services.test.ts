/**
 * Answers served from the shared Redis cache are the answers that were computed:
 * - two replicas on one real influxd and one real redis-server, samples written straight
 *   into InfluxDB every ~1.5 s: every request between writes is a 200 with the resolution
 *   header, and no answer shows fewer samples than one before it (the window is longer
 *   than the test, so nothing leaves it). Between writes most requests are cache hits read
 *   back from Redis; the heatmap's hits were 500s once (its entry in Redis lost the
 *   resolution beside the entries), which a dashboard showed as 0 samples until the next write;
 * - one replica on the embedded store with Redis: a hit is byte for byte the miss before it;
 * - until a watermark poll bumps the version, replicas compute one version from different
 *   data: an answer read before a write, stored last, must not replace one read after it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FUNCTIONS, POPS } from '@edgeworker/pops';
import { pino } from 'pino';
import { createQueryService } from '../query/query-service.ts';
import { createDuckDbMetricsStore } from '../stores/duckdb/duckdb-metrics-store.ts';
import { sample } from '../stores/metrics-store.contract.ts';
import { wrapMetricsStore, type MetricsStore } from '../stores/metrics-store.ts';
import { createCachedQueries } from './cached-queries.ts';
import { createMemoryCache } from './memory-cache.ts';
import { createRedisCache } from './redis-cache.ts';
import { startInfluxd } from '../testing/influxd.ts';
import { startRedisServer } from '../testing/redis-server.ts';
import { line, startTestApp, write } from '../testing/start-app.ts';
import { waitFor } from '../testing/wait.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Polled {
  status: number;
  resolution: string | null;
  samples: number;
}

async function heatmap(url: string, pop: string): Promise<Polled & { text: string }> {
  const res = await fetch(`${url}/api/heatmap?window=5m`);
  const text = await res.text();
  const body = res.ok ? (JSON.parse(text) as { popCode: string; samples: number }[]) : [];
  return { status: res.status, resolution: res.headers.get('x-resolution'), samples: body.find((e) => e.popCode === pop)?.samples ?? 0, text };
}

/** The replica's count of cache answers by outcome, from /metrics. */
async function cacheHits(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /edgeworker_query_cache_answers_total\{[^}]*outcome="hit"[^}]*\} (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

describe('answers from the shared Redis cache', () => {
  it('two replicas on InfluxDB and Redis: repeated heatmaps between writes never lose samples an earlier answer showed', { timeout: 120_000 }, async (t) => {
    const [influx, redis] = await Promise.all([startInfluxd(t), startRedisServer(t)]);
    await influx.createDatabase('edgeworker');
    const env = {
      METRICS_STORE: 'influxdb',
      INFLUX_URL: influx.url,
      INFLUX_DB: 'edgeworker',
      INFLUX_POLL_INTERVAL_MS: '200',
      REDIS_URL: redis.url,
      DETECTOR: 'off',
    };
    const replicas = [await startTestApp(t, env), await startTestApp(t, env)];
    const writeStraight = async (k: number) => {
      const res = await fetch(`${influx.url}/write?db=edgeworker&precision=ms`, { method: 'POST', body: line({ pop: 'FRA', ms: 100 + k, t: Date.now() }) });
      assert.equal(res.status, 204);
    };

    const writes = 6;
    const shown = replicas.map(() => 0);
    let polls = 0;
    for (let k = 0; k < writes; k++) {
      await writeStraight(k);
      // Both replicas see this write (the watermark poll runs every 200 ms) before the next one.
      for (const [i, r] of replicas.entries()) await waitFor(async () => (await heatmap(r.url, 'FRA')).samples === k + 1, 10_000, `write ${k + 1} on replica ${i}`);
      const until = Date.now() + 1500;
      while (Date.now() < until) {
        for (const [i, r] of replicas.entries()) {
          const a = await heatmap(r.url, 'FRA');
          polls++;
          assert.equal(a.status, 200, `replica ${i}, after write ${k + 1}: ${a.text}`);
          assert.equal(a.resolution, 'raw', `replica ${i}: the resolution header`);
          assert.ok(a.samples >= shown[i]!, `replica ${i}, after write ${k + 1}: ${a.samples} samples after an answer with ${shown[i]}`);
          assert.equal(a.samples, k + 1, `replica ${i}: every write so far, no more (nothing was written since)`);
          shown[i] = a.samples;
        }
        await sleep(50);
      }
    }
    assert.ok(polls > writes * 10, `${polls} polls`);
    // The test is only worth something if the answers between writes were hits read back from Redis.
    const hits = await Promise.all(replicas.map((r) => cacheHits(r.url)));
    for (const [i, n] of hits.entries()) assert.ok(n > writes, `replica ${i} answered ${n} cache hits`);
  });

  it('one replica on the embedded store and Redis: a heatmap hit is byte for byte the answer computed before it', async (t) => {
    const redis = await startRedisServer(t);
    const { url } = await startTestApp(t, { REDIS_URL: redis.url, GENERATOR: 'off', DETECTOR: 'off' });
    assert.equal((await write(url, line({ pop: 'AMS', ms: 150, t: Date.now() }))).status, 204);
    const miss = await heatmap(url, 'AMS');
    assert.equal(miss.status, 200);
    assert.equal(miss.samples, 1);
    const before = await cacheHits(url);
    const hit = await heatmap(url, 'AMS');
    assert.equal(await cacheHits(url), before + 1, 'the second request was a cache hit');
    assert.equal(hit.status, 200, hit.text);
    assert.equal(hit.resolution, miss.resolution);
    assert.equal(hit.text, miss.text);
  });

  it("a replica's answer read before a write does not replace another's read after it, under the same data version", async (t) => {
    // The window between a write landing in the shared store and the watermark poll bumping
    // the version: both replicas compute under the same version, one from before the write.
    const redis = await startRedisServer(t);
    const shared = await createDuckDbMetricsStore({ path: ':memory:' });
    t.after(() => shared.close());
    let gate: Promise<void> | undefined;
    let readDone: () => void = () => {};
    // Replica B's reads wait at the gate after reading (a slow replica on a busy machine).
    const slow: MetricsStore = wrapMetricsStore(shared, (name, fn) => async (...args) => {
      const out = await fn(...args);
      if (name === 'summarize' && gate) {
        readDone();
        await gate;
      }
      return out;
    });
    const replica = async (store: MetricsStore) => {
      const cache = createRedisCache({ url: redis.url, namespace: 'shared', fallback: createMemoryCache(), log: pino({ level: 'silent' }), maxReconnectDelayMs: 200 });
      t.after(() => cache.close());
      await waitFor(() => cache.health().status === 'ok', 5000, 'the cache to reach Redis');
      const query = createQueryService({ store, catalog: POPS, functions: FUNCTIONS, thresholds: { warnMs: 200, critMs: 400 }, maxPoints: 1000, now: Date.now, openRegressions: async () => 0 });
      return createCachedQueries({ query, cache });
    };
    const [a, b] = [await replica(shared), await replica(slow)];
    const fra = (entries: { popCode: string; samples: number }[]) => entries.find((e) => e.popCode === 'FRA')?.samples ?? 0;

    await shared.write([sample({ t: Date.now() - 2000, v: 100 })]);
    let open: () => void = () => {};
    gate = new Promise((r) => (open = r));
    const read = new Promise<void>((r) => (readDone = r));
    const early = b.heatmap(300_000); // reads 1 sample, then waits
    await read;
    gate = undefined;
    await shared.write([sample({ t: Date.now() - 1000, v: 200 })]); // no version bump yet
    assert.equal(fra((await a.heatmap(300_000)).value), 2, 'replica a reads after the write');
    open();
    assert.equal(fra((await early).value), 1, "replica b's own request answers what it read");
    assert.equal(fra((await a.heatmap(300_000)).value), 2, 'a hit on replica a: the later read stays');
    assert.equal(fra((await b.heatmap(300_000)).value), 2, 'and so on replica b');
  });
});

