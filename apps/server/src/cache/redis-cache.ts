/**
 * The Cache port on Redis, shared by every replica that reads the same data.
 *
 * - Entries are JSON `{version, computedAt, startedAt, value}` under `<prefix><namespace>:e:<key>`
 *   with a TTL; the data version is a Redis counter (INCR) under
 *   `<prefix><namespace>:version`, so every replica compares against the same number.
 * - An entry does not replace one of a newer version, nor one of the same version whose
 *   computation began later (one script, so no other write comes between the look and the
 *   write). The version moves only when a watermark poll notices new data, so for up to a
 *   poll interval two replicas compute one version from different data: a slow replica's
 *   answer read before a write, stored last, hid the answer read after it, and a dashboard
 *   that had shown the new samples lost them again until the next bump. `startedAt` comes
 *   from each replica's clock: replicas on different hosts are ordered to their clock skew.
 *   The counter has no TTL: with a `volatile-*` or `noeviction` policy Redis never
 *   evicts it (an `allkeys-*` policy could, and versions would then repeat).
 * - `namespace` says whose data the entries describe: replicas on one shared
 *   InfluxDB share it; replicas on their own embedded stores each get their own,
 *   because the same question has a different answer on each.
 * - Redis down: every call goes to the in-process `fallback` cache at once and the
 *   cache reports `degraded` with the reason. Every entry is also written through
 *   to the fallback while Redis is up, so the last good answers are still there
 *   when Redis goes away. While degraded, versions are the fallback's counter plus
 *   2^48 (Redis counters never get near it): an entry from one source can never
 *   pass for fresh under the other's counter.
 * - Redis back: the version is bumped once (data may have landed while this replica
 *   could not bump it) before Redis entries are trusted again.
 * - Bytes: an entry whose JSON exceeds `maxEntryBytes` is not stored (nor in the
 *   fallback, which has its own byte bound). Every entry has a TTL, so with Redis's
 *   `maxmemory` and a `volatile-lru` policy Redis bounds the total and never evicts
 *   the version counter; the cache keys themselves are few (windows are snapped to
 *   a canonical set, see query/params.ts).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Cache, CacheEntry } from './cache.ts';
import { DEFAULT_CACHE_MAX_ENTRY_BYTES } from './memory-cache.ts';
import { closeRedisConnection, createRedisConnection } from '../cluster/redis-connection.ts';

export interface RedisCacheOptions {
  url: string;
  /** Identifies the data behind the entries (see above). */
  namespace: string;
  /** In-process cache used while Redis is unreachable. */
  fallback: Cache;
  log: Logger;
  keyPrefix?: string;
  /** Largest entry (JSON length) stored in Redis. */
  maxEntryBytes?: number;
  maxReconnectDelayMs?: number;
  commandTimeoutMs?: number;
  now?: () => number;
}

export interface RedisCacheHealth {
  status: 'ok' | 'degraded';
  kind: 'redis';
  /** Why the cache is degraded (the last Redis error), when it is. */
  reason?: string;
  /** Epoch ms since when it has been degraded. */
  degradedSince?: number;
}

export type RedisCache = Cache & { kind: 'redis'; health(): RedisCacheHealth };

/**
 * SET unless the entry there is newer: of a higher version, or of the same version begun
 * later. It reads only the head of the stored JSON (version, computedAt, startedAt come
 * first); an entry without `startedAt` (an older build's) is replaced.
 * KEYS[1] entry key; ARGV: text, version, startedAt, ttl (ms). Returns 1 when it wrote.
 */
const SET_UNLESS_NEWER = `
local head = redis.call('GETRANGE', KEYS[1], 0, 127)
if head ~= '' then
  local v, s = string.match(head, '^{"version":(%d+),"computedAt":%d+,"startedAt":(%d+),')
  if v then
    v, s = tonumber(v), tonumber(s)
    local nv, ns = tonumber(ARGV[2]), tonumber(ARGV[3])
    if v > nv or (v == nv and s > ns) then return 0 end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
return 1
`;

type RedisWithSet = Redis & { setUnlessNewer(key: string, text: string, version: number, startedAt: number, ttlMs: number): Promise<number> };

/** Fallback versions are moved above anything a Redis counter reaches (and back is never needed). */
export const DEGRADED_VERSION_BASE = 2 ** 48;
const asDegradedVersion = (v: number) => DEGRADED_VERSION_BASE + v;

export function createRedisCache(opts: RedisCacheOptions): RedisCache {
  const now = opts.now ?? Date.now;
  const log = opts.log;
  const base = `${opts.keyPrefix ?? 'ewm:'}cache:${opts.namespace}:`;
  const versionKey = `${base}version`;
  const entryKey = (key: string) => `${base}e:${key}`;
  const fallback = opts.fallback;
  const maxEntryBytes = opts.maxEntryBytes ?? DEFAULT_CACHE_MAX_ENTRY_BYTES;
  const redis = createRedisConnection({
    url: opts.url,
    name: 'cache',
    log,
    maxReconnectDelayMs: opts.maxReconnectDelayMs,
    commandTimeoutMs: opts.commandTimeoutMs,
  }) as RedisWithSet;
  // ioredis sends it by EVALSHA, loading the script again when Redis answers NOSCRIPT.
  redis.defineCommand('setUnlessNewer', { numberOfKeys: 1, lua: SET_UNLESS_NEWER });

  // `usable` turns true only after the recovery bump; until then everything goes to the fallback.
  let usable = false;
  let reason: string | undefined = 'connecting to redis';
  let degradedSince: number | undefined = now();
  let closed = false;
  let everUsable = false;

  function degrade(why: string) {
    if (usable) log.warn({ reason: why }, 'redis cache degraded: serving from this replica’s memory');
    usable = false;
    reason = why;
    degradedSince ??= now();
  }

  redis.on('ready', () => {
    redis.incr(versionKey).then(
      () => {
        if (closed || redis.status !== 'ready') return;
        if (everUsable && degradedSince !== undefined) log.info({ degradedMs: now() - degradedSince }, 'redis cache back');
        else log.info('redis cache connected');
        usable = true;
        everUsable = true;
        reason = undefined;
        degradedSince = undefined;
      },
      (err: Error) => degrade(`redis: ${err.message}`),
    );
  });
  redis.on('error', (err: Error) => degrade(`redis: ${err.message}`));
  redis.on('close', () => degrade('redis connection closed'));

  /** Runs `op` on Redis when usable; otherwise, or when it fails, `viaFallback`. */
  async function withRedis<T>(op: () => Promise<T>, viaFallback: () => Promise<T>): Promise<T> {
    if (usable && !closed) {
      try {
        return await op();
      } catch (err) {
        degrade(`redis: ${(err as Error).message}`);
      }
    }
    return viaFallback();
  }

  return {
    kind: 'redis',
    async get<T>(key: string): Promise<CacheEntry<T> | undefined> {
      return withRedis(
        async () => {
          const text = await redis.get(entryKey(key));
          return text === null ? undefined : (JSON.parse(text) as CacheEntry<T>);
        },
        () => fallback.get<T>(key),
      );
    },
    async set<T>(key: string, entry: CacheEntry<T>, ttlMs: number): Promise<void> {
      // Write-through: the fallback holds the last good answers for an outage.
      await fallback.set(key, entry, ttlMs);
      // Computed while degraded (or without any version): meaningless to other replicas.
      if (entry.version < 0 || entry.version >= DEGRADED_VERSION_BASE) return;
      await withRedis(
        async () => {
          // The value's JSON, made once when it was computed, goes in as it is.
          const value = entry.json ? entry.json.toString('utf8') : JSON.stringify(entry.value);
          // Without a start time (never from cached-queries), it counts as begun when computed.
          const startedAt = Math.round(entry.startedAt ?? entry.computedAt);
          const text = `{"version":${entry.version},"computedAt":${entry.computedAt},"startedAt":${startedAt},"value":${value}}`;
          // Too big to share: drop an older copy too, so it is not served in its place.
          if (text.length > maxEntryBytes) await redis.del(entryKey(key));
          else await redis.setUnlessNewer(entryKey(key), text, entry.version, startedAt, Math.max(1, Math.round(ttlMs)));
        },
        async () => {},
      );
    },
    async dataVersion(): Promise<number> {
      return withRedis(
        async () => Number((await redis.get(versionKey)) ?? 0),
        async () => asDegradedVersion(await fallback.dataVersion()),
      );
    },
    async bumpDataVersion(): Promise<number> {
      // The fallback is bumped too, so its own entries go stale while Redis is away.
      const local = await fallback.bumpDataVersion();
      return withRedis(
        async () => redis.incr(versionKey),
        async () => asDegradedVersion(local),
      );
    },
    health(): RedisCacheHealth {
      if (usable) return { status: 'ok', kind: 'redis' };
      return { status: 'degraded', kind: 'redis', reason: reason ?? 'redis unavailable', degradedSince };
    },
    async close() {
      closed = true;
      usable = false;
      await closeRedisConnection(redis);
      await fallback.close();
    },
  };
}
