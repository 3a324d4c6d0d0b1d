import { test } from 'node:test';
import assert from 'node:assert/strict';
import { popSilenceLimit, popsSeen, RECENT_SAMPLES, SILENCE_LOOKBACK_MS, silentAt, type PopSeen } from './pop-silence.ts';

const MIN = 60_000;
const AFTER = 3 * MIN;
// 40 s past a minute: a POP's newest 1-minute bucket starts up to a minute before its last sample.
const NOW = Date.UTC(2026, 11, 2, 12, 0, 40);
/** A POP seen evenly over [firstMs, lastMs]: its newest samples say the same rate as the whole. */
const even = (samples: number, firstMs: number, lastMs: number): PopSeen => ({ samples, firstMs, lastMs, recentSamples: Math.min(samples, RECENT_SAMPLES), recentFirstMs: lastMs - ((lastMs - firstMs) * (Math.min(samples, RECENT_SAMPLES) - 1)) / Math.max(1, samples - 1) });

test('a POP that reports like a clock is judged by NO_DATA_AFTER alone: quiet that long, it is silent at once, whatever minute its last sample fell in', () => {
  // Every 10 s for the hour up to 3.5 min ago (its newest bucket, 11:57, starts 3 min 40 s before): its limit is NO_DATA_AFTER.
  const seen = even(339, NOW - 60 * MIN - 40_000, NOW - 3 * MIN - 40_000);
  assert.equal(popSilenceLimit(AFTER, seen), AFTER);
  assert.equal(silentAt(NOW, AFTER, seen), true);
  // Too few samples to say how sparse it is: NO_DATA_AFTER too.
  assert.equal(popSilenceLimit(AFTER, even(2, NOW - 50 * MIN, NOW - 20 * MIN)), AFTER);
  assert.equal(silentAt(NOW, AFTER, undefined), true);
});

test('a POP whose samples come sparsely may be silent 14 of its mean gaps (never more than the hour read) before it is', () => {
  // 30 samples over 58 minutes: a mean gap of 2 min, a limit of 28 min.
  const seen = even(30, NOW - 63 * MIN, NOW - 5 * MIN);
  assert.equal(popSilenceLimit(AFTER, seen), 28 * MIN);
  assert.equal(silentAt(NOW, AFTER, seen), false, 'silent 5 min: usual for it');
  assert.equal(silentAt(NOW + 22 * MIN, AFTER, seen), false, '27 min');
  assert.equal(silentAt(NOW + 24 * MIN, AFTER, seen), true, '29 min: past its limit (its newest minute counted whole)');
  // 4 samples over an hour: 14 mean gaps would be 4.7 h; the hour read is the most.
  assert.equal(popSilenceLimit(AFTER, even(4, NOW - 60 * MIN, NOW - 0)), SILENCE_LOOKBACK_MS);
});

test("popsSeen adds a POP's functions up per minute, and keeps apart its newest buckets that hold 32 samples", () => {
  const at = (popCode: string, min: number, samples: number) => ({ popCode, startMs: NOW - 40_000 - min * MIN, samples });
  // FRA: two functions, 1 sample a minute each for 30 minutes (60 samples); LHR: 3 samples; an empty bucket is skipped.
  const buckets = [...Array.from({ length: 30 }, (_, i) => [at('FRA', i, 1), { ...at('FRA', i, 1) }]).flat(), at('LHR', 0, 1), at('LHR', 10, 2), at('LHR', 50, 0)];
  const seen = popsSeen(buckets.reverse());
  assert.deepEqual(seen.get('FRA'), { samples: 60, firstMs: NOW - 40_000 - 29 * MIN, lastMs: NOW - 40_000, recentSamples: 32, recentFirstMs: NOW - 40_000 - 15 * MIN });
  assert.deepEqual(seen.get('LHR'), { samples: 3, firstMs: NOW - 40_000 - 10 * MIN, lastMs: NOW - 40_000, recentSamples: 3, recentFirstMs: NOW - 40_000 - 10 * MIN });
});

test("a POP whose traffic fell is judged by its newest samples' rate, not the faster hour's: the map does not grey it at the new rate's ordinary gaps", () => {
  // 4 samples a minute until 20 minutes ago, then one every 2 minutes (its newest at NOW - 40 s).
  const buckets: Array<{ popCode: string; startMs: number; samples: number }> = [];
  for (let m = 0; m < 60; m++) buckets.push({ popCode: 'FRA', startMs: NOW - 40_000 - m * MIN, samples: m < 20 ? (m % 2 === 0 ? 1 : 0) : 4 });
  const seen = popsSeen(buckets).get('FRA')!;
  // The hour's mean gap (~21 s) alone: 5 minutes, 2.5 of the new rate's gaps (8 % of them are longer).
  const hourOnly = popSilenceLimit(AFTER, { ...seen, recentSamples: 0 });
  assert.ok(hourOnly < 5.5 * MIN, `the hour alone: ${hourOnly / MIN} min`);
  // Its newest buckets holding 32 samples: the 10 since the fall and 24 before, over 25 minutes: ~10.6 min.
  assert.ok(popSilenceLimit(AFTER, seen) > 10 * MIN, `with its newest samples: ${popSilenceLimit(AFTER, seen) / MIN} min`);
  // Quiet ~7 minutes (3.5 of its gaps now): no_data by the hour alone, not by its newest samples.
  assert.equal(silentAt(NOW + 6 * MIN, AFTER, { ...seen, recentSamples: 0 }), true);
  assert.equal(silentAt(NOW + 6 * MIN, AFTER, seen), false);
  // Traffic that did not fall: its newest samples say the hour's rate, and change nothing.
  const steady = popsSeen(Array.from({ length: 60 }, (_, m) => ({ popCode: 'LHR', startMs: NOW - 40_000 - m * MIN, samples: 2 }))).get('LHR')!;
  assert.equal(popSilenceLimit(AFTER, steady), popSilenceLimit(AFTER, { ...steady, recentSamples: 0 }));
});
