/**
 * engine.ingestColumns (the re-derive's columnar read) arrives at exactly the state
 * engine.ingest does from the same buckets as objects: same findings with the same
 * figures, same series judged, same newest buckets, pass after pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FUNCTIONS, findPop } from '@edgeworker/pops';
import { createLatencyModel } from '@edgeworker/generator';
import type { SeriesBucket, SeriesBucketColumns } from '../stores/metrics-store.ts';
import { createDetectorEngine, detectorSettings } from './engine.ts';

const MIN = 60_000;
const STEP = 10_000;
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const settings = detectorSettings({ recentMs: 5 * MIN, baselineMs: 30 * MIN, minChange: 0.1, resolveAfterMs: 5 * MIN });

function buckets(fromMs: number, toMs: number): SeriesBucket[] {
  const model = createLatencyModel({ seed: 11, spikeProbability: 0.01, injections: [{ pops: ['FRA'], functions: [FUNCTIONS[0]!.name], factor: 2, startMs: T0 - 4 * MIN, durationMs: 60 * MIN }, { pops: ['AMS'], functions: '*', factor: 1.3, startMs: T0 - 8 * MIN, durationMs: 60 * MIN }] });
  const out: SeriesBucket[] = [];
  for (const code of ['FRA', 'AMS', 'LHR', 'CDG']) {
    const pop = findPop(code)!;
    for (const fn of FUNCTIONS) {
      for (let t = fromMs; t < toMs; t += STEP) {
        if (code === 'CDG' && t > T0 - 20 * MIN && t < T0 - 12 * MIN) continue; // a gap
        const v = model.sample(pop, fn, t);
        out.push({ popCode: code, functionName: fn.name, startMs: t, samples: 1 + (t % 3), mean: v, p50: v });
      }
    }
  }
  return out;
}

function columnsOf(bs: readonly SeriesBucket[]): SeriesBucketColumns {
  const sorted = [...bs].sort((a, b) => a.startMs - b.startMs);
  const ids = new Map<string, number>();
  const c = { pops: [] as string[], functions: [] as string[], series: [] as number[], startMs: [] as number[], samples: [] as number[], mean: [] as number[], p50: [] as number[] };
  for (const b of sorted) {
    const k = `${b.popCode}/${b.functionName}`;
    if (!ids.has(k)) {
      ids.set(k, ids.size);
      c.pops.push(b.popCode);
      c.functions.push(b.functionName);
    }
    c.series.push(ids.get(k)!);
    c.startMs.push(b.startMs);
    c.samples.push(b.samples);
    c.mean.push(b.mean);
    c.p50.push(b.p50);
  }
  return c;
}

test('ingestColumns and ingest arrive at the same state: a re-derive in slices, then steady passes', () => {
  const data = buckets(T0 - 40 * MIN, T0 + 3 * MIN);
  const a = createDetectorEngine(settings);
  const b = createDetectorEngine(settings);
  let found = 0;
  for (let end = T0; end <= T0 + 3 * MIN; end += STEP) {
    // Both read the same ranges (a fresh engine: the whole span, in 5-minute slices).
    for (let from = a.readFrom(end); from < end; ) {
      const to = Math.min(end, from + 5 * MIN);
      assert.equal(b.readFrom(end), a.readFrom(end));
      const slice = data.filter((x) => x.startMs >= from && x.startMs < to);
      a.ingest(slice, to);
      b.ingestColumns(columnsOf(slice), to);
      from = to;
    }
    const ea = a.evaluate([], end);
    const eb = b.evaluate([], end);
    assert.deepEqual(eb, ea, `pass at ${(end - T0) / 1000} s`);
    assert.deepEqual([...b.lastSeen()].sort((x, y) => x.popCode.localeCompare(y.popCode) || x.functionName.localeCompare(y.functionName)), [...a.lastSeen()].sort((x, y) => x.popCode.localeCompare(y.popCode) || x.functionName.localeCompare(y.functionName)));
    found += ea.raise.length;
  }
  assert.equal(a.size(), 4 * FUNCTIONS.length);
  assert.ok(found > 0, 'the shifted series were found, so the comparison covers findings');
});

test('ingestColumnsStepwise pauses between series and arrives at exactly ingestColumns\' state, even with other engines fed between its steps', () => {
  // 300 series (more than one step's worth), two of them shifted; a re-derive in 15-minute slices.
  const model = createLatencyModel({ seed: 5, injections: [{ pops: ['FRA'], functions: '*', factor: 2, startMs: T0 - 6 * MIN, durationMs: 60 * MIN }] });
  const codes = ['FRA', ...Array.from({ length: 59 }, (_, i) => `X${i}`)];
  const fra = findPop('FRA')!;
  const data: SeriesBucket[] = [];
  for (const code of codes) {
    for (const fn of FUNCTIONS) {
      for (let t = T0 - 80 * MIN; t < T0 + 2 * MIN; t += STEP) {
        const v = model.sample({ ...fra, code }, fn, t);
        data.push({ popCode: code, functionName: fn.name, startMs: t, samples: 1, mean: v, p50: v });
      }
    }
  }
  const a = createDetectorEngine(settings);
  const b = createDetectorEngine(settings);
  const other = createDetectorEngine(settings);
  let pauses = 0;
  let found = 0;
  for (let end = T0; end <= T0 + 2 * MIN; end += STEP) {
    for (let from = a.readFrom(end); from < end; ) {
      const to = Math.min(end, from + 15 * MIN);
      assert.equal(b.readFrom(end), a.readFrom(end));
      const cols = columnsOf(data.filter((x) => x.startMs >= from && x.startMs < to));
      a.ingestColumns(cols, to);
      // Another engine's work between the steps (one merge buffer is shared by every sorted window).
      for (const _ of b.ingestColumnsStepwise(cols, to)) {
        pauses++;
        other.readFrom(to);
        other.ingestColumns(cols, to);
      }
      from = to;
    }
    const ea = a.evaluate([], end);
    assert.deepEqual(b.evaluate([], end), ea, `pass at ${(end - T0) / 1000} s`);
    found += ea.raise.length;
  }
  assert.equal(b.size(), codes.length * FUNCTIONS.length);
  assert.ok(pauses > 0, 'it paused');
  assert.ok(found > 0, 'the shifted series were found, so the comparison covers findings');
});

test('a re-derive in 15-minute column slices with production windows (220 min read, 30 replayed) arrives at the state of one fed the same buckets at once, bit for bit, and stays there', () => {
  // Production windows (60-min baseline, 2 h trend, 30-min replay): the re-derive reads 220 min.
  const prod = detectorSettings({ recentMs: 10 * MIN, baselineMs: 60 * MIN, minChange: 0.1, resolveAfterMs: 10 * MIN });
  const end = T0 + 10 * MIN;
  const data = buckets(end - 230 * MIN, end + 3 * MIN);
  const sliced = createDetectorEngine(prod);
  const atOnce = createDetectorEngine(prod);
  const from = sliced.readFrom(end);
  assert.equal(atOnce.readFrom(end), from);
  for (let f = from; f < end; f += 15 * MIN) {
    const to = Math.min(end, f + 15 * MIN);
    sliced.ingestColumns(columnsOf(data.filter((x) => x.startMs >= f && x.startMs < to)), to);
  }
  atOnce.ingest(data.filter((x) => x.startMs >= from && x.startMs < end), end);
  // What decides: each series' baseline and its CUSUMs (the bucket arrays are trimmed in other chunks).
  const decisive = (e: ReturnType<typeof createDetectorEngine>) => e.exportState()!.series.map((st) => ({ key: `${st.popCode}/${st.functionName}`, base: st.base, runs: st.runs }));
  let found = 0;
  for (let pass = end; pass <= end + 3 * MIN; pass += STEP) {
    if (pass > end) {
      for (const e of [sliced, atOnce]) {
        const f = e.readFrom(pass);
        e.ingest(data.filter((x) => x.startMs >= f && x.startMs < pass), pass);
      }
    }
    const ea = atOnce.evaluate([], pass);
    assert.deepStrictEqual(sliced.evaluate([], pass), ea, `pass at ${(pass - end) / 1000} s`);
    assert.deepStrictEqual(decisive(sliced), decisive(atOnce), `state at ${(pass - end) / 1000} s`);
    found += ea.raise.length;
  }
  assert.ok(found > 0, 'the shifted series were found, so the comparison covers findings');
  // The trend's windows (older and halfway) were there and used: the comparison covers them.
  assert.ok(sliced.exportState()!.series.every((st) => st.base !== null) && sliced.exportState()!.series.some((st) => st.base!.slope !== 0), 'every series judged, with a trend');
});
