/**
 * Sketch bins added up per key in one dense array indexed by bin, as the per-POP blocks
 * (pop-blocks.ts) and one POP's periods (pop-hours.ts) merge many bin lists into one: adding
 * is an index per bin, and reading back in bin order, clearing as it goes, costs only the
 * range of slots the key touched.
 */

/** The sketch's bins run from its ZERO_BIN (-1000) to 32767 (SMALLINT): slot = bin + BIN_OFFSET. */
export const BIN_OFFSET = 1000;
export const BIN_SPAN = 32_768 + BIN_OFFSET;

/** The slots touched since it was made: [lo, hi], empty while lo > hi. */
export interface TouchedRange {
  lo: number;
  hi: number;
}

export const untouched = (): TouchedRange => ({ lo: BIN_SPAN, hi: -1 });

/** Adds one list of bins and their counts into dense, widening the touched range. */
export function addBins(dense: Float64Array, bins: ArrayLike<number>, counts: ArrayLike<number>, range: TouchedRange): void {
  let { lo, hi } = range;
  for (let j = 0; j < bins.length; j++) {
    const x = bins[j]! + BIN_OFFSET;
    dense[x]! += counts[j]!;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  range.lo = lo;
  range.hi = hi;
}
