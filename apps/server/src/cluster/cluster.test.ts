import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { loadConfig } from '../config.ts';
import { createMemoryCache } from '../cache/memory-cache.ts';
import { createHealthRegistry } from '../health/health.ts';
import type { BusEvent } from '../events.ts';
import { cacheNamespace, createCluster } from './cluster.ts';
import { reconnectDelay } from './redis-connection.ts';

const log = pino({ level: 'silent' });

describe('cluster without REDIS_URL', () => {
  it('is the single-process setup: local bus, always leader, the memory cache itself, no cluster health', async () => {
    const cluster = createCluster(loadConfig({ DATA_DIR: '/tmp/x' }), log);
    const seen: BusEvent[] = [];
    cluster.bus.subscribe((e) => seen.push(e));
    cluster.bus.publish({ type: 'data_landed', points: 1, latestMs: 5 });
    assert.deepEqual(seen, [{ type: 'data_landed', points: 1, latestMs: 5 }]);
    assert.equal(cluster.leadership.kind, 'single');
    assert.deepEqual(await cluster.leadership.runAsLeader(async (f) => f), { ran: true, value: 1 });
    const memory = createMemoryCache();
    assert.equal(cluster.cache(memory), memory);
    const health = createHealthRegistry();
    cluster.registerHealth(health);
    assert.deepEqual((await health.report()).components, {});
    await cluster.close();
  });
});

describe('cluster settings', () => {
  it('shares cache entries between replicas of one InfluxDB database, never between embedded stores', () => {
    const influx = loadConfig({ METRICS_STORE: 'influxdb', INFLUX_URL: 'http://influx:8086/', INFLUX_DB: 'prod' });
    assert.equal(cacheNamespace(influx), 'influxdb|http://influx:8086|prod');
    const a = cacheNamespace(loadConfig({ DATA_DIR: '/srv/a' }));
    const b = cacheNamespace(loadConfig({ DATA_DIR: '/srv/b' }));
    assert.match(a, /^embedded\|.+\|\/srv\/a$/);
    assert.notEqual(a, b);
  });

  it('reads REDIS_LOCK_TTL_MS (default 15 s) and refuses a bad one by name', () => {
    assert.equal(loadConfig({}).redisLockTtlMs, 15_000);
    assert.equal(loadConfig({ REDIS_LOCK_TTL_MS: '2000' }).redisLockTtlMs, 2000);
    assert.throws(() => loadConfig({ REDIS_LOCK_TTL_MS: '10' }), /^ConfigError: REDIS_LOCK_TTL_MS=10 is invalid: expected an integer from 300 to 600000/);
    assert.throws(() => loadConfig({ REDIS_LOCK_TTL_MS: 'soon' }), /REDIS_LOCK_TTL_MS=soon is invalid/);
  });

  it('reconnects with exponential backoff, capped, with a little jitter', () => {
    const first = reconnectDelay(1, 2000);
    assert.ok(first >= 100 && first <= 120, `first retry ${first}`);
    const fourth = reconnectDelay(4, 2000);
    assert.ok(fourth >= 800 && fourth <= 960, `fourth retry ${fourth}`);
    for (const attempt of [10, 100, 10_000]) {
      const d = reconnectDelay(attempt, 2000);
      assert.ok(d >= 2000 && d <= 2400, `attempt ${attempt}: ${d}`);
    }
  });
});
