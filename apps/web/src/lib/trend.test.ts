/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pushTrend, series, sparklinePath, trendChange, type TrendPoint } from './trend.ts';

const pt = (t: number, v: number | null): TrendPoint => ({ t, values: { avg: v } });

test('the buffer keeps the newest N points, oldest dropped, input untouched', () => {
  let buf: TrendPoint[] = [];
  for (let i = 0; i < 10; i++) buf = pushTrend(buf, pt(i, i * 10), 4);
  assert.deepEqual(buf.map((p) => p.t), [6, 7, 8, 9]);
  const before = [...buf];
  pushTrend(buf, pt(10, 1), 4);
  assert.deepEqual(buf, before);
});

test('series reads one key, missing and non-finite values as null', () => {
  const buf = [pt(1, 5), { t: 2, values: {} }, pt(3, Number.NaN), pt(4, 7)];
  assert.deepEqual(series(buf, 'avg'), [5, null, null, 7]);
});

test('sparkline spans the box, top is the maximum, gaps break the line', () => {
  assert.equal(sparklinePath([1], 100, 20), '');
  assert.equal(sparklinePath([0, 10], 100, 20, 0), 'M0.0,20.0L100.0,0.0');
  assert.equal(sparklinePath([0, null, 10, 5], 90, 20, 0), 'M0.0,20.0M60.0,0.0L90.0,10.0');
  // a flat series sits mid-height
  assert.equal(sparklinePath([3, 3, 3], 20, 10), 'M0.0,5.0L10.0,5.0L20.0,5.0');
});

test('trend change compares the first and last known values', () => {
  assert.equal(trendChange([null, 5]), null);
  assert.deepEqual(trendChange([100, null, 150]), { dir: 'up', pct: 50 });
  assert.deepEqual(trendChange([200, 100]), { dir: 'down', pct: -50 });
  assert.equal(trendChange([100, 100.1])?.dir, 'flat');
  assert.deepEqual(trendChange([0, 0]), { dir: 'flat', pct: 0 });
});
