/**
 * The read side as the routes and the live hub see it: the query service's answers
 * through the cache, with three promises.
 * - Never older than the data: an entry is reused only while the data version it was
 *   computed at is current (every `data_landed` bumps it) and it is younger than
 *   `freshMs` (windows like "the last 5 minutes" slide even without new data).
 * - Stale-while-revalidate: an entry of the current version that is older than
 *   `freshMs` but younger than `revalidateMs` is answered at once and recomputed
 *   in the background (unless that recomputation just failed: then the caller waits
 *   for a fresh attempt and gets the entry marked stale if it fails again).
 * - Last good: when computing fails because the store is down, the newest entry for
 *   the same question (any version, kept for `lastGoodMs`) is answered, marked stale
 *   with its age; with none, a 503 that says what to do.
 * Concurrent identical questions share one computation (single flight).
 */
import type { FunctionInfo, HeatmapEntry, Overview, Pop, PopDetail, Timeseries } from '@edgeworker/schema';
import type { Logger } from 'pino';
import { AppError } from '../http/errors.ts';
import type { QueryService } from '../query/query-service.ts';
import type { Resolution } from '../stores/metrics-store.ts';
import type { Cache, CacheEntry } from './cache.ts';

export interface Answer<T> {
  value: T;
  /** Set when the value is a last-good answer served because the store failed. */
  staleAgeMs?: number;
  /** The value as UTF-8 JSON, when it is at hand: routes answering the value as it is send this. */
  json?: Buffer;
}

export interface CachedQueriesOptions {
  query: QueryService;
  cache: Cache;
  now?: () => number;
  log?: Logger;
  freshMs?: number;
  revalidateMs?: number;
  lastGoodMs?: number;
  /** Counts answers by outcome (hit, miss, revalidate, stale, error) for /metrics. */
  onOutcome?: (outcome: 'hit' | 'miss' | 'revalidate' | 'stale' | 'error') => void;
}

export type CachedQueries = ReturnType<typeof createCachedQueries>;

/** Client errors (unknown POP, bad range) are answers, not outages: they are never replaced by a stale value. */
function isClientError(err: unknown): boolean {
  return err instanceof AppError && err.statusCode < 500;
}

/**
 * One cache key from its parts, each percent-encoded so a part cannot carry the
 * separator: POP `FRA:Y` with function `ssr` and POP `FRA` with function `Y:ssr`
 * were the same key once. An absent part (no function filter) is empty, which no
 * real value is (names have at least one character).
 */
export function cacheKey(...parts: Array<string | number | undefined>): string {
  return parts.map((p) => (p === undefined ? '' : encodeURIComponent(String(p)))).join(':');
}

/** The heatmap as cached: the resolution first, so the entries' JSON is the tail of the value's. */
interface HeatmapAnswer {
  resolution: Resolution;
  entries: HeatmapEntry[];
}

/**
 * The entries' JSON inside a cached heatmap's JSON (`{"resolution":"raw","entries":[…]}`),
 * as a view on the same bytes, so a hit sends the array without serialising it again.
 * Undefined when the bytes are not of that shape (the route then serialises the array).
 */
export function entriesJson(json: Buffer, resolution: Resolution): Buffer | undefined {
  const head = `{"resolution":${JSON.stringify(resolution)},"entries":`;
  if (json.length <= head.length || json[json.length - 1] !== 0x7d || json.toString('utf8', 0, head.length) !== head) return undefined;
  return json.subarray(head.length, json.length - 1);
}

export function createCachedQueries(opts: CachedQueriesOptions) {
  const now = opts.now ?? Date.now;
  const freshMs = opts.freshMs ?? 2000;
  const revalidateMs = opts.revalidateMs ?? 10_000;
  const lastGoodMs = opts.lastGoodMs ?? 24 * 3_600_000;
  const inFlight = new Map<string, Promise<unknown>>();
  // Keys whose last computation failed: their old entries are no longer served as if current.
  const failing = new Set<string>();
  const outcome = (o: Parameters<NonNullable<CachedQueriesOptions['onOutcome']>>[0]) => opts.onOutcome?.(o);

  // The cache is an optimisation: when it fails, answer from the store directly.
  async function safe<T>(fn: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      opts.log?.debug({ err: (err as Error).message }, 'cache unavailable; computing directly');
      return fallback;
    }
  }

  /**
   * One computation per key and data version: a request that saw a newer version never
   * joins a computation that started before it (that one may have read the store before
   * the change that bumped the version, e.g. an alert raised a moment ago).
   */
  function computeOnce<T>(key: string, lastGoodKey: string, compute: () => Promise<T>, version: number): Promise<CacheEntry<T>> {
    const flight = `${version}|${key}`;
    const running = inFlight.get(flight);
    if (running) return running as Promise<CacheEntry<T>>;
    const p = (async () => {
      const startedAt = now();
      let value: T;
      try {
        value = await compute();
      } catch (err) {
        if (!isClientError(err)) failing.add(key);
        throw err;
      }
      failing.delete(key);
      // Serialised once here: the cache sizes it by this, the Redis cache stores it as the value
      // (so it must be the whole value's JSON), and every answer of it sends it as is.
      const entry: CacheEntry<T> = { value, version, computedAt: now(), startedAt, json: Buffer.from(JSON.stringify(value)) };
      await safe(async () => {
        // A one-off key (an exact time range) only needs to live through revalidation.
        await opts.cache.set(key, entry, lastGoodKey === key ? lastGoodMs : revalidateMs * 2);
        if (lastGoodKey !== key) await opts.cache.set(lastGoodKey, entry, lastGoodMs);
      }, undefined);
      return entry;
    })().finally(() => inFlight.delete(flight));
    inFlight.set(flight, p);
    return p;
  }

  async function answer<T>(key: string, compute: () => Promise<T>, lastGoodKey = key): Promise<Answer<T>> {
    const [version, cached] = await Promise.all([
      safe(() => opts.cache.dataVersion(), -1),
      safe(() => opts.cache.get<T>(key), undefined),
    ]);
    if (cached && version >= 0 && cached.version === version) {
      const age = now() - cached.computedAt;
      if (age < freshMs) {
        outcome('hit');
        return { value: cached.value, json: cached.json };
      }
      if (age < revalidateMs && !failing.has(key)) {
        outcome('revalidate');
        computeOnce(key, lastGoodKey, compute, version).catch((err) => opts.log?.debug({ err: (err as Error).message, key }, 'background refresh failed'));
        return { value: cached.value, json: cached.json };
      }
    }
    try {
      const entry = await computeOnce(key, lastGoodKey, compute, version);
      outcome('miss');
      return { value: entry.value, json: entry.json };
    } catch (err) {
      if (isClientError(err)) throw err;
      const last = cached ?? (await safe(() => opts.cache.get<T>(lastGoodKey), undefined));
      if (last) {
        outcome('stale');
        opts.log?.warn({ err: (err as Error).message, key, ageMs: now() - last.computedAt }, 'store failed; answering the last good result, marked stale');
        return { value: last.value, staleAgeMs: Math.max(0, now() - last.computedAt), json: last.json };
      }
      outcome('error');
      // The store's own error stays out of the body (it can name hosts and internals);
      // the error handler logs it as the cause under the request id.
      throw new AppError(
        'store_unavailable',
        'the metrics store cannot answer and there is no earlier result to fall back on; see /health, and retry once the store is back',
        503,
        {},
        { cause: err },
      );
    }
  }

  const q = opts.query;
  return {
    overview: (windowMs: number, label: string, fn?: string): Promise<Answer<Overview>> =>
      answer(cacheKey('overview', windowMs, fn), () => q.overview(windowMs, label, fn)),
    // Cached with its resolution, which the route sends as X-Resolution (the array itself keeps the
    // SPEC's shape). The entry's JSON is the whole value's, as every cache entry's is (the Redis
    // cache stores it as the value: an entry whose JSON was the array alone came back from Redis
    // without its resolution, and every hit was a 500); the array's bytes are a view on it.
    // `heatmap-r2`: entries under `heatmap-r` from older builds hold that array alone.
    heatmap: async (windowMs: number, fn?: string): Promise<Answer<HeatmapEntry[]> & { resolution: Resolution }> => {
      const key = cacheKey('heatmap-r2', windowMs, fn);
      const a = await answer(key, async (): Promise<HeatmapAnswer> => {
        const { resolution, entries } = await q.heatmap(windowMs, fn);
        return { resolution, entries };
      });
      return { ...a, value: a.value.entries, resolution: a.value.resolution, json: a.json && entriesJson(a.json, a.value.resolution) };
    },
    pops: (): Promise<Answer<Pop[]>> => answer('pops', () => q.knownPops()),
    popDetail: (code: string, windowMs: number, label: string): Promise<Answer<PopDetail>> =>
      answer(cacheKey('pop', code.toUpperCase(), windowMs), () => q.popDetail(code, windowMs, label)),
    // Ranges ending "now" differ on every call: the exact range is the cache key, and
    // the last good answer is kept per (POP, function, step, span) for outages.
    timeseries: (code: string, fromMs: number, toMs: number, stepMs: number, fn?: string): Promise<Answer<Timeseries>> =>
      answer(
        cacheKey('ts', code.toUpperCase(), fn, stepMs, fromMs, toMs),
        () => q.timeseries(code, fromMs, toMs, stepMs, fn),
        cacheKey('ts-last', code.toUpperCase(), fn, stepMs, toMs - fromMs),
      ),
    functions: (): Promise<Answer<FunctionInfo[]>> => answer('functions', () => q.functions()),
  };
}
