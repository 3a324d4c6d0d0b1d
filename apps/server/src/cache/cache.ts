/**
 * The cache port: query results shared by every replica (Redis) or kept in this
 * process (memory). Entries carry the data version they were computed at, so a
 * cached answer is never older than the data it claims to describe, and the time
 * they were computed, so a last-good answer served during an outage can say its age.
 */
export interface CacheEntry<T> {
  value: T;
  /** The data version (see `dataVersion`) the value was computed at. */
  version: number;
  /** Epoch ms when the value was computed. */
  computedAt: number;
  /**
   * Epoch ms when its computation began, before it read the store. Of two entries of one
   * version, the one begun later read the later data: the Redis cache keeps that one when
   * replicas computing side by side finish in the other order (see redis-cache.ts).
   */
  startedAt?: number;
  /**
   * The value as UTF-8 JSON, made once when it was computed, so answering it again
   * costs no serialisation and sizing it in the cache is exact. Kept by the memory
   * cache; the Redis cache stores it as the entry's value and does not hand it back.
   */
  json?: Buffer;
}

export interface Cache {
  readonly kind: 'memory' | 'redis';
  get<T>(key: string): Promise<CacheEntry<T> | undefined>;
  /**
   * Keeps the entry for at least `ttlMs` (the last-good fallback needs it to outlive the data
   * version). A shared cache may keep the entry it holds instead, when that one is of a newer
   * version or of the same version begun later (another replica read later data).
   */
  set<T>(key: string, entry: CacheEntry<T>, ttlMs: number): Promise<void>;
  /** Current data version: bumped every time new data lands anywhere. */
  dataVersion(): Promise<number>;
  bumpDataVersion(): Promise<number>;
  close(): Promise<void>;
}
