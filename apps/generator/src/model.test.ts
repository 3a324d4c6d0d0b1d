import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FUNCTIONS, POPS, TIER_FACTOR, type PopInfo } from '@edgeworker/pops';
import { createLatencyModel, diurnalFactor, expectedMedianMs, localHour, popBias } from './model.ts';
import type { FunctionSpec } from './types.ts';

const FN: FunctionSpec = { name: 'image-resize', description: 'x', medianMs: 140, warnMs: 300, critMs: 600 };
const FN2: FunctionSpec = { name: 'auth-check', description: 'x', medianMs: 28, warnMs: 60, critMs: 120 };
const FRA: PopInfo = { code: 'FRA', city: 'Frankfurt', country: 'DE', tier: 'tier1', lat: 50.03, lon: 0 };
const AMS: PopInfo = { code: 'AMS', city: 'Amsterdam', country: 'NL', tier: 'tier2', lat: 52.31, lon: 4.76 };
// 20:00 UTC: local evening (the diurnal peak) at longitude 0.
const EVENING_UTC = Date.UTC(2025, 0, 15, 20, 0, 0);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

test('same seed and same calls give the same numbers; another seed does not', () => {
  const run = (seed: number) => {
    const m = createLatencyModel({ seed });
    return Array.from({ length: 200 }, (_, i) => m.sample(i % 2 ? FRA : AMS, i % 3 ? FN : FN2, EVENING_UTC + i * 10_000));
  };
  assert.deepEqual(run(7), run(7));
  assert.notDeepEqual(run(7), run(8));
});

test('a series does not depend on which other series are sampled', () => {
  const alone = createLatencyModel({ seed: 3 });
  const mixed = createLatencyModel({ seed: 3 });
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < 50; i++) {
    a.push(alone.sample(FRA, FN, EVENING_UTC + i));
    mixed.sample(AMS, FN, EVENING_UTC + i);
    b.push(mixed.sample(FRA, FN, EVENING_UTC + i));
  }
  assert.deepEqual(a, b);
});

test('popBias is stable, within 0.85..1.3 and varies between POPs', () => {
  const biases = POPS.map((p) => popBias(p.code, 1));
  for (const b of biases) assert.ok(b >= 0.85 && b < 1.3, `bias ${b}`);
  assert.equal(popBias('FRA', 1), popBias('FRA', 1));
  assert.ok(Math.max(...biases) - Math.min(...biases) > 0.3, 'biases spread over the range');
});

test('local hour follows longitude; diurnal swing is +-20% peaking in the local evening', () => {
  assert.equal(localHour(0, EVENING_UTC), 20);
  assert.equal(localHour(135, EVENING_UTC), 5); // 20 + 9 = 29 -> 05:00
  assert.equal(localHour(-75, EVENING_UTC), 15);
  assert.ok(Math.abs(diurnalFactor(0, EVENING_UTC) - 1.2) < 1e-12);
  assert.ok(Math.abs(diurnalFactor(0, EVENING_UTC - 12 * 3_600_000) - 0.8) < 1e-12);
});

test('median of many samples is within 10% of the expected median at a fixed local hour', () => {
  const seed = 11;
  const m = createLatencyModel({ seed });
  for (const [pop, fn, t, diurnal] of [
    [FRA, FN, EVENING_UTC, 1.2],
    [FRA, FN2, EVENING_UTC - 12 * 3_600_000, 0.8],
    [AMS, FN, EVENING_UTC, undefined],
  ] as const) {
    const xs = Array.from({ length: 4000 }, () => m.sample(pop, fn, t));
    // Computed by hand from the documented formula, not through the model's helper.
    const expected = fn.medianMs * TIER_FACTOR[pop.tier] * popBias(pop.code, seed) * (diurnal ?? diurnalFactor(pop.lon, t));
    assert.ok(Math.abs(expectedMedianMs(pop, fn, seed, t) - expected) < 1e-9);
    const got = median(xs);
    assert.ok(Math.abs(got / expected - 1) < 0.1, `${pop.code}/${fn.name}: median ${got} vs expected ${expected}`);
  }
});

test('tier3 POPs are slower than tier1 POPs', () => {
  const m = createLatencyModel({ seed: 5 });
  const byTier = (tier: string) =>
    median(POPS.filter((p) => p.tier === tier).flatMap((p) => FUNCTIONS.map((f) => m.sample(p, f, EVENING_UTC) / f.medianMs)));
  const t1 = byTier('tier1');
  const t3 = byTier('tier3');
  assert.ok(t3 > t1 * 1.3, `tier3 ${t3} vs tier1 ${t1}`);
});

test('spikes happen at about the configured rate and are x3..x8', () => {
  const n = 50_000;
  for (const spikeProbability of [0.002, 0.02]) {
    // sigma 0: every non-spike sample is exactly the median, so spikes are unambiguous.
    const m = createLatencyModel({ seed: 9, sigma: 0, spikeProbability });
    const base = expectedMedianMs(FRA, FN, 9, EVENING_UTC);
    const ratios = Array.from({ length: n }, () => m.sample(FRA, FN, EVENING_UTC) / base);
    const spikes = ratios.filter((r) => r > 1.01);
    const expected = n * spikeProbability;
    const sd = Math.sqrt(n * spikeProbability * (1 - spikeProbability));
    assert.ok(Math.abs(spikes.length - expected) < 4 * sd, `p=${spikeProbability}: ${spikes.length} spikes, expected ~${expected}`);
    for (const r of spikes) assert.ok(r >= 2.999 && r <= 8.001, `spike ratio ${r}`);
  }
});

test('an injection multiplies only the chosen series, only inside its window', () => {
  const start = EVENING_UTC + 60_000;
  const injection = { pops: ['FRA'], functions: ['image-resize'], factor: 2.5, startMs: start, durationMs: 30_000 };
  const plain = createLatencyModel({ seed: 4 });
  const injected = createLatencyModel({ seed: 4, injections: [injection] });
  const times = [start - 1, start, start + 10_000, start + 29_999, start + 30_000, start + 90_000];
  for (const t of times) {
    for (const pop of [FRA, AMS]) {
      for (const fn of [FN, FN2]) {
        const a = plain.sample(pop, fn, t);
        const b = injected.sample(pop, fn, t);
        const active = pop.code === 'FRA' && fn.name === 'image-resize' && t >= start && t < start + 30_000;
        if (active) assert.ok(Math.abs(b - a * 2.5) < 0.01, `${pop.code}/${fn.name}@${t - start}: ${b} vs ${a} x 2.5`);
        else assert.equal(b, a, `${pop.code}/${fn.name}@${t - start} must be untouched`);
      }
    }
  }
});

test('wildcard injections apply to every series; rejects bad options', () => {
  const plain = createLatencyModel({ seed: 1, spikeProbability: 0 });
  const all = createLatencyModel({
    seed: 1,
    spikeProbability: 0,
    injections: [{ pops: '*', functions: '*', factor: 3, startMs: 0, durationMs: Infinity }],
  });
  for (const pop of [FRA, AMS]) {
    const a = plain.sample(pop, FN2, EVENING_UTC);
    assert.ok(Math.abs(all.sample(pop, FN2, EVENING_UTC) - 3 * a) < 0.01);
  }
  assert.throws(() => createLatencyModel({ seed: 1, sigma: -1 }), /sigma/);
  assert.throws(() => createLatencyModel({ seed: 1, spikeProbability: 2 }), /spikeProbability/);
});
