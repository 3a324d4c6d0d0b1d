/**
 * For tests of answers read from the rollups' sketches: the sketch's guarantee checked
 * against the exact samples. Count exact, mean to float rounding, and p50/p95/p99 within
 * RELATIVE_ACCURACY of the sample at rank q·(n−1) (rounded down, where continuous
 * interpolation starts). Shared by the rollup, per-POP block and POP-period tests.
 */
import assert from 'node:assert/strict';
import { RELATIVE_ACCURACY } from '@edgeworker/sketch';
import type { AggregateStats } from '../metrics-store.ts';

export function assertWithinSketchBound(got: AggregateStats, values: readonly number[], what: string): void {
  const vs = [...values].sort((a, b) => a - b);
  const mean = vs.reduce((a, b) => a + b, 0) / vs.length;
  assert.equal(got.samples, vs.length, `${what}: count`);
  assert.ok(Math.abs(got.mean! - mean) <= mean * 1e-9, `${what}: mean ${got.mean} vs ${mean}`);
  for (const [q, v] of [[0.5, got.p50], [0.95, got.p95], [0.99, got.p99]] as const) {
    const lo = vs[Math.floor(q * (vs.length - 1))]!;
    assert.ok(v !== null && Math.abs(v - lo) <= lo * RELATIVE_ACCURACY * 1.0001, `${what}: p${q * 100} ${v} vs ${lo}`);
  }
}
