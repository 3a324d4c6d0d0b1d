/**
 * The seed's data model, unchanged: one measurement, five tags, three fields,
 * nanosecond timestamps. Every part of the system (generator, ingest, stores,
 * queries) uses these names, so a field-name mismatch (seed issue 5) cannot recur.
 */
export const MEASUREMENT = 'cold_start_metrics' as const;

export const TAG = {
  popCode: 'pop_code',
  city: 'city',
  country: 'country',
  tier: 'tier',
  functionName: 'function_name',
} as const;

export const FIELD = {
  coldStartTimeMs: 'cold_start_time_ms',
  latitude: 'latitude',
  longitude: 'longitude',
} as const;

export type Tier = 'tier1' | 'tier2' | 'tier3';
export const TIERS: readonly Tier[] = ['tier1', 'tier2', 'tier3'];

/** One cold-start sample as the stores see it. */
export interface ColdStartSample {
  /** Nanoseconds since the Unix epoch. */
  timeNs: bigint;
  popCode: string;
  city: string;
  country: string;
  tier: string;
  functionName: string;
  coldStartTimeMs: number;
  latitude: number;
  longitude: number;
}
