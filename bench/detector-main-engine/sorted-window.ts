/** FROZEN ANCHOR (bench only): main's copy at 2e71044, used by ./engine.ts. Do not edit. */
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
    values.subarray(0, size).sort();
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
let scratch: Float32Array = new Float32Array(1024);
let outs = new Float64Array(64);
let ins = new Float64Array(64);

/** Removes x[outFrom..outTo) and inserts x[inFrom..inTo) in one pass over w. */
function merge(w: SortedWindow, x: ArrayLike<number>, outFrom: number, outTo: number, inFrom: number, inTo: number) {
  const nOut = outTo - outFrom;
  const nIn = inTo - inFrom;
  if (outs.length <= nOut) outs = new Float64Array(2 * nOut + 1);
  if (ins.length <= nIn) ins = new Float64Array(2 * nIn + 1);
  sortInto(outs, x, outFrom, nOut);
  sortInto(ins, x, inFrom, nIn);
  // Sentinels, so the loop below tests no bounds: NaN equals no value, and no value is above +Infinity.
  outs[nOut] = NaN;
  ins[nIn] = Infinity;
  const n = w.n - nOut + nIn;
  if (scratch.length < n) scratch = new Float32Array(n + 32);
  const a = w.values;
  const o = outs;
  const p = ins;
  const b = scratch;
  let r = 0;
  let j = 0;
  let k = 0;
  for (let i = 0; i < w.n; i++) {
    const v = a[i]!;
    // The values that left, in ascending order: each is in the window (inserted from the same array, same bits).
    if (v === o[r]) {
      r++;
      continue;
    }
    while (p[j]! < v) b[k++] = p[j++]!;
    b[k++] = v;
  }
  while (j < nIn) b[k++] = p[j++]!;
  if (r < nOut) throw new Error('sorted window: removing a value it does not hold');
  // The merged buffer becomes the window's; its old one is the next merge's scratch (no copy back).
  w.values = b;
  w.n = n;
  scratch = a;
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
