/**
 * What a replica shares with the others, picked from the config in one place so
 * `app.ts` stays a list of choices: the Bus (local, or Redis pub/sub), the detector's
 * Leadership (always this process, or a Redis lock) and the query Cache (this
 * process's memory, or Redis in front of it). Without REDIS_URL this is exactly the
 * single-process setup.
 *
 * What replicas share depends on the metrics store. On a shared InfluxDB every
 * replica reads the same data, so cache entries and their data version are shared.
 * On the embedded store each replica has its own data in its own DATA_DIR: events
 * still cross (a write on A makes B's clients get a metrics_update, computed from
 * B's own data) but cache entries stay per replica, because the same question has a
 * different answer on each.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Cache } from '../cache/cache.ts';
import { createRedisCache, type RedisCache } from '../cache/redis-cache.ts';
import type { Config } from '../config.ts';
import { createLocalBus, type Bus } from '../events.ts';
import type { HealthRegistry } from '../health/health.ts';
import { createSingleLeadership, type Leadership } from './leadership.ts';
import { createRedisBus, type RedisBus } from './redis-bus.ts';
import { createRedisLeadership, newReplicaId, type RedisLeadership } from './redis-leadership.ts';

export interface Cluster {
  readonly replicaId: string;
  readonly bus: Bus;
  readonly leadership: Leadership;
  /** The cache the queries use: `memory` itself, or Redis with `memory` as its fallback. */
  cache(memory: Cache): Cache;
  /** Adds the `cache` (when Redis) and `cluster` components to /health. */
  registerHealth(health: HealthRegistry): void;
  close(): Promise<void>;
}

/** Whose data a cache entry describes (see above). */
export function cacheNamespace(config: Config): string {
  if (config.metricsStore === 'influxdb' && config.influx) return `influxdb|${config.influx.url}|${config.influx.db}`;
  return `embedded|${hostname()}|${config.dataDir}`;
}

export function createCluster(config: Config, log: Logger): Cluster {
  const replicaId = newReplicaId();
  const url = config.redisUrl;
  if (!url) {
    return {
      replicaId,
      bus: createLocalBus((err) => log.error({ err }, 'bus listener failed')),
      leadership: createSingleLeadership(replicaId),
      cache: (memory) => memory,
      registerHealth: () => {},
      close: async () => {},
    };
  }

  const clusterLog = log.child({ module: 'cluster', replicaId });
  const bus: RedisBus = createRedisBus({ url, replicaId, log: clusterLog.child({ part: 'bus' }) });
  const leadership: RedisLeadership = createRedisLeadership({
    url,
    replicaId,
    ttlMs: config.redisLockTtlMs,
    log: clusterLog.child({ part: 'leadership' }),
  });
  let redisCache: RedisCache | undefined;
  const sharedData = config.metricsStore === 'influxdb';
  clusterLog.info({ lockTtlMs: config.redisLockTtlMs, cacheNamespace: cacheNamespace(config) }, 'cluster mode: shared cache, fan-out and detector lock on Redis');
  if (!sharedData) {
    clusterLog.warn(
      'REDIS_URL with the embedded metrics store: replicas share events and the detector lock but not data (each has its own DATA_DIR); use METRICS_STORE=influxdb for replicas that answer alike',
    );
  }

  return {
    replicaId,
    bus,
    leadership,
    cache(memory) {
      redisCache = createRedisCache({ url, namespace: cacheNamespace(config), fallback: memory, maxEntryBytes: config.hardening.cacheMaxEntryBytes, log: clusterLog.child({ part: 'cache' }) });
      return redisCache;
    },
    registerHealth(health) {
      if (redisCache) {
        const c = redisCache;
        health.register({ name: 'cache', required: false, check: () => ({ ...c.health() }) });
      }
      health.register({
        name: 'cluster',
        required: false,
        check: () => {
          const l = leadership.health();
          const b = bus.health();
          return {
            status: l.status === 'ok' && b.status === 'ok' ? 'ok' : 'degraded',
            replicaId,
            // Whether every replica reads the same metrics (a shared InfluxDB) or only its own (embedded).
            sharedData,
            leader: l.leader,
            fence: l.fence,
            holder: l.holder,
            lockTtlMs: l.lockTtlMs,
            ...(l.reason ? { leadershipReason: l.reason } : {}),
            fanOut: b,
          };
        },
      });
    },
    async close() {
      // Release the lock first so another replica can take over at once.
      await leadership.close();
      await Promise.all([bus.close(), redisCache?.close()]);
    },
  };
}
