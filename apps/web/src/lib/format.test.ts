/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAgo, formatMs, formatMsValue } from './format.ts';

test('milliseconds: dash for missing values, precision by magnitude', () => {
  assert.equal(formatMs(null), '–');
  assert.equal(formatMs(undefined), '–');
  assert.equal(formatMs(Number.NaN), '–');
  assert.equal(formatMs(42.345), '42.3 ms');
  assert.equal(formatMs(153.2), '153 ms');
  assert.equal(formatMs(12_345), '12.3 s');
  assert.equal(formatMsValue(153.6), '154');
});

test('age reads naturally and never goes negative', () => {
  const now = 1_000_000;
  assert.equal(formatAgo(null, now), 'never');
  assert.equal(formatAgo(now + 5_000, now), 'just now');
  assert.equal(formatAgo(now - 12_000, now), '12 s ago');
  assert.equal(formatAgo(now - 5 * 60_000, now), '5 min ago');
  assert.equal(formatAgo(now - 3 * 3_600_000, now), '3 h ago');
});
