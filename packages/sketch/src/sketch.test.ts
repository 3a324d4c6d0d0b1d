import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binOf, binValue, merge, quantiles, RELATIVE_ACCURACY, sketchOf, ZERO_BIN } from './index.ts';

function exact(xs: number[], q: number) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(q * (s.length - 1))]!;
}

describe('log-bin sketch', () => {
  it('maps every value to a bin whose representative is within 1 %', () => {
    for (let v = 0.002; v < 100_000; v *= 1.0137) {
      const r = binValue(binOf(v));
      assert.ok(Math.abs(r - v) / v <= RELATIVE_ACCURACY + 1e-12, `${v} -> ${r}`);
    }
    assert.equal(binOf(0), ZERO_BIN);
    assert.equal(binValue(ZERO_BIN), 0);
  });

  it('reads quantiles within 1 % of the sample at that rank, also after merging', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const a = Array.from({ length: 5000 }, () => 20 + Math.exp(4 + rand() * 2));
    const b = Array.from({ length: 3000 }, () => 300 * rand() + 1);
    const merged = merge(sketchOf(a), sketchOf(b));
    const all = [...a, ...b];
    const [p50, p95, p99] = quantiles(merged, [0.5, 0.95, 0.99]);
    for (const [q, got] of [[0.5, p50], [0.95, p95], [0.99, p99]] as const) {
      const want = exact(all, q);
      assert.ok(Math.abs(got! - want) / want <= RELATIVE_ACCURACY + 1e-12, `q${q}: ${got} vs ${want}`);
    }
    assert.deepEqual(quantiles(new Map(), [0.5]), [null]);
  });
});
