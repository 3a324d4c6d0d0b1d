/**
 * The Cache port in this process: a bounded map (least recently used entries go
 * first) and a data-version counter. Used alone without REDIS_URL, and by the
 * Redis cache as its fallback while Redis is unreachable.
 */
import type { Cache, CacheEntry } from './cache.ts';

export interface MemoryCacheOptions {
  /** Most entries kept; the least recently used go first. */
  maxEntries?: number;
  now?: () => number;
}

export interface MemoryCache extends Cache {
  readonly kind: 'memory';
  size(): number;
}

export function createMemoryCache(opts: MemoryCacheOptions = {}): MemoryCache {
  const maxEntries = opts.maxEntries ?? 2000;
  const now = opts.now ?? Date.now;
  // Map keeps insertion order: re-inserting on read makes it an LRU.
  const entries = new Map<string, { entry: CacheEntry<unknown>; expiresAt: number }>();
  let version = 0;
  return {
    kind: 'memory',
    async get<T>(key: string) {
      const hit = entries.get(key);
      if (!hit) return undefined;
      entries.delete(key);
      if (hit.expiresAt <= now()) return undefined;
      entries.set(key, hit);
      return hit.entry as CacheEntry<T>;
    },
    async set<T>(key: string, entry: CacheEntry<T>, ttlMs: number) {
      entries.delete(key);
      entries.set(key, { entry, expiresAt: now() + ttlMs });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    async dataVersion() {
      return version;
    },
    async bumpDataVersion() {
      return ++version;
    },
    size: () => entries.size,
    async close() {
      entries.clear();
    },
  };
}
