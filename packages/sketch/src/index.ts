/**
 * The quantile sketch both metrics stores keep in their rollups: log-spaced
 * histogram bins in the manner of DDSketch (Masson et al., 2019) and Prometheus
 * native histograms. A value v > 0 falls in bin i = ceil(log_γ v), with
 * γ = (1 + α) / (1 − α); every value of bin i is within α of the bin's
 * representative 2γ^i / (γ + 1). Bins merge by adding counts, so a week of hourly
 * sketches merges into one exactly as if it had been built from the samples, and
 * any quantile read from it is within α (1 %) of a sample at that rank.
 *
 * One mapping for both stores and for SQL: DuckDB computes the same bin with
 * `ceil(ln(v) / ln(γ))` (see BIN_SQL), so a sketch built in SQL and one built here
 * are interchangeable.
 */

/** Relative accuracy of every quantile read from a sketch. */
export const RELATIVE_ACCURACY = 0.01;
export const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LN_GAMMA = Math.log(GAMMA);
/**
 * Values at or below this (ms) share one bin whose representative is 0: cold starts
 * are never that fast, and it keeps zero (which the API allows) representable.
 */
export const MIN_INDEXABLE = 1e-3;
/** The bin of values ≤ MIN_INDEXABLE; below every real bin (ceil(log_γ 1e-3) = -346). */
export const ZERO_BIN = -1000;

/** The bin of one value. */
export function binOf(v: number): number {
  if (!(v > MIN_INDEXABLE)) return ZERO_BIN;
  return Math.ceil(Math.log(v) / LN_GAMMA);
}

/** The value a bin stands for: within α of every value in it. */
export function binValue(bin: number): number {
  if (bin <= ZERO_BIN) return 0;
  return (2 * Math.pow(GAMMA, bin)) / (GAMMA + 1);
}

/** The same mapping in SQL, for a column or expression `v` (DuckDB). */
export const BIN_SQL = (v: string) =>
  `CASE WHEN ${v} > ${MIN_INDEXABLE} THEN CAST(ceil(ln(${v}) / ${LN_GAMMA}) AS INTEGER) ELSE ${ZERO_BIN} END`;

/** A sketch: bin → count. */
export type Sketch = Map<number, number>;

export function sketchOf(values: Iterable<number>): Sketch {
  const s: Sketch = new Map();
  for (const v of values) add(s, v);
  return s;
}

export function add(s: Sketch, v: number, count = 1): void {
  const b = binOf(v);
  s.set(b, (s.get(b) ?? 0) + count);
}

/** Adds `from` into `into`. */
export function merge(into: Sketch, from: Sketch | Iterable<[number, number]>): Sketch {
  for (const [b, n] of from) into.set(b, (into.get(b) ?? 0) + n);
  return into;
}

/**
 * Quantiles (0..1) of a sketch, as bin representatives: the bin holding the sample
 * of rank q·(n−1) (ranks from 0), the rank continuous interpolation starts from.
 * Null for an empty sketch.
 */
export function quantiles(s: Sketch | Iterable<[number, number]>, qs: readonly number[]): (number | null)[] {
  const bins = [...s].filter(([, n]) => n > 0).sort((a, b) => a[0] - b[0]);
  let total = 0;
  for (const [, n] of bins) total += n;
  if (total === 0) return qs.map(() => null);
  return qs.map((q) => {
    const rank = Math.max(0, Math.min(total - 1, q * (total - 1)));
    let seen = 0;
    for (const [b, n] of bins) {
      seen += n;
      if (seen > rank) return binValue(b);
    }
    return binValue(bins[bins.length - 1]![0]);
  });
}
