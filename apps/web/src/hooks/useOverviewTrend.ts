import { useEffect, useState } from 'react';
import type { Overview } from '@edgeworker/schema';
import { pushTrend, type TrendPoint } from '../lib/trend';

/** The overview numbers that get a trend line on their card. */
export const TREND_KEYS = ['totalPops', 'healthyPops', 'averageColdStart', 'regressions', 'p50', 'p95', 'p99', 'warningPops', 'criticalPops'] as const;

/** The last overviews received (live stream or polling), as a bounded history for sparklines. */
export function useOverviewTrend(overview: Overview | null, version: number): TrendPoint[] {
  const [buf, setBuf] = useState<TrendPoint[]>([]);
  useEffect(() => {
    if (!overview) return;
    const values: Record<string, number | null> = {};
    for (const k of TREND_KEYS) values[k] = overview[k];
    setBuf((b) => pushTrend(b, { t: Date.now(), values }));
    // one point per arrival: `version` moves exactly when fresh data arrives (the overview
    // object alone could be re-sent unchanged), so it is the only dependency on purpose
  }, [version]);
  return buf;
}
