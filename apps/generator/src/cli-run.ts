/**
 * Wires the library pieces for the standalone generator: model -> generator ->
 * buffered writer -> InfluxDB HTTP sink, plus the optional health endpoint.
 * The bin file only parses arguments, handles signals and exits with the code returned here.
 */
import { randomInt } from 'node:crypto';
import { FUNCTIONS } from '@edgeworker/pops';
import type { Logger } from 'pino';
import { createBufferedWriter } from './buffered-writer.ts';
import type { CliConfig } from './cli-args.ts';
import { createGenerator } from './generator.ts';
import { createBackfill } from './backfill.ts';
import { startHealthServer, type HealthServer, type HealthStats } from './health-server.ts';
import { createInfluxHttpSink } from './http-sink.ts';
import { createLatencyModel } from './model.ts';
import { redactUrl, resolveWriteTarget } from './write-url.ts';

/** How long shutdown (and --once) waits for buffered samples to be written. */
export const FLUSH_TIMEOUT_MS = 10_000;

export interface RunningGenerator {
  /**
   * Stops ticking, flushes for up to FLUSH_TIMEOUT_MS, closes. Resolves to the exit code:
   * 1 only when the final flush failed (drops during earlier outages are logged, not fatal).
   */
  stop(): Promise<number>;
}

function build(config: CliConfig, log: Logger, keepAlive: boolean) {
  const seed = config.seed ?? randomInt(0, 2 ** 32);
  const target = resolveWriteTarget({ url: config.target, db: config.db, bucket: config.bucket, org: config.org });
  log.info(
    {
      seed,
      seedSource: config.seed === null ? 'random' : 'flag',
      target: redactUrl(target.url),
      pops: config.pops.length,
      functions: FUNCTIONS.length,
      intervalMs: config.intervalMs,
      injections: config.injections.length,
      maxBufferedPoints: config.maxBufferedPoints,
    },
    `generator configured (seed ${seed}: pass --seed ${seed} to repeat the same random draws)`,
  );
  const writer = createBufferedWriter({
    send: createInfluxHttpSink({
      url: config.target,
      db: config.db,
      bucket: config.bucket,
      org: config.org,
      token: config.token,
      username: config.username,
      password: config.password,
      gzip: config.gzip,
    }),
    maxBufferedPoints: config.maxBufferedPoints,
    // A backfill goes faster in larger requests; live batches are far smaller anyway.
    ...(config.backfillMs > 0 ? { maxBatchPoints: 20_000 } : {}),
    log: log.child({ component: 'writer' }),
  });
  const model = createLatencyModel({ seed, injections: config.injections });
  const generator = createGenerator({
    pops: config.pops,
    functions: FUNCTIONS,
    intervalMs: config.intervalMs,
    model,
    onBatch: (samples) => writer.enqueue(samples),
    log: log.child({ component: 'generator' }),
    keepAlive,
  });
  const abort = new AbortController();
  // The same model object: each series' random stream continues from history into live.
  const backfill =
    config.backfillMs > 0
      ? createBackfill({
          pops: config.pops,
          functions: FUNCTIONS,
          intervalMs: config.intervalMs,
          model,
          fromMs: Date.now() - config.backfillMs,
          writer,
          highWaterPoints: Math.min(200_000, Math.floor(config.maxBufferedPoints / 2)),
          signal: abort.signal,
          log: log.child({ component: 'backfill' }),
        })
      : null;
  return { seed, target, writer, generator, backfill, abort };
}

async function maybeHealth(
  config: CliConfig,
  log: Logger,
  stats: () => HealthStats,
): Promise<HealthServer | null> {
  if (config.healthPort === null) return null;
  const server = await startHealthServer({ port: config.healthPort, host: config.healthHost, stats });
  log.info({ url: `http://${config.healthHost}:${server.port}/health` }, 'health endpoint listening');
  return server;
}

/** Flushes, closes and reports. Returns whether the buffer drained and how many points never arrived. */
async function finish(
  parts: ReturnType<typeof build>,
  health: HealthServer | null,
  log: Logger,
): Promise<{ flushed: boolean; lost: number }> {
  const flushed = await parts.writer.flush(FLUSH_TIMEOUT_MS);
  const stats = parts.writer.stats();
  if (!flushed) {
    log.warn(
      { bufferedPoints: stats.bufferedPoints, lastError: stats.lastError },
      `target still not accepting writes after ${FLUSH_TIMEOUT_MS} ms; ${stats.bufferedPoints} buffered points will be lost`,
    );
  }
  await parts.writer.close();
  await health?.close();
  const lost = stats.bufferedPoints + stats.rejectedPoints + stats.droppedPoints;
  log.info({ ...stats }, lost === 0 ? 'generator finished; every sample was written' : 'generator finished with losses');
  return { flushed, lost };
}

/** --once: one batch, flush, exit code 0 when it was written, 1 otherwise. */
export async function runOnce(config: CliConfig, log: Logger): Promise<number> {
  const parts = build(config, log, false);
  const health = await maybeHealth(config, log, () => ({ ...parts.writer.stats(), seed: parts.seed, ...(parts.backfill ? { backfill: parts.backfill.progress() } : {}) }));
  if (parts.backfill) await parts.backfill.run();
  parts.generator.tick();
  const { lost } = await finish(parts, health, log);
  return lost === 0 ? 0 : 1;
}

/** Continuous mode: ticks until stop() (the bin calls it on SIGINT/SIGTERM). */
export async function startContinuous(config: CliConfig, log: Logger): Promise<RunningGenerator> {
  const parts = build(config, log, true);
  const health = await maybeHealth(config, log, () => ({
    ...parts.writer.stats(),
    seed: parts.seed,
    intervalMs: config.intervalMs,
    pops: config.pops.length,
    target: redactUrl(parts.target.url),
    ...(parts.backfill ? { backfill: parts.backfill.progress() } : {}),
  }));
  let stopped = false;
  // History first (in the background, so signals still stop it), then live from where it ended.
  const backfilled = parts.backfill
    ? parts.backfill.run().then(
        (r) => {
          if (r.completed && !stopped) parts.generator.start();
        },
        (err: unknown) => log.error({ err }, 'backfill failed; live generation not started'),
      )
    : Promise.resolve(parts.generator.start());
  return {
    async stop() {
      stopped = true;
      parts.abort.abort();
      await backfilled;
      parts.generator.stop();
      const { flushed } = await finish(parts, health, log);
      return flushed ? 0 : 1;
    },
  };
}
