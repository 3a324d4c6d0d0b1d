/**
 * A POP whose buckets land in parts, through the real detector service on a real store: what
 * parts.test.ts runs on DuckDB and parts.services.test.ts on a real influxd, so both stores are
 * held to the same passes and the same expectations. Twelve series at four POPs, four samples per
 * series per bucket; the PARTS POP's second half of each bucket can land a pass late.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import { pino } from 'pino';
import type { ColdStartSample } from '@edgeworker/schema';
import { createSingleLeadership } from '../cluster/leadership.ts';
import { createDetectorService } from '../detector/detector-service.ts';
import { takeEngineSnapshot, type TakenSnapshot } from '../detector/engine-snapshot.ts';
import { createDetectorEngine, type DetectorEngine } from '../detector/engine.ts';
import type { MetricsStore } from '../stores/metrics-store.ts';
import { tempDir } from '../stores/duckdb/test-store.ts';
import { memoryAlerts } from './detector-alerts.ts';
import { MIN, STEP, T0, samples, settings, twoShifts } from './detector-history.ts';

/** The POP whose buckets land in parts, and when its (and FRA's) 2x shift begins. */
export const PARTS = 'CDG';
export const SHIFT_AT = T0 + 5 * MIN;
const INJECTIONS = twoShifts(PARTS, SHIFT_AT);
const PER_BUCKET = 4;
const ms = (s: ColdStartSample) => Number(s.timeNs / 1_000_000n);

/** PER_BUCKET samples per series per bucket (at 0, 2.5, 5 and 7.5 s into it), in time order. */
export function fourPerBucket(fromMs: number, toMs: number): ColdStartSample[] {
  const all: ColdStartSample[] = [];
  for (let k = 0; k < PER_BUCKET; k++) {
    const offset = (k * STEP) / PER_BUCKET;
    all.push(...samples(fromMs + offset, toMs + offset, INJECTIONS));
  }
  return all.sort((a, b) => ms(a) - ms(b));
}

export interface PartsRun {
  opened: Array<{ atMs: number; type: string; popCode: string; functionName: string; baselineMs: number; currentMs: number }>;
  /** Each pass's heldBack. */
  heldBack: number[];
  /** After each pass, the series (`POP/function`) whose newest closed bucket the engine has not been fed. */
  waiting: string[][];
  /** The engine of the last process. */
  engine: DetectorEngine;
  store: MetricsStore;
  endMs: number;
}

/**
 * 230 minutes of history, then `minutes` of passes every 10 s (2.5 s after each bucket closes), on
 * the store `open` makes (given the test's clock). With `inParts`, the PARTS POP's samples of the
 * second half of each bucket land 10 s after their bucket closed (after its pass, before the
 * next); every other sample lands at its time. With `restarts`, the process stops after each pass
 * ending at one of them (its snapshot written, as at a graceful stop) and another starts from that
 * snapshot for the next pass: same store, same alerts.
 */
export async function runParts(t: TestContext, open: (now: () => number) => Promise<MetricsStore>, inParts: boolean, minutes: number, restarts: number[] = []): Promise<PartsRun> {
  const clock = { now: T0 };
  const store = await open(() => clock.now);
  await store.write(fourPerBucket(T0 - 230 * MIN, T0));
  const alerts = await memoryAlerts(t, () => clock.now);
  const path = join(tempDir(t, 'ewm-parts-snapshot-'), 'detector-snapshot.bin');
  const start = (taken: TakenSnapshot | null) => {
    const engine = createDetectorEngine(settings);
    const detector = createDetectorService({ store, alerts, leadership: createSingleLeadership('test'), settings, engine, now: () => clock.now, log: pino({ level: 'silent' }), snapshot: { path, taken } });
    return { engine, detector };
  };
  let { engine, detector } = start(null);
  const run: PartsRun = { opened: [], heldBack: [], waiting: [], engine, store, endMs: T0 + minutes * MIN };
  const late = (s: ColdStartSample) => inParts && s.popCode === PARTS && ms(s) % STEP >= STEP / 2;
  let owed: ColdStartSample[] = [];
  for (let bucket = T0; bucket < T0 + minutes * MIN; bucket += STEP) {
    const now = fourPerBucket(bucket, bucket + STEP);
    // The previous bucket's late half lands as this one closes: 10 s after its own bucket closed.
    await store.write([...owed, ...now.filter((s) => !late(s))]);
    owed = now.filter(late);
    clock.now = bucket + STEP + 2_500;
    const r = await detector.runPass();
    run.heldBack.push(r.heldBack ?? 0);
    run.waiting.push(waiting(engine, bucket));
    for (const a of r.created) run.opened.push({ atMs: clock.now, type: a.type, popCode: a.popCode, functionName: a.functionName, baselineMs: a.baselineMs ?? 0, currentMs: a.currentMs ?? 0 });
    if (restarts.includes(bucket + STEP)) {
      assert.ok(await detector.saveSnapshot());
      const taken = await takeEngineSnapshot(path, settings);
      assert.ok(taken?.ok, JSON.stringify(taken));
      ({ engine, detector } = start(taken));
    }
  }
  await store.write(owed);
  run.engine = engine;
  return run;
}

/** The series whose newest bucket fed is older than `bucket` (every series has a sample in every bucket here). */
function waiting(e: DetectorEngine, bucket: number): string[] {
  return e.exportState()!.series.filter((x) => x.t.at(-1)! + x.tBase < bucket).map((x) => `${x.popCode}/${x.functionName}`).sort();
}

/** The newest `n` buckets (start, value) of each series of a POP, by function. */
export function newest(e: DetectorEngine, pop: string, n: number) {
  return e.exportState()!.series.filter((x) => x.popCode === pop).map((x) => [x.functionName, Array.from(x.t, (o) => o + x.tBase).slice(-n), Array.from(x.x).slice(-n)]);
}

/** A fresh engine re-derived from the store up to endMs (every sample landed by then: whole buckets). */
export async function rederived(store: MetricsStore, endMs: number): Promise<DetectorEngine> {
  const fresh = createDetectorEngine(settings);
  const from = fresh.readFrom(endMs);
  fresh.ingestColumns(await store.seriesBucketColumns!({ fromNs: BigInt(from) * 1_000_000n, toNs: BigInt(endMs) * 1_000_000n }, STEP), endMs);
  return fresh;
}

/**
 * What a POP landing in parts must give, against the same passes with every sample landing at
 * its time (`whole`): held back only there, and named; its alerts a pass later with the same values.
 */
export async function assertHeldAndJudgedWhole(whole: PartsRun, parts: PartsRun) {
  // Nothing is held back while every bucket lands whole.
  assert.deepEqual([...new Set(whole.heldBack)], [0]);
  assert.deepEqual([...new Set(whole.waiting.map((w) => w.join()))], ['']);
  // In parts: the first bucket after the re-derive is fed as it stands (nothing was known of the
  // series), its growth is seen a pass later, and from then the POP's three series wait each pass; no other.
  assert.deepEqual(parts.heldBack.slice(0, 2), [0, 3]);
  assert.deepEqual([...new Set(parts.heldBack.slice(1))], [3]);
  const itsSeries = parts.engine.exportState()!.series.filter((x) => x.popCode === PARTS).map((x) => `${x.popCode}/${x.functionName}`).sort();
  assert.equal(itsSeries.length, 3);
  assert.deepEqual(parts.waiting[0], []);
  for (const [i, w] of parts.waiting.slice(1).entries()) assert.deepEqual(w, itsSeries, `the series waiting after pass ${i + 1}`);

  const find = (r: PartsRun, pop: string) => r.opened.filter((a) => a.popCode === pop);
  assert.ok(find(whole, PARTS).some((a) => a.type === 'regression' && a.functionName === twoShifts(PARTS, SHIFT_AT)[0]!.functions[0]), 'the shift is found when the buckets land whole');
  // In parts, the POP's alerts open one pass later, on the same (whole) buckets but the first one
  // fed on its part: that bucket counts for less (judged by its own sample count), so a run may
  // start a bucket apart and its median move a little: the same alerts, values within 0.1 %.
  const which = (list: ReturnType<typeof find>) => list.map(({ baselineMs: _b, currentMs: _c, ...rest }) => rest);
  const opened = find(parts, PARTS);
  assert.deepEqual(which(opened.map((a) => ({ ...a, atMs: a.atMs - STEP }))), which(find(whole, PARTS)), 'in parts, the POP\'s alerts open one pass later');
  opened.forEach((a, i) => {
    const w = find(whole, PARTS)[i]!;
    assert.ok(Math.abs(a.baselineMs / w.baselineMs - 1) < 0.001 && Math.abs(a.currentMs / w.currentMs - 1) < 0.001, `the same values: ${JSON.stringify([a, w])}`);
  });
  assert.deepEqual(parts.opened.filter((a) => a.popCode !== PARTS), whole.opened.filter((a) => a.popCode !== PARTS), 'every other POP untouched');

  // What the long-running engine holds of that POP is what a re-derive of the store holds, now that
  // every sample has landed: whole buckets (up to the one held back, the newest).
  const fresh = await rederived(parts.store, parts.endMs - STEP);
  assert.deepEqual(newest(parts.engine, PARTS, 60), newest(fresh, PARTS, 60));
  // And the newest bucket waits: the engine holds the POP one step behind the others.
  const last = (pop: string) => (newest(parts.engine, pop, 1)[0]![1] as number[])[0];
  assert.equal(last(PARTS), last('FRA')! - STEP);
}
