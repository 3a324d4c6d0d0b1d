/** Shared by the entry points: config errors as one line, clean shutdown on signals. */
import { ConfigError, loadConfig, type Config } from '../config.ts';

export function configOrExit(): Config {
  try {
    return loadConfig(process.env);
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
