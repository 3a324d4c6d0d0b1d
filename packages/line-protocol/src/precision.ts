import type { Precision } from './types.ts';

export const PRECISIONS: readonly Precision[] = Object.freeze(['ns', 'us', 'ms', 's'] as const);

const NS_PER: Readonly<Record<Precision, bigint>> = { ns: 1n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n };

/**
 * InfluxDB's valid time range (int64 minus the values it keeps as sentinels):
 * 1677-09-21T00:12:43.145224194Z .. 2262-04-11T23:47:16.854775806Z.
 */
export const MIN_TIME_NS = -9223372036854775806n;
export const MAX_TIME_NS = 9223372036854775806n;

export function isPrecision(x: unknown): x is Precision {
  return x === 'ns' || x === 'us' || x === 'ms' || x === 's';
}

/** Exact; no range check (the parser checks the result against MIN/MAX_TIME_NS). */
export function toNanoseconds(ts: bigint, precision: Precision): bigint {
  return precision === 'ns' ? ts : ts * NS_PER[precision];
}

/**
 * Rounds toward negative infinity, so a pre-1970 instant lands in the unit that
 * contains it (-1ns is -1ms, not 0ms) and toNanoseconds(fromNanoseconds(t)) <= t always.
 */
export function fromNanoseconds(ns: bigint, precision: Precision): bigint {
  if (precision === 'ns') return ns;
  const d = NS_PER[precision];
  const q = ns / d; // BigInt division truncates toward zero
  return ns < 0n && q * d !== ns ? q - 1n : q;
}
