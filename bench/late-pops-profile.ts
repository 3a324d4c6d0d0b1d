/**
 * What a POP filter costs the detector's raw read on DuckDB (late data of a few POPs re-derives
 * only their series: seriesBucketColumns with `pops`). On a file of `SERIES` series (default
 * 2,115) over the re-derive span: DuckDB's profile of one 15-minute slice unfiltered, for 1 POP
 * and for 64 POPs; then the whole span in the service's slices, unfiltered against 1 POP,
 * alternating (ROUNDS, default 3); and the detector's pass after late data from 1 POP, with the
 * time inside the store's reads.
 *
 *   npx tsx bench/late-pops-profile.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { printTopOperators } from './duckdb-profile.ts';
import { writeBenchHistory } from './detector-history.ts';
import { loadConfig } from '../apps/server/src/config.ts';
import { detectorSettings, rederiveSpanMs } from '../apps/server/src/detector/engine.ts';
import { createDuckDbMetricsStore } from '../apps/server/src/stores/duckdb/duckdb-metrics-store.ts';
import { seriesBucketsSql } from '../apps/server/src/stores/duckdb/series-buckets.ts';
import { percentile } from './lib.ts';
import { pino } from 'pino';
import { createAlertService } from '../apps/server/src/alerts/alert-service.ts';
import { createSingleLeadership } from '../apps/server/src/cluster/leadership.ts';
import { createDetectorService } from '../apps/server/src/detector/detector-service.ts';
import { createLocalBus } from '../apps/server/src/events.ts';
import { wrapMetricsStore } from '../apps/server/src/stores/metrics-store.ts';
import { createEmbeddedAlertStore } from '../apps/server/src/stores/embedded/embedded-alert-store.ts';

const SERIES = Number(process.env.SERIES ?? 2115);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const STEP = 10_000;
const SLICE = 15 * 60_000;
const ms = (t: number) => BigInt(t) * 1_000_000n;
const settings = detectorSettings(loadConfig({}).detector);
const span = rederiveSpanMs(settings);
const dir = mkdtempSync(join(tmpdir(), 'late-pops-profile-'));
const path = join(dir, 'metrics.duckdb');
try {
  const t0 = Math.floor(Date.now() / 60_000) * 60_000;
  let store = await createDuckDbMetricsStore({ path, now: () => t0 });
  await writeBenchHistory(store, SERIES, t0 - span - 60_000, t0, STEP);
  await store.close();
  const endMs = t0;
  const one = ['B00101'];
  const many = Array.from({ length: 64 }, (_, i) => `B${String(i * 5).padStart(5, '0')}`);
  const inst = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  const c = await inst.connect();
  const range = { fromNs: ms(endMs - SLICE), toNs: ms(endMs) };
  await printTopOperators(c, `one 15-min slice, every series (${SERIES})`, seriesBucketsSql(range, STEP), undefined, 6);
  await printTopOperators(c, 'one 15-min slice, 1 POP', seriesBucketsSql(range, STEP, one), undefined, 6);
  await printTopOperators(c, 'one 15-min slice, 64 POPs', seriesBucketsSql(range, STEP, many), undefined, 6);
  c.closeSync();
  inst.closeSync();

  // The whole span as the service reads it (its slices, through the store's read queue and chunk decoding).
  store = await createDuckDbMetricsStore({ path, now: () => t0 });
  const slices: Array<[number, number]> = [];
  for (let from = endMs - span; from < endMs; from += SLICE) slices.push([from, Math.min(endMs, from + SLICE)]);
  const out: Record<string, number[]> = { all: [], one: [], many: [], oneWhole: [] };
  for (let r = 0; r < ROUNDS; r++) {
    // 1 POP in one statement over the whole span (no slices).
    const w = performance.now();
    await store.seriesBucketColumns({ fromNs: ms(endMs - span), toNs: ms(endMs) }, STEP, { pops: one });
    out.oneWhole!.push(performance.now() - w);
    for (const [way, pops] of [['all', undefined], ['one', one], ['many', many]] as const) {
      const s = performance.now();
      let buckets = 0;
      for (const [from, to] of slices) buckets += (await store.seriesBucketColumns({ fromNs: ms(from), toNs: ms(to) }, STEP, pops ? { pops } : undefined)).startMs.length;
      out[way]!.push(performance.now() - s);
      if (r === 0) console.log(`${way}: ${buckets} buckets`);
    }
  }
  // The pass after late data from one POP, ROUNDS times: its wall time, and of it the time inside
  // the store's reads (call to answer, the main engine's 10 s and the POP's slices).
  const passes: number[] = [];
  const reading: number[] = [];
  let inRead = 0;
  const timedStore = wrapMetricsStore(store, (_call, fn) => async (...args) => {
    const s = performance.now();
    try {
      return await fn(...args);
    } finally {
      inRead += performance.now() - s;
    }
  });
  const alertStore = await createEmbeddedAlertStore({ path: ':memory:' });
  const log = pino({ level: 'silent' });
  const alerts = createAlertService({ store: alertStore, bus: createLocalBus(), notifier: { channels: [], notify: async () => [], close: async () => {} }, now: () => t0, log });
  for (let r = 0; r < ROUNDS; r++) {
    const bus = createLocalBus();
    let offset = -10_000;
    const detector = createDetectorService({ store: timedStore, alerts, leadership: createSingleLeadership('p'), settings, bus, now: () => t0 + 2500 + offset, log });
    await detector.runPass();
    offset = 0;
    bus.publish({ type: 'data_landed', points: 1, earliestMs: t0 - 30 * 60_000, latestMs: t0 - 20 * 60_000, pops: one });
    inRead = 0;
    const s = performance.now();
    const pass = await detector.runPass();
    passes.push(performance.now() - s);
    reading.push(inRead);
    if (JSON.stringify(pass.rederived) !== JSON.stringify({ pops: one })) throw new Error(`re-derived ${JSON.stringify(pass.rederived)}`);
  }
  await alerts.close(1000);
  await alertStore.close();
  await store.close();
  console.log(`pass after late data from 1 POP: [${passes.map((x) => x.toFixed(0))}] ms, of it in the store's reads [${reading.map((x) => x.toFixed(0))}] ms`);
  const med = (xs: number[]) => percentile(xs, 0.5).toFixed(0);
  console.log(`span read (${slices.length} slices), median of ${ROUNDS}, alternating: every series ${med(out.all!)} ms [${out.all!.map((x) => x.toFixed(0))}], 1 POP ${med(out.one!)} ms [${out.one!.map((x) => x.toFixed(0))}], 64 POPs ${med(out.many!)} ms [${out.many!.map((x) => x.toFixed(0))}]; 1 POP in one statement ${med(out.oneWhole!)} ms [${out.oneWhole!.map((x) => x.toFixed(0))}]`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
