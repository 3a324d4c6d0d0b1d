/**
 * How much a series' level wanders beyond what its noise explains: the excess variance of its
 * 5-minute levels (log scale) around a straight line, which takes out a drift or a daily swing.
 *
 * Why: the CUSUM treats buckets as independent. A level that wanders by a few per cent over
 * minutes (host load, a noisy neighbour, caches warming and cooling) adds the same small offset
 * to many buckets in a row, and an offset of 0.1-0.2 sigma multiplies a CUSUM's false alarms:
 * 2-3 % of wander gave 2-12 false alerts per 1000 series-hours (`EVAL_WANDER`, README). The
 * engine raises each arm's k by the wander of the series' function, and scales sigma by its
 * short-range factor (below; engine.ts, wanderK).
 *
 * Estimate, per series: each closed block's level is the mean of its two halves' means, and half
 * their difference, squared, is what the noise alone puts into that level: with independent noise
 * both have the same expectation, whatever the noise's distribution (spikes included), and a
 * wander over minutes hardly moves the level within one block. Over a window of blocks: the variance of the levels around a least-squares line (which takes out a drift or a
 * daily swing), less the mean of the noise parts. It may be negative; one series' estimate is
 * noisy (3 % of wander at sigma 0.25 is 1.5-2 of its standard errors over 140 minutes), so the
 * engine uses the median over a function's series. Blocks and line leave part of a wander out:
 * the engine scales it (wanderGain).
 *
 * Short-range factor, per series: samples that move together over seconds (bursts) are averaged
 * away within a block, yet a CUSUM sums them as if independent. The noise shares (times the
 * block's size) against the buckets' own spread around their half's mean: both estimate sigma^2
 * when samples are independent, and the first grows with their correlation (the variance of a
 * 2.5-minute mean over what independent samples would give). The engine scales sigma by its
 * square root (pooled, as the level's wander).
 */
import { lowerBound } from './robust.ts';

/** Block length: long enough that a block's level is steady, short enough for ~28 blocks in the window. */
export const WANDER_BLOCK_MS = 5 * 60_000;
/** Fewest closed blocks in a window for an estimate (the line takes two degrees of freedom). */
const MIN_BLOCKS = 12;
/** A block counts when this share of its buckets is there. */
const BLOCK_COVERAGE = 0.6;

/** A series' closed blocks, oldest first (parallel arrays: ~40 entries). */
export interface WanderBlocks {
  startMs: number[];
  /** The mean of the two halves' means. */
  level: number[];
  /** ((first half's mean - second's) / 2)^2: the noise's share of the level. */
  noise: number[];
  /** The buckets' variance around their half's mean, and how many buckets. */
  spread: number[];
  size: number[];
}

export const emptyBlocks = (): WanderBlocks => ({ startMs: [], level: [], noise: [], spread: [], size: [] });

/** The block a bucket at tMs falls in (blocks are aligned to the epoch, so every series and process agrees). */
export const blockOf = (tMs: number) => Math.floor(tMs / WANDER_BLOCK_MS) * WANDER_BLOCK_MS;

/**
 * Closes the block starting at blockMs: its buckets are t[lo..hi) (offsets from tBase, values x).
 * Kept only when each half has at least BLOCK_COVERAGE of its buckets at one per stepMs.
 */
export function closeBlock(blocks: WanderBlocks, blockMs: number, t: Int32Array, x: Float32Array, tBase: number, lo: number, hi: number, stepMs: number): void {
  const half = Math.max(1, Math.round(WANDER_BLOCK_MS / 2 / stepMs));
  const mid = lowerBound(t, hi, blockMs + WANDER_BLOCK_MS / 2 - tBase);
  const a = mid - lo;
  const b = hi - mid;
  if (a < BLOCK_COVERAGE * half || b < BLOCK_COVERAGE * half) return;
  // Means, not medians: a re-derive closes ~44 blocks per series (93k at 2,115 series), and a
  // median and a MAD of each block (two sorts) were +17-23 % of a first pass's engine CPU.
  const h1 = meanOf(x, lo, mid);
  const h2 = meanOf(x, mid, hi);
  blocks.startMs.push(blockMs);
  blocks.level.push((h1 + h2) / 2);
  blocks.noise.push(((h1 - h2) / 2) ** 2);
  let sq = 0;
  for (let i = lo; i < mid; i++) sq += (x[i]! - h1) ** 2;
  for (let i = mid; i < hi; i++) sq += (x[i]! - h2) ** 2;
  blocks.spread.push(sq / Math.max(1, hi - lo - 2));
  blocks.size.push(hi - lo);
}

/**
 * Rebuilds the closed blocks of buckets held (t offsets from tBase, ascending): every block but
 * the newest bucket's, as feeding them one by one closes them.
 */
export function blocksOf(t: Int32Array, x: Float32Array, n: number, tBase: number, stepMs: number): WanderBlocks {
  const out = emptyBlocks();
  let i = 0;
  while (i < n) {
    const b = blockOf(tBase + t[i]!);
    const j = lowerBound(t, n, b + WANDER_BLOCK_MS - tBase);
    if (j >= n) break;
    closeBlock(out, b, t, x, tBase, i, j, stepMs);
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
  blocks.level.splice(0, drop);
  blocks.noise.splice(0, drop);
  blocks.spread.splice(0, drop);
  blocks.size.splice(0, drop);
}

/** The level's excess variance over the closed blocks in [fromMs, toMs), or null with fewer than MIN_BLOCKS. */
export function excessVariance(blocks: WanderBlocks, fromMs: number, toMs: number): number | null {
  const lo = lowerBound(blocks.startMs, blocks.startMs.length, fromMs);
  const hi = lowerBound(blocks.startMs, blocks.startMs.length, toMs - WANDER_BLOCK_MS + 1);
  const k = hi - lo;
  if (k < MIN_BLOCKS) return null;
  let noise = 0;
  for (let i = lo; i < hi; i++) noise += blocks.noise[i]!;
  return linearResidualVariance(blocks.startMs, blocks.level, lo, hi) - noise / k;
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

function meanOf(x: Float32Array, lo: number, hi: number): number {
  let sum = 0;
  for (let i = lo; i < hi; i++) sum += x[i]!;
  return sum / (hi - lo);
}

/**
 * How much more a block level varies than its buckets' spread says it would if they were
 * independent (1: independent): the sum of the noise shares times the block sizes over the sum
 * of the spreads, over the closed blocks in [fromMs, toMs); null with fewer than MIN_BLOCKS.
 */
export function shortRangeFactor(blocks: WanderBlocks, fromMs: number, toMs: number): number | null {
  const lo = lowerBound(blocks.startMs, blocks.startMs.length, fromMs);
  const hi = lowerBound(blocks.startMs, blocks.startMs.length, toMs - WANDER_BLOCK_MS + 1);
  if (hi - lo < MIN_BLOCKS) return null;
  let num = 0;
  let den = 0;
  for (let i = lo; i < hi; i++) {
    num += blocks.noise[i]! * blocks.size[i]!;
    den += blocks.spread[i]!;
  }
  return den > 0 ? num / den : null;
}
