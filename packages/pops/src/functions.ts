// The edge functions whose cold starts are monitored, with their baseline
// cold-start median at a tier1 POP (multiply by TIER_FACTOR for other tiers).

export interface FunctionSpec {
  name: string;
  description: string;
  /** Baseline cold-start median in milliseconds (tier1 POP). */
  medianMs: number;
  /**
   * Default status thresholds on a POP's mean cold start of this function (ms): warning from
   * warnMs, critical from critMs. About 2.2x and 4.4x the tier1 median, so a slow tier3 POP at
   * its evening peak (x1.6 x1.3 x1.2) stays healthy and a doubling anywhere is a warning.
   * STATUS_THRESHOLDS overrides them.
   */
  warnMs: number;
  critMs: number;
}

export const FUNCTIONS: readonly FunctionSpec[] = Object.freeze(
  [
    { name: 'auth-check', description: 'JWT/session verification at the edge', medianMs: 28, warnMs: 60, critMs: 120 },
    { name: 'geo-router', description: 'Geo/AB routing and redirects', medianMs: 35, warnMs: 80, critMs: 160 },
    { name: 'api-gateway', description: 'API aggregation gateway', medianMs: 60, warnMs: 130, critMs: 260 },
    { name: 'image-resize', description: 'On-the-fly image transformation', medianMs: 140, warnMs: 300, critMs: 600 },
    { name: 'ssr-render', description: 'Server-side rendering of HTML pages', medianMs: 180, warnMs: 400, critMs: 800 },
  ].map((f): FunctionSpec => Object.freeze(f)),
);
