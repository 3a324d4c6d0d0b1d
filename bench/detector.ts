/**
 * Detector pass cost on a real DuckDB file: 2,115 series (the built-in generator's 423 POPs x
 * 5 functions) and 10,000 series, one sample per series every 10 s over the history span;
 * and the first pass on a real influxd (2,115 series), when `influxd` is installed.
 *
 * Rows per size:
 *   - first pass: a fresh engine (start-up, a new leader) reads the whole span plus the replay
 *     window (220 min by default) and steps the CUSUMs over that window (the newest 30 min)
 *     (median of 3), anchored on the same pass as it ran before issue 13's read work (the
 *     row-object statement in the service's slices, then engine.ingest of the row objects),
 *     reconstructed on the same file after the store closed;
 *   - its two parts: the store's read (seriesBucketColumns over the span, in the service's
 *     slices) against the row-object statement, and the engine's replay (ingestColumns)
 *     against engine.ingest of the same buckets as row objects (interleaved);
 *   - steady pass: the pass every 10 s after that, reading the 10 s that closed since (median of 6);
 *   - the first pass with this engine against main's frozen one (bench/detector-main-engine), the
 *     same service on the same store, alternating (3 each): wall, CPU, the longest event-loop
 *     stall during it; and, each in a child process of its own (bench/first-pass-profile.ts, 2
 *     each, alternating), the growth of peak RSS during the first pass.
 *   - the first pass after a restart from the engine snapshot (engine-snapshot.ts: the file
 *     taken and decoded, the state imported, a minute of buckets caught up) against the cold
 *     first pass on the same file at the same end, alternating (3 each); the snapshot's write
 *     at shutdown (fsync'd) and its size. BENCH_DETECTOR_ONLY=snapshot runs these rows alone.
 *   - the first pass of a new leader after a failover (the leader gone, a follower takes the
 *     lock), warm standby against cold on the same file at the same end, alternating (3 each),
 *     and a warm follower's steady pass. BENCH_DETECTOR_ONLY=failover runs these rows alone
 *     (DuckDB and InfluxDB).
 *   - beside the rows against main's engine: the time after the pass's last read (the replay's
 *     tail, on the JS thread alone), and the replay alone on the same slices read once (CPU, and
 *     of it the last slice), alternating; BENCH_DETECTOR_ONLY=engine runs these rows alone
 *     (on DuckDB, and on influxd for BENCH_DETECTOR_INFLUX_SERIES), BENCH_DETECTOR_ROUNDS (3)
 *     rounds of each engine.
 *   - the pass after late data from one POP (re-deriving that POP's series only) against the same
 *     pass re-deriving every series (an announcement without a POP list: every late batch before),
 *     and a steady pass, alternating; BENCH_DETECTOR_ONLY=late runs these rows alone (DuckDB and InfluxDB).
 *   - the detector's CPU per minute under a sustained late flood (200 POPs' samples of 30 min back
 *     every 10 s for 10 simulated minutes), main's service against today's, alternating;
 *     BENCH_DETECTOR_ONLY=flood runs these rows alone (DuckDB only).
 *   - the first pass with its re-derive shared with a worker thread (DETECTOR_REDERIVE_WORKER=on,
 *     the worker as built for the server) against the JS thread alone, alternating
 *     (BENCH_DETECTOR_ROUNDS each): wall, the JS thread's CPU, every thread's, the longest
 *     event-loop stall. BENCH_DETECTOR_ONLY=worker runs these rows alone (DuckDB only).
 *   - the early look between passes (DETECTOR_EARLY: a read of the bucket still filling, 2.5 s into
 *     it, and engine.peek), beside the steady pass it runs between (median of 6 each);
 *     BENCH_DETECTOR_ONLY=look runs these two rows alone (DuckDB only).
 * Goals (issue 13): one pass over 2,115 series <= 1 s, over 10,000 <= 5 s.
 */
import { spawnSync } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { mainEngine } from './detector-main-engine/adapter.ts';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { takeEngineSnapshot } from '../apps/server/src/detector/engine-snapshot.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { pino } from 'pino';
import type { ColdStartSample } from '@edgeworker/schema';
import { createAlertService } from '../apps/server/src/alerts/alert-service.ts';
import { createSingleLeadership } from '../apps/server/src/cluster/leadership.ts';
import { loadConfig } from '../apps/server/src/config.ts';
import { createDetectorService } from '../apps/server/src/detector/detector-service.ts';
import { createDetectorService as createMainDetectorService } from './detector-main-service.ts';
import { createDetectorEngine, detectorSettings, rederiveSpanMs, type DetectorSettings } from '../apps/server/src/detector/engine.ts';
import { createLocalBus } from '../apps/server/src/events.ts';
import { createDuckDbMetricsStore } from '../apps/server/src/stores/duckdb/duckdb-metrics-store.ts';
import { createEmbeddedAlertStore } from '../apps/server/src/stores/embedded/embedded-alert-store.ts';
import { createInfluxClient } from '../apps/server/src/stores/influxdb/influx-client.ts';
import { createInfluxDbMetricsStore } from '../apps/server/src/stores/influxdb/influxdb-metrics-store.ts';
import { q } from '../apps/server/src/stores/influxdb/influxql.ts';
import { wrapMetricsStore, type MetricsStore, type SeriesBucket, type SeriesBucketColumns, type TimeRange } from '../apps/server/src/stores/metrics-store.ts';
import { startInfluxd } from '../apps/server/src/testing/influxd.ts';
import { readSeriesBucketColumns } from '../apps/server/src/stores/duckdb/series-buckets.ts';
import { mainReadSeriesBucketColumns } from './detector-main-read.ts';
import { jsThreadCpuMs, percentile, runAlone, type BenchRow } from './lib.ts';
import { benchHistory } from './detector-history.ts';

const STEP = 10_000;
/** The service's re-derive slice (detector-service.ts READ_SLICE_MS). */
const SLICE = 15 * 60_000;
const ms = (t: number) => BigInt(t) * 1_000_000n;
const median = (xs: number[]) => percentile(xs, 0.5);
/** CPU of every thread of this process (DuckDB's included): less moved by a busy machine than wall time. */
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

/**
 * One timed run of `fn` (a detector pass, with what must happen in it): its wall time, the CPU of
 * every thread, and the longest event-loop stall while it ran; `endAt` is when it ended
 * (performance.now()), and `fn` gets when it began.
 */
async function timed<T>(fn: (startedAt: number) => Promise<T>): Promise<{ value: T; wall: number; cpu: number; stall: number; endAt: number }> {
  const stall = monitorEventLoopDelay({ resolution: 5 });
  stall.enable();
  const c = process.cpuUsage();
  const t = performance.now();
  const value = await fn(t);
  const endAt = performance.now();
  const cpu = cpuMs(process.cpuUsage(c));
  stall.disable();
  return { value, wall: endAt - t, cpu, stall: stall.max / 1e6, endAt };
}

/** The slices a fresh engine reads for a pass ending at endMs. */
function slices(settings: DetectorSettings, endMs: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let from = endMs - rederiveSpanMs(settings); from < endMs; from += SLICE) out.push([from, Math.min(endMs, from + SLICE)]);
  return out;
}

/** Row objects of columns (what engine.ingest takes). */
function objectsOf(c: SeriesBucketColumns): SeriesBucket[] {
  return Array.from({ length: c.startMs.length }, (_, i) => ({
    popCode: c.pops[c.series[i]!]!, functionName: c.functions[c.series[i]!]!, startMs: c.startMs[i]!, samples: c.samples[i]!, mean: c.mean[i]!, p50: c.p50[i]!,
  }));
}

/**
 * Wall time of the re-derive read through the store, and of the engine's replay of what it
 * read, from columns and (interleaved, same buckets) from row objects (median of 3).
 */
async function parts(store: MetricsStore, settings: DetectorSettings, endMs: number) {
  const read: number[] = [];
  const replay: number[] = [];
  const replayRows: number[] = [];
  for (let r = 0; r < 3; r++) {
    const got: Array<[number, SeriesBucketColumns]> = [];
    const t = performance.now();
    for (const [from, to] of slices(settings, endMs)) got.push([to, await store.seriesBucketColumns!({ fromNs: ms(from), toNs: ms(to) }, settings.stepMs)]);
    read.push(performance.now() - t);
    const rows = got.map(([to, cols]) => [to, objectsOf(cols)] as const);
    const fromColumns = () => {
      const engine = createDetectorEngine(settings);
      engine.readFrom(endMs);
      const e = performance.now();
      for (const [to, cols] of got) engine.ingestColumns(cols, to);
      replay.push(performance.now() - e);
    };
    const fromRows = () => {
      const engine = createDetectorEngine(settings);
      engine.readFrom(endMs);
      const e = performance.now();
      for (const [to, bs] of rows) engine.ingest(bs, to);
      replayRows.push(performance.now() - e);
    };
    if (r % 2 === 0) {
      fromColumns();
      fromRows();
    } else {
      fromRows();
      fromColumns();
    }
  }
  return { read: median(read), replay: median(replay), replayRows: median(replayRows) };
}

/**
 * The first pass with this branch's DuckDB read against main's (the windowed statement,
 * bench/detector-main-read.ts), on one connection to the same file, alternating (3 each), and
 * each read alone over the re-derive's slices: the same service and engine around both.
 */
async function againstMainRead(path: string, settings: DetectorSettings, endMs: number, alerts: ReturnType<typeof createAlertService>) {
  const inst = await DuckDBInstance.create(path);
  const conn = await inst.connect();
  const log = pino({ level: 'silent' });
  const run = (sql: string) => conn.run(sql);
  const storeOf = (read: typeof mainReadSeriesBucketColumns) => ({ kind: 'bench', seriesBucketColumns: (range: TimeRange, stepMs: number) => read(run, range, stepMs) }) as unknown as MetricsStore;
  const ways = { now: storeOf(readSeriesBucketColumns), main: storeOf(mainReadSeriesBucketColumns) };
  const first = { now: [] as number[], main: [] as number[] };
  const cpu = { now: [] as number[], main: [] as number[] };
  const read = { now: [] as number[], main: [] as number[] };
  try {
    for (let r = 0; r < 6; r++) {
      const way = r % 2 === 0 ? 'now' : 'main';
      const detector = createDetectorService({ store: ways[way], alerts, leadership: createSingleLeadership('bench'), settings, now: () => endMs + 2500, log });
      const c = process.cpuUsage();
      const t = performance.now();
      await detector.runPass();
      first[way].push(performance.now() - t);
      cpu[way].push(cpuMs(process.cpuUsage(c)));
      const t1 = performance.now();
      for (const [from, to] of slices(settings, endMs)) await ways[way].seriesBucketColumns!({ fromNs: ms(from), toNs: ms(to) }, settings.stepMs);
      read[way].push(performance.now() - t1);
    }
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
  const m = (o: { now: number[]; main: number[] }) => ({ now: median(o.now), main: median(o.main) });
  return { first: m(first), cpu: m(cpu), read: m(read) };
}

/**
 * The first pass with this engine and with main's (frozen), the same service on the same store,
 * alternating: wall, CPU and the longest event-loop stall (monitorEventLoopDelay) of each.
 */
async function againstMainEngine(store: MetricsStore, settings: DetectorSettings, now: () => number, alerts: ReturnType<typeof createAlertService>) {
  const log = pino({ level: 'silent' });
  const blank = () => ({ wall: [] as number[], cpu: [] as number[], stall: [] as number[], tail: [] as number[] });
  const out = { now: blank(), main: blank() };
  // When the pass's last read came back: what runs after it is the JS thread's alone (DuckDB idle).
  let lastRead = 0;
  const timedStore = Object.create(store, {
    seriesBucketColumns: { value: async (range: TimeRange, stepMs: number) => {
      const got = await store.seriesBucketColumns!(range, stepMs);
      lastRead = performance.now();
      return got;
    } },
  }) as MetricsStore;
  const rounds = Number(process.env.BENCH_DETECTOR_ROUNDS ?? 3);
  for (let r = 0; r < 2 * rounds; r++) {
    const way = r % 2 === 0 ? 'now' : 'main';
    // The engines alone: both on the JS thread (main's cannot share a re-derive with a worker).
    const detector = createDetectorService({ store: timedStore, alerts, leadership: createSingleLeadership('bench'), settings, now, log, rederiveWorker: false, ...(way === 'main' ? { engine: mainEngine(settings) } : {}) });
    const run = await timed(() => detector.runPass());
    out[way].wall.push(run.wall);
    out[way].tail.push(run.endAt - lastRead);
    out[way].cpu.push(run.cpu);
    out[way].stall.push(run.stall);
  }
  const m = (k: 'wall' | 'cpu' | 'stall' | 'tail') => ({ now: median(out.now[k]), main: median(out.main[k]) });
  return { wall: m('wall'), cpu: m('cpu'), stall: m('stall'), tail: m('tail'), all: out };
}

/**
 * The replay alone (engine.ingestColumns of the service's slices, read once from the store), this
 * engine against main's frozen one, alternating: CPU of the whole replay and of its last slice
 * (what runs after the last read), and both engines' evaluations must be equal.
 */
async function replayAgainstMain(store: MetricsStore, settings: DetectorSettings, endMs: number) {
  const got: Array<[number, SeriesBucketColumns]> = [];
  for (const [from, to] of slices(settings, endMs)) got.push([to, await store.seriesBucketColumns!({ fromNs: ms(from), toNs: ms(to) }, settings.stepMs)]);
  const out = { now: { all: [] as number[], last: [] as number[] }, main: { all: [] as number[], last: [] as number[] } };
  const evals = { now: '', main: '' };
  const rounds = Number(process.env.BENCH_DETECTOR_ROUNDS ?? 3);
  for (let r = 0; r < 2 * rounds; r++) {
    const way = r % 2 === 0 ? 'now' : 'main';
    const engine = way === 'now' ? createDetectorEngine(settings) : mainEngine(settings);
    engine.readFrom(endMs);
    const c = process.cpuUsage();
    let beforeLast = c;
    got.forEach(([to, cols], i) => {
      if (i === got.length - 1) beforeLast = process.cpuUsage();
      engine.ingestColumns(cols, to);
    });
    out[way].all.push(cpuMs(process.cpuUsage(c)));
    out[way].last.push(cpuMs(process.cpuUsage(beforeLast)));
    evals[way] = JSON.stringify(engine.evaluate([], endMs));
  }
  if (evals.now !== evals.main) throw new Error("bench: this engine's replay and main's evaluate differently");
  return { all: { now: median(out.now.all), main: median(out.main.all) }, last: { now: median(out.now.last), main: median(out.main.last) } };
}

/**
 * The first pass with the re-derive shared with a worker thread (rederive-split.ts) against the JS
 * thread alone, the same store and end, alternating. The worker is the server's build
 * (apps/server/dist, rebuilt when stale), not the sources under tsx (whose loader starts slower).
 */
async function againstOneThread(store: MetricsStore, settings: DetectorSettings, now: () => number, alerts: ReturnType<typeof createAlertService>) {
  spawnSync(process.execPath, [fileURLToPath(new URL('../scripts/build-server.mjs', import.meta.url))], { stdio: 'inherit' });
  const built = new URL('../apps/server/dist/detector-rederive-worker.mjs', import.meta.url);
  const log = pino({ level: 'silent' });
  const blank = () => ({ wall: [] as number[], cpu: [] as number[], js: [] as number[], stall: [] as number[] });
  const out = { split: blank(), alone: blank() };
  const rounds = Number(process.env.BENCH_DETECTOR_ROUNDS ?? 3);
  for (let r = 0; r < 2 * rounds; r++) {
    const way = r % 2 === 0 ? 'split' : 'alone';
    const rederiveWorker = way === 'split' ? (existsSync(built) ? { url: built } : {}) : false;
    const detector = createDetectorService({ store, alerts, leadership: createSingleLeadership('bench'), settings, now, log, rederiveWorker });
    const js0 = jsThreadCpuMs();
    const run = await timed(() => detector.runPass());
    out[way].js.push(jsThreadCpuMs() - js0);
    out[way].wall.push(run.wall);
    out[way].cpu.push(run.cpu);
    out[way].stall.push(run.stall);
  }
  const m = (k: 'wall' | 'cpu' | 'js' | 'stall') => ({ split: median(out.split[k]), alone: median(out.alone[k]) });
  return { wall: m('wall'), cpu: m('cpu'), js: m('js'), stall: m('stall'), all: out };
}

function oneThreadRows(v: Awaited<ReturnType<typeof againstOneThread>>, label: string, goal: number): BenchRow[] {
  return [
    { name: `first pass, re-derive shared with a worker thread (DETECTOR_REDERIVE_WORKER=on), ${label} series`, value: Math.round(v.wall.split), unit: 'ms', anchor: { name: 'the JS thread alone, alternating', value: Math.round(v.wall.alone) }, ratio: v.wall.split / v.wall.alone, goal: `<= ${goal} ms`, ok: v.wall.split <= goal },
    { name: `  its JS thread's CPU, ${label} series`, value: Math.round(v.js.split), unit: 'ms', anchor: { name: 'the JS thread alone', value: Math.round(v.js.alone) }, ratio: v.js.split / v.js.alone },
    { name: `  its CPU (every thread), ${label} series`, value: Math.round(v.cpu.split), unit: 'ms', anchor: { name: 'the JS thread alone', value: Math.round(v.cpu.alone) }, ratio: v.cpu.split / v.cpu.alone },
    { name: `  longest event-loop stall during it, ${label} series`, value: Math.round(v.stall.split), unit: 'ms', anchor: { name: 'the JS thread alone', value: Math.round(v.stall.alone) }, ratio: v.stall.split / v.stall.alone },
  ];
}

function engineRows(vsEngine: Awaited<ReturnType<typeof againstMainEngine>>, replay: Awaited<ReturnType<typeof replayAgainstMain>>, label: string, goal: number): BenchRow[] {
  return [
    { name: `first pass, this engine against main's (same service and store, alternating), ${label} series`, value: Math.round(vsEngine.wall.now), unit: 'ms', anchor: { name: "main's engine", value: Math.round(vsEngine.wall.main) }, ratio: vsEngine.wall.now / vsEngine.wall.main, goal: `<= ${goal} ms`, ok: vsEngine.wall.now <= goal },
    { name: `  its CPU (every thread), ${label} series`, value: Math.round(vsEngine.cpu.now), unit: 'ms', anchor: { name: "main's engine", value: Math.round(vsEngine.cpu.main) }, ratio: vsEngine.cpu.now / vsEngine.cpu.main },
    { name: `  after its last read (the JS thread alone), ${label} series`, value: Math.round(vsEngine.tail.now), unit: 'ms', anchor: { name: "main's engine", value: Math.round(vsEngine.tail.main) }, ratio: vsEngine.tail.now / vsEngine.tail.main },
    { name: `  longest event-loop stall during it, ${label} series`, value: Math.round(vsEngine.stall.now), unit: 'ms', anchor: { name: "main's engine", value: Math.round(vsEngine.stall.main) }, ratio: vsEngine.stall.now / vsEngine.stall.main },
    { name: `  its replay alone (CPU, the service's slices read once, alternating), ${label} series`, value: Math.round(replay.all.now), unit: 'ms', anchor: { name: "main's engine", value: Math.round(replay.all.main) }, ratio: replay.all.now / replay.all.main },
    { name: `  of which its last slice (after the last read), ${label} series`, value: Math.round(replay.last.now), unit: 'ms', anchor: { name: "main's engine", value: Math.round(replay.last.main) }, ratio: replay.last.now / replay.last.main },
  ];
}

/**
 * The first pass of a restarted leader from the snapshot against the cold first pass, same
 * store and end, alternating. Each snapshot round: a service runs its first pass a minute
 * earlier, a steady pass 10 s later (the anchor of the write), and saves (the write at shutdown
 * and every DETECTOR_SNAPSHOT_EVERY: timed, with the longest event-loop stall during it); the
 * restarted one takes the file, and its first pass imports it and reads the minute since (the
 * take is timed with the pass).
 */
async function againstSnapshot(store: MetricsStore, settings: DetectorSettings, now: () => number, alerts: ReturnType<typeof createAlertService>, dir: string) {
  const log = pino({ level: 'silent' });
  const path = join(dir, 'detector-snapshot.bin');
  const out = { snap: { wall: [] as number[], cpu: [] as number[], stall: [] as number[], take: [] as number[] }, cold: { wall: [] as number[], cpu: [] as number[], stall: [] as number[] } };
  const write = { ms: [] as number[], stall: [] as number[], bytes: 0 };
  const steady = { ms: [] as number[], stall: [] as number[] };
  for (let r = 0; r < 6; r++) {
    const way = r % 2 === 0 ? 'snap' : 'cold';
    if (way === 'snap') {
      let clock = now() - 70_000;
      const before = createDetectorService({ store, alerts, leadership: createSingleLeadership('bench'), settings, now: () => clock, log, snapshot: { path, taken: null } });
      await before.runPass();
      clock += 10_000;
      const s1 = monitorEventLoopDelay({ resolution: 5 });
      s1.enable();
      const t1 = performance.now();
      await before.runPass();
      steady.ms.push(performance.now() - t1);
      s1.disable();
      steady.stall.push(s1.max / 1e6);
      const s2 = monitorEventLoopDelay({ resolution: 5 });
      s2.enable();
      const saved = await before.saveSnapshot();
      s2.disable();
      if (!saved) throw new Error('no snapshot written');
      write.ms.push(saved.ms);
      write.stall.push(s2.max / 1e6);
      write.bytes = saved.bytes;
    }
    const run = await timed(async (t) => {
      let snapshot: { path: string; taken: Awaited<ReturnType<typeof takeEngineSnapshot>> } | undefined;
      if (way === 'snap') {
        const taken = await takeEngineSnapshot(path, settings);
        if (!taken?.ok) throw new Error(`snapshot not taken: ${JSON.stringify(taken)}`);
        out.snap.take.push(performance.now() - t);
        snapshot = { path, taken };
      }
      const detector = createDetectorService({ store, alerts, leadership: createSingleLeadership('bench'), settings, now, log, ...(snapshot ? { snapshot } : {}) });
      await detector.runPass();
    });
    out[way].wall.push(run.wall);
    out[way].cpu.push(run.cpu);
    out[way].stall.push(run.stall);
  }
  const m = (k: 'wall' | 'cpu' | 'stall') => ({ snap: median(out.snap[k]), cold: median(out.cold[k]) });
  return { wall: m('wall'), cpu: m('cpu'), stall: m('stall'), take: median(out.snap.take), writeMs: median(write.ms), writeStall: median(write.stall), steadyMs: median(steady.ms), steadyStall: median(steady.stall), bytes: write.bytes };
}

/**
 * The pass after late data from one POP (an agent replaying after an outage: `data_landed` naming
 * it), which re-derives that POP's series only, against the same pass after an announcement
 * without a POP list (the full re-derive every late batch cost before), and a steady pass (no late
 * data) as the floor: same store and end, alternating (ROUNDS each, default 3). Each round: a
 * service's first pass 20 s before the end and a steady one 10 s later, the POP's samples of 20
 * minutes, 30 minutes back, written again (the same values: the cost is the re-derive, not what it
 * finds), announced, and the pass at the end timed (wall, CPU of every thread, longest event-loop stall).
 */
async function againstLate(store: MetricsStore, settings: DetectorSettings, now: () => number, alerts: ReturnType<typeof createAlertService>, seriesCount: number) {
  const log = pino({ level: 'silent' });
  const ways = ['pops', 'all', 'steady'] as const;
  const out = Object.fromEntries(ways.map((w) => [w, { wall: [] as number[], cpu: [] as number[], stall: [] as number[] }])) as Record<(typeof ways)[number], { wall: number[]; cpu: number[]; stall: number[] }>;
  const sampleAt = benchHistory(seriesCount);
  // One POP (BENCH_DETECTOR_LATE_POPS: more, up to LANDED_POPS_MAX, the most a list names).
  const pops = [...new Set(sampleAt(0).map((x) => x.popCode))].slice(0, Number(process.env.BENCH_DETECTOR_LATE_POPS ?? 1));
  const series = sampleAt(0).filter((x) => pops.includes(x.popCode)).length;
  const rounds = Number(process.env.BENCH_DETECTOR_ROUNDS ?? 3);
  for (let r = 0; r < rounds * ways.length; r++) {
    const way = ways[r % ways.length]!;
    const bus = createLocalBus();
    let offset = -20_000;
    const detector = createDetectorService({ store, alerts, leadership: createSingleLeadership('bench'), settings, bus, now: () => now() + offset, log });
    await detector.runPass();
    offset = -10_000;
    await detector.runPass();
    offset = 0;
    const endMs = Math.floor((now() - 2000) / STEP) * STEP;
    if (way !== 'steady') {
      const late: ColdStartSample[] = [];
      for (let t = endMs - 30 * 60_000; t < endMs - 10 * 60_000; t += STEP) late.push(...sampleAt(t).filter((x) => pops.includes(x.popCode)));
      await store.write(late);
      bus.publish({ type: 'data_landed', points: late.length, earliestMs: endMs - 30 * 60_000, latestMs: endMs - 10 * 60_000 - STEP, ...(way === 'pops' ? { pops } : {}) });
    }
    const run = await timed(() => detector.runPass());
    const pass = run.value;
    out[way].wall.push(run.wall);
    out[way].cpu.push(run.cpu);
    out[way].stall.push(run.stall);
    const expected = way === 'pops' ? JSON.stringify({ pops: [...pops].sort() }) : way === 'all' ? '"all"' : undefined;
    if (JSON.stringify(pass.rederived) !== expected) throw new Error(`late-data pass (${way}) re-derived ${JSON.stringify(pass.rederived)}`);
  }
  const m = (k: 'wall' | 'cpu' | 'stall') => Object.fromEntries(ways.map((w) => [w, median(out[w][k])])) as Record<(typeof ways)[number], number>;
  console.error(JSON.stringify({ late: seriesCount, rounds: out }));
  return { wall: m('wall'), cpu: m('cpu'), stall: m('stall'), series, pops: pops.length };
}

function lateRows(v: Awaited<ReturnType<typeof againstLate>>, label: string, goal: number): BenchRow[] {
  return [
    { name: `pass after late data from ${v.pops === 1 ? 'one POP' : `${v.pops} POPs`} (${v.series} series re-derived), ${label} series`, value: Math.round(v.wall.pops), unit: 'ms', anchor: { name: 'the same pass re-deriving every series (before), alternating', value: Math.round(v.wall.all) }, ratio: v.wall.pops / v.wall.all, goal: `<= ${goal} ms`, ok: v.wall.pops <= goal },
    { name: `  its CPU (every thread), ${label} series`, value: Math.round(v.cpu.pops), unit: 'ms', anchor: { name: 'every series re-derived', value: Math.round(v.cpu.all) }, ratio: v.cpu.pops / v.cpu.all },
    { name: `  longest event-loop stall during it, ${label} series`, value: Math.round(v.stall.pops), unit: 'ms', anchor: { name: 'every series re-derived', value: Math.round(v.stall.all) }, ratio: v.stall.pops / Math.max(1, v.stall.all) },
    { name: `  a steady pass in the same rounds (no late data), ${label} series`, value: Math.round(v.wall.steady), unit: 'ms', anchor: { name: 'the pass after late data', value: Math.round(v.wall.pops) }, ratio: v.wall.steady / v.wall.pops },
  ];
}

/**
 * Steady passes while some POPs' agents deliver 50 s late, past the 30 s a steady read reads again
 * (engine.behind: each pass reads those POPs' buckets again from where they stopped,
 * BENCH_DETECTOR_CATCHUP_POPS of them, default 16), against steady passes with every POP on time,
 * same store, alternating (ROUNDS each, default 3). Each round: a new service's first pass (not
 * counted), then 2 minutes of passes every 10 s on a moving clock, the first 30 s not counted (the
 * lag builds up); the lagging POPs' samples are written 50 s after their time. Wall and CPU (every thread) per pass, the longest stall.
 */
async function againstCatchUp(store: MetricsStore, settings: DetectorSettings, clock: { now: number }, alerts: ReturnType<typeof createAlertService>, seriesCount: number) {
  const log = pino({ level: 'silent' });
  const sampleAt = benchHistory(seriesCount);
  const allPops = [...new Set(sampleAt(0).map((x) => x.popCode))];
  const n = Math.min(allPops.length, Number(process.env.BENCH_DETECTOR_CATCHUP_POPS ?? 16));
  const lagging = new Set(allPops.filter((_, i) => i % Math.max(1, Math.floor(allPops.length / n)) === 0).slice(0, n));
  // Later than the steps a steady read reads again (engine MAX_HOLD_STEPS, 30 s): the catch-up reads them.
  const LAG = 50_000;
  const ways = ['lagging', 'ontime'] as const;
  const out = Object.fromEntries(ways.map((w) => [w, { wall: [] as number[], cpu: [] as number[], stall: [] as number[], caughtUp: 0 }])) as Record<(typeof ways)[number], { wall: number[]; cpu: number[]; stall: number[]; caughtUp: number }>;
  const rounds = Number(process.env.BENCH_DETECTOR_ROUNDS ?? 3);
  // Counts the passes that read some POPs again (the catch-up's read names them).
  let named = 0;
  const counted = wrapMetricsStore(store, (name, f) => async (...args) => {
    if (name === 'seriesBucketColumns' && (args[2] as { pops?: unknown } | undefined)?.pops) named++;
    return f(...args);
  });
  for (let r = 0; r < rounds * ways.length; r++) {
    const way = ways[r % ways.length]!;
    const detector = createDetectorService({ store: counted, alerts, leadership: createSingleLeadership('bench'), settings, now: () => clock.now + 2500, log });
    await detector.runPass();
    const held: ColdStartSample[] = [];
    for (let i = 0; i < 12; i++) {
      const now = sampleAt(clock.now);
      if (way === 'lagging') {
        await store.write(now.filter((x) => !lagging.has(x.popCode)));
        held.push(...now.filter((x) => lagging.has(x.popCode)));
        const due = clock.now + STEP - LAG;
        const landed = held.filter((x) => Number(x.timeNs / 1_000_000n) <= due);
        if (landed.length) await store.write(landed);
        held.splice(0, landed.length);
      } else await store.write(now);
      clock.now += STEP;
      named = 0;
      const run = await timed(() => detector.runPass());
      if (i < 3) continue;
      out[way].wall.push(run.wall);
      out[way].cpu.push(run.cpu);
      out[way].stall.push(run.stall);
      out[way].caughtUp += named > 0 ? 1 : 0;
    }
    // The held samples land before the next round, so it starts with every POP on time.
    if (held.length) await store.write(held);
  }
  console.error(JSON.stringify({ catchUp: seriesCount, pops: n, rounds: out }));
  const m = (k: 'wall' | 'cpu' | 'stall') => Object.fromEntries(ways.map((w) => [w, median(out[w][k])])) as Record<(typeof ways)[number], number>;
  if (out.lagging.caughtUp === 0 || out.ontime.caughtUp > 0) throw new Error(`catch-up bench: ${out.lagging.caughtUp} lagging passes caught up, ${out.ontime.caughtUp} on-time ones`);
  return { wall: m('wall'), cpu: m('cpu'), stall: m('stall'), pops: n, passes: out.lagging.wall.length };
}

function catchUpRows(v: Awaited<ReturnType<typeof againstCatchUp>>, label: string): BenchRow[] {
  return [
    { name: `detector steady pass while ${v.pops} POPs' samples land 50 s late (their series read again from where they stopped), ${label} series`, value: Math.round(v.wall.lagging), unit: 'ms', anchor: { name: 'every POP on time, alternating', value: Math.round(v.wall.ontime) }, ratio: v.wall.lagging / v.wall.ontime },
    { name: `  its CPU (every thread), ${label} series`, value: Math.round(v.cpu.lagging), unit: 'ms', anchor: { name: 'every POP on time', value: Math.round(v.cpu.ontime) }, ratio: v.cpu.lagging / v.cpu.ontime },
    { name: `  longest event-loop stall during it, ${label} series`, value: Math.round(v.stall.lagging), unit: 'ms', anchor: { name: 'every POP on time', value: Math.round(v.stall.ontime) }, ratio: v.stall.lagging / Math.max(1, v.stall.ontime) },
  ];
}

/**
 * The detector's CPU under a sustained late flood: every 10 s, BENCH_DETECTOR_FLOOD_POPS (200) POPs'
 * samples of 30 minutes back are written again and announced, beside the live samples of every
 * series, for BENCH_DETECTOR_FLOOD_MIN (10) simulated minutes, a pass every 10 s. Main's service
 * (bench/detector-main-service.ts; main's ingest names no POPs past 64, so each minute a full
 * re-derive) against today's (the list names the 200; re-derived POP by POP, within the budget of
 * late-rederives.ts), same store, alternating (BENCH_DETECTOR_ROUNDS, 2 each). Each round is a new
 * service whose first pass (a fresh engine's re-derive) is not counted; the clock moves on 10
 * minutes a round (the live samples go on being written). BENCH_DETECTOR_ONLY=flood runs these rows alone.
 */
async function againstFlood(store: MetricsStore, settings: DetectorSettings, clock: { now: number }, alerts: ReturnType<typeof createAlertService>, seriesCount: number) {
  const log = pino({ level: 'silent' });
  const sampleAt = benchHistory(seriesCount);
  const allPops = [...new Set(sampleAt(0).map((x) => x.popCode))];
  const n = Math.min(allPops.length, Number(process.env.BENCH_DETECTOR_FLOOD_POPS ?? 200));
  // Spread over the catalogue: a region's POPs are anywhere in a time-ordered table.
  const pops = allPops.filter((_, i) => i % Math.max(1, Math.floor(allPops.length / n)) === 0).slice(0, n);
  const popSet = new Set(pops);
  const minutes = Number(process.env.BENCH_DETECTOR_FLOOD_MIN ?? 10);
  const rounds = Number(process.env.BENCH_DETECTOR_ROUNDS ?? 2);
  const ways = ['before', 'after'] as const;
  type Way = { cpu: number[]; wall: number[]; stall: number[]; all: number[]; pops: number[]; deferred: number[] };
  const out = Object.fromEntries(ways.map((w) => [w, { cpu: [], wall: [], stall: [], all: [], pops: [], deferred: [] }])) as unknown as Record<(typeof ways)[number], Way>;
  for (let r = 0; r < rounds * ways.length; r++) {
    const way = ways[r % ways.length]!;
    const bus = createLocalBus();
    const deps = { store, alerts, leadership: createSingleLeadership('bench'), settings, bus, now: () => clock.now + 2500, log };
    const detector = way === 'before' ? createMainDetectorService(deps) : createDetectorService(deps);
    await detector.runPass();
    const round = { cpu: 0, wall: 0, stall: 0, all: 0, pops: 0, deferred: 0 };
    for (let i = 0; i < minutes * 6; i++) {
      await store.write(sampleAt(clock.now));
      const lateMs = clock.now - 30 * 60_000;
      const late = sampleAt(lateMs).filter((x) => popSet.has(x.popCode));
      await store.write(late);
      clock.now += STEP;
      bus.publish({ type: 'data_landed', points: late.length, earliestMs: lateMs, latestMs: lateMs, ...(way === 'after' ? { pops } : {}) });
      const run = await timed(() => detector.runPass());
      round.cpu += run.cpu;
      round.wall += run.wall;
      round.stall = Math.max(round.stall, run.stall);
      const rd = run.value.rederived;
      if (rd === 'all') round.all++;
      else if (rd) round.pops++;
      if ('rederiveDeferred' in run.value && run.value.rederiveDeferred) round.deferred++;
    }
    for (const k of Object.keys(round) as Array<keyof typeof round>) out[way][k].push(k === 'cpu' || k === 'wall' ? round[k] / minutes : round[k]);
  }
  console.error(JSON.stringify({ flood: seriesCount, pops: n, minutes, rounds: out }));
  const m = (w: (typeof ways)[number], k: keyof Way) => median(out[w][k]);
  return { n, minutes, series: seriesCount, m };
}

function floodRows(v: Awaited<ReturnType<typeof againstFlood>>, label: string): BenchRow[] {
  const { m, n, minutes } = v;
  return [
    { name: `detector CPU per minute (every thread, its passes) under a late flood, ${n} POPs late every 10 s for ${minutes} min, ${label} series`, value: Math.round(m('after', 'cpu')), unit: 'ms/min', anchor: { name: "main's service (a full re-derive each minute), alternating", value: Math.round(m('before', 'cpu')) }, ratio: m('after', 'cpu') / m('before', 'cpu') },
    { name: `  its passes' wall time per minute, ${label} series`, value: Math.round(m('after', 'wall')), unit: 'ms/min', anchor: { name: "main's service", value: Math.round(m('before', 'wall')) }, ratio: m('after', 'wall') / m('before', 'wall') },
    { name: `  re-derives in ${minutes} min: ${m('after', 'pops')} of ${n} POPs' series + ${m('after', 'all')} full (${m('after', 'deferred')} passes deferred), ${label} series`, value: m('after', 'pops') + m('after', 'all'), unit: 'count', anchor: { name: `main's service: ${m('before', 'all')} full`, value: m('before', 'all') + m('before', 'pops') }, ratio: (m('after', 'pops') + m('after', 'all')) / Math.max(1, m('before', 'all') + m('before', 'pops')) },
    { name: `  longest event-loop stall during a pass, ${label} series`, value: Math.round(m('after', 'stall')), unit: 'ms', anchor: { name: "main's service", value: Math.round(m('before', 'stall')) }, ratio: m('after', 'stall') / Math.max(1, m('before', 'stall')) },
  ];
}

/**
 * The first pass of a new leader after a failover, warm standby against cold, same store and end,
 * alternating (3 each). Each round: replica b follows (another replica holds the lock) for its
 * first pass a minute before the end and a pass every 10 s after it, with DETECTOR_STANDBY=warm
 * (it re-derives once as a follower, then reads 10 s of buckets and evaluates each pass) or cold
 * (it drops its state each pass); then the lock is b's, and its first pass as leader is timed:
 * warm, an ordinary incremental pass; cold, the re-derive. The old leader's own passes are not
 * run (they do not touch b's engine; the alert store is the shared one). The warm follower's
 * steady passes are timed too, against the store's read of the same 10 s alone.
 */
async function againstFailover(store: MetricsStore, settings: DetectorSettings, now: () => number, alerts: ReturnType<typeof createAlertService>) {
  const log = pino({ level: 'silent' });
  const out = { warm: { wall: [] as number[], cpu: [] as number[], stall: [] as number[] }, cold: { wall: [] as number[], cpu: [] as number[], stall: [] as number[] } };
  const follow = { ms: [] as number[], read: [] as number[] };
  for (let r = 0; r < 6; r++) {
    const way = r % 2 === 0 ? 'warm' : 'cold';
    let holder = 'a';
    const leadership = { ...createSingleLeadership('b'), runAsLeader: async <T>(fn: (fence: number) => Promise<T>) => (holder === 'b' ? { ran: true as const, value: await fn(2) } : { ran: false as const, holder }), stillLeader: async () => holder === 'b' };
    let offset = -60_000;
    const b = createDetectorService({ store, alerts, leadership, settings, standby: way, now: () => now() + offset, log });
    await b.runPass();
    for (offset = -50_000; offset < 0; offset += 10_000) {
      const t = performance.now();
      await b.runPass();
      if (way === 'warm') {
        follow.ms.push(performance.now() - t);
        const end = Math.floor((now() + offset - 2000) / STEP) * STEP;
        const q0 = performance.now();
        const range = { fromNs: ms(end - STEP), toNs: ms(end) };
        await (store.seriesBucketColumns ? store.seriesBucketColumns(range, STEP) : store.seriesBuckets(range, STEP));
        follow.read.push(performance.now() - q0);
      }
    }
    offset = 0;
    holder = 'b';
    const run = await timed(() => b.runPass());
    const first = run.value;
    out[way].wall.push(run.wall);
    out[way].cpu.push(run.cpu);
    out[way].stall.push(run.stall);
    if (first.skipped) throw new Error(`b did not lead: ${first.skipped}`);
  }
  const m = (k: 'wall' | 'cpu' | 'stall') => ({ warm: median(out.warm[k]), cold: median(out.cold[k]) });
  return { wall: m('wall'), cpu: m('cpu'), stall: m('stall'), followMs: median(follow.ms), followRead: median(follow.read) };
}

function failoverRows(v: Awaited<ReturnType<typeof againstFailover>>, label: string, goal: number): BenchRow[] {
  return [
    { name: `first pass of a new leader after a failover, warm standby, ${label} series`, value: Math.round(v.wall.warm), unit: 'ms', anchor: { name: 'cold standby (re-derive), alternating', value: Math.round(v.wall.cold) }, ratio: v.wall.warm / v.wall.cold, goal: `<= ${goal} ms`, ok: v.wall.warm <= goal },
    { name: `  its CPU (every thread), ${label} series`, value: Math.round(v.cpu.warm), unit: 'ms', anchor: { name: 'cold standby', value: Math.round(v.cpu.cold) }, ratio: v.cpu.warm / v.cpu.cold },
    { name: `  longest event-loop stall during it, ${label} series`, value: Math.round(v.stall.warm), unit: 'ms', anchor: { name: 'cold standby', value: Math.round(v.stall.cold) }, ratio: v.stall.warm / Math.max(1, v.stall.cold) },
    { name: `  a warm follower's steady pass (10 s of buckets, listUnresolved, evaluate), ${label} series`, value: Math.round(v.followMs), unit: 'ms', anchor: { name: 'its read alone', value: Math.round(v.followRead) }, ratio: v.followMs / Math.max(1, v.followRead) },
  ];
}

function snapshotRows(v: Awaited<ReturnType<typeof againstSnapshot>>, label: string, goal: number): BenchRow[] {
  return [
    { name: `first pass after a restart from the engine snapshot (a minute down), ${label} series`, value: Math.round(v.wall.snap), unit: 'ms', anchor: { name: 'cold first pass (re-derive), alternating', value: Math.round(v.wall.cold) }, ratio: v.wall.snap / v.wall.cold, goal: `<= ${goal} ms`, ok: v.wall.snap <= goal },
    { name: `  its CPU (every thread), ${label} series`, value: Math.round(v.cpu.snap), unit: 'ms', anchor: { name: 'cold first pass', value: Math.round(v.cpu.cold) }, ratio: v.cpu.snap / v.cpu.cold },
    { name: `  longest event-loop stall during it, ${label} series`, value: Math.round(v.stall.snap), unit: 'ms', anchor: { name: 'cold first pass', value: Math.round(v.stall.cold) }, ratio: v.stall.snap / v.stall.cold },
    { name: `  of it: taking the file (read, CRC, delete, decode), ${label} series`, value: Math.round(v.take), unit: 'ms' },
    { name: `  the snapshot's write, at shutdown and every DETECTOR_SNAPSHOT_EVERY (fsync'd), ${label} series`, value: Math.round(v.writeMs), unit: 'ms', anchor: { name: 'a steady pass (10 s of buckets)', value: Math.round(v.steadyMs) }, ratio: v.writeMs / v.steadyMs },
    { name: `  longest event-loop stall during the write, ${label} series`, value: Math.round(v.writeStall), unit: 'ms', anchor: { name: 'a steady pass', value: Math.round(v.steadyStall) }, ratio: v.writeStall / v.steadyStall },
    { name: `  the snapshot's size, ${label} series`, value: Math.round(v.bytes / 1024 / 1024 * 10) / 10, unit: 'MiB' },
  ];
}

/**
 * Peak RSS growth during a first pass, each engine in a child process of its own (getrusage's
 * maxRSS is the process's peak), 2 each, alternating; and what the pass leaves on the JS heap
 * and in array buffers (after a GC): the engine's state.
 */
function memoryInChildren(path: string, seriesCount: number, t0: number) {
  const script = fileURLToPath(new URL('./first-pass-profile.ts', import.meta.url));
  const out = { now: [] as Array<Record<string, number>>, main: [] as Array<Record<string, number>> };
  for (let r = 0; r < 4; r++) {
    const way = r % 2 === 0 ? 'now' : 'main';
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script], {
      env: { ...process.env, MODE: 'service', ROUNDS: '1', ENGINE: way, FILE: path, SERIES: String(seriesCount), T0: String(t0) },
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    const line = child.stdout.trim().split('\n').pop() ?? '';
    if (child.status !== 0 || !line.startsWith('{')) throw new Error(`first-pass-profile failed: ${child.stderr}`);
    out[way].push(JSON.parse(line));
  }
  const m = (k: string) => ({ now: median(out.now.map((o) => o[k]!)), main: median(out.main.map((o) => o[k]!)) });
  return { peakRss: m('peakRssGrowthMiB'), kept: { now: median(out.now.map((o) => o.keptHeapMiB! + o.keptArrayBuffersMiB!)), main: median(out.main.map((o) => o.keptHeapMiB! + o.keptArrayBuffersMiB!)) } };
}

/** The first pass as it ran before: the row-object statement per slice, then engine.ingest of its rows. */
async function before(path: string, settings: DetectorSettings, endMs: number) {
  const inst = await DuckDBInstance.create(path);
  const conn = await inst.connect();
  try {
    const read: number[] = [];
    const replay: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r < 2; r++) {
      const got: Array<[number, SeriesBucket[]]> = [];
      const c = process.cpuUsage();
      const t = performance.now();
      for (const [from, to] of slices(settings, endMs)) {
        const rows = (await conn.runAndReadAll(
          `SELECT pop_code, function_name, (time_ns // $step) * $step AS bucket, count(*) AS n,
             avg(cold_start_time_ms) AS mean, quantile_cont(cold_start_time_ms, 0.5) AS p50
           FROM cold_start_metrics WHERE time_ns >= $from AND time_ns < $to GROUP BY ALL`,
          { from: ms(from), to: ms(to), step: ms(settings.stepMs) },
        )).getRowObjectsJS();
        got.push([to, rows.map((r) => ({ popCode: String(r.pop_code), functionName: String(r.function_name), startMs: Number((r.bucket as bigint) / 1_000_000n), samples: Number(r.n), mean: Number(r.mean), p50: Number(r.p50) }))]);
      }
      read.push(performance.now() - t);
      const engine = createDetectorEngine(settings);
      engine.readFrom(endMs);
      const e = performance.now();
      for (const [to, rows] of got) engine.ingest(rows, to);
      replay.push(performance.now() - e);
      cpu.push(cpuMs(process.cpuUsage(c)));
    }
    return { read: median(read), replay: median(replay), cpu: median(cpu) };
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

async function measure(seriesCount: number, env: Record<string, string> = {}, steadyRows = true): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ewm-bench-detector-'));
  const path = join(dir, 'metrics.duckdb');
  const settings = detectorSettings(loadConfig(env).detector);
  const span = rederiveSpanMs(settings);
  const t0 = Math.floor(Date.now() / 60_000) * 60_000;
  const clock = { now: t0 };
  const store = await createDuckDbMetricsStore({ path, now: () => clock.now });
  const alertStore = await createEmbeddedAlertStore({ path: ':memory:' });
  const log = pino({ level: 'silent' });
  const alerts = createAlertService({ store: alertStore, bus: createLocalBus(), notifier: { channels: [], notify: async () => [], close: async () => {} }, now: () => clock.now, log });
  const label = seriesCount.toLocaleString('en');
  const goal = seriesCount <= 2115 ? 1000 : 5000;
  const rows: BenchRow[] = [];
  let closed = false;
  try {
    const sampleAt = benchHistory(seriesCount);
    // History: the whole span, written in batches of a minute.
    for (let t = t0 - span - 60_000; t < t0; t += 60_000) {
      const batch: ColdStartSample[] = [];
      for (let s = t; s < t + 60_000; s += STEP) batch.push(...sampleAt(s));
      await store.write(batch);
    }
    const passClock = () => clock.now + 2500;
    const endMs = Math.floor((passClock() - 2000) / STEP) * STEP; // the service's end (SETTLE_MS)
    if (process.env.BENCH_DETECTOR_ONLY === 'snapshot') {
      rows.push(...snapshotRows(await againstSnapshot(store, settings, passClock, alerts, dir), label, goal));
      return rows;
    }
    if (process.env.BENCH_DETECTOR_ONLY === 'failover') {
      rows.push(...failoverRows(await againstFailover(store, settings, passClock, alerts), label, goal));
      return rows;
    }
    if (process.env.BENCH_DETECTOR_ONLY === 'late') {
      rows.push(...lateRows(await againstLate(store, settings, passClock, alerts, seriesCount), label, goal));
      return rows;
    }
    if (process.env.BENCH_DETECTOR_ONLY === 'flood') {
      rows.push(...floodRows(await againstFlood(store, settings, clock, alerts, seriesCount), label));
      return rows;
    }
    if (process.env.BENCH_DETECTOR_ONLY === 'catchup') {
      rows.push(...catchUpRows(await againstCatchUp(store, settings, clock, alerts, seriesCount), label));
      return rows;
    }
    if (process.env.BENCH_DETECTOR_ONLY === 'worker') {
      const v = await againstOneThread(store, settings, passClock, alerts);
      rows.push(...oneThreadRows(v, label, goal));
      console.error(JSON.stringify({ series: seriesCount, rounds: v.all }));
      return rows;
    }
    if (process.env.BENCH_DETECTOR_ONLY === 'engine') {
      const vsEngine = await againstMainEngine(store, settings, passClock, alerts);
      rows.push(...engineRows(vsEngine, await replayAgainstMain(store, settings, endMs), label, goal));
      console.error(JSON.stringify({ series: seriesCount, rounds: vsEngine.all }));
      return rows;
    }
    const split = await parts(store, settings, endMs);

    // Wall time (the service's own durationMs runs on the pinned clock); a fresh service is a fresh engine.
    const firstCpu: number[] = [];
    const timed = async (detector: ReturnType<typeof createDetectorService>, cpu?: number[]) => {
      const c = process.cpuUsage();
      const t = performance.now();
      await detector.runPass();
      const wall = performance.now() - t;
      cpu?.push(cpuMs(process.cpuUsage(c)));
      return wall;
    };
    const firsts: number[] = [];
    let detector = createDetectorService({ store, alerts, leadership: createSingleLeadership('bench'), settings, now: passClock, log });
    for (let r = 0; r < 3; r++) {
      detector = createDetectorService({ store, alerts, leadership: createSingleLeadership('bench'), settings, now: passClock, log });
      firsts.push(await timed(detector, firstCpu));
    }
    const firstMs = median(firsts);
    const steady: number[] = [];
    const looks: number[] = [];
    const lookReads: number[] = [];
    const queryStep: number[] = [];
    for (let i = 0; i < 6; i++) {
      await store.write(sampleAt(clock.now));
      clock.now += STEP;
      const q0 = performance.now();
      await store.seriesBucketColumns({ fromNs: ms(clock.now - STEP), toNs: ms(clock.now) }, STEP);
      queryStep.push(performance.now() - q0);
      steady.push(await timed(detector));
      const t = await timeLook(detector, store, sampleAt, clock.now, seriesCount);
      looks.push(t.look);
      lookReads.push(t.read);
    }
    const steadyMs = Math.round(median(steady));
    const lookRows: BenchRow[] = [
      { name: `detector steady pass (every 10 s), ${label} series`, value: steadyMs, unit: 'ms', anchor: { name: 'seriesBucketColumns alone', value: Math.round(median(queryStep)) }, ratio: steadyMs / Math.max(1, median(queryStep)), goal: `<= ${goal} ms`, ok: steadyMs <= goal },
      { name: `detector early look (DETECTOR_EARLY, every 2 s: the bucket still filling read and judged), ${label} series`, value: Math.round(median(looks) * 10) / 10, unit: 'ms', anchor: { name: 'a steady pass', value: steadyMs }, ratio: median(looks) / Math.max(1, steadyMs) },
      { name: `  its read alone (seriesBuckets of the newest 2.5 s), ${label} series`, value: Math.round(median(lookReads) * 10) / 10, unit: 'ms', anchor: { name: 'the look', value: Math.round(median(looks) * 10) / 10 }, ratio: median(lookReads) / median(looks) },
    ];
    if (process.env.BENCH_DETECTOR_ONLY === 'look') return lookRows;
    const vsEngine = await againstMainEngine(store, settings, passClock, alerts);
    const vsReplay = await replayAgainstMain(store, settings, endMs);
    const vsSnapshot = await againstSnapshot(store, settings, passClock, alerts, dir);
    const vsFailover = await againstFailover(store, settings, passClock, alerts);
    const vsLate = await againstLate(store, settings, passClock, alerts, seriesCount);
    const vsOneThread = await againstOneThread(store, settings, passClock, alerts);
    // Last: it moves the clock on (writing live samples past t0).
    const vsCatchUp = await againstCatchUp(store, settings, clock, alerts, seriesCount);
    await store.close();
    closed = true;
    const mem = memoryInChildren(path, seriesCount, t0);
    const old = await before(path, settings, endMs);
    const vsMain = await againstMainRead(path, settings, endMs, alerts);
    const oldFirst = old.read + old.replay;
    rows.push(
      { name: `detector first pass (re-derive ${span / 60_000} min), ${label} series, wall`, value: Math.round(firstMs), unit: 'ms', anchor: { name: 'before (row objects + ingest)', value: Math.round(oldFirst) }, ratio: firstMs / oldFirst, goal: `<= ${goal} ms`, ok: firstMs <= goal },
      { name: `  its CPU (every thread), ${label} series`, value: Math.round(median(firstCpu)), unit: 'ms', anchor: { name: 'before', value: Math.round(old.cpu) }, ratio: median(firstCpu) / old.cpu },
      { name: `  its read: seriesBucketColumns, ${label} series`, value: Math.round(split.read), unit: 'ms', anchor: { name: 'row-object statement', value: Math.round(old.read) }, ratio: split.read / old.read },
      { name: `  its replay: engine.ingestColumns, ${label} series`, value: Math.round(split.replay), unit: 'ms', anchor: { name: 'engine.ingest of the same rows', value: Math.round(split.replayRows) }, ratio: split.replay / split.replayRows },
    );
    rows.push(
      { name: `first pass, this read against main's (same connection, alternating), ${label} series`, value: Math.round(vsMain.first.now), unit: 'ms', anchor: { name: "main's read (windows in SQL)", value: Math.round(vsMain.first.main) }, ratio: vsMain.first.now / vsMain.first.main, goal: `<= ${goal} ms`, ok: vsMain.first.now <= goal },
      { name: `  its CPU (every thread), ${label} series`, value: Math.round(vsMain.cpu.now), unit: 'ms', anchor: { name: "main's read", value: Math.round(vsMain.cpu.main) }, ratio: vsMain.cpu.now / vsMain.cpu.main },
      { name: `  its read alone, ${label} series`, value: Math.round(vsMain.read.now), unit: 'ms', anchor: { name: "main's read", value: Math.round(vsMain.read.main) }, ratio: vsMain.read.now / vsMain.read.main },
    );
    rows.push(
      ...engineRows(vsEngine, vsReplay, label, goal),
      { name: `  peak RSS growth during it (a process each), ${label} series`, value: mem.peakRss.now, unit: 'MiB', anchor: { name: "main's engine", value: mem.peakRss.main }, ratio: mem.peakRss.now / mem.peakRss.main },
      { name: `  what it keeps (JS heap + array buffers, after GC), ${label} series`, value: mem.kept.now, unit: 'MiB', anchor: { name: "main's engine", value: mem.kept.main }, ratio: mem.kept.now / mem.kept.main },
    );
    rows.push(...snapshotRows(vsSnapshot, label, goal));
    rows.push(...failoverRows(vsFailover, label, goal));
    rows.push(...lateRows(vsLate, label, goal));
    rows.push(...oneThreadRows(vsOneThread, label, goal));
    rows.push(...catchUpRows(vsCatchUp, label));
    if (steadyRows) rows.push(...lookRows);
    return rows;
  } finally {
    await alerts.close(1000);
    await alertStore.close();
    if (!closed) await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The first pass on a real influxd: raw values bucketed in JS, against InfluxDB's GROUP BY time() windows. */
/**
 * One early look 2.5 s into the bucket at bucketMs (DETECTOR_EARLY), its samples written first so
 * they have landed, and the same read alone (what the look costs beside the engine's judgement).
 * The detector's clock must read bucketMs + 2.5 s, after a pass that read up to bucketMs.
 */
async function timeLook(detector: ReturnType<typeof createDetectorService>, store: MetricsStore, sampleAt: (t: number) => ColdStartSample[], bucketMs: number, seriesCount: number) {
  await store.write(sampleAt(bucketMs));
  const l0 = performance.now();
  const look = await detector.look();
  if (!look || look.looked !== seriesCount) throw new Error(`the early look judged ${look?.looked} of ${seriesCount} series`);
  const lookMs = performance.now() - l0;
  const r0 = performance.now();
  await store.seriesBuckets({ fromNs: ms(bucketMs), toNs: ms(bucketMs + 2500) }, STEP);
  return { look: lookMs, read: performance.now() - r0 };
}

/**
 * The early look beside the steady pass on a store holding the span up to clock.now (InfluxDB):
 * a leader's first pass, then 6 rounds of a bucket written, a steady pass, the next bucket's
 * samples written and a look 2.5 s into it, and the look's read alone.
 */
async function againstLook(store: MetricsStore, settings: DetectorSettings, clock: { now: number }, alerts: ReturnType<typeof createAlertService>, sampleAt: (t: number) => ColdStartSample[], seriesCount: number) {
  const detector = createDetectorService({ store, alerts, leadership: createSingleLeadership('bench'), settings, now: () => clock.now + 2500, log: pino({ level: 'silent' }) });
  await detector.runPass();
  const steady: number[] = [];
  const looks: number[] = [];
  const reads: number[] = [];
  for (let i = 0; i < 6; i++) {
    await store.write(sampleAt(clock.now));
    clock.now += STEP;
    const p0 = performance.now();
    await detector.runPass();
    steady.push(performance.now() - p0);
    const t = await timeLook(detector, store, sampleAt, clock.now, seriesCount);
    looks.push(t.look);
    reads.push(t.read);
  }
  return { steady: median(steady), look: median(looks), read: median(reads) };
}

const lookRowsOf = (v: Awaited<ReturnType<typeof againstLook>>, label: string): BenchRow[] => [
  { name: `influx: detector early look (the bucket still filling read and judged), ${label} series`, value: Math.round(v.look), unit: 'ms', anchor: { name: 'a steady pass', value: Math.round(v.steady) }, ratio: v.look / v.steady },
  { name: `  its read alone, ${label} series`, value: Math.round(v.read), unit: 'ms', anchor: { name: 'the look', value: Math.round(v.look) }, ratio: v.read / v.look },
];

async function measureInflux(seriesCount: number): Promise<BenchRow[]> {
  if (spawnSync('influxd', ['version']).status !== 0) return [];
  if (process.env.BENCH_DETECTOR_ONLY === 'flood' || process.env.BENCH_DETECTOR_ONLY === 'worker') return [];
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const influxd = await startInfluxd({ after: (fn: () => Promise<void>) => void cleanups.push(fn) });
    await influxd.createDatabase('bench');
    const settings = detectorSettings(loadConfig({}).detector);
    const span = rederiveSpanMs(settings);
    const t0 = Math.floor(Date.now() / 60_000) * 60_000;
    const store = await createInfluxDbMetricsStore({ url: influxd.url, db: 'bench', timeoutMs: 120_000, now: () => t0 });
    cleanups.unshift(() => store.close());
    const sampleAt = benchHistory(seriesCount);
    for (let t = t0 - span - 60_000; t < t0; t += 60_000) {
      const batch: ColdStartSample[] = [];
      for (let s = t; s < t + 60_000; s += STEP) batch.push(...sampleAt(s));
      await store.write(batch);
    }
    const endMs = Math.floor((t0 + 500) / STEP) * STEP;
    const alertStore = await createEmbeddedAlertStore({ path: ':memory:' });
    const log = pino({ level: 'silent' });
    const alerts = createAlertService({ store: alertStore, bus: createLocalBus(), notifier: { channels: [], notify: async () => [], close: async () => {} }, now: () => t0, log });
    cleanups.unshift(async () => {
      await alerts.close(1000);
      await alertStore.close();
    });
    const label = seriesCount.toLocaleString('en');
    const goal = seriesCount <= 2115 ? 1000 : 5000;
    const influxRows = (rs: BenchRow[]) => rs.map((r) => ({ ...r, name: r.name.startsWith('  ') ? r.name : `influx: ${r.name}` }));
    if (process.env.BENCH_DETECTOR_ONLY === 'look') return lookRowsOf(await againstLook(store, settings, { now: t0 }, alerts, sampleAt, seriesCount), label);
    if (process.env.BENCH_DETECTOR_ONLY === 'failover') return influxRows(failoverRows(await againstFailover(store, settings, () => t0 + 2500, alerts), label, goal));
    if (process.env.BENCH_DETECTOR_ONLY === 'late') return influxRows(lateRows(await againstLate(store, settings, () => t0 + 2500, alerts, seriesCount), label, goal));
    // Its own clock, moving on from t0 (the other rows' passes end at t0).
    if (process.env.BENCH_DETECTOR_ONLY === 'catchup') return influxRows(catchUpRows(await againstCatchUp(store, settings, { now: t0 }, alerts, seriesCount), label));
    if (process.env.BENCH_DETECTOR_ONLY === 'engine') {
      // The same rows against main's engine, on influxd: here the JS thread waits on the reads.
      const vsEngine = await againstMainEngine(store, settings, () => t0 + 2500, alerts);
      console.error(JSON.stringify({ influx: seriesCount, rounds: vsEngine.all }));
      return influxRows(engineRows(vsEngine, await replayAgainstMain(store, settings, endMs), label, goal));
    }
    const snapDir = mkdtempSync(join(tmpdir(), 'ewm-bench-snapshot-'));
    cleanups.push(async () => rmSync(snapDir, { recursive: true, force: true }));
    const vsSnapshot = await againstSnapshot(store, settings, () => t0 + 2500, alerts, snapDir);
    const snapRows = influxRows(snapshotRows(vsSnapshot, label, goal));
    if (process.env.BENCH_DETECTOR_ONLY === 'snapshot') return snapRows;
    const failRows = influxRows(failoverRows(await againstFailover(store, settings, () => t0 + 2500, alerts), label, goal));
    const lateRowsInflux = influxRows(lateRows(await againstLate(store, settings, () => t0 + 2500, alerts, seriesCount), label, goal));
    const catchUpInflux = influxRows(catchUpRows(await againstCatchUp(store, settings, { now: t0 }, alerts, seriesCount), label));
    const split = await parts(store, settings, endMs);
    const firsts: number[] = [];
    for (let r = 0; r < 3; r++) {
      const detector = createDetectorService({ store, alerts, leadership: createSingleLeadership('bench'), settings, now: () => t0 + 2500, log });
      const f = performance.now();
      await detector.runPass();
      firsts.push(performance.now() - f);
    }
    const firstMs = median(firsts);
    // Before: InfluxDB's own windows (count, mean, median per 10 s per series), slice by slice.
    const client = createInfluxClient({ url: influxd.url, db: 'bench', timeoutMs: 120_000 });
    const g = performance.now();
    for (const [from, to] of slices(settings, endMs)) await client.query([q.seriesBuckets({ fromNs: ms(from), toNs: ms(to) }, settings.stepMs)]);
    const grouped = performance.now() - g;
    // Last: it writes samples past t0.
    const vsLook = await againstLook(store, settings, { now: t0 }, alerts, sampleAt, seriesCount);
    return [
      ...snapRows,
      ...failRows,
      ...lateRowsInflux,
      ...catchUpInflux,
      { name: `influx: detector first pass (re-derive ${span / 60_000} min), ${label} series`, value: Math.round(firstMs), unit: 'ms', anchor: { name: 'GROUP BY time() read alone (before)', value: Math.round(grouped) }, ratio: firstMs / grouped, goal: `<= ${goal} ms`, ok: firstMs <= goal },
      { name: `  its read: raw values bucketed in JS, ${label} series`, value: Math.round(split.read), unit: 'ms', anchor: { name: 'GROUP BY time() with median', value: Math.round(grouped) }, ratio: split.read / grouped },
      ...lookRowsOf(vsLook, label),
    ];
  } finally {
    for (const c of cleanups) await c().catch(() => undefined);
  }
}

export async function run(): Promise<BenchRow[]> {
  const sizes = (process.env.BENCH_DETECTOR_SERIES ?? '2115,10000').split(',').filter(Boolean).map(Number);
  const rows: BenchRow[] = [];
  for (const n of sizes) rows.push(...(await measure(n)));
  // A longer baseline than the default 60 min (DETECTOR_BASELINE_WINDOW 90m: a 310 min read);
  // runs only when asked for (BENCH_DETECTOR_LONG_SERIES=2115).
  for (const n of (process.env.BENCH_DETECTOR_LONG_SERIES ?? '').split(',').filter(Boolean).map(Number)) {
    rows.push(...(await measure(n, { DETECTOR_BASELINE_WINDOW: '90m' }, false)));
  }
  for (const n of (process.env.BENCH_DETECTOR_INFLUX_SERIES ?? '2115').split(',').filter(Boolean).map(Number)) rows.push(...(await measureInflux(n)));
  return rows;
}

await runAlone({ run }, import.meta.url);
