// The edge functions whose cold starts are monitored, with their baseline
// cold-start median at a tier1 POP (multiply by TIER_FACTOR for other tiers).

export interface FunctionSpec {
  name: string;
  description: string;
  /** Baseline cold-start median in milliseconds (tier1 POP). */
  medianMs: number;
}

export const FUNCTIONS: readonly FunctionSpec[] = Object.freeze(
  [
    { name: 'auth-check', description: 'JWT/session verification at the edge', medianMs: 28 },
    { name: 'geo-router', description: 'Geo/AB routing and redirects', medianMs: 35 },
    { name: 'api-gateway', description: 'API aggregation gateway', medianMs: 60 },
    { name: 'image-resize', description: 'On-the-fly image transformation', medianMs: 140 },
    { name: 'ssr-render', description: 'Server-side rendering of HTML pages', medianMs: 180 },
  ].map((f): FunctionSpec => Object.freeze(f)),
);
