/**
 * Accuracy and durability of the embedded store's rollups, on a real DuckDB file:
 * answers planned over rollups match exact answers on the same data (count exact,
 * mean to rounding, p50/p95/p99 within the sketch's 1 % of the sample at that rank),
 * late data reaches the rollups, and a restart in the middle of a period loses nothing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RELATIVE_ACCURACY } from '@edgeworker/sketch';
import type { ColdStartSample } from '@edgeworker/schema';
import { createDuckDbMetricsStore, type DuckDbStoreOptions } from './duckdb-metrics-store.ts';
import { minutesOf } from './rollups.ts';
import { sample } from '../metrics-store.contract.ts';
import { assertWithinSketchBound } from './sketch-bound.ts';
import type { AggregateStats } from '../metrics-store.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const NOW = T0 + 3 * HOUR + 30_000;
const ns = (ms: number) => BigInt(ms) * 1_000_000n;
const POPS = ['FRA', 'AMS', 'NRT'];
const FNS = ['ssr-render', 'auth-check'];

function tempStore(t: { after: (fn: () => unknown) => void }, over: Partial<DuckDbStoreOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ewm-rollup-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'metrics.duckdb');
  // The step is driven by the tests (flush); a long debounce keeps it from running on its own.
  const open = () => createDuckDbMetricsStore({ path, now: () => NOW, rollupDelayMs: 3_600_000, ...over });
  return { path, open };
}

/** Deterministic, skewed latencies: a lognormal-ish spread per series, one sample per series every 10 s. */
function data(fromMs: number, toMs: number): ColdStartSample[] {
  const out: ColdStartSample[] = [];
  let x = 12345;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let t = fromMs; t < toMs; t += 10_000) {
    for (const [pi, popCode] of POPS.entries()) {
      for (const [fi, functionName] of FNS.entries()) {
        const base = 40 + pi * 60 + fi * 150;
        const v = base * Math.exp((rnd() + rnd() + rnd() - 1.5) * 0.6) * (rnd() < 0.01 ? 5 : 1);
        out.push(sample({ t: t + pi * 100 + fi * 10, v, popCode, functionName, city: popCode, latitude: 1, longitude: 1 }));
      }
    }
  }
  return out;
}

function exact(samples: ColdStartSample[], keep: (s: ColdStartSample) => boolean) {
  const vs = samples.filter(keep).map((s) => s.coldStartTimeMs).sort((a, b) => a - b);
  return { n: vs.length, mean: vs.reduce((a, b) => a + b, 0) / vs.length, vs };
}

const assertStats = (got: AggregateStats, want: ReturnType<typeof exact>, what: string) => assertWithinSketchBound(got, want.vs, what);

const inRange = (fromMs: number, toMs: number) => (s: ColdStartSample) => s.timeNs >= ns(fromMs) && s.timeNs < ns(toMs);

describe('DuckDB rollups', () => {
  it('answer long windows from rollups with exact counts and means and percentiles within the sketch bound', async (t) => {
    const { open } = tempStore(t);
    const store = await open();
    t.after(() => store.close());
    const all = data(T0, T0 + 3 * HOUR);
    for (let i = 0; i < all.length; i += 5000) await store.write(all.slice(i, i + 5000));
    // Before the step every minute is dirty: the plan reads raw rows and is exact.
    const from = T0 + 20_000;
    const to = T0 + 3 * HOUR - 10_000;
    const range = { fromNs: ns(from), toNs: ns(to) };
    assert.equal((await store.summarize(range)).resolution, 'raw');
    await store.rollups.flush();
    assert.equal(store.rollups.stats().dirtyMinutes, 0);

    const s = await store.summarize(range);
    assert.equal(s.resolution, '1h');
    assertStats(s.overall, exact(all, inRange(from, to)), 'overall');
    for (const pop of POPS) {
      assertStats(s.byPop.find((p) => p.popCode === pop)!, exact(all, (x) => inRange(from, to)(x) && x.popCode === pop), pop);
    }
    const lean = await store.summarize(range, undefined, { popQuantiles: false });
    assertStats(lean.overall, exact(all, inRange(from, to)), 'overall without per-POP percentiles');
    for (const p of lean.byPop) {
      const full = s.byPop.find((x) => x.popCode === p.popCode)!;
      assert.equal(p.samples, full.samples);
      assert.ok(Math.abs(p.mean! - full.mean!) <= full.mean! * 1e-12, 'same mean, to rounding');
      assert.deepEqual([p.p50, p.p95, p.p99], [null, null, null]);
    }
    const fil = await store.summarize(range, { functionName: 'auth-check', popCode: 'AMS' });
    assertStats(fil.overall, exact(all, (x) => inRange(from, to)(x) && x.functionName === 'auth-check' && x.popCode === 'AMS'), 'AMS auth-check');

    const fns = await store.byFunction('NRT', range);
    assert.deepEqual(fns.map((f) => f.functionName), ['auth-check', 'ssr-render']);
    for (const f of fns) assertStats(f, exact(all, (x) => inRange(from, to)(x) && x.popCode === 'NRT' && x.functionName === f.functionName), `NRT ${f.functionName}`);

    const hourly = await store.timeseries('FRA', { fromNs: ns(T0), toNs: ns(T0 + 3 * HOUR) }, HOUR);
    assert.equal(hourly.resolution, '1h');
    assert.deepEqual(hourly.buckets.map((b) => b.startMs - T0), [0, HOUR, 2 * HOUR]);
    for (const b of hourly.buckets) assertStats(b, exact(all, (x) => inRange(b.startMs, b.startMs + HOUR)(x) && x.popCode === 'FRA'), `FRA hour ${b.startMs}`);
    const tenMin = await store.timeseries('FRA', { fromNs: ns(T0), toNs: ns(T0 + 3 * HOUR) }, 10 * MIN, { functionName: 'ssr-render' });
    assert.equal(tenMin.resolution, '1m');
    assert.equal(tenMin.buckets.length, 18);
    const b7 = tenMin.buckets[7]!;
    assertStats(b7, exact(all, (x) => inRange(b7.startMs, b7.startMs + 10 * MIN)(x) && x.popCode === 'FRA' && x.functionName === 'ssr-render'), 'bucket 7');
    // A step that rollups cannot nest in reads raw rows.
    assert.equal((await store.timeseries('FRA', range, 90_000)).resolution, 'raw');

    const series = await store.seriesBuckets({ fromNs: ns(T0), toNs: ns(T0 + 3 * HOUR) }, HOUR);
    assert.equal(series.length, POPS.length * FNS.length * 3);
    const one = series.find((b) => b.popCode === 'AMS' && b.functionName === 'ssr-render' && b.startMs === T0 + HOUR)!;
    const want = exact(all, (x) => inRange(T0 + HOUR, T0 + 2 * HOUR)(x) && x.popCode === 'AMS' && x.functionName === 'ssr-render');
    assert.equal(one.samples, want.n);
    const median = want.vs[Math.floor(0.5 * (want.n - 1))]!;
    assert.ok(Math.abs(one.p50 - median) <= median * RELATIVE_ACCURACY * 1.0001, `series p50 ${one.p50} vs ${median}`);
    // A POP filter on the rolled-up read: the same buckets, of those POPs only.
    // The port answers in any order (DuckDB's differs from run to run with the filter): compared sorted.
    const some = await store.seriesBuckets({ fromNs: ns(T0), toNs: ns(T0 + 3 * HOUR) }, HOUR, { pops: ['AMS', 'NRT'] });
    const sorted = (bs: typeof series) => [...bs].sort((a, b) => a.startMs - b.startMs || a.popCode.localeCompare(b.popCode) || a.functionName.localeCompare(b.functionName));
    assert.deepEqual(sorted(some), sorted(series.filter((b) => b.popCode === 'AMS' || b.popCode === 'NRT')));
    assert.ok(some.length > 0);

    // Every series' count and mean (POP statuses), from the same plan, exact.
    const means = await store.seriesMeans(range);
    assert.equal(means.length, POPS.length * FNS.length);
    for (const m of means) {
      const w = exact(all, (x) => inRange(from, to)(x) && x.popCode === m.popCode && x.functionName === m.functionName);
      assert.equal(m.samples, w.n, `${m.popCode} ${m.functionName}: count`);
      assert.ok(Math.abs(m.mean - w.mean) <= w.mean * 1e-9, `${m.popCode} ${m.functionName}: mean ${m.mean} vs ${w.mean}`);
    }
    const onlyAuth = await store.seriesMeans(range, { functionName: 'auth-check' });
    assert.deepEqual([...new Set(onlyAuth.map((m) => m.functionName))], ['auth-check']);
    assert.equal(onlyAuth.length, POPS.length);

    // Short windows still read raw rows, exactly.
    assert.equal((await store.summarize({ fromNs: ns(T0 + HOUR), toNs: ns(T0 + 2 * HOUR) })).resolution, 'raw');
  });

  it('takes late data into the rollups: read raw while dirty, rolled up by the next step', async (t) => {
    const { open } = tempStore(t);
    const store = await open();
    t.after(() => store.close());
    const all = data(T0, T0 + 3 * HOUR);
    await store.write(all);
    await store.rollups.flush();
    const range = { fromNs: ns(T0), toNs: ns(T0 + 3 * HOUR) };
    // A backfilled point in the middle of a rolled-up hour, and one replacing nothing.
    assert.equal((await store.summarize(range)).overall.samples, all.length, 'cached per-POP blocks before the late point');
    const late = [sample({ t: T0 + HOUR + 30 * MIN + 1, v: 5000, popCode: 'AMS', functionName: 'ssr-render' })];
    await store.write(late);
    const withLate = [...all, ...late];
    const dirtyAnswer = await store.summarize(range);
    assert.equal(dirtyAnswer.resolution, '1h', 'the other hours still come from rollups');
    assertStats(dirtyAnswer.overall, exact(withLate, () => true), 'late, before the step');
    await store.rollups.flush();
    const after = await store.summarize(range);
    assertStats(after.overall, exact(withLate, () => true), 'late, after the step');
    assert.equal(after.byPop.find((p) => p.popCode === 'AMS')!.samples, exact(withLate, (x) => x.popCode === 'AMS').n);
    const ts = await store.timeseries('AMS', range, HOUR);
    assert.equal(ts.resolution, '1h');
    assert.equal(ts.buckets[1]!.samples, exact(withLate, (x) => inRange(T0 + HOUR, T0 + 2 * HOUR)(x) && x.popCode === 'AMS').n);
  });

  it('sees a replaced point once, with its last value (last write wins reaches the rollups)', async (t) => {
    const { open } = tempStore(t);
    const store = await open();
    t.after(() => store.close());
    const all = data(T0, T0 + 3 * HOUR);
    await store.write(all);
    await store.rollups.flush();
    const range = { fromNs: ns(T0), toNs: ns(T0 + 3 * HOUR) };
    // Answered once before the replacement, so the per-POP blocks in memory hold the old value.
    assertStats((await store.summarize(range)).overall, exact(all, () => true), 'before the replacement');
    assert.ok(store.popBlocks.stats().blocks > 0, 'the unfiltered answer went through the per-POP blocks');
    // Rewrite one stored point of a rolled-up hour twice, concurrently (one group commit): the last value wins.
    const old = all.find((s) => s.popCode === 'NRT' && s.timeNs >= ns(T0 + HOUR + 10 * MIN))!;
    await Promise.all([store.write([{ ...old, coldStartTimeMs: 7000 }]), store.write([{ ...old, coldStartTimeMs: 9000 }])]);
    const now = all.map((s) => (s === old ? { ...old, coldStartTimeMs: 9000 } : s));
    assertStats((await store.summarize(range)).overall, exact(now, () => true), 'replaced, before the step');
    await store.rollups.flush();
    const s = await store.summarize(range);
    assert.equal(s.resolution, '1h');
    assertStats(s.overall, exact(now, () => true), 'replaced, after the step');
    assertStats(s.byPop.find((p) => p.popCode === 'NRT')!, exact(now, (x) => x.popCode === 'NRT'), 'replaced, NRT');
  });

  it('finds the distinct minutes of a batch, also across minute edges and before 1970', () => {
    const M = 60_000_000_000n;
    const batch = (times: bigint[]) => ({
      timesNs: BigInt64Array.from(times),
      minTimeNs: times.reduce((a, b) => (b < a ? b : a)),
      maxTimeNs: times.reduce((a, b) => (b > a ? b : a)),
    });
    assert.deepEqual(minutesOf(batch([10n * M + 5n, 10n * M + 7n])), [10]);
    assert.deepEqual(minutesOf(batch([11n * M, 11n * M - 1n])).sort(), [10, 11]);
    assert.deepEqual(minutesOf(batch([11n * M + 1n, 11n * M + 2n, 12n * M - 1n])), [11]);
    assert.deepEqual(minutesOf(batch([12n * M - 1n, 10n * M, 12n * M + 3n])).sort(), [10, 11, 12]);
    assert.deepEqual(minutesOf(batch([-1n, 0n, 5n * M])).sort((a, b) => a - b), [-1, 0, 5]);
  });

  it('loses nothing across a restart in the middle of a rollup period', async (t) => {
    const { open } = tempStore(t);
    const first = await open();
    const part1 = data(T0, T0 + HOUR + 20 * MIN);
    await first.write(part1);
    await first.rollups.flush();
    // More samples of the same hour, then a close before the rollup step ran.
    const part2 = data(T0 + HOUR + 20 * MIN, T0 + 2 * HOUR + 40 * MIN);
    await first.write(part2);
    assert.ok(first.rollups.stats().dirtyMinutes > 0);
    await first.close();

    const second = await open();
    t.after(() => second.close());
    assert.ok(second.rollups.stats().dirtyMinutes > 0, 'the dirty minutes survived the restart');
    const all = [...part1, ...part2];
    const range = { fromNs: ns(T0), toNs: ns(T0 + 3 * HOUR) };
    assertStats((await second.summarize(range)).overall, exact(all, () => true), 'after restart, before the step');
    await second.rollups.flush();
    const s = await second.summarize(range);
    assert.equal(s.resolution, '1h');
    assertStats(s.overall, exact(all, () => true), 'after restart and step');
    const hourly = await second.timeseries('FRA', range, HOUR);
    assert.deepEqual(hourly.buckets.map((b) => b.samples), [0, 1, 2].map((h) => exact(all, (x) => inRange(T0 + h * HOUR, T0 + (h + 1) * HOUR)(x) && x.popCode === 'FRA').n));
  });

  it('rolls up a file written before rollups existed', async (t) => {
    const { open, path } = tempStore(t);
    const first = await open();
    const all = data(T0, T0 + 2 * HOUR);
    await first.write(all);
    await first.close();
    // Drop the rollup tables, as in a file from the previous version.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(path);
    const c = await db.connect();
    for (const tbl of ['rollup_1m', 'rollup_1h', 'rollup_pop_1h', 'rollup_dirty']) await c.run(`DROP TABLE ${tbl}`);
    c.closeSync();
    db.closeSync();
    const second = await open();
    t.after(() => second.close());
    await second.rollups.flush();
    const s = await second.summarize({ fromNs: ns(T0), toNs: ns(T0 + 2 * HOUR) });
    assert.equal(s.resolution, '1h');
    assert.equal(s.overall.samples, all.length);
  });

  it('rolls a backlog up in smaller steps when a step does not fit in DuckDB memory', async (t) => {
    // 300 series × 4 h at 10 s (432,000 points): a 240-minute step needs more than a 32 MB
    // memory_limit and failed the same way at every retry; 120 minutes fit. (At the default
    // 192 MB the same happened to a 24 h backfill of the 423 × 5 generator fleet.)
    const to = NOW - 2 * MIN;
    const from = to - 4 * HOUR;
    const { open } = tempStore(t, { memoryLimitBytes: 32 * 1024 * 1024, warmBlocksHours: 0, popMajorDelayMs: null });
    const store = await open();
    t.after(() => store.close());
    let batch: ColdStartSample[] = [];
    let written = 0;
    for (let at = from; at < to; at += 10_000) {
      for (let p = 0; p < 300; p++) {
        batch.push(sample({ t: at + p, v: 20 + ((at / 10_000 + p * 7) % 97), popCode: `P${p}` }));
        if (batch.length === 20_000) (await store.write(batch), (written += batch.length), (batch = []));
      }
    }
    await store.write(batch);
    written += batch.length;
    assert.ok(store.rollups.stats().dirtyMinutes >= 240);

    await store.rollups.flush();
    assert.equal(store.rollups.stats().dirtyMinutes, 0, 'every closed minute rolled up');
    const s = await store.summarize({ fromNs: ns(from), toNs: ns(to) });
    assert.equal(s.resolution, '1h');
    assert.equal(s.overall.samples, written);
  });

  it('does not store points older than the raw retention, and counts them', async (t) => {
    const { open } = tempStore(t, { retentionMs: 2 * HOUR });
    const store = await open();
    t.after(() => store.close());
    const all = data(T0, T0 + 3 * HOUR);
    await store.write(all);
    const kept = all.filter((s) => s.timeNs >= ns(NOW - 2 * HOUR));
    assert.equal(store.rollups.stats().droppedBeyondRetention, all.length - kept.length);
    assert.equal((await store.summarize({ fromNs: 0n, toNs: ns(NOW) })).overall.samples, kept.length);
    await store.rollups.flush();
    const s = await store.summarize({ fromNs: ns(T0), toNs: ns(NOW) });
    assert.notEqual(s.resolution, 'raw');
    assert.equal(s.overall.samples, kept.length);
  });
});

describe('per-POP blocks (blocksOf)', () => {
  it('covers rollup parts with whole hours, and edges with at most 9 minutes and 5 ten-minute blocks per side', async () => {
    const { blocksOf } = await import('./pop-blocks.ts');
    const M = 60_000_000_000n;
    // Clean minutes 7..60 (head edge), hours 1..23, minutes 1440..1493 (tail edge).
    const refs = blocksOf([
      { source: 'raw', fromNs: 6n * M + 5n, toNs: 7n * M },
      { source: '1m', fromNs: 7n * M, toNs: 60n * M },
      { source: '1h', fromNs: 60n * M, toNs: 1440n * M },
      { source: '1m', fromNs: 1440n * M, toNs: 1493n * M },
    ])!;
    const count = (level: number) => refs.filter((r) => r.level === level).length;
    assert.equal(count(60), 23);
    assert.equal(count(10), 5 + 5);
    assert.equal(count(1), 3 + 3);
    // Every covered minute exactly once.
    const minutes = refs.flatMap((r) => Array.from({ length: r.level }, (_, i) => r.index * r.level + i)).sort((a, b) => a - b);
    assert.deepEqual(minutes, Array.from({ length: 1493 - 7 }, (_, i) => 7 + i));
    assert.equal(blocksOf([{ source: '1h', fromNs: 0n, toNs: 500_000n * 60n * M }]), null, 'a window from 1970 reads SQL instead');
  });
});
