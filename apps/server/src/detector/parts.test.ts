/**
 * A POP whose buckets land in parts: several agents, each flushing every few seconds (Telegraf's
 * default is every 10 s), so when a pass reads a bucket 2 s after it closed only some of its
 * samples are there. Before, the running engine was fed that part and never the rest: its buckets
 * were noisier than the whole ones a re-derive reads, and after a restart the baselines (whole)
 * were narrower than the buckets judged against them (the eval, EVAL_PARTS=6:10: 3.5x the false
 * alerts). Now a steady read overlaps the last steps; a series seen to grow there has its newest
 * buckets held back one to three passes, and fed whole. The service-level passes are shared with
 * the same test on a real influxd (testing/parts-passes.ts, parts.services.test.ts).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createDuckDbMetricsStore } from '../stores/duckdb/duckdb-metrics-store.ts';
import { tempDir } from '../stores/duckdb/test-store.ts';
import { MIN, STEP, T0, settings } from '../testing/detector-history.ts';
import { assertHeldAndJudgedWhole, PARTS, runParts } from '../testing/parts-passes.ts';
import { createDetectorEngine, type DetectorEngine, type Evaluation } from './engine.ts';
import { takeEngineSnapshot, writeEngineSnapshot } from './engine-snapshot.ts';
import type { SeriesBucket } from '../stores/metrics-store.ts';

/** The store of one run: a real DuckDB file, closed after the test. */
const duckdb = (t: TestContext) => async (now: () => number) => {
  const store = await createDuckDbMetricsStore({ path: join(tempDir(t, 'ewm-parts-'), 'metrics.duckdb'), now });
  t.after(() => store.close().catch(() => undefined));
  return store;
};

test('a POP whose buckets land in parts: once seen growing, each newest bucket waits a pass and is fed whole; its shift is found a pass later, with the values of one that lands whole', async (t) => {
  const whole = await runParts(t, duckdb(t), false, 12);
  const parts = await runParts(t, duckdb(t), true, 12);
  await assertHeldAndJudgedWhole(whole, parts);
});

/**
 * An engine fed passes every STEP from T0 (a re-derive of 40 minutes of whole buckets first) of two
 * series: A, whose bucket b read by a pass ending at `end` holds countAt(b, end) samples, and B,
 * always whole (4). Each bucket's value is 50 + its count, so a part is told from the whole. With
 * `restart`, after the pass ending at its `atMs` the engine is written to a snapshot file at its
 * `path` and replaced by a new one imported from it (a process restarted between two passes).
 */
async function drive(minutes: number, countAt: (b: number, end: number) => number, catchUp = false, restart?: { atMs: number; path: string }) {
  let engine = createDetectorEngine(settings);
  const bucket = (pop: string, startMs: number, samples: number): SeriesBucket => ({ popCode: pop, functionName: 'f', startMs, samples, mean: 50 + samples, p50: 50 + samples });
  const start = T0 - 40 * MIN;
  const history: SeriesBucket[] = [];
  for (let b = start; b < T0; b += STEP) history.push(bucket('A', b, 4), bucket('B', b, 4));
  const held: number[] = [];
  const evaluations: Evaluation[] = [];
  for (let end = T0; end <= T0 + minutes * MIN; end += STEP) {
    const until = engine.readUntil();
    if (catchUp && until !== null && until > T0) {
      // A catch-up of A's POP first (another series of it behind), to where the last read ended:
      // what A holds back must stay held.
      const again: SeriesBucket[] = [];
      for (let b = Math.max(T0, until - 6 * STEP); b < until; b += STEP) again.push(bucket('A', b, countAt(b, end)));
      engine.ingest(again, until);
    }
    const from = engine.readFrom(end);
    const read = history.filter((x) => x.startMs >= from && x.startMs < end);
    for (let b = Math.max(from, T0); b < end; b += STEP) read.push(bucket('A', b, countAt(b, end)), bucket('B', b, 4));
    engine.ingest(read, end);
    const ev = engine.evaluate([], end);
    held.push(ev.heldBack);
    evaluations.push(ev);
    if (end === restart?.atMs) {
      assert.ok(await writeEngineSnapshot(restart.path, engine.exportState()!, settings, end));
      const taken = await takeEngineSnapshot(restart.path, settings);
      assert.ok(taken?.ok, JSON.stringify(taken));
      engine = createDetectorEngine(settings);
      engine.importState(taken.state);
      await taken.close();
    }
  }
  const a = engine.exportState()!.series.find((x) => x.popCode === 'A')!;
  /** A's buckets from T0 on, and those of them fed on a part. */
  const fed = Array.from(a.x).map((x, i) => [a.t[i]! + a.tBase, x] as const).filter(([t]) => t >= T0);
  const partial = fed.filter(([, x]) => x !== Math.fround(Math.log(54))).map(([t]) => t);
  /** The held counts of the passes ending in [fromMs, toMs). */
  const passes = (fromMs: number, toMs: number) => [...new Set(held.slice((fromMs - T0) / STEP, (toMs - T0) / STEP))];
  const b = engine.exportState()!.series.find((x) => x.popCode === 'B')!;
  return { held, passes, partial, newestA: fed.at(-1)![0], newestB: b.t.at(-1)! + b.tBase, evaluations, state: engine.exportState()! };
}

test('the engine: a series whose bucket grew after it was fed is held back for five minutes from its last growth, and one that lands whole never is', async () => {
  // A's buckets land in parts for 3 minutes (2 samples at the pass that reads them first, 4 at the next), then whole.
  const partsUntil = T0 + 3 * MIN;
  const r = await drive(10, (b, end) => (b < partsUntil && b === end - STEP ? 2 : 4));
  assert.equal(r.held[0], 0, 'the re-derive');
  assert.equal(r.held[1], 0, 'its first steady pass: nothing known yet');
  assert.deepEqual(r.passes(T0 + 2 * STEP, partsUntil + STEP), [1], 'from the pass that saw it grow, A waits at every pass');
  // A's last growing bucket is the one before partsUntil; five minutes on from it, it is fed at once again.
  const lastGrowth = partsUntil - STEP;
  assert.deepEqual(r.passes(partsUntil + STEP, lastGrowth + 5 * MIN + STEP), [1]);
  assert.deepEqual(r.passes(lastGrowth + 5 * MIN + STEP, T0 + 10 * MIN + STEP), [0]);
  // B never waited, and A holds every bucket but the partial one the first steady pass fed, whole.
  assert.deepEqual(r.partial, [T0]);
  // The same with a catch-up read of A's POP before each pass: it holds back what the pass would.
  const withCatchUp = await drive(10, (b, end) => (b < partsUntil && b === end - STEP ? 2 : 4), true);
  assert.deepEqual(withCatchUp.held, r.held);
  assert.deepEqual(withCatchUp.partial, [T0]);
});

test('the engine: a series whose buckets still grow after one pass waits two (agents flushing every ~20 s), fed whole from then', async () => {
  // 2 samples at the first read, 3 at the second, 4 from the third.
  const r = await drive(4, (b, end) => Math.min(4, 1 + (end - b) / STEP));
  // The first bucket is fed on its part (nothing known), it grows at the next pass (hold 1) and
  // again at the one after (hold 2); the next bucket is the first held for two passes.
  assert.deepEqual(r.partial, [T0]);
  assert.deepEqual(r.passes(T0 + 2 * STEP, T0 + 4 * MIN + STEP), [1]);
  // The newest bucket fed is two passes behind the read's end: A holds back two buckets; B none.
  const end = T0 + 4 * MIN;
  assert.equal(r.newestA, end - 3 * STEP);
  assert.equal(r.newestB, end - STEP);
  // With a catch-up of A's POP before each pass, which reads its buckets a pass after their first
  // read (3 of 4 samples): they stay held, and are fed whole.
  const withCatchUp = await drive(4, (b, end) => Math.min(4, 1 + (end - b) / STEP), true);
  assert.deepEqual(withCatchUp.held, r.held);
  assert.deepEqual(withCatchUp.partial, [T0]);
});

/**
 * Restarted from a snapshot mid-hold: the restored engine must hold back what the running one
 * holds, and feed the same (whole) buckets. Before the snapshot kept the parts state, it was fed
 * its next part as it stood (nothing known) and held again only once it saw that bucket grow.
 */
test('the engine restored from a snapshot mid-hold decides bit for bit what the running one does: the same buckets held and fed, the same evaluations', async (t) => {
  const path = join(tempDir(t, 'ewm-parts-snapshot-'), 'detector-snapshot.bin');
  const cases: Array<[string, number, (b: number, end: number) => number, number]> = [
    // Growing over two passes (hold 2), restarted while two buckets wait: seen, partsUntil and holdSteps.
    ['held two passes', 4, (b, end) => Math.min(4, 1 + (end - b) / STEP), T0 + 2 * MIN],
    // Grew until T0 + 3 min, restarted at T0 + 5 min: nothing grows any more, the hold goes on until
    // five minutes after the last growth (partsUntil alone says so).
    ['no longer growing, still held', 10, (b, end) => (b < T0 + 3 * MIN && b === end - STEP ? 2 : 4), T0 + 5 * MIN],
    // Restarted after the first steady pass, which read A's first part: its growth is seen at the
    // pass after the restart, from the count the running engine read before it (seen alone says so).
    ['first growth seen across the restart', 4, (b, end) => (b === end - STEP ? 2 : 4), T0 + STEP],
  ];
  for (const [what, minutes, countAt, atMs] of cases) {
    const kept = await drive(minutes, countAt);
    const restarted = await drive(minutes, countAt, false, { atMs, path });
    // Not vacuous: the running engine holds A back at the pass after the restart.
    assert.equal(kept.held[(atMs - T0) / STEP + 1], 1, `${what}: held after the restart`);
    assert.deepEqual(restarted.held, kept.held, `${what}: held back at every pass`);
    assert.deepEqual(restarted.evaluations, kept.evaluations, `${what}: every evaluation`);
    assert.deepEqual(restarted.partial, kept.partial, `${what}: the buckets fed on a part`);
    assert.deepEqual(restarted.state, kept.state, `${what}: the whole state, bit for bit`);
  }
});

test('restarted from its snapshot while a POP\'s buckets are held back, the detector holds and opens exactly what the one that kept running does', async (t) => {
  const kept = await runParts(t, duckdb(t), true, 12);
  // Restarted twice: after the first pass (which fed the POP's first part: its growth is seen after
  // the restart), and after the pass ending at T0 + 5.5 min (the POP's three series waiting, its 2x
  // shift begun at T0 + 5 min and not yet found); each time started again from the snapshot.
  const restarts = [T0 + STEP, T0 + 5 * MIN + 3 * STEP];
  const restarted = await runParts(t, duckdb(t), true, 12, restarts);
  assert.equal(kept.heldBack[(restarts[0]! - T0) / STEP], 3, 'the POP is held back from the pass after the first restart');
  assert.equal(kept.heldBack[(restarts[1]! - T0) / STEP - 1], 3, 'the POP is held back at the second restart');
  assert.ok(kept.opened.some((a) => a.popCode === PARTS && a.atMs > restarts[1]!), 'the POP\'s shift opens after the restart');
  assert.deepEqual(restarted.heldBack, kept.heldBack);
  assert.deepEqual(restarted.opened, kept.opened);
  // What the engine holds at the end, series by series (the sorted windows aside: a restored engine builds them when needed).
  const held = (e: DetectorEngine) => e.exportState()!.series.map(({ windows: _w, ...rest }) => rest);
  assert.deepEqual(held(restarted.engine), held(kept.engine));
});
