/**
 * InfluxDB rollups on a real influxd: answers from rollups match the exact answers
 * on the same data (count and mean to rounding, p50/p95/p99 within the sketch's
 * bound); data written straight into InfluxDB late, overwritten points, and a keeper
 * restarted in the middle of a period all reach the rollups.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MEASUREMENT } from '@edgeworker/schema';
import { RELATIVE_ACCURACY } from '@edgeworker/sketch';
import { useInfluxdForFile } from '../../testing/influxd.ts';
import { createSingleLeadership } from '../../cluster/leadership.ts';
import { createInfluxDbMetricsStore } from './influxdb-metrics-store.ts';
import { createInfluxClient } from './influx-client.ts';
import { createRollupKeeper, readCoverage } from './rollup-keeper.ts';
import { ROLLUP_1H, statsOf } from './rollup-agg.ts';
import { createSegmentCache, readPlanned } from './rollup-reader.ts';
import { plan } from './planner.ts';
import type { AggregateStats, MetricsStore, TimeRange } from '../metrics-store.ts';

const influxd = useInfluxdForFile();
const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 1, 3, 0, 30); // "now" at the start: 30 s into an hour
const POPS = ['FRA', 'AMS', 'NRT'];
const FNS = ['api', 'ssr'];
let dbs = 0;

interface Point { pop: string; fn: string; t: number; v: number }
/** Every written point by series and time: what the exact answer is computed from (last write wins). */
type Truth = Map<string, Point>;

function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

async function setup() {
  const db = `rollups_${++dbs}`;
  const url = influxd().url;
  await influxd().createDatabase(db);
  let nowMs = T0;
  const now = () => nowMs;
  const client = createInfluxClient({ url, db, timeoutMs: 10_000 });
  const truth: Truth = new Map();
  async function write(points: Point[]) {
    const lines = points.map((p) => {
      truth.set(`${p.pop}|${p.fn}|${p.t}`, p);
      return `${MEASUREMENT},pop_code=${p.pop},city=X,country=DE,tier=1,function_name=${p.fn} cold_start_time_ms=${p.v},latitude=50,longitude=8 ${BigInt(p.t) * 1_000_000n}`;
    });
    for (let i = 0; i < lines.length; i += 5000) await client.writeLines(lines.slice(i, i + 5000).join('\n'));
  }
  // Rollups kept for ever: these tests run on a fixed clock in the past, which a retention policy would refuse.
  const keeper = (ms = now) =>
    createRollupKeeper({ client, leadership: createSingleLeadership('t'), now: ms, intervalMs: 60_000, lookbackMs: 24 * H, sweepBudgetMs: 120_000, db, retention: { retention1mMs: 0, retention1hMs: 0 } });
  const rolled = await createInfluxDbMetricsStore({ url, db, timeoutMs: 10_000, now, rollups: { rawMaxMs: H, coverageTtlMs: 0 } });
  return { db, client, truth, write, keeper, rolled, setNow: (t: number) => (nowMs = t), now };
}

function series(fromMs: number, toMs: number, everyMs: number, seed: number): Point[] {
  const r = rng(seed);
  const out: Point[] = [];
  for (let t = fromMs; t < toMs; t += everyMs) {
    for (const pop of POPS) for (const fn of FNS) out.push({ pop, fn, t: t + Math.floor(r() * 1000), v: Math.round((50 + 400 * r() ** 3 + (pop === 'NRT' ? 100 : 0)) * 1000) / 1000 });
  }
  return out;
}

/** Exact statistics from the written points; percentiles as the bracket of samples at rank q·(n−1). */
function exact(truth: Truth, range: TimeRange, pick: (p: Point) => boolean) {
  const vs = [...truth.values()].filter((p) => BigInt(p.t) * 1_000_000n >= range.fromNs && BigInt(p.t) * 1_000_000n < range.toNs && pick(p)).map((p) => p.v).sort((a, b) => a - b);
  const rank = (q: number) => [vs[Math.floor(q * (vs.length - 1))]!, vs[Math.ceil(q * (vs.length - 1))]!] as const;
  return { n: vs.length, mean: vs.reduce((a, b) => a + b, 0) / vs.length, p50: rank(0.5), p95: rank(0.95), p99: rank(0.99) };
}

function assertClose(got: AggregateStats | undefined, want: ReturnType<typeof exact>, what: string) {
  assert.ok(got, `${what}: no answer`);
  assert.equal(got.samples, want.n, `${what}: count`);
  assert.ok(Math.abs(got.mean! - want.mean) <= 1e-9 * want.mean, `${what}: mean ${got.mean} vs ${want.mean}`);
  for (const k of ['p50', 'p95', 'p99'] as const) {
    const [lo, hi] = want[k];
    const v = got[k]!;
    assert.ok(v >= lo * (1 - RELATIVE_ACCURACY) - 1e-9 && v <= hi * (1 + RELATIVE_ACCURACY) + 1e-9, `${what}: ${k} ${v} not within 1 % of [${lo}, ${hi}]`);
  }
}

const ns = (ms: number) => BigInt(ms) * 1_000_000n;

async function checkAll(store: MetricsStore, truth: Truth, range: TimeRange, wantResolution: string) {
  const s = await store.summarize(range);
  assert.equal(s.resolution, wantResolution);
  assertClose(s.overall, exact(truth, range, () => true), 'overall');
  for (const pop of POPS) assertClose(s.byPop.find((p) => p.popCode === pop), exact(truth, range, (p) => p.pop === pop), `POP ${pop}`);
  const f = await store.summarize(range, { functionName: 'ssr' });
  assertClose(f.overall, exact(truth, range, (p) => p.fn === 'ssr'), 'function filter');
  const fns = await store.byFunction('NRT', range);
  for (const fn of FNS) assertClose(fns.find((x) => x.functionName === fn), exact(truth, range, (p) => p.pop === 'NRT' && p.fn === fn), `NRT ${fn}`);
  // Every series' count and mean (POP statuses), from the same plan, exact.
  const means = await store.seriesMeans(range);
  assert.equal(means.length, POPS.length * FNS.length);
  for (const m of means) {
    const want = exact(truth, range, (p) => p.pop === m.popCode && p.fn === m.functionName);
    assert.equal(m.samples, want.n, `${m.popCode} ${m.functionName}: count`);
    assert.ok(Math.abs(m.mean - want.mean) <= 1e-9 * want.mean, `${m.popCode} ${m.functionName}: mean ${m.mean} vs ${want.mean}`);
  }
  return s;
}

describe('InfluxDB rollups', () => {
  it('answer long windows from rollups within the sketch bound of the exact answer', async () => {
    const x = await setup();
    await x.write(series(T0 - 3 * H, T0, 10_000, 1));
    const r = await x.keeper().pass();
    assert.ok(r.ran && r.minutes > 0 && r.hours > 0, `the pass rolled up nothing: ${JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
    // A window that is not aligned to minutes or hours: raw edges, 1 min, 1 h.
    const range = { fromNs: ns(T0 - 2.5 * H + 17_123), toNs: ns(T0 + 1) };
    await checkAll(x.rolled, x.truth, range, '1h');
    // Up to 2 h the per-series means read the 1 min level in one statement: exact too.
    const within2h = { fromNs: ns(T0 - 1.75 * H + 4_321), toNs: ns(T0 + 1) };
    const means = await x.rolled.seriesMeans(within2h);
    assert.equal(means.length, POPS.length * FNS.length);
    for (const m of means) {
      const want = exact(x.truth, within2h, (p) => p.pop === m.popCode && p.fn === m.functionName);
      assert.equal(m.samples, want.n, `2 h means, ${m.popCode} ${m.functionName}: count`);
      assert.ok(Math.abs(m.mean - want.mean) <= 1e-9 * want.mean, `2 h means, ${m.popCode} ${m.functionName}: mean ${m.mean} vs ${want.mean}`);
    }
    // Short windows stay raw and exact.
    assert.equal((await x.rolled.summarize({ fromNs: ns(T0 - 30 * 60_000), toNs: ns(T0) })).resolution, 'raw');
    // Time series: hourly buckets from 1 h, 5 min buckets from 1 min.
    for (const [step, res] of [[H, '1h'], [5 * 60_000, '1m']] as const) {
      const from = Math.floor((T0 - 2.5 * H) / step) * step;
      const ts = await x.rolled.timeseries('AMS', { fromNs: ns(from), toNs: ns(T0) }, step);
      assert.equal(ts.resolution, res);
      for (const b of ts.buckets) assertClose(b, exact(x.truth, { fromNs: ns(b.startMs), toNs: ns(Math.min(b.startMs + step, T0)) }, (p) => p.pop === 'AMS'), `bucket ${b.startMs}`);
      assert.equal(ts.buckets.reduce((a, b) => a + b.samples, 0), exact(x.truth, { fromNs: ns(from), toNs: ns(T0) }, (p) => p.pop === 'AMS').n);
    }
  });

  it('late data written straight into InfluxDB, and overwritten points, reach the rollups', async () => {
    const x = await setup();
    await x.write(series(T0 - 3 * H, T0, 10_000, 2));
    const keeper = x.keeper();
    await keeper.pass();
    const range = { fromNs: ns(T0 - 3 * H), toNs: ns(T0) };
    // Answered once before the late data: the store keeps these rollup segments in memory,
    // and must drop them when the keeper rewrites what it had published.
    const before = await checkAll(x.rolled, new Map(x.truth), range, '1h');
    // A backfill two hours old, and every point of one minute overwritten with another value.
    await x.write(series(T0 - 2 * H - 20 * 60_000, T0 - 2 * H, 3_000, 3));
    const minute = T0 - 150 * 60_000 - (T0 % 60_000);
    await x.write([...x.truth.values()].filter((p) => p.t >= minute && p.t < minute + 60_000).map((p) => ({ ...p, v: p.v * 7 })));
    x.setNow(T0 + 60_000);
    const late = await keeper.pass();
    assert.ok(late.coverage!.generation! > 0, 'rewriting published rollups must move the generation');
    const after = await checkAll(x.rolled, x.truth, range, '1h');
    assert.ok(after.overall.samples > before.overall.samples);
    // Minute by minute, so a bin the overwritten minute no longer has would show.
    const ts = await x.rolled.timeseries('FRA', range, 60_000);
    assert.equal(ts.resolution, '1m');
    assert.ok(ts.buckets.some((b) => b.startMs === minute));
    for (const b of ts.buckets) assertClose(b, exact(x.truth, { fromNs: ns(b.startMs), toNs: ns(b.startMs + 60_000) }, (p) => p.pop === 'FRA'), `minute ${b.startMs}`);
  });

  it('keeps rollup segments and the head minute in memory: the same window again reads only its raw tail', async () => {
    const x = await setup();
    await x.write(series(T0 - 3 * H, T0, 10_000, 7));
    await x.keeper().pass();
    const statements: string[] = [];
    const counting = { ...x.client, query: (st: string[]) => (statements.push(...st), x.client.query(st)) };
    const cache = createSegmentCache(128, x.now);
    cache.sync(0);
    const range = { fromNs: ns(T0 - 2.5 * H + 17_123), toNs: ns(T0 - 7_000) };
    const segs = plan(range, await readCoverage(x.client), { rawMaxMs: H, rawEdgeMaxMs: 15 * 60_000 });
    assert.equal(segs.filter((s) => s.resolution === 'raw').length, 2, 'a head and a tail');
    const first = await readPlanned(counting, segs, { groupBy: 'pop_code' }, cache);
    assert.equal(statements.length, segs.length);
    statements.length = 0;
    // A sample that lands in the tail meanwhile is counted: the tail is read again every time.
    const tailPoint = { pop: 'FRA', fn: 'api', t: T0 - 8_000, v: 123 };
    await x.write([tailPoint]);
    const again = await readPlanned(counting, segs, { groupBy: 'pop_code' }, cache);
    assert.equal(statements.length, 1);
    assert.match(statements[0]!, new RegExp(`FROM "${MEASUREMENT}" WHERE time >= \\d+ GROUP BY`), 'the tail, open-ended');
    const n = (cells: typeof first, pop: string) => cells.find((c) => c.key === pop)!.agg.n;
    assert.equal(n(again, 'FRA'), n(first, 'FRA') + 1);
    assert.equal(n(again, 'AMS'), n(first, 'AMS'));
    for (const pop of POPS) assertClose(statsOf(again.find((c) => c.key === pop)!.agg), exact(x.truth, range, (p) => p.pop === pop), `cached ${pop}`);
    // The keeper's generation moved: everything is read again.
    cache.sync(1);
    statements.length = 0;
    await readPlanned(counting, segs, { groupBy: 'pop_code' }, cache);
    assert.equal(statements.length, segs.length);
  });

  it('a sweep cycle that found late data asks for the next pass at once, and so does the cycle after it; a quiet one then does not', async () => {
    const x = await setup();
    await x.write(series(T0 - 8 * 60_000, T0, 10_000, 8)); // within the catch-up's recent margin
    const keeper = x.keeper();
    const first = await keeper.pass();
    assert.equal(first.more, false, 'only recent data: the catch-up did it, the sweep found nothing more');
    // A backfill hours back, into hours the sweep had found empty.
    const backfill = series(T0 - 5 * H, T0 - 4 * H, 10_000, 9);
    await x.write(backfill);
    const found = await keeper.pass();
    assert.equal(found.minutes, new Set(backfill.map((p) => Math.floor(p.t / 60_000))).size, 'the backfilled minutes, and no empty minute counted as work');
    assert.equal(found.more, true);
    const after = await keeper.pass();
    assert.deepEqual([after.minutes, after.hours, after.more], [0, 0, true], 'the cycle after one that found work runs on');
    const quiet = await keeper.pass();
    assert.deepEqual([quiet.minutes, quiet.hours, quiet.more], [0, 0, false]);
    await checkAll(x.rolled, x.truth, { fromNs: ns(T0 - 5 * H), toNs: ns(T0) }, '1h');
  });

  it('a keeper restarted in the middle of a period, or killed between its minute and hour writes, loses nothing', async () => {
    const x = await setup();
    await x.write(series(T0 - 2 * H, T0, 10_000, 4));
    await x.keeper().pass(); // the first keeper, in the middle of an hour; then it is gone
    // More data for the rest of the hour and the next, some of it late into the past hour.
    await x.write(series(T0, T0 + 70 * 60_000, 10_000, 5));
    await x.write(series(T0 - 40 * 60_000, T0 - 30 * 60_000, 4_000, 6));
    const T1 = T0 + 70 * 60_000;
    x.setNow(T1);
    // As if the previous keeper died after writing minutes but before their hours.
    await x.client.query([`DROP MEASUREMENT "${ROLLUP_1H}"`]);
    const r = await x.keeper().pass(); // a new keeper: it knows only what is in InfluxDB
    assert.ok(r.hours >= 2, `expected the hours to be rebuilt, got ${r.hours}`);
    await checkAll(x.rolled, x.truth, { fromNs: ns(T0 - 2 * H), toNs: ns(T1) }, '1h');
  });
});
