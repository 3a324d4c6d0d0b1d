/** FROZEN ANCHOR (bench only): main's copy at 2e71044, used by ./engine.ts. Do not edit. */
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
  const half = n >> 1;
  const med = n % 2 === 1 ? a[half]! : (a[half - 1]! + a[half]!) / 2;
  // Deviations: med - a[p-1-i] to the left of the median and a[p+j] - med to its right, each
  // run ascending; the MAD's median is found by binary search over how many come from each.
  const p = lowerBound(a, n, med);
  const mad = 1.4826 * (n % 2 === 1 ? kthDeviation(a, n, p, med, half) : (kthDeviation(a, n, p, med, half - 1) + kthDeviation(a, n, p, med, half)) / 2);
  const lo = med - 3 * mad;
  const hi = med + 3 * mad;
  // Sorted: the values below lo and above hi are runs at either end, counted, not clipped one by one.
  const iLo = lowerBound(a, n, lo);
  let iHi = lowerBound(a, n, hi);
  while (iHi < n && a[iHi]! <= hi) iHi++;
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
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
