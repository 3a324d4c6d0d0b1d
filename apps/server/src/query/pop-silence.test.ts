import { test } from 'node:test';
import assert from 'node:assert/strict';
import { popSilenceLimit, SILENCE_LOOKBACK_MS, silentAt } from './pop-silence.ts';

const MIN = 60_000;
const AFTER = 3 * MIN;
// 40 s past a minute: a POP's newest 1-minute bucket starts up to a minute before its last sample.
const NOW = Date.UTC(2026, 11, 2, 12, 0, 40);

test('a POP that reports like a clock is judged by NO_DATA_AFTER alone: quiet that long, it is silent at once, whatever minute its last sample fell in', () => {
  // Every 10 s for the hour up to 3.5 min ago (its newest bucket, 11:57, starts 3 min 40 s before): its limit is NO_DATA_AFTER.
  const seen = { samples: 339, firstMs: NOW - 60 * MIN - 40_000, lastMs: NOW - 3 * MIN - 40_000 };
  assert.equal(popSilenceLimit(AFTER, seen), AFTER);
  assert.equal(silentAt(NOW, AFTER, seen), true);
  // Too few samples to say how sparse it is: NO_DATA_AFTER too.
  assert.equal(popSilenceLimit(AFTER, { samples: 2, firstMs: NOW - 50 * MIN, lastMs: NOW - 20 * MIN }), AFTER);
  assert.equal(silentAt(NOW, AFTER, undefined), true);
});

test('a POP whose samples come sparsely may be silent 14 of its mean gaps (never more than the hour read) before it is', () => {
  // 30 samples over 58 minutes: a mean gap of 2 min, a limit of 28 min.
  const seen = { samples: 30, firstMs: NOW - 63 * MIN, lastMs: NOW - 5 * MIN };
  assert.equal(popSilenceLimit(AFTER, seen), 28 * MIN);
  assert.equal(silentAt(NOW, AFTER, seen), false, 'silent 5 min: usual for it');
  assert.equal(silentAt(NOW + 22 * MIN, AFTER, seen), false, '27 min');
  assert.equal(silentAt(NOW + 24 * MIN, AFTER, seen), true, '29 min: past its limit (its newest minute counted whole)');
  // 4 samples over an hour: 14 mean gaps would be 4.7 h; the hour read is the most.
  assert.equal(popSilenceLimit(AFTER, { samples: 4, firstMs: NOW - 60 * MIN, lastMs: NOW - 0 }), SILENCE_LOOKBACK_MS);
});
