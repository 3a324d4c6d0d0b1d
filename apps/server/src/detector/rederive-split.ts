/**
 * A full re-derive split between the JS thread and one worker thread, by function.
 *
 * Why: a fresh engine's first pass (a start without a snapshot, a cold leader change, late data
 * that owes every series) replays 220 minutes of buckets, and the profile put most of its JS
 * thread in that replay (sliding the baseline windows, their statistics, feeding the buckets)
 * and the garbage it leaves. Where there are cores to spare, the JS thread's CPU is the pass's
 * wall; on 2 cores every thread's CPU is, and a second isolate's own warm-up costs more than it
 * takes off (measured: docs/notes/rederive-worker.md), hence REDERIVE_WORKER_AUTO_CPUS. The series are independent but for a function's
 * wander, which is pooled over that function's series (wander.ts): so the split is by function,
 * and each engine computes exactly the wander one engine would. The JS thread still reads every
 * slice; each slice's buckets of the worker's functions are posted to it (typed arrays
 * transferred, not copied), and at the end the worker hands its series back the same way
 * (engine.handOver / takeOver), put in the order one engine would hold them (SeriesOrder). The
 * engine after it is bit for bit the one a single thread would have built (rederive-split.test.ts).
 */
import { Worker } from 'node:worker_threads';
import { createSeriesOrder, type DetectorEngine, type DetectorSettings, type EngineHandover } from './engine.ts';
import type { SeriesBucketColumns } from '../stores/metrics-store.ts';
import type { FromRederiveWorker, ToRederiveWorker } from './rederive-worker.ts';

/**
 * The worker's share of the series the functions are dealt out by: a little over half, as the JS
 * thread also reads, decodes and splits every slice.
 */
const WORKER_SHARE = 0.55;
/** Either thread below this share of the series (one dominant function): a worker is not worth its start. */
const WORKER_SHARE_MIN = 0.15;
/**
 * Fewer series than this in the first slice: the JS thread alone (a worker's start and its code's
 * warm-up would then be a good part of the re-derive).
 */
export const REDERIVE_WORKER_MIN_SERIES = 500;

/**
 * DETECTOR_REDERIVE_WORKER=auto: a worker from this many CPUs. On 2 (measured,
 * docs/notes/rederive-worker.md) the JS thread's CPU fell to 0.65-0.75 of a re-derive alone, but
 * the worker's own (a second isolate's compiling and collecting) made every thread's 1.12-1.66, and
 * the wall went 1.07-1.16 at 2,115 series and 0.89 at 10,000: DuckDB's threads, V8's and the two
 * JS threads shared 2 cores. With a core for each, the JS thread's CPU is the pass's wall.
 */
export const REDERIVE_WORKER_AUTO_CPUS = 4;

export interface RederiveWorkerOptions {
  /** The worker's module (default: rederiveWorkerUrl()). */
  url?: URL;
  /** A worker only for at least this many series (default REDERIVE_WORKER_MIN_SERIES). */
  minSeries?: number;
  /** Series per message the worker hands back (default 256): each message is decoded on the JS thread as an event of its own. */
  seriesPerMessage?: number;
}

/**
 * Where the worker's code is: beside the bundle once built (scripts/build-server.mjs), or, run
 * from the sources under tsx, a bootstrap that registers tsx in the thread first.
 */
export function rederiveWorkerUrl(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('./rederive-worker.source.mjs', import.meta.url) : new URL('./detector-rederive-worker.mjs', import.meta.url);
}

/** The worker failed (its start, its replay, its handover): the re-derive can be done again on the JS thread alone. */
export class RederiveWorkerError extends Error {
  constructor(cause: unknown) {
    super(`the re-derive worker thread failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'RederiveWorkerError';
  }
}

export interface RederiveSplit {
  /**
   * One slice's columns (time order), fed up to endMs: posts the buckets of the worker's
   * functions to it and returns the rest, for the JS thread's engine (in the slice's own arrays,
   * which it rewrites, when they are typed). Throws once the worker has failed (the caller
   * re-derives on the JS thread alone).
   */
  take(columns: SeriesBucketColumns, endMs: number): SeriesBucketColumns;
  /** After the last slice: the worker's series added to engine, in one engine's order. */
  finish(engine: DetectorEngine): Promise<{ workerSeries: number; jsSeries: number }>;
  /** Stops the worker (a failed read or replay on the JS thread). */
  abort(): void;
}

export function startRederiveSplit(settings: DetectorSettings, endMs: number, opts: RederiveWorkerOptions = {}): RederiveSplit {
  const minSeries = opts.minSeries ?? REDERIVE_WORKER_MIN_SERIES;
  const order = createSeriesOrder(settings);
  // Which thread feeds each function (true: the worker), dealt out as functions first appear.
  const toWorker = new Map<string, boolean>();
  const load = { worker: 0, js: 0 };
  // Decided at the first slice: whether a worker is worth its start.
  let mode: 'undecided' | 'split' | 'alone' = 'undecided';
  let worker: Worker | null = null;
  let failure: RederiveWorkerError | null = null;
  let handedOver: Promise<EngineHandover | null> = Promise.resolve(null);

  function deal(c: SeriesBucketColumns) {
    const fresh = new Map<string, number>();
    for (const fn of c.functions) if (!toWorker.has(fn)) fresh.set(fn, (fresh.get(fn) ?? 0) + 1);
    // Largest first, each to the thread it leaves less loaded for its share.
    for (const [fn, n] of [...fresh].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
      const ifWorker = Math.max((load.worker + n) / WORKER_SHARE, load.js / (1 - WORKER_SHARE));
      const ifJs = Math.max(load.worker / WORKER_SHARE, (load.js + n) / (1 - WORKER_SHARE));
      const there = mode !== 'alone' && ifWorker <= ifJs;
      toWorker.set(fn, there);
      if (there) load.worker += n;
      else load.js += n;
    }
    if (mode !== 'undecided') return;
    if (load.worker + load.js < minSeries || Math.min(load.worker, load.js) < WORKER_SHARE_MIN * (load.worker + load.js)) {
      // Few series, or one function (nearly) all of them: the JS thread feeds every series, as without a split.
      mode = 'alone';
      for (const fn of toWorker.keys()) toWorker.set(fn, false);
    } else {
      mode = 'split';
      start();
    }
  }

  function start() {
    // Kept referenced while it replays (the pass waits on it); finish and abort end it.
    const w = new Worker(opts.url ?? rederiveWorkerUrl());
    worker = w;
    let done = false;
    const fail = (err: unknown) => {
      if (!done) failure ??= new RederiveWorkerError(err);
      done = true;
    };
    handedOver = new Promise((resolve, reject) => {
      const series: unknown[] = [];
      w.on('message', (m: FromRederiveWorker) => {
        if (m.type === 'series') series.push(...m.series);
        else {
          done = true;
          resolve(m.type === 'done' ? { fedUntil: m.fedUntil, stepFrom: m.stepFrom, wander: m.wander, series } : null);
        }
      });
      w.once('error', (err) => {
        fail(err);
        reject(failure);
      });
      w.once('exit', (code) => {
        fail(new Error(`the re-derive worker exited (${code}) before handing its series back`));
        reject(failure);
      });
    });
    // Observed by finish; a failure meanwhile shows at the next take.
    handedOver.catch(() => undefined);
    post({ type: 'start', settings, endMs, seriesPerMessage: opts.seriesPerMessage ?? 256 });
  }

  function post(m: ToRederiveWorker, transfer: ArrayBuffer[] = []) {
    worker!.postMessage(m, transfer);
  }

  return {
    take(c, sliceEndMs) {
      if (failure) throw failure;
      deal(c);
      if (mode === 'alone') return c;
      order.observe(c, sliceEndMs);
      const side = new Uint8Array(c.pops.length);
      for (let id = 0; id < c.pops.length; id++) side[id] = toWorker.get(c.functions[id]!) ? 1 : 0;
      const m = c.startMs.length;
      let theirs = 0;
      for (let i = 0; i < m; i++) theirs += side[c.series[i]!]!;
      // The worker's buckets into arrays of their own (transferred); the JS thread's moved to the
      // front of the slice's own arrays when they are typed (a stable partition: j <= i), else copied.
      const wk = columnsFor(c, theirs);
      const js: Columns = isTyped(c) ? c : columnsFor(c, m - theirs);
      let a = 0;
      let b = 0;
      for (let i = 0; i < m; i++) {
        const out: Columns = side[c.series[i]!] ? wk : js;
        const j = out === wk ? b++ : a++;
        out.series[j] = c.series[i]!;
        out.startMs[j] = c.startMs[i]!;
        out.samples[j] = c.samples[i]!;
        out.mean[j] = c.mean[i]!;
        out.p50[j] = c.p50[i]!;
      }
      const mine = js === c ? { pops: c.pops, functions: c.functions, series: js.series.subarray(0, a), startMs: js.startMs.subarray(0, a), samples: js.samples.subarray(0, a), mean: js.mean.subarray(0, a), p50: js.p50.subarray(0, a) } : js;
      post({ type: 'slice', columns: wk, endMs: sliceEndMs }, [wk.series.buffer, wk.startMs.buffer, wk.samples.buffer, wk.mean.buffer, wk.p50.buffer]);
      return mine;
    },
    async finish(engine) {
      if (worker) post({ type: 'end' });
      const h = await handedOver;
      const jsSeries = engine.size();
      void worker?.terminate();
      worker = null;
      // Without a worker the JS thread's engine was fed every slice: it is in one engine's order already.
      try {
        if (h) engine.takeOver(h, order.keys());
      } catch (err) {
        throw new RederiveWorkerError(err);
      }
      return { workerSeries: engine.size() - jsSeries, jsSeries };
    },
    abort() {
      void worker?.terminate();
      worker = null;
    },
  };
}

type Columns<B extends ArrayBufferLike = ArrayBufferLike> = SeriesBucketColumns & { series: Int32Array<B>; startMs: Float64Array<B>; samples: Int32Array<B>; mean: Float64Array<B>; p50: Float64Array<B> };

/** Columns whose arrays the JS thread may rewrite (what the stores' column reads return). */
function isTyped(c: SeriesBucketColumns): c is Columns {
  return c.series instanceof Int32Array && c.startMs instanceof Float64Array && c.samples instanceof Int32Array && c.mean instanceof Float64Array && c.p50 instanceof Float64Array;
}

/** Empty columns of n buckets, naming the same series as c (ids unchanged). */
function columnsFor(c: SeriesBucketColumns, n: number): Columns<ArrayBuffer> {
  return { pops: c.pops, functions: c.functions, series: new Int32Array(n), startMs: new Float64Array(n), samples: new Int32Array(n), mean: new Float64Array(n), p50: new Float64Array(n) };
}
