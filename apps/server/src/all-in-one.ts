/**
 * The all-in-one product: the server plus the built-in generator feeding it
 * in-process, through the same buffered writer the standalone generator uses
 * (so a store hiccup is buffered and replayed, not lost). `npm start` runs this.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { FUNCTIONS, POPS } from '@edgeworker/pops';
import { createBackfill, createBufferedWriter, createGenerator, createLatencyModel, parseInjection } from '@edgeworker/generator';
import type { Config } from './config.ts';
import { buildApp, type App } from './app.ts';

export interface RunningProduct {
  app: App;
  url: string;
  /** Stops generating, flushes buffered samples (bounded), closes the server. */
  stop(): Promise<void>;
}

const FLUSH_ON_STOP_MS = 10_000;

/** Where the built-in generator keeps the seed it chose, so a restart on the same data goes on with the same fleet. */
export const GENERATOR_SEED_FILE = 'generator-seed';

/**
 * GENERATOR_SEED, or the seed kept in DATA_DIR (chosen at random on the first start there). Each
 * POP's level comes from the seed (the model's popBias), so a new random seed at every start moved
 * every POP's latency at a restart, and the detector rightly raised the slower ones as regressions
 * (27-38 warnings of +25-75 % after `npm start` twice on the same data). A new DATA_DIR is a new fleet.
 */
export function generatorSeed(config: Config, log: Logger): number {
  if (config.generator.seed !== undefined) return config.generator.seed;
  const path = join(config.dataDir, GENERATOR_SEED_FILE);
  try {
    const kept = Number(readFileSync(path, 'utf8').trim());
    if (Number.isInteger(kept) && kept >= 0) return kept;
    log.warn({ path }, 'the kept generator seed is not a whole number; choosing a new one');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ err, path }, 'could not read the kept generator seed; choosing a new one');
  }
  const seed = Math.floor(Math.random() * 2 ** 31);
  try {
    writeFileSync(path, `${seed}\n`);
  } catch (err) {
    log.warn({ err, path }, 'could not keep the generator seed: a restart will generate another fleet');
  }
  return seed;
}

/** Where GENERATOR_BACKFILL starts: `fromMs`, or an interval after the newest sample stored when that is later (a restart). */
async function backfillStart(app: App, fromMs: number, intervalMs: number): Promise<number> {
  const newest = await app.services.store.latestSampleNs().catch(() => null);
  return newest === null ? fromMs : Math.max(fromMs, Number(newest / 1_000_000n) + intervalMs);
}

export async function startAllInOne(config: Config): Promise<RunningProduct> {
  const app = await buildApp(config);
  const log = app.services.log.child({ module: 'all-in-one' });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  // Resolves with what the generator had written in all (acknowledged by the store).
  let stopGenerator = async (): Promise<{ sentPoints?: number }> => ({});
  if (config.generator.enabled) {
    const genLog = app.services.log.child({ module: 'generator' });
    const seed = generatorSeed(config, genLog);
    // GENERATOR_INJECT (validated in config): relative starts like +1m count from now.
    const injections = config.generator.inject.map((spec) => parseInjection(spec, Date.now()));
    const writer = createBufferedWriter({
      send: (samples) => app.services.ingest.writeSamples(samples),
      maxBufferedPoints: config.generator.maxBufferedPoints,
      // A backfill goes faster in larger transactions; live batches are far smaller anyway.
      ...(config.generator.backfillMs > 0 ? { maxBatchPoints: 50_000 } : {}),
      log: genLog,
    });
    const model = createLatencyModel({ seed, injections });
    const generator = createGenerator({
      pops: POPS,
      functions: FUNCTIONS,
      intervalMs: config.generator.intervalMs,
      model,
      onBatch: (batch) => writer.enqueue(batch),
      log: genLog,
    });
    // GENERATOR_BACKFILL: history first, so 24 h and 7 d charts and the detector's baseline are
    // there at once; on a restart, only what is missing of it (from after the newest sample stored):
    // written again, the span would hold two samples per tick, at other instants, and the detector's
    // baselines of two-sample buckets would be narrower than the live one-sample ones.
    const abort = new AbortController();
    const backfillFromMs = config.generator.backfillMs > 0 ? await backfillStart(app, Date.now() - config.generator.backfillMs, config.generator.intervalMs) : null;
    const backfill =
      backfillFromMs !== null
        ? createBackfill({
            pops: POPS,
            functions: FUNCTIONS,
            intervalMs: config.generator.intervalMs,
            model,
            fromMs: backfillFromMs,
            writer,
            highWaterPoints: Math.min(200_000, Math.floor(config.generator.maxBufferedPoints / 2)),
            signal: abort.signal,
            log: genLog.child({ component: 'backfill' }),
          })
        : null;
    app.services.health.register({
      name: 'generator',
      required: false,
      check: () => {
        const s = writer.stats();
        return { status: s.consecutiveFailures > 0 ? 'degraded' : 'ok', intervalMs: config.generator.intervalMs, seed, ...s, ...(backfill ? { backfill: backfill.progress() } : {}) };
      },
    });
    let stopped = false;
    const backfilled = backfill
      ? backfill.run().then(
          (r) => {
            if (r.completed && !stopped) generator.start();
          },
          (err: unknown) => genLog.error({ err }, 'backfill failed; live generation not started'),
        )
      : Promise.resolve((generator.tick(), generator.start()));
    genLog.info({ pops: POPS.length, functions: FUNCTIONS.length, intervalMs: config.generator.intervalMs, seed }, 'built-in generator started');
    for (const inj of injections) genLog.info({ ...inj, start: new Date(inj.startMs).toISOString() }, 'latency injection armed (GENERATOR_INJECT)');
    stopGenerator = async () => {
      stopped = true;
      abort.abort();
      await backfilled;
      generator.stop();
      const flushed = await writer.flush(FLUSH_ON_STOP_MS);
      if (!flushed) log.warn({ buffered: writer.stats().bufferedPoints }, 'stopping with generator samples still buffered; they are lost');
      await writer.close();
      return { sentPoints: writer.stats().sentPoints };
    };
  } else {
    app.services.health.register({ name: 'generator', required: false, check: () => ({ status: 'off' }) });
  }

  log.info({ url, dataDir: config.dataDir }, `EdgeWorker Monitor is up: open ${url}`);
  let stopping: Promise<void> | undefined;
  return {
    app,
    url,
    stop() {
      stopping ??= (async () => {
        const generator = await stopGenerator();
        await app.close();
        log.info({ generatorSentPoints: generator.sentPoints }, 'shutdown complete');
      })();
      return stopping;
    },
  };
}
