/**
 * A series' baseline window kept sorted as it slides: the engine recomputes a baseline (and
 * the trend's older window) once a minute per series, and selecting the median and the MAD
 * afresh from ~360 values each time was 90 % of a re-derive's replay (2 x 13-25 µs per
 * series per minute). Sliding by a minute removes and inserts 6 values in a sorted array
 * (binary search + copyWithin); the median is then read off, the MAD's median found by
 * binary search over the two sorted runs of deviations, and the winsorised mean and deviation
 * are one pass over the unclipped middle (robustFromSorted in robust.ts). Same statistics as
 * robustLocationScale there; only the summation order differs.
 *
 * The values are kept as 32-bit floats (the engine's bucket values are: logs of latencies in ms,
 * where float32's 6e-8 relative step is far below any difference the detector acts on), half
 * the memory of three windows per series (~94 MB at 10,000 series as Float64Array). The
 * statistics are still computed in float64 from them.
 */
import { lowerBound, robustFromSorted } from './robust.ts';

export interface SortedWindow {
  /** The window [fromMs, toMs) the sorted values are of. */
  fromMs: number;
  toMs: number;
  values: Float32Array;
  n: number;
}

/**
 * Moves w (or builds it, when null or not slidable) to [fromMs, toMs) over the bucket starts t
 * and values x (ascending t). keptFrom: buckets before it may have been dropped from t/x, so a
 * window starting before it cannot remove what it no longer sees and is rebuilt instead.
 * Buckets arrive in time order and none before toMs arrives later (the engine's windows end
 * before the bucket being judged): a slide inserts only what is past the old toMs. count: how
 * many entries of t/x are in use (the engine keeps them in typed arrays with room to grow);
 * base: what t's entries are offsets from (the window's own bounds stay absolute). x's values
 * are held rounded to float32 (exact when x is a Float32Array, as the engine's).
 */
export function slideWindow(w: SortedWindow | null, t: ArrayLike<number>, x: ArrayLike<number>, fromMs: number, toMs: number, keptFrom: number, count = t.length, base = 0): SortedWindow {
  const lo = lowerBound(t, count, fromMs - base);
  const hi = Math.max(lo, lowerBound(t, count, toMs - base));
  if (!w || fromMs < w.fromMs || toMs < w.toMs || fromMs > w.toMs || w.fromMs < keptFrom) {
    const size = hi - lo;
    // Room for a slide's handful more (a minute is 6 buckets; insert grows it if ever needed), not
    // twice the size: three windows a series at 10,000 series held ~170 MB that way.
    const values = w && w.values.length >= size ? w.values : new Float32Array(size + 32);
    for (let i = 0; i < size; i++) values[i] = x[lo + i]!;
    sortFloat32(values, size);
    return { fromMs, toMs, values, n: size };
  }
  // Out: the buckets of [w.fromMs, fromMs); in: those of [w.toMs, toMs).
  const outFrom = lowerBound(t, count, w.fromMs - base);
  const inFrom = lowerBound(t, count, w.toMs - base);
  if (lo - outFrom + (hi - inFrom) > MERGE_FROM) merge(w, x, outFrom, lo, inFrom, hi);
  else {
    for (let i = outFrom; i < lo; i++) remove(w, Math.fround(x[i]!));
    for (let i = inFrom; i < hi; i++) insert(w, Math.fround(x[i]!));
  }
  w.fromMs = fromMs;
  w.toMs = toMs;
  return w;
}

/**
 * From this many values in and out, a slide is one merge pass over the window instead of a
 * binary search and a copyWithin per value: a minute's slide is 6 out and 6 in, and 12
 * copyWithin calls over ~180 values each were the largest part of a re-derive's replay
 * (profiled: slideWindow ~0.45 s of ~1.5 s at 2,115 series). The window holds the same values
 * either way (the same bits, in ascending order), so its statistics are identical.
 */
const MERGE_FROM = 4;
let outs = new Float64Array(64);
let ins = new Float64Array(64);
/** merge's runs: where each starts and ends in the window, and how far it moves; where each value in goes. */
let runFrom = new Int32Array(130);
let runTo = new Int32Array(130);
let runBy = new Int32Array(130);
let inAt = new Int32Array(64);

/**
 * Removes x[outFrom..outTo) and inserts x[inFrom..inTo), in place: the handful of values out and in
 * are placed by binary search, and the runs of the window between them are moved with copyWithin
 * (a memmove each; ~15 ns a call here), each value at most once. A merge pass comparing every
 * value (the previous way) cost ~1.3 us per slide of 360 values, about 4x a plain copy; a
 * re-derive slides three windows a minute per series for 30 minutes (184k slides at 2,115 series).
 */
function merge(w: SortedWindow, x: ArrayLike<number>, outFrom: number, outTo: number, inFrom: number, inTo: number) {
  const nOut = outTo - outFrom;
  const nIn = inTo - inFrom;
  if (outs.length <= nOut) outs = new Float64Array(2 * nOut + 1);
  if (ins.length <= nIn) {
    ins = new Float64Array(2 * nIn + 1);
    inAt = new Int32Array(2 * nIn + 1);
  }
  if (runFrom.length <= nOut + nIn + 1) {
    runFrom = new Int32Array(2 * (nOut + nIn) + 2);
    runTo = new Int32Array(2 * (nOut + nIn) + 2);
    runBy = new Int32Array(2 * (nOut + nIn) + 2);
  }
  sortInto(outs, x, outFrom, nOut);
  sortInto(ins, x, inFrom, nIn);
  const m = w.n;
  const n = m - nOut + nIn;
  if (w.values.length < n) {
    const grown = new Float32Array(n + 32);
    grown.set(w.values.subarray(0, m));
    w.values = grown;
  }
  const a = w.values;
  // The runs between the values out (each at its own index, found from the previous one on) and
  // the places of the values in (before the first value not below it; a value in goes before a
  // value out at the same place: equal values are the same bits, so the order among them is moot).
  let runs = 0;
  let start = 0;
  let by = 0;
  let r = 0;
  let j = 0;
  let at = nOut > 0 ? lowerBoundFrom(a, 0, m, outs[0]!) : m;
  let put = nIn > 0 ? lowerBoundFrom(a, 0, m, ins[0]!) : m;
  while (r < nOut || j < nIn) {
    if (j < nIn && (r >= nOut || put <= at)) {
      runFrom[runs] = start;
      runTo[runs] = put;
      runBy[runs++] = by;
      inAt[j] = put + by;
      by++;
      start = put;
      j++;
      put = j < nIn ? lowerBoundFrom(a, put, m, ins[j]!) : m;
    } else {
      if (at >= m || a[at] !== outs[r]) throw new Error('sorted window: removing a value it does not hold');
      runFrom[runs] = start;
      runTo[runs] = at;
      runBy[runs++] = by;
      by--;
      start = at + 1;
      r++;
      at = r < nOut ? lowerBoundFrom(a, start, m, outs[r]!) : m;
      if (put < start) put = start;
    }
  }
  runFrom[runs] = start;
  runTo[runs] = m;
  runBy[runs++] = by;
  // Runs moving left, left to right; runs moving right, right to left: none overwrites a run not yet moved
  // (the shift changes by one at each value out or in, so the runs either side of a run moving one
  // way move the same way or not at all, or are a value out's slot).
  for (let q = 0; q < runs; q++) if (runBy[q]! < 0 && runTo[q]! > runFrom[q]!) a.copyWithin(runFrom[q]! + runBy[q]!, runFrom[q]!, runTo[q]!);
  for (let q = runs - 1; q >= 0; q--) if (runBy[q]! > 0 && runTo[q]! > runFrom[q]!) a.copyWithin(runFrom[q]! + runBy[q]!, runFrom[q]!, runTo[q]!);
  for (let q = 0; q < nIn; q++) a[inAt[q]!] = ins[q]!;
  w.n = n;
}

/** The first index i in [lo, hi) with a[i] >= v (hi if none); a[lo..hi) ascending. */
function lowerBoundFrom(a: Float32Array, lo: number, hi: number, v: number): number {
  // Halving with a fixed number of steps and no branch on the comparison (its outcome is a coin
  // toss, so a branch on it was mispredicted half the time): base moves by half or by 0.
  let base = lo;
  let len = hi - lo;
  while (len > 1) {
    const half = len >>> 1;
    base += half & -Number(a[base + half - 1]! < v);
    len -= half;
  }
  return len === 1 && a[base]! < v ? base + 1 : base;
}

/** x[from..from+n) into dst[0..n), ascending (insertion sort: n is a handful). */
function sortInto(dst: Float64Array, x: ArrayLike<number>, from: number, n: number) {
  for (let i = 0; i < n; i++) {
    const v = Math.fround(x[from + i]!);
    let j = i;
    while (j > 0 && dst[j - 1]! > v) {
      dst[j] = dst[j - 1]!;
      j--;
    }
    dst[j] = v;
  }
}

/**
 * Sorts a[0..n) ascending, in place: the same order as Float32Array.prototype.sort (-0 before 0,
 * NaN last), so the same bits in every slot. A least-significant-digit radix sort of the values'
 * bits (three passes of 11, 11 and 10 bits) for windows of a few hundred values: ~6 µs against
 * ~15 µs for the built-in sort of 360 (measured here), and a re-derive builds three windows per
 * series (10,000 series: 30,000 sorts). Short arrays take the built-in sort.
 */
export function sortFloat32(a: Float32Array, n: number): void {
  if (n < RADIX_FROM) {
    a.subarray(0, n).sort();
    return;
  }
  if (keys.length < n) {
    keys = new Uint32Array(n + 64);
    spare = new Uint32Array(n + 64);
  }
  const bits = new Uint32Array(a.buffer, a.byteOffset, n);
  const key = keys;
  const tmp = spare;
  const cnt = counts;
  cnt.fill(0);
  // Keys that order as the floats do: negative values with every bit flipped, others with the sign bit set.
  for (let i = 0; i < n; i++) {
    const b = bits[i]!;
    const k = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
    key[i] = k;
    cnt[k & 0x7ff]!++;
    cnt[0x800 + ((k >>> 11) & 0x7ff)]!++;
    cnt[0x1000 + (k >>> 22)]!++;
  }
  for (let d = 0; d < 3; d++) {
    let sum = 0;
    for (let v = d * 0x800; v < (d + 1) * 0x800; v++) {
      const c = cnt[v]!;
      cnt[v] = sum;
      sum += c;
    }
  }
  for (let i = 0; i < n; i++) {
    const k = key[i]!;
    tmp[cnt[k & 0x7ff]!++] = k;
  }
  for (let i = 0; i < n; i++) {
    const k = tmp[i]!;
    key[cnt[0x800 + ((k >>> 11) & 0x7ff)]!++] = k;
  }
  for (let i = 0; i < n; i++) {
    const k = key[i]!;
    tmp[cnt[0x1000 + (k >>> 22)]!++] = k;
  }
  for (let i = 0; i < n; i++) {
    const k = tmp[i]!;
    bits[i] = k & 0x80000000 ? (k & 0x7fffffff) >>> 0 : ~k >>> 0;
  }
}

const RADIX_FROM = 64;
const counts = new Uint32Array(3 * 0x800);
let keys = new Uint32Array(1024);
let spare = new Uint32Array(1024);

/** Location and scale of the window (see robustFromSorted). */
export function windowStats(w: SortedWindow): { mu: number; sigma: number } {
  return robustFromSorted(w.values, w.n);
}

function insert(w: SortedWindow, v: number) {
  if (w.n === w.values.length) {
    const grown = new Float32Array(w.values.length * 2);
    grown.set(w.values);
    w.values = grown;
  }
  const a = w.values;
  const lo = lowerBound(a, w.n, v);
  a.copyWithin(lo + 1, lo, w.n);
  a[lo] = v;
  w.n++;
}

function remove(w: SortedWindow, v: number) {
  const a = w.values;
  const lo = lowerBound(a, w.n, v);
  // The value was inserted from the same array, so it is there (same bits).
  if (lo >= w.n || a[lo] !== v) throw new Error('sorted window: removing a value it does not hold');
  a.copyWithin(lo, lo + 1, w.n);
  w.n--;
}
