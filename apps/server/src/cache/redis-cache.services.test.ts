import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { startRedisServer, waitFor } from '../testing/redis-server.ts';
import type { Cache, CacheEntry } from './cache.ts';
import { createRedisCache, DEGRADED_VERSION_BASE, type RedisCache } from './redis-cache.ts';
import { createMemoryCache } from './memory-cache.ts';

const log = pino({ level: 'silent' });

async function redisCache(t: TestContext, url: string, namespace = 'influx|shared'): Promise<{ cache: RedisCache; fallback: Cache }> {
  const fallback = createMemoryCache();
  const cache = createRedisCache({ url, namespace, fallback, log, maxReconnectDelayMs: 200 });
  t.after(() => cache.close());
  await waitFor(() => cache.health().status === 'ok', 5000, 'the cache to reach Redis');
  return { cache, fallback };
}

const entry = <T>(value: T, version: number, startedAt = 1_699_999_999_990): CacheEntry<T> => ({ value, version, computedAt: 1_700_000_000_000, startedAt });

describe('Redis cache against a real redis-server', () => {
  it('stores entries with version and computedAt, and expires them after their TTL', async (t) => {
    const redis = await startRedisServer(t);
    const { cache } = await redisCache(t, redis.url);
    assert.equal(cache.kind, 'redis');
    assert.equal(await cache.get('overview:5m'), undefined);
    await cache.set('overview:5m', entry({ totalPops: 423, averageColdStart: 181.5 }, 7), 60_000);
    assert.deepEqual(await cache.get('overview:5m'), entry({ totalPops: 423, averageColdStart: 181.5 }, 7));
    await cache.set('short', entry([1, 2], 7), 150);
    assert.deepEqual((await cache.get('short'))?.value, [1, 2]);
    await waitFor(async () => (await cache.get('short')) === undefined, 2000, 'the short entry to expire');
  });

  it('shares entries and one data version between replicas of the same data, not across namespaces', async (t) => {
    const redis = await startRedisServer(t);
    const { cache: a } = await redisCache(t, redis.url);
    const { cache: b } = await redisCache(t, redis.url);
    const { cache: other } = await redisCache(t, redis.url, 'embedded|host|/data/b');
    const v0 = await a.dataVersion();
    assert.equal(await b.dataVersion(), v0);
    const v1 = await a.bumpDataVersion();
    assert.equal(v1, v0 + 1);
    assert.equal(await b.dataVersion(), v1, 'b sees a’s bump: b never serves an entry older than the data');
    await a.set('heatmap:5m:', entry(['FRA'], v1), 60_000);
    assert.deepEqual(await b.get('heatmap:5m:'), entry(['FRA'], v1));
    assert.equal(await other.get('heatmap:5m:'), undefined, 'another store’s data is another namespace');
    const otherVersion = await other.dataVersion();
    await a.bumpDataVersion();
    assert.equal(await other.dataVersion(), otherVersion);
  });

  it('keeps the entry it holds over one of an older version or of the same version begun earlier', async (t) => {
    const redis = await startRedisServer(t);
    const { cache: a } = await redisCache(t, redis.url);
    const { cache: b } = await redisCache(t, redis.url);
    await a.set('heatmap', entry(['after the write'], 5, 2000), 60_000);
    await b.set('heatmap', entry(['before the write'], 5, 1000), 60_000);
    assert.deepEqual((await a.get('heatmap'))?.value, ['after the write'], 'same version, begun earlier: not stored');
    await b.set('heatmap', entry(['older version'], 4, 3000), 60_000);
    assert.deepEqual((await b.get('heatmap'))?.value, ['after the write'], 'older version: not stored');
    await b.set('heatmap', entry(['same start'], 5, 2000), 60_000);
    assert.deepEqual((await a.get('heatmap'))?.value, ['same start'], 'same version and start: the last one');
    await b.set('heatmap', entry(['newer version'], 6, 500), 60_000);
    assert.deepEqual((await a.get('heatmap'))?.value, ['newer version'], 'a newer version replaces it, whenever it began');
    // An entry written by an older build (no startedAt) is replaced.
    const raw = new Redis(redis.url);
    t.after(() => raw.disconnect());
    const [key] = await raw.keys('*:e:heatmap');
    await raw.set(key!, JSON.stringify({ version: 9, computedAt: 1, value: ['old build'] }), 'PX', 60_000);
    await a.set('heatmap', entry(['new build'], 5, 1), 60_000);
    assert.deepEqual((await b.get('heatmap'))?.value, ['new build']);
  });

  it('serves from memory while Redis is down, never passing an old entry as fresh, and rejoins by itself', async (t) => {
    const redis = await startRedisServer(t);
    const { cache } = await redisCache(t, redis.url);
    const v = await cache.bumpDataVersion();
    await cache.set('overview:5m', entry({ n: 1 }, v), 60_000);

    await redis.stop({ crash: true });
    await waitFor(() => cache.health().status === 'degraded', 3000, 'the cache to report degraded');
    assert.match(cache.health().reason ?? '', /redis/);
    const t0 = Date.now();
    const lastGood = await cache.get<{ n: number }>('overview:5m');
    assert.ok(Date.now() - t0 < 500, 'a call during the outage does not wait for Redis');
    assert.deepEqual(lastGood, entry({ n: 1 }, v), 'the last good answer was kept in memory');
    const degradedVersion = await cache.dataVersion();
    assert.ok(degradedVersion >= DEGRADED_VERSION_BASE, 'versions while degraded cannot match a Redis one');
    assert.notEqual(degradedVersion, lastGood?.version, 'so the kept entry is stale, not fresh');

    // Work goes on in memory while degraded.
    const dv = await cache.bumpDataVersion();
    assert.equal(dv, degradedVersion + 1);
    await cache.set('overview:5m', entry({ n: 2 }, dv), 60_000);
    assert.deepEqual(await cache.get('overview:5m'), entry({ n: 2 }, dv));
    assert.equal(await cache.dataVersion(), dv);

    await redis.start();
    await waitFor(() => cache.health().status === 'ok', 5000, 'the cache to rejoin Redis');
    // This Redis lost everything; the recovery bump made the version non-zero.
    assert.ok((await cache.dataVersion()) >= 1);
    assert.equal(await cache.get('overview:5m'), undefined, 'entries written while degraded stay local');
  });

  it('bumps the shared version when it reconnects, since data may have landed while it could not', async (t) => {
    const redis = await startRedisServer(t);
    const { cache } = await redisCache(t, redis.url);
    const before = await cache.dataVersion();
    const raw = new Redis(redis.url);
    t.after(() => raw.disconnect());
    await raw.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    // While the connection is down for a moment the cache answers from memory (versions
    // from 2^48 up), so wait for the shared counter itself: bumped exactly once.
    await waitFor(async () => cache.health().status === 'ok' && (await cache.dataVersion()) === before + 1, 5000, 'the shared version bumped once after the reconnection');
    const keys = await raw.keys('*:version');
    assert.equal(keys.length, 1);
    assert.equal(await raw.get(keys[0]!), String(before + 1), 'the counter in Redis itself');
  });

  it('stores a precomputed body as the value, and no entry larger than maxEntryBytes (issue 15: H1)', async (t) => {
    const redis = await startRedisServer(t);
    const fallback = createMemoryCache({ maxEntryBytes: 2000 });
    const cache = createRedisCache({ url: redis.url, namespace: 'bytes', fallback, log, maxReconnectDelayMs: 200, maxEntryBytes: 2000 });
    t.after(() => cache.close());
    await waitFor(() => cache.health().status === 'ok', 5000, 'the cache to reach Redis');
    const value = [{ popCode: 'FRA', coldStartTime: 101.5 }];
    await cache.set('heatmap', { ...entry(value, 3), json: Buffer.from(JSON.stringify(value)) }, 60_000);
    assert.deepEqual(await cache.get('heatmap'), entry(value, 3), 'the same entry back, without the body');
    const raw = new Redis(redis.url);
    t.after(() => raw.disconnect());
    const [key] = await raw.keys('*:e:heatmap');
    assert.deepEqual(JSON.parse((await raw.get(key!))!), entry(value, 3));
    const big = ['x'.repeat(5000)];
    await cache.set('heatmap', entry(big, 4), 60_000);
    assert.equal(await raw.exists(key!), 0, 'too big: not stored, and the older copy is gone');
    assert.equal(await cache.get('heatmap'), undefined);
  });
});
