/**
 * Per-series counts and sums in memory (series-blocks.ts: the POP statuses of every
 * heatmap and overview) with a window's minute edges, on a real DuckDB file: every series'
 * count and mean equal the raw rows' (count exact, mean to rounding) over a window whose
 * rolled-up part is days, hours, 10-minute and 1-minute blocks; asked again, nothing but
 * the raw parts is read; a 5 minute window takes its whole minutes from blocks too; late
 * points inside a cached 1-minute and 10-minute block reach the answer (raw while dirty,
 * from reloaded blocks after the step).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ColdStartSample } from '@edgeworker/schema';
import { planRange } from './planner.ts';
import { sample } from '../metrics-store.contract.ts';
import { rolledUpStore, tempDir } from './test-store.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY_START = Date.UTC(2026, 10, 26);
const T0 = DAY_START - 2 * HOUR; // 22:00 the day before
const T1 = DAY_START + 25 * HOUR; // 01:00 the day after
const NOW = T1 + 30_000;
const ns = (ms: number) => BigInt(ms) * 1_000_000n;
const POPS = ['FRA', 'AMS'];
const FNS = ['ssr-render', 'auth-check'];

function data(fromMs: number, toMs: number, stepMs = 20_000): ColdStartSample[] {
  const out: ColdStartSample[] = [];
  let x = 99;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let t = fromMs; t < toMs; t += stepMs) {
    for (const [pi, popCode] of POPS.entries()) {
      for (const [fi, functionName] of FNS.entries()) {
        const v = (50 + pi * 70 + fi * 20) * Math.exp((rnd() + rnd() + rnd() - 1.5) * 0.6);
        out.push(sample({ t: t + pi * 100 + fi * 10, v, popCode, functionName, city: popCode, latitude: 1, longitude: 1 }));
      }
    }
  }
  return out;
}

function assertMeans(got: Array<{ popCode: string; functionName: string; samples: number; mean: number }>, samples: ColdStartSample[], what: string) {
  const want = new Map<string, number[]>();
  for (const s of samples) {
    const k = `${s.popCode}/${s.functionName}`;
    if (!want.has(k)) want.set(k, []);
    want.get(k)!.push(s.coldStartTimeMs);
  }
  assert.equal(got.length, want.size, `${what}: series`);
  for (const m of got) {
    const vs = want.get(`${m.popCode}/${m.functionName}`)!;
    assert.equal(m.samples, vs.length, `${what}: ${m.popCode}/${m.functionName} count`);
    const mean = vs.reduce((a, b) => a + b, 0) / vs.length;
    assert.ok(Math.abs(m.mean - mean) <= mean * 1e-9, `${what}: ${m.popCode}/${m.functionName} mean ${m.mean} vs ${mean}`);
  }
}

describe('per-series blocks with minute edges', () => {
  it('answer every series like the raw rows, from memory when asked again, and take in late points of cached minutes', async (t) => {
    const dir = tempDir(t, 'ewm-seriesblocks-');
    const all = data(T0, T1);
    const store = await rolledUpStore(t, dir, all, { now: NOW });
    // 22:01:30 → 00:42:30 the day after: a raw partial minute, 8 minutes and 5 ten-minute blocks, 1 hour, a day,
    // 4 ten-minute blocks and 2 minutes, a raw partial minute.
    const range = { fromNs: ns(T0 + 90_000), toNs: ns(T1 - 17 * MIN - 30_000) };
    const inWindow = (s: ColdStartSample) => s.timeNs >= range.fromNs && s.timeNs < range.toNs;
    const plan = planRange(range, store.rollups.dirty);
    assert.deepEqual(plan.parts.map((p) => p.source), ['raw', '1m', '1h', '1m', 'raw']);

    assertMeans(await store.seriesMeans(range), all.filter(inWindow), 'first');
    const loaded = store.seriesBlocks.stats();
    assert.equal(loaded.loads, 8 + 5 + 1 + 1 + 4 + 2, 'every rolled-up block loaded once');
    assertMeans(await store.seriesMeans(range), all.filter(inWindow), 'again');
    assert.equal(store.seriesBlocks.stats().loads, loaded.loads, 'asked again: only the raw parts from SQL');
    assertMeans(await store.seriesMeans(range, { functionName: 'auth-check' }), all.filter((s) => inWindow(s) && s.functionName === 'auth-check'), 'one function');
    // A short window (the heatmap's "recently reporting" 3 minutes) takes its whole minutes from the blocks too.
    const short = { fromNs: ns(T1 - 5 * MIN - 30_000), toNs: ns(T1 - 30_000) };
    const shortLoads = store.seriesBlocks.stats().loads;
    assertMeans(await store.seriesMeans(short), all.filter((s) => s.timeNs >= short.fromNs && s.timeNs < short.toNs), 'short window');
    assert.equal(store.seriesBlocks.stats().loads - shortLoads, 4, 'its four whole minutes from blocks');

    // Late points inside a cached 1-minute block (22:05) and a cached 10-minute block (00:20-00:30).
    const late = [
      sample({ t: T0 + 5 * MIN + 7_000, v: 4000, popCode: 'FRA', functionName: 'ssr-render', city: 'FRA', latitude: 1, longitude: 1 }),
      sample({ t: DAY_START + 24 * HOUR + 23 * MIN, v: 3000, popCode: 'AMS', functionName: 'auth-check', city: 'AMS', latitude: 1, longitude: 1 }),
    ];
    await store.write(late);
    const withLate = [...all, ...late].filter(inWindow);
    assertMeans(await store.seriesMeans(range), withLate, 'late points, before the step (their minutes read raw)');
    await store.rollups.flush();
    assert.deepEqual(planRange(range, store.rollups.dirty).parts.map((p) => p.source), ['raw', '1m', '1h', '1m', 'raw']);
    const before = store.seriesBlocks.stats().loads;
    assertMeans(await store.seriesMeans(range), withLate, 'late points, after the step');
    assert.equal(store.seriesBlocks.stats().loads - before, 2, 'the two touched blocks loaded again, nothing else');
  });
});
