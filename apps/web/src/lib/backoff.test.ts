/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BACKOFF_MAX_MS, backoffDelay } from './backoff.ts';

test('backoff starts near 1 s and doubles', () => {
  const mid = () => 0.5; // no jitter
  assert.deepEqual([0, 1, 2, 3, 4].map((a) => backoffDelay(a, mid)), [1000, 2000, 4000, 8000, 16000]);
});

test('backoff never exceeds 30 s, even with jitter or huge attempt numbers', () => {
  for (const attempt of [5, 6, 10, 100, 10_000]) {
    assert.equal(backoffDelay(attempt, () => 0.999), BACKOFF_MAX_MS);
    assert.ok(backoffDelay(attempt, () => 0) >= BACKOFF_MAX_MS * 0.8);
  }
});

test('jitter spreads retries by ±20 %', () => {
  assert.equal(backoffDelay(2, () => 0), 3200);
  assert.equal(backoffDelay(2, () => 0.999), 4798);
  assert.equal(backoffDelay(-3, () => 0.5), 1000);
});
