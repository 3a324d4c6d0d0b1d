import { test } from 'node:test';
import assert from 'node:assert/strict';
import { medianDeviation } from './median-deviation.ts';

/** The definition: every deviation, sorted, the middle one(s). */
function reference(sorted: Float64Array, med: number): number {
  const dev = new Float64Array(sorted.length);
  for (let i = 0; i < sorted.length; i++) dev[i] = Math.abs(sorted[i]! - med);
  dev.sort();
  const mid = (dev.length - 1) / 2;
  return (dev[Math.floor(mid)]! + dev[Math.ceil(mid)]!) / 2;
}

test('medianDeviation is bit-identical to sorting the deviations, on odd and even counts, ties and skew', () => {
  let seed = 9;
  const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const median = (s: Float64Array) => (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2;
  let checked = 0;
  for (let r = 0; r < 3000; r++) {
    const n = 1 + Math.floor(rand() * 250);
    const kind = r % 4;
    const xs = Float64Array.from({ length: n }, () =>
      kind === 0 ? Math.log(20 + rand() * 400) : kind === 1 ? Math.round(rand() * 5) / 2 : kind === 2 ? (rand() < 0.9 ? 1 : 1 + rand() * 50) : -rand() * 3,
    ).sort();
    for (const med of [median(xs), xs[0]!, xs[n - 1]!, median(xs) + 0.1]) {
      assert.equal(Object.is(medianDeviation(xs, med), reference(xs, med)), true, `n = ${n}, kind ${kind}`);
      checked++;
    }
  }
  assert.ok(checked > 10_000);
  assert.ok(Number.isNaN(medianDeviation(new Float64Array(0), 0)));
});
