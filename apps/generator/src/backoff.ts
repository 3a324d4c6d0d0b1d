/**
 * Retry timing for the buffered writer: exponential backoff with full jitter
 * (AWS architecture blog, "Exponential Backoff And Jitter"): many generators
 * recovering from one outage do not hammer the target in lock-step.
 */

/**
 * delay = random() x min(maxMs, initialMs x 2^(attempt-1)), attempt counted from 1.
 * A server's Retry-After hint raises the delay (still capped by maxMs).
 */
export function fullJitterDelay(
  attempt: number,
  bounds: { initialMs: number; maxMs: number },
  random: () => number,
  retryAfterMs?: number,
): number {
  const cap = Math.min(bounds.maxMs, bounds.initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 40));
  const r = Math.min(Math.max(random(), 0), 1); // a misbehaving injected random stays in bounds
  let delay = Math.floor(r * cap);
  if (retryAfterMs !== undefined && retryAfterMs > 0) delay = Math.max(delay, Math.min(retryAfterMs, bounds.maxMs));
  return delay;
}

/** A sleep that can be cut short: flush() and close() must not wait out a 30 s backoff. */
export function createWakeableSleep(): { sleep(ms: number): Promise<void>; wake(): void } {
  let pending: { timer: NodeJS.Timeout; resolve: () => void } | null = null;
  return {
    sleep(ms) {
      return new Promise((resolve) => {
        // unref: a backoff alone should not keep a host process alive; flush() holds a ref'd timer.
        const timer = setTimeout(() => {
          pending = null;
          resolve();
        }, ms).unref();
        pending = { timer, resolve };
      });
    },
    wake() {
      if (pending === null) return;
      clearTimeout(pending.timer);
      const { resolve } = pending;
      pending = null;
      resolve();
    },
  };
}
