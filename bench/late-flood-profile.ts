/**
 * What re-deriving the series of N POPs costs against a full re-derive (late data of many POPs:
 * a region's agents replaying after a partition, a client sending old timestamps), on a DuckDB
 * file of `SERIES` series (default 2,115: 423 POPs x 5 functions), alternating (ROUNDS, default 3):
 *   - full: a fresh engine reads and replays the whole re-derive span (what the service does for
 *     'all');
 *   - N POPs in one sub-engine: their span read with `pops` in the service's 15-minute slices
 *     (the next read while the engine replays this one), replayed, and put into a warm engine
 *     with replaceSeries, 64 POPs at a time with a turn between (COPY_ALL=1: all in one block);
 *   - N POPs in groups of GROUP (default 64): the same, one sub-engine per group.
 * Wall time, CPU of every thread and the longest event-loop stall of each; and what a
 * `data_landed` naming N codes weighs as JSON (what the Redis bus carries).
 *
 *   npx tsx bench/late-flood-profile.ts          (NS=64,128,256,423 ROUNDS=3 GROUP=64 SERIES=2115)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POPS } from '@edgeworker/pops';
import { writeBenchHistory } from './detector-history.ts';
import { loadConfig } from '../apps/server/src/config.ts';
import { createDetectorEngine, detectorSettings, rederiveSpanMs, type DetectorEngine } from '../apps/server/src/detector/engine.ts';
import { createDuckDbMetricsStore } from '../apps/server/src/stores/duckdb/duckdb-metrics-store.ts';
import type { MetricsStore } from '../apps/server/src/stores/metrics-store.ts';
import { percentile } from './lib.ts';

const SERIES = Number(process.env.SERIES ?? 2115);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const GROUP = Number(process.env.GROUP ?? 64);
const NS = (process.env.NS ?? '64,128,256,423').split(',').map(Number);
const STEP = 10_000;
const SLICE = 15 * 60_000;
const ms = (t: number) => BigInt(t) * 1_000_000n;
const settings = detectorSettings(loadConfig({}).detector);
const span = rederiveSpanMs(settings);

/** Time spent waiting on reads (the replay's own time is the rest), and in replaceSeries, per way run. */
let waitedMs = 0;
const replaceMs: Array<[number, number]> = [];

/** A detector-service replay (slices, the next read in flight, a turn every 25 ms). */
async function replay(store: MetricsStore, target: DetectorEngine, endMs: number, pops?: string[]) {
  const slices: Array<[number, number]> = [];
  for (let from = target.readFrom(endMs); from < endMs; from += SLICE) slices.push([from, Math.min(endMs, from + SLICE)]);
  const read = ([from, to]: [number, number]) => store.seriesBucketColumns!({ fromNs: ms(from), toNs: ms(to) }, STEP, pops ? { pops } : undefined);
  let next = read(slices[0]!);
  for (let i = 0; i < slices.length; i++) {
    const w = performance.now();
    const got = await next;
    waitedMs += performance.now() - w;
    if (i + 1 < slices.length) next = read(slices[i + 1]!);
    const steps = target.ingestColumnsStepwise(got, slices[i]![1]);
    let since = performance.now();
    while (!steps.next().done) {
      if (performance.now() - since < 25) continue;
      await new Promise((r) => setImmediate(r));
      since = performance.now();
    }
  }
}

async function timed(fn: () => Promise<void>) {
  const stall = monitorEventLoopDelay({ resolution: 5 });
  stall.enable();
  const c = process.cpuUsage();
  const t = performance.now();
  await fn();
  const wall = performance.now() - t;
  const u = process.cpuUsage(c);
  stall.disable();
  return { wall, cpu: (u.user + u.system) / 1000, stall: stall.max / 1e6 };
}

const dir = mkdtempSync(join(tmpdir(), 'late-flood-profile-'));
try {
  const t0 = Math.floor(Date.now() / 60_000) * 60_000;
  const store = await createDuckDbMetricsStore({ path: join(dir, 'metrics.duckdb'), now: () => t0 });
  await writeBenchHistory(store, SERIES, t0 - span - 60_000, t0, STEP);
  const endMs = t0;
  const allPops = Array.from({ length: Math.ceil(SERIES / 5) }, (_, i) => `B${String(i).padStart(5, '0')}`);
  // Spread over the catalogue (every k-th POP), as a region's POPs would be in a time-ordered table.
  const popsOf = (n: number) => allPops.filter((_, i) => i % Math.max(1, Math.floor(allPops.length / n)) === 0).slice(0, n);
  const warm = createDetectorEngine(settings);
  await replay(store, warm, endMs);
  const ways: Array<{ name: string; run: () => Promise<void> }> = [
    { name: 'full', run: async () => replay(store, createDetectorEngine(settings), endMs) },
  ];
  for (const n of NS) {
    const pops = popsOf(n);
    ways.push({ name: `${n} one`, run: async () => {
      const sub = createDetectorEngine(settings);
      await replay(store, sub, endMs, pops);
      // Copied in as the service does: 64 POPs at a time, a turn for the event loop between (COPY_ALL=1: one block).
      const t = performance.now();
      const state = sub.exportState()!;
      const group = process.env.COPY_ALL ? pops.length : 64;
      for (let g = 0; g < pops.length; g += group) {
        if (g > 0) await new Promise((r) => setImmediate(r));
        warm.replaceSeries(state, new Set(pops.slice(g, g + group)));
      }
      replaceMs.push([n, performance.now() - t]);
    } });
    if (n > GROUP) ways.push({ name: `${n} groups of ${GROUP}`, run: async () => {
      for (let g = 0; g < pops.length; g += GROUP) {
        const group = pops.slice(g, g + GROUP);
        const sub = createDetectorEngine(settings);
        await replay(store, sub, endMs, group);
        warm.replaceSeries(sub.exportState()!, new Set(group));
      }
    } });
  }
  const out = new Map(ways.map((w) => [w.name, { wall: [] as number[], cpu: [] as number[], stall: [] as number[] }]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const w of ways) {
      waitedMs = 0;
      const t = await timed(w.run);
      if (r === 0) console.log(`${w.name}: waited on reads ${waitedMs.toFixed(0)} ms of ${t.wall.toFixed(0)}${replaceMs.length ? `, replaceSeries ${replaceMs.at(-1)![1].toFixed(0)} ms` : ''}`);
      const o = out.get(w.name)!;
      o.wall.push(t.wall);
      o.cpu.push(t.cpu);
      o.stall.push(t.stall);
    }
  }
  await store.close();
  const fmt = (xs: number[]) => `${percentile(xs, 0.5).toFixed(0)} [${xs.map((x) => x.toFixed(0)).join(' ')}]`;
  const full = out.get('full')!;
  console.log(`${SERIES} series, ${allPops.length} POPs, ${ROUNDS} rounds alternating; medians [each round], ms`);
  console.log('way | wall | ratio to full | CPU | longest stall');
  for (const [name, o] of out) console.log(`${name} | ${fmt(o.wall)} | ${(percentile(o.wall, 0.5) / percentile(full.wall, 0.5)).toFixed(2)} | ${fmt(o.cpu)} | ${fmt(o.stall)}`);
  // The event on the bus: real catalogue codes (3 letters) and the bench's (6).
  const codes = POPS.map((p) => p.code);
  for (const n of [64, 128, 256, 512]) {
    const ev = (cs: string[]) => Buffer.byteLength(JSON.stringify({ type: 'data_landed', points: 123456, latestMs: t0, earliestMs: t0 - 3_600_000, pops: cs }));
    const real = Array.from({ length: n }, (_, i) => codes[i % codes.length]! + (i >= codes.length ? String(i) : ''));
    console.log(`data_landed naming ${n} POPs: ${ev(real)} bytes (3-letter codes), ${ev(Array.from({ length: n }, (_, i) => `B${String(i).padStart(5, '0')}`))} bytes (6-char codes)`);
  }
  console.log(`loadavg ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
