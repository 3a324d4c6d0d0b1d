/**
 * What a cache of rollup periods needs to know about invalidations that happened while one
 * of its loads was in flight: a load records the epoch it started in, and keeps (or shares)
 * what it read only if no invalidation touched its keys since. Live, the rollup step
 * invalidates the minute that just closed every minute; a whole-epoch check threw away the
 * start-up warming of a week whenever a step landed during it. Marks are kept only while a
 * load depends on them (`forget` when none does). Used by the per-POP blocks and by one
 * POP's periods.
 */
export interface InvalidationClock<K> {
  /** The current epoch: what a load records when it starts. */
  now(): number;
  /** Whether `key` (or everything) was invalidated after epoch `since`. */
  changedSince(key: K, since: number): boolean;
  /** An invalidation: a new epoch. `keys` are marked with it when `loadsInFlight`; null touches every key. */
  invalidate(keys: Iterable<K> | null, loadsInFlight: boolean): void;
  /** No load in flight depends on the marks any more. */
  forget(): void;
}

export function createInvalidationClock<K>(): InvalidationClock<K> {
  let epoch = 0;
  let allTouchedAt = 0;
  const touchedAt = new Map<K, number>();
  return {
    now: () => epoch,
    changedSince: (key, since) => allTouchedAt > since || (touchedAt.get(key) ?? 0) > since,
    invalidate(keys, loadsInFlight) {
      epoch++;
      if (keys === null) allTouchedAt = epoch;
      else if (loadsInFlight) for (const k of keys) touchedAt.set(k, epoch);
    },
    forget: () => touchedAt.clear(),
  };
}
