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

/**
 * The pair to draw on a chart of `fn` (null: all functions together), or null when no single
 * pair judges that series. A POP over all functions is the worst of its functions, each by its
 * own pair, so a line at the default pair would claim a limit that judges none of them; only a
 * server without per-function pairs (one pair for all) gets it drawn.
 */
export function chartPair(t: ThresholdSet, fn: string | null): Pair | null {
  if (fn) return pairFor(t, fn);
  return Object.keys(t.functions ?? {}).length === 0 ? pairFor(t, null) : null;
}
