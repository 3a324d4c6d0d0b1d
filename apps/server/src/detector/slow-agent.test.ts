/**
 * A POP whose agent delivers its samples late, but within a few minutes (it flushes every minute,
 * a slow link): each steady pass reads only the buckets that closed since the last one (and the
 * last MAX_HOLD_STEPS again, engine.readFrom), so before engine.behind such a POP's buckets were
 * never fed: its regression was never found, and it got a no_data alert while it reported. Through
 * the real service on real DuckDB files, the same data twice: every POP on time, and one POP's
 * samples landing LAG later.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pino } from 'pino';
import { FUNCTIONS } from '@edgeworker/pops';
import type { ColdStartSample } from '@edgeworker/schema';
import { createSingleLeadership } from '../cluster/leadership.ts';
import { createLocalBus } from '../events.ts';
import { createDuckDbMetricsStore } from '../stores/duckdb/duckdb-metrics-store.ts';
import { wrapMetricsStore, type MetricsStore } from '../stores/metrics-store.ts';
import { tempDir } from '../stores/duckdb/test-store.ts';
import { MIN, STEP, T0, samples, settings, twoShifts } from '../testing/detector-history.ts';
import { memoryAlerts } from '../testing/detector-alerts.ts';
import { createDetectorEngine } from './engine.ts';
import { createDetectorService } from './detector-service.ts';

const SLOW = 'CDG';
const SHIFT_AT = T0 + 5 * MIN;
const fn = (i: number) => FUNCTIONS[i]!.name;
// 2x from SHIFT_AT on one series of the slow POP and one of an on-time POP.
const INJECTIONS = twoShifts(SLOW, SHIFT_AT);
const at = (fromMs: number, toMs: number, pops: (code: string) => boolean) => samples(fromMs, toMs, INJECTIONS).filter((s) => pops(s.popCode));
const ms = (s: ColdStartSample) => Number(s.timeNs / 1_000_000n);

/**
 * 230 minutes of history, then `minutes` of passes every 10 s (2.5 s after each bucket closes); the
 * slow POP's samples land `lagMs` after their time. What each pass opened, and the catch-up reads.
 */
async function run(t: TestContext, lagMs: number, minutes: number) {
  const clock = { now: T0 };
  const raw = await createDuckDbMetricsStore({ path: join(tempDir(t, 'ewm-slow-agent-'), 'metrics.duckdb'), now: () => clock.now });
  t.after(() => raw.close().catch(() => undefined));
  await raw.write(at(T0 - 230 * MIN, T0, () => true));
  // The detector's reads, with the POPs they asked for.
  const reads: Array<{ fromMs: number; toMs: number; pops?: readonly string[] }> = [];
  const store: MetricsStore = wrapMetricsStore(raw, (name, f) => async (...args) => {
    if (name === 'seriesBucketColumns' || name === 'seriesBuckets') {
      const range = args[0] as { fromNs: bigint; toNs: bigint };
      const opts = args[2] as { pops?: readonly string[] } | undefined;
      reads.push({ fromMs: Number(range.fromNs / 1_000_000n), toMs: Number(range.toNs / 1_000_000n), ...(opts?.pops ? { pops: opts.pops } : {}) });
    }
    return f(...args);
  });
  const alerts = await memoryAlerts(t, () => clock.now);
  const engine = createDetectorEngine(settings);
  const bus = createLocalBus();
  const detector = createDetectorService({ store, alerts, leadership: createSingleLeadership('test'), settings, engine, bus, now: () => clock.now, log: pino({ level: 'silent' }) });
  const opened: Array<{ atMs: number; type: string; popCode: string; functionName: string; baselineMs: number; currentMs: number }> = [];
  const late = at(T0, T0 + minutes * MIN, (p) => p === SLOW);
  for (let bucket = T0; bucket < T0 + minutes * MIN; bucket += STEP) {
    await raw.write(at(bucket, bucket + STEP, (p) => p !== SLOW));
    clock.now = bucket + STEP + 2_500;
    // The slow agent's samples that have landed by now, announced as ingest does.
    const landed = [];
    while (late.length > 0 && ms(late[0]!) + lagMs <= clock.now) landed.push(late.shift()!);
    if (landed.length) {
      await raw.write(landed);
      bus.publish({ type: 'data_landed', points: landed.length, earliestMs: ms(landed[0]!), latestMs: ms(landed.at(-1)!), pops: [SLOW] });
    }
    const r = await detector.runPass();
    for (const a of r.created) opened.push({ atMs: clock.now, type: a.type, popCode: a.popCode, functionName: a.functionName, baselineMs: a.baselineMs ?? 0, currentMs: a.currentMs ?? 0 });
  }
  return { opened, reads, engine, store: raw };
}

test('a POP whose samples land 50 s late is judged at the first pass after they land, on the same buckets: its regression is found, and it gets no no_data alert', async (t) => {
  // Later than the steps a steady read reads again (30 s), so the catch-up is what feeds it.
  const LAG = 50_000;
  const onTime = await run(t, 0, 12);
  const slow = await run(t, LAG, 12);
  const find = (r: typeof onTime, pop: string) => r.opened.filter((a) => a.popCode === pop);

  // Every POP on time: both shifts are found.
  const [ref] = find(onTime, SLOW);
  assert.ok(ref, 'the on-time run finds the slow POP\'s shift');
  assert.equal(ref.type, 'regression');
  assert.equal(ref.functionName, fn(0));
  assert.ok(find(onTime, 'FRA').some((a) => a.functionName === fn(1)));

  // The slow POP's shift is found at the first pass after its buckets land, with the same values: it
  // was fed the same buckets, in order. A bucket's sample (at its start) is read 12.5 s after it on
  // time, and lands 50 s after it here: the pass at 52.5 s, four passes (40 s) later.
  assert.deepEqual(slow.opened.filter((a) => a.type === 'no_data'), [], 'a POP that reports 50 s late is not silent');
  const [got] = find(slow, SLOW);
  assert.ok(got, 'the slow POP\'s shift is found');
  assert.equal(got.atMs - ref.atMs, 40_000);
  assert.deepEqual({ ...got, atMs: 0 }, { ...ref, atMs: 0 });
  // Every other POP's alerts are untouched by its lag.
  assert.deepEqual(slow.opened.filter((a) => a.popCode !== SLOW), onTime.opened.filter((a) => a.popCode !== SLOW));

  // Its buckets are the store's: the long-running engine holds what a fresh re-derive of the same
  // store to the same end holds (the newest 50 s have landed for neither).
  const end = T0 + 12 * MIN;
  const fresh = createDetectorEngine(settings);
  const read = fresh.readFrom(end);
  fresh.ingestColumns(await slow.store.seriesBucketColumns!({ fromNs: BigInt(read) * 1_000_000n, toNs: BigInt(end) * 1_000_000n }, STEP), end);
  const buckets = (e: typeof fresh) =>
    e.exportState()!.series.filter((x) => x.popCode === SLOW).map((x) => [x.functionName, Array.from(x.t, (o) => o + x.tBase).slice(-150), Array.from(x.x).slice(-150)]);
  const held = buckets(slow.engine);
  assert.equal(held.length, 3);
  assert.deepEqual(held, buckets(fresh));

  // The catch-up reads asked for the slow POP alone, and reached back no further than the lag needs.
  const catchUps = slow.reads.filter((r) => r.pops);
  assert.deepEqual(slow.reads.filter((r) => r.pops && r.toMs - r.fromMs > 15 * MIN), [], 'no re-derive: nothing landed further behind than the catch-up');
  assert.ok(catchUps.length > 0);
  for (const r of catchUps) {
    assert.deepEqual(r.pops, [SLOW]);
    assert.ok(r.toMs - r.fromMs <= LAG + STEP, `a catch-up of ${r.toMs - r.fromMs} ms`);
  }
  assert.equal(onTime.reads.filter((r) => r.pops).length, 0, 'nothing is behind when every POP is on time');
});

test('a POP silent for longer than the catch-up is not waited for: the pass reads on from where it stopped, and the POP is no_data', async (t) => {
  const r = await run(t, 4 * MIN, 8);
  // Up to NO_DATA_AFTER (3 min) behind it is read again, POP by POP; then given up: its samples,
  // landing 4 min late, are late data, which re-derives its series (reads of the whole span).
  const spans = r.reads.filter((x) => x.pops).map((x) => x.toMs - x.fromMs);
  const catchUps = spans.filter((x) => x < 15 * MIN);
  assert.ok(catchUps.length > 0, 'it was caught up while it was less than 3 minutes behind');
  assert.ok(Math.max(...catchUps) <= settings.catchUpMs, `a catch-up of ${Math.max(...catchUps)} ms`);
  assert.ok(spans.some((x) => x >= 200 * MIN), 'its late samples re-derived its series');
  assert.ok(r.opened.some((a) => a.type === 'no_data' && a.popCode === SLOW), 'a POP 4 minutes behind is silent by NO_DATA_AFTER');
});
