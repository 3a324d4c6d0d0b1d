#!/usr/bin/env node
/**
 * Standalone generator: `npm run generator -- --target URL [...]` (see --help).
 * Thin on purpose: parse, run the library, handle signals, exit.
 * Exit codes: 0 all written, 1 samples lost or start-up failed, 2 bad arguments.
 */
import { pino } from 'pino';
import { USAGE, UsageError, parseCliArgs, type CliParse } from '../cli-args.ts';
import { runOnce, startContinuous, FLUSH_TIMEOUT_MS } from '../cli-run.ts';

let parsed: CliParse;
try {
  // The only place the generator reads the environment (house style: config once).
  parsed = parseCliArgs(process.argv.slice(2), { INFLUX_TOKEN: process.env.INFLUX_TOKEN }, Date.now());
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`generator: ${err.message} (see --help)\n`);
  process.exit(2);
}
if (parsed.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const { config } = parsed;
// Synchronous stdout: we call process.exit() right after the last lines, and an async
// destination can then reorder or lose them. The CLI logs a few lines per interval.
const log = pino({ name: 'generator', level: config.logLevel }, pino.destination({ dest: 1, sync: true }));

try {
  if (config.once) {
    process.exit(await runOnce(config, log));
  }
  const running = await startContinuous(config, log);
  // A repeat within 3 s is the same Ctrl-C arriving twice (the terminal signals the
  // whole process group and npm forwards one more); only a later one forces the exit.
  let stoppingAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stoppingAt !== undefined) {
      if (Date.now() - stoppingAt < 3_000) return;
      log.warn({ signal }, 'second signal: exiting now without waiting for the flush');
      process.exit(1);
    }
    stoppingAt = Date.now();
    log.info({ signal }, `stopping: writing buffered samples (up to ${FLUSH_TIMEOUT_MS} ms)`);
    running.stop().then(
      (code) => process.exit(code),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
} catch (err) {
  log.fatal({ err }, `generator could not start: ${(err as Error).message}`);
  process.exit(1);
}
