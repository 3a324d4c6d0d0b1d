/** Shared by the entry points: config errors as one line, clean shutdown on signals, the JS heap's growth. */
import { setFlagsFromString } from 'node:v8';
import { ConfigError, loadConfig, type Config } from '../config.ts';

export function configOrExit(): Config {
  try {
    const config = loadConfig(process.env);
    limitHeapGrowth(config.v8HeapGrowingPercent);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`edgeworker: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/**
 * A second signal within this window is the same Ctrl-C arriving twice (the terminal
 * signals the whole process group and npm forwards one more), not a request to force.
 */
export const SIGNAL_GRACE_MS = 3_000;

type SignalLog = { info: (o: object, m: string) => void; warn: (o: object, m: string) => void; error: (o: object, m: string) => void };

/**
 * The first SIGINT/SIGTERM starts a clean shutdown (flush, close, CHECKPOINT); repeats
 * within `graceMs` are ignored; a deliberate second signal after that exits at once.
 */
export function stopOnSignals(stop: () => Promise<void>, log: SignalLog, graceMs = SIGNAL_GRACE_MS) {
  let firstAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstAt !== undefined) {
      const since = Date.now() - firstAt;
      if (since < graceMs) {
        log.info({ signal, sinceFirstMs: since }, 'signal repeated while shutting down: ignored (send it again to force)');
        return;
      }
      log.error({ signal }, 'second signal: exiting without waiting');
      process.exit(130);
    }
    firstAt = Date.now();
    log.info({ signal }, 'shutting down: flushing pending writes');
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** One line for a start-up failure, with what to do for the usual causes. */
export function startFailure(err: unknown): never {
  const e = err as NodeJS.ErrnoException;
  let hint = '';
  if (e.code === 'EADDRINUSE') hint = ' (another process uses this port: stop it or set PORT to a free one)';
  if (e.code === 'EACCES') hint = ' (no permission for this port: use a PORT above 1024)';
  process.stderr.write(`edgeworker: cannot start: ${e.message}${hint}\n`);
  process.exit(1);
}

/**
 * How far V8 lets the JS heap grow past what was live after the last full collection before it
 * collects again. Its own factor goes up to 4x on a machine with a few GB (the limit is recomputed
 * after each collection from the heap's size and the GC's speed): at 1,000 POPs x 10 functions
 * the heap grew from ~80 to ~310 MiB of mostly garbage during a week's dashboard reads, and the
 * server's RSS with it (docs/notes/rss-5.md). V8 reads the flag each time it sets a new limit, so
 * setting it here, before the stores open, is enough: no node flag in every start command.
 * percent 0 leaves V8's own heuristics.
 */
export function limitHeapGrowth(percent: number) {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
