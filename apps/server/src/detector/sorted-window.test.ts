/**
 * The sliding sorted window and the statistics read off it: the same values as a window
 * copied and sorted afresh, and the same location and scale as selection over the values
 * in time order (up to summation order), through slides, gaps, trims and jumps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { robustFromSorted, robustLocationScale } from './robust.ts';
import { slideWindow, windowStats, type SortedWindow } from './sorted-window.ts';

function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('robustFromSorted equals robustLocationScale (selection) on the same values, odd and even counts, ties and outliers', () => {
  const r = rng(3);
  for (let rep = 0; rep < 2000; rep++) {
    const n = 1 + Math.floor(r() * 400);
    const xs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      // Coarse values make ties; a few large ones are spikes.
      const v = Math.round((4.6 + 0.25 * (r() + r() + r() - 1.5)) * (rep % 3 === 0 ? 20 : 1e6)) / (rep % 3 === 0 ? 20 : 1e6);
      xs[i] = r() < 0.02 ? v + 2 : v;
    }
    const sel = robustLocationScale(Float64Array.from(xs));
    const sorted = Float64Array.from(xs).sort();
    const got = robustFromSorted(sorted, n);
    assert.ok(Math.abs(got.mu - sel.mu) <= 1e-12 * Math.abs(sel.mu), `mu, n ${n}: ${got.mu} vs ${sel.mu}`);
    assert.ok(Math.abs(got.sigma - sel.sigma) <= 1e-9 * Math.max(1e-12, sel.sigma), `sigma, n ${n}: ${got.sigma} vs ${sel.sigma}`);
  }
});

test('a window slid minute by minute (with gaps, trims and jumps) holds exactly the values of its range, sorted', () => {
  const r = rng(9);
  const t: number[] = [];
  const x: number[] = [];
  const STEP = 10_000;
  let keptFrom = -Infinity;
  let w: SortedWindow | null = null;
  let skipUntil = 0;
  for (let now = 0; now < 6 * 3600_000; now += STEP) {
    if (!(now > 3600_000 && now < 3600_000 + 8 * 60_000) && r() > 0.05) {
      t.push(now);
      // As the engine holds them: float32 (a window keeps its values as float32).
      x.push(Math.fround(4.6 + 0.25 * (r() - 0.5)));
    }
    if (now % 60_000 !== 0) continue;
    // Trim like the engine: everything older than the window's reach, in chunks.
    const keep = now - 130 * 60_000;
    let drop = 0;
    while (drop < t.length && t[drop]! < keep) drop++;
    if (drop > 64) {
      t.splice(0, drop);
      x.splice(0, drop);
      keptFrom = keep;
    }
    // Usually a one-minute slide; sometimes a few minutes, sometimes more than the window's
    // length (the engine skips recomputations while a series is silent).
    if (r() < 0.2) continue;
    if (r() < 0.01) skipUntil = now + 70 * 60_000;
    if (now < skipUntil) continue;
    const to = now - 10 * 60_000;
    const from = to - 60 * 60_000;
    w = slideWindow(w, t, x, from, to, keptFrom);
    const expected = x.filter((_, i) => t[i]! >= from && t[i]! < to).sort((a, b) => a - b);
    assert.deepEqual(Array.from(w.values.subarray(0, w.n)), expected, `window at ${now / 60_000} min`);
    if (w.n > 0) {
      const st = windowStats(w);
      const ref = robustLocationScale(Float64Array.from(expected));
      assert.ok(Math.abs(st.mu - ref.mu) <= 1e-12 && Math.abs(st.sigma - ref.sigma) <= 1e-9);
    }
  }
});

test('two windows sliding in turn (one merge buffer between them), ties and slides of every size: exact contents, identical statistics', () => {
  const r = rng(21);
  const t: number[] = [];
  const x: number[] = [];
  const STEP = 10_000;
  // Coarse values: many ties, so a value that leaves often equals one that stays or arrives.
  for (let now = 0; now < 5 * 3600_000; now += STEP) {
    if (r() > 0.03) {
      t.push(now);
      x.push(Math.fround(Math.round((4.6 + 0.25 * (r() + r() - 1)) * 20) / 20));
    }
  }
  let base: SortedWindow | null = null;
  let older: SortedWindow | null = null;
  let to = 130 * 60_000;
  let merges = 0;
  while (to < 5 * 3600_000) {
    // 10 s to 4 min at a time: fewer than MERGE_FROM values in and out (insert/remove), and more (merge).
    to += STEP * (1 + Math.floor(r() * 24));
    for (const [which, lag] of [['base', 0], ['older', 70 * 60_000]] as const) {
      const wTo = to - lag;
      const wFrom = wTo - 60 * 60_000;
      const before = which === 'base' ? base : older;
      const moved = before ? t.filter((v) => (v >= before.fromMs && v < wFrom) || (v >= before.toMs && v < wTo)).length : 0;
      if (moved >= 4) merges++;
      const w = slideWindow(before, t, x, wFrom, wTo, -Infinity);
      if (which === 'base') base = w;
      else older = w;
      const expected = Float64Array.from(x.filter((_, i) => t[i]! >= wFrom && t[i]! < wTo)).sort();
      assert.deepEqual(Array.from(w.values.subarray(0, w.n)), Array.from(expected), `${which} window to ${wTo / 60_000} min`);
      assert.deepEqual(windowStats(w), robustFromSorted(expected, expected.length));
    }
  }
  assert.ok(merges > 50, `the merge path ran (${merges})`);
});

test('values that are not float32 (a caller holding float64) are held rounded to float32, and slides in and out of them still match', () => {
  const r = rng(33);
  const t: number[] = [];
  const x: number[] = [];
  for (let now = 0; now < 4 * 3600_000; now += 10_000) {
    t.push(now);
    x.push(4.6 + 0.25 * (r() - 0.5)); // a double: Math.fround changes nearly every one
  }
  let w: SortedWindow | null = null;
  let to = 70 * 60_000;
  let slides = 0;
  while (to < 4 * 3600_000) {
    // A bucket or two (insert/remove) and a few minutes (merge).
    to += 10_000 * (r() < 0.5 ? 1 + Math.floor(r() * 2) : 6 + Math.floor(r() * 18));
    const from = to - 60 * 60_000;
    w = slideWindow(w, t, x, from, to, -Infinity);
    slides++;
    const expected = Float32Array.from(x.filter((_, i) => t[i]! >= from && t[i]! < to)).sort();
    assert.deepEqual(Array.from(w.values.subarray(0, w.n)), Array.from(expected), `window to ${to / 60_000} min`);
  }
  assert.ok(slides > 100);
});
