import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fullJitterDelay } from './backoff.ts';

test('full jitter: delay is within [0, min(maxMs, initialMs x 2^(attempt-1))]', () => {
  const bounds = { initialMs: 500, maxMs: 30_000 };
  const caps = [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000];
  caps.forEach((cap, i) => {
    assert.equal(fullJitterDelay(i + 1, bounds, () => 1), cap, `attempt ${i + 1} upper bound`);
    assert.equal(fullJitterDelay(i + 1, bounds, () => 0), 0);
    assert.equal(fullJitterDelay(i + 1, bounds, () => 0.5), cap / 2);
  });
  assert.equal(fullJitterDelay(10_000, bounds, () => 1), 30_000, 'no overflow on long outages');
  assert.equal(fullJitterDelay(1, bounds, () => 7), 500, 'a bad random stays in bounds');
});

test('Retry-After raises the delay but never beyond maxMs', () => {
  const bounds = { initialMs: 10, maxMs: 1000 };
  assert.equal(fullJitterDelay(1, bounds, () => 0.5, 300), 300);
  assert.equal(fullJitterDelay(1, bounds, () => 0.5, 5000), 1000);
  assert.equal(fullJitterDelay(8, bounds, () => 1, 300), 1000);
});
