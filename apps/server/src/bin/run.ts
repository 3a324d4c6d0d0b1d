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

export function stopOnSignals(stop: () => Promise<void>, log: { info: (o: object, m: string) => void; error: (o: object, m: string) => void }) {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.error({ signal }, 'second signal: exiting without waiting');
      process.exit(130);
    }
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
