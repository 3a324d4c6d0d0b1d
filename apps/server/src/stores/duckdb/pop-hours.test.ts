/**
 * One POP's hour sketches in memory (pop-hours.ts: the drill-down's series and summary over
 * long windows, with their minute edges), on a real DuckDB file: the answers equal those of
 * the SQL path they replace (means up to the order of a float sum)
 * (and so the raw rows: count exact, mean to rounding, percentiles within the sketch bound),
 * come from memory when asked again, and take in a late point once its hour is rolled up.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ColdStartSample } from '@edgeworker/schema';
import { createDuckDbMetricsStore } from './duckdb-metrics-store.ts';
import { openDuckDbFile } from './open.ts';
import { createPopHourCache } from './pop-hours.ts';
import { sample } from '../metrics-store.contract.ts';
import { assertWithinSketchBound } from './sketch-bound.ts';
import type { AggregateStats } from '../metrics-store.ts';
import { rolledUpStore, tempDir } from './test-store.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 24, 21); // 21:00, so the windows below hold whole days and partial ones
const T1 = T0 + 2 * DAY + 5 * HOUR + 17 * MIN;
const NOW = T1 + 30_000;
const ns = (ms: number) => BigInt(ms) * 1_000_000n;
const POPS = ['FRA', 'AMS', 'NRT'];
const FNS = ['ssr-render', 'auth-check'];

function data(fromMs: number, toMs: number, stepMs = 60_000): ColdStartSample[] {
  const out: ColdStartSample[] = [];
  let x = 4242;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let t = fromMs; t < toMs; t += stepMs) {
    for (const [pi, popCode] of POPS.entries()) {
      for (const [fi, functionName] of FNS.entries()) {
        const v = (40 + pi * 60 + fi * 25) * Math.exp((rnd() + rnd() + rnd() - 1.5) * 0.7);
        out.push(sample({ t: t + pi * 100 + fi * 10, v, popCode, functionName, city: popCode, latitude: 1, longitude: 1 }));
      }
    }
  }
  return out;
}

const assertExact = (got: AggregateStats, samples: ColdStartSample[], what: string) =>
  assertWithinSketchBound(got, samples.map((s) => s.coldStartTimeMs), what);

/** The same answer as the SQL path: counts and percentiles equal (the same merged bins), means up to the order of a float sum. */
function assertSame(got: AggregateStats, want: AggregateStats, what: string) {
  assert.deepEqual([got.samples, got.p50, got.p95, got.p99], [want.samples, want.p50, want.p95, want.p99], what);
  assert.ok(Math.abs(got.mean! - want.mean!) <= Math.abs(want.mean!) * 1e-12, `${what}: mean ${got.mean} vs ${want.mean}`);
}
function assertSameSeries(got: { buckets: Array<AggregateStats & { startMs: number }>; resolution: string }, want: typeof got, what: string) {
  assert.equal(got.resolution, want.resolution);
  assert.deepEqual(got.buckets.map((b) => b.startMs), want.buckets.map((b) => b.startMs), what);
  got.buckets.forEach((b, i) => assertSame(b, want.buckets[i]!, `${what} ${b.startMs}`));
}

const inRange = (fromMs: number, toMs: number) => (s: ColdStartSample) => s.timeNs >= ns(fromMs) && s.timeNs < ns(toMs);

describe('one POP\'s hours in memory', () => {
  it('answer one POP\'s series and summary like the SQL path and the raw rows, from memory when asked again, late points included', async (t) => {
    const dir = tempDir(t, 'ewm-pophours-');
    const all = data(T0, T1);
    const store = await rolledUpStore(t, dir, all, { now: NOW });

    // The dashboard's 7 d chart: from an hour boundary to now, 1 h steps (here: two days and a bit).
    const range = { fromNs: ns(T0), toNs: ns(NOW) };
    const hourly = await store.timeseries('AMS', range, HOUR);
    assert.equal(hourly.resolution, '1h');
    assert.equal(hourly.buckets.length, Math.ceil((T1 - T0) / HOUR));
    for (const b of hourly.buckets) assertExact(b, all.filter((s) => s.popCode === 'AMS' && inRange(b.startMs, b.startMs + HOUR)(s)), `AMS ${new Date(b.startMs).toISOString()}`);
    const daily = await store.timeseries('AMS', range, DAY);
    assert.equal(daily.buckets.length, 4, '21:00 on day 0 to 02:17 on day 3');
    for (const b of daily.buckets) assertExact(b, all.filter((s) => s.popCode === 'AMS' && inRange(Math.max(T0, b.startMs), b.startMs + DAY)(s)), `AMS day ${b.startMs}`);
    const from = T0 + 90_500; // partial minutes and whole minutes before the first whole hour
    const detail = await store.summarize({ fromNs: ns(from), toNs: ns(NOW) }, { popCode: 'NRT' });
    assertExact(detail.overall, all.filter((s) => s.popCode === 'NRT' && inRange(from, NOW)(s)), 'NRT summary');
    assert.deepEqual(detail.byPop.map((p) => p.popCode), ['NRT']);
    // Its functions' table (the detail's other half): per-function hours.
    const fns = await store.byFunction('NRT', { fromNs: ns(from), toNs: ns(NOW) });
    assert.deepEqual(fns.map((f) => f.functionName), [...FNS].sort());
    for (const f of fns) assertExact(f, all.filter((s) => s.popCode === 'NRT' && s.functionName === f.functionName && inRange(from, NOW)(s)), `NRT ${f.functionName}`);
    assert.ok(store.popFunctionHours.stats().entries > 0, 'per-function hours kept');

    // Asked again: every whole hour from memory, the same answer.
    const loads = store.popHours.stats().loads;
    assert.deepEqual(await store.timeseries('AMS', range, HOUR), hourly);
    assert.equal(store.popHours.stats().loads, loads, 'the second answer reads no hour from SQL');
    assert.ok(store.popHours.stats().hits > 0);

    // The same answers as every part in SQL (the path this replaces), to the last bit.
    const sqlOnly = await rolledUpStore(t, dir, all, { now: NOW, file: 'copy.duckdb', popBlockCache: false });
    assertSameSeries(hourly, await sqlOnly.timeseries('AMS', range, HOUR), 'hourly');
    assertSameSeries(daily, await sqlOnly.timeseries('AMS', range, DAY), 'daily');
    const sqlDetail = await sqlOnly.summarize({ fromNs: ns(from), toNs: ns(NOW) }, { popCode: 'NRT' });
    assertSame(detail.overall, sqlDetail.overall, 'summary');
    assert.equal(detail.resolution, sqlDetail.resolution);
    const sqlFns = await sqlOnly.byFunction('NRT', { fromNs: ns(from), toNs: ns(NOW) });
    assert.deepEqual(fns.map((f) => f.functionName), sqlFns.map((f) => f.functionName));
    fns.forEach((f, i) => assertSame(f, sqlFns[i]!, f.functionName));
    // The 24 h chart's steps (5 min): minutes only, from memory.
    const day = { fromNs: ns(T1 - DAY), toNs: ns(NOW) };
    const fiveMin = await store.timeseries('FRA', day, 5 * MIN);
    assert.equal(fiveMin.resolution, '1m');
    assert.ok(store.popMinutes.stats().entries > 0, 'minutes kept');
    assertSameSeries(fiveMin, await sqlOnly.timeseries('FRA', day, 5 * MIN), '5 min');
    assertExact(fiveMin.buckets[40]!, all.filter((s) => s.popCode === 'FRA' && inRange(fiveMin.buckets[40]!.startMs, fiveMin.buckets[40]!.startMs + 5 * MIN)(s)), 'FRA 5 min');
    // A function filter still reads SQL (per-function hours), and agrees with the raw rows.
    const fn = await store.timeseries('AMS', range, HOUR, { functionName: 'auth-check' });
    assertExact(fn.buckets[5]!, all.filter((s) => s.popCode === 'AMS' && s.functionName === 'auth-check' && inRange(fn.buckets[5]!.startMs, fn.buckets[5]!.startMs + HOUR)(s)), 'AMS auth-check');

    // A late point in a cached hour: read raw while its minute is dirty, then from the recomputed hour.
    const lateT = T0 + 26 * HOUR + 7 * MIN + 1;
    const late = sample({ t: lateT, v: 9000, popCode: 'AMS', functionName: 'ssr-render', city: 'AMS', latitude: 1, longitude: 1 });
    await store.write([late]);
    const withLate = [...all, late];
    const lateHour = (s: ColdStartSample) => s.popCode === 'AMS' && inRange(T0 + 26 * HOUR, T0 + 27 * HOUR)(s);
    const dirty = await store.timeseries('AMS', range, HOUR);
    assertExact(dirty.buckets[26]!, withLate.filter(lateHour), 'late, before the step');
    await store.rollups.flush();
    const after = await store.timeseries('AMS', range, HOUR);
    assertExact(after.buckets[26]!, withLate.filter(lateHour), 'late, after the step');
    assert.equal(after.buckets[26]!.samples, hourly.buckets[26]!.samples + 1, 'the cached hour was dropped and read again');
    assert.deepEqual(after.buckets.filter((_, i) => i !== 26), hourly.buckets.filter((_, i) => i !== 26), 'the other hours unchanged');
    await store.byFunction('AMS', range); // its per-function hours in memory, then a second late point in one of them
    const late2 = sample({ t: lateT + HOUR, v: 7000, popCode: 'AMS', functionName: 'auth-check', city: 'AMS', latitude: 1, longitude: 1 });
    await store.write([late2]);
    await store.rollups.flush();
    const withBoth = [...withLate, late2];
    for (const f of await store.byFunction('AMS', range)) {
      assertExact(f, withBoth.filter((s) => s.popCode === 'AMS' && s.functionName === f.functionName && inRange(T0, NOW)(s)), `AMS ${f.functionName}, late`);
    }
  });

  it('does not cache a load in flight across an invalidation of its hours', async (t) => {
    const dir = tempDir(t, 'ewm-pophours-');
    const path = join(dir, 'metrics.duckdb');
    const store = await createDuckDbMetricsStore({ path, now: () => NOW, rollupDelayMs: 3_600_000, warmBlocksHours: 0 });
    await store.write(data(T0, T0 + 3 * HOUR));
    await store.rollups.flush();
    await store.close();
    const db = await openDuckDbFile(path, 'metrics store');
    const c = await db.connect();
    t.after(() => (c.closeSync(), db.closeSync()));
    let during: (() => void) | null = null;
    const cache = createPopHourCache(async (sql) => {
      const r = await c.run(sql);
      during?.(); // a rollup step commits while the load's result is on its way
      return r;
    });
    const h0 = T0 / HOUR;
    const hours = [h0, h0 + 1, h0 + 2];
    during = () => cache.invalidate([(h0 + 1) * 60 + 5]);
    const got = await cache.get('FRA', hours);
    assert.equal(got.get(h0 + 1)![0]!.n, 60 * FNS.length, 'the load answers its own request');
    during = null;
    const loads = cache.stats().loads;
    await cache.get('FRA', hours);
    assert.equal(cache.stats().loads - loads, 1, 'only the touched hour loaded again');
    // Unrelated invalidations and other POPs: nothing loaded again; a sweep (null) forgets everything.
    cache.invalidate([(h0 + 5) * 60]);
    await cache.get('FRA', hours);
    assert.equal(cache.stats().loads - loads, 1);
    cache.invalidate(null);
    await cache.get('FRA', hours);
    assert.equal(cache.stats().loads - loads, 4);
    assert.equal(cache.stats().pops, 1);

    // Two requests for the same POP at once (the drill-down's chart and summary): one load, shared; not shared
    // once an invalidation touched one of its hours (that hour is loaded again by the later request).
    cache.invalidate(null);
    const before = cache.stats().loads;
    const [a, b] = await Promise.all([cache.get('AMS', hours), cache.get('AMS', hours.slice(1))]);
    assert.equal(cache.stats().loads - before, hours.length, 'the second request waited for the first one\'s load');
    assert.deepEqual(b.get(h0 + 1), a.get(h0 + 1));
    assert.equal(b.get(h0 + 2)![0]!.n, 60 * FNS.length);
    cache.invalidate(null);
    const mid = cache.stats().loads;
    const first = cache.get('AMS', hours);
    cache.invalidate([(h0 + 2) * 60]);
    await Promise.all([first, cache.get('AMS', hours.slice(1))]);
    assert.equal(cache.stats().loads - mid, hours.length + 1, 'the touched hour read again, the other one shared');
  });

  it('answers the drill-down\'s concurrent requests for a POP with one load of its hours and minutes', async (t) => {
    const dir = tempDir(t, 'ewm-pophours-');
    const all = data(T0, T1);
    const store = await rolledUpStore(t, dir, all, { now: NOW });
    const from = T0 + 90_500;
    const window = { fromNs: ns(from), toNs: ns(NOW) };
    // As the dashboard asks them: the chart (hour-aligned start), the detail's summary and its functions' table.
    const [series, summary, fns] = await Promise.all([
      store.timeseries('NRT', { fromNs: ns(T0), toNs: ns(NOW) }, HOUR),
      store.summarize(window, { popCode: 'NRT' }),
      store.byFunction('NRT', window),
    ]);
    const hours = Math.floor((T1 - T0) / HOUR);
    assert.equal(store.popHours.stats().loads, hours, 'each of the POP\'s hours loaded once');
    const minutes = store.popMinutes.stats().loads;
    assert.ok(minutes > 0 && minutes <= 60 + 17, `each edge minute loaded once (${minutes})`);
    for (const b of series.buckets) assertExact(b, all.filter((s) => s.popCode === 'NRT' && inRange(b.startMs, b.startMs + HOUR)(s)), `NRT ${b.startMs}`);
    assertExact(summary.overall, all.filter((s) => s.popCode === 'NRT' && inRange(from, NOW)(s)), 'NRT summary');
    for (const f of fns) assertExact(f, all.filter((s) => s.popCode === 'NRT' && s.functionName === f.functionName && inRange(from, NOW)(s)), `NRT ${f.functionName}`);
  });
});
