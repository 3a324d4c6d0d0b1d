/**
 * The all-in-one product: the server plus the built-in generator feeding it
 * in-process, through the same buffered writer the standalone generator uses
 * (so a store hiccup is buffered and replayed, not lost). `npm start` runs this.
 */
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
    const seed = config.generator.seed ?? Math.floor(Math.random() * 2 ** 31);
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
    // GENERATOR_BACKFILL: history first, so 24 h and 7 d charts and the detector's baseline are there at once.
    const abort = new AbortController();
    const backfill =
      config.generator.backfillMs > 0
        ? createBackfill({
            pops: POPS,
            functions: FUNCTIONS,
            intervalMs: config.generator.intervalMs,
            model,
            fromMs: Date.now() - config.generator.backfillMs,
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
