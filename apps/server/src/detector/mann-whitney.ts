/**
 * Mann-Whitney U (Wilcoxon rank-sum) test: is sample x stochastically greater than y?
 *
 * Rank based, so it needs no assumption about the latency distribution (log-normal
 * with spikes) and one outlier moves it by at most one rank. Ties get average ranks
 * and the variance the usual tie correction. p-values are exact (the null
 * distribution of U by counting) for small samples without ties, and otherwise the
 * normal approximation with continuity correction, as in R's wilcox.test and
 * SciPy's mannwhitneyu(method='auto').
 */

export type Alternative = 'greater' | 'less' | 'two-sided';

export interface MannWhitneyResult {
  /** U of x: the number of (x, y) pairs with x > y, ties counting one half. */
  u: number;
  /** p-value for the chosen alternative. */
  p: number;
  /** Standardised U (continuity corrected); 0 when the exact distribution was used. */
  z: number;
  method: 'exact' | 'normal';
}

/** Largest n1 + n2 for which the exact distribution is counted (cheap: O(n1 * n2 * n1 * n2)). */
const EXACT_MAX_TOTAL = 40;

export function mannWhitneyU(x: readonly number[], y: readonly number[], alternative: Alternative = 'greater'): MannWhitneyResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new Error(`mannWhitneyU needs two non-empty samples (got ${n1} and ${n2})`);
  const { rankSumX, tieTerm } = rankSum(x, y);
  const u = rankSumX - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;

  if (tieTerm === 0 && n <= EXACT_MAX_TOTAL) {
    return { u, p: exactP(u, n1, n2, alternative), z: 0, method: 'exact' };
  }

  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) {
    // Every value identical: no evidence either way.
    return { u, p: 1, z: 0, method: 'normal' };
  }
  const sd = Math.sqrt(variance);
  const d = u - mean;
  let z: number;
  let p: number;
  if (alternative === 'greater') {
    z = (d - 0.5) / sd;
    p = normalSf(z);
  } else if (alternative === 'less') {
    z = (d + 0.5) / sd;
    p = normalCdf(z);
  } else {
    z = (Math.abs(d) - 0.5) / sd;
    p = Math.min(1, 2 * normalSf(Math.max(z, 0)));
  }
  return { u, p, z, method: 'normal' };
}

/** Sum of the ranks of x in the pooled sample (average ranks for ties), and sum(t^3 - t) over tie groups. */
function rankSum(x: readonly number[], y: readonly number[]): { rankSumX: number; tieTerm: number } {
  const pooled: { v: number; fromX: boolean }[] = [];
  for (const v of x) pooled.push({ v, fromX: true });
  for (const v of y) pooled.push({ v, fromX: false });
  pooled.sort((a, b) => a.v - b.v);
  let rankSumX = 0;
  let tieTerm = 0;
  let i = 0;
  while (i < pooled.length) {
    let j = i + 1;
    while (j < pooled.length && pooled[j]!.v === pooled[i]!.v) j++;
    const t = j - i;
    // Ranks i+1 .. j share their average.
    const avgRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (pooled[k]!.fromX) rankSumX += avgRank;
    if (t > 1) tieTerm += t * t * t - t;
    i = j;
  }
  return { rankSumX, tieTerm };
}

/**
 * Exact p from the null distribution of U: counts of arrangements with U = u,
 * by the recursion c(u; m, n) = c(u - n; m - 1, n) + c(u; m, n - 1).
 */
function exactP(u: number, n1: number, n2: number, alternative: Alternative): number {
  const counts = uDistribution(n1, n2);
  const total = counts.reduce((a, b) => a + b, 0);
  const cdf = (k: number) => {
    let s = 0;
    for (let i = 0; i <= Math.min(k, counts.length - 1); i++) s += counts[i]!;
    return s / total;
  };
  const upper = (k: number) => 1 - cdf(k - 1);
  if (alternative === 'greater') return upper(u);
  if (alternative === 'less') return cdf(u);
  const mean = (n1 * n2) / 2;
  const tail = u >= mean ? upper(u) : cdf(u);
  return Math.min(1, 2 * tail);
}

function uDistribution(n1: number, n2: number): number[] {
  // table[m][n] = counts of U for sizes m, n; built bottom-up over m and n.
  const table: number[][][] = [];
  for (let m = 0; m <= n1; m++) {
    table.push([]);
    for (let n = 0; n <= n2; n++) {
      if (m === 0 || n === 0) {
        table[m]!.push([1]);
        continue;
      }
      const a = table[m - 1]![n]!; // shifted by n
      const b = table[m]![n - 1]!;
      const out = new Array<number>(m * n + 1).fill(0);
      for (let k = 0; k < a.length; k++) out[k + n]! += a[k]!;
      for (let k = 0; k < b.length; k++) out[k]! += b[k]!;
      table[m]!.push(out);
    }
  }
  return table[n1]![n2]!;
}

/** Standard normal upper tail P(Z > z). */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Standard normal CDF P(Z <= z). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/**
 * Complementary error function, Chebyshev fit from Numerical Recipes (erfcc):
 * fractional error below 1.2e-7 everywhere, which is plenty for p-values.
 */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
