/**
 * Produces one sample per POP x function per interval and hands each batch to onBatch.
 * The generator knows nothing about HTTP: the CLI passes a buffered HTTP writer, the
 * server's all-in-one passes its in-process ingest.
 */
import type { ColdStartSample } from '@edgeworker/schema';
import type { Logger } from 'pino';
import type { LatencyModel } from './model.ts';
import type { FunctionSpec, PopInfo } from './types.ts';

export interface GeneratorOptions {
  pops: readonly PopInfo[];
  functions: readonly FunctionSpec[];
  intervalMs: number;
  model: LatencyModel;
  /** Clock in epoch ms; injectable so tests control time. */
  now?: () => number;
  onBatch: (samples: ColdStartSample[]) => void;
  log?: Logger;
  /**
   * Keep the process alive while ticking. Default false: in a host process (the server)
   * the timer must not hold the event loop open; the standalone CLI sets it.
   */
  keepAlive?: boolean;
}

export interface SampleGenerator {
  start(): void;
  stop(): void;
  /** Produces one batch for now(), passes it to onBatch and returns it. */
  tick(): ColdStartSample[];
}

/** One batch: a sample per POP x function, all at tMs (the generator's tick and the backfill share it). */
export function samplesAt(pops: readonly PopInfo[], functions: readonly FunctionSpec[], model: LatencyModel, tMs: number): ColdStartSample[] {
  const timeNs = BigInt(tMs) * 1_000_000n;
  const samples: ColdStartSample[] = [];
  for (const pop of pops) {
    for (const fn of functions) {
      samples.push({
        timeNs,
        popCode: pop.code,
        city: pop.city,
        country: pop.country,
        tier: pop.tier,
        functionName: fn.name,
        coldStartTimeMs: model.sample(pop, fn, tMs),
        latitude: pop.lat,
        longitude: pop.lon,
      });
    }
  }
  return samples;
}

export function createGenerator(opts: GeneratorOptions): SampleGenerator {
  const now = opts.now ?? Date.now;
  const { intervalMs, log } = opts;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new Error(`intervalMs must be a positive number (got ${intervalMs})`);
  }
  let timer: NodeJS.Timeout | null = null;
  let running = false;
  let startedAt = 0;
  let lastTickMs = -Infinity;

  function tick(): ColdStartSample[] {
    // Every sample of a batch shares one timestamp (series differ by tags). Forcing each
    // batch at least 1 ms after the previous one keeps (series, time) unique even when
    // tick() is called twice in one millisecond or the wall clock steps backwards, and
    // survives precision=ms.
    const tMs = Math.max(Math.floor(now()), lastTickMs + 1);
    lastTickMs = tMs;
    const samples = samplesAt(opts.pops, opts.functions, opts.model, tMs);
    opts.onBatch(samples);
    return samples;
  }

  function safeTick(): void {
    try {
      const batch = tick();
      log?.debug({ points: batch.length }, 'generated batch');
    } catch (err) {
      // A failing consumer must not kill the schedule; the next tick tries again.
      log?.error({ err }, 'generator tick failed; will try again next interval');
    }
  }

  function scheduleNext(): void {
    // Schedule against startedAt + k x interval, not "interval from now", so delays in
    // one tick never accumulate. After a long stall (laptop sleep), missed ticks are
    // skipped rather than replayed in a burst.
    const elapsed = now() - startedAt;
    const k = Math.max(1, Math.floor(elapsed / intervalMs) + 1);
    const delay = Math.max(0, startedAt + k * intervalMs - now());
    timer = setTimeout(() => {
      timer = null;
      if (!running) return;
      safeTick();
      // onBatch may have called stop().
      if (running) scheduleNext();
    }, delay);
    if (!opts.keepAlive) timer.unref();
  }

  return {
    start() {
      if (running) return;
      running = true;
      startedAt = now();
      log?.info(
        { pops: opts.pops.length, functions: opts.functions.length, intervalMs },
        'generator started',
      );
      safeTick();
      if (running) scheduleNext();
    },
    stop() {
      if (!running) return;
      running = false;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      log?.info('generator stopped');
    },
    tick,
  };
}
