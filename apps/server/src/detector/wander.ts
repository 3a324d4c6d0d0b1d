/**
 * How much a series' level wanders beyond what its noise explains: the excess variance of its
 * 5-minute levels (log scale) around a straight line, which takes out a drift or a daily swing.
 *
 * Why: the CUSUM treats buckets as independent. A level that wanders by a few per cent over
 * minutes (host load, a noisy neighbour, caches warming and cooling) adds the same small offset
 * to many buckets in a row, and an offset of 0.1-0.2 sigma multiplies a CUSUM's false alarms:
 * 2-3 % of wander gave 2-12 false alerts per 1000 series-hours (`EVAL_WANDER`, README). The
 * engine raises each arm's k by the wander of the series' function (engine.ts, wanderK).
 *
 * Estimate, per series: each closed block's median and MAD (a spike moves neither much); over
 * a window of blocks, the residual variance of a least-squares quadratic through the medians, less
 * the variance a median of m buckets has from the noise alone, (pi/2) sigma^2 / m, with sigma from
 * the blocks' MADs (spread around each block's own median, which wander does not inflate). The
 * result may be negative; one series' estimate is noisy (3 % of wander at sigma 0.25 is 1.5-2 of
 * its standard errors over 140 minutes), so the engine uses the median over a function's series.
 * The quadratic and the blocks leave part of a wander out (~40 % of an AR(1)'s variance is left
 * at 3 % over ~17 min): the engine scales it (wanderGain).
 */
import { lowerBound } from './robust.ts';

/** Block length: long enough that a block median is steady, short enough for ~28 blocks in the window. */
export const WANDER_BLOCK_MS = 5 * 60_000;
/** Fewest closed blocks in a window for an estimate (the line takes two degrees of freedom). */
const MIN_BLOCKS = 12;
/** A block counts when this share of its buckets is there. */
const BLOCK_COVERAGE = 0.6;

/** A series' closed blocks, oldest first (parallel arrays: ~40 entries). */
export interface WanderBlocks {
  startMs: number[];
  median: number[];
  mad: number[];
  size: number[];
}

export const emptyBlocks = (): WanderBlocks => ({ startMs: [], median: [], mad: [], size: [] });

/** The block a bucket at tMs falls in (blocks are aligned to the epoch, so every series and process agrees). */
export const blockOf = (tMs: number) => Math.floor(tMs / WANDER_BLOCK_MS) * WANDER_BLOCK_MS;

/**
 * Closes the block starting at blockMs: its buckets are t[lo..hi) (offsets from tBase, values x).
 * Kept only when at least BLOCK_COVERAGE of its stepMs buckets are there.
 */
export function closeBlock(blocks: WanderBlocks, blockMs: number, x: Float32Array, lo: number, hi: number, stepMs: number, scratch: Float64Array): void {
  const m = hi - lo;
  if (m < BLOCK_COVERAGE * Math.max(1, Math.round(WANDER_BLOCK_MS / stepMs)) || m > scratch.length) return;
  const v = scratch.subarray(0, m);
  for (let i = 0; i < m; i++) v[i] = x[lo + i]!;
  v.sort();
  const med = medianOfSorted(v);
  for (let i = 0; i < m; i++) v[i] = Math.abs(v[i]! - med);
  v.sort();
  blocks.startMs.push(blockMs);
  blocks.median.push(med);
  blocks.mad.push(medianOfSorted(v));
  blocks.size.push(m);
}

/**
 * Rebuilds the closed blocks of buckets held (t offsets from tBase, ascending): every block but
 * the newest bucket's, as feeding them one by one closes them.
 */
export function blocksOf(t: Int32Array, x: Float32Array, n: number, tBase: number, stepMs: number, scratch: Float64Array): WanderBlocks {
  const out = emptyBlocks();
  let i = 0;
  while (i < n) {
    const b = blockOf(tBase + t[i]!);
    const j = lowerBound(t, n, b + WANDER_BLOCK_MS - tBase);
    if (j >= n) break;
    closeBlock(out, b, x, i, j, stepMs, scratch);
    i = j;
  }
  return out;
}

/** Drops blocks that started before fromMs (in chunks: amortised O(1)). */
export function trimBlocks(blocks: WanderBlocks, fromMs: number): void {
  let drop = 0;
  while (drop < blocks.startMs.length && blocks.startMs[drop]! < fromMs) drop++;
  if (drop < 8 && drop < blocks.startMs.length) return;
  blocks.startMs.splice(0, drop);
  blocks.median.splice(0, drop);
  blocks.mad.splice(0, drop);
  blocks.size.splice(0, drop);
}

/** The level's excess variance over the closed blocks in [fromMs, toMs), or null with fewer than MIN_BLOCKS. */
export function excessVariance(blocks: WanderBlocks, fromMs: number, toMs: number): number | null {
  const lo = lowerBound(blocks.startMs, blocks.startMs.length, fromMs);
  const hi = lowerBound(blocks.startMs, blocks.startMs.length, toMs - WANDER_BLOCK_MS + 1);
  const k = hi - lo;
  if (k < MIN_BLOCKS) return null;
  const mads = blocks.mad.slice(lo, hi).sort((a, b) => a - b);
  let size = 0;
  for (let i = lo; i < hi; i++) size += blocks.size[i]!;
  const m = size / k;
  // The MAD of m values around their own median runs low by about 1.2 / m (simulated: 0.963 at
  // m = 30, 0.904 at 12, 0.80 at 6, normal noise).
  const sigma = (1.4826 * medianOfSorted(mads)) / Math.max(0.5, 1 - 1.2 / m);
  const residual = linearResidualVariance(blocks.startMs, blocks.median, lo, hi);
  return residual - ((Math.PI / 2) * sigma * sigma) / m;
}

/** The residual variance (SSR / (k - 2)) of a least-squares line through (u, y)[lo..hi). */
export function linearResidualVariance(u: readonly number[], y: readonly number[], lo: number, hi: number): number {
  const k = hi - lo;
  let uMean = 0;
  let yMean = 0;
  for (let j = lo; j < hi; j++) {
    uMean += u[j]!;
    yMean += y[j]!;
  }
  uMean /= k;
  yMean /= k;
  let suu = 0;
  let suy = 0;
  let syy = 0;
  for (let j = lo; j < hi; j++) {
    const a = u[j]! - uMean;
    const b = y[j]! - yMean;
    suu += a * a;
    suy += a * b;
    syy += b * b;
  }
  if (!(suu > 0)) return NaN;
  return (syy - (suy * suy) / suu) / (k - 2);
}

function medianOfSorted(v: ArrayLike<number>): number {
  const m = v.length;
  return m % 2 ? v[m >> 1]! : (v[(m >> 1) - 1]! + v[m >> 1]!) / 2;
}
