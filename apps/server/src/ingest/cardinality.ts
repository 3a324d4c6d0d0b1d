/**
 * Caps on distinct POPs and functions (MAX_POPS, MAX_FUNCTIONS), for any store: every
 * answer carries every POP and the stores keep a catalog of them, so an unbounded
 * number of POP codes (a bug in an agent, or an attack) would take the service down.
 * Points of POPs and functions already known always write; a body that would bring the
 * count past a cap is refused whole (422) and stores nothing.
 *
 * Known names come from the store's catalog (seenPops / seenFunctions), read once and
 * then refreshed in the background, plus every name admitted here since, so the check
 * is one Set lookup per point and never waits for the store. With other writers on a
 * shared InfluxDB the count can lag by up to the refresh period.
 */
import type { ColdStartSample } from '@edgeworker/schema';
import type { Logger } from 'pino';
import { AppError } from '../http/errors.ts';
import type { MetricsStore } from '../stores/metrics-store.ts';

export interface CardinalityLimits {
  maxPops: number;
  maxFunctions: number;
  /**
   * Most (POP, function) series with a sample in the last `seriesWindowMs` (MAX_SERIES). The
   * detector keeps state for each series it reads (~11 KB allocated at its first bucket), and
   * the two caps above allow MAX_POPS × MAX_FUNCTIONS of them (1M by default: ~11 GB).
   */
  maxSeries?: number;
  /** The span a series counts for after its newest sample: the detector's history span. */
  seriesWindowMs?: number;
}

const REFRESH_MS = 60_000;
const NAMED_IN_ERROR = 5;

export function createCardinalityGuard(
  store: Pick<MetricsStore, 'seenPops' | 'seenFunctions' | 'seriesMeans'>,
  limits: CardinalityLimits,
  deps: { now: () => number; log: Logger },
) {
  const pops = new Set<string>();
  const functions = new Set<string>();
  const maxSeries = limits.maxSeries ?? Number.POSITIVE_INFINITY;
  const windowMs = limits.seriesWindowMs ?? 4 * 3_600_000;
  const countSeries = Number.isFinite(maxSeries);
  /**
   * Series reporting within the window: POP → function → when last admitted or found in the
   * store (ms); two levels, so the check per point is two lookups and no string is built.
   */
  const series = new Map<string, Map<string, number>>();
  let seriesCount = 0;
  const touch = (popCode: string, functionName: string, ms: number) => {
    let fns = series.get(popCode);
    if (!fns) series.set(popCode, (fns = new Map()));
    if (!fns.has(functionName)) seriesCount++;
    fns.set(functionName, ms);
  };
  let loadedAt: number | undefined;
  let loading: Promise<void> | undefined;

  /** The series the store holds within the window (any writer's), and forgets those that left it. */
  async function activeSeries(): Promise<void> {
    if (!countSeries) return;
    const nowMs = deps.now();
    const inStore = await store.seriesMeans({ fromNs: BigInt(Math.floor(nowMs - windowMs)) * 1_000_000n, toNs: BigInt(Math.floor(nowMs + windowMs)) * 1_000_000n });
    // Their newest sample is not in the answer: they count from now, until a refresh no longer finds them.
    for (const x of inStore) touch(x.popCode, x.functionName, nowMs);
    for (const [pop, fns] of series) {
      for (const [fn, ms] of fns) {
        if (ms < nowMs - windowMs) {
          fns.delete(fn);
          seriesCount--;
        }
      }
      if (fns.size === 0) series.delete(pop);
    }
  }

  function refresh(): Promise<void> {
    loading ??= Promise.all([store.seenPops(), store.seenFunctions(), activeSeries()])
      .then(([p, f]) => {
        for (const x of p) pops.add(x.popCode);
        for (const x of f) functions.add(x);
      })
      .catch((err) => deps.log.warn({ err }, 'could not read the known POPs and functions; counting the ones written here'))
      .finally(() => {
        loadedAt = deps.now();
        loading = undefined;
      });
    return loading;
  }

  return {
    /**
     * Admits the samples' POPs and functions or throws 422 naming the first new ones.
     * Admitted names count from now on, so concurrent bodies cannot pass a cap together.
     * Returns an undo for when the store then refuses the write.
     */
    async admit(samples: readonly ColdStartSample[]): Promise<() => void> {
      if (loadedAt === undefined) await refresh();
      else if (deps.now() - loadedAt > REFRESH_MS) void refresh();
      let newPops: Set<string> | undefined;
      let newFunctions: Set<string> | undefined;
      for (const s of samples) {
        if (!pops.has(s.popCode)) (newPops ??= new Set()).add(s.popCode);
        if (!functions.has(s.functionName)) (newFunctions ??= new Set()).add(s.functionName);
      }
      if (newPops && pops.size + newPops.size > limits.maxPops) {
        throw tooMany('pops', 'POPs', 'MAX_POPS', newPops, pops.size, limits.maxPops);
      }
      if (newFunctions && functions.size + newFunctions.size > limits.maxFunctions) {
        throw tooMany('functions', 'functions', 'MAX_FUNCTIONS', newFunctions, functions.size, limits.maxFunctions);
      }
      // Series: only samples within the window count (a backfill of old history does not report now).
      let newSeries: Map<string, Set<string>> | undefined;
      let newSeriesCount = 0;
      const nowMs = deps.now();
      if (countSeries) {
        const fromNs = BigInt(Math.floor(nowMs - windowMs)) * 1_000_000n;
        for (const s of samples) {
          if (s.timeNs < fromNs || series.get(s.popCode)?.has(s.functionName)) continue;
          let fns = newSeries?.get(s.popCode);
          if (!fns) (newSeries ??= new Map()).set(s.popCode, (fns = new Set()));
          if (!fns.has(s.functionName)) {
            fns.add(s.functionName);
            newSeriesCount++;
          }
        }
        if (newSeries && seriesCount + newSeriesCount > maxSeries) {
          const names = new Set<string>();
          for (const [pop, fns] of newSeries) for (const fn of fns) if (names.size <= NAMED_IN_ERROR) names.add(`${pop}/${fn}`);
          throw tooMany('series', '(POP, function) series', 'MAX_SERIES', names, seriesCount, maxSeries, newSeriesCount);
        }
      }
      for (const p of newPops ?? []) pops.add(p);
      for (const f of newFunctions ?? []) functions.add(f);
      // Every series of the body reports as of now (the new ones and those already counted).
      if (countSeries) {
        const fromNs = BigInt(Math.floor(nowMs - windowMs)) * 1_000_000n;
        let lastPop: string | undefined;
        let lastFn: string | undefined;
        for (const s of samples) {
          if (s.timeNs < fromNs || (s.popCode === lastPop && s.functionName === lastFn)) continue;
          touch(s.popCode, s.functionName, nowMs);
          lastPop = s.popCode;
          lastFn = s.functionName;
        }
      }
      return () => {
        for (const p of newPops ?? []) pops.delete(p);
        for (const f of newFunctions ?? []) functions.delete(f);
        for (const [pop, fns] of newSeries ?? []) {
          for (const fn of fns) if (series.get(pop)?.delete(fn)) seriesCount--;
          if (series.get(pop)?.size === 0) series.delete(pop);
        }
      };
    },
  };
}

function tooMany(code: string, what: string, variable: string, fresh: Set<string>, known: number, max: number, count = fresh.size) {
  const names = [...fresh].slice(0, NAMED_IN_ERROR).join(', ') + (fresh.size > NAMED_IN_ERROR ? ', …' : '');
  return new AppError(
    `too_many_${code}`,
    `this body brings ${count} new ${what} (${names}) but ${known} of at most ${max} are known (${variable}); ` +
      `nothing of it was stored. Points of known ${what} are still accepted; raise ${variable} if these are real`,
    422,
  );
}
