/**
 * The latency model: believable, reproducible cold-start times.
 *
 * value = fn.medianMs x TIER_FACTOR[tier] x popBias(code) x diurnal(local hour)
 *         x exp(sigma x N(0,1))           (log-normal: the median stays the median)
 *         x spike (rare, x3..x8)          (cold caches, noisy neighbours)
 *         x injection factors while active
 *
 * Each (POP, function) series has its own PRNG stream seeded from (seed, pop, fn),
 * so a series' numbers do not change when other series are added, removed or
 * sampled in a different order (e.g. --pops FRA gives FRA the same values as a full run).
 */
import { TIER_FACTOR } from '@edgeworker/pops';
import { injectionApplies, type Injection } from './inject.ts';
import { hash32, hashUnit, mulberry32, standardNormal } from './prng.ts';
import type { FunctionSpec, PopInfo } from './types.ts';

export interface LatencyModel {
  sample(pop: PopInfo, fn: FunctionSpec, tMs: number): number;
}

export interface LatencyModelOptions {
  seed: number;
  injections?: Injection[];
  /** Log-normal shape (std-dev of ln value). 0.25 gives p95 ~ 1.5 x median. */
  sigma?: number;
  /** Probability that one sample is a spike (x3..x8). */
  spikeProbability?: number;
}

export const DIURNAL_AMPLITUDE = 0.2;
/** Local hour of the daily peak: evening traffic means more cold starts on busy hosts. */
export const DIURNAL_PEAK_HOUR = 20;
const BIAS_MIN = 0.85;
const BIAS_MAX = 1.3;

/** Stable per-POP factor in [0.85, 1.3): some POPs are just slower (hardware, peering). */
export function popBias(code: string, seed: number): number {
  return BIAS_MIN + (BIAS_MAX - BIAS_MIN) * hashUnit(`bias:${code}:${seed >>> 0}`);
}

/** Local solar hour [0, 24) from longitude: every 15 degrees is one hour from UTC. */
export function localHour(lon: number, tMs: number): number {
  const utcHours = (tMs / 3_600_000) % 24;
  return (((utcHours + lon / 15) % 24) + 24) % 24;
}

/** 1 +- 20 %, highest at 20:00 local time, lowest at 08:00. */
export function diurnalFactor(lon: number, tMs: number): number {
  const h = localHour(lon, tMs);
  return 1 + DIURNAL_AMPLITUDE * Math.cos((2 * Math.PI * (h - DIURNAL_PEAK_HOUR)) / 24);
}

/** The model's median for a series at time tMs (no noise, spikes or injections). */
export function expectedMedianMs(pop: PopInfo, fn: FunctionSpec, seed: number, tMs: number): number {
  return fn.medianMs * TIER_FACTOR[pop.tier] * popBias(pop.code, seed) * diurnalFactor(pop.lon, tMs);
}

export function createLatencyModel(opts: LatencyModelOptions): LatencyModel {
  const seed = opts.seed >>> 0;
  const sigma = opts.sigma ?? 0.25;
  const spikeProbability = opts.spikeProbability ?? 0.002;
  const injections = opts.injections ?? [];
  if (!(sigma >= 0)) throw new Error(`sigma must be >= 0 (got ${sigma})`);
  if (!(spikeProbability >= 0 && spikeProbability <= 1)) {
    throw new Error(`spikeProbability must be within 0..1 (got ${spikeProbability})`);
  }
  const streams = new Map<string, () => number>();

  function streamFor(popCode: string, fnName: string): () => number {
    const key = `${popCode}\u0000${fnName}`;
    let random = streams.get(key);
    if (random === undefined) {
      random = mulberry32(hash32(`${seed}\u0000${key}`));
      streams.set(key, random);
    }
    return random;
  }

  return {
    sample(pop, fn, tMs) {
      const random = streamFor(pop.code, fn.name);
      // Always four draws per sample, so spikes never shift later values of the series.
      const z = standardNormal(random);
      const spikeRoll = random();
      const spikeSize = 3 + 5 * random();
      let value = expectedMedianMs(pop, fn, seed, tMs) * Math.exp(sigma * z);
      if (spikeRoll < spikeProbability) value *= spikeSize;
      for (const inj of injections) {
        if (injectionApplies(inj, pop.code, fn.name, tMs)) value *= inj.factor;
      }
      // Microsecond resolution is plenty and keeps line protocol short.
      return Math.round(value * 1000) / 1000;
    },
  };
}
