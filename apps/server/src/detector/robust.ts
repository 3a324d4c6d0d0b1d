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
export function robustFromSorted(a: Float64Array, n: number): { mu: number; sigma: number } {
  if (n === 0) return { mu: NaN, sigma: NaN };
  const half = n >> 1;
  const med = n % 2 === 1 ? a[half]! : (a[half - 1]! + a[half]!) / 2;
  // Deviations: med - a[i] walking left from the median, a[j] - med walking right; merged, the
  // k-th smallest is the k-th step of the merge.
  let i = lowerBound(a, n, med) - 1;
  let j = i + 1;
  let prev = NaN;
  let cur = NaN;
  for (let k = 0; k <= half; k++) {
    const left = i >= 0 ? med - a[i]! : Infinity;
    const right = j < n ? a[j]! - med : Infinity;
    prev = cur;
    if (left <= right) {
      cur = left;
      i--;
    } else {
      cur = right;
      j++;
    }
  }
  const mad = 1.4826 * (n % 2 === 1 ? cur : (prev + cur) / 2);
  const lo = med - 3 * mad;
  const hi = med + 3 * mad;
  let sum = 0;
  for (let k = 0; k < n; k++) sum += Math.min(hi, Math.max(lo, a[k]!));
  const mu = sum / n;
  let sq = 0;
  for (let k = 0; k < n; k++) {
    const v = Math.min(hi, Math.max(lo, a[k]!)) - mu;
    sq += v * v;
  }
  return { mu, sigma: Math.sqrt(sq / Math.max(1, n - 1)) };
}

function lowerBound(a: Float64Array, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
