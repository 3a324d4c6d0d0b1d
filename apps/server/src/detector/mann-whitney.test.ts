import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mannWhitneyU, normalCdf, normalSf } from './mann-whitney.ts';

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} is not within ${tol} of ${expected}`);

test('normal tails match the published table (z = 1.96 -> 0.025, 2.326 -> 0.01, 0 -> 0.5)', () => {
  close(normalSf(1.959964), 0.025, 1e-6, 'sf(1.96)');
  close(normalSf(2.326348), 0.01, 1e-6, 'sf(2.326)');
  close(normalSf(0), 0.5, 1e-7, 'sf(0)');
  close(normalCdf(-1.644854), 0.05, 1e-6, 'cdf(-1.645)');
});

test('exact: three values all above three others is the 1-in-C(6,3) arrangement, p = 1/20', () => {
  const r = mannWhitneyU([4, 5, 6], [1, 2, 3], 'greater');
  assert.equal(r.method, 'exact');
  assert.equal(r.u, 9);
  close(r.p, 1 / 20, 1e-12, 'p greater');
  close(mannWhitneyU([4, 5, 6], [1, 2, 3], 'two-sided').p, 2 / 20, 1e-12, 'p two-sided');
  // The same data is no evidence at all for "less".
  close(mannWhitneyU([4, 5, 6], [1, 2, 3], 'less').p, 1, 1e-12, 'p less');
});

test('exact: 5 vs 5 with full separation gives p = 1/C(10,5) = 1/252', () => {
  const r = mannWhitneyU([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]);
  assert.equal(r.u, 25);
  close(r.p, 1 / 252, 1e-12, 'p');
});

test('exact: one overlap among 3 vs 3 gives U = 8 and p = 2/20 (two arrangements reach U >= 8)', () => {
  const r = mannWhitneyU([3, 5, 6], [1, 2, 4]);
  assert.equal(r.u, 8);
  close(r.p, 2 / 20, 1e-12, 'p');
});

test('ties: average ranks and tie-corrected variance, worked by hand', () => {
  // Pooled ranks: 1,1 -> 1.5; 2,2,2 -> 4; 3,3,3 -> 7; 4,4,4 -> 10; 5 -> 12.
  // R_x = 4+4+7+10+10+12 = 47, U = 47 - 21 = 26, mean = 18,
  // var = 36/12 * (13 - (6 + 3*24) / 132) = 37.22727, z = (26 - 18 - 0.5) / 6.10142 = 1.22922.
  const r = mannWhitneyU([2, 2, 3, 4, 4, 5], [1, 1, 2, 3, 3, 4], 'greater');
  assert.equal(r.method, 'normal');
  assert.equal(r.u, 26);
  close(r.z, 1.22922, 1e-4, 'z');
  close(r.p, 0.10949, 2e-4, 'p');
});

test('normal approximation agrees with the exact distribution at 20 vs 20', () => {
  const x = Array.from({ length: 20 }, (_, i) => i * 2 + 1.5); // interleaved with y, shifted up
  const y = Array.from({ length: 20 }, (_, i) => i * 2);
  const exact = mannWhitneyU(x, y);
  assert.equal(exact.method, 'exact');
  // Force the normal path with one tie far from the action: adding a tied pair changes little.
  const approx = mannWhitneyU([...x, 1000], [...y, 1000]);
  assert.equal(approx.method, 'normal');
  close(approx.p, exact.p, 0.03, 'normal vs exact');
  assert.ok(exact.p > 0.2 && exact.p < 0.5, `interleaved samples are weak evidence (p=${exact.p})`);
});

test('identical samples are no evidence (p = 1), swapping x and y swaps greater and less', () => {
  assert.equal(mannWhitneyU([5, 5, 5], [5, 5, 5, 5]).p, 1);
  const a = [12, 15, 11, 19, 14, 13, 18, 20, 16, 17, 30, 31, 29, 28, 27, 26, 25, 24, 23, 22, 21, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42];
  const b = [10, 9, 8, 12.5, 11.5, 7, 6, 13.5, 5, 4, 3, 2];
  close(mannWhitneyU(a, b, 'greater').p, mannWhitneyU(b, a, 'less').p, 1e-12, 'symmetry');
  assert.ok(mannWhitneyU(a, b, 'greater').p < 1e-4);
});

test('empty samples are refused with a clear error', () => {
  assert.throws(() => mannWhitneyU([], [1]), /two non-empty samples/);
});
