/**
 * The Cache port in this process: an LRU (lru-cache) bounded by entry count and by
 * bytes, and a data-version counter. Used alone without REDIS_URL, and by the Redis
 * cache as its fallback while Redis is unreachable.
 *
 * An entry's size is the bytes of its JSON, what it costs in Redis and on the wire
 * (kept beside the value, see CacheEntry.json); the value's objects take about as
 * much again in the heap. An answer larger
 * than `maxEntryBytes` is not kept at all (it is computed again when asked), so one
 * huge answer cannot push every other out.
 */
import { LRUCache } from 'lru-cache';
import type { Cache, CacheEntry } from './cache.ts';

export interface MemoryCacheOptions {
  /** Most entries kept; the least recently used go first. */
  maxEntries?: number;
  /** Most bytes (of the values' JSON) kept; the least recently used go first. */
  maxBytes?: number;
  /** Largest single entry kept. */
  maxEntryBytes?: number;
  now?: () => number;
}

export interface MemoryCache extends Cache {
  readonly kind: 'memory';
  size(): number;
  /** Bytes held (of the values' JSON). */
  bytes(): number;
}

export const DEFAULT_CACHE_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_CACHE_MAX_ENTRY_BYTES = 8 * 1024 * 1024;

/** What an entry costs: the bytes of its value's JSON. */
export function entryBytes(entry: CacheEntry<unknown>): number {
  return (entry.json ? entry.json.byteLength : Buffer.byteLength(JSON.stringify(entry.value) ?? '')) + 64;
}

export function createMemoryCache(opts: MemoryCacheOptions = {}): MemoryCache {
  const now = opts.now ?? Date.now;
  const maxBytes = opts.maxBytes ?? DEFAULT_CACHE_MAX_BYTES;
  const maxEntryBytes = Math.min(opts.maxEntryBytes ?? DEFAULT_CACHE_MAX_ENTRY_BYTES, maxBytes);
  // Expiry is checked against our clock (tests pin it), not lru-cache's own timer.
  const entries = new LRUCache<string, { entry: CacheEntry<unknown>; expiresAt: number; bytes: number }>({
    max: opts.maxEntries ?? 2000,
    maxSize: maxBytes,
    sizeCalculation: (v) => v.bytes,
  });
  let version = 0;
  return {
    kind: 'memory',
    async get<T>(key: string) {
      const hit = entries.get(key);
      if (!hit) return undefined;
      if (hit.expiresAt <= now()) {
        entries.delete(key);
        return undefined;
      }
      return hit.entry as CacheEntry<T>;
    },
    async set<T>(key: string, entry: CacheEntry<T>, ttlMs: number) {
      const bytes = entryBytes(entry);
      if (bytes > maxEntryBytes) {
        // Too big to keep: drop an older copy too, so it is not served in its place.
        entries.delete(key);
        return;
      }
      entries.set(key, { entry, expiresAt: now() + ttlMs, bytes });
    },
    async dataVersion() {
      return version;
    },
    async bumpDataVersion() {
      return ++version;
    },
    size: () => entries.size,
    bytes: () => entries.calculatedSize,
    async close() {
      entries.clear();
    },
  };
}
