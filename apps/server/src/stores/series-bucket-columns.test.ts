/**
 * bucketSamples (the DuckDB read's bucketing, series-buckets.ts) against the plainest reading
 * of its rules: per (series, bucket) the count, the sum in the samples' order over the count,
 * and the middle value (or the midpoint of the middle two) of the sorted values. The DuckDB
 * test (duckdb/series-buckets.test.ts) checks the same rules against DuckDB's own statement.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketsOf, bucketSamples, columnsIn, columnsOf } from './series-bucket-columns.ts';

test('bucketSamples: count, mean in sample order and median per (series, bucket), in time order', () => {
  let seed = 11;
  const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const STEP = 10_000;
  const T0 = 1_764_000_000_000;
  const nSeries = 7;
  const sid: number[] = [];
  const t: number[] = [];
  const v: number[] = [];
  // Samples in no particular order (a store's scan order), 0 to 6 per window, some windows empty.
  for (let i = 0; i < 3000; i++) {
    sid.push(Math.floor(rand() * nSeries));
    t.push(T0 + Math.floor(rand() * 40) * STEP);
    v.push(rand() < 0.3 ? Math.round(rand() * 10) : 1 + rand() * 400); // ties too
  }
  const got = bucketSamples(Array.from({ length: nSeries }, (_, i) => `P${i}`), Array(nSeries).fill('f'), sid.length, STEP, Int32Array.from(sid), Float64Array.from(t), Float64Array.from(v));
  const windows = new Map<string, number[]>();
  for (let i = 0; i < sid.length; i++) {
    const k = `${sid[i]}|${t[i]}`;
    windows.set(k, [...(windows.get(k) ?? []), v[i]!]);
  }
  assert.equal(got.startMs.length, windows.size);
  for (let j = 1; j < got.startMs.length; j++) assert.ok(got.startMs[j - 1]! <= got.startMs[j]!, 'time order');
  let several = 0;
  for (let j = 0; j < got.startMs.length; j++) {
    const values = windows.get(`${got.series[j]}|${got.startMs[j]}`)!;
    let sum = 0;
    for (const x of values) sum += x;
    const sorted = [...values].sort((a, b) => a - b);
    const h = sorted.length >> 1;
    const median = sorted.length % 2 === 1 ? sorted[h]! : (sorted[h - 1]! + sorted[h]!) / 2;
    assert.equal(got.samples[j], values.length);
    assert.ok(Object.is(got.mean[j], sum / values.length), `mean of ${values}`);
    assert.ok(Object.is(got.p50[j], median), `median of ${values}`);
    if (values.length > 2) several++;
  }
  assert.ok(several > 50, 'windows of several samples, odd and even');
  const empty = bucketSamples([], [], 0, STEP, new Int32Array(0), new Float64Array(0), new Float64Array(0));
  assert.equal(empty.startMs.length, 0);
});

test('columnsIn: the buckets starting in [from, to), from typed columns (views) and from plain arrays alike', () => {
  const T0 = 1_764_000_000_000;
  const rows = [0, 0, 10, 20, 20, 20, 40].map((s, i) => ({ popCode: `P${i % 2}`, functionName: 'f', startMs: T0 + s * 1000, samples: 1, mean: i, p50: i }));
  const typed = columnsOf(rows);
  const plain = { ...typed, series: Array.from(typed.series), startMs: Array.from(typed.startMs), samples: Array.from(typed.samples), mean: Array.from(typed.mean), p50: Array.from(typed.p50) };
  for (const [from, to] of [[0, 10], [10, 30], [20, 21], [25, 40], [41, 90], [-5, 100]] as const) {
    const want = rows.filter((r) => r.startMs >= T0 + from * 1000 && r.startMs < T0 + to * 1000).map((r) => r.mean).sort();
    for (const c of [typed, plain]) {
      const got = columnsIn(c, T0 + from * 1000, T0 + to * 1000);
      assert.deepEqual(Array.from(got.mean).sort(), want, `[${from}, ${to})`);
      assert.deepEqual(bucketsOf({ ...typed, ...got } as typeof typed).map((b) => b.popCode), Array.from(got.series, (s) => typed.pops[s]));
    }
  }
});
