/**
 * The metrics-store port: everything the server needs from a time-series backend.
 * Adapters (embedded DuckDB now, InfluxDB next) implement it; one contract suite
 * (metrics-store.contract.ts) runs against each of them.
 *
 * Ranges are half-open [fromNs, toNs). Percentiles are continuous (linear
 * interpolation between ranks) unless an adapter documents otherwise.
 */
import type { ColdStartSample } from '@edgeworker/schema';

export interface TimeRange {
  fromNs: bigint;
  toNs: bigint;
}

export interface SeriesFilter {
  /** Only samples of this function; all functions when absent. */
  functionName?: string | undefined;
  /** Only samples of this POP; all POPs when absent. */
  popCode?: string | undefined;
}

export interface AggregateStats {
  samples: number;
  mean: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface PopAggregate extends AggregateStats {
  popCode: string;
}

export interface FunctionAggregate extends AggregateStats {
  functionName: string;
}

export interface Bucket extends AggregateStats {
  /** Bucket start in epoch ms; buckets are aligned to multiples of the step since the epoch. */
  startMs: number;
}

/** What the data says about a POP (its newest tags and coordinates). */
export interface SeenPop {
  popCode: string;
  city: string;
  country: string;
  tier: string;
  lat: number;
  lon: number;
  lastSeenNs: bigint;
}

/**
 * Which data answered a question: the raw samples (exact percentiles) or a rollup
 * (count, mean, min, max exact; percentiles from a mergeable sketch within 1 %).
 * An answer that combines several names the coarsest it used.
 */
export type Resolution = 'raw' | '1m' | '1h';

export interface SummarizeOptions {
  /** Per-POP percentiles wanted (default true). */
  popQuantiles?: boolean;
}

export interface Summary {
  overall: AggregateStats;
  byPop: PopAggregate[];
  resolution: Resolution;
}

export interface TimeseriesAnswer {
  /** Non-empty buckets only, ascending; callers fill gaps. */
  buckets: Bucket[];
  resolution: Resolution;
}

/** One time bucket of one (POP, function) series; what the regression detector reads. */
export interface SeriesBucket {
  popCode: string;
  functionName: string;
  /** Bucket start in epoch ms, aligned to multiples of the step since the epoch. */
  startMs: number;
  samples: number;
  mean: number;
  /** Median of the bucket's samples. */
  p50: number;
}

/**
 * seriesBuckets as columns, in ascending startMs (ties in any order): what a detector
 * re-derive reads (444k buckets over 35 min at 2,115 series) without an object per bucket.
 * Bucket i belongs to series `series[i]`, named `pops[series[i]]`, `functions[series[i]]`.
 */
export interface SeriesBucketColumns {
  pops: string[];
  functions: string[];
  series: ArrayLike<number>;
  startMs: ArrayLike<number>;
  samples: ArrayLike<number>;
  mean: ArrayLike<number>;
  p50: ArrayLike<number>;
}

export interface SeriesBucketsOptions {
  /** Only these POPs' series (codes as stored; any characters: they come from clients). Absent: every POP. */
  pops?: readonly string[];
}

/** Count and mean of one (POP, function) series over a range: what a POP's status is made of. */
export interface SeriesMean {
  popCode: string;
  functionName: string;
  samples: number;
  mean: number;
}

export interface MetricsStore {
  readonly kind: string;
  /** Stores every sample or none (one transaction); resolves once durable. */
  write(samples: readonly ColdStartSample[]): Promise<void>;
  /**
   * Overall and per-POP statistics over a range, in one pass. With `popQuantiles: false`
   * the caller needs only per-POP counts and means (the overview), and an adapter may
   * answer per-POP p50/p95/p99 as null to save work.
   */
  summarize(range: TimeRange, filter?: SeriesFilter, options?: SummarizeOptions): Promise<Summary>;
  /** Per-function statistics of one POP over a range. */
  byFunction(popCode: string, range: TimeRange): Promise<FunctionAggregate[]>;
  timeseries(popCode: string, range: TimeRange, stepMs: number, filter?: SeriesFilter): Promise<TimeseriesAnswer>;
  /**
   * Every (POP, function) series bucketed by step over a range, in one query; non-empty buckets
   * only, any order. With `pops`, only those POPs' series (the detector re-deriving the POPs late
   * data touched): exactly the unfiltered answer's buckets of those POPs.
   */
  seriesBuckets(range: TimeRange, stepMs: number, opts?: SeriesBucketsOptions): Promise<SeriesBucket[]>;
  /**
   * Optional: the same answer as columns in time order (the detector prefers it when a store has
   * it). The arrays are the caller's, fresh each call (not a cache's): a re-derive split with a
   * worker thread rewrites them in place (detector/rederive-split.ts).
   */
  seriesBucketColumns?(range: TimeRange, stepMs: number, opts?: SeriesBucketsOptions): Promise<SeriesBucketColumns>;
  /**
   * Count and mean of every (POP, function) series over a range, planned like summarize
   * (rollups for long ranges) but with no percentiles, so it stays cheap over a week.
   */
  seriesMeans(range: TimeRange, filter?: SeriesFilter): Promise<SeriesMean[]>;
  /** Every POP the data has mentioned, with its newest metadata. */
  seenPops(): Promise<SeenPop[]>;
  /** Every function name the data has mentioned. */
  seenFunctions(): Promise<string[]>;
  /** Timestamp of the newest sample, or null when empty. */
  latestSampleNs(): Promise<bigint | null>;
  /** Cheap round trip that fails when the store cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The port's calls (all but `kind` and `close`), for adapters that wrap another store. */
export const METRICS_STORE_CALLS = [
  'write', 'summarize', 'byFunction', 'timeseries', 'seriesBuckets', 'seriesMeans', 'seenPops', 'seenFunctions', 'latestSampleNs', 'ping',
] as const satisfies ReadonlyArray<keyof MetricsStore>;

/** Calls an adapter may have; a wrapper has them exactly when the store it wraps does. */
export const OPTIONAL_METRICS_STORE_CALLS = ['seriesBucketColumns'] as const satisfies ReadonlyArray<keyof MetricsStore>;

type StoreCall = (typeof METRICS_STORE_CALLS)[number] | (typeof OPTIONAL_METRICS_STORE_CALLS)[number];

/** A store whose every call goes through `wrap` (breakers, fault switches); `kind` and `close` pass straight through. */
export function wrapMetricsStore(
  inner: MetricsStore,
  wrap: <A extends unknown[], R>(call: StoreCall, fn: (...args: A) => Promise<R>) => (...args: A) => Promise<R>,
): MetricsStore {
  const out = { kind: inner.kind, close: () => inner.close() } as MetricsStore;
  for (const name of METRICS_STORE_CALLS) {
    (out as unknown as Record<string, unknown>)[name] = wrap(name, (inner[name] as (...a: unknown[]) => Promise<unknown>).bind(inner));
  }
  for (const name of OPTIONAL_METRICS_STORE_CALLS) {
    const fn = inner[name] as ((...a: unknown[]) => Promise<unknown>) | undefined;
    if (fn) (out as unknown as Record<string, unknown>)[name] = wrap(name, fn.bind(inner));
  }
  return out;
}
