/**
 * Rate-limited warning for points dropped at the buffer bound. During a long outage
 * drops happen on every tick; one line per interval with the running count is
 * readable, one line per tick is noise.
 */
import type { Logger } from 'pino';

export interface DropReporter {
  /** Records n dropped points; warns at once if the last warning is old enough. */
  dropped(n: number): void;
  /** Warns about drops not reported yet (on recovery or close). */
  report(): void;
}

export function createDropReporter(opts: {
  maxBufferedPoints: number;
  log: Logger | undefined;
  intervalMs?: number;
  now?: () => number;
}): DropReporter {
  const intervalMs = opts.intervalMs ?? 10_000;
  const now = opts.now ?? (() => performance.now());
  let unreported = 0;
  let total = 0;
  let lastWarnAt = -Infinity;

  function report(): void {
    if (unreported === 0) return;
    opts.log?.warn(
      { dropped: unreported, droppedTotal: total, maxBufferedPoints: opts.maxBufferedPoints },
      `buffer bound reached: dropped ${unreported} oldest points (bound is ${opts.maxBufferedPoints} points; ` +
        'raise --max-buffer or restore the target)',
    );
    unreported = 0;
    lastWarnAt = now();
  }

  return {
    dropped(n) {
      if (n <= 0) return;
      unreported += n;
      total += n;
      if (now() - lastWarnAt >= intervalMs) report();
    },
    report,
  };
}
