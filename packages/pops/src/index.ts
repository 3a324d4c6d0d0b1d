// @edgeworker/pops: the POP catalog and the monitored edge functions.
export type { Tier, PopInfo } from './catalog.ts';
export { POPS, findPop, TIER_FACTOR, TIERS } from './catalog.ts';
export type { FunctionSpec } from './functions.ts';
export { FUNCTIONS } from './functions.ts';
