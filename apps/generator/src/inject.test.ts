import { test } from 'node:test';
import assert from 'node:assert/strict';
import { injectionApplies, parseDurationMs, parseInjection } from './inject.ts';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

test('parses the documented example', () => {
  const inj = parseInjection('pops=FRA,AMS;functions=image-resize;factor=2;start=+30s;duration=10m', NOW);
  assert.deepEqual(inj, { pops: ['FRA', 'AMS'], functions: ['image-resize'], factor: 2, startMs: NOW + 30_000, durationMs: 600_000 });
});

test('defaults: all series, from now, forever; codes upper-cased; spaces and a trailing ; tolerated', () => {
  assert.deepEqual(parseInjection('factor=1.5', NOW), {
    pops: '*', functions: '*', factor: 1.5, startMs: NOW, durationMs: Infinity,
  });
  const inj = parseInjection(' pops = fra , ams ; functions=* ; factor=3 ;', NOW);
  assert.deepEqual(inj.pops, ['FRA', 'AMS']);
  assert.equal(inj.functions, '*');
  assert.equal(parseInjection('pops=*;factor=2', NOW).pops, '*');
});

test('start accepts now, +/- durations, RFC 3339 with offset and epoch ms', () => {
  const start = (s: string) => parseInjection(`factor=2;start=${s}`, NOW).startMs;
  assert.equal(start('now'), NOW);
  assert.equal(start('+5m'), NOW + 300_000);
  assert.equal(start('-1h'), NOW - 3_600_000);
  assert.equal(start('2025-06-01T12:30:00Z'), NOW + 1_800_000);
  assert.equal(start('2025-06-01T14:30:00+02:00'), NOW + 1_800_000);
  assert.equal(start('1748781000000'), 1_748_781_000_000);
});

test('durations', () => {
  assert.equal(parseDurationMs('250ms'), 250);
  assert.equal(parseDurationMs('30s'), 30_000);
  assert.equal(parseDurationMs('1.5h'), 5_400_000);
  assert.equal(parseDurationMs('2d'), 172_800_000);
  assert.equal(parseDurationMs('5000'), 5000);
  assert.equal(parseDurationMs('10 minutes'), null);
});

test('bad input fails with an error naming the key', () => {
  const cases: Array<[string, RegExp]> = [
    ['pops=FRA', /factor is required/],
    ['factor=0', /factor must be a number > 0.*"0"/],
    ['factor=abc', /factor must be/],
    ['factor=2;start=tomorrow', /start must be/],
    ['factor=2;start=2025-06-01T12:00:00', /start must be/], // no offset: ambiguous
    ['factor=2;duration=0s', /duration must be/],
    ['factor=2;duration=ten', /duration must be/],
    ['factor=2;pops=', /pops must be/],
    ['factor=2;functions= , ', /functions must be/],
    ['factor=2;speed=3', /unknown key "speed"/],
    ['factor=2;factor=3', /key "factor" given twice/],
    ['factor=2;oops', /"oops" is not key=value/],
  ];
  for (const [spec, re] of cases) assert.throws(() => parseInjection(spec, NOW), re, spec);
});

test('injectionApplies: window is [start, start + duration), lists and wildcards', () => {
  const inj = parseInjection('pops=FRA;functions=ssr-render;factor=2;start=now;duration=10s', NOW);
  assert.equal(injectionApplies(inj, 'FRA', 'ssr-render', NOW - 1), false);
  assert.equal(injectionApplies(inj, 'FRA', 'ssr-render', NOW), true);
  assert.equal(injectionApplies(inj, 'FRA', 'ssr-render', NOW + 9_999), true);
  assert.equal(injectionApplies(inj, 'FRA', 'ssr-render', NOW + 10_000), false);
  assert.equal(injectionApplies(inj, 'AMS', 'ssr-render', NOW), false);
  assert.equal(injectionApplies(inj, 'FRA', 'auth-check', NOW), false);
});
