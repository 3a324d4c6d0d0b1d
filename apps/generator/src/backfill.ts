/**
 * Backfill: history from `fromMs` up to now, one batch per interval exactly as the
 * live generator would have produced it (same model, same seed rules), written as
 * fast as the target accepts it. Backpressure is the buffered writer's own: no more
 * than `highWaterPoints` wait in memory, so a slow or failing target slows the
 * backfill down (the writer retries) and never drops or piles up samples. It keeps
 * going until it has caught up with the clock (within one interval), so the live
 * generator that starts next continues without a gap.
 */
import type { Logger } from 'pino';
import type { BufferedWriter } from './buffered-writer.ts';
import { samplesAt } from './generator.ts';
import type { LatencyModel } from './model.ts';
import type { FunctionSpec, PopInfo } from './types.ts';

export interface BackfillOptions {
  pops: readonly PopInfo[];
  functions: readonly FunctionSpec[];
  intervalMs: number;
  model: LatencyModel;
  /** First tick's time (epoch ms). */
  fromMs: number;
  writer: Pick<BufferedWriter, 'enqueue' | 'flush' | 'stats'>;
  now?: () => number;
  /** Points that may wait in the writer before the backfill waits for it. */
  highWaterPoints?: number;
  signal?: AbortSignal;
  log?: Logger | undefined;
}

export interface BackfillResult {
  points: number;
  ticks: number;
  /** The time after the last backfilled tick: where live generation takes over. */
  nextMs: number;
  /** False when stopped through the signal before catching up. */
  completed: boolean;
}

export interface BackfillProgress {
  running: boolean;
  fromMs: number;
  /** Time of the newest tick handed to the writer. */
  reachedMs: number | null;
  points: number;
}

export function createBackfill(opts: BackfillOptions): { run(): Promise<BackfillResult>; progress(): BackfillProgress } {
  const now = opts.now ?? Date.now;
  const highWater = opts.highWaterPoints ?? 200_000;
  const p: BackfillProgress = { running: false, fromMs: opts.fromMs, reachedMs: null, points: 0 };

  async function waitForWriter(limit: number) {
    // flush() drains fully or times out; a target that is down keeps us waiting here, not dropping.
    while (opts.writer.stats().bufferedPoints > limit && !opts.signal?.aborted) await opts.writer.flush(5000);
  }

  async function run(): Promise<BackfillResult> {
    p.running = true;
    const started = now();
    let t = opts.fromMs;
    let ticks = 0;
    try {
      opts.log?.info({ from: new Date(opts.fromMs).toISOString(), intervalMs: opts.intervalMs }, 'backfill started');
      while (t < now() && !opts.signal?.aborted) {
        const batch = samplesAt(opts.pops, opts.functions, opts.model, t);
        opts.writer.enqueue(batch);
        p.points += batch.length;
        p.reachedMs = t;
        ticks++;
        t += opts.intervalMs;
        if (opts.writer.stats().bufferedPoints > highWater) await waitForWriter(highWater / 2);
      }
      await waitForWriter(0);
      const completed = !opts.signal?.aborted;
      const secs = (now() - started) / 1000;
      opts.log?.info({ points: p.points, ticks, seconds: secs, pointsPerSecond: Math.round(p.points / Math.max(secs, 0.001)), completed }, 'backfill finished');
      return { points: p.points, ticks, nextMs: t, completed };
    } finally {
      p.running = false;
    }
  }

  return { run, progress: () => ({ ...p }) };
}
