import type { Overview } from '@edgeworker/schema';

export type ThresholdSet = Overview['thresholds'];
export interface Pair {
  warnMs: number;
  critMs: number;
}

/** The pair a function is judged by: its own, else the server's default. */
export function pairFor(t: ThresholdSet, fn: string | null | undefined): Pair {
  return (fn ? t.functions?.[fn] : undefined) ?? { warnMs: t.warnMs, critMs: t.critMs };
}

/** Every function's own pair, by name (the legend's list). */
export function functionPairs(t: ThresholdSet): [string, Pair][] {
  return Object.entries(t.functions ?? {}).sort(([a], [b]) => a.localeCompare(b));
}

/** `60 / 120 ms` */
export function pairText(p: Pair): string {
  return `${p.warnMs} / ${p.critMs} ms`;
}
