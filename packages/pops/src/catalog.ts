// POP catalog: typed view over the raw tuples in catalog-data.ts.
// Place facts (IATA codes, coordinates) follow public airport data (OpenFlights / IATA).

import { TIERS, type Tier } from '@edgeworker/schema';
import { POP_ROWS } from './catalog-data.ts';

// The tier names belong to the data model; the catalog re-exports them for convenience.
export { TIERS, type Tier };

export interface PopInfo {
  /** IATA code of the city's main airport, uppercase, unique in the catalog. */
  code: string;
  /** English city name (accents kept, e.g. "São Paulo"). */
  city: string;
  /** ISO 3166-1 alpha-2 country code, uppercase. */
  country: string;
  tier: Tier;
  /** Latitude in decimal degrees (airport / city, ~0.01° precision). */
  lat: number;
  /** Longitude in decimal degrees (airport / city, ~0.01° precision). */
  lon: number;
}

/** Cold-start median multiplier per tier (smaller POPs run colder). */
export const TIER_FACTOR: Readonly<Record<Tier, number>> = Object.freeze({
  tier1: 1.0,
  tier2: 1.25,
  tier3: 1.6,
});

export const POPS: readonly PopInfo[] = Object.freeze(
  POP_ROWS.map(([code, city, country, tier, lat, lon]): PopInfo => Object.freeze({ code, city, country, tier, lat, lon })),
);

const BY_CODE: ReadonlyMap<string, PopInfo> = new Map(POPS.map((p) => [p.code, p]));

/** Looks a POP up by its code, case-insensitively (surrounding whitespace ignored). */
export function findPop(code: string): PopInfo | undefined {
  // Exact codes first: ingest looks up every point's POP, and normalising allocates.
  return BY_CODE.get(code) ?? BY_CODE.get(code.trim().toUpperCase());
}
