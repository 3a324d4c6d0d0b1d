/**
 * Day blocks of the per-POP block cache (a week's heatmap adds ~7 day sketches per POP
 * instead of 168 hours), on a real DuckDB file: a window over a whole UTC day answers
 * like the exact raw rows (count exact, mean to rounding, percentiles within the sketch
 * bound), and a late point inside that day reaches the answer once rolled up.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ColdStartSample } from '@edgeworker/schema';
import { createDuckDbMetricsStore, duckDbSettings } from './duckdb-metrics-store.ts';
import { openDuckDbFile } from './open.ts';
import { blocksOf } from './pop-blocks.ts';
import { planRange } from './planner.ts';
import { sample } from '../metrics-store.contract.ts';
import { assertWithinSketchBound } from './sketch-bound.ts';
import type { AggregateStats } from '../metrics-store.ts';
import { rolledUpStore, tempDir } from './test-store.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY_START = Date.UTC(2026, 10, 26);
const T0 = DAY_START - 2 * HOUR; // 22:00 the day before
const T1 = DAY_START + 25 * HOUR; // 01:00 the day after
const NOW = T1 + 30_000;
const ns = (ms: number) => BigInt(ms) * 1_000_000n;
const POPS = ['FRA', 'AMS'];

function data(fromMs: number, toMs: number, stepMs = 30_000): ColdStartSample[] {
  const out: ColdStartSample[] = [];
  let x = 777;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let t = fromMs; t < toMs; t += stepMs) {
    for (const [pi, popCode] of POPS.entries()) {
      const v = (50 + pi * 70) * Math.exp((rnd() + rnd() + rnd() - 1.5) * 0.6);
      out.push(sample({ t: t + pi * 100, v, popCode, functionName: 'ssr-render', city: popCode, latitude: 1, longitude: 1 }));
    }
  }
  return out;
}

const assertExact = (got: AggregateStats, samples: ColdStartSample[], what: string) =>
  assertWithinSketchBound(got, samples.map((s) => s.coldStartTimeMs), what);

describe('per-POP day blocks', () => {
  it('split whole UTC days of a rollup part into day blocks and the rest into hours, every minute once', () => {
    const M = 60_000_000_000n;
    // Hours from 20:00 on day 0 to 03:00 on day 3: 4 hours, days 1 and 2, 3 hours.
    const refs = blocksOf([{ source: '1h', fromNs: 20n * 60n * M, toNs: (3n * 24n + 3n) * 60n * M }])!;
    assert.deepEqual(refs.filter((r) => r.level === 1440).map((r) => r.index), [1, 2]);
    assert.equal(refs.filter((r) => r.level === 60).length, 4 + 3);
    const minutes = refs.flatMap((r) => Array.from({ length: r.level }, (_, i) => r.index * r.level + i));
    assert.deepEqual(minutes, Array.from({ length: (3 * 24 + 3 - 20) * 60 }, (_, i) => 20 * 60 + i));
  });

  it('answer a window over a whole day like the raw rows, and take in a late point of that day after the step', async (t) => {
    const dir = tempDir(t, 'ewm-dayblocks-');
    const all = data(T0, T1);
    const store = await rolledUpStore(t, dir, all, { now: NOW });
    const from = T0 + 90 * 1000;
    const range = { fromNs: ns(from), toNs: ns(NOW) };
    const inWindow = (s: ColdStartSample) => s.timeNs >= range.fromNs && s.timeNs < range.toNs;

    const first = await store.summarize(range);
    assert.equal(first.resolution, '1h');
    assertExact(first.overall, all.filter(inWindow), 'overall');
    for (const pop of POPS) assertExact(first.byPop.find((p) => p.popCode === pop)!, all.filter((s) => inWindow(s) && s.popCode === pop), pop);
    // One POP over every function (its detail, its series) reads the per-POP hours.
    assertExact((await store.summarize(range, { popCode: 'AMS' })).overall, all.filter((s) => inWindow(s) && s.popCode === 'AMS'), 'AMS alone');
    const hourly = await store.timeseries('AMS', { fromNs: ns(DAY_START), toNs: ns(DAY_START + 24 * HOUR) }, HOUR);
    assert.equal(hourly.resolution, '1h');
    assert.equal(hourly.buckets.length, 24);
    const noon = hourly.buckets[12]!;
    assertExact(noon, all.filter((s) => s.popCode === 'AMS' && s.timeNs >= ns(noon.startMs) && s.timeNs < ns(noon.startMs + HOUR)), 'AMS at noon');
    const loads = store.popBlocks.stats().loads;
    await store.summarize(range);
    assert.equal(store.popBlocks.stats().loads, loads, 'the second answer comes from memory');

    // Two readers asking for blocks not in memory at once (the start-up warming and a first request): one load.
    const refs = blocksOf([{ source: '1h', fromNs: ns(DAY_START), toNs: ns(DAY_START + 24 * HOUR) }, { source: '1h', fromNs: ns(T0), toNs: ns(DAY_START) }])!;
    store.popBlocks.invalidate(null);
    const before = store.popBlocks.stats().loads;
    const [a, b] = await Promise.all([store.popBlocks.get(refs), store.popBlocks.get(refs)]);
    assert.equal(store.popBlocks.stats().loads - before, refs.length, 'the second reader waited for the first one\'s load');
    assert.deepEqual(b.map((l) => l.length), a.map((l) => l.length));
    assert.equal(a[0]!.reduce((n, x) => n + x.n, 0), all.filter((s) => s.timeNs >= ns(DAY_START) && s.timeNs < ns(DAY_START + 24 * HOUR)).length);
    // A load in flight across an invalidation of one of its blocks (the day) is neither shared with a
    // reader that came after it nor cached; its other blocks (the two hours before the day) are both.
    store.popBlocks.invalidate(null);
    const mid = store.popBlocks.stats().loads;
    const stale = store.popBlocks.get(refs);
    store.popBlocks.invalidate([Math.floor(DAY_START / MIN) + 600]);
    await Promise.all([stale, store.popBlocks.get(refs)]);
    assert.equal(refs[0]!.level, 1440);
    assert.equal(store.popBlocks.stats().loads - mid, refs.length + 1, 'only the touched day block loaded again');
    // An invalidation of a minute in none of the blocks in flight (the start-up warming while the step rolls up
    // the minute that just closed) keeps them: asked again, they all come from memory.
    store.popBlocks.invalidate(null);
    const warm = store.popBlocks.get(refs);
    store.popBlocks.invalidate([Math.floor(T1 / MIN)]);
    await warm;
    const loaded = store.popBlocks.stats().loads;
    await store.popBlocks.get(refs);
    assert.equal(store.popBlocks.stats().loads, loaded, 'cached although a step committed meanwhile');

    assert.equal((await store.seriesMeans(range)).find((m) => m.popCode === 'FRA')!.samples, all.filter((s) => inWindow(s) && s.popCode === 'FRA').length);
    // A late point at noon of the cached day: its minute is dirty (read raw) until the step, then in the day block again.
    const late = sample({ t: DAY_START + 12 * HOUR + 5_000, v: 5000, popCode: 'FRA', functionName: 'ssr-render', city: 'FRA', latitude: 1, longitude: 1 });
    await store.write([late]);
    const withLate = [...all, late].filter(inWindow);
    assertExact((await store.summarize(range)).overall, withLate, 'late point, before the step');
    await store.rollups.flush();
    const after = await store.summarize(range);
    assert.equal(after.resolution, '1h');
    assertExact(after.overall, withLate, 'late point, after the step');
    assert.equal(after.byPop.find((p) => p.popCode === 'FRA')!.samples, withLate.filter((s) => s.popCode === 'FRA').length);

    // Every series' count and mean (POP statuses) from the per-series day and hour blocks: exact, the late point included.
    for (let round = 0; round < 2; round++) {
      const means = await store.seriesMeans(range);
      assert.equal(means.length, POPS.length);
      for (const m of means) {
        const vs = withLate.filter((s) => s.popCode === m.popCode).map((s) => s.coldStartTimeMs);
        assert.equal(m.samples, vs.length, `${m.popCode}: count (round ${round})`);
        const mean = vs.reduce((a, b) => a + b, 0) / vs.length;
        assert.ok(Math.abs(m.mean - mean) <= mean * 1e-9, `${m.popCode}: mean ${m.mean} vs ${mean}`);
      }
    }
    assert.deepEqual((await store.seriesMeans(range, { functionName: 'nope' })).length, 0);
  });
});

describe('a window\'s rolled-up part merged once', () => {
  it('answers like the raw rows, is reused within its minute, and is dropped for a late point inside it', async (t) => {
    const dir = tempDir(t, 'ewm-windowblocks-');
    const all = data(T0, T1);
    const store = await rolledUpStore(t, dir, all, { now: NOW });
    // Minute edges at both ends, an hour and a day in the middle (one span: hours and days together).
    const range = { fromNs: ns(T0 + 90_000), toNs: ns(T1 - 17 * MIN - 30_000) };
    const inWindow = (s: ColdStartSample) => s.timeNs >= range.fromNs && s.timeNs < range.toNs;
    const check = async (samples: ColdStartSample[], what: string) => {
      const got = await store.summarize(range);
      assertExact(got.overall, samples, `${what}: overall`);
      for (const pop of POPS) assertExact(got.byPop.find((p) => p.popCode === pop)!, samples.filter((s) => s.popCode === pop), `${what}: ${pop}`);
      const totalOnly = await store.summarize(range, {}, { popQuantiles: false });
      assert.deepEqual(totalOnly.overall, got.overall, `${what}: the overview's total`);
      return got;
    };
    const first = await check(all.filter(inWindow), 'first');
    // The same answer as every part read in SQL (the path this replaces): counts and percentiles equal, means to float order.
    const sqlOnly = await rolledUpStore(t, dir, all, { now: NOW, file: 'copy.duckdb', popBlockCache: false });
    for (const popQuantiles of [true, false]) {
      const want = await sqlOnly.summarize(range, {}, { popQuantiles });
      const got = popQuantiles ? first : await store.summarize(range, {}, { popQuantiles });
      for (const [g, w] of [[got.overall, want.overall], ...POPS.map((pop) => [got.byPop.find((p) => p.popCode === pop)!, want.byPop.find((p) => p.popCode === pop)!])] as const) {
        assert.deepEqual([g.samples, g.p50, g.p95, g.p99], [w.samples, w.p50, w.p95, w.p99], `as the SQL path (popQuantiles ${popQuantiles})`);
        assert.ok(Math.abs(g.mean! - w.mean!) <= Math.abs(w.mean!) * 1e-12);
      }
    }
    assert.equal(store.popBlocks.stats().spans, 1, 'the hour and the day merged as one span');
    const hits = store.popBlocks.stats().windowHits;
    assert.deepEqual(await store.summarize(range), first, 'asked again: the same answer');
    assert.ok(store.popBlocks.stats().windowHits > hits, 'asked again: the merged window from memory');

    // A late point in a cached 10-minute block at the start edge: raw while dirty, in the blocks after the step.
    const late = sample({ t: T0 + 33 * MIN + 5_000, v: 4000, popCode: 'AMS', functionName: 'ssr-render', city: 'AMS', latitude: 1, longitude: 1 });
    await store.write([late]);
    const withLate = [...all, late].filter(inWindow);
    await check(withLate, 'late point, before the step');
    assert.equal(store.popBlocks.stats().windows, 2, 'the window before the late point and the one with its minute raw');
    await store.rollups.flush();
    assert.equal(store.popBlocks.stats().windows, 0, 'both hold the touched minute: dropped by the step');
    await check(withLate, 'late point, after the step');

    // A merge in flight across an invalidation of one of its minutes is used for its answer, not kept.
    const refs = blocksOf(planRange(range, store.rollups.dirty).parts)!;
    store.popBlocks.invalidate(null);
    const inFlight = store.popBlocks.getWindow(refs);
    store.popBlocks.invalidate([Math.floor((T0 + 33 * MIN) / MIN)]);
    await inFlight;
    assert.equal(store.popBlocks.stats().windows, 0, 'not kept');
    await store.popBlocks.getWindow(refs);
    assert.equal(store.popBlocks.stats().windows, 1, 'kept when nothing touched it');
    // The same for a span (the hour and the day) merged in flight across an invalidation of one of its hours.
    store.popBlocks.invalidate(null);
    const spanInFlight = store.popBlocks.getMerged(refs);
    store.popBlocks.invalidate([Math.floor((DAY_START + 12 * HOUR) / MIN)]);
    await spanInFlight;
    assert.equal(store.popBlocks.stats().spans, 0, 'span not kept');
  });
});

describe('warming at start', () => {
  it('loads the blocks of a window that is not whole hours (DUCKDB_WARM_WINDOW=90m) in the background', async (t) => {
    const dir = tempDir(t, 'ewm-warm-');
    const path = join(dir, 'metrics.duckdb');
    const first = await createDuckDbMetricsStore({ path, now: () => NOW, rollupDelayMs: 3_600_000, warmBlocksHours: 0 });
    const rows = data(T1 - 3 * HOUR, T1);
    await first.write(rows);
    await first.rollups.flush();
    await first.close();
    const store = await createDuckDbMetricsStore({ path, now: () => NOW, rollupDelayMs: 3_600_000, warmBlocksHours: 1.5 });
    t.after(() => store.close());
    for (let i = 0; i < 100 && store.popBlocks.stats().blocks === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(store.popBlocks.stats().blocks > 0, 'blocks warmed');
    const s = await store.summarize({ fromNs: ns(NOW - 90 * MIN), toNs: ns(NOW) });
    assert.equal(s.overall.samples, rows.filter((x) => x.timeNs >= ns(NOW - 90 * MIN)).length);
  });
});

describe('DuckDB settings at open', () => {
  it('bound the metrics store\'s DuckDB to the configured memory_limit', async (t) => {
    const dir = tempDir(t, 'ewm-memlimit-');
    const db = await openDuckDbFile(join(dir, 'm.duckdb'), 'metrics store', duckDbSettings({ memoryLimitBytes: 384 * 2 ** 20 }));
    const c = await db.connect();
    const limit = String((await c.runAndReadAll(`SELECT current_setting('memory_limit')`)).getRows()[0]![0]);
    c.closeSync();
    db.closeSync();
    assert.match(limit, /^384(\.0)? ?MiB$/);
    assert.equal(duckDbSettings({}).memory_limit, undefined, 'unset: DuckDB\'s own default');
  });

  it('turn on the allocator\'s background threads, so freed memory goes back to the OS (docs/notes/rss-4.md)', async (t) => {
    const dir = tempDir(t, 'ewm-alloc-');
    for (const opts of [{}, { memoryLimitBytes: 256 * 2 ** 20 }]) {
      const db = await openDuckDbFile(join(dir, 'm.duckdb'), 'metrics store', duckDbSettings(opts));
      const c = await db.connect();
      const on = (await c.runAndReadAll(`SELECT current_setting('allocator_background_threads')`)).getRows()[0]![0];
      c.closeSync();
      db.closeSync();
      assert.equal(on, true, JSON.stringify(opts));
    }
  });
});
