/**
 * Moves map markers apart just enough that none sits on another, so each can be pointed at.
 * Pure and deterministic: the same places, spacing and bounds give the same layout, whatever
 * the order live data arrives in (callers pass points in a fixed order, by POP code).
 *
 * Each pass pushes every pair closer than `minDist` apart along the line between them, half
 * each (a neighbour grid finds the pairs, so a pass costs O(n)); passes repeat until no pair is
 * closer than `minDist` (less `tolerance`), the count of such pairs stops falling (a crowd held
 * by maxShift) or `maxPasses` ran. Points never move further than
 * the overlap asks, so an uncrowded marker stays exactly on its place; two at the very same
 * place part along a fixed direction per pair.
 */

export interface Point {
  x: number;
  y: number;
}

export interface DeclutterOptions {
  /** Smallest distance wanted between two points' centres. */
  minDist: number;
  /** Points stay inside this box (the map's), whatever the push. */
  bounds?: { x0: number; y0: number; x1: number; y1: number };
  /**
   * Furthest a point may be moved from its place (default: no limit). Where a crowd is too dense
   * for that, its points keep their overlaps (and the layout does not settle).
   */
  maxShift?: number;
  /** Upper bound on the work: passes over all pairs (default 300). */
  maxPasses?: number;
  /** A pair this much closer than minDist counts as apart (default 1 % of minDist). */
  tolerance?: number;
}

export interface Decluttered {
  points: Point[];
  /** Passes run. */
  passes: number;
  /** False when maxPasses ran out with pairs still closer than minDist. */
  settled: boolean;
}

const GOLDEN_ANGLE = Math.PI * (3 - Math.sqrt(5));
/** Passes without fewer pairs too close before giving up (a crowd held by maxShift). */
const STALL = 20;

export function declutter(anchors: readonly Point[], opts: DeclutterOptions): Decluttered {
  const { minDist, bounds } = opts;
  const maxPasses = opts.maxPasses ?? 300;
  const tolerance = opts.tolerance ?? minDist * 0.01;
  const n = anchors.length;
  const xs = Float64Array.from(anchors, (p) => p.x);
  const ys = Float64Array.from(anchors, (p) => p.y);
  const maxShift = opts.maxShift ?? Infinity;
  const clamp = (i: number) => {
    const ax = anchors[i]!.x;
    const ay = anchors[i]!.y;
    const shift = Math.hypot(xs[i]! - ax, ys[i]! - ay);
    if (shift > maxShift) {
      xs[i] = ax + ((xs[i]! - ax) * maxShift) / shift;
      ys[i] = ay + ((ys[i]! - ay) * maxShift) / shift;
    }
    if (!bounds) return;
    xs[i] = Math.min(bounds.x1, Math.max(bounds.x0, xs[i]!));
    ys[i] = Math.min(bounds.y1, Math.max(bounds.y0, ys[i]!));
  };
  if (n < 2 || !(minDist > 0)) return { points: anchors.map((p) => ({ x: p.x, y: p.y })), passes: 0, settled: true };

  const cell = minDist;
  const grid = new Map<number, number[]>();
  // cells keyed by one number: column and row fit in 2^20 each for any sane map
  const key = (cx: number, cy: number) => (cx + 524_288) * 1_048_576 + (cy + 524_288);
  let passes = 0;
  let settled = false;
  let fewest = Infinity;
  let stalled = 0;
  while (!settled && passes < maxPasses) {
    passes += 1;
    grid.clear();
    for (let i = 0; i < n; i++) {
      const k = key(Math.floor(xs[i]! / cell), Math.floor(ys[i]! / cell));
      const bucket = grid.get(k);
      if (bucket) bucket.push(i);
      else grid.set(k, [i]);
    }
    let moved = false;
    let tooClose = 0;
    for (let i = 0; i < n; i++) {
      const cx = Math.floor(xs[i]! / cell);
      const cy = Math.floor(ys[i]! / cell);
      for (let dx = -1; dx <= 1; dx++) {
        for (let dy = -1; dy <= 1; dy++) {
          const bucket = grid.get(key(cx + dx, cy + dy));
          if (!bucket) continue;
          for (const j of bucket) {
            if (j <= i) continue;
            let vx = xs[j]! - xs[i]!;
            let vy = ys[j]! - ys[i]!;
            let d = Math.hypot(vx, vy);
            if (d >= minDist - tolerance) continue;
            tooClose += 1;
            if (d < 1e-9) {
              // the very same place: part along a direction fixed by the pair
              const a = (i * 7 + j) * GOLDEN_ANGLE;
              vx = Math.cos(a);
              vy = Math.sin(a);
              d = 0;
            } else {
              vx /= d;
              vy /= d;
            }
            const push = (minDist - d) / 2;
            xs[i] = xs[i]! - vx * push;
            ys[i] = ys[i]! - vy * push;
            xs[j] = xs[j]! + vx * push;
            ys[j] = ys[j]! + vy * push;
            clamp(i);
            clamp(j);
            moved = true;
          }
        }
      }
    }
    settled = !moved;
    // held by maxShift or the bounds, pushes only trade overlaps: stop when STALL passes in a row
    // found no fewer pairs too close than the best pass so far
    if (tooClose < fewest) {
      fewest = tooClose;
      stalled = 0;
    } else if (++stalled >= STALL) break;
  }
  const points: Point[] = [];
  for (let i = 0; i < n; i++) points.push({ x: xs[i]!, y: ys[i]! });
  return { points, passes, settled };
}

/**
 * Distance from each point to its nearest other point, at most `cap` (also for a point alone).
 * A grid of `cap`-wide cells finds the neighbours, so it costs O(n) for spread points.
 */
export function nearestDistances(points: readonly Point[], cap: number): number[] {
  const grid = new Map<string, number[]>();
  const cellOf = (p: Point) => [Math.floor(p.x / cap), Math.floor(p.y / cap)] as const;
  points.forEach((p, i) => {
    const [cx, cy] = cellOf(p);
    const k = `${cx},${cy}`;
    const bucket = grid.get(k);
    if (bucket) bucket.push(i);
    else grid.set(k, [i]);
  });
  return points.map((p, i) => {
    const [cx, cy] = cellOf(p);
    let best = cap;
    for (let dx = -1; dx <= 1; dx++)
      for (let dy = -1; dy <= 1; dy++)
        for (const j of grid.get(`${cx + dx},${cy + dy}`) ?? []) {
          if (j !== i) best = Math.min(best, Math.hypot(points[j]!.x - p.x, points[j]!.y - p.y));
        }
    return best;
  });
}

/** Smallest distance between two of the points (a grid-free O(n²) check: for tests and small n). */
export function closestPair(points: readonly Point[]): number {
  let best = Infinity;
  for (let i = 0; i < points.length; i++)
    for (let j = i + 1; j < points.length; j++) best = Math.min(best, Math.hypot(points[i]!.x - points[j]!.x, points[i]!.y - points[j]!.y));
  return best;
}
