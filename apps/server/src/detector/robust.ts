/**
 * The baseline's location and scale on the log scale, two ways with the same statistics:
 * from the window's values in any order (selection), and from the window kept sorted
 * (sorted-window.ts: what the engine uses, read off in linear time without selection).
 */

/**
 * Location and scale of sorted log values: mean and standard deviation after winsorising
 * at the median +- 3 MAD-sigmas. The median and MAD alone are robust but waste much of the
 * sample (64 % and 37 % efficiency), and every error of the baseline shifts or inflates
 * every z after it (a baseline 0.1 sigma low cuts the CUSUM's false-alarm interval about
 * tenfold); winsorising keeps spikes out at nearly the efficiency of mean and deviation.
 */
export function robustLocationScale(xs: Float64Array): { mu: number; sigma: number } {
  // Selection, not sorting: linear time on a copy the caller no longer needs (it is reordered).
  const med = medianInPlace(xs);
  const dev = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) dev[i] = Math.abs(xs[i]! - med);
  const mad = 1.4826 * medianInPlace(dev);
  const lo = med - 3 * mad;
  const hi = med + 3 * mad;
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += Math.min(hi, Math.max(lo, xs[i]!));
  const mu = sum / xs.length;
  let sq = 0;
  for (let i = 0; i < xs.length; i++) {
    const v = Math.min(hi, Math.max(lo, xs[i]!)) - mu;
    sq += v * v;
  }
  return { mu, sigma: Math.sqrt(sq / Math.max(1, xs.length - 1)) };
}

/** Median by quickselect (Hoare); reorders xs. */
function medianInPlace(xs: Float64Array): number {
  const n = xs.length;
  if (n === 0) return NaN;
  const hiMid = select(xs, n >> 1);
  if (n % 2 === 1) return hiMid;
  // The lower middle is the largest value left of n/2 after selection.
  let loMid = -Infinity;
  for (let i = 0; i < n >> 1; i++) if (xs[i]! > loMid) loMid = xs[i]!;
  return (loMid + hiMid) / 2;
}

/** The k-th smallest value of xs (0-based), leaving smaller values left of k and larger right. */
function select(xs: Float64Array, k: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  while (hi > lo) {
    const pivot = xs[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (xs[i]! < pivot) i++;
      while (xs[j]! > pivot) j--;
      if (i <= j) {
        const tmp = xs[i]!;
        xs[i] = xs[j]!;
        xs[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return xs[k]!;
  }
  return xs[k]!;
}

/**
 * robustLocationScale of the first n values of a, sorted ascending: the median read off, the
 * MAD's median found by walking the deviations below and above the median (each run already
 * sorted), then the same winsorised mean and deviation.
 */
export function robustFromSorted(a: Float32Array | Float64Array, n: number): { mu: number; sigma: number } {
  if (n === 0) return { mu: NaN, sigma: NaN };
  clipOf(a, n, 0);
  const lo = clip[0]!;
  const hi = clip[1]!;
  const iLo = clip[2]! | 0;
  const iHi = clip[3]! | 0;
  let sum = iLo * lo + (n - iHi) * hi;
  for (let k = iLo; k < iHi; k++) sum += a[k]!;
  const mu = sum / n;
  let sq = iLo * (lo - mu) ** 2 + (n - iHi) * (hi - mu) ** 2;
  for (let k = iLo; k < iHi; k++) {
    const v = a[k]! - mu;
    sq += v * v;
  }
  return { mu, sigma: Math.sqrt(sq / Math.max(1, n - 1)) };
}

/**
 * robustFromSorted of three sorted windows at once, into out (mu, sigma of each in turn): the
 * same sums in the same order per window, bit for bit, but the three windows' running sums are
 * advanced side by side. Each sum is a chain of dependent additions (the latency of an add
 * per value, whatever else the core could do meanwhile), so three chains in one loop take about
 * the time of one: a fresh engine's replay computes the baseline, halfway and older windows'
 * statistics every minute of every series (it has no record of the older two yet), and these
 * sums were most of robustFromSorted's time.
 */
export function robustFromSorted3(out: Float64Array, a0: Float32Array, n0: number, a1: Float32Array, n1: number, a2: Float32Array, n2: number): void {
  if (n0 === 0 || n1 === 0 || n2 === 0) {
    const r = [robustFromSorted(a0, n0), robustFromSorted(a1, n1), robustFromSorted(a2, n2)];
    for (let q = 0; q < 3; q++) {
      out[2 * q] = r[q]!.mu;
      out[2 * q + 1] = r[q]!.sigma;
    }
    return;
  }
  clipOf(a0, n0, 0);
  clipOf(a1, n1, 4);
  clipOf(a2, n2, 8);
  const lo0 = clip[0]!;
  const hi0 = clip[1]!;
  const b0 = clip[2]! | 0;
  const e0 = clip[3]! | 0;
  const lo1 = clip[4]!;
  const hi1 = clip[5]!;
  const b1 = clip[6]! | 0;
  const e1 = clip[7]! | 0;
  const lo2 = clip[8]!;
  const hi2 = clip[9]!;
  const b2 = clip[10]! | 0;
  const e2 = clip[11]! | 0;
  let s0 = b0 * lo0 + (n0 - e0) * hi0;
  let s1 = b1 * lo1 + (n1 - e1) * hi1;
  let s2 = b2 * lo2 + (n2 - e2) * hi2;
  const both = Math.min(e0 - b0, e1 - b1, e2 - b2);
  for (let d = 0; d < both; d++) {
    s0 += a0[b0 + d]!;
    s1 += a1[b1 + d]!;
    s2 += a2[b2 + d]!;
  }
  for (let k = b0 + both; k < e0; k++) s0 += a0[k]!;
  for (let k = b1 + both; k < e1; k++) s1 += a1[k]!;
  for (let k = b2 + both; k < e2; k++) s2 += a2[k]!;
  const mu0 = s0 / n0;
  const mu1 = s1 / n1;
  const mu2 = s2 / n2;
  let q0 = b0 * (lo0 - mu0) ** 2 + (n0 - e0) * (hi0 - mu0) ** 2;
  let q1 = b1 * (lo1 - mu1) ** 2 + (n1 - e1) * (hi1 - mu1) ** 2;
  let q2 = b2 * (lo2 - mu2) ** 2 + (n2 - e2) * (hi2 - mu2) ** 2;
  for (let d = 0; d < both; d++) {
    const v0 = a0[b0 + d]! - mu0;
    const v1 = a1[b1 + d]! - mu1;
    const v2 = a2[b2 + d]! - mu2;
    q0 += v0 * v0;
    q1 += v1 * v1;
    q2 += v2 * v2;
  }
  for (let k = b0 + both; k < e0; k++) {
    const v = a0[k]! - mu0;
    q0 += v * v;
  }
  for (let k = b1 + both; k < e1; k++) {
    const v = a1[k]! - mu1;
    q1 += v * v;
  }
  for (let k = b2 + both; k < e2; k++) {
    const v = a2[k]! - mu2;
    q2 += v * v;
  }
  out[0] = mu0;
  out[1] = Math.sqrt(q0 / Math.max(1, n0 - 1));
  out[2] = mu1;
  out[3] = Math.sqrt(q1 / Math.max(1, n1 - 1));
  out[4] = mu2;
  out[5] = Math.sqrt(q2 / Math.max(1, n2 - 1));
}

/**
 * The winsorising bounds of the first n (> 0) values of a, sorted ascending, into clip[at..at+4): lo and hi (median
 * -+ 3 MAD-sigmas), and the index range [iLo, iHi) of the values between them (the median read
 * off, the MAD's median found by binary search over the two sorted runs of deviations; the values
 * below lo and above hi are runs at either end, counted, not clipped one by one).
 */
function clipOf(a: Float32Array | Float64Array, n: number, at: number): void {
  const half = n >> 1;
  const med = n % 2 === 1 ? a[half]! : (a[half - 1]! + a[half]!) / 2;
  // Deviations: med - a[p-1-i] to the left of the median and a[p+j] - med to its right, each
  // run ascending; the MAD's median is found by binary search over how many come from each.
  const p = lowerBound(a, n, med);
  const mad = 1.4826 * (n % 2 === 1 ? kthDeviation(a, n, p, med, half) : (kthDeviation(a, n, p, med, half - 1) + kthDeviation(a, n, p, med, half)) / 2);
  const lo = med - 3 * mad;
  const hi = med + 3 * mad;
  const iLo = lowerBound(a, n, lo);
  let iHi = lowerBound(a, n, hi);
  while (iHi < n && a[iHi]! <= hi) iHi++;
  clip[at] = lo;
  clip[at + 1] = hi;
  clip[at + 2] = iLo;
  clip[at + 3] = iHi;
}

/** clipOf's results: lo, hi, iLo, iHi of up to three windows (no array per call). */
const clip = new Float64Array(12);

/**
 * The k-th smallest (0-based) absolute deviation from med of the first n values of a (sorted
 * ascending; p = lowerBound(a, n, med)): med - a[p-1-i] to the left of p and a[p+j] - med from p
 * on are each ascending, so binary search over how many of the k+1 smallest come from the left.
 * A module function, not a closure per call: a closure per statistic was an allocation (and,
 * under tsx's keepNames, a __name call: ~0.2 s of a 10,000-series replay, profiled).
 */
function kthDeviation(a: Float32Array | Float64Array, n: number, p: number, med: number, k: number): number {
  const nR = n - p;
  let lo = Math.max(0, k + 1 - nR);
  let hi = Math.min(k + 1, p);
  while (lo <= hi) {
    const i = (lo + hi) >> 1;
    const j = k + 1 - i;
    const lLeft = i > 0 ? med - a[p - i]! : -Infinity;
    const rRight = j < nR ? a[p + j]! - med : Infinity;
    const rLeft = j > 0 ? a[p + j - 1]! - med : -Infinity;
    const lRight = i < p ? med - a[p - 1 - i]! : Infinity;
    if (lLeft > rRight) hi = i - 1;
    else if (rLeft > lRight) lo = i + 1;
    else return Math.max(lLeft, rLeft);
  }
  return NaN;
}

/** The first index i < n with a[i] >= v (n if none), for the first n values of a, sorted ascending. */
export function lowerBound(a: ArrayLike<number>, n: number, v: number): number {
  // Halving with a fixed number of steps and no branch on the comparison: its outcome is a coin
  // toss, and a branch on it was mispredicted half the time (a re-derive searches ~20 times per
  // series and minute: bucket starts, sorted windows, records). base moves by half or by 0.
  let base = 0;
  let len = n;
  while (len > 1) {
    const half = len >>> 1;
    base += half & -Number(a[base + half - 1]! < v);
    len -= half;
  }
  return len === 1 && a[base]! < v ? base + 1 : base;
}
