/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closestPair, declutter, nearestDistances, type Point } from './declutter.ts';

const dist = (a: Point, b: Point) => Math.hypot(a.x - b.x, a.y - b.y);

/** A fixed pseudo-random crowd (no Math.random: the test is the same every run). */
function crowd(n: number, size: number, seed = 1): Point[] {
  let s = seed;
  const next = () => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: n }, () => ({ x: next() * size, y: next() * size }));
}

test('points already apart stay exactly where they are', () => {
  const pts = [
    { x: 0, y: 0 },
    { x: 10, y: 0 },
    { x: 0, y: 9 },
  ];
  const r = declutter(pts, { minDist: 8 });
  assert.deepEqual(r.points, pts);
  assert.equal(r.settled, true);
  assert.equal(r.passes, 1);
});

test('two markers 4 px apart (FRA and CGN at 1440 px) part symmetrically to the spacing', () => {
  const r = declutter([{ x: 100, y: 100 }, { x: 103, y: 104 }], { minDist: 8 });
  const [a, b] = r.points as [Point, Point];
  assert.ok(dist(a, b) >= 8 * 0.99, `apart ${dist(a, b)}`);
  // each moved half the overlap, along the line between them
  assert.ok(Math.abs(dist(a, { x: 100, y: 100 }) - 1.5) < 0.01);
  assert.ok(Math.abs(dist(b, { x: 103, y: 104 }) - 1.5) < 0.01);
});

test('points on the very same place part, the same way every time', () => {
  const same = [{ x: 50, y: 50 }, { x: 50, y: 50 }, { x: 50, y: 50 }];
  const one = declutter(same, { minDist: 8 });
  const two = declutter(same, { minDist: 8 });
  assert.deepEqual(one.points, two.points);
  assert.ok(closestPair(one.points) >= 8 * 0.99, `closest ${closestPair(one.points)}`);
});

test('a dense crowd comes apart, and is laid out the same each time', () => {
  const pts = crowd(150, 60);
  const r = declutter(pts, { minDist: 8 });
  assert.equal(r.settled, true);
  assert.ok(closestPair(r.points) >= 8 * 0.99, `closest ${closestPair(r.points)}`);
  assert.deepEqual(declutter(pts, { minDist: 8 }).points, r.points);
});

test('no point moves further than maxShift or leaves the bounds; a crowd too dense for that stops early', () => {
  const pts = crowd(200, 30, 7);
  const bounds = { x0: 0, y0: 0, x1: 40, y1: 40 };
  const r = declutter(pts, { minDist: 8, maxShift: 5, bounds });
  assert.equal(r.settled, false, 'too dense to come apart within 5 px');
  assert.ok(r.passes < 300, `gave up after ${r.passes} passes, not at the limit`);
  r.points.forEach((p, i) => {
    assert.ok(dist(p, pts[i]!) <= 5 + 1e-9, `point ${i} moved ${dist(p, pts[i]!)}`);
    assert.ok(p.x >= 0 && p.x <= 40 && p.y >= 0 && p.y <= 40, `point ${i} at ${p.x},${p.y}`);
  });
});

test('nearestDistances matches a brute-force search, capped', () => {
  const pts = crowd(300, 200, 3);
  const got = nearestDistances(pts, 14);
  pts.forEach((p, i) => {
    let best = 14;
    pts.forEach((q, j) => {
      if (j !== i) best = Math.min(best, dist(p, q));
    });
    assert.ok(Math.abs(got[i]! - best) < 1e-9, `point ${i}: ${got[i]} vs ${best}`);
  });
  assert.deepEqual(nearestDistances([{ x: 1, y: 1 }], 14), [14]);
});
