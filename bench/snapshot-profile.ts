/**
 * Profiling aid for the detector's first pass from an engine snapshot (engine-snapshot.ts): on
 * a real DuckDB file of SERIES series (built, or reused), a cold first pass a minute before the
 * end, the snapshot saved, then ROUNDS times: the file taken, a new service, its first pass
 * (import + a minute caught up + evaluate), each part timed. Run under `node --cpu-prof`.
 *   FILE=/tmp/snapshot-prof/m10000.duckdb SERIES=10000 node --import tsx bench/snapshot-profile.ts
 * DOWN_MIN=45: the restore comes that long after the save (the file holds the gap's samples; with
 * EMPTY_GAP=1 it does not, as on embedded DuckDB, where nothing writes while the server is down).
 * WINDOWS=on saves the sorted windows too. PHASE=save (a cold first pass a minute before the end,
 * the snapshot saved, exit), PHASE=restore (the file taken, the first pass), PHASE=cold (a cold
 * first pass alone): one process each, for the peak RSS growth of each (getrusage's maxRSS).
 * PROFILE=out.cpuprofile: a CPU profile of the restored start alone (the take and the first pass
 * of the last round; node:inspector's profiler, so the cold passes before it are not in it).
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { writeBenchHistory } from './detector-history.ts';
import { createAlertService } from '../apps/server/src/alerts/alert-service.ts';
import { createSingleLeadership } from '../apps/server/src/cluster/leadership.ts';
import { loadConfig } from '../apps/server/src/config.ts';
import { createDetectorService } from '../apps/server/src/detector/detector-service.ts';
import { takeEngineSnapshot, writeEngineSnapshot } from '../apps/server/src/detector/engine-snapshot.ts';
import { createDetectorEngine, detectorSettings, rederiveSpanMs } from '../apps/server/src/detector/engine.ts';
import { createLocalBus } from '../apps/server/src/events.ts';
import { createDuckDbMetricsStore } from '../apps/server/src/stores/duckdb/duckdb-metrics-store.ts';
import { createEmbeddedAlertStore } from '../apps/server/src/stores/embedded/embedded-alert-store.ts';

const STEP = 10_000;
const n = Number(process.env.SERIES ?? 2115);
const rounds = Number(process.env.ROUNDS ?? 3);
const file = process.env.FILE ?? `/tmp/snapshot-prof/m${n}.duckdb`;
const t0 = Number(process.env.T0 ?? 1_764_000_000_000);
const settings = detectorSettings(loadConfig({}).detector);
const span = rederiveSpanMs(settings);
/**
 * RUN_MIN: how long the saving engine runs (passes a minute apart) after its cold pass before it
 * saves (default 1: the snapshot of an engine just re-derived, whose record of window statistics
 * covers 30 min; after 120 its record covers the halfway and older windows). The file needs that
 * much more history: a new FILE.
 */
const runMs = Number(process.env.RUN_MIN ?? 1) * 60_000;
/** DOWN_MIN: how long the saving engine is down before the restore (default 1; the store holds every minute of the gap, as InfluxDB written by others would). */
const downMs = Number(process.env.DOWN_MIN ?? 1) * 60_000;
mkdirSync(dirname(file), { recursive: true });
const fresh = !existsSync(file);
const store = await createDuckDbMetricsStore({ path: file, now: () => t0 });
if (fresh) {
  await writeBenchHistory(store, n, t0 - span - runMs - downMs, process.env.EMPTY_GAP === '1' ? t0 - downMs : t0, STEP);
}
const alertStore = await createEmbeddedAlertStore({ path: ':memory:' });
const log = pino({ level: 'silent' });
const alerts = createAlertService({ store: alertStore, bus: createLocalBus(), notifier: { channels: [], notify: async () => [], close: async () => {} }, now: () => t0, log });
const path = join(dirname(file), 'detector-snapshot.bin');
const now = () => t0 + 2_500;
const windows = process.env.WINDOWS === 'on';
const mib = (b: number) => Math.round(b / 1024 / 1024);
const phase = process.env.PHASE;
if (phase) {
  const rss0 = process.memoryUsage().rss;
  const t = performance.now();
  if (phase === 'save') {
    const engine = createDetectorEngine(settings);
    await createDetectorService({ store, alerts, leadership: createSingleLeadership('p'), settings, now: () => now() - 60_000, log, engine }).runPass();
    await writeEngineSnapshot(path, engine.exportState()!, settings, now(), undefined, { windows });
  } else {
    const taken = phase === 'restore' ? await takeEngineSnapshot(path, settings) : null;
    if (phase === 'restore' && !taken?.ok) throw new Error('no snapshot');
    await createDetectorService({ store, alerts, leadership: createSingleLeadership('p'), settings, now, log, ...(taken ? { snapshot: { path, taken } } : {}) }).runPass();
  }
  // maxRSS is in KiB: the peak of the process, minus its RSS before the phase.
  console.log(JSON.stringify({ phase, windows, ms: Math.round(performance.now() - t), peakRssGrowthMiB: mib(process.resourceUsage().maxRSS * 1024 - rss0) }));
  process.exit(0);
}
for (let r = 0; r < rounds; r++) {
  const engine = createDetectorEngine(settings);
  const clock = { at: now() - runMs };
  const before = createDetectorService({ store, alerts, leadership: createSingleLeadership('p'), settings, now: () => clock.at, log, engine });
  let t = performance.now();
  await before.runPass();
  const cold = performance.now() - t;
  for (clock.at += 60_000; clock.at <= now() - downMs; clock.at += 60_000) await before.runPass();
  t = performance.now();
  const bytes = (await writeEngineSnapshot(path, engine.exportState()!, settings, now(), undefined, { windows }))?.bytes;
  const saved = { ms: Math.round(performance.now() - t), bytes };
  const profile = process.env.PROFILE && r === rounds - 1 ? new Session() : null;
  if (profile) {
    profile.connect();
    await profile.post('Profiler.enable');
    await profile.post('Profiler.start');
  }
  t = performance.now();
  const taken = await takeEngineSnapshot(path, settings);
  const take = performance.now() - t;
  const detector = createDetectorService({ store, alerts, leadership: createSingleLeadership('p'), settings, now, log, snapshot: { path, taken } });
  t = performance.now();
  await detector.runPass();
  const first = performance.now() - t;
  if (profile) {
    const { profile: out } = await profile.post('Profiler.stop');
    writeFileSync(process.env.PROFILE!, JSON.stringify(out));
    profile.disconnect();
  }
  t = performance.now();
  await detector.runPass();
  const steady = performance.now() - t;
  // The anchor: a cold first pass at the same end.
  t = performance.now();
  await createDetectorService({ store, alerts, leadership: createSingleLeadership('p'), settings, now, log }).runPass();
  const coldNow = performance.now() - t;
  console.log(JSON.stringify({ series: n, coldMs: Math.round(cold), coldAtEndMs: Math.round(coldNow), writeMs: saved?.ms, bytes: saved?.bytes, takeMs: Math.round(take), firstFromSnapshotMs: Math.round(first), nextPassMs: Math.round(steady) }));
}
await alerts.close(1000);
await alertStore.close();
await store.close();
