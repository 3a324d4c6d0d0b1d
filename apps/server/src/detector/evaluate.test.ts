import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SeriesBucket } from '../stores/metrics-store.ts';
import { detectorSettings, evaluate, evaluationRange, hodgesLehmannRatio, median, quantile } from './evaluate.ts';

const MIN = 60_000;
const settings = detectorSettings({ recentMs: 10 * MIN, baselineMs: 60 * MIN, minChange: 0.2, resolveAfterMs: 10 * MIN });
const END = Date.UTC(2026, 0, 1, 12); // aligned to the minute

/** Deterministic noise around 1 (+-8 %), different per bucket, no randomness in tests. */
const wobble = (i: number) => 1 + 0.08 * Math.sin(i * 2.3) * Math.cos(i * 0.7);

/** 70 one-minute buckets ending at END; value(i) for bucket i (0 = oldest, 69 = newest). */
function series(pop: string, value: (i: number) => number, fn = 'ssr-render', samples = 6): SeriesBucket[] {
  return Array.from({ length: 70 }, (_, i) => {
    const v = value(i);
    return { popCode: pop, functionName: fn, startMs: END - (70 - i) * MIN, samples, mean: v, p50: v };
  });
}

test('settings: ten buckets in the recent window, windows whole buckets, range covers both windows', () => {
  assert.equal(settings.stepMs, MIN);
  assert.equal(settings.recentMs, 10 * MIN);
  assert.equal(settings.baselineMs, 60 * MIN);
  assert.deepEqual(evaluationRange(settings, END), { fromMs: END - 70 * MIN, toMs: END });
});

test('a sustained 2x shift over the recent window is one critical finding with the medians', () => {
  const ev = evaluate({ buckets: series('FRA', (i) => 100 * wobble(i) * (i >= 60 ? 2 : 1)), unresolved: [], settings, endMs: END });
  assert.equal(ev.evaluated, 1);
  assert.equal(ev.raise.length, 1);
  const f = ev.raise[0]!;
  assert.equal(f.popCode, 'FRA');
  assert.equal(f.functionName, 'ssr-render');
  assert.equal(f.severity, 'critical');
  assert.ok(Math.abs(f.baselineMs - 100) < 5, `baseline ${f.baselineMs}`);
  assert.ok(Math.abs(f.changePct - 100) < 12, `change ${f.changePct}`);
  assert.deepEqual(ev.resolve, []);
});

test('a 1.5x shift is a warning; a shift in only the latest 3 of 10 minutes is not (yet) sustained', () => {
  const warn = evaluate({ buckets: series('AMS', (i) => 80 * wobble(i) * (i >= 60 ? 1.5 : 1)), unresolved: [], settings, endMs: END });
  assert.equal(warn.raise[0]?.severity, 'warning');
  const young = evaluate({ buckets: series('AMS', (i) => 80 * wobble(i) * (i >= 67 ? 3 : 1)), unresolved: [], settings, endMs: END });
  assert.deepEqual(young.raise, []);
});

test('noise, single spikes and slow drift do not alert; the unaffected series beside a shifted one stay quiet', () => {
  const buckets = [
    ...series('NOI', (i) => 50 * wobble(i)),
    // Two isolated spike buckets (x6) inside the recent window.
    ...series('SPK', (i) => 50 * wobble(i) * (i === 62 || i === 66 ? 6 : 1)),
    // +10 % per hour: the last ten minutes are only a few per cent above the hour before.
    ...series('DRF', (i) => 50 * wobble(i) * (1 + (0.1 * i) / 60)),
    ...series('SHF', (i) => 50 * wobble(i) * (i >= 60 ? 3 : 1)),
  ];
  const ev = evaluate({ buckets, unresolved: [], settings, endMs: END });
  assert.equal(ev.evaluated, 4);
  assert.deepEqual(ev.raise.map((f) => f.popCode), ['SHF']);
});

test('a shift below minChange is not a regression even when the rank test is certain', () => {
  const ev = evaluate({ buckets: series('LOW', (i) => 100 * (i >= 60 ? 1.1 : 1) + i * 0.001), unresolved: [], settings, endMs: END });
  assert.deepEqual(ev.raise, []);
});

test('too little data is not judged: missing buckets or too few samples', () => {
  const sparse = series('SPR', (i) => 100 * (i >= 60 ? 3 : 1)).filter((b, i) => i < 60 || i % 3 === 0);
  assert.equal(evaluate({ buckets: sparse, unresolved: [], settings, endMs: END }).evaluated, 0);
  const fewSamples = series('THN', (i) => 100 * (i >= 60 ? 3 : 1), 'ssr-render', 1);
  const ev = evaluate({ buckets: fewSamples, unresolved: [], settings, endMs: END });
  // 10 recent buckets x 1 sample = 10 >= minRecentSamples, 60 baseline samples >= 30: judged...
  assert.equal(ev.evaluated, 1);
  // ...but with 5 recent buckets of 1 sample each, not.
  const fewer = fewSamples.filter((b, i) => i < 60 || i % 2 === 0);
  assert.equal(evaluate({ buckets: fewer, unresolved: [], settings, endMs: END }).evaluated, 0);
});

test('a bucket at or after endMs (still filling) is ignored', () => {
  const buckets = series('NOW', (i) => 100 * wobble(i));
  buckets.push({ popCode: 'NOW', functionName: 'ssr-render', startMs: END, samples: 6, mean: 900, p50: 900 });
  assert.deepEqual(evaluate({ buckets, unresolved: [], settings, endMs: END }).raise, []);
});

test('hysteresis: an open alert resolves only after the series has been back for resolveAfter', () => {
  const alert = { id: 'a1', popCode: 'FRA', functionName: 'ssr-render', baselineMs: 100 };
  // Still at 2x: the finding refreshes the alert, no resolve.
  const high = evaluate({ buckets: series('FRA', (i) => 100 * wobble(i) * (i >= 30 ? 2 : 1)), unresolved: [alert], settings, endMs: END });
  assert.equal(high.raise.length, 1);
  assert.deepEqual(high.resolve, []);
  // Measured against the alert's baseline (100), not the window's (half of it already 2x).
  assert.equal(high.raise[0]!.baselineMs, 100);
  assert.equal(high.raise[0]!.severity, 'critical');
  assert.ok(Math.abs(high.raise[0]!.changePct - 100) < 12, `change ${high.raise[0]!.changePct}`);
  // The baseline window has caught up with the regression (2x for the whole 70 min): no finding,
  // but the series is far above the alert's own baseline, so the alert stays open.
  const absorbed = evaluate({ buckets: series('FRA', (i) => 200 * wobble(i)), unresolved: [alert], settings, endMs: END });
  assert.deepEqual(absorbed.raise, []);
  assert.deepEqual(absorbed.resolve, []);
  // Back for only the last 4 minutes: not yet.
  const brief = evaluate({ buckets: series('FRA', (i) => 100 * wobble(i) * (i >= 66 ? 1 : 2)), unresolved: [alert], settings, endMs: END });
  assert.deepEqual(brief.resolve, []);
  // Back for the whole last 10 minutes: resolved.
  const back = evaluate({ buckets: series('FRA', (i) => 100 * wobble(i) * (i >= 60 ? 1 : 2)), unresolved: [alert], settings, endMs: END });
  assert.deepEqual(back.raise, []);
  assert.deepEqual(back.resolve, ['a1']);
});

test('hysteresis: silence is not recovery, and an alert of another series is left alone', () => {
  const alert = { id: 'a2', popCode: 'SIL', functionName: 'ssr-render', baselineMs: 100 };
  const silent = series('SIL', (i) => 100 * wobble(i)).filter((b, i) => i < 60);
  assert.deepEqual(evaluate({ buckets: silent, unresolved: [alert], settings, endMs: END }).resolve, []);
  const other = series('OTH', (i) => 100 * wobble(i));
  assert.deepEqual(evaluate({ buckets: other, unresolved: [alert], settings, endMs: END }).resolve, []);
});

test('statistics helpers: median, quantile (linear), Hodges-Lehmann ratio', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.equal(quantile([1, 2, 3, 4, 5], 0.75), 4);
  assert.ok(Number.isNaN(median([])));
  // Every pairwise ratio of {20, 40} over {10, 20}: 2, 1, 4, 2 -> median 2.
  assert.ok(Math.abs(hodgesLehmannRatio([20, 40], [10, 20]) - 2) < 1e-12);
});

test('a 6-minute burst that has already ended is not raised: the newer half of the recent window must be high too', () => {
  const ended = evaluate({ buckets: series('BST', (i) => 100 * wobble(i) * (i >= 60 && i < 66 ? 3 : 1)), unresolved: [], settings, endMs: END });
  assert.deepEqual(ended.raise, []);
  const ongoing = evaluate({ buckets: series('BST', (i) => 100 * wobble(i) * (i >= 64 ? 3 : 1)), unresolved: [], settings, endMs: END });
  assert.equal(ongoing.raise.length, 1);
});
